//! One-time sign-in codes: 6 digits, 10 minutes, single use, 5 guesses, resend cooldown,
//! per-identifier throttling, stored as keyed hashes and compared in constant time.
//!
//! Unknown identifiers take the same path as known ones — a code is generated, hashed and
//! stored, and the same answer is returned — but nothing is delivered and no guess can
//! succeed, so the response and the work done do not tell who has an account.
//! The failure count lives on the identifier, not on the code: a resend does not reset it.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::outbox::{NewMessage, Outbox};
use crate::secrets::{Purpose, Secrets, same};

/// How long a code works.
pub const CODE_TTL_SECS: i64 = 600;
/// Wrong guesses allowed before sign-in locks.
pub const MAX_FAILURES: i64 = 5;
/// How long sign-in stays locked after the last allowed wrong guess.
pub const LOCK_SECS: i64 = 15 * 60;
/// Minimum time between two codes to the same identifier.
pub const RESEND_COOLDOWN_SECS: i64 = 30;
/// Throttle window for sends to one identifier.
pub const SEND_WINDOW_SECS: i64 = 3600;
/// Codes allowed per identifier per window.
pub const SENDS_PER_WINDOW: i64 = 5;

/// What the caller learns after asking for a code (identical for known and unknown identifiers).
#[derive(Debug, Clone, Copy)]
pub struct CodeSent {
    /// Unix seconds when the code stops working.
    pub expires_at: i64,
    /// Unix seconds when another code may be asked for.
    pub resend_after: i64,
}

struct Row {
    code_hash: Vec<u8>,
    code_expires_at: i64,
    code_used: bool,
    failures: i64,
    locked_until: i64,
    last_sent_at: i64,
    window_start: i64,
    window_count: i64,
    deliverable: bool,
}

fn load(tx: &Transaction<'_>, ident: &str) -> Result<Option<Row>> {
    Ok(tx
        .query_row(
            "SELECT code_hash, code_expires_at, code_used, failures, locked_until, last_sent_at,
                    window_start, window_count, deliverable
             FROM otp_challenges WHERE identifier = ?1",
            [ident],
            |r| {
                Ok(Row {
                    code_hash: r.get(0)?,
                    code_expires_at: r.get(1)?,
                    code_used: r.get(2)?,
                    failures: r.get(3)?,
                    locked_until: r.get(4)?,
                    last_sent_at: r.get(5)?,
                    window_start: r.get(6)?,
                    window_count: r.get(7)?,
                    deliverable: r.get(8)?,
                })
            },
        )
        .optional()?)
}

/// Whether anyone could legitimately sign in with `ident`: a person, or a pending invitation or share.
fn is_known(tx: &Transaction<'_>, ident: &Identifier) -> Result<bool> {
    let n: i64 = tx.query_row(
        "SELECT (SELECT COUNT(*) FROM people WHERE email = ?1 OR phone = ?1)
              + (SELECT COUNT(*) FROM invitations WHERE email = ?1 AND state = 'pending')
              + (SELECT COUNT(*) FROM shares WHERE guest_identifier = ?1 AND state = 'pending')",
        [ident.as_str()],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Issues a code to `ident` and delivers it if the identifier is known.
pub fn send_code(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    outbox: &Outbox,
    ident: &Identifier,
    now: i64,
) -> Result<CodeSent> {
    let key = ident.as_str();
    let prev = load(tx, key)?;
    let (mut failures, mut window_start, mut window_count) = (0, now, 0);
    if let Some(p) = &prev {
        failures = p.failures;
        if p.locked_until > now {
            return Err(Error::TooManyAttempts { retry_at: p.locked_until });
        }
        if p.locked_until != 0 {
            // The lock has run out: start counting afresh.
            failures = 0;
        }
        if now < p.last_sent_at + RESEND_COOLDOWN_SECS {
            return Err(Error::ResendTooSoon { retry_at: p.last_sent_at + RESEND_COOLDOWN_SECS });
        }
        if now < p.window_start + SEND_WINDOW_SECS {
            window_start = p.window_start;
            window_count = p.window_count;
        }
        if window_count >= SENDS_PER_WINDOW {
            return Err(Error::RateLimited { retry_at: window_start + SEND_WINDOW_SECS });
        }
    }
    let known = is_known(tx, ident)?;
    let code = secrets.new_code()?;
    let hash = secrets.hash(Purpose::OtpCode, key, &code);
    tx.execute(
        "INSERT INTO otp_challenges (identifier, code_hash, code_expires_at, code_used, failures,
             locked_until, last_sent_at, window_start, window_count, deliverable)
         VALUES (?1, ?2, ?3, 0, ?4, 0, ?5, ?6, ?7, ?8)
         ON CONFLICT (identifier) DO UPDATE SET code_hash = ?2, code_expires_at = ?3, code_used = 0,
             failures = ?4, locked_until = 0, last_sent_at = ?5, window_start = ?6,
             window_count = ?7, deliverable = ?8",
        params![key, hash, now + CODE_TTL_SECS, failures, now, window_start, window_count + 1, known],
    )?;
    if known {
        let body = format!("Your Keyway sign-in code is {code}. It works for 10 minutes. Never share it.");
        outbox.send(
            tx,
            NewMessage {
                channel: ident.channel(),
                to: key.to_owned(),
                kind: "sign_in_code",
                subject: "Your Keyway sign-in code".into(),
                body,
                code: Some(code),
                link: None,
            },
            now,
        )?;
    }
    Ok(CodeSent { expires_at: now + CODE_TTL_SECS, resend_after: now + RESEND_COOLDOWN_SECS })
}

/// Checks a guess. A wrong guess is recorded, so call this in a transaction that commits on error.
pub fn check_code(tx: &Transaction<'_>, secrets: &Secrets, ident: &Identifier, code: &str, now: i64) -> Result<()> {
    let key = ident.as_str();
    let Some(row) = load(tx, key)? else {
        return Err(Error::CodeExpired);
    };
    if row.locked_until > now {
        return Err(Error::TooManyAttempts { retry_at: row.locked_until });
    }
    let failures = if row.locked_until != 0 { 0 } else { row.failures };
    if row.code_used || now >= row.code_expires_at {
        return Err(Error::CodeExpired);
    }
    let guess = secrets.hash(Purpose::OtpCode, key, code.trim());
    let matches = same(&guess, &row.code_hash);
    if matches && row.deliverable {
        tx.execute(
            "UPDATE otp_challenges SET code_used = 1, failures = 0, locked_until = 0 WHERE identifier = ?1",
            [key],
        )?;
        return Ok(());
    }
    let failures = failures + 1;
    let locked_until = if failures >= MAX_FAILURES { now + LOCK_SECS } else { 0 };
    tx.execute(
        "UPDATE otp_challenges SET failures = ?2, locked_until = ?3 WHERE identifier = ?1",
        params![key, failures, locked_until],
    )?;
    Err(Error::CodeWrong { attempts_left: u32::try_from(MAX_FAILURES - failures).unwrap_or(0) })
}
