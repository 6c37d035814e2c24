//! Test harness: a real server on loopback (HTTPS, certificate from a CA made for the run)
//! with a manual clock, a real HTTPS client trusting that CA, an operator (admin API) and
//! phones (the test kit's), plus in-memory locks (the test kit's) that sign receipts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyway_backend::clock::ManualClock;
use keyway_backend::db::Db;
use keyway_backend::{AppState, Config, RunningServer};
use keyway_protocol::ids::{CredentialId, DoorId};
use keyway_protocol::receipt::{AuditEvent, AuditKind, ReceiptBody};
pub use keyway_protocol::testkit::{MemoryLock, TestPhone};
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use serde_json::{Value, json};

pub const T0: i64 = 1_800_000_000;
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 24 * HOUR;

pub struct Server {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub running: RunningServer,
    ca_pem: String,
}

/// What an answer was: status and JSON body (Null when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn ok(self) -> Value {
        assert!(self.status.is_success(), "expected success, got {} {}", self.status, self.body);
        self.body
    }
    pub fn err(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status for {}", self.body);
        assert_eq!(self.code(), code, "code in {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Answer { status, body }
}

impl Server {
    pub async fn start() -> Self {
        Self::start_with(keyway_backend::landing::AppLinks::default()).await
    }

    /// A server whose link pages and `.well-known` files use `app_links`.
    pub async fn start_with(app_links: keyway_backend::landing::AppLinks) -> Self {
        Self::start_configured(app_links, Default::default()).await
    }

    /// A server that believes the client address forwarded by `proxies`.
    pub async fn start_behind(proxies: keyway_backend::client_address::TrustedProxies) -> Self {
        Self::start_configured(Default::default(), proxies).await
    }

    async fn start_configured(
        app_links: keyway_backend::landing::AppLinks,
        trusted_proxies: keyway_backend::client_address::TrustedProxies,
    ) -> Self {
        let clock = ManualClock::new(T0);
        let db = Db::open(":memory:").unwrap();
        let config = Config {
            public_host: "keyway.test".into(),
            admin_token: ADMIN_TOKEN.into(),
            server_secret: b"test server secret, 32 bytes long!".to_vec(),
            app_links,
            trusted_proxies,
        };
        let state = AppState::new(db, clock.clone(), &config).unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca = keyway_backend::dev_certs::DevCa::new("backend tests CA").unwrap();
        let identity = ca.issue_loopback().unwrap();
        let tls =
            keyway_backend::tls::TlsIdentity::from_pem(identity.chain_pem.as_bytes(), identity.key_pem.as_bytes())
                .unwrap();
        let running = keyway_backend::start_tls(state, "127.0.0.1:0", &tls).await.unwrap();
        let root = reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap();
        let http = reqwest::Client::builder().tls_certs_only([root]).build().unwrap();
        Self { base: format!("https://{}", running.addr), clock, http, running, ca_pem: ca.cert_pem().to_owned() }
    }

    /// The run's CA certificate, PEM (for other clients, e.g. a browser, to trust).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A client whose connections come from another loopback address (`127.0.0.2`, …), so
    /// the server sees another client address.
    pub fn client_at(&self, ip: &str) -> reqwest::Client {
        let root = reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap();
        reqwest::Client::builder()
            .tls_certs_only([root])
            .local_address(ip.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    }

    /// The default client (its connections come from `127.0.0.1`).
    pub fn client(&self) -> reqwest::Client {
        self.http.clone()
    }

    /// A POST from `http` (see [`Server::client_at`]).
    pub async fn post_from(&self, http: &reqwest::Client, path: &str, body: Value) -> Answer {
        answer(http.post(format!("{}{}", self.base, path)).json(&body).send().await.unwrap()).await
    }

    pub fn now(&self) -> i64 {
        use keyway_backend::clock::Clock as _;
        self.clock.now()
    }

    pub async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let url = format!("{}{}", self.base, path);
        let mut req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        answer(req.send().await.unwrap()).await
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.send(method, path, Some(ADMIN_TOKEN), body).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send("POST", path, None, Some(body)).await
    }

    /// Outbox messages to `to` (newest last).
    pub async fn outbox(&self, to: &str) -> Vec<Value> {
        let v = self.admin("GET", &format!("/v1/admin/outbox?to={}", urlenc(to)), None).await.ok();
        v.as_array().unwrap().clone()
    }

    pub async fn last_code(&self, to: &str) -> String {
        let msgs = self.outbox(to).await;
        let m = msgs.iter().rev().find(|m| m["kind"] == "sign_in_code").expect("a code in the outbox");
        m["code"].as_str().unwrap().to_owned()
    }

    pub async fn last_link(&self, to: &str, kind: &str) -> String {
        let msgs = self.outbox(to).await;
        let m = msgs.iter().rev().find(|m| m["kind"] == kind).expect("a link in the outbox");
        m["link"].as_str().unwrap().to_owned()
    }

    /// Signs in with a one-time code; returns the tokens.
    pub async fn sign_in(&self, identifier: &str, phone: &TestPhone) -> Value {
        self.post("/v1/auth/code", json!({ "identifier": identifier })).await.ok();
        let code = self.last_code(identifier).await;
        self.post(
            "/v1/auth/verify",
            json!({ "identifier": identifier, "code": code, "device_public_key": phone.public_key_b64() }),
        )
        .await
        .ok()
    }
}

pub fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

/// What the backend sees of a test phone: its device key in base64url, and its signed
/// share requests.
pub trait PhoneRequests {
    /// The device public key (uncompressed SEC1), base64url as the API takes it.
    fn public_key_b64(&self) -> String;
    /// `body`, a share request, with this device's signature over it (docs/protocol.md
    /// §15.12), as the phone sends it.
    fn signed_share(&self, body: Value) -> Value;
}

impl PhoneRequests for TestPhone {
    fn public_key_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public_key())
    }

    fn signed_share(&self, mut body: Value) -> Value {
        let doors: Vec<i64> =
            body["door_ids"].as_array().map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default();
        let mut nonce = [0u8; 16];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut nonce).unwrap();
        let message = keyway_protocol::share_proof::ShareRequestProof {
            grant_id: body["grant_id"].as_i64().unwrap(),
            door_ids: &doors,
            starts_at: body["starts_at"].as_i64(),
            ends_at: body["ends_at"].as_i64().unwrap(),
            guest: body["guest"].as_str().unwrap(),
            nonce: &nonce,
        }
        .message();
        let signature = self.sign(&message);
        body["device_proof"] =
            json!({ "nonce": URL_SAFE_NO_PAD.encode(nonce), "signature": URL_SAFE_NO_PAD.encode(signature) });
        body
    }
}

