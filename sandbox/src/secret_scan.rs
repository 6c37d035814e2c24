//! Looking for secrets where they must never be: in logs, in the SQLite cache and its
//! side files. One scan serves every leak test, and a test of its own plants secrets to
//! prove it sees them (`tests/tests/secrets_stay_secret.rs`).
//!
//! Each secret is looked for in every form a careless line of code could write it in:
//! raw bytes; lower- and upper-case hex; base64 with the standard and the URL-safe
//! alphabet, padded or not, and at each of the three byte alignments, so a secret inside
//! a larger encoded record (a ticket record, a PKCS#8 document, a JSON entry) is found
//! too; and Rust's `Debug` of a byte slice (`12, 255, 3`). Secrets are split into their
//! individual values first ([`phone_secrets`]): the access and refresh tokens out of the
//! session entry, the 32-byte secret out of a ticket record, the raw private scalar out
//! of the device key's PKCS#8.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use keyway_core::platform::SecureStore;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// The shortest secret worth scanning for: shorter values match by chance.
pub const SHORTEST_SECRET: usize = 6;

/// One secret value and what it is.
#[derive(Clone, Debug)]
pub struct Secret {
    /// What it is (`access token`, `ticket/… secret`, `device key scalar`).
    pub what: String,
    /// Its bytes.
    pub value: Vec<u8>,
}

impl Secret {
    /// A secret named `what`.
    pub fn new(what: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self { what: what.into(), value: value.into() }
    }
}

