//! The offline-first key cache: accounts' keys, doors, credentials, door-sync bundles
//! and the receipts waiting to be uploaded, in SQLite (WAL, one writer). Nothing secret
//! is stored here. The unlock's lookup (door → credential) is answered from memory.

mod door_index;
mod model;
mod profile;
mod schema;

pub use model::{
    AccessState, Account, AccountAccess, Card, Door, DoorRecord, Key, KeyStatus, Profile, RevokeReason,
    StoredCredential,
};

use crate::crash::crash_point;
use crate::timestamp::Timestamp;
use door_index::DoorIndex;
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::DoorId;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::path::Path;
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// Why the cache failed. Carries SQLite's message, which never holds secrets (none are stored).
#[derive(Debug, Error)]
pub enum CacheError {
    /// SQLite failed.
    #[error("key cache: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A row holds something this build cannot read (a corrupted or foreign file).
    #[error("key cache holds an invalid {0}")]
    Corrupt(&'static str),
    /// The cache's lock was poisoned by a panic elsewhere.
    #[error("key cache unavailable")]
    Poisoned,
}

/// The cache. Cheap to clone; all clones share one connection.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Mutex<Inner>>,
}

/// The connection and what is held in memory beside it.
struct Inner {
    conn: Connection,
    /// Door → credentials, for the unlock's lookup; `None` until built or after a change.
    doors: Option<DoorIndex>,
    /// The file's data version at which the index could not be built (a row this build
    /// cannot read): lookups run their query until the file changes.
    unindexable: Option<i64>,
}

/// A receipt waiting for the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReceipt {
    /// Outbox row id.
    pub id: i64,
    /// The door.
    pub lock_id: DoorId,
    /// The lock-signed receipt bytes.
    pub receipt: Vec<u8>,
}

impl Cache {
    /// Opens (creating or upgrading) the cache file at `path`.
    pub fn open(path: &Path) -> Result<Self, CacheError> {
        Self::setup(Connection::open(path)?)
    }

