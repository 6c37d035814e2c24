//! Shared pieces of the Keyway fuzz targets: fixed keys, the test kit's in-memory lock
//! (`keyway_protocol::testkit::MemoryLock`) and phone set up with them, a byte cursor that turns fuzz input into structured choices, a writer for the same
//! format (used by the seed generator), and an independent implementation of the fast
//! path's key schedule so targets can seal fuzz-chosen plaintexts where the protocol
//! would otherwise reject them at the authentication tag.
//!
//! Nothing here is used by the protocol itself; it only drives its public API.

#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyway_protocol::bundle::{BundleBody, DoorcodeGrant, LockConfig, RevocationList};
use keyway_protocol::doorcode::{Doorcode, DoorcodeSecret, DoorcodeSlot, day_of, derive};
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::{CredentialId, DoorId, TicketId};
use keyway_protocol::issuer::IssuerKey;
use keyway_protocol::lock_role::{LockEnvironment, LockOutput, LockSession, TicketEntry, TicketHolder};
use keyway_protocol::phone::{AwaitingResponse, FastTicket, LockTarget, PhoneChannel, PhoneError, fast_unlock};
use keyway_protocol::testkit::{BundleSpec, KeySpec, MemoryLock, TestPhone};
use keyway_protocol::{Command, Refusal};
use p256::ecdsa::SigningKey;
use p256::elliptic_curve::sec1::ToSec1Point;
use std::sync::LazyLock;
use zeroize::Zeroizing;

/// The lock's clock at the start of every run (the test kit's).
pub const NOW: u32 = keyway_protocol::testkit::NOW;
/// The door of the lock under test.
pub const DOOR: DoorId = DoorId([0xd0, 0x0f, 0, 0, 0, 0, 0, 1]);
/// Another door of the same site.
pub const OTHER_DOOR: DoorId = DoorId([0xd0, 0x0f, 0, 0, 0, 0, 0, 2]);
/// A ticket the lock holds at the start of every run (so fast requests work from the first byte).
pub const PRELOADED_TICKET: TicketId = TicketId([0x7a; 16]);
/// Its resumption secret.
pub const PRELOADED_SECRET: [u8; 32] = [0x5e; 32];
/// The credential id behind the preloaded ticket.
pub const PRELOADED_CREDENTIAL: CredentialId = CredentialId([0x11; 16]);

// Fixed P-256 keys (PKCS#8 generated once with openssl for this harness; the lock's two
// scalars derived once from labels), so seeds that carry signatures keep verifying from
// one run to the next.
const ISSUER_PKCS8: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420da0d7583ec7de4c9b90658738e1e255c74b6d1044e537f08ed98c188df273511a14403420004478763d59a4f8b69ba28843ae1354a0b7e08e37ee64f491d613cbf38422baf761cf3640fe0a8e66d333743171e57b57c4f3cfddb94d891e53a0e05d131a20e51";
const UNTRUSTED_ISSUER_PKCS8: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b020101042063337de8ba80374ca69bf04a761b24f28c5f3bc710dba5d3dfba7987c899035fa1440342000415f7eabeb7e2703d885f644039e04706f9b5e3066eac51a5ca9c291f172c60fe7f8dd6b1a8aa46841efa386177ce5909b309a71ac78d496b2cdb3392c85798f4";
const DEVICE_PKCS8: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104207af0df5a6ed74dd5035bf0acdb487e54f8e7ca70f73a9774dbf0970ddb27f962a1440342000402084b410a693731d3fc55a6ade7b4182628960246dbdbe38a9cee3985099cda4d9381e5659fdf272865ca62be6950b1b43870f589217ba965297e1f79f1928c";
const LOCK_KEM_SCALAR: &str = "82ed377ae41e86bdc21743586c65aa4163300673ac0b6110dc4a83aa9bbebebc";
const LOCK_SIGNING_SCALAR: &str = "64ce8b7c49d59ccf5abaf49ba9b736da2c41bcb46a620a7d5a4840cdfc6ca7ac";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Every key and signed credential the targets use, built once per process.
pub struct Keys {
    /// The site's issuer: the lock's only trust anchor.
    pub issuer: IssuerKey,
    /// A well-formed issuer key the lock does not trust.
    pub untrusted_issuer: IssuerKey,
    /// The phone (its device key is fixed).
    pub phone: TestPhone,
    /// The lock's static HPKE key.
    pub lock_kem: p256::SecretKey,
    /// Its public half, as the door record carries it.
    pub lock_public: [u8; 65],
    /// The key the lock signs receipts with.
    pub lock_signing: SigningKey,
    /// Its public half (uncompressed SEC1), as the backend knows it.
    pub lock_signing_public: Vec<u8>,
    /// A member credential for [`DOOR`] (and [`OTHER_DOOR`]).
    pub member: Credential,
    /// A guest credential shared from `member`.
    pub guest: Credential,
    /// A credential for [`OTHER_DOOR`] only.
    pub other_door: Credential,
    /// A credential for [`DOOR`] signed by the untrusted issuer.
    pub untrusted: Credential,
}

