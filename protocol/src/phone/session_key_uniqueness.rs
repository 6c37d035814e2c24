//! No (key, nonce) pair repeats across sessions. Every session's AEAD keys are derived by
//! the phone role's real code (`StandardUnlock::begin`/`finish`, `fast_unlock`) and the
//! shared key schedule (`SessionSecrets::standard`), from the system random source: the
//! phone's ephemeral keys and nonces come from ring's `SystemRandom` as in the app, and the
//! lock's nonces (advertised nonce, response nonce) are drawn from it too, standing in for
//! the lock's OS generator. Fast sessions chain, each using the ticket the previous one
//! earned, as a phone does.
//!
//! Within a key, nonces are the channel's counters (0, 1, 2 …) in one direction, so a
//! repeated pair can only come from a repeated key: the test records, per session, the
//! request key with its HPKE base nonce and both directions' keys with the counters each
//! session uses first, and checks that none was seen before.
//!
//! Size: `KEYWAY_SESSIONS` (default 20,000). The full run:
//! `KEYWAY_SESSIONS=1000000 cargo test -p keyway-protocol --lib session_key -- --nocapture`.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::channel::counter_nonce;
use crate::ids::TicketId;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashSet;
use std::time::Instant;

fn random<const N: usize>(rng: &SystemRandom) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill(&mut out).unwrap();
    out
}

struct Seen {
    pairs: HashSet<[u8; 44]>,
    recorded: usize,
}

impl Seen {
    fn record(&mut self, key: &[u8; 32], nonce: &[u8; 12]) {
        let mut pair = [0u8; 44];
        pair[..32].copy_from_slice(key);
        pair[32..].copy_from_slice(nonce);
        assert!(self.pairs.insert(pair), "a (key, nonce) pair repeated after {} pairs", self.recorded);
        self.recorded += 1;
    }

    /// The first two counters of both directions of a session's channel.
    fn record_channel(&mut self, secrets: &SessionSecrets) {
        for counter in 0..2 {
            self.record(&secrets.phone_to_lock, &counter_nonce(counter));
            self.record(&secrets.lock_to_phone, &counter_nonce(counter));
        }
    }
}

#[test]
fn no_session_key_and_nonce_pair_ever_repeats() {
    let sessions: usize = std::env::var("KEYWAY_SESSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let rng = SystemRandom::new();
    let lock_key = ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng).unwrap();
    let mut lock_public_key = [0u8; PUBLIC_KEY_LEN];
    lock_public_key.copy_from_slice(lock_key.compute_public_key().unwrap().as_ref());
    let door = DoorId(random(&rng));
    let credential = [0x5a; 140];
    let mut seen = Seen { pairs: HashSet::with_capacity(sessions * 5), recorded: 0 };
    let mut ticket = FastTicket { door, id: TicketId(random(&rng)), secret: Zeroizing::new(random(&rng)) };
    let started = Instant::now();
    for i in 0..sessions {
        let nonce = LockNonce(random(&rng));
        let secrets = if i % 2 == 0 {
            let target = LockTarget { door, lock_public_key, nonce };
            let unlock = StandardUnlock::begin(&target, &credential, Command::Unlock, true, &rng).unwrap();
            let (key, base_nonce) = unlock.context.key_and_base_nonce();
            seen.record(key, base_nonce);
            let (awaiting, _) = unlock.finish(&[0x11; 64]);
            let Pending::Standard { enc, session } = awaiting.pending else { unreachable!() };
            let response_nonce: [u8; 16] = random(&rng);
            SessionSecrets::standard::<Ring>(&enc, &response_nonce, &session)
        } else {
            let (awaiting, _) = fast_unlock(door, nonce, &ticket, Command::Unlock, &rng).unwrap();
            let Pending::Fast { secrets } = awaiting.pending else { unreachable!() };
            secrets
        };
        seen.record_channel(&secrets);
        ticket = FastTicket { door, id: TicketId(random(&rng)), secret: Zeroizing::new(*secrets.resumption) };
    }
    println!(
        "{sessions} sessions ({} standard, {} fast): {} (key, nonce) pairs, none repeated ({:.1?})",
        sessions.div_ceil(2),
        sessions / 2,
        seen.recorded,
        started.elapsed()
    );
    assert_eq!(seen.pairs.len(), seen.recorded);
}
