//! The backend's answers as the core decodes them (`keyway_core::fuzzing::api_answer`):
//! every response type the core reads, with any status and content type, then the
//! conversions behind them (keys and doors into the cache, credentials, bundles) and the
//! typed error a screen gets. A malicious or broken backend must never crash the app.
//!
//! Input: endpoint byte, u16 status, a byte whose bit 0 says "JSON", the body.
#![no_main]

use keyway_fuzz::{DOOR, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let endpoint = input.u8();
    let status = input.u16();
    let is_json = input.u8() & 1 == 1;
    let body = input.rest();
    let accepted = keyway_core::fuzzing::api_answer(endpoint, status, is_json, body, DOOR);
    // Only a 2xx answer is ever accepted.
    assert!(!accepted || (200..300).contains(&status), "accepted an answer with status {status}");
});
