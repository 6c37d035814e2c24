//! The read-only connections beside the single writer: in WAL mode a reader sees the last
//! committed state and neither waits for the writer nor makes it wait, so the requests
//! that only read (the session check, a member's profile, keys and pending doors) stop
//! queueing behind the writes.
//!
//! Each connection is opened `SQLITE_OPEN_READ_ONLY` and with `PRAGMA query_only`, so a
//! read path that tries to write fails loudly instead of writing beside the writer.

use std::path::Path;
use std::sync::{Condvar, Mutex};

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;

/// A few read-only connections, lent out one at a time.
pub(crate) struct Readers {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
    count: usize,
}

impl Readers {
    /// How many readers a database gets: two per core (a blocking thread holding one can be
    /// descheduled, and the others keep going), at least 2 and at most 8.
    pub(crate) fn default_count() -> usize {
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
        (2 * cores).clamp(2, 8)
    }

    /// Opens `count` read-only connections to the database file at `path`. The writer must
    /// have opened it first: the schema and WAL mode are in place.
    pub(crate) fn open(path: &str, count: usize) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let mut idle = Vec::with_capacity(count);
        for _ in 0..count {
            let conn = Connection::open_with_flags(Path::new(path), flags)?;
            // Belt and braces over the read-only open: no statement may change the file.
            conn.pragma_update(None, "query_only", "ON")?;
            // A reader waits (rarely: only while a checkpoint resets the WAL) instead of failing.
            conn.pragma_update(None, "busy_timeout", 5000)?;
            conn.set_prepared_statement_cache_capacity(256);
            crate::db::stable_plans(&conn)?;
            idle.push(conn);
        }
        Ok(Self { idle: Mutex::new(idle), returned: Condvar::new(), count })
    }

    /// How many connections the pool holds.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Waits for an idle reader and lends it until the answer is dropped.
    pub(crate) fn lend(&self) -> Lent<'_> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(conn) = idle.pop() {
                return Lent { conn: Some(conn), pool: self };
            }
            idle = self.returned.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A reader on loan; goes back to the pool when dropped.
pub(crate) struct Lent<'a> {
    conn: Option<Connection>,
    pool: &'a Readers,
}

impl Lent<'_> {
    /// The connection lent.
    pub(crate) fn conn(&mut self) -> &mut Connection {
        // Always `Some` until dropped.
        self.conn.as_mut().unwrap_or_else(|| unreachable!("a lent reader is returned only when dropped"))
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            self.pool.returned.notify_one();
        }
    }
}
