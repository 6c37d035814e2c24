//! The state file decoder: any bytes are refused or decoded, never a panic; whatever
//! decodes re-encodes to a state that decodes to the same value.
#![no_main]

use keyway_lock::persist;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = persist::decode(data) {
        let again = persist::decode(&persist::encode(&state)).expect("a re-encoded state decodes");
        assert_eq!(again, state);
    }
});
