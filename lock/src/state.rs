//! Everything the lock persists, in one value: identity, trust anchors, the bundle
//! version and configuration, the clock floor, revocations, fast-unlock tickets and the
//! audit log, the doorcode secret, slots and keypad guess counter. Changes that must be all-or-nothing (a bundle) are computed on a copy and
//! swapped in only once the copy is on disk.

use crate::audit::AuditLog;
use crate::error::LockError;
use crate::identity::{Identity, PUBLIC_KEY_LEN};
use crate::keypad::{DoorcodeSlots, KeypadGuard};
use crate::revocations::RevocationSet;
use crate::tickets::TicketTable;
use keyway_protocol::bundle::{Bundle, LockConfig};
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::doorcode::DoorcodeSecret;
use keyway_protocol::ids::KeyId;
use p256::ecdsa::VerifyingKey;
use std::collections::BTreeMap;

/// An issuer public key the lock trusts, in uncompressed SEC1 form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TrustAnchor(pub [u8; PUBLIC_KEY_LEN]);

impl TrustAnchor {
    /// Checks that `public_key` is a valid uncompressed P-256 point.
    pub fn new(public_key: &[u8]) -> Result<Self, LockError> {
        let bytes: [u8; PUBLIC_KEY_LEN] = public_key.try_into().map_err(|_| LockError::BadTrustAnchor)?;
        if bytes[0] != 0x04 || VerifyingKey::from_sec1_bytes(&bytes).is_err() {
            return Err(LockError::BadTrustAnchor);
        }
        Ok(Self(bytes))
    }

    /// The key id credentials and bundles name it by.
    pub fn key_id(&self) -> KeyId {
        KeyId::of_public_key(&self.0)
    }

    /// The verifying key.
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_sec1_bytes(&self.0).ok()
    }
}

impl std::fmt::Debug for TrustAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustAnchor({})", self.key_id())
    }
}

/// The lock's whole persisted state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockState {
    /// Door id and keys.
    pub identity: Identity,
    /// Issuer keys, by key id.
    pub anchors: BTreeMap<KeyId, TrustAnchor>,
    /// The door-sync bundle version applied (0: none).
    pub bundle_version: u32,
    /// The configuration from the latest bundle (defaults before the first).
    pub config: LockConfig,
    /// The effective clock never reads below this.
    pub clock_floor: UnixSeconds,
    /// Revoked credentials.
    pub revocations: RevocationSet,
    /// Fast-unlock tickets.
    pub tickets: TicketTable,
    /// Unacknowledged audit events, the sequence counter and the refusal budget.
    pub audit: AuditLog,
    /// Seconds the lock adds to its RTC's readings: the RTC's error, learnt from
    /// quarantined jumps, bundles and clock resets (see [`crate::clock`]).
    pub rtc_correction: i64,
    /// A clock reset moved the clock back, after revocations may have been pruned by the
    /// time that was too far ahead: only a full bundle (base version 0) is accepted next.
    pub full_bundle_needed: bool,
    /// The secret this door's doorcodes derive from, shared with the backend (generated
    /// at provisioning; `None` for a lock provisioned before doorcodes).
    pub doorcode_secret: Option<DoorcodeSecret>,
    /// The slots whose doorcodes the lock accepts (from the latest format-2 bundle).
    pub doorcode_slots: DoorcodeSlots,
    /// The keypad's guess counter.
    pub keypad: KeypadGuard,
    /// The version of the trust-anchor set: 0 as provisioned, then the version of the
    /// last anchor update applied (`keyway_protocol::anchor_update`).
    pub anchor_set_version: u32,
}

impl LockState {
    /// A freshly provisioned lock: no bundle yet, default configuration.
    pub fn provisioned(identity: Identity, anchors: &[TrustAnchor], clock_floor: UnixSeconds) -> Self {
        Self {
            identity,
            anchors: anchors.iter().map(|anchor| (anchor.key_id(), *anchor)).collect(),
            bundle_version: 0,
            config: LockConfig::default(),
            clock_floor,
            revocations: RevocationSet::new(),
            tickets: TicketTable::new(),
            audit: AuditLog::new(),
            rtc_correction: 0,
            full_bundle_needed: false,
            doorcode_secret: None,
            doorcode_slots: DoorcodeSlots::default(),
            keypad: KeypadGuard::default(),
            anchor_set_version: 0,
        }
    }

    /// The state after a verified clock reset to `time`, made at effective time `now`.
    /// Going back: the floor comes down, tickets go (their issue times may lie in the
    /// future), and the next bundle must be a full one, since revocations may have been
    /// pruned by the time that was too far ahead. The receiver is untouched.
    pub fn with_clock_reset(&self, time: UnixSeconds, now: UnixSeconds) -> Self {
        let mut next = self.clone();
        next.clock_floor = time;
        if time < now {
            next.tickets.clear();
            next.full_bundle_needed = true;
        } else {
            next.revocations.prune(time);
            next.tickets.prune(time);
        }
        next
    }

    /// The state after applying `bundle` (already checked: signature, door, version) at
    /// effective time `now`. The receiver is untouched, so a failed save changes nothing.
    pub fn with_bundle(&self, bundle: &Bundle, now: UnixSeconds) -> Self {
        let body = &bundle.body;
        let mut next = self.clone();
        next.bundle_version = body.version;
        next.config = body.config;
        next.clock_floor = next.clock_floor.max(body.signed_time);
        for revocation in body.revocations.prefixes() {
            next.revocations.insert(revocation);
        }
        let now = now.max(next.clock_floor);
        if let Some(grants) = &body.doorcodes {
            next.doorcode_slots.replace(grants, now);
        }
        next.audit.acknowledge(body.audit_acknowledged);
        if body.base_version == 0 {
            next.full_bundle_needed = false;
        }
        next.revocations.prune(now);
        next.doorcode_slots.prune(now);
        next.tickets.prune(now);
        if !next.config.fast_unlock {
            next.tickets.clear();
        }
        next
    }
}
