//! The session as the core keeps it in the secure store: the backend's tokens, as the
//! contract defines them, and when the access token expires by this phone's clock.

use keyway_api::SessionTokens;
use serde::{Deserialize, Serialize};

/// A held session. Stored as the backend's token fields plus `local_expires_at`, the same
/// JSON the core has always kept. Its `Debug` shows no token (see [`SessionTokens`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredSession {
    /// The tokens as the backend sent them.
    #[serde(flatten)]
    pub(crate) tokens: SessionTokens,
    /// When the access token expires by this phone's clock (set on receipt): the phone's
    /// clock may disagree with the server's by minutes. Not sent by the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) local_expires_at: Option<i64>,
}

impl StoredSession {
    /// Tokens received at `now` (by this phone's clock).
    pub(crate) fn received(tokens: SessionTokens, now: i64) -> Self {
        let local_expires_at = Some(now.saturating_add(tokens.access_expires_in));
        Self { tokens, local_expires_at }
    }

    /// When to refresh: by this phone's clock when known, else by the server's.
    pub(crate) fn expires_at(&self) -> i64 {
        self.local_expires_at.unwrap_or(self.tokens.access_expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_session_keeps_the_json_the_core_has_always_written() {
        let stored = br#"{"access_token":"a","access_expires_at":100,"access_expires_in":900,"refresh_token":"r","person_id":4,"local_expires_at":5}"#;
        let session: StoredSession = serde_json::from_slice(stored).expect("reads");
        assert_eq!((session.local_expires_at, session.tokens.person_id), (Some(5), 4));
        let written: serde_json::Value = serde_json::to_value(&session).expect("writes");
        let before: serde_json::Value = serde_json::from_slice(stored).expect("json");
        assert_eq!(written, before);
    }

    #[test]
    fn expiry_is_counted_on_the_phones_clock() {
        let tokens = SessionTokens {
            access_token: "a".into(),
            access_expires_at: 1_000_000,
            access_expires_in: 900,
            refresh_token: "r".into(),
            person_id: 1,
        };
        assert_eq!(StoredSession::received(tokens, 50).expires_at(), 950);
    }
}
