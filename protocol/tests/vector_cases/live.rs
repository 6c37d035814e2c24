//! Running a vector: the generator plays the phone against the reference lock role on one
//! connection and records every step; the checker replays the recorded messages against a
//! lock built from the recorded state and random values alone, and must get the same
//! replies, audit events and final state.

use super::lock_json::{build, event_hex, snapshot};
use super::{Actors, VECTOR_DOOR, VECTOR_NOW, det, fixed, hx, sign};
use crate::common::MemoryLock;
use keyway_protocol::Command;
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::{CredentialId, DoorId, LockNonce, TicketId};
use keyway_protocol::lock_role::{LockEvent, LockOutput, LockSession};
use keyway_protocol::phone::{AwaitingResponse, FastTicket, LockTarget, PhoneChannel, PhoneError, StandardUnlock};
use keyway_protocol::receipt::{AuditEvent, AuditKind};
use keyway_protocol::testkit::forge::FastKeys;
pub use keyway_protocol::testkit::forge::seal;
use p256::ecdsa::SigningKey;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

/// A lock in the state most vectors start from: the actors' keys and issuer, a floor a day
/// back, no bundle, two events waiting for a receipt (3 and 4; 1 and 2 acknowledged).
pub fn base_lock(actors: &Actors, name: &str) -> MemoryLock {
    let mut lock = actors.lock(VECTOR_DOOR, LockNonce(det(&format!("{name}/advertised nonce"))), VECTOR_NOW);
    lock.floor = VECTOR_NOW - 86_400;
    lock.next_seq = 5;
    lock.acked = 2;
    lock.events = vec![
        AuditEvent {
            seq: 3,
            time: VECTOR_NOW - 600,
            kind: AuditKind::Granted { fast: false },
            credential: Some(CredentialId(*b"keyway-vector-01")),
        },
        AuditEvent {
            seq: 4,
            time: VECTOR_NOW - 300,
            kind: AuditKind::Refused(keyway_protocol::Refusal::BadDeviceSignature),
            credential: None,
        },
    ];
    lock
}

/// One connection being recorded.
pub struct Live {
    pub lock: MemoryLock,
    rtc: u32,
    before: Value,
    session: LockSession,
    steps: Vec<Value>,
    phone: Vec<Value>,
}

fn outcome(output: &LockOutput, closed: bool) -> String {
    let text = match (&output.event, &output.reply) {
        (Some(LockEvent::Refused { reason, .. }), Some(reply)) if reply.first() == Some(&0x07) => {
            format!("clock reset refused {reason:?}, receipt")
        }
        (Some(LockEvent::Refused { reason, credential }), Some(reply)) => {
            let how = if reply.first() == Some(&0x7f) { "plaintext" } else { "encrypted" };
            let id = if credential.is_some() { "credential id known" } else { "no credential id" };
            format!("{how} refusal {reason:?} ({id})")
        }
        (Some(LockEvent::Granted { fast, command, .. }), _) => {
            format!("granted, {} path, {command:?}", if *fast { "fast" } else { "standard" })
        }
        (Some(LockEvent::BundleApplied { version }), _) => format!("bundle version {version} applied, receipt"),
        (Some(LockEvent::BundleRefused { reason }), _) => format!("bundle refused {reason:?}, receipt"),
        (Some(LockEvent::ClockReset { previous, time }), _) => {
            format!("clock reset from {previous} to {time}, receipt")
        }
        (None, Some(_)) => "receipt".to_string(),
        (_, None) => "no answer".to_string(),
    };
    if closed { format!("{text}; connection closed") } else { text }
}

/// Delivers one message and describes what the lock did.
fn step(lock: &mut MemoryLock, session: &mut LockSession, message: &[u8]) -> (Value, Option<Vec<u8>>) {
    let first_new = lock.next_seq;
    let output = lock.deliver_on(session, message);
    let appended: Vec<String> = lock.events.iter().filter(|e| e.seq >= first_new).map(event_hex).collect();
    let closed = session.is_closed();
    let v = json!({
        "message": hex::encode(message),
        "reply": output.reply.as_ref().map(hex::encode),
        "outcome": outcome(&output, closed),
        "audit_appended": appended,
        "closed": closed,
    });
    (v, output.reply)
}

impl Live {
    /// Starts recording a connection to `lock` as it is now, its real-time clock reading
    /// its effective clock.
    pub fn new(lock: MemoryLock, name: &str) -> Self {
        let rtc = lock.now;
        Self::with_rtc(lock, name, rtc)
    }

    /// Starts recording a connection to `lock` whose real-time clock reads `rtc` (below
    /// the effective clock when the floor is ahead of it).
    pub fn with_rtc(mut lock: MemoryLock, name: &str, rtc: u32) -> Self {
        assert_eq!(lock.now, rtc.max(lock.floor), "effective clock = max(rtc, floor)");
        lock.rng_seed = name.to_string();
        lock.drawn.clear();
        let before = snapshot(&lock, rtc);
        Self { lock, rtc, before, session: LockSession::new(), steps: Vec::new(), phone: Vec::new() }
    }

