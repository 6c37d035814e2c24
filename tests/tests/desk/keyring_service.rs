//! A real OS keyring for the client's tests: GNOME Keyring's Secret Service on a private
//! D-Bus session bus, its login keyring created and unlocked with a test password, in a
//! temporary home. Nothing of the machine's own session is touched. `secret-tool`
//! (libsecret) reads what the client stored, as another program on the desktop would.
#![allow(dead_code)]

use keyway_sandbox::bluez::{BusPolicy, PrivateBus};
use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the daemon may take to own its bus name on a loaded machine.
const READY_BOUND: Duration = Duration::from_secs(30);

/// A running Secret Service. Dropping it stops the daemon and the bus.
pub struct KeyringService {
    daemon: Child,
    bus: PrivateBus,
    _home: tempfile::TempDir,
}

impl KeyringService {
    /// Starts the bus and `gnome-keyring-daemon`, and waits until it answers.
    pub fn start() -> Result<Self, String> {
        let bus = PrivateBus::start(BusPolicy::Open)?;
        let home = tempfile::tempdir().map_err(|e| e.to_string())?;
        let runtime = home.path().join("run");
        std::fs::create_dir(&runtime).map_err(|e| e.to_string())?;
        let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
        std::fs::set_permissions(&runtime, private).map_err(|e| e.to_string())?;
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot run gnome-keyring-daemon (scripts/lib/setup.sh installs gnome-keyring): {e}")
            })?;
        // The login keyring's password, read once from standard input; it is created with it.
        let mut stdin = daemon.stdin.take().ok_or("no stdin")?;
        stdin.write_all(b"keyway-test-keyring").map_err(|e| e.to_string())?;
        drop(stdin);
        let service = Self { daemon, bus, _home: home };
        service.wait_until_it_answers()?;
        Ok(service)
    }

    /// The bus address, for the client's `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.bus.address
    }

    fn wait_until_it_answers(&self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let out = Command::new("dbus-send")
                .arg(format!("--bus={}", self.bus.address))
                .args([
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .map_err(|e| format!("cannot run dbus-send: {e}"))?;
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return Ok(());
            }
            if started.elapsed() > READY_BOUND {
                return Err(format!("the Secret Service did not appear within {READY_BOUND:?}"));
            }
            // Polls a condition (the service answers on the bus), bounded by READY_BOUND:
            // the daemon signals nothing when it is ready.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The secret another program finds under (`service`, `username`), if any.
    pub fn lookup(&self, service: &str, username: &str) -> Option<Vec<u8>> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", service, "username", username])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
            .output()
            .expect("secret-tool runs (scripts/lib/setup.sh installs libsecret-tools)");
        (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
    }
}

impl Drop for KeyringService {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}
