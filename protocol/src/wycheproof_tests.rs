//! Project Wycheproof's vectors run through Keyway's own wrappers in [`crate::primitives`],
//! on both sides: ring (phone, backend) and RustCrypto (lock). The vectors come from the
//! `wycheproof` crate. Each test prints how many vectors it ran, passed, and left out
//! because Keyway's types cannot express them (an AES key that is not 256 bits, a nonce
//! that is not 96 bits, a signature that is not 64 bytes: those never reach the wrappers).
//!
//! A vector passes when: `valid` gives the expected result; `invalid` is refused;
//! `acceptable` is either refused or gives the expected result.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::primitives::{
    Primitives, Ring, RustCrypto, p256_ecdh, p256_ecdsa_verify, p256_verifying_key, ring_ecdh, ring_ecdsa_verify,
};
use wycheproof::TestResult;

// (vectors run, vectors Keyway's types cannot express), as docs/security.md gives them;
// `Tally::finish` fails when a set's counts move, so the table cannot go stale.
/// ECDSA P-256/SHA-256 P1363: 21 signatures are not 64 bytes long.
const ECDSA_COUNTS: (usize, usize) = (241, 21);
/// ECDH P-256 (the `ecpoint` set): every vector reaches the wrappers, malformed points too.
const ECDH_COUNTS: (usize, usize) = (355, 0);
/// AES-GCM: 250 vectors use 128- or 192-bit keys or nonces other than 96 bits.
const AES_GCM_COUNTS: (usize, usize) = (66, 250);
/// HKDF-SHA256: 3 vectors ask for more than 255 blocks of output.
const HKDF_COUNTS: (usize, usize) = (83, 3);

#[derive(Default)]
struct Tally {
    run: usize,
    passed: usize,
    not_expressible: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, id: usize, what: &str, expected: TestResult, refused: bool, right_answer: bool) {
        self.run += 1;
        let ok = match expected {
            TestResult::Valid => !refused && right_answer,
            TestResult::Invalid => refused,
            TestResult::Acceptable => refused || right_answer,
        };
        if ok {
            self.passed += 1;
        } else {
            self.failures.push(format!("{what} tcId {id}: expected {expected:?}, refused: {refused}"));
        }
    }

    /// Prints the counts and checks them against `expected` (run, not expressible): the
    /// figures docs/security.md gives, so a vector set that changes under them fails here.
    fn finish(self, name: &str, expected: (usize, usize)) {
        println!(
            "wycheproof {name}: {} run, {} passed, {} not expressible in Keyway's types",
            self.run, self.passed, self.not_expressible
        );
        assert!(self.failures.is_empty(), "{name}: {:#?}", self.failures);
        assert_eq!(
            (self.run, self.not_expressible),
            expected,
            "{name}: (run, not expressible) moved from the documented counts"
        );
    }
}

#[test]
fn ecdsa_p256_sha256_vectors_pass_on_phone_and_lock() {
    use wycheproof::ecdsa::{TestName, TestSet};
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).unwrap();
    let (mut phone, mut lock) = (Tally::default(), Tally::default());
    for group in &set.test_groups {
        let public_key: &[u8] = &group.key.key;
        let lock_key = p256_verifying_key(public_key);
        for test in &group.tests {
            let Ok(signature) = <[u8; 64]>::try_from(&test.sig[..]) else {
                // Keyway's wire formats carry exactly 64 bytes: other lengths never parse.
                phone.not_expressible += 1;
                lock.not_expressible += 1;
                assert_ne!(
                    test.result,
                    TestResult::Valid,
                    "tcId {} is valid with a {}-byte signature",
                    test.tc_id,
                    test.sig.len()
                );
                continue;
            };
            let on_phone = ring_ecdsa_verify(public_key, &test.msg, &signature);
            phone.check(test.tc_id, "ring", test.result, !on_phone, on_phone);
            let on_lock = lock_key.as_ref().is_some_and(|key| p256_ecdsa_verify(key, &test.msg, &signature));
            lock.check(test.tc_id, "p256", test.result, !on_lock, on_lock);
        }
    }
    phone.finish("ECDSA P-256/SHA-256 (ring, phone and backend)", ECDSA_COUNTS);
    lock.finish("ECDSA P-256/SHA-256 (p256, lock)", ECDSA_COUNTS);
}