    /// Records how the phone built the next message.
    pub fn note_phone(&mut self, mut how: Value) {
        how["step"] = json!(self.steps.len());
        self.phone.push(how);
    }

    /// Sends one message; returns the lock's reply.
    pub fn send(&mut self, message: &[u8]) -> Option<Vec<u8>> {
        let (v, reply) = step(&mut self.lock, &mut self.session, message);
        self.steps.push(v);
        reply
    }

    /// Adds what the phone role read from the last reply.
    pub fn phone_reads(&mut self, reads: Value) {
        if let Some(last) = self.steps.last_mut() {
            last["phone_reads"] = reads;
        }
    }

    /// The advertised nonce now.
    pub fn nonce(&self) -> LockNonce {
        self.lock.nonce
    }

    /// The finished vector.
    pub fn finish(self, name: &str, description: &str) -> Value {
        json!({
            "name": name,
            "description": description,
            "lock_before": self.before,
            "phone": self.phone,
            "lock_random": self.lock.drawn.iter().map(hex::encode).collect::<Vec<_>>(),
            "steps": self.steps,
            "lock_after": snapshot(&self.lock, self.rtc),
        })
    }
}

/// Replays a recorded vector against a lock built only from what it records; returns the
/// lock-side fields, which must equal the recorded ones.
pub fn replay(actors: &Actors, case: &Value) -> Value {
    let mut lock = build(actors, &case["lock_before"]);
    let rtc = case["lock_before"]["rtc"].as_u64().unwrap() as u32;
    lock.strict_random = true;
    lock.scripted_random =
        case["lock_random"].as_array().unwrap().iter().map(|r| hex::decode(r.as_str().unwrap()).unwrap()).collect();
    let mut session = LockSession::new();
    let steps: Vec<Value> =
        case["steps"].as_array().unwrap().iter().map(|s| step(&mut lock, &mut session, &hx(s, "message")).0).collect();
    assert!(lock.scripted_random.is_empty(), "{}: recorded random values left unused", case["name"]);
    json!({ "steps": steps, "lock_after": snapshot(&lock, rtc) })
}

/// The lock-side part of a recorded vector, to compare with [`replay`].
pub fn lock_side(case: &Value) -> Value {
    let steps: Vec<Value> = case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.as_object_mut().unwrap().remove("phone_reads");
            s
        })
        .collect();
    json!({ "steps": steps, "lock_after": case["lock_after"] })
}

/// How the device signs a standard request.
pub enum DeviceSigner {
    /// The device key, RFC 6979, as it comes (low or high S).
    Device,
    /// The device key, with `s` replaced by `n − s` if it came out low: a high-S signature.
    DeviceHighS,
    /// Another key (a copied credential used from another phone).
    Other(SigningKey),
}

/// What a standard request is made of.
pub struct StandardInputs<'a> {
    pub label: &'a str,
    pub door: DoorId,
    pub nonce: LockNonce,
    pub credential: &'a [u8],
    pub command: Command,
    pub want_ticket: bool,
    pub signer: DeviceSigner,
}

/// The phone role builds a standard request; returns how (for the vector), the bytes and
/// the phone's waiting state.
pub fn standard_request(actors: &Actors, i: StandardInputs<'_>) -> (Value, Vec<u8>, AwaitingResponse) {
    let ephemeral: [u8; 32] = det(&format!("{}/phone ephemeral secret", i.label));
    p256::SecretKey::from_slice(&ephemeral).expect("a scalar in [1, n-1]");
    let target = LockTarget { door: i.door, lock_public_key: actors.lock_kem_public(), nonce: i.nonce };
    let unlock = StandardUnlock::begin(&target, i.credential, i.command, i.want_ticket, &fixed(&ephemeral)).unwrap();
    let message = unlock.signing_message();
    let signature = match &i.signer {
        DeviceSigner::Device => sign(&actors.device_key(), &message),
        DeviceSigner::DeviceHighS => {
            let s = sign(&actors.device_key(), &message);
            if super::is_high_s(&s) { s } else { super::flip_s(&s) }
        }
        DeviceSigner::Other(key) => sign(key, &message),
    };
    let (awaiting, request) = unlock.finish(&signature);
    let how = json!({
        "path": "standard",
        "door": i.door.to_hex(),
        "lock_nonce": i.nonce.to_hex(),
        "credential": hex::encode(i.credential),
        "command": command_name(i.command),
        "want_ticket": i.want_ticket,
        "phone_ephemeral_secret": hex::encode(ephemeral),
        "device_signing_message": hex::encode(&message),
        "device_signature": hex::encode(signature),
        "device_signature_high_s": super::is_high_s(&signature),
    });
    (how, request, awaiting)
}

