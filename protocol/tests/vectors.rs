//! The published test vectors in `protocol/vectors/`: both roles must reproduce them
//! byte for byte. The generator is deterministic (labels hashed for "random" values,
//! RFC 6979 for every signature), so regenerating gives the same files:
//! `KEYWAY_WRITE_VECTORS=1 cargo test -p keyway-protocol --test vectors`
//! (new test keys as well only with `KEYWAY_NEW_ACTORS=1`). Without the variable, the
//! files are checked: the generator must produce them exactly, and every lock-side output
//! of every case must follow from the case's recorded state, messages and random values
//! alone (`replay`).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
mod vector_cases;

use common::*;
use keyway_protocol::bundle::{Bundle, BundleBody, LockConfig, Revocation, RevocationList};
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::{CredentialId, KeyId, LockNonce};
use keyway_protocol::issuer::{verify_bundle, verify_credential, verify_receipt};
use keyway_protocol::lock_role::{LockEvent, LockSession, sign_receipt};
use keyway_protocol::phone::{FastTicket, LockTarget, StandardUnlock, fast_unlock};
use keyway_protocol::receipt::{AuditEvent, AuditKind, ReceiptBody};
use keyway_protocol::{Command, Refusal};
use p256::ecdsa::SigningKey;
use serde_json::{Value, json};
use vector_cases::lock_json::snapshot;
use vector_cases::{
    Actors, VECTOR_DOOR, VECTOR_NOW, det, fixed, handshakes, hx, load, sign, sign_bundle_with, write_or_compare,
};

#[test]
fn credential_vector() {
    let actors = Actors::get();
    let credential = handshakes::member(&actors);
    let encoded = credential.to_bytes();
    let b = &credential.body;
    let issuer_public = vector_cases::uncompressed(&actors.issuer_key());
    let v = json!({
        "description": "A one-door member credential. `encoded` is body ‖ signature; the signature covers \"keyway/credential/v1\\0\" ‖ body (RFC 6979, so it is reproducible).",
        "issuer_public_key": hex::encode(&issuer_public),
        "id": b.id.to_hex(),
        "issuer_key_id": b.issuer.to_hex(),
        "device_key_compressed": hex::encode(b.device_key.0),
        "doors": [VECTOR_DOOR.to_hex()],
        "not_before": b.not_before,
        "not_after": b.not_after,
        "shareable": true,
        "guest": false,
        "signature": hex::encode(credential.signature),
        "encoded": hex::encode(&encoded),
        "encoded_len": encoded.len(),
    });
    write_or_compare("credential.json", &v);
    let recorded = load("credential.json");
    assert_eq!(Credential::from_bytes(&hx(&recorded, "encoded")).unwrap(), credential);
    assert!(encoded.len() <= 200);
    verify_credential(&hx(&recorded, "issuer_public_key"), &credential).unwrap();
    assert_eq!(KeyId::of_public_key(&hx(&recorded, "issuer_public_key")), b.issuer);
}

