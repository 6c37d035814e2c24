//! `keyway sync <door>`: a door sync on demand for a door without internet: the newest
//! bundle (revocations, settings, time) fetched, carried over Bluetooth, applied by the
//! lock, and its receipt handed in. Progress shows as a bar on a terminal, one line per
//! stage when piped, and a list in `--json`.

use super::find_door;
use crate::client::Client;
use crate::client::failure::Failure;
use crate::client::output::Output;
use keyway_core::listeners::{DoorSyncProgress, DoorSyncStage};
use serde_json::json;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const STAGES: usize = 6;
const BAR: usize = 20;

fn stage_name(stage: DoorSyncStage) -> &'static str {
    match stage {
        DoorSyncStage::FetchingUpdate => "fetching_bundle",
        DoorSyncStage::Connecting => "connecting",
        DoorSyncStage::SendingBundle => "sending_bundle",
        DoorSyncStage::Applied => "applied",
        DoorSyncStage::UploadingReceipt => "uploading_receipt",
        DoorSyncStage::Done => "done",
        DoorSyncStage::Failed => "failed",
    }
}

fn stage_words(p: &DoorSyncProgress) -> String {
    let version = p.version.map(|v| format!(" (version {v})")).unwrap_or_default();
    match p.stage {
        DoorSyncStage::FetchingUpdate => "fetching the newest door bundle".into(),
        DoorSyncStage::Connecting => format!("connecting to the lock{version}"),
        DoorSyncStage::SendingBundle => match (p.bytes_sent, p.bytes_total) {
            (Some(sent), Some(total)) => format!("carrying the bundle to the lock: {sent} of {total} bytes"),
            _ => "carrying the bundle to the lock".into(),
        },
        DoorSyncStage::Applied => format!("the lock runs the bundle{version}"),
        DoorSyncStage::UploadingReceipt => "handing in the lock's receipt".into(),
        DoorSyncStage::Done => format!("door synced{version}"),
        DoorSyncStage::Failed => "door sync stopped".into(),
    }
}

fn step(stage: DoorSyncStage) -> usize {
    match stage {
        DoorSyncStage::FetchingUpdate => 1,
        DoorSyncStage::Connecting => 2,
        DoorSyncStage::SendingBundle => 3,
        DoorSyncStage::Applied => 4,
        DoorSyncStage::UploadingReceipt => 5,
        DoorSyncStage::Done | DoorSyncStage::Failed => STAGES,
    }
}

/// Draws one progress event.
fn draw(out: Output, p: &DoorSyncProgress) {
    if out.json {
        return;
    }
    let finished = matches!(p.stage, DoorSyncStage::Done | DoorSyncStage::Failed);
    if out.live() {
        let filled = step(p.stage) * BAR / STAGES;
        let bar = format!("{}{}", "█".repeat(filled), "░".repeat(BAR - filled));
        eprint!("\r\x1b[2K{bar} {}", stage_words(p));
        if finished {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    } else if p.stage != DoorSyncStage::SendingBundle || p.bytes_sent == p.bytes_total {
        // Piped: one line per stage (the bundle's, once it is all sent).
        println!("  [{}/{STAGES}] {}", step(p.stage), stage_words(p));
    }
}

/// Syncs a door.
pub async fn run(client: &Client, out: Output, door: &str) -> Result<(), Failure> {
    let door = find_door(client.keyway.doors()?, door)?;
    let seen: Arc<Mutex<Vec<DoorSyncProgress>>> = Arc::default();
    let (finished_tx, mut finished_rx) = tokio::sync::watch::channel(false);
    let listener = {
        let seen = seen.clone();
        let wanted = door.id;
        client.keyway.subscribe_door_sync(move |p| {
            if p.door != wanted {
                return;
            }
            draw(out, &p);
            if let Ok(mut seen) = seen.lock() {
                seen.push(p);
            }
            if matches!(p.stage, DoorSyncStage::Done | DoorSyncStage::Failed) {
                let _ = finished_tx.send(true);
            }
        })
    };
    let result = client.keyway.sync_door(&door.id).await;
    // The listener runs on the core's runtime: let it draw the last stage before printing.
    let _ = tokio::time::timeout(Duration::from_secs(1), finished_rx.wait_for(|done| *done)).await;
    listener.cancel();
    let outcome = result?;
    let stages: Vec<_> = seen
        .lock()
        .map(|s| {
            s.iter()
                .map(|p| {
                    let mut event = json!({ "stage": stage_name(p.stage), "version": p.version });
                    if let (Some(sent), Some(total)) = (p.bytes_sent, p.bytes_total) {
                        event["bytes_sent"] = json!(sent);
                        event["bytes_total"] = json!(total);
                    }
                    event
                })
                .collect()
        })
        .unwrap_or_default();
    out.result(
        json!({
            "door": door.id.to_string(),
            "name": door.name,
            "lock_version": outcome.lock_version,
            "receipt_delivered": outcome.receipt_delivered,
            "progress": stages,
        }),
        || {
            let receipt = if outcome.receipt_delivered {
                "receipt handed in"
            } else {
                "receipt kept on this computer until the service is reachable"
            };
            format!("{} runs version {}; {receipt}.", out.good(&door.name), outcome.lock_version)
        },
    );
    Ok(())
}
