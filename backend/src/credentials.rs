//! Credential issuance for the session's device: short-lived (the site's setting, default
//! 72 h), never past the grant's expiry, renewed by asking again.
//!
//! One live credential per device and grant: asking again while the current one has more
//! than a renewal window of life left returns that same credential (so retries and
//! repeated calls mint nothing); a new one supersedes the older ones of that device and
//! grant, which are revoked and listed in their doors' next bundles like any revocation.
//! The one exception is a superseded credential that guest keys name as their parent: it
//! is retired (never handed out again, its shares now point at the new credential, so
//! guests renew under it) but not listed, because listing it would lock its guests out at
//! the door; it lapses on its own within one credential life, and revoking the member
//! lists it with the rest. A member holds at most [`MAX_LIVE_PER_GRANT`] live credentials
//! per key (retired parents included); beyond that the oldest is revoked.

use std::collections::HashMap;
use std::rc::Rc;

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::keys::{grant_door_ids, revoke_credential_ids};
use crate::orgs;
use crate::secrets::{Secrets, b64};
use crate::sessions::SessionInfo;
use crate::signing::{self, CredentialSpec};
use keyway_api::IssuedCredential;

/// Live credentials one member may hold per key (one per device, three devices).
pub const MAX_LIVE_PER_GRANT: i64 = 3;
/// A repeated request returns the current credential while it has more life left than
/// this (or half the site's credential life, if shorter): the app renews inside it.
pub const RENEW_WINDOW_SECS: i64 = 24 * 3600;

struct GrantRow {
    person_id: i64,
    facility_id: i64,
    starts_at: i64,
    expires_at: i64,
    shareable: bool,
    revoked: bool,
    share_id: Option<i64>,
    /// The invitation the grant came with: (state, expires_at, whether the person signed in before it expired).
    invitation: Option<(String, i64, bool)>,
}

fn load_grant(tx: &Transaction<'_>, grant_id: i64) -> Result<GrantRow> {
    tx.prepare_cached(
        "SELECT g.person_id, k.facility_id, g.starts_at, g.expires_at, g.shareable, g.revoked_at IS NOT NULL,
                g.share_id, i.state, i.expires_at, COALESCE(p.first_sign_in_at < i.expires_at, 0)
         FROM grants g JOIN keys k ON k.id = g.key_id JOIN people p ON p.id = g.person_id
              LEFT JOIN invitations i ON i.id = g.invitation_id
         WHERE g.id = ?1",
    )?
    .query_row([grant_id], |r| {
        let state: Option<String> = r.get(7)?;
        Ok(GrantRow {
            person_id: r.get(0)?,
            facility_id: r.get(1)?,
            starts_at: r.get(2)?,
            expires_at: r.get(3)?,
            shareable: r.get(4)?,
            revoked: r.get(5)?,
            share_id: r.get(6)?,
            invitation: match state {
                Some(st) => Some((st, r.get(8)?, r.get(9)?)),
                None => None,
            },
        })
    })
    .optional()?
    .ok_or(Error::NotFound("grant"))
}

/// Site issuers opened during one request, by facility: each sealed key is opened and
/// parsed once, however many credentials it signs.
///
/// Also remembers, by facility, whether its site is in a key rotation (has an outgoing
/// key): only then does a credential's issuer depend on its doors.
#[derive(Default)]
struct Issuers {
    active: HashMap<i64, Rc<orgs::Issuer>>,
    rotating: HashMap<i64, bool>,
}

impl Issuers {
    fn for_facility(&mut self, tx: &Transaction<'_>, secrets: &Secrets, facility_id: i64) -> Result<Rc<orgs::Issuer>> {
        if let Some(issuer) = self.active.get(&facility_id) {
            return Ok(issuer.clone());
        }
        let open = Rc::new(orgs::issuer_for_facility(tx, secrets, facility_id)?);
        self.active.insert(facility_id, open.clone());
        Ok(open)
    }

    /// Whether the facility's site has an outgoing issuer key (asked once per request).
    fn rotating(&mut self, tx: &Transaction<'_>, facility_id: i64) -> Result<bool> {
        if let Some(rotating) = self.rotating.get(&facility_id) {
            return Ok(*rotating);
        }
        let rotating: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM facilities f JOIN issuer_keys k ON k.site_id = f.site_id
                                WHERE f.id = ?1 AND k.state = 'outgoing')",
            )?
            .query_row([facility_id], |r| r.get(0))?;
        self.rotating.insert(facility_id, rotating);
        Ok(rotating)
    }
}

