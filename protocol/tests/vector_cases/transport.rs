//! The transport vectors: the advertisement (§7.1) and the framing (§7.3), both
//! directions: how a message is cut, and what a reassembler does with each frame.

use super::{VECTOR_DOOR, det, file};
use keyway_protocol::advert::{ADVERT_COMPANY_ID, Advertisement};
use keyway_protocol::framing::{FrameError, MAX_HANDSHAKE_LEN, Reassembler, fragment};
use keyway_protocol::ids::LockNonce;
use serde_json::{Value, json};

/// `advertisement.json`.
pub fn advertisement_cases() -> Value {
    let mut cases = Vec::new();
    let advert = Advertisement { door: VECTOR_DOOR, nonce: LockNonce(det("advertisement/nonce")), bundle_version: 7 };
    let payload = advert.to_bytes();
    let mut ad = vec![0x18, 0xff];
    ad.extend_from_slice(&ADVERT_COMPANY_ID.to_le_bytes());
    ad.extend_from_slice(&payload);
    cases.push(json!({
        "name": "valid",
        "door": advert.door.to_hex(),
        "nonce": advert.nonce.to_hex(),
        "bundle_version": advert.bundle_version,
        "company_id": ADVERT_COMPANY_ID,
        "payload": hex::encode(&payload),
        "ad_structure": hex::encode(&ad),
        "advertising_data": hex::encode([&[0x02, 0x01, 0x06][..], &ad].concat()),
        "valid": true,
    }));
    let mut invalid = |name: &str, bytes: Vec<u8>, why: &str| {
        assert!(Advertisement::from_bytes(&bytes).is_err(), "{name} must not decode");
        cases.push(json!({ "name": name, "payload": hex::encode(&bytes), "valid": false, "why": why }));
    };
    let mut v2 = payload.clone();
    v2[0] = 2;
    invalid("unknown_version", v2, "format version 2: a v1 phone ignores it");
    invalid("short", payload[..20].to_vec(), "20 bytes");
    invalid("long", [&payload[..], &[0]].concat(), "22 bytes: nothing may follow the bundle version");
    file(
        "The lock's advertisement (§7.1): the 21-byte payload, its 25-byte manufacturer-specific AD structure (company id little-endian), the whole advertising data with the Flags structure, and payloads a phone must ignore.",
        cases,
    )
}

fn error_name(e: &FrameError) -> String {
    match e {
        FrameError::Empty => "empty frame".into(),
        FrameError::UnexpectedContinuation => "continuation without a first frame".into(),
        FrameError::Interrupted => "first frame while a message is in progress".into(),
        FrameError::SequenceGap { expected, got } => format!("sequence gap: expected {expected}, got {got}"),
        FrameError::LengthMismatch { announced, received } => {
            format!("length mismatch: announced {announced}, received {received}")
        }
        FrameError::BadLength(n) => format!("bad length {n}"),
        FrameError::BadMtu(m) => format!("bad MTU {m}"),
    }
}

/// Feeds frames to a reassembler with `max_len` and records the result of each.
fn reassemble(frames: &[Vec<u8>], max_len: usize) -> Vec<Value> {
    let mut r = Reassembler::with_max_len(max_len);
    frames
        .iter()
        .map(|f| match r.push(f) {
            Ok(None) => json!({ "frame": hex::encode(f), "result": "more" }),
            Ok(Some(m)) => json!({ "frame": hex::encode(f), "result": "message", "message": hex::encode(m) }),
            Err(e) => json!({ "frame": hex::encode(f), "result": "rejected", "why": error_name(&e) }),
        })
        .collect()
}

fn case(name: &str, description: &str, max_len: usize, frames: &[Vec<u8>]) -> Value {
    json!({ "name": name, "description": description, "max_len": max_len, "frames": reassemble(frames, max_len) })
}

/// `framing.json`.
pub fn framing_cases() -> Value {
    let message: Vec<u8> = (0..60u32).map(|i| det::<1>(&format!("framing/message/{i}"))[0]).collect();
    let frames = fragment(&message, 23).unwrap();
    let long: Vec<u8> = (0..1250u32).map(|i| (i % 251) as u8).collect();
    let long_frames = fragment(&long, 23).unwrap();
    let small = fragment(&message[..10], 23).unwrap();
    let mut cases = vec![
        json!({ "name": "fragment_at_mtu_23", "description": "A 60-byte message cut for ATT MTU 23: a first frame of 4 header bytes and 16 message bytes, then 19 bytes per frame; the last frame has the 0x40 bit.", "mtu": 23, "message": hex::encode(&message), "fragments": frames.iter().map(hex::encode).collect::<Vec<_>>() }),
        json!({ "name": "fragment_at_mtu_185", "description": "The same message at MTU 185: one frame, header 0xc0 (first and last).", "mtu": 185, "message": hex::encode(&message), "fragments": fragment(&message, 185).unwrap().iter().map(hex::encode).collect::<Vec<_>>() }),
        json!({ "name": "sequence_wraps", "description": "A 1250-byte message at MTU 23: 66 frames; the sequence runs 0 … 63, then 0 and 1 again.", "mtu": 23, "message": hex::encode(&long), "fragments": long_frames.iter().map(hex::encode).collect::<Vec<_>>() }),
    ];
    cases.push(case(
        "multi_frame",
        "The four frames of fragment_at_mtu_23, in order: the message comes out with the last one.",
        1 << 20,
        &frames,
    ));
    cases.push(case(
        "wrapped_sequence",
        "The 66 frames of sequence_wraps: accepted across the wrap from 63 to 0.",
        1 << 20,
        &long_frames,
    ));
    let lost = [frames[0].clone(), frames[2].clone(), frames[3].clone(), small[0].clone()];
    cases.push(case("lost_frame", "Frame 1 is lost: frame 2 is rejected (sequence gap) and the message is dropped; frame 3 then has no message to continue; the next first frame starts clean.", 1 << 20, &lost));
    let empty = [Vec::new(), small[0].clone()];
    cases.push(case(
        "empty_first_frame",
        "An empty frame (no header) is rejected; the next first frame starts clean.",
        1 << 20,
        &empty,
    ));
    let interrupted = [frames[0].clone(), small[0].clone(), small[0].clone()];
    cases.push(case("interrupted", "A first frame while a message is in progress is rejected and drops both; the same first frame sent again starts clean.", 1 << 20, &interrupted));
    let early_last = [frames[0].clone(), [&[0x41][..], &frames[1][1..]].concat()];
    cases.push(case(
        "last_frame_too_early",
        "Frame 1 carries the last bit before the announced 60 bytes have arrived: rejected.",
        1 << 20,
        &early_last,
    ));
    let zero = [vec![0xc0, 0, 0, 0], vec![0x80, 0, 0]];
    cases.push(case(
        "bad_first_frames",
        "A first frame announcing 0 bytes, then one with only 2 of the 3 length bytes: both rejected.",
        1 << 20,
        &zero,
    ));
    let big = fragment(&vec![0u8; MAX_HANDSHAKE_LEN + 1], 185).unwrap();
    cases.push(case("over_the_handshake_limit", "A first frame announcing 1025 bytes to a reassembler limited to MAX_HANDSHAKE_LEN (1024), as a lock's is before a handshake: rejected at once.", MAX_HANDSHAKE_LEN, &big[..1]));
    file(
        "BLE framing (§7.3): how messages are cut (`fragments`, for `mtu`), and what a reassembler with limit `max_len` does with each frame in turn (`result`: more, message, or rejected with the reason; a rejection drops the message in progress).",
        cases,
    )
}
