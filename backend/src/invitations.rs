//! Invitations: an email with a single-use https link, valid 24 hours.
//!
//! The token (256 bits) exists only in the email; the database holds its keyed hash.
//! Resending supersedes the previous link, cancelling kills it, accepting uses it up; each
//! of these and expiry is its own error, because the app says different things for each.
//! An invitation grants nothing by itself: access comes from grants.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::outbox::{NewMessage, Outbox};
use crate::secrets::{Purpose, Secrets};
use keyway_api::{Channel, InvitationPreview, InvitationSent, InvitationView, SessionTokens};

/// How long an invitation link works.
pub const INVITATION_TTL_SECS: i64 = 24 * 3600;

struct Found {
    id: i64,
    membership_id: i64,
    email: String,
    state: String,
    expires_at: i64,
}

fn find(tx: &Transaction<'_>, secrets: &Secrets, token: &str) -> Result<Found> {
    let h = secrets.hash(Purpose::InvitationToken, "", token.trim());
    tx.query_row(
        "SELECT id, membership_id, email, state, expires_at FROM invitations WHERE token_hash = ?1",
        [h],
        |r| {
            Ok(Found {
                id: r.get(0)?,
                membership_id: r.get(1)?,
                email: r.get(2)?,
                state: r.get(3)?,
                expires_at: r.get(4)?,
            })
        },
    )
    .optional()?
    .ok_or(Error::InvitationNotFound)
}

/// Finds a usable invitation by token, or says exactly why it is not usable.
fn usable(tx: &Transaction<'_>, secrets: &Secrets, token: &str, now: i64) -> Result<Found> {
    let f = find(tx, secrets, token)?;
    match f.state.as_str() {
        "superseded" => Err(Error::InvitationSuperseded),
        "cancelled" => Err(Error::InvitationCancelled),
        "accepted" => Err(Error::InvitationAlreadyUsed),
        _ if now >= f.expires_at => Err(Error::InvitationExpired),
        _ => Ok(f),
    }
}

