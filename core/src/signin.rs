//! Sign-in with a one-time code sent to an email or a phone, as a flow object:
//! `start_sign_in(address)` → `resend()` → `verify(code)`.

use crate::address::SignInAddress;
use crate::api::b64;
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::listeners::SessionState;
use crate::timestamp::Timestamp;
use keyway_api::endpoints::{SendCode, Verify};
use keyway_api::{Channel, CodeRequest, CodeSentResponse, SessionTokens, VerifyRequest};
use keyway_protocol::credential::UnixSeconds;

/// The cache's note of whose keys it holds.
const PERSON: &str = "person_id";

/// Where the code went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CodeChannel {
    /// An email.
    Email,
    /// A text message.
    Sms,
}

/// A code on its way, as a screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CodeSent {
    /// Email or text.
    pub channel: CodeChannel,
    /// When the code stops working.
    pub expires_at: Timestamp,
    /// When "send again" may be pressed.
    pub resend_after: Timestamp,
}

impl From<CodeSentResponse> for CodeSent {
    fn from(c: CodeSentResponse) -> Self {
        Self {
            channel: match c.channel {
                Channel::Email => CodeChannel::Email,
                Channel::Sms => CodeChannel::Sms,
            },
            expires_at: Timestamp(clamp_time(c.expires_at)),
            resend_after: Timestamp(clamp_time(c.resend_after)),
        }
    }
}

pub(crate) fn clamp_time(t: i64) -> UnixSeconds {
    u32::try_from(t.max(0)).unwrap_or(u32::MAX)
}

/// A sign-in in progress.
pub struct SignInFlow {
    keyway: Keyway,
    address: SignInAddress,
    sent: CodeSent,
}

impl SignInFlow {
    /// The normalised address the code went to.
    pub fn address(&self) -> &SignInAddress {
        &self.address
    }

    /// Where the code went and its timings.
    pub fn code_sent(&self) -> CodeSent {
        self.sent
    }

    /// Sends a new code (the failure count of the old one carries over, by design).
    pub async fn resend(&mut self) -> Result<CodeSent> {
        self.sent = send_code(&self.keyway, &self.address).await?;
        Ok(self.sent)
    }

    /// Checks the code; on success the person is signed in and their keys are fetched.
    pub async fn verify(&self, code: &str) -> Result<()> {
        let code = normalise_code(code)?;
        let device_public_key = b64(&self.keyway.inner.platform.signer.public_key().await?);
        let body = VerifyRequest { identifier: self.address.as_str().to_owned(), code, device_public_key };
        let tokens = self.keyway.inner.api.call(&Verify { body }, None).await?;
        self.keyway.signed_in(tokens).await
    }
}

/// Strips spaces and dashes; a code is exactly six digits.
pub(crate) fn normalise_code(code: &str) -> Result<String> {
    let digits: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) { Ok(digits) } else { Err(Error::CodeMalformed) }
}

async fn send_code(keyway: &Keyway, address: &SignInAddress) -> Result<CodeSent> {
    let call = SendCode { body: CodeRequest { identifier: address.as_str().to_owned() } };
    let sent = keyway.inner.api.call(&call, None).await?;
    Ok(sent.into())
}

impl Keyway {
    /// Starts signing in: validates and normalises the address, and sends a code to it.
    /// An address the service does not know gets the same answer (and no code).
    pub async fn start_sign_in(&self, address: &str) -> Result<SignInFlow> {
        let address = SignInAddress::parse(address)?;
        let sent = send_code(self, &address).await?;
        Ok(SignInFlow { keyway: self.clone(), address, sent })
    }

    /// Adopts a new session and fetches keys (offline is not an error here: the session
    /// stands). If someone else's keys are on the phone, they go first.
    pub(crate) async fn signed_in(&self, tokens: SessionTokens) -> Result<()> {
        let person = tokens.person_id.to_string();
        let previous = self.inner.cache.meta(PERSON)?;
        if previous.as_deref() != Some(person.as_str()) {
            if previous.is_some() || !self.inner.cache.keys()?.is_empty() {
                tracing::info!("another person signed in on this phone; forgetting the previous keys");
            }
            self.forget_device_data()?;
            self.inner.cache.set_meta(PERSON, &person)?;
        }
        self.inner.auth.adopt(tokens).await?;
        self.inner.session.set(SessionState::SignedIn);
        match self.refresh().await {
            Ok(_) | Err(Error::Offline) | Err(Error::ServiceUnavailable) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_with_spaces_and_dashes_ignored() {
        assert_eq!(normalise_code(" 123 456 ").ok().as_deref(), Some("123456"));
        assert_eq!(normalise_code("123-456").ok().as_deref(), Some("123456"));
        assert_eq!(normalise_code("12345"), Err(Error::CodeMalformed));
        assert_eq!(normalise_code("12345a"), Err(Error::CodeMalformed));
    }
}
