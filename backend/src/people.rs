//! People (one per sign-in identity) and their memberships in organisations.
//!
//! One person, several accounts: inviting an email that already belongs to a person adds
//! a membership to that person. Deleting a person from an organisation ends the membership
//! and revokes their keys there (and their guests'); the person row and all history stay.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::keys;
use keyway_api::PersonSummary;

/// Finds the person with this identifier, creating them if there is none.
pub fn find_or_create(tx: &Transaction<'_>, ident: &Identifier, now: i64) -> Result<i64> {
    if let Some(id) = find(tx, ident)? {
        return Ok(id);
    }
    let (email, phone) = match ident {
        Identifier::Email(e) => (Some(e.as_str()), None),
        Identifier::Phone(p) => (None, Some(p.as_str())),
    };
    tx.execute("INSERT INTO people (email, phone, created_at) VALUES (?1, ?2, ?3)", params![email, phone, now])?;
    Ok(tx.last_insert_rowid())
}

/// The person with this identifier, if any.
pub fn find(tx: &Transaction<'_>, ident: &Identifier) -> Result<Option<i64>> {
    let sql = match ident {
        Identifier::Email(_) => "SELECT id FROM people WHERE email = ?1",
        Identifier::Phone(_) => "SELECT id FROM people WHERE phone = ?1",
    };
    Ok(tx.query_row(sql, [ident.as_str()], |r| r.get(0)).optional()?)
}

/// Gives an existing person (e.g. one created card-only) an email address so they can be
/// invited; an address that already belongs to someone else is a conflict.
pub fn give_email(tx: &Transaction<'_>, person_id: i64, email: &Identifier) -> Result<i64> {
    let live: Option<Option<String>> = tx
        .query_row("SELECT email FROM people WHERE id = ?1 AND deleted_at IS NULL", [person_id], |r| r.get(0))
        .optional()?;
    let current = live.ok_or(Error::NotFound("person"))?;
    match find(tx, email)? {
        Some(other) if other != person_id => {
            return Err(Error::Conflict("this email belongs to another person"));
        }
        _ => {}
    }
    if current.as_deref() != Some(email.as_str()) {
        tx.execute("UPDATE people SET email = ?2 WHERE id = ?1", params![person_id, email.as_str()])?;
    }
    Ok(person_id)
}

/// Creates a person known by name only (card-only, seed 001 "Without email").
pub fn create_named(tx: &Transaction<'_>, first: &str, last: &str, now: i64) -> Result<i64> {
    tx.execute("INSERT INTO people (created_at) VALUES (?1)", [now])?;
    let id = tx.last_insert_rowid();
    crate::profile::set_name(tx, id, first, last)?;
    Ok(id)
}

/// Creates a person (or finds them) with an email and/or phone and a name.
pub fn upsert(
    tx: &Transaction<'_>,
    email: Option<&Identifier>,
    phone: Option<&Identifier>,
    name: Option<&str>,
    now: i64,
) -> Result<i64> {
    let by_email = match email {
        Some(e) => find(tx, e)?,
        None => None,
    };
    let by_phone = match phone {
        Some(p) => find(tx, p)?,
        None => None,
    };
    let id = match (by_email, by_phone) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::Conflict("the email and the phone belong to two different people"));
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => {
            let first = email.or(phone).ok_or(Error::field("email", "an email or a phone is required"))?;
            find_or_create(tx, first, now)?
        }
    };
    if let Some(Identifier::Email(e)) = email {
        tx.execute("UPDATE people SET email = ?2 WHERE id = ?1", params![id, e])?;
    }
    if let Some(Identifier::Phone(p)) = phone {
        tx.execute("UPDATE people SET phone = ?2 WHERE id = ?1", params![id, p])?;
    }
    if let Some(n) = name {
        tx.execute("UPDATE people SET name = ?2 WHERE id = ?1", params![id, n])?;
    }
    Ok(id)
}

/// Ensures the person is a member of the organisation (restoring a deleted membership).
pub fn ensure_membership(tx: &Transaction<'_>, person_id: i64, org_id: i64, role: &str, now: i64) -> Result<i64> {
    tx.execute(
        "INSERT INTO memberships (person_id, org_id, role, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (person_id, org_id) DO UPDATE SET role = ?3,
           invitation_status = CASE WHEN deleted_at IS NULL THEN invitation_status ELSE 'not_invited' END,
           deleted_at = NULL",
        params![person_id, org_id, role, now],
    )?;
    Ok(tx.query_row(
        "SELECT id FROM memberships WHERE person_id = ?1 AND org_id = ?2",
        params![person_id, org_id],
        |r| r.get(0),
    )?)
}

/// People of an organisation (not deleted), with invitation status and app adoption.
pub fn list(tx: &Transaction<'_>, org_id: i64, now: i64) -> Result<Vec<PersonSummary>> {
    let mut stmt = tx.prepare(
        "SELECT p.id, m.id, p.email, p.phone, p.name, m.role, m.invitation_status, m.invited_at,
                p.app_adoption,
                (SELECT MAX(expires_at) FROM invitations i WHERE i.membership_id = m.id AND i.state = 'pending'),
                (SELECT COUNT(*) FROM grants g WHERE g.person_id = p.id AND g.org_id = m.org_id
                    AND g.revoked_at IS NULL AND g.starts_at <= ?2 AND g.expires_at > ?2),
                (SELECT MAX(id) FROM invitations i WHERE i.membership_id = m.id AND i.state != 'superseded')
         FROM memberships m JOIN people p ON p.id = m.person_id
         WHERE m.org_id = ?1 AND m.deleted_at IS NULL ORDER BY p.id",
    )?;
    let rows = stmt.query_map(params![org_id, now], |r| {
        let status: String = r.get(6)?;
        let pending_expiry: Option<i64> = r.get(9)?;
        let status = match (status.as_str(), pending_expiry) {
            ("invited" | "send_failed", Some(exp)) if exp <= now => "expired".to_owned(),
            _ => status,
        };
        Ok(PersonSummary {
            person_id: r.get(0)?,
            membership_id: r.get(1)?,
            email: r.get(2)?,
            phone: r.get(3)?,
            name: r.get(4)?,
            role: r.get(5)?,
            invitation_status: status,
            invited_at: r.get(7)?,
            app_adoption: r.get(8)?,
            has_access: r.get::<_, i64>(10)? > 0,
            invitation_id: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes a person from an organisation: ends the membership, cancels pending invitations,
/// revokes their keys there (cascading to their guests). History stays.
pub fn delete_from_org(tx: &Transaction<'_>, org_id: i64, person_id: i64, now: i64) -> Result<()> {
    let membership: Option<i64> = tx
        .query_row(
            "SELECT id FROM memberships WHERE person_id = ?1 AND org_id = ?2 AND deleted_at IS NULL",
            params![person_id, org_id],
            |r| r.get(0),
        )
        .optional()?;
    let membership = membership.ok_or(Error::NotFound("person"))?;
    keys::revoke_all(tx, org_id, person_id, "person_deleted", now)?;
    tx.execute(
        "UPDATE invitations SET state = 'cancelled', finished_at = ?2 WHERE membership_id = ?1 AND state = 'pending'",
        params![membership, now],
    )?;
    tx.execute("UPDATE memberships SET deleted_at = ?2 WHERE id = ?1", params![membership, now])?;
    Ok(())
}
