//! The credential: an issuer-signed, self-contained statement that a device key may open
//! some doors during a window. A lock checks it offline with only the issuer's public key.
//!
//! Layout (big-endian, see `docs/protocol.md` §3):
//!
//! ```text
//! version u8 | flags u8 | id [16] | issuer key id [8] | device key [33, compressed SEC1]
//! | not_before u32 | not_after u32 | door count u8 | doors [8 × n]
//! | parent id [16] (present iff the guest flag is set) | signature [64, r‖s]
//! ```

use crate::codec::{DecodeError, Reader, Writer, read_signed, with_signature};
use crate::ids::{CredentialId, DoorId, KeyId};

/// The credential format version this crate writes and accepts.
pub const CREDENTIAL_VERSION: u8 = 1;
/// The most doors one credential may name.
pub const MAX_DOORS: usize = 32;
/// Domain-separation prefix of the issuer's signature over a credential body.
pub(crate) const CREDENTIAL_CONTEXT: &[u8] = b"keyway/credential/v1\0";

/// Unix time in whole seconds, as carried on the wire (good until 2106).
pub type UnixSeconds = u32;

/// A compressed SEC1 P-256 public key (33 bytes): the device key a credential is bound to.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceKey(pub [u8; 33]);

impl DeviceKey {
    /// Compresses an uncompressed SEC1 point (`04 ‖ x ‖ y`, 65 bytes).
    ///
    /// Only the form is checked here; whether the point lies on the curve is checked by
    /// the lock when it verifies a signature with it.
    pub fn from_uncompressed(point: &[u8]) -> Result<Self, DecodeError> {
        if point.len() != 65 || point[0] != 0x04 {
            return Err(DecodeError::Invalid { field: "device public key" });
        }
        let mut out = [0u8; 33];
        out[0] = 0x02 | (point[64] & 1);
        out[1..].copy_from_slice(&point[1..33]);
        Ok(Self(out))
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKey(")?;
        for b in &self.0[..5] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// What a credential allows beyond opening its doors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CredentialFlags {
    /// The holder may share this key with a guest.
    pub shareable: bool,
    /// This is a guest key; its parent credential is named and revoking it revokes this.
    pub guest: bool,
}

impl CredentialFlags {
    const SHAREABLE: u8 = 0b01;
    const GUEST: u8 = 0b10;

    fn to_byte(self) -> u8 {
        (if self.shareable { Self::SHAREABLE } else { 0 }) | (if self.guest { Self::GUEST } else { 0 })
    }

    fn from_byte(b: u8) -> Result<Self, DecodeError> {
        if b & !(Self::SHAREABLE | Self::GUEST) != 0 {
            return Err(DecodeError::Invalid { field: "credential flags" });
        }
        Ok(Self { shareable: b & Self::SHAREABLE != 0, guest: b & Self::GUEST != 0 })
    }
}

/// Everything a credential states; the issuer signs its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialBody {
    /// Unique id; revocations name it.
    pub id: CredentialId,
    /// Which issuer key signed it.
    pub issuer: KeyId,
    /// The device key that must sign each unlock.
    pub device_key: DeviceKey,
    /// The doors it opens (1 to [`MAX_DOORS`]).
    pub doors: Vec<DoorId>,
    /// First second it is valid.
    pub not_before: UnixSeconds,
    /// Last second it is valid.
    pub not_after: UnixSeconds,
    /// Sharing and guest flags.
    pub flags: CredentialFlags,
    /// For a guest key: the member credential it was shared from.
    pub parent: Option<CredentialId>,
}

/// A signed credential, as stored on the phone and presented to locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// What it states.
    pub body: CredentialBody,
    /// The issuer's ECDSA P-256 / SHA-256 signature (`r ‖ s`) over
    /// `"keyway/credential/v1\0" ‖ encoded body`.
    pub signature: [u8; 64],
}

impl CredentialBody {
    /// Checks the rules a well-formed body obeys.
    pub fn validate(&self) -> Result<(), DecodeError> {
        if self.doors.is_empty() || self.doors.len() > MAX_DOORS {
            return Err(DecodeError::Invalid { field: "door count" });
        }
        // A door listed twice means nothing more than once, but a strict decoder accepts one
        // form only: a lock that keeps door lists as sets must not meet a second form.
        if self.doors.iter().enumerate().any(|(i, door)| self.doors[..i].contains(door)) {
            return Err(DecodeError::Invalid { field: "door ids" });
        }
        if self.not_before > self.not_after {
            return Err(DecodeError::Invalid { field: "validity window" });
        }
        if self.flags.guest != self.parent.is_some() {
            return Err(DecodeError::Invalid { field: "parent credential" });
        }
        // Sharing is one level deep: a guest key cannot be shared on, so a lock only ever
        // checks one parent.
        if self.flags.guest && self.flags.shareable {
            return Err(DecodeError::Invalid { field: "credential flags" });
        }
        if !matches!(self.device_key.0[0], 0x02 | 0x03) {
            return Err(DecodeError::Invalid { field: "device public key" });
        }
        Ok(())
    }

    /// The exact bytes the issuer signs (without the context prefix).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(80 + 8 * self.doors.len());
        w.u8(CREDENTIAL_VERSION)
            .u8(self.flags.to_byte())
            .put(&self.id.0)
            .put(&self.issuer.0)
            .put(&self.device_key.0)
            .u32(self.not_before)
            .u32(self.not_after)
            .u8(self.doors.len() as u8);
        for door in &self.doors {
            w.put(&door.0);
        }
        if let Some(parent) = &self.parent {
            w.put(&parent.0);
        }
        w.into_bytes()
    }

    /// The message the issuer's signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        [CREDENTIAL_CONTEXT, &self.to_bytes()].concat()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u8("credential version")?;
        if version != CREDENTIAL_VERSION {
            return Err(DecodeError::UnsupportedVersion { found: version });
        }
        let flags = CredentialFlags::from_byte(r.u8("credential flags")?)?;
        let id = CredentialId(r.array("credential id")?);
        let issuer = KeyId(r.array("issuer key id")?);
        let device_key = DeviceKey(r.array("device public key")?);
        let not_before = r.u32("not before")?;
        let not_after = r.u32("not after")?;
        let count = usize::from(r.u8("door count")?);
        if count == 0 || count > MAX_DOORS {
            return Err(DecodeError::Invalid { field: "door count" });
        }
        let doors = (0..count).map(|_| r.array("door id").map(DoorId)).collect::<Result<Vec<_>, _>>()?;
        let parent = if flags.guest { Some(CredentialId(r.array("parent credential id")?)) } else { None };
        let body = Self { id, issuer, device_key, doors, not_before, not_after, flags, parent };
        body.validate()?;
        Ok(body)
    }

    /// Whether the credential names `door`.
    pub fn opens(&self, door: &DoorId) -> bool {
        self.doors.contains(door)
    }
}

impl Credential {
    /// The wire form: body then signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        with_signature(self.body.to_bytes(), &self.signature)
    }

    /// Parses the wire form. Checks the form only; the signature is checked by whoever
    /// trusts the issuer (the lock), with [`crate::issuer::verify_credential`] or the lock role.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (body, signature) = read_signed(bytes, CredentialBody::read, "credential signature")?;
        Ok(Self { body, signature })
    }
}
