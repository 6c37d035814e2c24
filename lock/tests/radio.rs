//! Unlocking over the simulated radio: scan, connect at an ATT MTU, fragment, reassemble;
//! loss costs time, not messages; a seed makes a run repeatable.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::sim::{LinkParams, PeripheralId, RadioError, SimConnection, SimRadio};
use keyway_protocol::advert::{ADVERT_COMPANY_ID, Advertisement};
use keyway_protocol::credential::Credential;
use keyway_protocol::phone::{FastTicket, LockTarget, UnlockReply};
use keyway_protocol::{Command, framing};
use std::time::Duration;

struct Scene {
    radio: SimRadio,
    peripheral: PeripheralId,
    public_key: [u8; 65],
    site: Site,
    phone: TestPhone,
    key: Credential,
}

fn scene(seed: u64, link: LinkParams) -> Scene {
    let site = Site::new();
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 1, &[DOOR]);
    let door = TestLock::new(&site);
    let public_key = door.lock.public_key();
    let radio = SimRadio::new(seed);
    let peripheral = radio.add_lock(door.lock, link);
    Scene { radio, peripheral, public_key, site, phone, key }
}

impl Scene {
    /// Scans and returns the advertisement of the door.
    fn advertisement(&self) -> Advertisement {
        let seen = self.radio.scan();
        let ours = seen.iter().find(|s| s.peripheral == self.peripheral).unwrap();
        assert_eq!(ours.company_id, ADVERT_COMPANY_ID);
        Advertisement::from_bytes(&ours.data).unwrap()
    }

    fn standard_unlock(&self, mtu: u16) -> (UnlockReply, SimConnection) {
        let advert = self.advertisement();
        let target = LockTarget { door: advert.door, lock_public_key: self.public_key, nonce: advert.nonce };
        let mut connection = self.radio.connect(self.peripheral, mtu).unwrap();
        let (awaiting, request) = self.phone.standard_request(&target, &self.key, Command::Unlock);
        connection.send_message(&request).unwrap();
        let response = connection.receive_message().unwrap().unwrap();
        (awaiting.on_response(&response).unwrap().0, connection)
    }

    fn fast_unlock(&self, mtu: u16, ticket: &FastTicket) -> (UnlockReply, SimConnection) {
        let advert = self.advertisement();
        let mut connection = self.radio.connect(self.peripheral, mtu).unwrap();
        let (awaiting, request) = self.phone.fast_request_seeded(advert.door, advert.nonce, ticket, Command::Unlock, 9);
        connection.send_message(&request).unwrap();
        let response = connection.receive_message().unwrap().unwrap();
        (awaiting.on_response(&response).unwrap().0, connection)
    }

    fn actuations(&self) -> u64 {
        self.radio.with_lock(self.peripheral, |lock| lock.actuations()).unwrap()
    }
}

#[test]
fn unlock_over_the_simulated_radio_works_at_mtu_23_185_and_247() {
    for mtu in [23u16, 185, 247] {
        let scene = scene(1, LinkParams { att_mtu: 517, ..LinkParams::default() });
        let (reply, connection) = scene.standard_unlock(mtu);
        assert_eq!(reply.outcome, Ok(()), "standard at MTU {mtu}");
        assert_eq!(connection.mtu(), mtu);
        let stats = connection.stats();
        let request_frames = stats.writes;
        assert!(request_frames > 1, "a standard request needs several frames even at MTU {mtu}");
        drop(connection);

        let ticket = reply.ticket.unwrap();
        let (reply, connection) = scene.fast_unlock(mtu, &ticket);
        assert_eq!(reply.outcome, Ok(()), "fast at MTU {mtu}");
        if mtu >= 185 {
            assert_eq!(connection.stats().writes, 1, "the fast request is one write at MTU {mtu}");
        } else {
            assert!(connection.stats().writes > 1);
        }
        assert_eq!(scene.actuations(), 2);
        assert_eq!(scene.radio.with_lock(scene.peripheral, |lock| lock.open_connections()), Some(1));
        drop(connection);
        assert_eq!(scene.radio.with_lock(scene.peripheral, |lock| lock.open_connections()), Some(0));
    }
}

#[test]
fn door_sync_over_the_simulated_radio_fragments_the_bundle_at_mtu_23() {
    let scene = scene(2, LinkParams::default());
    let revoked: Vec<Credential> = (10..40).map(|id| scene.site.member_key(&TestPhone::new(), id, &[DOOR])).collect();
    let mut spec = BundleSpec::new(DOOR, 1, 0);
    for credential in &revoked {
        spec = spec.revoking(credential);
    }
    let bundle = scene.site.bundle(spec);
    let advert = scene.advertisement();
    let target = LockTarget { door: advert.door, lock_public_key: scene.public_key, nonce: advert.nonce };
    let mut connection = scene.radio.connect(scene.peripheral, 23).unwrap();
    let (awaiting, request) = scene.phone.standard_request(&target, &scene.key, Command::SyncOnly);
    connection.send_message(&request).unwrap();
    let (_, mut channel) = awaiting.on_response(&connection.receive_message().unwrap().unwrap()).unwrap();
    let message = channel.deliver_bundle(&bundle.to_bytes()).unwrap();
    assert!(framing::frame_count(message.len(), 23) > 30);
    connection.send_message(&message).unwrap();
    let reply = channel.on_sync_reply(&connection.receive_message().unwrap().unwrap()).unwrap();
    assert_eq!(reply.applied, Ok(()));
    assert_eq!(scene.radio.with_lock(scene.peripheral, |lock| lock.revocation_count()), Some(30));
}

