//! `/.well-known/apple-app-site-association` and `/.well-known/assetlinks.json`: the files
//! iOS and Android fetch (over HTTPS, no redirects) to let the configured apps open this
//! host's `/invite/…` and `/share/…` links directly. Built from [`AppLinks`]; a platform
//! that is not configured gets a 404, so a phone falls back to the browser page.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app_links::AppLinks;
use crate::AppState;
use crate::error::Error;

/// The link paths the apps open; everything else on this host stays in the browser.
pub const APP_PATHS: [&str; 2] = ["/invite/*", "/share/*"];

/// The apple-app-site-association document (iOS 13+ `components` form), or `None` when no
/// iOS app is configured.
pub fn apple_app_site_association(apps: &AppLinks) -> Option<Value> {
    if apps.ios_app_ids().is_empty() {
        return None;
    }
    let components: Vec<Value> = APP_PATHS.iter().map(|p| json!({ "/": p })).collect();
    Some(json!({ "applinks": { "details": [{ "appIDs": apps.ios_app_ids(), "components": components }] } }))
}

/// The Digital Asset Links statement list, or `None` when no Android app is configured.
pub fn asset_links(apps: &AppLinks) -> Option<Value> {
    let android = apps.android()?;
    Some(json!([{
        "relation": ["delegate_permission/common.handle_all_urls"],
        "target": {
            "namespace": "android_app",
            "package_name": android.package(),
            "sha256_cert_fingerprints": android.cert_sha256(),
        }
    }]))
}

/// `GET /.well-known/apple-app-site-association`.
pub async fn apple(State(st): State<AppState>) -> Response {
    serve(apple_app_site_association(st.app_links()), "apple-app-site-association")
}

/// `GET /.well-known/assetlinks.json`.
pub async fn android(State(st): State<AppState>) -> Response {
    serve(asset_links(st.app_links()), "assetlinks.json")
}

fn serve(document: Option<Value>, what: &'static str) -> Response {
    match document {
        // Apple's and Google's verifiers cache it themselves; an hour keeps a change quick.
        Some(doc) => (
            [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=3600")],
            doc.to_string(),
        )
            .into_response(),
        None => Error::NotFound(what).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_published_for_an_app_that_is_not_configured() {
        assert_eq!(apple_app_site_association(&AppLinks::default()), None);
        assert_eq!(asset_links(&AppLinks::default()), None);
    }

    #[test]
    fn each_configured_ios_app_opens_invitations_and_shares() {
        let apps = AppLinks::default()
            .with_ios_app_id("ABCDE12345.app.keyway.members")
            .and_then(|a| a.with_ios_app_id("ABCDE12345.app.keyway.beta"));
        let doc = apps.ok().as_ref().and_then(apple_app_site_association).unwrap_or_default();
        let details = &doc["applinks"]["details"][0];
        assert_eq!(details["appIDs"], json!(["ABCDE12345.app.keyway.members", "ABCDE12345.app.keyway.beta"]));
        assert_eq!(details["components"], json!([{ "/": "/invite/*" }, { "/": "/share/*" }]));
    }
}
