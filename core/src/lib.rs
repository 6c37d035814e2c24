//! keyway-core: the member's engine behind the iOS and Android apps.
//!
//! An app holds one [`Keyway`] and calls its journeys:
//! - sign in with a one-time code ([`Keyway::start_sign_in`] → [`SignInFlow`]);
//! - invitations ([`Keyway::parse_link`], [`Keyway::preview_invitation`],
//!   [`Keyway::accept_invitation`]);
//! - keys, offline-first ([`Keyway::refresh`], [`Keyway::keys`], [`Keyway::access_state`]);
//! - doors ([`Keyway::unlock`], [`Keyway::sync_door`]);
//! - guests ([`Keyway::share_key`], [`Keyway::shares`], [`Keyway::revoke_share`],
//!   [`Keyway::preview_share`], [`Keyway::redeem_share`]);
//! - daily doorcodes for keypads ([`Keyway::doorcodes`], [`Keyway::doorcode`]);
//! - the member's own record ([`Keyway::profile`], [`Keyway::update_name`],
//!   [`Keyway::delete_account`]);
//! - push ([`Keyway::register_push_token`], [`Keyway::handle_push`]);
//! - listeners ([`Keyway::subscribe_session`], [`Keyway::subscribe_keys`],
//!   [`Keyway::subscribe_door_sync`]);
//! - readiness: can this phone open a door now ([`Keyway::readiness`],
//!   [`Keyway::subscribe_readiness`], [`Keyway::platform_changed`]).
//!
//! The platform plugs in through the ports in [`platform`]: [`platform::BleTransport`]
//! (the radio), [`platform::SecureStore`] (where every secret lives),
//! [`platform::DeviceSigner`] (the device key, possibly in the Secure Enclave or
//! StrongBox) and [`platform::Clock`].
#![cfg_attr(not(feature = "uniffi"), forbid(unsafe_code))]

mod account_deletion;
pub mod address;
pub mod api;
mod auth;
pub mod ble;
pub mod cache;
mod crash;
mod doorcodes;
mod doors;
pub mod error;
#[cfg(feature = "uniffi")]
mod ffi;
#[doc(hidden)]
pub mod fuzzing;
mod guests;
mod invitations;
mod keyway;
pub mod links;
pub mod listeners;
mod lock_clock;
pub mod operation;
pub mod platform;
mod profile;
mod push;
mod readiness;
mod refresh;
mod share_list;
mod share_preview;
mod signin;
pub mod timestamp;

pub use doorcodes::Doorcode;
pub use doors::{DoorSyncOutcome, UnlockOutcome};
pub use error::{Error, KeywayError, LockRefusal, Result};
pub use guests::Share;
pub use invitations::{InvitationKey, InvitationPreview, invitation_is_dead};
pub use keyway::{Config, Keyway, Platform};
pub use profile::{NAME_MAX_CHARS, NameProblem, PersonName};
pub use push::{PUSH_REFRESH_BUDGET, PushOutcome, PushPlatform};
pub use readiness::{DoorReadiness, Readiness};
pub use refresh::RefreshSummary;
pub use share_list::{ShareRecord, ShareStatus, SharedDoor};
pub use share_preview::{SharedKeyPreview, share_is_dead};
pub use signin::{CodeChannel, CodeSent, SignInFlow};
pub use timestamp::Timestamp;

// The uniffi component of the core's public types (its tag, its metadata); see `ffi`.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("keyway_core");
