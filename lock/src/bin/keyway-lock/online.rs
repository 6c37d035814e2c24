//! `keyway-lock serve --online BACKEND_URL [--ca-file PEM]`: each served lock keeps its
//! online link to the backend (`keyway_lock::online`), on a runtime of its own beside the
//! radio's threads.

use keyway_lock::online::{OnlineLink, OnlineOptions, RadioLock};
use keyway_lock::serve::LockServer;
use std::sync::Arc;

/// The links' flags, taken out of the arguments.
pub struct OnlineFlags {
    backend: String,
    ca_file: Option<String>,
}

/// Takes `--online URL` and `--ca-file PEM` out of `args` (`KEYWAY_CA_FILE` stands for
/// `--ca-file`, as for the `keyway` client).
pub fn split_flags(args: Vec<String>) -> Result<(Vec<String>, Option<OnlineFlags>), String> {
    let mut rest = Vec::with_capacity(args.len());
    let (mut backend, mut ca_file) = (None, std::env::var("KEYWAY_CA_FILE").ok().filter(|f| !f.is_empty()));
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--online" => backend = Some(args.next().ok_or("--online needs the backend's URL")?),
            "--ca-file" => ca_file = Some(args.next().ok_or("--ca-file needs a file")?),
            _ => rest.push(arg),
        }
    }
    Ok((rest, backend.map(|backend| OnlineFlags { backend, ca_file })))
}

/// The running links and their runtime (dropping it stops them).
pub struct Links {
    _links: Vec<OnlineLink>,
    _runtime: tokio::runtime::Runtime,
}

/// Starts one link per served lock.
pub fn start(server: &LockServer, flags: OnlineFlags) -> Result<Links, String> {
    let mut options = OnlineOptions::new(&flags.backend);
    if let Some(file) = &flags.ca_file {
        options.extra_roots_pem = Some(std::fs::read(file).map_err(|e| format!("--ca-file {file}: {e}"))?);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("the links' runtime: {e}"))?;
    let _entered = runtime.enter();
    let mut links = Vec::new();
    for lock in server.locks() {
        let on_radio = RadioLock { radio: server.radio().clone(), peripheral: lock.radio_id };
        links.push(OnlineLink::start(Arc::new(on_radio), options.clone()).map_err(|e| e.to_string())?);
        eprintln!("keyway-lock: lock {} keeps an online link to {}", lock.door, flags.backend);
    }
    drop(_entered);
    Ok(Links { _links: links, _runtime: runtime })
}
