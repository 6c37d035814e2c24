//! The door-sync bundle: what the backend tells an offline lock. Signed by the site's
//! issuer key, versioned per door, revocations as a delta from a base version.
//!
//! ```text
//! format u8 | door [8] | issuer key id [8] | version u32 | base version u32
//! | signed time u32 | audit acknowledged up to u64
//! | config: unlock duration ms u16, fast unlock enabled u8
//! | revocation count u32 | revocations [credential id 16 ‖ expires u32] × n
//! | (format 2 only) doorcode slot count u16
//! |     | doorcode slots [slot u32 ‖ not before u32 ‖ not after u32] × m   (slots ascending)
//! | signature [64]
//! ```
//! Format 1 says nothing about doorcodes (the lock keeps the slots it has); format 2
//! carries the whole set of slots whose doorcodes the lock accepts, which replaces the
//! lock's set as part of the same all-or-nothing application.
//!
//! Format 3 (what the backend writes now) has the same header, then names revocations by
//! serial prefix, grouped by expiry (`bundle_v3.rs`), then says whether a doorcode
//! section follows:
//! ```text
//! … fast unlock u8 | prefix revocation groups (see bundle_v3) | has doorcodes u8
//! | (if 1) doorcode slot count u16 | doorcode slots … | signature [64]
//! ```

use crate::codec::{DecodeError, Reader, Writer, read_signed, with_signature};
use crate::credential::UnixSeconds;
use crate::doorcode::DoorcodeSlot;
use crate::ids::{CredentialId, DoorId, KeyId};

pub use crate::bundle_v3::{EXPIRY_ROUNDING_SECS, MAX_BUNDLE_REVOCATIONS, PrefixRevocation};

/// The bundle format version without doorcodes.
pub const BUNDLE_VERSION: u8 = 1;
/// The bundle format version that carries the doorcode slot set.
pub const BUNDLE_VERSION_DOORCODES: u8 = 2;
/// The bundle format version that names revocations by serial prefix (what the backend
/// writes), with an optional doorcode section.
pub const BUNDLE_VERSION_PREFIXES: u8 = 3;
/// The most doorcode slots one door accepts: bounds the lock's memory (12 bytes each)
/// and the HMACs one keypad entry costs. A bundle with more is refused as invalid.
pub const MAX_DOORCODE_SLOTS: usize = 512;
const DOORCODE_SLOT_LEN: usize = 12;
/// Domain-separation prefix of the issuer's signature over a bundle body.
pub(crate) const BUNDLE_CONTEXT: &[u8] = b"keyway/bundle/v1\0";
const REVOCATION_LEN: usize = CredentialId::LEN + 4;
/// How far a bundle's signed time may be ahead of the lock's effective clock (24 hours):
/// a lock refuses one further ahead (`BundleTimeAhead`), and a backend never signs a time
/// it cannot stand behind. A floor raised by a glitch can therefore end keys at most a
/// day early; a lock whose own clock is further behind needs a signed clock reset.
pub const MAX_BUNDLE_TIME_AHEAD_SECS: UnixSeconds = 24 * 3600;
/// How far one bundle may raise the lock's version (2²⁰): a lock refuses a bigger jump
/// (`BundleVersionJump`), so no single bundle, from a glitch or a retired key, can spend
/// the version space (a bundle at `u32::MAX` would block every later one).
pub const MAX_BUNDLE_VERSION_STEP: u32 = 1 << 20;

/// Lock settings carried by bundles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockConfig {
    /// How long the latch stays open after a granted unlock.
    pub unlock_duration_ms: u16,
    /// Whether the lock accepts fast (ticket) unlocks.
    pub fast_unlock: bool,
}

impl Default for LockConfig {
    fn default() -> Self {
        Self { unlock_duration_ms: 5_000, fast_unlock: true }
    }
}

/// One revoked credential. `expires` is the credential's own `not_after`: after it the
/// credential is dead anyway, so the lock may forget the entry and its list stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Revocation {
    /// The revoked credential (member or guest).
    pub credential: CredentialId,
    /// When the lock may drop this entry.
    pub expires: UnixSeconds,
}

impl Revocation {
    /// The entry as the lock keeps it: the credential's serial prefix and the expiry.
    pub fn prefixed(&self) -> PrefixRevocation {
        PrefixRevocation { expires: self.expires, prefix: self.credential.serial_prefix() }
    }
}

