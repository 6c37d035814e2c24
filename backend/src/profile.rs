//! The signed-in person's own record as their app shows it: first and last name, the NFC
//! card on their record, and each membership with its organisation, role, who invited
//! them and what access it gives (an invitation alone gives none: "no access yet").

use rusqlite::{OptionalExtension, Transaction, params};

use crate::cards;
use crate::error::{Error, Result};
use keyway_api::{MembershipAccess, MembershipView, Profile};

/// Longest first or last name accepted, in characters.
const NAME_MAX: usize = 100;

/// Checks one name: trimmed, 1 to 100 characters, no control characters.
pub fn parse_name(field: &str, raw: &str) -> Result<String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(Error::field(field, "enter a name"));
    }
    if t.chars().count() > NAME_MAX {
        return Err(Error::field(field, "at most 100 characters"));
    }
    if t.chars().any(char::is_control) {
        return Err(Error::field(field, "no control characters"));
    }
    Ok(t.to_owned())
}

/// Sets a person's first and last name (and the display name the admin lists show).
pub fn set_name(tx: &Transaction<'_>, person_id: i64, first: &str, last: &str) -> Result<()> {
    tx.execute(
        "UPDATE people SET first_name = ?2, last_name = ?3, name = ?2 || ' ' || ?3 WHERE id = ?1",
        params![person_id, first, last],
    )?;
    Ok(())
}

/// Puts a card (canonical hex, checked) on a person's record; a card is on one record only.
pub fn set_card(tx: &Transaction<'_>, person_id: i64, hex: &str, surface_id: Option<&str>) -> Result<()> {
    let holder: Option<i64> =
        tx.query_row("SELECT id FROM people WHERE card_id = ?1", [hex], |r| r.get(0)).optional()?;
    if holder.is_some_and(|h| h != person_id) {
        return Err(Error::Conflict("this card is already on another person's record"));
    }
    let n = tx.execute(
        "UPDATE people SET card_id = ?2, card_surface_id = ?3 WHERE id = ?1 AND deleted_at IS NULL",
        params![person_id, hex, surface_id],
    )?;
    if n != 1 {
        return Err(Error::NotFound("person"));
    }
    Ok(())
}

/// The SQL for a membership's access now: `?2` is the time.
const ACCESS_SQL: &str = "CASE
    WHEN m.suspended_at IS NOT NULL THEN 'suspended'
    WHEN EXISTS (SELECT 1 FROM grants g WHERE g.person_id = m.person_id AND g.org_id = m.org_id
                 AND g.revoked_at IS NULL AND g.expires_at > ?2) THEN 'has_keys'
    WHEN EXISTS (SELECT 1 FROM grants g WHERE g.person_id = m.person_id AND g.org_id = m.org_id)
         THEN 'access_ended'
    ELSE 'no_access_yet' END";

fn access_from(s: &str) -> MembershipAccess {
    match s {
        "has_keys" => MembershipAccess::HasKeys,
        "access_ended" => MembershipAccess::AccessEnded,
        "suspended" => MembershipAccess::Suspended,
        _ => MembershipAccess::NoAccessYet,
    }
}

/// The person's profile with their memberships (deleted ones left out).
pub fn profile(tx: &Transaction<'_>, person_id: i64, now: i64) -> Result<Profile> {
    type Row = (Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);
    let ((email, phone, name, first_name, last_name, card_id), surface): (Row, Option<String>) = tx
        .prepare_cached(
            "SELECT email, phone, name, first_name, last_name, card_id, card_surface_id FROM people WHERE id = ?1",
        )?
        .query_row([person_id], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?), r.get(6)?)))
        .optional()?
        .ok_or(Error::NotFound("person"))?;
    let sql = format!(
        "SELECT o.id, o.name, m.role, m.invited_by, {ACCESS_SQL} FROM memberships m JOIN orgs o ON o.id = m.org_id
         WHERE m.person_id = ?1 AND m.deleted_at IS NULL ORDER BY o.id"
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let memberships = stmt
        .query_map(params![person_id, now], |r| {
            Ok(MembershipView {
                org_id: r.get(0)?,
                organisation: r.get(1)?,
                role: r.get(2)?,
                invited_by: r.get(3)?,
                access: access_from(&r.get::<_, String>(4)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Profile {
        person_id,
        email,
        phone,
        name,
        first_name,
        last_name,
        card: card_id.map(|hex| cards::view(&hex, surface)),
        memberships,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(parse_name("first_name", "  Ana ").unwrap(), "Ana");
        assert!(matches!(parse_name("first_name", " "), Err(Error::InvalidField { .. })));
        assert!(parse_name("last_name", &"x".repeat(101)).is_err());
        assert!(parse_name("last_name", "a\nb").is_err());
        assert_eq!(parse_name("last_name", "Ñúñez-O'Brien").unwrap(), "Ñúñez-O'Brien");
    }
}
