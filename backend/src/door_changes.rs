//! Wake-ups for waiting online links: every committed change to a door's row (a new
//! bundle version above all) signals that door, so a lock's long-poll answers at once
//! instead of waiting out its hold.
//!
//! The database's update hook collects the ids of the `doors` rows a transaction touched;
//! [`crate::db::Db`] hands them here only after the commit, so a woken poll always reads
//! the new version. A wake-up for a change that is not a new version is harmless: the poll
//! reads the version again and keeps waiting.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

/// One watch channel per door someone waits on.
#[derive(Debug, Default)]
pub struct DoorChanges {
    doors: Mutex<HashMap<i64, watch::Sender<u64>>>,
}

impl DoorChanges {
    /// A receiver that wakes at the door's next committed change (subscribe before reading
    /// the door, so that no change falls between the read and the wait).
    pub fn subscribe(&self, door_id: i64) -> watch::Receiver<u64> {
        let mut doors = self.doors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        doors.entry(door_id).or_insert_with(|| watch::channel(0).0).subscribe()
    }

    /// Signals each door in `door_ids` (after their transaction committed).
    pub fn notify(&self, door_ids: impl IntoIterator<Item = i64>) {
        let mut doors = self.doors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in door_ids {
            if let Some(sender) = doors.get(&id) {
                sender.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
        // Nobody waits on these any more.
        doors.retain(|_, sender| sender.receiver_count() > 0);
    }
}
