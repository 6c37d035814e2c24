//! `keyway delete-account --yes`: deletes the member's account at the service (signed by
//! this computer's device key), then removes every key and secret from this computer.

use crate::client::Client;
use crate::client::failure::Failure;
use crate::client::output::Output;
use serde_json::json;

/// Deletes the account; `yes` is the person's confirmation, given on the command line.
pub async fn run(client: &Client, out: Output, yes: bool) -> Result<(), Failure> {
    if !yes {
        return Err(Failure::usage(
            "deleting your account cannot be undone",
            "run `keyway delete-account --yes` to delete it; `keyway logout` only signs out",
        ));
    }
    client.require_session()?;
    client.keyway.delete_account().await?;
    out.result(json!({ "account_deleted": true }), || {
        "Your account was deleted; your keys and secrets are gone from this computer. \
         The doors keep their history under an anonymous id."
            .into()
    });
    Ok(())
}
