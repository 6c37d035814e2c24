//! Secrets at rest: random tokens, keyed hashes of tokens and codes, sealed signing keys.
//!
//! Every token and code is stored as `HMAC-SHA256(server secret, purpose || value)` and
//! compared in constant time; the raw value exists only in the response or message that
//! carries it. Private signing keys are sealed with AES-256-GCM under a key derived from
//! the same server secret.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// What a hashed value is for; part of the hash so a value of one kind never matches another.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// A one-time sign-in code (keyed by identifier too).
    OtpCode,
    /// A short-lived access token.
    AccessToken,
    /// A rotating refresh token.
    RefreshToken,
    /// An invitation link token.
    InvitationToken,
    /// A guest share link token.
    ShareToken,
    /// Derivation of a refresh token's successor.
    RefreshSuccessor,
    /// The tag of an online-link challenge (keyed by the lock id).
    LinkChallenge,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::OtpCode => b"keyway/otp-code/v1\0",
            Purpose::AccessToken => b"keyway/access-token/v1\0",
            Purpose::RefreshToken => b"keyway/refresh-token/v1\0",
            Purpose::InvitationToken => b"keyway/invitation-token/v1\0",
            Purpose::ShareToken => b"keyway/share-token/v1\0",
            Purpose::RefreshSuccessor => b"keyway/refresh-successor/v1\0",
            Purpose::LinkChallenge => b"keyway/link-challenge/v1\0",
        }
    }
}

/// The server's secret material, derived from one 32-byte server secret.
pub struct Secrets {
    hash_key: hmac::Key,
    seal_key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

impl Secrets {
    /// Derives the hashing and sealing keys from the server secret.
    pub fn new(server_secret: &[u8]) -> Result<Self> {
        let root = hmac::Key::new(hmac::HMAC_SHA256, server_secret);
        let hash_key_bytes = hmac::sign(&root, b"keyway/derive/hash");
        let seal_key_bytes = hmac::sign(&root, b"keyway/derive/seal");
        let unbound =
            UnboundKey::new(&AES_256_GCM, seal_key_bytes.as_ref()).map_err(|_| Error::Internal("seal key".into()))?;
        Ok(Self {
            hash_key: hmac::Key::new(hmac::HMAC_SHA256, hash_key_bytes.as_ref()),
            seal_key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// Fills `n` bytes from the system's secure random source.
    pub fn random_bytes(&self, n: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; n];
        self.rng.fill(&mut buf).map_err(|_| Error::Internal("random source failed".into()))?;
        Ok(buf)
    }

    /// A new 256-bit token, base64url without padding.
    pub fn new_token(&self) -> Result<String> {
        Ok(b64(&self.random_bytes(32)?))
    }

    /// A uniformly random 6-digit code.
    pub fn new_code(&self) -> Result<String> {
        loop {
            let b = self.random_bytes(4)?;
            let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            // Reject the top sliver so every code is equally likely.
            if n < 4_294_000_000 {
                return Ok(format!("{:06}", n % 1_000_000));
            }
        }
    }

    /// The keyed hash stored in place of `value`; `context` binds it (e.g. to an identifier).
    pub fn hash(&self, purpose: Purpose, context: &str, value: &str) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.hash_key);
        ctx.update(purpose.label());
        ctx.update(&(context.len() as u64).to_be_bytes());
        ctx.update(context.as_bytes());
        ctx.update(value.as_bytes());
        ctx.sign().as_ref().to_vec()
    }

    /// The deterministic successor of a refresh token (so a retried refresh gets the same one).
    pub fn refresh_successor(&self, token: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.hash_key);
        ctx.update(Purpose::RefreshSuccessor.label());
        ctx.update(token.as_bytes());
        b64(ctx.sign().as_ref())
    }

    /// Seals `plain` (e.g. a PKCS#8 private key) for storage.
    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>> {
        self.seal_with(b"keyway/sealed/v1", plain)
    }

    /// Opens a value sealed by [`Secrets::seal`].
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        self.open_with(b"keyway/sealed/v1", sealed)
    }

    /// Seals `plain` bound to `context` (e.g. a queued message's channel and recipient): it
    /// opens only with the same context, so a sealed value moved to another row is refused.
    pub fn seal_bound(&self, context: &str, plain: &[u8]) -> Result<Vec<u8>> {
        self.seal_with(&bound_aad(context), plain)
    }

    /// Opens a value sealed by [`Secrets::seal_bound`] with the same `context`.
    pub fn open_bound(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        self.open_with(&bound_aad(context), sealed)
    }

    fn seal_with(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        let nonce_bytes = self.random_bytes(NONCE_LEN)?;
        let mut nonce_arr = [0u8; NONCE_LEN];
        nonce_arr.copy_from_slice(&nonce_bytes);
        let mut buf = plain.to_vec();
        self.seal_key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_arr), Aad::from(aad), &mut buf)
            .map_err(|_| Error::Internal("seal failed".into()))?;
        let mut out = nonce_bytes;
        out.extend_from_slice(&buf);
        Ok(out)
    }

    fn open_with(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::Internal("sealed value too short".into()));
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let mut nonce_arr = [0u8; NONCE_LEN];
        nonce_arr.copy_from_slice(nonce);
        let mut buf = rest.to_vec();
        let plain = self
            .seal_key
            .open_in_place(Nonce::assume_unique_for_key(nonce_arr), Aad::from(aad), &mut buf)
            .map_err(|_| Error::Internal("sealed value does not open (wrong server secret?)".into()))?;
        Ok(plain.to_vec())
    }
}

fn bound_aad(context: &str) -> Vec<u8> {
    let mut aad = b"keyway/sealed-bound/v1\0".to_vec();
    aad.extend_from_slice(context.as_bytes());
    aad
}

/// Constant-time equality of two hashes.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url (padding optional).
pub fn unb64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        let s = Secrets::new(b"k").unwrap();
        for _ in 0..50 {
            let c = s.new_code().unwrap();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn sealed_values_open_only_with_the_same_secret() {
        let a = Secrets::new(b"one").unwrap();
        let b = Secrets::new(b"two").unwrap();
        let sealed = a.seal(b"private").unwrap();
        assert_eq!(a.open(&sealed).unwrap(), b"private");
        assert!(b.open(&sealed).is_err());
    }

    #[test]
    fn bound_values_open_only_in_their_own_context() {
        let s = Secrets::new(b"k").unwrap();
        let sealed = s.seal_bound("email\nada@example.com", b"code 123456").unwrap();
        assert_eq!(s.open_bound("email\nada@example.com", &sealed).unwrap(), b"code 123456");
        assert!(s.open_bound("email\neve@example.com", &sealed).is_err());
        assert!(s.open(&sealed).is_err());
    }

    #[test]
    fn hashes_depend_on_purpose_and_context() {
        let s = Secrets::new(b"k").unwrap();
        let x = s.hash(Purpose::OtpCode, "a@b.c", "123456");
        assert_ne!(x, s.hash(Purpose::OtpCode, "b@b.c", "123456"));
        assert_ne!(x, s.hash(Purpose::AccessToken, "a@b.c", "123456"));
        assert!(same(&x, &s.hash(Purpose::OtpCode, "a@b.c", "123456")));
    }
}
