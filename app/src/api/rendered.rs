//! Pages rendered on the server: read-only pages whose HTML the server
//! builds from the same data its server functions return, so the browser
//! swaps the HTML in on each refresh instead of carrying the page's
//! component tree and its data types in the bundle (`docs/BENCHMARKS.md`).
//! Their markup, `data-testid`s and links are those of the hydrated pages;
//! copy buttons work through the page's one delegated listener.
use leptos::prelude::*;

use crate::error::AppError;

/// The HTML of read-only page `page`: `overview`, `leases`, `lanes`,
/// `status`, `workers` (`workers?ns=<namespace>`), `quotas`, `repair`,
/// `login?next=<path>` (the sign-in page's provider button and demo accounts), `diagnosis:<execution id>` (an execution page's
/// diagnosis block) or `timeline:<execution id>` (its timeline).
#[server(prefix = "/api", endpoint = "rendered", output = crate::api::codec::PostcardAnswer)]
pub async fn rendered(page: String) -> Result<String, AppError> {
    match page.as_str() {
        "overview" => Ok(crate::pages::overview::html(super::overview::get_overview().await?)),
        "leases" => Ok(crate::pages::leases::html(super::leases::get_leases().await?)),
        "lanes" => Ok(crate::pages::leases::lanes_html(super::leases::list_lanes().await?)),
        "status" => Ok(crate::pages::status::html(super::status::get_status().await?)),
        "workers" => Ok(crate::pages::workers::html(super::workers::get_workers(None).await?)),
        p if p.starts_with("workers?ns=") => Ok(crate::pages::workers::html(super::workers::get_workers(Some(p["workers?ns=".len()..].to_owned())).await?)),
        "quotas" => super::quotas::html().await,
        p if p.starts_with("login?next=") => {
            let auth = crate::state::auth()?;
            Ok(crate::pages::session::login_html(auth.sso_label(), &auth.demo_accounts(), &p["login?next=".len()..]))
        }
        "repair" => Ok(crate::pages::repair::html(super::repair::view().await?)),
        p if p.starts_with("diagnosis:") => super::diagnosis::html(&p["diagnosis:".len()..]).await,
        p if p.starts_with("timeline:") => super::timeline::html(&p["timeline:".len()..]).await,
        other => Err(AppError::BadRequest(format!("no rendered page {:?}: overview, leases, lanes, status, workers, quotas, repair, diagnosis:<execution id> or timeline:<execution id>", other.chars().take(64).collect::<String>()))),
    }
}
