//! The lock's side of the handshake and of door sync, as a state machine over one BLE
//! connection. Written against RustCrypto's P-256, AES-GCM and HKDF (not ring), so the
//! two roles interoperate through the specification, not through a shared library.
//!
//! The lock's storage (trust anchors, revocations, clock floor, ticket table, audit log)
//! lives behind [`LockEnvironment`]; the rules live here.

use crate::bundle::{Bundle, LockConfig, MAX_BUNDLE_TIME_AHEAD_SECS, MAX_BUNDLE_VERSION_STEP};
use crate::channel::{Channel, SessionSecrets, counter_nonce, labels};
use crate::clock_reset::{ClockReset, ClockResetReply};
use crate::codec::{DecodeError, Reader};
use crate::credential::{Credential, CredentialBody, UnixSeconds};
use crate::hpke::{self, PUBLIC_KEY_LEN};
use crate::ids::{CredentialId, DoorId, KeyId, LockNonce, TicketId};
use crate::messages::{
    Command, FLAG_WANT_TICKET, FastHeader, PROTOCOL_VERSION, PlainRefusal, ResponsePayload, STANDARD_HEADER_LEN,
    StandardHeader, kind, sealed_kind,
};
use crate::phone::device_signing_message;
use crate::primitives::{Primitives, RustCrypto, p256_ecdsa_verify, p256_verifying_key};
use crate::receipt::{AuditKind, MAX_RECEIPT_EVENTS, Receipt, ReceiptBody};
use crate::refusal::Refusal;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

/// Handshake attempts one connection may make before the lock stops answering it.
pub const MAX_ATTEMPTS_PER_CONNECTION: u8 = 4;

/// What the lock remembers about a fast-unlock ticket: enough to re-check the
/// credential's rules with no signature.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketEntry {
    /// The shared resumption secret.
    pub secret: Zeroizing<[u8; 32]>,
    /// The credential that earned the ticket.
    pub credential: CredentialId,
    /// Its parent, for a guest key.
    pub parent: Option<CredentialId>,
    /// The issuer that signed the credential: the ticket dies with that trust anchor.
    pub issuer: KeyId,
    /// The credential's window.
    pub not_before: UnixSeconds,
    /// The credential's window.
    pub not_after: UnixSeconds,
    /// Who holds it, for the lock's per-holder quota: one member's many credentials (or
    /// the guests they shared to) share one holder.
    pub holder: TicketHolder,
}

/// Whom a fast-unlock ticket counts against in the lock's ticket table: for a guest key,
/// the member credential it was shared from; for a member key, its device key (a digest
/// of it). A member who holds many credentials on one device, or shares many guest keys,
/// therefore fills only their own share of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketHolder(pub [u8; 16]);

impl TicketHolder {
    /// The holder of tickets earned by `credential`.
    pub fn of(credential: &CredentialBody) -> Self {
        use sha2::Digest;
        match credential.parent {
            Some(parent) => Self(parent.0),
            None => {
                let digest = sha2::Sha256::new()
                    .chain_update(b"keyway/ticket-holder/v1\0")
                    .chain_update(credential.device_key.0)
                    .finalize();
                let mut id = [0u8; 16];
                id.copy_from_slice(&digest[..16]);
                Self(id)
            }
        }
    }
}

impl std::fmt::Debug for TicketEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketEntry")
            .field("credential", &self.credential)
            .field("parent", &self.parent)
            .field("issuer", &self.issuer)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

