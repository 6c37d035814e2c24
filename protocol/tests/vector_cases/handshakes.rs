//! The handshake vectors: every refusal of the standard and fast paths (§10.1), guest
//! keys, high-S signatures and the attempt limit.

use super::live::{
    DeviceSigner, Live, StandardInputs, base_lock, fast_request, file, raw_fast_request, read_reply, standard_request,
    ticket_for,
};
use super::{Actors, OTHER_DOOR, VECTOR_DOOR, VECTOR_NOW, det, det_key, issue_with, uncompressed};
use crate::common::MemoryLock;
use keyway_protocol::Command;
use keyway_protocol::credential::{Credential, CredentialBody, CredentialFlags, DeviceKey};
use keyway_protocol::ids::{CredentialId, KeyId, LockNonce};
use p256::ecdsa::VerifyingKey;
use serde_json::Value;

/// A credential of the actors' device, signed by the actors' issuer.
pub fn credential(
    actors: &Actors,
    id: &[u8; 16],
    doors: &[keyway_protocol::ids::DoorId],
    window: (u32, u32),
) -> Credential {
    issue_with(
        &actors.issuer_key(),
        CredentialBody {
            id: CredentialId(*id),
            issuer: KeyId::default(),
            device_key: DeviceKey::from_uncompressed(&actors.device_public()).unwrap(),
            doors: doors.to_vec(),
            not_before: window.0,
            not_after: window.1,
            flags: CredentialFlags { shareable: true, guest: false },
            parent: None,
        },
    )
}

/// The member credential of `credential.json`.
pub fn member(actors: &Actors) -> Credential {
    credential(actors, b"keyway-vector-01", &[VECTOR_DOOR], (VECTOR_NOW - 3600, VECTOR_NOW + 72 * 3600))
}

/// A one-door guest key shared from the member credential.
pub fn guest(actors: &Actors) -> Credential {
    let mut body = credential(actors, b"vector-guest-001", &[VECTOR_DOOR], (VECTOR_NOW - 60, VECTOR_NOW + 3600)).body;
    body.flags = CredentialFlags { shareable: false, guest: true };
    body.parent = Some(member(actors).body.id);
    issue_with(&actors.issuer_key(), body)
}

/// A ticket as the phone holds it: id and resumption secret.
type Ticket = (keyway_protocol::ids::TicketId, [u8; 32]);

fn copied_key() -> p256::ecdsa::SigningKey {
    det_key("another phone's device key")
}

/// One standard request on a fresh connection: the phone's inputs and the lock's answer.
fn standard_case(
    actors: &Actors,
    name: &str,
    description: &str,
    lock: MemoryLock,
    credential: &[u8],
    signer: DeviceSigner,
    tamper: impl FnOnce(&mut Vec<u8>, LockNonce),
) -> Value {
    let mut live = Live::new(lock, name);
    let nonce = live.nonce();
    let (how, mut request, awaiting) = standard_request(
        actors,
        StandardInputs {
            label: name,
            door: VECTOR_DOOR,
            nonce,
            credential,
            command: Command::Unlock,
            want_ticket: true,
            signer,
        },
    );
    let clean = request.clone();
    tamper(&mut request, nonce);
    let mut how = how;
    if request != clean {
        how["request_before_tampering"] = serde_json::json!(hex::encode(&clean));
    }
    live.note_phone(how);
    let reply = live.send(&request).expect("the lock answers a request");
    if request == clean || reply[0] == 0x7f {
        let (reads, _) = read_reply(awaiting, &reply);
        live.phone_reads(reads);
    }
    live.finish(name, description)
}

fn no_tamper(_: &mut Vec<u8>, _: LockNonce) {}