    /// A cache that lives in memory only.
    pub fn in_memory() -> Result<Self, CacheError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self, CacheError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Every query and write prepares its statement once per connection.
        conn.set_prepared_statement_cache_capacity(64);
        schema::upgrade(&mut conn)?;
        Ok(Self { inner: Arc::new(Mutex::new(Inner { conn, doors: None, unindexable: None })) })
    }

    /// Runs `f` in a write transaction, committed if it returns `Ok`.
    pub(crate) fn write<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R, CacheError>) -> Result<R, CacheError> {
        let mut inner = self.inner.lock().map_err(|_| CacheError::Poisoned)?;
        // Whatever the transaction does, the door index may no longer describe the file.
        inner.doors = None;
        inner.unindexable = None;
        let tx = inner.conn.transaction()?;
        let r = f(&tx)?;
        crash_point!("cache.before_commit");
        tx.commit()?;
        crash_point!("cache.after_commit");
        Ok(r)
    }

    /// Runs `f` with the connection for reading.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R, CacheError>) -> Result<R, CacheError> {
        let inner = self.inner.lock().map_err(|_| CacheError::Poisoned)?;
        f(&inner.conn)
    }

    /// A meta value.
    pub fn meta(&self, name: &str) -> Result<Option<String>, CacheError> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT value FROM meta WHERE name = ?1")?
                .query_row([name], |r| r.get(0))
                .optional()?)
        })
    }

    /// Sets a meta value.
    pub fn set_meta(&self, name: &str, value: &str) -> Result<(), CacheError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO meta(name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                params![name, value],
            )?;
            Ok(())
        })
    }

    /// Replaces the list of accounts.
    pub fn replace_accounts(&self, accounts: &[Account]) -> Result<(), CacheError> {
        self.write(|tx| {
            tx.execute("DELETE FROM accounts", [])?;
            for a in accounts {
                tx.execute(
                    "INSERT INTO accounts(org_id, organisation, role, access, invited_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![a.org_id, a.organisation, a.role, a.access.as_str(), a.invited_by],
                )?;
            }
            Ok(())
        })
    }

    /// The accounts, by name.
    pub fn accounts(&self) -> Result<Vec<Account>, CacheError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT org_id, organisation, role, access, invited_by FROM accounts ORDER BY organisation, org_id",
            )?;
            Ok(stmt
                .query_map([], |r| {
                    Ok(Account {
                        org_id: r.get(0)?,
                        organisation: r.get(1)?,
                        role: r.get(2)?,
                        access: AccountAccess::from_word(&r.get::<_, String>(3)?),
                        invited_by: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Marks keys revoked by grant id (and drops their credentials).
    pub fn mark_revoked(&self, grant_ids: &[i64]) -> Result<(), CacheError> {
        self.write(|tx| {
            for id in grant_ids {
                tx.execute("UPDATE keys SET revoked = 1 WHERE grant_id = ?1", [id])?;
                tx.execute("DELETE FROM credentials WHERE grant_id = ?1", [id])?;
            }
            Ok(())
        })
    }

    /// Inserts or updates doors.
    pub fn upsert_doors(&self, doors: &[DoorRecord]) -> Result<(), CacheError> {
        self.write(|tx| {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO doors(lock_id, backend_id, name, online, lock_public_key, lock_signing_key,
                                       bundle_version, synced_version, synced_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT(lock_id) DO UPDATE SET backend_id = excluded.backend_id, name = excluded.name,
                        online = excluded.online, lock_public_key = excluded.lock_public_key,
                        lock_signing_key = excluded.lock_signing_key,
                        bundle_version = MAX(bundle_version, excluded.bundle_version),
                        synced_version = MAX(synced_version, excluded.synced_version),
                        synced_at = COALESCE(excluded.synced_at, synced_at)",
            )?;
            for d in doors {
                upsert.execute(params![
                    d.lock_id.to_hex(),
                    d.backend_id,
                    d.name,
                    d.online,
                    &d.lock_public_key[..],
                    &d.lock_signing_key[..],
                    d.bundle_version,
                    d.synced_version,
                    d.synced_at
                ])?;
            }
            Ok(())
        })
    }

    /// Inserts or updates keys (with their door lists). A revoked or suspended key loses
    /// its credential at once: nothing that could open a door outlives a revocation here.
    pub fn upsert_keys(&self, keys: &[Key]) -> Result<(), CacheError> {
        self.write(|tx| {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO keys(grant_id, key_id, name, organisation, facility, starts_at, expires_at,
                                  shareable, guest, revoked, revoke_reason, suspended, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT(grant_id) DO UPDATE SET key_id = excluded.key_id, name = excluded.name,
                    organisation = excluded.organisation, facility = excluded.facility,
                    starts_at = excluded.starts_at, expires_at = excluded.expires_at,
                    shareable = excluded.shareable, guest = excluded.guest,
                    revoked = excluded.revoked, revoke_reason = excluded.revoke_reason,
                    suspended = excluded.suspended, message = excluded.message",
            )?;
            let mut forget_doors = tx.prepare_cached("DELETE FROM key_doors WHERE grant_id = ?1")?;
            let mut add_door = tx.prepare_cached("INSERT INTO key_doors(grant_id, lock_id) VALUES (?1, ?2)")?;
            let mut forget_credential = tx.prepare_cached("DELETE FROM credentials WHERE grant_id = ?1")?;
            for k in keys {
                let (revoked, reason, suspended, message) = match &k.status {
                    KeyStatus::Active => (false, None, false, None),
                    KeyStatus::Suspended { message } => (false, None, true, message.as_deref()),
                    KeyStatus::Revoked { reason, message } => (true, Some(reason.word()), false, message.as_deref()),
                };
                upsert.execute(params![
                    k.grant_id,
                    k.key_id,
                    k.name,
                    k.organisation,
                    k.facility,
                    k.starts_at,
                    k.expires_at,
                    k.shareable,
                    k.guest,
                    revoked,
                    reason,
                    suspended,
                    message
                ])?;
                forget_doors.execute([k.grant_id])?;
                for door in &k.doors {
                    add_door.execute(params![k.grant_id, door.to_hex()])?;
                }
                if !k.is_active() {
                    forget_credential.execute([k.grant_id])?;
                }
            }
            Ok(())
        })
    }

    /// Stores credentials, replacing older ones for the same grants. Credentials for
    /// unknown, revoked or suspended grants are ignored.
    pub fn store_credentials(&self, credentials: &[StoredCredential]) -> Result<usize, CacheError> {
        self.write(|tx| {
            let mut store = tx.prepare_cached(
                "INSERT INTO credentials(grant_id, credential_id, bytes, not_before, not_after)
                 SELECT ?1, ?2, ?3, ?4, ?5
                 WHERE EXISTS (SELECT 1 FROM keys WHERE grant_id = ?1 AND revoked = 0 AND suspended = 0)
                 ON CONFLICT(grant_id) DO UPDATE SET credential_id = excluded.credential_id,
                    bytes = excluded.bytes, not_before = excluded.not_before, not_after = excluded.not_after",
            )?;
            let mut stored = 0;
            for c in credentials {
                stored += store.execute(params![c.grant_id, c.credential_id, c.bytes, c.not_before, c.not_after])?;
            }
            Ok(stored)
        })
    }

    /// Every key, in grant order.
    pub fn keys(&self) -> Result<Vec<Key>, CacheError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT grant_id, key_id, name, organisation, facility, starts_at, expires_at, shareable, guest,
                        revoked, revoke_reason, suspended, message FROM keys ORDER BY grant_id",
            )?;
            let mut keys = stmt
                .query_map([], |r| {
                    let message: Option<String> = r.get(12)?;
                    let status = if r.get(9)? {
                        let reason: Option<String> = r.get(10)?;
                        KeyStatus::Revoked {
                            reason: reason.as_deref().map_or(RevokeReason::Other, RevokeReason::from_word),
                            message,
                        }
                    } else if r.get(11)? {
                        KeyStatus::Suspended { message }
                    } else {
                        KeyStatus::Active
                    };
                    Ok(Key {
                        grant_id: r.get(0)?,
                        key_id: r.get(1)?,
                        name: r.get(2)?,
                        organisation: r.get(3)?,
                        facility: r.get(4)?,
                        doors: Vec::new(),
                        starts_at: r.get(5)?,
                        expires_at: r.get(6)?,
                        shareable: r.get(7)?,
                        guest: r.get(8)?,
                        status,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            // Every key's doors in one pass (not one query per key: a member may hold
            // 10,000 keys, and a refresh reads them all twice).
            let mut doors: std::collections::HashMap<i64, Vec<DoorId>> = std::collections::HashMap::new();
            let mut stmt = c.prepare_cached("SELECT grant_id, lock_id FROM key_doors ORDER BY grant_id, lock_id")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let grant_id: i64 = row.get(0)?;
                let hex: String = row.get(1)?;
                doors.entry(grant_id).or_default().push(parse_door(&hex)?);
            }
            for key in &mut keys {
                key.doors = doors.remove(&key.grant_id).unwrap_or_default();
            }
            Ok(keys)
        })
    }

    /// Every door, by name.
    pub fn doors(&self) -> Result<Vec<DoorRecord>, CacheError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT lock_id, backend_id, name, online, lock_public_key, lock_signing_key, bundle_version,
                        synced_version, synced_at FROM doors ORDER BY name, lock_id",
            )?;
            let rows = stmt.query_map([], door_row)?.collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(|r| r.into_door()).collect()
        })
    }

    /// One door.
    pub fn door(&self, lock_id: &DoorId) -> Result<Option<DoorRecord>, CacheError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT lock_id, backend_id, name, online, lock_public_key, lock_signing_key, bundle_version,
                        synced_version, synced_at FROM doors WHERE lock_id = ?1",
            )?
            .query_row([lock_id.to_hex()], door_row)
            .optional()?
            .map(DoorRow::into_door)
            .transpose()
        })
    }

    /// The best credential for a door at `now`: valid now and lasting longest; else none.
    /// Answered from the in-memory door index (`door_index.rs`), rebuilt after any change.
    pub fn credential_for_door(
        &self,
        lock_id: &DoorId,
        now: UnixSeconds,
    ) -> Result<Option<StoredCredential>, CacheError> {
        let mut guard = self.inner.lock().map_err(|_| CacheError::Poisoned)?;
        let inner = &mut *guard;
        let version = DoorIndex::data_version(&inner.conn)?;
        if !inner.doors.as_ref().is_some_and(|index| index.is_current(version)) && inner.unindexable != Some(version) {
            inner.doors = DoorIndex::build(&inner.conn, version);
            inner.unindexable = inner.doors.is_none().then_some(version);
        }
        if let Some(index) = &inner.doors {
            return Ok(index.lookup(&lock_id.to_hex(), i64::from(now)));
        }
        Ok(inner
            .conn
            .prepare_cached(concat!(
                "SELECT c.grant_id, c.credential_id, c.bytes, c.not_before, c.not_after",
                door_index::live_credentials!(),
                "AND kd.lock_id = ?1 AND c.not_before <= ?2 AND c.not_after >= ?2
                 AND k.starts_at <= ?2 AND k.expires_at >= ?2
                 ORDER BY c.not_after DESC LIMIT 1"
            ))?
            .query_row(params![lock_id.to_hex(), now], credential_row)
            .optional()?)
    }

    /// Every credential held.
    pub fn credentials(&self) -> Result<Vec<StoredCredential>, CacheError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT grant_id, credential_id, bytes, not_before, not_after FROM credentials ORDER BY grant_id",
            )?;
            Ok(stmt.query_map([], credential_row)?.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// What a screen shows for `lock_id` at `now`.
    pub fn access_state(&self, lock_id: &DoorId, now: UnixSeconds) -> Result<AccessState, CacheError> {
        let now_t = Timestamp(now);
        let keys: Vec<Key> = self.keys()?.into_iter().filter(|k| k.doors.contains(lock_id)).collect();
        if keys.is_empty() {
            return Ok(AccessState::NoAccess);
        }
        if let Some(c) = self.credential_for_door(lock_id, now)? {
            return Ok(AccessState::Ready { until: Timestamp(c.not_after) });
        }
        let live: Vec<&Key> = keys.iter().filter(|k| k.is_active()).collect();
        if live.is_empty() {
            let suspended = keys.iter().any(|k| matches!(k.status, KeyStatus::Suspended { .. }));
            return Ok(if suspended { AccessState::Suspended } else { AccessState::Revoked });
        }
        if live.iter().any(|k| k.starts_at <= now_t && now_t <= k.expires_at) {
            return Ok(AccessState::AwaitingCredential);
        }
        if let Some(start) = live.iter().filter(|k| k.starts_at > now_t).map(|k| k.starts_at).min() {
            return Ok(AccessState::StartsAt { starts_at: start });
        }
        let ended = live.iter().map(|k| k.expires_at).max().unwrap_or(now_t);
        Ok(AccessState::Expired { expired_at: ended })
    }

    /// Stores a bundle if it is newer than the one held.
    pub fn store_bundle(&self, lock_id: &DoorId, version: u32, bytes: &[u8]) -> Result<(), CacheError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO bundles(lock_id, version, bytes) VALUES (?1, ?2, ?3)
                 ON CONFLICT(lock_id) DO UPDATE SET version = excluded.version, bytes = excluded.bytes
                 WHERE excluded.version > bundles.version",
                params![lock_id.to_hex(), version, bytes],
            )?;
            Ok(())
        })
    }

    /// The bundle held for a door.
    pub fn bundle(&self, lock_id: &DoorId) -> Result<Option<(u32, Vec<u8>)>, CacheError> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT version, bytes FROM bundles WHERE lock_id = ?1")?
                .query_row([lock_id.to_hex()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
        })
    }

    /// Records what a lock reported (after an unlock or sync).
    pub fn note_lock_version(&self, lock_id: &DoorId, version: u32, at: UnixSeconds) -> Result<(), CacheError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE doors SET synced_version = MAX(synced_version, ?2), synced_at = ?3 WHERE lock_id = ?1",
                params![lock_id.to_hex(), version, at],
            )?;
            Ok(())
        })
    }

    /// Queues a lock receipt for upload.
    pub fn queue_receipt(&self, lock_id: &DoorId, receipt: &[u8], now: UnixSeconds) -> Result<i64, CacheError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO receipt_outbox(lock_id, receipt, created_at) VALUES (?1, ?2, ?3)",
                params![lock_id.to_hex(), receipt, now],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Receipts waiting for upload, oldest first.
    pub fn pending_receipts(&self) -> Result<Vec<PendingReceipt>, CacheError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT id, lock_id, receipt FROM receipt_outbox ORDER BY id")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, hex, receipt)| Ok(PendingReceipt { id, lock_id: parse_door(&hex)?, receipt }))
                .collect()
        })
    }

    /// Removes a receipt the backend acknowledged.
    pub fn receipt_delivered(&self, id: i64) -> Result<(), CacheError> {
        self.write(|tx| {
            tx.execute("DELETE FROM receipt_outbox WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    /// Forgets everything (sign-out, account deletion): every row of every table, so a
    /// table added later is wiped too.
    pub fn wipe(&self) -> Result<(), CacheError> {
        self.write(|tx| {
            let tables: Vec<String> = {
                let mut stmt =
                    tx.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            // Children before parents would matter only without cascades; deferring the
            // foreign keys makes the order irrelevant.
            tx.execute_batch("PRAGMA defer_foreign_keys = ON;")?;
            for table in tables {
                tx.execute(&format!("DELETE FROM \"{}\"", table.replace('"', "\"\"")), [])?;
            }
            // AUTOINCREMENT's counters (how many receipts were ever queued) go too.
            let counters: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence')",
                [],
                |r| r.get(0),
            )?;
            if counters {
                tx.execute("DELETE FROM sqlite_sequence", [])?;
            }
            Ok(())
        })?;
        self.read(|c| {
            // Keep deleted rows from lingering in free pages and the WAL.
            // VACUUM writes the rebuilt file through the WAL: the last checkpoint moves it
            // into the main file, so no freed page there keeps a deleted row.
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
            Ok(())
        })
    }
}

fn parse_door(hex: &str) -> Result<DoorId, CacheError> {
    DoorId::from_hex(hex).ok_or(CacheError::Corrupt("lock id"))
}

struct DoorRow {
    lock_id: String,
    backend_id: i64,
    name: String,
    online: bool,
    lock_public_key: Vec<u8>,
    lock_signing_key: Vec<u8>,
    bundle_version: u32,
    synced_version: u32,
    synced_at: Option<UnixSeconds>,
}

fn door_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DoorRow> {
    Ok(DoorRow {
        lock_id: r.get(0)?,
        backend_id: r.get(1)?,
        name: r.get(2)?,
        online: r.get(3)?,
        lock_public_key: r.get(4)?,
        lock_signing_key: r.get(5)?,
        bundle_version: r.get(6)?,
        synced_version: r.get(7)?,
        synced_at: r.get(8)?,
    })
}

impl DoorRow {
    fn into_door(self) -> Result<DoorRecord, CacheError> {
        Ok(DoorRecord {
            lock_id: parse_door(&self.lock_id)?,
            backend_id: self.backend_id,
            name: self.name,
            online: self.online,
            lock_public_key: self.lock_public_key.try_into().map_err(|_| CacheError::Corrupt("lock public key"))?,
            lock_signing_key: self.lock_signing_key.try_into().map_err(|_| CacheError::Corrupt("lock signing key"))?,
            bundle_version: self.bundle_version,
            synced_version: self.synced_version,
            synced_at: self.synced_at,
        })
    }
}

fn credential_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCredential> {
    Ok(StoredCredential {
        grant_id: r.get(0)?,
        credential_id: r.get(1)?,
        bytes: r.get(2)?,
        not_before: r.get(3)?,
        not_after: r.get(4)?,
    })
}

#[cfg(test)]
mod tests;