/// The process-wide keys.
pub static KEYS: LazyLock<Keys> = LazyLock::new(|| {
    let issuer = IssuerKey::from_pkcs8(&unhex(ISSUER_PKCS8)).unwrap();
    let untrusted_issuer = IssuerKey::from_pkcs8(&unhex(UNTRUSTED_ISSUER_PKCS8)).unwrap();
    let phone = TestPhone::from_pkcs8(&unhex(DEVICE_PKCS8)).unwrap();
    let lock_kem = p256::SecretKey::from_slice(&unhex(LOCK_KEM_SCALAR)).unwrap();
    let lock_public: [u8; 65] = lock_kem.public_key().to_sec1_point(false).as_bytes().try_into().unwrap();
    let lock_signing = SigningKey::from_slice(&unhex(LOCK_SIGNING_SCALAR)).unwrap();
    let lock_signing_public = lock_signing.verifying_key().to_sec1_point(false).as_bytes().to_vec();
    let device = phone.device_key();
    let month = |spec: KeySpec| spec.valid(NOW - 3_600, NOW + 30 * 86_400);
    let member = month(KeySpec::member(0x11, &[DOOR, OTHER_DOOR])).sign(&issuer, device);
    let guest = month(KeySpec::guest(0x22, &member, &[DOOR])).sign(&issuer, device);
    let other_door = month(KeySpec::member(0x33, &[OTHER_DOOR])).sign(&issuer, device);
    let untrusted = month(KeySpec::member(0x44, &[DOOR])).sign(&untrusted_issuer, device);
    Keys {
        issuer,
        untrusted_issuer,
        phone,
        lock_kem,
        lock_public,
        lock_signing,
        lock_signing_public,
        member,
        guest,
        other_door,
        untrusted,
    }
});

/// The lock under test: the test kit's in-memory lock for [`DOOR`] with the fixed keys,
/// trusting [`Keys::issuer`], holding [`PRELOADED_TICKET`].
pub fn fuzz_lock() -> MemoryLock {
    let keys = &*KEYS;
    let mut lock =
        MemoryLock::with_keys(DOOR, keys.lock_kem.clone(), keys.lock_signing.clone(), keys.issuer.public_key());
    lock.rng_seed = "fuzz".into();
    let preloaded = TicketEntry {
        secret: Zeroizing::new(PRELOADED_SECRET),
        credential: PRELOADED_CREDENTIAL,
        parent: None,
        issuer: keys.issuer.key_id(),
        not_before: NOW - 3_600,
        not_after: NOW + 86_400,
        holder: TicketHolder([0; 16]),
    };
    let _ = lock.store_ticket(PRELOADED_TICKET, preloaded);
    lock
}

// ---------------------------------------------------------------------------------------
// Reading structure out of fuzz bytes, and writing it (for seeds).

/// A cursor over fuzz input. Never fails: past the end it yields zeros and empty slices.
pub struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }
    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.bytes.split_at(n.min(self.bytes.len()));
        self.bytes = tail;
        head
    }
    /// `N` bytes, zero-padded at the end of input.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let head = self.take(N);
        out[..head.len()].copy_from_slice(head);
        out
    }
    /// One byte.
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }
    /// A big-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }
    /// A big-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }
    /// A big-endian u64.
    pub fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }
    /// A chunk: a big-endian u16 length, then that many bytes (fewer at the end of input).
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.take(n)
    }
    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }
}

/// Writes the format [`Input`] reads.
#[derive(Default, Debug, Clone)]
pub struct Script(pub Vec<u8>);

