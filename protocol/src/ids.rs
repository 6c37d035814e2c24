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
    /// A credential (128 bits, random). Revocations name credentials by this id.
    CredentialId,
    16
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
