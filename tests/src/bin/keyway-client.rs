//! The `keyway` desktop client, built inside the journeys' crate so their tests can run
//! it as a process (`CARGO_BIN_EXE_keyway-client`): Cargo hands a binary's path only to
//! its own package's tests. It is keyway-cli's own entry point, nothing added, so the
//! tests run what ships.

fn main() -> std::process::ExitCode {
    keyway_cli::main()
}
