//! The backend under load: sustained member refreshes per second against one backend on
//! this machine, over HTTPS on loopback, with a SQLite file (WAL) as in production.
//!
//! The backend runs in this process on its own tokio runtime (its own worker threads, as
//! `keyway-backend serve` would have); the load comes from another runtime in the same
//! process, so client and server share the machine's cores (the client's share of the CPU
//! is part of what this machine can do, and is said so in the report).
//!
//! The scene: one site, one offline door, one key, and `members` people who each hold the
//! key and a signed-in session (made directly in the database: signing 1,000 people in
//! through one-time codes would only meet the sign-in throttle). Each member's phone then
//! refreshed once (its keys, its credential), so every later refresh is the steady state a
//! phone sees many times a day: nothing changed.
//!
//! One member refresh is what the core's `refresh` sends when nothing is due: the profile
//! (`GET /v1/me`), the keys changed since its cursor (`GET /v1/me/keys?since=…`) and the
//! offline doors that are behind (`GET /v1/door-sync/pending`), one after the other on
//! one connection, each answer checked and decoded.
//!
//! Open loop: refreshes start at a fixed offered rate whatever the answers do, and each
//! one's latency runs from when it was due to start, so a backend that falls behind shows
//! it in the tail instead of quietly slowing the load (no coordinated omission). The rate
//! steps up until p99 crosses the goal or the throughput stops following the offer: that
//! step is the knee.

use super::stats::{ms, quantile};
use keyway_api::endpoints::{GetProfile, ListKeys, ListPendingDoors};
use keyway_api::{Endpoint, GrantSpec, KeysResponse, PendingDoors, Profile};
use keyway_backend::dev_certs::DevCa;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The latency goal that defines a sustained rate.
pub const P99_GOAL_MS: f64 = 250.0;
/// A step is sustained only when the refreshes completed at least this share of the offered
/// rate (completions over the step's wall time, which includes draining the last ones: a
/// 1 s step loses a few per cent to that alone). Falling behind shows first in p99 anyway:
/// latency counts from when a refresh was due, so a growing queue pushes p99 past the goal.
const KEPT_UP: f64 = 0.8;
/// At most this many refreshes in flight; beyond it the step has failed already.
const MAX_IN_FLIGHT: u64 = 4096;

/// One offered rate and what came of it.
#[derive(Debug, Clone)]
pub struct Step {
    /// Refreshes offered per second.
    pub offered: f64,
    /// Refreshes completed per second (within the step and its drain).
    pub achieved: f64,
    /// Median latency, ms (from when the refresh was due).
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Refreshes that failed (an answer other than 200, or a broken connection).
    pub failed: u64,
    /// This process's CPU time over the step's wall time, as a share of all cores (0–1).
    pub cpu: f64,
    /// The whole machine's busy CPU time over the step's wall time, as a share of all cores
    /// (0–1): this process and any other (on a shared machine the other can be the limit).
    pub machine_cpu: f64,
    /// The SQLite writer's held time over the step's wall time (0–1): the single writer's load.
    pub db_held: f64,
    /// The read-only connections' lent time over the step's wall time, all together (0 to
    /// `readers`): how busy the readers beside the writer are.
    pub db_read: f64,
    /// How many read-only connections the backend has.
    pub readers: usize,
}

impl Step {
    fn sustained(&self) -> bool {
        self.failed == 0 && self.p99_ms < P99_GOAL_MS && self.achieved >= KEPT_UP * self.offered
    }
}

/// What the load run found.
#[derive(Debug, Clone)]
pub struct Load {
    /// The highest sustained step (p99 under the goal, the offer kept up with), if any.
    pub best: Option<Step>,
    /// The first step that was not sustained (the knee), if the run reached one.
    pub knee: Option<Step>,
}

