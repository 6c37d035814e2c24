//! Links from outside (an invitation email, a shared-key message) and invitations:
//! parse the link, preview what it offers, send the code, accept.

use crate::Result;
use crate::keyway::Keyway;
use crate::runtime::run;
use keyway_core::{CodeSent, PersonName};
use std::sync::Arc;

pub use keyway_core::links::LinkKind;
pub use keyway_core::{InvitationKey, InvitationPreview};

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
        self.link.kind
    }

    /// The host it came from.
    pub fn host(&self) -> String {
        self.link.host.clone()
    }
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
        run(async move { core.preview_invitation(&link.link).await }).await
    }

    /// Sends the one-time code that proves the invited address.
    pub async fn send_invitation_code(&self, link: Arc<IncomingLink>) -> Result<CodeSent> {
        let core = self.core.clone();
        run(async move { core.send_invitation_code(&link.link).await }).await
    }

    /// Accepts the invitation with the code: the person is signed in (or the new account
    /// is added) and their keys are fetched.
    pub async fn accept_invitation(&self, link: Arc<IncomingLink>, code: String) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.accept_invitation(&link.link, &code).await }).await
    }

    /// Accepts the invitation with the person's first and last name, which the preview
    /// asks for (`nameRequired`) when the invitation did not carry them.
    pub async fn accept_invitation_with_name(
        &self,
        link: Arc<IncomingLink>,
        code: String,
        name: PersonName,
    ) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.accept_invitation_with_name(&link.link, &code, Some(&name)).await }).await
    }
}
