//! The demo's last chapters (issue 18): an online door refuses a revoked member with no
//! phone carrying anything — its lock heard of the revocation over its own link — and an
//! invitation as the web page a phone without the app opens, saved where a person can open
//! it after the demo.

use crate::demo::{StepResult, check};
use crate::narrate::Narrator;
use keyway_core::Error;
use keyway_sandbox::world::{DAY, Org, T0, World};
use std::time::Duration;

fn fail(what: &str, e: impl std::fmt::Debug) -> String {
    format!("{what}: {e:?}")
}

/// Plays the chapters.
pub async fn run(n: &mut Narrator, world: &World, org: &Org) -> StepResult<()> {
    n.chapter("The Studio door has internet: a revocation reaches it with no phone");
    let studio = world.door(org, "Studio", true).await;
    let studio_key = world.key(org, "Studio", std::slice::from_ref(&studio)).await;
    let link = n
        .step("the Studio's lock opens its link to the backend (HTTPS, signed with its own key)", async {
            world.connect_online(&studio).await.map_err(|e| fail("online link", e))
        })
        .await?;
    let eve_invite = world.invite(org, "eve@example.com", studio_key, None, T0 + 30 * DAY).await;
    let eve = world.phone();
    n.step("Eve accepts an invitation to the Studio and opens it", async {
        eve.accept_invitation(world, "eve@example.com").await;
        eve.keyway.unlock(&studio.lock_id).await.map(|_| ()).map_err(|e| fail("unlock", e))
    })
    .await?;
    let before = link.status().bundles_applied;
    n.step("operator revokes Eve; the lock applies the update over its link within seconds", async {
        world.revoke_all(org, eve_invite.person_id).await;
        let applied = link.wait_for(Duration::from_secs(5), |s| s.bundles_applied > before).await;
        check(applied.is_some(), "the Studio's lock applied the revocation within 5 s")
    })
    .await?;
    n.step("Eve's app never refreshed and no phone carried anything: the Studio refuses her", async {
        match eve.keyway.unlock(&studio.lock_id).await {
            Err(Error::KeyRevoked) => Ok(()),
            other => Err(fail("expected the key to be refused as revoked", other.map(|_| ()))),
        }
    })
    .await?;
    drop(link);

    n.chapter("An invitation opened on a phone without the app");
    world.invite(org, "finn@example.com", studio_key, None, T0 + 30 * DAY).await;
    let link = world.link("finn@example.com", "invitation").await;
    let token = link.rsplit('/').next().unwrap_or_default().to_owned();
    let page_url = format!("{}invite/{token}", world.base_url);
    let page = n
        .step("the backend serves the invitation link as a plain web page", async {
            let roots = reqwest::Certificate::from_pem(world.ca_pem().as_bytes()).map_err(|e| fail("CA", e))?;
            let http = reqwest::Client::builder().tls_certs_only([roots]).build().map_err(|e| fail("client", e))?;
            let answer = http.get(&page_url).send().await.map_err(|e| fail("page", e))?;
            check(answer.status().is_success(), "the page answers 200")?;
            let html = answer.text().await.map_err(|e| fail("page", e))?;
            check(html.contains("Open in the app"), "the page offers to open the app")?;
            Ok(html)
        })
        .await?;
    let saved = std::env::temp_dir().join("keyway-demo-invitation.html");
    std::fs::write(&saved, page).map_err(|e| fail("saving the page", e))?;
    n.detail(&format!("while the demo runs: {page_url} (trust the demo's CA: {})", world.ca_file().display()));
    n.detail(&format!("saved for later: open {} in a browser", saved.display()));
    Ok(())
}
