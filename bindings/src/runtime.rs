//! The one tokio runtime the facade owns. Every async export runs its work as a task
//! here and the foreign side awaits the task's handle, so the core's timers, HTTP
//! client and listeners always find the same runtime, whichever thread (or Kotlin
//! dispatcher, or Swift executor) made the call. A task keeps running if the caller
//! stops waiting (a cancelled coroutine): an unlock half-way through is better finished.

use crate::errors::{KeywayError, Result};
use std::future::Future;
use std::sync::OnceLock;
use tokio::runtime::Runtime;

static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

/// The facade's runtime, started on first use (two workers: the core's work is I/O).
pub(crate) fn runtime() -> Result<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("keyway")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| KeywayError::Internal { detail: format!("runtime failed to start: {e}") })
}

/// Runs one call of the core on the runtime and maps its error.
pub(crate) async fn run<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = keyway_core::Result<T>> + Send + 'static,
{
    match runtime()?.spawn(work).await {
        Ok(result) => result.map_err(KeywayError::from),
        Err(e) => Err(KeywayError::Internal {
            detail: if e.is_panic() { "the core panicked".into() } else { "the call was cancelled".into() },
        }),
    }
}
