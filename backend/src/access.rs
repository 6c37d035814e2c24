//! The "Access enabled" switch and changes to keys themselves.
//!
//! Suspending a person in an organisation keeps their grants but stops them working: every
//! credential under them (and under the guest keys they shared) is revoked and listed in
//! the doors' next bundles, new credentials are refused with `access_suspended`, and the
//! keys list them as `suspended`. Turning access back on lets the app fetch new
//! credentials at its next refresh; no new invitation is needed.
//!
//! Editing a key's doors lists its holders' credentials as revoked at each door taken
//! out, and marks every grant of the key changed, so the next incremental refresh brings
//! the new door list and the app fetches credentials naming it. Deleting a key revokes
//! every grant of it (`key_deleted`), guests' keys with them.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::doors;
use crate::error::{Error, Result};
use crate::keys::{entry_expiry, next_seq, revoke_credentials_that_matter, revoke_grant};
use keyway_api::{KeyChange, RevokeReason};

/// Longest message an administrator may leave for a holder, in characters.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// Checks an administrator's words for a holder: trimmed, at most
/// [`MAX_MESSAGE_CHARS`] characters, no control characters; empty means none.
pub fn holder_message(message: Option<&str>) -> Result<Option<String>> {
    let Some(text) = message.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Error::field("message", "at most 200 characters"));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::field("message", "must be one line of plain text"));
    }
    Ok(Some(text.to_owned()))
}

