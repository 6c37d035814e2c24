//! A world for journeys: the real backend serving HTTPS on loopback (with a certificate
//! from a CA made for this run, which the phones trust as an extra root), an operator
//! who drives it through its admin API, reference locks on a simulated radio, and phones
//! running the core. One clock for all of them, moved by the test.

use crate::sim_transport::SimTransport;
use keyway_backend::clock::ManualClock as BackendClock;
use keyway_backend::dev_certs::{DevCa, LOOPBACK_NAMES, ServerIdentity, Validity};
use keyway_core::api::TrustSettings;
use keyway_core::ble::UnlockTimeouts;
use keyway_core::platform::BleTransport;
use keyway_core::platform::ManualClock;
use keyway_core::platform::MemoryStore;
use keyway_core::platform::SoftwareSigner;
use keyway_core::{Config, Error, Keyway, Platform};
use keyway_lock::sim::{LinkParams, PeripheralId, SimRadio};
use keyway_lock::{Lock, LockOptions, ManualRtc, MemoryStorage, Provisioning, Rtc, SeededRandom};
use keyway_protocol::ids::DoorId;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The journeys' epoch: 2027-01-15T08:00:00Z.
pub const T0: u32 = 1_800_000_000;
/// One hour and one day, in seconds.
pub const HOUR: u32 = 3600;
/// One day, in seconds.
pub const DAY: u32 = 24 * HOUR;
/// The host in invitation and share links.
pub const LINK_HOST: &str = "keyway.test";
/// The journeys' bounds on each phase of an unlock (the simulated radio is fast).
pub const JOURNEY_UNLOCK: UnlockTimeouts = UnlockTimeouts {
    scan: Duration::from_millis(500),
    connect: Duration::from_secs(2),
    handshake: Duration::from_secs(2),
    door_sync: Duration::from_secs(5),
};
const ADMIN_TOKEN: &str = "journeys-admin-token-0123456789abcdef";

/// How the world's backend serves: HTTPS with a good certificate, with one a phone must
/// refuse, or (for the tests of the development option) plain HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// HTTPS with a current certificate for the loopback names from the run's CA.
    Https,
    /// HTTPS with a certificate from another CA, which no phone trusts.
    HttpsFromAnotherCa,
    /// HTTPS with a certificate from the run's CA that expired in 2021.
    HttpsExpired,
    /// HTTPS with a certificate from the run's CA for another host name.
    HttpsForAnotherHost,
    /// Plain HTTP (`--insecure-plain-http`).
    PlainHttp,
}

/// The run's certificate authority and what the backend serves with.
struct Certificates {
    ca_pem: String,
    /// `ca.pem`, for processes that read it (`keyway --ca-file`, the crash child).
    ca_file: tempfile::TempPath,
    /// The good loopback certificate (what a fault proxy presents).
    loopback: ServerIdentity,
    /// What the backend presents.
    served: ServerIdentity,
}

impl Certificates {
    fn new(served: Served) -> Self {
        let made = "a test certificate is made";
        let ca = DevCa::new("Keyway journeys CA").expect(made);
        let loopback = ca.issue_loopback().expect(made);
        let served = match served {
            Served::Https | Served::PlainHttp => loopback.clone(),
            Served::HttpsFromAnotherCa => DevCa::new("Someone else's CA").and_then(|c| c.issue_loopback()).expect(made),
            Served::HttpsExpired => ca.issue(&LOOPBACK_NAMES, Validity::Expired).expect(made),
            Served::HttpsForAnotherHost => ca.issue(&["keyway.invalid"], Validity::Current).expect(made),
        };
        let mut file = tempfile::NamedTempFile::new().expect("a temp file");
        std::io::Write::write_all(&mut file, ca.cert_pem().as_bytes()).expect("ca.pem is written");
        Self { ca_pem: ca.cert_pem().to_owned(), ca_file: file.into_temp_path(), loopback, served }
    }
}

/// Everything on one machine.
pub struct World {
    server: Mutex<Option<keyway_backend::RunningServer>>,
    backend_clock: Arc<BackendClock>,
    /// The backend's base URL.
    pub base_url: String,
    certificates: Certificates,
    http: reqwest::Client,
    /// The air the locks and phones share.
    pub radio: Arc<SimRadio>,
    rtc: ManualRtc,
    phone_clocks: Mutex<Vec<Arc<ManualClock>>>,
    seeds: AtomicU64,
}

