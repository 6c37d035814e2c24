//! `keyway login <email or phone>`: a one-time code to the address, typed back, and the
//! person's keys fetched onto this computer.

use super::{code_sent_line, enter_code};
use crate::client::Client;
use crate::client::failure::Failure;
use crate::client::output::Output;
use serde_json::json;

/// Signs in.
pub async fn run(client: &Client, out: Output, address: &str) -> Result<(), Failure> {
    let flow = client.keyway.start_sign_in(address).await?;
    let to = flow.address().as_str().to_owned();
    out.note(&code_sent_line(&flow.code_sent(), &to));
    enter_code(out, |code| {
        let flow = &flow;
        async move { flow.verify(&code).await }
    })
    .await?;
    client.remember_backend()?;
    let keys = client.keyway.keys()?.into_iter().filter(|k| k.is_active()).count();
    out.result(json!({ "signed_in": true, "address": to, "keys": keys }), || {
        format!("{} as {to}. {keys} key(s) on this computer; `keyway keys` lists them.", out.good("Signed in"))
    });
    Ok(())
}
