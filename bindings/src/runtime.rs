//! The one tokio runtime the facade owns. Every async export runs its work as a task
//! here and the foreign side awaits the task's handle, so the core's timers, HTTP
//! client and listeners always find the same runtime, whichever thread (or Kotlin
//! dispatcher, or Swift executor) made the call. A task keeps running if the caller
//! stops waiting (a cancelled coroutine); unlocks and door syncs stop through their
//! operation's `cancel()`.

use crate::Result;
use keyway_core::KeywayError;
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
        .map_err(|e| KeywayError::internal(format!("runtime failed to start: {e}")))
}

/// Runs one call of the core on the runtime.
pub(crate) async fn run<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    match runtime()?.spawn(work).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(KeywayError::internal("the core panicked")),
        Err(_) => Err(KeywayError::Cancelled),
    }
}
