//! Waiting for something to happen, never for a fixed time: a test that needs an event
//! waits on the condition itself, with a deadline that only a broken run reaches. On a
//! loaded two-core machine an event can take far longer than usual; a fixed sleep then
//! fails (or, worse, passes without seeing anything).

use std::time::Duration;

/// How long any awaited condition may take before the test fails: generous, because a
/// loaded machine is slow, and reached only when the condition never comes.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Waits until `condition` holds, checking every few milliseconds, for up to [`DEADLINE`].
///
/// # Panics
/// When the deadline passes first, naming `what` was awaited.
pub async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "waited {DEADLINE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The next value from `events`, waiting up to [`DEADLINE`].
///
/// # Panics
/// When the deadline passes or the sender is gone, naming `what` was awaited.
pub async fn next<T>(what: &str, events: &mut tokio::sync::mpsc::UnboundedReceiver<T>) -> T {
    match tokio::time::timeout(DEADLINE, events.recv()).await {
        Ok(Some(value)) => value,
        Ok(None) => panic!("the events of {what} ended"),
        Err(_) => panic!("waited {DEADLINE:?} for {what}"),
    }
}
