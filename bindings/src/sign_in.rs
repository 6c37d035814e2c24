//! Sign-in with a one-time code, as a flow object: `keyway.startSignIn(address)` sends
//! the code, then `flow.verify(code)` (or `flow.resend()`).

use crate::errors::{Result, time};
use crate::keyway::Keyway;
use crate::runtime::run;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Where a code went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CodeChannel {
    /// An email.
    Email,
    /// A text message.
    Sms,
}

/// A code on its way, as the code screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct CodeSent {
    /// Email or text message.
    pub channel: CodeChannel,
    /// When the code stops working.
    pub expires_at: SystemTime,
    /// When "send again" may be pressed.
    pub resend_after: SystemTime,
}

impl From<keyway_core::CodeSentInfo> for CodeSent {
    fn from(c: keyway_core::CodeSentInfo) -> Self {
        Self {
            channel: match c.channel {
                keyway_core::CodeChannel::Email => CodeChannel::Email,
                keyway_core::CodeChannel::Sms => CodeChannel::Sms,
            },
            expires_at: time(c.expires_at),
            resend_after: time(c.resend_after),
        }
    }
}

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
            sent: Mutex::new(flow.code_sent().into()),
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
        let sent: CodeSent = run(async move { flow.lock().await.resend().await }).await?.into();
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