/// The standard unlock and door sync of `standard_unlock.json`, from a freshly
/// provisioned lock; returns the vector, the lock afterwards and the phone's ticket.
fn standard_unlock(actors: &Actors) -> (Value, MemoryLock, FastTicket) {
    let credential = handshakes::member(actors);
    let lock_nonce = LockNonce(det("standard_unlock/advertised nonce"));
    let ephemeral: [u8; 32] = det("standard_unlock/phone ephemeral secret");
    let mut lock = actors.lock(VECTOR_DOOR, lock_nonce, VECTOR_NOW);
    lock.floor = VECTOR_NOW - 86_400;
    lock.rng_seed = "standard_unlock".into();
    let before = snapshot(&lock, VECTOR_NOW);
    let target = LockTarget { door: VECTOR_DOOR, lock_public_key: lock.public_key(), nonce: lock_nonce };

    // Phone: encapsulate, sign, seal.
    let unlock =
        StandardUnlock::begin(&target, &credential.to_bytes(), Command::Unlock, true, &fixed(&ephemeral)).unwrap();
    let signing_message = unlock.signing_message();
    let device_signature = sign(&actors.device_key(), &signing_message);
    let (awaiting, request) = unlock.finish(&device_signature);

    // Lock: open, verify, grant, answer.
    let mut session = LockSession::new();
    let out = lock.deliver_on(&mut session, &request);
    assert!(matches!(out.event, Some(LockEvent::Granted { fast: false, command: Command::Unlock, .. })));
    let response = out.reply.unwrap();
    let random = lock.drawn.clone();
    assert_eq!(random.len(), 3, "next nonce, response nonce, ticket id");

    // Phone: authenticate the answer.
    let (reply, mut channel) = awaiting.on_response(&response).unwrap();
    assert_eq!(reply.outcome, Ok(()));
    let ticket = reply.ticket.unwrap();
    assert_eq!(ticket.id.0[..], random[2][..]);

    // Door sync inside the channel: bundle → receipt.
    let bundle = vector_bundle(actors);
    let bundle_message = channel.deliver_bundle(&bundle.to_bytes()).unwrap();
    let out = lock.deliver_on(&mut session, &bundle_message);
    assert_eq!(out.event, Some(LockEvent::BundleApplied { version: 7 }));
    let sync_reply = out.reply.unwrap();
    let sync = channel.on_sync_reply(&sync_reply).unwrap();
    assert_eq!(sync.applied, Ok(()));
    verify_receipt(lock.signing.verifying_key().to_sec1_point(false).as_bytes(), &sync.receipt_bytes).unwrap();

    let v = json!({
        "description": "Standard unlock (HPKE base mode to the lock's static key) followed by a door sync in the secure channel, on one connection. Keys in actors.json. The lock starts as `lock_before`; its random values, in the order drawn, are `lock_random`: the next advertised nonce (at S2), the response nonce, the ticket id. The RTC reads `lock_clock` throughout; the bundle's signed time raises the effective clock (B6), so the receipt's clock is the signed time. The lock ends as `lock_after`, which is where fast_unlock.json starts.",
        "door": VECTOR_DOOR.to_hex(),
        "lock_nonce": lock_nonce.to_hex(),
        "lock_clock": VECTOR_NOW,
        "lock_kem_public_key": hex::encode(lock.public_key()),
        "lock_before": before,
        "credential": hex::encode(credential.to_bytes()),
        "command": "unlock",
        "want_ticket": true,
        "phone_ephemeral_secret": hex::encode(ephemeral),
        "device_signing_message": hex::encode(&signing_message),
        "device_signature": hex::encode(device_signature),
        "request": hex::encode(&request),
        "lock_random": random.iter().map(hex::encode).collect::<Vec<_>>(),
        "next_lock_nonce": hex::encode(&random[0]),
        "response_nonce": hex::encode(&random[1]),
        "ticket_id": hex::encode(&random[2]),
        "response": hex::encode(&response),
        "resumption_secret": hex::encode(ticket.secret.as_ref()),
        "bundle": hex::encode(bundle.to_bytes()),
        "bundle_message": hex::encode(&bundle_message),
        "sync_reply": hex::encode(&sync_reply),
        "receipt": hex::encode(&sync.receipt_bytes),
        "lock_after": snapshot(&lock, VECTOR_NOW),
    });
    (v, lock, ticket)
}

#[test]
fn standard_unlock_and_door_sync_vector() {
    let actors = Actors::get();
    let (v, _, _) = standard_unlock(&actors);
    write_or_compare("standard_unlock.json", &v);
}

