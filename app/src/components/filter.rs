//! The filter forms of the log pages (provisioning log, audit log): GET forms whose fields are
//! the URL's query parameters, so filtered views survive reloads and links, with or without
//! JavaScript.

use leptos::prelude::*;

/// A labelled `<select>` whose first option ("Any") is the empty value.
pub fn select(
    name: &'static str,
    label: &'static str,
    current: Option<String>,
    options: Vec<(String, String)>,
) -> impl IntoView {
    let id = format!("filter-{name}");
    view! {
        <div class="filter">
            <label for=id.clone()>{label}</label>
            <select id=id name=name>
                <option value="" selected=current.is_none()>"Any"</option>
                {options
                    .into_iter()
                    .map(|(value, text)| {
                        let selected = current.as_deref() == Some(value.as_str());
                        view! { <option value=value selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}
