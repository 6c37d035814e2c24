//! Sign-in with a one-time code, as a flow object: `keyway.startSignIn(address)` sends
//! the code, then `flow.verify(code)` (or `flow.resend()`).

use crate::Result;
use crate::keyway::Keyway;
use crate::runtime::run;
use std::sync::{Arc, Mutex};

pub use keyway_core::{CodeChannel, CodeSent};

/// A sign-in in progress: a code was sent to [`SignInFlow::address`].
#[derive(uniffi::Object)]
pub struct SignInFlow {
    flow: Arc<tokio::sync::Mutex<keyway_core::SignInFlow>>,
    address: String,
    sent: Mutex<CodeSent>,
}

#[uniffi::export]
impl Keyway {
    /// Starts signing in with an email address or a phone number (with country code):
    /// checks it and sends a one-time code. An address the service does not know gets the
    /// same answer, and no code.
    pub async fn start_sign_in(&self, address: String) -> Result<Arc<SignInFlow>> {
        let core = self.core.clone();
        let flow = run(async move { core.start_sign_in(&address).await }).await?;
        Ok(Arc::new(SignInFlow {
            address: flow.address().as_str().to_owned(),
            sent: Mutex::new(flow.code_sent()),
            flow: Arc::new(tokio::sync::Mutex::new(flow)),
        }))
    }
}

#[uniffi::export]
impl SignInFlow {
    /// The address the code went to, normalised (lower-case email, or `+` and digits).
    pub fn address(&self) -> String {
        self.address.clone()
    }

    /// Where the latest code went and its timings.
    pub fn code_sent(&self) -> CodeSent {
        *self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends a new code. Wrong guesses of the old code still count.
    pub async fn resend(&self) -> Result<CodeSent> {
        let flow = self.flow.clone();
        let sent = run(async move { flow.lock().await.resend().await }).await?;
        *self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = sent;
        Ok(sent)
    }

    /// Checks the code (spaces and dashes are ignored). On success the person is signed
    /// in and their keys are fetched.
    pub async fn verify(&self, code: String) -> Result<()> {
        let flow = self.flow.clone();
        run(async move { flow.lock().await.verify(&code).await }).await
    }
}
