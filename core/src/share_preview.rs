//! A guest opens a share link: before signing in or redeeming, the screen shows who
//! shared which doors of which organisation, for when, and with which address to sign in.
//! Each way a share link can be dead (never a link, revoked, expired, already redeemed by
//! someone) is its own error, as for invitations.

use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::links::{LinkKind, LinkProblem, ParsedLink};
use crate::signin::clamp_time;
use crate::timestamp::Timestamp;
use keyway_api::endpoints::PreviewShareLink;

/// What the shared-key screen shows before redeeming.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SharedKeyPreview {
    /// The organisation whose doors are shared.
    pub organisation: String,
    /// The facility.
    pub facility: String,
    /// The sharing member's name; absent when the organisation has none on record (then
    /// say "a member of {organisation}").
    pub shared_by: Option<String>,
    /// The names of the doors shared.
    pub doors: Vec<String>,
    /// When the guest's access starts.
    pub starts_at: Timestamp,
    /// When it ends.
    pub ends_at: Timestamp,
    /// The email or phone the guest must sign in with to redeem it.
    pub sign_in_address: String,
    /// When the link stops working if not redeemed.
    pub link_expires_at: Timestamp,
}

impl Keyway {
    /// Shows what a shared-key link offers (no sign-in needed); fails with the reason if
    /// it can no longer be redeemed.
    pub async fn preview_share(&self, link: &ParsedLink) -> Result<SharedKeyPreview> {
        if link.kind != LinkKind::SharedKey {
            return Err(LinkProblem::WrongKind.into());
        }
        let p = self.inner.api.call(&PreviewShareLink { token: link.token().to_owned() }, None).await?;
        Ok(SharedKeyPreview {
            organisation: p.organisation,
            facility: p.facility,
            shared_by: p.shared_by,
            doors: p.doors,
            starts_at: Timestamp(clamp_time(p.starts_at)),
            ends_at: Timestamp(clamp_time(p.ends_at)),
            sign_in_address: p.sign_in_with,
            link_expires_at: Timestamp(clamp_time(p.link_expires_at)),
        })
    }
}

/// Whether an error means the share link can never be redeemed (so the screen should not
/// offer "try again", but "ask for a new share").
pub fn share_is_dead(e: &Error) -> bool {
    matches!(e, Error::ShareNotFound | Error::ShareRevoked | Error::ShareExpired | Error::ShareAlreadyRedeemed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dead_link_errors_say_the_share_is_dead() {
        for dead in [Error::ShareNotFound, Error::ShareRevoked, Error::ShareExpired, Error::ShareAlreadyRedeemed] {
            assert!(share_is_dead(&dead), "{dead:?}");
        }
        for alive in [Error::Offline, Error::ShareWrongRecipient, Error::ServiceUnavailable] {
            assert!(!share_is_dead(&alive), "{alive:?}");
        }
    }
}
