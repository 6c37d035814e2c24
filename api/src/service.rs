//! What every part of the API shares: the health answer, a new object's id, and the
//! error body every failure carries.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Service health.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    /// Server time, unix seconds (phones compare it with their clock).
    pub time: i64,
}

/// A new object's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created {
    /// The id.
    pub id: i64,
}

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// `code`, `message` and any details (`attempts_left`, `retry_at`, `starts_at`, `field`, `what`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `invitation_expired`.
    pub code: String,
    /// Plain words for a person.
    pub message: String,
    /// Details that depend on the code.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Map<String, Value>,
}
