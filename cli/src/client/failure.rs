//! Errors as the desktop client shows them: one line in plain words, what to do next,
//! a stable `kind` for `--json`, and a documented exit code.

use super::home::HomeError;
use keyway_core::{Error, Timestamp};
use serde_json::{Value, json};

/// The client's exit codes (also in `keyway --help` and docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// It did what it says.
    Ok = 0,
    /// Something unexpected failed on this computer (files, the key store).
    Failed = 1,
    /// The command line or what was typed is not valid (bad link, address, code format).
    Usage = 2,
    /// Sign in first, or again.
    SignIn = 3,
    /// The service could not be reached or failed.
    Service = 4,
    /// Refused: wrong code, dead invitation or share, no valid key, the lock said no.
    Refused = 5,
    /// Bluetooth: off, not permitted, the door not in range or the link lost.
    Bluetooth = 6,
}

/// A failure ready to print.
#[derive(Debug)]
pub struct Failure {
    /// For scripts: a stable, snake_case name.
    pub kind: &'static str,
    /// What happened, in one line.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
    /// The exit code.
    pub exit: Exit,
}

impl Failure {
    /// A failure with a hint.
    pub fn new(kind: &'static str, exit: Exit, message: impl Into<String>, hint: Option<&str>) -> Self {
        Self { kind, message: message.into(), hint: hint.map(str::to_owned), exit }
    }

    /// A mistake on the command line.
    pub fn usage(message: impl Into<String>, hint: &str) -> Self {
        Self::new("usage", Exit::Usage, message, Some(hint))
    }

    /// The JSON form for `--json`.
    pub fn to_json(&self) -> Value {
        json!({ "error": { "kind": self.kind, "message": self.message, "hint": self.hint, "exit_code": self.exit as u8 } })
    }
}

/// A moment as a person reads it (UTC, to the second).
pub fn when(t: impl Into<Timestamp>) -> String {
    humantime::format_rfc3339_seconds(t.into().to_system_time()).to_string().replace('T', " ").replace('Z', " UTC")
}

impl From<HomeError> for Failure {
    fn from(e: HomeError) -> Self {
        Self::new("local_files", Exit::Failed, e.to_string(), Some("check the folder given by --home"))
    }
}

