//! The session: tokens kept only in the secure store, an access token handed to every
//! call, and refresh done once for any number of callers.
//!
//! - Refresh is single-flight: the session sits behind an async mutex held across the
//!   refresh, so fifty callers with an expired token cause one refresh and all get its
//!   result.
//! - The rotated refresh token is written to the secure store before the old one is
//!   dropped from memory: a crash between the two leaves the new token, never neither.
//! - A reused or revoked refresh token ends the session (the backend revoked the
//!   family); a network failure does not: offline is not signed out.

use crate::api::session::StoredSession;
use crate::api::{ApiClient, ApiError};
use crate::crash::crash_point;
use crate::error::{Error, Result};
use crate::platform::Clock;
use crate::platform::SecureStore;
use crate::platform::secret_names::SESSION_SECRET;
use keyway_api::endpoints::Refresh;
use keyway_api::{Endpoint, RefreshRequest, SessionTokens};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;
use zeroize::{Zeroize as _, Zeroizing};

/// Refresh this long before the access token's stated expiry, to absorb clock skew.
const EXPIRY_MARGIN: u32 = 30;

pub(crate) struct Auth {
    api: ApiClient,
    store: Arc<dyn SecureStore>,
    clock: Arc<dyn Clock>,
    session: Mutex<Option<StoredSession>>,
    refreshes: AtomicU64,
}

impl Auth {
    /// Loads the session the secure store holds, if any.
    pub(crate) fn load(api: ApiClient, store: Arc<dyn SecureStore>, clock: Arc<dyn Clock>) -> Result<Self> {
        let session = match store.get(SESSION_SECRET)? {
            Some(bytes) => match serde_json::from_slice::<StoredSession>(&bytes) {
                Ok(tokens) => Some(tokens),
                Err(_) => {
                    // Unreadable (foreign or corrupted): forget it rather than fail forever.
                    tracing::warn!("stored session unreadable; signing out");
                    store.delete(SESSION_SECRET)?;
                    None
                }
            },
            None => None,
        };
        Ok(Self { api, store, clock, session: Mutex::new(session), refreshes: AtomicU64::new(0) })
    }

    /// Whether a session is held (at start-up, before any contention).
    pub(crate) fn has_session(&self) -> bool {
        self.session.try_lock().map(|s| s.is_some()).unwrap_or(true)
    }

    /// How many refreshes this process has made (for tests and diagnostics).
    pub(crate) fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::SeqCst)
    }

    /// Notes when the token expires by this phone's clock, which may disagree with the
    /// server's by minutes: refresh timing must not depend on the two agreeing.
    fn stamp(&self, tokens: SessionTokens) -> StoredSession {
        StoredSession::received(tokens, i64::from(self.clock.now()))
    }

    /// Adopts tokens from a sign-in or an accepted invitation.
    pub(crate) async fn adopt(&self, tokens: SessionTokens) -> Result<()> {
        let tokens = self.stamp(tokens);
        let mut session = self.session.lock().await;
        self.persist(&tokens)?;
        *session = Some(tokens);
        Ok(())
    }

    fn persist(&self, tokens: &StoredSession) -> Result<()> {
        let json = Zeroizing::new(serde_json::to_vec(tokens).map_err(|_| Error::internal("session encoding"))?);
        self.store.set(SESSION_SECRET, &json)?;
        Ok(())
    }

    /// Forgets the session (memory and secure store). Returns the refresh token so the
    /// caller can tell the backend, best effort.
    pub(crate) async fn forget(&self) -> Result<Option<Zeroizing<String>>> {
        let mut session = self.session.lock().await;
        self.store.delete(SESSION_SECRET)?;
        Ok(session.take().map(|s| Zeroizing::new(s.tokens.refresh_token)))
    }

    /// A usable access token, refreshing first if it has expired.
    async fn bearer(&self) -> Result<Zeroizing<String>> {
        let mut session = self.session.lock().await;
        let current = session.as_ref().ok_or(Error::NotSignedIn)?;
        if i64::from(self.clock.now()) + i64::from(EXPIRY_MARGIN) < current.expires_at() {
            return Ok(Zeroizing::new(current.tokens.access_token.clone()));
        }
        self.refresh_locked(&mut session).await
    }

    /// Refreshes unless someone already replaced `stale` while we waited.
    async fn refresh_after_rejection(&self, stale: &str) -> Result<Zeroizing<String>> {
        let mut session = self.session.lock().await;
        let current = session.as_ref().ok_or(Error::NotSignedIn)?;
        if current.tokens.access_token != stale {
            return Ok(Zeroizing::new(current.tokens.access_token.clone()));
        }
        self.refresh_locked(&mut session).await
    }

    async fn refresh_locked(&self, session: &mut Option<StoredSession>) -> Result<Zeroizing<String>> {
        let mut refresh = match session.as_ref() {
            Some(s) => Refresh { body: RefreshRequest { refresh_token: s.tokens.refresh_token.clone() } },
            None => return Err(Error::NotSignedIn),
        };
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        crash_point!("auth.refresh.before_request");
        // Safe to repeat: within its grace the backend answers a repeated refresh with
        // the same successor, so an answer lost on the way is not a lost session.
        let result: std::result::Result<SessionTokens, ApiError> = self.api.call_retrying(&refresh, None).await;
        refresh.body.refresh_token.zeroize();
        match result {
            Ok(tokens) => {
                crash_point!("auth.refresh.after_answer");
                let tokens = self.stamp(tokens);
                // Durable first, then in memory. The server has already rotated the token:
                // if the store fails, the new token must still replace the old one in memory
                // (the old one would be taken for reuse and end the session); the store is
                // tried again at the next refresh.
                if let Err(e) = self.persist(&tokens) {
                    tracing::warn!(error = %e, "rotated session kept in memory only; the store will be retried");
                }
                crash_point!("auth.refresh.after_store");
                let access = Zeroizing::new(tokens.tokens.access_token.clone());
                *session = Some(tokens);
                Ok(access)
            }
            Err(e) => match Error::from_api(e) {
                Error::SessionEnded => {
                    tracing::info!("refresh refused; the session has ended");
                    self.store.delete(SESSION_SECRET)?;
                    *session = None;
                    Err(Error::SessionEnded)
                }
                other => Err(other),
            },
        }
    }

    /// Calls an authenticated endpoint; on `access_token_expired` refreshes once and
    /// retries. A session the backend no longer knows is forgotten here too.
    pub(crate) async fn call<E: Endpoint>(&self, call: &E) -> Result<E::Answer> {
        self.call_detailed(call).await?.map_err(Error::from_api)
    }

    /// Like [`Auth::call`], but the endpoint's own failure stays an [`ApiError`], so the
    /// caller can tell the backend's typed refusal from an answer that never came or was
    /// garbled on the way. The outer error is the session's (signed out, ended, offline
    /// while refreshing).
    pub(crate) async fn call_detailed<E: Endpoint>(
        &self,
        call: &E,
    ) -> Result<std::result::Result<E::Answer, ApiError>> {
        let token = self.bearer().await?;
        let result = match self.api.call(call, Some(&token)).await {
            Err(e) if e.code() == Some("access_token_expired") => {
                let token = self.refresh_after_rejection(&token).await?;
                self.api.call(call, Some(&token)).await
            }
            other => other,
        };
        match result {
            Err(e) if Error::from_api(e.clone()) == Error::SessionEnded => {
                tracing::info!("the backend no longer knows this session");
                self.forget().await?;
                Err(Error::SessionEnded)
            }
            other => Ok(other),
        }
    }
}
