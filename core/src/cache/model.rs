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
    /// An administrator turned this person's access off here: show "access suspended"
    /// (not "revoked"); the keys come back when it is turned on again.
    Suspended,
    /// Not known yet (the account was cached by an older version): refresh online once.
    NotYetKnown,
}

impl AccountAccess {
    /// Its word in the cache and in JSON (`no_access_yet`, `has_keys`, `access_ended`,
    /// `suspended`, `not_yet_known`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoAccessYet => "no_access_yet",
            Self::HasKeys => "has_keys",
            Self::AccessEnded => "access_ended",
            Self::Suspended => "suspended",
            Self::NotYetKnown => "not_yet_known",
        }
    }

    /// From the cache's word.
    pub(crate) fn from_word(word: &str) -> Self {
        match word {
            "no_access_yet" => Self::NoAccessYet,
            "has_keys" => Self::HasKeys,
            "access_ended" => Self::AccessEnded,
            "suspended" => Self::Suspended,
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
    /// Whether it works at all: active (its window decides when), suspended or revoked.
    pub status: KeyStatus,
}

impl Key {
    /// Neither suspended nor revoked (its window still decides when it opens doors).
    pub fn is_active(&self) -> bool {
        self.status == KeyStatus::Active
    }

    /// Revoked for good.
    pub fn is_revoked(&self) -> bool {
        matches!(self.status, KeyStatus::Revoked { .. })
    }
}

/// Whether a key works at all, as its holder's key screen shows it. Its window (starts,
/// expires) is separate: an active key may not have started yet or may have ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum KeyStatus {
    /// Issued and not withdrawn.
    Active,
    /// An administrator turned access off for now ("access suspended"; for a guest key, the
    /// access of the member who shared it). The key comes back, with no new invitation,
    /// when access is turned on again and the app refreshes.
    Suspended {
        /// The administrator's words, if any.
        message: Option<String>,
    },
    /// Revoked for good.
    Revoked {
        /// Why.
        reason: RevokeReason,
        /// The administrator's words, if any (e.g. "Your lease ended on 30 June").
        message: Option<String>,
    },
}

/// Why a key was revoked: each reads differently on a key screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum RevokeReason {
    /// An administrator revoked it.
    ByAdministrator,
    /// The member who shared this guest key took it back.
    BySharer,
    /// The member who shared this guest key lost their own key.
    SharerLostAccess,
    /// The member's own key changed so that this guest key no longer fits in it.
    SharerKeyChanged,
    /// The administrator deleted the key itself.
    KeyDeleted,
    /// The person was removed from the organisation.
    RemovedFromOrganisation,
    /// The invitation it came with was cancelled.
    InvitationCancelled,
    /// A reason this version of the app does not know.
    Other,
}

impl RevokeReason {
    /// The reason for the service's word (an unknown word is [`RevokeReason::Other`]).
    pub fn from_word(word: &str) -> Self {
        keyway_api::RevokeReason::from_word(word).into()
    }

    /// The service's word for the reason (the words live in keyway-api, the contract).
    pub fn word(self) -> &'static str {
        let wire = match self {
            Self::ByAdministrator => keyway_api::RevokeReason::RevokedByAdmin,
            Self::BySharer => keyway_api::RevokeReason::RevokedBySharer,
            Self::SharerLostAccess => keyway_api::RevokeReason::SharerRevoked,
            Self::SharerKeyChanged => keyway_api::RevokeReason::SharerKeyChanged,
            Self::KeyDeleted => keyway_api::RevokeReason::KeyDeleted,
            Self::RemovedFromOrganisation => keyway_api::RevokeReason::PersonDeleted,
            Self::InvitationCancelled => keyway_api::RevokeReason::InvitationCancelled,
            Self::Other => keyway_api::RevokeReason::Other,
        };
        wire.as_str()
    }
}

impl From<keyway_api::RevokeReason> for RevokeReason {
    fn from(wire: keyway_api::RevokeReason) -> Self {
        use keyway_api::RevokeReason as W;
        match wire {
            W::RevokedByAdmin => Self::ByAdministrator,
            W::RevokedBySharer => Self::BySharer,
            W::SharerRevoked => Self::SharerLostAccess,
            W::SharerKeyChanged => Self::SharerKeyChanged,
            W::KeyDeleted => Self::KeyDeleted,
            W::PersonDeleted => Self::RemovedFromOrganisation,
            W::InvitationCancelled => Self::InvitationCancelled,
            W::Other => Self::Other,
        }
    }
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
    /// Access to the door is suspended by an administrator (no key for it is active, and
    /// at least one is suspended, not revoked).
    Suspended,
    /// A key exists but no credential is held yet (sign in online once to fetch it).
    AwaitingCredential,
    /// No key for this door (an invitation alone grants none).
    NoAccess,
}
