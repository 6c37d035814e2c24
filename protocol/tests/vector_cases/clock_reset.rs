//! The clock-reset vectors (§6.4): a floor that ran ahead brought back (then the full
//! bundle the lock waits for), a clock that fell behind brought forward, and the resets a
//! lock refuses in the clear.

use super::door_sync::{bundle_at, deliver, sync_only};
use super::handshakes::member;
use super::live::{Live, base_lock, file, ticket_for};
use super::{Actors, OTHER_DOOR, VECTOR_DOOR, VECTOR_NOW, det_key, sign, uncompressed};
use keyway_protocol::Refusal;
use keyway_protocol::bundle::Revocation;
use keyway_protocol::clock_reset::{ClockReset, ClockResetBody, ClockResetReply};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId, LockNonce};
use keyway_protocol::issuer::verify_receipt;
use p256::ecdsa::SigningKey;
use serde_json::{Value, json};

const DAY: u32 = 86_400;

/// A reset signed deterministically (RFC 6979) with `key`.
fn reset(key: &SigningKey, door: DoorId, nonce: LockNonce, time: u32) -> ClockReset {
    let body = ClockResetBody { door, issuer: KeyId::of_public_key(&uncompressed(key)), nonce, time };
    ClockReset { body, signature: sign(key, &body.signed_message()) }
}

/// Sends a reset as the phone carries it, and records what the phone role reads back.
fn send_reset(live: &mut Live, actors: &Actors, reset: &ClockReset) {
    let b = &reset.body;
    live.note_phone(json!({
        "path": "clock reset",
        "door": b.door.to_hex(),
        "issuer_key_id": b.issuer.to_hex(),
        "lock_nonce": b.nonce.to_hex(),
        "time": b.time,
        "signed_message": hex::encode(b.signed_message()),
        "issuer_signature": hex::encode(reset.signature),
    }));
    send_and_read(live, actors, &reset.to_message());
}

/// Sends a message and records what the phone role reads from the lock's answer to it: a
/// plaintext refusal, or a reset reply with its receipt checked against the lock's key.
fn send_and_read(live: &mut Live, actors: &Actors, message: &[u8]) {
    let Some(reply) = live.send(message) else {
        return;
    };
    let reads = match reply.first() {
        Some(0x7f) => json!({
            "plaintext_refusal": format!("{:?}", Refusal::from_code(reply[2]).unwrap()),
            "fresh_nonce": hex::encode(&reply[3..11]),
        }),
        _ => {
            let parsed = ClockResetReply::from_bytes(&reply).unwrap();
            let public = uncompressed(&actors.lock_signing_key());
            let receipt = verify_receipt(&public, &parsed.receipt.to_bytes()).unwrap();
            json!({
                "status": match parsed.status { Ok(()) => "applied".to_string(), Err(e) => format!("{e:?}") },
                "receipt": hex::encode(parsed.receipt.to_bytes()),
                "receipt_lock_clock": receipt.body.lock_clock,
                "receipt_bundle_version": receipt.body.bundle_version,
                "receipt_events": receipt.body.events.len(),
                "receipt_more_pending": receipt.body.more_pending,
            })
        }
    };
    live.phone_reads(reads);
}

