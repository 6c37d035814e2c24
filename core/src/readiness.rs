//! Readiness: can this phone open a door right now? The radio's state (Bluetooth on,
//! the permission, location services where the platform needs them) and each door's
//! access, so a screen shows the right button, or the right request, before the person
//! taps. The platform facts come from [`BleTransport::adapter_state`]; the shells call
//! [`Keyway::platform_changed`] when the system tells them something changed (Bluetooth
//! switched, permission answered, app back in front). Keys changing and access windows
//! opening or closing are noticed by the core itself.
//!
//! [`BleTransport::adapter_state`]: crate::platform::BleTransport::adapter_state

use crate::Keyway;
use crate::cache::AccessState;
use crate::error::Result;
use crate::listeners::TaskHandle;
use crate::platform::AdapterState;
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::DoorId;
use std::time::Duration;

/// Whether an unlock can start now, and for which doors.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Readiness {
    /// The radio. Anything but `PoweredOn` is what to ask of the person (switch Bluetooth
    /// on, allow the permission, switch location services on) or, for `Unsupported`, to
    /// hide unlocking on this phone.
    pub bluetooth: AdapterState,
    /// Every door the member holds or held a key for.
    pub doors: Vec<DoorReadiness>,
}

/// One door's part of [`Readiness`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DoorReadiness {
    /// The door (pass it to `unlock`).
    pub door: DoorId,
    /// Its display name.
    pub name: String,
    /// What the member's keys allow at this door now.
    pub access: AccessState,
    /// A tap on "unlock" can work now: Bluetooth is usable and a valid credential is held
    /// (whether the door is in range is known only by scanning).
    pub can_unlock: bool,
}

/// How long a foreign `adapter_state` may take before readiness reports the last answer.
const ADAPTER_STATE_BOUND: Duration = Duration::from_secs(3);
/// The longest a readiness subscription goes without looking again (a clock that jumped,
/// a platform change no shell reported).
const RECHECK_AT_LEAST_EVERY: Duration = Duration::from_secs(15 * 60);

impl Keyway {
    /// Whether an unlock can start now: the radio's state and each door's access.
    pub async fn readiness(&self) -> Result<Readiness> {
        let bluetooth = self.adapter_state_bounded(AdapterState::PoweredOff).await;
        self.readiness_with(bluetooth, self.inner.platform.clock.now())
    }

    /// Tells the core that a platform fact may have changed (Bluetooth switched on or off,
    /// a permission answered, location services switched, the app back in front): every
    /// readiness subscription looks again. Cheap; call it as often as the system says so.
    pub fn platform_changed(&self) {
        self.inner.platform_changes.update(|n| n.wrapping_add(1));
    }

    /// Subscribes to readiness: the current readiness first, then each change (the radio,
    /// the keys, an access window opening or closing). Equal readings are not repeated.
    pub fn subscribe_readiness(&self, on_change: impl Fn(Readiness) + Send + Sync + 'static) -> TaskHandle {
        let me = self.clone();
        let mut platform = self.inner.platform_changes.watch();
        let mut keys = self.inner.keys_changed.watch();
        let task = self.inner.runtime.spawn(async move {
            let mut last: Option<Readiness> = None;
            loop {
                let bluetooth =
                    me.adapter_state_bounded(last.as_ref().map_or(AdapterState::PoweredOff, |r| r.bluetooth)).await;
                // One reading of the clock for what is reported and for when to look
                // again: a clock that moves in between cannot hide the next change.
                let now = me.inner.platform.clock.now();
                let reading = me.readiness_with(bluetooth, now);
                let doors = reading.as_ref().map_or(&[][..], |r| &r.doors[..]);
                let wait = me.until_next_access_change(now, doors).unwrap_or(RECHECK_AT_LEAST_EVERY);
                match reading {
                    Ok(reading) if last.as_ref() != Some(&reading) => {
                        on_change(reading.clone());
                        last = Some(reading);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "readiness unavailable for a listener"),
                }
                tokio::select! {
                    changed = platform.changed() => if changed.is_err() { break },
                    changed = keys.changed() => if changed.is_err() { break },
                    () = tokio::time::sleep(wait) => {}
                }
            }
        });
        TaskHandle::new(task.abort_handle())
    }

    /// The radio's state, or `fallback` if the platform does not answer in time.
    async fn adapter_state_bounded(&self, fallback: AdapterState) -> AdapterState {
        match tokio::time::timeout(ADAPTER_STATE_BOUND, self.inner.platform.ble.adapter_state()).await {
            Ok(state) => state,
            Err(_) => {
                tracing::warn!("the radio did not report its state in time; readiness keeps the last one");
                fallback
            }
        }
    }

    fn readiness_with(&self, bluetooth: AdapterState, now: UnixSeconds) -> Result<Readiness> {
        let doors = self
            .inner
            .cache
            .doors()?
            .into_iter()
            .map(|record| {
                let access = self.inner.cache.access_state(&record.lock_id, now)?;
                let can_unlock = bluetooth == AdapterState::PoweredOn && matches!(access, AccessState::Ready { .. });
                Ok(DoorReadiness { door: record.lock_id, name: record.name, access, can_unlock })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Readiness { bluetooth, doors })
    }

    /// How long after `now` some door's access may change by the clock alone (a key
    /// starts or ends, a credential lapses), bounded by [`RECHECK_AT_LEAST_EVERY`]. `now`
    /// is the reading the last readiness was computed at, so a change the clock has
    /// already passed since is looked at after a short wait, not a quarter of an hour;
    /// `doors` is that readiness's doors (their credentials' ends are not read again).
    fn until_next_access_change(&self, now: UnixSeconds, doors: &[DoorReadiness]) -> Result<Duration> {
        let mut next: Option<UnixSeconds> = None;
        let mut consider = |at: UnixSeconds| {
            if at > now {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        for key in self.inner.cache.keys()? {
            consider(key.starts_at.0);
            // The window includes its last second: it changes one second after.
            consider(key.expires_at.0.saturating_add(1));
        }
        for door in doors {
            if let AccessState::Ready { until } = door.access {
                consider(until.0.saturating_add(1));
            }
        }
        let wait = next.map_or(RECHECK_AT_LEAST_EVERY, |at| Duration::from_secs(u64::from(at - now)));
        Ok(wait.min(RECHECK_AT_LEAST_EVERY))
    }
}
