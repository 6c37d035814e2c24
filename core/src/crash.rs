//! Kill points for the crash-safety suite (`tests/tests/crash_safety.rs`).
//!
//! `crash_point!("name")` marks a place where a phone's app may be killed. Without the
//! `crash-points` feature it expands to nothing. With it, and only when the environment
//! variable `KEYWAY_CRASH_POINTS` is set (to anything), each hit prints
//! `crash-point <name>#<n>` on standard output (`n` counts hits of that name from 1).
//! When `KEYWAY_CRASH_AT` names that `<name>#<n>`, the process prints
//! `crash-halt <name>#<n>` instead and stops there for good, waiting for the parent to
//! kill it with SIGKILL: the kill is real and comes from outside, as the system's would.

#[cfg(feature = "crash-points")]
mod active {
    use std::collections::HashMap;
    use std::io::Write as _;
    use std::sync::{Mutex, OnceLock};

    struct Plan {
        target: Option<String>,
        hits: Mutex<HashMap<&'static str, u32>>,
    }

    fn plan() -> Option<&'static Plan> {
        static PLAN: OnceLock<Option<Plan>> = OnceLock::new();
        PLAN.get_or_init(|| {
            std::env::var_os("KEYWAY_CRASH_POINTS")
                .map(|_| Plan { target: std::env::var("KEYWAY_CRASH_AT").ok(), hits: Mutex::new(HashMap::new()) })
        })
        .as_ref()
    }

    /// Notes a hit of `name`; halts the process if it is the one to be killed at.
    pub fn reached(name: &'static str) {
        let Some(plan) = plan() else { return };
        let n = {
            let mut hits = plan.hits.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = hits.entry(name).or_insert(0);
            *n += 1;
            *n
        };
        let label = format!("{name}#{n}");
        let halt = plan.target.as_deref() == Some(label.as_str());
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{} {label}", if halt { "crash-halt" } else { "crash-point" });
        let _ = out.flush();
        drop(out);
        if halt {
            // Hold this thread (and, on a current-thread runtime, everything) until the kill.
            loop {
                std::thread::park();
            }
        }
    }
}

#[cfg(feature = "crash-points")]
pub use active::reached;

/// Marks a place where the app may be killed (see the module docs).
macro_rules! crash_point {
    ($name:literal) => {
        #[cfg(feature = "crash-points")]
        $crate::crash::reached($name);
    };
}
pub(crate) use crash_point;
