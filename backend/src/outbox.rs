//! The outbox: every email and SMS the service sends (codes, invitation and share links).
//!
//! In development the "mail server" is this outbox: messages are kept in memory, where an
//! operator reads them (`GET /v1/admin/outbox`, `keyway-backend admin outbox`) and tests
//! and `keyway-sandbox demo` pick up codes and links. They are deliberately not written to
//! SQLite, because they carry live secrets; the database keeps only a log of what was sent
//! to whom and whether it was delivered. Addresses under the reserved `.invalid` domain
//! fail to deliver, so the "Send failed" invitation status can be exercised.

use std::sync::Mutex;

use rusqlite::{Transaction, params};

use crate::error::Result;
use keyway_api::{Channel, OutboxMessage};

/// How many messages the in-memory outbox keeps (oldest dropped first).
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
}

/// The in-memory development outbox.
#[derive(Debug, Default)]
pub struct Outbox {
    messages: Mutex<(u64, Vec<OutboxMessage>)>,
}

impl Outbox {
    /// Sends `msg`, logs the fact (not the content) in the database, and says whether it was delivered.
    pub fn send(&self, tx: &Transaction<'_>, msg: NewMessage, now: i64) -> Result<bool> {
        let delivered = !msg.to.ends_with(".invalid");
        tx.execute(
            "INSERT INTO outbox_log (channel, recipient, kind, created_at, delivered) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                match msg.channel {
                    Channel::Email => "email",
                    Channel::Sms => "sms",
                },
                msg.to,
                msg.kind,
                now,
                delivered
            ],
        )?;
        let mut guard = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        guard.0 += 1;
        let id = guard.0;
        guard.1.push(OutboxMessage {
            id,
            channel: msg.channel,
            to: msg.to,
            kind: msg.kind.to_owned(),
            subject: msg.subject,
            body: msg.body,
            code: msg.code,
            link: msg.link,
            sent_at: now,
            delivered,
        });
        if guard.1.len() > KEEP {
            let extra = guard.1.len() - KEEP;
            guard.1.drain(..extra);
        }
        Ok(delivered)
    }

    /// Drops every message to `to` (a member deleted their account: their address and
    /// what was sent to it go).
    pub fn forget(&self, to: &str) {
        let mut guard = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.retain(|m| m.to != to);
    }

    /// Messages, newest last, optionally only those to `to` (already normalised).
    pub fn list(&self, to: Option<&str>) -> Vec<OutboxMessage> {
        let guard = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.iter().filter(|m| to.is_none_or(|t| m.to == t)).cloned().collect()
    }
}
