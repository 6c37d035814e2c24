//! Text messages through an HTTPS provider: the [`SmsProvider`] interface, and one
//! implementation for the shape of Twilio's Messages API (a form-encoded `POST` to
//! `{base}/2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP basic auth), which
//! several providers copy. The base URL is configurable, so tests point it at a local sink.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::{Content, SendFailure};

/// How long one request to the provider may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A future returned by [`SmsProvider::send`].
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendFailure>> + Send + 'a>>;

/// Something that delivers a text message to a phone number.
pub trait SmsProvider: Send + Sync + 'static {
    /// Sends `content.body` to `to` (E.164, e.g. `+447700900123`). `id` is the outbox row.
    fn send<'a>(&'a self, id: i64, to: &'a str, content: &'a Content) -> SendFuture<'a>;
}

/// Why the SMS provider cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SmsSetupError {
    /// The base URL is not `https://…`.
    #[error("the SMS provider's base URL must start with https://")]
    NotHttps,
    /// The account id has characters a URL path cannot carry as is.
    #[error("the SMS account id must be letters and digits")]
    BadAccount,
    /// The extra CA file holds no certificate.
    #[error("the SMS CA file holds no PEM certificate")]
    BadCa,
    /// The HTTPS client could not start.
    #[error("cannot start the HTTPS client for SMS: {0}")]
    Client(String),
}

/// Twilio's account and sender settings.
#[derive(Clone)]
pub struct TwilioSettings {
    /// e.g. `https://api.twilio.com`.
    pub base_url: String,
    /// The account SID (also the basic-auth user).
    pub account_sid: String,
    /// The auth token (the basic-auth password).
    pub auth_token: String,
    /// The sending number (E.164) or messaging service id.
    pub from: String,
    /// Extra CA certificates (PEM) to trust besides the platform's.
    pub extra_roots_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSettings").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// Sends text messages through a Twilio-shaped Messages API.
pub struct TwilioSms {
    http: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl std::fmt::Debug for TwilioSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSms").field("url", &self.url).finish_non_exhaustive()
    }
}

impl TwilioSms {
    /// A provider for `settings`.
    pub fn new(settings: TwilioSettings) -> Result<Self, SmsSetupError> {
        if !settings.base_url.starts_with("https://") {
            return Err(SmsSetupError::NotHttps);
        }
        if settings.account_sid.is_empty() || !settings.account_sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(SmsSetupError::BadAccount);
        }
        // rustls on ring, installed once per process (a no-op if already installed).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().timeout(TIMEOUT);
        if let Some(pem) = &settings.extra_roots_pem {
            let roots = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| SmsSetupError::BadCa)?;
            if roots.is_empty() {
                return Err(SmsSetupError::BadCa);
            }
            builder = builder.tls_certs_merge(roots);
        }
        let http = builder.build().map_err(|e| SmsSetupError::Client(e.to_string()))?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            settings.base_url.trim_end_matches('/'),
            settings.account_sid
        );
        Ok(Self { http, url, account_sid: settings.account_sid, auth_token: settings.auth_token, from: settings.from })
    }
}

impl SmsProvider for TwilioSms {
    fn send<'a>(&'a self, _id: i64, to: &'a str, content: &'a Content) -> SendFuture<'a> {
        Box::pin(async move {
            let form = form_encode(&[("To", to), ("From", &self.from), ("Body", &content.body)]);
            let sent = self
                .http
                .post(&self.url)
                .basic_auth(&self.account_sid, Some(&self.auth_token))
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return Err(SendFailure::transient("SMS provider did not answer in time")),
                Err(_) => return Err(SendFailure::transient("cannot reach the SMS provider")),
            };
            let status = resp.status();
            if status.is_success() {
                return Ok(());
            }
            // Twilio's error body carries a numeric `code`; nothing else of it is kept.
            let code = resp
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v.get("code").and_then(serde_json::Value::as_i64));
            let reason = match code {
                Some(c) => format!("SMS provider answered HTTP {} (error {c})", status.as_u16()),
                None => format!("SMS provider answered HTTP {}", status.as_u16()),
            };
            if status.is_server_error() || status.as_u16() == 429 {
                Err(SendFailure::transient(reason))
            } else {
                Err(SendFailure::permanent(reason))
            }
        })
    }
}

/// `application/x-www-form-urlencoded` for `pairs`.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    fn enc(s: &str, out: &mut String) {
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        enc(k, &mut out);
        out.push('=');
        enc(v, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_form_encoding_escapes_what_a_form_must() {
        assert_eq!(
            form_encode(&[("To", "+447700900123"), ("Body", "Code 123456. Never share it & go")]),
            "To=%2B447700900123&Body=Code+123456.+Never+share+it+%26+go"
        );
    }

    #[test]
    fn sms_provider_must_be_https() {
        let settings = TwilioSettings {
            base_url: "http://api.twilio.com".into(),
            account_sid: "AC1".into(),
            auth_token: "t".into(),
            from: "+15005550006".into(),
            extra_roots_pem: None,
        };
        assert!(matches!(TwilioSms::new(settings), Err(SmsSetupError::NotHttps)));
    }
}