/// Somewhere a secret must not be: a log, a database file, a table's values.
#[derive(Clone, Debug)]
pub struct Place {
    /// What it is (`log`, a file path, `table credentials`).
    pub what: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A secret found somewhere it must not be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leak {
    /// The secret's [`Secret::what`].
    pub secret: String,
    /// The form it was found in (`hex upper`, `base64 url at offset 2`, …).
    pub form: String,
    /// The place's [`Place::what`].
    pub place: String,
}

/// Every form `secret` is looked for in, each with its name.
///
/// # Panics
/// If the secret is shorter than [`SHORTEST_SECRET`]: a scan for it would prove nothing.
pub fn forms(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    assert!(secret.len() >= SHORTEST_SECRET, "a {}-byte secret is too short to look for", secret.len());
    let mut forms = vec![
        ("raw".to_owned(), secret.to_vec()),
        ("hex lower".to_owned(), hex::encode(secret).into_bytes()),
        ("hex upper".to_owned(), hex::encode_upper(secret).into_bytes()),
        ("debug bytes".to_owned(), debug_bytes(secret).into_bytes()),
    ];
    for (alphabet, engine) in [("standard", &STANDARD_NO_PAD), ("url", &URL_SAFE_NO_PAD)] {
        for offset in 0..3 {
            forms.push((format!("base64 {alphabet} at offset {offset}"), base64_interior(engine, secret, offset)));
        }
    }
    forms
}

/// `12, 255, 3`: what `{:?}` of a byte slice writes, without the brackets so it matches
/// inside a longer slice.
fn debug_bytes(secret: &[u8]) -> String {
    secret.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}

/// The base64 characters that depend only on `secret` when it sits `offset` bytes into
/// an encoded stream (offset taken mod 3): whatever surrounds it, padded or not, these
/// characters appear in the encoding.
fn base64_interior(engine: &base64::engine::GeneralPurpose, secret: &[u8], offset: usize) -> Vec<u8> {
    let mut framed = vec![0u8; offset];
    framed.extend_from_slice(secret);
    let encoded = engine.encode(&framed).into_bytes();
    // Character i carries bits [6i, 6i + 6); the secret holds bits [8·offset, 8·len).
    let first = (8 * offset).div_ceil(6);
    let end = (8 * framed.len()) / 6;
    encoded[first..end].to_vec()
}

/// Every (secret, form, place) where a secret was found; empty when nothing leaked.
pub fn find_leaks(secrets: &[Secret], places: &[Place]) -> Vec<Leak> {
    let mut leaks = Vec::new();
    for secret in secrets {
        for (form, needle) in forms(&secret.value) {
            for place in places {
                if contains(&place.bytes, &needle) {
                    leaks.push(Leak { secret: secret.what.clone(), form: form.clone(), place: place.what.clone() });
                }
            }
        }
    }
    leaks
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every individual secret value in a phone's secure store: the access and refresh
/// tokens of the session, each ticket's secret, the device key's PKCS#8 and its raw
/// private scalar; any other entry whole.
///
/// # Panics
/// On an entry that does not have the shape the core writes (the test should fail then).
pub fn phone_secrets(store: &dyn SecureStore, names: &[String]) -> Vec<Secret> {
    let mut secrets = Vec::new();
    for name in names {
        let Some(value) = store.get(name).ok().flatten() else { continue };
        if name == keyway_core::platform::secret_names::SESSION_SECRET {
            let session: serde_json::Value = serde_json::from_slice(&value).unwrap_or_default();
            for field in ["access_token", "refresh_token"] {
                let token = session[field].as_str().unwrap_or_else(|| panic!("the session entry has no {field}"));
                secrets.push(Secret::new(field.replace('_', " "), token.as_bytes()));
            }
        } else if name.starts_with("ticket/") {
            // credential id (16) ‖ ticket id (16) ‖ secret (32): only the secret is secret.
            assert_eq!(value.len(), 64, "{name} is a 64-byte ticket record");
            secrets.push(Secret::new(format!("{name} secret"), &value[32..]));
        } else if name == keyway_core::platform::secret_names::DEVICE_KEY_SECRET {
            let scalar = device_key_scalar(&value).unwrap_or_else(|| panic!("{name} is a P-256 PKCS#8 key"));
            secrets.push(Secret::new("device key scalar", scalar));
            secrets.push(Secret::new("device key pkcs8", value.to_vec()));
        } else {
            secrets.push(Secret::new(name.clone(), value.to_vec()));
        }
    }
    secrets
}

/// The raw 32-byte private scalar inside a P-256 PKCS#8 document (as ring writes it),
/// checked by rebuilding the key pair from the scalar and the document's public key.
pub fn device_key_scalar(pkcs8: &[u8]) -> Option<[u8; 32]> {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    // PrivateKeyInfo ::= SEQUENCE { version INTEGER, algorithm SEQUENCE, privateKey OCTET STRING }
    let (info, _) = der(pkcs8, 0x30)?;
    let (_, rest) = der(info, 0x02)?;
    let (_, rest) = der(rest, 0x30)?;
    let (private_key, _) = der(rest, 0x04)?;
    // ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING, … }
    let (ec, _) = der(private_key, 0x30)?;
    let (_, rest) = der(ec, 0x02)?;
    let (scalar, _) = der(rest, 0x04)?;
    let scalar: [u8; 32] = scalar.try_into().ok()?;
    let rng = ring::rand::SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng).ok()?;
    EcdsaKeyPair::from_private_key_and_public_key(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &scalar,
        pair.public_key().as_ref(),
        &rng,
    )
    .ok()?;
    Some(scalar)
}

/// One DER element with tag `tag` at the start of `input`: (its content, what follows).
fn der(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => (usize::from(*rest.first()?), rest.get(1..)?),
        0x82 => (usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])), rest.get(2..)?),
        _ => return None,
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The places a SQLite database keeps data: the file, its WAL, shared memory and
/// rollback journal as bytes on disk, and every text and blob value of every table read
/// back through SQLite (a value split across overflow pages is whole there).
///
/// # Panics
/// If the database file is missing or empty, or cannot be read back.
pub fn sqlite_places(path: &Path) -> Vec<Place> {
    let mut places = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = format!("{}{suffix}", path.display());
        if let Ok(bytes) = std::fs::read(&file) {
            places.push(Place { what: file, bytes });
        }
    }
    assert!(places.first().is_some_and(|p| !p.bytes.is_empty()), "{} holds a database", path.display());
    let db = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |row| row.get(0))?.collect())
        .unwrap_or_else(|e| panic!("list the tables: {e}"));
    for table in tables {
        let mut bytes = Vec::new();
        let mut statement =
            db.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap_or_else(|e| panic!("read {table}: {e}"));
        let columns = statement.column_count();
        let mut rows = statement.query([]).unwrap_or_else(|e| panic!("read {table}: {e}"));
        while let Ok(Some(row)) = rows.next() {
            for column in 0..columns {
                match row.get_ref(column) {
                    Ok(rusqlite::types::ValueRef::Text(v) | rusqlite::types::ValueRef::Blob(v)) => {
                        bytes.extend_from_slice(v);
                        bytes.push(0);
                    }
                    Ok(_) => {}
                    Err(e) => panic!("read {table}: {e}"),
                }
            }
        }
        places.push(Place { what: format!("table {table} of {}", path.display()), bytes });
    }
    places
}

/// A log writer that keeps everything written to it (give a clone to a
/// `tracing_subscriber::fmt()` writer and read [`CapturedLog::bytes`] after).
#[derive(Clone, Default)]
pub struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    /// All that was written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The log as a place to scan.
    pub fn place(&self) -> Place {
        Place { what: "log".into(), bytes: self.bytes() }
    }
}

impl Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
