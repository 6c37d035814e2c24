//! The lock's HTTPS client for its online link: asks for a challenge and sends signed
//! polls, with the answers and refusals as typed values.

use super::OnlineError;
use keyway_api::endpoints::{GetLinkChallenge, PollLink};
use keyway_api::{Endpoint, ErrorBody, LinkAnswer, LinkChallenge, LinkPoll};
use std::time::Duration;

/// How long connecting to the backend may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// What a poll may take beyond the hold it asked for.
const ANSWER_MARGIN: Duration = Duration::from_secs(10);

/// The backend as the lock reaches it.
#[derive(Clone)]
pub(crate) struct LinkClient {
    http: reqwest::Client,
    base: String,
}

impl LinkClient {
    /// A client for `backend` (an `https://` URL), trusting the platform's roots and the
    /// certificates in `extra_roots_pem` (a CA file's contents, as `keyway --ca-file`).
    pub(crate) fn new(backend: &str, extra_roots_pem: Option<&[u8]>) -> Result<Self, OnlineError> {
        let url = reqwest::Url::parse(backend).map_err(|_| OnlineError::BackendUrl)?;
        if url.scheme() != "https" || url.host().is_none() {
            return Err(OnlineError::BackendUrl);
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().https_only(true).connect_timeout(CONNECT_TIMEOUT);
        if let Some(pem) = extra_roots_pem {
            let roots = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| OnlineError::CaInvalid)?;
            if roots.is_empty() {
                return Err(OnlineError::CaInvalid);
            }
            builder = builder.tls_certs_merge(roots);
        }
        let http = builder.build().map_err(|e| OnlineError::Client(e.to_string()))?;
        Ok(Self { http, base: backend.trim_end_matches('/').to_owned() })
    }

    /// A fresh challenge for `lock_id` (16 hex digits).
    pub(crate) async fn challenge(&self, lock_id: &str) -> Result<LinkChallenge, OnlineError> {
        let call = GetLinkChallenge { lock_id: lock_id.to_owned() };
        let request = self.http.post(format!("{}{}", self.base, call.path())).timeout(CONNECT_TIMEOUT + ANSWER_MARGIN);
        answer(request.send().await).await
    }

    /// One signed poll, held by the backend up to `poll.wait_seconds`.
    pub(crate) async fn poll(&self, lock_id: &str, poll: LinkPoll) -> Result<LinkAnswer, OnlineError> {
        let hold = Duration::from_secs(poll.wait_seconds.unwrap_or(25).unsigned_abs());
        let call = PollLink { lock_id: lock_id.to_owned(), body: poll };
        let request =
            self.http.post(format!("{}{}", self.base, call.path())).json(&call.body).timeout(hold + ANSWER_MARGIN);
        answer(request.send().await).await
    }
}

async fn answer<T: serde::de::DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, OnlineError> {
    let response = sent.map_err(|e| OnlineError::Unreachable(without_url(&e)))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| OnlineError::Unreachable(without_url(&e)))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|_| OnlineError::BadAnswer);
    }
    if status.is_server_error() {
        return Err(OnlineError::Unreachable(format!("the backend answered {status}")));
    }
    let code = serde_json::from_slice::<ErrorBody>(&body).map(|b| b.error.code).unwrap_or_else(|_| "unknown".into());
    Err(OnlineError::Refused { status: status.as_u16(), code })
}

/// The error's words without the URL (it names only the backend, but keep logs plain).
fn without_url(e: &reqwest::Error) -> String {
    let mut words = e.to_string();
    if let Some(url) = e.url() {
        words = words.replace(url.as_str(), "the backend");
    }
    words
}
