//! A door-sync bundle carrying 10,000 revocations: its size on the wire and in ATT
//! packets, and the lock's time to verify and apply it (median; the instruction count
//! comes from [`lock_cost`](super::lock_cost)).

use super::lock_cost::BUNDLE_REVOCATIONS;
use super::scene::{lock_side, scene, target};
use super::stats::{median, ms};
use keyway_protocol::framing::frame_count;
use std::time::Instant;

/// Bundle bytes, ATT packets at MTU 185 and 23, and median apply milliseconds over `rounds`.
pub fn measure(rounds: usize) -> Result<(usize, usize, usize, f64), String> {
    let (phone, mut lock) = scene()?;
    let mut applies = Vec::with_capacity(rounds);
    let mut size = 0;
    for version in 1..=rounds as u32 {
        let bundle = phone.bundle(version, BUNDLE_REVOCATIONS)?.to_bytes();
        size = bundle.len();
        let target = target(&mut lock);
        let (awaiting, request) = phone.standard_request(&target)?;
        let (id, out) = lock_side(&mut lock, None, &request)?;
        let (_, mut channel) = awaiting.on_response(&out.reply.ok_or("no answer")?).map_err(|e| format!("{e:?}"))?;
        let message = channel.deliver_bundle(&bundle).map_err(|e| format!("{e:?}"))?;
        let started = Instant::now();
        let (_, out) = lock_side(&mut lock, Some(id), &message)?;
        applies.push(ms(started.elapsed()));
        let reply = channel.on_sync_reply(&out.reply.ok_or("no receipt")?).map_err(|e| format!("{e:?}"))?;
        reply.applied.map_err(|r| format!("the lock refused the bundle: {r:?}"))?;
    }
    // Every round's bundle was applied (the lock runs the last version) and the lock
    // holds exactly the revocations the bundles carried.
    if lock.bundle_version() != rounds as u32 {
        return Err(format!("the lock runs bundle version {}, not {rounds}", lock.bundle_version()));
    }
    if lock.revocation_count() != BUNDLE_REVOCATIONS {
        return Err(format!("the lock holds {} revocations, not {BUNDLE_REVOCATIONS}", lock.revocation_count()));
    }
    Ok((size, frame_count(size, 185), frame_count(size, 23), median(&applies)))
}
