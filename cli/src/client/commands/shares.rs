//! `keyway shares`: every key this member shared — to whom, which doors, for when — and
//! where each stands now (pending, redeemed, expired, revoked), with the id that
//! `keyway revoke-share` takes. The service keeps the list, so it needs no earlier
//! `keyway share` on this computer.

use crate::client::Client;
use crate::client::failure::{Failure, when};
use crate::client::output::Output;
use keyway_core::{ShareRecord, ShareStatus};
use serde_json::{Value, json};

/// Lists the member's shares.
pub async fn run(client: &Client, out: Output) -> Result<(), Failure> {
    client.require_session()?;
    let shares = client.keyway.shares().await?;
    out.result(json!({ "shares": shares.iter().map(share_json).collect::<Vec<_>>() }), || human(out, &shares));
    Ok(())
}

/// The status as a word, in JSON and for people.
fn status_word(status: ShareStatus) -> &'static str {
    match status {
        ShareStatus::Pending => "pending",
        ShareStatus::Redeemed => "redeemed",
        ShareStatus::Expired => "expired",
        ShareStatus::Revoked => "revoked",
    }
}

fn share_json(s: &ShareRecord) -> Value {
    json!({
        "share_id": s.share_id,
        "grant_id": s.grant_id,
        "guest": s.guest,
        "doors": s.doors.iter().map(|d| json!({ "id": d.door.to_string(), "name": d.name })).collect::<Vec<_>>(),
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "created_at": s.created_at,
        "link_expires_at": s.link_expires_at,
        "redeemed_at": s.redeemed_at,
        "status": status_word(s.status),
    })
}

fn human(out: Output, shares: &[ShareRecord]) -> String {
    if shares.is_empty() {
        return "You have not shared any key. Share one with `keyway share --to EMAIL --door DOOR --for 8h`.".into();
    }
    let mut lines = Vec::with_capacity(shares.len() * 2 + 1);
    for s in shares {
        let doors: Vec<_> = s.doors.iter().map(|d| d.name.as_str()).collect();
        let status = match s.status {
            ShareStatus::Pending => format!("pending: link works until {}", when(s.link_expires_at)),
            ShareStatus::Redeemed => match s.redeemed_at {
                Some(at) => format!("redeemed {}", when(at)),
                None => "redeemed".into(),
            },
            ShareStatus::Expired => "expired".into(),
            ShareStatus::Revoked => "revoked".into(),
        };
        lines.push(format!("{}  {} — {} ({status})", out.good(&format!("#{}", s.share_id)), s.guest, doors.join(", ")));
        lines.push(out.dim(&format!(
            "      from {} to {}; shared {}",
            when(s.starts_at),
            when(s.ends_at),
            when(s.created_at)
        )));
    }
    if shares.iter().any(|s| s.status.is_live()) {
        lines.push("Take one back with `keyway revoke-share ID`.".into());
    }
    lines.join("\n")
}
