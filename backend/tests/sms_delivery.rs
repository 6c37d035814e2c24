//! Text messages for real: the backend binary sends a phone-only member's sign-in code to
//! a Twilio-shaped Messages API — here a local HTTPS sink with the run's certificate that
//! records each POST — and the member signs in with the code the sink received.
#![allow(clippy::unwrap_used, missing_docs)]

mod mail;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use base64::Engine as _;
use keyway_protocol::testkit::TestPhone;
use mail::{Backend, arg, certs, six_digits, workdir};
use serde_json::{Value, json};

/// One POST the sink received: path, `Authorization` header, form fields.
#[derive(Debug, Clone)]
struct Posted {
    path: String,
    authorization: String,
    form: Vec<(String, String)>,
}

impl Posted {
    fn field(&self, name: &str) -> &str {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    }
}

type Log = Arc<Mutex<Vec<Posted>>>;

fn form_decode(body: &str) -> Vec<(String, String)> {
    let dec = |s: &str| {
        let s = s.replace('+', " ");
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%'
                && let Some(Ok(x)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
            {
                out.push(x);
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (dec(k), dec(v))).collect()
}

/// Answers like Twilio: 201 with a message resource, or 400 with an error code for the
/// number `+447700900999` (a number the provider will not text).
async fn messages(
    State(log): State<Log>,
    headers: HeaderMap,
    uri: Uri,
    body: String,
) -> (StatusCode, axum::Json<Value>) {
    let posted = Posted {
        path: uri.path().to_owned(),
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned(),
        form: form_decode(&body),
    };
    let refused = posted.field("To") == "+447700900999";
    log.lock().unwrap().push(posted);
    if refused {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "code": 21211, "message": "Invalid 'To' Phone Number", "status": 400 })),
        )
    } else {
        (StatusCode::CREATED, axum::Json(json!({ "sid": "SM0123456789abcdef", "status": "queued" })))
    }
}

/// The HTTPS sink on loopback: its base URL and what it received.
async fn start_sink(certs: &std::path::Path) -> (String, Log) {
    let log: Log = Arc::default();
    let app =
        axum::Router::new().route("/2010-04-01/Accounts/{sid}/Messages.json", post(messages)).with_state(log.clone());
    let identity =
        keyway_backend::tls::TlsIdentity::from_files(&certs.join("server.pem"), &certs.join("server.key")).unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let listener = keyway_backend::tls::TlsListener::new(tcp, &identity).unwrap();
    tokio::spawn(async move { axum::serve(listener, app.into_make_service()).await });
    (format!("https://localhost:{port}"), log)
}

async fn backend_with_sms(name: &str) -> (Backend, Log) {
    let dir = workdir(name);
    let certs = certs(&dir);
    let (base, log) = start_sink(&certs).await;
    std::fs::write(dir.join("twilio-token"), "tw-auth-token-42\n").unwrap();
    let flags = [
        "--twilio-account-sid",
        "AC0123456789",
        "--twilio-auth-token-file",
        &arg(&dir.join("twilio-token")),
        "--sms-from",
        "+15005550006",
        "--twilio-base-url",
        &base,
        "--sms-ca-file",
        &arg(&certs.join("ca.pem")),
    ]
    .map(str::to_owned);
    (Backend::start(&dir, &certs, &flags), log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_code_reaches_a_phone_only_member_through_the_provider_and_signs_them_in() {
    let (backend, log) = backend_with_sms("sms").await;
    let (org, _) = backend.org_with_facility().await;
    backend.admin("POST", &format!("/v1/admin/orgs/{org}/people"), Some(json!({ "phone": "+447700900123" }))).await;

    backend.post("/v1/auth/code", json!({ "identifier": "+447700900123" })).await;
    let entry = backend.outbox_state("+447700900123", "sent").await;
    assert_eq!(entry["channel"], "sms");
    assert!(entry["code"].is_null(), "the admin does not see a code a provider delivered");

    let posted = log.lock().unwrap().clone();
    assert_eq!(posted.len(), 1);
    let sms = &posted[0];
    assert_eq!(sms.path, "/2010-04-01/Accounts/AC0123456789/Messages.json");
    let expected = base64::engine::general_purpose::STANDARD.encode("AC0123456789:tw-auth-token-42");
    assert_eq!(sms.authorization, format!("Basic {expected}"));
    assert_eq!(sms.field("To"), "+447700900123");
    assert_eq!(sms.field("From"), "+15005550006");
    let code = six_digits(sms.field("Body")).expect("a code in the text");

    let tokens = backend.verify("+447700900123", &code, &TestPhone::new()).await;
    assert!(tokens["access_token"].is_string());
    assert!(!backend.database_text().contains(&code));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_number_the_provider_refuses_is_failed_with_its_error_code() {
    let (backend, log) = backend_with_sms("sms-refused").await;
    let (org, _) = backend.org_with_facility().await;
    backend.admin("POST", &format!("/v1/admin/orgs/{org}/people"), Some(json!({ "phone": "+447700900999" }))).await;
    backend.post("/v1/auth/code", json!({ "identifier": "+447700900999" })).await;
    let entry = backend.outbox_state("+447700900999", "failed").await;
    assert_eq!(entry["failure"], "SMS provider answered HTTP 400 (error 21211)");
    assert_eq!(entry["attempts"], 1, "a 4xx answer is not retried");
    assert_eq!(log.lock().unwrap().len(), 1);
}
