//! The demo's doorcode chapter: a member given a daily doorcode types it on the offline
//! Back gate's keypad (the lock checks it with no network, from the secret it shares with
//! the backend), then leaves; her code is refused once the door has been synced.

use crate::demo::{StepResult, check};
use crate::narrate::Narrator;
use keyway_lock::keypad::KeypadOutcome;
use keyway_sandbox::world::{DAY, DoorHandle, Org, Phone, T0, World};
use serde_json::json;

fn fail(what: &str, e: impl std::fmt::Debug) -> String {
    format!("{what}: {e:?}")
}

fn type_code(world: &World, door: &DoorHandle, code: &str) -> StepResult<KeypadOutcome> {
    world.with_lock(door, |lock| lock.keypad(format!("{code}#").as_bytes())).map_err(|e| fail("keypad", e))
}

/// Plays the chapter: `courier` is a member whose phone carries the Back gate's bundles.
pub async fn run(
    n: &mut Narrator,
    world: &World,
    org: &Org,
    key: i64,
    gate: DoorHandle,
    courier: &Phone,
) -> StepResult<()> {
    n.chapter("Dora gets a daily doorcode for the offline Back gate");
    let invite = n
        .step("operator invites dora@example.com to the Members key", async {
            Ok(world.invite(org, "dora@example.com", key, None, T0 + 30 * DAY).await)
        })
        .await?;
    let dora = world.phone();
    n.step("Dora accepts on her phone", async {
        dora.accept_invitation(world, "dora@example.com").await;
        Ok(())
    })
    .await?;
    let grant =
        dora.keyway.keys().map_err(|e| fail("keys", e))?.first().map(|k| k.grant_id).ok_or("Dora has no key")?;
    n.step("operator lets Dora's key carry a daily doorcode", async {
        let path = format!("v1/admin/grants/{grant}/doorcode");
        let state = world.admin("POST", &path, Some(json!({ "enabled": true }))).await;
        check(state["enabled"] == true, "the doorcode is enabled")
    })
    .await?;
    let code = n
        .step("Dora's app shows today's doorcode for the Back gate (the backend computes it)", async {
            dora.keyway.doorcode(&gate.lock_id).await.map_err(|e| fail("doorcode", e))
        })
        .await?;
    n.detail(&format!(
        "8 digits, valid {} to {}; the door's secret never reaches the phone",
        code.valid_from, code.valid_until
    ));
    n.step("Carl's unlock carries the Back gate's newest bundle, with Dora's doorcode slot", async {
        courier.keyway.refresh().await.map_err(|e| fail("refresh", e))?;
        let outcome = courier.keyway.unlock(&gate.lock_id).await.map_err(|e| fail("unlock", e))?;
        check(outcome.sync.is_some_and(|s| s.applied.is_ok()), "the lock applied the bundle")
    })
    .await?;
    n.step("Dora types her doorcode on the offline Back gate's keypad: it opens", async {
        match type_code(world, &gate, &code.code)? {
            KeypadOutcome::Opened { .. } => Ok(()),
            other => Err(fail("expected the door to open", other)),
        }
    })
    .await?;

    n.chapter("Dora leaves; her doorcode dies at the Back gate's next sync");
    n.step("operator revokes Dora's keys; her app shows no doorcode any more", async {
        world.revoke_all(org, invite.person_id).await;
        let codes = dora.keyway.doorcodes().await.map_err(|e| fail("doorcodes", e))?;
        check(codes.is_empty(), "a revoked person's app shows no code")
    })
    .await?;
    n.step("Carl syncs the Back gate (any member's unlock would do it)", async {
        courier.keyway.sync_door(&gate.lock_id).await.map(|_| ()).map_err(|e| fail("sync", e))
    })
    .await?;
    n.step("the code Dora wrote down is refused at the keypad", async {
        match type_code(world, &gate, &code.code)? {
            KeypadOutcome::WrongCode { .. } => Ok(()),
            other => Err(fail("expected the code to be refused", other)),
        }
    })
    .await?;
    Ok(())
}
