//! The phone in its own process, for the crash-safety suite (`tests/tests/crash_safety.rs`):
//! the core with its kill points on, its cache file and secure store on disk, its radio
//! reaching the test's locks through the radio bridge, talking HTTP to the test's backend.
//! The test kills it with SIGKILL at a kill point, then starts it again.
//!
//! `keyway-crash-child <step>` with the environment `KEYWAY_CHILD_DIR` (its disk),
//! `KEYWAY_BACKEND_URL` with `KEYWAY_CA_FILE` (the CA its certificate is from), `KEYWAY_RADIO` (the bridge), `KEYWAY_NOW` (the phone's clock) and
//! `KEYWAY_DOOR` (the lock id, hex). Steps:
//! - `accept <link>`: accepts an invitation; prints `code-sent` and reads the code on stdin.
//! - `unlock`: opens the door once.
//! - `journey`: refresh, unlock (carrying any newer bundle), hand in receipts, door sync,
//!   refresh again. Prints `journey-done` at the end.
//!
//! Any failure exits with status 1 and the error (which never holds a secret) on stderr.

use keyway_core::listeners::SessionState;
use keyway_core::platform::FileStore;
use keyway_core::platform::ManualClock;
use keyway_core::platform::SoftwareSigner;
use keyway_core::{Config, Keyway, Platform};
use keyway_protocol::ids::DoorId;
use keyway_sandbox::radio_bridge::BridgeTransport;
use std::io::BufRead as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

fn main() {
    // One thread: when a kill point halts it, the whole phone stands still until the kill.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("no runtime: {e}");
            std::process::exit(1);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = runtime.block_on(run(&args)) {
        eprintln!("step failed: {e}");
        std::process::exit(1);
    }
}

async fn run(args: &[String]) -> Result<(), String> {
    let dir = PathBuf::from(env("KEYWAY_CHILD_DIR")?);
    let now: u32 = env("KEYWAY_NOW")?.parse().map_err(|_| "KEYWAY_NOW is not a time")?;
    let door = DoorId::from_hex(&env("KEYWAY_DOOR")?).ok_or("KEYWAY_DOOR is not a lock id")?;
    let store = Arc::new(FileStore::open(dir.join("secure-store")).map_err(|e| e.to_string())?);
    let ble = Arc::new(BridgeTransport::connect(&env("KEYWAY_RADIO")?).await.map_err(|e| e.to_string())?);
    let mut config = Config::new(env("KEYWAY_BACKEND_URL")?, vec![keyway_sandbox::world::LINK_HOST.into()]);
    config.cache_path = Some(dir.join("keys.sqlite"));
    // The backend's certificate comes from the test run's CA: trust it as an extra root.
    let ca = std::fs::read(env("KEYWAY_CA_FILE")?).map_err(|e| format!("KEYWAY_CA_FILE: {e}"))?;
    config.trust.extra_roots = vec![ca];
    config.http_timeout = Duration::from_secs(5);
    config.unlock = keyway_core::ble::UnlockTimeouts {
        scan: Duration::from_millis(500),
        connect: Duration::from_secs(2),
        handshake: Duration::from_secs(2),
        door_sync: Duration::from_secs(5),
    };
    let platform = Platform {
        secure_store: store.clone(),
        signer: Arc::new(SoftwareSigner::new(store)),
        ble,
        clock: Arc::new(ManualClock::new(now)),
    };
    let keyway = Keyway::open(config, platform).map_err(|e| e.to_string())?;
    let fail = |what: &str| {
        let what = what.to_owned();
        move |e: keyway_core::Error| format!("{what}: {e:?}")
    };
    match args.first().map(String::as_str) {
        Some("accept") => {
            let link = keyway.parse_link(args.get(1).ok_or("accept needs a link")?).map_err(fail("link"))?;
            keyway.send_invitation_code(&link).await.map_err(fail("send code"))?;
            println!("code-sent");
            let mut code = String::new();
            std::io::stdin().lock().read_line(&mut code).map_err(|e| e.to_string())?;
            keyway.accept_invitation(&link, code.trim()).await.map_err(fail("accept"))?;
            keyway.refresh().await.map_err(fail("first refresh"))?;
        }
        Some("unlock") => {
            keyway.unlock(&door).await.map_err(fail("unlock"))?;
        }
        Some("journey") => {
            if keyway.session_state() != SessionState::SignedIn {
                return Err("signed out at start-up".into());
            }
            keyway.refresh().await.map_err(fail("refresh"))?;
            keyway.unlock(&door).await.map_err(fail("unlock"))?;
            keyway.upload_receipts().await.map_err(fail("receipts"))?;
            keyway.sync_door(&door).await.map_err(fail("door sync"))?;
            keyway.refresh().await.map_err(fail("last refresh"))?;
            println!("journey-done");
        }
        _ => return Err("unknown step".into()),
    }
    Ok(())
}
