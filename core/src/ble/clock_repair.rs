//! Repairing a lock whose clock is wrong (issue 16, `rtc_jump`), the radio's part.
//!
//! A lock whose clock ran ahead (an RTC that read a year ahead once, saved into its floor)
//! refuses every key as expired, in an authenticated answer that carries its clock; one far
//! behind refuses them as not yet valid. When the key is valid by the phone's clock and the
//! lock's clock is more than [`CLOCK_WRONG_AFTER_SECS`] away from it, the unlock reports
//! [`UnlockError::LockClockWrong`] instead of blaming the key. The core then asks the
//! backend for a reset signed for the door and the nonce the lock advertises now, and
//! [`carry_clock_reset`] takes it to the lock in the clear (message `0x06`,
//! docs/protocol.md §6.4) and checks the lock's signed receipt.

use super::link::Link;
use super::unlock::{DoorKey, UnlockError, UnlockPhase, UnlockTimeouts, scan_for};
use crate::error::{Error, Result};
use crate::operation::CancelToken;
use crate::platform::BleTransport;
use keyway_protocol::Refusal;
use keyway_protocol::clock_reset::{ClockReset, read_answer};
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::{DoorId, LockNonce};
use keyway_protocol::issuer::verify_receipt;
use std::future::Future;

/// How far the lock's clock must be from the phone's before a refusal of a key that is
/// valid by the phone's clock is put down to the lock's clock (10 minutes: more than any
/// phone's clock is usually off).
pub const CLOCK_WRONG_AFTER_SECS: UnixSeconds = 10 * 60;

/// Whether the lock's refusal `reason`, with its authenticated clock `lock_clock`, says the
/// lock's clock is wrong rather than the key: the key is valid at `now` (the phone's clock)
/// and the lock's clock is far from it on the side that explains the refusal.
pub fn clock_is_wrong(reason: Refusal, lock_clock: UnixSeconds, now: UnixSeconds, key: &DoorKey) -> bool {
    let valid_now = key.not_before <= now && now <= key.not_after;
    valid_now
        && match reason {
            Refusal::Expired => lock_clock > key.not_after && lock_clock - now > CLOCK_WRONG_AFTER_SECS,
            Refusal::NotYetValid => lock_clock < key.not_before && now - lock_clock > CLOCK_WRONG_AFTER_SECS,
            _ => false,
        }
}

/// Carries a clock reset to `door`'s lock: hears the nonce it advertises, asks `sign` (the
/// backend) for a reset for that nonce, writes it, and checks the answer's receipt with
/// the lock's signing key. Returns the lock's clock after the reset.
pub async fn carry_clock_reset<F, Fut>(
    transport: &dyn BleTransport,
    door: DoorId,
    lock_signing_key: &[u8; 65],
    settings: &UnlockTimeouts,
    cancel: &CancelToken,
    sign: F,
) -> Result<UnixSeconds>
where
    F: FnOnce(LockNonce) -> Fut,
    Fut: Future<Output = Result<Vec<u8>>>,
{
    let (peripheral, advert) = tokio::select! {
        found = scan_for(transport, door, settings.scan, &[]) => found?,
        () = cancel.cancelled() => {
            transport.stop_scan().await;
            return Err(Error::Cancelled);
        }
    };
    let bytes = sign(advert.nonce).await?;
    let reset =
        ClockReset::from_bytes(&bytes).map_err(|e| Error::internal(format!("clock reset from the service: {e}")))?;
    if reset.body.door != door || reset.body.nonce != advert.nonce {
        return Err(Error::internal("the service signed a clock reset for another door or nonce"));
    }
    let exchange = async {
        let mtu = transport
            .connect(&peripheral, settings.connect)
            .await
            .map_err(|e| UnlockError::from_transport(e, UnlockPhase::Connect))?;
        let link = Link { transport, peripheral: &peripheral, mtu };
        link.exchange(&reset.to_message(), settings.handshake)
            .await
            .map_err(|e| UnlockError::from_link(e, UnlockPhase::Handshake))
    };
    let answer = tokio::select! {
        answer = exchange => answer,
        () = cancel.cancelled() => Err(UnlockError::Cancelled),
    };
    transport.disconnect(&peripheral).await;
    let reply = match read_answer(&answer?) {
        Ok(Ok(reply)) => reply,
        // Unauthenticated: the lock (or something in range) would not take it.
        Ok(Err(reason)) => return Err(UnlockError::LockRefused { reason }.into()),
        Err(_) => return Err(UnlockError::UntrustedLock.into()),
    };
    let receipt = verify_receipt(lock_signing_key, &reply.receipt.to_bytes())
        .map_err(|_| Error::from(UnlockError::UntrustedLock))?;
    if receipt.body.door != door {
        return Err(UnlockError::UntrustedLock.into());
    }
    reply.status.map_err(|reason| Error::from(UnlockError::LockRefused { reason }))?;
    Ok(receipt.body.lock_clock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(not_before: UnixSeconds, not_after: UnixSeconds) -> DoorKey {
        DoorKey {
            door: DoorId([1; 8]),
            lock_public_key: [0; 65],
            credential: Vec::new(),
            not_before,
            not_after,
            ticket: None,
            bundle: None,
        }
    }

    const NOW: UnixSeconds = 1_800_000_000;
    const YEAR: UnixSeconds = 365 * 86_400;

    #[test]
    fn rtc_jump_a_lock_a_year_ahead_refusing_a_valid_key_has_a_wrong_clock() {
        let k = key(NOW - 3600, NOW + 72 * 3600);
        assert!(clock_is_wrong(Refusal::Expired, NOW + YEAR, NOW, &k));
        assert!(clock_is_wrong(Refusal::NotYetValid, NOW - YEAR, NOW, &key(NOW - 120, NOW + 3600)));
    }

    #[test]
    fn rtc_jump_a_key_that_really_ended_or_a_clock_minutes_off_is_not_the_locks_clock() {
        let k = key(NOW - 3600, NOW + 72 * 3600);
        // Minutes apart: the key's edge, not the lock's clock.
        assert!(!clock_is_wrong(Refusal::Expired, NOW + 300, NOW, &k));
        // The key is not valid by the phone's clock either.
        assert!(!clock_is_wrong(Refusal::Expired, NOW + YEAR, NOW + 80 * 3600, &k));
        // Other refusals are never about the clock.
        assert!(!clock_is_wrong(Refusal::Revoked, NOW + YEAR, NOW, &k));
        // A lock behind refusing as expired is not explained by its clock.
        assert!(!clock_is_wrong(Refusal::Expired, NOW - YEAR, NOW, &k));
    }
}
