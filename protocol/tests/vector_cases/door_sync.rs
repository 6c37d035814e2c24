//! The door-sync vectors: SyncOnly on both paths, receipt requests, receipts that page
//! through a long audit log, and how a bundle changes the lock's revocations and audit log.

use super::handshakes::member;
use super::live::{
    DeviceSigner, Live, StandardInputs, base_lock, fast_phone_to_lock_key, fast_request, file, read_reply, read_sync,
    seal, standard_request, ticket_for,
};
use super::{Actors, VECTOR_DOOR, VECTOR_NOW, sign_bundle_with};
use crate::common::MemoryLock;
use keyway_protocol::Command;
use keyway_protocol::bundle::{
    Bundle, BundleBody, LockConfig, MAX_BUNDLE_TIME_AHEAD_SECS, MAX_BUNDLE_VERSION_STEP, Revocation, RevocationList,
};
use keyway_protocol::ids::{CredentialId, KeyId};
use keyway_protocol::phone::PhoneChannel;
use keyway_protocol::receipt::{AuditEvent, AuditKind};
use serde_json::{Value, json};

fn bundle(actors: &Actors, version: u32, base: u32, acknowledged: u64, revocations: Vec<Revocation>) -> Bundle {
    bundle_at(actors, version, base, VECTOR_NOW + 60, acknowledged, revocations)
}

/// A bundle for the vector door signed (RFC 6979) by the actors' issuer at `signed_time`.
pub fn bundle_at(
    actors: &Actors,
    version: u32,
    base: u32,
    signed_time: u32,
    acknowledged: u64,
    revocations: Vec<Revocation>,
) -> Bundle {
    sign_bundle_with(
        &actors.issuer_key(),
        BundleBody {
            door: VECTOR_DOOR,
            issuer: KeyId::default(),
            version,
            base_version: base,
            signed_time,
            audit_acknowledged: acknowledged,
            config: LockConfig::default(),
            revocations: RevocationList::Ids(revocations),
            doorcodes: None,
        },
    )
}

/// A standard SyncOnly handshake asking for a ticket; returns the phone's channel.
fn sync_only_standard(actors: &Actors, live: &mut Live, label: &str) -> PhoneChannel {
    sync_only(actors, live, label, true)
}

/// A standard SyncOnly handshake; returns the phone's channel.
pub fn sync_only(actors: &Actors, live: &mut Live, label: &str, want_ticket: bool) -> PhoneChannel {
    let (how, request, awaiting) = standard_request(
        actors,
        StandardInputs {
            label,
            door: VECTOR_DOOR,
            nonce: live.nonce(),
            credential: &member(actors).to_bytes(),
            command: Command::SyncOnly,
            want_ticket,
            signer: DeviceSigner::Device,
        },
    );
    live.note_phone(how);
    let reply = live.send(&request).unwrap();
    let (reads, channel) = read_reply(awaiting, &reply);
    live.phone_reads(reads);
    channel.expect("granted")
}

pub fn receipt_request(live: &mut Live, channel: &mut PhoneChannel) {
    let message = channel.request_receipt().unwrap();
    let reply = live.send(&message).unwrap();
    live.phone_reads(read_sync(channel, &reply));
}

pub fn deliver(live: &mut Live, channel: &mut PhoneChannel, bundle: &Bundle) {
    let message = channel.deliver_bundle(&bundle.to_bytes()).unwrap();
    live.note_phone(json!({ "path": "sealed bundle", "bundle": hex::encode(bundle.to_bytes()) }));
    let reply = live.send(&message).unwrap();
    live.phone_reads(read_sync(channel, &reply));
}

fn revocation(id: &[u8; 16], expires: u32) -> Revocation {
    Revocation { credential: CredentialId(*id), expires }
}

