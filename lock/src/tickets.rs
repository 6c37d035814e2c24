//! The fast-unlock ticket table: a bounded set of single-use resumption secrets handed
//! out after successful unlocks, oldest evicted first.
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

/// The tickets the lock holds, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketTable {
    entries: Vec<(TicketId, TicketEntry)>,
}

impl TicketTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a ticket, evicting the oldest when the table is full.
    pub fn insert(&mut self, id: TicketId, entry: TicketEntry) {
        self.entries.retain(|(existing, _)| *existing != id);
        while self.entries.len() >= TICKET_CAPACITY {
            self.entries.remove(0);
        }
        self.entries.push((id, entry));
    }

    /// Removes and returns a ticket: each is used at most once.
    pub fn take(&mut self, id: &TicketId) -> Option<TicketEntry> {
        let index = self.entries.iter().position(|(existing, _)| existing == id)?;
        Some(self.entries.remove(index).1)
    }

    /// Drops tickets whose credential has expired by `now`: they can never be honoured.
    pub fn prune(&mut self, now: UnixSeconds) {
        self.entries.retain(|(_, entry)| entry.not_after >= now);
    }

    /// Whether the table holds `id`.
    pub fn contains(&self, id: &TicketId) -> bool {
        self.entries.iter().any(|(existing, _)| existing == id)
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
    pub fn iter(&self) -> impl Iterator<Item = &(TicketId, TicketEntry)> {
        self.entries.iter()
    }
}
