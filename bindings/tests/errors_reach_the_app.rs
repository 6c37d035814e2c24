//! The public error set, checked from Rust: each failure a person can meet arrives as its
//! own variant with the facts its screen needs, and failures of the app's own platform
//! code (a locked keychain) arrive typed too.
#![allow(clippy::unwrap_used)]

use keyway_core::api::{ApiError, ConfigError};
use keyway_core::ble::UnlockError;
use keyway_core::links::LinkProblem;
use keyway_core::{LockRefusal, Timestamp};
use keyway_ffi::keyway::KeywayConfig;
use keyway_ffi::platform::{
    AdapterState, Advertisement, BleError, BleTransport, SecureStore, SecureStoreError, SignerError,
};
use keyway_ffi::unlock::UnlockPhase;
use keyway_ffi::{Keyway, KeywayError};
use keyway_protocol::Refusal;
use std::sync::Arc;
use std::time::Duration;

fn backend(code: &str, details: serde_json::Value) -> KeywayError {
    let details = details.as_object().cloned().unwrap_or_default();
    KeywayError::from_api(ApiError::Rejected { status: 400, code: code.into(), message: "words".into(), details })
}

#[test]
fn each_backend_refusal_is_its_own_error_with_its_facts() {
    assert_eq!(
        backend("code_wrong", serde_json::json!({ "attempts_left": 3 })),
        KeywayError::CodeWrong { attempts_left: 3 }
    );
    assert_eq!(
        backend("too_many_attempts", serde_json::json!({ "retry_at": 1_800_000_900 })),
        KeywayError::TooManyAttempts { retry_at: Timestamp(1_800_000_900) }
    );
    assert_eq!(
        backend("key_not_yet_valid", serde_json::json!({ "starts_at": 1_800_086_400 })),
        KeywayError::KeyNotYetValid { starts_at: Timestamp(1_800_086_400) }
    );
    let dead = [
        ("invitation_not_found", KeywayError::InvitationNotFound),
        ("invitation_expired", KeywayError::InvitationExpired),
        ("invitation_superseded", KeywayError::InvitationSuperseded),
        ("invitation_cancelled", KeywayError::InvitationCancelled),
        ("invitation_already_used", KeywayError::InvitationAlreadyUsed),
        ("share_not_found", KeywayError::ShareNotFound),
        ("share_revoked", KeywayError::ShareRevoked),
        ("share_expired", KeywayError::ShareExpired),
        ("share_already_redeemed", KeywayError::ShareAlreadyRedeemed),
        ("share_wrong_recipient", KeywayError::ShareWrongRecipient),
        ("refresh_token_reused", KeywayError::SessionEnded),
    ];
    for (code, expected) in dead {
        assert_eq!(backend(code, serde_json::json!({})), expected, "{code}");
    }
    assert_eq!(KeywayError::from_api(ApiError::Offline), KeywayError::Offline);
}

#[test]
fn an_unknown_backend_code_is_internal_and_names_only_the_code() {
    let e = backend("brand_new_code", serde_json::json!({ "token": "secret-token-value" }));
    assert_eq!(e, KeywayError::Internal { detail: "unexpected answer: brand_new_code".into() });
}

#[test]
fn unlock_failures_say_what_to_do_at_the_door() {
    let unlock = KeywayError::from;
    assert_eq!(unlock(UnlockError::BluetoothOff), KeywayError::BluetoothOff);
    assert_eq!(unlock(UnlockError::PermissionMissing), KeywayError::BluetoothPermissionMissing);
    assert_eq!(unlock(UnlockError::DoorNotInRange), KeywayError::DoorNotInRange);
    assert_eq!(unlock(UnlockError::KeyRevoked), KeywayError::KeyRevoked);
    assert_eq!(
        unlock(UnlockError::KeyExpired { expired_at: 1_800_000_000 }),
        KeywayError::KeyExpired { expired_at: Some(Timestamp(1_800_000_000)) }
    );
    assert_eq!(
        unlock(UnlockError::LockRefused { reason: Refusal::UnknownIssuer }),
        KeywayError::LockRefused { reason: LockRefusal::UnknownIssuer }
    );
    assert_eq!(
        unlock(UnlockError::LockRefused { reason: Refusal::BadDeviceSignature }),
        KeywayError::LockRefused { reason: LockRefusal::InvalidKey }
    );
    assert_eq!(
        unlock(UnlockError::Timeout { phase: UnlockPhase::Handshake }),
        KeywayError::LockTimedOut { phase: UnlockPhase::Handshake }
    );
    assert_eq!(
        KeywayError::from(LinkProblem::Incomplete),
        KeywayError::InvalidLink { problem: LinkProblem::Incomplete }
    );
}

