//! A site as the backend runs it: its issuer key, the member and guest keys it mints for
//! test phones, and the door-sync bundles it signs.

use super::phone::TestPhone;
use super::{DAY, HOUR, NOW};
use crate::bundle::{Bundle, BundleBody, DoorcodeGrant, LockConfig, PrefixRevocation, Revocation, RevocationList};
use crate::credential::{Credential, CredentialBody, CredentialFlags, DeviceKey};
use crate::ids::{CredentialId, DoorId, KeyId};
use crate::issuer::IssuerKey;

/// A site: the issuer whose public key every lock of the site trusts.
pub struct Site {
    /// The site's issuer (the backend's signing key).
    pub issuer: IssuerKey,
}

impl Default for Site {
    fn default() -> Self {
        Self::new()
    }
}

impl Site {
    /// A site with a freshly generated issuer key.
    ///
    /// # Panics
    /// If ring cannot generate a key.
    pub fn new() -> Self {
        Self { issuer: IssuerKey::generate().expect("an issuer key").0 }
    }

    /// The issuer's public key (uncompressed SEC1), as a lock is provisioned with it.
    pub fn anchor(&self) -> Vec<u8> {
        self.issuer.public_key().to_vec()
    }

    /// A key minted for `phone` as `spec` says.
    pub fn key(&self, phone: &TestPhone, spec: KeySpec) -> Credential {
        spec.sign(&self.issuer, phone.device_key())
    }

    /// A shareable member key for `doors`, valid from an hour before [`NOW`] for three days.
    pub fn member_key(&self, phone: &TestPhone, id: u8, doors: &[DoorId]) -> Credential {
        self.key(phone, KeySpec::member(id, doors))
    }

    /// A door-sync bundle as `spec` says, signed by the issuer.
    pub fn bundle(&self, spec: BundleSpec) -> Bundle {
        spec.sign(&self.issuer)
    }
}

/// What a minted key says: its id (one byte, repeated), doors, validity, flags and parent.
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// The credential id is this byte sixteen times.
    pub id: u8,
    /// The doors it opens.
    pub doors: Vec<DoorId>,
    /// Valid from (Unix seconds).
    pub not_before: u32,
    /// Valid until (Unix seconds).
    pub not_after: u32,
    /// Whether the holder may share it.
    pub shareable: bool,
    /// The credential it was shared from, for a guest key.
    pub parent: Option<CredentialId>,
}

impl KeySpec {
    /// A shareable member key, valid from an hour before [`NOW`] for three days.
    pub fn member(id: u8, doors: &[DoorId]) -> Self {
        Self {
            id,
            doors: doors.to_vec(),
            not_before: NOW - HOUR,
            not_after: NOW + 3 * DAY,
            shareable: true,
            parent: None,
        }
    }

    /// A guest key shared from `parent` (not shareable), valid from a minute before [`NOW`]
    /// for an hour.
    pub fn guest(id: u8, parent: &Credential, doors: &[DoorId]) -> Self {
        Self {
            id,
            doors: doors.to_vec(),
            not_before: NOW - 60,
            not_after: NOW + HOUR,
            shareable: false,
            parent: Some(parent.body.id),
        }
    }

    /// The same key with another validity window.
    pub fn valid(mut self, not_before: u32, not_after: u32) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// The credential body for `device` (the issuer field is filled in when signing).
    pub fn body(&self, device: DeviceKey) -> CredentialBody {
        CredentialBody {
            id: CredentialId([self.id; 16]),
            issuer: KeyId::default(),
            device_key: device,
            doors: self.doors.clone(),
            not_before: self.not_before,
            not_after: self.not_after,
            flags: CredentialFlags { shareable: self.shareable, guest: self.parent.is_some() },
            parent: self.parent,
        }
    }

    /// The key for `device`, signed by `issuer`.
    ///
    /// # Panics
    /// If ring fails to sign.
    pub fn sign(&self, issuer: &IssuerKey, device: DeviceKey) -> Credential {
        issuer.issue(self.body(device)).expect("the issuer signs the credential")
    }
}

/// What a door-sync bundle says.
#[derive(Debug, Clone)]
pub struct BundleSpec {
    /// The door it is for.
    pub door: DoorId,
    /// Its version.
    pub version: u32,
    /// The version its revocations are a delta from (0: a full bundle).
    pub base: u32,
    /// The backend's time when signing.
    pub signed_time: u32,
    /// The highest audit sequence number the backend has received.
    pub acknowledged: u64,
    /// The lock's configuration.
    pub config: LockConfig,
    /// Revoked credentials.
    pub revoked: Vec<Revocation>,
    /// `Some`: a format-3 bundle, carrying these serial prefixes and those of `revoked`.
    pub prefixes: Option<Vec<PrefixRevocation>>,
    /// The doorcode slots the lock accepts (`None`: a format-1 bundle, slots unchanged).
    pub doorcodes: Option<Vec<DoorcodeGrant>>,
}

impl BundleSpec {
    /// Version `version` for `door`, a delta from `base`, signed ten seconds after
    /// [`NOW`], with the default configuration and no revocations.
    pub fn new(door: DoorId, version: u32, base: u32) -> Self {
        Self {
            door,
            version,
            base,
            signed_time: NOW + 10,
            acknowledged: 0,
            config: LockConfig::default(),
            revoked: Vec::new(),
            prefixes: None,
            doorcodes: None,
        }
    }

    /// Makes it a format-3 bundle: revocations named by serial prefix (as the backend
    /// writes them), the doorcode section optional.
    pub fn in_format_3(mut self) -> Self {
        self.prefixes.get_or_insert_with(Vec::new);
        self
    }

    /// Also revokes these serial prefixes (a format-3 bundle).
    pub fn revoking_prefixes(mut self, entries: impl IntoIterator<Item = PrefixRevocation>) -> Self {
        self.prefixes.get_or_insert_with(Vec::new).extend(entries);
        self
    }

    /// Carries exactly these doorcode slots (a format-2 bundle).
    pub fn with_doorcodes(mut self, grants: &[DoorcodeGrant]) -> Self {
        self.doorcodes = Some(grants.to_vec());
        self
    }

    /// Also revokes `credential` until it expires.
    pub fn revoking(mut self, credential: &Credential) -> Self {
        self.revoked.push(Revocation { credential: credential.body.id, expires: credential.body.not_after });
        self
    }

    /// Also revokes each of `credentials` until `expires`.
    pub fn revoking_ids(mut self, credentials: &[CredentialId], expires: u32) -> Self {
        self.revoked.extend(credentials.iter().map(|c| Revocation { credential: *c, expires }));
        self
    }

    /// The bundle body (the issuer field is filled in when signing).
    pub fn body(&self) -> BundleBody {
        BundleBody {
            door: self.door,
            issuer: KeyId::default(),
            version: self.version,
            base_version: self.base,
            signed_time: self.signed_time,
            audit_acknowledged: self.acknowledged,
            config: self.config,
            revocations: match &self.prefixes {
                None => RevocationList::Ids(self.revoked.clone()),
                Some(prefixes) => RevocationList::Prefixes(
                    prefixes.iter().copied().chain(self.revoked.iter().map(Revocation::prefixed)).collect(),
                ),
            },
            doorcodes: self.doorcodes.clone(),
        }
    }

    /// The bundle, signed by `issuer`.
    ///
    /// # Panics
    /// If ring fails to sign.
    pub fn sign(&self, issuer: &IssuerKey) -> Bundle {
        issuer.sign_bundle(self.body()).expect("the issuer signs the bundle")
    }
}
