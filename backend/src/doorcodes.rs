//! Daily doorcodes (docs/protocol.md §18): each door's secret, shared with its lock and
//! sealed at rest like issuer keys; the grants that carry a doorcode; each person's slot at
//! an organisation; today's codes for a member; and the slot set every bundle carries.
//!
//! A slot is numbered once per (organisation, person) and never handed to anyone else, so
//! a new person never inherits a revoked person's codes. Any change to who holds a doorcode
//! at a door (enabling, disabling, revoking, a changed window) bumps the door's bundle
//! version, so the very next sync removes a revoked person's slot from the lock.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::doors;
use crate::error::{Error, Result};
use crate::secrets::{Secrets, unb64};
use keyway_api::{DoorcodeState, DoorcodeView, DoorcodesResponse};
use keyway_protocol::bundle::{DoorcodeGrant, MAX_DOORCODE_SLOTS};
use keyway_protocol::doorcode::{DoorcodeSecret, DoorcodeSlot, day_of, day_window, derive};
use keyway_protocol::ids::DoorId;

/// Bytes of a doorcode secret.
pub const SECRET_LEN: usize = 32;

/// Registers the doorcode secret of a door's lock (sealed before it is stored). A door
/// has one: a second registration is a conflict (fit a new door record for a new lock).
pub fn set_secret(tx: &Transaction<'_>, secrets: &Secrets, door_id: i64, secret_b64: &str) -> Result<()> {
    doors::get(tx, door_id)?;
    let raw = unb64(secret_b64).filter(|raw| raw.len() == SECRET_LEN);
    let Some(mut raw) = raw else {
        return Err(Error::field("secret", "must be 32 bytes, base64url"));
    };
    let sealed = secrets.seal(&raw);
    raw.iter_mut().for_each(|b| *b = 0);
    let sealed = sealed?;
    let existing: Option<Vec<u8>> =
        tx.query_row("SELECT doorcode_secret FROM doors WHERE id = ?1", [door_id], |r| r.get(0))?;
    if existing.is_some() {
        return Err(Error::Conflict("this door's doorcode secret is registered already"));
    }
    // The lock learns which slots it accepts from the next bundle: one is pending already
    // unless the lock is up to date.
    tx.execute(
        "UPDATE doors SET doorcode_secret = ?2,
             bundle_version = bundle_version + (CASE WHEN synced_version >= bundle_version THEN 1 ELSE 0 END)
         WHERE id = ?1",
        params![door_id, sealed],
    )?;
    Ok(())
}

/// The door's doorcode secret, opened (`None`: its lock registered none).
fn door_secret(tx: &Transaction<'_>, secrets: &Secrets, door_id: i64) -> Result<Option<DoorcodeSecret>> {
    let sealed: Option<Vec<u8>> =
        tx.query_row("SELECT doorcode_secret FROM doors WHERE id = ?1", [door_id], |r| r.get(0))?;
    let Some(sealed) = sealed else { return Ok(None) };
    let mut plain = secrets.open(&sealed)?;
    let secret = <[u8; SECRET_LEN]>::try_from(plain.as_slice()).map(DoorcodeSecret);
    plain.iter_mut().for_each(|b| *b = 0);
    secret.map(Some).map_err(|_| Error::Internal("stored doorcode secret has the wrong length".into()))
}

/// A grant's person, organisation, share (for a guest grant), revocation and doorcode switch.
type GrantRow = (i64, i64, Option<i64>, Option<i64>, bool);

