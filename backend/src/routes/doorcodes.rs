//! `/v1/me/doorcodes` and the operator's doorcode routes: today's codes for the signed-in
//! member, the switch on a grant, and the registration of a lock's doorcode secret.
//! Codes and secrets travel only in these bodies: never in logs or error messages.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::{Admin, ApiJson, ApiPath, Authed};
use crate::AppState;
use crate::doorcodes;
use crate::error::Result;
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{DoorcodeSecretRequest, DoorcodeSetting, DoorcodeState, DoorcodesResponse, ErrorBody};

/// The caller's daily doorcodes for today (UTC day), each with its window.
#[utoipa::path(get, path = api::GetDoorcodes::PATH, tag = "me", security(("bearer" = [])),
    responses((status = 200, body = DoorcodesResponse), (status = 401, body = ErrorBody)))]
pub async fn mine(State(st): State<AppState>, Authed(s): Authed) -> Result<Json<DoorcodesResponse>> {
    let codes = st.read(move |tx, st, now| doorcodes::today(tx, st.secrets(), s.person_id, now)).await?;
    Ok(Json(codes))
}

/// Lets a grant carry a daily doorcode, or stops it; the key's offline doors get the
/// change with their next door sync.
#[utoipa::path(post, path = api::SetGrantDoorcode::PATH, tag = "admin", security(("admin" = [])),
    params(("grant_id" = i64, Path, description = "Grant id")),
    request_body = DoorcodeSetting,
    responses((status = 200, body = DoorcodeState),
              (status = 404, body = ErrorBody),
              (status = 403, description = "key_revoked", body = ErrorBody),
              (status = 422, description = "invalid_field: a guest key, or a door full of doorcodes", body = ErrorBody)))]
pub async fn set_for_grant(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(grant_id): ApiPath<i64>,
    ApiJson(req): ApiJson<DoorcodeSetting>,
) -> Result<Json<DoorcodeState>> {
    let state = st.write(move |tx, _, now| doorcodes::set_for_grant(tx, grant_id, req.enabled, now)).await?;
    Ok(Json(state))
}

/// Registers the doorcode secret a door's lock generated when it was fitted (once).
#[utoipa::path(post, path = api::SetDoorcodeSecret::PATH, tag = "admin", security(("admin" = [])),
    params(("door_id" = i64, Path, description = "Door id")),
    request_body = DoorcodeSecretRequest,
    responses((status = 204), (status = 404, body = ErrorBody),
              (status = 409, description = "conflict: the door has a secret already", body = ErrorBody),
              (status = 422, description = "invalid_field: not 32 bytes of base64url", body = ErrorBody)))]
pub async fn set_secret(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(door_id): ApiPath<i64>,
    ApiJson(req): ApiJson<DoorcodeSecretRequest>,
) -> Result<StatusCode> {
    st.write(move |tx, st, _| doorcodes::set_secret(tx, st.secrets(), door_id, &req.secret)).await?;
    Ok(StatusCode::NO_CONTENT)
}
