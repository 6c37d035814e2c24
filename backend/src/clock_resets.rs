//! Clock resets (issue 16, `rtc_jump`): the trusted path that brings back a lock whose
//! clock ran ahead (every key looks expired, so no channel opens and no bundle can reach
//! it). The backend signs, with the site's issuer key, a reset naming one door, the nonce
//! the lock advertises now, and its own clock's time; a phone carries it to the lock in
//! the clear (docs/protocol.md §6.4).
//!
//! Who may ask: a person holding a live key for the door, or an administrator. Each reset
//! is kept (door, who, nonce, time) as the audit trail, and the same rows limit how often
//! they are signed: [`PER_DOOR_PER_HOUR`] per door whoever asks, [`PER_PERSON_PER_DAY`] per
//! person. The time signed is the service's clock, refused while that clock cannot be
//! believed (`signing_time.rs`): a reset must never carry a glitch to a lock.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{Transaction, params};

use crate::doors;
use crate::error::{Error, Result};
use crate::orgs;
use crate::secrets::Secrets;
use crate::signing;
use keyway_api::SignedClockReset;
use keyway_protocol::ids::LockNonce;

/// Resets signed for one door per hour, whoever asks.
pub const PER_DOOR_PER_HOUR: i64 = 5;
/// Resets one person may ask for per day, all doors together.
pub const PER_PERSON_PER_DAY: i64 = 10;

/// Who asks for a reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// A signed-in person (must hold a live key for the door).
    Person(i64),
    /// An operator with the admin token.
    Admin,
}

/// Parses the advertised nonce (16 hex digits).
pub fn parse_nonce(hex_nonce: &str) -> Result<LockNonce> {
    let bytes = hex::decode(hex_nonce.trim()).map_err(|_| Error::field("nonce", "must be 16 hex digits"))?;
    let arr: [u8; LockNonce::LEN] = bytes.try_into().map_err(|_| Error::field("nonce", "must be 16 hex digits"))?;
    Ok(LockNonce(arr))
}

/// Checks who asks and the limits, signs a reset of door `door_id`'s lock to `time` for
/// `nonce`, and records it. `now` is the service's clock, `time` the believed time to set.
pub fn sign(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    asker: Asker,
    door_id: i64,
    nonce: LockNonce,
    now: i64,
    time: i64,
) -> Result<SignedClockReset> {
    if let Asker::Person(person) = asker {
        // An unknown door and one the caller holds no live key for get the same answer.
        if !crate::door_sync::person_may_carry(tx, person, door_id, now)? {
            return Err(Error::NotFound("door"));
        }
    }
    let door = doors::get(tx, door_id)?;
    check_limits(tx, asker, door_id, now)?;
    let issuer = orgs::issuer_for_facility(tx, secrets, door.facility_id)?;
    let wire_time =
        u32::try_from(time).map_err(|_| Error::Internal("the clock is out of range for the wire".into()))?;
    // Signed where every issuer signature is: an outgoing or retired key signs no reset.
    let reset = signing::sign_clock_reset(&issuer.signer, doors::parse_lock_id(&door.lock_id)?, nonce.0, wire_time)?;
    let person = match asker {
        Asker::Person(p) => Some(p),
        Asker::Admin => None,
    };
    tx.execute(
        "INSERT INTO clock_resets (door_id, person_id, by_admin, nonce, signed_time, asked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![door_id, person, asker == Asker::Admin, nonce.0.to_vec(), time, now],
    )?;
    tracing::info!(door_id, by_admin = asker == Asker::Admin, time, "clock reset signed");
    Ok(SignedClockReset { door_id, lock_id: door.lock_id, time, reset: URL_SAFE_NO_PAD.encode(reset) })
}

/// Refuses with `rate_limited` (and when to ask again) past a limit.
fn check_limits(tx: &Transaction<'_>, asker: Asker, door_id: i64, now: i64) -> Result<()> {
    let window_start = |secs: i64| now - secs;
    let oldest_in = |sql: &str, id: i64, secs: i64, limit: i64| -> Result<Option<i64>> {
        let (count, oldest): (i64, Option<i64>) =
            tx.query_row(sql, params![id, window_start(secs)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((count >= limit).then_some(oldest.unwrap_or(now) + secs))
    };
    if let Some(retry_at) = oldest_in(
        "SELECT COUNT(*), MIN(asked_at) FROM clock_resets WHERE door_id = ?1 AND asked_at > ?2",
        door_id,
        3600,
        PER_DOOR_PER_HOUR,
    )? {
        tracing::warn!(door_id, "clock resets for a door past their limit");
        return Err(Error::RateLimited { retry_at });
    }
    if let Asker::Person(person) = asker
        && let Some(retry_at) = oldest_in(
            "SELECT COUNT(*), MIN(asked_at) FROM clock_resets WHERE person_id = ?1 AND asked_at > ?2",
            person,
            86_400,
            PER_PERSON_PER_DAY,
        )?
    {
        tracing::warn!(person_id = person, "clock resets asked by a person past their limit");
        return Err(Error::RateLimited { retry_at });
    }
    Ok(())
}

/// One signed reset, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetRecord {
    /// The person who asked; `None` for an administrator (or a person since deleted).
    pub person_id: Option<i64>,
    /// Asked with the admin token.
    pub by_admin: bool,
    /// The time the reset sets the lock to.
    pub signed_time: i64,
    /// When it was signed.
    pub asked_at: i64,
}

/// The resets signed for a door, newest first.
pub fn history(tx: &Transaction<'_>, door_id: i64) -> Result<Vec<ResetRecord>> {
    let mut stmt = tx.prepare(
        "SELECT person_id, by_admin, signed_time, asked_at FROM clock_resets WHERE door_id = ?1 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([door_id], |r| {
        Ok(ResetRecord { person_id: r.get(0)?, by_admin: r.get(1)?, signed_time: r.get(2)?, asked_at: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
