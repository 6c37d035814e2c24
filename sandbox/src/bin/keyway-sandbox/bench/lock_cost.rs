//! Lock-side instructions, counted by callgrind: `keyway-sandbox bench` runs itself under
//! `valgrind --tool=callgrind` as a worker that performs the exchanges, with counting
//! switched on only inside [`lock_side`](super::scene::lock_side). Instruction counts
//! repeat on a busy machine, unlike times, and stand in for a lock's microcontroller.

use super::scene::{lock_side, scene, target};
use std::process::Command;

/// What the worker does under callgrind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Work {
    /// Standard unlocks.
    Standard,
    /// Fast unlocks.
    Fast,
    /// Door-sync bundles of 10,000 revocations applied.
    Bundle,
}

/// Revocations in the bundle the lock applies.
pub const BUNDLE_REVOCATIONS: usize = 10_000;

/// Runs `n` exchanges of `work` (the worker's body; only the lock's part is counted).
pub fn work(work: Work, n: usize) -> Result<(), String> {
    let (phone, mut lock) = scene()?;
    let mut ticket = None;
    let mut unlock = |lock: &mut keyway_lock::Lock, counted: bool| -> Result<_, String> {
        let target = target(lock);
        let (awaiting, request) = match (&ticket, work) {
            (Some(t), Work::Fast) => phone.fast_request(&target, t)?,
            _ => phone.standard_request(&target)?,
        };
        let (id, out) = if counted {
            lock_side(lock, None, &request)?
        } else {
            let id = lock.connect(185).map_err(|e| e.to_string())?;
            (id, lock.on_message(id, &request).map_err(|e| e.to_string())?)
        };
        let (answer, channel) = awaiting.on_response(&out.reply.ok_or("no answer")?).map_err(|e| format!("{e:?}"))?;
        ticket = answer.ticket;
        Ok((id, channel))
    };
    match work {
        Work::Standard | Work::Fast => {
            unlock(&mut lock, false)?;
            for _ in 0..n {
                unlock(&mut lock, true)?;
            }
        }
        Work::Bundle => {
            for version in 1..=n {
                let bundle = phone.bundle(version as u32, BUNDLE_REVOCATIONS)?.to_bytes();
                let (id, mut channel) = unlock(&mut lock, false)?;
                let message = channel.deliver_bundle(&bundle).map_err(|e| format!("{e:?}"))?;
                let (_, out) = lock_side(&mut lock, Some(id), &message)?;
                let reply = channel.on_sync_reply(&out.reply.ok_or("no receipt")?).map_err(|e| format!("{e:?}"))?;
                if reply.applied.is_err() {
                    return Err(format!("the lock refused the bundle: {:?}", reply.applied));
                }
            }
        }
    }
    Ok(())
}

/// Instructions per exchange on the lock side, or why they could not be counted.
pub fn count(work: Work, n: usize) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find keyway-sandbox itself: {e}"))?;
    let out_file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let name = match work {
        Work::Standard => "standard",
        Work::Fast => "fast",
        Work::Bundle => "bundle",
    };
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--collect-atstart=no", "--toggle-collect=*lock_side*"])
        .arg(format!("--callgrind-out-file={}", out_file.path().display()))
        .arg(&exe)
        .args(["bench", "--worker", name, "--worker-count", &n.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("valgrind is not available ({e}); install Debian's valgrind"))?;
    if !status.success() {
        return Err(format!("the callgrind worker failed ({status})"));
    }
    let text = std::fs::read_to_string(out_file.path()).map_err(|e| e.to_string())?;
    let total: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or("callgrind wrote no total")?;
    Ok(total / n as u64)
}
