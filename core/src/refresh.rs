//! Bringing the cache up to date while online: receipts out first (they are evidence),
//! then changed keys (incremental, from the last cursor), credential renewal before
//! lapse, and the newest door-sync bundles for offline doors that are behind.

use crate::api::{ApiError, unb64};
use crate::cache::{DoorRecord as Door, Key, KeyStatus, RevokeReason, StoredCredential};
use crate::crash::crash_point;
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::platform::secret_names::ticket_secret_name;
use crate::signin::clamp_time;
use crate::timestamp::Timestamp;

/// A count for the app (Kotlin `Int`, Swift `Int32`).
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
use keyway_api::endpoints::{GetBundle, GetProfile, IssueCredentials, ListKeys, ListPendingDoors};
use keyway_api::{AccessState, CredentialsRequest, CredentialsResponse, DoorView, KeysResponse, SignedBundle};
use keyway_protocol::anchor_update::DoorSyncDelivery;
use keyway_protocol::ids::DoorId;

const KEYS_CURSOR: &str = "keys_cursor";

/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RefreshSummary {
    /// Keys added or changed.
    pub keys_changed: i32,
    /// Keys found revoked (their credentials and tickets are gone from the device).
    pub keys_revoked: i32,
    /// Credentials issued or renewed.
    pub credentials_renewed: i32,
    /// Door-sync updates fetched for offline doors.
    pub updates_fetched: i32,
    /// Lock receipts handed to the service.
    pub receipts_uploaded: i32,
}

impl Keyway {
    /// Brings keys, credentials and bundles up to date and uploads waiting receipts.
    pub async fn refresh(&self) -> Result<RefreshSummary> {
        let result = self.refresh_inner().await;
        self.note_result(result)
    }

    async fn refresh_inner(&self) -> Result<RefreshSummary> {
        let _not_signing_out = self.inner.signing_out.read().await;
        let receipts_uploaded = match self.upload_receipts().await {
            Ok(n) => n,
            Err(e @ (Error::SessionEnded | Error::NotSignedIn)) => return Err(e),
            // They wait in the outbox; keys and revocations matter more than waiting on them.
            Err(e) => {
                tracing::info!(error = %e, "receipts stay in the outbox");
                0
            }
        };
        crash_point!("refresh.after_receipts");
        let mut summary = RefreshSummary { receipts_uploaded: count(receipts_uploaded), ..Default::default() };
        let cache = &self.inner.cache;
        let profile = self.inner.auth.call(&GetProfile {}).await?;
        crash_point!("refresh.after_profile");
        // The profile row and the accounts (its memberships), so both show offline.
        cache.store_profile(&crate::profile::convert_profile(profile))?;
        crash_point!("refresh.after_accounts_stored");
        let cursor = cache.meta(KEYS_CURSOR)?;
        let since = cursor.and_then(|c| c.parse().ok());
        let response = self.inner.auth.call(&ListKeys { since }).await?;
        crash_point!("refresh.after_keys_answer");
        let (keys, doors) = convert_keys(&response)?;
        summary.keys_changed = count(keys.len());
        summary.keys_revoked = count(keys.iter().filter(|k| k.is_revoked()).count());
        cache.upsert_doors(&doors)?;
        crash_point!("refresh.after_doors_stored");
        cache.upsert_keys(&keys)?;
        crash_point!("refresh.after_keys_stored");
        cache.mark_revoked(&response.revoked_grant_ids)?;
        crash_point!("refresh.after_revocations_stored");
        cache.set_meta(KEYS_CURSOR, &response.cursor.to_string())?;
        crash_point!("refresh.after_cursor_stored");
        self.forget_dead_tickets()?;

        // Door versions move without any key changing (someone else was revoked): ask
        // which of this person's offline doors are behind.
        let pending = self.inner.auth.call(&ListPendingDoors {}).await?;
        crash_point!("refresh.after_pending_answer");
        let behind: Vec<Door> = pending.doors.iter().filter_map(|d| convert_door(d).ok()).collect();
        cache.upsert_doors(&behind)?;
        crash_point!("refresh.after_pending_stored");

        summary.credentials_renewed = count(self.renew_credentials().await?);
        summary.updates_fetched = count(self.fetch_bundles().await?);
        crash_point!("refresh.done");
        self.inner.keys_changed.update(|n| n + 1);
        Ok(summary)
    }

