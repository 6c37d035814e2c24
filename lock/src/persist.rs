//! The state file format: a versioned binary encoding of [`LockState`] followed by a
//! SHA-256 checksum, so a damaged file is detected instead of read as a blank lock.
//!
//! ```text
//! magic "KWLOCK" | format u8
//! | door [8] | HPKE secret [32] | signing secret [32]
//! | anchors u16 × [uncompressed public key 65]
//! | bundle version u32 | unlock duration ms u16 | fast unlock u8 | clock floor u32
//! | revocations u32 × [serial prefix 8 | expires u32]
//! | tickets u16 × [ticket id 16 | secret 32 | credential id 16 | has parent u8 [parent 16] | issuer key id 8
//!                 | not before u32 | not after u32 | issued u32 | holder 16]
//! | audit next seq u64 | acknowledged u64
//! | events u32 × [seq u64 | time u32 | kind u8 | detail u32 | has credential u8 [credential 16]]
//! | refusal window start u32 | refusals recorded u32 | tallies u8 × [reason u8 | first u32 | count u32]
//! | rtc correction i64 | full bundle needed u8
//! | has doorcode secret u8 [secret 32]
//! | doorcode slots u16 × [slot u32 | not before u32 | not after u32]
//! | keypad wrong in a row u32 | lockouts u32 | locked until u32
//! | anchor set version u32
//! | sha256 [32] of everything before
//! ```
//! All integers big-endian. Format 1 (read, never written) lacks the ticket holder (each
//! ticket then counts as its own holder), the refusal budget, the RTC correction and the
//! full-bundle flag; formats 1 and 2 (read, never written) lack the doorcode section (the
//! lock then has no doorcode secret and no slots); formats 1 to 3 (read, never written)
//! hold whole credential ids in the revocation list (`[credential id 16 | expires u32]`),
//! which the lock reduces to their serial prefixes, and lack the anchor set version (the
//! provisioned set, version 0).

use crate::audit::{AuditLog, RefusalBudget, RefusalTally};
use crate::error::LockError;
use crate::identity::Identity;
use crate::keypad::{DoorcodeSlots, KeypadGuard};
use crate::revocations::RevocationSet;
use crate::state::{LockState, TrustAnchor};
use crate::tickets::TicketTable;
use keyway_protocol::Refusal;
use keyway_protocol::bundle::{DoorcodeGrant, LockConfig, MAX_DOORCODE_SLOTS, PrefixRevocation};
use keyway_protocol::doorcode::{DoorcodeSecret, DoorcodeSlot};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId, SerialPrefix, TicketId};
use keyway_protocol::lock_role::{TicketEntry, TicketHolder};
use keyway_protocol::receipt::{AuditEvent, AuditKind};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const MAGIC: &[u8; 6] = b"KWLOCK";
/// The state file format this crate writes.
pub const STATE_FORMAT: u8 = 4;
/// The previous formats, still read (a lock keeps its state across a firmware update).
const STATE_FORMAT_1: u8 = 1;
const STATE_FORMAT_2: u8 = 2;
const STATE_FORMAT_3: u8 = 3;
const CHECKSUM_LEN: usize = 32;

