//! The lock's rules for a trust-anchor update found in front of a door-sync bundle
//! (see [`crate::anchor_update`]): for this door, signed by a key the lock trusts now,
//! a set version above the lock's, every anchor a valid P-256 point. The set is never
//! empty (the decoder refuses that). The same version again is the update the lock
//! already applied, carried once more in front of a later bundle: nothing to do.

use crate::Refusal;
use crate::anchor_update::DoorSyncDelivery;
use crate::lock_role::LockEnvironment;
use crate::primitives::{p256_ecdsa_verify, p256_verifying_key};

/// Applies the anchor update in front of a delivery, if there is one, and returns the
/// bundle's bytes behind it. An update that fails a check refuses the whole delivery and
/// changes nothing; an applied one stays applied whatever happens to the bundle (it was
/// valid on its own), and the bundle is then checked against the new set.
pub(crate) fn apply_anchor_update<'a>(bytes: &'a [u8], env: &mut impl LockEnvironment) -> Result<&'a [u8], Refusal> {
    let delivery = DoorSyncDelivery::split(bytes).map_err(|_| Refusal::Malformed)?;
    let Some(update) = delivery.anchor_update else {
        return Ok(delivery.bundle);
    };
    let body = &update.body;
    if body.door != env.door() {
        return Err(Refusal::BundleWrongDoor);
    }
    let signer = env.trust_anchor(&body.signer).ok_or(Refusal::BundleBadSignature)?;
    if !p256_ecdsa_verify(&signer, &body.signed_message(), &update.signature) {
        return Err(Refusal::BundleBadSignature);
    }
    let current = env.anchor_set_version();
    if body.version < current {
        return Err(Refusal::BundleNotNewer);
    }
    if body.version == current {
        return Ok(delivery.bundle);
    }
    if body.anchors.iter().any(|anchor| p256_verifying_key(anchor).is_none()) {
        return Err(Refusal::Malformed);
    }
    env.replace_anchors(&update)?;
    Ok(delivery.bundle)
}
