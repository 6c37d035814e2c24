//! The size of the library the apps ship: `libkeyway_ffi.so` built with the workspace's
//! `mobile` profile (the one `android/build-native.sh` and `ios/build-xcframework.sh` use),
//! for this machine (x86_64 Linux), stripped of symbols as an app's packaging strips it.
//! `scripts/ffi-size.sh --crates` prints the same figure with the crates that weigh most.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace this bench was built from (the library is built from the same sources).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let out = command.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        Err(format!("{what} failed: {}", tail.into_iter().rev().collect::<Vec<_>>().join(" / ")))
    }
}

/// Builds the library (a no-op when it is up to date) and returns its stripped size in bytes.
pub fn measure() -> Result<u64, String> {
    let root = workspace();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(
        Command::new(cargo).current_dir(&root).args([
            "build",
            "--locked",
            "--profile",
            "mobile",
            "-p",
            "keyway-ffi",
            "--lib",
            "--quiet",
        ]),
        "building libkeyway_ffi.so with the mobile profile",
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let library = target.join("mobile").join("libkeyway_ffi.so");
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let stripped = dir.path().join("libkeyway_ffi.so");
    run(Command::new("strip").arg("--strip-all").arg("-o").arg(&stripped).arg(&library), "strip")?;
    Ok(std::fs::metadata(&stripped).map_err(|e| e.to_string())?.len())
}