/// `refusals_standard.json`.
pub fn standard_refusals(actors: &Actors) -> Value {
    let m = member(actors).to_bytes();
    let base = |name: &str| base_lock(actors, name);
    let mut cases = Vec::new();
    let mut case = |name: &str,
                    description: &str,
                    lock: MemoryLock,
                    cred: &[u8],
                    signer,
                    tamper: &dyn Fn(&mut Vec<u8>, LockNonce)| {
        cases.push(standard_case(actors, name, description, lock, cred, signer, |r, n| tamper(r, n)));
    };

    case(
        "short_request",
        "S1: 83 bytes, one short of the clear header. Plaintext Malformed; the nonce is not consumed (no random value drawn, the refusal carries the same nonce).",
        base("short_request"),
        &m,
        DeviceSigner::Device,
        &|r, _| r.truncate(83),
    );
    case(
        "unsupported_version",
        "S3: the version byte set to 2. The nonce is consumed first (S2, the lock's first random value is the next nonce), then plaintext UnsupportedVersion.",
        base("unsupported_version"),
        &m,
        DeviceSigner::Device,
        &|r, _| r[1] = 2,
    );
    case(
        "unknown_flag_bits",
        "S4: flags 0x03 (bit 1 is not defined). Plaintext Malformed.",
        base("unknown_flag_bits"),
        &m,
        DeviceSigner::Device,
        &|r, _| r[2] = 0x03,
    );
    case(
        "wrong_door_in_header",
        "S5: the clear header names another door. Plaintext WrongDoor.",
        base("wrong_door_in_header"),
        &m,
        DeviceSigner::Device,
        &|r, _| r[3..11].copy_from_slice(&OTHER_DOOR.0),
    );
    case(
        "stale_nonce",
        "S6: the request names a nonce the lock is not advertising. Plaintext StaleNonce with the fresh nonce.",
        base("stale_nonce"),
        &m,
        DeviceSigner::Device,
        &|r, _| r[11..19].copy_from_slice(&det::<8>("stale_nonce/old nonce")),
    );
    case(
        "enc_not_on_curve",
        "S7: enc replaced by 04 ‖ 64 zero bytes, not a point. Plaintext Malformed.",
        base("enc_not_on_curve"),
        &m,
        DeviceSigner::Device,
        &|r, _| {
            r[19] = 4;
            r[20..84].fill(0)
        },
    );
    case(
        "decrypt_failed",
        "S8: the last byte of the HPKE ciphertext (its tag) flipped. Plaintext DecryptFailed.",
        base("decrypt_failed"),
        &m,
        DeviceSigner::Device,
        &|r, _| {
            let n = r.len();
            r[n - 1] ^= 1
        },
    );
    let mut long = m.clone();
    long.push(0);
    case(
        "malformed_payload",
        "S9: the payload's credential has one byte too many (a credential decodes strictly). Plaintext Malformed.",
        base("malformed_payload"),
        &long,
        DeviceSigner::Device,
        &no_tamper,
    );

    let mut lock = base("unknown_issuer");
    let other_issuer = det_key("another site's issuer");
    let other_public = uncompressed(&other_issuer);
    lock.anchors.clear();
    lock.anchors.insert(KeyId::of_public_key(&other_public), VerifyingKey::from_sec1_bytes(&other_public).unwrap());
    case(
        "unknown_issuer",
        "S10: the lock trusts only another issuer. Encrypted UnknownIssuer, audited without the credential id; the response nonce is the second random value.",
        lock,
        &m,
        DeviceSigner::Device,
        &no_tamper,
    );

    let mut bad = member(actors);
    bad.signature[63] ^= 1;
    case(
        "bad_issuer_signature",
        "S11: the credential's issuer signature has its last byte flipped. Encrypted BadCredentialSignature, audited without the credential id.",
        base("bad_issuer_signature"),
        &bad.to_bytes(),
        DeviceSigner::Device,
        &no_tamper,
    );
    case(
        "bad_device_signature",
        "S12: a copied credential, the device signature made by another key. Encrypted BadDeviceSignature, audited without the credential id.",
        base("bad_device_signature"),
        &m,
        DeviceSigner::Other(copied_key()),
        &no_tamper,
    );
    let other = credential(actors, b"vector-otherdoor", &[OTHER_DOOR], (VECTOR_NOW - 3600, VECTOR_NOW + 3600));
    case(
        "wrong_door_in_credential",
        "S13: the credential lists only another door. Encrypted WrongDoor, audited with the credential id.",
        base("wrong_door_in_credential"),
        &other.to_bytes(),
        DeviceSigner::Device,
        &no_tamper,
    );
    let early = credential(actors, b"vector-notyet-01", &[VECTOR_DOOR], (VECTOR_NOW + 1, VECTOR_NOW + 7200));
    case(
        "not_yet_valid",
        "S14: not before is one second after the lock's clock. Encrypted NotYetValid, audited with the credential id.",
        base("not_yet_valid"),
        &early.to_bytes(),
        DeviceSigner::Device,
        &no_tamper,
    );
    let late = credential(actors, b"vector-expired-1", &[VECTOR_DOOR], (VECTOR_NOW - 7200, VECTOR_NOW - 1));
    case(
        "expired",
        "S15: not after is one second before the lock's clock. Encrypted Expired, audited with the credential id.",
        base("expired"),
        &late.to_bytes(),
        DeviceSigner::Device,
        &no_tamper,
    );
    let mut lock = base("revoked");
    lock.revoked.insert(member(actors).body.id, VECTOR_NOW + 72 * 3600);
    case(
        "revoked",
        "S16: the credential id is in the revocation set. Encrypted Revoked, audited with the credential id.",
        lock,
        &m,
        DeviceSigner::Device,
        &no_tamper,
    );

    let mut twice =
        credential(actors, b"vector-twodoors1", &[VECTOR_DOOR], (VECTOR_NOW - 3600, VECTOR_NOW + 3600)).body;
    twice.doors = vec![VECTOR_DOOR, VECTOR_DOOR];
    let signature = super::sign(&actors.issuer_key(), &twice.signed_message());
    let twice = [twice.to_bytes(), signature.to_vec()].concat();
    case(
        "door_listed_twice",
        "S9: a credential, correctly signed, that lists this door twice. A door id appears at most once in a credential (§3.1), so it does not decode: plaintext Malformed.",
        base("door_listed_twice"),
        &twice,
        DeviceSigner::Device,
        &no_tamper,
    );
    cases.push(unexpected_message(actors));
    cases.push(attempt_limit(actors));
    super::live::file(
        "Refusals of the standard path (§10.1.1), one per rule, each on a fresh connection. Each case records the lock's state before (`lock_before`), how the phone built its request (`phone`; `request_before_tampering` when the case alters it), every random value the lock drew in order (`lock_random`), each message with the lock's reply, the audit events it appended (§6.3 wire form) and whether it closed the connection (`steps`), and the state after (`lock_after`).",
        cases,
    )
}

