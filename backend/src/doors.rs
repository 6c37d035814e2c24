//! Doors: each has a lock (8-byte id and P-256 public key) and is online or offline.
//!
//! Every access change that concerns a door bumps its bundle version. A door whose lock is
//! connected through its online link (`link_up`, see `lock_link`) gets it within seconds;
//! any other door whose synced version is behind has a pending door sync, for phones.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::secrets::b64;
use keyway_api::DoorView;

/// Parses a 16-hex-digit lock id.
pub fn parse_lock_id(s: &str) -> Result<[u8; 8]> {
    let bytes = hex::decode(s.trim()).map_err(|_| Error::field("lock_id", "must be 16 hex digits"))?;
    bytes.try_into().map_err(|_| Error::field("lock_id", "must be 16 hex digits"))
}

/// Adds a door to a facility.
#[allow(clippy::too_many_arguments)]
pub fn create(
    tx: &Transaction<'_>,
    facility_id: i64,
    name: &str,
    lock_id: &[u8; 8],
    lock_public_key: &[u8],
    lock_signing_public_key: &[u8],
    online: bool,
    now: i64,
) -> Result<i64> {
    crate::orgs::exists(tx, "facilities", facility_id, "facility")?;
    let taken: Option<i64> =
        tx.query_row("SELECT id FROM doors WHERE lock_id = ?1", [&lock_id[..]], |r| r.get(0)).optional()?;
    if taken.is_some() {
        return Err(Error::Conflict("a door with this lock id already exists"));
    }
    tx.execute(
        "INSERT INTO doors (facility_id, name, lock_id, lock_public_key, lock_signing_public_key, online, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![facility_id, name, &lock_id[..], lock_public_key, lock_signing_public_key, online, now],
    )?;
    Ok(tx.last_insert_rowid())
}

const SELECT: &str = "SELECT id, facility_id, name, lock_id, lock_public_key, online, bundle_version,
    synced_version, synced_at, lock_signing_public_key, link_up, link_seen_at FROM doors";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DoorView> {
    let lock_id: Vec<u8> = r.get(3)?;
    let key: Vec<u8> = r.get(4)?;
    let internet: bool = r.get(5)?;
    let v: i64 = r.get(6)?;
    let s: i64 = r.get(7)?;
    let signing: Vec<u8> = r.get(9)?;
    // Online means connected now: a door fitted with internet whose link is down is
    // carried by phones like any offline door.
    let online: bool = r.get(10)?;
    Ok(DoorView {
        id: r.get(0)?,
        facility_id: r.get(1)?,
        name: r.get(2)?,
        lock_id: hex::encode(lock_id),
        lock_public_key: b64(&key),
        lock_signing_public_key: b64(&signing),
        online,
        internet,
        link_seen_at: r.get(11)?,
        bundle_version: v,
        synced_version: s,
        synced_at: r.get(8)?,
        sync_pending: !online && v > s,
    })
}

/// One door by id.
pub fn get(tx: &Transaction<'_>, door_id: i64) -> Result<DoorView> {
    tx.prepare_cached(&format!("{SELECT} WHERE id = ?1"))?
        .query_row([door_id], row)
        .optional()?
        .ok_or(Error::NotFound("door"))
}

/// One door by lock id.
pub fn get_by_lock(tx: &Transaction<'_>, lock_id: &[u8; 8]) -> Result<DoorView> {
    tx.query_row(&format!("{SELECT} WHERE lock_id = ?1"), [&lock_id[..]], row)
        .optional()?
        .ok_or(Error::NotFound("door"))
}

/// Doors with the given ids, in the order given.
pub fn get_many(tx: &Transaction<'_>, ids: &[i64]) -> Result<Vec<DoorView>> {
    ids.iter().map(|id| get(tx, *id)).collect()
}

/// All doors of an organisation.
pub fn list_for_org(tx: &Transaction<'_>, org_id: i64) -> Result<Vec<DoorView>> {
    let mut stmt = tx.prepare(&format!(
        "{SELECT} WHERE facility_id IN (SELECT f.id FROM facilities f JOIN sites s ON s.id = f.site_id WHERE s.org_id = ?1)
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([org_id], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Doors not connected through an online link whose lock is behind the backend's bundle
/// version.
pub fn pending_sync(tx: &Transaction<'_>, org_id: Option<i64>) -> Result<Vec<DoorView>> {
    let mut stmt = tx.prepare(&format!(
        "{SELECT} WHERE link_up = 0 AND bundle_version > synced_version AND (?1 IS NULL OR facility_id IN
           (SELECT f.id FROM facilities f JOIN sites s ON s.id = f.site_id WHERE s.org_id = ?1))
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([org_id], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Records that `credential_id` is revoked at `door_id`, in a new bundle version.
pub fn add_revocation(tx: &Transaction<'_>, door_id: i64, credential_id: &[u8], not_after: i64) -> Result<()> {
    tx.execute("UPDATE doors SET bundle_version = bundle_version + 1 WHERE id = ?1", [door_id])?;
    tx.execute(
        "INSERT OR IGNORE INTO door_revocations (door_id, credential_id, version, not_after)
         SELECT ?1, ?2, bundle_version, ?3 FROM doors WHERE id = ?1",
        params![door_id, credential_id, not_after],
    )?;
    Ok(())
}

/// Changes a door's lock configuration; offline doors then need a sync to receive it.
pub fn set_config(tx: &Transaction<'_>, door_id: i64, unlock_ms: Option<u16>, fast_unlock: Option<bool>) -> Result<()> {
    get(tx, door_id)?;
    if unlock_ms.is_some_and(|ms| !(500..=60_000).contains(&ms)) {
        return Err(Error::field("unlock_ms", "must be between 500 and 60000 milliseconds"));
    }
    tx.execute(
        "UPDATE doors SET unlock_ms = COALESCE(?2, unlock_ms), fast_unlock = COALESCE(?3, fast_unlock),
             bundle_version = bundle_version + 1
         WHERE id = ?1",
        params![door_id, unlock_ms, fast_unlock],
    )?;
    Ok(())
}
