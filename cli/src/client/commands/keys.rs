//! `keyway keys`: brings keys up to date when online (and hands in the locks' receipts),
//! then lists every key and door with what can be done there now. Offline, it lists what
//! this computer holds and says so.

use crate::client::Client;
use crate::client::failure::{Failure, when};
use crate::client::output::Output;
use keyway_core::Error;
use keyway_core::cache::{AccessState, Door, Key, KeyStatus, RevokeReason};
use serde_json::{Value, json};

/// Lists keys.
pub async fn run(client: &Client, out: Output) -> Result<(), Failure> {
    client.require_session()?;
    let offline = match client.keyway.refresh().await {
        Ok(_) => false,
        Err(Error::Offline | Error::ServiceUnavailable) => true,
        Err(e) => return Err(e.into()),
    };
    let keys = client.keyway.keys()?;
    let doors = client.keyway.doors()?;
    let mut listed = Vec::with_capacity(keys.len());
    for key in &keys {
        let mut key_doors = Vec::with_capacity(key.doors.len());
        for id in &key.doors {
            if let Some(door) = doors.iter().find(|d| d.id == *id) {
                key_doors.push((door, client.keyway.access_state(id)?));
            }
        }
        listed.push((key, key_doors));
    }
    out.result(
        json!({
            "offline": offline,
            "keys": listed.iter().map(|(k, d)| key_json(k, d)).collect::<Vec<_>>(),
        }),
        || human(out, offline, &listed),
    );
    Ok(())
}

fn access_json(state: &AccessState) -> Value {
    match *state {
        AccessState::Ready { until } => json!({ "state": "ready", "until": until }),
        AccessState::StartsAt { starts_at } => json!({ "state": "starts_later", "starts_at": starts_at }),
        AccessState::Expired { expired_at } => json!({ "state": "expired", "expired_at": expired_at }),
        AccessState::Revoked => json!({ "state": "revoked" }),
        AccessState::Suspended => json!({ "state": "suspended" }),
        AccessState::AwaitingCredential => json!({ "state": "awaiting_credential" }),
        AccessState::NoAccess => json!({ "state": "no_access" }),
    }
}

fn access_words(state: &AccessState) -> String {
    match *state {
        AccessState::Ready { .. } => "opens, even offline".into(),
        AccessState::StartsAt { starts_at } => format!("opens from {}", when(starts_at)),
        AccessState::Expired { expired_at } => format!("expired {}", when(expired_at)),
        AccessState::Revoked => "revoked".into(),
        AccessState::Suspended => "access suspended".into(),
        AccessState::AwaitingCredential => "needs one refresh online".into(),
        AccessState::NoAccess => "no access".into(),
    }
}

fn status_json(status: &KeyStatus) -> Value {
    match status {
        KeyStatus::Active => json!({ "state": "active" }),
        KeyStatus::Suspended { message } => json!({ "state": "suspended", "message": message }),
        KeyStatus::Revoked { reason, message } => {
            json!({ "state": "revoked", "reason": reason.word(), "message": message })
        }
    }
}

/// How the key list names a revocation's cause.
fn revoke_words(reason: RevokeReason) -> &'static str {
    match reason {
        RevokeReason::ByAdministrator => "revoked by an administrator",
        RevokeReason::BySharer => "taken back by the member who shared it",
        RevokeReason::SharerLostAccess => "revoked: the member who shared it lost access",
        RevokeReason::SharerKeyChanged => "revoked: the sharer's key changed",
        RevokeReason::KeyDeleted => "key deleted",
        RevokeReason::RemovedFromOrganisation => "removed from the organisation",
        RevokeReason::InvitationCancelled => "invitation cancelled",
        RevokeReason::Other => "revoked",
    }
}

fn key_json(key: &Key, doors: &[(&Door, AccessState)]) -> Value {
    json!({
        "grant_id": key.grant_id,
        "name": key.name,
        "organisation": key.organisation,
        "facility": key.facility,
        "starts_at": key.starts_at,
        "expires_at": key.expires_at,
        "shareable": key.shareable,
        "guest": key.guest,
        "revoked": key.is_revoked(),
        "status": status_json(&key.status),
        "doors": doors.iter().map(|(door, state)| json!({
            "id": door.id.to_string(),
            "name": door.name,
            "online": door.online,
            "sync_pending": door.sync_pending,
            "access": access_json(state),
        })).collect::<Vec<_>>(),
    })
}

fn human(out: Output, offline: bool, listed: &[(&Key, Vec<(&Door, AccessState)>)]) -> String {
    let mut text = String::new();
    if offline {
        text.push_str("Offline: showing the keys saved on this computer.\n");
    }
    if listed.is_empty() {
        text.push_str("No keys yet. An administrator's invitation (`keyway accept <link>`) or a shared key (`keyway redeem <link>`) brings one.");
        return text;
    }
    for (key, doors) in listed {
        let mut tags = Vec::new();
        if key.guest {
            tags.push("guest");
        }
        if key.shareable {
            tags.push("shareable");
        }
        match &key.status {
            KeyStatus::Active => {}
            KeyStatus::Suspended { .. } => tags.push("access suspended"),
            KeyStatus::Revoked { reason, .. } => tags.push(revoke_words(*reason)),
        }
        text.push_str(&format!(
            "{} — {} · {}{}\n",
            out.good(&key.name),
            key.organisation,
            key.facility,
            if tags.is_empty() { String::new() } else { format!(" [{}]", tags.join(", ")) }
        ));
        text.push_str(&out.dim(&format!("  {} → {}\n", when(key.starts_at), when(key.expires_at))));
        if let KeyStatus::Suspended { message: Some(m) } | KeyStatus::Revoked { message: Some(m), .. } = &key.status {
            text.push_str(&format!("  “{m}”\n"));
        }
        for (door, state) in doors {
            let sync = if door.sync_pending { " · door sync pending" } else { "" };
            text.push_str(&format!("  {:<24} {}{sync}\n", door.name, access_words(state)));
        }
    }
    text.trim_end().to_owned()
}
