//! The lock's identity: its door id, the static HPKE (P-256) key whose public half is in
//! the door record, and a separate ECDSA P-256 key it signs receipts with. Generated
//! from the OS random source on first start and kept in the state file (mode 0600).
//! A shipping lock would keep both secrets in a secure element instead.

use crate::error::LockError;
use crate::random::RandomSource;
use keyway_protocol::ids::DoorId;
use p256::ecdsa::SigningKey;
use p256::elliptic_curve::sec1::ToSec1Point;
use zeroize::Zeroizing;

/// Length of an uncompressed SEC1 P-256 public key.
pub const PUBLIC_KEY_LEN: usize = 65;

/// Who the lock is, and the two keys that prove it.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// The door (and lock) id.
    pub door: DoorId,
    kem: p256::SecretKey,
    signing: SigningKey,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("door", &self.door).finish_non_exhaustive()
    }
}

/// Draws a valid P-256 scalar by rejection: 32 random bytes are retried in the
/// (astronomically rare) case they are zero or not below the group order.
fn random_scalar(random: &mut dyn RandomSource) -> Result<Zeroizing<[u8; 32]>, LockError> {
    for _ in 0..64 {
        let mut bytes = Zeroizing::new([0u8; 32]);
        random.fill(bytes.as_mut())?;
        if p256::SecretKey::from_slice(bytes.as_ref()).is_ok() {
            return Ok(bytes);
        }
    }
    Err(LockError::Random)
}

impl Identity {
    /// Generates both keys for `door`.
    pub fn generate(door: DoorId, random: &mut dyn RandomSource) -> Result<Self, LockError> {
        let kem = random_scalar(random)?;
        let signing = random_scalar(random)?;
        Self::from_secrets(door, &kem, &signing)
    }

    /// Rebuilds an identity from its stored secrets.
    pub fn from_secrets(door: DoorId, kem: &[u8; 32], signing: &[u8; 32]) -> Result<Self, LockError> {
        let kem = p256::SecretKey::from_slice(kem).map_err(|_| LockError::Corrupt("lock key"))?;
        let signing = SigningKey::from_slice(signing).map_err(|_| LockError::Corrupt("signing key"))?;
        Ok(Self { door, kem, signing })
    }

    /// The HPKE secret key.
    pub fn kem_key(&self) -> &p256::SecretKey {
        &self.kem
    }

    /// The receipt signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The HPKE secret scalar, for the state file.
    pub fn kem_secret(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.kem.to_bytes());
        out
    }

    /// The signing secret scalar, for the state file.
    pub fn signing_secret(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.signing.to_bytes());
        out
    }

    /// The HPKE public key (uncompressed SEC1): goes into the door record.
    pub fn kem_public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        let mut out = [0u8; PUBLIC_KEY_LEN];
        out.copy_from_slice(self.kem.public_key().to_sec1_point(false).as_bytes());
        out
    }

    /// The receipt-signing public key (uncompressed SEC1): the backend checks receipts with it.
    pub fn signing_public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        let mut out = [0u8; PUBLIC_KEY_LEN];
        out.copy_from_slice(self.signing.verifying_key().to_sec1_point(false).as_bytes());
        out
    }
}
