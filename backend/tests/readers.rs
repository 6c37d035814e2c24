//! The read-only connections beside the single writer (`Db::read`): they see what was
//! committed, a long read and a write do not wait for each other, a read path cannot
//! write, and a member's refresh (session check, profile, keys, pending doors) never takes
//! the writer. File databases in WAL mode, as in production.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use keyway_api::GrantSpec;
use keyway_backend::db::Db;
use keyway_backend::error::Result;
use keyway_backend::{AppState, Config, doors, keys, orgs, people, sessions};
use rusqlite::Transaction;

/// How long a test waits for the other side before calling it blocked.
const PATIENCE: Duration = Duration::from_secs(10);

/// A database file in a folder of its own, removed when dropped.
struct FileDb {
    db: Db,
    dir: std::path::PathBuf,
}

impl Drop for FileDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn file_db(name: &str) -> FileDb {
    let dir = std::env::temp_dir().join(format!("keyway-readers-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::open(&dir.join("backend.sqlite").to_string_lossy()).unwrap();
    assert!(db.reader_count() >= 2, "a file database has readers beside the writer");
    FileDb { db, dir }
}

fn org_count(tx: &Transaction<'_>) -> Result<i64> {
    Ok(tx.query_row("SELECT COUNT(*) FROM orgs", [], |r| r.get(0))?)
}

async fn add_org(db: &Db, name: &'static str) {
    db.write(move |tx| Ok(tx.execute("INSERT INTO orgs (name, created_at) VALUES (?1, 1)", [name])?)).await.unwrap();
}

/// Waits on a std channel without holding up the runtime.
async fn arrives(rx: mpsc::Receiver<()>) -> bool {
    tokio::task::spawn_blocking(move || rx.recv_timeout(PATIENCE).is_ok()).await.unwrap()
}

#[tokio::test]
async fn a_reader_sees_every_write_committed_before_it() {
    let f = file_db("committed");
    for (i, name) in ["Acme", "Riverside", "Harbour"].into_iter().enumerate() {
        add_org(&f.db, name).await;
        let seen = f.db.read(org_count).await.unwrap();
        assert_eq!(seen, i64::try_from(i).unwrap() + 1, "the read right after a commit sees it");
    }
    // Every reader in the pool sees it, not only the one that happened to be used.
    let reads = (0..16).map(|_| {
        let db = f.db.clone();
        tokio::spawn(async move { db.read(org_count).await })
    });
    for read in reads {
        assert_eq!(read.await.unwrap().unwrap(), 3);
    }
    assert!(f.db.read_time() > Duration::ZERO, "the reads were counted as the readers' time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_read_does_not_hold_up_a_write() {
    let f = file_db("long-read");
    add_org(&f.db, "Acme").await;
    let (began, read_began) = mpsc::channel();
    let (committed, write_committed) = mpsc::channel::<()>();
    let db = f.db.clone();
    let read = tokio::spawn(async move {
        db.read(move |tx| {
            let before = org_count(tx)?;
            began.send(()).ok();
            // The read stays open on its snapshot until the write has committed.
            let write_done = write_committed.recv_timeout(PATIENCE).is_ok();
            let after = org_count(tx)?;
            Ok((before, write_done, after))
        })
        .await
    });
    assert!(arrives(read_began).await, "the read started");
    add_org(&f.db, "Riverside").await;
    committed.send(()).unwrap();
    let (before, write_done, after) = read.await.unwrap().unwrap();
    assert!(write_done, "the write committed while the read was still open");
    assert_eq!((before, after), (1, 1), "an open read keeps the snapshot it started on");
    assert_eq!(f.db.read(org_count).await.unwrap(), 2, "the next read sees the write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_write_does_not_hold_up_a_read() {
    let f = file_db("long-write");
    add_org(&f.db, "Acme").await;
    let (began, write_began) = mpsc::channel();
    let (read_done, read_finished) = mpsc::channel::<()>();
    let db = f.db.clone();
    let write = tokio::spawn(async move {
        db.write(move |tx| {
            tx.execute("INSERT INTO orgs (name, created_at) VALUES ('Riverside', 1)", [])?;
            began.send(()).ok();
            // The write stays open, uncommitted, until a read has finished.
            Ok(read_finished.recv_timeout(PATIENCE).is_ok())
        })
        .await
    });
    assert!(arrives(write_began).await, "the write started");
    let seen = f.db.read(org_count).await.unwrap();
    read_done.send(()).unwrap();
    assert!(write.await.unwrap().unwrap(), "the read finished while the write was still open");
    assert_eq!(seen, 1, "a read does not see a write that has not committed");
    assert_eq!(f.db.read(org_count).await.unwrap(), 2);
}

#[tokio::test]
async fn a_read_path_cannot_write_on_a_file_database() {
    let f = file_db("query-only");
    let tried = f.db.read(|tx| Ok(tx.execute("INSERT INTO orgs (name, created_at) VALUES ('Sneaky', 1)", [])?)).await;
    assert!(tried.is_err(), "a read-only connection refused the insert");
    assert_eq!(f.db.read(org_count).await.unwrap(), 0);
    add_org(&f.db, "Acme").await;
    assert_eq!(f.db.read(org_count).await.unwrap(), 1, "the writer still writes");
}

#[tokio::test]
async fn a_read_path_cannot_write_on_an_in_memory_database_either() {
    // Tests run on `:memory:`: there reads take the writer with `query_only` on, so a read
    // path that writes fails in every test that uses it.
    let db = Db::open(":memory:").unwrap();
    assert_eq!(db.reader_count(), 0);
    let tried = db.read(|tx| Ok(tx.execute("INSERT INTO orgs (name, created_at) VALUES ('Sneaky', 1)", [])?)).await;
    assert!(tried.is_err(), "query_only refused the insert");
    // Switched back off: the writer writes, and the reads see it.
    add_org(&db, "Acme").await;
    assert_eq!(db.read(org_count).await.unwrap(), 1);
}

/// A backend on loopback (plain HTTP: this is about the database, not TLS) on a file
/// database, with one member holding a key to an offline door, signed in.
struct Backend {
    base: String,
    state: AppState,
    token: String,
    person: i64,
    http: reqwest::Client,
    _file: FileDb,
}

async fn backend(name: &str) -> Backend {
    let file = file_db(name);
    let config = Config::random("keyway.invalid").unwrap();
    let state = AppState::new(file.db.clone(), Arc::new(keyway_backend::clock::SystemClock), &config).unwrap();
    let device = phone_key();
    let lock_keys = (phone_key(), phone_key());
    let (person, token) = state
        .write(move |tx, st, now| {
            let org = orgs::create_org(tx, "Riverside Gym", now)?;
            let (site, _) = orgs::create_site(tx, st.secrets(), org, "Main", None, now)?;
            let facility = orgs::create_facility(tx, site, "Gym", now)?;
            let door = doors::create(tx, facility, "Back gate", b"readgate", &lock_keys.0, &lock_keys.1, false, now)?;
            let key = keys::create_key(tx, facility, "Members", &[door], now)?;
            let person = people::create_named(tx, "Ada", "Lovelace", now)?;
            people::ensure_membership(tx, person, org, "member", now)?;
            let spec = GrantSpec { key_id: key, starts_at: None, expires_at: now + 86_400, shareable: false };
            keys::grant(tx, person, &spec, now)?;
            Ok((person, sessions::create(tx, st.secrets(), person, &device, now)?.access_token))
        })
        .await
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let running = keyway_backend::start(state.clone(), "127.0.0.1:0").await.unwrap();
    let http = reqwest::Client::builder().build().unwrap();
    Backend { base: format!("http://{}", running.addr), state, token, person, http, _file: file }
}

impl Backend {
    async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let answer = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// The writer's held time once nothing else (the outbox sender's first look) holds it.
    async fn quiet_writer(&self) -> Duration {
        let mut last = self.state.db().held_time();
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.state.db().held_time();
            if now == last {
                return now;
            }
            last = now;
        }
        panic!("the writer never went quiet");
    }
}

/// A fresh P-256 public key (65 bytes, uncompressed): a phone, or a lock.
fn phone_key() -> Vec<u8> {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    pair.public_key().as_ref().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_refresh_never_takes_the_writer() {
    let b = backend("refresh").await;
    let held = b.quiet_writer().await;
    let read_before = b.state.db().read_time();
    let (status, profile) = b.get("/v1/me").await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["first_name"], "Ada");
    let (status, keys) = b.get("/v1/me/keys").await;
    assert_eq!(status, 200, "{keys}");
    assert_eq!(keys["keys"].as_array().map(Vec::len), Some(1));
    let cursor = keys["cursor"].as_i64().unwrap();
    let (status, changed) = b.get(&format!("/v1/me/keys?since={cursor}")).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["keys"].as_array().map(Vec::len), Some(0), "nothing changed since the cursor");
    let (status, pending) = b.get("/v1/door-sync/pending").await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(pending["doors"].as_array().map(Vec::len), Some(1), "the new offline door waits for a sync");
    for path in ["/v1/me/shares", "/v1/me/doorcodes"] {
        let (status, body) = b.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    assert_eq!(b.state.db().held_time(), held, "no request of the refresh took the writer");
    assert!(b.state.db().read_time() > read_before, "the readers answered them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_member_changed_shows_in_their_next_refresh() {
    let b = backend("read-your-writes").await;
    assert_eq!(b.get("/v1/me").await.1["first_name"], "Ada");
    let answer = b
        .http
        .post(format!("{}/v1/me/name", b.base))
        .bearer_auth(&b.token)
        .json(&serde_json::json!({ "first_name": "Augusta", "last_name": "King" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let (status, profile) = b.get("/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(profile["first_name"], "Augusta", "the reader sees the name the writer just committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_by_the_writer_is_refused_by_the_readers_at_once() {
    let b = backend("revoked").await;
    assert_eq!(b.get("/v1/me").await.0, 200);
    let person = b.person;
    b.state
        .write(move |tx, _, now| {
            let session: i64 = tx.query_row("SELECT id FROM sessions WHERE person_id = ?1", [person], |r| r.get(0))?;
            sessions::revoke(tx, session, "signed_out", now)
        })
        .await
        .unwrap();
    for path in ["/v1/me", "/v1/me/keys", "/v1/door-sync/pending"] {
        let (status, body) = b.get(path).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"]["code"], "unauthenticated", "{path}");
    }
}
