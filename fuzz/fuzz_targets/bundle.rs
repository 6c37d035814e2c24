//! `Bundle::from_bytes` on arbitrary bytes: what a lock parses out of a door sync that
//! arrived over the radio (before any signature check), in each of its formats (1 and 2:
//! whole credential ids; 3: serial prefixes, varint deltas). A decoded bundle re-encodes
//! to exactly the bytes it came from: one byte form per bundle, so the signature the lock
//! checks over the re-encoded body covers what it decoded.
#![no_main]

use keyway_fuzz::KEYS;
use keyway_protocol::bundle::Bundle;
use keyway_protocol::issuer::verify_bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = Bundle::from_bytes(data) else { return };
    assert!(bundle.body.base_version < bundle.body.version, "decoded a bundle with base ≥ version");
    assert_eq!(bundle.to_bytes(), data, "a decoded bundle has one byte form");
    let _ = verify_bundle(KEYS.issuer.public_key(), &bundle);
});
