//! `keyway demo` runs to the end on this machine, plain when piped.
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

#[test]
fn keyway_demo_runs_every_step_and_exits_zero() {
    let out = Command::new(env!("CARGO_BIN_EXE_keyway")).arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("steps did what they say"), "{stdout}");
    assert!(!stdout.contains('✗'), "{stdout}");
    assert!(!stdout.contains("\x1b["), "piped output has no colour codes");
    for story in ["standard unlock", "fast unlock", "text message", "redeems the key", "refuses her"] {
        assert!(stdout.contains(story), "the demo tells of {story}:\n{stdout}");
    }
}

#[test]
fn an_unknown_command_is_refused_with_exit_code_two() {
    let out = Command::new(env!("CARGO_BIN_EXE_keyway")).arg("fly").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand"));
}
