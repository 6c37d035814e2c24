//! The fast-unlock ticket table: a bounded set of single-use resumption secrets handed
//! out after successful unlocks.
//!
//! - At most [`TICKET_CAPACITY`] tickets; the oldest is evicted first.
//! - At most one live ticket per credential: issuing a new one deletes the older, so a
//!   member cannot mint several independent ticket chains to hand out.
//! - A ticket lives [`TICKET_LIFETIME_SECS`] from its issue, however long the credential's
//!   window: each fast unlock issues the next ticket, so a key in regular use keeps working.
//!
//! Tickets are secrets: whoever holds one (and the phone's side of it) can open the door
//! with symmetric crypto only, until the credential behind it expires or is revoked. This
//! reference lock keeps them in its state file; a real lock keeps them in secure storage.

use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::TicketId;
use keyway_protocol::lock_role::TicketEntry;

/// How many tickets the lock keeps. A member whose ticket was evicted falls back to a
/// standard unlock and gets a new one.
pub const TICKET_CAPACITY: usize = 64;
/// How long a ticket is honoured after it was issued (24 hours).
pub const TICKET_LIFETIME_SECS: UnixSeconds = 24 * 3600;

/// One stored ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTicket {
    /// The lock's name for it.
    pub id: TicketId,
    /// The secret and the credential rules it carries.
    pub entry: TicketEntry,
    /// When the lock issued it (effective clock).
    pub issued: UnixSeconds,
}

impl StoredTicket {
    /// Whether the ticket may still be honoured at `now`: inside its own lifetime and
    /// its credential's window.
    pub fn is_live(&self, now: UnixSeconds) -> bool {
        now <= self.issued.saturating_add(TICKET_LIFETIME_SECS) && now <= self.entry.not_after
    }
}

/// The tickets the lock holds, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketTable {
    entries: Vec<StoredTicket>,
}

impl TicketTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a ticket issued at `issued`: replaces any ticket of the same credential and
    /// evicts the oldest when the table is full.
    pub fn insert(&mut self, id: TicketId, entry: TicketEntry, issued: UnixSeconds) {
        self.entries.retain(|t| t.id != id && t.entry.credential != entry.credential);
        while self.entries.len() >= TICKET_CAPACITY {
            self.entries.remove(0);
        }
        self.entries.push(StoredTicket { id, entry, issued });
    }

    /// Removes and returns a ticket, live or not: each is used at most once.
    pub fn take(&mut self, id: &TicketId) -> Option<StoredTicket> {
        let index = self.entries.iter().position(|t| t.id == *id)?;
        Some(self.entries.remove(index))
    }

    /// Drops tickets that can no longer be honoured at `now`.
    pub fn prune(&mut self, now: UnixSeconds) {
        self.entries.retain(|t| t.is_live(now));
    }

    /// Drops every ticket (fast unlock switched off).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Whether the table holds `id`.
    pub fn contains(&self, id: &TicketId) -> bool {
        self.entries.iter().any(|t| t.id == *id)
    }

    /// How many tickets the table holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The tickets, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &StoredTicket> {
        self.entries.iter()
    }
}
