//! The revocation set: credential ids the backend has revoked, each with the moment
//! the lock may forget it (the credential's own expiry), so the set stays bounded by the
//! credentials still alive.

use keyway_protocol::bundle::Revocation;
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::CredentialId;
use std::collections::BTreeMap;

/// Revoked credentials and when each entry may be dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSet {
    entries: BTreeMap<CredentialId, UnixSeconds>,
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `credential` is revoked.
    pub fn contains(&self, credential: &CredentialId) -> bool {
        self.entries.contains_key(credential)
    }

    /// Adds a revocation. A credential revoked twice keeps the later expiry.
    pub fn insert(&mut self, revocation: Revocation) {
        let expires = self.entries.entry(revocation.credential).or_insert(revocation.expires);
        *expires = (*expires).max(revocation.expires);
    }

    /// Drops entries whose credential has expired by `now` (strictly after its last
    /// valid second). Safe because the lock's clock never goes back: the credential is
    /// refused as expired from then on anyway.
    pub fn prune(&mut self, now: UnixSeconds) {
        self.entries.retain(|_, expires| *expires >= now);
    }

    /// How many entries the set holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in credential id order.
    pub fn iter(&self) -> impl Iterator<Item = Revocation> + '_ {
        self.entries.iter().map(|(credential, expires)| Revocation { credential: *credential, expires: *expires })
    }
}

impl FromIterator<Revocation> for RevocationSet {
    fn from_iter<I: IntoIterator<Item = Revocation>>(iter: I) -> Self {
        let mut set = Self::new();
        for revocation in iter {
            set.insert(revocation);
        }
        set
    }
}
