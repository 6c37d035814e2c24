//! The offline key cache at scale: opening a cache file holding 1,000 or 10,000 keys
//! (each with a door and a credential) and finding the credential for one door, the
//! lookup every unlock starts with: the first after opening (which builds the in-memory
//! door index) and every later one.

use super::stats::{median, us};
use keyway_core::cache::{Cache, DoorRecord as Door, Key, StoredCredential};
use keyway_protocol::ids::DoorId;
use std::time::Instant;

const NOW: u32 = 1_800_000_000;

fn door(i: u64) -> Door {
    Door {
        lock_id: DoorId(i.to_be_bytes()),
        backend_id: i as i64,
        name: format!("Door {i}"),
        online: i.is_multiple_of(2),
        lock_public_key: [4; 65],
        lock_signing_key: [4; 65],
        bundle_version: 0,
        synced_version: 0,
        synced_at: None,
    }
}

/// Fills a cache file with `n` keys.
fn fill(path: &std::path::Path, n: u64) -> Result<(), String> {
    let cache = Cache::open(path).map_err(|e| e.to_string())?;
    let doors: Vec<Door> = (0..n).map(door).collect();
    let keys: Vec<Key> = doors
        .iter()
        .map(|d| Key {
            grant_id: d.backend_id,
            key_id: d.backend_id,
            name: format!("Key {}", d.backend_id),
            organisation: "Harbour Gym".into(),
            facility: "Harbour Gym".into(),
            doors: vec![d.lock_id],
            starts_at: keyway_core::Timestamp(NOW - 86_400),
            expires_at: keyway_core::Timestamp(NOW + 30 * 86_400),
            shareable: false,
            guest: false,
            status: keyway_core::cache::KeyStatus::Active,
        })
        .collect();
    let credentials: Vec<StoredCredential> = keys
        .iter()
        .map(|k| StoredCredential {
            grant_id: k.grant_id,
            credential_id: format!("{:032x}", k.grant_id),
            bytes: vec![7; 140],
            not_before: NOW - 3600,
            not_after: NOW + 72 * 3600,
        })
        .collect();
    cache.upsert_doors(&doors).map_err(|e| e.to_string())?;
    cache.upsert_keys(&keys).map_err(|e| e.to_string())?;
    cache.store_credentials(&credentials).map_err(|e| e.to_string())?;
    Ok(())
}

/// Median microseconds of a cache of `n` keys.
pub struct CacheTimes {
    /// Opening the file.
    pub open: f64,
    /// The first lookup after opening (builds the door index).
    pub first_lookup: f64,
    /// Every later lookup, each for another door.
    pub lookup: f64,
}

/// Median microseconds to open a cache of `n` keys and to look up one door's credential.
pub fn measure(n: u64, rounds: usize) -> Result<CacheTimes, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("cache.sqlite");
    fill(&path, n)?;
    let mut opens = Vec::with_capacity(rounds);
    let mut firsts = Vec::with_capacity(rounds);
    for round in 0..rounds as u64 {
        let started = Instant::now();
        let cache = Cache::open(&path).map_err(|e| e.to_string())?;
        opens.push(us(started.elapsed()));
        let started = Instant::now();
        let found = cache.credential_for_door(&DoorId((round % n).to_be_bytes()), NOW).map_err(|e| e.to_string())?;
        firsts.push(us(started.elapsed()));
        if found.is_none() {
            return Err(format!("no credential found for door {round} after opening"));
        }
    }
    let cache = Cache::open(&path).map_err(|e| e.to_string())?;
    let mut lookups = Vec::with_capacity(1000);
    for i in 0..1000u64 {
        let wanted = DoorId(((i * 7919) % n).to_be_bytes());
        let started = Instant::now();
        let found = cache.credential_for_door(&wanted, NOW).map_err(|e| e.to_string())?;
        lookups.push(us(started.elapsed()));
        if found.is_none() {
            return Err(format!("no credential found for door {wanted}"));
        }
    }
    Ok(CacheTimes { open: median(&opens), first_lookup: median(&firsts), lookup: median(&lookups) })
}
