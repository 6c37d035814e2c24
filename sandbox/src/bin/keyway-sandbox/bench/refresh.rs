//! A refresh that brings 10,000 credentials: the real backend over HTTPS on loopback
//! (SQLite in memory) grants a signed-in member 10,000 keys beyond the one she signed in
//! with, then the phone's refresh fetches them, has a credential issued for each, and
//! stores them in its cache file (renewing, in the same answer, the one she held). The
//! figure counts only when exactly that many new credentials were stored and the cache
//! file holds exactly that many more afterwards.

use keyway_sandbox::world::{DAY, T0, World};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// The median of `runs` refreshes of `n` new credentials, each in a new world.
pub async fn measure_median(n: usize, runs: usize) -> Result<Duration, String> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        times.push(measure(n).await?);
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// Time of one refresh that brings `n` new credentials; an error unless the refresh
/// stored exactly `n` new ones (plus a renewal of each one already held) and the cache
/// file holds exactly `n` more credentials than before.
pub async fn measure(n: usize) -> Result<Duration, String> {
    let world = World::start().await;
    let gym = world.gym().await;
    let person = world.phone_only_member(&gym.org, "+447700900999", gym.key, T0 + 30 * DAY).await;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let cache = dir.path().join("cache.sqlite");
    let phone = world.phone_with(Some(cache.clone()), Default::default());
    // The sign-in fetches the member's first key and its credential.
    phone.sign_in(&world, "+447700900999").await;
    let before = cached_credentials(&cache)?;
    for i in 1..=n {
        let key = world
            .admin(
                "POST",
                &format!("v1/admin/facilities/{}/keys", gym.org.facility),
                Some(json!({ "name": format!("Key {i}"), "door_ids": [gym.gate.backend_id] })),
            )
            .await["id"]
            .as_i64()
            .ok_or("the backend made no key")?;
        world
            .admin(
                "POST",
                &format!("v1/admin/people/{person}/grants"),
                Some(json!({ "key_id": key, "expires_at": T0 + 30 * DAY, "shareable": false })),
            )
            .await;
    }
    let started = Instant::now();
    let summary = phone.keyway.refresh().await.map_err(|e| format!("refresh: {e}"))?;
    let took = started.elapsed();
    // The backend issues a fresh credential for every key the member holds when one is
    // due: the n new ones and the ones she already held.
    let issued = usize::try_from(summary.credentials_renewed).unwrap_or(0);
    if issued != n + before {
        return Err(format!("the refresh stored {issued} credentials, not {n} new + {before} held"));
    }
    let after = cached_credentials(&cache)?;
    if after != before + n {
        return Err(format!("the cache held {before} credentials and now {after}, not {n} more"));
    }
    Ok(took)
}

/// Credentials in the phone's cache file, counted in the file itself.
fn cached_credentials(cache: &Path) -> Result<usize, String> {
    let db = rusqlite::Connection::open_with_flags(cache, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("the cache file: {e}"))?;
    db.query_row("SELECT COUNT(*) FROM credentials", [], |row| row.get::<_, i64>(0))
        .map(|count| usize::try_from(count).unwrap_or(0))
        .map_err(|e| format!("counting cached credentials: {e}"))
}