impl Script {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends raw bytes.
    pub fn put(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    /// Appends a byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.put(&[v])
    }
    /// Appends a big-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.put(&v.to_be_bytes())
    }
    /// Appends a big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.put(&v.to_be_bytes())
    }
    /// Appends a big-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.put(&v.to_be_bytes())
    }
    /// Appends a length-prefixed chunk.
    pub fn chunk(&mut self, b: &[u8]) -> &mut Self {
        let n = u16::try_from(b.len()).expect("chunk of at most 65535 bytes");
        self.u16(n).put(b)
    }
    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

// ---------------------------------------------------------------------------------------
// Sealing as the lock or the phone would (the test kit's independent key schedule).

pub use keyway_protocol::testkit::forge::{FAST_HEADER_LEN, FastKeys, SEALED_AAD, seal, seal_channel};

/// A fast response as the lock would send it, carrying `payload` as its plaintext.
pub fn seal_fast_response(keys: &FastKeys, payload: &[u8]) -> Vec<u8> {
    let aad = [0x04, 0x01];
    let mut out = aad.to_vec();
    out.extend_from_slice(&seal(&keys.lock_to_phone, 0, &aad, payload));
    out
}

/// The encoding of the lock's answer inside a response (`docs/protocol.md` §5).
pub fn response_payload(
    refusal: Option<Refusal>,
    clock: u32,
    version: u32,
    open_ms: u16,
    ticket: Option<[u8; 16]>,
) -> Vec<u8> {
    let mut s = Script::new();
    match refusal {
        None => s.u8(0).u8(0),
        Some(r) => s.u8(1).u8(r.code()),
    };
    s.u32(clock).u32(version).u16(open_ms);
    match ticket {
        Some(t) => s.u8(1).put(&t),
        None => s.u8(0),
    };
    s.into_bytes()
}

// ---------------------------------------------------------------------------------------
// A phone talking to the in-memory lock over one connection.

/// A bundle body for [`DOOR`] with the given versions and revocations (signed a minute
/// after [`NOW`]; revocations kept for a day).
pub fn bundle_body(version: u32, base: u32, revoked: &[CredentialId]) -> BundleBody {
    let spec = BundleSpec { signed_time: NOW + 60, ..BundleSpec::new(DOOR, version, base) };
    spec.revoking_ids(revoked, NOW + 86_400).body()
}

/// A connection between a phone (the crate's phone role) and the in-memory lock (its
/// lock role), with every lock reply checked by the phone.
pub struct Rig {
    /// The lock's state.
    pub lock: MemoryLock,
    /// The lock's view of the connection.
    pub session: LockSession,
    /// The phone's secure channel, after a granted handshake.
    pub channel: Option<PhoneChannel>,
    /// The fast-unlock ticket the phone holds.
    pub ticket: FastTicket,
    /// Keys of a forged fast session the lock granted (sends start at `forged_counter`).
    pub forged: Option<FastKeys>,
    forged_counter: u64,
    /// Every message delivered to the lock, in order (a replayable transcript).
    pub transcript: Vec<Vec<u8>>,
}

impl Default for Rig {
    fn default() -> Self {
        Self::new()
    }
}

/// Which credential a standard request presents.
#[derive(Clone, Copy, Debug)]
pub enum Presented<'a> {
    /// One of the four fixed credentials (index mod 4: member, guest, other door, untrusted).
    Fixed(u8),
    /// Arbitrary bytes.
    Bytes(&'a [u8]),
}

impl Rig {
    /// A fresh lock and connection; the phone holds the preloaded ticket.
    pub fn new() -> Self {
        Self {
            lock: fuzz_lock(),
            session: LockSession::new(),
            channel: None,
            ticket: FastTicket { door: DOOR, id: PRELOADED_TICKET, secret: Zeroizing::new(PRELOADED_SECRET) },
            forged: None,
            forged_counter: 0,
            transcript: Vec::new(),
        }
    }

    /// Delivers one message to the lock.
    pub fn deliver(&mut self, message: &[u8]) -> LockOutput {
        self.transcript.push(message.to_vec());
        self.session.on_message(message, &mut self.lock)
    }

