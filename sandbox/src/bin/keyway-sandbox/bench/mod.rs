//! `keyway-sandbox bench`: every figure BENCHMARKS.md reports, measured in one run, printed as a
//! table or (`--json`) as one object. Times are medians (or p50/p99) of many samples;
//! lock-side costs are callgrind instruction counts, which repeat on a busy machine.
//! Build with `--release` for figures worth quoting.

mod backend_load;
mod bundle;
mod cache;
mod demo_memory;
mod ffi_size;
mod link_latency;
mod lock_compute;
pub mod lock_cost;
mod phone_cpu;
mod refresh;
mod scene;
mod stats;

use serde_json::{Map, Value, json};
use std::time::Duration;

/// What `keyway-sandbox bench` was asked.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Fewer samples and 1,000 instead of 10,000 credentials (for tests; figures are rougher).
    #[arg(long)]
    pub quick: bool,
    /// Internal: run lock-side work under callgrind.
    #[arg(long, hide = true, value_enum)]
    pub worker: Option<lock_cost::Work>,
    /// Internal: how many exchanges the worker runs.
    #[arg(long, hide = true, default_value_t = 10)]
    pub worker_count: usize,
    /// Only one group of figures (to work on one without waiting for the rest).
    #[arg(long, value_enum)]
    pub only: Option<Only>,
}

/// A group of figures `--only` runs alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    /// `refresh_1k`, `refresh_10k` and their ratio.
    Refresh,
    /// `backend_refresh_rps`, its p50 and p99, and the knee.
    Load,
}

/// One figure: its value (or why it is missing), unit and goal.
struct Figure {
    id: &'static str,
    what: String,
    value: Result<f64, String>,
    unit: &'static str,
    goal: &'static str,
}

/// A number printed beside the figures that is arithmetic on the model's constants, not
/// a measurement: it is reported apart, with how it is derived.
struct Constant {
    id: &'static str,
    what: &'static str,
    value: f64,
    unit: &'static str,
    derivation: String,
}

/// Collects figures (and constants) in order.
#[derive(Default)]
struct Report {
    figures: Vec<Figure>,
    constants: Vec<Constant>,
}

impl Report {
    fn add(
        &mut self,
        id: &'static str,
        what: impl Into<String>,
        value: Result<f64, String>,
        unit: &'static str,
        goal: &'static str,
    ) {
        let what = what.into();
        match &value {
            Ok(v) => eprintln!("  measured {what}: {v:.3} {unit}"),
            Err(e) => eprintln!("  could not measure {what}: {e}"),
        }
        self.figures.push(Figure { id, what, value, unit, goal });
    }

    fn constant(&mut self, constant: Constant) {
        eprintln!("  constant (not measured) {}: {:.3} {}", constant.what, constant.value, constant.unit);
        self.constants.push(constant);
    }

    fn json(&self, quick: bool) -> Value {
        let mut constants = Map::new();
        for c in &self.constants {
            let entry = json!({ "what": c.what, "value": c.value, "unit": c.unit, "derivation": c.derivation });
            constants.insert(c.id.to_owned(), entry);
        }
        let mut figures = Map::new();
        for f in &self.figures {
            let entry = match &f.value {
                Ok(v) => json!({ "what": f.what, "value": v, "unit": f.unit, "goal": f.goal }),
                Err(e) => json!({ "what": f.what, "value": null, "error": e, "unit": f.unit, "goal": f.goal }),
            };
            figures.insert(f.id.to_owned(), entry);
        }
        json!({
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
            "quick": quick,
            "machine": { "cpus": std::thread::available_parallelism().map(usize::from).unwrap_or(1) },
            "figures": figures,
            "constants": constants,
        })
    }

    fn table(&self) -> String {
        let mut text = String::from("| figure | value | goal |\n|---|---|---|\n");
        for f in &self.figures {
            let value = match &f.value {
                Ok(v) if *v >= 100.0 => format!("{v:.0} {}", f.unit),
                Ok(v) => format!("{v:.3} {}", f.unit),
                Err(e) => format!("not measured: {e}"),
            };
            text.push_str(&format!("| {} | {value} | {} |\n", f.what, f.goal));
        }
        if !self.constants.is_empty() {
            text.push_str("\nConstants (arithmetic on the model's parameters, not measured):\n\n");
            text.push_str("| constant | value | derivation |\n|---|---|---|\n");
            for c in &self.constants {
                text.push_str(&format!("| {} | {:.0} {} | {} |\n", c.what, c.value, c.unit, c.derivation));
            }
        }
        if cfg!(debug_assertions) {
            text.push_str(
                "\n(debug build: run `cargo run --release -p keyway-sandbox -- bench` for figures worth quoting)\n",
            );
        }
        text
    }
}

