//! Guest shares: a member with a shareable key gives a guest some of its doors for a
//! window inside their own. The guest gets a link (email or SMS), signs in with a code,
//! redeems it and receives a guest credential whose parent is the member's credential.
//! Revoking the member's key revokes the share and the guest's key with it.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::credentials;
use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::keys::{self, next_seq};
use crate::outbox::{NewMessage, Outbox};
use crate::secrets::{Purpose, Secrets};
use crate::sessions::SessionInfo;
use keyway_api::{IssuedCredential, ShareCreated};
use keyway_protocol::share_proof::{SHARE_PROOF_NONCE_LEN, ShareRequestProof};

/// How long a share link can be redeemed.
pub const SHARE_LINK_TTL_SECS: i64 = 7 * 24 * 3600;
/// Share messages the service sends for one member per day.
pub const MESSAGES_PER_SHARER_PER_DAY: i64 = 10;
/// Of those, texts to numbers no person in the service has.
pub const STRANGER_TEXTS_PER_SHARER_PER_DAY: i64 = 3;
/// Share messages one email address or number receives per day, from all members together.
pub const MESSAGES_PER_RECIPIENT_PER_DAY: i64 = 3;
const DAY: i64 = 24 * 3600;

/// What the member asks for.
#[derive(Debug, Clone)]
pub struct ShareRequest {
    /// The nonce of the member's device signature (verified): single-use.
    pub proof_nonce: [u8; SHARE_PROOF_NONCE_LEN],
    /// The member's grant to share from.
    pub grant_id: i64,
    /// Door ids to share (a subset of the key's doors); empty means all of them.
    pub door_ids: Vec<i64>,
    /// Start of the guest's window (default now).
    pub starts_at: Option<i64>,
    /// End of the guest's window.
    pub ends_at: i64,
    /// The guest's email or phone.
    pub guest: Identifier,
}

/// How the share link goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message {
    /// Not sent: the member passes the link on.
    None,
    /// To an address or number a person in the service has (or any email address).
    Known,
    /// A text to a number nobody in the service has.
    Stranger,
}

/// Decides whether the service sends the share message itself. The text is fixed (nothing
/// the member writes goes in it), and a member cannot make the service message anyone at
/// will: at most [`MESSAGES_PER_SHARER_PER_DAY`] a day per member, of which at most
/// [`STRANGER_TEXTS_PER_SHARER_PER_DAY`] texts to numbers unknown to the service, and at
/// most [`MESSAGES_PER_RECIPIENT_PER_DAY`] share messages a day to one recipient. Beyond
/// that the share is still made and its link is handed to the member.
fn message_for(tx: &Transaction<'_>, sharer: i64, guest: &Identifier, now: i64) -> Result<Message> {
    let (sent, strangers): (i64, i64) = tx.query_row(
        "SELECT COUNT(*), COALESCE(SUM(s.message = 'stranger'), 0) FROM shares s JOIN grants g ON g.id = s.grant_id
         WHERE g.person_id = ?1 AND s.created_at > ?2 AND s.message != 'none'",
        params![sharer, now - DAY],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let to_recipient: i64 = tx.query_row(
        "SELECT COUNT(*) FROM outbox_log WHERE recipient = ?1 AND kind = 'share' AND created_at > ?2",
        params![guest.as_str(), now - DAY],
        |r| r.get(0),
    )?;
    if sent >= MESSAGES_PER_SHARER_PER_DAY || to_recipient >= MESSAGES_PER_RECIPIENT_PER_DAY {
        return Ok(Message::None);
    }
    let stranger = match guest {
        Identifier::Email(_) => false,
        Identifier::Phone(p) => {
            let n: i64 = tx.query_row("SELECT COUNT(*) FROM people WHERE phone = ?1", [p], |r| r.get(0))?;
            n == 0
        }
    };
    if !stranger {
        return Ok(Message::Known);
    }
    Ok(if strangers >= STRANGER_TEXTS_PER_SHARER_PER_DAY { Message::None } else { Message::Stranger })
}

/// Checks a share request's device signature (docs/protocol.md §15.12) against the
/// session's device key; returns its nonce, which [`create`] refuses to see twice. `proof`
/// carries the request's fields (its nonce is replaced by the decoded one).
pub fn verify_device_proof(
    session: &SessionInfo,
    proof: ShareRequestProof<'_>,
    nonce_b64: &str,
    signature_b64: &str,
) -> Result<[u8; SHARE_PROOF_NONCE_LEN]> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let nonce: [u8; SHARE_PROOF_NONCE_LEN] =
        b64.decode(nonce_b64).ok().and_then(|n| n.try_into().ok()).ok_or(Error::DeviceProofInvalid)?;
    let signature = b64.decode(signature_b64).map_err(|_| Error::DeviceProofInvalid)?;
    let message = ShareRequestProof { nonce: &nonce, ..proof }.message();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &session.device_public_key)
        .verify(&message, &signature)
        .map_err(|_| Error::DeviceProofInvalid)?;
    Ok(nonce)
}

