//! The background sender: works through the queued rows of `outbox_log`, oldest due
//! first, one attempt each, and records what happened.
//!
//! A message is tried at once, then again after the [`RetryPolicy`]'s back-off while the
//! failure is transient, and given up (`failed`, with a short reason) after the last
//! attempt, on a permanent failure, or once its code or link has expired. A given-up
//! invitation marks its membership "Send failed" (seed 000). Sent or given up, the sealed
//! content is wiped from the row.
//!
//! Delivery is at least once: a crash after the server accepted a message but before the
//! row says `sent` sends it again at the next start. Emails carry the same Message-ID on
//! every attempt, so a receiver can drop that copy.

use rusqlite::{OptionalExtension as _, params};

use super::{Content, Delivery, SendFailure};
use crate::AppState;
use crate::error::Result;
use crate::outbox::seal_context;

/// Rows taken per pass.
const BATCH: usize = 16;
/// Longest sleep between two looks at the queue (a message queued by another process, a
/// clock moved by a test).
const IDLE_SECS: i64 = 30;

/// One queued row as the sender reads it.
struct Due {
    id: i64,
    channel: String,
    to: String,
    kind: String,
    sealed: Option<Vec<u8>>,
    attempts: u32,
    expires_at: Option<i64>,
    invitation_id: Option<i64>,
}

/// Runs the sender for `state` until the task is dropped.
pub async fn run(state: AppState, delivery: Delivery) {
    loop {
        let taken = match pass(&state, &delivery).await {
            Ok(n) => n,
            Err(e) => {
                // A database in trouble: do not spin on a row that is due but cannot be read.
                tracing::warn!(error = %e, "outbox pass failed");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                0
            }
        };
        if taken == BATCH {
            continue;
        }
        let wait = match next_due(&state).await {
            Ok(Some(at)) => (at - state.now()).clamp(0, IDLE_SECS),
            Ok(None) => IDLE_SECS,
            Err(_) => IDLE_SECS,
        };
        if wait > 0 {
            let secs = u64::try_from(wait).unwrap_or(1);
            tokio::select! {
                () = state.outbox().queued() => {}
                () = tokio::time::sleep(std::time::Duration::from_secs(secs)) => {}
            }
        }
    }
}

/// When the next queued message is due, if any is.
async fn next_due(state: &AppState) -> Result<Option<i64>> {
    state
        .db()
        .with_conn(|c| {
            Ok(c.query_row("SELECT MIN(next_attempt_at) FROM outbox_log WHERE state = 'queued'", [], |r| r.get(0))?)
        })
        .await
}

/// One pass: every due row (up to [`BATCH`]) gets one attempt. Returns how many were taken.
async fn pass(state: &AppState, delivery: &Delivery) -> Result<usize> {
    let now = state.now();
    let due: Vec<Due> = state
        .db()
        .with_conn(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, channel, recipient, kind, sealed, attempts, expires_at, invitation_id FROM outbox_log
                 WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![now, BATCH as i64], |r| {
                Ok(Due {
                    id: r.get(0)?,
                    channel: r.get(1)?,
                    to: r.get(2)?,
                    kind: r.get(3)?,
                    sealed: r.get(4)?,
                    attempts: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(u32::MAX),
                    expires_at: r.get(6)?,
                    invitation_id: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await?;
    let taken = due.len();
    for row in due {
        let outcome = attempt(state, delivery, &row).await;
        record(state, delivery, &row, outcome).await?;
    }
    Ok(taken)
}

/// One delivery attempt of `row`.
async fn attempt(state: &AppState, delivery: &Delivery, row: &Due) -> Result<(), SendFailure> {
    if row.expires_at.is_some_and(|t| t <= state.now()) {
        return Err(SendFailure::permanent("expired before it could be delivered"));
    }
    let sealed = row.sealed.as_deref().ok_or_else(|| SendFailure::permanent("content missing"))?;
    let plain = state
        .outbox()
        .secrets()
        .open_bound(&seal_context(&row.channel, &row.to, &row.kind), sealed)
        .map_err(|_| SendFailure::permanent("content does not open with this server secret"))?;
    let content: Content =
        serde_json::from_slice(&plain).map_err(|_| SendFailure::permanent("content does not read back"))?;
    match row.channel.as_str() {
        "email" => match &delivery.smtp {
            Some(smtp) => smtp.send(row.id, &row.to, &content).await,
            None => {
                state.outbox().keep(row.id, content);
                Ok(())
            }
        },
        "sms" => match &delivery.sms {
            Some(sms) => sms.send(row.id, &row.to, &content).await,
            None => {
                state.outbox().keep(row.id, content);
                Ok(())
            }
        },
        _ => Err(SendFailure::permanent("unknown channel")),
    }
}

/// Writes the outcome of an attempt to `row`.
async fn record(state: &AppState, delivery: &Delivery, row: &Due, outcome: Result<(), SendFailure>) -> Result<()> {
    let (id, invitation_id, attempts) = (row.id, row.invitation_id, row.attempts.saturating_add(1));
    let retry = delivery.retry;
    match &outcome {
        Ok(()) => tracing::info!(outbox_id = id, kind = %row.kind, attempts, "message sent"),
        Err(f) => tracing::warn!(outbox_id = id, kind = %row.kind, attempts, reason = %f.reason, "message not sent"),
    }
    state
        .write(move |tx, _, now| {
            match outcome {
                Ok(()) => {
                    tx.execute(
                        "UPDATE outbox_log SET state = 'sent', delivered = 1, sealed = NULL, attempts = ?2,
                             delivered_at = ?3, failure = NULL, next_attempt_at = NULL
                         WHERE id = ?1 AND state = 'queued'",
                        params![id, attempts, now],
                    )?;
                }
                Err(f) if f.transient && attempts < retry.max_attempts => {
                    tx.execute(
                        "UPDATE outbox_log SET attempts = ?2, failure = ?3, next_attempt_at = ?4
                         WHERE id = ?1 AND state = 'queued'",
                        params![id, attempts, f.reason, now + retry.delay_after(attempts)],
                    )?;
                }
                Err(f) => {
                    let changed = tx.execute(
                        "UPDATE outbox_log SET state = 'failed', sealed = NULL, attempts = ?2, failure = ?3,
                             next_attempt_at = NULL
                         WHERE id = ?1 AND state = 'queued'",
                        params![id, attempts, f.reason],
                    )?;
                    if changed == 1
                        && let Some(invitation) = invitation_id
                    {
                        mark_invitation_failed(tx, invitation)?;
                    }
                }
            }
            Ok(())
        })
        .await
}

/// "Send failed" on the membership, when `invitation` is still its live link.
fn mark_invitation_failed(tx: &rusqlite::Transaction<'_>, invitation: i64) -> Result<()> {
    let membership: Option<i64> = tx
        .query_row("SELECT membership_id FROM invitations WHERE id = ?1 AND state = 'pending'", [invitation], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(m) = membership {
        tx.execute(
            "UPDATE memberships SET invitation_status = 'send_failed' WHERE id = ?1 AND invitation_status = 'invited'",
            [m],
        )?;
    }
    Ok(())
}
