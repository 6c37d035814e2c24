//! The outbox: every email and SMS the service sends (codes, invitation and share links).
//!
//! Every message is a row of `outbox_log`, written in the same transaction as what caused
//! it (a code issued, an invitation made), so a message exists exactly when its cause does.
//!
//! - A channel with a real sender (SMTP for email, an SMS provider; see
//!   [`crate::delivery`]) gets the row `queued`, its content sealed under the server
//!   secret and bound to channel and recipient. The background sender
//!   ([`crate::delivery::queue`]) delivers it, retrying with back-off, and then wipes the
//!   sealed content. A restart picks up whatever is still queued.
//! - A channel without one (the default, development) is delivered at once to this
//!   in-memory development outbox, where an operator reads it (`GET /v1/admin/outbox`,
//!   `keyway-backend admin outbox`) and tests and `keyway demo` pick up codes and links.
//!   Those copies live only in memory: they carry live secrets.
//!
//! Addresses under the reserved `.invalid` domain fail at once (they can never receive
//! anything), so the "Send failed" invitation status can be exercised without a server.

use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Transaction, params};
use tokio::sync::Notify;

use crate::delivery::Content;
use crate::error::{Error, Result};
use crate::secrets::Secrets;
use keyway_api::{Channel, OutboxMessage};

/// How many development messages are kept in memory (oldest dropped first), and how many
/// rows the admin listing shows.
const KEEP: usize = 2000;

/// What to send.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Email or SMS.
    pub channel: Channel,
    /// Recipient.
    pub to: String,
    /// Kind label.
    pub kind: &'static str,
    /// Subject (emails).
    pub subject: String,
    /// Text.
    pub body: String,
    /// Code carried.
    pub code: Option<String>,
    /// Link carried.
    pub link: Option<String>,
    /// Unix seconds after which sending it is pointless (the code or link has expired).
    pub useful_until: i64,
    /// The invitation it carries: a final failure marks the membership "Send failed".
    pub invitation_id: Option<i64>,
}

/// The outbox: the durable queue's front door and the in-memory development channel.
#[derive(Debug)]
pub struct Outbox {
    memory: Mutex<Vec<(i64, Content)>>,
    secrets: Arc<Secrets>,
    real_email: bool,
    real_sms: bool,
    wake: Notify,
}

/// The text name of a channel, as stored.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "sms",
    }
}

/// What a queued row's sealed content is bound to.
pub fn seal_context(channel: &str, to: &str, kind: &str) -> String {
    format!("outbox\n{channel}\n{to}\n{kind}")
}

impl Outbox {
    /// An outbox sealing with `secrets`; `real_email` / `real_sms`: whether that channel
    /// has a real sender (its messages are queued) or goes to the development outbox.
    pub fn new(secrets: Arc<Secrets>, real_email: bool, real_sms: bool) -> Self {
        Self { memory: Mutex::new(Vec::new()), secrets, real_email, real_sms, wake: Notify::new() }
    }

