//! The lock's state as a vector records it (`lock_before`, `lock_after`): everything the
//! lock's answers depend on, so that a reader can set up their own lock the same way.

use super::{Actors, hx, num};
use crate::common::MemoryLock;
use keyway_protocol::bundle::LockConfig;
use keyway_protocol::ids::{CredentialId, KeyId, LockNonce, TicketId};
use keyway_protocol::lock_role::{TicketEntry, TicketHolder};
use keyway_protocol::receipt::{AuditEvent, AuditKind};
use p256::ecdsa::VerifyingKey;
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// One audit event in its §6.3 wire form.
pub fn event_hex(e: &AuditEvent) -> String {
    let (kind, detail) = e.kind.encode();
    let mut out = Vec::with_capacity(34);
    out.extend_from_slice(&e.seq.to_be_bytes());
    out.extend_from_slice(&e.time.to_be_bytes());
    out.push(kind);
    out.extend_from_slice(&detail.to_be_bytes());
    match e.credential {
        Some(id) => {
            out.push(1);
            out.extend_from_slice(&id.0);
        }
        None => out.push(0),
    }
    hex::encode(out)
}

/// Reads an event written by [`event_hex`].
pub fn event_from_hex(s: &str) -> AuditEvent {
    let b = hex::decode(s).unwrap();
    let credential = match b[17] {
        0 => {
            assert_eq!(b.len(), 18);
            None
        }
        _ => {
            assert_eq!(b.len(), 34);
            Some(CredentialId(b[18..34].try_into().unwrap()))
        }
    };
    AuditEvent {
        seq: u64::from_be_bytes(b[..8].try_into().unwrap()),
        time: u32::from_be_bytes(b[8..12].try_into().unwrap()),
        kind: AuditKind::decode(b[12], u32::from_be_bytes(b[13..17].try_into().unwrap())).unwrap(),
        credential,
    }
}

/// A ticket entry as the lock stores it, with its issue time.
pub fn ticket_json(id: &TicketId, t: &TicketEntry, issued: u32) -> Value {
    json!({
        "id": id.to_hex(),
        "secret": hex::encode(t.secret.as_ref()),
        "credential": t.credential.to_hex(),
        "parent": t.parent.map(|p| p.to_hex()),
        "issuer_key_id": t.issuer.to_hex(),
        "not_before": t.not_before,
        "not_after": t.not_after,
        "holder": hex::encode(t.holder.0),
        "issued": issued,
    })
}

/// Everything about a lock a vector needs: its state, as JSON, read back into a
/// [`MemoryLock`] with the actors' keys.
pub fn snapshot(lock: &MemoryLock, rtc: u32) -> Value {
    let mut anchors: Vec<(KeyId, Vec<u8>)> =
        lock.anchors.iter().map(|(id, key)| (*id, key.to_sec1_point(false).as_bytes().to_vec())).collect();
    anchors.sort_by_key(|(id, _)| id.0);
    let mut tickets: Vec<_> = lock.tickets.iter().collect();
    tickets.sort_by_key(|(id, _)| id.0);
    json!({
        "door": lock.door.to_hex(),
        "rtc": rtc,
        "clock_floor": lock.floor,
        "effective_clock": lock.now,
        "advertised_nonce": lock.nonce.to_hex(),
        "trust_anchors": anchors.iter().map(|(_, key)| hex::encode(key)).collect::<Vec<_>>(),
        "revocations": lock.revoked.iter().map(|(c, e)| json!({"credential": c.to_hex(), "expires": e})).collect::<Vec<_>>(),
        "bundle_version": lock.version,
        "full_bundle_needed": lock.full_bundle_needed,
        "unlock_duration_ms": lock.config.unlock_duration_ms,
        "fast_unlock": lock.config.fast_unlock,
        "tickets": tickets.iter().map(|(id, t)| ticket_json(id, t, lock.ticket_issued[id])).collect::<Vec<_>>(),
        "audit_next_seq": lock.next_seq,
        "audit_acknowledged": lock.acked,
        "audit_events": lock.events.iter().map(event_hex).collect::<Vec<_>>(),
        "actuation_ms": lock.actuation_ms,
    })
}

/// Builds the lock a snapshot describes (keys from the actors).
pub fn build(actors: &Actors, v: &Value) -> MemoryLock {
    let rtc = num(v, "rtc") as u32;
    let floor = num(v, "clock_floor") as u32;
    let mut lock = actors.lock(
        keyway_protocol::ids::DoorId(hx(v, "door").try_into().unwrap()),
        LockNonce(hx(v, "advertised_nonce").try_into().unwrap()),
        rtc.max(floor),
    );
    assert_eq!(num(v, "effective_clock") as u32, rtc.max(floor), "effective clock = max(rtc, floor)");
    lock.floor = floor;
    lock.anchors = v["trust_anchors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let bytes = hex::decode(k.as_str().unwrap()).unwrap();
            (KeyId::of_public_key(&bytes), VerifyingKey::from_sec1_bytes(&bytes).unwrap())
        })
        .collect();
    lock.revoked = v["revocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (CredentialId(hx(r, "credential").try_into().unwrap()), num(r, "expires") as u32))
        .collect();
    lock.version = num(v, "bundle_version") as u32;
    lock.full_bundle_needed = v["full_bundle_needed"].as_bool().unwrap();
    lock.config = LockConfig {
        unlock_duration_ms: num(v, "unlock_duration_ms") as u16,
        fast_unlock: v["fast_unlock"].as_bool().unwrap(),
    };
    for t in v["tickets"].as_array().unwrap() {
        let id = TicketId(hx(t, "id").try_into().unwrap());
        let entry = TicketEntry {
            secret: Zeroizing::new(hx(t, "secret").try_into().unwrap()),
            credential: CredentialId(hx(t, "credential").try_into().unwrap()),
            parent: t["parent"].as_str().map(|p| CredentialId(hex::decode(p).unwrap().try_into().unwrap())),
            issuer: KeyId(hx(t, "issuer_key_id").try_into().unwrap()),
            not_before: num(t, "not_before") as u32,
            not_after: num(t, "not_after") as u32,
            holder: TicketHolder(hx(t, "holder").try_into().unwrap()),
        };
        lock.tickets.insert(id, entry);
        lock.ticket_issued.insert(id, num(t, "issued") as u32);
    }
    lock.next_seq = num(v, "audit_next_seq");
    lock.acked = num(v, "audit_acknowledged");
    lock.events = v["audit_events"].as_array().unwrap().iter().map(|e| event_from_hex(e.as_str().unwrap())).collect();
    lock.actuation_ms = num(v, "actuation_ms") as u16;
    lock
}
