//! `keyway-sandbox demo`: the whole product on one machine. It starts the reference backend
//! (HTTPS with a throw-away CA, SQLite in a temporary folder) and reference locks on the simulated radio, then plays
//! the stories an operator and members live, narrating each step with its timing.
//! Any step that does not do what it says stops the demo with a non-zero exit.

use crate::narrate::Narrator;
use keyway_core::Error;
use keyway_core::ble::UnlockPath;
use keyway_core::cache::KeyStatus;
use keyway_sandbox::world::{DAY, HOUR, T0, World};

/// What went wrong, in one line.
pub type StepResult<T> = Result<T, String>;

fn fail(what: &str, e: impl std::fmt::Debug) -> String {
    format!("{what}: {e:?}")
}

/// Fails the step with `what` unless `ok`.
pub fn check(ok: bool, what: &str) -> StepResult<()> {
    if ok { Ok(()) } else { Err(what.to_owned()) }
}

/// Runs the demo; returns an error on the first step that does not behave.
pub async fn run(n: &mut Narrator) -> StepResult<()> {
    let dir = tempfile::tempdir().map_err(|e| fail("temporary folder", e))?;
    let db = dir.path().join("backend.sqlite");

    n.chapter("The operator sets up Harbour Gym");
    let world = n
        .step("backend started (SQLite in a temporary folder), locks on the simulated radio", async {
            Ok(World::start_with_db(&db.display().to_string(), true).await)
        })
        .await?;
    n.detail(&format!("backend at {} (certificate from a CA made for this run)", world.base_url));
    let org = n
        .step("organisation, site and facility created; site issuer key generated", async {
            Ok(world.org("Harbour Gym").await)
        })
        .await?;
    let (front, gate, pool) = n
        .step("three doors fitted: Front door (online), Back gate and Pool (offline)", async {
            Ok((
                world.door(&org, "Front door", true).await,
                world.door(&org, "Back gate", false).await,
                world.door(&org, "Pool", false).await,
            ))
        })
        .await?;
    let key = n
        .step("key \"Members\" holds all three doors", async {
            Ok(world.key(&org, "Members", &[front, gate, pool]).await)
        })
        .await?;

    n.chapter("Ana is invited, accepts, and opens doors");
    let ana_invite = n
        .step("operator invites ana@example.com as a member for 30 days", async {
            Ok(world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await)
        })
        .await?;
    let ana = world.phone();
    let link = world.link("ana@example.com", "invitation").await;
    let link = n
        .step("Ana's app accepts the link from the email", async {
            ana.keyway.parse_link(&link).map_err(|e| fail("link", e))
        })
        .await?;
    let preview = n
        .step("preview shows organisation, facility, role, address and start", async {
            ana.keyway.preview_invitation(&link).await.map_err(|e| fail("preview", e))
        })
        .await?;
    n.detail(&format!(
        "{} · {} · {} · sign in as {}",
        preview.organisation, preview.facility, preview.role, preview.sign_in_address
    ));
    n.step("a one-time code goes to the invited address", async {
        ana.keyway.send_invitation_code(&link).await.map_err(|e| fail("code", e))
    })
    .await?;
    let code = world.code("ana@example.com").await;
    n.step("Ana enters the code: invitation accepted, signed in, keys cached", async {
        ana.keyway.accept_invitation(&link, &code).await.map_err(|e| fail("accept", e))
    })
    .await?;
    let keys = ana.keyway.keys().map_err(|e| fail("keys", e))?;
    n.detail(&format!(
        "{} key, {} doors on the phone",
        keys.len(),
        ana.keyway.doors().map_err(|e| fail("doors", e))?.len()
    ));
    let first = n
        .step("Ana opens the Back gate (standard unlock)", async {
            ana.keyway.unlock(&gate.lock_id).await.map_err(|e| fail("unlock", e))
        })
        .await?;
    check(first.path == UnlockPath::Standard, "the first visit is a standard unlock")?;
    n.timings(&first.timings);
    let second = n
        .step("Ana opens it again (fast unlock, symmetric crypto only)", async {
            ana.keyway.unlock(&gate.lock_id).await.map_err(|e| fail("unlock", e))
        })
        .await?;
    check(second.path == UnlockPath::Fast, "the second visit is a fast unlock")?;
    n.timings(&second.timings);

    n.chapter("Carl signs in with his phone number");
    let carl_person = n
        .step("operator adds +44 7700 900123 (no email) with the Members key", async {
            Ok(world.phone_only_member(&org, "+447700900123", key, T0 + 30 * DAY).await)
        })
        .await?;
    let carl = world.phone();
    n.step("Carl signs in with the code sent by text message", async {
        let flow = carl.keyway.start_sign_in("+44 7700 900123").await.map_err(|e| fail("sign-in", e))?;
        let code = world.code("+447700900123").await;
        flow.verify(&code).await.map_err(|e| fail("verify", e))
    })
    .await?;
    n.step("Carl opens the Front door", async {
        carl.keyway.unlock(&front.lock_id).await.map(|_| ()).map_err(|e| fail("unlock", e))
    })
    .await?;

    n.chapter("Ana shares the Pool with a guest");
    let grant = keys.first().map(|k| k.grant_id).ok_or("Ana has no key")?;
    n.step("Ana shares the Pool with ben@example.com for the next two hours", async {
        ana.keyway
            .share_key(grant, &[pool.lock_id], None, T0 + 2 * HOUR, "ben@example.com")
            .await
            .map_err(|e| fail("share", e))
    })
    .await?;
    let ben = world.phone();
    let share_link = world.link("ben@example.com", "share").await;
    n.step("Ben opens the link, signs in with a code and redeems the key", async {
        let link = ben.keyway.parse_link(&share_link).map_err(|e| fail("link", e))?;
        let flow = ben.keyway.start_sign_in("ben@example.com").await.map_err(|e| fail("sign-in", e))?;
        flow.verify(&world.code("ben@example.com").await).await.map_err(|e| fail("verify", e))?;
        ben.keyway.redeem_share(&link).await.map_err(|e| fail("redeem", e))
    })
    .await?;
    n.step("Ben opens the Pool", async {
        ben.keyway.unlock(&pool.lock_id).await.map(|_| ()).map_err(|e| fail("unlock", e))
    })
    .await?;
    n.step("Ben's key does not open the Back gate", async {
        match ben.keyway.unlock(&gate.lock_id).await {
            Err(Error::NoKeyForDoor) => Ok(()),
            other => Err(fail("expected no key for the Back gate", other.map(|_| ()))),
        }
    })
    .await?;

    n.chapter("Ana leaves; her revocation reaches the offline Back gate");
    n.step("operator revokes all of Ana's keys (Ben's guest key goes with them)", async {
        world.revoke_all(&org, ana_invite.person_id).await;
        Ok(())
    })
    .await?;
    n.step("Carl's app refreshes: the Back gate's newer bundle is on his phone", async {
        carl.keyway.refresh().await.map(|_| ()).map_err(|e| fail("refresh", e))
    })
    .await?;
    let carried = n
        .step("Carl opens the Back gate; the bundle goes over on the same connection", async {
            carl.keyway.unlock(&gate.lock_id).await.map_err(|e| fail("unlock", e))
        })
        .await?;
    let sync = carried.sync.ok_or("the bundle was not carried")?;
    check(sync.applied.is_ok(), "the lock applied the bundle")?;
    n.detail(&format!("lock now runs bundle version {}", sync.version));
    n.step("the lock's signed receipt reaches the backend; the door shows synced", async {
        carl.keyway.upload_receipts().await.map_err(|e| fail("receipt", e))?;
        let pending = world.admin("GET", &format!("v1/admin/door-sync/pending?org_id={}", org.id), None).await;
        let gate_pending =
            pending.as_array().is_some_and(|doors| doors.iter().any(|d| d["lock_id"] == gate.lock_id.to_hex()));
        check(!gate_pending, "the Back gate still shows a pending sync")
    })
    .await?;
    n.step("Ana's phone has not heard of it, but the Back gate refuses her", async {
        match ana.keyway.unlock(&gate.lock_id).await {
            Err(Error::KeyRevoked) => Ok(()),
            other => Err(fail("expected the key to be refused as revoked", other.map(|_| ()))),
        }
    })
    .await?;
    n.step("Ben's guest key is refused at the Pool too, once the Pool is synced", async {
        carl.keyway.sync_door(&pool.lock_id).await.map_err(|e| fail("sync", e))?;
        match ben.keyway.unlock(&pool.lock_id).await {
            Err(Error::KeyRevoked) => Ok(()),
            other => Err(fail("expected the guest key to be refused as revoked", other.map(|_| ()))),
        }
    })
    .await?;

    n.chapter("Carl's access is suspended, then turned back on");
    n.step("operator turns Carl's access off, with a note for him", async {
        world.set_access(&org, carl_person, false, Some("Membership paused: see the front desk")).await;
        Ok(())
    })
    .await?;
    n.step("Carl's app refreshes: his key shows \"access suspended\" and the note", async {
        carl.keyway.refresh().await.map_err(|e| fail("refresh", e))?;
        let status = carl.keyway.keys().map_err(|e| fail("keys", e))?.first().map(|k| k.status.clone());
        let expected = KeyStatus::Suspended { message: Some("Membership paused: see the front desk".into()) };
        check(status == Some(expected), "Carl's key shows suspended with the note")
    })
    .await?;
    n.step("Carl is refused at the Back gate: access suspended, not revoked", async {
        match carl.keyway.unlock(&gate.lock_id).await {
            Err(Error::AccessSuspended) => Ok(()),
            other => Err(fail("expected access suspended", other.map(|_| ()))),
        }
    })
    .await?;
    n.step("operator turns Carl's access back on; one refresh and he opens the gate", async {
        world.set_access(&org, carl_person, true, None).await;
        carl.keyway.refresh().await.map_err(|e| fail("refresh", e))?;
        carl.keyway.unlock(&gate.lock_id).await.map(|_| ()).map_err(|e| fail("unlock", e))
    })
    .await?;

    crate::demo_doorcode::run(n, &world, &org, key, gate, &carl).await?;
    crate::demo_online::run(n, &world, &org).await?;
    Ok(())
}
