//! Silent pushes (issue 18, `push_`): a device registers its push token; a change to the
//! person's keys, or a door-sync update an offline door waits for, queues one push per
//! device, which the backend delivers through APNs (HTTP/2, ES256 provider token) or FCM
//! (HTTP v1, OAuth token from a service account's RS256 assertion). Both services are
//! played by local HTTPS stand-ins that record what arrives and check its signatures.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, Version};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::*;
use keyway_backend::push::apns::ApnsConfig;
use keyway_backend::push::fcm::FcmConfig;
use keyway_backend::push::sender::{PushConfig, Senders, deliver_due};
use keyway_protocol::testkit::TestPhone;
use ring::signature::{self, KeyPair};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
struct Received {
    version: Version,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A push service stand-in: records every request and answers with the status set for its
/// device token (200 unless told otherwise), and serves an OAuth token at `/token`.
#[derive(Clone, Default)]
struct Sink {
    received: Arc<Mutex<Vec<Received>>>,
    gone: Arc<Mutex<Vec<String>>>,
}

async fn record(
    State(sink): State<Sink>,
    version: Version,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let path = uri.path().to_owned();
    let body = body.to_vec();
    sink.received.lock().unwrap().push(Received { version, path: path.clone(), headers, body: body.clone() });
    if path == "/token" {
        return (StatusCode::OK, json!({ "access_token": "fcm-access-1", "expires_in": 3600 }).to_string());
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let gone = sink.gone.lock().unwrap().iter().any(|t| path.contains(t.as_str()) || text.contains(t.as_str()));
    if gone && path.starts_with("/3/device/") {
        return (StatusCode::GONE, json!({ "reason": "Unregistered" }).to_string());
    }
    if gone {
        return (
            StatusCode::NOT_FOUND,
            json!({ "error": { "status": "NOT_FOUND", "details": [{ "errorCode": "UNREGISTERED" }] } }).to_string(),
        );
    }
    (StatusCode::OK, "{}".into())
}

impl Sink {
    /// Starts on loopback over HTTPS offering HTTP/2; returns it, its URL and its CA.
    async fn start() -> (Self, String, String) {
        let ca = keyway_backend::dev_certs::DevCa::new("push stand-in CA").unwrap();
        let id = ca.issue_loopback().unwrap();
        let tls = keyway_backend::tls::TlsIdentity::from_pem(id.chain_pem.as_bytes(), id.key_pem.as_bytes())
            .unwrap()
            .with_alpn(&[b"h2", b"http/1.1"]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sink = Self::default();
        let app = Router::new().fallback(record).with_state(sink.clone());
        let listener = keyway_backend::tls::TlsListener::new(listener, &tls).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (sink, format!("https://{addr}"), ca.cert_pem().to_owned())
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", STANDARD.encode(der))
}

/// The payload of a JWT, after checking its signature with `verify`.
fn verified_jwt(jwt: &str, alg: &'static dyn signature::VerificationAlgorithm, public_key: &[u8]) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts");
    let signed = format!("{}.{}", parts[0], parts[1]);
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    signature::UnparsedPublicKey::new(alg, public_key)
        .verify(signed.as_bytes(), &sig)
        .expect("the JWT's signature verifies");
    let part = |p: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    (part(parts[0]), part(parts[1]))
}

async fn register(s: &Server, tokens: &Value, platform: &str, token: &str) -> Answer {
    s.send("POST", "/v1/me/push-token", Some(&bearer(tokens)), Some(json!({ "platform": platform, "token": token })))
        .await
}

async fn grant(s: &Server, person_id: i64, key: i64) -> i64 {
    s.admin(
        "POST",
        &format!("/v1/admin/people/{person_id}/grants"),
        Some(json!({ "key_id": key, "expires_at": s.now() + 7 * DAY, "shareable": false })),
    )
    .await
    .ok()["id"]
        .as_i64()
        .unwrap()
}

/// The person id of the organisation's member with `email`.
async fn person_id(s: &Server, f: &Fixture, email: &str) -> i64 {
    let people = s.admin("GET", &format!("/v1/admin/orgs/{}/people", f.org), None).await.ok();
    people.as_array().unwrap().iter().find(|p| p["email"] == email).unwrap()["person_id"].as_i64().unwrap()
}

fn apns_token(n: u8) -> String {
    hex::encode([n; 32])
}

#[tokio::test]
async fn push_token_registration_refuses_what_is_not_a_token() {
    let s = Server::start().await;
    let f = fixture(&s, "Harbour Gym", 1).await;
    let ana = member(&s, &f, "ana@example.com", &TestPhone::new()).await;
    register(&s, &ana, "apns", "not hex at all!").await.err(422, "invalid_field");
    register(&s, &ana, "fcm", "short").await.err(422, "invalid_field");
    register(&s, &ana, "fcm", &"x".repeat(5000)).await.err(422, "invalid_field");
    register(&s, &ana, "carrier-pigeon", &apns_token(1)).await.err(422, "invalid_field");
    s.send("POST", "/v1/me/push-token", None, Some(json!({ "platform": "apns", "token": apns_token(1) })))
        .await
        .err(401, "unauthenticated");
    assert_eq!(register(&s, &ana, "apns", &apns_token(1).to_uppercase()).await.status, 204);
    assert_eq!(s.send("DELETE", "/v1/me/push-token", Some(&bearer(&ana)), None).await.status, 204);
}

#[tokio::test]
async fn push_apns_a_new_key_wakes_the_members_iphone_and_a_door_update_wakes_a_courier() {
    let s = Server::start().await;
    let f = fixture(&s, "Harbour Gym", 2).await;
    let ana_phone = TestPhone::new();
    let ana = member(&s, &f, "ana@example.com", &ana_phone).await;
    let ben = member(&s, &f, "ben@example.com", &TestPhone::new()).await;
    let ana_id = person_id(&s, &f, "ana@example.com").await;
    assert_eq!(register(&s, &ana, "apns", &apns_token(0xa1)).await.status, 204);
    assert_eq!(register(&s, &ben, "apns", &apns_token(0xb1)).await.status, 204);

    let (sink, url, ca) = Sink::start().await;
    let team_key = signature::EcdsaKeyPair::generate_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let team_public = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        team_key.as_ref(),
        &ring::rand::SystemRandom::new(),
    )
    .unwrap()
    .public_key()
    .as_ref()
    .to_vec();
    let senders = Senders::new(&PushConfig {
        apns: Some(ApnsConfig {
            key_pem: pem("PRIVATE KEY", team_key.as_ref()),
            key_id: "KEY1234567".into(),
            team_id: "TEAM123456".into(),
            topic: "app.keyway.member".into(),
            base_url: url,
        }),
        fcm: None,
        extra_roots_pem: Some(ca),
    })
    .unwrap();
    let state = &s.running.state;
    // Registering queues nothing: only a change does.
    assert_eq!(deliver_due(state, &senders).await.unwrap(), 0);

    // An administrator gives Ana a second key: her iPhone gets one silent push.
    grant(&s, ana_id, f.key).await;
    assert_eq!(deliver_due(state, &senders).await.unwrap(), 1);
    let got = sink.take();
    assert_eq!(got.len(), 1);
    let push = &got[0];
    assert_eq!(push.version, Version::HTTP_2, "APNs is spoken over HTTP/2");
    assert_eq!(push.path, format!("/3/device/{}", apns_token(0xa1)));
    assert_eq!(push.header("apns-push-type"), "background");
    assert_eq!(push.header("apns-priority"), "5");
    assert_eq!(push.header("apns-topic"), "app.keyway.member");
    assert_eq!(push.json(), json!({ "aps": { "content-available": 1 }, "keyway": "1", "reason": "keys" }));
    let jwt = push
        .header("authorization")
        .strip_prefix("bearer ")
        .or_else(|| push.header("authorization").strip_prefix("Bearer "))
        .unwrap();
    let (header, claims) = verified_jwt(jwt, &signature::ECDSA_P256_SHA256_FIXED, &team_public);
    assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some("ES256"), Some("KEY1234567")));
    assert_eq!(claims["iss"], "TEAM123456");
    // Sent once: nothing is left to send.
    assert_eq!(deliver_due(state, &senders).await.unwrap(), 0);

    // Ana's phone holds credentials; her first grant is revoked: a new bundle waits for the offline back gate. Ana's
    // phone hears about her keys; Ben's, who can open that door, is asked to carry it.
    credentials(&s, &ana).await;
    let grants = s.send("GET", "/v1/me/keys", Some(&bearer(&ana)), None).await.ok();
    let first = grants["keys"][0]["grant_id"].as_i64().unwrap();
    s.admin("POST", &format!("/v1/admin/grants/{first}/revoke"), None).await.ok();
    assert_eq!(deliver_due(state, &senders).await.unwrap(), 2);
    let mut got: Vec<(String, Value)> =
        sink.take().iter().map(|r| (r.path.clone(), r.json()["reason"].clone())).collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            (format!("/3/device/{}", apns_token(0xa1)), json!("keys")),
            (format!("/3/device/{}", apns_token(0xb1)), json!("door_sync")),
        ]
    );

    // Ben uninstalls the app: APNs answers 410 and his token is forgotten, so the next
    // change sends nothing to it.
    sink.gone.lock().unwrap().push(apns_token(0xb1));
    let ben_grant =
        s.send("GET", "/v1/me/keys", Some(&bearer(&ben)), None).await.ok()["keys"][0]["grant_id"].as_i64().unwrap();
    s.admin("POST", &format!("/v1/admin/grants/{ben_grant}"), Some(json!({ "expires_at": s.now() + 3 * DAY })))
        .await
        .ok();
    assert_eq!(deliver_due(state, &senders).await.unwrap(), 1);
    assert_eq!(sink.take().len(), 1);
    s.admin("POST", &format!("/v1/admin/grants/{ben_grant}"), Some(json!({ "expires_at": s.now() + 2 * DAY })))
        .await
        .ok();
    assert_eq!(deliver_due(state, &senders).await.unwrap(), 0, "a dead token gets no more pushes");

    // Signing out ends the device's pushes too.
    s.send("POST", "/v1/auth/logout", Some(&bearer(&ana)), Some(json!({}))).await;
    grant(&s, ana_id, f.key).await;
    assert_eq!(deliver_due(state, &senders).await.unwrap(), 0, "a signed-out device is not woken");
}