/// Turns a person's access in an organisation off (with optional words for them) or back
/// on. Turning it off twice keeps the first time and updates the words; a person who is not
/// a member is `not_found`.
pub fn set_access(
    tx: &Transaction<'_>,
    org_id: i64,
    person_id: i64,
    enabled: bool,
    message: Option<&str>,
    now: i64,
) -> Result<()> {
    let message = holder_message(message)?;
    let membership: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT id, suspended_at FROM memberships WHERE person_id = ?1 AND org_id = ?2 AND deleted_at IS NULL",
            params![person_id, org_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((membership_id, suspended_at)) = membership else {
        return Err(Error::NotFound("person"));
    };
    if enabled == suspended_at.is_none() {
        if !enabled {
            tx.execute("UPDATE memberships SET suspend_message = ?2 WHERE id = ?1", params![membership_id, message])?;
            touch_grants(tx, &affected_grants(tx, org_id, person_id)?)?;
        }
        return Ok(());
    }
    if enabled {
        tx.execute(
            "UPDATE memberships SET suspended_at = NULL, suspend_message = NULL WHERE id = ?1",
            [membership_id],
        )?;
    } else {
        tx.execute(
            "UPDATE memberships SET suspended_at = ?2, suspend_message = ?3 WHERE id = ?1",
            params![membership_id, now, message],
        )?;
    }
    let grants = affected_grants(tx, org_id, person_id)?;
    for g in &grants {
        if !enabled {
            revoke_credentials_that_matter(tx, *g, now)?;
        }
        // The person's doorcode leaves (or rejoins) the slot sets of their doors.
        crate::doorcodes::grant_changed(tx, *g)?;
    }
    touch_grants(tx, &grants)
}

/// The person's live grants in the organisation, and the live guest grants shared from them.
fn affected_grants(tx: &Transaction<'_>, org_id: i64, person_id: i64) -> Result<Vec<i64>> {
    let mut stmt = tx.prepare(
        "SELECT id FROM grants WHERE org_id = ?1 AND person_id = ?2 AND revoked_at IS NULL
         UNION
         SELECT g.id FROM grants g JOIN shares s ON s.id = g.share_id JOIN grants m ON m.id = s.grant_id
         WHERE m.org_id = ?1 AND m.person_id = ?2 AND g.revoked_at IS NULL
         ORDER BY 1",
    )?;
    let rows = stmt.query_map(params![org_id, person_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Marks grants changed so the holders' next incremental refresh brings them.
fn touch_grants(tx: &Transaction<'_>, grants: &[i64]) -> Result<()> {
    for g in grants {
        let seq = next_seq(tx)?;
        tx.execute("UPDATE grants SET change_seq = ?2 WHERE id = ?1", params![g, seq])?;
    }
    Ok(())
}

/// Whether the grant's holder (for a guest key: the member who shared it) is suspended.
pub fn is_suspended(tx: &Transaction<'_>, grant_id: i64) -> Result<bool> {
    let mut stmt = tx.prepare_cached("SELECT 1 FROM suspended_grants WHERE grant_id = ?1")?;
    Ok(stmt.query_row([grant_id], |_| Ok(())).optional()?.is_some())
}

/// Renames a key or replaces its doors (at least one, at most 32, all in its facility).
pub fn update_key(tx: &Transaction<'_>, key_id: i64, change: &KeyChange, now: i64) -> Result<()> {
    let facility_id = live_key_facility(tx, key_id)?;
    if let Some(name) = &change.name {
        if name.trim().is_empty() {
            return Err(Error::field("name", "a key needs a name"));
        }
        tx.execute("UPDATE keys SET name = ?2 WHERE id = ?1", params![key_id, name.trim()])?;
    }
    if let Some(door_ids) = &change.door_ids {
        crate::keys::check_key_doors(tx, facility_id, door_ids)?;
        // Doors leaving the key drop its holders' doorcodes at their next sync.
        for g in grants_of_key(tx, key_id)? {
            crate::doorcodes::grant_changed(tx, g)?;
        }
        let old: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT door_id FROM key_doors WHERE key_id = ?1 ORDER BY door_id")?;
            let rows = stmt.query_map([key_id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        tx.execute("DELETE FROM key_doors WHERE key_id = ?1", [key_id])?;
        for d in door_ids {
            tx.execute("INSERT OR IGNORE INTO key_doors (key_id, door_id) VALUES (?1, ?2)", params![key_id, d])?;
        }
        for removed in old.iter().filter(|d| !door_ids.contains(d)) {
            take_door_out(tx, key_id, *removed, now)?;
        }
        // …and doors joining it take them in at theirs.
        for g in grants_of_key(tx, key_id)? {
            crate::doorcodes::grant_changed(tx, g)?;
        }
    }
    touch_grants(tx, &grants_of_key(tx, key_id)?)
}

/// Deletes a key: every grant of it is revoked (`key_deleted`) with its guests' keys, and
/// the key can no longer be granted. Its history stays.
pub fn delete_key(tx: &Transaction<'_>, key_id: i64, now: i64) -> Result<()> {
    live_key_facility(tx, key_id)?;
    tx.execute("UPDATE keys SET deleted_at = ?2 WHERE id = ?1", params![key_id, now])?;
    let grants: Vec<i64> = {
        let mut stmt = tx.prepare("SELECT id FROM grants WHERE key_id = ?1 AND share_id IS NULL ORDER BY id")?;
        let rows = stmt.query_map([key_id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for g in grants {
        revoke_grant(tx, g, RevokeReason::KeyDeleted.as_str(), now)?;
    }
    Ok(())
}

/// The facility of a key that exists and is not deleted.
fn live_key_facility(tx: &Transaction<'_>, key_id: i64) -> Result<i64> {
    tx.query_row("SELECT facility_id FROM keys WHERE id = ?1 AND deleted_at IS NULL", [key_id], |r| r.get(0))
        .optional()?
        .ok_or(Error::NotFound("key"))
}

/// Every live grant of the key: the members' and their guests'.
fn grants_of_key(tx: &Transaction<'_>, key_id: i64) -> Result<Vec<i64>> {
    let mut stmt = tx.prepare(
        "SELECT id FROM grants WHERE key_id = ?1 AND revoked_at IS NULL
         UNION
         SELECT g.id FROM grants g JOIN shares s ON s.id = g.share_id JOIN grants m ON m.id = s.grant_id
         WHERE m.key_id = ?1 AND g.revoked_at IS NULL
         ORDER BY 1",
    )?;
    let rows = stmt.query_map([key_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A door taken out of a key: guests' shares lose it, and every credential issued under
/// the key (members' and guests') that names it is listed as revoked at that door only
/// (it keeps working at the key's other doors until the app renews it).
fn take_door_out(tx: &Transaction<'_>, key_id: i64, door_id: i64, now: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM share_doors WHERE door_id = ?1
           AND share_id IN (SELECT s.id FROM shares s JOIN grants m ON m.id = s.grant_id WHERE m.key_id = ?2)",
        params![door_id, key_id],
    )?;
    let credentials: Vec<(Vec<u8>, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT c.id, c.not_after FROM credentials c JOIN credential_doors cd ON cd.credential_id = c.id
             JOIN grants g ON g.id = c.grant_id
             LEFT JOIN shares s ON s.id = g.share_id LEFT JOIN grants m ON m.id = s.grant_id
             WHERE cd.door_id = ?1 AND (g.key_id = ?2 OR m.key_id = ?2) AND c.revoked_at IS NULL
               AND c.not_after > ?3",
        )?;
        let rows = stmt.query_map(params![door_id, key_id, now], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (credential, not_after) in credentials {
        let until = entry_expiry(tx, &credential, not_after)?;
        doors::add_revocation(tx, door_id, &credential, until)?;
    }
    Ok(())
}
