//! What a test phone needs of a lock: what it advertises, and connections that carry
//! whole messages. The kit's [`super::MemoryLock`] is one; keyway-lock's `Lock` is another
//! (with keyway-lock's `testkit` feature).

use crate::Refusal;
use crate::lock_role::{LockEvent, LockOutput};
use crate::phone::LockTarget;

/// A lock under test, as a test phone reaches it.
pub trait TestDoor {
    /// One open connection.
    type Connection;

    /// What a phone learns from the lock's advertisement and its door record.
    fn target(&mut self) -> LockTarget;

    /// Opens a connection.
    fn connect(&mut self) -> Self::Connection;

    /// Delivers one whole message on `connection`; returns what the lock answered and saw.
    fn exchange(&mut self, connection: &mut Self::Connection, message: &[u8]) -> LockOutput;

    /// Closes `connection`.
    fn disconnect(&mut self, connection: Self::Connection);

    /// Delivers one whole message on a new connection, which is left as the lock left it.
    fn deliver(&mut self, message: &[u8]) -> LockOutput {
        let mut connection = self.connect();
        self.exchange(&mut connection, message)
    }
}

/// Whether the lock granted the request.
pub fn granted(output: &LockOutput) -> bool {
    matches!(output.event, Some(LockEvent::Granted { .. }))
}

/// Why the lock refused the request, if it did.
pub fn refusal(output: &LockOutput) -> Option<Refusal> {
    match output.event {
        Some(LockEvent::Refused { reason, .. }) => Some(reason),
        _ => None,
    }
}
