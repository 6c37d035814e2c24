//! The keypad: `doorcode::parse_keypad` on arbitrary key presses, then the same entries on
//! a reference lock that allows two doorcode slots. Never a panic; an accepted entry is the
//! 8 digits typed after the last `*` (and before an optional final `#`); the lock opens
//! only for today's code of an allowed slot and never checks more than five wrong codes
//! in a row without locking the keypad out.
#![no_main]

use keyway_fuzz::keypad_lock;
use keyway_lock::keypad::{KeypadOutcome, WRONG_CODES_BEFORE_LOCKOUT};
use keyway_protocol::doorcode::{MAX_KEYPAD_INPUT, parse_keypad};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The whole input as one entry.
    if let Ok(code) = parse_keypad(data) {
        assert!(data.len() <= MAX_KEYPAD_INPUT);
        let entry = data.strip_suffix(b"#").unwrap_or(data);
        let after_star = entry.rsplit(|&b| b == b'*').next().unwrap_or(entry);
        assert_eq!(after_star, code.as_bytes(), "the code is not the digits after the last *");
    }

    // Entries split at newlines, typed on a lock.
    let (mut lock, valid) = keypad_lock();
    let mut wrong_in_row = 0u32;
    for entry in data.split(|&b| b == b'\n') {
        let outcome = lock.keypad(entry).expect("memory storage saves");
        match outcome {
            KeypadOutcome::Opened { slot } => {
                let code = valid.iter().find(|(s, _)| *s == slot).map(|(_, c)| c).expect("an allowed slot");
                assert_eq!(parse_keypad(entry).ok().as_ref(), Some(code), "opened for a code that is not today's");
                wrong_in_row = 0;
            }
            KeypadOutcome::WrongCode { .. } => {
                wrong_in_row += 1;
                assert!(wrong_in_row < WRONG_CODES_BEFORE_LOCKOUT, "too many wrong codes without a lock-out");
            }
            KeypadOutcome::LockedOut { .. } => wrong_in_row = 0,
            KeypadOutcome::Malformed(_) | KeypadOutcome::NotEnabled => {}
        }
    }
});
