//! The desktop client's secrets in a real OS keyring: GNOME Keyring's Secret Service on
//! a private session bus (see `desk::keyring_service`), and the private-files fallback
//! on a computer without one.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod desk;

use desk::keyring_service::KeyringService;
use desk::*;
use keyway_sandbox::world::{DAY, Gym, World};

const PHONE: &str = "+447700900124";

async fn gym_today() -> (World, Gym) {
    let world = World::start().await;
    world.set_time(now());
    let gym = world.gym().await;
    world.phone_only_member(&gym.org, PHONE, gym.key, now() + 30 * DAY).await;
    (world, gym)
}

/// The keyring service name the client files this desk's secrets under.
fn service_of(desk: &Desk) -> String {
    format!("keyway {}", desk.home.path().display())
}

/// Every file under `dir`, with its contents.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_keeps_the_session_in_the_os_keyring_and_no_secret_on_disk() {
    let keyring = KeyringService::start().expect("a Secret Service on a private bus");
    let (world, _gym) = gym_today().await;
    let desk = Desk::new(&world).with_keyring(Some(&keyring));

    let out = desk.run_with_code(&world, PHONE, &["login", PHONE], None).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(!stderr(&out).contains("no OS keyring"), "the keyring was found: {}", stderr(&out));

    // Another program on the desktop finds the session and the device key in the keyring.
    let session = keyring.lookup(&service_of(&desk), "session").expect("the session is in the keyring");
    assert!(keyring.lookup(&service_of(&desk), "device_key").is_some(), "the device key is in the keyring");

    // Canary: no token of the session is in any file of the client's folder.
    let tokens: serde_json::Value = serde_json::from_slice(&session).expect("the session entry is JSON");
    let secrets: Vec<&str> =
        tokens.as_object().unwrap().values().filter_map(|v| v.as_str()).filter(|s| s.len() >= 16).collect();
    assert!(!secrets.is_empty(), "the session holds tokens: {tokens}");
    assert!(!desk.home.path().join("secrets").exists(), "no secrets folder beside a keyring");
    for (path, bytes) in files_under(desk.home.path()) {
        let text = String::from_utf8_lossy(&bytes);
        for secret in &secrets {
            assert!(!text.contains(secret), "a session token is in {}", path.display());
        }
    }

    // Later commands find the session there; signing out takes it out of the keyring.
    let out = desk.run(&["keys"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = desk.run(&["logout"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(keyring.lookup(&service_of(&desk), "session"), None, "signed out: the session is gone");
    assert_eq!(keyring.lookup(&service_of(&desk), "device_key"), None, "signed out: the device key is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keyring_the_client_says_once_that_secrets_go_to_private_files() {
    let (world, _gym) = gym_today().await;
    let desk = Desk::new(&world).with_keyring(None);

    let out = desk.run_with_code(&world, PHONE, &["login", PHONE], None).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    let notice: Vec<&str> = err.lines().filter(|l| l.contains("no OS keyring")).map(str::trim).collect();
    assert_eq!(notice.len(), 1, "one notice line: {}", stderr(&out));
    assert!(notice[0].contains("readable only by you"), "{}", notice[0]);

    let secrets = desk.home.path().join("secrets");
    let modes: Vec<u32> = files_under(&secrets)
        .iter()
        .map(|(p, _)| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions()) & 0o777)
        .collect();
    assert!(modes.len() >= 2 && modes.iter().all(|m| *m == 0o600), "private secret files: {modes:?}");

    let out = desk.run(&["keys"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("no OS keyring"), "the notice is said once: {}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_whose_keyring_is_gone_says_so_instead_of_looking_signed_out() {
    let keyring = KeyringService::start().expect("a Secret Service on a private bus");
    let (world, _gym) = gym_today().await;
    let mut desk = Desk::new(&world).with_keyring(Some(&keyring));
    let out = desk.run_with_code(&world, PHONE, &["login", PHONE], None).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));

    // The desktop session ends: no bus, no keyring.
    drop(keyring);
    desk.env.retain(|(name, _)| name != "DBUS_SESSION_BUS_ADDRESS");
    let out = desk.run(&["keys", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(json(&out)["error"]["kind"], "keyring_unavailable", "{}", stdout(&out));
    let out = desk.run(&["keys"]).await;
    assert_one_line_error(&out, 1);
    assert!(stderr(&out).contains("keyring"), "{}", stderr(&out));
}
