//! Keys, doors and accounts, offline-first: what the key list and door screens show,
//! read from the phone's cache, and `refresh()` to bring it up to date while online.

use crate::errors::{KeywayError, Result, time};
use crate::keyway::Keyway;
use crate::runtime::run;
use keyway_protocol::ids::DoorId;
use std::time::SystemTime;

uniffi::custom_type!(DoorId, String, {
    remote,
    lower: |door| door.to_hex(),
    try_lift: |hex| DoorId::from_hex(&hex).ok_or_else(|| KeywayError::UnknownDoor.into()),
});

/// An account (organisation) the person belongs to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Account {
    /// The organisation's id at the service.
    pub org_id: i64,
    /// Its name.
    pub organisation: String,
    /// The person's role there.
    pub role: String,
}

/// A key: access to some doors for a window of time.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Key {
    /// The handle for sharing this key.
    pub grant_id: i64,
    /// Display name.
    pub name: String,
    /// The organisation it belongs to.
    pub organisation: String,
    /// The facility.
    pub facility: String,
    /// The doors it opens.
    pub doors: Vec<DoorId>,
    /// When access starts.
    pub starts_at: SystemTime,
    /// When access ends.
    pub expires_at: SystemTime,
    /// The holder may share it with a guest.
    pub shareable: bool,
    /// A key someone shared with this person.
    pub guest: bool,
    /// Revoked (by an administrator, the member who shared it, or with the key it came from).
    pub revoked: bool,
}

/// A door the person holds (or held) a key for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Door {
    /// Its id (what the lock advertises); pass it to `unlock` and `syncDoor`.
    pub id: DoorId,
    /// Display name.
    pub name: String,
    /// Online doors get changes through the cloud; offline doors through door sync.
    pub online: bool,
    /// An offline door is behind the service: a door sync would bring it up to date.
    pub sync_pending: bool,
    /// When the lock last reported to this phone, if ever.
    pub synced_at: Option<SystemTime>,
}

/// What a door's screen shows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AccessState {
    /// The door can be opened, offline too, until `until` (renewed silently while online).
    Ready {
        /// When the phone's credential lapses unless renewed.
        until: SystemTime,
    },
    /// Access starts later.
    StartsAt {
        /// When.
        starts_at: SystemTime,
    },
    /// Access has ended.
    Expired {
        /// When.
        expired_at: SystemTime,
    },
    /// Every key for the door was revoked.
    Revoked,
    /// A key exists but the phone must go online once to fetch its credential.
    AwaitingCredential,
    /// No key for this door.
    NoAccess,
}

/// What a refresh changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct RefreshSummary {
    /// Keys added or changed.
    pub keys_changed: u32,
    /// Keys found revoked.
    pub keys_revoked: u32,
    /// Credentials issued or renewed.
    pub credentials_renewed: u32,
    /// Door-sync updates fetched for offline doors.
    pub updates_fetched: u32,
    /// Lock receipts handed to the service.
    pub receipts_uploaded: u32,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<keyway_core::cache::Key> for Key {
    fn from(k: keyway_core::cache::Key) -> Self {
        Self {
            grant_id: k.grant_id,
            name: k.name,
            organisation: k.organisation,
            facility: k.facility,
            doors: k.doors,
            starts_at: time(k.starts_at),
            expires_at: time(k.expires_at),
            shareable: k.shareable,
            guest: k.guest,
            revoked: k.revoked,
        }
    }
}

#[uniffi::export]
impl Keyway {
    /// The accounts (organisations) the person belongs to.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self
            .core
            .accounts()?
            .into_iter()
            .map(|a| Account { org_id: a.org_id, organisation: a.organisation, role: a.role })
            .collect())
    }

    /// Every key across every account; revoked ones too (they show as revoked).
    pub fn keys(&self) -> Result<Vec<Key>> {
        Ok(self.core.keys()?.into_iter().map(Key::from).collect())
    }

    /// Every door the person holds or held a key for.
    pub fn doors(&self) -> Result<Vec<Door>> {
        Ok(self
            .core
            .doors()?
            .into_iter()
            .map(|d| Door {
                id: d.lock_id,
                sync_pending: d.sync_pending(),
                name: d.name,
                online: d.online,
                synced_at: d.synced_at.map(time),
            })
            .collect())
    }

    /// What the door's screen shows now (from the phone's cache; works offline).
    pub fn access_state(&self, door: DoorId) -> Result<AccessState> {
        use keyway_core::cache::AccessState as Core;
        Ok(match self.core.access_state(&door)? {
            Core::Ready { until } => AccessState::Ready { until: time(until) },
            Core::StartsAt { starts_at } => AccessState::StartsAt { starts_at: time(starts_at) },
            Core::Expired { expired_at } => AccessState::Expired { expired_at: time(expired_at) },
            Core::Revoked => AccessState::Revoked,
            Core::AwaitingCredential => AccessState::AwaitingCredential,
            Core::NoAccess => AccessState::NoAccess,
        })
    }

    /// Brings keys, credentials and door-sync updates up to date and hands in waiting lock
    /// receipts. Call it when the app comes to the foreground.
    pub async fn refresh(&self) -> Result<RefreshSummary> {
        let core = self.core.clone();
        let s = run(async move { core.refresh().await }).await?;
        Ok(RefreshSummary {
            keys_changed: count(s.keys_changed),
            keys_revoked: count(s.keys_revoked),
            credentials_renewed: count(s.credentials_renewed),
            updates_fetched: count(s.bundles_fetched),
            receipts_uploaded: count(s.receipts_uploaded),
        })
    }
}
