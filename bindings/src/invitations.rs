//! Links from outside (an invitation email, a shared-key message) and invitations:
//! parse the link, preview what it offers, send the code, accept.

use crate::errors::{Result, time};
use crate::keyway::Keyway;
use crate::runtime::run;
use crate::sign_in::CodeSent;
use std::sync::Arc;
use std::time::SystemTime;

/// What kind of link it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LinkKind {
    /// An invitation to join an organisation: preview it, then accept it.
    Invitation,
    /// A key shared by a member: sign in, then redeem it.
    SharedKey,
}

/// A link that passed every check (https, a trusted host, a well-formed token). Its
/// token is a secret: it never leaves this object except in the one call that needs it.
#[derive(uniffi::Object)]
pub struct IncomingLink {
    pub(crate) link: keyway_core::links::ParsedLink,
}

#[uniffi::export]
impl IncomingLink {
    /// Invitation or shared key.
    pub fn kind(&self) -> LinkKind {
        match self.link.kind {
            keyway_core::links::LinkKind::Invitation => LinkKind::Invitation,
            keyway_core::links::LinkKind::Share => LinkKind::SharedKey,
        }
    }

    /// The host it came from.
    pub fn host(&self) -> String {
        self.link.host.clone()
    }
}

/// What the invitation screen shows before accepting.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvitationPreview {
    /// The organisation inviting.
    pub organisation: String,
    /// The facility.
    pub facility: String,
    /// The role offered.
    pub role: String,
    /// The email address the code will go to.
    pub sign_in_address: String,
    /// When access starts.
    pub access_start: SystemTime,
    /// When the link stops working.
    pub link_expires_at: SystemTime,
}

#[uniffi::export]
impl Keyway {
    /// Checks a link the app was opened with (invitation or shared key).
    pub fn parse_link(&self, link: String) -> Result<Arc<IncomingLink>> {
        Ok(Arc::new(IncomingLink { link: self.core.parse_link(&link)? }))
    }

    /// What the invitation offers; fails with the reason if it can no longer be accepted.
    pub async fn preview_invitation(&self, link: Arc<IncomingLink>) -> Result<InvitationPreview> {
        let core = self.core.clone();
        let p = run(async move { core.preview_invitation(&link.link).await }).await?;
        Ok(InvitationPreview {
            organisation: p.organisation,
            facility: p.facility,
            role: p.role,
            sign_in_address: p.sign_in_address,
            access_start: time(p.access_start),
            link_expires_at: time(p.link_expires_at),
        })
    }

    /// Sends the one-time code that proves the invited address.
    pub async fn send_invitation_code(&self, link: Arc<IncomingLink>) -> Result<CodeSent> {
        let core = self.core.clone();
        Ok(run(async move { core.send_invitation_code(&link.link).await }).await?.into())
    }

    /// Accepts the invitation with the code: the person is signed in (or the new account
    /// is added) and their keys are fetched.
    pub async fn accept_invitation(&self, link: Arc<IncomingLink>, code: String) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.accept_invitation(&link.link, &code).await }).await
    }
}
