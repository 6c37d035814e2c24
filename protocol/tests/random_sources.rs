//! Keys and nonces come only from the system random source. A source audit that fails the
//! build: the shipped code of the protocol, core, lock and backend (the bodies of
//! `#[cfg(test)] mod … { }` blocks and files named for tests left out; everything after a
//! test module, and test-only methods, are read) must not name a deterministic or user-space generator. Together with
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

/// The shipped lines of a file, numbered from 1: everything but the bodies of
/// `#[cfg(test)] mod … { }` blocks. Code after a test module, and `#[cfg(test)]` on
/// anything other than a module (a test-only method), stay in the audit.
fn shipped_lines(source: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut shipped = Vec::new();
    let mut n = 0;
    while n < lines.len() {
        if lines[n].trim() == "#[cfg(test)]" {
            // The item the attribute applies to: the next line that is not an attribute.
            let mut item = n + 1;
            while item < lines.len() && lines[item].trim_start().starts_with("#[") {
                item += 1;
            }
            if item < lines.len() && is_inline_module(lines[item]) {
                n = module_end(&lines, item) + 1;
                continue;
            }
        }
        shipped.push((n + 1, lines[n]));
        n += 1;
    }
    shipped
}

/// `mod tests {`, `pub(crate) mod helpers {`: a module with its body in this file.
fn is_inline_module(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "mod");
    at.is_some_and(|at| words[..at].iter().all(|w| w.starts_with("pub")) && line.trim_end().ends_with('{'))
}

