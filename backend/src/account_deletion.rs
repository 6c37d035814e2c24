//! A member deletes their own account (an App Store requirement).
//!
//! Every session and every key ends (guests they shared with lose theirs, as when an
//! administrator revokes), pending invitations are cancelled, and the personal data is
//! forgotten: names, email, phone, card, the addresses in the send log, the one-time-code
//! rows, the in-memory outbox's messages. The person's row stays with none of that, so the
//! doors' history — credentials and audit events — keeps pointing at a pseudonymous id.
//!
//! An access token alone is not enough: the request carries a signature by the device key
//! the session was opened with, over `keyway_api::delete_account_message`, as sharing does
//! (docs/protocol.md §15.12).

use base64::Engine as _;
use rusqlite::{Transaction, params};

use crate::error::{Error, Result};
use crate::keys;
use crate::outbox::Outbox;
use crate::sessions::{self, SessionInfo};
use keyway_api::{DeviceProof, delete_account_message};

/// The revoke reason the app and the admin lists see.
pub const REASON: &str = "account_deleted";

/// Checks the device signature over the deletion request of the session's person.
pub fn verify_proof(session: &SessionInfo, proof: &DeviceProof) -> Result<()> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let nonce = b64.decode(&proof.nonce).map_err(|_| Error::DeviceProofInvalid)?;
    if nonce.len() != 16 {
        return Err(Error::DeviceProofInvalid);
    }
    let signature = b64.decode(&proof.signature).map_err(|_| Error::DeviceProofInvalid)?;
    let message = delete_account_message(session.person_id, &nonce);
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &session.device_public_key)
        .verify(&message, &signature)
        .map_err(|_| Error::DeviceProofInvalid)
}

/// Deletes the session's person: ends access and sessions, forgets personal data.
pub fn delete(tx: &Transaction<'_>, outbox: &Outbox, session: &SessionInfo, now: i64) -> Result<()> {
    let person = session.person_id;
    let (email, phone): (Option<String>, Option<String>) =
        tx.query_row("SELECT email, phone FROM people WHERE id = ?1", [person], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // Keys, everywhere (their guests' keys cascade).
    let grants: Vec<i64> = {
        let mut stmt = tx.prepare("SELECT id FROM grants WHERE person_id = ?1 AND revoked_at IS NULL")?;
        let rows = stmt.query_map([person], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for g in grants {
        keys::revoke_grant(tx, g, REASON, now)?;
    }
    // Invitations: pending ones die; none keeps the address.
    tx.execute(
        "UPDATE invitations SET state = 'cancelled', finished_at = ?2
         WHERE state = 'pending' AND membership_id IN (SELECT id FROM memberships WHERE person_id = ?1)",
        params![person, now],
    )?;
    tx.execute(
        "UPDATE invitations SET email = '' WHERE membership_id IN (SELECT id FROM memberships WHERE person_id = ?1)",
        [person],
    )?;
    tx.execute(
        "UPDATE memberships SET deleted_at = COALESCE(deleted_at, ?2), invited_by = NULL WHERE person_id = ?1",
        params![person, now],
    )?;
    // Sessions: every device, this one included.
    let sessions: Vec<i64> = {
        let mut stmt = tx.prepare("SELECT id FROM sessions WHERE person_id = ?1 AND revoked_at IS NULL")?;
        let rows = stmt.query_map([person], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for s in sessions {
        sessions::revoke(tx, s, REASON, now)?;
    }
    // Whatever else holds the addresses.
    for address in email.iter().chain(phone.iter()) {
        tx.execute("UPDATE shares SET guest_identifier = '' WHERE guest_identifier = ?1", [address])?;
        crate::outbox::forget_recipient(tx, outbox, address)?;
        tx.execute("DELETE FROM otp_codes WHERE identifier = ?1", [address])?;
        tx.execute("DELETE FROM otp_limits WHERE scope = 'identifier' AND subject = ?1", [address])?;
        tx.execute(
            "DELETE FROM otp_limits WHERE scope = 'pair' AND substr(subject, 1, length(?1)) = ?1",
            [format!("{address}\n")],
        )?;
    }
    tx.execute(
        "UPDATE people SET email = NULL, phone = NULL, name = NULL, first_name = NULL, last_name = NULL,
             card_id = NULL, card_surface_id = NULL, app_adoption = 'deleted', deleted_at = ?2
         WHERE id = ?1",
        params![person, now],
    )?;
    Ok(())
}
