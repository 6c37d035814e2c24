//! `keyway-bluez`: serves reference locks as Bluetooth LE devices of a virtual BlueZ on the
//! D-Bus named by `DBUS_SYSTEM_BUS_ADDRESS`, so a desktop client using btleplug on that
//! bus opens them as it would real locks.
//!
//! ```text
//! keyway-bluez [--mtu N] [--powered-off] [--no-adapter] STATE...
//! ```
//! Each `STATE` is a provisioned lock's state file, or a directory holding it as
//! `lock.state`. Runs until interrupted; the locks' state is saved as they change.

use keyway_lock::bluez::{AdapterSetup, Misbehaviour, VirtualBluez};
use keyway_lock::{FileStorage, Lock, LockOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// The state file's name inside a lock's directory.
const STATE_FILE: &str = "lock.state";

struct Options {
    mtu: Option<u16>,
    adapter: AdapterSetup,
    states: Vec<PathBuf>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options { mtu: None, adapter: AdapterSetup::default(), states: Vec::new() };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mtu" => {
                let value = args.next().ok_or("--mtu needs a value")?;
                options.mtu = Some(value.parse().map_err(|_| format!("--mtu: not a number: {value}"))?);
            }
            "--powered-off" => options.adapter.powered = false,
            "--no-adapter" => options.adapter.present = false,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path => options.states.push(PathBuf::from(path)),
        }
    }
    Ok(options)
}

fn state_file(path: PathBuf) -> PathBuf {
    if path.is_dir() { path.join(STATE_FILE) } else { path }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("keyway-bluez: {problem}");
            }
            eprintln!("usage: keyway-bluez [--mtu N] [--powered-off] [--no-adapter] STATE...");
            return ExitCode::from(2);
        }
    };
    let Ok(address) = std::env::var("DBUS_SYSTEM_BUS_ADDRESS") else {
        eprintln!("keyway-bluez: set DBUS_SYSTEM_BUS_ADDRESS to the (private) bus to serve on");
        return ExitCode::from(2);
    };
    let bluez = match VirtualBluez::serve(&address, options.adapter).await {
        Ok(bluez) => bluez,
        Err(e) => {
            eprintln!("keyway-bluez: cannot serve org.bluez on {address}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for path in options.states {
        let file = state_file(path);
        let lock = match Lock::open(Box::new(FileStorage::new(&file)), LockOptions::default()) {
            Ok(lock) => lock,
            Err(e) => {
                eprintln!("keyway-bluez: {}: {e}", file.display());
                return ExitCode::FAILURE;
            }
        };
        let door = lock.door();
        let served = match bluez.add_lock(lock).await {
            Ok(served) => served,
            Err(e) => {
                eprintln!("keyway-bluez: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Some(mtu) = options.mtu {
            let misbehaviour = Misbehaviour { att_mtu: mtu, ..Misbehaviour::default() };
            if let Err(e) = bluez.set_misbehaviour(served, misbehaviour) {
                eprintln!("keyway-bluez: {e}");
                return ExitCode::FAILURE;
            }
        }
        let address = bluez.address(served).unwrap_or_default();
        println!("serving lock {} as {address}", door.to_hex());
    }
    println!("ready");
    // Nothing to flush on the way out: every change was saved when it happened.
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
