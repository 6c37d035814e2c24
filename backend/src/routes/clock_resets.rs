//! `/v1/doors/{id}/clock-reset` and `/v1/admin/doors/{id}/clock-reset`: a signed reset for
//! a lock whose clock ran ahead (`rtc_jump`, `clock_resets.rs`).

use axum::Json;
use axum::extract::State;

use super::{Admin, ApiJson, ApiPath, Authed};
use crate::AppState;
use crate::clock_resets::{self, Asker};
use crate::error::Result;
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{ClockResetRequest, ErrorBody, SignedClockReset};

/// A member with a live key for the door asks for a reset of its lock's clock, for the
/// nonce the lock advertises.
#[utoipa::path(post, path = api::RequestClockReset::PATH, tag = "door_sync", security(("bearer" = [])),
    params(("door_id" = i64, Path, description = "Door id")),
    request_body = ClockResetRequest,
    responses((status = 200, body = SignedClockReset),
              (status = 404, description = "not_found: no such door, or the caller holds no live key for it", body = ErrorBody),
              (status = 422, description = "invalid_field: nonce", body = ErrorBody),
              (status = 429, description = "rate_limited (retry_at)", body = ErrorBody),
              (status = 503, description = "signing_clock_unsure (retry_at)", body = ErrorBody)))]
pub async fn request(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiPath(door_id): ApiPath<i64>,
    ApiJson(req): ApiJson<ClockResetRequest>,
) -> Result<Json<SignedClockReset>> {
    sign(st, Asker::Person(s.person_id), door_id, &req).await
}

/// An operator asks for a reset of a door's lock clock, for the nonce it advertises.
#[utoipa::path(post, path = api::AdminClockReset::PATH, tag = "admin", security(("admin" = [])),
    params(("door_id" = i64, Path, description = "Door id")),
    request_body = ClockResetRequest,
    responses((status = 200, body = SignedClockReset), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn admin(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(door_id): ApiPath<i64>,
    ApiJson(req): ApiJson<ClockResetRequest>,
) -> Result<Json<SignedClockReset>> {
    sign(st, Asker::Admin, door_id, &req).await
}

/// What both routes do once they know who asks: read the nonce, then sign (and record) a
/// reset at the backend's time.
async fn sign(st: AppState, asker: Asker, door_id: i64, req: &ClockResetRequest) -> Result<Json<SignedClockReset>> {
    let nonce = clock_resets::parse_nonce(&req.nonce)?;
    let signed = st
        .write(move |tx, st, now| {
            let time = st.reset_time(now)?;
            clock_resets::sign(tx, st.secrets(), asker, door_id, nonce, now, time)
        })
        .await?;
    Ok(Json(signed))
}
