//! What the cache holds, as the rest of the core and the app see it.

use crate::timestamp::Timestamp;
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::DoorId;

/// An account (organisation) the person belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Account {
    /// The backend's organisation id.
    pub org_id: i64,
    /// Its name.
    pub organisation: String,
    /// The person's role there.
    pub role: String,
    /// What access this account gives now: `NoAccessYet` when the invitation came without
    /// a key (show "no access yet").
    pub access: AccountAccess,
    /// Who invited the person, as the administrator signed the invitation.
    pub invited_by: Option<String>,
}

/// What access an account gives now, as its screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum AccountAccess {
    /// No key was ever granted here (an invitation is not access): show "no access yet".
    NoAccessYet,
    /// At least one key is active or starts later.
    HasKeys,
    /// Keys were granted, but every one has ended or was revoked.
    AccessEnded,
    /// Not known yet (the account was cached by an older version): refresh online once.
    NotYetKnown,
}

impl AccountAccess {
    /// The cache's word for it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::NoAccessYet => "no_access_yet",
            Self::HasKeys => "has_keys",
            Self::AccessEnded => "access_ended",
            Self::NotYetKnown => "not_yet_known",
        }
    }

    /// From the cache's word.
    pub(crate) fn from_word(word: &str) -> Self {
        match word {
            "no_access_yet" => Self::NoAccessYet,
            "has_keys" => Self::HasKeys,
            "access_ended" => Self::AccessEnded,
            _ => Self::NotYetKnown,
        }
    }
}

/// The NFC card on the person's record, in the forms a front desk may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Card {
    /// The card's id in hexadecimal (upper case, two digits a byte).
    pub hex: String,
    /// The same id as one decimal number.
    pub decimal: String,
    /// The number printed on the card, if recorded.
    pub surface_id: Option<String>,
}

/// The member's own record, as the profile screen shows it (also offline).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Profile {
    /// The service's id for the person.
    pub person_id: i64,
    /// First name, if known.
    pub first_name: Option<String>,
    /// Last name, if known.
    pub last_name: Option<String>,
    /// Email, if any.
    pub email: Option<String>,
    /// Phone number (E.164), if any.
    pub phone: Option<String>,
    /// The NFC card on the record, if any: read its number to a front desk.
    pub card: Option<Card>,
    /// Every account (organisation), with role, access and who invited the person.
    pub memberships: Vec<Account>,
}

/// A door as the cache keeps it (keys and versions the app never needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorRecord {
    /// The lock's id (what the lock advertises).
    pub lock_id: DoorId,
    /// The backend's id for the door (used in door-sync calls).
    pub backend_id: i64,
    /// Display name.
    pub name: String,
    /// Online doors get changes through the cloud; offline ones through door sync.
    pub online: bool,
    /// The lock's HPKE public key (65 bytes, uncompressed).
    pub lock_public_key: [u8; 65],
    /// The lock's receipt-signing public key (65 bytes, uncompressed).
    pub lock_signing_key: [u8; 65],
    /// The newest bundle version at the backend, as last seen.
    pub bundle_version: u32,
    /// The version the lock last reported.
    pub synced_version: u32,
    /// When the lock last reported, if ever.
    pub synced_at: Option<UnixSeconds>,
}

impl DoorRecord {
    /// Whether an offline door is behind the backend.
    pub fn sync_pending(&self) -> bool {
        !self.online && self.synced_version < self.bundle_version
    }
}

/// A door the person holds (or held) a key for, as its screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Door {
    /// Its id (what the lock advertises); pass it to `unlock` and `syncDoor`.
    pub id: DoorId,
    /// Display name.
    pub name: String,
    /// Online doors get changes through the cloud; offline doors through door sync.
    pub online: bool,
    /// An offline door is behind the service: a door sync would bring it up to date.
    pub sync_pending: bool,
    /// When the lock last reported to this phone, if ever.
    pub synced_at: Option<Timestamp>,
}

impl From<&DoorRecord> for Door {
    fn from(d: &DoorRecord) -> Self {
        Self {
            id: d.lock_id,
            name: d.name.clone(),
            online: d.online,
            sync_pending: d.sync_pending(),
            synced_at: d.synced_at.map(Timestamp),
        }
    }
}

/// A key (a grant of access to some doors) as its holder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Key {
    /// The backend's grant id: the handle for credentials and shares.
    pub grant_id: i64,
    /// The key's id.
    pub key_id: i64,
    /// Display name.
    pub name: String,
    /// The organisation (account) it belongs to.
    pub organisation: String,
    /// The facility.
    pub facility: String,
    /// The doors it opens.
    pub doors: Vec<DoorId>,
    /// When access starts.
    pub starts_at: Timestamp,
    /// When access ends.
    pub expires_at: Timestamp,
    /// The holder may share it with a guest.
    pub shareable: bool,
    /// A guest key someone shared.
    pub guest: bool,
    /// Revoked by an administrator, the sharing member, or a cascade.
    pub revoked: bool,
    /// Why, if revoked (the service's words, e.g. "revoked by the member who shared it").
    pub revoke_reason: Option<String>,
}

/// A credential held for a key (public: useless without the device key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The grant it was issued under.
    pub grant_id: i64,
    /// Its id (hex).
    pub credential_id: String,
    /// Wire bytes.
    pub bytes: Vec<u8>,
    /// Window.
    pub not_before: UnixSeconds,
    /// Window.
    pub not_after: UnixSeconds,
}

/// What a screen shows for one door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum AccessState {
    /// A credential is held and valid now: the door can be opened offline.
    Ready {
        /// When the credential lapses unless renewed.
        until: Timestamp,
    },
    /// Access starts later.
    StartsAt {
        /// When.
        starts_at: Timestamp,
    },
    /// Access has ended.
    Expired {
        /// When.
        expired_at: Timestamp,
    },
    /// Every key for the door was revoked.
    Revoked,
    /// A key exists but no credential is held yet (sign in online once to fetch it).
    AwaitingCredential,
    /// No key for this door (an invitation alone grants none).
    NoAccess,
}
