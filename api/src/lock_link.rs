//! The online link of a lock with internet (docs/protocol.md, "The online link"): a
//! challenge from the backend, then long-polls signed with the lock's own key that hand in
//! the lock's receipt and bring back the door's next signed bundle.

use serde::{Deserialize, Serialize};

use crate::{ReceiptOutcome, SignedBundle};

/// A challenge for the lock to sign, accepted once, until `expires_at`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkChallenge {
    /// The challenge bytes, base64url (opaque to the lock).
    pub challenge: String,
    /// Backend time after which the challenge is refused, unix seconds.
    pub expires_at: i64,
}

/// One long-poll: "anything after `after_version`?", with the lock's receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkPoll {
    /// A challenge from the backend (the last answer's `next_challenge`, or a fresh one).
    pub challenge: String,
    /// The bundle version the lock runs.
    pub after_version: i64,
    /// The lock's signed receipt (the phones' receipt format), base64url, if it has one to
    /// hand in: after applying a bundle, or when it has new audit events.
    #[serde(default)]
    pub receipt: Option<String>,
    /// How long the backend may hold the request when nothing is newer, seconds (at most
    /// 25, the default; 0 answers at once).
    #[serde(default)]
    pub wait_seconds: Option<i64>,
    /// The lock's ECDSA P-256 signature (`r ‖ s`, base64url) with its receipt-signing key
    /// over `keyway_protocol::lock_link::LinkRequest` (door, challenge, version, receipt).
    pub signature: String,
}

/// The answer to a long-poll.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkAnswer {
    /// The door's newest signed bundle (a delta from `after_version`), when it is newer
    /// than the lock's; absent when the wait ended with nothing new.
    pub bundle: Option<SignedBundle>,
    /// What the backend did with the receipt handed in, if any.
    pub receipt: Option<ReceiptOutcome>,
    /// The challenge for the next poll.
    pub next_challenge: LinkChallenge,
}
