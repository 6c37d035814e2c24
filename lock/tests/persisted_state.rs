//! The state file: every lock state round-trips through its encoding, damage is detected
//! rather than read as a blank lock, and the file is private to the lock's user.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use keyway_lock::audit::{AuditLog, REFUSALS_PER_WINDOW, RefusalBudget, RefusalTally};
use keyway_lock::identity::Identity;
use keyway_lock::revocations::RevocationSet;
use keyway_lock::state::{LockState, TrustAnchor};
use keyway_lock::tickets::{TICKET_CAPACITY, TicketTable};
use keyway_lock::{FileStorage, LockError, MemoryStorage, SeededRandom, Storage, persist};
use keyway_protocol::Refusal;
use keyway_protocol::bundle::{LockConfig, Revocation};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId, TicketId};
use keyway_protocol::lock_role::{TicketEntry, TicketHolder};
use keyway_protocol::receipt::{AuditEvent, AuditKind};
use proptest::prelude::*;
use zeroize::Zeroizing;

fn identity(seed: u64, door: [u8; 8]) -> Identity {
    Identity::generate(DoorId(door), &mut SeededRandom::new(seed)).unwrap()
}

fn credential_id() -> impl Strategy<Value = CredentialId> {
    any::<[u8; 16]>().prop_map(CredentialId)
}

fn audit_kind() -> impl Strategy<Value = AuditKind> {
    prop_oneof![
        any::<bool>().prop_map(|fast| AuditKind::Granted { fast }),
        (0..Refusal::ALL.len()).prop_map(|i| AuditKind::Refused(Refusal::ALL[i])),
        any::<u32>().prop_map(|version| AuditKind::BundleApplied { version }),
        ((0..Refusal::ALL.len()), 1..=keyway_protocol::receipt::MAX_COALESCED_COUNT)
            .prop_map(|(i, count)| AuditKind::RefusalsCoalesced { reason: Refusal::ALL[i], count }),
        any::<u32>().prop_map(|previous| AuditKind::ClockReset { previous }),
    ]
}

fn refusal_budget() -> impl Strategy<Value = RefusalBudget> {
    (
        any::<u32>(),
        0..=REFUSALS_PER_WINDOW,
        prop::collection::btree_map(
            0..Refusal::ALL.len(),
            (any::<u32>(), 1..=keyway_protocol::receipt::MAX_COALESCED_COUNT),
            0..4,
        ),
    )
        .prop_map(|(window_start, recorded, tallies)| RefusalBudget {
            window_start,
            recorded,
            tallies: tallies
                .into_iter()
                .map(|(i, (first, count))| RefusalTally { reason: Refusal::ALL[i], first, count })
                .collect(),
        })
}

fn audit_log() -> impl Strategy<Value = AuditLog> {
    (
        0u64..1_000_000,
        prop::collection::vec((1u64..5, any::<u32>(), audit_kind(), prop::option::of(credential_id())), 0..40),
        1u64..5,
        refusal_budget(),
    )
        .prop_map(|(acknowledged, steps, gap, budget)| {
            let mut seq = acknowledged;
            let events: Vec<AuditEvent> = steps
                .into_iter()
                .map(|(step, time, kind, credential)| {
                    seq += step;
                    AuditEvent { seq, time, kind, credential }
                })
                .collect();
            AuditLog::from_parts(events, seq + gap, acknowledged).unwrap().with_budget(budget).unwrap()
        })
}

fn ticket_table() -> impl Strategy<Value = TicketTable> {
    let entry = (
        any::<[u8; 16]>(),
        any::<[u8; 32]>(),
        credential_id(),
        prop::option::of(credential_id()),
        any::<[u8; 8]>(),
        (any::<u32>(), any::<u32>(), any::<u32>()),
        0u8..8,
    );
    prop::collection::vec(entry, 0..TICKET_CAPACITY + 8).prop_map(|entries| {
        let mut table = TicketTable::new();
        for (id, secret, credential, parent, issuer, (not_before, not_after, issued), holder) in entries {
            let secret = Zeroizing::new(secret);
            let issuer = KeyId(issuer);
            table.insert(
                TicketId(id),
                TicketEntry {
                    secret,
                    credential,
                    parent,
                    issuer,
                    not_before,
                    not_after,
                    holder: TicketHolder([holder; 16]),
                },
                issued,
            );
        }
        table
    })
}

