//! The handshake mutation campaign: valid standard and fast handshakes and door-sync
//! messages are built once per round by the real phone role, then bit-flipped, truncated,
//! extended, downgraded, spliced, replayed, reordered and reflected, and each mutant is
//! delivered to a twin ([`keyway_lock::Lock::fork`]) of a reference lock that accepts the
//! untouched message. Every mutant is refused: the door never opens and no bundle applies.
//!
//! Size: `KEYWAY_MUTATIONS` (default 3,000, what the test command runs). The full campaign:
//! `KEYWAY_MUTATIONS=100000 cargo test -p keyway-lock --test handshake_mutations -- --nocapture`.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::Lock;
use keyway_protocol::Command;
use keyway_protocol::bundle::Bundle;
use keyway_protocol::lock_role::{LockEvent, LockOutput};
use std::collections::BTreeMap;
use std::time::Instant;

/// A small deterministic generator (SplitMix64): the campaign is reproducible from its seed.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// One round's valid messages, all built for the same lock state.
struct Round {
    door: TestLock,
    /// Standard unlock (wants a ticket), standard sync-only, fast unlock, fast sync-only.
    handshakes: Vec<(&'static str, Vec<u8>)>,
    /// A door sync after the standard sync-only handshake: its answer, then the bundle
    /// message and the receipt request sealed on that channel.
    sync_answer: Vec<u8>,
    bundle_message: Vec<u8>,
    receipt_message: Vec<u8>,
    /// The answers the lock gave to the unlocks (for reflection).
    answers: Vec<Vec<u8>>,
    /// A standard request for another door (same site).
    other_door_request: Vec<u8>,
}

impl Round {
    fn new(site: &Site, bundle_version: u32) -> Self {
        let phone = TestPhone::new();
        let mut door = TestLock::new(site);
        let key = site.member_key(&phone, 1, &[DOOR]);
        let reply = phone.unlock(&mut door.lock, &key);
        let ticket = reply.ticket.unwrap_or_else(|| panic!("the first unlock is refused: {:?}", reply.outcome));
        let target = door.target();
        let (_, unlock) = phone.standard_request(&target, &key, Command::Unlock);
        let (awaiting_sync, sync) = phone.standard_request(&target, &key, Command::SyncOnly);
        let (_, fast) = phone.fast_request_seeded(target.door, target.nonce, &ticket, Command::Unlock, 0x21);
        let (_, fast_sync) = phone.fast_request_seeded(target.door, target.nonce, &ticket, Command::SyncOnly, 0x22);
        let handshakes =
            vec![("standard unlock", unlock), ("standard sync", sync), ("fast unlock", fast), ("fast sync", fast_sync)];

        // Each valid message is accepted by a twin: what the mutants are refused by is the mutation.
        let mut answers = Vec::new();
        for (name, message) in &handshakes {
            let mut twin = door.fork();
            let output = twin.deliver(message);
            assert!(granted(&output), "the unmutated {name} is refused: {:?}", output.event);
            answers.push(output.reply.unwrap());
        }
        let bundle: Bundle = site.bundle(BundleSpec::new(DOOR, bundle_version, 0));
        let mut twin = door.fork();
        let connection = twin.connect(247).unwrap();
        let sync_answer = twin.on_message(connection, &handshakes[1].1).unwrap().reply.unwrap();
        let (_, mut channel) = awaiting_sync.on_response(&sync_answer).unwrap();
        let bundle_message = channel.deliver_bundle(&bundle.to_bytes()).unwrap();
        let receipt_message = channel.request_receipt().unwrap();
        let applied = twin.on_message(connection, &bundle_message).unwrap();
        assert_eq!(applied.event, Some(LockEvent::BundleApplied { version: bundle_version }));
        assert!(twin.on_message(connection, &receipt_message).unwrap().reply.is_some());

        let mut other = TestLock::for_door(site, OTHER_DOOR);
        let other_key = site.key(&phone, KeySpec::member(2, &[DOOR, OTHER_DOOR]).valid(T0 - 3600, T0 + DAY));
        let (_, other_door_request) = phone.standard_request(&other.target(), &other_key, Command::Unlock);
        Self { door, handshakes, sync_answer, bundle_message, receipt_message, answers, other_door_request }
    }
}

/// What a lock did with everything a mutant sent: how often it opened, and whether a
/// bundle was applied or a request granted.
struct Verdict {
    actuations: u64,
    bundle_version: u32,
    granted: bool,
}

fn outcome(lock: &Lock, outputs: &[LockOutput]) -> Verdict {
    Verdict {
        actuations: lock.actuations(),
        bundle_version: lock.bundle_version(),
        granted: outputs.iter().any(|o| matches!(o.event, Some(LockEvent::Granted { .. }))),
    }
}

fn send_all(lock: &mut Lock, messages: &[&[u8]]) -> Vec<LockOutput> {
    let connection = lock.connect(247).unwrap();
    messages.iter().map_while(|m| lock.on_message(connection, m).ok()).collect()
}

fn bit_flip(rng: &mut Mix, message: &[u8]) -> Vec<u8> {
    let mut m = message.to_vec();
    for _ in 0..=rng.below(3) {
        let bit = rng.below(m.len() * 8);
        m[bit / 8] ^= 1 << (bit % 8);
    }
    if m == message {
        // Two flips of one bit cancel out: flip one more.
        m[0] ^= 0x80;
    }
    m
}

/// Whether the unmutated `base` opens the door (an unlock, not a sync-only handshake).
fn base_opens(round: &Round, base: &[u8]) -> bool {
    round.handshakes.iter().any(|(name, m)| m == base && name.ends_with("unlock"))
}

/// Runs one mutant of class `class` against a fresh twin of the round's lock and checks
/// that nothing was granted, opened or applied beyond what the unmutated prefix does.
fn mutate(rng: &mut Mix, round: &Round, class: usize) -> &'static str {
    let (_, base) = &round.handshakes[rng.below(round.handshakes.len())];
    let mut lock = round.door.fork();
    let before = (lock.actuations(), lock.bundle_version());
    let (name, verdict, allowed_actuations): (&str, Verdict, u64) = match class {
        0 => {
            let outputs = send_all(&mut lock, &[&bit_flip(rng, base)]);
            ("bit-flipped handshake", outcome(&lock, &outputs), 0)
        }
        1 => {
            let cut = rng.below(base.len());
            let outputs = send_all(&mut lock, &[&base[..cut]]);
            ("truncated handshake", outcome(&lock, &outputs), 0)
        }
        2 => {
            let mut m = base.clone();
            let extra = 1 + rng.below(16);
            m.extend(rng.bytes(extra));
            let outputs = send_all(&mut lock, &[&m]);
            ("extended handshake", outcome(&lock, &outputs), 0)
        }
        3 => {
            // Downgrade: another version, cleared or unknown flags, or the other handshake's type.
            let mut m = base.clone();
            match rng.below(3) {
                0 => m[1] = m[1].wrapping_add(1 + rng.below(255) as u8),
                1 => m[2] ^= 1 << rng.below(8),
                // Standard (0x01) and fast (0x03) requests swap types.
                _ => m[0] ^= 0x02,
            }
            let outputs = send_all(&mut lock, &[&m]);
            ("downgraded handshake", outcome(&lock, &outputs), 0)
        }
        4 => {
            // Replay: the valid message is accepted once; the same bytes again, on a new
            // connection or on the same one, never open the door again.
            let outputs = if rng.below(2) == 0 {
                send_all(&mut lock, &[base]);
                send_all(&mut lock, &[base])
            } else {
                send_all(&mut lock, &[base, base])
            };
            assert!(outputs.len() == 1 || granted(&outputs[0]));
            let opened_by_original = u64::from(base_opens(round, base));
            ("replayed handshake", outcome(&lock, &outputs[outputs.len() - 1..]), opened_by_original)
        }
        5 => {
            // Splice: one request's clear header with another's encrypted part.
            let (_, other) = &round.handshakes[rng.below(round.handshakes.len())];
            let cut = 1 + rng.below(base.len().min(other.len()) - 1);
            let mut m = base[..cut].to_vec();
            m.extend_from_slice(&other[cut..]);
            if m == *base || m == *other {
                m = bit_flip(rng, &m);
            }
            let outputs = send_all(&mut lock, &[&m]);
            ("spliced handshake", outcome(&lock, &outputs), 0)
        }
        6 => {
            // Reflection: the lock's own answer sent back to it, alone or after a grant.
            if rng.below(2) == 0 {
                let answer = &round.answers[rng.below(round.answers.len())];
                let outputs = send_all(&mut lock, &[answer]);
                ("reflected answer", outcome(&lock, &outputs), 0)
            } else {
                let outputs = send_all(&mut lock, &[base]);
                let reflected = outputs[0].reply.clone().unwrap();
                let connection = lock.connect(247).unwrap();
                let outputs: Vec<_> = lock.on_message(connection, &reflected).into_iter().collect();
                ("reflected answer", outcome(&lock, &outputs), u64::from(base_opens(round, base)))
            }
        }
        7 => {
            // A request made for another door.
            let outputs = send_all(&mut lock, &[&round.other_door_request]);
            ("request for another door", outcome(&lock, &outputs), 0)
        }
        8 => {
            // Door sync, tampered: the channel message bit-flipped, truncated or extended.
            let m = match rng.below(3) {
                0 => bit_flip(rng, &round.bundle_message),
                1 => round.bundle_message[..rng.below(round.bundle_message.len())].to_vec(),
                _ => {
                    let extra = 1 + rng.below(16);
                    [&round.bundle_message[..], &rng.bytes(extra)].concat()
                }
            };
            let connection = lock.connect(247).unwrap();
            assert!(granted(&lock.on_message(connection, &round.handshakes[1].1).unwrap()));
            let outputs: Vec<_> = lock.on_message(connection, &m).into_iter().collect();
            ("tampered door-sync message", outcome(&lock, &outputs), 0)
        }
        9 => {
            // Door sync, reordered: the receipt request before the bundle, the bundle twice,
            // or channel messages with no handshake at all.
            let connection = lock.connect(247).unwrap();
            let outputs: Vec<LockOutput> = match rng.below(3) {
                0 => {
                    lock.on_message(connection, &round.handshakes[1].1).unwrap();
                    [&round.receipt_message, &round.bundle_message]
                        .iter()
                        .map_while(|m| lock.on_message(connection, m).ok())
                        .collect()
                }
                1 => {
                    lock.on_message(connection, &round.handshakes[1].1).unwrap();
                    lock.on_message(connection, &round.bundle_message).unwrap();
                    let applied = lock.bundle_version();
                    assert!(applied > before.1, "the untouched bundle message applies first");
                    let again: Vec<_> = lock.on_message(connection, &round.bundle_message).into_iter().collect();
                    assert_eq!(lock.bundle_version(), applied);
                    let verdict = outcome(&lock, &again);
                    // The first delivery was the real one; only the replay counts here.
                    assert!(!verdict.granted && verdict.actuations == before.0);
                    return "replayed door-sync message";
                }
                _ => [&round.bundle_message, &round.receipt_message, &round.sync_answer]
                    .iter()
                    .map_while(|m| lock.on_message(connection, m).ok())
                    .collect(),
            };
            ("reordered door-sync messages", outcome(&lock, &outputs), 0)
        }
        _ => unreachable!(),
    };
    assert!(!verdict.granted, "{name}: a mutant was granted (class {class}, base {} bytes)", base.len());
    assert!(verdict.actuations - before.0 <= allowed_actuations, "{name}: the door opened for a mutant");
    assert_eq!(verdict.bundle_version, before.1, "{name}: a bundle was applied from a mutant");
    name
}

#[test]
fn mutated_replayed_reordered_and_reflected_handshakes_never_open_the_door() {
    let total: usize = std::env::var("KEYWAY_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let per_round = 500;
    let site = Site::new();
    let mut rng = Mix(0x6b65_7977_6179);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let started = Instant::now();
    let mut round = Round::new(&site, 1);
    for i in 0..total {
        if i > 0 && i % per_round == 0 {
            round = Round::new(&site, 1 + (i / per_round) as u32);
        }
        let name = mutate(&mut rng, &round, i % 10);
        *counts.entry(name).or_default() += 1;
    }
    let elapsed = started.elapsed();
    for (name, n) in &counts {
        println!("{n:>8}  {name}: refused");
    }
    println!("{total} mutated handshakes and door-sync messages refused, none opened the door ({elapsed:.1?})");
    assert_eq!(counts.values().sum::<usize>(), total);
}
