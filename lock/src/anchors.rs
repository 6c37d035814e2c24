//! Trust-anchor rotation at the lock: the state after a verified anchor update
//! (`keyway_protocol::anchor_update`). The protocol's rules (door, signer, version, a
//! non-empty bounded set) are checked in `keyway_protocol::lock_role::deliver`; here the
//! set is swapped on a copy of the state, which the environment saves before it takes
//! effect. Tickets earned with a credential of a removed anchor are dropped with it (the
//! fast path's F11 check would refuse them anyway).

use crate::error::LockError;
use crate::state::{LockState, TrustAnchor};
use keyway_protocol::anchor_update::{AnchorUpdate, MAX_TRUST_ANCHORS};
use std::collections::BTreeMap;

impl LockState {
    /// The state after replacing the trust anchors with `update`'s set and version. The
    /// receiver is untouched, so a failed save changes nothing.
    pub fn with_anchor_update(&self, update: &AnchorUpdate) -> Result<Self, LockError> {
        let body = &update.body;
        if body.anchors.is_empty() || body.anchors.len() > MAX_TRUST_ANCHORS {
            return Err(LockError::BadTrustAnchor);
        }
        let mut anchors = BTreeMap::new();
        for key in &body.anchors {
            let anchor = TrustAnchor::new(key)?;
            anchors.insert(anchor.key_id(), anchor);
        }
        let mut next = self.clone();
        let removed: Vec<_> = next
            .tickets
            .iter()
            .filter(|ticket| !anchors.contains_key(&ticket.entry.issuer))
            .map(|ticket| ticket.id)
            .collect();
        for id in removed {
            next.tickets.take(&id);
        }
        next.anchors = anchors;
        next.anchor_set_version = body.version;
        Ok(next)
    }
}
