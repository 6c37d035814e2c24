//! `lock_role::LockSession::on_message`: the lock parsing whatever a phone (or anyone in
//! radio range) sends on one connection. The input is a script of operations
//! (`keyway_fuzz::op`): raw messages; standard and fast requests built by the crate's
//! phone role with fuzz-chosen credential bytes, signatures and tickets; bundle bytes
//! and signed bundles through the secure channel; receipt requests; clock and storage
//! changes; and hand-sealed fast requests and channel messages whose plaintexts are
//! fuzz bytes. Every answer the lock gives to the phone role must be understood by it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keyway_fuzz::run_lock_script(data);
});
