//! A placeholder for console pages whose feature has not arrived yet: it says so plainly and
//! shows no data that does not exist.

use leptos::prelude::*;
use leptos_meta::Title;

/// "Not available yet", with what the page will show.
#[component]
pub fn Upcoming(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <section class="card empty" data-testid="upcoming">
            <p>{what}</p>
            <p>"This part of the console is not available yet."</p>
        </section>
    }
}
