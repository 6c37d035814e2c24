//! The one seam between the backend and `keyway-protocol`: issuer keys, credential
//! issuance, door-sync bundle signing, trust-anchor updates and receipt verification.
//!
//! Every signature with an issuer key goes through [`SigningIssuer`], which carries the
//! key's place in its life ([`KeyLifecycle`]) as the database says it: an active key signs
//! everything, an outgoing one (replaced, still trusted by locks) only anchor updates and
//! credentials (for doors that have not yet learnt the new key, `issuer_keys.rs`), a
//! retired one nothing at all. The rule lives here, so no caller can forget it.
//!
//! Nothing else in the backend touches the protocol crate; the rest of the service works
//! with the plain structs below (ids as byte arrays, times as unix seconds).

use keyway_protocol::bundle::{BundleBody, LockConfig, PrefixRevocation, RevocationList};
use keyway_protocol::credential::{CredentialBody, CredentialFlags, DeviceKey};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId};
use keyway_protocol::issuer::{self, IssuerKey};
use keyway_protocol::receipt::AuditKind;

use crate::error::{Error, Result};

/// The most doors one credential can name (the protocol's limit).
pub const MAX_DOORS_PER_CREDENTIAL: usize = keyway_protocol::credential::MAX_DOORS;

/// A freshly generated issuer key: PKCS#8 private key (seal it!) and 65-byte public key.
pub struct GeneratedKey {
    /// PKCS#8 document of the private key.
    pub pkcs8: Vec<u8>,
    /// Uncompressed SEC1 public key.
    pub public_key: Vec<u8>,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GeneratedKey(..)")
    }
}

/// Generates a site's issuer key.
pub fn generate_key() -> Result<GeneratedKey> {
    let (key, pkcs8) = IssuerKey::generate().map_err(|e| Error::Internal(format!("issuer key: {e}")))?;
    Ok(GeneratedKey { pkcs8: pkcs8.to_vec(), public_key: key.public_key().to_vec() })
}

/// Where an issuer key is in its life (the `state` column of `issuer_keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLifecycle {
    /// The site's current key: signs credentials, bundles, clock resets, anchor updates.
    Active,
    /// Replaced by a newer key but still a trust anchor at locks that have not synced:
    /// signs anchor updates, and credentials for doors whose lock has not yet confirmed the
    /// new key (so their holders can still open them, and carry the update there); never
    /// a bundle or a clock reset.
    Outgoing,
    /// Removed from the locks' anchor sets: signs nothing.
    Retired,
}

impl KeyLifecycle {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Outgoing => "outgoing",
            Self::Retired => "retired",
        }
    }

    /// The lifecycle for a stored name.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "active" => Ok(Self::Active),
            "outgoing" => Ok(Self::Outgoing),
            "retired" => Ok(Self::Retired),
            _ => Err(Error::Internal("stored issuer key state".into())),
        }
    }
}

/// What a signature is for: each lifecycle state may make only some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Credential,
    Bundle,
    ClockReset,
    AnchorUpdate,
}

/// An issuer key opened for signing, with its lifecycle state. The private key lives only
/// in memory for the request (zeroed on drop).
pub struct SigningIssuer {
    pkcs8: zeroize::Zeroizing<Vec<u8>>,
    lifecycle: KeyLifecycle,
    /// The key parsed the first time it signs: a refresh signs many credentials with it.
    parsed: std::sync::OnceLock<IssuerKey>,
}

impl std::fmt::Debug for SigningIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIssuer").field("lifecycle", &self.lifecycle).finish_non_exhaustive()
    }
}

impl SigningIssuer {
    /// An opened key (`pkcs8`) in the state the database records for it.
    pub fn new(pkcs8: Vec<u8>, lifecycle: KeyLifecycle) -> Self {
        Self { pkcs8: zeroize::Zeroizing::new(pkcs8), lifecycle, parsed: std::sync::OnceLock::new() }
    }

    /// The opened private key (tests only: it must never reach storage or logs).
    #[cfg(test)]
    pub(crate) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key's lifecycle state.
    pub fn lifecycle(&self) -> KeyLifecycle {
        self.lifecycle
    }

