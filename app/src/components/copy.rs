//! A "Copy" button for values people paste elsewhere (Tenant URL, a new key). The value is also
//! shown in a read-only field, so it can be selected by hand where the clipboard is unavailable.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
fn copy_to_clipboard(text: &str) {
    // The promise settles on its own; a refusal leaves the value selectable in its field.
    let _ = window().navigator().clipboard().write_text(text);
}

#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(_: &str) {}

/// A read-only field holding `value`, with a button that copies it.
#[component]
pub fn CopyField(
    /// The field's visible label.
    label: &'static str,
    /// What to show and copy.
    value: String,
    /// `data-testid` of the field; the button gets `<testid>-copy`.
    testid: &'static str,
    /// The input's `id`, for pages that show the field more than once; `copy-<testid>` otherwise.
    #[prop(optional, into)]
    id: Option<String>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let id = id.unwrap_or_else(|| format!("copy-{testid}"));
    let to_copy = value.clone();
    view! {
        <div class="copy-field">
            <label for=id.clone()>{label}</label>
            <div class="copy-row">
                <input id=id readonly=true value=value data-testid=testid />
                <button
                    type="button"
                    class="button secondary"
                    data-testid=format!("{testid}-copy")
                    on:click=move |_| {
                        copy_to_clipboard(&to_copy);
                        copied.set(true);
                    }
                >
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}
