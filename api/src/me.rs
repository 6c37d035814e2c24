//! `/v1/me…` and `/v1/credentials`: the signed-in person, their keys and credentials.

use serde::{Deserialize, Serialize};

use crate::doors::DoorView;

/// A membership in one organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipView {
    /// Organisation id.
    pub org_id: i64,
    /// Organisation name.
    pub organisation: String,
    /// Role there.
    pub role: String,
    /// Who invited the person here, as the administrator signed the invitation.
    #[serde(default)]
    pub invited_by: Option<String>,
    /// What access this membership gives now ("no access yet" when no key was granted).
    pub access: crate::MembershipAccess,
}

/// The signed-in person.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    /// Person id.
    pub person_id: i64,
    /// Email, if any.
    pub email: Option<String>,
    /// Phone, if any.
    pub phone: Option<String>,
    /// Display name, if any.
    pub name: Option<String>,
    /// First name, if known.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name, if known.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The NFC card on the person's record, if any.
    #[serde(default)]
    pub card: Option<crate::CardView>,
    /// Accounts this person belongs to.
    pub memberships: Vec<MembershipView>,
}

/// The person's keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeysResponse {
    /// Pass as `since` next time to get only changes.
    pub cursor: i64,
    /// Keys (all of them, or those changed since the cursor, revoked ones included).
    pub keys: Vec<KeyView>,
    /// Grant ids revoked since the cursor (only with `since`).
    pub revoked_grant_ids: Vec<i64>,
}

/// One key as its holder sees it (`GET /v1/me/keys`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyView {
    /// Grant id: the handle for credentials and shares.
    pub grant_id: i64,
    /// Key id.
    pub key_id: i64,
    /// Key name.
    pub name: String,
    /// Organisation name.
    pub organisation: String,
    /// Facility name.
    pub facility: String,
    /// Doors this key opens, with each lock's id and public key.
    pub doors: Vec<DoorView>,
    /// Unix seconds when access starts.
    pub starts_at: i64,
    /// Unix seconds when access ends.
    pub expires_at: i64,
    /// Whether the holder may share it.
    pub shareable: bool,
    /// Whether this is a guest key someone shared.
    pub guest: bool,
    /// State right now.
    pub access_state: AccessState,
    /// Why it was revoked, if it was.
    pub revoke_reason: Option<RevokeReason>,
    /// The administrator's words to the holder when revoking or suspending, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why a key was revoked: each cause reads differently on a key screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    /// An administrator revoked this key (or all of the person's keys).
    RevokedByAdmin,
    /// The member who shared this guest key revoked the share.
    RevokedBySharer,
    /// The member who shared this guest key lost their own key.
    SharerRevoked,
    /// The member's key was changed so that this guest key's window no longer fits in it.
    SharerKeyChanged,
    /// The administrator deleted the key itself.
    KeyDeleted,
    /// The person was removed from the organisation.
    PersonDeleted,
    /// The invitation the key came with was cancelled.
    InvitationCancelled,
    /// A cause this build does not know yet (a newer service).
    #[serde(other)]
    Other,
}

impl RevokeReason {
    /// The word stored and sent for this cause.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RevokedByAdmin => "revoked_by_admin",
            Self::RevokedBySharer => "revoked_by_sharer",
            Self::SharerRevoked => "sharer_revoked",
            Self::SharerKeyChanged => "sharer_key_changed",
            Self::KeyDeleted => "key_deleted",
            Self::PersonDeleted => "person_deleted",
            Self::InvitationCancelled => "invitation_cancelled",
            Self::Other => "other",
        }
    }

    /// The cause for a stored word (unknown words are [`RevokeReason::Other`]).
    pub fn from_word(word: &str) -> Self {
        [
            Self::RevokedByAdmin,
            Self::RevokedBySharer,
            Self::SharerRevoked,
            Self::SharerKeyChanged,
            Self::KeyDeleted,
            Self::PersonDeleted,
            Self::InvitationCancelled,
        ]
        .into_iter()
        .find(|r| r.as_str() == word)
        .unwrap_or(Self::Other)
    }
}

/// Where a key stands for its holder right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    /// Works now.
    Active,
    /// Starts at `starts_at`.
    NotYetValid,
    /// Ended at `expires_at`.
    Expired,
    /// Revoked by an administrator, the sharing member, or a cascade.
    Revoked,
    /// An administrator turned the person's access off for now (the key stays; turning
    /// access back on restores it without a new invitation). For a guest key: the member
    /// who shared it is suspended.
    Suspended,
}

/// Ask for credentials.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CredentialsRequest {
    /// One grant; absent means every usable grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<i64>,
}

/// Credentials issued for this device.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialsResponse {
    /// One per usable grant (or the one asked for).
    pub credentials: Vec<IssuedCredential>,
}

/// A signed credential for the app to store and present at locks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedCredential {
    /// The grant it was issued under.
    pub grant_id: i64,
    /// Credential id, 32 hex digits.
    pub credential_id: String,
    /// The credential bytes, base64url.
    pub credential: String,
    /// Unix seconds when it starts to work.
    pub not_before: i64,
    /// Unix seconds when it stops working; renew before then.
    pub not_after: i64,
    /// Lock ids (hex) of the doors it opens.
    pub lock_ids: Vec<String>,
    /// For guest keys: the sharing member's credential id (hex).
    pub parent_credential_id: Option<String>,
    /// Issuer public key of the site (65 bytes, base64url).
    pub issuer_public_key: String,
}