    /// The key, if its state allows signing for `purpose`; [`Error::IssuerKeyRetired`]
    /// otherwise.
    fn key_for(&self, purpose: Purpose) -> Result<&IssuerKey> {
        let allowed = match self.lifecycle {
            KeyLifecycle::Active => true,
            KeyLifecycle::Outgoing => matches!(purpose, Purpose::AnchorUpdate | Purpose::Credential),
            KeyLifecycle::Retired => false,
        };
        if !allowed {
            tracing::warn!(?purpose, lifecycle = self.lifecycle.as_str(), "refused to sign with a replaced issuer key");
            return Err(Error::IssuerKeyRetired);
        }
        if let Some(key) = self.parsed.get() {
            return Ok(key);
        }
        let key = IssuerKey::from_pkcs8(&self.pkcs8).map_err(|e| Error::Internal(format!("stored issuer key: {e}")))?;
        Ok(self.parsed.get_or_init(|| key))
    }
}

/// The issuer key id: the first 8 bytes of SHA-256 of the uncompressed public key.
pub fn key_id(public_key: &[u8]) -> [u8; 8] {
    KeyId::of_public_key(public_key).0
}

/// A credential id as the backend mints it: the site's serial (big-endian) then 8 random
/// bytes (the layout lives in the protocol crate; the counter in `credential_ids`).
pub fn credential_id(serial: u64, random: [u8; 8]) -> [u8; 16] {
    CredentialId::from_serial(serial, random).0
}

/// Whether stored credential bytes name the issuer key `issuer_public_key` (false for
/// bytes that do not parse).
pub fn signed_by(credential: &[u8], issuer_public_key: &[u8]) -> bool {
    keyway_protocol::credential::Credential::from_bytes(credential)
        .is_ok_and(|c| c.body.issuer == KeyId::of_public_key(issuer_public_key))
}

/// What a credential says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSpec {
    /// Credential id.
    pub id: [u8; 16],
    /// Holder's device public key, 65-byte uncompressed.
    pub device_public_key: Vec<u8>,
    /// Lock ids of the doors it opens (1 to [`MAX_DOORS_PER_CREDENTIAL`]).
    pub doors: Vec<[u8; 8]>,
    /// Unix seconds when it starts to work.
    pub not_before: u32,
    /// Unix seconds when it stops working.
    pub not_after: u32,
    /// The holder may share it.
    pub shareable: bool,
    /// For guest keys: the sharing member's credential id (sets the guest flag).
    pub parent: Option<[u8; 16]>,
}

/// Signs a credential with the site's issuer key (active, or outgoing for doors that have
/// not learnt the new key); returns its wire bytes.
pub fn issue_credential(issuer: &SigningIssuer, spec: &CredentialSpec) -> Result<Vec<u8>> {
    let key = issuer.key_for(Purpose::Credential)?;
    let device_key = DeviceKey::from_uncompressed(&spec.device_public_key).map_err(|_| Error::InvalidDeviceKey)?;
    let body = CredentialBody {
        id: CredentialId(spec.id),
        issuer: key.key_id(),
        device_key,
        doors: spec.doors.iter().map(|d| DoorId(*d)).collect(),
        not_before: spec.not_before,
        not_after: spec.not_after,
        flags: CredentialFlags { shareable: spec.shareable, guest: spec.parent.is_some() },
        parent: spec.parent.map(CredentialId),
    };
    let credential = key.issue(body).map_err(|e| Error::Internal(format!("credential signing: {e}")))?;
    Ok(credential.to_bytes())
}

/// Signs many credentials, answers in the same order. From `parallel_from` credentials on,
/// the work is split across the machine's cores (ECDSA signing is most of an issuance).
pub fn issue_credentials(work: &[(&SigningIssuer, &CredentialSpec)], parallel_from: usize) -> Result<Vec<Vec<u8>>> {
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    if work.len() < parallel_from || cores < 2 {
        return work.iter().map(|(issuer, spec)| issue_credential(issuer, spec)).collect();
    }
    let chunk = work.len().div_ceil(cores);
    let parts: Vec<Result<Vec<Vec<u8>>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().map(|(issuer, spec)| issue_credential(issuer, spec)).collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::Internal("a signing thread panicked".into()))))
            .collect()
    });
    let mut out = Vec::with_capacity(work.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// What a door-sync bundle says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSpec {
    /// The door's lock id.
    pub door: [u8; 8],
    /// This bundle's version.
    pub version: u32,
    /// The version the revocation list is a delta from (0 = full list); below `version`.
    pub base_version: u32,
    /// Revoked credential ids added since `base_version`, each with the credential's expiry.
    pub revoked: Vec<([u8; 16], u32)>,
    /// How long the latch stays open, in milliseconds.
    pub unlock_ms: u16,
    /// Whether the lock accepts fast (ticket) unlocks.
    pub fast_unlock: bool,
    /// The backend's time when signing, unix seconds.
    pub signed_time: u32,
    /// Highest audit sequence number the backend has stored for this door.
    pub audit_acknowledged: u64,
    /// Every doorcode slot the lock accepts (`None`: the door has no doorcodes; the
    /// bundle then leaves the lock's slots as they are).
    pub doorcodes: Option<Vec<keyway_protocol::bundle::DoorcodeGrant>>,
}

