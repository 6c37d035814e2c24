//! Secrets never reach SQLite, its WAL, or the logs: a phone signs in, syncs and unlocks
//! with everything logged at TRACE, then every individual secret it handled — each token,
//! each ticket secret, the device key's raw private scalar and its PKCS#8 — is looked for
//! in every form the scan knows (`keyway_sandbox::secret_scan`) in the cache files, every
//! table read back, and the captured log. A second test plants secrets to prove the scan
//! sees them.
#![allow(clippy::unwrap_used, missing_docs)]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use keyway_sandbox::secret_scan::{
    CapturedLog, Place, Secret, device_key_scalar, find_leaks, phone_secrets, sqlite_places,
};
use keyway_sandbox::world::{DAY, Gym, T0, World};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_cache_files_the_wal_or_the_logs() {
    let log = CapturedLog::default();
    let writer = log.clone();
    // No timestamps: their six-digit fractions could match the six-digit code by chance.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .init();

    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("keyway.sqlite");
    let phone = world.phone_with(Some(cache.clone()), Arc::new(keyway_core::platform::MemoryStore::new()));

    let invitation_link = world.link("ana@example.com", "invitation").await;
    let link = phone.keyway.parse_link(&invitation_link).unwrap();
    phone.keyway.send_invitation_code(&link).await.unwrap();
    let code = world.code("ana@example.com").await;
    phone.keyway.accept_invitation(&link, &code).await.unwrap();
    phone.keyway.unlock(&door.lock_id).await.unwrap();
    phone.keyway.sync_door(&door.lock_id).await.unwrap();
    phone.keyway.unlock(&door.lock_id).await.unwrap();

    // Every secret value the phone holds, plus the code and the invitation token it handled.
    let mut secrets = phone_secrets(phone.store.as_ref(), &phone.store.names());
    let names: Vec<&str> = secrets.iter().map(|s| s.what.as_str()).collect();
    for expected in ["access token", "refresh token", "device key scalar", "device key pkcs8"] {
        assert!(names.contains(&expected), "{expected} is among the secrets: {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("ticket/") && n.ends_with(" secret")), "a ticket secret: {names:?}");
    secrets.push(Secret::new("one-time code", code.into_bytes()));
    let token = invitation_link.rsplit('/').next().unwrap().to_owned();
    secrets.push(Secret::new("invitation token", token.into_bytes()));

    let mut places = sqlite_places(&cache);
    assert!(places.iter().any(|p| p.what.starts_with("table ") && !p.bytes.is_empty()), "the cache has rows");
    let logged = log.place();
    assert!(logged.bytes.len() > 1000, "the log captured the run ({} bytes)", logged.bytes.len());
    places.push(logged);

    let leaks = find_leaks(&secrets, &places);
    assert!(leaks.is_empty(), "secrets leaked: {leaks:#?}");
}

/// One way a careless line could write a secret, made here without the scan's help.
struct Planting {
    how: String,
    bytes: Vec<u8>,
    /// Fits in a log line (raw binary does not).
    text: bool,
}

fn plantings(secret: &Secret, is_text: bool) -> Vec<Planting> {
    let value = &secret.value;
    let text = |how: &str, s: String| Planting { how: how.into(), bytes: s.into_bytes(), text: true };
    let mut all = vec![
        Planting { how: "raw".into(), bytes: value.clone(), text: is_text },
        text("hex lower", value.iter().map(|b| format!("{b:02x}")).collect()),
        text("hex upper", value.iter().map(|b| format!("{b:02X}")).collect()),
        text("debug", format!("{value:?}")),
        text("base64 standard padded", STANDARD.encode(value)),
        text("base64 standard unpadded", STANDARD_NO_PAD.encode(value)),
        text("base64 url padded", URL_SAFE.encode(value)),
        text("base64 url unpadded", URL_SAFE_NO_PAD.encode(value)),
    ];
    // Inside a larger record, encoded whole: the secret 1 and 2 bytes into it.
    for prefix in [&b"\x07"[..], &b"\x07\x2a"[..]] {
        let mut record = prefix.to_vec();
        record.extend_from_slice(value);
        record.extend_from_slice(b"\x01\x02\x03\x04\x05");
        let at = prefix.len();
        all.push(text(&format!("record at {at}, base64 standard"), STANDARD.encode(&record)));
        all.push(text(&format!("record at {at}, base64 url"), URL_SAFE_NO_PAD.encode(&record)));
    }
    all
}

fn plant_in_log(planting: &Planting) -> Place {
    let log = CapturedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    let line = String::from_utf8(planting.bytes.clone()).unwrap();
    tracing::subscriber::with_default(subscriber, || tracing::info!(value = %line, "planted"));
    log.place()
}

fn plant_in_sqlite(dir: &std::path::Path, n: usize, planting: &Planting) -> Vec<Place> {
    let path = dir.join(format!("planted-{n}.sqlite"));
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute("CREATE TABLE cache (id INTEGER PRIMARY KEY, value)", []).unwrap();
    db.execute("INSERT INTO cache (value) VALUES ('an innocent row')", []).unwrap();
    if planting.text {
        let text = String::from_utf8(planting.bytes.clone()).unwrap();
        db.execute("INSERT INTO cache (value) VALUES (?1)", [text]).unwrap();
    } else {
        db.execute("INSERT INTO cache (value) VALUES (?1)", [&planting.bytes]).unwrap();
    }
    drop(db);
    sqlite_places(&path)
}

#[test]
fn the_scan_finds_a_planted_token_ticket_secret_and_private_scalar_in_a_log_and_a_sqlite_file() {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 =
        ring::signature::EcdsaKeyPair::generate_pkcs8(&ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let scalar = device_key_scalar(pkcs8.as_ref()).unwrap();
    // A scalar that does not match the document's public key is refused, so the one
    // above is the real private key.
    let mut wrong = pkcs8.as_ref().to_vec();
    let at = wrong.windows(32).position(|w| w == scalar).unwrap();
    wrong[at + 31] ^= 1;
    assert_eq!(device_key_scalar(&wrong), None);

    let mut ticket_secret = [0u8; 32];
    ring::rand::SecureRandom::fill(&rng, &mut ticket_secret).unwrap();
    let mut token_bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&rng, &mut token_bytes).unwrap();
    let token = URL_SAFE_NO_PAD.encode(token_bytes);
    let secrets = vec![
        (Secret::new("access token", token.into_bytes()), true),
        (Secret::new("ticket secret", ticket_secret), false),
        (Secret::new("device key scalar", scalar), false),
    ];
    let all: Vec<Secret> = secrets.iter().map(|(s, _)| s.clone()).collect();

    let dir = tempfile::tempdir().unwrap();
    let clean =
        plant_in_sqlite(dir.path(), 0, &Planting { how: "none".into(), bytes: b"nothing".to_vec(), text: true });
    assert_eq!(find_leaks(&all, &clean), vec![], "a clean file reports nothing");

    let mut missed = Vec::new();
    let mut n = 0;
    for (secret, is_text) in &secrets {
        for planting in plantings(secret, *is_text) {
            n += 1;
            let mut cases = vec![("a SQLite file", plant_in_sqlite(dir.path(), n, &planting))];
            if planting.text {
                cases.push(("a log", vec![plant_in_log(&planting)]));
            }
            for (where_, places) in cases {
                let leaks = find_leaks(&all, &places);
                let others: Vec<_> = leaks.iter().filter(|l| l.secret != secret.what).collect();
                assert!(others.is_empty(), "only {} was planted: {others:?}", secret.what);
                if leaks.is_empty() {
                    missed.push(format!("{} written {} in {where_}", secret.what, planting.how));
                }
                if where_ == "a SQLite file" && !leaks.is_empty() {
                    // Read back through SQLite as well as found in the file's bytes.
                    assert!(leaks.iter().any(|l| l.place.starts_with("table cache")), "{leaks:?}");
                    assert!(leaks.iter().any(|l| l.place.ends_with(".sqlite")), "{leaks:?}");
                }
            }
        }
    }
    assert!(missed.is_empty(), "the scan missed planted secrets:\n{}", missed.join("\n"));
}