pub fn command_name(c: Command) -> &'static str {
    match c {
        Command::Unlock => "unlock",
        Command::SyncOnly => "sync_only",
    }
}

/// The phone role builds a fast request with a ticket.
pub fn fast_request(
    label: &str,
    door: DoorId,
    nonce: LockNonce,
    ticket: (TicketId, [u8; 32]),
    command: Command,
) -> (Value, Vec<u8>, AwaitingResponse) {
    let phone_nonce: [u8; 16] = det(&format!("{label}/phone nonce"));
    let t = FastTicket { door, id: ticket.0, secret: Zeroizing::new(ticket.1) };
    let (awaiting, request) =
        keyway_protocol::phone::fast_unlock(door, nonce, &t, command, &fixed(&phone_nonce)).unwrap();
    let how = json!({
        "path": "fast",
        "door": door.to_hex(),
        "lock_nonce": nonce.to_hex(),
        "ticket_id": ticket.0.to_hex(),
        "resumption_secret": hex::encode(ticket.1),
        "phone_nonce": hex::encode(phone_nonce),
        "command": command_name(command),
    });
    (how, request, awaiting)
}

/// What the phone role reads from a handshake reply.
pub fn read_reply(awaiting: AwaitingResponse, reply: &[u8]) -> (Value, Option<PhoneChannel>) {
    match awaiting.on_response(reply) {
        Ok((r, channel)) => {
            let v = json!({
                "outcome": match r.outcome { Ok(()) => "granted".to_string(), Err(e) => format!("refused {e:?}") },
                "lock_clock": r.lock_clock,
                "bundle_version": r.bundle_version,
                "open_ms": r.open_ms,
                "ticket_id": r.ticket.as_ref().map(|t| t.id.to_hex()),
                "resumption_secret": r.ticket.as_ref().map(|t| hex::encode(t.secret.as_ref())),
            });
            (v, r.outcome.is_ok().then_some(channel))
        }
        Err(PhoneError::UnauthenticatedRefusal { reason, fresh_nonce }) => {
            (json!({ "plaintext_refusal": format!("{reason:?}"), "fresh_nonce": fresh_nonce.to_hex() }), None)
        }
        Err(e) => panic!("the phone could not read the lock's reply: {e}"),
    }
}

/// What the phone role reads from a sync reply.
pub fn read_sync(channel: &mut PhoneChannel, reply: &[u8]) -> Value {
    let sync = channel.on_sync_reply(reply).unwrap();
    json!({
        "status": match sync.applied { Ok(()) => "applied".to_string(), Err(e) => format!("{e:?}") },
        "receipt": hex::encode(&sync.receipt_bytes),
        "receipt_events": sync.receipt.body.events.len(),
        "receipt_more_pending": sync.receipt.body.more_pending,
    })
}

/// Keys of a fast handshake computed from §8.3 by the test kit (ring's HMAC, not the
/// crate's key schedule): `Kpl` for the given clear header and resumption secret.
pub fn fast_phone_to_lock_key(header: &[u8], secret: &[u8; 32]) -> [u8; 32] {
    FastKeys::derive(header, secret).phone_to_lock
}

/// A fast request built by hand from §5.4 and §8.3, with any plaintext in place of the
/// command byte.
pub fn raw_fast_request(
    door: DoorId,
    nonce: LockNonce,
    ticket: (TicketId, [u8; 32]),
    phone_nonce: [u8; 16],
    plaintext: &[u8],
) -> Vec<u8> {
    let header = [&[0x03, 0x01, 0x01][..], &door.0, &nonce.0, &ticket.0.0, &phone_nonce].concat();
    let key = fast_phone_to_lock_key(&header, &ticket.1);
    [header.clone(), seal(&key, 0, &header, plaintext)].concat()
}

/// A stored ticket for `credential`'s rules, with a secret and id from labels.
pub fn ticket_for(lock: &mut MemoryLock, label: &str, credential: &Credential, issued: u32) -> (TicketId, [u8; 32]) {
    let id = TicketId(det(&format!("{label}/ticket id")));
    let secret: [u8; 32] = det(&format!("{label}/resumption secret"));
    let b = &credential.body;
    lock.tickets.insert(
        id,
        keyway_protocol::lock_role::TicketEntry {
            secret: Zeroizing::new(secret),
            credential: b.id,
            parent: b.parent,
            issuer: b.issuer,
            not_before: b.not_before,
            not_after: b.not_after,
            holder: keyway_protocol::lock_role::TicketHolder::of(b),
        },
    );
    lock.ticket_issued.insert(id, issued);
    (id, secret)
}

/// The object a vector file holds: a description and its cases.
pub fn file(description: &str, cases: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("description".into(), json!(description));
    m.insert("cases".into(), json!(cases));
    Value::Object(m)
}
