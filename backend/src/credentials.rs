//! Credential issuance for the session's device: short-lived (the site's setting, default
//! 72 h), never past the grant's expiry, renewed by asking again.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::keys::grant_door_ids;
use crate::orgs;
use crate::secrets::{Secrets, b64};
use crate::sessions::SessionInfo;
use crate::signing::{self, CredentialSpec};

/// A signed credential for the app to store and present at locks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedCredential {
    /// The grant it was issued under.
    pub grant_id: i64,
    /// Credential id, 32 hex digits.
    pub credential_id: String,
    /// The credential bytes, base64url.
    pub credential: String,
    /// Unix seconds when it starts to work.
    pub not_before: i64,
    /// Unix seconds when it stops working; renew before then.
    pub not_after: i64,
    /// Lock ids (hex) of the doors it opens.
    pub lock_ids: Vec<String>,
    /// For guest keys: the sharing member's credential id (hex).
    pub parent_credential_id: Option<String>,
    /// Issuer public key of the site (65 bytes, base64url).
    pub issuer_public_key: String,
}

struct GrantRow {
    person_id: i64,
    facility_id: i64,
    starts_at: i64,
    expires_at: i64,
    shareable: bool,
    revoked: bool,
    parent: Option<Vec<u8>>,
}

fn load_grant(tx: &Transaction<'_>, grant_id: i64) -> Result<GrantRow> {
    tx.query_row(
        "SELECT g.person_id, k.facility_id, g.starts_at, g.expires_at, g.shareable, g.revoked_at IS NOT NULL,
                (SELECT parent_credential_id FROM shares s WHERE s.id = g.share_id)
         FROM grants g JOIN keys k ON k.id = g.key_id WHERE g.id = ?1",
        [grant_id],
        |r| {
            Ok(GrantRow {
                person_id: r.get(0)?,
                facility_id: r.get(1)?,
                starts_at: r.get(2)?,
                expires_at: r.get(3)?,
                shareable: r.get(4)?,
                revoked: r.get(5)?,
                parent: r.get(6)?,
            })
        },
    )
    .optional()?
    .ok_or(Error::NotFound("grant"))
}

/// Issues a credential under one grant for the session's device.
pub fn issue_one(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    session: &SessionInfo,
    grant_id: i64,
    now: i64,
) -> Result<IssuedCredential> {
    let g = load_grant(tx, grant_id)?;
    if g.person_id != session.person_id {
        return Err(Error::NotFound("grant"));
    }
    if g.revoked {
        return Err(Error::KeyRevoked);
    }
    if now >= g.expires_at {
        return Err(Error::KeyExpired);
    }
    let issuer = orgs::issuer_for_facility(tx, secrets, g.facility_id)?;
    let not_before = now.max(g.starts_at);
    if not_before >= now + issuer.credential_ttl_secs {
        return Err(Error::KeyNotYetValid { starts_at: g.starts_at });
    }
    let not_after = (not_before + issuer.credential_ttl_secs).min(g.expires_at);
    let door_ids = grant_door_ids(tx, grant_id)?;
    let mut lock_ids = Vec::with_capacity(door_ids.len());
    for d in &door_ids {
        let lock: Vec<u8> = tx.query_row("SELECT lock_id FROM doors WHERE id = ?1", [d], |r| r.get(0))?;
        let arr: [u8; 8] =
            lock.try_into().map_err(|_| Error::Internal("stored lock id has the wrong length".into()))?;
        lock_ids.push(arr);
    }
    let id_vec = secrets.random_bytes(16)?;
    let mut id = [0u8; 16];
    id.copy_from_slice(&id_vec);
    let parent: Option<[u8; 16]> = match &g.parent {
        Some(p) => {
            Some(p.as_slice().try_into().map_err(|_| Error::Internal("stored parent id has the wrong length".into()))?)
        }
        None => None,
    };
    let guest = parent.is_some();
    let spec = CredentialSpec {
        id,
        device_public_key: session.device_public_key.clone(),
        doors: lock_ids.clone(),
        not_before: u32::try_from(not_before).map_err(|_| Error::field("starts_at", "out of range"))?,
        not_after: u32::try_from(not_after).map_err(|_| Error::field("expires_at", "out of range"))?,
        shareable: g.shareable && !guest,
        parent,
    };
    let bytes = signing::issue_credential(&issuer.pkcs8, &spec)?;
    tx.execute(
        "INSERT INTO credentials (id, grant_id, session_id, device_public_key, not_before, not_after, parent_id,
             guest, shareable, issued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            &id[..],
            grant_id,
            session.session_id,
            session.device_public_key,
            not_before,
            not_after,
            g.parent,
            guest,
            spec.shareable,
            now
        ],
    )?;
    for d in &door_ids {
        tx.execute("INSERT INTO credential_doors (credential_id, door_id) VALUES (?1, ?2)", params![&id[..], d])?;
    }
    Ok(IssuedCredential {
        grant_id,
        credential_id: hex::encode(id),
        credential: b64(&bytes),
        not_before,
        not_after,
        lock_ids: lock_ids.iter().map(hex::encode).collect(),
        parent_credential_id: parent.map(hex::encode),
        issuer_public_key: b64(&issuer.public_key),
    })
}

/// Issues (or renews) credentials for every grant of the person that is usable now or
/// within the credential life; grants that are revoked, expired or too far ahead are skipped.
pub fn issue_all(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    session: &SessionInfo,
    now: i64,
) -> Result<Vec<IssuedCredential>> {
    let ids: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT id FROM grants WHERE person_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![session.person_id, now], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::new();
    for id in ids {
        match issue_one(tx, secrets, session, id, now) {
            Ok(c) => out.push(c),
            Err(Error::KeyNotYetValid { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The newest unrevoked, unexpired credential of a grant on this session's device, if any.
pub fn current_for_grant(
    tx: &Transaction<'_>,
    session: &SessionInfo,
    grant_id: i64,
    now: i64,
) -> Result<Option<Vec<u8>>> {
    Ok(tx
        .query_row(
            "SELECT id FROM credentials WHERE grant_id = ?1 AND device_public_key = ?2 AND revoked_at IS NULL
               AND not_after > ?3 ORDER BY issued_at DESC, rowid DESC LIMIT 1",
            params![grant_id, session.device_public_key, now],
            |r| r.get(0),
        )
        .optional()?)
}
