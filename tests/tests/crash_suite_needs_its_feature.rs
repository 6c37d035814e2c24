//! `cargo test --workspace` does not build the crash-safety suite: it needs the
//! `crash-points` feature, which compiles the kill points into the core. Built only
//! without that feature, this test puts the fact in the plain run's list of tests (its
//! name) and checks that the test command does run the suite with the feature, so the
//! note cannot go stale.
#![cfg(not(feature = "crash-points"))]
#![allow(clippy::unwrap_used, missing_docs)]

/// The command that runs the crash-safety suite.
const CRASH_SUITE: &str = "cargo test -p keyway-e2e --features crash-points --test crash_safety -- --nocapture";

#[test]
fn crash_safety_suite_not_run_here_run_it_with_features_crash_points() {
    eprintln!("note: the crash-safety suite is not part of this run; run it with `{CRASH_SUITE}`");
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("name = \"crash_safety\"\nrequired-features = [\"crash-points\"]"),
        "the suite still needs the feature (else this note is wrong)"
    );
    let test_command = std::fs::read_to_string(crate_dir.join("../scripts/test.sh")).unwrap();
    assert!(
        test_command.lines().any(|l| !l.trim_start().starts_with('#')
            && l.contains("--features keyway-e2e/crash-points")
            && l.contains("--test crash_safety")),
        "scripts/test.sh runs the crash-safety suite with its feature"
    );
    let docs = std::fs::read_to_string(crate_dir.join("../docs/crash-and-faults.md")).unwrap();
    assert!(
        docs.contains("--features crash-points --test crash_safety"),
        "docs/crash-and-faults.md says how to run it"
    );
}
