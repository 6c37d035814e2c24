//! The desktop client, run as a binary against the real backend on loopback: each
//! command's happy path, its `--json` form, and the failures a person meets, each as one
//! line and a documented exit code.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod desk;

use desk::*;
use keyway_sandbox::world::{DAY, HOUR, World};
use std::process::Command;

/// A world at today's date (the client uses this computer's clock) with Harbour Gym.
async fn gym_today() -> (World, keyway_sandbox::world::Gym) {
    let world = World::start().await;
    world.set_time(now());
    let gym = world.gym().await;
    (world, gym)
}

const PHONE: &str = "+447700900123";

/// A phone-only member holding the gym's key, signed in on a desk.
async fn signed_in_member(world: &World, gym: &keyway_sandbox::world::Gym) -> Desk {
    world.phone_only_member(&gym.org, PHONE, gym.key, now() + 30 * DAY).await;
    let desk = Desk::new(world);
    let out = desk.run_with_code(world, PHONE, &["login", PHONE], None).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    desk
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signs_in_with_the_texted_code_and_lists_her_keys() {
    let (world, gym) = gym_today().await;
    let desk = signed_in_member(&world, &gym).await;
    let out = desk.run(&["keys"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Members") && text.contains("Back gate") && text.contains("opens, even offline"), "{text}");

    let listed = json(&desk.run(&["keys", "--json"]).await);
    assert_eq!(listed["offline"], false);
    let door = &listed["keys"][0]["doors"][0];
    assert_eq!(door["name"], "Back gate");
    assert_eq!(door["id"], gym.gate.lock_id.to_string());
    assert_eq!(door["access"]["state"], "ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_from_a_script_prints_one_json_object() {
    let (world, gym) = gym_today().await;
    world.phone_only_member(&gym.org, PHONE, gym.key, now() + 30 * DAY).await;
    let desk = Desk::new(&world);
    let out = desk.run_with_code(&world, PHONE, &["--json", "login", PHONE], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result = json(&out);
    assert_eq!(result["signed_in"], true);
    assert_eq!(result["address"], PHONE);
    assert_eq!(result["keys"], 1);
    assert!(stderr(&out).contains("text message"), "the code note goes to stderr: {}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_is_refused_with_the_attempts_left() {
    let (world, gym) = gym_today().await;
    world.phone_only_member(&gym.org, PHONE, gym.key, now() + 30 * DAY).await;
    let desk = Desk::new(&world);
    let out = desk.run_with_code(&world, PHONE, &["login", PHONE], Some("000000")).await;
    assert_one_line_error(&out, 5);
    assert!(stderr(&out).contains("4 attempts left"), "{}", stderr(&out));
    let too_soon = desk.run(&["login", PHONE]).await;
    assert_one_line_error(&too_soon, 5);
    assert!(stderr(&too_soon).contains("wait"), "{}", stderr(&too_soon));

    world.advance(10 * 60);

    let out = desk.run_with_code(&world, PHONE, &["--json", "login", PHONE], Some("12345")).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["kind"], "code_malformed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_member_accepts_the_link_and_a_used_link_says_so() {
    let (world, gym) = gym_today().await;
    world.invite(&gym.org, "ana@example.com", gym.key, None, now() + 30 * DAY).await;
    let link = world.link("ana@example.com", "invitation").await;
    let desk = Desk::new(&world);
    let out = desk.run_with_code(&world, "ana@example.com", &["--json", "accept", &link], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let accepted = json(&out);
    assert_eq!(accepted["accepted"], true);
    assert_eq!(accepted["organisation"], "Harbour Gym");
    assert_eq!(accepted["keys"], 1);
    assert!(stderr(&out).contains("Invitation to Harbour Gym"), "{}", stderr(&out));

    let again = Desk::new(&world).run(&["accept", &link]).await;
    assert_one_line_error(&again, 5);
    assert!(stderr(&again).contains("already accepted"), "{}", stderr(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_keys_on_this_computer_are_still_listed() {
    let (world, gym) = gym_today().await;
    let desk = signed_in_member(&world, &gym).await;
    world.stop_backend().await;
    let out = desk.run(&["keys"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("Offline"), "{}", stdout(&out));
    assert!(stdout(&out).contains("Back gate"), "{}", stdout(&out));
    assert_eq!(json(&desk.run(&["keys", "--json"]).await)["offline"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_shares_a_door_a_guest_redeems_it_and_the_member_takes_it_back() {
    let (world, gym) = gym_today().await;
    world.invite(&gym.org, "ana@example.com", gym.key, None, now() + 30 * DAY).await;
    let link = world.link("ana@example.com", "invitation").await;
    let ana = Desk::new(&world);
    let out = ana.run_with_code(&world, "ana@example.com", &["accept", &link], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = ana.run(&["--json", "share", "--to", "guest@example.com", "--door", "back gate", "--for", "8h"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let share = json(&out);
    assert_eq!(share["delivered"], true);
    let window = share["ends_at"].as_u64().unwrap() - share["starts_at"].as_u64().unwrap();
    assert!((8 * u64::from(HOUR) - 120..=8 * u64::from(HOUR) + 120).contains(&window), "{share}");

    let share_link = world.link("guest@example.com", "share").await;
    let guest = Desk::new(&world);
    let out = guest.run(&["redeem", &share_link]).await;
    assert_one_line_error(&out, 3);
    let out = guest.run_with_code(&world, "guest@example.com", &["login", "guest@example.com"], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = guest.run(&["--json", "redeem", &share_link]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["guest_keys"].as_array().map(Vec::len), Some(1));
    let keys = json(&guest.run(&["keys", "--json"]).await);
    assert_eq!(keys["keys"][0]["guest"], true);
    assert_eq!(keys["keys"][0]["doors"][0]["access"]["state"], "ready");

    let share_id = share["share_id"].as_i64().unwrap().to_string();
    let out = ana.run(&["revoke-share", &share_id]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let keys = json(&guest.run(&["keys", "--json"]).await);
    assert_eq!(keys["keys"][0]["revoked"], true, "{keys}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_needs_an_end_and_a_door_of_your_own() {
    let (world, gym) = gym_today().await;
    let desk = signed_in_member(&world, &gym).await;
    let out = desk.run(&["share", "--to", "guest@example.com", "--door", "Back gate"]).await;
    assert_one_line_error(&out, 2);
    let out = desk.run(&["share", "--to", "guest@example.com", "--door", "Front door", "--for", "2h"]).await;
    assert_one_line_error(&out, 2);
    assert!(stderr(&out).contains("unknown door"), "{}", stderr(&out));
    // The phone-only member's key is not shareable.
    let out = desk.run(&["share", "--to", "guest@example.com", "--door", "Back gate", "--for", "2h"]).await;
    assert_one_line_error(&out, 5);
    assert!(stderr(&out).contains("cannot be shared"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_leaves_no_key_or_secret_on_the_computer() {
    let (world, gym) = gym_today().await;
    let desk = signed_in_member(&world, &gym).await;
    let secrets = desk.home.path().join("secrets");
    let stored = || std::fs::read_dir(&secrets).unwrap().count();
    assert!(stored() >= 2, "the session and the device key are stored");
    let out = desk.run(&["logout"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stored(), 0, "no secret file is left");
    let out = desk.run(&["keys"]).await;
    assert_one_line_error(&out, 3);
    assert!(stderr(&out).contains("keyway login"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ca_file_given_at_sign_in_is_remembered_for_later_commands() {
    let (world, gym) = gym_today().await;
    let desk = signed_in_member(&world, &gym).await;
    let later = Desk { ca_file: None, ..desk };
    let out = later.run(&["keys", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["offline"], false, "the keys came from the backend over HTTPS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_certificate_the_computer_does_not_trust_is_refused_before_anything_is_sent() {
    let (world, gym) = gym_today().await;
    world.phone_only_member(&gym.org, PHONE, gym.key, now() + 30 * DAY).await;
    let desk = Desk::at(&world.base_url);
    let served_before = world.requests_served();
    let out = desk.run(&["login", PHONE]).await;
    assert_one_line_error(&out, 4);
    assert!(stderr(&out).contains("securely") && stderr(&out).contains("--ca-file"), "{}", stderr(&out));
    let out = desk.run(&["--json", "login", PHONE]).await;
    assert_eq!(json(&out)["error"]["kind"], "insecure_connection");
    assert_eq!(world.requests_served(), served_before, "no request reached the backend");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_and_bad_input_are_one_line_and_exit_code_two() {
    let world = World::start().await;
    let desk = Desk::new(&world);
    for args in [
        &["login"][..],
        &["login", "not an address"],
        &["accept", "https://evil.example/invite/abc"],
        &["accept", "hello"],
        &["unlock"],
        &["revoke-share", "seven"],
    ] {
        let out = desk.run(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyway-client"));
    cmd.args(["--home", &desk.home.path().display().to_string(), "--backend", "ftp:nothing", "keys"]);
    let out = cmd.output().unwrap();
    assert_one_line_error(&out, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_need_a_sign_in_first() {
    let world = World::start().await;
    let desk = Desk::new(&world);
    for args in [&["keys"][..], &["share", "--to", "a@b.example", "--door", "x", "--for", "1h"], &["revoke-share", "1"]]
    {
        let out = desk.run(args).await;
        assert_one_line_error(&out, 3);
    }
}