/// Signs a bundle with the site's issuer key (active only); returns its wire bytes. Always
/// format 3: each revoked credential named by its 8-byte serial prefix, its expiry rounded
/// up to the hour so that entries share a few expiry groups (the lock keeps an entry at
/// most an hour longer than it must).
pub fn sign_bundle(issuer: &SigningIssuer, spec: &BundleSpec) -> Result<Vec<u8>> {
    let key = issuer.key_for(Purpose::Bundle)?;
    let body = BundleBody {
        door: DoorId(spec.door),
        issuer: key.key_id(),
        version: spec.version,
        base_version: spec.base_version,
        signed_time: spec.signed_time,
        audit_acknowledged: spec.audit_acknowledged,
        config: LockConfig { unlock_duration_ms: spec.unlock_ms, fast_unlock: spec.fast_unlock },
        revocations: RevocationList::Prefixes(
            spec.revoked.iter().map(|(id, expires)| PrefixRevocation::rounded(&CredentialId(*id), *expires)).collect(),
        ),
        doorcodes: spec.doorcodes.clone(),
    };
    let bundle = key.sign_bundle(body).map_err(|e| Error::Internal(format!("bundle signing: {e}")))?;
    Ok(bundle.to_bytes())
}

/// Signs a clock reset for one lock (active key only): the door's lock id, the nonce
/// the lock advertised, and the time to set. Returns its wire bytes.
pub fn sign_clock_reset(issuer: &SigningIssuer, door: [u8; 8], nonce: [u8; 8], time: u32) -> Result<Vec<u8>> {
    use keyway_protocol::clock_reset::ClockResetBody;
    use keyway_protocol::ids::LockNonce;
    let key = issuer.key_for(Purpose::ClockReset)?;
    let body = ClockResetBody { door: DoorId(door), issuer: key.key_id(), nonce: LockNonce(nonce), time };
    let reset = key.sign_clock_reset(body).map_err(|e| Error::Internal(format!("clock reset signing: {e}")))?;
    Ok(reset.to_bytes())
}

/// Signs a trust-anchor update for one door (active or outgoing key): the door's lock id,
/// the site's anchor-set version and the whole new set (65-byte public keys). Returns its
/// wire bytes, which travel in front of the door's bundles.
pub fn sign_anchor_update(issuer: &SigningIssuer, door: [u8; 8], version: u32, anchors: &[Vec<u8>]) -> Result<Vec<u8>> {
    use keyway_protocol::anchor_update::{AnchorUpdate, AnchorUpdateBody, MAX_TRUST_ANCHORS};
    let key = issuer.key_for(Purpose::AnchorUpdate)?;
    if anchors.is_empty() || anchors.len() > MAX_TRUST_ANCHORS {
        return Err(Error::Internal("an anchor set must hold 1 to 16 keys".into()));
    }
    let anchors = anchors
        .iter()
        .map(|a| <[u8; 65]>::try_from(a.as_slice()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| Error::Internal("stored issuer public key has the wrong length".into()))?;
    let body = AnchorUpdateBody { door: DoorId(door), signer: key.key_id(), version, anchors };
    let update = key.sign_anchor_update(body).map_err(|e| Error::Internal(format!("anchor update signing: {e}")))?;
    // What the lock will parse: refuse to publish anything it would refuse as malformed.
    AnchorUpdate::from_bytes(&update.to_bytes()).map_err(|e| Error::Internal(format!("anchor update: {e}")))?;
    Ok(update.to_bytes())
}

/// One audit event reported by a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptEvent {
    /// Lock-monotonic sequence number; events are stored once per (door, seq).
    pub seq: u64,
    /// Lock time of the event, unix seconds.
    pub at: u32,
    /// What happened: `granted`, `granted_fast`, `refused`, `bundle_applied`,
    /// `refusals_coalesced` (refusals past the lock's budget, counted), `clock_reset`.
    pub kind: String,
    /// Detail: the refusal's wire code, the bundle version applied, `count << 8 | code`
    /// for coalesced refusals, or the lock's clock before a reset.
    pub detail: Option<u32>,
    /// The credential involved, if any.
    pub credential_id: Option<[u8; 16]>,
}