    /// Renews when any active key lacks a credential, holds one that lapses soon, or holds
    /// one naming other doors than the key now holds (an administrator changed the key).
    async fn renew_credentials(&self) -> Result<usize> {
        let now = self.inner.platform.clock.now();
        let horizon = now.saturating_add(u32::try_from(self.inner.config.renew_before.as_secs()).unwrap_or(u32::MAX));
        let keys = self.inner.cache.keys()?;
        let held: std::collections::HashMap<i64, StoredCredential> =
            self.inner.cache.credentials()?.into_iter().map(|c| (c.grant_id, c)).collect();
        let due = keys.iter().filter(|k| k.is_active() && k.expires_at > Timestamp(now)).any(|k| {
            match held.get(&k.grant_id) {
                None => true,
                Some(c) if !names_exactly(c, &k.doors) => true,
                // Already covers the rest of the grant: nothing to renew.
                Some(c) if c.not_after >= k.expires_at.0 => false,
                Some(c) => c.not_after <= horizon,
            }
        });
        if !due {
            return Ok(0);
        }
        crash_point!("credentials.before_request");
        let all = IssueCredentials { body: CredentialsRequest { grant_id: None } };
        let response = self.inner.auth.call(&all).await?;
        crash_point!("credentials.after_answer");
        let valid = convert_credentials(response)?;
        let stored = self.inner.cache.store_credentials(&valid)?;
        crash_point!("credentials.after_store");
        Ok(stored)
    }

