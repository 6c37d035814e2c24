//! The backend over HTTPS: every call is one of the contract's typed endpoints
//! (`keyway_api::endpoints`, the same types the backend mounts), every answer checked.
//!
//! Whatever the server sends — wrong content type, malformed JSON, a huge body, a 5xx —
//! becomes an [`ApiError`]; nothing from the network is unwrapped.

pub(crate) mod session;
pub mod tls;

use base64::Engine as _;
use keyway_api::Endpoint;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use thiserror::Error;
use url::Url;

pub use tls::{ConfigError, TrustSettings};

/// The largest response body the core reads. A member with 10,000 keys gets about 3 MB
/// of keys and 3 MB of credentials (measured by `keyway-sandbox bench`), and a bundle of 50,000
/// revocations is about 1.3 MB in base64: 16 MiB leaves room and still bounds memory.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// Why a call to the backend failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    /// The backend could not be reached (no network, DNS, refused, timed out).
    #[error("the service could not be reached")]
    Offline,
    /// The TLS handshake failed: the certificate was refused (unknown authority, expired,
    /// another host's) or the server does not speak TLS. Nothing of the request was sent.
    #[error("the service could not be reached securely")]
    Insecure,
    /// The client cannot run with this configuration (see [`ConfigError`]).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The backend refused the request with a typed error.
    #[error("{message} ({code})")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The backend's stable error code (`code_wrong`, `invitation_expired`, …).
        code: String,
        /// The backend's words for people.
        message: String,
        /// Extra fields (`attempts_left`, `retry_at`, `starts_at`, …).
        details: serde_json::Map<String, serde_json::Value>,
    },
    /// The backend failed (5xx) without a usable answer.
    #[error("the service failed (HTTP {status})")]
    ServerFailed {
        /// HTTP status.
        status: u16,
    },
    /// The answer was not what the API promises (wrong type, malformed, too large).
    #[error("the service sent an invalid answer: {0}")]
    BadResponse(String),
}

impl ApiError {
    /// The backend's error code, for a typed rejection.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }

    /// An integer detail of a typed rejection (`attempts_left`, `retry_at`, `starts_at`).
    pub fn detail_i64(&self, name: &str) -> Option<i64> {
        match self {
            Self::Rejected { details, .. } => details.get(name).and_then(serde_json::Value::as_i64),
            _ => None,
        }
    }

    /// Whether retrying later may help (offline or a server failure; never a refused
    /// certificate).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Offline | Self::ServerFailed { .. })
    }
}

/// Encodes bytes as the API does (base64url, no padding).
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes the API's base64url.
pub fn unb64(s: &str) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| ApiError::BadResponse("invalid base64".into()))
}

/// The HTTP client for one backend.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
}

impl ApiClient {
    /// A client for the backend at `base` (`https://api.example.com/`; `http://` only to
    /// loopback with the development option in `trust`), verifying its certificate with
    /// the platform's verifier and `trust`'s extra roots.
    pub fn new(base: &str, timeout: Duration, trust: &TrustSettings) -> Result<Self, ApiError> {
        // rustls with ring: install it as the process's provider once (a no-op after).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut base = tls::checked_backend_url(base, trust)?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls::client_config(trust)?)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("keyway-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ApiError::BadResponse("HTTP client could not start".into()))?;
        Ok(Self { http, base })
    }

    /// Makes one call of an endpoint and decodes its answer (`()` for 204). A GET is
    /// retried (see [`ApiClient::call_retrying`]); nothing else is.
    pub async fn call<E: Endpoint>(&self, call: &E, bearer: Option<&str>) -> Result<E::Answer, ApiError> {
        let attempts = if E::METHOD == keyway_api::Method::Get { ATTEMPTS } else { 1 };
        self.call_with_attempts(method_of::<E>(), &call.path(), bearer, call.body(), attempts).await
    }

    /// Like [`ApiClient::call`], for a request the backend makes safe to repeat (a GET,
    /// or a refresh within its grace): when the connection drops before the whole answer
    /// arrives, or a gateway answers 502, 503 or 504, it is sent again after 100 ms, then
    /// after 300 ms. Timeouts and refused connections are not retried: the phone is
    /// offline, and the person should hear so without waiting three times as long.
    pub async fn call_retrying<E: Endpoint>(&self, call: &E, bearer: Option<&str>) -> Result<E::Answer, ApiError> {
        self.call_with_attempts(method_of::<E>(), &call.path(), bearer, call.body(), ATTEMPTS).await
    }

