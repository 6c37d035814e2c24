//! The `keyway` binary where no backend answers: a wrong command, a plain-HTTP address
//! and an unreachable backend each end in one line and the documented exit code. (The
//! client against the real backend and locks is tested in the journeys, keyway-e2e.)
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::{Command, Output, Stdio};

/// Runs `keyway` in an empty home folder against `backend`, with nothing to type.
fn keyway(backend: &str, args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_keyway"))
        .arg("--home")
        .arg(home.path())
        .args(["--backend", backend])
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env("NO_COLOR", "1")
        // Secrets in private files, said by the flag: no keyring notice on stderr.
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("KEYWAY_SECRETS", "files")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_one_line_error(out: &Output, code: i32) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stdout: {}\nstderr: {err}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("keyway: "), "{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace") && !err.contains("internal error"), "{err}");
}

fn error_kind(out: &Output) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["error"]["kind"].clone()
}

#[test]
fn an_unknown_command_is_refused_with_exit_code_two() {
    let out = Command::new(env!("CARGO_BIN_EXE_keyway")).arg("fly").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unrecognized subcommand"));
}

#[test]
fn the_demo_and_the_bench_are_not_client_commands() {
    for moved in ["demo", "bench"] {
        let out = Command::new(env!("CARGO_BIN_EXE_keyway")).arg(moved).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "`keyway {moved}` belongs to keyway-sandbox");
    }
}

#[test]
fn a_plain_http_backend_is_refused_with_exit_code_two() {
    let out = keyway("http://127.0.0.1:9/", &["login", "ana@example.com"]);
    assert_one_line_error(&out, 2);
    assert!(stderr(&out).contains("https://"), "{}", stderr(&out));
    let out = keyway("http://127.0.0.1:9/", &["--json", "login", "ana@example.com"]);
    assert_eq!(error_kind(&out), "invalid_backend");
}

#[test]
fn an_unreachable_backend_is_one_line_and_exit_code_four() {
    let out = keyway("https://127.0.0.1:9/", &["login", "ana@example.com"]);
    assert_one_line_error(&out, 4);
    assert!(stderr(&out).contains("offline"), "{}", stderr(&out));
    let out = keyway("https://127.0.0.1:9/", &["--json", "login", "ana@example.com"]);
    assert_eq!(error_kind(&out), "offline");
}

#[test]
fn delete_account_without_yes_does_nothing_and_says_how_to_confirm() {
    let out = keyway("https://127.0.0.1:9/", &["delete-account"]);
    assert_one_line_error(&out, 2);
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
}

#[test]
fn profile_needs_a_sign_in_first() {
    let out = keyway("https://127.0.0.1:9/", &["--json", "profile"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(error_kind(&out), "not_signed_in");
}