#[test]
fn each_signer_failure_is_its_own_app_error() {
    assert_eq!(KeywayError::from(SignerError::Cancelled), KeywayError::AuthenticationCancelled);
    assert_eq!(KeywayError::from(SignerError::Locked), KeywayError::DeviceLocked);
    assert_eq!(KeywayError::from(SignerError::AuthenticationFailed), KeywayError::AuthenticationFailed);
    assert_eq!(KeywayError::from(SignerError::Unavailable), KeywayError::DeviceKeyUnavailable);
    assert_eq!(
        KeywayError::from(UnlockError::Signer(SignerError::Locked)),
        KeywayError::DeviceLocked,
        "a locked phone met during the handshake says so too"
    );
}

/// A keychain that is always locked (a phone not unlocked since boot).
struct LockedKeychain;
impl SecureStore for LockedKeychain {
    fn get(&self, _: String) -> Result<Option<Vec<u8>>, SecureStoreError> {
        Err(SecureStoreError::Locked)
    }
    fn set(&self, _: String, _: Vec<u8>) -> Result<(), SecureStoreError> {
        Err(SecureStoreError::Locked)
    }
    fn delete(&self, _: String) -> Result<(), SecureStoreError> {
        Err(SecureStoreError::Locked)
    }
}

/// A radio with Bluetooth switched off.
struct RadioOff;
#[async_trait::async_trait]
impl BleTransport for RadioOff {
    async fn adapter_state(&self) -> AdapterState {
        AdapterState::PoweredOff
    }
    async fn start_scan(&self, _: String) -> Result<(), BleError> {
        Err(BleError::PoweredOff)
    }
    async fn next_advertisement(&self, _: Duration) -> Result<Advertisement, BleError> {
        Err(BleError::PoweredOff)
    }
    async fn stop_scan(&self) {}
    async fn connect(&self, _: String, _: Duration) -> Result<u16, BleError> {
        Err(BleError::PoweredOff)
    }
    async fn write(&self, _: String, _: Vec<u8>, _: bool) -> Result<(), BleError> {
        Err(BleError::PoweredOff)
    }
    async fn next_notification(&self, _: String, _: Duration) -> Result<Vec<u8>, BleError> {
        Err(BleError::PoweredOff)
    }
    async fn disconnect(&self, _: String) {}
}

fn config() -> KeywayConfig {
    KeywayConfig {
        backend_url: "https://127.0.0.1:9/".into(),
        link_hosts: vec!["keyway.test".into()],
        cache_path: None,
        unlock_timeouts: None,
        http_timeout: Some(Duration::from_secs(1)),
        extra_trusted_roots: Vec::new(),
        allow_plain_http_to_loopback: false,
    }
}

#[test]
fn an_http_service_url_is_refused_as_a_configuration_error() {
    let plain_http = KeywayConfig { backend_url: "http://127.0.0.1:9/".into(), ..config() };
    let refused = Keyway::new(plain_http, Arc::new(RadioOff), Arc::new(LockedKeychain), None).err();
    assert!(
        matches!(&refused, Some(KeywayError::InvalidConfiguration { problem: ConfigError::BackendNotHttps })),
        "{refused:?}"
    );
}

#[test]
fn a_refused_certificate_reaches_the_app_as_insecure_not_offline() {
    let refused = KeywayError::from_api(ApiError::Insecure);
    assert_eq!(refused, KeywayError::InsecureConnection);
    assert_ne!(refused, KeywayError::from_api(ApiError::Offline));
}

#[test]
fn a_locked_keychain_at_start_is_its_own_error() {
    let opened = Keyway::new(config(), Arc::new(RadioOff), Arc::new(LockedKeychain), None);
    assert_eq!(opened.err(), Some(KeywayError::SecureStoreLocked));
}