/// Creates a share and sends the link to the guest.
pub fn create(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    outbox: &Outbox,
    public_host: &str,
    session: &SessionInfo,
    req: &ShareRequest,
    now: i64,
) -> Result<ShareCreated> {
    let row: Option<(i64, bool, bool, Option<i64>, i64, i64)> = tx
        .query_row(
            "SELECT person_id, shareable, share_id IS NOT NULL, revoked_at, starts_at, expires_at FROM grants WHERE id = ?1",
            [req.grant_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    let Some((owner, shareable, is_guest, revoked, g_start, g_end)) = row else {
        return Err(Error::NotFound("grant"));
    };
    if owner != session.person_id {
        return Err(Error::NotFound("grant"));
    }
    if revoked.is_some() {
        return Err(Error::KeyRevoked);
    }
    if now >= g_end {
        return Err(Error::KeyExpired);
    }
    if !shareable || is_guest {
        return Err(Error::KeyNotShareable);
    }
    let starts_at = req.starts_at.unwrap_or(now).max(g_start);
    if req.ends_at <= starts_at {
        return Err(Error::field("ends_at", "must be after the start"));
    }
    if req.ends_at > g_end {
        return Err(Error::field("ends_at", "a guest's window must end before your own key does"));
    }
    let key_doors = keys::grant_door_ids(tx, req.grant_id)?;
    let doors = if req.door_ids.is_empty() { key_doors.clone() } else { req.door_ids.clone() };
    if doors.iter().any(|d| !key_doors.contains(d)) {
        return Err(Error::field("door_ids", "you can only share doors your key opens"));
    }
    let parent = match credentials::current_for_grant(tx, session, req.grant_id, now)? {
        Some(p) => p,
        None => {
            let issued = credentials::issue_one(tx, secrets, session, req.grant_id, now)?;
            hex::decode(&issued.credential_id).map_err(|_| Error::Internal("credential id".into()))?
        }
    };
    let replayed: bool =
        tx.query_row("SELECT EXISTS(SELECT 1 FROM shares WHERE proof_nonce = ?1)", [&req.proof_nonce[..]], |r| {
            r.get(0)
        })?;
    if replayed {
        return Err(Error::DeviceProofInvalid);
    }
    let message = message_for(tx, session.person_id, &req.guest, now)?;
    let token = secrets.new_token()?;
    tx.execute(
        "INSERT INTO shares (grant_id, parent_credential_id, guest_identifier, token_hash, starts_at, ends_at,
             link_expires_at, state, created_at, message, proof_nonce)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?10)",
        params![
            req.grant_id,
            parent,
            req.guest.as_str(),
            secrets.hash(Purpose::ShareToken, "", &token),
            starts_at,
            req.ends_at,
            (now + SHARE_LINK_TTL_SECS).min(req.ends_at),
            now,
            match message {
                Message::None => "none",
                Message::Known => "known",
                Message::Stranger => "stranger",
            },
            &req.proof_nonce[..],
        ],
    )?;
    let share_id = tx.last_insert_rowid();
    for d in &doors {
        tx.execute("INSERT OR IGNORE INTO share_doors (share_id, door_id) VALUES (?1, ?2)", params![share_id, d])?;
    }
    let link = format!("https://{public_host}/share/{token}");
    if message == Message::None {
        return Ok(ShareCreated {
            share_id,
            parent_credential_id: hex::encode(parent),
            starts_at,
            ends_at: req.ends_at,
            delivered: false,
            link: Some(link),
        });
    }
    let delivered = outbox.send(
        tx,
        NewMessage {
            channel: req.guest.channel(),
            to: req.guest.as_str().to_owned(),
            kind: "share",
            subject: "A key was shared with you".into(),
            body: format!("Someone shared a door key with you. Open this link in the Keyway app: {link}"),
            code: None,
            link: Some(link),
            useful_until: (now + SHARE_LINK_TTL_SECS).min(req.ends_at),
            invitation_id: None,
        },
        now,
    )?;
    Ok(ShareCreated {
        share_id,
        parent_credential_id: hex::encode(parent),
        starts_at,
        ends_at: req.ends_at,
        delivered,
        link: None,
    })
}

