//! The box around a data table: on a screen narrower than the table it scrolls sideways by
//! itself, so the page never does. It is a labelled region that takes focus, so a keyboard can
//! scroll it too (arrow keys) and a screen reader names it.

use leptos::prelude::*;

/// A table, scrolling inside this box when it is wider than the screen.
#[component]
pub fn TableBox(
    /// What the table holds, e.g. "Users": the region's accessible name.
    label: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap" role="region" aria-label=label tabindex="0">
            {children()}
        </div>
    }
}
