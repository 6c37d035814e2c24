//! `/v1/door-sync/pending` and `/v1/doors/{id}/…`: bundles for phones to carry to offline
//! locks, and the locks' receipts coming back.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ApiJson, ApiPath, ApiQuery, Authed};
use crate::AppState;
use crate::door_sync;
use crate::error::{Error, Result};
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{ErrorBody, PendingDoors, ReceiptOutcome, ReceiptUpload, SignedBundle};

/// Offline doors the caller holds a key for that need a door sync.
#[utoipa::path(get, path = api::ListPendingDoors::PATH, tag = "door_sync", security(("bearer" = [])),
    responses((status = 200, body = PendingDoors), (status = 401, body = ErrorBody)))]
pub async fn pending(State(st): State<AppState>, Authed(s): Authed) -> Result<Json<PendingDoors>> {
    let doors = st.read(move |tx, _, now| door_sync::pending_for_person(tx, s.person_id, now)).await?;
    Ok(Json(PendingDoors { doors }))
}

/// The lock's current bundle version.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BundleQuery {
    /// The version the lock runs; the revocation list is the delta since it (absent: full list).
    pub since: Option<i64>,
}

/// The current signed bundle for an offline door.
#[utoipa::path(get, path = api::GetBundle::PATH, tag = "door_sync", security(("bearer" = [])),
    params(("door_id" = i64, Path, description = "Door id"), BundleQuery),
    responses((status = 200, body = SignedBundle),
              (status = 404, description = "not_found: no such door, or the caller holds no live key for it", body = ErrorBody),
              (status = 409, description = "door_online, door_up_to_date", body = ErrorBody),
              (status = 422, description = "invalid_field: negative since", body = ErrorBody),
              (status = 503, description = "signing_clock_unsure (retry_at): the service's clock jumped", body = ErrorBody)))]
pub async fn bundle(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiPath(door_id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<BundleQuery>,
) -> Result<Json<SignedBundle>> {
    if q.since.is_some_and(|v| v < 0) {
        return Err(Error::field("since", "must be a bundle version, 0 or more"));
    }
    let b = st
        .write(move |tx, st, now| {
            // Access first: an unknown door and one the caller holds no key for get the same answer.
            if !door_sync::person_may_carry(tx, s.person_id, door_id, now)? {
                return Err(Error::NotFound("door"));
            }
            // The time signed: the service's clock, unless it cannot be believed (future_bundle).
            let signed_time = st.signing_time(tx, door_id, now)?;
            door_sync::bundle(tx, st.secrets(), door_id, q.since, signed_time)
        })
        .await?;
    Ok(Json(b))
}

/// Uploads a lock's receipt: verified, audit events stored once, door marked synced.
#[utoipa::path(post, path = api::UploadReceipt::PATH, tag = "door_sync", security(("bearer" = [])),
    params(("door_id" = i64, Path, description = "Door id")),
    request_body = ReceiptUpload,
    responses((status = 200, body = ReceiptOutcome),
              (status = 404, description = "not_found: no such door, or the caller holds no live key for it", body = ErrorBody),
              (status = 422, description = "receipt_invalid", body = ErrorBody)))]
pub async fn receipt(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiPath(door_id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReceiptUpload>,
) -> Result<Json<ReceiptOutcome>> {
    let bytes = crate::secrets::unb64(&req.receipt).ok_or(Error::ReceiptInvalid)?;
    let out = st
        .write(move |tx, _, now| {
            if !door_sync::person_may_carry(tx, s.person_id, door_id, now)? {
                return Err(Error::NotFound("door"));
            }
            door_sync::intake(tx, door_id, &bytes, now)
        })
        .await?;
    Ok(Json(out))
}