/// What issuing under one grant comes to before any signature: the current credential
/// handed out again, or a new one to sign and record.
enum Plan {
    Reused(IssuedCredential),
    New(Box<ToSign>),
}

/// A credential decided on but not yet signed.
struct ToSign {
    grant_id: i64,
    issuer: Rc<orgs::Issuer>,
    spec: CredentialSpec,
    door_ids: Vec<i64>,
    parent_vec: Option<Vec<u8>>,
    not_before: i64,
    not_after: i64,
}

/// Issues a credential under one grant for the session's device.
pub fn issue_one(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    session: &SessionInfo,
    grant_id: i64,
    now: i64,
) -> Result<IssuedCredential> {
    match plan(tx, secrets, &mut Issuers::default(), session, grant_id, now)? {
        Plan::Reused(c) => Ok(c),
        Plan::New(to_sign) => {
            let bytes = signing::issue_credential(&to_sign.issuer.signer, &to_sign.spec)?;
            record(tx, session, &to_sign, bytes, now)
        }
    }
}

/// Checks a grant and decides: hand out the current credential again, or sign a new one.
fn plan(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    issuers: &mut Issuers,
    session: &SessionInfo,
    grant_id: i64,
    now: i64,
) -> Result<Plan> {
    let g = load_grant(tx, grant_id)?;
    if g.person_id != session.person_id {
        return Err(Error::NotFound("grant"));
    }
    if g.revoked {
        return Err(Error::KeyRevoked);
    }
    if now >= g.expires_at {
        return Err(Error::KeyExpired);
    }
    if crate::access::is_suspended(tx, grant_id)? {
        return Err(Error::AccessSuspended);
    }
    // A key that came with an invitation nobody used before it expired gives nothing
    // (a resend moves the key to the new invitation; a cancel revokes it).
    if let Some((state, expires_at, signed_in_before)) = &g.invitation {
        match state.as_str() {
            "cancelled" => return Err(Error::InvitationCancelled),
            "pending" | "superseded" if now >= *expires_at && !signed_in_before => {
                return Err(Error::InvitationExpired);
            }
            _ => {}
        }
    }
    let issuer = issuers.for_facility(tx, secrets, g.facility_id)?;
    let not_before = now.max(g.starts_at);
    if not_before >= now + issuer.credential_ttl_secs {
        return Err(Error::KeyNotYetValid { starts_at: g.starts_at });
    }
    let not_after = (not_before + issuer.credential_ttl_secs).min(g.expires_at);
    let renew_window = RENEW_WINDOW_SECS.min(issuer.credential_ttl_secs / 2);
    let door_ids = grant_door_ids(tx, grant_id)?;
    // During a rotation the outgoing key signs for doors that have not learnt the new one;
    // a credential of any other key is never handed out again: a new one is minted.
    // A key's doors are all in its facility: outside a rotation the active key signs.
    let issuer = if issuers.rotating(tx, g.facility_id)? {
        crate::issuer_keys::for_credential(tx, secrets, issuer, &door_ids)?
    } else {
        issuer
    };
    let current = reusable(tx, session, grant_id, &g, &door_ids, renew_window, now)?;
    if let Some(current) = current.filter(|c| signing::signed_by(&c.bytes, &issuer.public_key)) {
        return answer(tx, grant_id, &current, &issuer.public_key).map(Plan::Reused);
    }
    let parent_vec = match g.share_id {
        Some(share_id) => Some(live_parent(tx, secrets, share_id, now)?),
        None => None,
    };
    let mut lock_ids = Vec::with_capacity(door_ids.len());
    {
        let mut stmt = tx.prepare_cached("SELECT lock_id FROM doors WHERE id = ?1")?;
        for d in &door_ids {
            let lock: Vec<u8> = stmt.query_row([d], |r| r.get(0))?;
            let arr: [u8; 8] =
                lock.try_into().map_err(|_| Error::Internal("stored lock id has the wrong length".into()))?;
            lock_ids.push(arr);
        }
    }
    let id = crate::credential_ids::mint(tx, secrets, g.facility_id)?;
    let parent: Option<[u8; 16]> = match &parent_vec {
        Some(p) => {
            Some(p.as_slice().try_into().map_err(|_| Error::Internal("stored parent id has the wrong length".into()))?)
        }
        None => None,
    };
    let guest = parent.is_some();
    let spec = CredentialSpec {
        id,
        device_public_key: session.device_public_key.clone(),
        doors: lock_ids,
        not_before: u32::try_from(not_before).map_err(|_| Error::field("starts_at", "out of range"))?,
        not_after: u32::try_from(not_after).map_err(|_| Error::field("expires_at", "out of range"))?,
        shareable: g.shareable && !guest,
        parent,
    };
    Ok(Plan::New(Box::new(ToSign { grant_id, issuer, spec, door_ids, parent_vec, not_before, not_after })))
}