/// A Wycheproof private key (big-endian, possibly with a leading zero or shorter) as 32 bytes.
fn scalar32(bytes: &[u8]) -> Option<[u8; 32]> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut out = [0u8; 32];
    out.get_mut(32usize.checked_sub(trimmed.len())?..)?.copy_from_slice(&trimmed);
    Some(out)
}

#[test]
fn ecdh_p256_vectors_pass_on_phone_and_lock() {
    use wycheproof::ecdh::{TestName, TestSet};
    let set = TestSet::load(TestName::EcdhSecp256r1Ecpoint).unwrap();
    let (mut phone, mut lock) = (Tally::default(), Tally::default());
    for group in &set.test_groups {
        for test in &group.tests {
            let private = scalar32(&test.private_key).expect("a P-256 private key fits 32 bytes");
            let expected: &[u8] = &test.shared_secret;
            // ring makes its ephemeral scalar from 32 random bytes unchanged: feed it the
            // vector's private key as its random source.
            #[allow(deprecated)]
            let rng = ring::test::rand::FixedSliceRandom { bytes: &private };
            let on_phone = ring_ecdh(&test.public_key, &rng, |_, dh| dh.to_vec()).ok();
            let right = on_phone.as_ref().is_some_and(|(_, dh)| dh.as_slice() == expected);
            phone.check(test.tc_id, "ring", test.result, on_phone.is_none(), right);

            let secret = p256::SecretKey::from_slice(&private).expect("a valid scalar");
            let on_lock = p256_ecdh(&secret, &test.public_key);
            let right = on_lock.as_ref().is_some_and(|dh| dh.as_slice() == expected);
            lock.check(test.tc_id, "p256", test.result, on_lock.is_none(), right);
        }
    }
    phone.finish("ECDH P-256 (ring, phone)", ECDH_COUNTS);
    lock.finish("ECDH P-256 (p256, lock)", ECDH_COUNTS);
}

fn aes_gcm<P: Primitives>(name: &str) {
    use wycheproof::aead::{TestName, TestSet};
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for test in &group.tests {
            let (Ok(key), Ok(nonce)) = (<[u8; 32]>::try_from(&test.key[..]), <[u8; 12]>::try_from(&test.nonce[..]))
            else {
                // Keyway uses AES-256 with 96-bit nonces only: other sizes have no type.
                tally.not_expressible += 1;
                continue;
            };
            let sealed = [&test.ct[..], &test.tag[..]].concat();
            let opened = P::open(&key, &nonce, &test.aad, &sealed);
            // A valid vector also seals its plaintext to exactly its ciphertext and tag.
            let reseals = test.result != TestResult::Valid || P::seal(&key, &nonce, &test.aad, &test.pt) == sealed;
            let right = opened.as_deref() == Some(&test.pt[..]) && reseals;
            tally.check(test.tc_id, "AES-GCM", test.result, opened.is_none(), right);
        }
    }
    tally.finish(name, AES_GCM_COUNTS);
}

#[test]
fn aes_256_gcm_vectors_pass_with_ring() {
    aes_gcm::<Ring>("AES-256-GCM (ring, phone)");
}

#[test]
fn aes_256_gcm_vectors_pass_with_rustcrypto() {
    aes_gcm::<RustCrypto>("AES-256-GCM (aes-gcm, lock)");
}

fn hkdf<P: Primitives>(name: &str) {
    use wycheproof::hkdf::{TestName, TestSet};
    let set = TestSet::load(TestName::HkdfSha256).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for test in &group.tests {
            if test.result != TestResult::Valid {
                // Only over-long outputs are invalid; Keyway asks for at most 64 bytes.
                tally.not_expressible += 1;
                continue;
            }
            let prk = P::extract(&test.salt, &[&test.ikm]);
            let mut okm = vec![0u8; test.size];
            P::expand(&prk, &[&test.info], &mut okm);
            tally.check(test.tc_id, "hkdf", test.result, false, okm == test.okm[..]);
        }
    }
    tally.finish(name, HKDF_COUNTS);
}

#[test]
fn hkdf_sha256_vectors_pass_with_ring() {
    hkdf::<Ring>("HKDF-SHA256 (ring, phone)");
}

#[test]
fn hkdf_sha256_vectors_pass_with_rustcrypto() {
    hkdf::<RustCrypto>("HKDF-SHA256 (hkdf, lock)");
}
