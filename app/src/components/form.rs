//! Form building blocks: a labelled input that shows its own error, and the form-level error
//! banner. Errors come from a server action's last result.

use leptos::prelude::*;

use crate::error::AppError;

/// The error of the last submission, if any.
pub type LastError = Signal<Option<AppError>>;

/// The error of `action`'s last submission.
pub fn last_error<A>(action: ServerAction<A>) -> LastError
where
    A: leptos::server_fn::ServerFn<Output = (), Error = crate::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
    A::Output: Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()))
}

/// A labelled input whose error (from `error`, when it names this field) is announced to screen
/// readers and linked with `aria-describedby`.
#[component]
pub fn Field(
    /// The input's `name` (and the server function argument it fills).
    name: &'static str,
    /// The visible label.
    label: &'static str,
    /// HTML input type.
    #[prop(default = "text")]
    kind: &'static str,
    /// `autocomplete` hint for browsers and password managers.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// Optional help text under the input.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// The value to start with (e.g. what is saved).
    #[prop(optional, into)]
    value: Option<String>,
    /// Whether the input must be filled.
    #[prop(default = true)]
    required: bool,
    /// The last submission's error.
    error: LastError,
) -> impl IntoView {
    let id = format!("field-{name}");
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = move || error.get().and_then(|e| e.for_field(name));
    let describedby = {
        let err_id = err_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(err_id.clone());
            }
            ids.join(" ")
        }
    };
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                name=name
                type=kind
                autocomplete=autocomplete
                value=value
                required=required
                aria-invalid=move || message().is_some().to_string()
                aria-describedby=describedby
            />
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <p class="field-error" id=err_id.clone() role="alert" data-testid=format!("error-{name}")>
                {message}
            </p>
        </div>
    }
}

/// A banner for errors that belong to no single field.
#[component]
pub fn FormError(error: LastError) -> impl IntoView {
    let message =
        move || error.get().filter(|e| !matches!(e, AppError::Invalid { .. })).map(|e| e.to_string());
    view! {
        <Show when=move || message().is_some()>
            <div class="banner error" role="alert" data-testid="form-error">
                {message}
            </div>
        </Show>
    }
}
