//! `/v1/admin/sites/{site_id}/issuer-keys…`: a site's issuer keys and their rotation.
//! Rotating makes a new key sign from now on and tells every door, signed by the old key,
//! to trust both; retiring removes the old key from every door's set (signed by the new
//! one), after which it signs nothing.

use serde::{Deserialize, Serialize};

/// How to retire a site's outgoing issuer key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetireIssuerKeyRequest {
    /// Retire even though some doors have not yet confirmed the new key (their locks then
    /// trust only the retired key and must be provisioned again). Default false.
    #[serde(default)]
    pub force: bool,
}

/// One issuer key of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuerKeyView {
    /// The key id credentials and bundles name: 16 hex digits.
    pub key_id: String,
    /// The public key (65 bytes, base64url): what locks trust.
    pub public_key: String,
    /// `active` (signs everything), `outgoing` (replaced; locks still trust it, its
    /// credentials work until they expire; signs nothing new) or `retired` (signs nothing).
    pub state: String,
    /// When it was made, unix seconds.
    pub created_at: i64,
    /// When a newer key replaced it, unix seconds.
    pub replaced_at: Option<i64>,
    /// When it was retired, unix seconds.
    pub retired_at: Option<i64>,
}

/// A site's issuer keys and where its doors are in the rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuerKeys {
    /// The site.
    pub site_id: i64,
    /// The version of the site's trust-anchor set (0: as its locks were provisioned).
    pub anchor_version: i64,
    /// Every key the site has had, newest first.
    pub keys: Vec<IssuerKeyView>,
    /// Doors whose lock has not yet confirmed the current anchor set (a receipt for the
    /// bundle that carried it): retire the outgoing key only when this is empty.
    pub doors_pending: Vec<i64>,
}