    /// The phone's standard request, built with the crate's phone role.
    pub fn standard_request(
        &self,
        presented: Presented<'_>,
        command: Command,
        want_ticket: bool,
        signature: Option<[u8; 64]>,
    ) -> Option<(AwaitingResponse, Vec<u8>)> {
        let keys = &*KEYS;
        let credential = match presented {
            Presented::Fixed(i) => match i % 4 {
                0 => keys.member.to_bytes(),
                1 => keys.guest.to_bytes(),
                2 => keys.other_door.to_bytes(),
                _ => keys.untrusted.to_bytes(),
            },
            Presented::Bytes(b) => b.to_vec(),
        };
        let target = LockTarget { door: DOOR, lock_public_key: keys.lock_public, nonce: self.lock.current_nonce() };
        let rng = ring::rand::SystemRandom::new();
        let built =
            keys.phone.standard_request_with(&target, &credential, command, want_ticket, &rng, signature).ok()?;
        Some((built.awaiting, built.request))
    }

    /// Sends a request the phone built and hands the lock's answer back to the phone.
    /// Panics if the phone cannot make sense of what the real lock said.
    pub fn exchange(&mut self, awaiting: AwaitingResponse, request: &[u8]) {
        let out = self.deliver(request);
        let Some(reply) = out.reply else { return };
        match awaiting.on_response(&reply) {
            Ok((reply, channel)) => {
                if let Some(ticket) = reply.ticket {
                    self.ticket = ticket;
                }
                if reply.outcome.is_ok() {
                    self.channel = Some(channel);
                    self.forged = None;
                }
            }
            Err(PhoneError::UnauthenticatedRefusal { .. }) => {}
            Err(e) => panic!("the phone rejected the lock's own answer: {e:?}"),
        }
    }

    /// A standard unlock, start to finish.
    pub fn standard(
        &mut self,
        presented: Presented<'_>,
        command: Command,
        want_ticket: bool,
        signature: Option<[u8; 64]>,
    ) {
        if let Some((awaiting, request)) = self.standard_request(presented, command, want_ticket, signature) {
            self.exchange(awaiting, &request);
        }
    }

    /// A fast unlock with the ticket the phone holds (or another id with its secret).
    pub fn fast(&mut self, command: Command, ticket_id: Option<TicketId>) {
        let mut ticket = self.ticket.clone();
        if let Some(id) = ticket_id {
            ticket.id = id;
        }
        let (awaiting, request) =
            fast_unlock(DOOR, self.lock.current_nonce(), &ticket, command, &ring::rand::SystemRandom::new()).unwrap();
        self.exchange(awaiting, &request);
    }

    /// A fast request sealed by hand: any flags, phone nonce and payload.
    pub fn forged_fast(&mut self, flags: u8, phone_nonce: [u8; 16], payload: &[u8]) {
        let mut s = Script::new();
        s.u8(0x03).u8(0x01).u8(flags).put(&DOOR.0).put(&self.lock.current_nonce().0).put(&self.ticket.id.0);
        s.put(&phone_nonce);
        let header = s.into_bytes();
        let keys = FastKeys::derive(&header, &self.ticket.secret);
        let mut request = header.clone();
        request.extend_from_slice(&seal(&keys.phone_to_lock, 0, &header, payload));
        let out = self.deliver(&request);
        // A granted fast handshake opens a channel whose first phone → lock message is number 1.
        if out.reply.as_deref().is_some_and(|r| r.first() == Some(&0x04))
            && matches!(out.event, Some(keyway_protocol::lock_role::LockEvent::Granted { .. }))
        {
            self.forged = Some(keys);
            self.forged_counter = 1;
            self.channel = None;
        }
    }

    /// A channel message with any plaintext, through a forged fast session.
    pub fn forged_sealed(&mut self, plaintext: &[u8]) {
        let Some(keys) = &self.forged else { return };
        let message = seal_channel(&keys.phone_to_lock, self.forged_counter, plaintext);
        self.forged_counter += 1;
        self.deliver(&message);
    }

    fn sync_exchange(&mut self, message: Vec<u8>) {
        let out = self.deliver(&message);
        let Some(channel) = &mut self.channel else { return };
        match out.reply {
            Some(reply) => {
                if let Err(e) = channel.on_sync_reply(&reply) {
                    panic!("the phone rejected the lock's own sync reply: {e:?}");
                }
            }
            None => self.channel = None,
        }
    }

