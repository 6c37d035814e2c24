//! Property tests: every wire type survives encode → decode unchanged, and decoding
//! arbitrary bytes never panics.
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_protocol::Refusal;
use keyway_protocol::advert::Advertisement;
use keyway_protocol::bundle::{
    Bundle, BundleBody, DoorcodeGrant, LockConfig, PrefixRevocation, Revocation, RevocationList,
};
use keyway_protocol::credential::{Credential, CredentialBody, CredentialFlags, DeviceKey, MAX_DOORS};
use keyway_protocol::doorcode::DoorcodeSlot;
use keyway_protocol::framing::{Reassembler, fragment};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId, LockNonce, SerialPrefix};
use keyway_protocol::receipt::{AuditEvent, AuditKind, Receipt, ReceiptBody};
use proptest::prelude::*;

fn door() -> impl Strategy<Value = DoorId> {
    any::<[u8; 8]>().prop_map(DoorId)
}
fn credential_id() -> impl Strategy<Value = CredentialId> {
    any::<[u8; 16]>().prop_map(CredentialId)
}
fn sig() -> impl Strategy<Value = [u8; 64]> {
    prop::collection::vec(any::<u8>(), 64).prop_map(|v| v.try_into().unwrap())
}

fn credential() -> impl Strategy<Value = Credential> {
    (
        credential_id(),
        any::<[u8; 8]>(),
        (any::<bool>(), any::<[u8; 32]>()),
        // A door appears at most once in a credential.
        prop::collection::btree_set(door(), 1..=MAX_DOORS).prop_map(|doors| doors.into_iter().collect::<Vec<_>>()),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
        prop::option::of(credential_id()),
        sig(),
    )
        .prop_map(|(id, issuer, (odd, x), doors, a, b, shareable, parent, signature)| {
            let mut key = [0u8; 33];
            key[0] = if odd { 3 } else { 2 };
            key[1..].copy_from_slice(&x);
            Credential {
                body: CredentialBody {
                    id,
                    issuer: KeyId(issuer),
                    device_key: DeviceKey(key),
                    doors,
                    not_before: a.min(b),
                    not_after: a.max(b),
                    flags: CredentialFlags { shareable: shareable && parent.is_none(), guest: parent.is_some() },
                    parent,
                },
                signature,
            }
        })
}

fn bundle() -> impl Strategy<Value = Bundle> {
    (
        door(),
        any::<[u8; 8]>(),
        (0u32..u32::MAX - 1, 1u32..1000),
        any::<u32>(),
        any::<u64>(),
        (any::<u16>(), any::<bool>()),
        prop::collection::vec((credential_id(), any::<u32>()), 0..50),
        prop::option::of(prop::collection::btree_map(any::<u32>(), (any::<u32>(), any::<u32>()), 0..20)),
        sig(),
    )
        .prop_map(|(door, issuer, (base, step), signed_time, ack, (ms, fast), revs, slots, signature)| Bundle {
            body: BundleBody {
                door,
                issuer: KeyId(issuer),
                version: base.saturating_add(step),
                base_version: base,
                signed_time,
                audit_acknowledged: ack,
                config: LockConfig { unlock_duration_ms: ms, fast_unlock: fast },
                revocations: RevocationList::Ids(
                    revs.into_iter().map(|(credential, expires)| Revocation { credential, expires }).collect(),
                ),
                doorcodes: slots.map(|slots| {
                    slots
                        .into_iter()
                        .map(|(slot, (a, b))| DoorcodeGrant {
                            slot: DoorcodeSlot(slot),
                            not_before: a.min(b),
                            not_after: a.max(b),
                        })
                        .collect()
                }),
            },
            signature,
        })
}

fn audit_kind() -> impl Strategy<Value = AuditKind> {
    prop_oneof![
        any::<bool>().prop_map(|fast| AuditKind::Granted { fast }),
        prop::sample::select(Refusal::ALL.to_vec()).prop_map(AuditKind::Refused),
        any::<u32>().prop_map(|version| AuditKind::BundleApplied { version }),
        (prop::sample::select(Refusal::ALL.to_vec()), 1..=keyway_protocol::receipt::MAX_COALESCED_COUNT)
            .prop_map(|(reason, count)| AuditKind::RefusalsCoalesced { reason, count }),
        any::<u32>().prop_map(|previous| AuditKind::ClockReset { previous }),
        any::<u32>().prop_map(|slot| AuditKind::DoorcodeGranted { slot }),
        (1u32..).prop_map(|consecutive| AuditKind::DoorcodeWrong { consecutive }),
        any::<u32>().prop_map(|seconds| AuditKind::KeypadLockedOut { seconds }),
    ]
}