/// An organisation with one site and one facility.
#[derive(Debug, Clone)]
pub struct Org {
    /// Organisation id.
    pub id: i64,
    /// Facility id.
    pub facility: i64,
    /// The site's issuer key (the locks' trust anchor).
    pub issuer_public_key: Vec<u8>,
}

/// A door with a reference lock on the simulated radio.
#[derive(Debug, Clone, Copy)]
pub struct DoorHandle {
    /// The backend's door id.
    pub backend_id: i64,
    /// The lock's id.
    pub lock_id: DoorId,
    /// Where it sits on the radio.
    pub peripheral: PeripheralId,
}

/// The usual scene: Harbour Gym with one offline door and a key for it.
#[derive(Debug, Clone)]
pub struct Gym {
    /// The organisation.
    pub org: Org,
    /// Its offline "Back gate".
    pub gate: DoorHandle,
    /// The "Members" key opening the gate.
    pub key: i64,
}

/// An invitation as the operator sent it.
#[derive(Debug, Clone, Copy)]
pub struct Invitation {
    /// Its id.
    pub id: i64,
    /// The invited person.
    pub person_id: i64,
}

/// A lock's audit log against the backend's intake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditCheck {
    /// Events the lock no longer holds that the backend never stored (or stored
    /// differently): gone for good. Must be 0.
    pub lost: u64,
    /// Events the backend holds that the lock never made: grants beyond the lock's
    /// actuations, or sequence numbers the lock never used. Must be 0. (No duplicate count
    /// is kept: the backend keys events by door and sequence number and ignores a second
    /// copy, so a duplicate row cannot exist to be counted.)
    pub invented: u64,
    /// Events the lock still holds that have not reached the backend yet: they travel
    /// with the next receipt. 0 right after a door sync whose receipt was delivered.
    pub awaiting: u64,
}

/// A phone running the core.
pub struct Phone {
    /// The core.
    pub keyway: Keyway,
    /// Its secure store (to look inside in tests).
    pub store: Arc<MemoryStore>,
    /// Its radio.
    pub ble: Arc<SimTransport>,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    /// Its cache file, when it has one.
    pub cache_path: Option<PathBuf>,
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap_or_default()
}

impl World {
    /// Starts the backend (in-memory SQLite, HTTPS) and an empty radio, at [`T0`].
    pub async fn start() -> Self {
        Self::start_served(":memory:", false, Served::Https).await
    }

    /// Starts the backend on the SQLite file `db` (or `:memory:`) and an empty radio, at
    /// [`T0`]. With `real_time`, the radio takes the modelled time of each packet
    /// (connection interval 30 ms) instead of adding it up virtually.
    pub async fn start_with_db(db: &str, real_time: bool) -> Self {
        Self::start_served(db, real_time, Served::Https).await
    }