/// `door_sync.json`.
pub fn door_sync_cases(actors: &Actors) -> Value {
    let mut cases = Vec::new();

    let name = "sync_only_and_receipt_requests";
    let mut live = Live::new(base_lock(actors, name), name);
    let mut channel = sync_only_standard(actors, &mut live, name);
    receipt_request(&mut live, &mut channel);
    receipt_request(&mut live, &mut channel);
    cases.push(live.finish(name, "A standard SyncOnly handshake with a ticket asked for: granted, open time 0, nothing actuated and nothing audited, a ticket issued. Then two receipt requests (sealed inner 0x03, empty body): each answered with status 0 and a receipt of the same unacknowledged events (3 and 4), signed at the same clock; the channel counters advance."));

    let name = "sync_only_fast_and_bundle";
    let mut lock = base_lock(actors, name);
    lock.revoked.insert(CredentialId(*b"revoked-earlier1"), VECTOR_NOW + 200);
    let ticket = ticket_for(&mut lock, name, &member(actors), VECTOR_NOW - 600);
    let mut live = Live::new(lock, name);
    let (how, request, awaiting) = fast_request(name, VECTOR_DOOR, live.nonce(), ticket, Command::SyncOnly);
    live.note_phone(how);
    let reply = live.send(&request).unwrap();
    let (reads, channel) = read_reply(awaiting, &reply);
    live.phone_reads(reads);
    let mut channel = channel.unwrap();
    let b = bundle(
        actors,
        1,
        0,
        3,
        vec![
            revocation(b"revoked-twice-01", VECTOR_NOW + 100),
            revocation(b"revoked-twice-01", VECTOR_NOW + 5000),
            revocation(b"revoked-earlier1", VECTOR_NOW + 50),
            revocation(b"already-expired1", VECTOR_NOW - 10),
            revocation(b"expires-in-30-s1", VECTOR_NOW + 30),
        ],
    );
    deliver(&mut live, &mut channel, &b);
    cases.push(live.finish(name, "A fast SyncOnly handshake (granted, nothing audited, the next ticket issued), then a bundle (version 1 from base 0, signed time rtc + 60, acknowledging up to 3). B6: the clock floor rises to the signed time, so the bundle-applied event, the receipt's clock and every later time read rtc + 60. Revocations: a credential named twice in the bundle keeps the later expiry; one already in the set with a later expiry keeps it; entries whose expiry is below the new effective clock (one already expired, one 30 s after the rtc) are dropped at once. Event 3 is acknowledged and dropped."));

    let name = "receipt_with_more_pending";
    let mut lock = base_lock(actors, name);
    lock.acked = 40;
    lock.events = (41..=298u64)
        .map(|seq| AuditEvent {
            seq,
            time: VECTOR_NOW - 10_000 + seq as u32,
            kind: if seq % 2 == 0 {
                AuditKind::Granted { fast: seq % 4 == 0 }
            } else {
                AuditKind::Refused(keyway_protocol::Refusal::Expired)
            },
            credential: Some(CredentialId(*b"keyway-vector-01")),
        })
        .collect();
    lock.next_seq = 299;
    let mut live = Live::new(lock, name);
    let mut channel = sync_only_standard(actors, &mut live, name);
    receipt_request(&mut live, &mut channel);
    deliver(&mut live, &mut channel, &bundle(actors, 1, 0, 296, Vec::new()));
    cases.push(live.finish(name, "258 unacknowledged events (41 to 298; 1 to 40 acknowledged). A receipt request returns the oldest 256 (41 to 296) with `more pending` set. A bundle acknowledging up to 296 drops them; its receipt carries 297, 298 and the new bundle-applied event 299, with `more pending` clear."));

    let name = "acknowledged_above_highest_sequence";
    let mut live = Live::new(base_lock(actors, name), name);
    let mut channel = sync_only_standard(actors, &mut live, name);
    deliver(&mut live, &mut channel, &bundle(actors, 1, 0, 1000, Vec::new()));
    receipt_request(&mut live, &mut channel);
    cases.push(live.finish(name, "The lock's highest sequence number is 4 and a bundle acknowledges up to 1000: every event the lock holds is dropped, the acknowledged count is recorded as 4 (nothing above the highest number used can be acknowledged), and numbering continues at 5 with the bundle-applied event."));

    cases.extend(bundle_bound_cases(actors));
    cases.push(sealed_after_fast(actors, "receipt_request_with_body", 0x03, &[0x00], "A receipt request whose body is not empty (inner 0x03 then one byte 00), sealed correctly: not a valid channel message, so the lock closes the connection without answering (C4)."));
    cases.push(sealed_after_fast(actors, "unknown_inner_kind", 0x04, &[], "A sealed message with inner kind 0x04, which no version-1 phone sends: the lock closes the connection without answering (C4)."));
    file(
        "Door sync (§9.4, §9.5, §10.2, §10.3): SyncOnly, receipt requests, receipts with events pending, what a bundle does to the revocation set and the audit log, and bundles just inside and just outside the bounds on their version step (B4a) and signed time (B5a). Fields as in refusals_standard.json; `phone_reads` is what the phone role reads from a reply.",
        cases,
    )
}

