//! The published test vectors in `protocol/vectors/`: both roles must reproduce them
//! byte for byte. To regenerate them (new keys and signatures):
//! `KEYWAY_WRITE_VECTORS=1 cargo test -p keyway-protocol --test vectors -- --test-threads=1`
//! (one thread: later vectors embed the credential and bundle written by earlier ones).
//! Without the variable, the files are only read and checked.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_protocol::bundle::{Bundle, BundleBody, LockConfig, Revocation};
use keyway_protocol::credential::{Credential, CredentialBody, CredentialFlags, DeviceKey};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId, LockNonce, TicketId};
use keyway_protocol::issuer::{IssuerKey, verify_bundle, verify_credential, verify_receipt};
use keyway_protocol::lock_role::{LockEvent, LockSession, TicketEntry, sign_receipt};
use keyway_protocol::phone::{FastTicket, LockTarget, StandardUnlock, fast_unlock};
use keyway_protocol::receipt::{AuditEvent, AuditKind, ReceiptBody};
use keyway_protocol::{Command, Refusal};
use p256::ecdsa::SigningKey;
use p256::elliptic_curve::sec1::ToSec1Point;
use serde_json::{Value, json};
use std::path::PathBuf;
use zeroize::Zeroizing;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors").join(name)
}

fn writing() -> bool {
    std::env::var_os("KEYWAY_WRITE_VECTORS").is_some()
}

fn load(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path(name)).unwrap()).unwrap()
}

fn store(name: &str, v: &Value) {
    std::fs::write(path(name), serde_json::to_string_pretty(v).unwrap() + "\n").unwrap();
}

fn hx(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap_or_else(|| panic!("missing {key}"))).unwrap()
}

fn arr<const N: usize>(v: &Value, key: &str) -> [u8; N] {
    hx(v, key).try_into().unwrap()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut out = [0u8; N];
    ring::rand::SystemRandom::new().fill(&mut out).unwrap();
    out
}

#[allow(deprecated)]
fn fixed(bytes: &[u8]) -> ring::test::rand::FixedSliceRandom<'_> {
    ring::test::rand::FixedSliceRandom { bytes }
}

fn p256_public(secret: &p256::SecretKey) -> Vec<u8> {
    secret.public_key().to_sec1_point(false).as_bytes().to_vec()
}

/// The fixed actors of every vector: issuer, device, lock keys. Fresh when writing.
struct Actors {
    issuer_pkcs8: Vec<u8>,
    device_pkcs8: Vec<u8>,
    lock_kem: [u8; 32],
    lock_signing: [u8; 32],
}

impl Actors {
    fn get() -> Self {
        static WRITTEN: std::sync::Once = std::sync::Once::new();
        if writing() {
            WRITTEN.call_once(|| Self::generate().write());
        }
        let v = load("actors.json");
        Self {
            issuer_pkcs8: hx(&v, "issuer_pkcs8"),
            device_pkcs8: hx(&v, "device_pkcs8"),
            lock_kem: arr(&v, "lock_kem_secret"),
            lock_signing: arr(&v, "lock_signing_secret"),
        }
    }

    fn generate() -> Self {
        {
            let rng = ring::rand::SystemRandom::new();
            let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            Self {
                issuer_pkcs8: ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap().as_ref().to_vec(),
                device_pkcs8: ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap().as_ref().to_vec(),
                lock_kem: p256::SecretKey::from_slice(&random_bytes::<32>()).unwrap().to_bytes().into(),
                lock_signing: random_bytes(),
            }
        }
    }
    fn issuer(&self) -> IssuerKey {
        IssuerKey::from_pkcs8(&self.issuer_pkcs8).unwrap()
    }
    fn device(&self) -> ring::signature::EcdsaKeyPair {
        let rng = ring::rand::SystemRandom::new();
        ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &self.device_pkcs8,
            &rng,
        )
        .unwrap()
    }
    fn lock(&self, door: DoorId, nonce: LockNonce, now: u32) -> TestLock {
        let kem = p256::SecretKey::from_slice(&self.lock_kem).unwrap();
        let signing = SigningKey::from_slice(&self.lock_signing).unwrap();
        let mut lock = TestLock::with_keys(door, kem, signing, self.issuer().public_key());
        lock.nonce = nonce;
        lock.now = now;
        lock
    }
    fn write(&self) {
        use ring::signature::KeyPair;
        let kem = p256::SecretKey::from_slice(&self.lock_kem).unwrap();
        let signing = SigningKey::from_slice(&self.lock_signing).unwrap();
        store(
            "actors.json",
            &json!({
                "description": "Test keys shared by every vector. Never use them outside tests.",
                "issuer_pkcs8": hex::encode(&self.issuer_pkcs8),
                "issuer_public_key": hex::encode(self.issuer().public_key()),
                "issuer_key_id": self.issuer().key_id().to_hex(),
                "device_pkcs8": hex::encode(&self.device_pkcs8),
                "device_public_key": hex::encode(self.device().public_key().as_ref()),
                "lock_kem_secret": hex::encode(self.lock_kem),
                "lock_kem_public_key": hex::encode(p256_public(&kem)),
                "lock_signing_secret": hex::encode(self.lock_signing),
                "lock_signing_public_key": hex::encode(signing.verifying_key().to_sec1_point(false).as_bytes()),
            }),
        );
    }
}

