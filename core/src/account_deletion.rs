//! A member deletes their own account from the app (issue 17 `delete_account`, an App
//! Store requirement).
//!
//! The request is signed by the device key (like a share, docs/protocol.md §15.12), so a
//! stolen access token alone cannot delete an account. Only once the service confirms is
//! anything wiped here — then everything is: the session, every door's ticket, the device
//! key, and every row of the cache (keys, doors, credentials, bundles, the profile).

use crate::api::b64;
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::listeners::SessionState;
use keyway_api::endpoints::{DeleteMyAccount, GetProfile};
use keyway_api::{DeleteAccountRequest, DeviceProof, delete_account_message};

impl Keyway {
    /// Deletes the signed-in person's account at the service, then wipes this device as
    /// sign-out does. Needs the network (`Offline` changes nothing) and the device key
    /// the session was opened with (`DeviceKeyUnavailable` otherwise: sign in again).
    pub async fn delete_account(&self) -> Result<()> {
        let _radio = self.inner.radio.lock().await;
        let _no_refresh = self.inner.signing_out.write().await;
        let result = self.delete_at_service().await;
        self.note_result(result)?;
        // The service has forgotten the person; the device forgets them too.
        let mut first_error = self.inner.auth.forget().await.err();
        if let Err(e) = self.forget_device_data() {
            first_error.get_or_insert(e);
        }
        if let Err(e) = self.inner.platform.signer.delete_key().await {
            first_error.get_or_insert(Error::from(e));
        }
        self.inner.session.set(SessionState::SignedOut);
        self.inner.keys_changed.update(|n| n + 1);
        first_error.map_or(Ok(()), Err)
    }

    async fn delete_at_service(&self) -> Result<()> {
        // Receipts are the doors' history, which outlives the account: hand them in first.
        if let Err(e) = self.upload_receipts().await {
            tracing::info!(error = %e, "receipts not delivered before account deletion");
        }
        // The person id the signature covers comes from the service, not the cache (which
        // may be in memory only).
        let person_id = self.inner.auth.call(&GetProfile {}).await?.person_id;
        let mut nonce = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
            .map_err(|_| Error::internal("no randomness for the deletion request"))?;
        let signature = self.inner.platform.signer.sign(&delete_account_message(person_id, &nonce)).await?;
        let body =
            DeleteAccountRequest { device_proof: DeviceProof { nonce: b64(&nonce), signature: b64(&signature) } };
        self.inner.auth.call(&DeleteMyAccount { body }).await
    }
}
