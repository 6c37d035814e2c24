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
use keyway_api::{Channel, GrantSpec, InvitationPreview, InvitationSent, InvitationView, InvitedKey, SessionTokens};

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

/// Issues a new link for a membership (superseding any pending one, whose keys move to
/// the new one). Returns the invitation id and the link's token; [`send_link`] emails it.
#[allow(clippy::too_many_arguments)]
fn issue(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    membership_id: i64,
    facility_id: i64,
    email: &str,
    role: &str,
    access_start: i64,
    invited_by: Option<&str>,
    now: i64,
) -> Result<(i64, String)> {
    tx.execute(
        "UPDATE invitations SET state = 'superseded', finished_at = ?2 WHERE membership_id = ?1 AND state = 'pending'",
        params![membership_id, now],
    )?;
    let token = secrets.new_token()?;
    tx.execute(
        "INSERT INTO invitations (membership_id, facility_id, email, role, token_hash, access_start, created_at,
             expires_at, state, invited_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9)",
        params![
            membership_id,
            facility_id,
            email,
            role,
            secrets.hash(Purpose::InvitationToken, "", &token),
            access_start,
            now,
            now + INVITATION_TTL_SECS,
            invited_by
        ],
    )?;
    let id = tx.last_insert_rowid();
    // The keys that came with a superseded link come with the new one.
    tx.execute(
        "UPDATE grants SET invitation_id = ?2
         WHERE invitation_id IN (SELECT id FROM invitations WHERE membership_id = ?1 AND state = 'superseded')",
        params![membership_id, id],
    )?;
    Ok((id, token))
}

