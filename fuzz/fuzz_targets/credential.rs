//! `Credential::from_bytes` on arbitrary bytes: what a lock parses out of every standard
//! request and the phone out of its secure store. A decoded credential must obey its own
//! validation rules, and checking its signature must not panic either.
#![no_main]

use keyway_fuzz::KEYS;
use keyway_protocol::credential::Credential;
use keyway_protocol::issuer::verify_credential;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(credential) = Credential::from_bytes(data) else { return };
    assert!(credential.body.validate().is_ok(), "decoded an invalid credential body");
    let _ = verify_credential(KEYS.issuer.public_key(), &credential);
});
