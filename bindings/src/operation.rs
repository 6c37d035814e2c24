//! A running unlock or door sync, as the handle the app holds: its result, awaited as
//! often as wanted, and `cancel()`. The work is a task on the facade's runtime; the
//! handle only shares its cancel flag and its result.

use crate::Result;
use crate::runtime::runtime;
use keyway_core::KeywayError;
use keyway_core::operation::CancelToken;
use std::future::Future;
use tokio::sync::watch;

/// The shared half of an operation handle.
pub(crate) struct Running<T> {
    cancel: CancelToken,
    result: watch::Receiver<Option<Result<T>>>,
}

impl<T: Clone + Send + Sync + 'static> Running<T> {
    /// Starts `work` (given the cancel flag) on the runtime.
    pub(crate) fn start<F>(work: impl FnOnce(CancelToken) -> F) -> Self
    where
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let cancel = CancelToken::new();
        let (tx, result) = watch::channel(None);
        let future = work(cancel.clone());
        match runtime() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let outcome = future.await;
                    tx.send_replace(Some(outcome));
                });
            }
            Err(e) => {
                tx.send_replace(Some(Err(e)));
            }
        }
        Self { cancel, result }
    }

    /// Stops the operation at once; its result becomes `Cancelled` (unless it had finished).
    pub(crate) fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits for the result.
    pub(crate) async fn result(&self) -> Result<T> {
        let mut rx = self.result.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(done) => done.clone().unwrap_or(Err(KeywayError::Cancelled)),
            // The task ended without a result: it was torn down with the runtime.
            Err(_) => Err(KeywayError::Cancelled),
        }
    }
}