/// The unlock with compute time added to the modelled radio time (MTU 185, 1 packet per
/// event, 1 % loss): the phone's measured CPU, and the lock's estimated on a Cortex-M4 at
/// 64 MHz — the assembler estimate for the standard path's public-key work, and the fast
/// path's x86_64 instruction count taken as cycles (rough: it is symmetric work only).
fn add_totals(
    report: &mut Report,
    link: &link_latency::Latency,
    phone_cpu: &Result<(f64, f64), String>,
    fast_instructions: &Result<f64, String>,
) {
    let lock_fast_ms = fast_instructions.clone().map(|i| i / (lock_compute::LOCK_MHZ * 1e3));
    let (standard, fast) = match (phone_cpu, &lock_fast_ms) {
        (Ok((phone_standard, phone_fast)), Ok(lock_fast)) => (
            Ok(link.standard_p50 + phone_standard / 1e3 + lock_compute::standard_ms_assembler()),
            Ok(link.fast_p50 + phone_fast / 1e3 + lock_fast),
        ),
        (Err(e), _) | (_, Err(e)) => (Err(e.clone()), Err(e.clone())),
    };
    report.add(
        "unlock_total_standard_mtu185_p50",
        "standard unlock with compute: link p50 (MTU 185, 1 % loss) + phone CPU (measured median) + lock \
         public-key work (estimate: Cortex-M4, 64 MHz, assembler)",
        standard,
        "ms",
        "well under a second",
    );
    report.add(
        "unlock_total_fast_mtu185_p50",
        "fast unlock with compute: link p50 + phone CPU (measured median) + lock work (x86_64 instructions \
         taken as Cortex-M4 cycles at 64 MHz, rough)",
        fast,
        "ms",
        "well under a second",
    );
}

/// The refresh figures: 1,000 and 10,000 new credentials, and their ratio.
async fn add_refresh(report: &mut Report, q: bool) {
    // The refresh at two sizes, and how it scales between them (issue 19: near-linear or
    // better, i.e. a ratio of at most 10 for ten times the keys).
    let (small, large) = if q { (20, 200) } else { (1_000, 10_000) };
    let runs = if q { 1 } else { 3 };
    let mut refresh_ms = Vec::new();
    for (credentials, id, goal) in [(small, "refresh_1k", "—"), (large, "refresh_10k", "≤ 500 ms")] {
        let measured = refresh::measure_median(credentials, runs).await.map(|t| t.as_secs_f64() * 1e3);
        let what = format!(
            "refresh bringing {credentials} new credentials, all {credentials} checked issued and in the cache file \
             (median of {runs} run(s), each in a new world; wall clock, backend on loopback)"
        );
        refresh_ms.push(measured.clone());
        report.add(id, what, measured, "ms", goal);
    }
    let ratio = match (&refresh_ms[0], &refresh_ms[1]) {
        (Ok(a), Ok(b)) => Ok(b / a),
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
    };
    report.add(
        "refresh_10k_over_1k",
        format!("refresh time for {large} credentials over the time for {small}"),
        ratio,
        "×",
        "≤ 10 (near-linear or better)",
    );
}