/// The revocations a bundle carries, in the form its format names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationList {
    /// Formats 1 and 2: whole credential ids, in the order given.
    Ids(Vec<Revocation>),
    /// Format 3: serial prefixes. Encoded in one canonical order (by expiry, then prefix,
    /// exact duplicates once), so a decoded list comes back in that order.
    Prefixes(Vec<PrefixRevocation>),
}

impl Default for RevocationList {
    fn default() -> Self {
        Self::Prefixes(Vec::new())
    }
}

impl RevocationList {
    /// How many entries the list holds.
    pub fn len(&self) -> usize {
        match self {
            Self::Ids(list) => list.len(),
            Self::Prefixes(list) => list.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry as the lock keeps it (a whole id reduced to its prefix).
    pub fn prefixes(&self) -> Box<dyn Iterator<Item = PrefixRevocation> + '_> {
        match self {
            Self::Ids(list) => Box::new(list.iter().map(Revocation::prefixed)),
            Self::Prefixes(list) => Box::new(list.iter().copied()),
        }
    }

    /// Whether the list revokes `credential`: an entry names its serial prefix.
    pub fn names(&self, credential: &CredentialId) -> bool {
        let prefix = credential.serial_prefix();
        self.prefixes().any(|entry| entry.prefix == prefix)
    }
}

/// One person's doorcode at this door: their slot and the window their key allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DoorcodeGrant {
    /// The person's slot.
    pub slot: DoorcodeSlot,
    /// The code opens from this time…
    pub not_before: UnixSeconds,
    /// …until this time (the lock may forget the slot after it).
    pub not_after: UnixSeconds,
}

/// What a bundle states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleBody {
    /// The door it is for.
    pub door: DoorId,
    /// The issuer key that signs it.
    pub issuer: KeyId,
    /// This bundle's version (strictly increasing per door).
    pub version: u32,
    /// The version the delta starts from: the lock must hold at least this version.
    pub base_version: u32,
    /// The backend's clock when it signed; the lock's clock never goes below it.
    pub signed_time: UnixSeconds,
    /// Audit events up to this lock sequence number have reached the backend; the lock may drop them.
    pub audit_acknowledged: u64,
    /// Lock settings.
    pub config: LockConfig,
    /// Credentials revoked between `base_version` and `version`: whole ids (formats 1
    /// and 2) or serial prefixes (format 3).
    pub revocations: RevocationList,
    /// `None` (format 1, or format 3 without the section): the lock's doorcode slots stay
    /// as they are. `Some` (format 2, or format 3 with it): every slot the lock accepts
    /// from now on, ascending, at most [`MAX_DOORCODE_SLOTS`].
    pub doorcodes: Option<Vec<DoorcodeGrant>>,
}

/// A signed bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// What it states.
    pub body: BundleBody,
    /// The issuer's ECDSA P-256 signature over `"keyway/bundle/v1\0" ‖ body`.
    pub signature: [u8; 64],
}

impl BundleBody {
    /// The bytes the issuer signs (without the context prefix).
    pub fn to_bytes(&self) -> Vec<u8> {
        let slots = self.doorcodes.as_ref().map_or(0, Vec::len);
        let revocations_len = match &self.revocations {
            RevocationList::Ids(list) => 4 + REVOCATION_LEN * list.len(),
            RevocationList::Prefixes(list) => crate::bundle_v3::max_len(list),
        };
        let mut w = Writer::with_capacity(50 + revocations_len + DOORCODE_SLOT_LEN * slots);
        let format = match (&self.revocations, &self.doorcodes) {
            (RevocationList::Prefixes(_), _) => BUNDLE_VERSION_PREFIXES,
            (RevocationList::Ids(_), Some(_)) => BUNDLE_VERSION_DOORCODES,
            (RevocationList::Ids(_), None) => BUNDLE_VERSION,
        };
        w.u8(format)
            .put(&self.door.0)
            .put(&self.issuer.0)
            .u32(self.version)
            .u32(self.base_version)
            .u32(self.signed_time)
            .u64(self.audit_acknowledged)
            .u16(self.config.unlock_duration_ms)
            .bool(self.config.fast_unlock);
        match &self.revocations {
            RevocationList::Ids(list) => {
                w.u32(list.len() as u32);
                for r in list {
                    w.put(&r.credential.0).u32(r.expires);
                }
            }
            RevocationList::Prefixes(list) => {
                let mut section = Vec::with_capacity(crate::bundle_v3::max_len(list));
                crate::bundle_v3::write(&mut section, list);
                w.put(&section).bool(self.doorcodes.is_some());
            }
        }
        if let Some(grants) = &self.doorcodes {
            w.u16(grants.len() as u16);
            for g in grants {
                w.u32(g.slot.0).u32(g.not_before).u32(g.not_after);
            }
        }
        w.into_bytes()
    }

