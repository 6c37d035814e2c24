//! The online link of a lock with internet: challenges, the lock's signed long-poll, and
//! whether a door's lock is connected now (docs/protocol.md, "The online link";
//! docs/backend.md, "Online doors").
//!
//! A challenge is `issued_at ‖ nonce ‖ tag` (8 + 16 + 16 bytes), the tag a keyed hash of
//! the rest and the lock id under the server secret: the backend keeps nothing until a
//! lock signs one. A signed challenge is then recorded until it expires, so each is
//! accepted once (a replayed poll is `link_challenge_used`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Transaction, params};

use crate::door_sync;
use crate::doors;
use crate::error::{Error, Result};
use crate::secrets::{Purpose, Secrets, b64};
use crate::signing;
use keyway_api::{LinkChallenge, ReceiptOutcome, SignedBundle};
use keyway_protocol::ids::DoorId;
use keyway_protocol::lock_link::LinkRequest;

/// The longest a poll is held when nothing is newer.
pub const MAX_HOLD_SECS: i64 = 25;
/// How long a challenge is accepted after it was made.
pub const CHALLENGE_TTL_SECS: i64 = 60;
/// A door's link counts as down this long after its last poll ended with no other waiting
/// (a lock re-polls at once, so only a lock that lost its connection stays away).
pub const LINK_GRACE: Duration = Duration::from_secs(20);

const NONCE_LEN: usize = 16;
const TAG_LEN: usize = 16;
const CHALLENGE_LEN: usize = 8 + NONCE_LEN + TAG_LEN;

fn tag(secrets: &Secrets, lock_id: &[u8; 8], issued_at: i64, nonce: &[u8]) -> Vec<u8> {
    let value = format!("{issued_at}:{}", hex::encode(nonce));
    let mut tag = secrets.hash(Purpose::LinkChallenge, &hex::encode(lock_id), &value);
    tag.truncate(TAG_LEN);
    tag
}

/// A fresh challenge for the lock `lock_id`.
pub fn new_challenge(secrets: &Secrets, lock_id: &[u8; 8], now: i64) -> Result<LinkChallenge> {
    let nonce = secrets.random_bytes(NONCE_LEN)?;
    let mut bytes = Vec::with_capacity(CHALLENGE_LEN);
    bytes.extend_from_slice(&now.to_be_bytes());
    bytes.extend_from_slice(&nonce);
    bytes.extend_from_slice(&tag(secrets, lock_id, now, &nonce));
    Ok(LinkChallenge { challenge: b64(&bytes), expires_at: now + CHALLENGE_TTL_SECS })
}

/// Checks that `challenge` is one of ours for this lock and still current; returns its
/// nonce and when it expires.
fn check_challenge(secrets: &Secrets, lock_id: &[u8; 8], challenge: &[u8], now: i64) -> Result<(Vec<u8>, i64)> {
    if challenge.len() != CHALLENGE_LEN {
        return Err(Error::LinkChallengeInvalid);
    }
    let (issued, rest) = challenge.split_at(8);
    let (nonce, got) = rest.split_at(NONCE_LEN);
    let issued_at = i64::from_be_bytes(issued.try_into().map_err(|_| Error::LinkChallengeInvalid)?);
    if !crate::secrets::same(&tag(secrets, lock_id, issued_at, nonce), got) {
        return Err(Error::LinkChallengeInvalid);
    }
    let expires_at = issued_at.saturating_add(CHALLENGE_TTL_SECS);
    if now >= expires_at || issued_at > now.saturating_add(5) {
        return Err(Error::LinkChallengeInvalid);
    }
    Ok((nonce.to_vec(), expires_at))
}

/// One poll as the lock sent it, decoded.
#[derive(Debug, Clone)]
pub struct SignedPoll {
    /// The challenge bytes.
    pub challenge: Vec<u8>,
    /// The bundle version the lock runs.
    pub after_version: u32,
    /// The receipt handed in.
    pub receipt: Option<Vec<u8>>,
    /// The lock's signature.
    pub signature: [u8; 64],
}

/// What an accepted poll did before waiting.
#[derive(Debug, Clone)]
pub struct AcceptedPoll {
    /// The lock's door.
    pub door_id: i64,
    /// What the receipt handed in did.
    pub receipt: Option<ReceiptOutcome>,
}

