//! What people see of shares: the guest's preview of a share link before redeeming it
//! (who shared which doors of which organisation, for when), and the sharing member's
//! list of every share they made, with where each stands now.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::secrets::{Purpose, Secrets};
use keyway_api::{SharePreview, ShareState, ShareView, SharedDoorView};

/// Share id, guest, window, link expiry, state, organisation, facility, sharer's name.
type PreviewRow = (i64, String, i64, i64, i64, String, String, String, Option<String>);

/// Previews a share link (unauthenticated, by token). A dead link says how it died:
/// revoked, already redeemed, expired, or never a link at all.
pub fn preview(tx: &Transaction<'_>, secrets: &Secrets, token: &str, now: i64) -> Result<SharePreview> {
    let h = secrets.hash(Purpose::ShareToken, "", token.trim());
    let row: Option<PreviewRow> = tx
        .query_row(
            "SELECT s.id, s.guest_identifier, s.starts_at, s.ends_at, s.link_expires_at, s.state, o.name, f.name,
                    p.name
             FROM shares s JOIN grants g ON g.id = s.grant_id JOIN keys k ON k.id = g.key_id
                  JOIN facilities f ON f.id = k.facility_id JOIN orgs o ON o.id = g.org_id
                  JOIN people p ON p.id = g.person_id
             WHERE s.token_hash = ?1",
            [h],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
        )
        .optional()?;
    let Some((id, guest, starts_at, ends_at, link_expires_at, state, organisation, facility, shared_by)) = row else {
        return Err(Error::ShareNotFound);
    };
    match state.as_str() {
        "revoked" => return Err(Error::ShareRevoked),
        "redeemed" => return Err(Error::ShareAlreadyRedeemed),
        _ if now >= link_expires_at || now >= ends_at => return Err(Error::ShareExpired),
        _ => {}
    }
    let doors = share_doors(tx, id)?.into_iter().map(|d| d.name).collect();
    let shared_by = shared_by.filter(|n| !n.trim().is_empty());
    Ok(SharePreview {
        organisation,
        facility,
        doors,
        starts_at,
        ends_at,
        sign_in_with: guest,
        shared_by,
        link_expires_at,
    })
}

/// Share id, grant, guest, window, created, link expiry, redeemed, stored state, guest key revoked.
type ListRow = (i64, i64, String, i64, i64, i64, i64, Option<i64>, String, bool);

/// The shares a member has made, newest first, each with its state at `now`.
pub fn list_for_person(tx: &Transaction<'_>, person_id: i64, now: i64) -> Result<Vec<ShareView>> {
    let rows: Vec<ListRow> = {
        let mut stmt = tx.prepare(
            "SELECT s.id, s.grant_id, s.guest_identifier, s.starts_at, s.ends_at, s.created_at, s.link_expires_at,
                    s.redeemed_at, s.state, COALESCE(gg.revoked_at IS NOT NULL, 0)
             FROM shares s JOIN grants g ON g.id = s.grant_id LEFT JOIN grants gg ON gg.id = s.guest_grant_id
             WHERE g.person_id = ?1 ORDER BY s.id DESC",
        )?;
        let rows = stmt.query_map([person_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::with_capacity(rows.len());
    for (
        share_id,
        grant_id,
        guest,
        starts_at,
        ends_at,
        created_at,
        link_expires_at,
        redeemed_at,
        stored,
        guest_revoked,
    ) in rows
    {
        let state = state_at(&stored, guest_revoked, link_expires_at, ends_at, now);
        let doors = share_doors(tx, share_id)?;
        out.push(ShareView {
            share_id,
            grant_id,
            guest,
            doors,
            starts_at,
            ends_at,
            created_at,
            link_expires_at,
            redeemed_at,
            state,
        });
    }
    Ok(out)
}

/// Where a share stands at `now`: the stored state says pending, redeemed or revoked; an
/// administrator revoking the guest's key directly also counts as revoked; a pending link
/// past its expiry, or any share past its window, has expired.
fn state_at(stored: &str, guest_revoked: bool, link_expires_at: i64, ends_at: i64, now: i64) -> ShareState {
    match stored {
        "revoked" => ShareState::Revoked,
        _ if guest_revoked => ShareState::Revoked,
        _ if now >= ends_at => ShareState::Expired,
        "redeemed" => ShareState::Redeemed,
        _ if now >= link_expires_at => ShareState::Expired,
        _ => ShareState::Pending,
    }
}

/// The doors of a share, by door id.
fn share_doors(tx: &Transaction<'_>, share_id: i64) -> Result<Vec<SharedDoorView>> {
    let mut stmt = tx.prepare(
        "SELECT d.id, d.lock_id, d.name FROM share_doors sd JOIN doors d ON d.id = sd.door_id
         WHERE sd.share_id = ?1 ORDER BY d.id",
    )?;
    let rows = stmt.query_map(params![share_id], |r| {
        let lock_id: Vec<u8> = r.get(1)?;
        Ok(SharedDoorView { door_id: r.get(0)?, lock_id: hex::encode(lock_id), name: r.get(2)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_past_its_window_is_expired_whether_or_not_it_was_redeemed() {
        assert_eq!(state_at("redeemed", false, 50, 100, 100), ShareState::Expired);
        assert_eq!(state_at("pending", false, 50, 100, 100), ShareState::Expired);
        assert_eq!(state_at("redeemed", false, 50, 100, 99), ShareState::Redeemed);
    }

    #[test]
    fn an_unredeemed_link_past_its_seven_days_is_expired() {
        assert_eq!(state_at("pending", false, 50, 100, 50), ShareState::Expired);
        assert_eq!(state_at("pending", false, 50, 100, 49), ShareState::Pending);
    }

    #[test]
    fn a_revoked_share_or_guest_key_stays_revoked_after_the_window() {
        assert_eq!(state_at("revoked", false, 50, 100, 200), ShareState::Revoked);
        assert_eq!(state_at("redeemed", true, 50, 100, 60), ShareState::Revoked);
    }
}