/// The keys that come with an invitation (not revoked), with their doors' names.
fn invited_keys(tx: &Transaction<'_>, invitation_id: i64) -> Result<Vec<InvitedKey>> {
    let mut stmt = tx.prepare(
        "SELECT g.id, k.name, g.starts_at, g.expires_at FROM grants g JOIN keys k ON k.id = g.key_id
         WHERE g.invitation_id = ?1 AND g.revoked_at IS NULL ORDER BY g.id",
    )?;
    let rows: Vec<(i64, String, i64, i64)> = stmt
        .query_map([invitation_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut keys = Vec::with_capacity(rows.len());
    for (grant_id, name, starts_at, expires_at) in rows {
        let mut doors = tx.prepare_cached(
            "SELECT d.name FROM grants g JOIN key_doors kd ON kd.key_id = g.key_id JOIN doors d ON d.id = kd.door_id
             WHERE g.id = ?1 ORDER BY d.id",
        )?;
        let doors: Vec<String> = doors.query_map([grant_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        keys.push(InvitedKey { name, doors, starts_at, expires_at });
    }
    Ok(keys)
}

/// Emails an invitation's link. The text says what the invitation gives: the keys that
/// come with it, or, when none do, that it gives no door access yet (seeds 000, 004:
/// an invitation is not access). Records "Invited" or "Send failed" on the membership.
fn send_link(
    tx: &Transaction<'_>,
    outbox: &Outbox,
    public_host: &str,
    invitation_id: i64,
    token: &str,
    now: i64,
) -> Result<bool> {
    type Row = (i64, String, Option<String>, String, String, i64);
    let (membership_id, email, invited_by, org, facility, expires_at): Row = tx.query_row(
        "SELECT i.membership_id, i.email, i.invited_by, o.name, f.name, i.expires_at
             FROM invitations i JOIN facilities f ON f.id = i.facility_id JOIN sites s ON s.id = f.site_id
                  JOIN orgs o ON o.id = s.org_id
             WHERE i.id = ?1",
        [invitation_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    )?;
    let keys = invited_keys(tx, invitation_id)?;
    let link = format!("https://{public_host}/invite/{token}");
    let from = match &invited_by {
        Some(who) => format!("{who} at {org}"),
        None => org.clone(),
    };
    let (subject, what) = if keys.is_empty() {
        (
            format!("Your Keyway invitation for {facility}"),
            format!(
                "{from} invited you to {facility} on Keyway. This invitation does not give you door access yet: \
                 your administrator adds keys separately, and the app shows them as soon as they do."
            ),
        )
    } else {
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        (
            format!("Your door access invitation for {facility}"),
            format!("{from} gave you door access at {facility} with these keys: {}.", names.join(", ")),
        )
    };
    let delivered = outbox.send(
        tx,
        NewMessage {
            channel: Channel::Email,
            to: email.clone(),
            kind: "invitation",
            subject,
            body: format!(
                "{what} Install the Keyway app and sign in with {email}.\n\
                 Open this link on your phone within 24 hours: {link}"
            ),
            code: None,
            link: Some(link),
            useful_until: expires_at,
            invitation_id: Some(invitation_id),
        },
        now,
    )?;
    tx.execute(
        "UPDATE memberships SET invitation_status = ?2, invited_at = ?3 WHERE id = ?1",
        params![membership_id, if delivered { "invited" } else { "send_failed" }, now],
    )?;
    Ok(delivered)
}

/// What an administrator's invitation says: where, to whom, with which keys and names.
#[derive(Debug, Clone, Copy)]
pub struct InviteSpec<'a> {
    /// The facility the invitation names.
    pub facility_id: i64,
    /// The invitee's address.
    pub email: &'a Identifier,
    /// The role.
    pub role: &'a str,
    /// When access starts (also the default start of the keys).
    pub access_start: i64,
    /// Keys granted with the invitation (none: it gives no access yet).
    pub keys: &'a [GrantSpec],
    /// An existing person to invite (one made card-only, without email).
    pub person_id: Option<i64>,
    /// First and last name, checked, when the administrator gave them.
    pub name: Option<(&'a str, &'a str)>,
    /// Who sends it, as the invitee sees it.
    pub invited_by: Option<&'a str>,
}

/// Invites a person to an organisation's facility with a role and (maybe) keys, then
/// emails the link, whose text says which keys come with it.
pub fn invite(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    outbox: &Outbox,
    public_host: &str,
    spec: &InviteSpec<'_>,
    now: i64,
) -> Result<InvitationSent> {
    let Identifier::Email(addr) = spec.email else {
        return Err(Error::field("email", "an invitation is an email only"));
    };
    let org_id = crate::orgs::org_of_facility(tx, spec.facility_id)?;
    let person_id = match spec.person_id {
        Some(id) => crate::people::give_email(tx, id, spec.email)?,
        None => crate::people::find_or_create(tx, spec.email, now)?,
    };
    if let Some((first, last)) = spec.name {
        crate::profile::set_name(tx, person_id, first, last)?;
    }
    let membership_id = crate::people::ensure_membership(tx, person_id, org_id, spec.role, now)?;
    tx.execute("UPDATE memberships SET invited_by = ?2 WHERE id = ?1", params![membership_id, spec.invited_by])?;
    let (invitation_id, token) =
        issue(tx, secrets, membership_id, spec.facility_id, addr, spec.role, spec.access_start, spec.invited_by, now)?;
    for k in spec.keys {
        let mut grant = k.clone();
        grant.starts_at = Some(grant.starts_at.unwrap_or(spec.access_start));
        let grant_id = crate::keys::grant(tx, person_id, &grant, now)?;
        attach_grant(tx, invitation_id, grant_id)?;
    }
    let delivered = send_link(tx, outbox, public_host, invitation_id, &token, now)?;
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
    type Row = (i64, i64, String, String, i64, String, i64, Option<String>);
    let row: Option<Row> = tx
        .query_row(
            "SELECT i.membership_id, i.facility_id, i.email, i.role, i.access_start, i.state, m.person_id,
                    i.invited_by
             FROM invitations i JOIN memberships m ON m.id = i.membership_id WHERE i.id = ?1",
            [invitation_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
        )
        .optional()?;
    let (membership_id, facility_id, email, role, access_start, state, person_id, invited_by) =
        row.ok_or(Error::NotFound("invitation"))?;
    if state == "accepted" {
        return Err(Error::InvitationAlreadyUsed);
    }
    if email.is_empty() {
        // The person deleted their account: there is no one to send it to.
        return Err(Error::NotFound("invitation"));
    }
    let (id, token) =
        issue(tx, secrets, membership_id, facility_id, &email, &role, access_start, invited_by.as_deref(), now)?;
    let delivered = send_link(tx, outbox, public_host, id, &token, now)?;
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

/// The preview shown before accepting: where, which role, which keys come with it (none:
/// no access yet), and whether the invitee must give their name.
pub fn preview(tx: &Transaction<'_>, secrets: &Secrets, token: &str, now: i64) -> Result<InvitationPreview> {
    let f = usable(tx, secrets, token, now)?;
    let mut p = tx.query_row(
        "SELECT o.name, fa.name, i.role, i.email, i.access_start, i.expires_at, p.first_name, p.last_name
         FROM invitations i JOIN facilities fa ON fa.id = i.facility_id JOIN sites s ON s.id = fa.site_id
              JOIN orgs o ON o.id = s.org_id JOIN memberships m ON m.id = i.membership_id
              JOIN people p ON p.id = m.person_id
         WHERE i.id = ?1",
        [f.id],
        |r| {
            let first_name: Option<String> = r.get(6)?;
            let last_name: Option<String> = r.get(7)?;
            Ok(InvitationPreview {
                organisation: r.get(0)?,
                facility: r.get(1)?,
                role: r.get(2)?,
                email: r.get(3)?,
                access_start: r.get(4)?,
                expires_at: r.get(5)?,
                keys: Vec::new(),
                name_required: first_name.is_none() || last_name.is_none(),
                first_name,
                last_name,
            })
        },
    )?;
    p.keys = invited_keys(tx, f.id)?;
    Ok(p)
}

/// The invited address, if the link is usable (to send it a sign-in code).
pub fn invited_email(tx: &Transaction<'_>, secrets: &Secrets, token: &str, now: i64) -> Result<Identifier> {
    let f = usable(tx, secrets, token, now)?;
    Ok(Identifier::Email(f.email))
}

/// What the person sends to accept: the code, their device's public key, and their name
/// when they gave one (first, last).
#[derive(Debug, Clone, Copy)]
pub struct Acceptance<'a> {
    /// The one-time code sent to the invited address.
    pub code: &'a str,
    /// The device key the session is bound to.
    pub device_public_key: &'a [u8],
    /// First and last name, both checked.
    pub name: Option<(&'a str, &'a str)>,
}

/// Accepts: checks the link, then the code sent to the invited address, then uses the link
/// up and starts the person's session. The name, when given, goes on the person's record
/// (the preview's `name_required` tells the app to ask for it; an app that does not know
/// names can still accept, and the member sets it later from their profile). Run in a transaction that commits on error (a wrong
/// code counts as a guess); the single writer makes concurrent accepts take turns, so only
/// the first can succeed.
pub fn accept(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    token: &str,
    client: &crate::otp::Client,
    acceptance: &Acceptance<'_>,
    now: i64,
) -> Result<SessionTokens> {
    let Acceptance { code, device_public_key, name } = *acceptance;
    let f = usable(tx, secrets, token, now)?;
    let person_id: i64 =
        tx.query_row("SELECT person_id FROM memberships WHERE id = ?1", [f.membership_id], |r| r.get(0))?;
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
    if let Some((first, last)) = name {
        crate::profile::set_name(tx, person_id, first, last)?;
    }
    crate::sessions::create(tx, secrets, person_id, device_public_key, now)
}

/// An organisation's invitations (the latest link of each), newest first.
pub fn list_for_org(tx: &Transaction<'_>, org_id: i64, now: i64) -> Result<Vec<InvitationView>> {
    let mut stmt = tx.prepare(
        "SELECT i.id, m.person_id, i.email, i.role, i.facility_id, i.created_at, i.expires_at, i.state,
                (SELECT o.state FROM outbox_log o WHERE o.invitation_id = i.id ORDER BY o.id DESC LIMIT 1),
                (SELECT o.failure FROM outbox_log o WHERE o.invitation_id = i.id ORDER BY o.id DESC LIMIT 1)
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
            delivery: r.get(8)?,
            delivery_failure: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