/// Checks a poll (challenge, then the lock's signature, then that the challenge is new),
/// marks the door's link up, and takes in its receipt through the phones' receipt intake.
pub fn accept(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    lock_id: &[u8; 8],
    poll: &SignedPoll,
    now: i64,
) -> Result<AcceptedPoll> {
    let door = doors::get_by_lock(tx, lock_id)?;
    let (nonce, expires_at) = check_challenge(secrets, lock_id, &poll.challenge, now)?;
    let key = crate::secrets::unb64(&door.lock_signing_public_key)
        .ok_or(Error::Internal("stored lock signing key".into()))?;
    let request = LinkRequest {
        door: DoorId(*lock_id),
        challenge: &poll.challenge,
        after_version: poll.after_version,
        receipt: poll.receipt.as_deref(),
    };
    if !request.verify(&key, &poll.signature) {
        return Err(Error::LinkSignatureInvalid);
    }
    tx.execute("DELETE FROM link_challenges_used WHERE expires_at <= ?1", [now])?;
    let fresh = tx.execute(
        "INSERT OR IGNORE INTO link_challenges_used (door_id, nonce, expires_at) VALUES (?1, ?2, ?3)",
        params![door.id, nonce, expires_at],
    )?;
    if fresh == 0 {
        return Err(Error::LinkChallengeUsed);
    }
    tx.execute("UPDATE doors SET link_up = 1, link_seen_at = ?2 WHERE id = ?1", params![door.id, now])?;
    let receipt = match &poll.receipt {
        Some(bytes) => {
            let outcome = door_sync::intake(tx, door.id, bytes, now)?;
            if needs_acknowledgement(&key, bytes, outcome.events_stored) {
                // The lock drops events only when a bundle acknowledges them: a new version
                // carries the acknowledgement back on this link.
                tx.execute("UPDATE doors SET bundle_version = bundle_version + 1 WHERE id = ?1", [door.id])?;
            }
            Some(outcome)
        }
        None => None,
    };
    Ok(AcceptedPoll { door_id: door.id, receipt })
}

/// Whether a receipt just stored calls for a bundle that acknowledges it: it brought new
/// events other than "bundle applied" (acknowledging those would answer every bundle with
/// another), or the lock holds more than one receipt carries.
fn needs_acknowledgement(lock_key: &[u8], receipt: &[u8], stored: usize) -> bool {
    let Ok(spec) = signing::verify_receipt(lock_key, receipt) else { return false };
    spec.more_pending || (stored > 0 && spec.events.iter().any(|e| e.kind != "bundle_applied"))
}

/// The door's signed bundle, as a delta from `after_version`, if it is newer.
pub fn newer_bundle(
    tx: &Transaction<'_>,
    st: &crate::AppState,
    door_id: i64,
    after_version: u32,
    now: i64,
) -> Result<Option<SignedBundle>> {
    let door = doors::get(tx, door_id)?;
    if door.bundle_version <= i64::from(after_version) {
        return Ok(None);
    }
    // The time signed: the service's clock, unless it cannot be believed (future_bundle).
    let signed_time = st.signing_time(tx, door_id, now)?;
    door_sync::signed_bundle(tx, st.secrets(), &door, Some(i64::from(after_version)), signed_time).map(Some)
}

/// Which doors have a poll in progress, to mark a link down once its lock stays away.
#[derive(Debug, Default)]
pub struct LinkPresence {
    doors: Mutex<HashMap<i64, Presence>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Presence {
    polls: u32,
    generation: u64,
}

impl LinkPresence {
    /// A poll for `door_id` has started; dropping the guard ends it.
    pub fn poll_started(self: &Arc<Self>, door_id: i64) -> PollGuard {
        let mut doors = self.doors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let p = doors.entry(door_id).or_default();
        p.polls += 1;
        p.generation += 1;
        PollGuard { presence: self.clone(), door_id, down: None }
    }

    /// Ends a poll; returns the generation to compare after the grace period if it was the
    /// last one.
    fn poll_ended(&self, door_id: i64) -> Option<u64> {
        let mut doors = self.doors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let p = doors.get_mut(&door_id)?;
        p.polls = p.polls.saturating_sub(1);
        (p.polls == 0).then_some(p.generation)
    }

    /// Whether no poll came for the door since `generation`.
    fn still_away(&self, door_id: i64, generation: u64) -> bool {
        let mut doors = self.doors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let away = doors.get(&door_id).is_some_and(|p| p.polls == 0 && p.generation == generation);
        if away {
            doors.remove(&door_id);
        }
        away
    }
}

/// A poll in progress. When the last poll of a door ends and none follows within
/// [`LINK_GRACE`], `down` runs (it marks the link down in the database).
pub struct PollGuard {
    presence: Arc<LinkPresence>,
    door_id: i64,
    down: Option<Box<dyn FnOnce() + Send>>,
}

impl PollGuard {
    /// What to run when the lock has stayed away after this poll.
    pub fn on_link_down(&mut self, down: impl FnOnce() + Send + 'static) {
        self.down = Some(Box::new(down));
    }
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        let Some(generation) = self.presence.poll_ended(self.door_id) else { return };
        let (Some(down), Ok(runtime)) = (self.down.take(), tokio::runtime::Handle::try_current()) else { return };
        let (presence, door_id) = (self.presence.clone(), self.door_id);
        runtime.spawn(async move {
            tokio::time::sleep(LINK_GRACE).await;
            if presence.still_away(door_id, generation) {
                down();
            }
        });
    }
}