/// The lock's keys and state, as the handshake needs them. Implemented by the
/// reference lock over its persisted state; every mutating call must be durable
/// before it returns.
pub trait LockEnvironment {
    /// This lock's door id.
    fn door(&self) -> DoorId;
    /// The static HPKE key whose public half is in the door record.
    fn kem_key(&self) -> &p256::SecretKey;
    /// The key the lock signs receipts with.
    fn signing_key(&self) -> &SigningKey;
    /// The lock's effective clock: never below the highest signed time it has seen.
    fn now(&self) -> UnixSeconds;
    /// Fills `out` from the lock's random source.
    fn fill_random(&mut self, out: &mut [u8]);
    /// Consumes `nonce` if it is one the lock has advertised and not yet seen used;
    /// in every case the lock then advertises a fresh nonce. Returns whether it was current.
    fn consume_nonce(&mut self, nonce: &LockNonce) -> bool;
    /// The nonce the lock advertises now.
    fn current_nonce(&self) -> LockNonce;
    /// The issuer key with this id, if it is a trust anchor.
    fn trust_anchor(&self, issuer: &KeyId) -> Option<VerifyingKey>;
    /// Whether a credential id is on the revocation list.
    fn is_revoked(&self, credential: &CredentialId) -> bool;
    /// The bundle version applied (0: none).
    fn bundle_version(&self) -> u32;
    /// The configuration from the latest bundle.
    fn config(&self) -> LockConfig;
    /// Removes and returns a ticket (tickets are single use).
    fn take_ticket(&mut self, id: &TicketId) -> Option<TicketEntry>;
    /// Stores a ticket, durably, evicting another if the table is full. Fails (and stores
    /// nothing) when storage fails: the lock then hands out no ticket and opens nothing.
    fn store_ticket(&mut self, id: TicketId, entry: TicketEntry) -> Result<(), Refusal>;
    /// Opens the door; returns how long actuation took, in milliseconds.
    fn actuate(&mut self) -> u16;
    /// Applies a bundle that has passed every check here, atomically: all of it or
    /// nothing. Also raises the clock floor to its signed time and drops audit events it
    /// acknowledges. Fails only when storage fails.
    fn apply_bundle(&mut self, bundle: &Bundle) -> Result<(), Refusal>;
    /// Whether the lock waits for a full bundle (base version 0) after a clock reset moved
    /// its clock back; such a bundle may then repeat the lock's own version.
    fn needs_full_bundle(&self) -> bool {
        false
    }
    /// Sets the effective clock and its floor to `time`, up or down, durably (a verified
    /// clock reset). Fails only when storage fails.
    fn reset_clock(&mut self, time: UnixSeconds) -> Result<(), Refusal>;
    /// The version of the trust-anchor set (0: the set the lock was provisioned with).
    fn anchor_set_version(&self) -> u32;
    /// Replaces the trust anchors with a verified update's set and version, durably
    /// before it takes effect: all of it or nothing. Fails only when storage fails.
    fn replace_anchors(&mut self, update: &crate::anchor_update::AnchorUpdate) -> Result<(), Refusal>;
    /// Appends an audit event (refusals may be budgeted and coalesced), durably. Fails
    /// when the event could not be saved; for a grant the lock then does not open.
    fn record(&mut self, kind: AuditKind, credential: Option<CredentialId>) -> Result<(), Refusal>;
    /// The receipt body to sign now: version, clock and unacknowledged events.
    fn receipt_body(&mut self) -> ReceiptBody;
}

/// What happened, for the lock's own log and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockEvent {
    /// A credential was accepted (`command` says whether the door opened).
    Granted {
        /// The credential.
        credential: CredentialId,
        /// Fast or standard path.
        fast: bool,
        /// Unlock or sync only.
        command: Command,
    },
    /// A request was refused.
    Refused {
        /// Why.
        reason: Refusal,
        /// The credential, when it could be read.
        credential: Option<CredentialId>,
    },
    /// A bundle was applied.
    BundleApplied {
        /// Its version.
        version: u32,
    },
    /// A bundle was refused; nothing changed.
    BundleRefused {
        /// Why.
        reason: Refusal,
    },
    /// A signed clock reset set the lock's clock.
    ClockReset {
        /// The clock before.
        previous: UnixSeconds,
        /// The clock after.
        time: UnixSeconds,
    },
}

/// What the lock does after a message: a reply to send (fragment it for the MTU) and
/// an event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockOutput {
    /// Bytes to notify, if any.
    pub reply: Option<Vec<u8>>,
    /// What happened, if anything.
    pub event: Option<LockEvent>,
}

enum State {
    AwaitingRequest { attempts: u8 },
    Channel(Channel<RustCrypto>),
    Closed,
}

/// One BLE connection as the lock sees it.
pub struct LockSession {
    state: State,
}

