//! `Receipt::from_bytes` and `issuer::verify_receipt` on arbitrary bytes: what the backend
//! parses out of a receipt a phone uploads on a lock's behalf.
#![no_main]

use keyway_fuzz::KEYS;
use keyway_protocol::issuer::{SignatureError, verify_receipt};
use keyway_protocol::receipt::{MAX_RECEIPT_EVENTS, Receipt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = Receipt::from_bytes(data);
    if let Ok(receipt) = &parsed {
        let events = &receipt.body.events;
        assert!(events.len() <= MAX_RECEIPT_EVENTS);
        assert!(events.windows(2).all(|w| w[0].seq < w[1].seq), "event sequence not increasing");
    }
    let verified = verify_receipt(&KEYS.lock_signing_public, data);
    // verify_receipt parses with the same decoder: it fails as malformed exactly when that does.
    match (&parsed, &verified) {
        (Err(a), Err(SignatureError::Malformed(b))) => assert_eq!(a, b),
        (Ok(_), Err(SignatureError::BadSignature)) => {}
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        other => panic!("verify_receipt disagrees with Receipt::from_bytes: {other:?}"),
    }
});
