//! Silent pushes that wake a member's app when their keys or doors change (issue 18,
//! `push_`): each device registers the token its platform's push service gave the app;
//! triggers in the schema (v7) queue at most one waiting push per device in the same
//! transaction as the change; [`sender`] delivers them through APNs ([`apns`]) or FCM
//! ([`fcm`]), with back-off, and forgets tokens the service says are dead.
//!
//! A push carries no key, door or person: only "Keyway, version 1, reason". The app then
//! refreshes over the service's own HTTPS, so Apple and Google learn nothing but that a
//! change happened.

pub mod apns;
pub mod args;
pub mod fcm;
mod jwt;
pub mod sender;

use crate::error::{Error, Result};
use keyway_api::{PushPlatform, PushReason};
use rusqlite::{Transaction, params};

/// Longest token accepted (FCM registration tokens are about 160 characters; APNs device
/// tokens 64 hexadecimal digits; room is left for both to grow).
const TOKEN_MAX: usize = 4096;
/// Shortest token accepted.
const TOKEN_MIN: usize = 8;

/// Checks a token as the platform gives it: printable ASCII without spaces, 8 to 4,096
/// characters (APNs: hexadecimal only).
pub fn parse_token(platform: PushPlatform, raw: &str) -> Result<String> {
    let t = raw.trim();
    let printable = t.bytes().all(|b| b.is_ascii_graphic());
    let shape_ok = match platform {
        PushPlatform::Apns => t.bytes().all(|b| b.is_ascii_hexdigit()),
        PushPlatform::Fcm => printable,
    };
    if t.len() < TOKEN_MIN || t.len() > TOKEN_MAX || !printable || !shape_ok {
        return Err(Error::field("token", "not a push token for this platform"));
    }
    Ok(match platform {
        PushPlatform::Apns => t.to_ascii_lowercase(),
        PushPlatform::Fcm => t.to_owned(),
    })
}

/// Registers `token` for the session's device, replacing its earlier one. A token moves
/// to the newest session that registers it (a reinstalled app, another person signing in
/// on the same phone), so a push never wakes a device for someone who left it.
pub fn register(tx: &Transaction<'_>, session_id: i64, platform: PushPlatform, token: &str, now: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM push_tokens WHERE platform = ?1 AND token = ?2 AND session_id != ?3",
        params![platform.as_str(), token, session_id],
    )?;
    tx.execute(
        "INSERT INTO push_tokens (session_id, platform, token, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (session_id) DO UPDATE SET platform = excluded.platform, token = excluded.token,
           updated_at = excluded.updated_at",
        params![session_id, platform.as_str(), token, now],
    )?;
    Ok(())
}

/// Forgets the session's token and any push waiting for it.
pub fn forget(tx: &Transaction<'_>, session_id: i64) -> Result<()> {
    tx.execute("DELETE FROM push_queue WHERE session_id = ?1", [session_id])?;
    tx.execute("DELETE FROM push_tokens WHERE session_id = ?1", [session_id])?;
    Ok(())
}

/// One push due for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePush {
    /// The device's session.
    pub session_id: i64,
    /// Its push service.
    pub platform: PushPlatform,
    /// Its token.
    pub token: String,
    /// Why it is sent.
    pub reason: PushReason,
    /// Earlier failed attempts.
    pub attempts: u32,
}

/// Up to `limit` pushes due at `now`, for live sessions only (a signed-out device's waiting
/// push is dropped here).
pub fn due(tx: &Transaction<'_>, now: i64, limit: usize) -> Result<Vec<DuePush>> {
    tx.execute(
        "DELETE FROM push_queue WHERE session_id IN (
           SELECT q.session_id FROM push_queue q LEFT JOIN sessions s ON s.id = q.session_id
           LEFT JOIN push_tokens t ON t.session_id = q.session_id
           WHERE s.revoked_at IS NOT NULL OR t.session_id IS NULL)",
        [],
    )?;
    let mut stmt = tx.prepare_cached(
        "SELECT q.session_id, t.platform, t.token, q.reason, q.attempts FROM push_queue q
         JOIN push_tokens t ON t.session_id = q.session_id
         WHERE q.next_attempt_at <= ?1 ORDER BY q.next_attempt_at, q.session_id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit as i64], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?, r.get(4)?))
    })?;
    let mut due = Vec::new();
    for row in rows {
        let (session_id, platform, token, reason, attempts) = row?;
        let (Some(platform), Some(reason)) = (PushPlatform::from_word(&platform), PushReason::from_word(&reason))
        else {
            continue;
        };
        due.push(DuePush { session_id, platform, token, reason, attempts });
    }
    Ok(due)
}

/// The data a device receives for `reason`: APNs's whole body (the `aps` dictionary
/// asking for a background wake-up, Keyway's marker and the reason), or FCM's `data` map
/// (the marker and the reason). Nothing else: no key, door or person.
pub fn payload(platform: PushPlatform, reason: PushReason) -> serde_json::Value {
    use keyway_api::{PUSH_MARKER, PUSH_REASON, PUSH_VERSION};
    match platform {
        PushPlatform::Apns => serde_json::json!({
            "aps": { "content-available": 1 },
            PUSH_MARKER: PUSH_VERSION,
            PUSH_REASON: reason.as_str(),
        }),
        PushPlatform::Fcm => serde_json::json!({ PUSH_MARKER: PUSH_VERSION, PUSH_REASON: reason.as_str() }),
    }
}

/// Most attempts before a push is given up (the next change queues a new one).
pub const MAX_ATTEMPTS: u32 = 8;

/// Records the outcome of one delivery attempt.
pub fn record(tx: &Transaction<'_>, push: &DuePush, outcome: &Delivery, now: i64) -> Result<()> {
    match outcome {
        Delivery::Sent => {
            // Only if nothing newer was queued meanwhile (the reason may have changed).
            tx.execute(
                "DELETE FROM push_queue WHERE session_id = ?1 AND reason = ?2",
                params![push.session_id, push.reason.as_str()],
            )?;
        }
        Delivery::TokenGone => forget(tx, push.session_id)?,
        Delivery::Failed(reason) => {
            let attempts = push.attempts + 1;
            if attempts >= MAX_ATTEMPTS {
                tracing::warn!(session = push.session_id, %reason, "push given up");
                tx.execute("DELETE FROM push_queue WHERE session_id = ?1", [push.session_id])?;
            } else {
                // 2 s, 4 s, 8 s … about 4 minutes at the last.
                let wait = 1i64 << attempts;
                tx.execute(
                    "UPDATE push_queue SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE session_id = ?1",
                    params![push.session_id, attempts, now + wait, reason],
                )?;
            }
        }
    }
    Ok(())
}

/// What a push service answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted.
    Sent,
    /// The token is no longer valid (app uninstalled, token rotated): forget it.
    TokenGone,
    /// Not delivered this time (network, the service's error, throttling): try again later.
    /// A short reason for the log, never the token.
    Failed(String),
}