impl Load {
    /// What saturated at the knee, in words.
    pub fn saturation(&self) -> String {
        let Some(k) = &self.knee else {
            return "no knee within the rates tried".into();
        };
        let what = if k.db_held >= 0.9 {
            "the SQLite writer (the single connection that writes) is held nearly all the time"
        } else if k.readers > 0 && k.db_read >= 0.9 * k.readers as f64 {
            "the SQLite readers are all lent nearly all the time"
        } else if k.cpu >= 0.85 {
            "the CPU (client and server share the cores)"
        } else if k.machine_cpu >= 0.9 {
            "the CPU (client and server share the cores, and other processes took the rest)"
        } else {
            "neither the CPU nor SQLite (writer or readers) is at its limit (waiting elsewhere)"
        };
        format!(
            "at {:.0}/s offered: {what}; CPU {:.0} % of {} cores (the machine {:.0} % busy), SQLite writer held \
             {:.0} % of the time, its {} readers lent {:.0} % of the time (all together)",
            k.offered,
            k.cpu * 100.0,
            cores(),
            k.machine_cpu * 100.0,
            k.db_held * 100.0,
            k.readers,
            k.db_read * 100.0
        )
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

/// A member's session and the cursor their phone holds.
struct Member {
    access_token: String,
    cursor: i64,
}

/// The backend on its own runtime; stops when dropped.
struct Backend {
    base: String,
    db: keyway_backend::db::Db,
    ca_pem: String,
    runtime: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

impl Drop for Backend {
    fn drop(&mut self) {
        // Dropped from async code: stop the backend's runtime without waiting on it there.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The offered rates tried in turn, per second: from `first`, finer steps up to 40 times
/// it, then doubling (a backend never keeps up for ever, so the run always meets its knee).
pub fn rates(first: f64) -> impl Iterator<Item = f64> {
    let fine = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 24.0, 32.0, 40.0];
    fine.into_iter().map(move |m| m * first).chain((1..).map(move |i| 40.0 * first * f64::from(2u32.pow(i.min(20)))))
}

/// Runs the load: `members` members, the offered rates in `rates` (per second), each for
/// `step`; stops at the first step that is not sustained.
pub async fn measure(members: usize, rates: impl IntoIterator<Item = f64>, step: Duration) -> Result<Load, String> {
    let (backend, tokens) = tokio::task::spawn_blocking(move || start_backend(members))
        .await
        .map_err(|e| format!("backend setup: {e}"))??;
    let ca = reqwest::Certificate::from_pem(backend.ca_pem.as_bytes()).map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("client: {e}"))?;
    // Each phone's first refresh: a credential, and the cursor it keeps.
    let mut ready = Vec::with_capacity(tokens.len());
    for token in tokens {
        let issued: serde_json::Value = client
            .post(format!("{}{}", backend.base, keyway_api::endpoints::IssueCredentials::PATH))
            .bearer_auth(&token)
            .json(&serde_json::json!({}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("first credential: {e}"))?
            .json()
            .await
            .map_err(|e| format!("first credential: {e}"))?;
        if issued["credentials"].as_array().map(Vec::len) != Some(1) {
            return Err(format!("a member was issued {} credentials, not 1", issued["credentials"]));
        }
        let keys: KeysResponse = get(&client, &backend.base, &token, &ListKeys { since: None }).await?;
        if keys.keys.len() != 1 {
            return Err(format!("a member holds {} keys, not 1", keys.keys.len()));
        }
        ready.push(Member { access_token: token, cursor: keys.cursor });
    }
    let members = Arc::new(ready);
    let mut best: Option<Step> = None;
    let mut knee = None;
    for rate in rates {
        let s = run_step(&client, &backend, &members, rate, step).await?;
        eprintln!(
            "    load step {:.0}/s offered: {:.0}/s done, p50 {:.1} ms, p99 {:.1} ms, {} failed, CPU {:.0} % \
             (machine {:.0} %), SQLite writer held {:.0} %, readers lent {:.0} %",
            s.offered,
            s.achieved,
            s.p50_ms,
            s.p99_ms,
            s.failed,
            s.cpu * 100.0,
            s.machine_cpu * 100.0,
            s.db_held * 100.0,
            s.db_read * 100.0
        );
        // The knee: p99 crosses the goal, or the throughput stopped following the offer
        // (or fell below the previous step's).
        let stopped_rising = best.as_ref().is_some_and(|b| s.achieved <= b.achieved);
        if !s.sustained() || stopped_rising {
            knee = Some(s);
            break;
        }
        best = Some(s);
    }
    Ok(Load { best, knee })
}

/// One step at `rate` refreshes per second for `length`.
async fn run_step(
    client: &reqwest::Client,
    backend: &Backend,
    members: &Arc<Vec<Member>>,
    rate: f64,
    length: Duration,
) -> Result<Step, String> {
    let cpu_before = cpu_time();
    let machine_before = machine_cpu_ticks();
    let held_before = backend.db.held_time();
    let read_before = backend.db.read_time();
    let started = Instant::now();
    let in_flight = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    let total = (rate * length.as_secs_f64()).round() as u64;
    let mut launched = 0u64;
    let mut overloaded = false;
    while launched < total {
        // Every refresh due by now starts now, stamped with when it was due.
        let due_now = ((started.elapsed().as_secs_f64() * rate) as u64 + 1).min(total);
        while launched < due_now {
            if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
                overloaded = true;
                break;
            }
            let due = started + Duration::from_secs_f64(launched as f64 / rate);
            let client = client.clone();
            let base = backend.base.clone();
            let members = members.clone();
            let in_flight = in_flight.clone();
            let index = usize::try_from(launched).unwrap_or(0) % members.len();
            in_flight.fetch_add(1, Ordering::Relaxed);
            tasks.spawn(async move {
                let result = refresh(&client, &base, &members[index]).await;
                in_flight.fetch_sub(1, Ordering::Relaxed);
                result.map(|()| due.elapsed())
            });
            launched += 1;
        }
        if overloaded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut latencies = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut failed = 0;
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(latency)) => latencies.push(ms(latency)),
            Ok(Err(e)) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let wall = started.elapsed();
    if let Some(e) = first_error {
        eprintln!("    first failed refresh at {rate:.0}/s: {e}");
    }
    // Refreshes never started because too many were in flight count as failed.
    failed += total - launched;
    let cpu = (cpu_time().saturating_sub(cpu_before)).as_secs_f64() / (wall.as_secs_f64() * cores() as f64);
    let machine_cpu = match (machine_before, machine_cpu_ticks()) {
        (Some((busy0, all0)), Some((busy1, all1))) if all1 > all0 => {
            busy1.saturating_sub(busy0) as f64 / (all1 - all0) as f64
        }
        _ => 0.0,
    };
    let db_held = backend.db.held_time().saturating_sub(held_before).as_secs_f64() / wall.as_secs_f64();
    let db_read = backend.db.read_time().saturating_sub(read_before).as_secs_f64() / wall.as_secs_f64();
    Ok(Step {
        offered: rate,
        achieved: latencies.len() as f64 / wall.as_secs_f64(),
        p50_ms: quantile(&latencies, 0.5),
        p99_ms: quantile(&latencies, 0.99),
        failed,
        cpu,
        machine_cpu,
        db_held,
        db_read,
        readers: backend.db.reader_count(),
    })
}

/// One member refresh when nothing changed: profile, keys since the cursor, pending doors.
async fn refresh(client: &reqwest::Client, base: &str, member: &Member) -> Result<(), String> {
    let token = &member.access_token;
    let _: Profile = get(client, base, token, &GetProfile {}).await?;
    let keys: KeysResponse = get(client, base, token, &ListKeys { since: Some(member.cursor) }).await?;
    if !keys.keys.is_empty() {
        return Err(format!("{} keys changed in a steady state", keys.keys.len()));
    }
    let _: PendingDoors = get(client, base, token, &ListPendingDoors {}).await?;
    Ok(())
}

/// One authenticated GET, its answer decoded.
async fn get<E: Endpoint, T: DeserializeOwned>(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    call: &E,
) -> Result<T, String> {
    let answer = client
        .get(format!("{base}{}", call.path()))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("{}: {e}", E::PATH))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(format!("{}: HTTP {status}", E::PATH));
    }
    answer.json().await.map_err(|e| format!("{}: {e}", E::PATH))
}

/// This process's CPU time (user and system) so far.
fn cpu_time() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => {
            let t = |tv: nix::sys::time::TimeVal| {
                Duration::from_secs(u64::try_from(tv.tv_sec()).unwrap_or(0))
                    + Duration::from_micros(u64::try_from(tv.tv_usec()).unwrap_or(0))
            };
            t(u.user_time()) + t(u.system_time())
        }
        Err(_) => Duration::ZERO,
    }
}

