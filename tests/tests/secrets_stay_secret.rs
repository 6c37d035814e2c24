//! Secrets never reach SQLite, its WAL, or the logs: a phone signs in, syncs and unlocks
//! with everything logged at TRACE, then every secret it handled is looked for — raw, in
//! hex and in base64 — in the cache files and the captured log.
#![allow(clippy::unwrap_used, missing_docs)]

use base64::Engine as _;
use keyway_e2e::world::{DAY, Gym, T0, World};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![
        secret.to_vec(),
        hex_lower(secret).into_bytes(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret).into_bytes(),
        base64::engine::general_purpose::STANDARD.encode(secret).into_bytes(),
    ];
    forms.retain(|f| f.len() >= 6);
    forms
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_cache_files_the_wal_or_the_logs() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let world = World::start().await;
    let Gym { org, gate: door, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("keyway.sqlite");
    let phone = world.phone_with(Some(cache.clone()), Arc::new(keyway_core::secure_store::MemoryStore::new()));

    let invitation_link = world.link("ana@example.com", "invitation").await;
    let link = phone.keyway.parse_link(&invitation_link).unwrap();
    phone.keyway.send_invitation_code(&link).await.unwrap();
    let code = world.code("ana@example.com").await;
    phone.keyway.accept_invitation(&link, &code).await.unwrap();
    phone.keyway.unlock(&door.lock_id).await.unwrap();
    phone.keyway.sync_door(&door.lock_id).await.unwrap();
    phone.keyway.unlock(&door.lock_id).await.unwrap();

    // Every secret the phone holds, plus the code and the invitation token it handled.
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    for name in phone.store.names() {
        let value = keyway_core::secure_store::SecureStore::get(phone.store.as_ref(), &name).unwrap().unwrap();
        if name == keyway_core::SESSION_SECRET {
            let session: serde_json::Value = serde_json::from_slice(&value).unwrap();
            for field in ["access_token", "refresh_token"] {
                secrets.push((field.into(), session[field].as_str().unwrap().as_bytes().to_vec()));
            }
        } else if name.starts_with("ticket/") {
            // credential id ‖ ticket id ‖ secret: the secret is the last 32 bytes.
            secrets.push((name.clone(), value[value.len() - 32..].to_vec()));
        } else {
            secrets.push((name.clone(), value.to_vec()));
        }
    }
    assert!(secrets.len() >= 4, "session tokens, device key and a ticket: {:?}", phone.store.names());
    secrets.push(("one-time code".into(), code.into_bytes()));
    let token = invitation_link.rsplit('/').next().unwrap().to_owned();
    secrets.push(("invitation token".into(), token.into_bytes()));

    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", cache.display());
        if let Ok(bytes) = std::fs::read(&path) {
            places.push((path, bytes));
        }
    }
    assert!(places.iter().any(|(p, b)| p.ends_with("keyway.sqlite") && !b.is_empty()));
    let logged = log.0.lock().unwrap().clone();
    assert!(logged.len() > 1000, "the log captured the run ({} bytes)", logged.len());
    places.push(("log".into(), logged));

    for (what, secret) in &secrets {
        for form in forms(secret) {
            for (place, bytes) in &places {
                assert!(!contains(bytes, &form), "{what} found in {place}");
            }
        }
    }
}