    /// Delivers bundle bytes through the phone's channel.
    pub fn bundle_bytes(&mut self, bundle: &[u8]) {
        let Some(channel) = &mut self.channel else { return };
        let Ok(message) = channel.deliver_bundle(bundle) else { return };
        self.sync_exchange(message);
    }

    /// Asks for a receipt through the phone's channel.
    pub fn receipt_request(&mut self) {
        let Some(channel) = &mut self.channel else { return };
        let Ok(message) = channel.request_receipt() else { return };
        self.sync_exchange(message);
    }
}

/// Opcodes of the `lock_request` script (op byte mod 8).
pub mod op {
    /// A raw message: chunk.
    pub const RAW: u8 = 0;
    /// A standard request built by the phone: flags byte, then a chunk if the credential
    /// is from input (flag 0x04), then 64 signature bytes if the signature is (flag 0x20).
    pub const STANDARD: u8 = 1;
    /// A fast request built by the phone: flags byte, then 16 ticket id bytes with flag 0x02.
    pub const FAST: u8 = 2;
    /// Bundle bytes through the phone's channel: chunk.
    pub const BUNDLE_BYTES: u8 = 3;
    /// A bundle signed by an issuer: see `lock_request.rs` for the fields.
    pub const SIGNED_BUNDLE: u8 = 4;
    /// A receipt request through the phone's channel.
    pub const RECEIPT_REQUEST: u8 = 5;
    /// Lock state: flags byte (bit 0: storage fails), clock u32.
    pub const LOCK_STATE: u8 = 6;
    /// A hand-sealed fast request: flags byte, 16 phone-nonce bytes, payload chunk; or,
    /// with flag 0x80 and a forged session open, a hand-sealed channel message (chunk).
    pub const FORGED: u8 = 7;
}

/// Runs a `lock_request` script: a sequence of operations on one connection.
pub fn run_lock_script(data: &[u8]) -> Rig {
    let mut input = Input::new(data);
    let mut rig = Rig::new();
    let mut ops = 0;
    while !input.is_empty() && ops < 24 {
        ops += 1;
        match input.u8() % 8 {
            op::RAW => {
                let m = input.chunk();
                rig.deliver(m);
            }
            op::STANDARD => {
                let flags = input.u8();
                let want_ticket = flags & 0x01 != 0;
                let command = if flags & 0x02 != 0 { Command::SyncOnly } else { Command::Unlock };
                let presented =
                    if flags & 0x04 != 0 { Presented::Bytes(input.chunk()) } else { Presented::Fixed(flags >> 3) };
                let signature = (flags & 0x20 != 0).then(|| input.array::<64>());
                rig.standard(presented, command, want_ticket, signature);
            }
            op::FAST => {
                let flags = input.u8();
                let command = if flags & 0x01 != 0 { Command::SyncOnly } else { Command::Unlock };
                let id = (flags & 0x02 != 0).then(|| TicketId(input.array()));
                rig.fast(command, id);
            }
            op::BUNDLE_BYTES => {
                let b = input.chunk();
                rig.bundle_bytes(b);
            }
            op::SIGNED_BUNDLE => {
                let flags = input.u8();
                let version = input.u32();
                let base = input.u32();
                let signed_time = input.u32();
                let acknowledged = input.u64();
                let duration = input.u16();
                let count = usize::from(input.u8() % 8);
                let revoked: Vec<CredentialId> = (0..count)
                    .map(|_| match input.u8() % 4 {
                        0 => KEYS.member.body.id,
                        1 => KEYS.guest.body.id,
                        2 => PRELOADED_CREDENTIAL,
                        _ => CredentialId(input.array()),
                    })
                    .collect();
                let mut body = bundle_body(version, base, &revoked);
                body.signed_time = signed_time;
                body.audit_acknowledged = acknowledged;
                body.config = LockConfig { unlock_duration_ms: duration, fast_unlock: flags & 0x01 == 0 };
                if flags & 0x02 != 0 {
                    body.door = OTHER_DOOR;
                }
                if flags & 0x10 != 0 {
                    // Format 3: the same revocations named by serial prefix.
                    body.revocations = RevocationList::Prefixes(body.revocations.prefixes().collect());
                }
                let issuer = if flags & 0x04 != 0 { &KEYS.untrusted_issuer } else { &KEYS.issuer };
                let mut bytes = issuer.sign_bundle(body).unwrap().to_bytes();
                if flags & 0x08 != 0 {
                    // A flipped bit somewhere in the signed part.
                    let at = usize::from(input.u16()) % bytes.len();
                    bytes[at] ^= 1 << (flags >> 5);
                }
                rig.bundle_bytes(&bytes);
            }
            op::RECEIPT_REQUEST => rig.receipt_request(),
            op::LOCK_STATE => {
                let flags = input.u8();
                rig.lock.fail_storage = flags & 0x01 != 0;
                rig.lock.now = input.u32();
            }
            _ => {
                let flags = input.u8();
                if flags & 0x80 != 0 {
                    let m = input.chunk();
                    rig.forged_sealed(m);
                } else {
                    let nonce = input.array::<16>();
                    let payload = input.chunk();
                    rig.forged_fast(flags & 0x7f, nonce, payload);
                }
            }
        }
    }
    rig
}

