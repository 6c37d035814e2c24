//! The fast-unlock ticket table: a bounded set of single-use resumption secrets handed
//! out after successful unlocks.
//!
//! - At most one live ticket per credential: issuing a new one deletes the older, so a
//!   member cannot mint several independent ticket chains to hand out.
//! - At most [`TICKETS_PER_HOLDER`] per holder ([`TicketHolder`]: the device key of a
//!   member credential, or the member credential a guest key was shared from): a holder
//!   at its quota loses its own oldest ticket, so one member's many credentials, or the
//!   guests they shared to, cannot flush everyone else's.
//! - At most [`TICKET_CAPACITY`] tickets; when full, the oldest ticket of the holder with
//!   the most tickets is evicted.
//! - A ticket lives [`TICKET_LIFETIME_SECS`] from its issue, however long the credential's
//!   window: each fast unlock issues the next ticket, so a key in regular use keeps working.
//!
//! Tickets are secrets: whoever holds one (and the phone's side of it) can open the door
//! with symmetric crypto only, until the credential behind it expires or is revoked. This
//! reference lock keeps them in its state file; a real lock keeps them in secure storage.

use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::TicketId;
use keyway_protocol::lock_role::{TicketEntry, TicketHolder};

/// How many tickets the lock keeps. A member whose ticket was evicted falls back to a
/// standard unlock and gets a new one.
pub const TICKET_CAPACITY: usize = 64;
/// How many tickets one holder keeps at most.
pub const TICKETS_PER_HOLDER: usize = 4;
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

    /// Stores a ticket issued at `issued`: replaces any ticket of the same credential,
    /// keeps its holder within [`TICKETS_PER_HOLDER`] and the table within
    /// [`TICKET_CAPACITY`].
    pub fn insert(&mut self, id: TicketId, entry: TicketEntry, issued: UnixSeconds) {
        self.entries.retain(|t| t.id != id && t.entry.credential != entry.credential);
        let holder = entry.holder;
        while self.held_by(holder) >= TICKETS_PER_HOLDER {
            self.evict_oldest_of(holder);
        }
        while self.entries.len() >= TICKET_CAPACITY {
            match self.heaviest_holder() {
                Some(heaviest) => self.evict_oldest_of(heaviest),
                None => break,
            }
        }
        self.entries.push(StoredTicket { id, entry, issued });
    }

    fn held_by(&self, holder: TicketHolder) -> usize {
        self.entries.iter().filter(|t| t.entry.holder == holder).count()
    }

    fn evict_oldest_of(&mut self, holder: TicketHolder) {
        if let Some(index) = self.entries.iter().position(|t| t.entry.holder == holder) {
            self.entries.remove(index);
        }
    }

    /// The holder with the most tickets; among equals, the one whose oldest ticket is oldest.
    fn heaviest_holder(&self) -> Option<TicketHolder> {
        let mut counts: std::collections::BTreeMap<TicketHolder, usize> = std::collections::BTreeMap::new();
        for ticket in &self.entries {
            *counts.entry(ticket.entry.holder).or_default() += 1;
        }
        let most = counts.values().copied().max()?;
        self.entries.iter().map(|t| t.entry.holder).find(|holder| counts.get(holder) == Some(&most))
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
