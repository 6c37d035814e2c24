//! Test kit for delivery: the real backend binary (started, killed with SIGKILL, restarted
//! on the same database), a real SMTP server on loopback (aiosmtpd, `smtp_sink.py`), the
//! run's own CA for every TLS hop, and an admin and phone-side HTTPS client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyway_protocol::testkit::TestPhone;
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_keyway-backend");

/// A fresh folder for one test.
pub fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyway-mail-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The run's CA and a loopback certificate (`ca.pem`, `server.pem`, `server.key` in `dir/certs`).
pub fn certs(dir: &Path) -> PathBuf {
    let certs = dir.join("certs");
    keyway_backend::dev_certs::write_dev_certs(&certs).unwrap();
    certs
}

/// The python with aiosmtpd: `KEYWAY_TEST_PYTHON` (set by scripts/lib/setup.sh), else the
/// venv that set-up makes under the cache.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("KEYWAY_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("KEYWAY_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/keyway"));
    let p = cache.join("test-python/bin/python");
    assert!(
        p.exists(),
        "no python with aiosmtpd: run `source scripts/lib/setup.sh && keyway_test_python` (it makes {})",
        p.display()
    );
    p
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// How the SMTP sink listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkMode {
    Plain,
    Starttls,
    Implicit,
}

/// A real SMTP server (aiosmtpd) on loopback; stops when dropped.
pub struct SmtpSink {
    child: Child,
    _stdout: BufReader<std::process::ChildStdout>,
    pub port: u16,
    pub out: PathBuf,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One message the SMTP server accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub rcpt: Vec<String>,
    pub tls: bool,
    pub auth: Option<String>,
    pub raw: String,
}

impl Mail {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n ", " ").replace("\r\n\t", " ");
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    /// The text body, decoded from its transfer encoding (7bit or quoted-printable).
    pub fn text(&self) -> String {
        let body = self.raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let qp = self.header("Content-Transfer-Encoding").is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if !qp {
            return body.to_owned();
        }
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && let Some(Ok(b)) = joined.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }

    /// The six-digit code in the text.
    pub fn code(&self) -> String {
        six_digits(&self.text()).expect("a six-digit code in the email")
    }

    /// The first `https://` link in the text.
    pub fn link(&self) -> String {
        let text = self.text();
        let start = text.find("https://").expect("a link in the email");
        text[start..].split_whitespace().next().unwrap().to_owned()
    }
}

/// The first run of exactly six digits in `text`.
pub fn six_digits(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(5)).find_map(|i| {
        let run = &b[i..i + 6];
        let before = i == 0 || !b[i - 1].is_ascii_digit();
        let after = b.get(i + 6).is_none_or(|c| !c.is_ascii_digit());
        (before && after && run.iter().all(u8::is_ascii_digit)).then(|| text[i..i + 6].to_owned())
    })
}

impl SmtpSink {
    /// Starts the server writing into `out`; `port` 0 picks one. `extra` are more flags
    /// (`--auth U:P`, `--reply "451 …"`).
    pub fn start(out: &Path, mode: SinkMode, port: u16, certs: &Path, extra: &[&str]) -> Self {
        let mut cmd = Command::new(python());
        cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/smtp_sink.py"))
            .arg("--out")
            .arg(out)
            .args(["--port", &port.to_string()])
            .args([
                "--mode",
                match mode {
                    SinkMode::Plain => "plain",
                    SinkMode::Starttls => "starttls",
                    SinkMode::Implicit => "implicit",
                },
            ])
            .arg("--tls-cert")
            .arg(certs.join("server.pem"))
            .arg("--tls-key")
            .arg(certs.join("server.key"))
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line.strip_prefix("listening on ").unwrap().trim().parse().unwrap();
        Self { child, _stdout: stdout, port, out: out.to_owned() }
    }

    /// Every message accepted so far, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let meta: Value = serde_json::from_slice(&std::fs::read(p.with_extension("json")).unwrap()).unwrap();
                Mail {
                    rcpt: meta["rcpt"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect(),
                    tls: meta["tls"].as_bool().unwrap(),
                    auth: meta["auth"].as_str().map(str::to_owned),
                    raw: String::from_utf8(std::fs::read(&p).unwrap()).unwrap(),
                }
            })
            .collect()
    }

    /// Waits (up to 20 s) until at least `n` messages arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let m = self.mails();
            if m.len() >= n {
                return m;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {n} SMTP messages (have {})", m.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many RCPT commands the server was offered (one per delivery attempt).
    pub fn attempts(&self) -> usize {
        std::fs::read_to_string(self.out.join("attempts.log")).map(|s| s.lines().count()).unwrap_or(0)
    }
}