/// The index of the line holding the `}` that closes the block opened on line `start`,
/// counting braces outside comments, strings (raw ones too) and character literals.
fn module_end(lines: &[&str], start: usize) -> usize {
    let text: Vec<char> = lines[start..].join("\n").chars().collect();
    let (mut depth, mut line, mut i) = (0usize, start, 0usize);
    let at = |i: usize| text.get(i).copied();
    while i < text.len() {
        match (text[i], at(i + 1)) {
            ('\n', _) => line += 1,
            ('/', Some('/')) => {
                while at(i + 1).is_some_and(|c| c != '\n') {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                let mut nested = 1;
                i += 1;
                while nested > 0 && i + 1 < text.len() {
                    i += 1;
                    match (text[i], at(i + 1)) {
                        ('\n', _) => line += 1,
                        ('*', Some('/')) => (nested, i) = (nested - 1, i + 1),
                        ('/', Some('*')) => (nested, i) = (nested + 1, i + 1),
                        _ => {}
                    }
                }
            }
            // r"…", r#"…"#: ends at a quote followed by as many hashes.
            ('r', Some('"' | '#')) if i == 0 || !(text[i - 1].is_alphanumeric() || text[i - 1] == '_') => {
                let mut hashes = 0;
                while at(i + 1 + hashes) == Some('#') {
                    hashes += 1;
                }
                if at(i + 1 + hashes) == Some('"') {
                    i += hashes + 2;
                    while i < text.len() && !(text[i] == '"' && (1..=hashes).all(|h| at(i + h) == Some('#'))) {
                        line += usize::from(text[i] == '\n');
                        i += 1;
                    }
                    i += hashes;
                }
            }
            ('"', _) => {
                i += 1;
                while i < text.len() && text[i] != '"' {
                    line += usize::from(text[i] == '\n');
                    i += if text[i] == '\\' { 2 } else { 1 };
                }
            }
            // '\'', '\u{7b}': an escaped character literal.
            ('\'', Some('\\')) => {
                i += 2;
                while at(i + 1).is_some_and(|c| c != '\'') {
                    i += 1;
                }
                i += 1;
            }
            // '{': a character literal, not a lifetime.
            ('\'', Some(_)) if at(i + 2) == Some('\'') => i += 2,
            ('{', _) => depth += 1,
            ('}', _) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return line;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("the test module opened on line {} never closes", start + 1)
}

#[test]
fn the_audit_reads_past_test_modules_and_test_only_methods() {
    let source = r##"use a::b;
impl Context {
    #[cfg(test)]
    fn only_for_tests() -> u8 { thread_rng_in_a_test_method() }
}
#[cfg(test)]
mod tests {
    const OPEN: char = '{';
    const ESCAPED: char = '\\u{7d}';
    const RAW: &str = r#"{"a": "}"}"#;
    /* a } in a block comment */
    // a } in a comment
    fn forbidden_here() { let s = "}"; thread_rng(); }
}
fn after_the_tests() { StdRng::new() }
"##;
    let shipped: Vec<String> = shipped_lines(source).into_iter().map(|(n, l)| format!("{n}:{l}")).collect();
    assert!(shipped.iter().any(|l| l.starts_with("4:") && l.contains("thread_rng_in_a_test_method")), "{shipped:?}");
    assert!(shipped.iter().any(|l| l.starts_with("15:") && l.contains("StdRng")), "{shipped:?}");
    assert!(
        !shipped.iter().any(|l| l.contains("forbidden_here") || l.contains("OPEN") || l.contains("RAW")),
        "{shipped:?}"
    );
}

#[test]
fn the_ephemeral_key_generation_after_a_test_only_method_is_audited() {
    let hpke = include_str!("../src/hpke.rs");
    let shipped = shipped_lines(hpke);
    assert!(shipped.iter().any(|(_, l)| l.contains("pub(crate) fn setup_sender(")), "setup_sender is audited");
    assert!(
        shipped.iter().any(|(_, l)| l.contains("ring_ecdh(recipient_public, rng")),
        "the ephemeral draw is audited"
    );
    assert!(!shipped.iter().any(|(_, l)| l.contains("FixedSliceRandom")), "the RFC vector test is not");
}

/// The test kit (`protocol/src/testkit/`, `lock/src/testkit.rs`): compiled only with the
/// `testkit` feature, which no shipped crate turns on (see the test below).
fn is_test_kit(file: &Path) -> bool {
    file.components().any(|c| c.as_os_str() == "testkit") || file.file_name().is_some_and(|n| n == "testkit.rs")
}

/// The shipped crates' manifests.
const SHIPPED_MANIFESTS: &[&str] = &[
    "protocol/Cargo.toml",
    "lock/Cargo.toml",
    "core/Cargo.toml",
    "backend/Cargo.toml",
    "cli/Cargo.toml",
    "bindings/Cargo.toml",
];

#[test]
fn no_shipped_crate_turns_the_test_kit_on_outside_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut findings = Vec::new();
    for manifest in SHIPPED_MANIFESTS {
        let text = std::fs::read_to_string(root.join(manifest)).unwrap();
        let mut section = String::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line.to_owned();
            } else if !line.starts_with('#') && line.contains("testkit") {
                // Feature definitions (`testkit = [...]`) and dev-dependencies are allowed.
                let allowed = section == "[features]" || section.contains("dev-dependencies");
                if !allowed {
                    findings.push(format!("{manifest}:{}: {line} (in {section})", n + 1));
                }
            }
        }
        // `default = [...]` must not name it either.
        for line in text.lines().filter(|l| l.trim_start().starts_with("default")) {
            assert!(!line.contains("testkit"), "{manifest}: the test kit is a default feature: {line}");
        }
    }
    assert!(findings.is_empty(), "the test kit would reach a shipped build:\n{}", findings.join("\n"));
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
        if name.contains("tests") || is_test_kit(file) {
            continue;
        }
        let source = std::fs::read_to_string(file).unwrap();
        for (n, line) in shipped_lines(&source) {
            for word in FORBIDDEN {
                if line.contains(word) && !line.trim_start().starts_with("//") {
                    findings.push(format!("{}:{n}: {word}", file.strip_prefix(root).unwrap().display()));
                }
            }
            // The lock's own generator is defined in one place and reads the OS only.
            if line.contains("getrandom::") && !file.ends_with("lock/src/random.rs") {
                findings.push(format!("{}:{n}: getrandom outside lock/src/random.rs", file.display()));
            }
        }
    }
    assert!(findings.is_empty(), "randomness from outside the OS generator in shipped code:\n{}", findings.join("\n"));
}
