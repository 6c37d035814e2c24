//! Doors as the app and the operator see them, and door sync: pending doors, signed
//! bundles, lock receipts, the audit events they carry, and a door's configuration.

use serde::{Deserialize, Serialize};

/// A door as the app and the admin see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoorView {
    /// Door id.
    pub id: i64,
    /// Facility id.
    pub facility_id: i64,
    /// Display name.
    pub name: String,
    /// Lock id, 16 hex digits.
    pub lock_id: String,
    /// Lock's P-256 public key, 65-byte uncompressed, base64url.
    pub lock_public_key: String,
    /// Lock's receipt-signing P-256 public key, 65-byte uncompressed, base64url.
    pub lock_signing_public_key: String,
    /// The door's lock is connected to the backend through its online link right now: it
    /// gets every change within seconds and phones carry nothing to it. When false (a lock
    /// without internet, or one whose link is down), phones carry its bundles.
    pub online: bool,
    /// The door was fitted as internet-connected (`online` when it was created): its lock
    /// is expected to keep an online link.
    #[serde(default)]
    pub internet: bool,
    /// When the backend last heard from the lock's online link, unix seconds (never: absent).
    #[serde(default)]
    pub link_seen_at: Option<i64>,
    /// Current bundle version at the backend.
    pub bundle_version: i64,
    /// Version the lock last reported (0 = never synced).
    pub synced_version: i64,
    /// Unix seconds of the last receipt.
    pub synced_at: Option<i64>,
    /// Whether the door needs a phone to carry a sync (its lock is behind and not online).
    pub sync_pending: bool,
}

/// Doors needing a sync.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingDoors {
    /// Offline doors whose lock is behind.
    pub doors: Vec<DoorView>,
}

/// A signed bundle for one door.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedBundle {
    /// Door id.
    pub door_id: i64,
    /// Lock id, hex.
    pub lock_id: String,
    /// The bundle's version.
    pub version: i64,
    /// The version its revocation list is a delta from (0 = full list).
    pub base_version: i64,
    /// Revoked credential ids (hex) in this bundle.
    pub revoked_credential_ids: Vec<String>,
    /// Backend time in the signature, unix seconds.
    pub signed_time: i64,
    /// The signed bundle bytes for the lock, base64url.
    pub bundle: String,
}

/// A lock's signed receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiptUpload {
    /// The receipt bytes from the lock, base64url.
    pub receipt: String,
}

/// What the backend did with a receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptOutcome {
    /// Door id.
    pub door_id: i64,
    /// Version the lock reports it runs.
    pub version_applied: i64,
    /// Audit events stored now (0 when the receipt was seen before).
    pub events_stored: usize,
    /// Whether the door still needs a sync (a newer version exists).
    pub sync_pending: bool,
}

/// One audit event as stored (the door's activity history).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEventView {
    /// The lock's sequence number.
    pub seq: i64,
    /// Lock time of the event, unix seconds.
    pub at: i64,
    /// `granted`, `granted_fast`, `refused` or `bundle_applied` (as the lock reported it),
    /// or `events_missing`: the lock lost events from here on (its log overflowed).
    pub kind: String,
    /// Refusal wire code, the bundle version applied, or for `events_missing` how many.
    pub detail: Option<i64>,
    /// The credential involved (hex), if any.
    pub credential_id: Option<String>,
    /// Unix seconds when the backend received it.
    pub received_at: i64,
}

/// New lock settings; absent fields keep their value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DoorConfigRequest {
    /// How long the latch stays open, 500 to 60000 ms.
    pub unlock_ms: Option<u16>,
    /// Whether the lock accepts fast (ticket) unlocks.
    pub fast_unlock: Option<bool>,
}
