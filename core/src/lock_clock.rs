//! A door whose lock's clock is wrong (issue 16, `rtc_jump`), the core's part: when an
//! unlock is refused because the lock's clock is wrong, fetch a reset signed for that door
//! and the nonce the lock advertises, carry it to the lock, and try the unlock once more.
//! Without the service the person gets `LockClockWrong` ("connect to the internet and try
//! again").

use crate::ble::clock_repair::carry_clock_reset;
use crate::cache::DoorRecord as Door;
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::operation::CancelToken;
use crate::timestamp::Timestamp;
use keyway_api::ClockResetRequest;
use keyway_api::endpoints::RequestClockReset;
use keyway_protocol::credential::UnixSeconds;

impl Keyway {
    /// Repairs the clock of `door`'s lock, which reads `lock_clock`: a reset from the
    /// service, for the nonce the lock advertises now, carried to the lock. Offline (or the
    /// service unable to sign one now): `LockClockWrong`.
    pub(crate) async fn repair_lock_clock(
        &self,
        door: &Door,
        lock_clock: UnixSeconds,
        cancel: &CancelToken,
    ) -> Result<()> {
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
                Ok(())
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
}