fn receipt() -> impl Strategy<Value = Receipt> {
    (
        door(),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
        prop::collection::vec((1u64..1000, any::<u32>(), audit_kind(), prop::option::of(credential_id())), 0..40),
        sig(),
    )
        .prop_map(|(door, bundle_version, lock_clock, more_pending, raw, signature)| {
            let mut seq = 0;
            let events = raw
                .into_iter()
                .map(|(step, time, kind, credential)| {
                    seq += step;
                    AuditEvent { seq, time, kind, credential }
                })
                .collect();
            Receipt { body: ReceiptBody { door, bundle_version, lock_clock, more_pending, events }, signature }
        })
}

/// Format-3 entries in their canonical order: a few expiry groups, prefixes either close
/// together (serials) or anywhere in 64 bits (legacy random ids).
fn prefix_entries() -> impl Strategy<Value = Vec<PrefixRevocation>> {
    prop::collection::btree_set((0u32..6, prop_oneof![0u64..5_000, any::<u64>()]), 0..200).prop_map(|set| {
        set.into_iter()
            .map(|(e, p)| PrefixRevocation { expires: 1_800_000_000 + e * 3_600, prefix: SerialPrefix::from_u64(p) })
            .collect()
    })
}

fn bundle_v3() -> impl Strategy<Value = Bundle> {
    (bundle(), prefix_entries()).prop_map(|(mut b, entries)| {
        b.body.revocations = RevocationList::Prefixes(entries);
        b
    })
}

