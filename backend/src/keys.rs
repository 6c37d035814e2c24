//! Keys (a set of doors in a facility) and grants (a key given to a person for a time
//! window), and revocation: one key, all keys, with the cascade to guest keys.
//!
//! Revoking a grant revokes every unexpired credential issued under it and writes those
//! credential ids into the revocation list of each door they open, in a new bundle version.
//! Grants carry a change sequence number so the app can refresh incrementally.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::doors;
use crate::error::{Error, Result};
use keyway_api::{AccessState, GrantChange, GrantSpec, KeyView, RevokeReason};

/// Takes the next value of the global change sequence.
pub fn next_seq(tx: &Transaction<'_>) -> Result<i64> {
    tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'change_seq'", [])?;
    Ok(tx.query_row("SELECT value FROM meta WHERE key = 'change_seq'", [], |r| r.get(0))?)
}

/// Creates a key holding `door_ids` (all in the key's facility).
pub fn create_key(tx: &Transaction<'_>, facility_id: i64, name: &str, door_ids: &[i64], now: i64) -> Result<i64> {
    crate::orgs::exists(tx, "facilities", facility_id, "facility")?;
    check_key_doors(tx, facility_id, door_ids)?;
    tx.execute(
        "INSERT INTO keys (facility_id, name, created_at) VALUES (?1, ?2, ?3)",
        params![facility_id, name, now],
    )?;
    let id = tx.last_insert_rowid();
    for d in door_ids {
        tx.execute("INSERT OR IGNORE INTO key_doors (key_id, door_id) VALUES (?1, ?2)", params![id, d])?;
    }
    Ok(id)
}

/// Checks the doors of a key: at least one, at most 32, each in the key's facility.
pub(crate) fn check_key_doors(tx: &Transaction<'_>, facility_id: i64, door_ids: &[i64]) -> Result<()> {
    if door_ids.is_empty() {
        return Err(Error::field("door_ids", "a key holds at least one door"));
    }
    if door_ids.len() > crate::signing::MAX_DOORS_PER_CREDENTIAL {
        return Err(Error::field("door_ids", "a key holds at most 32 doors"));
    }
    for d in door_ids {
        if doors::get(tx, *d)?.facility_id != facility_id {
            return Err(Error::field("door_ids", "every door must be in the key's facility"));
        }
    }
    Ok(())
}

/// Grants a key to a member of the key's organisation; returns the grant id.
pub fn grant(tx: &Transaction<'_>, person_id: i64, spec: &GrantSpec, now: i64) -> Result<i64> {
    let facility_id: i64 = tx
        .query_row("SELECT facility_id FROM keys WHERE id = ?1 AND deleted_at IS NULL", [spec.key_id], |r| r.get(0))
        .optional()?
        .ok_or(Error::NotFound("key"))?;
    let org_id = crate::orgs::org_of_facility(tx, facility_id)?;
    let member: Option<i64> = tx
        .query_row(
            "SELECT id FROM memberships WHERE person_id = ?1 AND org_id = ?2 AND deleted_at IS NULL",
            params![person_id, org_id],
            |r| r.get(0),
        )
        .optional()?;
    if member.is_none() {
        return Err(Error::NotFound("person"));
    }
    let starts_at = spec.starts_at.unwrap_or(now);
    if spec.expires_at <= starts_at {
        return Err(Error::field("expires_at", "must be after starts_at"));
    }
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO grants (key_id, person_id, org_id, starts_at, expires_at, shareable, created_at, change_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![spec.key_id, person_id, org_id, starts_at, spec.expires_at, spec.shareable, now, seq],
    )?;
    Ok(tx.last_insert_rowid())
}