impl Default for LockSession {
    fn default() -> Self {
        Self::new()
    }
}

struct Checked {
    holder: TicketHolder,
    credential: CredentialId,
    parent: Option<CredentialId>,
    issuer: KeyId,
    not_before: UnixSeconds,
    not_after: UnixSeconds,
}

impl LockSession {
    /// A new connection, waiting for a request.
    pub fn new() -> Self {
        Self { state: State::AwaitingRequest { attempts: 0 } }
    }

    /// Whether the lock has stopped answering this connection (it should disconnect).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Handles one complete message from the phone.
    pub fn on_message(&mut self, message: &[u8], env: &mut impl LockEnvironment) -> LockOutput {
        let state = std::mem::replace(&mut self.state, State::Closed);
        let (next, output) = match state {
            State::AwaitingRequest { attempts } => {
                let output = match message.first() {
                    Some(&kind::STANDARD_REQUEST) => standard(message, env),
                    Some(&kind::FAST_REQUEST) => fast(message, env),
                    // A reset never opens a channel; it counts as one of the attempts.
                    Some(&kind::CLOCK_RESET) => Err(clock_reset(message, env)),
                    _ => Err(plain(Refusal::UnexpectedMessage, None, env)),
                };
                match output {
                    Ok((channel, output)) => (State::Channel(channel), output),
                    Err(output) if attempts + 1 < MAX_ATTEMPTS_PER_CONNECTION => {
                        (State::AwaitingRequest { attempts: attempts + 1 }, output)
                    }
                    Err(output) => (State::Closed, output),
                }
            }
            State::Channel(mut channel) => match channel.open(message) {
                Ok((sealed_kind::BUNDLE, body)) => {
                    let (output, ok) = sync(&mut channel, Some(&body), env);
                    (if ok { State::Channel(channel) } else { State::Closed }, output)
                }
                // A receipt request has an empty body; anything after the kind is malformed.
                Ok((sealed_kind::RECEIPT_REQUEST, body)) if body.is_empty() => {
                    let (output, ok) = sync(&mut channel, None, env);
                    (if ok { State::Channel(channel) } else { State::Closed }, output)
                }
                // Anything else in the channel is an attack or a bug: drop the connection.
                Ok(_) | Err(_) => (State::Closed, LockOutput::default()),
            },
            State::Closed => (State::Closed, LockOutput::default()),
        };
        self.state = next;
        output
    }
}

/// A refusal sent in the clear, before keys exist. Not written to the audit log: anyone
/// in radio range can cause one, and the log (and each receipt) must not fill with them.
/// The event still reaches the lock's own diagnostics through [`LockOutput`].
fn plain(reason: Refusal, credential: Option<CredentialId>, env: &mut impl LockEnvironment) -> LockOutput {
    let fresh_nonce = env.current_nonce();
    LockOutput {
        reply: Some(PlainRefusal { reason, fresh_nonce }.to_bytes()),
        event: Some(LockEvent::Refused { reason, credential }),
    }
}

type Handshake = Result<(Channel<RustCrypto>, LockOutput), LockOutput>;

fn check_header(
    version: u8,
    flags: u8,
    door: &DoorId,
    nonce: &LockNonce,
    env: &mut impl LockEnvironment,
) -> Result<(), LockOutput> {
    // Consume first: a request that fails any later check has still used the nonce.
    let fresh = env.consume_nonce(nonce);
    if version != PROTOCOL_VERSION {
        return Err(plain(Refusal::UnsupportedVersion, None, env));
    }
    if flags & !FLAG_WANT_TICKET != 0 {
        return Err(plain(Refusal::Malformed, None, env));
    }
    if *door != env.door() {
        return Err(plain(Refusal::WrongDoor, None, env));
    }
    if !fresh {
        return Err(plain(Refusal::StaleNonce, None, env));
    }
    Ok(())
}

