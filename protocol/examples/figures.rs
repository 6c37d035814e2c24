//! Figures for BENCHMARKS.md: message sizes and ATT packet counts of both unlock paths,
//! and a lock-side workload to count instructions with callgrind.
//!
//! ```text
//! cargo run --release -p keyway-protocol --features testkit --example figures -- sizes
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*lock_side_work*' \
//!     target/release/examples/figures standard 20
//! ```
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use keyway_protocol::Command;
use keyway_protocol::framing::frame_count;
use keyway_protocol::lock_role::LockEvent;

struct Exchange {
    lock: MemoryLock,
    requests: Vec<Vec<u8>>,
}

/// Prepares `n` requests (phone side, not measured), each valid for the lock state it meets.
fn prepare(fast: bool, n: usize) -> Exchange {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let mut ticket = phone.unlock(&mut lock, &credential).ticket.unwrap();
    let mut requests = Vec::with_capacity(n);
    // Each request must meet the lock in the state the previous one left: run a shadow
    // lock forward (a clone) to learn each nonce and the ticket each fast unlock returns.
    let mut shadow = lock.clone();
    for _ in 0..n {
        let request = if fast {
            let (awaiting, request) = phone.fast_request(shadow.door, shadow.nonce, &ticket, Command::Unlock);
            let out = shadow.deliver(&request);
            ticket = awaiting.on_response(&out.reply.unwrap()).unwrap().0.ticket.unwrap();
            request
        } else {
            let (_, request) = phone.standard_request(&shadow.target(), &credential, Command::Unlock);
            shadow.deliver(&request);
            request
        };
        requests.push(request);
    }
    Exchange { lock, requests }
}

/// The measured part: only the lock's processing of each request.
#[inline(never)]
fn lock_side_work(lock: &mut MemoryLock, requests: &[Vec<u8>]) -> usize {
    requests
        .iter()
        .map(|r| {
            let out = lock.deliver(r);
            assert!(matches!(out.event, Some(LockEvent::Granted { .. })));
            out.reply.map_or(0, |r| r.len())
        })
        .sum()
}

fn sizes() {
    let mut standard = prepare(false, 1);
    let mut fast = prepare(true, 1);
    let std_request = standard.requests[0].clone();
    let std_response = standard.lock.deliver(&std_request).reply.unwrap();
    let fast_request = fast.requests[0].clone();
    let fast_response = fast.lock.deliver(&fast_request).reply.unwrap();
    let issuer = issuer();
    let credential = credential_for(&issuer, &TestPhone::new(), &[DOOR], 1);
    println!("credential (one door): {} bytes", credential.to_bytes().len());
    println!(
        "| path | phone → lock | lock → phone | ATT packets at MTU 23 | 185 | 247 | round trips after connection |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, req, resp) in [("standard", &std_request, &std_response), ("fast", &fast_request, &fast_response)] {
        let packets = |mtu| format!("{} + {}", frame_count(req.len(), mtu), frame_count(resp.len(), mtu));
        println!(
            "| {name} | {} B | {} B | {} | {} | {} | 1 |",
            req.len(),
            resp.len(),
            packets(23),
            packets(185),
            packets(247)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("sizes") => sizes(),
        Some(path @ ("standard" | "fast")) => {
            let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
            let mut exchange = prepare(path == "fast", n);
            let bytes = lock_side_work(&mut exchange.lock, &exchange.requests);
            println!("{path}: {n} unlocks, {bytes} reply bytes");
        }
        _ => eprintln!("usage: figures sizes | standard N | fast N"),
    }
}
