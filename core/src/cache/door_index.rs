//! The door index: which cached credentials may open which door, held in memory so the
//! lookup every unlock starts with is a hash-map probe instead of a three-table join.
//!
//! The index is built from one query the first time a door is looked up, and thrown away
//! when anything changes the cache: by this connection ([`Cache::write`](super::Cache)
//! drops it after every commit) or by another connection to the same file, which SQLite's
//! `PRAGMA data_version` reveals at every lookup. A cache file that holds a row this build
//! cannot read is never indexed: its lookups keep running the query, so they fail (or
//! succeed) exactly as they would without the index.

use super::{CacheError, StoredCredential, credential_row};
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::Arc;

/// Every live credential (its key neither revoked nor suspended) under the door it opens.
pub(super) struct DoorIndex {
    /// `PRAGMA data_version` when the index was built.
    data_version: i64,
    /// Door (as stored: 16 hex digits) → the credentials of every key that names it.
    doors: HashMap<String, Vec<Arc<Candidate>>>,
}

/// One credential and the window of the key it was issued under.
pub(super) struct Candidate {
    starts_at: i64,
    expires_at: i64,
    credential: StoredCredential,
}

/// The credentials of live keys (neither revoked nor suspended), with their doors: what
/// both the index and the lookup's fallback query read (`Cache::credential_for_door`).
macro_rules! live_credentials {
    () => {
        " FROM credentials c JOIN keys k ON k.grant_id = c.grant_id
          JOIN key_doors kd ON kd.grant_id = c.grant_id
          WHERE k.revoked = 0 AND k.suspended = 0 "
    };
}
pub(super) use live_credentials;

/// The query that builds the index: the lookup's join without the door and the time.
const BUILD: &str = concat!(
    "SELECT c.grant_id, c.credential_id, c.bytes, c.not_before, c.not_after, kd.lock_id, k.starts_at, k.expires_at",
    live_credentials!(),
    "ORDER BY c.grant_id"
);

impl DoorIndex {
    /// The version of the file as this connection sees it; changes when another
    /// connection commits.
    pub(super) fn data_version(conn: &Connection) -> Result<i64, CacheError> {
        Ok(conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?)
    }

    /// Whether the index still describes the file.
    pub(super) fn is_current(&self, data_version: i64) -> bool {
        self.data_version == data_version
    }

    /// Reads every live credential; `None` when a row cannot be read (the lookup then
    /// falls back to its query, which meets the same row only if it is asked for it).
    pub(super) fn build(conn: &Connection, data_version: i64) -> Option<Self> {
        let mut stmt = conn.prepare(BUILD).ok()?;
        let mut rows = stmt.query([]).ok()?;
        let mut doors: HashMap<String, Vec<Arc<Candidate>>> = HashMap::new();
        let mut last: Option<Arc<Candidate>> = None;
        while let Some(row) = rows.next().ok()? {
            let credential = credential_row(row).ok()?;
            let lock_id: String = row.get(5).ok()?;
            let candidate = match last.take() {
                // A key naming several doors: one candidate shared by all of them.
                Some(c) if c.credential.grant_id == credential.grant_id => c,
                _ => Arc::new(Candidate { starts_at: row.get(6).ok()?, expires_at: row.get(7).ok()?, credential }),
            };
            doors.entry(lock_id).or_default().push(Arc::clone(&candidate));
            last = Some(candidate);
        }
        Some(Self { data_version, doors })
    }

    /// The credential the lookup's query would answer: of those valid at `now` whose key
    /// is in its window, the one that lasts longest.
    pub(super) fn lookup(&self, lock_id_hex: &str, now: i64) -> Option<StoredCredential> {
        self.doors
            .get(lock_id_hex)?
            .iter()
            .filter(|c| {
                let cred = &c.credential;
                i64::from(cred.not_before) <= now
                    && i64::from(cred.not_after) >= now
                    && c.starts_at <= now
                    && c.expires_at >= now
            })
            .max_by_key(|c| c.credential.not_after)
            .map(|c| c.credential.clone())
    }
}
