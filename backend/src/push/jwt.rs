//! The two JSON Web Tokens the push services ask for: ES256 (APNs provider tokens, signed
//! with the team's P-256 key) and RS256 (the OAuth assertion of a Google service account,
//! exchanged for an FCM access token). Keys come as PKCS#8 PEM, as both services hand
//! them out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;

/// Why a key or a token could not be made. Never holds key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// The PEM text holds no PKCS#8 private key.
    #[error("the key file holds no PKCS#8 private key")]
    NotPkcs8,
    /// The key is not of the kind the service needs (P-256 for APNs, RSA for FCM).
    #[error("the key is not a {0} key")]
    WrongKind(&'static str),
    /// Signing failed.
    #[error("signing failed")]
    Signing,
}

fn pkcs8(pem: &str) -> Result<Vec<u8>, JwtError> {
    match PrivateKeyDer::from_pem_slice(pem.as_bytes()) {
        Ok(PrivateKeyDer::Pkcs8(der)) => Ok(der.secret_pkcs8_der().to_vec()),
        _ => Err(JwtError::NotPkcs8),
    }
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(claims.to_string()))
}

/// A P-256 key that signs ES256 tokens.
pub struct Es256Key(EcdsaKeyPair);

impl Es256Key {
    /// From PKCS#8 PEM (an APNs `.p8` file).
    pub fn from_pem(pem: &str) -> Result<Self, JwtError> {
        let der = pkcs8(pem)?;
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
            .map(Self)
            .map_err(|_| JwtError::WrongKind("P-256"))
    }

    /// `header.claims.signature`, the signature in JWS form (`r ‖ s`).
    pub fn sign(&self, header: &Value, claims: &Value) -> Result<String, JwtError> {
        let input = signing_input(header, claims);
        let sig = self.0.sign(&SystemRandom::new(), input.as_bytes()).map_err(|_| JwtError::Signing)?;
        Ok(format!("{input}.{}", B64URL.encode(sig.as_ref())))
    }
}

/// An RSA key that signs RS256 tokens.
pub struct Rs256Key(RsaKeyPair);

impl Rs256Key {
    /// From PKCS#8 PEM (a service account's `private_key`).
    pub fn from_pem(pem: &str) -> Result<Self, JwtError> {
        let der = pkcs8(pem)?;
        RsaKeyPair::from_pkcs8(&der).map(Self).map_err(|_| JwtError::WrongKind("RSA"))
    }

    /// `header.claims.signature` with RSASSA-PKCS1-v1_5 over SHA-256.
    pub fn sign(&self, header: &Value, claims: &Value) -> Result<String, JwtError> {
        let input = signing_input(header, claims);
        let mut sig = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .map_err(|_| JwtError::Signing)?;
        Ok(format!("{input}.{}", B64URL.encode(sig)))
    }
}
