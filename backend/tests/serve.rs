//! The binary starts with one command on an empty machine (HTTPS with certificates from
//! `dev-certs`) and an operator can drive it; plain HTTP needs a flag that says so.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_keyway-backend");

/// A backend serving HTTPS in `dir` with certificates from `dev-certs`: the process, its
/// URL (from the first line it prints), the certificates folder and the admin token file.
fn serve_over_tls(dir: &std::path::Path) -> (Running, String, std::path::PathBuf, std::path::PathBuf) {
    let certs = dir.join("certs");
    let made = Command::new(BIN).args(["dev-certs", "--out"]).arg(&certs).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let token_file = dir.join("admin-token");
    let mut child = Running(
        Command::new(BIN)
            .args(["serve", "--db", ":memory:", "--listen", "127.0.0.1:0", "--admin-token-file"])
            .arg(&token_file)
            .arg("--tls-cert")
            .arg(certs.join("server.pem"))
            .arg("--tls-key")
            .arg(certs.join("server.key"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let first = first_line_then_drain(child.0.stdout.take().unwrap());
    let url = first.strip_prefix("listening on ").unwrap().to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{first}");
    (child, url, certs, token_file)
}

#[test]
fn serve_prints_its_address_and_the_admin_command_drives_it() {
    let dir = std::env::temp_dir().join(format!("keyway-backend-serve-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (child, url, certs, token_file) = serve_over_tls(&dir);
    let bin = BIN;
    let admin = |args: &[&str]| {
        let out = Command::new(bin)
            .args(["admin", "--url", &url, "--ca-file"])
            .arg(certs.join("ca.pem"))
            .arg("--token-file")
            .arg(&token_file)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let org = admin(&["create-org", "Acme"]);
    let org_id = org["id"].as_i64().unwrap().to_string();
    let site = admin(&["create-site", &org_id, "Main"]);
    let fac = admin(&["create-facility", &site["id"].as_i64().unwrap().to_string(), "Gym"]);
    let fac_id = fac["id"].as_i64().unwrap().to_string();
    let sent = admin(&["invite", &fac_id, "ada@example.com", "--role", "member"]);
    assert_eq!(sent["status"], "invited");
    let people = admin(&["people", &org_id]);
    assert_eq!(people[0]["invitation_status"], "invited");
    let outbox = admin(&["outbox", "--to", "ada@example.com"]);
    assert!(outbox[0]["link"].as_str().unwrap().contains("/invite/"));
    // A wrong token is refused with a typed error.
    std::fs::write(dir.join("wrong"), "nope").unwrap();
    let out = Command::new(bin)
        .args(["admin", "--url", &url, "--ca-file"])
        .arg(certs.join("ca.pem"))
        .arg("--token-file")
        .arg(dir.join("wrong"))
        .args(["create-org", "X"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("admin_unauthorized"));
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_admin_console_refuses_a_certificate_it_does_not_trust() {
    let dir = tempfile_dir("untrusted");
    let (child, url, _certs, token_file) = serve_over_tls(&dir);
    let bin = BIN;
    // Without --ca-file, only the system's CAs are trusted: the request never leaves.
    let out = Command::new(bin)
        .args(["admin", "--url", &url, "--token-file"])
        .arg(&token_file)
        .args(["create-org", "Acme"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("request failed"), "{err}");
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_without_a_certificate_or_the_plain_http_flag_refuses_to_start() {
    let bin = env!("CARGO_BIN_EXE_keyway-backend");
    let out = Command::new(bin).args(["serve", "--db", ":memory:", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-cert") && err.contains("--insecure-plain-http"), "{err}");
}

#[test]
fn plain_http_is_served_only_with_the_flag_and_a_loud_warning() {
    let dir = tempfile_dir("plain");
    let bin = env!("CARGO_BIN_EXE_keyway-backend");
    let mut child = Running(
        Command::new(bin)
            .args(["serve", "--db", ":memory:", "--listen", "127.0.0.1:0", "--insecure-plain-http"])
            .arg("--admin-token-file")
            .arg(dir.join("admin-token"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let first = first_line_then_drain(child.0.stdout.take().unwrap());
    assert!(first.starts_with("listening on http://127.0.0.1:"), "{first}");
    let mut warning = String::new();
    BufReader::new(child.0.stderr.take().unwrap()).read_line(&mut warning).unwrap();
    assert!(warning.contains("WARNING") && warning.contains("PLAIN HTTP"), "{warning}");
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("keyway-backend-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The first line a child prints; the rest is read (and dropped) on a thread, as a
/// terminal would, so the child never writes into a closed pipe.
fn first_line_then_drain(stdout: std::process::ChildStdout) -> String {
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    first
}