#[test]
fn fast_unlock_vector() {
    let actors = Actors::get();
    // The lock and the ticket as the standard unlock left them.
    let (standard, mut lock, ticket) = standard_unlock(&actors);
    lock.drawn.clear();
    lock.rng_seed = "fast_unlock".into();
    let before = snapshot(&lock, VECTOR_NOW);
    assert_eq!(before, standard["lock_after"]);
    let lock_nonce = lock.nonce;
    let phone_nonce: [u8; 16] = det("fast_unlock/phone nonce");
    let (awaiting, request) =
        fast_unlock(VECTOR_DOOR, lock_nonce, &ticket, Command::Unlock, &fixed(&phone_nonce)).unwrap();
    assert!(request.len() <= 178, "fits one ATT write at MTU 185 with its frame header");
    let out = lock.deliver(&request);
    assert!(matches!(out.event, Some(LockEvent::Granted { fast: true, .. })));
    let response = out.reply.unwrap();
    let (reply, _) = awaiting.on_response(&response).unwrap();
    assert_eq!(reply.outcome, Ok(()));
    assert_eq!(reply.lock_clock, VECTOR_NOW + 60, "the floor the bundle raised");
    assert_eq!(reply.bundle_version, 7);
    let next = reply.ticket.unwrap();
    assert_eq!(next.id.0[..], lock.drawn[1][..]);
    assert_eq!(lock.tickets[&next.id].secret, next.secret);
    let entry = &before["tickets"][0];

    let v = json!({
        "description": "Fast unlock on a new connection right after standard_unlock.json: the lock starts where that vector left it (`lock_before` = its `lock_after`: bundle 7 applied, effective clock raised to the bundle's signed time, events 1 and 2 unacknowledged), the phone uses the ticket it got there, and the lock nonce is the one the lock drew there. Symmetric only. The lock's random values, in order: the next advertised nonce, the next ticket id.",
        "door": VECTOR_DOOR.to_hex(),
        "lock_nonce": lock_nonce.to_hex(),
        "lock_clock": VECTOR_NOW,
        "lock_before": before,
        "ticket_id": ticket.id.to_hex(),
        "resumption_secret": hex::encode(ticket.secret.as_ref()),
        "ticket_credential": entry["credential"],
        "ticket_parent": entry["parent"],
        "ticket_issuer_key_id": entry["issuer_key_id"],
        "ticket_not_before": entry["not_before"],
        "ticket_not_after": entry["not_after"],
        "ticket_issued": entry["issued"],
        "phone_nonce": hex::encode(phone_nonce),
        "command": "unlock",
        "request": hex::encode(&request),
        "lock_random": lock.drawn.iter().map(hex::encode).collect::<Vec<_>>(),
        "next_lock_nonce": hex::encode(&lock.drawn[0]),
        "next_ticket_id": hex::encode(next.id.0),
        "response": hex::encode(&response),
        "next_resumption_secret": hex::encode(next.secret.as_ref()),
        "lock_after": snapshot(&lock, VECTOR_NOW),
    });
    write_or_compare("fast_unlock.json", &v);
}

fn vector_bundle(actors: &Actors) -> Bundle {
    sign_bundle_with(
        &actors.issuer_key(),
        BundleBody {
            door: VECTOR_DOOR,
            issuer: KeyId::default(),
            version: 7,
            base_version: 0,
            signed_time: VECTOR_NOW + 60,
            audit_acknowledged: 0,
            config: LockConfig { unlock_duration_ms: 5000, fast_unlock: true },
            revocations: RevocationList::Ids(vec![
                Revocation { credential: CredentialId(*b"revoked-member-1"), expires: VECTOR_NOW + 86_400 },
                Revocation { credential: CredentialId(*b"revoked-guest-02"), expires: VECTOR_NOW + 3_600 },
            ]),
            doorcodes: None,
        },
    )
}

fn revoked_ids(bundle: &Bundle) -> Vec<Revocation> {
    match &bundle.body.revocations {
        RevocationList::Ids(list) => list.clone(),
        RevocationList::Prefixes(_) => panic!("bundle.json is a format-1 bundle"),
    }
}

#[test]
fn bundle_vector() {
    let actors = Actors::get();
    let bundle = vector_bundle(&actors);
    let v = json!({
        "description": "A door-sync bundle, version 7 from base 0, revoking two credentials. The signature covers \"keyway/bundle/v1\\0\" ‖ body (RFC 6979).",
        "issuer_public_key": hex::encode(actors.issuer().public_key()),
        "door": VECTOR_DOOR.to_hex(),
        "version": 7,
        "base_version": 0,
        "signed_time": VECTOR_NOW + 60,
        "audit_acknowledged": 0,
        "unlock_duration_ms": 5000,
        "fast_unlock": true,
        "revocations": revoked_ids(&bundle).iter().map(|r| json!({"credential": r.credential.to_hex(), "expires": r.expires})).collect::<Vec<_>>(),
        "signature": hex::encode(bundle.signature),
        "encoded": hex::encode(bundle.to_bytes()),
    });
    write_or_compare("bundle.json", &v);
    let recorded = load("bundle.json");
    assert_eq!(Bundle::from_bytes(&hx(&recorded, "encoded")).unwrap(), bundle);
    verify_bundle(&hx(&recorded, "issuer_public_key"), &bundle).unwrap();
}