/// What the backend sees of a lock: its id and keys as a door record carries them, and
/// the receipts it signs.
pub trait LockRecord {
    /// The lock id in hex.
    fn id_hex(&self) -> String;
    /// The lock's static public key, base64url.
    fn public_key_b64(&self) -> String;
    /// The lock's receipt-signing public key, base64url.
    fn signing_public_key_b64(&self) -> String;
    /// A receipt as the lock would sign it: `events` are grants (sequence number and
    /// credential id) at `clock`.
    fn receipt(&self, version: u32, clock: u32, events: &[(u64, Option<[u8; 16]>)]) -> String;
}

impl LockRecord for MemoryLock {
    fn id_hex(&self) -> String {
        self.door.to_hex()
    }
    fn public_key_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public_key())
    }
    fn signing_public_key_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.signing_public_key())
    }
    fn receipt(&self, version: u32, clock: u32, events: &[(u64, Option<[u8; 16]>)]) -> String {
        let body = ReceiptBody {
            door: self.door,
            bundle_version: version,
            lock_clock: clock,
            more_pending: false,
            events: events
                .iter()
                .map(|(seq, cred)| AuditEvent {
                    seq: *seq,
                    time: clock,
                    kind: AuditKind::Granted { fast: false },
                    credential: cred.map(CredentialId),
                })
                .collect(),
        };
        URL_SAFE_NO_PAD.encode(self.sign_receipt(body).to_bytes())
    }
}

/// An organisation with a site, a facility, an offline and an online door, and one key holding both.
pub struct Fixture {
    pub org: i64,
    pub site: i64,
    pub issuer_public_key: Vec<u8>,
    pub facility: i64,
    pub offline_door: i64,
    pub online_door: i64,
    pub offline_lock: MemoryLock,
    pub online_lock: MemoryLock,
    pub key: i64,
}