    /// The message the issuer's signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        [BUNDLE_CONTEXT, &self.to_bytes()].concat()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let format = r.u8("bundle format")?;
        if !matches!(format, BUNDLE_VERSION | BUNDLE_VERSION_DOORCODES | BUNDLE_VERSION_PREFIXES) {
            return Err(DecodeError::UnsupportedVersion { found: format });
        }
        let door = DoorId(r.array("door id")?);
        let issuer = KeyId(r.array("issuer key id")?);
        let version = r.u32("bundle version")?;
        let base_version = r.u32("base version")?;
        if base_version >= version {
            return Err(DecodeError::Invalid { field: "base version" });
        }
        let signed_time = r.u32("signed time")?;
        let audit_acknowledged = r.u64("audit acknowledged")?;
        let config = LockConfig { unlock_duration_ms: r.u16("unlock duration")?, fast_unlock: r.bool("fast unlock")? };
        let (revocations, doorcodes) = if format == BUNDLE_VERSION_PREFIXES {
            let revocations = RevocationList::Prefixes(crate::bundle_v3::read(r)?);
            let doorcodes = if r.bool("has doorcodes")? { Some(read_doorcodes(r)?) } else { None };
            (revocations, doorcodes)
        } else {
            let revocations = RevocationList::Ids(read_ids(r)?);
            let doorcodes = if format == BUNDLE_VERSION_DOORCODES { Some(read_doorcodes(r)?) } else { None };
            (revocations, doorcodes)
        };
        Ok(Self {
            door,
            issuer,
            version,
            base_version,
            signed_time,
            audit_acknowledged,
            config,
            revocations,
            doorcodes,
        })
    }
}

/// The revocations of a format-1 or format-2 bundle: whole credential ids.
fn read_ids(r: &mut Reader<'_>) -> Result<Vec<Revocation>, DecodeError> {
    let count = r.u32("revocation count")? as usize;
    // Refuse a count the remaining bytes cannot hold before allocating for it.
    if count.saturating_mul(REVOCATION_LEN) > r.remaining() {
        return Err(DecodeError::Truncated { field: "revocations" });
    }
    let mut revocations = Vec::with_capacity(count);
    for _ in 0..count {
        revocations.push(Revocation {
            credential: CredentialId(r.array("revoked credential id")?),
            expires: r.u32("revocation expiry")?,
        });
    }
    Ok(revocations)
}

/// The doorcode section of a format-2 (or format-3) bundle: bounded, ascending (so no slot twice), and
/// each window not ending before it starts.
fn read_doorcodes(r: &mut Reader<'_>) -> Result<Vec<DoorcodeGrant>, DecodeError> {
    let count = usize::from(r.u16("doorcode slot count")?);
    if count > MAX_DOORCODE_SLOTS {
        return Err(DecodeError::Invalid { field: "doorcode slot count" });
    }
    if count.saturating_mul(DOORCODE_SLOT_LEN) > r.remaining() {
        return Err(DecodeError::Truncated { field: "doorcode slots" });
    }
    let mut grants: Vec<DoorcodeGrant> = Vec::with_capacity(count);
    for _ in 0..count {
        let grant = DoorcodeGrant {
            slot: DoorcodeSlot(r.u32("doorcode slot")?),
            not_before: r.u32("doorcode not before")?,
            not_after: r.u32("doorcode not after")?,
        };
        if grant.not_after < grant.not_before {
            return Err(DecodeError::Invalid { field: "doorcode window" });
        }
        if grants.last().is_some_and(|last| last.slot >= grant.slot) {
            return Err(DecodeError::Invalid { field: "doorcode slot order" });
        }
        grants.push(grant);
    }
    Ok(grants)
}

impl Bundle {
    /// The wire form: body then signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        with_signature(self.body.to_bytes(), &self.signature)
    }

    /// Parses the wire form (the signature is checked by the lock against its trust anchors).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (body, signature) = read_signed(bytes, BundleBody::read, "bundle signature")?;
        Ok(Self { body, signature })
    }
}
