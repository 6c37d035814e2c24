//! `/v1/locks/{lock_id}/…`: the online link of a lock with internet — a challenge, then
//! long-polls signed with the lock's own key that hand in its receipt and return the door's
//! next signed bundle as soon as one exists (docs/protocol.md, "The online link").

use axum::Json;
use axum::extract::State;

use super::{ApiJson, ApiPath};
use crate::AppState;
use crate::doors;
use crate::error::{Error, Result};
use crate::lock_link::{self, MAX_HOLD_SECS, SignedPoll};
use crate::secrets::unb64;
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{ErrorBody, LinkAnswer, LinkChallenge, LinkPoll};

/// A challenge for the lock's next signed poll.
#[utoipa::path(post, path = api::GetLinkChallenge::PATH, tag = "lock_link",
    params(("lock_id" = String, Path, description = "Lock id, 16 hex digits")),
    responses((status = 200, body = LinkChallenge),
              (status = 422, description = "invalid_field: not a lock id", body = ErrorBody)))]
pub async fn challenge(State(st): State<AppState>, ApiPath(lock_id): ApiPath<String>) -> Result<Json<LinkChallenge>> {
    let lock_id = doors::parse_lock_id(&lock_id)?;
    Ok(Json(lock_link::new_challenge(st.secrets(), &lock_id, st.now())?))
}

fn decode(req: &LinkPoll) -> Result<(SignedPoll, std::time::Duration)> {
    let challenge = unb64(&req.challenge).ok_or(Error::LinkChallengeInvalid)?;
    let signature: [u8; 64] =
        unb64(&req.signature).and_then(|s| s.try_into().ok()).ok_or(Error::LinkSignatureInvalid)?;
    let receipt = match &req.receipt {
        Some(r) => Some(unb64(r).ok_or(Error::ReceiptInvalid)?),
        None => None,
    };
    let after_version = u32::try_from(req.after_version)
        .map_err(|_| Error::field("after_version", "must be a bundle version, 0 or more"))?;
    let wait = req.wait_seconds.unwrap_or(MAX_HOLD_SECS);
    if !(0..=MAX_HOLD_SECS).contains(&wait) {
        return Err(Error::field("wait_seconds", "must be between 0 and 25"));
    }
    let wait = std::time::Duration::from_secs(wait.unsigned_abs());
    Ok((SignedPoll { challenge, after_version, receipt, signature }, wait))
}

/// The lock's long-poll: checked (challenge, signature, first use), its receipt taken in,
/// then held until the door has a bundle newer than `after_version` (answered at once) or
/// `wait_seconds` pass (answered with no bundle). Each answer carries the next challenge.
#[utoipa::path(post, path = api::PollLink::PATH, tag = "lock_link",
    params(("lock_id" = String, Path, description = "Lock id, 16 hex digits")),
    request_body = LinkPoll,
    responses((status = 200, body = LinkAnswer),
              (status = 401, description = "link_signature_invalid, link_challenge_invalid", body = ErrorBody),
              (status = 404, description = "not_found: no door has this lock", body = ErrorBody),
              (status = 409, description = "link_challenge_used: a replayed poll", body = ErrorBody),
              (status = 422, description = "receipt_invalid, invalid_field", body = ErrorBody)))]
pub async fn poll(
    State(st): State<AppState>,
    ApiPath(lock_id): ApiPath<String>,
    ApiJson(req): ApiJson<LinkPoll>,
) -> Result<Json<LinkAnswer>> {
    let lock_id = doors::parse_lock_id(&lock_id)?;
    let (poll, wait) = decode(&req)?;
    let after = poll.after_version;
    let accepted = st.write(move |tx, st, now| lock_link::accept(tx, st.secrets(), &lock_id, &poll, now)).await?;
    let door_id = accepted.door_id;
    let mut presence = st.link_presence().poll_started(door_id);
    let db = st.db().clone();
    presence.on_link_down(move || {
        tokio::spawn(async move {
            let down =
                db.write(move |tx| Ok(tx.execute("UPDATE doors SET link_up = 0 WHERE id = ?1", [door_id])?)).await;
            if let Err(e) = down {
                tracing::warn!(door_id, error = %e, "could not mark a lock's link down");
            }
        });
    });
    // Subscribe before reading: a change committed after the read still wakes this poll.
    let mut changes = st.db().door_changes().subscribe(door_id);
    let deadline = tokio::time::Instant::now() + wait;
    let bundle = loop {
        let newer = st.write(move |tx, st, now| lock_link::newer_bundle(tx, st, door_id, after, now)).await?;
        if newer.is_some() {
            break newer;
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => break None,
        }
    };
    let next_challenge = lock_link::new_challenge(st.secrets(), &lock_id, st.now())?;
    drop(presence);
    Ok(Json(LinkAnswer { bundle, receipt: accepted.receipt, next_challenge }))
}