fn unexpected_message(actors: &Actors) -> Value {
    let mut live = Live::new(base_lock(actors, "unexpected_message"), "unexpected_message");
    live.send(&hex::decode("0501a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5").unwrap());
    live.send(&hex::decode("02").unwrap());
    live.finish(
        "unexpected_message",
        "A sealed channel message (0x05) and a lone reflected response type (0x02) before any handshake: plaintext UnexpectedMessage each, no nonce consumed, each counts as an attempt.",
    )
}

fn attempt_limit(actors: &Actors) -> Value {
    let name = "attempt_limit";
    let m = member(actors).to_bytes();
    let mut live = Live::new(base_lock(actors, name), name);
    let signer = |i: usize| if i == 2 { DeviceSigner::Other(copied_key()) } else { DeviceSigner::Device };
    for i in 0..5 {
        let nonce = if i == 0 { LockNonce(det("attempt_limit/old nonce")) } else { live.nonce() };
        let label = format!("{name}/{i}");
        let (how, mut request, _) = standard_request(
            actors,
            StandardInputs {
                label: &label,
                door: VECTOR_DOOR,
                nonce,
                credential: &m,
                command: Command::Unlock,
                want_ticket: true,
                signer: signer(i),
            },
        );
        if i == 1 {
            request[3..11].copy_from_slice(&OTHER_DOOR.0);
        }
        if i == 3 {
            request = vec![0x04, 0x01];
        }
        if i != 3 {
            live.note_phone(how);
        }
        live.send(&request);
    }
    live.finish(
        name,
        "Four refused attempts on one connection (stale nonce, wrong door in the header, a copied credential, a reflected 0x04): the fourth refusal is sent, then the connection is closed; a fifth, valid request gets no answer and consumes nothing.",
    )
}

