//! At the door: `unlock(door)` works offline from the cache, carries a newer door-sync
//! bundle if the lock is behind, and keeps the lock's receipt in the outbox until the
//! backend has it. `sync_door(door)` does a door sync on demand, with progress.

use crate::api::{ApiError, b64};
use crate::ble::{self, DoorKey, LockVisit, PendingBundle, UnlockError, UnlockPath, UnlockPhase, UnlockTimings};
use crate::cache::{AccessState, DoorRecord as Door, StoredCredential};
use crate::crash::crash_point;
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::listeners::{DoorSyncProgress, DoorSyncStage, TaskHandle};
use crate::operation::CancelToken;
use crate::platform::secret_names::ticket_secret_name;
use crate::timestamp::Timestamp;
use keyway_api::ReceiptUpload;
use keyway_api::endpoints::UploadReceipt;
use keyway_protocol::ids::{DoorId, TicketId};
use keyway_protocol::phone::FastTicket;
use keyway_protocol::{Command, Refusal};
use zeroize::Zeroizing;

/// A stored ticket: the credential it was earned with, its id and secret.
const TICKET_LEN: usize = 16 + 16 + 32;

/// The result of an on-demand door sync.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DoorSyncOutcome {
    /// The door.
    pub door: DoorId,
    /// The update version the lock runs now.
    pub lock_version: i64,
    /// The service has the lock's receipt (false: it waits on the phone and goes with
    /// the next refresh).
    pub receipt_delivered: bool,
}

/// A door that opened, as the app sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct UnlockOutcome {
    /// The door.
    pub door: DoorId,
    /// Standard or fast.
    pub path: UnlockPath,
    /// Per-phase timings.
    pub timings: UnlockTimings,
    /// The lock's clock when it answered.
    pub lock_time: Timestamp,
    /// This phone carried a newer door-sync update to the lock on the way.
    pub carried_door_sync: bool,
}

impl LockVisit {
    /// What the app is told about the visit to `door`.
    pub fn outcome(&self, door: DoorId) -> UnlockOutcome {
        UnlockOutcome {
            door,
            path: self.path,
            timings: self.timings,
            lock_time: Timestamp(self.lock_clock),
            carried_door_sync: self.sync.as_ref().is_some_and(|s| s.applied.is_ok()),
        }
    }

    /// The lock refused the partial update it was given because it waits for a full one
    /// (a clock reset moved its clock back, docs/protocol.md §6.4).
    fn lock_awaits_full_bundle(&self) -> bool {
        self.sync.as_ref().is_some_and(|s| s.applied == Err(Refusal::BundleGap))
    }
}

/// Holds the radio for one unlock or door sync; lets the next one in when dropped.
struct RadioTurn<'a> {
    keyway: &'a Keyway,
    token: CancelToken,
    _radio: tokio::sync::MutexGuard<'a, ()>,
}

impl Drop for RadioTurn<'_> {
    fn drop(&mut self) {
        let mut running = self.keyway.inner.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if running.as_ref().is_some_and(|t| t.same_as(&self.token)) {
            *running = None;
        }
    }
}

impl Keyway {
    /// Opens a door. Works offline: everything it needs is on the phone.
    pub async fn unlock(&self, door: &DoorId) -> Result<LockVisit> {
        self.unlock_with(door, &CancelToken::new(), &|_| {}).await
    }