proptest! {
    #[test]
    fn format_3_bundle_round_trips(b in bundle_v3()) {
        let bytes = b.to_bytes();
        prop_assert_eq!(bytes[0], 3);
        prop_assert_eq!(Bundle::from_bytes(&bytes).unwrap(), b);
    }

    #[test]
    fn format_3_has_one_byte_form_whatever_the_order_or_repeats(b in bundle_v3()) {
        let mut shuffled = b.clone();
        if let RevocationList::Prefixes(entries) = &mut shuffled.body.revocations {
            let again: Vec<_> = entries.iter().rev().copied().collect();
            entries.reverse();
            entries.extend(again);
        }
        prop_assert_eq!(shuffled.to_bytes(), b.to_bytes());
    }

    #[test]
    fn credential_round_trips(c in credential()) {
        prop_assert_eq!(Credential::from_bytes(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn bundle_round_trips(b in bundle()) {
        prop_assert_eq!(Bundle::from_bytes(&b.to_bytes()).unwrap(), b);
    }

    #[test]
    fn receipt_round_trips(r in receipt()) {
        prop_assert_eq!(Receipt::from_bytes(&r.to_bytes()).unwrap(), r);
    }

    #[test]
    fn advertisement_round_trips(door in door(), nonce in any::<[u8; 8]>(), bundle_version in any::<u32>()) {
        let ad = Advertisement { door, nonce: LockNonce(nonce), bundle_version };
        let bytes = ad.to_bytes();
        prop_assert_eq!(bytes.len(), keyway_protocol::advert::ADVERT_LEN);
        prop_assert_eq!(Advertisement::from_bytes(&bytes).unwrap(), ad);
    }

    #[test]
    fn any_message_survives_fragmentation_at_any_mtu(
        message in prop::collection::vec(any::<u8>(), 1..3000),
        mtu in 23u16..=517,
    ) {
        let frames = fragment(&message, mtu).unwrap();
        prop_assert_eq!(frames.len(), keyway_protocol::framing::frame_count(message.len(), mtu));
        let mut r = Reassembler::new();
        let mut out = None;
        for (i, f) in frames.iter().enumerate() {
            prop_assert!(f.len() <= usize::from(mtu) - 3);
            let got = r.push(f).unwrap();
            prop_assert_eq!(got.is_some(), i == frames.len() - 1);
            out = out.or(got);
        }
        prop_assert_eq!(out.unwrap(), message);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Credential::from_bytes(&bytes);
        let _ = Bundle::from_bytes(&bytes);
        let _ = Receipt::from_bytes(&bytes);
        let _ = Advertisement::from_bytes(&bytes);
        let _ = Reassembler::new().push(&bytes);
    }

    #[test]
    fn a_lost_frame_is_detected(message in prop::collection::vec(any::<u8>(), 100..2000), skip in any::<prop::sample::Index>()) {
        let frames = fragment(&message, 23).unwrap();
        let skip = skip.index(frames.len());
        let mut r = Reassembler::new();
        let mut result = Ok(None);
        for (i, f) in frames.iter().enumerate() {
            if i == skip { continue; }
            result = r.push(f);
            if result.is_err() { break; }
        }
        // Either an error, or (when the last frame was lost) no message.
        prop_assert!(result.is_err() || result == Ok(None));
    }
}

#[test]
fn a_guest_key_cannot_be_shareable() {
    let mut body = CredentialBody {
        id: CredentialId([1; 16]),
        issuer: KeyId([2; 8]),
        device_key: DeviceKey([2; 33]),
        doors: vec![DoorId([3; 8])],
        not_before: 1,
        not_after: 2,
        flags: CredentialFlags { shareable: true, guest: true },
        parent: Some(CredentialId([4; 16])),
    };
    assert!(body.validate().is_err());
    body.flags.shareable = false;
    assert!(body.validate().is_ok());
}

#[test]
fn credential_naming_a_door_twice_is_malformed() {
    let mut body = CredentialBody {
        id: CredentialId([1; 16]),
        issuer: KeyId([2; 8]),
        device_key: DeviceKey([2; 33]),
        doors: vec![DoorId([3; 8]), DoorId([5; 8]), DoorId([3; 8])],
        not_before: 1,
        not_after: 2,
        flags: CredentialFlags::default(),
        parent: None,
    };
    assert!(body.validate().is_err());
    let bytes = Credential { body: body.clone(), signature: [0; 64] }.to_bytes();
    assert!(Credential::from_bytes(&bytes).is_err(), "the decoder refuses it too");
    body.doors.pop();
    assert!(body.validate().is_ok());
}

#[test]
fn guest_flag_without_parent_is_refused() {
    let c = Credential {
        body: CredentialBody {
            id: CredentialId([1; 16]),
            issuer: KeyId([2; 8]),
            device_key: DeviceKey([2; 33]),
            doors: vec![DoorId([3; 8])],
            not_before: 1,
            not_after: 2,
            flags: CredentialFlags { shareable: false, guest: true },
            parent: Some(CredentialId([4; 16])),
        },
        signature: [0; 64],
    };
    let mut bytes = c.to_bytes();
    // Clear the guest flag: the parent bytes are now trailing garbage.
    bytes[1] = 0;
    assert!(Credential::from_bytes(&bytes).is_err());
}

#[test]
fn bundle_claiming_more_revocations_than_it_holds_is_refused_without_allocating() {
    let mut bytes = Bundle {
        body: BundleBody {
            door: DoorId([1; 8]),
            issuer: KeyId([2; 8]),
            version: 2,
            base_version: 1,
            signed_time: 0,
            audit_acknowledged: 0,
            config: LockConfig::default(),
            revocations: RevocationList::Ids(vec![]),
            doorcodes: None,
        },
        signature: [0; 64],
    }
    .to_bytes();
    // The count sits right before the signature when there are no revocations.
    let at = bytes.len() - 64 - 4;
    bytes[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(Bundle::from_bytes(&bytes).is_err());
}

#[test]
fn a_keypad_format_receipt_without_a_keypad_event_is_refused_so_each_receipt_has_one_spelling() {
    let receipt = Receipt {
        body: ReceiptBody {
            door: DoorId(*b"gate0001"),
            bundle_version: 3,
            lock_clock: 9,
            more_pending: false,
            events: vec![],
        },
        signature: [7; 64],
    };
    let mut bytes = receipt.to_bytes();
    assert_eq!(bytes[0], 1, "no keypad event: format 1");
    assert_eq!(Receipt::from_bytes(&bytes).unwrap(), receipt);
    bytes[0] = 2;
    assert!(Receipt::from_bytes(&bytes).is_err(), "the same receipt spelt in format 2 is refused");
}