fn standard(message: &[u8], env: &mut impl LockEnvironment) -> Handshake {
    let Ok((header, ciphertext)) = StandardHeader::parse(message) else {
        return Err(plain(Refusal::Malformed, None, env));
    };
    check_header(header.version, header.flags, &header.door, &header.nonce, env)?;
    let header_bytes = &message[..STANDARD_HEADER_LEN];
    let info = [labels::STANDARD_INFO, &header_bytes[..STANDARD_HEADER_LEN - PUBLIC_KEY_LEN]].concat();
    let Some(context) = hpke::setup_recipient(env.kem_key(), &header.enc, &info) else {
        return Err(plain(Refusal::Malformed, None, env));
    };
    let Some(payload) = context.open::<RustCrypto>(header_bytes, ciphertext).map(Zeroizing::new) else {
        return Err(plain(Refusal::DecryptFailed, None, env));
    };
    let Ok((command, credential, device_signature)) = parse_standard_payload(&payload) else {
        return Err(plain(Refusal::Malformed, None, env));
    };

    // From here the lock can answer inside the encrypted response.
    let session = context.export::<RustCrypto>(labels::SESSION_EXPORT);
    let mut response_nonce = [0u8; 16];
    env.fill_random(&mut response_nonce);
    let secrets = SessionSecrets::standard::<RustCrypto>(&header.enc, &response_nonce, &session);

    let lock_public = {
        use p256::elliptic_curve::sec1::ToSec1Point;
        env.kem_key().public_key().to_sec1_point(false)
    };
    let signed = device_signing_message(header_bytes, lock_public.as_bytes(), command, &credential.to_bytes());
    let verdict = verify_credential(&credential, &signed, &device_signature, env);

    let aad = [&[kind::STANDARD_RESPONSE, PROTOCOL_VERSION][..], &response_nonce].concat();
    let want_ticket = header.flags & FLAG_WANT_TICKET != 0;
    let (payload, event) = decide(verdict, command, false, want_ticket, &secrets, env);
    let mut reply = aad.clone();
    reply.extend_from_slice(&RustCrypto::seal(&secrets.lock_to_phone, &counter_nonce(0), &aad, &payload.to_bytes()));
    finish(payload, event, reply, secrets, 1, 0)
}

fn fast(message: &[u8], env: &mut impl LockEnvironment) -> Handshake {
    let Ok((header, ciphertext)) = FastHeader::parse(message) else {
        return Err(plain(Refusal::Malformed, None, env));
    };
    check_header(header.version, header.flags, &header.door, &header.nonce, env)?;
    if !env.config().fast_unlock {
        return Err(plain(Refusal::FastUnlockDisabled, None, env));
    }
    let Some(ticket) = env.take_ticket(&header.ticket) else {
        return Err(plain(Refusal::UnknownTicket, None, env));
    };
    let header_bytes = &message[..message.len() - ciphertext.len()];
    let secrets = SessionSecrets::fast::<RustCrypto>(header_bytes, &ticket.secret);
    let Some(payload) = RustCrypto::open(&secrets.phone_to_lock, &counter_nonce(0), header_bytes, ciphertext) else {
        // The ticket was taken: a forged request costs the holder their ticket (they fall
        // back to a standard unlock), never grants anything.
        return Err(plain(Refusal::DecryptFailed, None, env));
    };
    let command = match payload.as_slice() {
        [b] => match Command::from_byte(*b) {
            Ok(c) => c,
            Err(_) => return Err(plain(Refusal::Malformed, Some(ticket.credential), env)),
        },
        _ => return Err(plain(Refusal::Malformed, Some(ticket.credential), env)),
    };
    let checked = Checked {
        holder: ticket.holder,
        credential: ticket.credential,
        parent: ticket.parent,
        issuer: ticket.issuer,
        not_before: ticket.not_before,
        not_after: ticket.not_after,
    };
    let verdict = check_rules(checked, env);
    let want_ticket = header.flags & FLAG_WANT_TICKET != 0;
    let (payload, event) = decide(verdict, command, true, want_ticket, &secrets, env);
    let aad = [kind::FAST_RESPONSE, PROTOCOL_VERSION];
    let mut reply = aad.to_vec();
    reply.extend_from_slice(&RustCrypto::seal(&secrets.lock_to_phone, &counter_nonce(0), &aad, &payload.to_bytes()));
    finish(payload, event, reply, secrets, 1, 1)
}

