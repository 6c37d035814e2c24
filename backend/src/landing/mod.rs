//! The links people are sent, opened in a browser: `GET /invite/{token}` and
//! `GET /share/{token}` answer with a plain HTML page (what the invitation or share gives,
//! "Open in the app", the store buttons), and `/.well-known/…` lets the configured iOS and
//! Android apps open those links directly once installed.
//!
//! The pages read the same previews the app's JSON endpoints do (`invitations::preview`,
//! `share_views::preview`); only the rendering is here. They need no script, load nothing
//! from anywhere (one inline style, allowed by hash), send no Referer, are never cached or
//! indexed, and a dead link's page says why it is dead and nothing else.

pub mod app_links;
pub mod dates;
pub mod html;
pub mod page;
pub mod well_known;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use app_links::{AppLinkFlags, AppLinks, AppLinksError};

use crate::AppState;
use crate::error::Error;

/// Tokens are 43 characters; anything far longer is not looked up at all.
const MAX_TOKEN_LEN: usize = 256;

/// The page and `.well-known` routes, to merge into the service's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/invite/{*token}", get(invitation))
        .route("/share/{*token}", get(share))
        .route("/.well-known/apple-app-site-association", get(well_known::apple))
        .route("/.well-known/assetlinks.json", get(well_known::android))
}

/// `GET /invite/{token}`: the invitation's page, or why the link does not work.
async fn invitation(State(st): State<AppState>, token: Result<Path<String>, PathRejection>) -> Response {
    let Some(token) = usable_token(token) else { return dead(&Error::InvitationNotFound) };
    let lookup = token.clone();
    match st.write(move |tx, st, now| crate::invitations::preview(tx, st.secrets(), &lookup, now)).await {
        Ok(p) => {
            let link = format!("https://{}/invite/{token}", st.public_host());
            html_response(StatusCode::OK, page::invitation(&p, &link, st.app_links()))
        }
        Err(e) => dead(&e),
    }
}

/// `GET /share/{token}`: the shared key's page, or why the link does not work.
async fn share(State(st): State<AppState>, token: Result<Path<String>, PathRejection>) -> Response {
    let Some(token) = usable_token(token) else { return dead(&Error::ShareNotFound) };
    let lookup = token.clone();
    match st.write(move |tx, st, now| crate::share_views::preview(tx, st.secrets(), &lookup, now)).await {
        Ok(p) => {
            let link = format!("https://{}/share/{token}", st.public_host());
            html_response(StatusCode::OK, page::share(&p, &link, st.app_links()))
        }
        Err(e) => dead(&e),
    }
}

/// The token as the lookups take it (trimmed), unless it cannot be one.
fn usable_token(token: Result<Path<String>, PathRejection>) -> Option<String> {
    let Path(token) = token.ok()?;
    let token = token.trim();
    (!token.is_empty() && token.len() <= MAX_TOKEN_LEN).then(|| token.to_owned())
}

fn dead(e: &Error) -> Response {
    if let Error::Internal(detail) = e {
        tracing::error!(%detail, "link page failed");
    }
    let (status, body) = page::dead_link(e);
    html_response(status, body)
}

/// An HTML answer with the headers every page carries.
fn html_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // Fails closed: should the policy ever not be a valid header, nothing at all may load.
    let csp = HeaderValue::from_str(&html::content_security_policy())
        .unwrap_or(HeaderValue::from_static("default-src 'none'"));
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}
