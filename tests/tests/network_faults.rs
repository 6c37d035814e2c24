//! A bad network between the phone and the backend: refused connections, answers cut
//! off, answers too slow, 5xx, malformed JSON, the wrong content type, endless bodies.
//! Each is a typed error a screen can act on; reads and refreshes are retried, writes
//! are not; the keys keep opening doors; and no lock receipt is lost or stored twice.
//!
//! The faults come from a proxy on loopback in front of the real backend
//! (`keyway_sandbox::fault_proxy`).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use keyway_core::Error;
use keyway_core::api::MAX_RESPONSE_BYTES;
use keyway_core::listeners::SessionState;
use keyway_core::platform::MemoryStore;
use keyway_sandbox::fault_proxy::{FaultKind, FaultProxy};
use keyway_sandbox::wait;
use keyway_sandbox::world::{AuditCheck, DAY, Gym, HOUR, Phone, T0, World};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The phone gives each HTTP call this long: every call of these tests goes through it,
/// so it is generous enough for a loaded two-core machine (one second was not).
const TIMEOUT: Duration = Duration::from_secs(3);
/// A slow answer takes this long: well beyond the timeout.
const SLOW: Duration = Duration::from_secs(6);
/// The core's back-off between the three attempts of a read (100 ms, then 300 ms).
const BACK_OFF: Duration = Duration::from_millis(400);

struct Scene {
    world: World,
    gym: Gym,
    proxy: FaultProxy,
    phone: Phone,
    _dir: tempfile::TempDir,
    cache: std::path::PathBuf,
}

/// Ana, signed in through the proxy, with her key; Bob revoked, so the gate is behind.
async fn scene() -> Scene {
    let world = World::start().await;
    let gym = world.gym().await;
    let bob = world.invite(&gym.org, "bob@example.com", gym.key, None, T0 + 30 * DAY).await;
    let bob_phone = world.phone();
    bob_phone.accept_invitation(&world, "bob@example.com").await;
    bob_phone.keyway.unlock(&gym.gate.lock_id).await.unwrap();
    world.invite(&gym.org, "ana@example.com", gym.key, None, T0 + 30 * DAY).await;
    let proxy = FaultProxy::start(&world, SLOW).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("keys.sqlite");
    let phone = world.phone_at(&proxy.base_url, TIMEOUT, Some(cache.clone()), Arc::new(MemoryStore::new()));
    phone.accept_invitation(&world, "ana@example.com").await;
    phone.keyway.refresh().await.unwrap();
    world.revoke_all(&gym.org, bob.person_id).await;
    Scene { world, gym, proxy, phone, _dir: dir, cache }
}

fn receipts_waiting(cache: &Path) -> i64 {
    let conn = rusqlite::Connection::open(cache).unwrap();
    conn.query_row("SELECT COUNT(*) FROM receipt_outbox", [], |r| r.get(0)).unwrap()
}