/// Encodes the state for the state file. The output holds the lock's secrets.
pub fn encode(state: &LockState) -> Zeroizing<Vec<u8>> {
    let mut w = Zeroizing::new(Vec::with_capacity(256 + 128 * state.tickets.len()));
    w.extend_from_slice(MAGIC);
    w.push(STATE_FORMAT);
    w.extend_from_slice(&state.identity.door.0);
    w.extend_from_slice(state.identity.kem_secret().as_ref());
    w.extend_from_slice(state.identity.signing_secret().as_ref());
    w.extend_from_slice(&(state.anchors.len() as u16).to_be_bytes());
    for anchor in state.anchors.values() {
        w.extend_from_slice(&anchor.0);
    }
    w.extend_from_slice(&state.bundle_version.to_be_bytes());
    w.extend_from_slice(&state.config.unlock_duration_ms.to_be_bytes());
    w.push(u8::from(state.config.fast_unlock));
    w.extend_from_slice(&state.clock_floor.to_be_bytes());
    w.extend_from_slice(&(state.revocations.len() as u32).to_be_bytes());
    for revocation in state.revocations.iter() {
        w.extend_from_slice(&revocation.prefix.0);
        w.extend_from_slice(&revocation.expires.to_be_bytes());
    }
    w.extend_from_slice(&(state.tickets.len() as u16).to_be_bytes());
    for ticket in state.tickets.iter() {
        let entry = &ticket.entry;
        w.extend_from_slice(&ticket.id.0);
        w.extend_from_slice(entry.secret.as_ref());
        w.extend_from_slice(&entry.credential.0);
        put_optional_id(&mut w, entry.parent.as_ref());
        w.extend_from_slice(&entry.issuer.0);
        w.extend_from_slice(&entry.not_before.to_be_bytes());
        w.extend_from_slice(&entry.not_after.to_be_bytes());
        w.extend_from_slice(&ticket.issued.to_be_bytes());
        w.extend_from_slice(&entry.holder.0);
    }
    w.extend_from_slice(&state.audit.next_seq().to_be_bytes());
    w.extend_from_slice(&state.audit.acknowledged().to_be_bytes());
    w.extend_from_slice(&(state.audit.len() as u32).to_be_bytes());
    for event in state.audit.events() {
        let (kind, detail) = event.kind.encode();
        w.extend_from_slice(&event.seq.to_be_bytes());
        w.extend_from_slice(&event.time.to_be_bytes());
        w.push(kind);
        w.extend_from_slice(&detail.to_be_bytes());
        put_optional_id(&mut w, event.credential.as_ref());
    }
    let budget = state.audit.budget();
    w.extend_from_slice(&budget.window_start.to_be_bytes());
    w.extend_from_slice(&budget.recorded.to_be_bytes());
    w.push(budget.tallies.len() as u8);
    for tally in &budget.tallies {
        w.push(tally.reason.code());
        w.extend_from_slice(&tally.first.to_be_bytes());
        w.extend_from_slice(&tally.count.to_be_bytes());
    }
    w.extend_from_slice(&state.rtc_correction.to_be_bytes());
    w.push(u8::from(state.full_bundle_needed));
    match &state.doorcode_secret {
        Some(secret) => {
            w.push(1);
            w.extend_from_slice(&secret.0);
        }
        None => w.push(0),
    }
    w.extend_from_slice(&(state.doorcode_slots.len() as u16).to_be_bytes());
    for grant in state.doorcode_slots.iter() {
        w.extend_from_slice(&grant.slot.0.to_be_bytes());
        w.extend_from_slice(&grant.not_before.to_be_bytes());
        w.extend_from_slice(&grant.not_after.to_be_bytes());
    }
    w.extend_from_slice(&state.keypad.wrong_in_row.to_be_bytes());
    w.extend_from_slice(&state.keypad.lockouts.to_be_bytes());
    w.extend_from_slice(&state.keypad.locked_until.to_be_bytes());
    w.extend_from_slice(&state.anchor_set_version.to_be_bytes());
    let checksum = Sha256::digest(w.as_slice());
    w.extend_from_slice(&checksum);
    w
}

