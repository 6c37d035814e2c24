//! Both forms of an ECDSA signature, (r, s) and (r, n − s), are valid, and every verifier
//! in Keyway accepts both (§4). Hardware keystores (Secure Enclave, StrongBox) do not
//! normalise `s`, so about half of real device signatures are "high-S"; a lock that
//! refused them would refuse half of real unlocks.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_protocol::Command;
use keyway_protocol::issuer::{verify_bundle, verify_credential, verify_receipt};
use keyway_protocol::lock_role::{LockEvent, LockSession, sign_receipt};
use keyway_protocol::phone::StandardUnlock;
use keyway_protocol::receipt::ReceiptBody;

/// `signature` in the requested form: high-S (s > n/2) or low-S.
fn in_form(signature: [u8; 64], high: bool) -> [u8; 64] {
    if is_high_s(&signature) == high { signature } else { flip_s(&signature) }
}

fn unlock_with_device_signature_form(high: bool) -> Option<LockEvent> {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let unlock = StandardUnlock::begin(
        &lock.target(),
        &credential.to_bytes(),
        Command::Unlock,
        true,
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    let signature = in_form(phone.sign(&unlock.signing_message()), high);
    let (_, request) = unlock.finish(&signature);
    lock.deliver(&request).event
}

#[test]
fn lock_accepts_a_high_s_device_signature_as_hardware_keystores_make_them() {
    assert!(matches!(unlock_with_device_signature_form(true), Some(LockEvent::Granted { .. })));
}

#[test]
fn lock_accepts_a_low_s_device_signature() {
    assert!(matches!(unlock_with_device_signature_form(false), Some(LockEvent::Granted { .. })));
}

#[test]
fn lock_and_backend_accept_high_s_issuer_signatures_on_credentials_and_bundles() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut credential = credential_for(&issuer, &phone, &[DOOR], 1);
    credential.signature = in_form(credential.signature, true);
    verify_credential(issuer.public_key(), &credential).unwrap();

    let mut lock = MemoryLock::new(DOOR, &issuer);
    let (awaiting, request) = phone.standard_request(&lock.target(), &credential, Command::SyncOnly);
    let mut session = LockSession::new();
    let out = lock.deliver_on(&mut session, &request);
    assert!(matches!(out.event, Some(LockEvent::Granted { .. })), "{:?}", out.event);

    let mut b = bundle(&issuer, DOOR, 0, 1, &[]);
    b.signature = in_form(b.signature, true);
    verify_bundle(issuer.public_key(), &b).unwrap();
    let (_, mut channel) = awaiting.on_response(&out.reply.unwrap()).unwrap();
    let out = lock.deliver_on(&mut session, &channel.deliver_bundle(&b.to_bytes()).unwrap());
    assert_eq!(out.event, Some(LockEvent::BundleApplied { version: 1 }));
}

#[test]
fn lock_receipt_signatures_are_not_low_s_normalised_and_verify_in_either_form() {
    let issuer = issuer();
    let lock = MemoryLock::new(DOOR, &issuer);
    let body = |clock: u32| ReceiptBody {
        door: DOOR,
        bundle_version: 1,
        lock_clock: clock,
        more_pending: false,
        events: vec![],
    };
    // RFC 6979 output as it comes: about half the receipts carry a high-S signature.
    let receipts: Vec<_> = (0..16).map(|i| sign_receipt(body(NOW + i), &lock.signing)).collect();
    assert!(receipts.iter().any(|r| is_high_s(&r.signature)), "the lock does not normalise s");
    assert!(receipts.iter().any(|r| !is_high_s(&r.signature)));
    for receipt in receipts {
        for high in [false, true] {
            let mut other = receipt.clone();
            other.signature = in_form(receipt.signature, high);
            verify_receipt(&lock.signing_public_key(), &other.to_bytes()).unwrap();
        }
    }
}
