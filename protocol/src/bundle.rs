//! The door-sync bundle: what the backend tells an offline lock. Signed by the site's
//! issuer key, versioned per door, revocations as a delta from a base version.
//!
//! ```text
//! format u8 | door [8] | issuer key id [8] | version u32 | base version u32
//! | signed time u32 | audit acknowledged up to u64
//! | config: unlock duration ms u16, fast unlock enabled u8
//! | revocation count u32 | revocations [credential id 16 ‖ expires u32] × n
//! | signature [64]
//! ```

use crate::codec::{DecodeError, Reader, Writer, read_signed, with_signature};
use crate::credential::UnixSeconds;
use crate::ids::{CredentialId, DoorId, KeyId};

/// The bundle format version.
pub const BUNDLE_VERSION: u8 = 1;
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
    /// Credentials revoked between `base_version` and `version`.
    pub revocations: Vec<Revocation>,
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
        let mut w = Writer::with_capacity(48 + REVOCATION_LEN * self.revocations.len());
        w.u8(BUNDLE_VERSION)
            .put(&self.door.0)
            .put(&self.issuer.0)
            .u32(self.version)
            .u32(self.base_version)
            .u32(self.signed_time)
            .u64(self.audit_acknowledged)
            .u16(self.config.unlock_duration_ms)
            .bool(self.config.fast_unlock)
            .u32(self.revocations.len() as u32);
        for r in &self.revocations {
            w.put(&r.credential.0).u32(r.expires);
        }
        w.into_bytes()
    }

    /// The message the issuer's signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        [BUNDLE_CONTEXT, &self.to_bytes()].concat()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let format = r.u8("bundle format")?;
        if format != BUNDLE_VERSION {
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
        Ok(Self { door, issuer, version, base_version, signed_time, audit_acknowledged, config, revocations })
    }
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
