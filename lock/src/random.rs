//! Where the lock's randomness comes from: the operating system's generator in
//! production, or a seeded generator so a test can replay a session byte for byte.

use crate::error::LockError;
use sha2::{Digest, Sha256};

/// A source of random bytes for keys, nonces, ticket ids and response nonces.
pub trait RandomSource: Send {
    /// Fills `out` with random bytes.
    fn fill(&mut self, out: &mut [u8]) -> Result<(), LockError>;
    /// An independent copy that will produce the same bytes as this one from now on
    /// (for a seeded source), or a fresh OS source. Used to fork a lock in tests.
    fn fork(&self) -> Box<dyn RandomSource>;
}

/// The operating system's cryptographically secure generator (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), LockError> {
        getrandom::fill(out).map_err(|_| LockError::Random)
    }

    fn fork(&self) -> Box<dyn RandomSource> {
        Box::new(OsRandom)
    }
}

/// A deterministic generator: SHA-256 of (seed, counter). For tests and repeatable
/// simulations only; a real lock uses [`OsRandom`].
#[derive(Debug, Clone)]
pub struct SeededRandom {
    seed: [u8; 32],
    counter: u64,
}

impl SeededRandom {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_be_bytes());
        Self { seed: bytes, counter: 0 }
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), LockError> {
        for chunk in out.chunks_mut(32) {
            self.counter += 1;
            let block = Sha256::new().chain_update(self.seed).chain_update(self.counter.to_be_bytes()).finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }

    fn fork(&self) -> Box<dyn RandomSource> {
        Box::new(self.clone())
    }
}
