//! Invitations: parse the link from the email, preview it, and accept it with a code
//! sent to the invited address. Each way an invitation can be dead is its own error.

use crate::api::b64;
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::links::{LinkKind, LinkProblem, ParsedLink, parse_link};
use crate::profile::PersonName;
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
    /// The keys that come with the invitation. Empty: it gives no access yet (an
    /// invitation is not access) — say so, e.g. "no access yet; your administrator adds keys".
    pub keys: Vec<InvitationKey>,
    /// Whether any key comes with it (`keys` is not empty).
    pub gives_access: bool,
    /// The first name the administrator entered, if any.
    pub first_name: Option<String>,
    /// The last name the administrator entered, if any.
    pub last_name: Option<String>,
    /// The record has no name yet: ask for first and last name and pass them to
    /// `accept_invitation_with_name`.
    pub name_required: bool,
}

/// A key that comes with an invitation, as the invitation screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct InvitationKey {
    /// Key name.
    pub name: String,
    /// The names of the doors it opens.
    pub doors: Vec<String>,
    /// When access starts.
    pub starts_at: Timestamp,
    /// When access ends.
    pub expires_at: Timestamp,
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
            gives_access: !p.keys.is_empty(),
            keys: p
                .keys
                .into_iter()
                .map(|k| InvitationKey {
                    name: k.name,
                    doors: k.doors,
                    starts_at: Timestamp(clamp_time(k.starts_at)),
                    expires_at: Timestamp(clamp_time(k.expires_at)),
                })
                .collect(),
            first_name: p.first_name,
            last_name: p.last_name,
            name_required: p.name_required,
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
        self.accept_invitation_with_name(link, code, None).await
    }

    /// Accepts the invitation giving the person's first and last name, which the preview
    /// asks for (`name_required`) when the invitation did not carry them. A name that is
    /// refused is `InvalidName` (checked before anything is sent).
    pub async fn accept_invitation_with_name(
        &self,
        link: &ParsedLink,
        code: &str,
        name: Option<&PersonName>,
    ) -> Result<()> {
        let token = Self::invitation_token(link)?;
        let code = normalise_code(code)?;
        let name = name.map(|n| n.checked().map_err(|problem| Error::InvalidName { problem })).transpose()?;
        let device_public_key = b64(&self.inner.platform.signer.public_key().await?);
        let (first_name, last_name) = match name {
            Some(n) => (Some(n.first_name), Some(n.last_name)),
            None => (None, None),
        };
        let call = AcceptInvitation { token, body: AcceptRequest { code, device_public_key, first_name, last_name } };
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