fn finish(
    payload: ResponsePayload,
    event: LockEvent,
    reply: Vec<u8>,
    secrets: SessionSecrets,
    send_counter: u64,
    recv_counter: u64,
) -> Handshake {
    let output = LockOutput { reply: Some(reply), event: Some(event) };
    if payload.outcome.is_err() {
        // Authenticated refusal: no channel. The phone may try again on this connection.
        return Err(output);
    }
    Ok((Channel::new(secrets.lock_to_phone, secrets.phone_to_lock, send_counter, recv_counter), output))
}

/// Grants or refuses, acting on the verdict: actuates, issues a ticket, audits.
fn decide(
    verdict: Result<Checked, (Refusal, Option<CredentialId>)>,
    command: Command,
    fast: bool,
    want_ticket: bool,
    secrets: &SessionSecrets,
    env: &mut impl LockEnvironment,
) -> (ResponsePayload, LockEvent) {
    let mut payload = ResponsePayload {
        outcome: Ok(()),
        lock_clock: env.now(),
        bundle_version: env.bundle_version(),
        open_ms: 0,
        ticket: None,
    };
    match verdict {
        Err((reason, credential)) => refuse(payload, reason, credential, env),
        Ok(checked) => {
            let mut ticket = None;
            if want_ticket && env.config().fast_unlock {
                let mut id = [0u8; 16];
                env.fill_random(&mut id);
                let entry = TicketEntry {
                    secret: Zeroizing::new(*secrets.resumption),
                    credential: checked.credential,
                    parent: checked.parent,
                    issuer: checked.issuer,
                    not_before: checked.not_before,
                    not_after: checked.not_after,
                    holder: checked.holder,
                };
                match env.store_ticket(TicketId(id), entry) {
                    Ok(()) => ticket = Some(TicketId(id)),
                    // The door opens only once its ticket is durable; a sync goes on without one.
                    Err(_) if command == Command::Unlock => {
                        return refuse(payload, Refusal::StorageFailed, Some(checked.credential), env);
                    }
                    Err(_) => {}
                }
            }
            if command == Command::Unlock {
                // The record first, durably: a door never opens without it.
                if env.record(AuditKind::Granted { fast }, Some(checked.credential)).is_err() {
                    if let Some(id) = ticket {
                        // Nobody will learn this ticket's id: drop it.
                        let _ = env.take_ticket(&id);
                    }
                    return refuse(payload, Refusal::StorageFailed, Some(checked.credential), env);
                }
                payload.open_ms = env.actuate();
            }
            payload.ticket = ticket;
            (payload, LockEvent::Granted { credential: checked.credential, fast, command })
        }
    }
}

/// An authenticated refusal: audited (budgeted by the environment), nothing opened.
fn refuse(
    mut payload: ResponsePayload,
    reason: Refusal,
    credential: Option<CredentialId>,
    env: &mut impl LockEnvironment,
) -> (ResponsePayload, LockEvent) {
    // A refusal whose record cannot be saved is still a refusal.
    let _ = env.record(AuditKind::Refused(reason), credential);
    payload.outcome = Err(reason);
    payload.ticket = None;
    payload.open_ms = 0;
    (payload, LockEvent::Refused { reason, credential })
}

fn parse_standard_payload(payload: &[u8]) -> Result<(Command, Credential, [u8; 64]), DecodeError> {
    let mut r = Reader::new(payload);
    let command = Command::from_byte(r.u8("command")?)?;
    let len = usize::from(r.u16("credential length")?);
    let credential = Credential::from_bytes(r.take(len, "credential")?)?;
    let signature = r.array("device signature")?;
    r.finish()?;
    Ok((command, credential, signature))
}