/// The machine's CPU time so far from `/proc/stat`, in ticks: (busy, all), all cores
/// together; `None` where there is no such file.
fn machine_cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line.split_whitespace().filter_map(|t| t.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    let all: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    Some((all.saturating_sub(idle), all))
}

/// Starts the backend on a SQLite file in a new temporary folder, serving HTTPS on
/// loopback from its own runtime, with `members` members signed in; returns their access
/// tokens.
fn start_backend(members: usize) -> Result<(Backend, Vec<String>), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("backend.sqlite");
    let db = keyway_backend::db::Db::open(&path.to_string_lossy()).map_err(|e| format!("database: {e}"))?;
    let config = keyway_backend::Config::random("keyway.invalid").map_err(|e| e.to_string())?;
    let state = keyway_backend::AppState::new(db.clone(), Arc::new(keyway_backend::clock::SystemClock), &config)
        .map_err(|e| e.to_string())?;
    let ca = DevCa::new("Keyway load bench CA").map_err(|e| e.to_string())?;
    let identity = ca.issue_loopback().map_err(|e| e.to_string())?;
    let tls = keyway_backend::tls::TlsIdentity::from_pem(identity.chain_pem.as_bytes(), identity.key_pem.as_bytes())
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores())
        .thread_name("backend")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let tokens = runtime.block_on(populate(&state, members))?;
    let server = runtime
        .block_on(keyway_backend::start_tls(state, "127.0.0.1:0", &tls))
        .map_err(|e| format!("backend listens: {e}"))?;
    // The server task lives on the backend's runtime until that runtime stops.
    let base = format!("https://{}", server.addr);
    let backend = Backend { base, db, ca_pem: ca.cert_pem().to_owned(), runtime: Some(runtime), _dir: dir };
    Ok((backend, tokens))
}

