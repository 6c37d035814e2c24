//! Cancelling a running unlock or door sync: a [`CancelToken`] is shared by the caller
//! (who may cancel) and the operation (which stops at its next wait). Cancelling is a
//! flag and a wake-up; it never blocks and never waits for the operation.

use std::sync::Arc;
use tokio::sync::watch;

/// A cancel flag shared by an operation and whoever may stop it. Clones share the flag.
#[derive(Debug, Clone)]
pub struct CancelToken {
    flag: Arc<watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> Self {
        Self { flag: Arc::new(watch::Sender::new(false)) }
    }

    /// Cancels: the operation stops at once. Cancelling twice, or after it finished, is harmless.
    pub fn cancel(&self) {
        self.flag.send_replace(true);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.flag.borrow()
    }

    /// Whether `other` is a clone of this token.
    pub fn same_as(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.flag, &other.flag)
    }

    /// Resolves once cancelled (at once if it already is).
    pub async fn cancelled(&self) {
        let mut rx = self.flag.subscribe();
        // The sender lives in `self`, so `wait_for` ends only by cancellation.
        let _ = rx.wait_for(|cancelled| *cancelled).await;
    }
}
