//! The session read back from the platform's secure store (a foreign or damaged entry):
//! decoded or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keyway_core::fuzzing::stored_session(data);
});
