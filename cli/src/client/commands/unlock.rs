//! `keyway unlock <door>`: opens a door over Bluetooth from the keys on this computer
//! (no internet needed), carrying a door sync if the lock is behind.

use super::find_door;
use crate::client::Client;
use crate::client::failure::Failure;
use crate::client::output::Output;
use keyway_core::ble::UnlockPath;
use serde_json::json;

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Opens a door.
pub async fn run(client: &Client, out: Output, door: &str) -> Result<(), Failure> {
    let door = find_door(client.keyway.doors()?, door)?;
    let outcome = client.keyway.unlock(&door.id).await?;
    let t = outcome.timings;
    let total = t.scan + t.connect + t.handshake + t.door_open;
    let path = match outcome.path {
        UnlockPath::Standard => "standard",
        UnlockPath::Fast => "fast",
    };
    let sync = outcome.sync.as_ref().map(|s| json!({ "version": s.version, "applied": s.applied.is_ok() }));
    out.result(
        json!({
            "door": door.id.to_string(),
            "name": door.name,
            "opened": true,
            "path": path,
            "timings_ms": {
                "scan": ms(t.scan), "connect": ms(t.connect), "handshake": ms(t.handshake),
                "door_open": ms(t.door_open), "total": ms(total),
            },
            "lock_bundle_version": outcome.lock_bundle_version,
            "door_sync": sync,
        }),
        || {
            let mut text = format!(
                "{} ({path} unlock, {:.0} ms: scan {:.0} · connect {:.0} · handshake {:.0} · latch {:.0})",
                out.good(&format!("{} is open", door.name)),
                ms(total),
                ms(t.scan),
                ms(t.connect),
                ms(t.handshake),
                ms(t.door_open)
            );
            if let Some(s) = &outcome.sync {
                let how = if s.applied.is_ok() { "applied" } else { "refused by the lock" };
                text.push_str(&format!("\nDoor sync carried on the way: version {} {how}.", s.version));
            }
            text
        },
    );
    Ok(())
}