    /// Fetches the newest bundle for each offline door whose lock is behind.
    async fn fetch_bundles(&self) -> Result<usize> {
        let mut fetched = 0;
        for door in self.inner.cache.doors()? {
            if !door.sync_pending() {
                continue;
            }
            let held = self.inner.cache.bundle(&door.lock_id)?.map(|(v, _)| v).unwrap_or(0);
            if held >= door.bundle_version {
                continue;
            }
            match self.fetch_bundle(&door).await {
                Ok(()) => fetched += 1,
                // A door that became online, or that this person lost access to, is skipped.
                Err(Error::DoorOnline | Error::DoorUpToDate | Error::Internal { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(fetched)
    }

    /// Fetches the bundle for one door (a delta from what the lock last reported).
    pub(crate) async fn fetch_bundle(&self, door: &Door) -> Result<()> {
        let call = GetBundle { door_id: door.backend_id, since: Some(i64::from(door.synced_version)) };
        let view = self.inner.auth.call(&call).await?;
        crash_point!("bundle.after_answer");
        let (version, bytes) = check_bundle(&view, door)?;
        self.inner.cache.store_bundle(&door.lock_id, version, &bytes)?;
        crash_point!("bundle.after_store");
        Ok(())
    }

    /// Drops tickets for doors no live key opens any more.
    fn forget_dead_tickets(&self) -> Result<()> {
        let keys = self.inner.cache.keys()?;
        for door in self.inner.cache.doors()? {
            let live = keys.iter().any(|k| k.is_active() && k.doors.contains(&door.lock_id));
            if !live {
                self.inner.platform.secure_store.delete(&ticket_secret_name(&door.lock_id))?;
            }
        }
        Ok(())
    }
}

/// Whether a held credential names exactly `doors` (in any order).
fn names_exactly(credential: &StoredCredential, doors: &[DoorId]) -> bool {
    match keyway_protocol::credential::Credential::from_bytes(&credential.bytes) {
        Ok(c) => c.body.doors.len() == doors.len() && doors.iter().all(|d| c.body.opens(d)),
        Err(_) => false,
    }
}

fn parse_key65(s: &str) -> Result<[u8; 65]> {
    unb64(s)?.try_into().map_err(|_| Error::internal("lock key length"))
}

pub(crate) fn convert_door(d: &DoorView) -> Result<Door> {
    Ok(Door {
        lock_id: DoorId::from_hex(&d.lock_id).ok_or_else(|| Error::internal("lock id"))?,
        backend_id: d.id,
        name: d.name.clone(),
        online: d.online,
        lock_public_key: parse_key65(&d.lock_public_key)?,
        lock_signing_key: parse_key65(&d.lock_signing_public_key)?,
        bundle_version: u32::try_from(d.bundle_version).unwrap_or(0),
        synced_version: u32::try_from(d.synced_version).unwrap_or(0),
        synced_at: d.synced_at.map(clamp_time),
    })
}

pub(crate) fn convert_keys(response: &KeysResponse) -> Result<(Vec<Key>, Vec<Door>)> {
    let mut doors: Vec<Door> = Vec::new();
    let mut keys = Vec::with_capacity(response.keys.len());
    for k in &response.keys {
        let mut key_doors = Vec::with_capacity(k.doors.len());
        for d in &k.doors {
            // One malformed door record must not stop revocations and renewals for the rest.
            let door = match convert_door(d) {
                Ok(door) => door,
                Err(e) => {
                    tracing::warn!(door = d.id, error = %e, "door record skipped");
                    continue;
                }
            };
            key_doors.push(door.lock_id);
            if !doors.iter().any(|x| x.lock_id == door.lock_id) {
                doors.push(door);
            }
        }
        keys.push(Key {
            grant_id: k.grant_id,
            key_id: k.key_id,
            name: k.name.clone(),
            organisation: k.organisation.clone(),
            facility: k.facility.clone(),
            doors: key_doors,
            starts_at: Timestamp(clamp_time(k.starts_at)),
            expires_at: Timestamp(clamp_time(k.expires_at)),
            shareable: k.shareable,
            guest: k.guest,
            status: key_status(k),
        });
    }
    Ok((keys, doors))
}

/// Whether the key works at all, from the service's view of it.
fn key_status(k: &keyway_api::KeyView) -> KeyStatus {
    match k.access_state {
        AccessState::Revoked => KeyStatus::Revoked {
            reason: k.revoke_reason.map_or(RevokeReason::Other, RevokeReason::from),
            message: k.message.clone(),
        },
        AccessState::Suspended => KeyStatus::Suspended { message: k.message.clone() },
        AccessState::Active | AccessState::NotYetValid | AccessState::Expired => KeyStatus::Active,
    }
}

/// The credentials of an answer, decoded; those the lock would refuse to parse are dropped.
pub(crate) fn convert_credentials(response: CredentialsResponse) -> Result<Vec<StoredCredential>> {
    let credentials = response
        .credentials
        .into_iter()
        .map(|c| {
            Ok(StoredCredential {
                grant_id: c.grant_id,
                credential_id: c.credential_id,
                bytes: unb64(&c.credential)?,
                not_before: clamp_time(c.not_before),
                not_after: clamp_time(c.not_after),
            })
        })
        .collect::<std::result::Result<Vec<_>, ApiError>>()?;
    // A credential the lock would refuse to parse is not worth keeping.
    Ok(credentials
        .into_iter()
        .filter(|c| keyway_protocol::credential::Credential::from_bytes(&c.bytes).is_ok())
        .collect())
}

/// A fetched bundle's version and bytes, if it parses and is the one asked for `door`.
/// The bytes may start with a trust-anchor update for the lock; they are carried whole.
pub(crate) fn check_bundle(view: &SignedBundle, door: &Door) -> Result<(u32, Vec<u8>)> {
    let bytes = unb64(&view.bundle)?;
    let (_, bundle) = DoorSyncDelivery::parse(&bytes).map_err(|_| Error::internal("bundle does not parse"))?;
    if bundle.body.door != door.lock_id || i64::from(bundle.body.version) != view.version {
        return Err(Error::internal("bundle for another door or version"));
    }
    Ok((bundle.body.version, bytes))
}
