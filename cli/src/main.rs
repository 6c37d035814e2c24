//! `keyway`, the desktop client: everything is in the library ([`keyway_cli::main`]).

fn main() -> std::process::ExitCode {
    keyway_cli::main()
}