    async fn call_with_attempts<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&B>,
        attempts: u32,
    ) -> Result<R, ApiError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match self.call_once(method.clone(), path, bearer, body).await {
                Err(Failure { error, retry: true }) if attempt < attempts => {
                    tracing::debug!(attempt, error = %error, "retrying after a transient failure");
                    tokio::time::sleep(backoff).await;
                    backoff *= 3;
                    attempt += 1;
                }
                result => return result.map_err(|f| f.error),
            }
        }
    }

    async fn call_once<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&B>,
    ) -> Result<R, Failure> {
        // The contract's paths are absolute (`/v1/…`); the base may carry a prefix of its own.
        let url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|_| Failure::fatal(ApiError::BadResponse("invalid path".into())))?;
        let mut request = self.http.request(method, url).header("accept", "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let mut response = request.send().await.map_err(|e| {
            tracing::debug!(error = %redact(&e), "request failed");
            Failure::network(&e)
        })?;
        let status = response.status();
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let too_large = || Failure::fatal(ApiError::BadResponse("the answer is too large".into()));
        if response.content_length().is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| Failure::network(&e))? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        decode_answer(status, is_json, &bytes).map_err(|error| {
            let retry = matches!(error, ApiError::ServerFailed { status: 502..=504 });
            Failure { error, retry }
        })
    }
}

/// The HTTP method of endpoint `E`.
fn method_of<E: Endpoint>() -> Method {
    match E::METHOD {
        keyway_api::Method::Get => Method::GET,
        keyway_api::Method::Post => Method::POST,
        keyway_api::Method::Delete => Method::DELETE,
    }
}

/// Attempts for a call that may be repeated: the first and two retries.
const ATTEMPTS: u32 = 3;
/// The wait before the first retry; each next one waits three times as long.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// A failed attempt, and whether sending it again may help.
struct Failure {
    error: ApiError,
    retry: bool,
}

impl Failure {
    fn fatal(error: ApiError) -> Self {
        Self { error, retry: false }
    }

    /// No answer, or not all of it: offline. Worth another try only when the connection
    /// dropped mid-way; a timeout or a refused connection says the network is not there.
    /// A failed TLS handshake is not offline, and another try would fail the same way.
    fn network(e: &reqwest::Error) -> Self {
        if tls::is_tls_failure(e) {
            return Self::fatal(ApiError::Insecure);
        }
        Self { error: ApiError::Offline, retry: !(e.is_timeout() || e.is_connect()) }
    }
}

/// Decodes a whole answer: JSON for a success (nothing for 204), the error envelope or
/// the status for a failure.
pub(crate) fn decode_answer<R: DeserializeOwned>(
    status: StatusCode,
    is_json: bool,
    bytes: &[u8],
) -> Result<R, ApiError> {
    if status.is_success() {
        if status == StatusCode::NO_CONTENT {
            // No body: decodes as `()` (or `None`); anything else expected is an error.
            return serde_json::from_slice(b"null").map_err(|e| malformed(&e));
        }
        if !is_json {
            return Err(ApiError::BadResponse("the answer is not JSON".into()));
        }
        return serde_json::from_slice(bytes).map_err(|e| malformed(&e));
    }
    if is_json && let Ok(envelope) = serde_json::from_slice::<keyway_api::ErrorBody>(bytes) {
        if status.is_server_error() {
            return Err(ApiError::ServerFailed { status: status.as_u16() });
        }
        let keyway_api::ErrorDetail { code, message, details } = envelope.error;
        return Err(ApiError::Rejected { status: status.as_u16(), code, message, details });
    }
    if status.is_server_error() {
        Err(ApiError::ServerFailed { status: status.as_u16() })
    } else {
        Err(ApiError::BadResponse(format!("HTTP {} without an error body", status.as_u16())))
    }
}

/// Why an answer did not decode, without quoting it: serde's own message may repeat a
/// value from the answer, and that value may be a token.
fn malformed(e: &serde_json::Error) -> ApiError {
    let what = match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "not the promised shape",
        serde_json::error::Category::Eof => "cut short",
    };
    ApiError::BadResponse(format!("the answer is {what} (line {}, column {})", e.line(), e.column()))
}

/// A reqwest error's description without its URL (which may hold a token in a path).
fn redact(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_request() {
        "request"
    } else {
        "other"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Tokens {
        #[allow(dead_code)]
        expires_in: i64,
    }

    #[test]
    fn an_answer_of_the_wrong_shape_is_not_quoted_in_the_error() {
        let answer = br#"{"expires_in": "rt_secret-refresh-token-value"}"#;
        let error = decode_answer::<Tokens>(StatusCode::OK, true, answer).expect_err("a string is not a number");
        assert!(matches!(error, ApiError::BadResponse(_)));
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn a_gateway_page_is_a_server_failure_and_a_captive_portal_is_a_bad_answer() {
        let page = b"<html>Bad gateway</html>";
        assert!(matches!(
            decode_answer::<Tokens>(StatusCode::BAD_GATEWAY, false, page),
            Err(ApiError::ServerFailed { status: 502 })
        ));
        assert!(matches!(decode_answer::<Tokens>(StatusCode::OK, false, page), Err(ApiError::BadResponse(_))));
    }
}