    /// Takes the radio for a new unlock or door sync. The newest call wins: one already
    /// running is cancelled, and this one waits only for it to stop scanning and drop its
    /// link. Returns `Cancelled` if `token` is cancelled first.
    async fn radio_turn(&self, token: &CancelToken) -> Result<RadioTurn<'_>> {
        let earlier =
            self.inner.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).replace(token.clone());
        if let Some(earlier) = earlier {
            tracing::info!("a newer unlock or door sync cancels the one running");
            earlier.cancel();
        }
        let radio = tokio::select! {
            radio = self.inner.radio.lock() => radio,
            () = token.cancelled() => return Err(Error::Cancelled),
        };
        if token.is_cancelled() {
            return Err(Error::Cancelled);
        }
        Ok(RadioTurn { keyway: self, token: token.clone(), _radio: radio })
    }

    /// Opens a door, stopping at once if `cancel` is cancelled; `on_phase` hears each
    /// phase (scan, connect, handshake, door sync) as it starts.
    pub async fn unlock_with(
        &self,
        door: &DoorId,
        cancel: &CancelToken,
        on_phase: &(dyn Fn(UnlockPhase) + Send + Sync),
    ) -> Result<LockVisit> {
        let turn = self.radio_turn(cancel).await?;
        let (door_record, key) = self.door_key(door)?;
        let unsent_ticket = key.ticket.clone();
        let on_progress = |progress: ble::Progress| {
            if let ble::Progress::Phase(phase) = progress {
                on_phase(phase);
            }
        };
        let mut result = self.visit(key, Command::Unlock, &turn.token, &on_progress).await;
        // The lock's clock is wrong (it refused a key valid by ours): repair it with a
        // signed reset from the service, then try once more (rtc_jump, lock_clock.rs).
        if let Err(UnlockError::LockClockWrong { lock_clock }) = result {
            let key = self.after_clock_repair(&door_record, lock_clock, &turn.token).await?;
            result = self.visit(key, Command::Unlock, &turn.token, &on_progress).await;
        }
        let outcome = match result {
            Ok(outcome) => {
                crash_point!("unlock.after_lock_reply");
                outcome
            }
            Err(e) => {
                if never_reached_the_lock(&e)
                    && let Some(ticket) = unsent_ticket
                {
                    // The ticket never left the phone: it is still good for the next try.
                    self.keep_ticket(&door_record, &ticket);
                }
                return Err(e.into());
            }
        };
        self.after_lock_contact(&door_record, &outcome)?;
        drop(turn);
        if outcome.lock_awaits_full_bundle() {
            // The door is open. A door sync right after carries the full bundle; a newer
            // unlock or sync cancels it, as any radio turn.
            tracing::info!(door = %door, "the lock refused a delta; a door sync follows with the full bundle");
            let me = self.clone();
            let door = *door;
            self.inner.runtime.spawn(async move {
                if let Err(e) = me.sync_door(&door).await {
                    tracing::info!(door = %door, error = %e, "the follow-up door sync did not finish");
                }
            });
        }
        Ok(outcome)
    }

    /// One visit to the lock over the radio with `key`: `command` is an unlock or a door
    /// sync only; `progress` hears each phase and each bundle frame.
    async fn visit(
        &self,
        key: DoorKey,
        command: Command,
        token: &CancelToken,
        progress: &(dyn Fn(ble::Progress) + Send + Sync),
    ) -> std::result::Result<LockVisit, UnlockError> {
        ble::unlock(
            self.inner.platform.ble.as_ref(),
            self.inner.platform.signer.as_ref(),
            key,
            command,
            self.inner.platform.clock.now(),
            &self.inner.config.unlock,
            token,
            progress,
        )
        .await
    }

    /// Repairs the clock of `door`'s lock, which reads `lock_clock`, and returns the key
    /// to try again with: carrying the full bundle the lock waits for after a reset back.
    async fn after_clock_repair(&self, door: &Door, lock_clock: u32, token: &CancelToken) -> Result<DoorKey> {
        tracing::warn!(door = %door.lock_id, lock_clock, "the lock's clock is wrong; repairing it");
        let full = self.repair_lock_clock(door, lock_clock, token).await?;
        let (_, mut key) = self.door_key(&door.lock_id)?;
        if full.is_some() {
            key.bundle = full;
        }
        Ok(key)
    }

    /// Runs a door sync now: fetches the newest bundle if online, delivers it over
    /// Bluetooth, and uploads the lock's receipt. Progress goes to the door-sync listeners.
    pub async fn sync_door(&self, door: &DoorId) -> Result<DoorSyncOutcome> {
        self.sync_door_with(door, &CancelToken::new(), &|_| {}).await
    }

    /// A door sync that stops at once if `cancel` is cancelled. Its progress events carry
    /// their own sync id; they go to `on_progress` and to the door-sync listeners.
    pub async fn sync_door_with(
        &self,
        door: &DoorId,
        cancel: &CancelToken,
        on_progress: &(dyn Fn(DoorSyncProgress) + Send + Sync),
    ) -> Result<DoorSyncOutcome> {
        let sync_id = self.inner.next_sync_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let emit = |event: DoorSyncProgress| {
            on_progress(event);
            self.inner.door_sync.emit(event);
        };
        let report = |stage: DoorSyncStage, version: Option<u32>| {
            emit(DoorSyncProgress {
                sync_id,
                door: *door,
                stage,
                version: version.map(i64::from),
                bytes_sent: None,
                bytes_total: None,
            });
        };
        // Bundle bytes in steps of 5 %: a large bundle is a thousand frames.
        let last_step = std::sync::atomic::AtomicUsize::new(usize::MAX);
        let bytes = |version: Option<u32>, sent: usize, total: usize| {
            let step = sent.saturating_mul(20) / total.max(1);
            if last_step.swap(step, std::sync::atomic::Ordering::Relaxed) != step {
                emit(DoorSyncProgress {
                    sync_id,
                    door: *door,
                    stage: DoorSyncStage::SendingBundle,
                    version: version.map(i64::from),
                    bytes_sent: i64::try_from(sent).ok(),
                    bytes_total: i64::try_from(total).ok(),
                });
            }
        };
        let result = self.sync_door_inner(door, cancel, &report, &bytes).await;
        if result.is_err() {
            report(DoorSyncStage::Failed, None);
        }
        self.note_result(result)
    }

    async fn sync_door_inner(
        &self,
        door: &DoorId,
        cancel: &CancelToken,
        report: &(dyn Fn(DoorSyncStage, Option<u32>) + Send + Sync),
        bytes: &(dyn Fn(Option<u32>, usize, usize) + Send + Sync),
    ) -> Result<DoorSyncOutcome> {
        let record = self.inner.cache.door(door)?.ok_or(Error::UnknownDoor)?;
        if record.online {
            return Err(Error::DoorOnline);
        }
        report(DoorSyncStage::FetchingUpdate, None);
        match self.fetch_bundle(&record).await {
            // Offline: the bundle already held is still worth carrying. Up to date: the
            // sync still collects the lock's receipt (its audit events, its version).
            Ok(()) | Err(Error::Offline | Error::ServiceUnavailable | Error::DoorUpToDate) => {}
            Err(e) => return Err(e),
        }
        crash_point!("door_sync.after_bundle_fetch");
        let (record, key) = self.door_key(door)?;
        // Deliver whatever is held, even if the advertisement claimed the lock is current:
        // the lock answers with a receipt either way.
        let version = key.bundle.as_ref().map(|b| b.version);
        report(DoorSyncStage::Connecting, version);
        let turn = self.radio_turn(cancel).await?;
        let on_progress = |progress: ble::Progress| {
            if let ble::Progress::BundleBytes { sent, total } = progress {
                bytes(version, sent, total);
            }
        };
        let mut result = self.visit(key, Command::SyncOnly, &turn.token, &on_progress).await;
        // A lock whose clock is wrong cannot check any key: repair it and sync again.
        if let Err(UnlockError::LockClockWrong { lock_clock }) = result {
            let key = self.after_clock_repair(&record, lock_clock, &turn.token).await?;
            result = self.visit(key, Command::SyncOnly, &turn.token, &on_progress).await;
        }
        let mut outcome = result?;
        // A lock waiting for a full bundle gets it in the same sync.
        if outcome.lock_awaits_full_bundle()
            && let Some(full) = self.awaited_full_bundle(&record).await
        {
            tracing::info!(door = %door, "the lock waits for a full bundle; carrying one");
            self.after_lock_contact(&record, &outcome)?;
            let (_, mut key) = self.door_key(door)?;
            key.bundle = Some(full);
            outcome = self.visit(key, Command::SyncOnly, &turn.token, &on_progress).await?;
        }
        drop(turn);
        crash_point!("door_sync.after_lock_reply");
        // The lock refused the update (a lock that already runs it answers `BundleNotNewer`:
        // that is a sync like any other). Its receipt still goes to the service.
        let refused = match outcome.sync.as_ref().map(|s| s.applied) {
            Some(Err(reason)) if reason != Refusal::BundleNotNewer => Some(reason),
            _ => None,
        };
        if refused.is_none() {
            report(DoorSyncStage::Applied, Some(outcome.lock_bundle_version));
        }
        let lock_version = self.after_lock_contact(&record, &outcome)?;
        crash_point!("door_sync.after_lock_contact_kept");
        if let Some(reason) = refused {
            tracing::warn!(door = %door, ?reason, "the lock refused the update");
            if let Err(e) = self.upload_receipts().await {
                tracing::info!(door = %door, error = %e, "receipt stays in the outbox");
            }
            return Err(UnlockError::LockRefused { reason }.into());
        }
        report(DoorSyncStage::UploadingReceipt, Some(lock_version));
        let receipt_delivered = match self.upload_receipts().await {
            Ok(_) => self.inner.cache.pending_receipts()?.iter().all(|r| r.lock_id != *door),
            Err(e @ (Error::SessionEnded | Error::NotSignedIn)) => return Err(e),
            // The lock is synced; its receipt waits in the outbox for the next refresh.
            Err(e) => {
                tracing::info!(door = %door, error = %e, "receipt stays in the outbox");
                false
            }
        };
        crash_point!("door_sync.after_receipt_upload");
        report(DoorSyncStage::Done, Some(lock_version));
        Ok(DoorSyncOutcome { door: *door, lock_version: i64::from(lock_version), receipt_delivered })
    }

    /// Subscribes to the progress of every door sync from now on, in order; each event
    /// carries its sync's id. Nothing is replayed from an earlier sync.
    pub fn subscribe_door_sync(&self, on_progress: impl Fn(DoorSyncProgress) + Send + Sync + 'static) -> TaskHandle {
        self.inner.door_sync.subscribe(&self.inner.runtime, on_progress)
    }

    /// Subscribes to the session state: current first, then changes.
    pub fn subscribe_session(
        &self,
        on_change: impl Fn(crate::listeners::SessionState) + Send + Sync + 'static,
    ) -> TaskHandle {
        self.inner.session.subscribe(&self.inner.runtime, on_change)
    }

    /// Subscribes to the keys: called with the current keys first, then after each change.
    pub fn subscribe_keys(&self, on_change: impl Fn(Vec<crate::cache::Key>) + Send + Sync + 'static) -> TaskHandle {
        let cache = self.inner.cache.clone();
        self.inner.keys_changed.subscribe(&self.inner.runtime, move |_| match cache.keys() {
            Ok(keys) => on_change(keys),
            Err(e) => tracing::warn!(error = %e, "keys unavailable for a listener"),
        })
    }

    /// What the unlock needs, from the cache and the secure store; or why there is nothing.
    fn door_key(&self, door: &DoorId) -> Result<(Door, DoorKey)> {
        let now = self.inner.platform.clock.now();
        let record = self.inner.cache.door(door)?.ok_or(Error::NoKeyForDoor)?;
        let Some(credential) = self.inner.cache.credential_for_door(door, now)? else {
            return Err(match self.inner.cache.access_state(door, now)? {
                AccessState::StartsAt { starts_at } => UnlockError::KeyNotYetValid { starts_at: starts_at.0 }.into(),
                AccessState::Expired { expired_at } => UnlockError::KeyExpired { expired_at: expired_at.0 }.into(),
                AccessState::Revoked => UnlockError::KeyRevoked.into(),
                AccessState::Suspended => Error::AccessSuspended,
                AccessState::AwaitingCredential => Error::CredentialMissing,
                AccessState::Ready { .. } | AccessState::NoAccess => Error::NoKeyForDoor,
            });
        };
        let ticket = self.take_ticket(door, &credential)?;
        let bundle = if record.online {
            None
        } else {
            self.inner.cache.bundle(door)?.map(|(version, bytes)| PendingBundle { version, bytes, awaited_full: false })
        };
        let key = DoorKey {
            door: *door,
            lock_public_key: record.lock_public_key,
            credential: credential.bytes,
            not_before: credential.not_before,
            not_after: credential.not_after,
            ticket,
            bundle,
        };
        Ok((record, key))
    }

    /// Takes the door's ticket out of the secure store (it is spent by any attempt), if
    /// it was earned with the credential in use now.
    fn take_ticket(&self, door: &DoorId, credential: &StoredCredential) -> Result<Option<FastTicket>> {
        let store = &self.inner.platform.secure_store;
        let name = ticket_secret_name(door);
        let Some(bytes) = store.get(&name)? else { return Ok(None) };
        store.delete(&name)?;
        crash_point!("ticket.after_taken");
        if bytes.len() != TICKET_LEN || bytes[..16] != credential_id_bytes(&credential.credential_id)[..] {
            return Ok(None);
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&bytes[16..32]);
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&bytes[32..]);
        Ok(Some(FastTicket { door: *door, id: TicketId(id), secret }))
    }

    /// Keeps what the lock handed back: the next ticket, its bundle version, the receipt.
    /// Returns the lock's bundle version now.
    fn after_lock_contact(&self, door: &Door, outcome: &LockVisit) -> Result<u32> {
        let now = self.inner.platform.clock.now();
        let version = self.keep_receipt(door, outcome, now)?;
        if let Some(ticket) = &outcome.ticket {
            self.keep_ticket(door, ticket);
        }
        Ok(version)
    }

    /// Stores a ticket for the credential in use now. A failure costs the next visit its
    /// fast path: worth a log line, never an error for a door that opened.
    fn keep_ticket(&self, door: &Door, ticket: &FastTicket) {
        let now = self.inner.platform.clock.now();
        let credential = match self.inner.cache.credential_for_door(&door.lock_id, now) {
            Ok(Some(credential)) => credential,
            _ => return,
        };
        let mut bytes = Zeroizing::new(Vec::with_capacity(TICKET_LEN));
        bytes.extend_from_slice(&credential_id_bytes(&credential.credential_id));
        bytes.extend_from_slice(&ticket.id.0);
        bytes.extend_from_slice(ticket.secret.as_ref());
        if let Err(e) = self.inner.platform.secure_store.set(&ticket_secret_name(&door.lock_id), &bytes) {
            tracing::warn!(door = %door.lock_id, error = %e, "fast-unlock ticket not kept");
        }
        crash_point!("ticket.after_kept");
    }

    /// Queues the lock's receipt (if a sync was carried) and notes the lock's version.
    fn keep_receipt(&self, door: &Door, outcome: &LockVisit, now: u32) -> Result<u32> {
        let mut version = outcome.lock_bundle_version;
        if let Some(sync) = &outcome.sync {
            if sync.applied.is_ok() {
                version = version.max(sync.version);
            }
            self.inner.cache.queue_receipt(&door.lock_id, &sync.receipt, now)?;
            crash_point!("receipt.after_queued");
            // Deliver in the background: the door is already open.
            let me = self.clone();
            self.inner.runtime.spawn(async move {
                if let Err(e) = me.upload_receipts().await {
                    tracing::info!(error = %e, "receipt stays in the outbox");
                }
            });
        }
        self.inner.cache.note_lock_version(&door.lock_id, version, now)?;
        crash_point!("door.after_version_noted");
        Ok(version)
    }

    /// Uploads every waiting receipt, oldest first; each leaves the outbox only once the
    /// backend has acknowledged it. Returns how many were delivered.
    pub async fn upload_receipts(&self) -> Result<usize> {
        let mut delivered = 0;
        for pending in self.inner.cache.pending_receipts()? {
            let Some(door) = self.inner.cache.door(&pending.lock_id)? else {
                continue;
            };
            let call =
                UploadReceipt { door_id: door.backend_id, body: ReceiptUpload { receipt: b64(&pending.receipt) } };
            crash_point!("receipt.before_upload");
            match self.inner.auth.call_detailed(&call).await? {
                Ok(_) => {}
                // Refused for good by the backend itself (bad signature, door gone, no longer
                // this person's door): drop it rather than retry forever. Nothing is lost: the
                // lock resends its events in every receipt until a bundle acknowledges them.
                Err(ApiError::Rejected { status, code, .. }) if !matches!(status, 408 | 429) => {
                    tracing::warn!(door = %pending.lock_id, code, "receipt refused by the backend; dropped");
                }
                // No answer, a failing or busy service, or an answer that is not the
                // backend's (a captive portal, a broken proxy): it stays for the next try.
                Err(e) => return Err(Error::from_api(e)),
            }
            crash_point!("receipt.after_upload");
            self.inner.cache.receipt_delivered(pending.id)?;
            crash_point!("receipt.after_delivered");
            delivered += 1;
        }
        Ok(delivered)
    }
}

/// Errors that happen before any request reaches the lock.
fn never_reached_the_lock(e: &UnlockError) -> bool {
    matches!(
        e,
        UnlockError::BluetoothOff
            | UnlockError::PermissionMissing
            | UnlockError::LocationServicesOff
            | UnlockError::BluetoothUnavailable
            | UnlockError::DoorNotInRange
            | UnlockError::KeyNotYetValid { .. }
            | UnlockError::KeyExpired { .. }
            | UnlockError::Timeout { phase: ble::UnlockPhase::Scan | ble::UnlockPhase::Connect }
            | UnlockError::ConnectionLost { phase: ble::UnlockPhase::Connect }
    )
}

fn credential_id_bytes(hex: &str) -> [u8; 16] {
    keyway_protocol::ids::CredentialId::from_hex(hex).map(|c| c.0).unwrap_or([0; 16])
}
