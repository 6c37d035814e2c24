//! `Advertisement::from_bytes` on arbitrary bytes: what a phone parses out of every
//! BLE advertisement it hears (anyone can broadcast).
#![no_main]

use keyway_protocol::advert::{ADVERT_LEN, ADVERT_VERSION, Advertisement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = Advertisement::from_bytes(data);
    // The format is fixed-size: it decodes exactly when the length and version are right.
    let well_formed = data.len() == ADVERT_LEN && data[0] == ADVERT_VERSION;
    assert_eq!(decoded.is_ok(), well_formed, "{decoded:?}");
});