/// Splits fuzz input into frames: a sequence of chunks.
pub fn split_chunks(input: &mut Input<'_>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        out.push(input.chunk().to_vec());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_unlocks_syncs_and_fast_unlocks() {
        let bundle = KEYS.issuer.sign_bundle(bundle_body(1, 0, &[])).unwrap().to_bytes();
        let mut s = Script::new();
        s.u8(op::STANDARD).u8(0x01);
        s.u8(op::BUNDLE_BYTES).chunk(&bundle);
        s.u8(op::RECEIPT_REQUEST);
        let rig = run_lock_script(&s.clone().into_bytes());
        assert_eq!(rig.lock.actuations, 1);
        assert_eq!(rig.lock.bundle_version(), 1);
        assert!(rig.channel.is_some());
        assert_ne!(rig.ticket.id, PRELOADED_TICKET);
    }

    #[test]
    fn the_signed_seeds_still_verify_with_the_fixed_keys() {
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        let read = |target: &str, name: &str| std::fs::read(seeds.join(target).join(name)).unwrap();
        for name in ["empty", "every_event_kind", "more_pending"] {
            let receipt = read("receipt", name);
            assert!(keyway_protocol::issuer::verify_receipt(&KEYS.lock_signing_public, &receipt).is_ok(), "{name}");
        }
        for name in ["member", "guest", "other_door"] {
            let credential = Credential::from_bytes(&read("credential", name)).unwrap();
            assert!(
                keyway_protocol::issuer::verify_credential(KEYS.issuer.public_key(), &credential).is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn forged_fast_requests_are_accepted_by_the_lock() {
        let mut rig = Rig::new();
        rig.forged_fast(0x01, [9; 16], &[1]);
        assert_eq!(rig.lock.actuations, 1);
        assert!(rig.forged.is_some());
        rig.forged_sealed(&[0x03]);
        assert!(!rig.session.is_closed());
    }
}

/// A reference lock (on memory storage, its clock stopped at [`NOW`]) whose latest bundle
/// allowed doorcode slots 1 and 7, with today's code of each: the keypad target types on it.
pub fn keypad_lock() -> (keyway_lock::Lock, Vec<(DoorcodeSlot, Doorcode)>) {
    use keyway_lock::{Lock, LockOptions, ManualRtc, MemoryStorage, SeededRandom};
    let mut random = SeededRandom::new(3);
    let identity = keyway_lock::identity::Identity::generate(DOOR, &mut random).unwrap();
    let mut state = keyway_lock::state::LockState::provisioned(identity, &[], NOW - 60);
    let secret = DoorcodeSecret([0x42; 32]);
    state.doorcode_secret = Some(secret.clone());
    let grant = |slot| DoorcodeGrant { slot: DoorcodeSlot(slot), not_before: NOW - 3600, not_after: NOW + 86_400 };
    state.doorcode_slots.replace(&[grant(1), grant(7)], NOW);
    let storage = MemoryStorage::new();
    storage.set_bytes(Some(keyway_lock::persist::encode(&state).to_vec()));
    let options =
        LockOptions { rtc: std::sync::Arc::new(ManualRtc::new(NOW)), random: Box::new(SeededRandom::new(4)) };
    let lock = Lock::open(Box::new(storage), options).unwrap();
    let day = day_of(NOW);
    let valid = [1, 7].map(|s| (DoorcodeSlot(s), derive(&secret, DOOR, DoorcodeSlot(s), day))).to_vec();
    (lock, valid)
}