/// What a screen is told for each fault, when every attempt meets it.
fn expected_error(kind: FaultKind) -> fn(&Error) -> bool {
    match kind {
        FaultKind::Refused | FaultKind::ResetMidAnswer | FaultKind::Slow => |e| *e == Error::Offline,
        FaultKind::Unavailable | FaultKind::ServerError => |e| *e == Error::ServiceUnavailable,
        FaultKind::MalformedJson | FaultKind::WrongContentType | FaultKind::HugeBody => {
            |e| matches!(e, Error::Internal { .. })
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_network_fault_is_a_typed_error_and_the_keys_keep_opening_the_door() {
    let s = scene().await;
    for kind in FaultKind::ALL {
        // Every attempt at the profile meets the fault (the first and both retries).
        s.proxy.arm(kind, "/v1/me", 3).await;
        let started = Instant::now();
        let error = s.phone.keyway.refresh().await.expect_err("a refresh through a fault fails");
        let took = started.elapsed();
        s.proxy.clear().await;
        println!("network fault {kind:?}: {error:?} after {} ms", took.as_millis());
        assert!(expected_error(kind)(&error), "{kind:?} surfaced as {error:?}");
        // A hang is bounded: three attempts of one timeout each, plus the back-off (and
        // room for a loaded machine, not for a fourth attempt).
        assert!(took < 3 * TIMEOUT + BACK_OFF + TIMEOUT / 2, "{kind:?} took {took:?}");
        assert_eq!(s.phone.keyway.session_state(), SessionState::SignedIn, "{kind:?} signed the person out");
        // Offline-first: the door still opens from what the phone holds.
        s.phone.keyway.unlock(&s.gym.gate.lock_id).await.unwrap();
        s.phone.keyway.refresh().await.unwrap();
    }
    // The endless body was cut off near the cap, not read to the end of the world.
    let sent = s.proxy.huge_bytes_sent();
    println!("network fault HugeBody: {sent} bytes of an endless answer sent before the phone hung up");
    assert!(sent < 16 * MAX_RESPONSE_BYTES as u64, "{sent} bytes of an endless answer went out");
    // A door sync hands the lock's whole log in.
    assert!(s.phone.keyway.sync_door(&s.gym.gate.lock_id).await.unwrap().receipt_delivered);
    assert_eq!(s.world.audit_check(&s.gym.gate).await, AuditCheck::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_whose_answer_is_cut_off_is_retried_and_a_receipt_upload_is_left_to_the_outbox() {
    let s = scene().await;
    s.proxy.arm(FaultKind::ResetMidAnswer, "/v1/me", 1).await;
    s.phone.keyway.refresh().await.expect("a read cut off once is retried");
    assert_eq!(s.proxy.injected(), vec![FaultKind::ResetMidAnswer]);

    // A 503 from a gateway is retried too.
    s.proxy.arm(FaultKind::Unavailable, "/v1/me/keys", 2).await;
    s.phone.keyway.refresh().await.expect("two 503s and then an answer");

    // A write is not repeated inside the call: the receipt stays in the outbox.
    s.phone.keyway.unlock(&s.gym.gate.lock_id).await.unwrap();
    // (The unlock carried the new bundle; its receipt goes out in the background.)
    wait::until("the unlock's receipt to be handed in", || receipts_waiting(&s.cache) == 0).await;
    let receipts = format!("/v1/doors/{}/receipts", s.gym.gate.backend_id);
    // Two uploads meet it: the door sync's own, and the one it starts in the background.
    let faults_before = s.proxy.injected().len();
    s.proxy.arm(FaultKind::ResetMidAnswer, &receipts, 2).await;
    let outcome = s.phone.keyway.sync_door(&s.gym.gate.lock_id).await.unwrap();
    assert!(!outcome.receipt_delivered);
    // The background upload may still be on its way: the next one must not race it for
    // the second fault. Wait until both have met their fault.
    wait::until("both uploads to meet their fault", || s.proxy.injected().len() == faults_before + 2).await;
    assert_eq!(receipts_waiting(&s.cache), 1);
    assert_eq!(s.phone.keyway.upload_receipts().await.unwrap(), 1);
    assert_eq!(receipts_waiting(&s.cache), 0);
    // The backend took in the cut-off receipt once, and again on the retry: stored once.
    assert_eq!(s.world.audit_check(&s.gym.gate).await, AuditCheck::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_refresh_answer_does_not_sign_the_person_out() {
    let s = scene().await;
    // The access token expires; the backend rotates the refresh token, but the answer is
    // lost on the way back. The core asks again; within its grace the backend answers
    // the same successor.
    s.world.advance(HOUR);
    s.proxy.arm(FaultKind::ResetMidAnswer, "/v1/auth/refresh", 1).await;
    s.phone.keyway.refresh().await.expect("the refresh is asked again");
    assert_eq!(s.phone.keyway.session_state(), SessionState::SignedIn);

    // Every attempt lost: offline, still signed in, and the next refresh (within the
    // grace) works.
    s.world.advance(HOUR);
    s.proxy.arm(FaultKind::ResetMidAnswer, "/v1/auth/refresh", 3).await;
    assert_eq!(s.phone.keyway.refresh().await.unwrap_err(), Error::Offline);
    s.world.advance(10);
    s.phone.keyway.refresh().await.expect("signed in still");
    assert_eq!(s.phone.keyway.session_state(), SessionState::SignedIn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_reach_the_backend_exactly_once_through_every_kind_of_fault() {
    let s = scene().await;
    let receipts = format!("/v1/doors/{}/receipts", s.gym.gate.backend_id);
    let rounds = 3;
    for _ in 0..rounds {
        for kind in FaultKind::ALL {
            s.proxy.arm(kind, &receipts, u32::MAX).await;
            // Each door sync leaves a receipt the lock signed; none can be handed in.
            let outcome = s.phone.keyway.sync_door(&s.gym.gate.lock_id).await.unwrap();
            assert!(!outcome.receipt_delivered, "{kind:?}: a receipt went through the fault");
            s.phone.keyway.unlock(&s.gym.gate.lock_id).await.unwrap();
            let error = s.phone.keyway.upload_receipts().await.expect_err("uploads fail while the fault lasts");
            assert!(expected_error(kind)(&error), "{kind:?} surfaced as {error:?}");
            // Keys and revocations still come through; the receipts wait.
            if kind != FaultKind::Refused {
                s.phone.keyway.refresh().await.unwrap();
            }
            assert!(receipts_waiting(&s.cache) > 0, "{kind:?}: the outbox lost its receipts");
            s.proxy.clear().await;
            s.world.advance(60);
        }
    }
    // The network heals: everything goes out, and the backend holds every event once.
    s.phone.keyway.upload_receipts().await.unwrap();
    assert!(s.phone.keyway.sync_door(&s.gym.gate.lock_id).await.unwrap().receipt_delivered);
    assert_eq!(receipts_waiting(&s.cache), 0);
    let audit = s.world.audit_check(&s.gym.gate).await;
    let (lost, invented) = (audit.lost, audit.invented);
    let injected = s.proxy.injected();
    let mut by_kind: BTreeMap<FaultKind, usize> = BTreeMap::new();
    for kind in &injected {
        *by_kind.entry(*kind).or_default() += 1;
    }
    println!(
        "network faults: {} faulty requests over {} kinds ({by_kind:?}), {} receipts made, events lost {lost}, \
         invented {invented}, receipts left {}",
        injected.len(),
        by_kind.len(),
        rounds * FaultKind::ALL.len(),
        receipts_waiting(&s.cache)
    );
    assert_eq!(by_kind.len(), FaultKind::ALL.len(), "every kind was injected");
    assert_eq!(audit, AuditCheck::default(), "audit events lost, invented or held back");
}