#[test]
fn lost_packets_are_retransmitted_at_the_cost_of_a_connection_interval_each() {
    let lossless = scene(3, LinkParams::default());
    let (reply, clean) = lossless.standard_unlock(185);
    assert_eq!(reply.outcome, Ok(()));
    assert_eq!(clean.stats().retransmissions, 0);

    let lossy = scene(3, LinkParams { loss: 0.3, ..LinkParams::default() });
    let (reply, noisy) = lossy.standard_unlock(185);
    assert_eq!(reply.outcome, Ok(()), "loss delays the unlock but does not break it");
    let retransmissions = noisy.stats().retransmissions;
    assert!(retransmissions > 0);
    let interval = LinkParams::default().connection_interval;
    assert_eq!(noisy.elapsed(), clean.elapsed() + interval * retransmissions as u32);
}

#[test]
fn modelled_time_is_repeatable_with_the_same_seed() {
    let link = LinkParams { loss: 0.2, latency: Duration::from_millis(2), ..LinkParams::default() };
    let run = |seed| {
        let scene = scene(seed, link);
        let (reply, connection) = scene.standard_unlock(23);
        assert_eq!(reply.outcome, Ok(()));
        (connection.elapsed(), connection.stats(), scene.radio.now())
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42).1.retransmissions, run(43).1.retransmissions);
}

#[test]
fn connection_time_follows_the_link_model() {
    let link = LinkParams { latency: Duration::from_millis(1), ..LinkParams::default() };
    let scene = scene(4, link);
    let (_, connection) = scene.standard_unlock(23);
    let stats = connection.stats();
    // Every frame goes without response (the reply confirms it); each notification is one packet.
    assert_eq!(stats.packets, stats.writes + stats.notifications);
    let per_packet = link.connection_interval + link.latency;
    assert_eq!(connection.elapsed(), link.connect_time + per_packet * stats.packets as u32);
}

#[test]
fn queued_writes_share_a_connection_event_when_the_phone_sends_several_per_event() {
    let frames = framing::fragment(&[1u8; 200], 23).unwrap();
    let n = frames.len() as u32;
    assert!(n > 8);
    let send_all = |packets_per_event: u8, loss: f64| {
        let scene = scene(10, LinkParams { packets_per_event, loss, ..LinkParams::default() });
        let mut connection = scene.radio.connect(scene.peripheral, 23).unwrap();
        let start = connection.elapsed();
        for frame in &frames {
            connection.write_without_response(frame).unwrap();
        }
        (connection.elapsed() - start, connection.stats())
    };
    let interval = LinkParams::default().connection_interval;
    assert_eq!(send_all(1, 0.0).0, interval * n, "one packet per event: one event each");
    assert_eq!(send_all(4, 0.0).0, interval * n.div_ceil(4), "four per event: full events, then the rest");
    // A lost packet waits for the next event, and the burst goes on from there: loss
    // costs time, but never more than with one packet per event (same seed, same losses).
    let (took, stats) = send_all(4, 0.3);
    let (one_each, same) = send_all(1, 0.3);
    assert!(stats.retransmissions > 0);
    assert_eq!(same.retransmissions, stats.retransmissions);
    assert_eq!(one_each, interval * (n + stats.retransmissions as u32));
    assert!(took > interval * n.div_ceil(4) && took < one_each, "{took:?} {stats:?}");
}

#[test]
fn a_fast_unlock_takes_one_event_each_way_plus_the_latch_at_four_packets_per_event() {
    let scene = scene(11, LinkParams { packets_per_event: 4, ..LinkParams::default() });
    let (reply, _) = scene.standard_unlock(185);
    let ticket = reply.ticket.unwrap();
    let before = scene.radio.now();
    let (reply, connection) = scene.fast_unlock(185, &ticket);
    assert_eq!(reply.outcome, Ok(()));
    let interval = LinkParams::default().connection_interval;
    let connect = LinkParams::default().connect_time;
    let latch = Duration::from_millis(u64::from(keyway_lock::ACTUATION_MS));
    let scan = Duration::from_millis(100);
    assert_eq!(connection.stats().packets, 2, "one write, one notification");
    assert_eq!(scene.radio.now() - before, scan + connect + interval + latch + interval);
}

#[test]
fn write_with_response_costs_two_packets_and_without_one() {
    let scene = scene(9, LinkParams::default());
    let mut connection = scene.radio.connect(scene.peripheral, 23).unwrap();
    let frames = framing::fragment(&[1u8; 60], 23).unwrap();
    connection.write_without_response(&frames[0]).unwrap();
    assert_eq!(connection.stats().packets, 1);
    connection.write(&frames[1]).unwrap();
    assert_eq!(connection.stats().packets, 3);
}

