//! Modal dialogs: a native `<dialog>` opened with `showModal()`, so the rest of the page is inert
//! and the dialog sits in the top layer at any screen size. Tab and Shift+Tab cycle inside it,
//! Escape closes it (or, for a dialog that must not be dismissed by accident, says why it does
//! not), and closing it puts focus back where it was before it opened.

use leptos::{
    ev::{self, KeyboardEvent},
    html,
    prelude::*,
    reactive::send_wrapper_ext::SendOption,
    wasm_bindgen::JsCast,
    web_sys,
};

/// What Escape does to a dialog.
#[derive(Clone, Copy)]
pub enum Escape {
    /// Escape closes it: the callback clears the page's state that opened it.
    Closes(Callback<()>),
    /// Escape does nothing but show this explanation inside the dialog.
    Refused(&'static str),
}

/// A modal dialog, open while `open` is true. Closed, it stays in the page, hidden.
#[component]
pub fn Modal(
    /// Whether the dialog is showing.
    #[prop(into)]
    open: Signal<bool>,
    /// The `id` of the heading that names the dialog.
    labelledby: &'static str,
    /// `alertdialog` for a confirmation of something that cannot be undone.
    #[prop(default = "dialog")]
    role: &'static str,
    /// What Escape does.
    escape: Escape,
    /// `data-testid` of the dialog; its Escape explanation gets `<testid>-escape`.
    testid: &'static str,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    // The element to give focus back to: the last one focused outside the dialog. Not simply the
    // one focused when it opens: a submit button disabled while its form was sent has lost focus
    // by the time the answer opens the dialog. A browser-only value, never set on the server.
    let opener = StoredValue::new(SendOption::new_local(None::<web_sys::Element>));
    let focus_in = window_event_listener(ev::focusin, move |ev| {
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let inside = dialog
            .get_untracked()
            .zip(target.as_ref())
            .is_some_and(|(d, t)| d.contains(Some(t.unchecked_ref())));
        if !inside {
            opener.set_value(SendOption::new_local(target));
        }
    });
    on_cleanup(move || focus_in.remove());
    let refused = RwSignal::new(None::<&'static str>);
    Effect::new(move |_| {
        let (Some(element), open) = (dialog.get(), open.get()) else { return };
        if open && !element.open() {
            refused.set(None);
            let _ = element.show_modal();
        } else if !open && element.open() {
            close(&element, opener.get_value().take());
        }
    });
    // A page may replace the dialog while it is open (its action re-rendered the section).
    on_cleanup(move || {
        if let Some(element) = dialog.get_untracked().filter(|e| e.open()) {
            close(&element, opener.get_value().take());
        }
    });
    let on_keydown = move |ev: KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            match escape {
                Escape::Closes(close) => close.run(()),
                Escape::Refused(why) => refused.set(Some(why)),
            }
        }
        "Tab" => {
            if let Some(element) = dialog.get_untracked() {
                keep_tab_inside(&element, &ev);
            }
        }
        _ => {}
    };
    // Escape is handled above; anything else that closes the dialog (a browser's back gesture)
    // closes it for the page too, except a dialog that must not close, which comes back.
    let on_close = move |_: web_sys::Event| {
        if open.try_get_untracked() != Some(true) {
            return;
        }
        match escape {
            Escape::Closes(close) => close.run(()),
            Escape::Refused(_) => {
                if let Some(element) = dialog.get_untracked() {
                    let _ = element.show_modal();
                }
            }
        }
    };
    let closedby = matches!(escape, Escape::Refused(_)).then_some("none");
    let refusal = match escape {
        Escape::Closes(_) => None,
        Escape::Refused(_) => Some(view! {
            <p class="modal-note" role="status" data-testid=format!("{testid}-escape")>{move || refused.get()}</p>
        }),
    };
    view! {
        <dialog
            node_ref=dialog
            class="modal"
            role=role
            aria-labelledby=labelledby
            closedby=closedby
            data-testid=testid
            on:keydown=on_keydown
            on:cancel=|ev: web_sys::Event| ev.prevent_default()
            on:close=on_close
        >
            {children()}
            {refusal}
        </dialog>
    }
}

/// Closes `dialog`, then gives focus back to `opener` or, when the page has meanwhile removed it
/// (the dialog's action re-rendered it), to the page's main content. After a frame, so the page
/// has rendered what closing the dialog changed.
fn close(dialog: &web_sys::HtmlDialogElement, opener: Option<web_sys::Element>) {
    dialog.close();
    request_animation_frame(move || {
        let target = opener.filter(|e| e.is_connected()).or_else(|| document().get_element_by_id("main"));
        if let Some(target) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = target.focus();
        }
    });
}

/// What Tab can reach inside a dialog.
#[cfg(feature = "hydrate")]
const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), \
     select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";

/// Tab from the dialog's last control goes to its first, Shift+Tab from the first to the last,
/// instead of leaving the page for the browser's own controls.
#[cfg(feature = "hydrate")]
fn keep_tab_inside(dialog: &web_sys::HtmlDialogElement, ev: &KeyboardEvent) {
    let Ok(all) = dialog.query_selector_all(FOCUSABLE) else { return };
    let controls: Vec<web_sys::HtmlElement> =
        (0..all.length()).filter_map(|i| all.item(i)?.dyn_into().ok()).collect();
    let (Some(first), Some(last)) = (controls.first(), controls.last()) else { return };
    let active = document().active_element();
    let at = |control: &web_sys::HtmlElement| active.as_ref() == Some(control.unchecked_ref());
    let inside = active.as_ref().is_some_and(|a| dialog.contains(Some(a.unchecked_ref())));
    let target = match ev.shift_key() {
        true if at(first) || !inside => last,
        false if at(last) || !inside => first,
        _ => return,
    };
    ev.prevent_default();
    let _ = target.focus();
}

#[cfg(not(feature = "hydrate"))]
fn keep_tab_inside(_: &web_sys::HtmlDialogElement, _: &KeyboardEvent) {}
