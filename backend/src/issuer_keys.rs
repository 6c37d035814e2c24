//! Issuer key rotation: a site's keys have a life (`active`, `outgoing`, `retired`, see
//! [`signing::KeyLifecycle`]) and its doors learn each change as a signed trust-anchor
//! update that travels in front of their bundles.
//!
//! The operator's sequence (docs/security.md, "Rotating an issuer key"):
//! 1. [`rotate`]: a new key becomes active and signs every bundle from now on, and every
//!    credential whose doors all confirmed it ([`for_credential`]: until then the outgoing
//!    key signs them, so their holders can still open those doors and carry the update);
//!    the old key becomes outgoing and signs, for every door, the update "trust the old
//!    key and the new one"; each door's bundle version moves, so couriers are asked to
//!    carry it (and online locks get it at once).
//! 2. Wait until [`status`] lists no door pending: each lock has reported, in a receipt,
//!    the bundle that carried the update (which the new key signed, so it holds both).
//! 3. [`retire`]: the active key signs, for every door, "trust the new key only"; the old
//!    key's sealed private key is erased and it signs nothing again. Its credentials stop
//!    working at each lock as that lock applies the update (or at their own expiry).

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::secrets::{Secrets, b64};
use crate::signing::{self, KeyLifecycle, SigningIssuer};
use keyway_api::{IssuerKeyView, IssuerKeys};

struct KeyRow {
    id: i64,
    sealed: Option<Vec<u8>>,
    public_key: Vec<u8>,
}

fn key_in_state(tx: &Transaction<'_>, site_id: i64, state: KeyLifecycle) -> Result<Option<KeyRow>> {
    // Asked once per credential a refresh issues: prepared once per connection.
    Ok(tx
        .prepare_cached("SELECT id, key_sealed, public_key FROM issuer_keys WHERE site_id = ?1 AND state = ?2")?
        .query_row(params![site_id, state.as_str()], |r| {
            Ok(KeyRow { id: r.get(0)?, sealed: r.get(1)?, public_key: r.get(2)? })
        })
        .optional()?)
}

fn signer(secrets: &Secrets, row: &KeyRow, state: KeyLifecycle) -> Result<SigningIssuer> {
    let sealed = row.sealed.as_ref().ok_or(Error::IssuerKeyRetired)?;
    Ok(SigningIssuer::new(secrets.open(sealed)?, state))
}

