//! The backend over HTTPS: one typed function per endpoint, every answer checked.
//!
//! Whatever the server sends — wrong content type, malformed JSON, a huge body, a 5xx —
//! becomes an [`ApiError`]; nothing from the network is unwrapped.

pub(crate) mod wire;

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use thiserror::Error;
use url::Url;

/// The largest response body the core reads (a bundle of ~50,000 revocations in base64).
pub const MAX_RESPONSE_BYTES: usize = 2 << 20;

/// Why a call to the backend failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    /// The backend could not be reached (no network, DNS, refused, timed out).
    #[error("the service could not be reached")]
    Offline,
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

    /// Whether retrying later may help (offline or a server failure).
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
    /// A client for the backend at `base` (e.g. `https://api.example.com/`).
    pub fn new(base: &str, timeout: Duration) -> Result<Self, ApiError> {
        // rustls with ring: install it as the process's provider once (a no-op after).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut base = Url::parse(base).map_err(|_| ApiError::BadResponse("invalid backend URL".into()))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("keyway-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ApiError::BadResponse("HTTP client could not start".into()))?;
        Ok(Self { http, base })
    }

    /// Sends a request and decodes a JSON answer (or `()` for 204).
    pub async fn call<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&B>,
    ) -> Result<R, ApiError> {
        let url = self.base.join(path).map_err(|_| ApiError::BadResponse("invalid path".into()))?;
        let mut request = self.http.request(method, url).header("accept", "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let mut response = request.send().await.map_err(|e| {
            tracing::debug!(error = %redact(&e), "request failed");
            ApiError::Offline
        })?;
        let status = response.status();
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| ApiError::Offline)? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(ApiError::BadResponse("the answer is too large".into()));
            }
            bytes.extend_from_slice(&chunk);
        }
        decode_answer(status, is_json, &bytes)
    }
}

/// Turns a whole HTTP answer (status, whether it said it is JSON, body) into the typed
/// value or the typed error: everything the core reads from the backend passes here.
pub(crate) fn decode_answer<R: DeserializeOwned>(
    status: StatusCode,
    is_json: bool,
    bytes: &[u8],
) -> Result<R, ApiError> {
    if status.is_success() {
        if status == StatusCode::NO_CONTENT {
            // No body: decodes as `()` (or `None`); anything else expected is an error.
            return serde_json::from_slice(b"null").map_err(|e| ApiError::BadResponse(e.to_string()));
        }
        if !is_json {
            return Err(ApiError::BadResponse("the answer is not JSON".into()));
        }
        return serde_json::from_slice(bytes).map_err(|e| ApiError::BadResponse(e.to_string()));
    }
    if is_json && let Ok(envelope) = serde_json::from_slice::<wire::ErrorEnvelope>(bytes) {
        if status.is_server_error() {
            return Err(ApiError::ServerFailed { status: status.as_u16() });
        }
        let wire::ErrorBody { code, message, details } = envelope.error;
        return Err(ApiError::Rejected { status: status.as_u16(), code, message, details });
    }
    if status.is_server_error() {
        Err(ApiError::ServerFailed { status: status.as_u16() })
    } else {
        Err(ApiError::BadResponse(format!("HTTP {} without an error body", status.as_u16())))
    }
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
