//! The reference lock's cost per unlock, persistence included, for BENCHMARKS.md: a
//! workload to count instructions with callgrind (`scripts/bench-lock.sh`).
//!
//! ```text
//! lock_figures <standard|fast> <memory|file> <n>
//! ```
//! Requests are prepared on a twin of the lock (not measured); `lock_side_work` is the
//! measured part: the lock handling each request, saving its state after each change.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use keyway_lock::{FileStorage, Lock, MemoryStorage, Storage};
use keyway_protocol::lock_role::LockEvent;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fast = args.get(1).map(String::as_str) == Some("fast");
    let on_file = args.get(2).map(String::as_str) == Some("file");
    let n: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(20);

    let site = Site::new();
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut door = TestLock::new(&site);
    let mut ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();

    // Two twins of the same lock behave identically: one learns each nonce and ticket
    // while the requests are made, the other is measured.
    let mut shadow = door.fork();
    let dir = tempfile::tempdir().unwrap();
    let storage: Box<dyn Storage> = if on_file {
        Box::new(FileStorage::new(dir.path().join("lock.state")))
    } else {
        Box::new(MemoryStorage::new())
    };
    let mut measured = door.lock.fork(storage).unwrap();

    let mut requests = Vec::with_capacity(n);
    for i in 0..n {
        let nonce = shadow.advertisement().nonce;
        let request = if fast {
            let (awaiting, request) = phone.fast_request_seeded(DOOR, nonce, &ticket, Command::Unlock, i as u8);
            let output = shadow.deliver(&request);
            ticket = awaiting.on_response(&output.reply.unwrap()).unwrap().0.ticket.unwrap();
            request
        } else {
            let (_, request) = phone.standard_request(&shadow.target(), &key, keyway_protocol::Command::Unlock);
            shadow.deliver(&request);
            request
        };
        requests.push(request);
    }
    let granted = lock_side_work(&mut measured, &requests);
    assert_eq!(granted, n);
    println!("{} unlocks granted", granted);
}

/// The measured part: the lock's handling of each request, persistence included.
#[inline(never)]
fn lock_side_work(lock: &mut Lock, requests: &[Vec<u8>]) -> usize {
    requests.iter().filter(|request| matches!(lock.deliver(request).event, Some(LockEvent::Granted { .. }))).count()
}
