//! The key cache's schema and its upgrades. Each migration is a step from the previous
//! version; `PRAGMA user_version` records how far a file has come. Never edit a shipped
//! step: add a new one.

use rusqlite::Connection;

/// Steps from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "
    CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE accounts (
        org_id       INTEGER PRIMARY KEY,
        organisation TEXT NOT NULL,
        role         TEXT NOT NULL
    );
    CREATE TABLE doors (
        lock_id          TEXT PRIMARY KEY,          -- 16 hex digits
        backend_id       INTEGER NOT NULL,
        name             TEXT NOT NULL,
        online           INTEGER NOT NULL,
        lock_public_key  BLOB NOT NULL,             -- HPKE key, 65 bytes
        lock_signing_key BLOB NOT NULL,             -- receipt key, 65 bytes
        bundle_version   INTEGER NOT NULL,          -- newest at the backend, as last seen
        synced_version   INTEGER NOT NULL,          -- what the lock last reported
        synced_at        INTEGER
    );
    CREATE TABLE keys (
        grant_id      INTEGER PRIMARY KEY,
        key_id        INTEGER NOT NULL,
        name          TEXT NOT NULL,
        organisation  TEXT NOT NULL,
        facility      TEXT NOT NULL,
        starts_at     INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        shareable     INTEGER NOT NULL,
        guest         INTEGER NOT NULL,
        revoked       INTEGER NOT NULL DEFAULT 0,
        revoke_reason TEXT
    );
    CREATE TABLE key_doors (
        grant_id INTEGER NOT NULL REFERENCES keys(grant_id) ON DELETE CASCADE,
        lock_id  TEXT NOT NULL,
        PRIMARY KEY (grant_id, lock_id)
    );
    CREATE INDEX key_doors_by_door ON key_doors(lock_id);
    -- Credentials are signed public statements bound to the device key: useless without
    -- it, so they may live here. Secrets (tokens, device key, tickets) never do.
    CREATE TABLE credentials (
        grant_id      INTEGER PRIMARY KEY REFERENCES keys(grant_id) ON DELETE CASCADE,
        credential_id TEXT NOT NULL,
        bytes         BLOB NOT NULL,
        not_before    INTEGER NOT NULL,
        not_after     INTEGER NOT NULL
    );
    CREATE TABLE bundles (
        lock_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        bytes   BLOB NOT NULL
    );
    CREATE TABLE receipt_outbox (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        lock_id    TEXT NOT NULL,
        receipt    BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0
    );
    ",
    // 2: suspended keys, and the administrator's words on a revoked or suspended key.
    "
    ALTER TABLE keys ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE keys ADD COLUMN message TEXT;
    ",
    // 3: profile, invitation_without_keys (issue 17): the person's own record, shown
    // offline (names, email, phone, the NFC card's numbers), and each account's access
    // ("no access yet") and who invited them.
    "
    CREATE TABLE profile (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        person_id       INTEGER NOT NULL,
        email           TEXT,
        phone           TEXT,
        first_name      TEXT,
        last_name       TEXT,
        card_hex        TEXT,
        card_decimal    TEXT,
        card_surface_id TEXT
    );
    ALTER TABLE accounts ADD COLUMN access TEXT NOT NULL DEFAULT 'not_yet_known';
    ALTER TABLE accounts ADD COLUMN invited_by TEXT;
    ",
];

/// The version a fresh database ends at.
pub(crate) const CURRENT_VERSION: usize = MIGRATIONS.len();

/// Brings `conn` up to [`CURRENT_VERSION`], one step per transaction.
pub(crate) fn upgrade(conn: &mut Connection) -> rusqlite::Result<usize> {
    let mut version: usize = conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    if version > CURRENT_VERSION {
        // A newer app wrote this file; refuse rather than guess.
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "cache schema {version} is newer than this build's {CURRENT_VERSION}"
        )));
    }
    while version < CURRENT_VERSION {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[version])?;
        tx.pragma_update(None, "user_version", (version + 1) as i64)?;
        tx.commit()?;
        version += 1;
    }
    Ok(version)
}
