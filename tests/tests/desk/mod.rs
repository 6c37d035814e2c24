//! What the client's tests share: a desk (a home folder and the binary pointed at a
//! backend), typing the one-time code the backend sent, and reading the output.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, missing_docs)]

pub mod keyring_service;

use keyway_sandbox::world::World;
use serde_json::Value;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub fn now() -> u32 {
    u32::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// A computer with the client installed, pointed at the world's backend (HTTPS, trusting
/// the run's CA with `--ca-file`).
pub struct Desk {
    pub home: tempfile::TempDir,
    pub backend: String,
    pub ca_file: Option<PathBuf>,
    pub env: Vec<(String, String)>,
}

impl Desk {
    pub fn new(world: &World) -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            backend: world.base_url.clone(),
            ca_file: Some(world.ca_file().to_owned()),
            env: Vec::new(),
        }
    }

    /// A desk pointed at `backend`, trusting only the system's CAs.
    pub fn at(backend: &str) -> Self {
        Self { home: tempfile::tempdir().unwrap(), backend: backend.to_owned(), ca_file: None, env: Vec::new() }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyway-client"));
        cmd.arg("--home")
            .arg(self.home.path())
            .args(["--backend", &self.backend, "--link-host", "keyway.test"])
            .args(self.ca_file.iter().flat_map(|f| [std::ffi::OsStr::new("--ca-file"), f.as_os_str()]))
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .env("NO_COLOR", "1")
            // Secrets in private files unless a test brings a keyring: the machine's own
            // desktop session, if any, is never touched.
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("KEYWAY_SECRETS", "files")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    /// Keeps this desk's secrets in `keyring` (or, with `None`, lets the client choose
    /// on a computer without any keyring).
    pub fn with_keyring(mut self, keyring: Option<&keyring_service::KeyringService>) -> Self {
        self.env.push(("KEYWAY_SECRETS".into(), "auto".into()));
        if let Some(keyring) = keyring {
            self.env.push(("DBUS_SESSION_BUS_ADDRESS".into(), keyring.address().into()));
        }
        self
    }

    /// Runs a command with nothing to type.
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
    }

    /// Runs a command that asks for the one-time code sent to `to`, and types it (or `typed`).
    pub async fn run_with_code(&self, world: &World, to: &str, args: &[&str], typed: Option<&str>) -> Output {
        let before = codes_sent(world, to).await;
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut code = None;
        for _ in 0..200 {
            if child.try_wait().unwrap().is_some() {
                // It ended before a code was sent: show why.
                return child.wait_with_output().unwrap();
            }
            let sent = codes_sent(world, to).await;
            if sent.len() > before.len() {
                code = sent.last().cloned();
                break;
            }
            // Polls a condition (the code in the outbox), bounded at 10 s: another process
            // sends it, and gives no event to wait on.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let code = code.expect("a code was sent while the command waited");
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}", typed.unwrap_or(&code)).unwrap();
        drop(stdin);
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap()
    }
}

pub async fn codes_sent(world: &World, to: &str) -> Vec<String> {
    let (_, messages) = world.admin_call("GET", &format!("v1/admin/outbox?to={}", to.replace('+', "%2B")), None).await;
    messages
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["kind"] == "sign_in_code")
                .filter_map(|m| m["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

pub fn assert_one_line_error(out: &Output, code: i32) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stdout: {}\nstderr: {err}", stdout(out));
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("keyway: "), "{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace") && !err.contains("internal error"), "{err}");
}