pub async fn fixture(s: &Server, org_name: &str, lock_seed: u8) -> Fixture {
    let org = s.admin("POST", "/v1/admin/orgs", Some(json!({ "name": org_name }))).await.ok()["id"].as_i64().unwrap();
    let site = s.admin("POST", &format!("/v1/admin/orgs/{org}/sites"), Some(json!({ "name": "Main site" }))).await.ok();
    let issuer_public_key = URL_SAFE_NO_PAD.decode(site["issuer_public_key"].as_str().unwrap()).unwrap();
    let site = site["id"].as_i64().unwrap();
    let facility = s
        .admin("POST", &format!("/v1/admin/sites/{site}/facilities"), Some(json!({ "name": "Riverside Gym" })))
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let offline_lock = MemoryLock::trusting(DoorId([lock_seed, 0, 0, 0, 0, 0, 0, 1]), &issuer_public_key);
    let online_lock = MemoryLock::trusting(DoorId([lock_seed, 0, 0, 0, 0, 0, 0, 2]), &issuer_public_key);
    let mut ids = Vec::new();
    for (lock, name, online) in [(&offline_lock, "Back gate", false), (&online_lock, "Front door", true)] {
        let body = json!({
            "name": name,
            "lock_id": lock.id_hex(),
            "lock_public_key": lock.public_key_b64(),
            "lock_signing_public_key": lock.signing_public_key_b64(),
            "online": online,
        });
        ids.push(add_door(s, facility, body).await);
    }
    let key = add_key(s, facility, "All doors", &ids).await;
    Fixture {
        org,
        site,
        issuer_public_key,
        facility,
        offline_door: ids[0],
        online_door: ids[1],
        offline_lock,
        online_lock,
        key,
    }
}

/// Creates a key named `name` holding `door_ids` in `facility`; returns its id.
pub async fn add_key(s: &Server, facility: i64, name: &str, door_ids: &[i64]) -> i64 {
    let body = json!({ "name": name, "door_ids": door_ids });
    s.admin("POST", &format!("/v1/admin/facilities/{facility}/keys"), Some(body)).await.ok()["id"].as_i64().unwrap()
}

/// Fits a door in `facility` as `body` describes it (name, lock id and keys, online);
/// returns its id.
pub async fn add_door(s: &Server, facility: i64, body: Value) -> i64 {
    s.admin("POST", &format!("/v1/admin/facilities/{facility}/doors"), Some(body)).await.ok()["id"].as_i64().unwrap()
}

/// Invites `email` with the fixture's key (shareable, 30 days); returns the invitation answer.
pub async fn invite(s: &Server, f: &Fixture, email: &str) -> Value {
    invite_with_key(s, f, email, f.key).await
}

/// Invites `email` with `key` (shareable, 30 days); returns the invitation answer.
pub async fn invite_with_key(s: &Server, f: &Fixture, email: &str, key: i64) -> Value {
    s.admin(
        "POST",
        "/v1/admin/invitations",
        Some(json!({
            "facility_id": f.facility,
            "email": email,
            "role": "member",
            "keys": [{ "key_id": key, "expires_at": s.now() + 30 * DAY, "shareable": true }],
        })),
    )
    .await
    .ok()
}

/// Invites and accepts; returns the session tokens.
pub async fn member(s: &Server, f: &Fixture, email: &str, phone: &TestPhone) -> Value {
    member_with_key(s, f, email, phone, f.key).await
}

/// Invites with `key` and accepts; returns the session tokens.
pub async fn member_with_key(s: &Server, f: &Fixture, email: &str, phone: &TestPhone, key: i64) -> Value {
    invite_with_key(s, f, email, key).await;
    let token = token_of(&s.last_link(email, "invitation").await);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let code = s.last_code(email).await;
    s.post(
        &format!("/v1/invitations/{token}/accept"),
        json!({ "code": code, "device_public_key": phone.public_key_b64() }),
    )
    .await
    .ok()
}

/// Issues or renews every usable credential for the session's device.
pub async fn credentials(s: &Server, t: &Value) -> Vec<Value> {
    s.send("POST", "/v1/credentials", Some(&bearer(t)), Some(json!({}))).await.ok()["credentials"]
        .as_array()
        .unwrap()
        .clone()
}

pub fn bearer(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}
