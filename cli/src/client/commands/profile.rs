//! `keyway profile`: the member's own record — names, email, phone, the NFC card's
//! numbers (to read to a front desk) and each account with role, access and who invited
//! them. Refreshed when online, shown from the cache when not. `--first-name` and
//! `--last-name` change the name.

use crate::client::Client;
use crate::client::failure::Failure;
use crate::client::output::Output;
use keyway_core::cache::{AccountAccess, Profile};
use keyway_core::{Error, PersonName};
use serde_json::{Value, json};

/// What `keyway profile` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ProfileArgs {
    /// A new first name (with --last-name).
    #[arg(long, requires = "last_name")]
    pub first_name: Option<String>,
    /// A new last name (with --first-name).
    #[arg(long, requires = "first_name")]
    pub last_name: Option<String>,
}

/// The words a screen (and this client) shows for an account's access.
pub fn access_words(access: AccountAccess) -> &'static str {
    match access {
        AccountAccess::NoAccessYet => "no access yet",
        AccountAccess::HasKeys => "has keys",
        AccountAccess::AccessEnded => "access ended",
        AccountAccess::Suspended => "access suspended",
        AccountAccess::NotYetKnown => "not known yet",
    }
}

fn to_json(p: &Profile, offline: bool) -> Value {
    json!({
        "person_id": p.person_id,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "email": p.email,
        "phone": p.phone,
        "card": p.card.as_ref().map(|c| json!({ "hex": c.hex, "decimal": c.decimal, "surface_id": c.surface_id })),
        "memberships": p.memberships.iter().map(|m| json!({
            "org_id": m.org_id,
            "organisation": m.organisation,
            "role": m.role,
            "access": AccountAccess::as_str(m.access),
            "invited_by": m.invited_by,
        })).collect::<Vec<_>>(),
        "offline": offline,
    })
}

fn to_text(p: &Profile, offline: bool) -> String {
    let name = match (&p.first_name, &p.last_name) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(n), None) | (None, Some(n)) => n.clone(),
        (None, None) => "(no name yet: set it with --first-name and --last-name)".into(),
    };
    let mut lines = vec![name];
    if let Some(e) = &p.email {
        lines.push(format!("  email  {e}"));
    }
    if let Some(ph) = &p.phone {
        lines.push(format!("  phone  {ph}"));
    }
    match &p.card {
        Some(c) => {
            let surface = c.surface_id.as_ref().map(|s| format!(", printed {s}")).unwrap_or_default();
            lines.push(format!("  card   {} (hex) · {} (decimal){surface}", c.hex, c.decimal));
        }
        None => lines.push("  card   none on your record".into()),
    }
    for m in &p.memberships {
        let by = m.invited_by.as_ref().map(|b| format!(", invited by {b}")).unwrap_or_default();
        lines.push(format!("  {} · {}{by} · {}", m.organisation, m.role, access_words(m.access)));
    }
    if offline {
        lines.push("(offline: as last fetched)".into());
    }
    lines.join("\n")
}

/// Shows (and maybe changes) the profile.
pub async fn run(client: &Client, out: Output, args: &ProfileArgs) -> Result<(), Failure> {
    client.require_session()?;
    let mut offline = false;
    let profile = if let (Some(first), Some(last)) = (&args.first_name, &args.last_name) {
        let name = PersonName { first_name: first.clone(), last_name: last.clone() };
        Some(client.keyway.update_name(&name).await?)
    } else {
        match client.keyway.refresh().await {
            Ok(_) => {}
            Err(Error::Offline | Error::ServiceUnavailable) => offline = true,
            Err(e) => return Err(e.into()),
        }
        client.keyway.profile()?
    };
    let Some(profile) = profile else {
        return Err(Failure::from(Error::Offline));
    };
    out.result(to_json(&profile, offline), || to_text(&profile, offline));
    Ok(())
}