/// The bounds of B4a and B5a: for each, a bundle just inside (applied) and one just
/// outside (refused, the lock unchanged: `lock_after` differs from `lock_before` only in
/// the advertised nonce). The handshake asks for no ticket, so nothing else moves.
fn bundle_bound_cases(actors: &Actors) -> Vec<Value> {
    let step = MAX_BUNDLE_VERSION_STEP;
    let ahead = MAX_BUNDLE_TIME_AHEAD_SECS;
    let bounds: [(&str, u32, u32, String); 4] = [
        (
            "bundle_version_step_at_the_limit",
            step,
            VECTOR_NOW + 60,
            format!("A lock at version 0 takes a bundle of version 2^20 = {step} from base 0 (B4a: the step is exactly the limit): applied, like any bundle (B6-B8); the floor rises to the signed time, rtc + 60."),
        ),
        (
            "bundle_version_jump_refused",
            step + 1,
            VECTOR_NOW + 60,
            format!("A lock at version 0 is offered version 2^20 + 1 = {} from base 0: one more than the step a bundle may take (B4a), so it is refused `BundleVersionJump` (code 22) in the sync reply. Nothing changes: the version, the floor, the audit log (the refusal is not audited) and the receipt's clock are as before.", step + 1),
        ),
        (
            "bundle_time_ahead_at_the_limit",
            1,
            VECTOR_NOW + ahead,
            "A bundle signed exactly 24 h (86400 s) after the lock's effective clock (B5a: at the limit): applied; the floor and the effective clock rise to the signed time, so the bundle-applied event and the receipt read rtc + 86400.".to_string(),
        ),
        (
            "bundle_time_ahead_refused",
            1,
            VECTOR_NOW + ahead + 1,
            "A bundle signed 24 h and 1 s after the lock's effective clock: beyond the bound (B5a), refused `BundleTimeAhead` (code 21) in the sync reply. Nothing changes: the floor, the version and the audit log stay, and the receipt reads the rtc. (A lock that far behind is brought forward by a clock reset, clock_reset.json.)".to_string(),
        ),
    ];
    bounds
        .into_iter()
        .map(|(name, version, signed_time, description)| {
            let mut live = Live::new(base_lock(actors, name), name);
            let mut channel = sync_only(actors, &mut live, name, false);
            deliver(&mut live, &mut channel, &bundle_at(actors, version, 0, signed_time, 0, Vec::new()));
            live.finish(name, &description)
        })
        .collect()
}

/// A fast SyncOnly handshake, then a channel message sealed by hand (§5.7, §8.4: `Kpl`,
/// counter 1, associated data 05 01) with any inner kind and body.
fn sealed_after_fast(actors: &Actors, name: &str, inner: u8, body: &[u8], description: &str) -> Value {
    let mut lock: MemoryLock = base_lock(actors, name);
    let ticket = ticket_for(&mut lock, name, &member(actors), VECTOR_NOW - 600);
    let mut live = Live::new(lock, name);
    let (how, request, awaiting) = fast_request(name, VECTOR_DOOR, live.nonce(), ticket, Command::SyncOnly);
    live.note_phone(how);
    let reply = live.send(&request).unwrap();
    live.phone_reads(read_reply(awaiting, &reply).0);
    let key = fast_phone_to_lock_key(&request[..51], &ticket.1);
    let plaintext = [&[inner][..], body].concat();
    let message = [&[0x05, 0x01][..], &seal(&key, 1, &[0x05, 0x01], &plaintext)].concat();
    live.note_phone(json!({ "path": "sealed by hand", "phone_to_lock_key": hex::encode(key), "counter": 1, "plaintext": hex::encode(&plaintext) }));
    live.send(&message);
    live.finish(name, description)
}
