//! `keyway-lock`: the reference lock as a program. `keyway-lock serve` runs locks on a
//! simulated radio that other processes reach over TCP (see `docs/lock-serve.md`).

use keyway_lock::serve::wire::{decode_hex, encode_hex};
use keyway_lock::serve::{LockServer, ServeOptions};
use keyway_protocol::ids::DoorId;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[path = "keyway-lock/online.rs"]
mod online;

const USAGE: &str = "usage: keyway-lock serve --state-dir DIR --trust-anchor HEX --door HEX [--door HEX …] \
[--listen 127.0.0.1:0] [--real-time] [--print-doorcode-secrets] [--online BACKEND_URL [--ca-file PEM]]

Runs one reference lock per --door (provisioned on first run, trusting each --trust-anchor,
an issuer's uncompressed P-256 public key in hex), and serves their radio on --listen.
Prints `listening on ADDR`, then one `lock DOOR PERIPHERAL PUBLIC_KEY SIGNING_KEY` line per
lock (keys in hex), then `ready`. With --print-doorcode-secrets each lock line ends with the
lock's doorcode secret (hex), for the door record; it is secret.
With --online each lock keeps a link to the backend (https://…): it receives every change
within seconds and sends its audit events back; --ca-file (or KEYWAY_CA_FILE) adds CA
certificates to trust beside the system's.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let print_secrets = args.iter().any(|a| a == "--print-doorcode-secrets");
    let args: Vec<String> = args.into_iter().filter(|a| a != "--print-doorcode-secrets").collect();
    let (args, online) = match online::split_flags(args) {
        Ok(split) => split,
        Err(message) => {
            eprintln!("keyway-lock: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("keyway-lock: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = match LockServer::start(&options) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("keyway-lock: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(addr) = server.local_addr() else {
        eprintln!("keyway-lock: the socket has no address");
        return ExitCode::FAILURE;
    };
    let mut out = std::io::stdout().lock();
    let mut banner = format!("listening on {addr}\n");
    for lock in server.locks() {
        banner.push_str(&format!(
            "lock {} {} {} {}",
            lock.door,
            lock.peripheral,
            encode_hex(&lock.public_key),
            encode_hex(&lock.signing_public_key)
        ));
        if let (true, Some(secret)) = (print_secrets, &lock.doorcode_secret) {
            banner.push_str(&format!(" {}", encode_hex(&secret.0)));
        }
        banner.push('\n');
    }
    banner.push_str("ready\n");
    if out.write_all(banner.as_bytes()).and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    // The links run on their own runtime for as long as the radio is served.
    let _links = match online.map(|o| online::start(&server, o)).transpose() {
        Ok(links) => links,
        Err(message) => {
            eprintln!("keyway-lock: {message}");
            return ExitCode::FAILURE;
        }
    };
    server.run();
    ExitCode::SUCCESS
}

fn parse(args: &[String]) -> Result<ServeOptions, String> {
    let (command, rest) = args.split_first().ok_or("a command is needed")?;
    if command != "serve" {
        return Err(format!("unknown command {command:?}"));
    }
    let mut options = ServeOptions {
        listen: "127.0.0.1:0".into(),
        state_dir: PathBuf::new(),
        doors: Vec::new(),
        trust_anchors: Vec::new(),
        real_time: false,
    };
    let mut rest = rest.iter();
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => options.listen = value()?.clone(),
            "--state-dir" => options.state_dir = PathBuf::from(value()?),
            "--door" => {
                let hex = value()?;
                options.doors.push(DoorId::from_hex(hex).ok_or(format!("--door {hex:?} is not 16 hex digits"))?);
            }
            "--trust-anchor" => {
                let hex = value()?;
                options.trust_anchors.push(decode_hex(hex).map_err(|_| format!("--trust-anchor {hex:?} is not hex"))?);
            }
            "--real-time" => options.real_time = true,
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    if options.state_dir.as_os_str().is_empty() {
        return Err("--state-dir is needed".into());
    }
    if options.doors.is_empty() || options.trust_anchors.is_empty() {
        return Err("at least one --door and one --trust-anchor are needed".into());
    }
    Ok(options)
}