/// Redeems a share link for the signed-in guest and issues their guest credential.
pub fn redeem(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    session: &SessionInfo,
    token: &str,
    now: i64,
) -> Result<IssuedCredential> {
    let h = secrets.hash(Purpose::ShareToken, "", token.trim());
    let row: Option<(i64, i64, String, i64, i64, i64, String)> = tx
        .query_row(
            "SELECT id, grant_id, guest_identifier, starts_at, ends_at, link_expires_at, state FROM shares
             WHERE token_hash = ?1",
            [h],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .optional()?;
    let Some((share_id, grant_id, guest, starts_at, ends_at, link_expires_at, state)) = row else {
        return Err(Error::ShareNotFound);
    };
    match state.as_str() {
        "revoked" => return Err(Error::ShareRevoked),
        "redeemed" => return Err(Error::ShareAlreadyRedeemed),
        _ => {}
    }
    if now >= link_expires_at || now >= ends_at {
        return Err(Error::ShareExpired);
    }
    let (email, phone): (Option<String>, Option<String>) =
        tx.query_row("SELECT email, phone FROM people WHERE id = ?1", [session.person_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    if email.as_deref() != Some(guest.as_str()) && phone.as_deref() != Some(guest.as_str()) {
        return Err(Error::ShareWrongRecipient);
    }
    let (key_id, org_id): (i64, i64) =
        tx.query_row("SELECT key_id, org_id FROM grants WHERE id = ?1", [grant_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO grants (key_id, person_id, org_id, share_id, starts_at, expires_at, shareable, created_at, change_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8)",
        params![key_id, session.person_id, org_id, share_id, starts_at, ends_at, now, seq],
    )?;
    let guest_grant = tx.last_insert_rowid();
    tx.execute(
        "UPDATE shares SET state = 'redeemed', redeemed_at = ?2, guest_grant_id = ?3 WHERE id = ?1",
        params![share_id, now, guest_grant],
    )?;
    credentials::issue_one(tx, secrets, session, guest_grant, now)
}

/// The sharing member revokes a share (and the guest's key if redeemed).
pub fn revoke(tx: &Transaction<'_>, session: &SessionInfo, share_id: i64, now: i64) -> Result<()> {
    let row: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT g.person_id, s.guest_grant_id FROM shares s JOIN grants g ON g.id = s.grant_id WHERE s.id = ?1",
            [share_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((owner, guest_grant)) = row else {
        return Err(Error::ShareNotFound);
    };
    if owner != session.person_id {
        return Err(Error::ShareNotFound);
    }
    tx.execute("UPDATE shares SET state = 'revoked' WHERE id = ?1", [share_id])?;
    if let Some(g) = guest_grant {
        keys::revoke_grant(tx, g, "revoked_by_sharer", now)?;
    }
    Ok(())
}