const VECTOR_DOOR: DoorId = DoorId([0x4b, 0x57, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x01]);
const VECTOR_NOW: u32 = 1_798_761_600; // 2027-01-01T00:00:00Z

fn vector_credential(actors: &Actors, recorded: Option<&Value>) -> Credential {
    use ring::signature::KeyPair;
    let body = CredentialBody {
        id: CredentialId(*b"keyway-vector-01"),
        issuer: actors.issuer().key_id(),
        device_key: DeviceKey::from_uncompressed(actors.device().public_key().as_ref()).unwrap(),
        doors: vec![VECTOR_DOOR],
        not_before: VECTOR_NOW - 3600,
        not_after: VECTOR_NOW + 72 * 3600,
        flags: CredentialFlags { shareable: true, guest: false },
        parent: None,
    };
    match recorded {
        Some(v) => Credential { body, signature: arr(v, "signature") },
        None => actors.issuer().issue(body).unwrap(),
    }
}

#[test]
fn credential_vector() {
    let actors = Actors::get();
    let recorded = (!writing()).then(|| load("credential.json"));
    let credential = vector_credential(&actors, recorded.as_ref());
    let encoded = credential.to_bytes();
    let b = &credential.body;
    let v = json!({
        "description": "A one-door member credential. `encoded` is body ‖ signature; the signature covers \"keyway/credential/v1\\0\" ‖ body.",
        "issuer_public_key": hex::encode(actors.issuer().public_key()),
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
    if writing() {
        store("credential.json", &v);
        return;
    }
    let recorded = recorded.unwrap();
    assert_eq!(v, recorded);
    assert_eq!(Credential::from_bytes(&hx(&recorded, "encoded")).unwrap(), credential);
    assert!(encoded.len() <= 200);
    verify_credential(&hx(&recorded, "issuer_public_key"), &credential).unwrap();
    assert_eq!(KeyId::of_public_key(&hx(&recorded, "issuer_public_key")), b.issuer);
}

#[test]
fn standard_unlock_and_door_sync_vector() {
    let actors = Actors::get();
    let recorded = (!writing()).then(|| load("standard_unlock.json"));
    // Written by credential_vector and bundle_vector, which run first when writing.
    let credential = Credential::from_bytes(&hx(&load("credential.json"), "encoded")).unwrap();
    let lock_nonce = match &recorded {
        Some(v) => LockNonce(arr(v, "lock_nonce")),
        None => LockNonce(random_bytes()),
    };
    let ephemeral: [u8; 32] = match &recorded {
        Some(v) => arr(v, "phone_ephemeral_secret"),
        None => p256::SecretKey::from_slice(&random_bytes::<32>()).unwrap().to_bytes().into(),
    };
    let lock_random: [[u8; 16]; 2] = match &recorded {
        Some(v) => [arr(v, "response_nonce"), arr(v, "ticket_id")],
        None => [random_bytes(), random_bytes()],
    };
    let mut lock = actors.lock(VECTOR_DOOR, lock_nonce, VECTOR_NOW);
    let target = LockTarget { door: VECTOR_DOOR, lock_public_key: lock.public_key(), nonce: lock_nonce };

    // Phone: encapsulate, sign, seal.
    let unlock =
        StandardUnlock::begin(&target, &credential.to_bytes(), Command::Unlock, true, &fixed(&ephemeral)).unwrap();
    let signing_message = unlock.signing_message();
    let device_signature: [u8; 64] = match &recorded {
        Some(v) => arr(v, "device_signature"),
        None => actors
            .device()
            .sign(&ring::rand::SystemRandom::new(), &signing_message)
            .unwrap()
            .as_ref()
            .try_into()
            .unwrap(),
    };
    let (awaiting, request) = unlock.finish(&device_signature);

    // Lock: open, verify, grant, answer.
    lock.scripted_random.extend(lock_random.iter().map(|r| r.to_vec()));
    let mut session = LockSession::new();
    let out = lock.deliver(&mut session, &request);
    assert!(matches!(out.event, Some(LockEvent::Granted { fast: false, command: Command::Unlock, .. })));
    let response = out.reply.unwrap();

    // Phone: authenticate the answer.
    let (reply, mut channel) = awaiting.on_response(&response).unwrap();
    assert_eq!(reply.outcome, Ok(()));
    let ticket = reply.ticket.unwrap();
    assert_eq!(ticket.id, TicketId(lock_random[1]));

    // Door sync inside the channel: bundle → receipt.
    let bundle = Bundle::from_bytes(&hx(&load("bundle.json"), "encoded")).unwrap();
    let bundle_message = channel.deliver_bundle(&bundle.to_bytes()).unwrap();
    let out = lock.deliver(&mut session, &bundle_message);
    assert_eq!(out.event, Some(LockEvent::BundleApplied { version: 7 }));
    let sync_reply = out.reply.unwrap();
    let sync = channel.on_sync_reply(&sync_reply).unwrap();
    assert_eq!(sync.applied, Ok(()));
    verify_receipt(lock.signing.verifying_key().to_sec1_point(false).as_bytes(), &sync.receipt_bytes).unwrap();

    let v = json!({
        "description": "Standard unlock (HPKE base mode to the lock's static key) followed by a door sync in the secure channel. Keys in actors.json. The lock's random outputs, in order: response_nonce, ticket_id.",
        "door": VECTOR_DOOR.to_hex(),
        "lock_nonce": lock_nonce.to_hex(),
        "lock_clock": VECTOR_NOW,
        "lock_kem_public_key": hex::encode(lock.public_key()),
        "credential": hex::encode(credential.to_bytes()),
        "command": "unlock",
        "want_ticket": true,
        "phone_ephemeral_secret": hex::encode(ephemeral),
        "device_signing_message": hex::encode(&signing_message),
        "device_signature": hex::encode(device_signature),
        "request": hex::encode(&request),
        "response_nonce": hex::encode(lock_random[0]),
        "ticket_id": hex::encode(lock_random[1]),
        "response": hex::encode(&response),
        "resumption_secret": hex::encode(ticket.secret.as_ref()),
        "bundle": hex::encode(bundle.to_bytes()),
        "bundle_message": hex::encode(&bundle_message),
        "sync_reply": hex::encode(&sync_reply),
        "receipt": hex::encode(&sync.receipt_bytes),
    });
    if writing() {
        store("standard_unlock.json", &v);
    } else {
        assert_eq!(v, recorded.unwrap());
    }
}

#[test]
fn fast_unlock_vector() {
    let recorded = (!writing()).then(|| load("fast_unlock.json"));
    let pick = |key: &str| -> Vec<u8> {
        match &recorded {
            Some(v) => hx(v, key),
            None => random_bytes::<32>().to_vec(),
        }
    };
    let secret: [u8; 32] = pick("resumption_secret").try_into().unwrap();
    let ticket_id: [u8; 16] = pick("ticket_id")[..16].try_into().unwrap();
    let lock_nonce: [u8; 8] = pick("lock_nonce")[..8].try_into().unwrap();
    let phone_nonce: [u8; 16] = pick("phone_nonce")[..16].try_into().unwrap();
    let next_ticket_id: [u8; 16] = pick("next_ticket_id")[..16].try_into().unwrap();

    let actors = Actors::get();
    let mut lock = actors.lock(VECTOR_DOOR, LockNonce(lock_nonce), VECTOR_NOW);
    let credential = CredentialId(*b"keyway-vector-01");
    lock.tickets.insert(
        TicketId(ticket_id),
        TicketEntry {
            secret: Zeroizing::new(secret),
            credential,
            parent: None,
            issuer: actors.issuer().key_id(),
            not_before: VECTOR_NOW - 3600,
            not_after: VECTOR_NOW + 72 * 3600,
            holder: keyway_protocol::lock_role::TicketHolder([0; 16]),
        },
    );
    lock.scripted_random.push_back(next_ticket_id.to_vec());
    let ticket = FastTicket { door: VECTOR_DOOR, id: TicketId(ticket_id), secret: Zeroizing::new(secret) };
    let (awaiting, request) =
        fast_unlock(VECTOR_DOOR, LockNonce(lock_nonce), &ticket, Command::Unlock, &fixed(&phone_nonce)).unwrap();
    assert!(request.len() <= 178, "fits one ATT write at MTU 185 with its frame header");
    let out = lock.deliver(&mut LockSession::new(), &request);
    assert!(matches!(out.event, Some(LockEvent::Granted { fast: true, .. })));
    let response = out.reply.unwrap();
    let (reply, _) = awaiting.on_response(&response).unwrap();
    assert_eq!(reply.outcome, Ok(()));
    let next = reply.ticket.unwrap();
    assert_eq!(next.id, TicketId(next_ticket_id));
    assert_eq!(lock.tickets[&next.id].secret, next.secret);

    let v = json!({
        "description": "Fast unlock with a ticket from an earlier standard unlock: symmetric only. The lock's random output: next_ticket_id. The lock's ticket entry: credential id, window as given.",
        "door": VECTOR_DOOR.to_hex(),
        "lock_nonce": hex::encode(lock_nonce),
        "lock_clock": VECTOR_NOW,
        "ticket_id": hex::encode(ticket_id),
        "resumption_secret": hex::encode(secret),
        "ticket_credential": credential.to_hex(),
        "ticket_issuer_key_id": actors.issuer().key_id().to_hex(),
        "ticket_not_before": VECTOR_NOW - 3600,
        "ticket_not_after": VECTOR_NOW + 72 * 3600,
        "phone_nonce": hex::encode(phone_nonce),
        "command": "unlock",
        "request": hex::encode(&request),
        "next_ticket_id": hex::encode(next_ticket_id),
        "response": hex::encode(&response),
        "next_resumption_secret": hex::encode(next.secret.as_ref()),
    });
    if writing() {
        store("fast_unlock.json", &v);
    } else {
        assert_eq!(v, recorded.unwrap());
    }
}

fn vector_bundle(actors: &Actors, recorded: Option<&Value>) -> Bundle {
    let body = BundleBody {
        door: VECTOR_DOOR,
        issuer: actors.issuer().key_id(),
        version: 7,
        base_version: 0,
        signed_time: VECTOR_NOW + 60,
        audit_acknowledged: 0,
        config: LockConfig { unlock_duration_ms: 5000, fast_unlock: true },
        revocations: vec![
            Revocation { credential: CredentialId(*b"revoked-member-1"), expires: VECTOR_NOW + 86_400 },
            Revocation { credential: CredentialId(*b"revoked-guest-02"), expires: VECTOR_NOW + 3_600 },
        ],
    };
    match recorded {
        Some(v) => Bundle { body, signature: arr(v, "signature") },
        None => actors.issuer().sign_bundle(body).unwrap(),
    }
}

#[test]
fn bundle_vector() {
    let actors = Actors::get();
    let recorded = (!writing()).then(|| load("bundle.json"));
    let bundle = vector_bundle(&actors, recorded.as_ref());
    let v = json!({
        "description": "A door-sync bundle, version 7 from base 0, revoking two credentials. The signature covers \"keyway/bundle/v1\\0\" ‖ body.",
        "issuer_public_key": hex::encode(actors.issuer().public_key()),
        "door": VECTOR_DOOR.to_hex(),
        "version": 7,
        "base_version": 0,
        "signed_time": VECTOR_NOW + 60,
        "audit_acknowledged": 0,
        "unlock_duration_ms": 5000,
        "fast_unlock": true,
        "revocations": bundle.body.revocations.iter().map(|r| json!({"credential": r.credential.to_hex(), "expires": r.expires})).collect::<Vec<_>>(),
        "signature": hex::encode(bundle.signature),
        "encoded": hex::encode(bundle.to_bytes()),
    });
    if writing() {
        store("bundle.json", &v);
        return;
    }
    let recorded = recorded.unwrap();
    assert_eq!(v, recorded);
    assert_eq!(Bundle::from_bytes(&hx(&recorded, "encoded")).unwrap(), bundle);
    verify_bundle(&hx(&recorded, "issuer_public_key"), &bundle).unwrap();
}

#[test]
fn receipt_vector() {
    let actors = Actors::get();
    let signing = SigningKey::from_slice(&actors.lock_signing).unwrap();
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
    // RFC 6979 signatures are deterministic, so the receipt is reproducible from the key.
    let receipt = sign_receipt(body, &signing);
    let public = signing.verifying_key().to_sec1_point(false).as_bytes().to_vec();
    let v = json!({
        "description": "A lock receipt with three audit events (kinds: 1 granted, detail 1 = fast; 2 refused, detail = refusal code; 3 bundle applied, detail = version). Signed with deterministic ECDSA (RFC 6979) over \"keyway/receipt/v1\\0\" ‖ body.",
        "lock_signing_public_key": hex::encode(&public),
        "encoded": hex::encode(receipt.to_bytes()),
    });
    if writing() {
        store("receipt.json", &v);
        return;
    }
    let recorded = load("receipt.json");
    assert_eq!(v, recorded);
    assert_eq!(verify_receipt(&public, &hx(&recorded, "encoded")).unwrap(), receipt);
}
