//! `keyway accept <link>`: shows what the invitation is for, sends a code to the invited
//! address, and accepts it with the code typed back (which also signs in).

use super::{code_sent_line, enter_code};
use crate::client::Client;
use crate::client::failure::{Failure, when};
use crate::client::output::Output;
use serde_json::json;

/// Accepts an invitation.
pub async fn run(client: &Client, out: Output, link: &str) -> Result<(), Failure> {
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
    let sent = client.keyway.send_invitation_code(&link).await?;
    out.note(&code_sent_line(&sent, &preview.sign_in_address));
    enter_code(out, |code| {
        let (keyway, link) = (&client.keyway, &link);
        async move { keyway.accept_invitation(link, &code).await }
    })
    .await?;
    client.remember_backend()?;
    let keys = client.keyway.keys()?.into_iter().filter(|k| k.is_active()).count();
    out.result(
        json!({
            "accepted": true,
            "organisation": preview.organisation,
            "facility": preview.facility,
            "role": preview.role,
            "address": preview.sign_in_address,
            "keys": keys,
        }),
        || {
            format!(
                "{} You are signed in with {keys} key(s); `keyway keys` lists them.",
                out.good("Invitation accepted.")
            )
        },
    );
    Ok(())
}
