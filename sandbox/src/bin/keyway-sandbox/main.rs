//! `keyway-sandbox`: the whole product played on this machine. `keyway-sandbox demo`
//! starts the reference backend and reference locks and plays the member stories;
//! `keyway-sandbox bench` measures every figure in BENCHMARKS.md in one run. Both run in
//! the sandbox's world (the keyway-sandbox library); the `keyway` client is elsewhere.

mod bench;
mod demo;
mod demo_doorcode;
mod demo_online;
mod narrate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The demo and the bench.
#[derive(Parser)]
#[command(name = "keyway-sandbox", version, about = "Keyway on one machine: the demo and the bench")]
struct Cli {
    /// Print one JSON object on standard output instead of a table (the bench).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the backend, reference locks and the member journeys on this machine.
    Demo,
    /// Measure every figure in BENCHMARKS.md in one run (build with --release).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    // A bug must still end in one line, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("keyway-sandbox: internal error{at}; please report it");
    }));
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keyway-sandbox: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.command {
        Command::Demo => runtime.block_on(async {
            let mut narrator = narrate::Narrator::new();
            println!("Keyway demo: a real backend over HTTPS, reference locks, and phones running the core.");
            let result = demo::run(&mut narrator).await;
            narrator.finish(&result);
            if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }),
        // The report (table or JSON) is already printed: a failure is one more line on stderr.
        Command::Bench(args) => match runtime.block_on(bench::run(&args, cli.json)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("keyway-sandbox: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