/// The real backend binary serving HTTPS on a file database in `dir`.
pub struct Backend {
    child: Child,
    // Kept open: the service prints more after its first line, and a closed pipe kills it.
    _stdout: BufReader<std::process::ChildStdout>,
    pub url: String,
    pub dir: PathBuf,
    pub token: String,
    http: reqwest::Client,
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Backend {
    /// Starts `serve` with the delivery flags `delivery`.
    pub fn start(dir: &Path, certs: &Path, delivery: &[String]) -> Self {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("backend.log")).unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--public-host", "keyway.test", "--db"])
            .arg(dir.join("keyway.sqlite"))
            .arg("--tls-cert")
            .arg(certs.join("server.pem"))
            .arg("--tls-key")
            .arg(certs.join("server.key"))
            .args(delivery)
            .env("RUST_LOG", "keyway_backend=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        let read = stdout.read_line(&mut first);
        let first = first.trim_end().to_owned();
        if read.is_err() || first.is_empty() {
            let _ = child.wait();
            panic!("the backend did not start: {}", std::fs::read_to_string(dir.join("backend.log")).unwrap());
        }
        let url = first.strip_prefix("listening on ").unwrap().to_owned();
        let token = std::fs::read_to_string(dir.join("keyway.sqlite.admin-token")).unwrap().trim().to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let root = reqwest::Certificate::from_pem(&std::fs::read(certs.join("ca.pem")).unwrap()).unwrap();
        let http = reqwest::Client::builder().tls_certs_only([root]).build().unwrap();
        Self { child, _stdout: stdout, url, dir: dir.to_owned(), token, http }
    }

    /// Kills the process with SIGKILL: no shutdown, nothing flushed on the way out.
    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{}", self.url, path);
        let mut req = if method == "GET" { self.http.get(url) } else { self.http.post(url) };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    /// An admin call that must succeed.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, Some(&self.token.clone()), body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v
    }

    /// A public call that must succeed.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.call("POST", path, None, Some(body)).await;
        assert!((200..300).contains(&status), "POST {path}: {status} {v}");
        v
    }

    /// An organisation with a site and a facility: (org id, facility id).
    pub async fn org_with_facility(&self) -> (i64, i64) {
        let org =
            self.admin("POST", "/v1/admin/orgs", Some(json!({ "name": "Riverside" }))).await["id"].as_i64().unwrap();
        let site =
            self.admin("POST", &format!("/v1/admin/orgs/{org}/sites"), Some(json!({ "name": "Main" }))).await["id"]
                .as_i64()
                .unwrap();
        let facility = self
            .admin("POST", &format!("/v1/admin/sites/{site}/facilities"), Some(json!({ "name": "Riverside Gym" })))
            .await["id"]
            .as_i64()
            .unwrap();
        (org, facility)
    }

    /// Outbox entries to `to`, newest last.
    pub async fn outbox(&self, to: &str) -> Vec<Value> {
        let to = to.replace('+', "%2B");
        self.admin("GET", &format!("/v1/admin/outbox?to={to}"), None).await.as_array().unwrap().clone()
    }

    /// Waits (up to 20 s) until the newest outbox entry to `to` is in `state`; returns it.
    pub async fn outbox_state(&self, to: &str, state: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let newest = self.outbox(to).await.pop();
            if let Some(m) = newest.as_ref().filter(|m| m["state"] == state) {
                return m.clone();
            }
            assert!(Instant::now() < deadline, "timed out waiting for {state}: {newest:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs in `identifier` with `code` on `phone`: the session tokens.
    pub async fn verify(&self, identifier: &str, code: &str, phone: &TestPhone) -> Value {
        self.post(
            "/v1/auth/verify",
            json!({ "identifier": identifier, "code": code, "device_public_key": URL_SAFE_NO_PAD.encode(phone.public_key()) }),
        )
        .await
    }

    /// Every row of the database as text (the file, read beside the running service).
    pub fn database_text(&self) -> String {
        let conn = rusqlite::Connection::open(self.dir.join("keyway.sqlite")).unwrap();
        keyway_backend::db::dump_all(&conn).unwrap()
    }
}

/// Path as a flag value.
pub fn arg(p: &Path) -> String {
    p.display().to_string()
}