/// One site, an offline door, a key, and `members` members holding it, each signed in on
/// a device of their own; returns their access tokens.
async fn populate(state: &keyway_backend::AppState, members: usize) -> Result<Vec<String>, String> {
    use keyway_backend::{doors, keys, orgs, people, sessions};
    let devices = (0..members).map(|_| device_public_key()).collect::<Result<Vec<_>, _>>()?;
    let lock_keys = (device_public_key()?, device_public_key()?);
    state
        .write(move |tx, st, now| {
            let org = orgs::create_org(tx, "Load Gym", now)?;
            let (site, _) = orgs::create_site(tx, st.secrets(), org, "Main", None, now)?;
            let facility = orgs::create_facility(tx, site, "Gym", now)?;
            let door = doors::create(tx, facility, "Back gate", b"loadgate", &lock_keys.0, &lock_keys.1, false, now)?;
            let key = keys::create_key(tx, facility, "Members", &[door], now)?;
            let grant = GrantSpec { key_id: key, starts_at: None, expires_at: now + 30 * 86_400, shareable: false };
            let mut tokens = Vec::with_capacity(devices.len());
            for (i, device) in devices.iter().enumerate() {
                let person = people::create_named(tx, "Member", &format!("{i}"), now)?;
                people::ensure_membership(tx, person, org, "member", now)?;
                keys::grant(tx, person, &grant, now)?;
                tokens.push(sessions::create(tx, st.secrets(), person, device, now)?.access_token);
            }
            Ok(tokens)
        })
        .await
        .map_err(|e| format!("populating the backend: {e}"))
}

/// A fresh P-256 public key (65 bytes, uncompressed): a member's device, or a lock.
fn device_public_key() -> Result<Vec<u8>, String> {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|e| e.to_string())?;
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).map_err(|e| e.to_string())?;
    Ok(pair.public_key().as_ref().to_vec())
}
