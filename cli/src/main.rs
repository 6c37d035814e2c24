//! `keyway`: the desktop shell of Keyway. Today it has one command, `keyway demo`, which
//! runs the reference backend, reference locks and the member journeys on this machine.
//!
//! Exit codes: 0 everything did what it says; 1 a demo step failed; 2 bad arguments.

mod demo;
mod narrate;

use clap::{Parser, Subcommand};

/// Keyway on the desktop.
#[derive(Parser)]
#[command(name = "keyway", version, about = "Keyway: door access, offline-first")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the backend, reference locks and the member journeys on this machine.
    Demo,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keyway: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match cli.command {
        Command::Demo => runtime.block_on(async {
            let mut narrator = narrate::Narrator::new();
            println!("Keyway demo: a real backend over HTTP, reference locks, and phones running the core.");
            let result = demo::run(&mut narrator).await;
            narrator.finish(&result);
            if result.is_ok() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(1) }
        }),
    }
}
