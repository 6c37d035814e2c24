//! `keyway redeem <link>`: a guest, signed in with the address the share was sent to,
//! sees who shared which doors for when, and turns the shared-key link into a key on this
//! computer.

use crate::client::Client;
use crate::client::failure::{Failure, when};
use crate::client::output::Output;
use serde_json::json;

/// Redeems a guest share.
pub async fn run(client: &Client, out: Output, link: &str) -> Result<(), Failure> {
    let link = client.keyway.parse_link(link)?;
    client.require_session()?;
    let offer = client.keyway.preview_share(&link).await?;
    let by = offer.shared_by.clone().unwrap_or_else(|| format!("A member of {}", offer.organisation));
    out.note(&format!(
        "{by} shared {} ({}) with you, from {} to {}.",
        offer.doors.join(", "),
        offer.facility,
        when(offer.starts_at),
        when(offer.ends_at)
    ));
    client.keyway.redeem_share(&link).await?;
    let guest_keys: Vec<_> = client.keyway.keys()?.into_iter().filter(|k| k.guest && k.is_active()).collect();
    out.result(
        json!({ "redeemed": true, "guest_keys": guest_keys.iter().map(|k| k.grant_id).collect::<Vec<_>>() }),
        || {
            let names: Vec<_> = guest_keys.iter().map(|k| format!("{} ({})", k.name, k.organisation)).collect();
            format!("{} You now hold: {}.", out.good("Shared key accepted."), names.join(", "))
        },
    );
    Ok(())
}