    /// Starts the backend serving as `served` (a certificate a phone must refuse, or plain
    /// HTTP). Phones made by this world trust the run's CA, whatever the backend serves.
    pub async fn start_served(db: &str, real_time: bool, served: Served) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let backend_clock = BackendClock::new(i64::from(T0));
        let db = keyway_backend::db::Db::open(db).expect("the backend's database opens");
        let config = keyway_backend::Config {
            public_host: LINK_HOST.into(),
            admin_token: ADMIN_TOKEN.into(),
            server_secret: b"journeys server secret, 32 bytes!!".to_vec(),
            app_links: keyway_backend::landing::AppLinks::default(),
            trusted_proxies: Default::default(),
        };
        let state = keyway_backend::AppState::new(db, backend_clock.clone(), &config).expect("backend state");
        let certificates = Certificates::new(served);
        let (server, scheme) = if served == Served::PlainHttp {
            (keyway_backend::start(state, "127.0.0.1:0").await.expect("backend listens"), "http")
        } else {
            let tls = keyway_backend::tls::TlsIdentity::from_pem(
                certificates.served.chain_pem.as_bytes(),
                certificates.served.key_pem.as_bytes(),
            )
            .expect("the test certificate loads");
            (keyway_backend::start_tls(state, "127.0.0.1:0", &tls).await.expect("backend listens"), "https")
        };
        let base_url = format!("{scheme}://{}/", server.addr);
        // The operator's console trusts the run's CA only.
        let ca = reqwest::Certificate::from_pem(certificates.ca_pem.as_bytes()).expect("the CA parses");
        let http = reqwest::Client::builder().tls_certs_only([ca]).build().expect("the admin client starts");
        Self {
            server: Mutex::new(Some(server)),
            backend_clock,
            base_url,
            certificates,
            http,
            radio: Arc::new(if real_time { SimRadio::real_time(1) } else { SimRadio::new(1) }),
            rtc: ManualRtc::new(T0),
            phone_clocks: Mutex::new(Vec::new()),
            seeds: AtomicU64::new(100),
        }
    }

    /// The run's CA certificate (PEM): the extra root every phone of this world trusts.
    pub fn ca_pem(&self) -> &str {
        &self.certificates.ca_pem
    }

    /// The run's CA certificate as a file (for `keyway --ca-file` and child processes).
    pub fn ca_file(&self) -> &Path {
        &self.certificates.ca_file
    }

    /// The good loopback certificate and key (what a fault proxy in front presents).
    pub fn loopback_identity(&self) -> &ServerIdentity {
        &self.certificates.loopback
    }

    /// What a phone of this world trusts: the platform's roots and the run's CA.
    pub fn trust(&self) -> TrustSettings {
        TrustSettings { extra_roots: vec![self.ca_pem().as_bytes().to_vec()], allow_plain_http_to_loopback: false }
    }

    /// HTTP requests that reached the backend's router, counted in-process at the server:
    /// what proves that nothing was sent over a connection a phone refused.
    pub fn requests_served(&self) -> u64 {
        let server = self.server.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        server.as_ref().map_or(0, |s| s.state.requests_served())
    }

    /// Plays the push service: takes every push the backend has queued and due, marks it
    /// delivered, and returns each device's token with the payload it would receive (as
    /// JSON text, what an app hands to `handle_push`).
    pub async fn take_pushes(&self) -> Vec<(String, String)> {
        let state = {
            let server = self.server.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            server.as_ref().map(|s| s.state.clone())
        };
        let Some(state) = state else { return Vec::new() };
        state
            .write(|tx, _, now| {
                let due = keyway_backend::push::due(tx, now, 1000)?;
                let mut out = Vec::new();
                for push in due {
                    keyway_backend::push::record(tx, &push, &keyway_backend::push::Delivery::Sent, now)?;
                    out.push((
                        push.token.clone(),
                        keyway_backend::push::payload(push.platform, push.reason).to_string(),
                    ));
                }
                Ok(out)
            })
            .await
            .unwrap_or_default()
    }

    /// Stops the backend: phones are offline from now on. Returns once the server task has
    /// ended, so its connections have been told to close before the test goes on (a phone's
    /// pooled connection is not served once more by a server being torn down).
    pub async fn stop_backend(&self) {
        let server = self.server.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(server) = server {
            server.task.abort();
            let _ = server.task.await;
            // The connections' own tasks close on that signal; give them their turn.
            tokio::task::yield_now().await;
        }
    }

    /// Now, by the world's clock.
    pub fn now(&self) -> u32 {
        self.rtc.now()
    }

    /// Sets every clock: backend, locks, phones.
    pub fn set_time(&self, t: u32) {
        self.backend_clock.set(i64::from(t));
        self.rtc.set(t);
        for clock in self.phone_clocks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
            clock.set(t);
        }
    }

    /// Moves every clock forward.
    pub fn advance(&self, seconds: u32) {
        self.set_time(self.now() + seconds);
    }

    /// An admin API call; returns the status and the JSON body.
    pub async fn admin_call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{}", self.base_url, path.trim_start_matches('/'));
        let mut request = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url),
        }
        .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("backend reachable");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// An admin API call that must succeed.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.admin_call(method, path, body).await;
        assert!((200..300).contains(&status), "admin {method} {path}: {status} {value}");
        value
    }

    /// An organisation with a site and a facility.
    pub async fn org(&self, name: &str) -> Org {
        let id = self.admin("POST", "v1/admin/orgs", Some(json!({ "name": name }))).await["id"].as_i64().unwrap_or(0);
        let site = self.admin("POST", &format!("v1/admin/orgs/{id}/sites"), Some(json!({ "name": "Main site" }))).await;
        let issuer_public_key = unb64(site["issuer_public_key"].as_str().unwrap_or(""));
        let facility = self
            .admin("POST", &format!("v1/admin/sites/{}/facilities", site["id"]), Some(json!({ "name": name })))
            .await["id"]
            .as_i64()
            .unwrap_or(0);
        Org { id, facility, issuer_public_key }
    }

    /// Fits a door with a fresh reference lock (trusting the org's issuer) and registers it.
    pub async fn door(&self, org: &Org, name: &str, online: bool) -> DoorHandle {
        let (backend_id, lock) = self.fit_lock(org, name, online).await;
        let lock_id = lock.door();
        let peripheral = self.radio.add_lock(lock, LinkParams::default());
        DoorHandle { backend_id, lock_id, peripheral }
    }

    /// A fresh reference lock (trusting the org's issuer, on the world's clock), registered
    /// with the backend as door `name`; returns the backend's door id and the lock, to put
    /// on whichever radio the test uses.
    pub async fn fit_lock(&self, org: &Org, name: &str, online: bool) -> (i64, Lock) {
        let seed = self.seeds.fetch_add(1, Ordering::SeqCst);
        let lock_id = DoorId(seed.to_be_bytes());
        let options = LockOptions { rtc: Arc::new(self.rtc.clone()), random: Box::new(SeededRandom::new(seed)) };
        let provisioning = Provisioning { door: lock_id, trust_anchors: vec![org.issuer_public_key.clone()] };
        let lock = Lock::open_or_provision(Box::new(MemoryStorage::new()), &provisioning, options)
            .expect("reference lock provisions");
        let body = json!({
            "name": name,
            "lock_id": lock_id.to_hex(),
            "lock_public_key": b64(&lock.public_key()),
            "lock_signing_public_key": b64(&lock.signing_public_key()),
            "online": online,
        });
        let backend_id =
            self.admin("POST", &format!("v1/admin/facilities/{}/doors", org.facility), Some(body)).await["id"]
                .as_i64()
                .unwrap_or(0);
        // The lock's doorcode secret goes to the backend once, as a fitter would register it.
        if let Some(secret) = lock.doorcode_secret() {
            let body = json!({ "secret": b64(&secret.0) });
            self.admin("POST", &format!("v1/admin/doors/{backend_id}/doorcode-secret"), Some(body)).await;
        }
        (backend_id, lock)
    }

    /// A device pretending to be `door`: a reference lock of its own (own keys, trusting
    /// the org's issuer) that advertises the door's id. Put it on the air to test that
    /// phones pass it over.
    pub fn impostor(&self, org: &Org, door: DoorId) -> Lock {
        let seed = self.seeds.fetch_add(1, Ordering::SeqCst);
        let options = LockOptions { rtc: Arc::new(self.rtc.clone()), random: Box::new(SeededRandom::new(seed)) };
        let provisioning = Provisioning { door, trust_anchors: vec![org.issuer_public_key.clone()] };
        Lock::open_or_provision(Box::new(MemoryStorage::new()), &provisioning, options).expect("impostor provisions")
    }

    /// Harbour Gym: an organisation, an offline "Back gate" with its lock, a "Members" key.
    pub async fn gym(&self) -> Gym {
        let org = self.org("Harbour Gym").await;
        let gate = self.door(&org, "Back gate", false).await;
        let key = self.key(&org, "Members", &[gate]).await;
        Gym { org, gate, key }
    }

    /// A key opening `doors`.
    pub async fn key(&self, org: &Org, name: &str, doors: &[DoorHandle]) -> i64 {
        let ids: Vec<i64> = doors.iter().map(|d| d.backend_id).collect();
        self.key_for(org, name, &ids).await
    }

    /// A key opening the doors with these backend ids.
    pub async fn key_for(&self, org: &Org, name: &str, ids: &[i64]) -> i64 {
        self.admin(
            "POST",
            &format!("v1/admin/facilities/{}/keys", org.facility),
            Some(json!({ "name": name, "door_ids": ids })),
        )
        .await["id"]
            .as_i64()
            .unwrap_or(0)
    }

    /// Invites `email` with `key` from `starts_at` (default now) to `expires_at`.
    pub async fn invite(
        &self,
        org: &Org,
        email: &str,
        key: i64,
        starts_at: Option<u32>,
        expires_at: u32,
    ) -> Invitation {
        let body = json!({
            "facility_id": org.facility,
            "email": email,
            "role": "member",
            "access_start": starts_at,
            "keys": [{ "key_id": key, "starts_at": starts_at, "expires_at": expires_at, "shareable": true }],
        });
        let sent = self.admin("POST", "v1/admin/invitations", Some(body)).await;
        Invitation {
            id: sent["invitation_id"].as_i64().unwrap_or(0),
            person_id: sent["person_id"].as_i64().unwrap_or(0),
        }
    }

    /// Adds a person known only by phone and grants them `key`; returns the person id.
    pub async fn phone_only_member(&self, org: &Org, phone: &str, key: i64, expires_at: u32) -> i64 {
        let person = self
            .admin(
                "POST",
                &format!("v1/admin/orgs/{}/people", org.id),
                Some(json!({ "phone": phone, "role": "member" })),
            )
            .await["person_id"]
            .as_i64()
            .unwrap_or(0);
        self.admin(
            "POST",
            &format!("v1/admin/people/{person}/grants"),
            Some(json!({ "key_id": key, "expires_at": expires_at, "shareable": false })),
        )
        .await;
        person
    }

    /// Revokes every key of a person (cascading to the guests they shared with).
    pub async fn revoke_all(&self, org: &Org, person_id: i64) {
        self.admin("POST", &format!("v1/admin/orgs/{}/people/{person_id}/revoke-all", org.id), None).await;
    }

    /// Turns a person's access in `org` off (with the administrator's words) or back on.
    pub async fn set_access(&self, org: &Org, person_id: i64, enabled: bool, message: Option<&str>) {
        let body = json!({ "enabled": enabled, "message": message });
        self.admin("POST", &format!("v1/admin/orgs/{}/people/{person_id}/access", org.id), Some(body)).await;
    }

    /// The newest outbox message of `kind` to `to`.
    pub async fn outbox(&self, to: &str, kind: &str) -> Value {
        let messages = self.admin("GET", &format!("v1/admin/outbox?to={}", to.replace('+', "%2B")), None).await;
        messages
            .as_array()
            .and_then(|m| m.iter().rev().find(|m| m["kind"] == kind).cloned())
            .unwrap_or_else(|| panic!("no {kind} message to {to}"))
    }

    /// The newest one-time code sent to `to`.
    pub async fn code(&self, to: &str) -> String {
        self.outbox(to, "sign_in_code").await["code"].as_str().unwrap_or_default().to_owned()
    }

    /// The newest link of `kind` ("invitation", "share") sent to `to`.
    pub async fn link(&self, to: &str, kind: &str) -> String {
        self.outbox(to, kind).await["link"].as_str().unwrap_or_default().to_owned()
    }

    /// Compares a lock's audit log with what the backend took in (see [`AuditCheck`]).
    pub async fn audit_check(&self, door: &DoorHandle) -> AuditCheck {
        let events = self.admin("GET", &format!("v1/admin/doors/{}/events?limit=1000", door.backend_id), None).await;
        let events = events.as_array().cloned().unwrap_or_default();
        let at_backend: std::collections::BTreeMap<u64, &Value> =
            events.iter().filter_map(|e| Some((e["seq"].as_u64()?, e))).collect();
        let (next_seq, actuations, held) =
            self.with_lock(door, |l| (l.next_audit_seq(), l.actuations(), l.audit_events()));
        let produced = 1..next_seq;
        let mut check = AuditCheck::default();
        for seq in produced.clone() {
            match (at_backend.get(&seq), held.iter().find(|e| e.seq == seq)) {
                (None, None) => check.lost += 1,
                (None, Some(_)) => check.awaiting += 1,
                // What the lock still holds must be what the backend stored, field for field.
                (Some(stored), Some(event)) => {
                    let same_time = stored["at"].as_u64() == Some(u64::from(event.time));
                    let same_credential =
                        stored["credential_id"].as_str().map(str::to_owned) == event.credential.map(|c| c.to_hex());
                    if !(same_time && same_credential) {
                        check.lost += 1;
                    }
                }
                (Some(_), None) => {}
            }
        }
        let grants =
            events.iter().filter(|e| matches!(e["kind"].as_str(), Some("granted" | "granted_fast"))).count() as u64;
        let unknown = at_backend.keys().filter(|seq| !produced.contains(seq)).count() as u64;
        check.invented = grants.saturating_sub(actuations) + unknown;
        check
    }

    /// Reads or changes a lock on the radio.
    pub fn with_lock<R>(&self, door: &DoorHandle, f: impl FnOnce(&mut Lock) -> R) -> R {
        self.radio.with_lock(door.peripheral, f).expect("the lock is on the radio")
    }

    /// A member: `email` invited to `key` for 30 days from [`T0`], who accepted on a new
    /// phone.
    pub async fn member(&self, org: &Org, email: &str, key: i64) -> Phone {
        self.invite(org, email, key, None, T0 + 30 * DAY).await;
        let phone = self.phone();
        phone.accept_invitation(self, email).await;
        phone
    }

    /// A new phone whose cache lives in memory.
    pub fn phone(&self) -> Phone {
        self.phone_with(None, Arc::new(MemoryStore::new()))
    }

    /// A phone with a cache file and a given secure store (to reopen it later).
    pub fn phone_with(&self, cache_path: Option<PathBuf>, store: Arc<MemoryStore>) -> Phone {
        self.phone_at(&self.base_url.clone(), Duration::from_secs(5), cache_path, store)
    }

    /// A phone that reaches the backend at `backend_url` (a fault proxy in front of it)
    /// and gives each HTTP call `http_timeout`.
    pub fn phone_at(
        &self,
        backend_url: &str,
        http_timeout: Duration,
        cache_path: Option<PathBuf>,
        store: Arc<MemoryStore>,
    ) -> Phone {
        let ble = Arc::new(SimTransport::new(self.radio.clone(), 517));
        let (keyway, clock) =
            self.core_at(backend_url, http_timeout, cache_path.clone(), store.clone(), ble.clone(), JOURNEY_UNLOCK);
        Phone { keyway, store, ble, clock, cache_path }
    }

    /// The core of a phone with this radio, on a clock the world moves.
    pub fn core_with(
        &self,
        cache_path: Option<PathBuf>,
        store: Arc<MemoryStore>,
        ble: Arc<dyn BleTransport>,
        unlock: UnlockTimeouts,
    ) -> (Keyway, Arc<ManualClock>) {
        self.core_at(&self.base_url.clone(), Duration::from_secs(5), cache_path, store, ble, unlock)
    }

    fn core_at(
        &self,
        backend_url: &str,
        http_timeout: Duration,
        cache_path: Option<PathBuf>,
        store: Arc<MemoryStore>,
        ble: Arc<dyn BleTransport>,
        unlock: UnlockTimeouts,
    ) -> (Keyway, Arc<ManualClock>) {
        let mut config = Config::new(backend_url, vec![LINK_HOST.into()]);
        config.cache_path = cache_path;
        config.http_timeout = http_timeout;
        config.unlock = unlock;
        config.trust = self.trust();
        self.open_core(config, store, ble).expect("the core opens")
    }

    /// Opens a core with `config` (e.g. other trust settings) on this world's radio and
    /// clock, with a fresh memory store: for tests of what the core refuses at start.
    pub fn try_core(&self, config: Config) -> Result<Keyway, Error> {
        let ble = Arc::new(SimTransport::new(self.radio.clone(), 517));
        self.open_core(config, Arc::new(MemoryStore::new()), ble).map(|(keyway, _)| keyway)
    }

    fn open_core(
        &self,
        config: Config,
        store: Arc<MemoryStore>,
        ble: Arc<dyn BleTransport>,
    ) -> Result<(Keyway, Arc<ManualClock>), Error> {
        let clock = Arc::new(ManualClock::new(self.now()));
        let signer = Arc::new(SoftwareSigner::new(store.clone()));
        let platform = Platform { secure_store: store, signer, ble, clock: clock.clone() };
        let keyway = Keyway::open(config, platform)?;
        self.phone_clocks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(clock.clone());
        Ok((keyway, clock))
    }
}

impl Phone {
    /// Signs in with a one-time code read from the outbox.
    pub async fn sign_in(&self, world: &World, address: &str) {
        let flow = self.keyway.start_sign_in(address).await.expect("code sent");
        let code = world.code(flow.address().as_str()).await;
        flow.verify(&code).await.expect("signed in");
    }

    /// Accepts the newest invitation sent to `email`.
    pub async fn accept_invitation(&self, world: &World, email: &str) {
        let link = self.keyway.parse_link(&world.link(email, "invitation").await).expect("a valid link");
        self.keyway.send_invitation_code(&link).await.expect("code sent");
        let code = world.code(email).await;
        self.keyway.accept_invitation(&link, &code).await.expect("accepted");
    }
}