/// Decodes a state file, checking its checksum and every field.
pub fn decode(bytes: &[u8]) -> Result<LockState, LockError> {
    let body_len = bytes.len().checked_sub(CHECKSUM_LEN).ok_or(LockError::Corrupt("too short"))?;
    let (body, checksum) = bytes.split_at(body_len);
    if Sha256::digest(body).as_slice() != checksum {
        return Err(LockError::Corrupt("checksum mismatch"));
    }
    let mut r = Reader { bytes: body };
    if r.take(MAGIC.len())? != MAGIC {
        return Err(LockError::Corrupt("not a lock state file"));
    }
    let format = r.u8()?;
    if !(STATE_FORMAT_1..=STATE_FORMAT).contains(&format) {
        return Err(LockError::UnsupportedFormat(format));
    }
    let v2 = format >= STATE_FORMAT_2;
    let v3 = format >= STATE_FORMAT_3;
    let v4 = format >= STATE_FORMAT;
    let prefixes = v4;
    let door = DoorId(r.array()?);
    let kem = Zeroizing::new(r.array::<32>()?);
    let signing = Zeroizing::new(r.array::<32>()?);
    let identity = Identity::from_secrets(door, &kem, &signing)?;
    let mut anchors = std::collections::BTreeMap::new();
    for _ in 0..r.u16()? {
        let anchor = TrustAnchor::new(r.take(65)?).map_err(|_| LockError::Corrupt("trust anchor"))?;
        anchors.insert(anchor.key_id(), anchor);
    }
    let bundle_version = r.u32()?;
    let config = LockConfig { unlock_duration_ms: r.u16()?, fast_unlock: r.bool()? };
    let clock_floor = r.u32()?;
    let n = r.u32()?;
    let revocation_count = r.count(n, if prefixes { 12 } else { 20 })?;
    let mut revocations = RevocationSet::new();
    for _ in 0..revocation_count {
        let prefix = if prefixes { SerialPrefix(r.array()?) } else { CredentialId(r.array()?).serial_prefix() };
        revocations.insert(PrefixRevocation { prefix, expires: r.u32()? });
    }
    let n = u32::from(r.u16()?);
    let ticket_count = r.count(n, if v2 { 101 } else { 85 })?;
    let mut tickets = TicketTable::new();
    for _ in 0..ticket_count {
        let id = TicketId(r.array()?);
        let secret = Zeroizing::new(r.array()?);
        let credential = CredentialId(r.array()?);
        let parent = r.optional_id()?;
        let issuer = KeyId(r.array()?);
        let (not_before, not_after, issued) = (r.u32()?, r.u32()?, r.u32()?);
        // A format-1 ticket has no recorded holder: it counts as its own.
        let holder = if v2 { TicketHolder(r.array()?) } else { TicketHolder(credential.0) };
        let entry = TicketEntry { secret, credential, parent, issuer, not_before, not_after, holder };
        tickets.insert(id, entry, issued);
    }
    let next_seq = r.u64()?;
    let acknowledged = r.u64()?;
    let n = r.u32()?;
    let event_count = r.count(n, 18)?;
    let mut events = Vec::with_capacity(event_count);
    for _ in 0..event_count {
        let seq = r.u64()?;
        let time = r.u32()?;
        let kind = AuditKind::decode(r.u8()?, r.u32()?).map_err(|_| LockError::Corrupt("audit event"))?;
        events.push(AuditEvent { seq, time, kind, credential: r.optional_id()? });
    }
    let mut audit = AuditLog::from_parts(events, next_seq, acknowledged).ok_or(LockError::Corrupt("audit log"))?;
    let (mut rtc_correction, mut full_bundle_needed) = (0, false);
    if v2 {
        let mut budget = RefusalBudget { window_start: r.u32()?, recorded: r.u32()?, tallies: Vec::new() };
        for _ in 0..r.u8()? {
            let reason = Refusal::from_code(r.u8()?).ok_or(LockError::Corrupt("refusal tally"))?;
            budget.tallies.push(RefusalTally { reason, first: r.u32()?, count: r.u32()? });
        }
        audit = audit.with_budget(budget).ok_or(LockError::Corrupt("refusal budget"))?;
        rtc_correction = i64::from_be_bytes(r.array()?);
        full_bundle_needed = r.bool()?;
    }
    let (mut doorcode_secret, mut doorcode_slots, mut keypad) =
        (None, DoorcodeSlots::default(), KeypadGuard::default());
    if v3 {
        if r.bool()? {
            doorcode_secret = Some(DoorcodeSecret(r.array()?));
        }
        let n = u32::from(r.u16()?);
        let slot_count = r.count(n, 12)?;
        if slot_count > MAX_DOORCODE_SLOTS {
            return Err(LockError::Corrupt("doorcode slots"));
        }
        for _ in 0..slot_count {
            doorcode_slots.insert(DoorcodeGrant {
                slot: DoorcodeSlot(r.u32()?),
                not_before: r.u32()?,
                not_after: r.u32()?,
            });
        }
        keypad = KeypadGuard { wrong_in_row: r.u32()?, lockouts: r.u32()?, locked_until: r.u32()? };
    }
    let anchor_set_version = if v4 { r.u32()? } else { 0 };
    if !r.bytes.is_empty() {
        return Err(LockError::Corrupt("trailing bytes"));
    }
    Ok(LockState {
        identity,
        anchors,
        bundle_version,
        config,
        clock_floor,
        revocations,
        tickets,
        audit,
        rtc_correction,
        full_bundle_needed,
        doorcode_secret,
        doorcode_slots,
        keypad,
        anchor_set_version,
    })
}

fn put_optional_id(w: &mut Vec<u8>, id: Option<&CredentialId>) {
    match id {
        Some(id) => {
            w.push(1);
            w.extend_from_slice(&id.0);
        }
        None => w.push(0),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], LockError> {
        let (head, rest) = self.bytes.split_at_checked(n).ok_or(LockError::Corrupt("truncated"))?;
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LockError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, LockError> {
        Ok(self.array::<1>()?[0])
    }

    fn bool(&mut self) -> Result<bool, LockError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(LockError::Corrupt("flag")),
        }
    }

    fn u16(&mut self) -> Result<u16, LockError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, LockError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, LockError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn optional_id(&mut self) -> Result<Option<CredentialId>, LockError> {
        Ok(if self.bool()? { Some(CredentialId(self.array()?)) } else { None })
    }

    /// A count of items at least `min_len` bytes each, refused before allocating if the
    /// remaining bytes cannot hold them.
    fn count(&self, count: u32, min_len: usize) -> Result<usize, LockError> {
        let count = count as usize;
        if count.saturating_mul(min_len) > self.bytes.len() {
            return Err(LockError::Corrupt("count"));
        }
        Ok(count)
    }
}