/// The backend under load: sustained member refreshes per second, p50, p99, the knee.
async fn add_load(report: &mut Report, q: bool) {
    // The backend under load: one backend, HTTPS on loopback, a SQLite file.
    let (members, first_rate, step) =
        if q { (50, 25.0, Duration::from_secs(1)) } else { (1_000, 250.0, Duration::from_secs(4)) };
    match backend_load::measure(members, backend_load::rates(first_rate), step).await {
        Ok(load) => {
            let saturation = load.saturation();
            let step_what = |s: &backend_load::Step| {
                format!("{:.0}/s offered, {:.0}/s done, p99 {:.1} ms", s.offered, s.achieved, s.p99_ms)
            };
            let base = format!(
                "member refreshes (profile, keys since the cursor, pending doors: 3 HTTPS requests) against one \
                 backend on loopback, SQLite file, {members} members each with a session; open loop, {} s a step",
                step.as_secs()
            );
            match &load.best {
                Some(best) => {
                    report.add(
                        "backend_refresh_rps",
                        format!("{base}: the highest rate sustained with p99 < {:.0} ms", backend_load::P99_GOAL_MS),
                        Ok(best.achieved),
                        "refreshes/s",
                        "≥ 1,000/s",
                    );
                    report.add("backend_refresh_p50", format!("{base}: p50 at that rate"), Ok(best.p50_ms), "ms", "—");
                    report.add(
                        "backend_refresh_p99",
                        format!("{base}: p99 at that rate"),
                        Ok(best.p99_ms),
                        "ms",
                        "< 250 ms",
                    );
                }
                None => report.add(
                    "backend_refresh_rps",
                    base.clone(),
                    Err(format!("not even the first rate was sustained: {}", saturation)),
                    "refreshes/s",
                    "≥ 1,000/s",
                ),
            }
            match &load.knee {
                Some(knee) => report.add(
                    "backend_refresh_knee",
                    format!(
                        "{base}: the knee, the first offered rate where p99 crosses 250 ms or throughput stops \
                             rising ({}); {saturation}",
                        step_what(knee)
                    ),
                    Ok(knee.offered),
                    "refreshes/s offered",
                    "reported",
                ),
                None => report.add("backend_refresh_knee", base, Err(saturation), "refreshes/s offered", "reported"),
            }
        }
        Err(e) => report.add("backend_refresh_rps", "member refreshes per second", Err(e), "refreshes/s", "≥ 1,000/s"),
    }
}