/// `refusals_fast.json`.
pub fn fast_refusals(actors: &Actors) -> Value {
    let member = member(actors);
    let mut cases = Vec::new();
    let issued = VECTOR_NOW - 600;
    let mut case = |name: &str,
                    description: &str,
                    adjust: &dyn Fn(&mut MemoryLock, &mut Ticket),
                    tamper: &dyn Fn(&mut Vec<u8>)| {
        let mut lock = base_lock(actors, name);
        let mut ticket = ticket_for(&mut lock, name, &member, issued);
        adjust(&mut lock, &mut ticket);
        let mut live = Live::new(lock, name);
        let (how, mut request, awaiting) = fast_request(name, VECTOR_DOOR, live.nonce(), ticket, Command::Unlock);
        let clean = request.clone();
        tamper(&mut request);
        let mut how = how;
        if request != clean {
            how["request_before_tampering"] = serde_json::json!(hex::encode(&clean));
        }
        live.note_phone(how);
        let reply = live.send(&request).unwrap();
        if request == clean || reply[0] == 0x7f {
            let (reads, _) = read_reply(awaiting, &reply);
            live.phone_reads(reads);
        }
        cases.push(live.finish(name, description));
    };
    let keep = |_: &mut MemoryLock, _: &mut _| {};
    let none = |_: &mut Vec<u8>| {};
    case(
        "short_request",
        "F1: 50 bytes. Plaintext Malformed; the nonce is not consumed and the ticket stays.",
        &keep,
        &|r| r.truncate(50),
    );
    case(
        "unsupported_version",
        "F3: version byte 2. Plaintext UnsupportedVersion; the nonce is consumed, the ticket stays (not reached).",
        &keep,
        &|r| r[1] = 2,
    );
    case(
        "wrong_door_in_header",
        "F5: another door in the header. Plaintext WrongDoor; the ticket stays.",
        &keep,
        &|r| r[3..11].copy_from_slice(&OTHER_DOOR.0),
    );
    case(
        "stale_nonce",
        "F6: a nonce the lock is not advertising. Plaintext StaleNonce with the fresh nonce; the ticket stays, so the phone may retry with it.",
        &keep,
        &|r| r[11..19].copy_from_slice(&det::<8>("fast stale_nonce/old nonce")),
    );
    case(
        "fast_unlock_disabled",
        "F7: the configuration switches fast unlock off (and so holds no tickets). Plaintext FastUnlockDisabled.",
        &|lock, _| {
            lock.config.fast_unlock = false;
            lock.tickets.clear();
            lock.ticket_issued.clear();
        },
        &none,
    );
    case(
        "unknown_ticket",
        "F8: the ticket id is not in the table. Plaintext UnknownTicket.",
        &|lock, _| {
            lock.tickets.clear();
            lock.ticket_issued.clear();
        },
        &none,
    );
    case(
        "decrypt_failed",
        "F9: the phone's resumption secret differs from the lock's. Plaintext DecryptFailed; the ticket is gone all the same.",
        &|_, t| t.1 = det("fast decrypt_failed/wrong secret"),
        &none,
    );
    case(
        "unknown_issuer",
        "F11: the ticket's issuer is no longer a trust anchor. Encrypted UnknownIssuer, audited with the ticket's credential id.",
        &|lock, _| lock.anchors.clear(),
        &none,
    );
    case(
        "not_yet_valid",
        "F12: the ticket's stored window starts one second after the lock's clock (a state that a lock whose clock never goes back cannot reach, but the rule is defined). Encrypted NotYetValid, audited with the credential id.",
        &|lock, t| lock.tickets.get_mut(&t.0).unwrap().not_before = VECTOR_NOW + 1,
        &none,
    );
    case(
        "expired",
        "F13: the ticket's stored window ended one second before the lock's clock. Encrypted Expired, audited with the credential id.",
        &|lock, t| lock.tickets.get_mut(&t.0).unwrap().not_after = VECTOR_NOW - 1,
        &none,
    );
    case(
        "revoked",
        "F14: the ticket's credential is revoked. Encrypted Revoked, audited with the credential id.",
        &|lock, _| {
            lock.revoked.insert(CredentialId(*b"keyway-vector-01"), VECTOR_NOW + 72 * 3600);
        },
        &none,
    );
    cases.push(fast_malformed_command(actors, &member));
    file(
        "Refusals of the fast path (§10.1.2), one per rule, each on a fresh connection with one ticket in the lock's table (fields as in refusals_standard.json).",
        cases,
    )
}

