//! Structure-aware round trip: the input is tried as a credential, a bundle, a receipt and
//! an advertisement. Whatever decodes must re-encode to exactly the input bytes (otherwise
//! two encodings would mean one message, and a signature over one would not cover the other).
#![no_main]

use keyway_protocol::advert::Advertisement;
use keyway_protocol::bundle::Bundle;
use keyway_protocol::credential::Credential;
use keyway_protocol::receipt::Receipt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Credential::from_bytes(data) {
        assert_eq!(c.to_bytes(), data, "credential does not round-trip: {c:?}");
        assert_eq!(Credential::from_bytes(&c.to_bytes()), Ok(c));
    }
    if let Ok(b) = Bundle::from_bytes(data) {
        assert_eq!(b.to_bytes(), data, "bundle does not round-trip: {b:?}");
    }
    if let Ok(r) = Receipt::from_bytes(data) {
        assert_eq!(r.to_bytes(), data, "receipt does not round-trip: {r:?}");
    }
    if let Ok(a) = Advertisement::from_bytes(data) {
        assert_eq!(a.to_bytes(), data, "advertisement does not round-trip: {a:?}");
    }
});