/// Moves every door of the site to a new bundle version carrying the anchor update that
/// `signer` signs for it (set `anchors`, version `version`).
fn publish(
    tx: &Transaction<'_>,
    site_id: i64,
    signer: &SigningIssuer,
    version: i64,
    anchors: &[Vec<u8>],
) -> Result<()> {
    let doors: Vec<(i64, Vec<u8>)> = {
        let mut stmt = tx.prepare(
            "SELECT d.id, d.lock_id FROM doors d JOIN facilities f ON f.id = d.facility_id
             WHERE f.site_id = ?1 ORDER BY d.id",
        )?;
        let rows = stmt.query_map([site_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let wire_version = u32::try_from(version).map_err(|_| Error::Internal("anchor set version out of range".into()))?;
    for (door_id, lock_id) in doors {
        let lock_id: [u8; 8] =
            lock_id.try_into().map_err(|_| Error::Internal("stored lock id has the wrong length".into()))?;
        let signed = signing::sign_anchor_update(signer, lock_id, wire_version, anchors)?;
        tx.execute("UPDATE doors SET bundle_version = bundle_version + 1 WHERE id = ?1", [door_id])?;
        tx.execute(
            "INSERT INTO door_anchor_updates (door_id, version, signed, first_bundle_version)
             SELECT ?1, ?2, ?3, bundle_version FROM doors WHERE id = ?1
             ON CONFLICT (door_id) DO UPDATE SET version = excluded.version, signed = excluded.signed,
               first_bundle_version = excluded.first_bundle_version",
            params![door_id, version, signed],
        )?;
    }
    Ok(())
}

/// Rotates the site's issuer key: see the module's step 1. Refused while an outgoing key
/// is still waiting to be retired (a lock holds a bounded set; one rotation at a time).
pub fn rotate(tx: &Transaction<'_>, secrets: &Secrets, site_id: i64, now: i64) -> Result<IssuerKeys> {
    crate::orgs::exists(tx, "sites", site_id, "site")?;
    if key_in_state(tx, site_id, KeyLifecycle::Outgoing)?.is_some() {
        return Err(Error::Conflict("retire the site's outgoing issuer key before rotating again"));
    }
    let old = key_in_state(tx, site_id, KeyLifecycle::Active)?.ok_or(Error::NotFound("issuer key"))?;
    let new = signing::generate_key()?;
    let sealed = secrets.seal(&new.pkcs8)?;
    tx.execute("UPDATE issuer_keys SET state = 'outgoing', replaced_at = ?2 WHERE id = ?1", params![old.id, now])?;
    tx.execute(
        "INSERT INTO issuer_keys (site_id, key_sealed, public_key, state, created_at) VALUES (?1, ?2, ?3, 'active', ?4)",
        params![site_id, sealed, new.public_key, now],
    )?;
    tx.execute(
        "UPDATE sites SET issuer_key_sealed = ?2, issuer_public_key = ?3, anchor_version = anchor_version + 1
         WHERE id = ?1",
        params![site_id, sealed, new.public_key],
    )?;
    let version: i64 = tx.query_row("SELECT anchor_version FROM sites WHERE id = ?1", [site_id], |r| r.get(0))?;
    // The locks trust only the old key so far: it signs the set that adds the new one.
    let old_signer = signer(secrets, &old, KeyLifecycle::Outgoing)?;
    publish(tx, site_id, &old_signer, version, &[old.public_key.clone(), new.public_key])?;
    tracing::info!(site_id, anchor_version = version, "issuer key rotated");
    status(tx, site_id)
}

/// Retires the site's outgoing key: see the module's step 3. Refused while a door has not
/// confirmed the current set, unless `force` (those locks must then be provisioned again).
pub fn retire(tx: &Transaction<'_>, secrets: &Secrets, site_id: i64, force: bool, now: i64) -> Result<IssuerKeys> {
    crate::orgs::exists(tx, "sites", site_id, "site")?;
    let outgoing = key_in_state(tx, site_id, KeyLifecycle::Outgoing)?
        .ok_or(Error::Conflict("the site has no outgoing issuer key to retire"))?;
    if !force && !pending_doors(tx, site_id)?.is_empty() {
        return Err(Error::Conflict("some doors have not confirmed the new issuer key yet"));
    }
    if !force && live_credentials_of(tx, &outgoing.public_key, now)? > 0 {
        return Err(Error::Conflict("credentials of the outgoing issuer key are still live"));
    }
    let active = key_in_state(tx, site_id, KeyLifecycle::Active)?.ok_or(Error::NotFound("issuer key"))?;
    // Erase the private key: nothing can sign with it again, whatever a caller asks.
    tx.execute(
        "UPDATE issuer_keys SET state = 'retired', retired_at = ?2, key_sealed = NULL WHERE id = ?1",
        params![outgoing.id, now],
    )?;
    tx.execute("UPDATE sites SET anchor_version = anchor_version + 1 WHERE id = ?1", [site_id])?;
    let version: i64 = tx.query_row("SELECT anchor_version FROM sites WHERE id = ?1", [site_id], |r| r.get(0))?;
    let active_signer = signer(secrets, &active, KeyLifecycle::Active)?;
    publish(tx, site_id, &active_signer, version, &[active.public_key])?;
    tracing::info!(site_id, anchor_version = version, "issuer key retired");
    status(tx, site_id)
}

/// How many live credentials (not revoked, superseded or expired) `public_key` signed:
/// retiring it would lock their holders out until their phones renew.
fn live_credentials_of(tx: &Transaction<'_>, public_key: &[u8], now: i64) -> Result<usize> {
    let mut stmt = tx.prepare(
        "SELECT bytes FROM credentials WHERE bytes IS NOT NULL AND revoked_at IS NULL
           AND superseded_at IS NULL AND not_after > ?1",
    )?;
    let rows = stmt.query_map([now], |r| r.get::<_, Vec<u8>>(0))?;
    let mut live = 0;
    for bytes in rows {
        live += usize::from(signing::signed_by(&bytes?, public_key));
    }
    Ok(live)
}

/// Doors of the site whose lock has not reported the bundle that first carried its
/// current anchor update.
fn pending_doors(tx: &Transaction<'_>, site_id: i64) -> Result<Vec<i64>> {
    let mut stmt = tx.prepare_cached(
        "SELECT d.id FROM doors d JOIN facilities f ON f.id = d.facility_id
         JOIN door_anchor_updates u ON u.door_id = d.id
         WHERE f.site_id = ?1 AND d.synced_version < u.first_bundle_version ORDER BY d.id",
    )?;
    let rows = stmt.query_map([site_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The site's keys, anchor-set version and pending doors.
pub fn status(tx: &Transaction<'_>, site_id: i64) -> Result<IssuerKeys> {
    crate::orgs::exists(tx, "sites", site_id, "site")?;
    let anchor_version: i64 =
        tx.query_row("SELECT anchor_version FROM sites WHERE id = ?1", [site_id], |r| r.get(0))?;
    let keys = {
        let mut stmt = tx.prepare(
            "SELECT public_key, state, created_at, replaced_at, retired_at FROM issuer_keys
             WHERE site_id = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([site_id], |r| {
            let public_key: Vec<u8> = r.get(0)?;
            Ok(IssuerKeyView {
                key_id: hex::encode(signing::key_id(&public_key)),
                public_key: b64(&public_key),
                state: r.get(1)?,
                created_at: r.get(2)?,
                replaced_at: r.get(3)?,
                retired_at: r.get(4)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    Ok(IssuerKeys { site_id, anchor_version, keys, doors_pending: pending_doors(tx, site_id)? })
}

/// The issuer that signs a credential for `door_ids`: the site's active key, unless the
/// site has an outgoing key and one of the doors has not yet confirmed the new one. Then
/// the outgoing key signs it, so the holder can still open that door (and carry the update
/// there: the sync needs a credential the lock trusts). Its credentials keep working at
/// the other doors, which trust both keys until retirement.
pub fn for_credential(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    active: std::rc::Rc<crate::orgs::Issuer>,
    door_ids: &[i64],
) -> Result<std::rc::Rc<crate::orgs::Issuer>> {
    let Some(site_id) = door_ids.first().map(|d| site_of_door(tx, *d)).transpose()? else {
        return Ok(active);
    };
    let Some(outgoing) = key_in_state(tx, site_id, KeyLifecycle::Outgoing)? else {
        return Ok(active);
    };
    let pending = pending_doors(tx, site_id)?;
    if !door_ids.iter().any(|d| pending.contains(d)) {
        return Ok(active);
    }
    let signer = signer(secrets, &outgoing, KeyLifecycle::Outgoing)?;
    Ok(std::rc::Rc::new(crate::orgs::Issuer {
        signer,
        public_key: outgoing.public_key,
        credential_ttl_secs: active.credential_ttl_secs,
    }))
}

fn site_of_door(tx: &Transaction<'_>, door_id: i64) -> Result<i64> {
    tx.prepare_cached("SELECT f.site_id FROM doors d JOIN facilities f ON f.id = d.facility_id WHERE d.id = ?1")?
        .query_row([door_id], |r| r.get(0))
        .optional()?
        .ok_or(Error::NotFound("door"))
}

/// `bundle` with the door's current anchor update in front of it, if the door has one
/// (what phones and the online link carry: `keyway_protocol::anchor_update`).
pub fn with_anchor_update(tx: &Transaction<'_>, door_id: i64, bundle: Vec<u8>) -> Result<Vec<u8>> {
    let update: Option<Vec<u8>> = tx
        .query_row("SELECT signed FROM door_anchor_updates WHERE door_id = ?1", [door_id], |r| r.get(0))
        .optional()?;
    Ok(match update {
        Some(mut bytes) => {
            bytes.extend_from_slice(&bundle);
            bytes
        }
        None => bundle,
    })
}
