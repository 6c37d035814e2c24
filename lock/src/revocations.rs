//! The revocation set: serial prefixes (the first 8 bytes of credential ids) the backend
//! has revoked, each with the moment the lock may forget it (the credential's own expiry,
//! perhaps rounded up), so the set stays bounded by the credentials still alive.
//!
//! A credential is revoked when its id starts with a listed prefix; a guest credential
//! also when its parent's id does (the handshake asks for both). Prefixes are what
//! format-3 bundles carry; entries of older bundles and older state files are reduced to
//! their prefixes. Two credentials sharing a prefix are revoked together: a collision can
//! only refuse a credential, never admit one.

use keyway_protocol::bundle::{PrefixRevocation, Revocation};
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::{CredentialId, SerialPrefix};
use std::collections::BTreeMap;

/// Revoked serial prefixes and when each entry may be dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSet {
    entries: BTreeMap<SerialPrefix, UnixSeconds>,
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `credential` is revoked: its serial prefix is listed.
    pub fn contains(&self, credential: &CredentialId) -> bool {
        self.entries.contains_key(&credential.serial_prefix())
    }

    /// Adds an entry. A prefix revoked twice keeps the later expiry.
    pub fn insert(&mut self, revocation: PrefixRevocation) {
        let expires = self.entries.entry(revocation.prefix).or_insert(revocation.expires);
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

    /// The entries, in prefix order.
    pub fn iter(&self) -> impl Iterator<Item = PrefixRevocation> + '_ {
        self.entries.iter().map(|(prefix, expires)| PrefixRevocation { prefix: *prefix, expires: *expires })
    }
}

impl FromIterator<PrefixRevocation> for RevocationSet {
    fn from_iter<I: IntoIterator<Item = PrefixRevocation>>(iter: I) -> Self {
        let mut set = Self::new();
        for revocation in iter {
            set.insert(revocation);
        }
        set
    }
}

/// Whole-id entries (format-1 and format-2 bundles, tests) reduced to their prefixes.
impl FromIterator<Revocation> for RevocationSet {
    fn from_iter<I: IntoIterator<Item = Revocation>>(iter: I) -> Self {
        iter.into_iter().map(|r| r.prefixed()).collect()
    }
}
