//! Online doors end to end: a door whose reference lock keeps its online link to the
//! backend refuses a revoked member within seconds, with no phone carrying anything — the
//! member's own phone has not even heard of the revocation.
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_core::Error;
use keyway_sandbox::world::{DAY, T0, World};
use std::time::Duration;

/// docs/backend.md, "Online doors": a change reaches a connected lock within about a
/// second; the bound leaves room for a loaded machine.
const ONLINE_DELAY: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_door_refuses_a_revoked_member_within_seconds_with_no_phone_carrying_anything() {
    let world = World::start().await;
    let org = world.org("Riverside Flats").await;
    let door = world.door(&org, "Front door", true).await;
    let key = world.key(&org, "Residents", &[door]).await;
    let link = world.connect_online(&door).await.unwrap();
    let ana_invitation = world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let ana = world.phone();
    ana.accept_invitation(&world, "ana@example.com").await;
    // The app sees the door online: nothing for it to carry there.
    assert!(ana.keyway.doors().unwrap().iter().all(|d| d.online), "the door reads online");
    ana.keyway.unlock(&door.lock_id).await.unwrap();
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 1);

    let applied = link.status().bundles_applied;
    world.revoke_all(&org, ana_invitation.person_id).await;
    link.wait_for(ONLINE_DELAY, |s| s.bundles_applied > applied).await.expect("the revocation reaches the lock");

    // Ana's phone never refreshed: it still presents its credential, and the door refuses it.
    let refused = ana.keyway.unlock(&door.lock_id).await.err();
    assert_eq!(refused, Some(Error::KeyRevoked));
    assert_eq!(world.with_lock(&door, |l| l.actuations()), 1, "the door stayed shut");
}
