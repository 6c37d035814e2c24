//! Entry points for the fuzz targets in `fuzz/` (not part of the app's API): the core's
//! decoders of outside input — backend answers, cached rows, the stored session — reached
//! without a network, a radio or a phone. Each runs exactly the code the journeys run.

use crate::api::decode_answer;
use crate::api::session::StoredSession;
use crate::cache::{Cache, CacheError};
use crate::error::Error;
use crate::refresh::{check_bundle, convert_credentials, convert_door, convert_keys};
use keyway_api::{
    CodeSentResponse, CredentialsResponse, InvitationPreview, KeysResponse, PendingDoors, Profile, SessionTokens,
    ShareCreated, SignedBundle,
};
use keyway_protocol::ids::DoorId;
use reqwest::StatusCode;

/// How many kinds of answer [`api_answer`] tells apart (its `endpoint` is taken modulo this).
pub const API_ENDPOINTS: u8 = 11;

/// Decodes `body` as the backend's answer to one endpoint (chosen by `endpoint`), with the
/// given HTTP status and content type, then converts it as the core does (keys and doors
/// for the cache, credentials, a bundle for `door`); a refusal is mapped to the core's
/// typed error. Returns whether the answer was accepted. Never panics on any input.
pub fn api_answer(endpoint: u8, status: u16, is_json: bool, body: &[u8], door: DoorId) -> bool {
    let Ok(status) = StatusCode::from_u16(status) else {
        return false;
    };
    let accepted = match endpoint % API_ENDPOINTS {
        0 => decode_answer::<CodeSentResponse>(status, is_json, body).map(drop),
        1 => decode_answer::<SessionTokens>(status, is_json, body).map(drop),
        2 => decode_answer::<InvitationPreview>(status, is_json, body).map(drop),
        3 => decode_answer::<Profile>(status, is_json, body).map(drop),
        4 => decode_answer::<KeysResponse>(status, is_json, body).map(|r| keys_into_cache(&r)),
        5 => decode_answer::<PendingDoors>(status, is_json, body).map(|p| {
            for d in &p.doors {
                let _ = convert_door(d);
            }
        }),
        6 => decode_answer::<CredentialsResponse>(status, is_json, body).map(|r| {
            let _ = convert_credentials(r);
        }),
        7 => decode_answer::<ShareCreated>(status, is_json, body).map(drop),
        8 => decode_answer::<SignedBundle>(status, is_json, body).map(|view| bundle_for(&view, door)),
        9 => decode_answer::<serde_json::Value>(status, is_json, body).map(drop),
        _ => decode_answer::<()>(status, is_json, body),
    };
    match accepted {
        Ok(()) => true,
        Err(e) => {
            // The typed error a screen would get, and its words, must not panic either.
            let _ = Error::from(e.clone()).to_string();
            let _ = (e.code(), e.detail_i64("attempts_left"), e.is_transient());
            false
        }
    }
}

fn keys_into_cache(response: &KeysResponse) {
    let Ok((keys, doors)) = convert_keys(response) else { return };
    let Ok(cache) = Cache::in_memory() else { return };
    // The cache must take whatever conversion let through.
    let stored = cache.upsert_doors(&doors).and_then(|()| cache.upsert_keys(&keys));
    if stored.is_ok() {
        let _ = cache.mark_revoked(&response.revoked_grant_ids);
        let _ = cache.keys();
        let _ = cache.doors();
    }
}

fn bundle_for(view: &SignedBundle, door: DoorId) {
    let door = crate::cache::DoorRecord {
        lock_id: door,
        backend_id: 1,
        name: String::new(),
        online: false,
        lock_public_key: [0; 65],
        lock_signing_key: [0; 65],
        bundle_version: 0,
        synced_version: 0,
        synced_at: None,
    };
    let _ = check_bundle(view, &door);
}

/// The session tokens as read back from the secure store (a foreign or damaged entry).
pub fn stored_session(bytes: &[u8]) -> bool {
    serde_json::from_slice::<StoredSession>(bytes).is_ok()
}

/// One value for a cached column: what a damaged or foreign cache file might hold.
#[derive(Debug, Clone)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer.
    Integer(i64),
    /// Text.
    Text(String),
    /// A blob.
    Blob(Vec<u8>),
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Cell::Null => ValueRef::Null,
            Cell::Integer(i) => ValueRef::Integer(*i),
            Cell::Text(s) => ValueRef::Text(s.as_bytes()),
            Cell::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// The cache's tables and their columns, in the order [`cached_rows`] fills them.
pub const TABLES: &[(&str, &[&str])] = &[
    (
        "doors",
        &[
            "lock_id",
            "backend_id",
            "name",
            "online",
            "lock_public_key",
            "lock_signing_key",
            "bundle_version",
            "synced_version",
            "synced_at",
        ],
    ),
    (
        "keys",
        &[
            "grant_id",
            "key_id",
            "name",
            "organisation",
            "facility",
            "starts_at",
            "expires_at",
            "shareable",
            "guest",
            "revoked",
            "revoke_reason",
        ],
    ),
    ("key_doors", &["grant_id", "lock_id"]),
    ("credentials", &["grant_id", "credential_id", "bytes", "not_before", "not_after"]),
    ("bundles", &["lock_id", "version", "bytes"]),
    ("receipt_outbox", &["lock_id", "receipt", "created_at"]),
    ("accounts", &["org_id", "organisation", "role"]),
    ("meta", &["name", "value"]),
];

/// Writes `rows` (table index into [`TABLES`], then one cell per column) straight into a
/// fresh in-memory cache, as a damaged or foreign file could hold them, then reads
/// everything back through the cache's own readers for `door` at `now`. Each reader
/// returns rows or [`CacheError`]; none may panic. Returns how many rows went in.
pub fn cached_rows(rows: &[(usize, Vec<Cell>)], door: DoorId, now: u32) -> usize {
    let Ok(cache) = Cache::in_memory() else { return 0 };
    let mut inserted = 0;
    for (table, cells) in rows {
        let Some((name, columns)) = TABLES.get(*table) else { continue };
        let placeholders = vec!["?"; columns.len()].join(", ");
        let sql = format!("INSERT INTO {name}({}) VALUES ({placeholders})", columns.join(", "));
        let params: Vec<&dyn rusqlite::ToSql> =
            cells.iter().take(columns.len()).map(|c| c as &dyn rusqlite::ToSql).collect();
        if params.len() != columns.len() {
            continue;
        }
        let written = cache.write(|tx| Ok(tx.execute(&sql, params.as_slice())?));
        inserted += usize::from(written.is_ok());
    }
    let results: [Result<(), CacheError>; 8] = [
        cache.keys().map(drop),
        cache.doors().map(drop),
        cache.door(&door).map(drop),
        cache.credentials().map(drop),
        cache.credential_for_door(&door, now).map(drop),
        cache.access_state(&door, now).map(drop),
        cache.bundle(&door).map(drop),
        cache.pending_receipts().map(drop),
    ];
    for r in results {
        if let Err(e) = r {
            // The typed error and its words, as the app would see them.
            let _ = Error::from(e).to_string();
        }
    }
    let _ = (cache.accounts(), cache.meta("keys_cursor"));
    inserted
}