fn lock_state() -> impl Strategy<Value = LockState> {
    (
        (any::<u64>(), any::<[u8; 8]>(), prop::collection::vec(any::<u64>(), 0..4)),
        (any::<u32>(), any::<u16>(), any::<bool>(), any::<u32>()),
        prop::collection::vec((credential_id(), any::<u32>()), 0..50),
        ticket_table(),
        audit_log(),
        (any::<i64>(), any::<bool>()),
        (
            prop::option::of(any::<[u8; 32]>()),
            prop::collection::btree_map(any::<u32>(), (any::<u32>(), any::<u32>()), 0..20),
            (any::<u32>(), any::<u32>(), any::<u32>()),
        ),
    )
        .prop_map(
            |(
                (seed, door, anchor_seeds),
                (bundle_version, ms, fast, floor),
                revoked,
                tickets,
                audit,
                (rtc_correction, full_bundle_needed),
                (doorcode_secret, slots, (wrong_in_row, lockouts, locked_until)),
            )| {
                let anchors: Vec<TrustAnchor> = anchor_seeds
                    .iter()
                    .map(|s| TrustAnchor::new(&identity(*s, [0; 8]).signing_public_key()).unwrap())
                    .collect();
                let mut state = LockState::provisioned(identity(seed, door), &anchors, floor);
                state.bundle_version = bundle_version;
                state.config = LockConfig { unlock_duration_ms: ms, fast_unlock: fast };
                state.revocations = revoked
                    .into_iter()
                    .map(|(credential, expires)| Revocation { credential, expires })
                    .collect::<RevocationSet>();
                state.tickets = tickets;
                state.audit = audit;
                state.rtc_correction = rtc_correction;
                state.full_bundle_needed = full_bundle_needed;
                state.doorcode_secret = doorcode_secret.map(keyway_protocol::doorcode::DoorcodeSecret);
                for (slot, (a, b)) in slots {
                    state.doorcode_slots.insert(keyway_protocol::bundle::DoorcodeGrant {
                        slot: keyway_protocol::doorcode::DoorcodeSlot(slot),
                        not_before: a.min(b),
                        not_after: a.max(b),
                    });
                }
                state.keypad = keyway_lock::keypad::KeypadGuard { wrong_in_row, lockouts, locked_until };
                state.anchor_set_version = bundle_version.rotate_left(7);
                state
            },
        )
}

proptest! {
    // A fixed seed and no failure files: the same cases on every run and every machine.
    #![proptest_config(ProptestConfig {
        cases: 64,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6b65_7977),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_lock_state_round_trips_through_the_state_file_encoding(state in lock_state()) {
        let bytes = persist::encode(&state);
        prop_assert_eq!(persist::decode(&bytes).unwrap(), state);
    }

    #[test]
    fn a_damaged_state_file_is_detected(state in lock_state(), position in any::<prop::sample::Index>(), bit in 0u8..8) {
        let bytes = persist::encode(&state);
        let mut damaged = bytes.to_vec();
        let i = position.index(damaged.len());
        damaged[i] ^= 1 << bit;
        prop_assert!(persist::decode(&damaged).is_err());
        prop_assert!(persist::decode(&bytes[..i]).is_err());
    }

    #[test]
    fn every_lock_state_round_trips_through_the_file_storage(state in lock_state()) {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = FileStorage::new(dir.path().join("lock.state"));
        storage.save(&persist::encode(&state)).unwrap();
        let loaded = storage.load().unwrap().unwrap();
        prop_assert_eq!(persist::decode(&loaded).unwrap(), state);
    }
}