/// Stores a newly signed credential, supersedes the device's older ones for the grant and
/// keeps the grant under its cap; returns the answer.
fn record(
    tx: &Transaction<'_>,
    session: &SessionInfo,
    to_sign: &ToSign,
    bytes: Vec<u8>,
    now: i64,
) -> Result<IssuedCredential> {
    let ToSign { grant_id, issuer, spec, door_ids, parent_vec, not_before, not_after } = to_sign;
    let id = &spec.id;
    let guest = spec.parent.is_some();
    tx.prepare_cached(
        "INSERT INTO credentials (id, grant_id, session_id, device_public_key, not_before, not_after, parent_id,
             guest, shareable, issued_at, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        &id[..],
        grant_id,
        session.session_id,
        session.device_public_key,
        not_before,
        not_after,
        parent_vec,
        guest,
        spec.shareable,
        now,
        bytes
    ])?;
    {
        let mut stmt = tx.prepare_cached("INSERT INTO credential_doors (credential_id, door_id) VALUES (?1, ?2)")?;
        for d in door_ids {
            stmt.execute(params![&id[..], d])?;
        }
    }
    supersede_older(tx, session, *grant_id, id, now)?;
    enforce_cap(tx, *grant_id, id, now)?;
    Ok(IssuedCredential {
        grant_id: *grant_id,
        credential_id: hex::encode(id),
        credential: b64(&bytes),
        not_before: *not_before,
        not_after: *not_after,
        lock_ids: spec.doors.iter().map(hex::encode).collect(),
        parent_credential_id: spec.parent.map(hex::encode),
        issuer_public_key: b64(&issuer.public_key),
    })
}

/// Whether a grant's refusal only means "nothing to issue for it now" in a request for all.
fn skipped_in_issue_all(e: &Error) -> bool {
    matches!(
        e,
        Error::KeyNotYetValid { .. } | Error::InvitationExpired | Error::InvitationCancelled | Error::AccessSuspended
    )
}

/// Issues (or renews) credentials for every grant of the person that is usable now or
/// within the credential life; grants that are revoked, expired or too far ahead are skipped.
///
/// The member's own keys go as one batch: every grant is checked and every new credential
/// decided first, then all are signed (on every core when there are many), then recorded.
/// Guest keys follow one by one, after the batch: issuing one may renew the sharer's
/// credential that it names as parent, so each must see everything recorded before it.
pub fn issue_all(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    session: &SessionInfo,
    now: i64,
) -> Result<Vec<IssuedCredential>> {
    let grants: Vec<(i64, bool)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, share_id IS NOT NULL FROM grants
             WHERE person_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![session.person_id, now], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut issuers = Issuers::default();
    let mut answers: Vec<(i64, IssuedCredential)> = Vec::with_capacity(grants.len());
    let mut to_sign = Vec::new();
    let mut guests = Vec::new();
    for (id, guest) in grants {
        if guest {
            guests.push(id);
            continue;
        }
        match plan(tx, secrets, &mut issuers, session, id, now) {
            Ok(Plan::Reused(c)) => answers.push((id, c)),
            Ok(Plan::New(t)) => to_sign.push(t),
            Err(e) if skipped_in_issue_all(&e) => {}
            Err(e) => return Err(e),
        }
    }
    let signed = sign_all(&to_sign)?;
    for (t, bytes) in to_sign.iter().zip(signed) {
        answers.push((t.grant_id, record(tx, session, t, bytes, now)?));
    }
    for id in guests {
        match issue_one(tx, secrets, session, id, now) {
            Ok(c) => answers.push((id, c)),
            Err(e) if skipped_in_issue_all(&e) => {}
            Err(e) => return Err(e),
        }
    }
    answers.sort_by_key(|(id, _)| *id);
    Ok(answers.into_iter().map(|(_, c)| c).collect())
}

/// Below this many credentials one core signs them all (threads would cost more than they save).
const PARALLEL_SIGNING_FROM: usize = 64;

/// Signs every planned credential, in order; on every core when there are many.
fn sign_all(to_sign: &[Box<ToSign>]) -> Result<Vec<Vec<u8>>> {
    let work: Vec<(&signing::SigningIssuer, &CredentialSpec)> =
        to_sign.iter().map(|t| (&t.issuer.signer, &t.spec)).collect();
    signing::issue_credentials(&work, PARALLEL_SIGNING_FROM)
}