/// Runs every benchmark; returns the report as JSON (and prints it).
pub async fn run(args: &BenchArgs, json_out: bool) -> Result<(), String> {
    if let Some(work) = args.worker {
        return lock_cost::work(work, args.worker_count);
    }
    let q = args.quick;
    let mut report = Report::default();
    match args.only {
        Some(Only::Refresh) => add_refresh(&mut report, q).await,
        Some(Only::Load) => add_load(&mut report, q).await,
        None => {}
    }
    if args.only.is_some() {
        return finish(&report, q, json_out);
    }
    eprintln!("keyway-sandbox bench: {} run", if q { "quick" } else { "full" });

    // First: the demo's peak memory is the largest of all waited-for children so far.
    report.add("demo_peak_rss", "peak memory of `keyway-sandbox demo`", demo_memory::measure(), "MiB", "< 100 MiB");

    let n = if q { 20 } else { 200 };
    let phone_cpu = phone_cpu::measure(n);
    match phone_cpu.clone() {
        Ok((standard, fast)) => {
            report.add(
                "phone_cpu_standard",
                "phone CPU per standard unlock (median, wall clock; ring key in process, not the app's signer path)",
                Ok(standard),
                "µs",
                "< 5,000 µs",
            );
            report.add(
                "phone_cpu_fast",
                "phone CPU per fast unlock (median, wall clock; ticket in memory, not the secure store)",
                Ok(fast),
                "µs",
                "< 500 µs",
            );
        }
        Err(e) => report.add("phone_cpu", "phone CPU per unlock", Err(e), "µs", "< 5,000 µs"),
    }

    let count = if q { 3 } else { 20 };
    let instructions = |work| lock_cost::count(work, count).map(|i| i as f64);
    report.add(
        "lock_instructions_standard",
        "lock instructions per standard unlock (x86_64 under callgrind, not microcontroller cycles)",
        instructions(lock_cost::Work::Standard),
        "instr",
        "< 15 M x86_64 instructions",
    );
    let fast_instructions = instructions(lock_cost::Work::Fast);
    report.add(
        "lock_instructions_fast",
        "lock instructions per fast unlock (x86_64 under callgrind)",
        fast_instructions.clone(),
        "instr",
        "< 0.5 M",
    );
    // What the lock's arithmetic would take on a microcontroller: estimates from published
    // cycle counts (bench/lock_compute.rs says which), reported apart from measurements.
    report.constant(Constant {
        id: "lock_compute_standard_m4_assembler",
        what: "estimate: lock public-key work per standard unlock, Cortex-M4 at 64 MHz, optimised assembler",
        value: lock_compute::standard_ms_assembler(),
        unit: "ms",
        derivation: "(1 ECDH + 2 ECDSA verifications as 2 scalar multiplications each) × 1.108 M cycles \
                     (Emill/P256-cortex-ecdh) ÷ 64 MHz"
            .into(),
    });
    report.constant(Constant {
        id: "lock_compute_standard_m4_portable",
        what: "estimate: the same with portable C",
        value: lock_compute::standard_ms_portable(),
        unit: "ms",
        derivation: "(12.6 M cycles per ECDH + 2 × 26.1 M per ECDSA verification, p256-m on a 900 MHz \
                     Cortex-A7) ÷ 64 MHz"
            .into(),
    });
    let bundle_count = if q { 1 } else { 3 };
    report.add(
        "lock_instructions_bundle_10k",
        "lock instructions to apply a bundle of 10,000 revocations (x86_64 under callgrind)",
        lock_cost::count(lock_cost::Work::Bundle, bundle_count).map(|i| i as f64),
        "instr",
        "< 200 M",
    );

    let samples = if q { 50 } else { 2000 };
    // Goals: well under a second at the door with MTU 185 (what phones negotiate); MTU 23
    // is the worst case of an old peripheral stack and only has to stay under a second.
    // Goals: issue 19 (MTU 185, what phones negotiate): the fast unlock at the floor, the
    // standard one within 210 ms, at the median. The conservative model (one packet per
    // connection event) is the headline; 4 per event is what iOS does. MTU 23 is the
    // worst case of an old peripheral stack and only has to stay under a second.
    // At 1 % loss a few thousand samples rarely see two losses in one unlock, so p99 is
    // the base plus one interval; 5 % loss shows the tail a crowded 2.4 GHz band gives.
    for (mtu, packets_per_event, loss, ids, goals) in [
        (
            185,
            1,
            link_latency::LOSS,
            ["link_standard_mtu185_p50", "link_standard_mtu185_p99", "link_fast_mtu185_p50", "link_fast_mtu185_p99"],
            ["≤ 210 ms", "< 500 ms", "≤ 180 ms (the floor)", "< 400 ms"],
        ),
        (
            185,
            4,
            link_latency::LOSS,
            [
                "link_standard_mtu185_4pe_p50",
                "link_standard_mtu185_4pe_p99",
                "link_fast_mtu185_4pe_p50",
                "link_fast_mtu185_4pe_p99",
            ],
            ["≤ 210 ms", "< 500 ms", "≤ 180 ms (the floor)", "< 400 ms"],
        ),
        (
            185,
            1,
            0.05,
            [
                "link_standard_mtu185_loss5_p50",
                "link_standard_mtu185_loss5_p99",
                "link_fast_mtu185_loss5_p50",
                "link_fast_mtu185_loss5_p99",
            ],
            ["—", "< 500 ms", "—", "< 400 ms"],
        ),
        (
            23,
            1,
            link_latency::LOSS,
            ["link_standard_mtu23_p50", "link_standard_mtu23_p99", "link_fast_mtu23_p50", "link_fast_mtu23_p99"],
            ["< 1,000 ms"; 4],
        ),
    ] {
        match link_latency::measure(mtu, loss, packets_per_event, samples, 42) {
            Ok(l) => {
                let what = |path: &str, p: &str| {
                    format!(
                        "{path} unlock, connection → door open, MTU {mtu}, {packets_per_event} packet(s) per \
                             connection event, {:.0} % loss, {p} over {samples} unlocks (modelled radio time on a \
                             virtual clock; no compute time)",
                        loss * 100.0
                    )
                };
                report.add(ids[0], what("standard", "p50"), Ok(l.standard_p50), "ms", goals[0]);
                report.add(ids[1], what("standard", "p99"), Ok(l.standard_p99), "ms", goals[1]);
                report.add(ids[2], what("fast", "p50"), Ok(l.fast_p50), "ms", goals[2]);
                report.add(ids[3], what("fast", "p99"), Ok(l.fast_p99), "ms", goals[3]);
                if mtu == 185 && packets_per_event == 1 && loss == link_latency::LOSS {
                    add_totals(&mut report, &l, &phone_cpu, &fast_instructions);
                }
            }
            Err(e) => report.add(ids[0], format!("unlock latency at MTU {mtu}"), Err(e), "ms", goals[0]),
        }
    }
    match link_latency::measure(185, 0.0, 1, 5, 1) {
        Ok(l) => {
            report.add(
                "link_lossless_standard",
                "the same at MTU 185 with no loss, standard",
                Ok(l.standard_p50),
                "ms",
                "—",
            );
            report.add("link_lossless_fast", "the same at MTU 185 with no loss, fast", Ok(l.fast_p50), "ms", "—");
        }
        Err(e) => report.add("link_lossless_standard", "the same with no loss", Err(e), "ms", "—"),
    }
    // One write and one notification take two connection events at the least; the latch
    // moves before the lock answers. Arithmetic, not a measurement: reported as a constant.
    let interval_ms = link_latency::CONNECTION_INTERVAL.as_secs_f64() * 1e3;
    report.constant(Constant {
        id: "link_floor",
        what: "link floor: one round trip + the latch",
        value: 2.0 * interval_ms + f64::from(keyway_lock::ACTUATION_MS),
        unit: "ms",
        derivation: format!(
            "2 connection events × {interval_ms:.0} ms (the modelled interval) + {} ms (the modelled latch)",
            keyway_lock::ACTUATION_MS
        ),
    });

    for keys in [1_000u64, 10_000] {
        match cache::measure(keys, if q { 3 } else { 15 }) {
            Ok(times) => {
                let (open_id, first_id, lookup_id) = if keys == 1_000 {
                    ("cache_open_1k", "cache_first_lookup_1k", "cache_lookup_1k")
                } else {
                    ("cache_open_10k", "cache_first_lookup_10k", "cache_lookup_10k")
                };
                report.add(
                    open_id,
                    format!("key cache open with {keys} keys (median)"),
                    Ok(times.open),
                    "µs",
                    "< 50,000 µs",
                );
                report.add(
                    first_id,
                    format!("first credential lookup after opening, among {keys} keys (builds the door index; median)"),
                    Ok(times.first_lookup),
                    "µs",
                    "—",
                );
                report.add(
                    lookup_id,
                    format!("credential lookup among {keys} keys, each for another door (median)"),
                    Ok(times.lookup),
                    "µs",
                    if keys == 1_000 { "—" } else { "≤ 10 µs" },
                );
            }
            Err(e) => report.add("cache", format!("key cache with {keys} keys"), Err(e), "µs", "—"),
        }
    }

    add_refresh(&mut report, q).await;
    add_load(&mut report, q).await;

    match bundle::measure(if q { 1 } else { 5 }) {
        Ok((bytes, p185, p23, apply)) => {
            report.add(
                "bundle_10k_bytes",
                "door-sync bundle with 10,000 revocations (format 3: serial prefixes grouped by expiry; the \
                 credentials minted as the backend mints them, 10,000 revoked of 30,000 issued over 72 h)",
                Ok(bytes as f64),
                "bytes",
                "≤ 80,000 bytes",
            );
            report.add("bundle_10k_packets_mtu185", "its ATT packets at MTU 185", Ok(p185 as f64), "packets", "—");
            report.add(
                "bundle_10k_air_ms",
                "carrying it to the lock and the receipt back over the modelled link (MTU 185, 1 packet per \
                 connection event, 1 % loss; median, virtual clock, radio time only)",
                link_latency::bundle_air(if q { 1 } else { 5 }, 1, 7),
                "ms",
                "≤ 5,000 ms",
            );
            report.add(
                "bundle_10k_air_4pe_ms",
                "the same with 4 packets per connection event (what iOS does)",
                link_latency::bundle_air(if q { 1 } else { 5 }, 4, 7),
                "ms",
                "≤ 5,000 ms",
            );
            report.add("bundle_10k_packets_mtu23", "its ATT packets at MTU 23", Ok(p23 as f64), "packets", "—");
            report.add(
                "bundle_10k_apply",
                "reference lock verifies and applies it (median, wall clock, this machine; in-memory state, no fsync)",
                Ok(apply),
                "ms",
                "< 1,000 ms",
            );
        }
        Err(e) => report.add("bundle_10k", "door-sync bundle with 10,000 revocations", Err(e), "bytes", "—"),
    }

    report.add(
        "ffi_library_bytes",
        "libkeyway_ffi.so as the apps ship it: mobile profile, x86_64 Linux, stripped (everything the apps need in)",
        ffi_size::measure().map(|b| b as f64),
        "bytes",
        "≤ 4 MiB (4,194,304 bytes)",
    );

    finish(&report, q, json_out)
}

/// Prints the report; an error if any figure could not be measured.
fn finish(report: &Report, q: bool, json_out: bool) -> Result<(), String> {
    if json_out {
        println!("{}", report.json(q));
    } else {
        print!("{}", report.table());
    }
    if report.figures.iter().any(|f| f.value.is_err()) {
        return Err("some figures could not be measured".into());
    }
    Ok(())
}
