//! Keys and nonces come only from the system random source. A source audit that fails the
//! build: the shipped code of the protocol, core, lock and backend (test modules and test
//! files left out) must not name a deterministic or user-space generator. Together with
//! what the types enforce — ring's `SecureRandom` is sealed (only `SystemRandom` and ring's
//! deprecated test generators implement it) and the reference lock's default
//! `LockOptions` use `OsRandom` (`getrandom`) — this leaves the OS generator as the only
//! source for ephemeral keys, nonces, ticket ids, device and lock keys.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};

/// Names that would bring randomness from anywhere but the OS into shipped code.
const FORBIDDEN: &[&str] = &[
    "ring::test",
    "FixedByteRandom",
    "FixedSliceRandom",
    "SeededRandom::new",
    "thread_rng",
    "StdRng",
    "SmallRng",
    "fastrand",
    "rand_core",
    "from_entropy",
    "from_seed",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file without its test module (by convention the last item, after `#[cfg(test)]`).
fn shipped_part(source: &str) -> &str {
    source.find("#[cfg(test)]").map_or(source, |at| &source[..at])
}

#[test]
fn keys_and_nonces_come_only_from_the_system_random_source() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for crate_dir in ["protocol/src", "core/src", "lock/src", "backend/src"] {
        rust_files(&root.join(crate_dir), &mut files);
    }
    assert!(files.len() > 40, "the audit found only {} files", files.len());
    let mut findings = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        if name.contains("tests") {
            continue;
        }
        let source = std::fs::read_to_string(file).unwrap();
        for (n, line) in shipped_part(&source).lines().enumerate() {
            for word in FORBIDDEN {
                if line.contains(word) && !line.trim_start().starts_with("//") {
                    findings.push(format!("{}:{}: {word}", file.strip_prefix(root).unwrap().display(), n + 1));
                }
            }
            // The lock's own generator is defined in one place and reads the OS only.
            if line.contains("getrandom::") && !file.ends_with("lock/src/random.rs") {
                findings.push(format!("{}:{}: getrandom outside lock/src/random.rs", file.display(), n + 1));
            }
        }
    }
    assert!(findings.is_empty(), "randomness from outside the OS generator in shipped code:\n{}", findings.join("\n"));
}
