//! `/v1/admin/…`: what an operator sends and gets back — organisations, sites,
//! facilities, doors, keys, people, grants, invitations and the development outbox.

use serde::{Deserialize, Serialize};

use crate::auth::Channel;

/// A name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NameRequest {
    /// Display name.
    pub name: String,
}

/// A new site.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SiteRequest {
    /// Display name.
    pub name: String,
    /// Credential life in seconds (default 72 h).
    pub credential_ttl_secs: Option<i64>,
}

/// The created site.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteCreated {
    /// Site id.
    pub id: i64,
    /// The site's issuer public key (65 bytes, base64url): locks trust it.
    pub issuer_public_key: String,
}

/// A new door.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DoorRequest {
    /// Display name.
    pub name: String,
    /// The lock's id: 16 hex digits.
    pub lock_id: String,
    /// The lock's P-256 public key: 65-byte uncompressed SEC1, base64url.
    pub lock_public_key: String,
    /// The lock's receipt-signing P-256 public key: 65-byte uncompressed SEC1, base64url.
    pub lock_signing_public_key: String,
    /// Whether the door is connected to the internet.
    pub online: bool,
}

/// A new key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    /// Display name.
    pub name: String,
    /// Doors it holds (in this facility).
    pub door_ids: Vec<i64>,
}

/// Change a key: its name, or the doors it holds (all in the key's facility). A door
/// taken out is refused to the key's holders (and their guests) at its next door sync; a
/// door added reaches holders at their next refresh.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyChange {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The doors the key holds from now on (replaces the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door_ids: Option<Vec<i64>>,
}

/// Revoke access, optionally with words for the holder (shown on their key screen).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Up to 200 characters for the holder, e.g. "Your lease ended on 30 June".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Turn a person's access in an organisation on or off (the "Access enabled" switch).
/// Off suspends every key they hold there without revoking it; on restores them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// Whether the person's keys work.
    pub enabled: bool,
    /// Up to 200 characters for the person when turning access off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Lift the sign-in freeze on an email address or phone number.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnfreezeRequest {
    /// The email address or phone number (any usual spelling) whose sign-in is frozen.
    pub identifier: String,
}

/// Add a person without an invitation (e.g. a phone-only member).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PersonRequest {
    /// Email address.
    pub email: Option<String>,
    /// Phone number, international format.
    pub phone: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// First name (with `last_name`, enough for a card-only person without email or phone).
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// An NFC card for the person's record.
    #[serde(default)]
    pub card: Option<crate::CardRequest>,
    /// Role in the organisation (default `member`).
    pub role: Option<String>,
}

/// The person and their membership.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonAdded {
    /// Person id.
    pub person_id: i64,
    /// Membership id.
    pub membership_id: i64,
}

/// One person as an administrator sees them in an organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonSummary {
    /// Person id.
    pub person_id: i64,
    /// Membership id.
    pub membership_id: i64,
    /// Email, if any.
    pub email: Option<String>,
    /// E.164 phone, if any.
    pub phone: Option<String>,
    /// Display name, if any.
    pub name: Option<String>,
    /// Role in this organisation.
    pub role: String,
    /// `not_invited`, `invited`, `send_failed`, `accepted` or `expired`.
    pub invitation_status: String,
    /// Unix seconds of the last invitation sent.
    pub invited_at: Option<i64>,
    /// `active` once the person has signed in to the app, else `none`.
    pub app_adoption: String,
    /// The latest invitation (for resend and cancel), if one was ever sent.
    pub invitation_id: Option<i64>,
    /// Whether any key grant here is active right now.
    pub has_access: bool,
}

/// How many grants were revoked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revoked {
    /// Count of the person's own grants revoked (guest keys revoked with them are not counted).
    pub revoked: usize,
}

/// What an administrator grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantSpec {
    /// The key to grant.
    pub key_id: i64,
    /// Unix seconds when access starts (default: now).
    pub starts_at: Option<i64>,
    /// Unix seconds when access ends.
    pub expires_at: i64,
    /// Whether the person may share the key with guests.
    #[serde(default)]
    pub shareable: bool,
}

/// What an administrator changes on a grant; absent fields keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantChange {
    /// New start, unix seconds.
    pub starts_at: Option<i64>,
    /// New expiry, unix seconds.
    pub expires_at: Option<i64>,
    /// Whether the person may share the key from now on.
    pub shareable: Option<bool>,
}

/// Invite a person by email.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Facility the invitation names.
    pub facility_id: i64,
    /// The invitee's email (an invitation is an email only).
    pub email: String,
    /// Role to assign (default `member`).
    pub role: Option<String>,
    /// Unix seconds when access starts (default now); shown in the preview.
    pub access_start: Option<i64>,
    /// Keys to grant along with the invitation (none: the invitation gives no access yet).
    #[serde(default)]
    pub keys: Vec<GrantSpec>,
    /// An existing person to invite (e.g. one created card-only, without email): the email
    /// is added to their record.
    #[serde(default)]
    pub person_id: Option<i64>,
    /// First name, shown to the invitee (else they enter it when accepting).
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Who sends the invitation, as the invitee will see it ("invited by").
    #[serde(default)]
    pub invited_by: Option<String>,
}

/// An invitation as the administrator sees it after sending.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationSent {
    /// Invitation id (for resend and cancel).
    pub invitation_id: i64,
    /// The invited person.
    pub person_id: i64,
    /// Their membership.
    pub membership_id: i64,
    /// `invited` (sent, or queued for a real sender: a later failure turns the person's
    /// status to `send_failed`) or `send_failed` (it failed at once).
    pub status: String,
    /// Unix seconds when the link stops working.
    pub expires_at: i64,
}

/// One invitation as the administrator's pending-invitations list shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationView {
    /// Invitation id (for resend and cancel).
    pub invitation_id: i64,
    /// The invited person.
    pub person_id: i64,
    /// Invited address.
    pub email: String,
    /// Role.
    pub role: String,
    /// Facility id.
    pub facility_id: i64,
    /// Unix seconds when it was sent.
    pub sent_at: i64,
    /// Unix seconds when the link stops working.
    pub expires_at: i64,
    /// `pending`, `expired`, `accepted` or `cancelled` (superseded links are not listed).
    pub state: String,
    /// How its email fared: `queued`, `sent` or `failed` ("Send failed"); absent if none was sent.
    #[serde(default)]
    pub delivery: Option<String>,
    /// Why the email failed, in a few words, while queued for a retry or once given up.
    #[serde(default)]
    pub delivery_failure: Option<String>,
}

/// One message as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxMessage {
    /// Sequence number, increasing.
    pub id: u64,
    /// Email or SMS.
    pub channel: Channel,
    /// Normalised recipient address or phone number.
    pub to: String,
    /// What the message is: `sign_in_code`, `invitation`, `share`.
    pub kind: String,
    /// Subject line (emails); empty for SMS.
    pub subject: String,
    /// The text, with the code or link in it.
    pub body: String,
    /// The one-time code in the message, if any (for tests and the demo).
    pub code: Option<String>,
    /// The link in the message, if any.
    pub link: Option<String>,
    /// Unix seconds when the service sent it to the outbox.
    pub sent_at: i64,
    /// Whether delivery succeeded.
    pub delivered: bool,
    /// `queued` (waiting for its next attempt), `sent` or `failed` (given up: "Send failed").
    #[serde(default)]
    pub state: String,
    /// Delivery attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// The last failure in a few words (never any part of the message).
    #[serde(default)]
    pub failure: Option<String>,
    /// Unix seconds when the mail server or SMS provider took it.
    #[serde(default)]
    pub delivered_at: Option<i64>,
}