#[test]
fn link_told_to_drop_loses_the_connection_and_the_lock_forgets_it() {
    let scene = scene(5, LinkParams::default());
    scene.radio.drop_after_packets(scene.peripheral, Some(1)).unwrap();
    let advert = scene.advertisement();
    let target = LockTarget { door: advert.door, lock_public_key: scene.public_key, nonce: advert.nonce };
    let mut connection = scene.radio.connect(scene.peripheral, 23).unwrap();
    let (_, request) = scene.phone.standard_request(&target, &scene.key, Command::Unlock);
    assert_eq!(connection.send_message(&request), Err(RadioError::ConnectionLost));
    assert!(!connection.is_open());
    assert_eq!(scene.actuations(), 0);
    assert_eq!(scene.radio.with_lock(scene.peripheral, |lock| lock.open_connections()), Some(0));

    scene.radio.drop_after_packets(scene.peripheral, None).unwrap();
    let (reply, _) = scene.standard_unlock(185);
    assert_eq!(reply.outcome, Ok(()));
}

#[test]
fn a_link_that_never_gets_through_drops_after_the_supervision_timeout() {
    let scene = scene(6, LinkParams { loss: 0.999, ..LinkParams::default() });
    let mut connection = scene.radio.connect(scene.peripheral, 185).unwrap();
    assert_eq!(connection.write(&[0x80, 0, 0, 1, 0]), Err(RadioError::ConnectionLost));
    assert!(connection.elapsed() > LinkParams::default().supervision_timeout);
}

#[test]
fn lock_out_of_range_is_not_seen_and_cannot_be_reached() {
    let scene = scene(7, LinkParams::default());
    let mut connection = scene.radio.connect(scene.peripheral, 185).unwrap();
    scene.radio.set_in_range(scene.peripheral, false).unwrap();
    assert!(scene.radio.scan().is_empty());
    assert_eq!(scene.radio.connect(scene.peripheral, 185).err(), Some(RadioError::NotInRange));
    assert_eq!(connection.write(&[0x80, 0, 0, 1, 0]), Err(RadioError::ConnectionLost));
}

#[test]
fn negotiated_mtu_is_the_smaller_of_both_sides() {
    let scene = scene(8, LinkParams { att_mtu: 185, ..LinkParams::default() });
    let connection = scene.radio.connect(scene.peripheral, 517).unwrap();
    assert_eq!(connection.mtu(), 185);
    assert_eq!(scene.radio.connect(scene.peripheral, 22).err(), Some(RadioError::BadMtu(22)));
}

#[test]
fn the_radio_and_its_connections_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    fn assert_sync<T: Sync>() {}
    assert_send::<SimRadio>();
    assert_sync::<SimRadio>();
    assert_send::<SimConnection>();
    assert_send::<keyway_lock::Lock>();
}

#[test]
fn lock_on_the_radios_clock_ages_in_modelled_time() {
    use keyway_lock::{Lock, LockOptions, MemoryStorage, Provisioning, SeededRandom};
    use std::sync::Arc;
    let site = Site::new();
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 1, &[DOOR]);
    let radio = SimRadio::new(10);
    let options = LockOptions { rtc: Arc::new(radio.rtc(T0)), random: Box::new(SeededRandom::new(1)) };
    let provisioning = Provisioning { door: DOOR, trust_anchors: vec![site.anchor()] };
    let lock = Lock::open_or_provision(Box::new(MemoryStorage::new()), &provisioning, options).unwrap();
    let public_key = lock.public_key();
    let peripheral = radio.add_lock(lock, LinkParams::default());
    let heard = |radio: &SimRadio| Advertisement::from_bytes(&radio.scan()[0].data).unwrap();

    let first = heard(&radio).nonce;
    radio.wait(Duration::from_secs(31));
    let advert = heard(&radio);
    assert_ne!(advert.nonce, first, "the nonce aged out in modelled time");

    // A connection that sends nothing for longer than the handshake timeout is dropped.
    let target = LockTarget { door: DOOR, lock_public_key: public_key, nonce: advert.nonce };
    let (_, request) = phone.standard_request(&target, &key, Command::Unlock);
    let mut idle = radio.connect(peripheral, 185).unwrap();
    radio.wait(Duration::from_secs(6));
    assert_eq!(idle.send_message(&request), Err(RadioError::Disconnected));

    // A phone that goes straight ahead gets in.
    let advert = heard(&radio);
    let target = LockTarget { door: DOOR, lock_public_key: public_key, nonce: advert.nonce };
    let (awaiting, request) = phone.standard_request(&target, &key, Command::Unlock);
    let mut connection = radio.connect(peripheral, 185).unwrap();
    connection.send_message(&request).unwrap();
    let reply = awaiting.on_response(&connection.receive_message().unwrap().unwrap()).unwrap().0;
    assert_eq!(reply.outcome, Ok(()));
    assert_eq!(reply.lock_clock, T0 + radio.now().as_secs() as u32);
}