/// What a lock's signed receipt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptSpec {
    /// The lock id.
    pub door: [u8; 8],
    /// The bundle version the lock now runs.
    pub version_applied: u32,
    /// The lock's clock when it signed, unix seconds.
    pub lock_clock: u32,
    /// More events wait for the next receipt.
    pub more_pending: bool,
    /// Audit events since the last acknowledged one.
    pub events: Vec<ReceiptEvent>,
}

/// Verifies a receipt with the lock's 65-byte signing public key and returns what it says.
pub fn verify_receipt(lock_signing_public_key: &[u8], bytes: &[u8]) -> Result<ReceiptSpec> {
    let receipt = issuer::verify_receipt(lock_signing_public_key, bytes).map_err(|_| Error::ReceiptInvalid)?;
    let b = receipt.body;
    Ok(ReceiptSpec {
        door: b.door.0,
        version_applied: b.bundle_version,
        lock_clock: b.lock_clock,
        more_pending: b.more_pending,
        events: b
            .events
            .iter()
            .map(|e| {
                let (kind, detail) = match e.kind {
                    AuditKind::Granted { fast: false } => ("granted", None),
                    AuditKind::Granted { fast: true } => ("granted_fast", None),
                    AuditKind::Refused(r) => ("refused", Some(u32::from(r.code()))),
                    AuditKind::BundleApplied { version } => ("bundle_applied", Some(version)),
                    kind @ AuditKind::RefusalsCoalesced { .. } => ("refusals_coalesced", Some(kind.encode().1)),
                    AuditKind::ClockReset { previous } => ("clock_reset", Some(previous)),
                    AuditKind::DoorcodeGranted { slot } => ("doorcode_granted", Some(slot)),
                    AuditKind::DoorcodeWrong { consecutive } => ("doorcode_wrong", Some(consecutive)),
                    AuditKind::KeypadLockedOut { seconds } => ("keypad_locked_out", Some(seconds)),
                };
                ReceiptEvent {
                    seq: e.seq,
                    at: e.time,
                    kind: kind.to_owned(),
                    detail,
                    credential_id: e.credential.map(|c| c.0),
                }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyway_protocol::bundle::Bundle;
    use keyway_protocol::credential::Credential;

    #[test]
    fn an_issued_credential_verifies_with_the_issuer_key_and_names_the_parent() {
        let issuer = generate_key().unwrap();
        let device = generate_key().unwrap();
        let spec = CredentialSpec {
            id: [1; 16],
            device_public_key: device.public_key.clone(),
            doors: vec![[2; 8]],
            not_before: 10,
            not_after: 20,
            shareable: false,
            parent: Some([9; 16]),
        };
        let bytes = issue_credential(&SigningIssuer::new(issuer.pkcs8.clone(), KeyLifecycle::Active), &spec).unwrap();
        let cred = Credential::from_bytes(&bytes).unwrap();
        issuer::verify_credential(&issuer.public_key, &cred).unwrap();
        assert!(issuer::verify_credential(&device.public_key, &cred).is_err());
        assert!(cred.body.flags.guest);
        assert_eq!(cred.body.parent, Some(CredentialId([9; 16])));
        assert_eq!(cred.body.issuer.0, key_id(&issuer.public_key));
    }

    #[test]
    fn a_signed_bundle_verifies_with_the_issuer_key() {
        let issuer = generate_key().unwrap();
        let spec = BundleSpec {
            door: [3; 8],
            version: 4,
            base_version: 1,
            revoked: vec![([5; 16], 99)],
            unlock_ms: 5000,
            fast_unlock: true,
            signed_time: 50,
            audit_acknowledged: 0,
            doorcodes: None,
        };
        let bytes = sign_bundle(&SigningIssuer::new(issuer.pkcs8.clone(), KeyLifecycle::Active), &spec).unwrap();
        let bundle = Bundle::from_bytes(&bytes).unwrap();
        issuer::verify_bundle(&issuer.public_key, &bundle).unwrap();
        assert_eq!(bundle.body.revocations.len(), 1);
        assert_eq!(bytes[0], keyway_protocol::bundle::BUNDLE_VERSION_PREFIXES);
        assert!(bundle.body.revocations.names(&CredentialId([5; 16])));
        assert!(bundle.body.revocations.prefixes().all(|r| r.expires == 3600));
    }

    #[test]
    fn garbage_is_not_a_receipt() {
        let lock = generate_key().unwrap();
        assert!(matches!(verify_receipt(&lock.public_key, b"nope"), Err(Error::ReceiptInvalid)));
    }
}
