//! `/v1/me/push-token`: a device registers or forgets the token its push service gave the
//! app (see [`crate::push`]).

use axum::extract::State;
use axum::http::StatusCode;

use super::{ApiJson, Authed};
use crate::AppState;
use crate::error::Result;
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{ErrorBody, PushTokenRequest};

/// Registers (or replaces) this device's push token.
#[utoipa::path(post, path = api::RegisterPushToken::PATH, tag = "me", security(("bearer" = [])),
    request_body = PushTokenRequest,
    responses((status = 204), (status = 401, body = ErrorBody),
              (status = 422, description = "invalid_field: token", body = ErrorBody)))]
pub async fn register(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<PushTokenRequest>,
) -> Result<StatusCode> {
    let token = crate::push::parse_token(req.platform, &req.token)?;
    st.write(move |tx, _, now| crate::push::register(tx, s.session_id, req.platform, &token, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets this device's push token.
#[utoipa::path(delete, path = api::ForgetPushToken::PATH, tag = "me", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn forget(State(st): State<AppState>, Authed(s): Authed) -> Result<StatusCode> {
    st.write(move |tx, _, _| crate::push::forget(tx, s.session_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
