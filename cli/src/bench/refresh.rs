//! A refresh that brings 10,000 credentials: the real backend over HTTP on loopback
//! (SQLite in memory) grants a signed-in member 10,000 keys, then the phone's refresh
//! fetches them, has a credential issued for each, and stores them in its cache file.

use keyway_e2e::world::{DAY, T0, World};
use serde_json::json;
use std::time::{Duration, Instant};

/// Time of one refresh that brings `n` new credentials, and how many arrived.
pub async fn measure(n: usize) -> Result<(Duration, usize), String> {
    let world = World::start().await;
    let gym = world.gym().await;
    let person = world.phone_only_member(&gym.org, "+447700900999", gym.key, T0 + 30 * DAY).await;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let phone = world.phone_with(Some(dir.path().join("cache.sqlite")), Default::default());
    phone.sign_in(&world, "+447700900999").await;
    for i in 1..n {
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
    Ok((took, usize::try_from(summary.credentials_renewed).unwrap_or(0) + 1))
}