/// Issues a new link for a membership (superseding any pending one) and emails it.
#[allow(clippy::too_many_arguments)]
fn issue(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    outbox: &Outbox,
    public_host: &str,
    membership_id: i64,
    facility_id: i64,
    email: &str,
    role: &str,
    access_start: i64,
    now: i64,
) -> Result<(i64, bool)> {
    tx.execute(
        "UPDATE invitations SET state = 'superseded', finished_at = ?2 WHERE membership_id = ?1 AND state = 'pending'",
        params![membership_id, now],
    )?;
    let token = secrets.new_token()?;
    tx.execute(
        "INSERT INTO invitations (membership_id, facility_id, email, role, token_hash, access_start, created_at,
             expires_at, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending')",
        params![
            membership_id,
            facility_id,
            email,
            role,
            secrets.hash(Purpose::InvitationToken, "", &token),
            access_start,
            now,
            now + INVITATION_TTL_SECS
        ],
    )?;
    let id = tx.last_insert_rowid();
    // The keys that came with a superseded link come with the new one.
    tx.execute(
        "UPDATE grants SET invitation_id = ?2
         WHERE invitation_id IN (SELECT id FROM invitations WHERE membership_id = ?1 AND state = 'superseded')",
        params![membership_id, id],
    )?;
    let (org, facility): (String, String) = tx.query_row(
        "SELECT o.name, f.name FROM facilities f JOIN sites s ON s.id = f.site_id JOIN orgs o ON o.id = s.org_id
         WHERE f.id = ?1",
        [facility_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let link = format!("https://{public_host}/invite/{token}");
    let delivered = outbox.send(
        tx,
        NewMessage {
            channel: Channel::Email,
            to: email.to_owned(),
            kind: "invitation",
            subject: format!("Your door access invitation for {facility}"),
            body: format!(
                "{org} gave you door access at {facility}. Install the Keyway app and sign in with {email}.\n\
                 Open this link on your phone within 24 hours: {link}"
            ),
            code: None,
            link: Some(link),
        },
        now,
    )?;
    tx.execute(
        "UPDATE memberships SET invitation_status = ?2, invited_at = ?3 WHERE id = ?1",
        params![membership_id, if delivered { "invited" } else { "send_failed" }, now],
    )?;
    Ok((id, delivered))
}

/// Invites `email` to an organisation's facility with a role. Grants are given separately
/// (the admin API does both in one request, in one transaction).
#[allow(clippy::too_many_arguments)]
pub fn invite(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    outbox: &Outbox,
    public_host: &str,
    facility_id: i64,
    email: &Identifier,
    role: &str,
    access_start: i64,
    now: i64,
) -> Result<InvitationSent> {
    let Identifier::Email(addr) = email else {
        return Err(Error::field("email", "an invitation is an email only"));
    };
    let org_id = crate::orgs::org_of_facility(tx, facility_id)?;
    let person_id = crate::people::find_or_create(tx, email, now)?;
    let membership_id = crate::people::ensure_membership(tx, person_id, org_id, role, now)?;
    let (invitation_id, delivered) =
        issue(tx, secrets, outbox, public_host, membership_id, facility_id, addr, role, access_start, now)?;
    Ok(InvitationSent {
        invitation_id,
        person_id,
        membership_id,
        status: if delivered { "invited" } else { "send_failed" }.into(),
        expires_at: now + INVITATION_TTL_SECS,
    })
}

/// Sends a fresh link with a fresh 24 hours; the previous link stops working.
pub fn resend(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    outbox: &Outbox,
    public_host: &str,
    invitation_id: i64,
    now: i64,
) -> Result<InvitationSent> {
    let row: Option<(i64, i64, String, String, i64, String, i64)> = tx
        .query_row(
            "SELECT i.membership_id, i.facility_id, i.email, i.role, i.access_start, i.state, m.person_id
             FROM invitations i JOIN memberships m ON m.id = i.membership_id WHERE i.id = ?1",
            [invitation_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .optional()?;
    let (membership_id, facility_id, email, role, access_start, state, person_id) =
        row.ok_or(Error::NotFound("invitation"))?;
    if state == "accepted" {
        return Err(Error::InvitationAlreadyUsed);
    }
    let (id, delivered) =
        issue(tx, secrets, outbox, public_host, membership_id, facility_id, &email, &role, access_start, now)?;
    Ok(InvitationSent {
        invitation_id: id,
        person_id,
        membership_id,
        status: if delivered { "invited" } else { "send_failed" }.into(),
        expires_at: now + INVITATION_TTL_SECS,
    })
}

/// Records that `grant_id` came with `invitation_id`: it lives and dies with the invitation
/// until the person has signed in (see [`cancel`] and `credentials::issue_one`).
pub fn attach_grant(tx: &Transaction<'_>, invitation_id: i64, grant_id: i64) -> Result<()> {
    tx.execute("UPDATE grants SET invitation_id = ?2 WHERE id = ?1", params![grant_id, invitation_id])?;
    Ok(())
}

/// Cancels a pending invitation; its link stops working at once, and the keys that came
/// with it are revoked (unless the person had already signed in and started using them).
pub fn cancel(tx: &Transaction<'_>, invitation_id: i64, now: i64) -> Result<()> {
    let row: Option<(i64, String)> = tx
        .query_row("SELECT membership_id, state FROM invitations WHERE id = ?1", [invitation_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (membership_id, state) = row.ok_or(Error::NotFound("invitation"))?;
    match state.as_str() {
        "accepted" => return Err(Error::InvitationAlreadyUsed),
        "pending" => {}
        // Cancelling a superseded or cancelled link is already true.
        _ => return Ok(()),
    }
    tx.execute(
        "UPDATE invitations SET state = 'cancelled', finished_at = ?2 WHERE id = ?1",
        params![invitation_id, now],
    )?;
    tx.execute("UPDATE memberships SET invitation_status = 'not_invited' WHERE id = ?1", [membership_id])?;
    let grants: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT g.id FROM grants g JOIN people p ON p.id = g.person_id
             WHERE g.invitation_id = ?1 AND g.revoked_at IS NULL AND p.first_sign_in_at IS NULL",
        )?;
        let rows = stmt.query_map([invitation_id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for g in grants {
        crate::keys::revoke_grant(tx, g, "invitation_cancelled", now)?;
    }
    Ok(())
}

/// The preview shown before accepting.
pub fn preview(tx: &Transaction<'_>, secrets: &Secrets, token: &str, now: i64) -> Result<InvitationPreview> {
    let f = usable(tx, secrets, token, now)?;
    let p = tx.query_row(
        "SELECT o.name, fa.name, i.role, i.email, i.access_start, i.expires_at
         FROM invitations i JOIN facilities fa ON fa.id = i.facility_id JOIN sites s ON s.id = fa.site_id
              JOIN orgs o ON o.id = s.org_id WHERE i.id = ?1",
        [f.id],
        |r| {
            Ok(InvitationPreview {
                organisation: r.get(0)?,
                facility: r.get(1)?,
                role: r.get(2)?,
                email: r.get(3)?,
                access_start: r.get(4)?,
                expires_at: r.get(5)?,
            })
        },
    )?;
    Ok(p)
}

/// The invited address, if the link is usable (to send it a sign-in code).
pub fn invited_email(tx: &Transaction<'_>, secrets: &Secrets, token: &str, now: i64) -> Result<Identifier> {
    let f = usable(tx, secrets, token, now)?;
    Ok(Identifier::Email(f.email))
}

/// Accepts: checks the link, then the code sent to the invited address, then uses the link
/// up and starts the person's session. Run in a transaction that commits on error (a wrong
/// code counts as a guess); the single writer makes concurrent accepts take turns, so only
/// the first can succeed.
pub fn accept(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    token: &str,
    client: &crate::otp::Client,
    code: &str,
    device_public_key: &[u8],
    now: i64,
) -> Result<SessionTokens> {
    let f = usable(tx, secrets, token, now)?;
    let ident = Identifier::Email(f.email.clone());
    crate::otp::check_code(tx, secrets, &ident, client, device_public_key, code, now)?;
    let n = tx.execute(
        "UPDATE invitations SET state = 'accepted', finished_at = ?2 WHERE id = ?1 AND state = 'pending'",
        params![f.id, now],
    )?;
    if n != 1 {
        return Err(Error::InvitationAlreadyUsed);
    }
    tx.execute("UPDATE memberships SET invitation_status = 'accepted' WHERE id = ?1", [f.membership_id])?;
    let person_id: i64 =
        tx.query_row("SELECT person_id FROM memberships WHERE id = ?1", [f.membership_id], |r| r.get(0))?;
    crate::sessions::create(tx, secrets, person_id, device_public_key, now)
}

/// An organisation's invitations (the latest link of each), newest first.
pub fn list_for_org(tx: &Transaction<'_>, org_id: i64, now: i64) -> Result<Vec<InvitationView>> {
    let mut stmt = tx.prepare(
        "SELECT i.id, m.person_id, i.email, i.role, i.facility_id, i.created_at, i.expires_at, i.state
         FROM invitations i JOIN memberships m ON m.id = i.membership_id
         WHERE m.org_id = ?1 AND i.state != 'superseded' ORDER BY i.id DESC",
    )?;
    let rows = stmt.query_map([org_id], |r| {
        let state: String = r.get(7)?;
        let expires_at: i64 = r.get(6)?;
        Ok(InvitationView {
            invitation_id: r.get(0)?,
            person_id: r.get(1)?,
            email: r.get(2)?,
            role: r.get(3)?,
            facility_id: r.get(4)?,
            sent_at: r.get(5)?,
            expires_at,
            state: if state == "pending" && now >= expires_at { "expired".into() } else { state },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
