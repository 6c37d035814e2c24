//! The doorcode vectors in `protocol/vectors/doorcode.json`: the code of a slot on a day
//! (backend side with ring, lock side with RustCrypto: both must give the recorded
//! digits), the keypad decoder's answers, and a format-2 bundle body carrying doorcode
//! slots. Regenerate with `KEYWAY_WRITE_VECTORS=1 cargo test -p keyway-protocol --test
//! doorcode_vectors`; without the variable the file is checked against the generator.
#![allow(clippy::unwrap_used, missing_docs)]

use keyway_protocol::bundle::{BundleBody, DoorcodeGrant, LockConfig, Revocation, RevocationList};
use keyway_protocol::doorcode::{
    DoorcodeSecret, DoorcodeSlot, KeypadError, day_of, day_window, derive, derive_on_lock, message, parse_keypad,
};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId};
use serde_json::{Value, json};
use std::path::PathBuf;

const FILE: &str = "doorcode.json";

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors").join(FILE)
}

fn secret() -> DoorcodeSecret {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = i as u8;
    }
    DoorcodeSecret(bytes)
}

const DOOR: DoorId = DoorId(*b"keypad01");

fn code_cases() -> Vec<Value> {
    let cases =
        [(1u32, 1_765_000_000u32), (1, 1_765_065_599), (1, 1_765_065_600), (2, 1_765_000_000), (0xffff_fffe, 0)];
    cases
        .iter()
        .map(|&(slot, time)| {
            let day = day_of(time);
            let (from, until) = day_window(day);
            let code = derive(&secret(), DOOR, DoorcodeSlot(slot), day);
            json!({
                "slot": slot,
                "time": time,
                "day": day,
                "valid_from": from,
                "valid_until": until,
                "hmac_input": hex::encode(message(DOOR, DoorcodeSlot(slot), day)),
                "code": code.reveal(),
            })
        })
        .collect()
}

fn keypad_answer(input: &[u8]) -> Value {
    match parse_keypad(input) {
        Ok(code) => json!({ "code": code.reveal() }),
        Err(KeypadError::Empty) => json!({ "error": "empty" }),
        Err(KeypadError::TooShort { digits }) => json!({ "error": "too_short", "digits": digits }),
        Err(KeypadError::TooLong) => json!({ "error": "too_long" }),
        Err(KeypadError::UnknownKey(key)) => json!({ "error": "unknown_key", "key": key }),
        Err(KeypadError::AfterEnd) => json!({ "error": "after_end" }),
    }
}

fn keypad_cases() -> Vec<Value> {
    let inputs: [&[u8]; 8] =
        [b"31415926", b"31415926#", b"99*31415926#", b"#", b"3141#", b"314159265", b"3141592a", b"31415926#0"];
    inputs
        .iter()
        .map(|input| json!({ "keys": String::from_utf8_lossy(input), "answer": keypad_answer(input) }))
        .collect()
}

fn bundle_body() -> BundleBody {
    BundleBody {
        door: DOOR,
        issuer: KeyId(*b"issuer01"),
        version: 3,
        base_version: 2,
        signed_time: 1_765_000_000,
        audit_acknowledged: 5,
        config: LockConfig::default(),
        revocations: RevocationList::Ids(vec![Revocation {
            credential: CredentialId(*b"revoked-member-1"),
            expires: 1_765_086_400,
        }]),
        doorcodes: Some(vec![
            DoorcodeGrant { slot: DoorcodeSlot(1), not_before: 1_764_000_000, not_after: 1_766_000_000 },
            DoorcodeGrant { slot: DoorcodeSlot(7), not_before: 1_765_000_000, not_after: 1_765_500_000 },
        ]),
    }
}

fn generate() -> Value {
    json!({
        "description": "Daily doorcodes (docs/protocol.md §18). code = decimal(first 8 bytes of HMAC-SHA256(secret, hmac_input), big-endian, mod 10^8), zero-padded to 8 digits; hmac_input = \"keyway/doorcode/v1\\0\" ‖ door ‖ slot u32 ‖ day u32, day = floor(time / 86400). `keypad` lists what the keypad decoder makes of key presses. `bundle_body` is a format-2 bundle body (unsigned) carrying two doorcode slots after its revocations.",
        "secret": hex::encode(secret().0),
        "door": DOOR.to_hex(),
        "codes": code_cases(),
        "keypad": keypad_cases(),
        "bundle_body": hex::encode(bundle_body().to_bytes()),
    })
}

#[test]
fn doorcode_vectors_match_the_generator_on_both_sides() {
    let generated = generate();
    if std::env::var_os("KEYWAY_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        std::fs::write(path(), text).unwrap();
    }
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    assert_eq!(generated, recorded, "{FILE} differs from the generator's");

    // The recorded codes, from the recorded inputs alone, on the lock's implementation.
    let secret = DoorcodeSecret(hex::decode(recorded["secret"].as_str().unwrap()).unwrap().try_into().unwrap());
    let door = DoorId(hex::decode(recorded["door"].as_str().unwrap()).unwrap().try_into().unwrap());
    for case in recorded["codes"].as_array().unwrap() {
        let slot = DoorcodeSlot(case["slot"].as_u64().unwrap() as u32);
        let day = case["day"].as_u64().unwrap() as u32;
        assert_eq!(derive_on_lock(&secret, door, slot, day).reveal(), case["code"].as_str().unwrap());
        assert_eq!(hex::encode(message(door, slot, day)), case["hmac_input"].as_str().unwrap());
    }
}

#[test]
fn a_format_2_bundle_body_reads_back_with_its_doorcode_slots() {
    let body = bundle_body();
    let bytes = body.to_bytes();
    assert_eq!(bytes[0], 2, "a bundle with doorcode slots is format 2");
    // Read back through a whole (unsigned) bundle: body then a zero signature.
    let mut wire = bytes.clone();
    wire.extend_from_slice(&[0u8; 64]);
    let bundle = keyway_protocol::bundle::Bundle::from_bytes(&wire).unwrap();
    assert_eq!(bundle.body, body);
    let without = BundleBody { doorcodes: None, ..body };
    assert_eq!(without.to_bytes()[0], 1, "a bundle without doorcode slots stays format 1");
}

#[test]
fn a_bundle_with_slots_out_of_order_or_too_many_is_refused() {
    let mut body = bundle_body();
    body.doorcodes = Some(vec![
        DoorcodeGrant { slot: DoorcodeSlot(7), not_before: 0, not_after: 1 },
        DoorcodeGrant { slot: DoorcodeSlot(1), not_before: 0, not_after: 1 },
    ]);
    let mut wire = body.to_bytes();
    wire.extend_from_slice(&[0u8; 64]);
    assert!(keyway_protocol::bundle::Bundle::from_bytes(&wire).is_err());

    body.doorcodes = Some(
        (0..=keyway_protocol::bundle::MAX_DOORCODE_SLOTS as u32)
            .map(|slot| DoorcodeGrant { slot: DoorcodeSlot(slot), not_before: 0, not_after: 1 })
            .collect(),
    );
    let mut wire = body.to_bytes();
    wire.extend_from_slice(&[0u8; 64]);
    assert!(keyway_protocol::bundle::Bundle::from_bytes(&wire).is_err());
}