/// The doors a grant opens: the key's doors, or the shared subset for a guest grant.
pub fn grant_door_ids(tx: &Transaction<'_>, grant_id: i64) -> Result<Vec<i64>> {
    let mut stmt = tx.prepare_cached(
        "SELECT door_id FROM share_doors WHERE share_id = (SELECT share_id FROM grants WHERE id = ?1)
         UNION
         SELECT door_id FROM key_doors WHERE key_id = (SELECT key_id FROM grants WHERE id = ?1)
           AND (SELECT share_id FROM grants WHERE id = ?1) IS NULL
         ORDER BY 1",
    )?;
    let rows = stmt.query_map([grant_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Revokes one grant, its credentials (at every door, via the next bundle) and, cascading,
/// every guest share made from it. Revoking an already revoked grant does nothing.
/// `reason` is the stored word of a [`RevokeReason`].
pub fn revoke_grant(tx: &Transaction<'_>, grant_id: i64, reason: &str, now: i64) -> Result<()> {
    revoke_grant_saying(tx, grant_id, reason, None, now)
}

/// [`revoke_grant`] with the administrator's words for the holder (checked by
/// [`crate::access::holder_message`]).
pub fn revoke_grant_saying(
    tx: &Transaction<'_>,
    grant_id: i64,
    reason: &str,
    message: Option<&str>,
    now: i64,
) -> Result<()> {
    let revoked: Option<Option<i64>> =
        tx.query_row("SELECT revoked_at FROM grants WHERE id = ?1", [grant_id], |r| r.get(0)).optional()?;
    match revoked {
        None => return Err(Error::NotFound("grant")),
        Some(Some(_)) => return Ok(()),
        Some(None) => {}
    }
    let seq = next_seq(tx)?;
    tx.execute(
        "UPDATE grants SET revoked_at = ?2, revoke_reason = ?3, revoke_message = ?4, change_seq = ?5 WHERE id = ?1",
        params![grant_id, now, reason, message, seq],
    )?;
    crate::doorcodes::grant_changed(tx, grant_id)?;
    revoke_credentials_that_matter(tx, grant_id, now)?;
    // The cascade: guest keys shared from this grant go with it.
    let shares: Vec<(i64, Option<i64>)> = {
        let mut stmt =
            tx.prepare("SELECT id, guest_grant_id FROM shares WHERE grant_id = ?1 AND state != 'revoked'")?;
        let rows = stmt.query_map([grant_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (share_id, guest_grant) in shares {
        tx.execute("UPDATE shares SET state = 'revoked' WHERE id = ?1", [share_id])?;
        if let Some(g) = guest_grant {
            revoke_grant(tx, g, RevokeReason::SharerRevoked.as_str(), now)?;
        }
    }
    Ok(())
}

/// Revokes, and lists at their doors, every credential of the grant that still matters at
/// a door: live ones, retired parents, and lapsed ones that live guest credentials or live
/// shares still name as parent (docs/protocol.md §15.9: guests are refused through their
/// parent's entry too).
pub(crate) fn revoke_credentials_that_matter(tx: &Transaction<'_>, grant_id: i64, now: i64) -> Result<()> {
    revoke_credentials_where(
        tx,
        "grant_id = ?1 AND revoked_at IS NULL AND (not_after > ?2
           OR id IN (SELECT parent_id FROM credentials WHERE parent_id IS NOT NULL AND not_after > ?2)
           OR id IN (SELECT parent_credential_id FROM shares WHERE state != 'revoked' AND ends_at > ?2))",
        params![grant_id, now],
        now,
    )
}

/// Revokes every grant a person holds in an organisation (and their guests' keys).
/// A person who never belonged to that organisation is `not_found`, like any object of
/// another organisation.
pub fn revoke_all(tx: &Transaction<'_>, org_id: i64, person_id: i64, reason: &str, now: i64) -> Result<usize> {
    revoke_all_saying(tx, org_id, person_id, reason, None, now)
}

/// [`revoke_all`] with the administrator's words for the holder.
pub fn revoke_all_saying(
    tx: &Transaction<'_>,
    org_id: i64,
    person_id: i64,
    reason: &str,
    message: Option<&str>,
    now: i64,
) -> Result<usize> {
    let member: Option<i64> = tx
        .query_row("SELECT id FROM memberships WHERE person_id = ?1 AND org_id = ?2", params![person_id, org_id], |r| {
            r.get(0)
        })
        .optional()?;
    if member.is_none() {
        return Err(Error::NotFound("person"));
    }
    let ids: Vec<i64> = {
        let mut stmt =
            tx.prepare("SELECT id FROM grants WHERE org_id = ?1 AND person_id = ?2 AND revoked_at IS NULL")?;
        let rows = stmt.query_map(params![org_id, person_id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for id in &ids {
        revoke_grant_saying(tx, *id, reason, message, now)?;
    }
    Ok(ids.len())
}

/// One row of the key listing query.
struct KeyRow {
    grant_id: i64,
    key_id: i64,
    name: String,
    organisation: String,
    facility: String,
    starts_at: i64,
    expires_at: i64,
    shareable: bool,
    guest: bool,
    revoked: bool,
    reason: Option<String>,
    revoke_message: Option<String>,
    suspended: bool,
    suspend_message: Option<String>,
}

/// A person's keys across all organisations; with `since`, only those changed after that cursor.
/// Returns the keys and the new cursor.
pub fn list_for_person(
    tx: &Transaction<'_>,
    person_id: i64,
    since: Option<i64>,
    now: i64,
) -> Result<(Vec<KeyView>, i64)> {
    let cursor: i64 =
        tx.prepare_cached("SELECT value FROM meta WHERE key = 'change_seq'")?.query_row([], |r| r.get(0))?;
    let rows: Vec<KeyRow> = {
        let mut stmt = tx.prepare_cached(
            "SELECT g.id, k.id, k.name, o.name, f.name, g.starts_at, g.expires_at, g.shareable,
                    g.share_id IS NOT NULL, g.revoked_at IS NOT NULL, g.revoke_reason, g.revoke_message,
                    sg.grant_id IS NOT NULL, sg.message
             FROM grants g JOIN keys k ON k.id = g.key_id JOIN facilities f ON f.id = k.facility_id
                  JOIN orgs o ON o.id = g.org_id LEFT JOIN suspended_grants sg ON sg.grant_id = g.id
             WHERE g.person_id = ?1 AND g.change_seq > ?2 ORDER BY g.id",
        )?;
        let rows = stmt.query_map(params![person_id, since.unwrap_or(0)], |r| {
            Ok(KeyRow {
                grant_id: r.get(0)?,
                key_id: r.get(1)?,
                name: r.get(2)?,
                organisation: r.get(3)?,
                facility: r.get(4)?,
                starts_at: r.get(5)?,
                expires_at: r.get(6)?,
                shareable: r.get(7)?,
                guest: r.get(8)?,
                revoked: r.get(9)?,
                reason: r.get(10)?,
                revoke_message: r.get(11)?,
                suspended: r.get(12)?,
                suspend_message: r.get(13)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut seen_doors: std::collections::HashMap<i64, keyway_api::DoorView> = std::collections::HashMap::new();
    for row in rows {
        let access_state = if row.revoked {
            AccessState::Revoked
        } else if row.suspended {
            AccessState::Suspended
        } else if now >= row.expires_at {
            AccessState::Expired
        } else if now < row.starts_at {
            AccessState::NotYetValid
        } else {
            AccessState::Active
        };
        let reason = row.reason.as_deref().map(RevokeReason::from_word);
        // A full listing leaves out keys revoked long ago; incremental ones report every change.
        if since.is_none() && reason == Some(RevokeReason::PersonDeleted) {
            continue;
        }
        let message = match access_state {
            AccessState::Revoked => row.revoke_message,
            AccessState::Suspended => row.suspend_message,
            _ => None,
        };
        let mut doors = Vec::new();
        for id in grant_door_ids(tx, row.grant_id)? {
            // Many keys open the same doors: each door is read once per listing.
            let door = match seen_doors.get(&id) {
                Some(d) => d.clone(),
                None => {
                    let d = doors::get(tx, id)?;
                    seen_doors.insert(id, d.clone());
                    d
                }
            };
            doors.push(door);
        }
        out.push(KeyView {
            grant_id: row.grant_id,
            key_id: row.key_id,
            name: row.name,
            organisation: row.organisation,
            facility: row.facility,
            doors,
            starts_at: row.starts_at,
            expires_at: row.expires_at,
            shareable: row.shareable && !row.guest,
            guest: row.guest,
            access_state,
            revoke_reason: reason,
            message,
        });
    }
    Ok((out, cursor))
}

/// Changes a grant's window or sharing. Credentials already issued past the new window are
/// revoked (and listed in the next bundles) so the change reaches offline doors; the app
/// renews within the new window. Guest shares made from it are cut to end with it.
pub fn update_grant(tx: &Transaction<'_>, grant_id: i64, change: &GrantChange, now: i64) -> Result<()> {
    let row: Option<(i64, i64, Option<i64>, bool)> = tx
        .query_row(
            "SELECT starts_at, expires_at, revoked_at, share_id IS NOT NULL FROM grants WHERE id = ?1",
            [grant_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((starts_at, expires_at, revoked, is_guest)) = row else {
        return Err(Error::NotFound("grant"));
    };
    if revoked.is_some() {
        return Err(Error::KeyRevoked);
    }
    if is_guest {
        return Err(Error::field("grant_id", "guest keys are changed by the member who shared them"));
    }
    let starts_at = change.starts_at.unwrap_or(starts_at);
    let expires_at = change.expires_at.unwrap_or(expires_at);
    if expires_at <= starts_at {
        return Err(Error::field("expires_at", "must be after starts_at"));
    }
    let seq = next_seq(tx)?;
    tx.execute(
        "UPDATE grants SET starts_at = ?2, expires_at = ?3, shareable = COALESCE(?4, shareable), change_seq = ?5
         WHERE id = ?1",
        params![grant_id, starts_at, expires_at, change.shareable, seq],
    )?;
    crate::doorcodes::grant_changed(tx, grant_id)?;
    // Credentials reaching outside the new window stop working everywhere.
    revoke_credentials_where(
        tx,
        "grant_id = ?1 AND revoked_at IS NULL AND not_after > ?2 AND (not_after > ?3 OR not_before < ?4)",
        params![grant_id, now, expires_at, starts_at],
        now,
    )?;
    // Guests cannot keep access longer than the member.
    let guests: Vec<(i64, Option<i64>)> = {
        let mut stmt =
            tx.prepare("SELECT id, guest_grant_id FROM shares WHERE grant_id = ?1 AND state != 'revoked'")?;
        let rows = stmt.query_map([grant_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (share_id, guest_grant) in guests {
        tx.execute("UPDATE shares SET ends_at = MIN(ends_at, ?2) WHERE id = ?1", params![share_id, expires_at])?;
        if let Some(g) = guest_grant {
            let (g_start, g_end): (i64, i64) =
                tx.query_row("SELECT starts_at, expires_at FROM grants WHERE id = ?1", [g], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            if g_end > expires_at {
                if g_start >= expires_at {
                    revoke_grant(tx, g, RevokeReason::SharerKeyChanged.as_str(), now)?;
                } else {
                    update_guest_end(tx, g, expires_at, now)?;
                }
            }
        }
    }
    Ok(())
}

fn update_guest_end(tx: &Transaction<'_>, grant_id: i64, expires_at: i64, now: i64) -> Result<()> {
    let seq = next_seq(tx)?;
    tx.execute("UPDATE grants SET expires_at = ?2, change_seq = ?3 WHERE id = ?1", params![grant_id, expires_at, seq])?;
    revoke_credentials_where(
        tx,
        "grant_id = ?1 AND revoked_at IS NULL AND not_after > ?2 AND not_after > ?3",
        params![grant_id, now, expires_at],
        now,
    )
}

/// Revokes the credentials with these ids and lists them in their doors' next bundles.
pub(crate) fn revoke_credential_ids(tx: &Transaction<'_>, ids: &[Vec<u8>], now: i64) -> Result<()> {
    for id in ids {
        revoke_credentials_where(tx, "id = ?1 AND revoked_at IS NULL", [id], now)?;
    }
    Ok(())
}

/// How long a revocation entry for `credential_id` must live: until the credential itself
/// lapses, and until every guest credential that names it as parent — issued already, or
/// still to be issued under a share that names it — could lapse.
pub(crate) fn entry_expiry(tx: &Transaction<'_>, credential_id: &[u8], not_after: i64) -> Result<i64> {
    let guests: Option<i64> = tx.query_row(
        "SELECT MAX(x) FROM (SELECT MAX(not_after) AS x FROM credentials WHERE parent_id = ?1
                             UNION ALL SELECT MAX(ends_at) FROM shares WHERE parent_credential_id = ?1)",
        [credential_id],
        |r| r.get(0),
    )?;
    Ok(guests.map_or(not_after, |g| g.max(not_after)))
}

/// Revokes the credentials matching `condition` and lists them in their doors' next bundles.
pub(crate) fn revoke_credentials_where(
    tx: &Transaction<'_>,
    condition: &str,
    args: impl rusqlite::Params,
    now: i64,
) -> Result<()> {
    let creds: Vec<(Vec<u8>, i64)> = {
        let mut stmt = tx.prepare(&format!("SELECT id, not_after FROM credentials WHERE {condition}"))?;
        let rows = stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (cred, not_after) in creds {
        let not_after = entry_expiry(tx, &cred, not_after)?;
        tx.execute("UPDATE credentials SET revoked_at = ?2 WHERE id = ?1", params![cred, now])?;
        let door_ids: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT door_id FROM credential_doors WHERE credential_id = ?1")?;
            let rows = stmt.query_map([&cred], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for d in door_ids {
            doors::add_revocation(tx, d, &cred, not_after)?;
        }
    }
    Ok(())
}
