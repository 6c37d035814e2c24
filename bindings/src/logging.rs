//! The core's log, handed to the app: `setLogSink(sink, level)` routes every `tracing`
//! event of the core and the facade to the shell (which passes it to os_log or Logcat).
//! The core never logs a secret (tokens, codes, keys, ticket secrets), so neither does
//! this; events of other crates (HTTP internals) are left out. The sink is called on
//! Keyway's callbacks thread, with no lock held.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};

/// How much to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// Failures.
    Error,
    /// Things that went wrong but were handled.
    Warn,
    /// What happened (the usual level).
    Info,
    /// Details for developers.
    Debug,
    /// Everything.
    Trace,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogEntry {
    /// Its level.
    pub level: LogLevel,
    /// The Rust module it came from (e.g. `keyway_core::ble::unlock`): a good os_log category.
    pub target: String,
    /// The message and its fields (`door=… error=…`).
    pub message: String,
}

/// Where the log goes: implemented by the shell.
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    /// One line, in order, on Keyway's callbacks thread (keep it quick: listeners wait behind it).
    fn log(&self, entry: LogEntry);
}

struct Sink {
    sink: Arc<dyn LogSink>,
    level: LogLevel,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Sends Keyway's log at `level` and above to `sink`, replacing any earlier sink. The
/// first call installs Keyway's logger as the process's `tracing` subscriber (if the
/// process already has one, the sink stays silent).
#[uniffi::export]
pub fn set_log_sink(sink: Arc<dyn LogSink>, level: LogLevel) {
    *SINK.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Sink { sink, level });
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(ForwardToSink);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    });
}

/// Stops sending the log anywhere.
#[uniffi::export]
pub fn clear_log_sink() {
    *SINK.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
}

fn level_of(level: &tracing::Level) -> LogLevel {
    match *level {
        tracing::Level::ERROR => LogLevel::Error,
        tracing::Level::WARN => LogLevel::Warn,
        tracing::Level::INFO => LogLevel::Info,
        tracing::Level::DEBUG => LogLevel::Debug,
        tracing::Level::TRACE => LogLevel::Trace,
    }
}

/// Only Keyway's own crates: the rest (hyper, rustls) is noise for an app's log.
fn is_keyway(target: &str) -> bool {
    target.starts_with("keyway_core") || target.starts_with("keyway_ffi")
}

struct ForwardToSink;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ForwardToSink {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !is_keyway(meta.target()) {
            return;
        }
        let level = level_of(meta.level());
        let sink = {
            let guard = SINK.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            match guard.as_ref().filter(|s| level <= s.level) {
                Some(s) => s.sink.clone(),
                None => return,
            }
        };
        let mut line = Line::default();
        event.record(&mut line);
        let entry = LogEntry { level, target: meta.target().to_owned(), message: line.0 };
        crate::callbacks::deliver(move || sink.log(entry));
    }
}

/// The message first, then each field as `name=value`.
#[derive(Default)]
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let fields = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}{fields}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<LogEntry>>);
    impl LogSink for Collect {
        fn log(&self, entry: LogEntry) {
            self.0.lock().unwrap().push(entry);
        }
    }

    #[test]
    fn core_events_reach_the_sink_at_or_above_its_level_with_their_fields() {
        let sink = Arc::new(Collect::default());
        set_log_sink(sink.clone(), LogLevel::Info);
        tracing::info!(target: "keyway_core::ble::unlock", door = "00000000000000aa", "link lost; retrying once");
        tracing::debug!(target: "keyway_core::ble::unlock", "too detailed");
        tracing::warn!(target: "hyper::client", "not ours");
        clear_log_sink();
        tracing::warn!(target: "keyway_core::refresh", "after clearing");
        // Delivered in order on the callbacks thread: a marker queued last arrives last.
        let (tx, rx) = std::sync::mpsc::channel();
        crate::callbacks::deliver(move || tx.send(()).unwrap());
        rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
        let entries = sink.0.lock().unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].level, LogLevel::Info);
        assert_eq!(entries[0].message, "link lost; retrying once door=00000000000000aa");
    }
}
