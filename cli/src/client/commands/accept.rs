//! `keyway accept <link>`: shows what the invitation is for, sends a code to the invited
//! address, and accepts it with the code typed back (which also signs in).

use super::{code_sent_line, enter_code};
use crate::client::Client;
use crate::client::failure::{Failure, when};
use crate::client::output::Output;
use keyway_core::PersonName;
use serde_json::json;

/// Accepts an invitation; `name` is the first and last name, when given.
pub async fn run(client: &Client, out: Output, link: &str, name: Option<PersonName>) -> Result<(), Failure> {
    let link = client.keyway.parse_link(link)?;
    let preview = client.keyway.preview_invitation(&link).await?;
    out.note(&format!(
        "Invitation to {} · {} as {}, from {} (sign in as {}).",
        preview.organisation,
        preview.facility,
        preview.role,
        when(preview.access_start),
        preview.sign_in_address
    ));
    if preview.gives_access {
        for k in &preview.keys {
            out.note(&format!("  with key {} ({})", k.name, k.doors.join(", ")));
        }
    } else {
        out.note("No keys come with this invitation: no access yet (your administrator adds keys).");
    }
    let sent = client.keyway.send_invitation_code(&link).await?;
    out.note(&code_sent_line(&sent, &preview.sign_in_address));
    enter_code(out, |code| {
        let (keyway, link) = (&client.keyway, &link);
        let name = name.as_ref();
        async move { keyway.accept_invitation_with_name(link, &code, name).await }
    })
    .await?;
    client.remember_backend()?;
    if preview.name_required && name.is_none() {
        out.note(
            "Your administrator has no name for you yet: add it with `keyway profile --first-name F --last-name L`.",
        );
    }
    let keys = client.keyway.keys()?.into_iter().filter(|k| k.is_active()).count();
    out.result(
        json!({
            "accepted": true,
            "organisation": preview.organisation,
            "facility": preview.facility,
            "role": preview.role,
            "address": preview.sign_in_address,
            "keys": keys,
            "no_access_yet": keys == 0,
        }),
        || {
            if keys == 0 {
                format!("{} You are signed in; no access yet.", out.good("Invitation accepted."))
            } else {
                format!(
                    "{} You are signed in with {keys} key(s); `keyway keys` lists them.",
                    out.good("Invitation accepted.")
                )
            }
        },
    );
    Ok(())
}