#[test]
fn state_file_is_readable_by_the_lock_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut storage = FileStorage::new(dir.path().join("lock.state"));
    storage.save(b"secret").unwrap();
    let mode = std::fs::metadata(storage.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn lock_with_a_damaged_state_file_refuses_to_start_rather_than_start_blank() {
    let site = common::Site::new();
    let door = common::TestLock::new(&site);
    let storage: MemoryStorage = door.storage.clone();
    drop(door);
    let mut bytes = storage.bytes().unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    storage.set_bytes(Some(bytes));
    let provisioning = keyway_lock::Provisioning { door: common::DOOR, trust_anchors: vec![site.anchor()] };
    let result = keyway_lock::Lock::open_or_provision(Box::new(storage), &provisioning, Default::default());
    assert!(matches!(result, Err(LockError::Corrupt(_))));
}

#[test]
fn unprovisioned_storage_does_not_open() {
    let result = keyway_lock::Lock::open(Box::new(MemoryStorage::new()), Default::default());
    assert!(matches!(result, Err(LockError::NotProvisioned)));
}

#[test]
fn provisioning_generates_distinct_keys_from_the_os_random_source() {
    let site = common::Site::new();
    let provisioning = keyway_lock::Provisioning { door: common::DOOR, trust_anchors: vec![site.anchor()] };
    let a = keyway_lock::Lock::open_or_provision(Box::new(MemoryStorage::new()), &provisioning, Default::default())
        .unwrap();
    let b = keyway_lock::Lock::open_or_provision(Box::new(MemoryStorage::new()), &provisioning, Default::default())
        .unwrap();
    assert_ne!(a.public_key(), b.public_key());
    assert_ne!(a.public_key(), a.signing_public_key());
}

#[test]
fn a_bad_trust_anchor_is_refused_at_provisioning() {
    let provisioning = keyway_lock::Provisioning { door: common::DOOR, trust_anchors: vec![vec![4; 65]] };
    let result =
        keyway_lock::Lock::open_or_provision(Box::new(MemoryStorage::new()), &provisioning, Default::default());
    assert!(matches!(result, Err(LockError::BadTrustAnchor)));
}

#[test]
fn a_format_1_state_file_still_opens_after_the_update() {
    use sha2::{Digest, Sha256};
    // A format-3 file of a state with nothing formats 2 and 3 added, cut back to format 1:
    // the 15 bytes of doorcode section (no secret, no slots, a zero guess counter) and the
    // 18 bytes of refusal budget, RTC correction and flag go, the format byte says 1.
    let state = LockState::provisioned(identity(5, [1; 8]), &[], 1_800_000_000);
    let v3 = persist::encode(&state);
    // (The 4 bytes of the anchor set version, format 4, go too.)
    let mut v1 = v3[..v3.len() - 32 - 4 - 15 - 18].to_vec();
    v1[6] = 1;
    let checksum = Sha256::digest(&v1);
    v1.extend_from_slice(&checksum);
    assert_eq!(persist::decode(&v1).unwrap(), state);
}

#[test]
fn a_format_2_state_file_opens_without_doorcodes_after_the_update() {
    use sha2::{Digest, Sha256};
    // A format-2 file is a format-3 file without the doorcode section: the lock then has
    // no doorcode secret, no slots and a zero guess counter.
    let state = LockState::provisioned(identity(5, [1; 8]), &[], 1_800_000_000);
    let v3 = persist::encode(&state);
    let mut v2 = v3[..v3.len() - 32 - 4 - 15].to_vec();
    v2[6] = 2;
    let checksum = Sha256::digest(&v2);
    v2.extend_from_slice(&checksum);
    let read = persist::decode(&v2).unwrap();
    assert_eq!(read, state);
    assert!(read.doorcode_secret.is_none() && read.doorcode_slots.is_empty());
}
