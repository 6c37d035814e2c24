//! `Bundle::from_bytes` on arbitrary bytes: what a lock parses out of a door sync that
//! arrived over the radio (before any signature check).
#![no_main]

use keyway_fuzz::KEYS;
use keyway_protocol::bundle::Bundle;
use keyway_protocol::issuer::verify_bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = Bundle::from_bytes(data) else { return };
    assert!(bundle.body.base_version < bundle.body.version, "decoded a bundle with base ≥ version");
    let _ = verify_bundle(KEYS.issuer.public_key(), &bundle);
});