/// A credential row that can be handed out again.
struct Current {
    id: Vec<u8>,
    bytes: Vec<u8>,
    not_before: i64,
    not_after: i64,
    parent: Option<Vec<u8>>,
}

/// The device's current credential for the grant, if it may be handed out again: not
/// revoked or superseded, inside the grant's window, naming exactly the grant's doors
/// `door_ids` (a key's doors may have changed), with its parent (for a guest key) not
/// listed as revoked, and with more than `renew_window` left or reaching the grant's end.
fn reusable(
    tx: &Transaction<'_>,
    session: &SessionInfo,
    grant_id: i64,
    g: &GrantRow,
    door_ids: &[i64],
    renew_window: i64,
    now: i64,
) -> Result<Option<Current>> {
    let row: Option<Current> = tx
        .prepare_cached(
            "SELECT c.id, c.bytes, c.not_before, c.not_after, c.parent_id FROM credentials c
             WHERE c.grant_id = ?1 AND c.device_public_key = ?2 AND c.revoked_at IS NULL
               AND c.superseded_at IS NULL AND c.bytes IS NOT NULL AND c.not_after > ?3
               AND (c.parent_id IS NULL OR NOT EXISTS
                    (SELECT 1 FROM credentials p WHERE p.id = c.parent_id AND p.revoked_at IS NOT NULL))
             ORDER BY c.issued_at DESC, c.rowid DESC LIMIT 1",
        )?
        .query_row(params![grant_id, session.device_public_key, now], |r| {
            Ok(Current {
                id: r.get(0)?,
                bytes: r.get(1)?,
                not_before: r.get(2)?,
                not_after: r.get(3)?,
                parent: r.get(4)?,
            })
        })
        .optional()?;
    let Some(c) = row.filter(|c| {
        c.not_before >= g.starts_at
            && c.not_after <= g.expires_at
            && (c.not_after - now > renew_window || c.not_after >= g.expires_at)
    }) else {
        return Ok(None);
    };
    let named: Vec<i64> = {
        let mut stmt =
            tx.prepare_cached("SELECT door_id FROM credential_doors WHERE credential_id = ?1 ORDER BY door_id")?;
        let rows = stmt.query_map([&c.id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    Ok((named == door_ids).then_some(c))
}

/// The answer for a stored credential.
fn answer(tx: &Transaction<'_>, grant_id: i64, c: &Current, issuer_public_key: &[u8]) -> Result<IssuedCredential> {
    let lock_ids: Vec<String> = {
        let mut stmt = tx.prepare_cached(
            "SELECT d.lock_id FROM credential_doors cd JOIN doors d ON d.id = cd.door_id
             WHERE cd.credential_id = ?1 ORDER BY d.id",
        )?;
        let rows = stmt.query_map([&c.id], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| r.map(hex::encode)).collect::<rusqlite::Result<_>>()?
    };
    Ok(IssuedCredential {
        grant_id,
        credential_id: hex::encode(&c.id),
        credential: b64(&c.bytes),
        not_before: c.not_before,
        not_after: c.not_after,
        lock_ids,
        parent_credential_id: c.parent.as_ref().map(hex::encode),
        issuer_public_key: b64(issuer_public_key),
    })
}

/// Whether a live guest credential names `credential_id` as its parent.
fn names_it_as_parent(tx: &Transaction<'_>, credential_id: &[u8], now: i64) -> Result<bool> {
    let n: i64 = tx
        .prepare_cached(
            "SELECT COUNT(*) FROM credentials WHERE parent_id = ?1 AND revoked_at IS NULL AND not_after > ?2",
        )?
        .query_row(params![credential_id, now], |r| r.get(0))?;
    Ok(n > 0)
}

/// Points live shares made from `old` at `new`, so their guests' next credentials name it.
fn repoint_shares(tx: &Transaction<'_>, old: &[u8], new: &[u8]) -> Result<()> {
    tx.execute(
        "UPDATE shares SET parent_credential_id = ?2 WHERE parent_credential_id = ?1 AND state != 'revoked'",
        params![old, new],
    )?;
    Ok(())
}

/// Supersedes the device's older credentials for the grant: their shares move to the new
/// credential, and each is revoked and listed, or, when a live guest credential names it
/// as parent, retired (not listed, so that guest is not refused).
fn supersede_older(tx: &Transaction<'_>, session: &SessionInfo, grant_id: i64, new_id: &[u8], now: i64) -> Result<()> {
    let older: Vec<(Vec<u8>, i64)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, not_after FROM credentials WHERE grant_id = ?1 AND device_public_key = ?2 AND id != ?3
               AND revoked_at IS NULL AND superseded_at IS NULL",
        )?;
        let rows =
            stmt.query_map(params![grant_id, session.device_public_key, new_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut to_list = Vec::new();
    for (id, not_after) in older {
        tx.execute("UPDATE credentials SET superseded_at = ?2 WHERE id = ?1", params![id, now])?;
        repoint_shares(tx, &id, new_id)?;
        if not_after > now && !names_it_as_parent(tx, &id, now)? {
            to_list.push(id);
        }
    }
    revoke_credential_ids(tx, &to_list, now)
}

/// Keeps the grant's live credentials (retired parents included) at [`MAX_LIVE_PER_GRANT`]:
/// the oldest beyond it are revoked and listed; their shares move to `new_id`.
fn enforce_cap(tx: &Transaction<'_>, grant_id: i64, new_id: &[u8], now: i64) -> Result<()> {
    let live: Vec<Vec<u8>> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id FROM credentials WHERE grant_id = ?1 AND revoked_at IS NULL AND not_after > ?2 AND id != ?3
             ORDER BY issued_at DESC, rowid DESC",
        )?;
        let rows = stmt.query_map(params![grant_id, now, new_id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let keep = usize::try_from(MAX_LIVE_PER_GRANT - 1).unwrap_or(0);
    let extra: Vec<Vec<u8>> = live.into_iter().skip(keep).collect();
    for id in &extra {
        repoint_shares(tx, id, new_id)?;
        tx.execute(
            "UPDATE credentials SET superseded_at = COALESCE(superseded_at, ?2) WHERE id = ?1",
            params![id, now],
        )?;
    }
    revoke_credential_ids(tx, &extra, now)
}

/// The parent a guest credential under `share_id` names now: the share's parent while it
/// is not listed as revoked; otherwise (the member's key was changed, so their credential
/// was revoked) the member's newest live credential for the key, or a new one issued for
/// the device that shared. The share is pointed at the answer.
fn live_parent(tx: &Transaction<'_>, secrets: &Secrets, share_id: i64, now: i64) -> Result<Vec<u8>> {
    let (parent, member_grant): (Vec<u8>, i64) =
        tx.query_row("SELECT parent_credential_id, grant_id FROM shares WHERE id = ?1", [share_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let parent_row: Option<(bool, i64, i64, Vec<u8>)> = tx
        .query_row(
            "SELECT revoked_at IS NOT NULL, session_id, (SELECT person_id FROM sessions WHERE id = session_id),
                    device_public_key FROM credentials WHERE id = ?1",
            [&parent],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((listed, session_id, person_id, device_public_key)) = parent_row else {
        return Ok(parent);
    };
    if !listed {
        return Ok(parent);
    }
    let newest: Option<Vec<u8>> = tx
        .query_row(
            "SELECT id FROM credentials WHERE grant_id = ?1 AND revoked_at IS NULL AND not_after > ?2
             ORDER BY superseded_at IS NOT NULL, issued_at DESC, rowid DESC LIMIT 1",
            params![member_grant, now],
            |r| r.get(0),
        )
        .optional()?;
    let replacement = match newest {
        Some(id) => Some(id),
        None => {
            let alive: bool =
                tx.query_row("SELECT revoked_at IS NULL FROM sessions WHERE id = ?1", [session_id], |r| r.get(0))?;
            let member = SessionInfo { session_id, person_id, device_public_key };
            match alive.then(|| issue_one(tx, secrets, &member, member_grant, now)) {
                Some(Ok(c)) => hex::decode(&c.credential_id).ok(),
                // The member cannot hold a credential now (key not yet valid, expired, no device):
                // the guest's credential names the old parent and waits for the member.
                _ => None,
            }
        }
    };
    match replacement {
        Some(new) => {
            repoint_shares(tx, &parent, &new)?;
            Ok(new)
        }
        None => Ok(parent),
    }
}

/// The newest unrevoked, unexpired credential of a grant on this session's device, if any.
pub fn current_for_grant(
    tx: &Transaction<'_>,
    session: &SessionInfo,
    grant_id: i64,
    now: i64,
) -> Result<Option<Vec<u8>>> {
    Ok(tx
        .query_row(
            "SELECT id FROM credentials WHERE grant_id = ?1 AND device_public_key = ?2 AND revoked_at IS NULL
               AND superseded_at IS NULL AND not_after > ?3 ORDER BY issued_at DESC, rowid DESC LIMIT 1",
            params![grant_id, session.device_public_key, now],
            |r| r.get(0),
        )
        .optional()?)
}