    /// Sends `msg`: queues it (real sender) or delivers it to the development outbox, in
    /// `tx`. Says whether it is on its way (`false`: it failed at once).
    pub fn send(&self, tx: &Transaction<'_>, msg: NewMessage, now: i64) -> Result<bool> {
        let channel = channel_name(msg.channel);
        let content = Content { subject: msg.subject, body: msg.body, code: msg.code, link: msg.link };
        let real = match msg.channel {
            Channel::Email => self.real_email,
            Channel::Sms => self.real_sms,
        };
        if msg.to.ends_with(".invalid") {
            tx.execute(
                "INSERT INTO outbox_log (channel, recipient, kind, created_at, delivered, state, attempts, failure,
                     expires_at, invitation_id)
                 VALUES (?1, ?2, ?3, ?4, 0, 'failed', 1, 'the address cannot receive messages', ?5, ?6)",
                params![channel, msg.to, msg.kind, now, msg.useful_until, msg.invitation_id],
            )?;
            if !real {
                self.keep(tx.last_insert_rowid(), content);
            }
            return Ok(false);
        }
        if real {
            let plain = serde_json::to_vec(&content).map_err(|e| Error::Internal(format!("outbox content: {e}")))?;
            let sealed = self.secrets.seal_bound(&seal_context(channel, &msg.to, msg.kind), &plain)?;
            tx.execute(
                "INSERT INTO outbox_log (channel, recipient, kind, created_at, delivered, state, sealed, attempts,
                     next_attempt_at, expires_at, invitation_id)
                 VALUES (?1, ?2, ?3, ?4, 0, 'queued', ?5, 0, ?4, ?6, ?7)",
                params![channel, msg.to, msg.kind, now, sealed, msg.useful_until, msg.invitation_id],
            )?;
            // The sender waits on the database lock this transaction holds, so it sees the
            // row once it is committed (or not at all).
            self.wake.notify_one();
        } else {
            tx.execute(
                "INSERT INTO outbox_log (channel, recipient, kind, created_at, delivered, state, attempts, delivered_at,
                     expires_at, invitation_id)
                 VALUES (?1, ?2, ?3, ?4, 1, 'sent', 1, ?4, ?5, ?6)",
                params![channel, msg.to, msg.kind, now, msg.useful_until, msg.invitation_id],
            )?;
            self.keep(tx.last_insert_rowid(), content);
        }
        Ok(true)
    }

    /// Keeps a development copy of message `id`.
    pub(crate) fn keep(&self, id: i64, content: Content) {
        let mut guard = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        guard.push((id, content));
        if guard.len() > KEEP {
            let extra = guard.len() - KEEP;
            guard.drain(..extra);
        }
    }

    /// Waits until a message is queued (or returns at once if one was since the last wait).
    pub(crate) async fn queued(&self) {
        self.wake.notified().await;
    }

    /// The sealing keys.
    pub(crate) fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Drops the development copies of messages `ids` (a member deleted their account:
    /// what was sent to them goes).
    pub fn forget(&self, ids: &[i64]) {
        let mut guard = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        guard.retain(|(id, _)| !ids.contains(id));
    }

    /// Messages, newest last, optionally only those to `to` (already normalised): their
    /// state from the database, and their text when it went to the development outbox.
    /// Text a real sender delivered is not shown: it reached only its recipient.
    pub fn list(&self, conn: &Connection, to: Option<&str>) -> Result<Vec<OutboxMessage>> {
        let mut stmt = conn.prepare(
            "SELECT id, channel, recipient, kind, created_at, state, attempts, failure, delivered_at
             FROM outbox_log WHERE (?1 IS NULL OR recipient = ?1) AND recipient != ''
             ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![to, KEEP as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<i64>>(8)?,
            ))
        })?;
        let rows: Vec<_> = rows.collect::<rusqlite::Result<_>>()?;
        let memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(rows.len());
        for (id, channel, to, kind, created_at, state, attempts, failure, delivered_at) in rows.into_iter().rev() {
            // The newest copy wins: a rolled-back transaction may have left an older one.
            let content = memory.iter().rev().find(|(i, _)| *i == id).map(|(_, c)| c.clone());
            let (subject, body, code, link) = match content {
                Some(c) => (c.subject, c.body, c.code, c.link),
                None => (String::new(), String::new(), None, None),
            };
            out.push(OutboxMessage {
                id: u64::try_from(id).unwrap_or_default(),
                channel: if channel == "sms" { Channel::Sms } else { Channel::Email },
                to,
                kind,
                subject,
                body,
                code,
                link,
                sent_at: created_at,
                delivered: state == "sent",
                state,
                attempts: u32::try_from(attempts).unwrap_or_default(),
                failure,
                delivered_at,
            });
        }
        Ok(out)
    }
}

/// Forgets what the outbox holds for `address` (account deletion): the recipient is
/// blanked, content still queued is wiped and the message given up, and the development
/// copies go.
pub fn forget_recipient(tx: &Transaction<'_>, outbox: &Outbox, address: &str) -> Result<()> {
    let ids: Vec<i64> = {
        let mut stmt = tx.prepare("SELECT id FROM outbox_log WHERE recipient = ?1")?;
        let rows = stmt.query_map([address], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    tx.execute(
        "UPDATE outbox_log SET recipient = '', sealed = NULL,
             failure = CASE WHEN state = 'queued' THEN 'the recipient deleted their account' ELSE failure END,
             state = CASE WHEN state = 'queued' THEN 'failed' ELSE state END
         WHERE recipient = ?1",
        [address],
    )?;
    outbox.forget(&ids);
    Ok(())
}
