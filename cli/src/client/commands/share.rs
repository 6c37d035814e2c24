//! `keyway share` and `keyway revoke-share`: a member lends some doors of a shareable
//! key to a guest's email or phone for a window, and can take it back.

use super::{find_door, parse_duration, parse_time};
use crate::client::Client;
use crate::client::failure::{Failure, when};
use crate::client::output::Output;
use keyway_core::Error;
use serde_json::json;

/// What `keyway share` was asked.
#[derive(Debug, clap::Args)]
pub struct ShareArgs {
    /// The guest's email, or phone with +country code.
    #[arg(long, value_name = "EMAIL|PHONE")]
    pub to: String,
    /// A door to share (repeatable; all must be on one of your keys).
    #[arg(long = "door", required = true, value_name = "DOOR")]
    pub doors: Vec<String>,
    /// When the guest's access starts (default: now), e.g. 2026-12-01 18:00 (UTC).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// When it ends, e.g. 2026-12-03 12:00 (UTC).
    #[arg(long, value_name = "TIME", conflicts_with = "for_")]
    pub until: Option<String>,
    /// How long it lasts from its start, e.g. 8h or 3d.
    #[arg(long = "for", id = "for_", value_name = "DURATION")]
    pub for_: Option<String>,
}

fn now() -> u32 {
    use keyway_core::platform::Clock as _;
    keyway_core::platform::SystemClock.now()
}

/// Shares doors with a guest.
pub async fn run(client: &Client, out: Output, args: &ShareArgs) -> Result<(), Failure> {
    client.require_session()?;
    let all_doors = client.keyway.doors()?;
    let doors = args.doors.iter().map(|d| find_door(all_doors.clone(), d)).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<_> = doors.iter().map(|d| d.id).collect();
    let keys = client.keyway.keys()?;
    let holding: Vec<_> = keys.iter().filter(|k| k.is_active() && ids.iter().all(|id| k.doors.contains(id))).collect();
    let key = holding
        .iter()
        .find(|k| k.shareable)
        .or_else(|| holding.first())
        .ok_or_else(|| Failure::from(Error::NoKeyForDoor))?;
    let starts = args.from.as_deref().map(parse_time).transpose()?;
    let ends = match (&args.until, &args.for_) {
        (Some(until), _) => parse_time(until)?,
        (None, Some(length)) => starts.unwrap_or_else(now).saturating_add(parse_duration(length)?),
        (None, None) => return Err(Failure::usage("the share needs an end", "add --until TIME or --for DURATION")),
    };
    let share = client.keyway.share_key(key.grant_id, &ids, starts, ends, &args.to).await?;
    let names: Vec<_> = doors.iter().map(|d| d.name.as_str()).collect();
    out.result(
        json!({
            "share_id": share.share_id,
            "guest": args.to,
            "doors": ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "starts_at": share.starts_at,
            "ends_at": share.ends_at,
            "delivered": share.delivered,
        }),
        || {
            let delivery = if share.delivered { "the link is on its way to" } else { "the link could not be sent to" };
            format!(
                "{} {} for {} from {} to {}; {delivery} {}. Take it back with `keyway revoke-share {}`.",
                out.good("Shared"),
                names.join(", "),
                args.to,
                when(share.starts_at),
                when(share.ends_at),
                args.to,
                share.share_id
            )
        },
    );
    Ok(())
}

/// Takes a share back.
pub async fn revoke(client: &Client, out: Output, share_id: i64) -> Result<(), Failure> {
    client.require_session()?;
    client.keyway.revoke_share(share_id).await?;
    out.result(json!({ "share_id": share_id, "revoked": true }), || {
        format!("Share {share_id} revoked: the guest's key stops working now online, and at offline doors after their next door sync.")
    });
    Ok(())
}