/// `clock_reset.json`.
pub fn clock_reset_cases(actors: &Actors) -> Value {
    let issuer = actors.issuer_key();
    let mut cases = Vec::new();

    let name = "reset_back_then_full_bundle";
    let ahead = VECTOR_NOW + 30 * DAY;
    let mut lock = base_lock(actors, name);
    lock.floor = ahead;
    lock.now = ahead;
    lock.version = 7;
    ticket_for(&mut lock, name, &member(actors), VECTOR_NOW - 600);
    let mut live = Live::with_rtc(lock, name, VECTOR_NOW);
    let nonce = live.nonce();
    send_reset(&mut live, actors, &reset(&issuer, VECTOR_DOOR, nonce, VECTOR_NOW));
    let mut channel = sync_only(actors, &mut live, name, false);
    deliver(&mut live, &mut channel, &bundle_at(actors, 8, 7, VECTOR_NOW + 60, 0, Vec::new()));
    let full = vec![Revocation { credential: CredentialId(*b"revoked-member-1"), expires: VECTOR_NOW + DAY }];
    deliver(&mut live, &mut channel, &bundle_at(actors, 7, 0, VECTOR_NOW + 60, 0, full));
    cases.push(live.finish(name, "A lock whose floor ran 30 days ahead of the rtc (an RTC that read ahead at start-up was saved into it): its effective clock is the floor, so every key looks expired. Step 0: a clock reset signed by the issuer for this door and the advertised nonce, setting the backend's time (the rtc). The lock consumes the nonce, checks door, freshness and signature, sets floor and effective clock to the time, records audit kind 5 (detail: the clock before, rtc + 30 days; time: the new clock) and answers 07 01 00 with a receipt signed after the reset: no events (the reply is in the clear), `more pending` set since events wait. The clock went back, so the ticket table is emptied and the lock waits for a full bundle. Step 1: a standard SyncOnly handshake on the fresh nonce is granted (the key is inside its window again). Step 2: an incremental bundle (version 8 from base 7) is refused `BundleGap`: only a full bundle is taken. Step 3: a full bundle (base 0) repeating the lock's own version 7 is applied (B4 allows the same version while waiting), its revocation restored, and the wait ends."));

    let name = "reset_forward";
    let mut lock = base_lock(actors, name);
    lock.revoked.insert(CredentialId(*b"expires-in-1-h-1"), VECTOR_NOW + 3600);
    lock.revoked.insert(CredentialId(*b"expires-in-10-d1"), VECTOR_NOW + 10 * DAY);
    let mut live = Live::new(lock, name);
    let nonce = live.nonce();
    send_reset(&mut live, actors, &reset(&issuer, VECTOR_DOOR, nonce, VECTOR_NOW + 2 * DAY));
    cases.push(live.finish(name, "A lock whose clock fell two days behind (a bundle may raise it by 24 h at most, B5a). A reset to rtc + 2 days: floor and effective clock move forward to it, audit kind 5 records the clock before (the rtc); revocations whose expiry is now past are dropped (the one expiring in an hour), the later one kept; no full bundle is needed, since nothing can have been pruned early. The reply's receipt reads the new clock."));

    let name = "reset_refusals";
    let mut live = Live::new(base_lock(actors, name), name);
    let first = live.nonce();
    send_reset(&mut live, actors, &reset(&issuer, OTHER_DOOR, first, VECTOR_NOW + DAY));
    let retired = det_key("a retired issuer key");
    let fresh = live.nonce();
    send_reset(&mut live, actors, &reset(&retired, VECTOR_DOOR, fresh, VECTOR_NOW + DAY));
    send_reset(&mut live, actors, &reset(&issuer, VECTOR_DOOR, first, VECTOR_NOW + DAY));
    let mut bad_format = reset(&issuer, VECTOR_DOOR, live.nonce(), VECTOR_NOW + DAY).to_message();
    bad_format[2] = 0x02;
    live.note_phone(json!({ "path": "clock reset with reset format 02", "message": hex::encode(&bad_format) }));
    send_and_read(&mut live, actors, &bad_format);
    cases.push(live.finish(name, "Four resets the lock refuses in the clear, none changing its clock. Step 0: signed for another door (`WrongDoor`, after the nonce is consumed). Step 1: for this door and the fresh nonce, signed by a key that is not a trust anchor (`BundleBadSignature`). Step 2: correctly signed, but for the nonce step 0 consumed (`StaleNonce`: a reset is single use). Step 3: reset format 02, which does not parse (`Malformed`, no nonce consumed). Each counts as an attempt: after the fourth the connection is closed."));

    file(
        "Signed clock resets (§6.4, message 0x06, reply 0x07, audit kind 5). Fields as in refusals_standard.json; `lock_before` and `lock_after` hold `full_bundle_needed`, set when a reset moved the clock back. The phone steps hold the reset's fields, the message the issuer signed and its signature (RFC 6979).",
        cases,
    )
}