fn fast_malformed_command(actors: &Actors, member: &Credential) -> Value {
    let name = "malformed_command";
    let mut lock = base_lock(actors, name);
    let ticket = ticket_for(&mut lock, name, member, VECTOR_NOW - 600);
    let mut live = Live::new(lock, name);
    let phone_nonce: [u8; 16] = det("malformed_command/phone nonce");
    let request = raw_fast_request(VECTOR_DOOR, live.nonce(), ticket, phone_nonce, &[0x07]);
    live.note_phone(serde_json::json!({
        "path": "fast, built by hand: the sealed plaintext is 07, not a command",
        "ticket_id": ticket.0.to_hex(),
        "resumption_secret": hex::encode(ticket.1),
        "phone_nonce": hex::encode(phone_nonce),
    }));
    live.send(&request);
    live.finish(name, "F10: the request opens but its plaintext is 0x07, not a command. Plaintext Malformed (not audited); the ticket is gone.")
}

/// `guest.json`.
pub fn guest_cases(actors: &Actors) -> Value {
    let g = guest(actors);
    let parent = member(actors).body.id;
    let mut cases = Vec::new();
    cases.push(standard_case(actors, "guest_granted", "A one-door guest key (156 bytes: the parent credential id sits at offset 76, after the one door id and before the issuer signature) is granted; the lock stores the ticket with the parent id.", base_lock(actors, "guest_granted"), &g.to_bytes(), DeviceSigner::Device, no_tamper));
    let mut lock = base_lock(actors, "guest_parent_revoked");
    lock.revoked.insert(parent, VECTOR_NOW + 72 * 3600);
    cases.push(standard_case(
        actors,
        "guest_parent_revoked",
        "S17: the guest key's parent is revoked. Encrypted ParentRevoked, audited with the guest credential's id.",
        lock,
        &g.to_bytes(),
        DeviceSigner::Device,
        no_tamper,
    ));
    let mut lock = base_lock(actors, "guest_revoked");
    lock.revoked.insert(g.body.id, VECTOR_NOW + 3600);
    lock.revoked.insert(parent, VECTOR_NOW + 72 * 3600);
    cases.push(standard_case(
        actors,
        "guest_revoked",
        "S16 before S17: both the guest key and its parent are revoked. Encrypted Revoked.",
        lock,
        &g.to_bytes(),
        DeviceSigner::Device,
        no_tamper,
    ));

    let name = "guest_parent_revoked_fast";
    let mut lock = base_lock(actors, name);
    let ticket = ticket_for(&mut lock, name, &g, VECTOR_NOW - 600);
    lock.revoked.insert(parent, VECTOR_NOW + 72 * 3600);
    let mut live = Live::new(lock, name);
    let (how, request, awaiting) = fast_request(name, VECTOR_DOOR, live.nonce(), ticket, Command::Unlock);
    live.note_phone(how);
    let reply = live.send(&request).unwrap();
    live.phone_reads(read_reply(awaiting, &reply).0);
    cases.push(live.finish(name, "F15: a guest ticket whose stored parent is revoked. Encrypted ParentRevoked, audited with the guest credential's id; the ticket is gone."));
    file("Guest keys (§3.2): the parent's position in the credential, and parent revocation on both paths.", cases)
}

/// `high_s.json`: ECDSA signatures whose `s` is above n/2 are valid and accepted.
pub fn high_s_cases(actors: &Actors) -> Value {
    let mut cases = Vec::new();
    let m = member(actors);
    cases.push(standard_case(actors, "high_s_device_signature", "The device signature has s > n/2, as a Secure Enclave or StrongBox key produces about half the time. Granted: a lock MUST accept both forms of s.", base_lock(actors, "high_s_device_signature"), &m.to_bytes(), DeviceSigner::DeviceHighS, no_tamper));
    let mut high = m.clone();
    if !super::is_high_s(&high.signature) {
        high.signature = super::flip_s(&high.signature);
    }
    cases.push(standard_case(actors, "high_s_issuer_signature", "The credential's issuer signature has s > n/2 (the same credential as credential.json, with s replaced by n − s). Granted.", base_lock(actors, "high_s_issuer_signature"), &high.to_bytes(), DeviceSigner::DeviceHighS, no_tamper));
    file(
        "High-S ECDSA signatures (§4): (r, n − s) is as valid as (r, s), and the lock accepts either from devices and issuers.",
        cases,
    )
}
