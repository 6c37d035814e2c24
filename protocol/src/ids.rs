//! Identifiers that travel on the wire: doors, credentials, issuer keys, fast-unlock tickets
//! and the lock's per-attempt nonce.

use std::fmt;

macro_rules! byte_id {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length on the wire, in bytes.
            pub const LEN: usize = $len;

            /// Parses the lowercase or uppercase hex form.
            pub fn from_hex(s: &str) -> Option<Self> {
                let s = s.as_bytes();
                if s.len() != 2 * $len {
                    return None;
                }
                let mut out = [0u8; $len];
                for (i, pair) in s.chunks_exact(2).enumerate() {
                    let hi = (pair[0] as char).to_digit(16)?;
                    let lo = (pair[1] as char).to_digit(16)?;
                    out[i] = (hi * 16 + lo) as u8;
                }
                Some(Self(out))
            }

            /// The lowercase hex form.
            pub fn to_hex(&self) -> String {
                self.0.iter().map(|b| format!("{b:02x}")).collect()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
    };
}

byte_id!(
    /// A door, which is also the id of the lock fitted to it (64 bits, random per site).
    DoorId,
    8
);
byte_id!(
    /// A credential (128 bits). The backend mints `serial u64 big-endian ‖ 8 random bytes`
    /// (see [`CredentialId::from_serial`]); older credentials are 16 random bytes. Bundles
    /// of format 3 name revoked credentials by the first 8 bytes, their [`SerialPrefix`].
    CredentialId,
    16
);
byte_id!(
    /// The first 8 bytes of a credential id: the issuing site's serial number for ids the
    /// backend mints now, random for older ids. Format-3 bundles and the lock's revocation
    /// set name credentials by it; two credentials sharing a prefix are revoked together
    /// (only ever a refusal, never an admission).
    SerialPrefix,
    8
);
byte_id!(
    /// An issuer (backend signing) key: the first 8 bytes of SHA-256 of its
    /// uncompressed SEC1 public key.
    KeyId,
    8
);
byte_id!(
    /// A fast-unlock ticket handed out by a lock; single use, replaced on every fast unlock.
    TicketId,
    16
);
byte_id!(
    /// The lock's per-attempt nonce, broadcast in its advertisement and consumed by the
    /// first handshake that names it.
    LockNonce,
    8
);

impl KeyId {
    /// The key id of an uncompressed SEC1 P-256 public key.
    pub fn of_public_key(public_key: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, public_key);
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest.as_ref()[..8]);
        Self(id)
    }
}

impl CredentialId {
    /// A credential id as the backend mints it: the site's credential serial number
    /// (big-endian, so ids sort by serial) followed by 8 random bytes, which keep the id
    /// unguessable and distinct even if a serial were ever handed out twice.
    pub fn from_serial(serial: u64, random: [u8; 8]) -> Self {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&serial.to_be_bytes());
        id[8..].copy_from_slice(&random);
        Self(id)
    }

    /// The first 8 bytes: what format-3 bundles and the lock's revocation set name.
    pub fn serial_prefix(&self) -> SerialPrefix {
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(&self.0[..8]);
        SerialPrefix(prefix)
    }
}

impl SerialPrefix {
    /// The prefix as a number (big-endian): the serial for ids minted from a serial.
    pub fn to_u64(self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    /// The prefix of the number `value` (big-endian).
    pub fn from_u64(value: u64) -> Self {
        Self(value.to_be_bytes())
    }
}