#[test]
fn bundle_v3_vector() {
    let actors = Actors::get();
    write_or_compare("bundle_v3.json", &vector_cases::bundle_v3::vector(&actors));
    let recorded = load("bundle_v3.json");
    let issuer = hx(&recorded, "issuer_public_key");
    for key in ["bundle", "bundle_with_doorcodes"] {
        let encoded = hx(&recorded[key], "encoded");
        assert_eq!(encoded[0], 3, "{key}");
        let bundle = Bundle::from_bytes(&encoded).unwrap();
        verify_bundle(&issuer, &bundle).unwrap();
        assert_eq!(bundle.to_bytes(), encoded, "one byte form");
        for (id, _) in vector_cases::bundle_v3::revoked() {
            assert!(bundle.body.revocations.names(&id), "{key}: {id} revoked");
        }
        assert!(!bundle.body.revocations.names(&CredentialId::from_serial(1_002, [0; 8])), "the gap is not revoked");
        assert_eq!(bundle.body.revocations.len(), 5);
    }
    for case in recorded["malformed"].as_array().unwrap() {
        let error = Bundle::from_bytes(&hx(case, "encoded")).unwrap_err();
        assert_eq!(error.to_string(), case["error"].as_str().unwrap(), "{}", case["description"]);
    }
}

#[test]
fn receipt_vector() {
    let actors = Actors::get();
    let signing: SigningKey = actors.lock_signing_key();
    let body = ReceiptBody {
        door: VECTOR_DOOR,
        bundle_version: 7,
        lock_clock: VECTOR_NOW + 120,
        more_pending: false,
        events: vec![
            AuditEvent {
                seq: 41,
                time: VECTOR_NOW + 5,
                kind: AuditKind::Granted { fast: false },
                credential: Some(CredentialId(*b"keyway-vector-01")),
            },
            AuditEvent {
                seq: 42,
                time: VECTOR_NOW + 9,
                kind: AuditKind::Refused(Refusal::Expired),
                credential: Some(CredentialId(*b"revoked-guest-02")),
            },
            AuditEvent {
                seq: 43,
                time: VECTOR_NOW + 60,
                kind: AuditKind::BundleApplied { version: 7 },
                credential: None,
            },
        ],
    };
    // The kinds of the lock's second security pass: refusals coalesced, clock reset.
    let later = ReceiptBody {
        door: VECTOR_DOOR,
        bundle_version: 7,
        lock_clock: VECTOR_NOW + 4000,
        more_pending: false,
        events: vec![
            AuditEvent {
                seq: 44,
                time: VECTOR_NOW + 130,
                kind: AuditKind::RefusalsCoalesced { reason: Refusal::UnknownIssuer, count: 284 },
                credential: None,
            },
            AuditEvent {
                seq: 45,
                time: VECTOR_NOW + 3900,
                kind: AuditKind::ClockReset { previous: VECTOR_NOW + 30 * 86_400 },
                credential: None,
            },
        ],
    };
    // RFC 6979 signatures are deterministic, so the receipt is reproducible from the key.
    let receipt = sign_receipt(body, &signing);
    let later = sign_receipt(later, &signing);
    let public = signing.verifying_key().to_sec1_point(false).as_bytes().to_vec();
    let v = json!({
        "description": "A lock receipt with three audit events (kinds: 1 granted, detail 1 = fast; 2 refused, detail = refusal code; 3 bundle applied, detail = version). Signed with deterministic ECDSA (RFC 6979) over \"keyway/receipt/v1\\0\" ‖ body. `encoded_kinds_4_and_5` is a later receipt of the same lock with the two other kinds of §6.3: 4 refusals coalesced (detail = count << 8 | refusal code: 284 `UnknownIssuer`, code 6, past the budget, from the event's time), 5 clock reset (detail = the clock before the reset; the event's time is the new clock).",
        "lock_signing_public_key": hex::encode(&public),
        "encoded": hex::encode(receipt.to_bytes()),
        "encoded_kinds_4_and_5": hex::encode(later.to_bytes()),
    });
    write_or_compare("receipt.json", &v);
    let recorded = load("receipt.json");
    assert_eq!(verify_receipt(&public, &hx(&recorded, "encoded")).unwrap(), receipt);
    assert_eq!(verify_receipt(&public, &hx(&recorded, "encoded_kinds_4_and_5")).unwrap(), later);
}

