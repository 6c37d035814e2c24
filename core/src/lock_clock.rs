//! A door whose lock's clock is wrong (issue 16, `rtc_jump`), the core's part: when an
//! unlock or a door sync is refused because the lock's clock is wrong, fetch a reset
//! signed for that door and the nonce the lock advertises, carry it to the lock, and try
//! once more. Without the service the person gets `LockClockWrong` ("connect to the
//! internet and try again").
//!
//! A reset that moved the lock's clock back leaves it waiting for a full bundle: while its
//! clock was ahead it may have dropped revocations whose credentials looked expired, and
//! those credentials are valid again now. So the repair also fetches the door's full bundle
//! and the retry carries it, even at the version the lock already runs. A lock that refuses
//! a delta with `BundleGap` (the phone that reset it went offline before carrying the full
//! bundle) gets one from the next door sync the same way.

use crate::ble::PendingBundle;
use crate::ble::clock_repair::carry_clock_reset;
use crate::cache::DoorRecord as Door;
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::operation::CancelToken;
use crate::timestamp::Timestamp;
use keyway_api::ClockResetRequest;
use keyway_api::endpoints::{GetBundle, RequestClockReset};
use keyway_protocol::credential::UnixSeconds;

impl Keyway {
    /// Repairs the clock of `door`'s lock, which reads `lock_clock`: a reset from the
    /// service, for the nonce the lock advertises now, carried to the lock. Offline (or the
    /// service unable to sign one now): `LockClockWrong`. After a reset back, returns the
    /// full bundle the lock now waits for, for the retry to carry.
    pub(crate) async fn repair_lock_clock(
        &self,
        door: &Door,
        lock_clock: UnixSeconds,
        cancel: &CancelToken,
    ) -> Result<Option<PendingBundle>> {
        let clock_wrong = || Error::LockClockWrong { lock_time: Timestamp(lock_clock) };
        let sign = |nonce: keyway_protocol::ids::LockNonce| async move {
            let call =
                RequestClockReset { door_id: door.backend_id, body: ClockResetRequest { nonce: nonce.to_hex() } };
            let signed = self.inner.auth.call(&call).await?;
            crate::api::unb64(&signed.reset).map_err(Error::from)
        };
        match carry_clock_reset(
            self.inner.platform.ble.as_ref(),
            door.lock_id,
            &door.lock_signing_key,
            &self.inner.config.unlock,
            cancel,
            sign,
        )
        .await
        {
            Ok(now_reads) => {
                tracing::info!(door = %door.lock_id, now_reads, "the lock's clock was reset");
                if now_reads >= lock_clock {
                    return Ok(None);
                }
                Ok(self.awaited_full_bundle(door).await)
            }
            Err(
                e @ (Error::Offline
                | Error::ServiceUnavailable
                | Error::InsecureConnection
                | Error::TooManyAttempts { .. }),
            ) => {
                tracing::info!(door = %door.lock_id, error = %e, "no clock reset for the lock: the service is out of reach");
                Err(clock_wrong())
            }
            Err(e) => Err(e),
        }
    }

    /// The door's full bundle (base version 0), fetched for a lock that waits for one and
    /// kept as the door's bundle. `None` when the service cannot give one now (offline, or
    /// the door never had a bundle): the lock keeps waiting, and the next door sync tries.
    pub(crate) async fn awaited_full_bundle(&self, door: &Door) -> Option<PendingBundle> {
        let call = GetBundle { door_id: door.backend_id, since: Some(0) };
        let fetched = async {
            let view = self.inner.auth.call(&call).await?;
            let (version, bytes) = crate::refresh::check_bundle(&view, door)?;
            if view.base_version != 0 {
                return Err(Error::internal("the service sent a delta for a full bundle"));
            }
            self.inner.cache.store_bundle(&door.lock_id, version, &bytes)?;
            Ok::<_, Error>(PendingBundle { version, bytes, awaited_full: true })
        };
        match fetched.await {
            Ok(bundle) => Some(bundle),
            Err(e) => {
                tracing::warn!(door = %door.lock_id, error = %e, "no full bundle for a lock that waits for one");
                None
            }
        }
    }
}
