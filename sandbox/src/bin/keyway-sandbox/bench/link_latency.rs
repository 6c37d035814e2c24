//! Unlock latency on a modelled Bluetooth link: the simulated radio in virtual time
//! (connection interval 30 ms, ATT MTU 185 or 23, 1 % of packet transmissions lost and
//! retransmitted by the link layer, 1 or 4 packets per connection event; every frame is
//! written without response, as the core does), from the usable connection until the phone holds
//! the lock's answer, which the lock sends once its latch has moved (the modelled 120 ms
//! actuation is inside the figure). Virtual time makes thousands of unlocks cost seconds and the
//! figures independent of the machine's load.

use super::scene::{scene, target};
use super::stats::{ms, quantile};
use keyway_lock::sim::{LinkParams, SimRadio};
use std::time::Duration;

/// The modelled link.
pub const CONNECTION_INTERVAL: Duration = Duration::from_millis(30);
/// Packet loss.
pub const LOSS: f64 = 0.01;

/// p50 and p99 of connection → door open, in milliseconds, for standard and fast unlocks.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Standard unlock p50.
    pub standard_p50: f64,
    /// Standard unlock p99.
    pub standard_p99: f64,
    /// Fast unlock p50.
    pub fast_p50: f64,
    /// Fast unlock p99.
    pub fast_p99: f64,
}

/// Runs `n` standard and `n` fast unlocks on a link with `mtu` and `loss`, the phone
/// sending up to `packets_per_event` packets in one connection event.
pub fn measure(mtu: u16, loss: f64, packets_per_event: u8, n: usize, seed: u64) -> Result<Latency, String> {
    let (phone, lock) = scene()?;
    let radio = SimRadio::new(seed);
    let link = LinkParams {
        att_mtu: mtu,
        connection_interval: CONNECTION_INTERVAL,
        loss,
        packets_per_event,
        ..LinkParams::default()
    };
    let id = radio.add_lock(lock, link);
    let mut ticket = None;
    let (mut standard, mut fast) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..2 * n {
        let fast_path = i >= n;
        let target = radio.with_lock(id, target).ok_or("the lock left the radio")?;
        let (awaiting, request) = match (&ticket, fast_path) {
            (Some(t), true) => phone.fast_request(&target, t)?,
            _ => phone.standard_request(&target)?,
        };
        let mut connection = radio.connect(id, mtu).map_err(|e| format!("connect: {e}"))?;
        let connected = radio.now();
        connection.send_message(&request).map_err(|e| format!("write: {e}"))?;
        let reply = connection.receive_message().map_err(|e| format!("notify: {e}"))?.ok_or("no answer")?;
        let took = ms(radio.now() - connected);
        connection.disconnect();
        let (answer, _) = awaiting.on_response(&reply).map_err(|e| format!("answer: {e:?}"))?;
        ticket = answer.ticket;
        if fast_path { fast.push(took) } else { standard.push(took) }
    }
    Ok(Latency {
        standard_p50: quantile(&standard, 0.5),
        standard_p99: quantile(&standard, 0.99),
        fast_p50: quantile(&fast, 0.5),
        fast_p99: quantile(&fast, 0.99),
    })
}

/// Median milliseconds of modelled radio time to carry a 10,000-revocation bundle to the
/// lock and get its receipt back, at MTU 185, `packets_per_event` packets per connection
/// event and 1 % loss,
/// over `rounds` bundles (each a newer version, each applied): from the bundle's first
/// write, after an unlock opened the channel, until the phone holds the receipt. The
/// lock's verification and apply cost nothing on the virtual clock (measured apart as
/// `bundle_10k_apply` and in instructions).
pub fn bundle_air(rounds: usize, packets_per_event: u8, seed: u64) -> Result<f64, String> {
    let (phone, lock) = scene()?;
    let radio = SimRadio::new(seed);
    let link = LinkParams {
        att_mtu: 185,
        connection_interval: CONNECTION_INTERVAL,
        loss: LOSS,
        packets_per_event,
        ..LinkParams::default()
    };
    let id = radio.add_lock(lock, link);
    let mut carried = Vec::with_capacity(rounds);
    for version in 1..=rounds as u32 {
        let bundle = phone.bundle(version, super::lock_cost::BUNDLE_REVOCATIONS)?.to_bytes();
        let target = radio.with_lock(id, target).ok_or("the lock left the radio")?;
        let (awaiting, request) = phone.standard_request(&target)?;
        let mut connection = radio.connect(id, 185).map_err(|e| format!("connect: {e}"))?;
        connection.send_message(&request).map_err(|e| format!("write: {e}"))?;
        let reply = connection.receive_message().map_err(|e| format!("notify: {e}"))?.ok_or("no answer")?;
        let (_, mut channel) = awaiting.on_response(&reply).map_err(|e| format!("answer: {e:?}"))?;
        let message = channel.deliver_bundle(&bundle).map_err(|e| format!("{e:?}"))?;
        let started = radio.now();
        connection.send_message(&message).map_err(|e| format!("bundle write: {e}"))?;
        let receipt = connection.receive_message().map_err(|e| format!("receipt: {e}"))?.ok_or("no receipt")?;
        carried.push(ms(radio.now() - started));
        connection.disconnect();
        let sync = channel.on_sync_reply(&receipt).map_err(|e| format!("{e:?}"))?;
        sync.applied.map_err(|r| format!("the lock refused the bundle: {r:?}"))?;
    }
    Ok(super::stats::median(&carried))
}
