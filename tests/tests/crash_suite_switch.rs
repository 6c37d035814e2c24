//! `cargo test --workspace` builds the journeys without the `crash-points` feature, and
//! Cargo then leaves the crash-safety suite out without a word. This test is that word: it
//! shows as ignored, with the command that runs the suite, in every plain run's report.
#![allow(missing_docs)]

#[test]
#[cfg_attr(
    not(feature = "crash-points"),
    ignore = "the crash-safety suite did not run: it needs `--features keyway-e2e/crash-points --test crash_safety` (scripts/test.sh runs it)"
)]
fn crash_safety_suite_runs_only_with_the_crash_points_feature() {
    // With the feature on, the child that the suite kills is built beside this test.
    #[cfg(feature = "crash-points")]
    assert!(std::path::Path::new(env!("CARGO_BIN_EXE_keyway-crash-child")).is_file());
}
