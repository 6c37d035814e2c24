//! Door sync: signed bundles (revocation delta, configuration, signed
//! time) for phones to carry to locks, and intake of the locks' signed receipts.
//!
//! Audit events are keyed by (door, lock sequence number), so a receipt delivered twice —
//! by a retrying phone or by two couriers — stores its events once.

use rusqlite::{Transaction, params};

use crate::doors;
use crate::error::{Error, Result};
use crate::orgs;
use crate::secrets::{Secrets, b64};
use crate::signing::{self, BundleSpec};
use keyway_api::{AuditEventView, DoorView, ReceiptOutcome, SignedBundle};

/// Builds and signs the current bundle for a door for a phone to carry, with the
/// revocations added after `since` (the version the lock runs; absent or 0 means the full
/// list). A door whose lock is connected through its online link gets its bundles itself:
/// `door_online`.
pub fn bundle(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    door_id: i64,
    since: Option<i64>,
    now: i64,
) -> Result<SignedBundle> {
    let door = doors::get(tx, door_id)?;
    if door.online {
        return Err(Error::DoorOnline);
    }
    signed_bundle(tx, secrets, &door, since, now)
}

/// The door's current signed bundle as a delta from `since`, whoever takes it to the lock
/// (a phone, or the lock's own online link); `door_up_to_date` when `since` is current.
pub fn signed_bundle(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    door: &DoorView,
    since: Option<i64>,
    now: i64,
) -> Result<SignedBundle> {
    let door_id = door.id;
    let base = since.unwrap_or(0).max(0);
    if base >= door.bundle_version {
        return Err(Error::DoorUpToDate);
    }
    let revoked: Vec<(Vec<u8>, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT credential_id, not_after FROM door_revocations
             WHERE door_id = ?1 AND version > ?2 AND not_after > ?3
             ORDER BY version, credential_id",
        )?;
        let rows = stmt.query_map(params![door_id, base, now], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut entries = Vec::with_capacity(revoked.len());
    for (id, not_after) in &revoked {
        let arr: [u8; 16] = id
            .as_slice()
            .try_into()
            .map_err(|_| Error::Internal("stored credential id has the wrong length".into()))?;
        entries.push((arr, u32::try_from(*not_after).unwrap_or(u32::MAX)));
    }
    let lock_id = doors::parse_lock_id(&door.lock_id)?;
    let (unlock_ms, fast_unlock, acked): (i64, bool, Option<i64>) = tx.query_row(
        "SELECT unlock_ms, fast_unlock, (SELECT MAX(seq) FROM audit_events WHERE door_id = ?1)
         FROM doors WHERE id = ?1",
        [door_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let out_of_range = || Error::Internal("value out of range for the wire".into());
    let spec = BundleSpec {
        door: lock_id,
        version: u32::try_from(door.bundle_version).map_err(|_| out_of_range())?,
        base_version: u32::try_from(base).map_err(|_| out_of_range())?,
        revoked: entries.clone(),
        unlock_ms: u16::try_from(unlock_ms).unwrap_or(5000),
        fast_unlock,
        signed_time: u32::try_from(now).map_err(|_| out_of_range())?,
        audit_acknowledged: u64::try_from(acked.unwrap_or(0)).unwrap_or(0),
        doorcodes: crate::doorcodes::bundle_slots(tx, door_id, now)?,
    };
    let issuer = orgs::issuer_for_facility(tx, secrets, door.facility_id)?;
    let bytes = signing::sign_bundle(&issuer.signer, &spec)?;
    // A pending trust-anchor update travels in front of the bundle (issuer_keys.rs).
    let bytes = crate::issuer_keys::with_anchor_update(tx, door_id, bytes)?;
    Ok(SignedBundle {
        door_id,
        lock_id: door.lock_id.clone(),
        version: door.bundle_version,
        base_version: base,
        revoked_credential_ids: entries.iter().map(|(id, _)| hex::encode(id)).collect(),
        signed_time: now,
        bundle: b64(&bytes),
    })
}

/// Verifies a lock's receipt, stores its audit events once, and marks the door synced.
pub fn intake(tx: &Transaction<'_>, door_id: i64, receipt: &[u8], now: i64) -> Result<ReceiptOutcome> {
    let door = doors::get(tx, door_id)?;
    // Receipts are signed with the lock's signing key, not its static (handshake) key.
    let lock_key = crate::secrets::unb64(&door.lock_signing_public_key)
        .ok_or(Error::Internal("stored lock signing key".into()))?;
    let spec = signing::verify_receipt(&lock_key, receipt)?;
    if hex::encode(spec.door) != door.lock_id {
        return Err(Error::ReceiptInvalid);
    }
    let applied = i64::from(spec.version_applied);
    if applied > door.bundle_version {
        return Err(Error::ReceiptInvalid);
    }
    // A receipt carries every event the lock still holds unacknowledged, oldest first, and
    // the lock drops only acknowledged ones — unless its log overflowed (a flood of
    // refusals, docs/protocol.md §16 item 4). So a receipt starting above the highest
    // stored sequence plus one means events were lost at the lock: record that, visibly,
    // in the door's history as an `events_missing` entry at the first missing number.
    let highest: i64 =
        tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE door_id = ?1", [door_id], |r| r.get(0))?;
    if let Some(first) = spec.events.iter().map(|e| e.seq).min() {
        let first = i64::try_from(first).map_err(|_| Error::ReceiptInvalid)?;
        if first > highest + 1 {
            tx.execute(
                "INSERT OR IGNORE INTO audit_events (door_id, seq, at, kind, detail, credential_id, received_at)
                 VALUES (?1, ?2, ?3, 'events_missing', ?4, NULL, ?5)",
                params![door_id, highest + 1, spec.lock_clock, first - highest - 1, now],
            )?;
            tracing::warn!(door_id, missing = first - highest - 1, "a lock's receipt shows lost audit events");
        }
    }
    let mut stored = 0;
    for e in &spec.events {
        let seq = i64::try_from(e.seq).map_err(|_| Error::ReceiptInvalid)?;
        stored += tx.execute(
            "INSERT OR IGNORE INTO audit_events (door_id, seq, at, kind, detail, credential_id, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![door_id, seq, e.at, e.kind, e.detail, e.credential_id.map(|c| c.to_vec()), now],
        )?;
    }
    // Never move the synced version backwards (an old receipt may arrive late).
    tx.execute(
        "UPDATE doors SET synced_version = MAX(synced_version, ?2), synced_at = ?3, lock_clock = ?4 WHERE id = ?1",
        params![door_id, applied, now, spec.lock_clock],
    )?;
    let after = doors::get(tx, door_id)?;
    Ok(ReceiptOutcome { door_id, version_applied: applied, events_stored: stored, sync_pending: after.sync_pending })
}

/// Offline doors the person holds a key for that need a sync.
///
/// The doors of the person's active grants (not revoked or suspended, inside their window;
/// a guest grant's doors are its share's) are read in one query, each door once: a member
/// with 10,000 keys asks this on every refresh, and listing her keys to find them cost
/// more than the rest of a refresh that changed nothing.
pub fn pending_for_person(tx: &Transaction<'_>, person_id: i64, now: i64) -> Result<Vec<DoorView>> {
    let door_ids: Vec<i64> = {
        let mut stmt = tx.prepare_cached(
            "WITH live AS (
                 SELECT g.id, g.key_id, g.share_id FROM grants g
                 WHERE g.person_id = ?1 AND g.revoked_at IS NULL AND g.starts_at <= ?2 AND ?2 < g.expires_at
                   AND NOT EXISTS (SELECT 1 FROM suspended_grants s WHERE s.grant_id = g.id))
             SELECT sd.door_id FROM live JOIN share_doors sd ON sd.share_id = live.share_id
             UNION
             SELECT kd.door_id FROM live JOIN key_doors kd ON kd.key_id = live.key_id WHERE live.share_id IS NULL
             ORDER BY 1",
        )?;
        let rows = stmt.query_map(params![person_id, now], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::new();
    for id in door_ids {
        let door = doors::get(tx, id)?;
        if door.sync_pending {
            out.push(door);
        }
    }
    Ok(out)
}

/// Whether the person holds a live key (not revoked, not expired; possibly not yet
/// started) that opens the door: couriers must. An ex-member carries nothing.
pub fn person_may_carry(tx: &Transaction<'_>, person_id: i64, door_id: i64, now: i64) -> Result<bool> {
    let ids: Vec<i64> = {
        let mut stmt =
            tx.prepare("SELECT id FROM grants WHERE person_id = ?1 AND revoked_at IS NULL AND expires_at > ?2")?;
        let rows = stmt.query_map(params![person_id, now], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for g in ids {
        if crate::keys::grant_door_ids(tx, g)?.contains(&door_id) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A door's activity history, newest first (at most `limit` events).
pub fn events(tx: &Transaction<'_>, door_id: i64, limit: i64) -> Result<Vec<AuditEventView>> {
    doors::get(tx, door_id)?;
    let mut stmt = tx.prepare(
        "SELECT seq, at, kind, detail, credential_id, received_at FROM audit_events WHERE door_id = ?1
         ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![door_id, limit.clamp(1, 1000)], |r| {
        let cred: Option<Vec<u8>> = r.get(4)?;
        Ok(AuditEventView {
            seq: r.get(0)?,
            at: r.get(1)?,
            kind: r.get(2)?,
            detail: r.get(3)?,
            credential_id: cred.map(hex::encode),
            received_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
