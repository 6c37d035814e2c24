//! Phone-side CPU per unlock: building the request (HPKE encapsulation and the device's
//! ECDSA signature for a standard unlock; HKDF and AES-GCM for a fast one) and opening the
//! lock's answer. The lock's work in between is not timed.

use super::scene::{lock_side, scene, target};
use super::stats::{median, us};
use std::time::Instant;

/// Median microseconds of the phone's work per standard and per fast unlock.
pub fn measure(n: usize) -> Result<(f64, f64), String> {
    let (phone, mut lock) = scene()?;
    let (mut standard, mut fast) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut ticket = None;
    for _ in 0..n {
        let target = target(&mut lock);
        let started = Instant::now();
        let (awaiting, request) = phone.standard_request(&target)?;
        let building = started.elapsed();
        let (_, out) = lock_side(&mut lock, None, &request)?;
        let reply = out.reply.ok_or("the lock did not answer")?;
        let started = Instant::now();
        let (answer, _) = awaiting.on_response(&reply).map_err(|e| format!("standard answer: {e:?}"))?;
        standard.push(us(building + started.elapsed()));
        ticket = answer.ticket;
    }
    let mut ticket = ticket.ok_or("the lock gave no ticket")?;
    for _ in 0..n {
        let target = target(&mut lock);
        let started = Instant::now();
        let (awaiting, request) = phone.fast_request(&target, &ticket)?;
        let building = started.elapsed();
        let (_, out) = lock_side(&mut lock, None, &request)?;
        let reply = out.reply.ok_or("the lock did not answer")?;
        let started = Instant::now();
        let (answer, _) = awaiting.on_response(&reply).map_err(|e| format!("fast answer: {e:?}"))?;
        fast.push(us(building + started.elapsed()));
        ticket = answer.ticket.ok_or("the lock gave no next ticket")?;
    }
    Ok((median(&standard), median(&fast)))
}
