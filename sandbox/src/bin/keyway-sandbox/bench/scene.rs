//! A phone and a reference lock face to face, with no radio between them: the issuer,
//! a provisioned `keyway_lock::Lock`, a device key and its credential. The benches time
//! or count one side of each exchange.

use keyway_lock::{Lock, LockOptions, ManualRtc, MemoryStorage, Provisioning, SeededRandom};
use keyway_protocol::Command;
use keyway_protocol::bundle::{Bundle, BundleBody, LockConfig, Revocation};
use keyway_protocol::credential::{Credential, CredentialBody, CredentialFlags, DeviceKey, UnixSeconds};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId};
use keyway_protocol::issuer::IssuerKey;
use keyway_protocol::lock_role::LockOutput;
use keyway_protocol::phone::{AwaitingResponse, FastTicket, LockTarget, StandardUnlock, fast_unlock};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use std::sync::Arc;

/// The scene's clock: 2027-01-15.
pub const NOW: UnixSeconds = 1_800_000_000;
const DOOR: DoorId = DoorId(*b"benchdor");

/// The phone's side: the site's issuer (to sign bundles as the backend would), the device
/// key and its credential.
pub struct Phone {
    /// The site's issuer.
    pub issuer: IssuerKey,
    device: EcdsaKeyPair,
    /// The phone's credential for the door.
    pub credential: Credential,
    rng: SystemRandom,
}

/// A fresh issuer, lock (state in memory), device key and credential.
pub fn scene() -> Result<(Phone, Lock), String> {
    let issuer = IssuerKey::generate().map_err(|e| format!("issuer key: {e:?}"))?.0;
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| "device key")?;
    let device =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).map_err(|_| "device key")?;
    let options = LockOptions { rtc: Arc::new(ManualRtc::new(NOW)), random: Box::new(SeededRandom::new(7)) };
    let provisioning = Provisioning { door: DOOR, trust_anchors: vec![issuer.public_key().to_vec()] };
    let lock = Lock::open_or_provision(Box::new(MemoryStorage::new()), &provisioning, options)
        .map_err(|e| format!("lock: {e}"))?;
    let device_key = DeviceKey::from_uncompressed(device.public_key().as_ref()).map_err(|e| format!("{e:?}"))?;
    let credential = issuer
        .issue(CredentialBody {
            id: CredentialId([1; 16]),
            issuer: KeyId::default(),
            device_key,
            doors: vec![DOOR],
            not_before: NOW - 3600,
            not_after: NOW + 72 * 3600,
            flags: CredentialFlags { shareable: true, guest: false },
            parent: None,
        })
        .map_err(|e| format!("credential: {e:?}"))?;
    Ok((Phone { issuer, device, credential, rng }, lock))
}

/// What the phone learns from the lock's advertisement and the door record.
pub fn target(lock: &mut Lock) -> LockTarget {
    LockTarget { door: DOOR, lock_public_key: lock.public_key(), nonce: lock.advertisement().nonce }
}

impl Phone {
    /// The phone's whole part of building a standard request, device signature included.
    pub fn standard_request(&self, target: &LockTarget) -> Result<(AwaitingResponse, Vec<u8>), String> {
        let credential = self.credential.to_bytes();
        let unlock = StandardUnlock::begin(target, &credential, Command::Unlock, true, &self.rng)
            .map_err(|e| format!("begin: {e:?}"))?;
        let signature = self.device.sign(&self.rng, &unlock.signing_message()).map_err(|_| "device signature")?;
        let signature: [u8; 64] = signature.as_ref().try_into().map_err(|_| "signature length")?;
        Ok(unlock.finish(&signature))
    }

    /// The phone's part of building a fast request.
    pub fn fast_request(
        &self,
        target: &LockTarget,
        ticket: &FastTicket,
    ) -> Result<(AwaitingResponse, Vec<u8>), String> {
        fast_unlock(target.door, target.nonce, ticket, Command::Unlock, &self.rng).map_err(|e| format!("fast: {e:?}"))
    }

    /// A bundle revoking `count` credentials, as the backend would sign it.
    pub fn bundle(&self, version: u32, count: usize) -> Result<Bundle, String> {
        let revocations = (0..count)
            .map(|i| {
                let mut id = [0u8; 16];
                id[..8].copy_from_slice(&(i as u64 + 1000).to_be_bytes());
                Revocation { credential: CredentialId(id), expires: NOW + 72 * 3600 }
            })
            .collect();
        self.issuer
            .sign_bundle(BundleBody {
                door: DOOR,
                issuer: KeyId::default(),
                version,
                base_version: 0,
                signed_time: NOW,
                audit_acknowledged: 0,
                config: LockConfig::default(),
                revocations,
            })
            .map_err(|e| format!("bundle: {e:?}"))
    }
}

/// The lock's part of one message on a new connection: the function callgrind counts.
#[inline(never)]
pub fn lock_side(
    lock: &mut Lock,
    connection: Option<keyway_lock::ConnectionId>,
    message: &[u8],
) -> Result<(keyway_lock::ConnectionId, LockOutput), String> {
    let id = match connection {
        Some(id) => id,
        None => lock.connect(185).map_err(|e| format!("connect: {e}"))?,
    };
    let output = lock.on_message(id, message).map_err(|e| format!("lock: {e}"))?;
    Ok((id, output))
}
