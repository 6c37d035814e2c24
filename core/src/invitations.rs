//! Invitations: parse the link from the email, preview it, and accept it with a code
//! sent to the invited address. Each way an invitation can be dead is its own error.

use crate::api::b64;
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::links::{LinkKind, LinkProblem, ParsedLink, parse_link};
use crate::signin::{CodeSent, clamp_time, normalise_code};
use crate::timestamp::Timestamp;
use keyway_api::AcceptRequest;
use keyway_api::endpoints::{AcceptInvitation, PreviewInvitation, SendInvitationCode};

/// What the invitation screen shows before accepting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct InvitationPreview {
    /// The organisation (account) inviting.
    pub organisation: String,
    /// The facility.
    pub facility: String,
    /// The role offered.
    pub role: String,
    /// The address to sign in with.
    pub sign_in_address: String,
    /// When access starts (an invitation alone grants none before a key).
    pub access_start: Timestamp,
    /// When the link stops working.
    pub link_expires_at: Timestamp,
}

impl Keyway {
    /// Parses a link from outside (invitation or guest share) against the trusted hosts.
    pub fn parse_link(&self, link: &str) -> Result<ParsedLink> {
        Ok(parse_link(link, &self.inner.config.link_hosts)?)
    }

    /// The invitation's token, if the link is an invitation.
    fn invitation_token(link: &ParsedLink) -> Result<String> {
        if link.kind != LinkKind::Invitation {
            return Err(LinkProblem::WrongKind.into());
        }
        Ok(link.token().to_owned())
    }

    /// Shows what the invitation offers.
    pub async fn preview_invitation(&self, link: &ParsedLink) -> Result<InvitationPreview> {
        let p = self.inner.api.call(&PreviewInvitation { token: Self::invitation_token(link)? }, None).await?;
        Ok(InvitationPreview {
            organisation: p.organisation,
            facility: p.facility,
            role: p.role,
            sign_in_address: p.email,
            access_start: Timestamp(clamp_time(p.access_start)),
            link_expires_at: Timestamp(clamp_time(p.expires_at)),
        })
    }

    /// Sends the one-time code that proves the invited address.
    pub async fn send_invitation_code(&self, link: &ParsedLink) -> Result<CodeSent> {
        let call = SendInvitationCode { token: Self::invitation_token(link)? };
        let sent = self.inner.api.call(&call, None).await?;
        Ok(sent.into())
    }

    /// Accepts the invitation: the person is signed in (or, if already signed in as the
    /// same person, the new account is added) and keys are fetched.
    pub async fn accept_invitation(&self, link: &ParsedLink, code: &str) -> Result<()> {
        let token = Self::invitation_token(link)?;
        let code = normalise_code(code)?;
        let device_public_key = b64(&self.inner.platform.signer.public_key().await?);
        let call = AcceptInvitation { token, body: AcceptRequest { code, device_public_key } };
        let tokens = self.inner.api.call(&call, None).await?;
        self.signed_in(tokens).await
    }
}

/// Whether an error means the invitation can never be accepted (so the screen should
/// not offer "try again").
pub fn invitation_is_dead(e: &Error) -> bool {
    matches!(
        e,
        Error::InvitationNotFound
            | Error::InvitationExpired
            | Error::InvitationSuperseded
            | Error::InvitationCancelled
            | Error::InvitationAlreadyUsed
    )
}
