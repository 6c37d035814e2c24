//! The SQLite store: one connection (the single writer) behind a mutex, WAL, and
//! helpers that run a closure inside a transaction on a blocking thread. Doors changed by
//! a committed transaction are signalled to waiting online links ([`DoorChanges`]).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::door_changes::DoorChanges;
use crate::error::{Error, Result};
use crate::schema;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    /// `doors` rows touched by the transaction in progress (filled by the update hook).
    touched_doors: Arc<Mutex<Vec<i64>>>,
    changes: Arc<DoorChanges>,
    /// Nanoseconds the connection has been held, all callers together (the load bench
    /// reads it to tell a saturated writer from a saturated CPU).
    held_nanos: Arc<AtomicU64>,
}

/// The connection, held; adds the time it was held to [`Db::held_time`] when dropped.
struct Held<'a> {
    guard: MutexGuard<'a, Connection>,
    since: Instant,
    total: &'a AtomicU64,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let nanos = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.total.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db(..)")
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `:memory:`,
    /// and brings its schema up to date.
    pub fn open(path: &str) -> Result<Self> {
        let mut conn =
            if path == ":memory:" { Connection::open_in_memory()? } else { Connection::open(Path::new(path))? };
        // WAL lets readers of a file database (e.g. an operator's sqlite3) run beside the writer.
        if path != ":memory:" {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        // Hot paths prepare their statements once (`prepare_cached`); keep enough of them.
        conn.set_prepared_statement_cache_capacity(256);
        // Query-planner stability: a cached statement keeps its plan whatever values are
        // bound. Without it SQLite may re-prepare a statement at each new binding (a bound
        // value compared with a partial index's condition, `state = ?`, marks it so), which
        // made every cached statement of a 10,000-credential issuance cost a fresh parse.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        schema::migrate(&mut conn)?;
        // A backend that just started has no lock connected: links come back within seconds.
        conn.execute("UPDATE doors SET link_up = 0 WHERE link_up != 0", [])?;
        let touched_doors = Arc::new(Mutex::new(Vec::new()));
        let hook_list = touched_doors.clone();
        conn.update_hook(Some(move |_: rusqlite::hooks::Action, _: &str, table: &str, row: i64| {
            if table == "doors" {
                hook_list.lock().unwrap_or_else(|p| p.into_inner()).push(row);
            }
        }))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            touched_doors,
            changes: Arc::new(DoorChanges::default()),
            held_nanos: Arc::default(),
        })
    }

    /// How long the one connection has been held since the database was opened: its
    /// share of wall-clock time is how busy the single writer is.
    pub fn held_time(&self) -> Duration {
        Duration::from_nanos(self.held_nanos.load(Ordering::Relaxed))
    }

    /// Waits for the connection and holds it until the answer is dropped.
    fn hold(&self) -> Held<'_> {
        let guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        Held { guard, since: Instant::now(), total: &self.held_nanos }
    }

    /// The doors' change signals (for online links waiting on a door).
    pub fn door_changes(&self) -> &DoorChanges {
        &self.changes
    }

    /// After a transaction: signals the doors it changed if it committed, forgets them if not.
    fn after_transaction(&self, committed: bool) {
        let touched = std::mem::take(&mut *self.touched_doors.lock().unwrap_or_else(|p| p.into_inner()));
        if committed && !touched.is_empty() {
            self.changes.notify(touched);
        }
    }

    /// Runs `f` in an immediate (write) transaction on a blocking thread; commits on `Ok`.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut held = db.hold();
            let run = || -> Result<T> {
                let tx = held.guard.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let out = f(&tx)?;
                tx.commit()?;
                Ok(out)
            };
            let out = run();
            db.after_transaction(out.is_ok());
            out
        })
        .await
        .map_err(|e| Error::Internal(format!("database task: {e}")))?
    }

    /// Runs `f` in a transaction and commits even when it returns an error.
    ///
    /// For checks whose failures must be recorded (a wrong code counts as a guess).
    pub async fn write_always<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut held = db.hold();
            let run = || -> Result<Result<T>> {
                let tx = held.guard.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let out = f(&tx);
                tx.commit()?;
                Ok(out)
            };
            let out = run();
            db.after_transaction(out.is_ok());
            out?
        })
        .await
        .map_err(|e| Error::Internal(format!("database task: {e}")))?
    }

    /// Runs `f` with the connection (no transaction); for dumps and diagnostics.
    pub async fn with_conn<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let held = db.hold();
            let out = f(&held.guard);
            // Statements outside a transaction commit one by one.
            db.after_transaction(true);
            out
        })
        .await
        .map_err(|e| Error::Internal(format!("database task: {e}")))?
    }
}

/// Every row of every table rendered as text, for tests that check nothing secret is stored.
pub fn dump_all(conn: &Connection) -> Result<String> {
    let mut out = String::new();
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
    let tables: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    for t in tables {
        out.push_str(&format!("== {t}\n"));
        let mut s = conn.prepare(&format!("SELECT * FROM \"{t}\""))?;
        let n = s.column_count();
        let mut rows = s.query([])?;
        while let Some(row) = rows.next()? {
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i)?;
                match v {
                    rusqlite::types::Value::Null => out.push_str("NULL"),
                    rusqlite::types::Value::Integer(x) => out.push_str(&x.to_string()),
                    rusqlite::types::Value::Real(x) => out.push_str(&x.to_string()),
                    rusqlite::types::Value::Text(x) => out.push_str(&x),
                    rusqlite::types::Value::Blob(b) => {
                        // Blobs are shown as hex, base64url and lossy text so any encoding of a secret is caught.
                        out.push_str(&hex::encode(&b));
                        out.push('|');
                        out.push_str(&crate::secrets::b64(&b));
                        out.push('|');
                        out.push_str(&String::from_utf8_lossy(&b));
                    }
                }
                out.push('\t');
            }
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_database_uses_wal_and_keeps_data_across_opens() {
        let path = std::env::temp_dir().join(format!("keyway-db-test-{}.sqlite", std::process::id()));
        let p = path.to_string_lossy().into_owned();
        {
            let db = Db::open(&p).unwrap();
            let mode: String =
                db.with_conn(|c| Ok(c.pragma_query_value(None, "journal_mode", |r| r.get(0))?)).await.unwrap();
            assert_eq!(mode, "wal");
            db.write(|tx| Ok(tx.execute("INSERT INTO orgs (name, created_at) VALUES ('Acme', 1)", [])?)).await.unwrap();
        }
        let db = Db::open(&p).unwrap();
        let n: i64 = db.with_conn(|c| Ok(c.query_row("SELECT COUNT(*) FROM orgs", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(n, 1);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{p}{suffix}"));
        }
    }

    #[tokio::test]
    async fn a_failed_write_rolls_back_and_write_always_commits() {
        let db = Db::open(":memory:").unwrap();
        let r: Result<()> = db
            .write(|tx| {
                tx.execute("INSERT INTO orgs (name, created_at) VALUES ('A', 1)", [])?;
                Err(Error::Forbidden)
            })
            .await;
        assert!(r.is_err());
        let r: Result<()> = db
            .write_always(|tx| {
                tx.execute("INSERT INTO orgs (name, created_at) VALUES ('B', 1)", [])?;
                Err(Error::Forbidden)
            })
            .await;
        assert!(r.is_err());
        let names: Vec<String> = db
            .with_conn(|c| {
                let mut s = c.prepare("SELECT name FROM orgs")?;
                Ok(s.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
            })
            .await
            .unwrap();
        assert_eq!(names, ["B"]);
    }
}