/// The core's error as the client prints it: the core's own sentence (the same one the
/// apps show), and for the terminal a stable kind, an exit code and what to type next.
impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        use Exit::*;
        let message = e.to_string();
        let (kind, exit, hint): (&'static str, Exit, Option<String>) = match &e {
            Error::NotSignedIn => {
                ("not_signed_in", SignIn, Some("sign in with `keyway login <email or phone>`".into()))
            }
            Error::SessionEnded => ("session_ended", SignIn, Some("sign in again with `keyway login`".into())),
            Error::Offline => (
                "offline",
                Service,
                Some("check the backend address (--backend) and your connection; doors still open offline".into()),
            ),
            Error::ServiceUnavailable => ("service_unavailable", Service, Some("try again in a few minutes".into())),
            Error::InsecureConnection => (
                "insecure_connection",
                Service,
                Some("the backend's certificate was refused; for a private CA pass --ca-file ca.pem".into()),
            ),
            Error::InvalidConfiguration { .. } => {
                ("invalid_backend", Usage, Some("use https://host[:port]/ and a PEM file for --ca-file".into()))
            }
            Error::InvalidAddress { .. } => {
                ("invalid_address", Usage, Some("give an email, or a phone number with +country code".into()))
            }
            Error::CodeMalformed => ("code_malformed", Usage, Some("type the 6 digits from the message".into())),
            Error::CodeWrong { attempts_left } => {
                ("code_wrong", Refused, Some(format!("check the message and try again ({attempts_left} left)")))
            }
            Error::CodeExpired => ("code_expired", Refused, Some("run the command again for a new code".into())),
            Error::TooManyAttempts { retry_at } => {
                ("too_many_attempts", Refused, Some(format!("try again after {}", when(*retry_at))))
            }
            Error::ResendTooSoon { retry_at } => {
                ("resend_too_soon", Refused, Some(format!("wait until {}", when(*retry_at))))
            }
            Error::InvalidLink { .. } => {
                ("invalid_link", Usage, Some("copy the whole link from the email or message".into()))
            }
            Error::InvitationNotFound => ("invitation_not_found", Refused, None),
            Error::InvitationExpired => ("invitation_expired", Refused, None),
            Error::InvitationSuperseded => ("invitation_superseded", Refused, None),
            Error::InvitationCancelled => ("invitation_cancelled", Refused, None),
            Error::InvitationAlreadyUsed => ("invitation_already_used", Refused, Some("run `keyway login`".into())),
            Error::InvalidName { .. } => {
                ("invalid_name", Usage, Some("give a first and last name of 1 to 100 characters".into()))
            }
            Error::PushNotUnderstood => ("push_not_understood", Usage, None),
            Error::KeyNotShareable => ("key_not_shareable", Refused, None),
            Error::KeyRevoked => ("key_revoked", Refused, None),
            Error::AccessSuspended => {
                ("access_suspended", Refused, Some("ask your administrator to turn your access back on".into()))
            }
            Error::KeyExpired { .. } => ("key_expired", Refused, None),
            Error::KeyNotYetValid { starts_at } => {
                ("key_not_yet_valid", Refused, Some(format!("it starts {}", when(*starts_at))))
            }
            Error::ShareNotFound => {
                ("share_not_found", Refused, Some("check the link, or the id in `keyway shares`".into()))
            }
            Error::ShareRevoked => ("share_revoked", Refused, None),
            Error::ShareExpired => ("share_expired", Refused, Some("ask for a new link".into())),
            Error::ShareAlreadyRedeemed => ("share_already_redeemed", Refused, None),
            Error::ShareWrongRecipient => {
                ("share_wrong_recipient", Refused, Some("sign in with the email or phone the link was sent to".into()))
            }
            Error::CredentialMissing => {
                ("credential_missing", Refused, Some("run `keyway keys` once while online".into()))
            }
            Error::NoKeyForDoor => {
                ("no_key_for_door", Refused, Some("`keyway keys` lists the doors you can open".into()))
            }
            Error::UnknownDoor => ("unknown_door", Usage, Some("`keyway keys` lists your doors".into())),
            Error::NoDoorcode => ("no_doorcode", Refused, Some("ask your administrator to enable a doorcode".into())),
            Error::DoorOnline => ("door_online", Refused, None),
            Error::DoorUpToDate => ("door_up_to_date", Refused, None),
            Error::BluetoothOff => ("bluetooth_off", Bluetooth, Some("switch Bluetooth on".into())),
            Error::BluetoothPermissionMissing => (
                "bluetooth_permission",
                Bluetooth,
                Some("allow this user to use Bluetooth (BlueZ D-Bus policy)".into()),
            ),
            Error::LocationServicesOff => {
                ("location_services_off", Bluetooth, Some("switch location services on".into()))
            }
            Error::BluetoothUnavailable => {
                ("bluetooth_unavailable", Bluetooth, Some("this computer needs a Bluetooth LE adapter".into()))
            }
            Error::DoorNotInRange => {
                ("door_not_in_range", Bluetooth, Some("move closer to the door and try again".into()))
            }
            Error::LockRefused { .. } => ("lock_refused", Refused, None),
            Error::LockTimedOut { .. } => ("timeout", Bluetooth, Some("move closer to the door and try again".into())),
            Error::ConnectionLost { .. } => ("connection_lost", Bluetooth, Some("try again".into())),
            Error::LockClockWrong { .. } => (
                "lock_clock_wrong",
                Refused,
                Some("the door's clock is wrong; connect to the internet and try again to repair it".into()),
            ),
            Error::UntrustedLock => {
                ("untrusted_lock", Refused, Some("this lock is not the door on record; tell your administrator".into()))
            }
            Error::BluetoothFailed { .. } => ("bluetooth_error", Bluetooth, Some("try again".into())),
            Error::Cancelled => ("cancelled", Failed, None),
            Error::DeviceKeyUnavailable
            | Error::AuthenticationCancelled
            | Error::AuthenticationFailed
            | Error::DeviceLocked => {
                ("device_key", Failed, Some("sign out and in again to make a new device key".into()))
            }
            Error::SecureStoreLocked => (
                "secure_store",
                Failed,
                Some("check the keyring service, or the secrets folder in the --home folder".into()),
            ),
            // The sentence stays general; the detail is what support needs, so the terminal shows it.
            Error::Internal { detail } => {
                ("internal", Failed, Some(format!("{detail}; check --home and --backend, or update keyway")))
            }
        };
        Self { kind, message, hint, exit }
    }
}
