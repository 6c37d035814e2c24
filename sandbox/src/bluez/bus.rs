//! A private D-Bus for the virtual BlueZ, and a way into a process that uses it.
//!
//! btleplug (through libdbus) reads `DBUS_SYSTEM_BUS_ADDRESS` once per process, and setting
//! an environment variable in a running multi-threaded process is unsound. So a test (or
//! a benchmark binary) that needs the private bus starts a `dbus-daemon`, then runs itself
//! again as a child with the variable set; the child does the work. Each test gets its own
//! bus, so tests stay parallel and isolated.

use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Set in the child that runs on the private bus.
const CHILD_MARKER: &str = "KEYWAY_PRIVATE_BUS_CHILD";
/// The variable libdbus reads for the system bus.
pub const SYSTEM_BUS_VARIABLE: &str = "DBUS_SYSTEM_BUS_ADDRESS";
/// A child that runs longer than this is killed and the test fails.
const CHILD_BOUND: Duration = Duration::from_secs(180);

/// Who may talk to `org.bluez` on the private bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusPolicy {
    /// Everyone (the test user owns `org.bluez`, clients call it).
    Open,
    /// Clients may not call `org.bluez` (as a desktop user outside BlueZ's policy): the bus
    /// itself answers `org.freedesktop.DBus.Error.AccessDenied`.
    DenyBluez,
}

/// A `dbus-daemon` of our own. Dropping it stops the daemon (so does this process dying:
/// the daemon's minder waits on a pipe only we hold).
pub struct PrivateBus {
    /// The bus's address, for `DBUS_SYSTEM_BUS_ADDRESS`.
    pub address: String,
    minder: Child,
    stdin: Option<ChildStdin>,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for PrivateBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateBus").field("address", &self.address).finish_non_exhaustive()
    }
}

fn config(dir: &std::path::Path, policy: BusPolicy) -> String {
    let deny = match policy {
        BusPolicy::Open => "",
        BusPolicy::DenyBluez => "<policy context=\"mandatory\"><deny send_destination=\"org.bluez\"/></policy>",
    };
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>keyway-private</type>
  <listen>unix:path={}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_requested_reply="true"/>
  </policy>
  {deny}
</busconfig>
"#,
        dir.display()
    )
}

impl PrivateBus {
    /// Starts a `dbus-daemon` with `policy`. Fails loudly when `dbus-daemon` is missing
    /// (`scripts/test.sh` installs it).
    pub fn start(policy: BusPolicy) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let config_path: PathBuf = dir.path().join("bus.conf");
        std::fs::write(&config_path, config(dir.path(), policy)).map_err(|e| format!("bus config: {e}"))?;
        let mut minder = Command::new("sh")
            .arg("-c")
            .arg(
                r#"dbus-daemon --config-file="$1" --nofork --nopidfile --print-address 2>"$2" & d=$!; read _; kill $d"#,
            )
            .arg("sh")
            .arg(&config_path)
            .arg(dir.path().join("daemon.log"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run sh for dbus-daemon: {e}"))?;
        let stdin = minder.stdin.take();
        let stdout = minder.stdout.take().ok_or("no stdout from dbus-daemon")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("reading dbus-daemon's address: {e}"))?;
        let address = line.trim().to_owned();
        if address.is_empty() {
            let _ = minder.kill();
            let log = std::fs::read_to_string(dir.path().join("daemon.log")).unwrap_or_default();
            return Err(format!("dbus-daemon did not start (is the Debian package dbus-daemon installed?) {log}"));
        }
        Ok(Self { address, minder, stdin, _dir: dir })
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let _ = self.minder.wait();
    }
}

/// Whether this process is the child running on a private bus.
pub fn on_private_bus() -> bool {
    std::env::var_os(CHILD_MARKER).is_some()
}

/// Runs this executable again with `args` on a fresh private bus and waits (bounded).
/// The child's output goes where this process's goes.
pub fn run_self_on_private_bus(args: &[String], policy: BusPolicy) -> Result<ExitStatus, String> {
    run_child(args, policy, Stdio::inherit, Stdio::inherit)
}

fn run_child(
    args: &[String],
    policy: BusPolicy,
    stdout: impl FnOnce() -> Stdio,
    stderr: impl FnOnce() -> Stdio,
) -> Result<ExitStatus, String> {
    let bus = PrivateBus::start(policy)?;
    let exe = std::env::current_exe().map_err(|e| format!("current executable: {e}"))?;
    let mut child = Command::new(exe)
        .args(args)
        .env(SYSTEM_BUS_VARIABLE, &bus.address)
        .env(CHILD_MARKER, "1")
        .stdout(stdout())
        .stderr(stderr())
        .spawn()
        .map_err(|e| format!("re-running self: {e}"))?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if started.elapsed() > CHILD_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("gave up after {CHILD_BOUND:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The body of a test that needs the private bus: in the test process, re-runs this one
/// test (`name`, as libtest names it) in a child on its own bus and asserts it passed; in
/// the child, runs `body` on a two-worker tokio runtime.
pub fn run_test_on_private_bus<F, Fut>(name: &str, policy: BusPolicy, body: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    if on_private_bus() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(body());
        return;
    }
    let args: Vec<String> =
        [name, "--exact", "--nocapture", "--test-threads=1"].iter().map(|s| (*s).to_owned()).collect();
    // The child's report stays out of the test command's summary; it is shown on failure.
    let log = tempfile::NamedTempFile::new().expect("a temporary file for the child's output");
    let (out, err) = (log.reopen().expect("the log reopens"), log.reopen().expect("the log reopens"));
    let result = run_child(&args, policy, || Stdio::from(out), || Stdio::from(err));
    let output = std::fs::read_to_string(log.path()).unwrap_or_default();
    match result {
        Ok(status) => {
            assert!(status.success(), "{name} failed on the private bus ({status}):\n{output}");
            if let Err(e) = ran_exactly_one_test(&output) {
                panic!("{name} on the private bus: {e}\n{output}");
            }
        }
        Err(e) => panic!("{name}: the private bus could not be set up: {e}\n{output}"),
    }
}

/// Whether a child's libtest report says it ran and passed exactly one test: an `--exact`
/// filter that matches nothing (a renamed test, a typo) exits with success having run
/// nothing, and must not pass for the test.
pub fn ran_exactly_one_test(output: &str) -> Result<(), String> {
    let summary = output.lines().rev().find(|l| l.starts_with("test result: ")).ok_or("no libtest summary")?;
    if summary.starts_with("test result: ok. 1 passed; 0 failed;") {
        Ok(())
    } else {
        Err(format!("the child did not run exactly one passing test ({summary})"))
    }
}
