//! What a lock broadcasts: its id, a fresh nonce for the next unlock, and the version of
//! the door-sync bundle it holds. 21 bytes, carried as manufacturer-specific data so it
//! fits a legacy (31-byte) advertisement beside the flags.

use crate::codec::{DecodeError, Reader, Writer};
use crate::ids::{DoorId, LockNonce};

/// The advertisement format version.
pub const ADVERT_VERSION: u8 = 1;
/// Encoded length of [`Advertisement`].
pub const ADVERT_LEN: usize = 21;
/// The Bluetooth SIG company identifier the payload is carried under. `0xFFFF` is the
/// value the SIG reserves for testing; a shipping lock uses its vendor's assigned id.
pub const ADVERT_COMPANY_ID: u16 = 0xFFFF;

/// The Keyway GATT service.
pub const SERVICE_UUID: &str = "8f1d0000-5b2e-4c6a-9a57-6b6579776179";
/// Phone → lock: write with response. Carries request frames.
pub const REQUEST_CHARACTERISTIC_UUID: &str = "8f1d0001-5b2e-4c6a-9a57-6b6579776179";
/// Lock → phone: notify. Carries response frames.
pub const RESPONSE_CHARACTERISTIC_UUID: &str = "8f1d0002-5b2e-4c6a-9a57-6b6579776179";

/// A lock's advertisement payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advertisement {
    /// The door (lock) id.
    pub door: DoorId,
    /// The nonce the next handshake must name. Changes after every attempt.
    pub nonce: LockNonce,
    /// The door-sync bundle version the lock has applied (0: none). A hint for couriers;
    /// the authenticated value comes in the unlock response.
    pub bundle_version: u32,
}

impl Advertisement {
    /// Encodes to [`ADVERT_LEN`] bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(ADVERT_LEN);
        w.u8(ADVERT_VERSION).put(&self.door.0).put(&self.nonce.0).u32(self.bundle_version);
        w.into_bytes()
    }

    /// Decodes an advertisement payload.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("advertisement version")?;
        if version != ADVERT_VERSION {
            return Err(DecodeError::UnsupportedVersion { found: version });
        }
        let door = DoorId(r.array("door id")?);
        let nonce = LockNonce(r.array("lock nonce")?);
        let bundle_version = r.u32("bundle version")?;
        r.finish()?;
        Ok(Self { door, nonce, bundle_version })
    }
}
