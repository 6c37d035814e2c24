//! The binary starts with one command on an empty machine and an operator can drive it.
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

#[test]
fn serve_prints_its_address_and_the_admin_command_drives_it() {
    let dir = std::env::temp_dir().join(format!("keyway-backend-serve-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("admin-token");
    let bin = env!("CARGO_BIN_EXE_keyway-backend");
    let mut child = Running(
        Command::new(bin)
            .args(["serve", "--db", ":memory:", "--listen", "127.0.0.1:0", "--admin-token-file"])
            .arg(&token_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("listening on ").unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let admin = |args: &[&str]| {
        let out = Command::new(bin)
            .args(["admin", "--url", &url, "--token-file"])
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
        .args(["admin", "--url", &url, "--token-file"])
        .arg(dir.join("wrong"))
        .args(["create-org", "X"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("admin_unauthorized"));
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