/// Turns a grant's doorcode on or off. Enabling gives the person a slot at the
/// organisation if they have none. Every door of the key gets a new bundle version.
pub fn set_for_grant(tx: &Transaction<'_>, grant_id: i64, enabled: bool, now: i64) -> Result<DoorcodeState> {
    let row: Option<GrantRow> = tx
        .query_row(
            "SELECT person_id, org_id, share_id, revoked_at, doorcode FROM grants WHERE id = ?1",
            [grant_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((person_id, org_id, share_id, revoked_at, current)) = row else {
        return Err(Error::NotFound("grant"));
    };
    if share_id.is_some() {
        return Err(Error::field("grant_id", "guest keys carry no doorcode"));
    }
    if revoked_at.is_some() {
        return Err(Error::KeyRevoked);
    }
    let mut slot = slot_of(tx, org_id, person_id)?;
    if enabled && !current {
        if slot.is_none() {
            tx.execute(
                "INSERT INTO doorcode_slots (org_id, person_id, slot, created_at)
                 SELECT ?1, ?2, COALESCE(MAX(slot), 0) + 1, ?3 FROM doorcode_slots WHERE org_id = ?1",
                params![org_id, person_id, now],
            )?;
            slot = slot_of(tx, org_id, person_id)?;
        }
        for door_id in crate::keys::grant_door_ids(tx, grant_id)? {
            if active_slots(tx, door_id, now)?.len() >= MAX_DOORCODE_SLOTS {
                return Err(Error::field("grant_id", "a door of this key already has 512 doorcodes"));
            }
        }
    }
    if enabled != current {
        tx.execute("UPDATE grants SET doorcode = ?2 WHERE id = ?1", params![grant_id, enabled])?;
        bump_doors(tx, grant_id)?;
    }
    Ok(DoorcodeState { grant_id, enabled, slot })
}

fn slot_of(tx: &Transaction<'_>, org_id: i64, person_id: i64) -> Result<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT slot FROM doorcode_slots WHERE org_id = ?1 AND person_id = ?2",
            params![org_id, person_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// A new bundle version for every door of `grant_id` that has doorcodes, when the grant
/// carries one: its slot set changed (the grant was revoked, or its window changed).
pub fn grant_changed(tx: &Transaction<'_>, grant_id: i64) -> Result<()> {
    let carries: Option<bool> =
        tx.query_row("SELECT doorcode FROM grants WHERE id = ?1", [grant_id], |r| r.get(0)).optional()?;
    if carries == Some(true) {
        bump_doors(tx, grant_id)?;
    }
    Ok(())
}

fn bump_doors(tx: &Transaction<'_>, grant_id: i64) -> Result<()> {
    for door_id in crate::keys::grant_door_ids(tx, grant_id)? {
        tx.execute(
            "UPDATE doors SET bundle_version = bundle_version + 1 WHERE id = ?1 AND doorcode_secret IS NOT NULL",
            [door_id],
        )?;
    }
    Ok(())
}

/// The live doorcode grants at a door, one row per slot: slot, earliest start, latest end.
const ACTIVE_AT_DOOR: &str = "SELECT s.slot, MIN(g.starts_at), MAX(g.expires_at)
    FROM grants g
    JOIN key_doors kd ON kd.key_id = g.key_id
    JOIN doorcode_slots s ON s.org_id = g.org_id AND s.person_id = g.person_id
    JOIN memberships m ON m.person_id = g.person_id AND m.org_id = g.org_id AND m.deleted_at IS NULL
      AND m.suspended_at IS NULL
    WHERE kd.door_id = ?1 AND g.doorcode = 1 AND g.revoked_at IS NULL AND g.share_id IS NULL AND g.expires_at > ?2
    GROUP BY s.slot ORDER BY s.slot";

/// The slots a door's lock accepts from now on (for the bundle): every live grant with a
/// doorcode whose key opens the door, ascending, at most [`MAX_DOORCODE_SLOTS`]. `None`
/// when the door has no doorcode secret (its bundles stay format 1).
pub fn bundle_slots(tx: &Transaction<'_>, door_id: i64, now: i64) -> Result<Option<Vec<DoorcodeGrant>>> {
    let has_secret: bool =
        tx.query_row("SELECT doorcode_secret IS NOT NULL FROM doors WHERE id = ?1", [door_id], |r| r.get(0))?;
    if !has_secret {
        return Ok(None);
    }
    Ok(Some(active_slots(tx, door_id, now)?))
}

fn active_slots(tx: &Transaction<'_>, door_id: i64, now: i64) -> Result<Vec<DoorcodeGrant>> {
    let mut stmt = tx.prepare(ACTIVE_AT_DOOR)?;
    let rows = stmt.query_map(params![door_id, now], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get(2)?)))?;
    let wire = |v: i64| u32::try_from(v.clamp(0, i64::from(u32::MAX))).unwrap_or(u32::MAX);
    let mut grants = Vec::new();
    for row in rows {
        let (slot, starts, ends): (i64, i64, i64) = row?;
        let slot = u32::try_from(slot).map_err(|_| Error::Internal("doorcode slot out of range".into()))?;
        grants.push(DoorcodeGrant { slot: DoorcodeSlot(slot), not_before: wire(starts), not_after: wire(ends) });
        if grants.len() == MAX_DOORCODE_SLOTS {
            break;
        }
    }
    Ok(grants)
}

/// The person's doorcodes for `now`'s UTC day: one per door a live, started,
/// doorcode-carrying grant opens, if the door's lock registered a secret.
pub fn today(tx: &Transaction<'_>, secrets: &Secrets, person_id: i64, now: i64) -> Result<DoorcodesResponse> {
    let rows: Vec<(i64, i64, i64, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT kd.door_id, s.slot, MIN(g.starts_at), MAX(g.expires_at)
             FROM grants g
             JOIN key_doors kd ON kd.key_id = g.key_id
             JOIN doors d ON d.id = kd.door_id
             JOIN doorcode_slots s ON s.org_id = g.org_id AND s.person_id = g.person_id
             JOIN memberships m ON m.person_id = g.person_id AND m.org_id = g.org_id AND m.deleted_at IS NULL
      AND m.suspended_at IS NULL
             WHERE g.person_id = ?1 AND g.doorcode = 1 AND g.revoked_at IS NULL AND g.share_id IS NULL
               AND g.starts_at <= ?2 AND g.expires_at > ?2 AND d.doorcode_secret IS NOT NULL
             GROUP BY kd.door_id, s.slot ORDER BY kd.door_id",
        )?;
        let rows = stmt.query_map(params![person_id, now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let time = u32::try_from(now).map_err(|_| Error::Internal("clock out of range".into()))?;
    let day = day_of(time);
    let (day_start, day_end) = day_window(day);
    let mut doorcodes = Vec::with_capacity(rows.len());
    for (door_id, slot, starts, ends) in rows {
        let Some(secret) = door_secret(tx, secrets, door_id)? else { continue };
        let door = doors::get(tx, door_id)?;
        let lock_id = doors::parse_lock_id(&door.lock_id)?;
        let slot = u32::try_from(slot).map_err(|_| Error::Internal("doorcode slot out of range".into()))?;
        let code = derive(&secret, DoorId(lock_id), DoorcodeSlot(slot), day);
        doorcodes.push(DoorcodeView {
            door_id,
            lock_id: door.lock_id,
            door_name: door.name,
            code: code.reveal(),
            valid_from: i64::from(day_start).max(starts),
            valid_until: i64::from(day_end).min(ends),
            sync_pending: door.sync_pending,
        });
    }
    Ok(DoorcodesResponse { doorcodes, server_time: now })
}
