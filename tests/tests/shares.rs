//! Guest shares as the member and the guest meet them, end to end: the core through its
//! public API (and the `keyway` client as a process) against the real backend over HTTPS.
//! - `share_list`: the member lists what they shared — guest, doors, window, status — after
//!   the app restarted, and revokes any of it by the id from that list;
//! - `guest_preview`: the guest sees who shared which doors before redeeming; each way a
//!   share link can be dead is its own error;
//! - `pasted_links`: invitation and share links pasted the way chat apps and mail clients
//!   leave them still open what they were sent for.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod desk;

use desk::*;
use keyway_core::cache::{KeyStatus, RevokeReason};
use keyway_core::links::{LinkKind, LinkProblem};
use keyway_core::{Error, ShareStatus, Timestamp, share_is_dead};
use keyway_sandbox::world::{DAY, Gym, HOUR, Org, T0, World};
use serde_json::json;

/// Gives `email` a name on the organisation's records, as an administrator would.
async fn named(world: &World, org: &Org, email: &str, name: &str) {
    world
        .admin("POST", &format!("v1/admin/orgs/{}/people", org.id), Some(json!({ "email": email, "name": name })))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_list_survives_a_restart_shows_each_status_and_revokes_by_its_id() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("keyway.sqlite");
    let store = std::sync::Arc::new(keyway_core::platform::MemoryStore::new());

    // Ana shares the back gate three times: with Ben (left pending), with Cy (redeemed),
    // and with Dee for one hour only (it will expire unredeemed).
    {
        let ana = world.phone_with(Some(cache.clone()), store.clone());
        ana.accept_invitation(&world, "ana@example.com").await;
        assert!(ana.keyway.shares().await.unwrap().is_empty(), "nothing shared yet");
        let grant = ana.keyway.keys().unwrap()[0].grant_id;
        let doors = [gate.lock_id];
        ana.keyway.share_key(grant, &doors, None, T0 + 2 * DAY, "ben@example.com").await.unwrap();
        ana.keyway.share_key(grant, &doors, Some(T0 + HOUR), T0 + 3 * DAY, "cy@example.com").await.unwrap();
        ana.keyway.share_key(grant, &doors, None, T0 + HOUR, "+447700900555").await.unwrap();
    }
    let cy = world.phone();
    cy.sign_in(&world, "cy@example.com").await;
    let cy_link = cy.keyway.parse_link(&world.link("cy@example.com", "share").await).unwrap();
    world.advance(60);
    cy.keyway.redeem_share(&cy_link).await.unwrap();
    world.set_time(T0 + 2 * HOUR);

    // The app restarts: the list comes from the service, not from the calls that made them.
    let ana = world.phone_with(Some(cache), store);
    let shares = ana.keyway.shares().await.unwrap();
    let guests: Vec<&str> = shares.iter().map(|s| s.guest.as_str()).collect();
    assert_eq!(guests, ["+447700900555", "cy@example.com", "ben@example.com"], "newest first");
    let [dee, cy_share, ben] = [&shares[0], &shares[1], &shares[2]];
    assert_eq!(
        (dee.status, cy_share.status, ben.status),
        (ShareStatus::Expired, ShareStatus::Redeemed, ShareStatus::Pending)
    );
    assert_eq!(ben.doors.len(), 1);
    assert_eq!((ben.doors[0].door, ben.doors[0].name.as_str()), (gate.lock_id, "Back gate"));
    assert_eq!((cy_share.starts_at, cy_share.ends_at), (Timestamp(T0 + HOUR), Timestamp(T0 + 3 * DAY)));
    assert_eq!(cy_share.redeemed_at, Some(Timestamp(T0 + 60)));
    assert_eq!(ben.created_at, Timestamp(T0));
    assert_eq!(ben.link_expires_at, Timestamp(T0 + 2 * DAY), "the link dies with the window when that is sooner");
    assert_eq!(ben.redeemed_at, None);
    assert!(ben.status.is_live() && cy_share.status.is_live() && !dee.status.is_live());

    // Revoking Cy's redeemed share by the id from the list ends Cy's key; Ben's pending
    // link dies too.
    ana.keyway.revoke_share(cy_share.share_id).await.unwrap();
    ana.keyway.revoke_share(ben.share_id).await.unwrap();
    let after: Vec<ShareStatus> = ana.keyway.shares().await.unwrap().iter().map(|s| s.status).collect();
    assert_eq!(after, [ShareStatus::Expired, ShareStatus::Revoked, ShareStatus::Revoked]);
    cy.keyway.refresh().await.unwrap();
    assert_eq!(
        cy.keyway.keys().unwrap()[0].status,
        KeyStatus::Revoked { reason: RevokeReason::BySharer, message: None },
        "Cy's guest key reads as taken back by the member who shared it"
    );
    let ben_phone = world.phone();
    let ben_link = ben_phone.keyway.parse_link(&world.link("ben@example.com", "share").await).unwrap();
    assert_eq!(ben_phone.keyway.preview_share(&ben_link).await, Err(Error::ShareRevoked));

    // Revoking again is not an error; someone else's share id, or none, is ShareNotFound.
    ana.keyway.revoke_share(ben.share_id).await.unwrap();
    assert_eq!(cy.keyway.revoke_share(ben.share_id).await, Err(Error::ShareNotFound));
    assert_eq!(ana.keyway.revoke_share(987_654).await, Err(Error::ShareNotFound));
    assert!(cy.keyway.shares().await.unwrap().is_empty(), "a guest lists only their own shares");

    // Offline, the list says so instead of showing nothing.
    world.stop_backend().await;
    assert_eq!(ana.keyway.shares().await, Err(Error::Offline));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_list_an_administrator_revoking_the_guest_key_shows_the_share_as_revoked() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let ana = world.member(&org, "ana@example.com", key).await;
    let grant = ana.keyway.keys().unwrap()[0].grant_id;
    ana.keyway.share_key(grant, &[gate.lock_id], None, T0 + DAY, "ben@example.com").await.unwrap();
    let ben = world.phone();
    ben.sign_in(&world, "ben@example.com").await;
    let link = ben.keyway.parse_link(&world.link("ben@example.com", "share").await).unwrap();
    ben.keyway.redeem_share(&link).await.unwrap();
    // The administrator revokes Ben's guest key itself, not the share.
    let guest_grant = ben.keyway.keys().unwrap()[0].grant_id;
    world.admin("POST", &format!("v1/admin/grants/{guest_grant}/revoke"), None).await;
    let shares = ana.keyway.shares().await.unwrap();
    assert_eq!(shares[0].status, ShareStatus::Revoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_preview_shows_who_shared_which_doors_for_when_before_redeeming() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    named(&world, &org, "ana@example.com", "Ana Lima").await;
    let ana = world.member(&org, "ana@example.com", key).await;
    let grant = ana.keyway.keys().unwrap()[0].grant_id;
    ana.keyway.share_key(grant, &[gate.lock_id], Some(T0 + HOUR), T0 + 5 * HOUR, "ben@example.com").await.unwrap();

    // Ben opens the link before signing in.
    let ben = world.phone();
    let link = ben.keyway.parse_link(&world.link("ben@example.com", "share").await).unwrap();
    let preview = ben.keyway.preview_share(&link).await.unwrap();
    assert_eq!(preview.shared_by.as_deref(), Some("Ana Lima"));
    assert_eq!(preview.organisation, "Harbour Gym");
    assert_eq!(preview.facility, "Harbour Gym");
    assert_eq!(preview.doors, ["Back gate"]);
    assert_eq!((preview.starts_at, preview.ends_at), (Timestamp(T0 + HOUR), Timestamp(T0 + 5 * HOUR)));
    assert_eq!(preview.sign_in_address, "ben@example.com");
    assert_eq!(preview.link_expires_at, Timestamp(T0 + 5 * HOUR));

    // Then redeems it; the preview of the same link now says it was redeemed.
    ben.sign_in(&world, "ben@example.com").await;
    ben.keyway.redeem_share(&link).await.unwrap();
    assert_eq!(ben.keyway.preview_share(&link).await, Err(Error::ShareAlreadyRedeemed));

    // A member with no name on record: the preview says only the organisation.
    let nameless = world.member(&org, "noname@example.com", key).await;
    let grant = nameless.keyway.keys().unwrap()[0].grant_id;
    nameless.keyway.share_key(grant, &[gate.lock_id], None, T0 + DAY, "zed@example.com").await.unwrap();
    let link = ben.keyway.parse_link(&world.link("zed@example.com", "share").await).unwrap();
    assert_eq!(ben.keyway.preview_share(&link).await.unwrap().shared_by, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_preview_every_dead_share_link_reaches_the_app_as_its_own_error() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    let ana = world.member(&org, "ana@example.com", key).await;
    let grant = ana.keyway.keys().unwrap()[0].grant_id;
    let share = |guest: &'static str, ends_at: u32| {
        let ana = &ana;
        async move { ana.keyway.share_key(grant, &[gate.lock_id], None, ends_at, guest).await.unwrap() }
    };
    let guest = world.phone();

    // Revoked by the member.
    let revoked = share("rev@example.com", T0 + DAY).await;
    ana.keyway.revoke_share(revoked.share_id).await.unwrap();
    let link = guest.keyway.parse_link(&world.link("rev@example.com", "share").await).unwrap();
    assert_eq!(guest.keyway.preview_share(&link).await, Err(Error::ShareRevoked));

    // Already redeemed on another device: Ben redeemed it on his phone; his laptop (signed
    // in as Ben too) can neither preview nor redeem it again.
    share("ben@example.com", T0 + DAY).await;
    let ben_link = world.link("ben@example.com", "share").await;
    let phone = world.phone();
    phone.sign_in(&world, "ben@example.com").await;
    phone.keyway.redeem_share(&phone.keyway.parse_link(&ben_link).unwrap()).await.unwrap();
    world.advance(60);
    let laptop = world.phone();
    laptop.sign_in(&world, "ben@example.com").await;
    let link = laptop.keyway.parse_link(&ben_link).unwrap();
    assert_eq!(laptop.keyway.preview_share(&link).await, Err(Error::ShareAlreadyRedeemed));
    assert_eq!(laptop.keyway.redeem_share(&link).await, Err(Error::ShareAlreadyRedeemed));

    // Never a share: a well-formed token the service never made.
    let made_up = guest.keyway.parse_link("https://keyway.test/share/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    assert_eq!(guest.keyway.preview_share(&made_up).await, Err(Error::ShareNotFound));

    // Expired: the window (and with it the link) ended before anyone redeemed it.
    share("late@example.com", T0 + 2 * HOUR).await;
    let link = guest.keyway.parse_link(&world.link("late@example.com", "share").await).unwrap();
    world.advance(2 * HOUR + 1);
    assert_eq!(guest.keyway.preview_share(&link).await, Err(Error::ShareExpired));

    for dead in [Error::ShareRevoked, Error::ShareAlreadyRedeemed, Error::ShareNotFound, Error::ShareExpired] {
        assert!(share_is_dead(&dead), "{dead:?}");
    }
    // An invitation link is not a share link: refused before any call.
    world.invite(&org, "inv@example.com", key, None, T0 + 30 * DAY).await;
    let invitation = guest.keyway.parse_link(&world.link("inv@example.com", "invitation").await).unwrap();
    assert_eq!(
        guest.keyway.preview_share(&invitation).await,
        Err(Error::InvalidLink { problem: LinkProblem::WrongKind })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_links_from_chat_apps_still_accept_the_invitation_and_redeem_the_share() {
    let world = World::start().await;
    let Gym { org, gate, key } = world.gym().await;
    world.invite(&org, "ana@example.com", key, None, T0 + 30 * DAY).await;

    // The invitation, pasted from a chat app: in angle brackets, with a full stop, broken
    // over two lines, with the host in capitals and the default port spelled out.
    let link = world.link("ana@example.com", "invitation").await.replacen("keyway.test", "KEYWAY.Test:443", 1);
    let (head, tail) = link.split_at(link.len() / 2);
    let pasted = format!("<{head}\n{tail}>.");
    let ana = world.phone();
    let parsed = ana.keyway.parse_link(&pasted).unwrap();
    assert_eq!((parsed.kind, parsed.host.as_str()), (LinkKind::Invitation, "keyway.test"));
    assert_eq!(ana.keyway.preview_invitation(&parsed).await.unwrap().sign_in_address, "ana@example.com");
    ana.keyway.send_invitation_code(&parsed).await.unwrap();
    ana.keyway.accept_invitation(&parsed, &world.code("ana@example.com").await).await.unwrap();

    // The share, pasted in curly quotes with a comma, its path letters percent-encoded.
    let grant = ana.keyway.keys().unwrap()[0].grant_id;
    ana.keyway.share_key(grant, &[gate.lock_id], None, T0 + DAY, "ben@example.com").await.unwrap();
    let link = world.link("ben@example.com", "share").await;
    let pasted = format!("“{}”,", link.replacen("/share/", "/%73h%61re/", 1));
    let ben = world.phone();
    let parsed = ben.keyway.parse_link(&pasted).unwrap();
    assert_eq!(parsed.kind, LinkKind::SharedKey);
    assert_eq!(ben.keyway.preview_share(&parsed).await.unwrap().doors, ["Back gate"]);
    ben.sign_in(&world, "ben@example.com").await;
    ben.keyway.redeem_share(&parsed).await.unwrap();
    assert!(ben.keyway.keys().unwrap()[0].guest);

    // Anything else keeps its typed refusal.
    let refused = |text: String| ben.keyway.parse_link(&text).map(|_| ()).unwrap_err();
    assert_eq!(
        refused(format!("<{}>.", link.replacen("https:", "http:", 1))),
        Error::InvalidLink { problem: LinkProblem::NotHttps }
    );
    assert_eq!(
        refused(link.replacen("keyway.test", "keyway.test:8443", 1)),
        Error::InvalidLink { problem: LinkProblem::UntrustedHost }
    );
    let cut = &link[..link.find("/share/").unwrap() + "/share/".len() + 10];
    assert_eq!(refused(cut.to_owned()), Error::InvalidLink { problem: LinkProblem::Incomplete });
    assert_eq!(refused("(see the email)".into()), Error::InvalidLink { problem: LinkProblem::NotALink });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_list_on_the_desktop_client_lists_and_revokes_by_the_listed_id() {
    let world = World::start().await;
    world.set_time(now());
    let gym = world.gym().await;
    world.invite(&gym.org, "ana@example.com", gym.key, None, now() + 30 * DAY).await;
    let link = world.link("ana@example.com", "invitation").await;
    let ana = Desk::new(&world);
    let out = ana.run_with_code(&world, "ana@example.com", &["accept", &link], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = ana.run(&["shares"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("not shared any key"), "{}", stdout(&out));
    let out = ana.run(&["share", "--to", "guest@example.com", "--door", "Back gate", "--for", "8h"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let listed = json(&ana.run(&["--json", "shares"]).await);
    let share = &listed["shares"][0];
    assert_eq!(share["guest"], "guest@example.com");
    assert_eq!(share["status"], "pending");
    assert_eq!(share["doors"][0]["name"], "Back gate");
    assert_eq!(share["doors"][0]["id"], gym.gate.lock_id.to_string());
    let text = stdout(&ana.run(&["shares"]).await);
    assert!(text.contains("guest@example.com") && text.contains("Back gate") && text.contains("pending"), "{text}");

    let id = share["share_id"].as_i64().unwrap().to_string();
    let out = ana.run(&["revoke-share", &id]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&ana.run(&["--json", "shares"]).await)["shares"][0]["status"], "revoked");

    // An id that is not one of hers: one line, "refused".
    let out = ana.run(&["revoke-share", "987654"]).await;
    assert_one_line_error(&out, 5);
    assert_eq!(json(&ana.run(&["--json", "revoke-share", "987654"]).await)["error"]["kind"], "share_not_found");
}
