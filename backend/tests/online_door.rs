//! Online doors: a reference lock (`keyway-lock`) keeps its online link to this service
//! over HTTPS, signed with its own key. A revocation reaches it within seconds with no
//! phone carrying anything; a lock cut off from the internet catches up on every change
//! when it comes back (phones carry its bundles meanwhile); a poll not signed by the lock
//! is refused with a typed error.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyway_lock::online::{LinkState, OnlineLink, OnlineOptions};
use keyway_lock::testkit::memory_lock;
use keyway_lock::{Lock, ManualRtc, MemoryStorage};
use keyway_protocol::Refusal;
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::DoorId;
use keyway_protocol::lock_link::LinkRequest;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The delay docs/backend.md promises for a change to reach a connected lock (it takes
/// well under a second here; the bound leaves room for a loaded machine).
const ONLINE_DELAY: Duration = Duration::from_secs(5);

/// Waits until `check` holds (re-checked every 50 ms), at most `limit`.
async fn until<F, Fut>(limit: Duration, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn b64d(v: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(v.as_str().unwrap()).unwrap()
}

/// A site with one internet-connected door fitted with a reference lock, and a key for it.
struct OnlineScene {
    fx: Fixture,
    lock: Arc<Mutex<Lock>>,
    door: i64,
}

async fn scene(s: &Server, seed: u8) -> OnlineScene {
    let org = s.admin("POST", "/v1/admin/orgs", Some(json!({ "name": "Riverside Flats" }))).await.ok()["id"]
        .as_i64()
        .unwrap();
    let site = s.admin("POST", &format!("/v1/admin/orgs/{org}/sites"), Some(json!({ "name": "Main" }))).await.ok();
    let anchor = b64d(&site["issuer_public_key"]);
    let facility = s
        .admin("POST", &format!("/v1/admin/sites/{}/facilities", site["id"]), Some(json!({ "name": "Lobby" })))
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let lock_id = DoorId([0x0d, seed, 0, 0, 0, 0, 0, 1]);
    let rtc = ManualRtc::new(u32::try_from(s.now()).unwrap());
    let lock = memory_lock(MemoryStorage::new(), lock_id, &anchor, &rtc, u64::from(seed));
    let door = add_door(
        s,
        facility,
        json!({
            "name": "Front door",
            "lock_id": lock_id.to_hex(),
            "lock_public_key": URL_SAFE_NO_PAD.encode(lock.public_key()),
            "lock_signing_public_key": URL_SAFE_NO_PAD.encode(lock.signing_public_key()),
            "online": true,
        }),
    )
    .await;
    let key = add_key(s, facility, "Residents", &[door]).await;
    let placeholder = MemoryLock::trusting(DoorId([0; 8]), &anchor);
    let fx = Fixture {
        org,
        site: site["id"].as_i64().unwrap(),
        issuer_public_key: anchor.clone(),
        facility,
        offline_door: door,
        online_door: door,
        offline_lock: placeholder,
        online_lock: MemoryLock::trusting(DoorId([0; 8]), &anchor),
        key,
    };
    OnlineScene { fx, lock: Arc::new(Mutex::new(lock)), door }
}

fn link(lock: &Arc<Mutex<Lock>>, backend: &str, ca_pem: &str) -> OnlineLink {
    let mut options = OnlineOptions::new(backend);
    options.extra_roots_pem = Some(ca_pem.as_bytes().to_vec());
    options.first_backoff = Duration::from_millis(100);
    options.max_backoff = Duration::from_millis(500);
    options.events_check = Duration::from_millis(100);
    OnlineLink::start(lock.clone(), options).unwrap()
}

async fn door_view(s: &Server, sc: &OnlineScene) -> Value {
    let doors = s.admin("GET", &format!("/v1/admin/orgs/{}/doors", sc.fx.org), None).await.ok();
    doors.as_array().unwrap().iter().find(|d| d["id"] == sc.door).unwrap().clone()
}

/// A member with a credential for the door: their phone, session and credential bytes.
async fn resident(s: &Server, sc: &OnlineScene, email: &str) -> (TestPhone, Value, Vec<u8>) {
    let phone = TestPhone::new();
    let tokens = member(s, &sc.fx, email, &phone).await;
    let credential = b64d(&credentials(s, &tokens).await[0]["credential"]);
    (phone, tokens, credential)
}

fn unlock(sc: &OnlineScene, phone: &TestPhone, credential: &[u8]) -> Result<(), Refusal> {
    phone.unlock(&mut *sc.lock.lock().unwrap(), credential).outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_door_revocation_reaches_the_lock_within_seconds_and_the_member_is_refused_with_no_phone_involved() {
    let s = Server::start().await;
    let sc = scene(&s, 1).await;
    let (ana, ana_tokens, ana_credential) = resident(&s, &sc, "ana@example.com").await;
    let (_ben, ben_tokens, _) = resident(&s, &sc, "ben@example.com").await;

    let link = link(&sc.lock, &s.base, s.ca_pem());
    link.wait_for(ONLINE_DELAY, |st| st.state == LinkState::Connected && st.bundles_applied >= 1)
        .await
        .expect("connected");
    until(ONLINE_DELAY, "the door shows online", || async { door_view(&s, &sc).await["online"] == true }).await;
    let view = door_view(&s, &sc).await;
    assert_eq!(view["internet"], true);
    assert_eq!(view["sync_pending"], false, "{view}");
    // Phones carry nothing to a connected door.
    s.send("GET", &format!("/v1/doors/{}/bundle", sc.door), Some(&bearer(&ben_tokens)), None)
        .await
        .err(409, "door_online");

    assert_eq!(unlock(&sc, &ana, &ana_credential), Ok(()));
    // Her unlock reaches the door's history through the link (no phone uploads a receipt).
    until(ONLINE_DELAY, "the unlock is in the door's history", || async {
        let events = s.admin("GET", &format!("/v1/admin/doors/{}/events", sc.door), None).await.ok();
        events.as_array().unwrap().iter().any(|e| e["kind"] == "granted")
    })
    .await;

    // The operator revokes Ana. Nobody's phone goes near the door.
    let applied_before = link.status().bundles_applied;
    let started = Instant::now();
    s.admin("POST", &format!("/v1/admin/orgs/{}/people/{}/revoke-all", sc.fx.org, ana_tokens["person_id"]), None)
        .await
        .ok();
    link.wait_for(ONLINE_DELAY, |st| st.bundles_applied > applied_before).await.expect("the revocation arrives");
    let took = started.elapsed();
    let credential_id = Credential::from_bytes(&ana_credential).unwrap().body.id;
    assert!(sc.lock.lock().unwrap().is_revoked(&credential_id));
    assert_eq!(unlock(&sc, &ana, &ana_credential), Err(Refusal::Revoked));
    assert!(took < ONLINE_DELAY, "the revocation took {took:?}");
    // The lock's receipt came back on the link: the door is synced at the new version.
    until(ONLINE_DELAY, "the door shows the lock's version", || async {
        let v = door_view(&s, &sc).await;
        v["synced_version"] == v["bundle_version"]
    })
    .await;
}

/// A TCP relay in front of the backend that can cut every connection (the lock's internet
/// goes down) and come back on the same port.
struct Relay {
    port: u16,
    backend: std::net::SocketAddr,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    async fn start(backend: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut relay = Self { port, backend, running: None };
        relay.running = Some(tokio::spawn(Self::serve(listener, backend)));
        relay
    }

    async fn serve(listener: TcpListener, backend: std::net::SocketAddr) {
        let mut connections = JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            connections.spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    }

    /// Every connection through the relay drops, and no new one gets through.
    fn cut(&mut self) {
        if let Some(task) = self.running.take() {
            task.abort();
        }
    }

    async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.running = Some(tokio::spawn(Self::serve(listener, self.backend)));
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_door_lock_cut_off_falls_back_to_phones_and_catches_up_on_every_change_when_back() {
    let s = Server::start().await;
    let sc = scene(&s, 2).await;
    let (ana, ana_tokens, ana_credential) = resident(&s, &sc, "ana@example.com").await;
    let (cy, cy_tokens, cy_credential) = resident(&s, &sc, "cy@example.com").await;
    let (_ben, ben_tokens, _) = resident(&s, &sc, "ben@example.com").await;
    let mut relay = Relay::start(s.running.addr).await;
    let link = link(&sc.lock, &relay.url(), s.ca_pem());
    link.wait_for(ONLINE_DELAY, |st| st.state == LinkState::Connected).await.expect("connected");

    // The lock's internet goes down; the link notices and keeps trying.
    relay.cut();
    link.wait_for(Duration::from_secs(60), |st| matches!(st.state, LinkState::Offline { .. }))
        .await
        .expect("the link sees it is offline");
    let version_when_cut = sc.lock.lock().unwrap().bundle_version();

    // Meanwhile: Ana and Cy are revoked, and the door's unlock time changes.
    let org = sc.fx.org;
    for tokens in [&ana_tokens, &cy_tokens] {
        s.admin("POST", &format!("/v1/admin/orgs/{org}/people/{}/revoke-all", tokens["person_id"]), None).await.ok();
    }
    s.admin("POST", &format!("/v1/admin/doors/{}/config", sc.door), Some(json!({ "unlock_ms": 9000 }))).await.ok();
    assert_eq!(sc.lock.lock().unwrap().bundle_version(), version_when_cut, "nothing reached the lock");

    // Once the lock has stayed away past the grace period, the door reads offline and a
    // phone would carry its bundle, as for any door without internet.
    until(Duration::from_secs(60), "the door falls back to phone couriers", || async {
        let v = door_view(&s, &sc).await;
        v["online"] == false && v["sync_pending"] == true
    })
    .await;
    let carried = s.send("GET", &format!("/v1/doors/{}/bundle", sc.door), Some(&bearer(&ben_tokens)), None).await;
    assert!(carried.status.is_success(), "{:?}", carried.body);

    // The internet comes back: every change arrives, with no phone involved.
    relay.restore().await;
    let target = door_view(&s, &sc).await["bundle_version"].as_u64().unwrap();
    until(Duration::from_secs(30), "the lock catches up", || async {
        u64::from(sc.lock.lock().unwrap().bundle_version()) >= target
    })
    .await;
    assert_eq!(unlock(&sc, &ana, &ana_credential), Err(Refusal::Revoked));
    assert_eq!(unlock(&sc, &cy, &cy_credential), Err(Refusal::Revoked));
    assert_eq!(sc.lock.lock().unwrap().config().unlock_duration_ms, 9000);
    until(ONLINE_DELAY, "the door is online again", || async { door_view(&s, &sc).await["online"] == true }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_door_poll_not_signed_by_the_lock_is_refused_and_a_replayed_one_too() {
    let s = Server::start().await;
    let sc = scene(&s, 3).await;
    let (door, lock_id) = {
        let lock = sc.lock.lock().unwrap();
        (lock.door(), lock.door().to_hex())
    };
    let challenge =
        || async { b64d(&s.post(&format!("/v1/locks/{lock_id}/challenge"), json!({})).await.ok()["challenge"]) };
    let poll = |challenge: &[u8], signature: [u8; 64]| {
        json!({
            "challenge": URL_SAFE_NO_PAD.encode(challenge),
            "after_version": 1,
            "wait_seconds": 0,
            "signature": URL_SAFE_NO_PAD.encode(signature),
        })
    };
    fn request(door: DoorId, challenge: &[u8]) -> LinkRequest<'_> {
        LinkRequest { door, challenge, after_version: 1, receipt: None }
    }
    let path = format!("/v1/locks/{lock_id}/link");

    // Someone with another lock's key (a lock of their own) signs a poll for this door.
    let rtc = ManualRtc::new(u32::try_from(s.now()).unwrap());
    let impostor = memory_lock(MemoryStorage::new(), door, &sc.fx.issuer_public_key, &rtc, 99);
    let c = challenge().await;
    let forged = impostor.sign_link_request(&request(door, &c));
    s.post(&path, poll(&c, forged)).await.err(401, "link_signature_invalid");
    // A challenge the backend never made is refused before any signature is checked.
    let mut made_up = c.clone();
    made_up[10] ^= 1;
    let signed = sc.lock.lock().unwrap().sign_link_request(&request(door, &made_up));
    s.post(&path, poll(&made_up, signed)).await.err(401, "link_challenge_invalid");

    // The lock's own poll is answered (nothing newer than version 1? the first bundle is).
    let c = challenge().await;
    let signed = sc.lock.lock().unwrap().sign_link_request(&request(door, &c));
    let answer = s.post(&path, poll(&c, signed)).await.ok();
    assert!(answer["next_challenge"]["challenge"].is_string());
    // The same request again is a replay.
    s.post(&path, poll(&c, signed)).await.err(409, "link_challenge_used");
    // A lock id no door has.
    let c = challenge().await;
    let other = DoorId([0xee; 8]).to_hex();
    s.post(&format!("/v1/locks/{other}/link"), poll(&c, signed)).await.err(404, "not_found");
}