/// Checks, in this order: the issuer's signature, the device's signature (so only the
/// holder of the device key can learn anything about the credential, or leave an audit
/// event under its id), then the door, the window and revocation.
fn verify_credential(
    credential: &Credential,
    signed: &[u8],
    device_signature: &[u8; 64],
    env: &impl LockEnvironment,
) -> Result<Checked, (Refusal, Option<CredentialId>)> {
    let body = &credential.body;
    // Until both signatures verify, the id is the sender's claim: audit without it.
    let anchor = env.trust_anchor(&body.issuer).ok_or((Refusal::UnknownIssuer, None))?;
    if !p256_ecdsa_verify(&anchor, &body.signed_message(), &credential.signature) {
        return Err((Refusal::BadCredentialSignature, None));
    }
    verify_device(credential, signed, device_signature)?;
    if !body.opens(&env.door()) {
        return Err((Refusal::WrongDoor, Some(body.id)));
    }
    check_rules(
        Checked {
            holder: TicketHolder::of(body),
            credential: body.id,
            parent: body.parent,
            issuer: body.issuer,
            not_before: body.not_before,
            not_after: body.not_after,
        },
        env,
    )
}

/// The rules both paths share: the window by the lock's clock, and revocation of the
/// credential or of the key it was shared from.
fn check_rules(checked: Checked, env: &impl LockEnvironment) -> Result<Checked, (Refusal, Option<CredentialId>)> {
    let id = Some(checked.credential);
    if env.trust_anchor(&checked.issuer).is_none() {
        // Only reachable from a ticket whose issuer has since been removed.
        return Err((Refusal::UnknownIssuer, id));
    }
    let now = env.now();
    if now < checked.not_before {
        return Err((Refusal::NotYetValid, id));
    }
    if now > checked.not_after {
        return Err((Refusal::Expired, id));
    }
    if env.is_revoked(&checked.credential) {
        return Err((Refusal::Revoked, id));
    }
    if checked.parent.is_some_and(|parent| env.is_revoked(&parent)) {
        return Err((Refusal::ParentRevoked, id));
    }
    Ok(checked)
}

fn verify_device(
    credential: &Credential,
    signed: &[u8],
    signature: &[u8; 64],
) -> Result<(), (Refusal, Option<CredentialId>)> {
    let refusal = (Refusal::BadDeviceSignature, None);
    let key = p256_verifying_key(&credential.body.device_key.0).ok_or(refusal)?;
    if p256_ecdsa_verify(&key, signed, signature) { Ok(()) } else { Err(refusal) }
}

/// What [`deliver`] did: the bundle's fate, the event, and the receipt signed after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `Ok` when the bundle was applied (or none was given); why it was refused otherwise.
    pub status: Result<(), Refusal>,
    /// What happened, for the lock's log (none when no bundle was given).
    pub event: Option<LockEvent>,
    /// The receipt signed after it: version, clock, unacknowledged events (oldest first,
    /// at most [`MAX_RECEIPT_EVENTS`]).
    pub receipt: Receipt,
}

/// Checks a bundle against the lock's state, applies it, and signs a receipt: the one path
/// by which a bundle reaches a lock, whether a phone carried it over Bluetooth (inside the
/// channel) or the lock's own online link fetched it from the backend.
pub fn deliver(bundle: Option<&[u8]>, env: &mut impl LockEnvironment) -> Delivery {
    // A trust-anchor update may travel in front of the bundle: it is applied first.
    let checked =
        bundle.map(|bytes| crate::lock_anchors::apply_anchor_update(bytes, env).and_then(|b| check_bundle(b, env)));
    let (status, event) = match checked {
        None => (Ok(()), None),
        Some(Err(reason)) => (Err(reason), Some(LockEvent::BundleRefused { reason })),
        Some(Ok(bundle)) => match env.apply_bundle(&bundle) {
            Ok(()) => {
                let _ = env.record(AuditKind::BundleApplied { version: bundle.body.version }, None);
                (Ok(()), Some(LockEvent::BundleApplied { version: bundle.body.version }))
            }
            Err(reason) => (Err(reason), Some(LockEvent::BundleRefused { reason })),
        },
    };
    let mut body = env.receipt_body();
    if body.events.len() > MAX_RECEIPT_EVENTS {
        // Oldest first; the rest wait for the next receipt.
        body.events.truncate(MAX_RECEIPT_EVENTS);
        body.more_pending = true;
    }
    Delivery { status, event, receipt: sign_receipt(body, env.signing_key()) }
}

