//! `keyway logout`: ends the session at the backend and removes every key and secret
//! from this computer.

use crate::client::Client;
use crate::client::failure::Failure;
use crate::client::output::Output;
use serde_json::json;

/// Signs out.
pub async fn run(client: &Client, out: Output) -> Result<(), Failure> {
    client.keyway.sign_out().await?;
    out.result(json!({ "signed_out": true }), || "Signed out; keys and secrets removed from this computer.".into());
    Ok(())
}
