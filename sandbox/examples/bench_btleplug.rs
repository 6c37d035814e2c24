//! Median time from `unlock()` to the door open, by phase: through btleplug on the virtual
//! BlueZ (on a private D-Bus), and on the simulated radio in real time.
//!
//! `cargo run --release -p keyway-sandbox --example bench_btleplug -- [RUNS]` (see
//! `scripts/bench-btleplug.sh`). Re-runs itself on a private `dbus-daemon`.

use keyway_sandbox::bluez::{
    BtleplugFigures, BusPolicy, PhaseMedians, measure_btleplug_unlocks, measure_simulated_unlocks, on_private_bus,
    run_self_on_private_bus,
};
use std::process::ExitCode;

fn ms(d: std::time::Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn row(radio: &str, path: &str, m: &PhaseMedians) {
    println!(
        "| {radio} | {path} | {} | {} | {} | {} | {} |",
        ms(m.scan),
        ms(m.connect),
        ms(m.handshake),
        ms(m.door_open),
        ms(m.total)
    );
}

fn rows(radio: &str, figures: &BtleplugFigures) {
    row(radio, "standard", &figures.standard);
    row(radio, "fast", &figures.fast);
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !on_private_bus() {
        return match run_self_on_private_bus(&args, BusPolicy::Open) {
            Ok(status) if status.success() => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("bench_btleplug: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench_btleplug: {e}");
            return ExitCode::FAILURE;
        }
    };
    let figures = runtime.block_on(async {
        let btleplug = measure_btleplug_unlocks(runs).await?;
        let simulated = measure_simulated_unlocks(runs).await?;
        Ok::<_, String>((btleplug, simulated))
    });
    match figures {
        Ok((btleplug, simulated)) => {
            println!("medians over {runs} members (ms)\n");
            println!("| radio | path | scan | connect | handshake | door open | unlock() total |");
            println!("|---|---|---|---|---|---|---|");
            rows("btleplug → virtual BlueZ", &btleplug);
            rows("simulated radio (real time)", &simulated);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_btleplug: {e}");
            ExitCode::FAILURE
        }
    }
}