/// [`deliver`] inside the channel: the status and receipt go back sealed.
/// Returns the output and whether the channel stays open.
fn sync(
    channel: &mut Channel<RustCrypto>,
    bundle: Option<&[u8]>,
    env: &mut impl LockEnvironment,
) -> (LockOutput, bool) {
    let Delivery { status, event, receipt } = deliver(bundle, env);
    let mut reply = vec![status.err().map_or(0, Refusal::code)];
    reply.extend_from_slice(&receipt.to_bytes());
    match channel.seal(sealed_kind::RECEIPT, &reply) {
        Ok(reply) => (LockOutput { reply: Some(reply), event }, true),
        Err(_) => (LockOutput { reply: None, event }, false),
    }
}

fn check_bundle(bytes: &[u8], env: &impl LockEnvironment) -> Result<Bundle, Refusal> {
    let bundle = Bundle::from_bytes(bytes).map_err(|_| Refusal::Malformed)?;
    let body = &bundle.body;
    if body.door != env.door() {
        return Err(Refusal::BundleWrongDoor);
    }
    let anchor = env.trust_anchor(&body.issuer).ok_or(Refusal::BundleBadSignature)?;
    if !p256_ecdsa_verify(&anchor, &body.signed_message(), &bundle.signature) {
        return Err(Refusal::BundleBadSignature);
    }
    let current = env.bundle_version();
    let full_needed = env.needs_full_bundle();
    if body.version < current || (body.version == current && !full_needed) {
        return Err(Refusal::BundleNotNewer);
    }
    if body.version - current > MAX_BUNDLE_VERSION_STEP {
        return Err(Refusal::BundleVersionJump);
    }
    if body.base_version > current || (full_needed && body.base_version != 0) {
        return Err(Refusal::BundleGap);
    }
    if body.signed_time > env.now().saturating_add(MAX_BUNDLE_TIME_AHEAD_SECS) {
        return Err(Refusal::BundleTimeAhead);
    }
    Ok(bundle)
}

/// Checks a signed clock reset and applies it: the nonce first (like a request), then
/// the version, the door, the issuer's signature. A verified reset is answered with a
/// receipt signed after it; anything else with a plaintext refusal.
fn clock_reset(message: &[u8], env: &mut impl LockEnvironment) -> LockOutput {
    let Ok((version, reset)) = ClockReset::from_message(message) else {
        return plain(Refusal::Malformed, None, env);
    };
    let body = &reset.body;
    let fresh = env.consume_nonce(&body.nonce);
    if version != PROTOCOL_VERSION {
        return plain(Refusal::UnsupportedVersion, None, env);
    }
    if body.door != env.door() {
        return plain(Refusal::WrongDoor, None, env);
    }
    if !fresh {
        return plain(Refusal::StaleNonce, None, env);
    }
    let verified = env
        .trust_anchor(&body.issuer)
        .is_some_and(|anchor| p256_ecdsa_verify(&anchor, &body.signed_message(), &reset.signature));
    if !verified {
        return plain(Refusal::BundleBadSignature, None, env);
    }
    let previous = env.now();
    let status = env.reset_clock(body.time);
    let event = match status {
        Ok(()) => {
            let _ = env.record(AuditKind::ClockReset { previous }, None);
            LockEvent::ClockReset { previous, time: body.time }
        }
        Err(reason) => LockEvent::Refused { reason, credential: None },
    };
    let mut receipt = env.receipt_body();
    // The reply travels in the clear: no audit events in it.
    receipt.more_pending |= !receipt.events.is_empty();
    receipt.events.clear();
    let reply = ClockResetReply { status, receipt: sign_receipt(receipt, env.signing_key()) };
    LockOutput { reply: Some(reply.to_bytes()), event: Some(event) }
}

/// Signs a receipt body with the lock's signing key (deterministic ECDSA, RFC 6979).
pub fn sign_receipt(body: ReceiptBody, key: &SigningKey) -> Receipt {
    use p256::ecdsa::signature::Signer;
    let signature: Signature = key.sign(&body.signed_message());
    let mut bytes = [0u8; 64];
    bytes.copy_from_slice(&signature.to_bytes());
    Receipt { body, signature: bytes }
}
