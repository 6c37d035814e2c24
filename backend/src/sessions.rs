//! Sessions: short access tokens and rotating refresh tokens, bound to a device key.
//!
//! A session is one refresh-token family. Presenting a rotated refresh token again
//! revokes the family, except for the immediately previous token within a short grace:
//! that returns the same successor (derived from the presented token with the server
//! secret, so nothing raw is stored), so a client that lost a refresh response is not
//! logged out.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::secrets::{Purpose, Secrets, b64, unb64};
use keyway_api::SessionTokens;

/// Access token life.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Refresh token life without use.
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
/// How long the previous refresh token still yields the same successor.
pub const REFRESH_GRACE_SECS: i64 = 30;

/// Who is calling, from a valid access token.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Session (refresh family) id.
    pub session_id: i64,
    /// The signed-in person.
    pub person_id: i64,
    /// The device's 65-byte uncompressed P-256 public key.
    pub device_public_key: Vec<u8>,
}

/// Parses a device public key: base64url of a 65-byte uncompressed SEC1 P-256 point on the curve.
pub fn parse_device_key(b64url: &str) -> Result<Vec<u8>> {
    let bytes = unb64(b64url.trim()).ok_or(Error::InvalidDeviceKey)?;
    if bytes.len() != 65 || bytes[0] != 0x04 {
        return Err(Error::InvalidDeviceKey);
    }
    // An ephemeral ECDH with the key makes ring validate that the point is on the curve.
    let rng = ring::rand::SystemRandom::new();
    let mine = ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng)
        .map_err(|_| Error::Internal("ephemeral key".into()))?;
    let theirs = ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P256, &bytes);
    ring::agreement::agree_ephemeral(mine, &theirs, |_| ()).map_err(|_| Error::InvalidDeviceKey)?;
    Ok(bytes)
}

fn new_access(tx: &Transaction<'_>, secrets: &Secrets, session_id: i64, now: i64) -> Result<(String, i64)> {
    let token = secrets.new_token()?;
    let exp = now + ACCESS_TTL_SECS;
    tx.execute(
        "INSERT INTO access_tokens (token_hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
        params![secrets.hash(Purpose::AccessToken, "", &token), session_id, exp],
    )?;
    // Housekeeping: expired access tokens are useless.
    tx.execute("DELETE FROM access_tokens WHERE expires_at < ?1", [now - 3600])?;
    Ok((token, exp))
}

/// Starts a session for `person_id` on the device with `device_public_key`.
pub fn create(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    person_id: i64,
    device_public_key: &[u8],
    now: i64,
) -> Result<SessionTokens> {
    tx.execute(
        "INSERT INTO sessions (person_id, device_public_key, created_at) VALUES (?1, ?2, ?3)",
        params![person_id, device_public_key, now],
    )?;
    let session_id = tx.last_insert_rowid();
    let refresh = secrets.new_token()?;
    tx.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES (?1, ?2, ?3)",
        params![secrets.hash(Purpose::RefreshToken, "", &refresh), session_id, now],
    )?;
    let (access, exp) = new_access(tx, secrets, session_id, now)?;
    tx.execute(
        "UPDATE people SET app_adoption = 'active', first_sign_in_at = COALESCE(first_sign_in_at, ?2) WHERE id = ?1",
        params![person_id, now],
    )?;
    Ok(SessionTokens {
        access_token: access,
        access_expires_at: exp,
        access_expires_in: exp - now,
        refresh_token: refresh,
        person_id,
    })
}

/// Resolves an access token to its session.
pub fn authenticate(tx: &Transaction<'_>, secrets: &Secrets, access_token: &str, now: i64) -> Result<SessionInfo> {
    let h = secrets.hash(Purpose::AccessToken, "", access_token);
    let row = tx
        .prepare_cached(
            "SELECT a.expires_at, s.id, s.person_id, s.device_public_key, s.revoked_at
             FROM access_tokens a JOIN sessions s ON s.id = a.session_id WHERE a.token_hash = ?1",
        )?
        .query_row([h], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .optional()?;
    let Some((exp, session_id, person_id, device_public_key, revoked)) = row else {
        return Err(Error::Unauthenticated);
    };
    if revoked.is_some() {
        return Err(Error::Unauthenticated);
    }
    if now >= exp {
        return Err(Error::AccessTokenExpired);
    }
    Ok(SessionInfo { session_id, person_id, device_public_key })
}

/// Ends a session: its refresh family and access tokens stop working.
pub fn revoke(tx: &Transaction<'_>, session_id: i64, reason: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE sessions SET revoked_at = ?2, revoke_reason = ?3 WHERE id = ?1 AND revoked_at IS NULL",
        params![session_id, now, reason],
    )?;
    tx.execute("DELETE FROM access_tokens WHERE session_id = ?1", [session_id])?;
    Ok(())
}

/// Rotates a refresh token. Commit even on error: reuse detection revokes the family.
pub fn refresh(tx: &Transaction<'_>, secrets: &Secrets, refresh_token: &str, now: i64) -> Result<SessionTokens> {
    let h = secrets.hash(Purpose::RefreshToken, "", refresh_token);
    let row = tx
        .query_row(
            "SELECT r.session_id, r.issued_at, r.rotated_at, r.successor_hash, s.revoked_at, s.person_id
             FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = ?1",
            [&h],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((session_id, issued_at, rotated_at, successor_hash, revoked, person_id)) = row else {
        return Err(Error::InvalidRefreshToken);
    };
    if revoked.is_some() || now >= issued_at + REFRESH_TTL_SECS {
        return Err(Error::InvalidRefreshToken);
    }
    let successor = secrets.refresh_successor(refresh_token);
    let successor_h = secrets.hash(Purpose::RefreshToken, "", &successor);
    match rotated_at {
        None => {
            tx.execute(
                "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES (?1, ?2, ?3)",
                params![successor_h, session_id, now],
            )?;
            tx.execute(
                "UPDATE refresh_tokens SET rotated_at = ?2, successor_hash = ?3 WHERE token_hash = ?1",
                params![h, now, successor_h],
            )?;
        }
        Some(at) => {
            // Within the grace, and only if the successor has not itself been used.
            let successor_unused: bool = match &successor_hash {
                Some(sh) => tx
                    .query_row("SELECT rotated_at IS NULL FROM refresh_tokens WHERE token_hash = ?1", [sh], |r| {
                        r.get(0)
                    })
                    .optional()?
                    .unwrap_or(false),
                None => false,
            };
            if now > at + REFRESH_GRACE_SECS || !successor_unused {
                revoke(tx, session_id, "refresh_token_reused", now)?;
                tracing::warn!(session_id, "refresh token reuse: session revoked");
                return Err(Error::RefreshTokenReused);
            }
        }
    }
    let (access, exp) = new_access(tx, secrets, session_id, now)?;
    Ok(SessionTokens {
        access_token: access,
        access_expires_at: exp,
        access_expires_in: exp - now,
        refresh_token: successor,
        person_id,
    })
}

/// base64url of a device key, for responses.
pub fn device_key_b64(key: &[u8]) -> String {
    b64(key)
}
