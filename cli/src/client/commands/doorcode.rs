//! `keyway doorcode <door>`: today's daily doorcode for a door, to type on its keypad,
//! with the window it opens in. The service computes it; offline, a code fetched earlier
//! today still shows until its window ends.

use super::find_door;
use crate::client::Client;
use crate::client::failure::{Failure, when};
use crate::client::output::Output;
use serde_json::json;

/// Shows the door's doorcode for today.
pub async fn run(client: &Client, out: Output, door: &str) -> Result<(), Failure> {
    client.require_session()?;
    // The door list comes from the key cache: bring it up to date when online.
    // (Offline, the cached doors serve; the doorcode call then says what failed.)
    let _ = client.keyway.refresh().await;
    let door = find_door(client.keyway.doors()?, door)?;
    let code = client.keyway.doorcode(&door.id).await?;
    out.result(
        json!({
            "door": door.id.to_string(),
            "name": door.name,
            "code": code.code,
            "valid_from": code.valid_from.unix(),
            "valid_until": code.valid_until.unix(),
            "sync_pending": code.sync_pending,
        }),
        || {
            let pending = if code.sync_pending {
                "\nThe door has changes its lock has not received yet: a new code opens after its next sync."
            } else {
                ""
            };
            format!(
                "{}: {}  (type it on the keypad, then #; valid from {} until {}){pending}",
                out.good(&door.name),
                code.code,
                when(code.valid_from),
                when(code.valid_until)
            )
        },
    );
    Ok(())
}
