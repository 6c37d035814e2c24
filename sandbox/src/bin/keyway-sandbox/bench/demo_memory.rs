//! Peak memory of `keyway-sandbox demo`: the demo runs as a child process and its peak resident
//! set is read from the kernel's accounting once it has exited.

use nix::sys::resource::{UsageWho, getrusage};
use std::process::{Command, Stdio};

/// Peak resident memory of one `keyway-sandbox demo`, in MiB.
pub fn measure() -> Result<f64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find keyway-sandbox itself: {e}"))?;
    let status = Command::new(exe)
        .arg("demo")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run the demo: {e}"))?;
    if !status.success() {
        return Err(format!("the demo failed ({status})"));
    }
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).map_err(|e| e.to_string())?;
    // Linux reports kibibytes.
    Ok(usage.max_rss() as f64 / 1024.0)
}