#[tokio::test]
async fn push_fcm_a_new_key_wakes_the_android_phone_with_a_data_message() {
    let s = Server::start().await;
    let f = fixture(&s, "Harbour Gym", 3).await;
    let ana = member(&s, &f, "ana@example.com", &TestPhone::new()).await;
    let ana_id = person_id(&s, &f, "ana@example.com").await;
    let fcm_token = format!("fcm:{}", "a".repeat(150));
    assert_eq!(register(&s, &ana, "fcm", &fcm_token).await.status, 204);

    // A service account's RSA key, as the Firebase console hands it out (PKCS#8 PEM).
    let made = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()
        .unwrap();
    assert!(made.status.success(), "openssl made an RSA key: {}", String::from_utf8_lossy(&made.stderr));
    let key_pem = String::from_utf8(made.stdout).unwrap();
    let der = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    use rustls::pki_types::pem::PemObject;
    let public = signature::RsaKeyPair::from_pkcs8(der.secret_der()).unwrap().public().as_ref().to_vec();

    let (sink, url, ca) = Sink::start().await;
    let account = json!({
        "type": "service_account", "project_id": "keyway-test", "client_email": "push@keyway-test.iam.example",
        "private_key": key_pem, "token_uri": format!("{url}/token"),
    });
    let senders = Senders::new(&PushConfig {
        apns: None,
        fcm: Some(FcmConfig::from_service_account(&account.to_string(), &url.clone()).unwrap()),
        extra_roots_pem: Some(ca),
    })
    .unwrap();
    grant(&s, ana_id, f.key).await;
    assert_eq!(deliver_due(&s.running.state, &senders).await.unwrap(), 1);
    let got = sink.take();
    assert_eq!(
        got.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/token", "/v1/projects/keyway-test/messages:send"]
    );

    // The token request: a JWT-bearer grant whose assertion the service account signed.
    let form = String::from_utf8(got[0].body.clone()).unwrap();
    assert!(form.starts_with("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="), "{form}");
    let assertion = form.split("assertion=").nth(1).unwrap();
    let (header, claims) = verified_jwt(assertion, &signature::RSA_PKCS1_2048_8192_SHA256, &public);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["iss"], "push@keyway-test.iam.example");
    assert_eq!(claims["aud"], format!("{url}/token"));
    assert_eq!(claims["scope"], "https://www.googleapis.com/auth/firebase.messaging");

    // The message: to Ana's token, data only, high priority, with the access token.
    let send = &got[1];
    assert_eq!(send.header("authorization"), "Bearer fcm-access-1");
    assert_eq!(
        send.json(),
        json!({ "message": { "token": fcm_token, "data": { "keyway": "1", "reason": "keys" },
                             "android": { "priority": "HIGH", "ttl": "86400s" } } })
    );

    // The access token is reused; an unregistered token is forgotten.
    sink.gone.lock().unwrap().push(fcm_token.clone());
    grant(&s, ana_id, f.key).await;
    assert_eq!(deliver_due(&s.running.state, &senders).await.unwrap(), 1);
    assert_eq!(
        sink.take().iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/v1/projects/keyway-test/messages:send"]
    );
    grant(&s, ana_id, f.key).await;
    assert_eq!(deliver_due(&s.running.state, &senders).await.unwrap(), 0, "an unregistered token gets no more pushes");
}