/// Checks a file of handshake or door-sync cases: the generator must produce it exactly,
/// and every case's lock-side outputs must follow from what the case records.
fn check_cases(name: &str, generated: Value) {
    write_or_compare(name, &generated);
    let actors = Actors::get();
    for case in load(name)["cases"].as_array().unwrap() {
        assert_eq!(
            vector_cases::live::replay(&actors, case),
            vector_cases::live::lock_side(case),
            "{name}: case {} does not follow from its recorded inputs",
            case["name"]
        );
    }
}

#[test]
fn standard_path_refusal_vectors() {
    check_cases("refusals_standard.json", handshakes::standard_refusals(&Actors::get()));
}

#[test]
fn fast_path_refusal_vectors() {
    check_cases("refusals_fast.json", handshakes::fast_refusals(&Actors::get()));
}

#[test]
fn guest_key_vectors() {
    check_cases("guest.json", handshakes::guest_cases(&Actors::get()));
}

#[test]
fn high_s_signature_vectors() {
    check_cases("high_s.json", handshakes::high_s_cases(&Actors::get()));
    let file = load("high_s.json");
    for case in file["cases"].as_array().unwrap() {
        assert!(case["phone"][0]["device_signature_high_s"].as_bool().unwrap());
        assert!(case["steps"][0]["outcome"].as_str().unwrap().starts_with("granted"), "{}", case["name"]);
    }
}

#[test]
fn door_sync_vectors() {
    check_cases("door_sync.json", vector_cases::door_sync::door_sync_cases(&Actors::get()));
}

#[test]
fn clock_reset_vectors() {
    check_cases("clock_reset.json", vector_cases::clock_reset::clock_reset_cases(&Actors::get()));
    let file = load("clock_reset.json");
    let outcomes = |name: &str| -> Vec<String> {
        let case = file["cases"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap();
        case["steps"].as_array().unwrap().iter().map(|s| s["outcome"].as_str().unwrap().to_string()).collect()
    };
    assert!(outcomes("reset_back_then_full_bundle")[0].starts_with("clock reset from"));
    assert!(outcomes("reset_back_then_full_bundle")[2].contains("BundleGap"));
    assert!(outcomes("reset_refusals").iter().all(|o| o.starts_with("plaintext refusal")));
}

#[test]
fn advertisement_vectors() {
    use keyway_protocol::advert::Advertisement;
    write_or_compare("advertisement.json", &vector_cases::transport::advertisement_cases());
    for case in load("advertisement.json")["cases"].as_array().unwrap() {
        let decoded = Advertisement::from_bytes(&hx(case, "payload"));
        assert_eq!(decoded.is_ok(), case["valid"].as_bool().unwrap(), "{}", case["name"]);
        if let Ok(a) = decoded {
            assert_eq!(a.door.to_hex(), case["door"].as_str().unwrap());
            assert_eq!(a.nonce.to_hex(), case["nonce"].as_str().unwrap());
            assert_eq!(u64::from(a.bundle_version), case["bundle_version"].as_u64().unwrap());
        }
    }
}

#[test]
fn framing_vectors() {
    use keyway_protocol::framing::{Reassembler, fragment};
    write_or_compare("framing.json", &vector_cases::transport::framing_cases());
    for case in load("framing.json")["cases"].as_array().unwrap() {
        if let Some(fragments) = case["fragments"].as_array() {
            let mtu = case["mtu"].as_u64().unwrap() as u16;
            let frames: Vec<String> = fragment(&hx(case, "message"), mtu).unwrap().iter().map(hex::encode).collect();
            assert_eq!(&frames, fragments, "{}", case["name"]);
            continue;
        }
        let mut r = Reassembler::with_max_len(case["max_len"].as_u64().unwrap() as usize);
        for f in case["frames"].as_array().unwrap() {
            let got = match r.push(&hx(f, "frame")) {
                Ok(None) => "more",
                Ok(Some(m)) => {
                    assert_eq!(hex::encode(m), f["message"].as_str().unwrap());
                    "message"
                }
                Err(_) => "rejected",
            };
            assert_eq!(got, f["result"].as_str().unwrap(), "{}", case["name"]);
        }
    }
}
