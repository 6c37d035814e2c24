//! `/v1/auth/…`: one-time-code sign-in, refresh and sign-out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::{ApiJson, Authed};
use crate::AppState;
use crate::client_address::ClientAddress;
use crate::error::Result;
use crate::identifiers::Identifier;
use crate::sessions;
use crate::{otp, people};
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{CodeRequest, CodeSentResponse, ErrorBody, RefreshRequest, SessionTokens, VerifyRequest};

/// Sends a 6-digit code to an email address (email) or phone number (SMS).
#[utoipa::path(post, path = api::SendCode::PATH, tag = "auth", request_body = CodeRequest,
    responses((status = 202, body = CodeSentResponse),
              (status = 422, description = "invalid_identifier", body = ErrorBody),
              (status = 429, description = "resend_too_soon, rate_limited, too_many_attempts", body = ErrorBody)))]
pub async fn send_code(
    State(st): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<(StatusCode, Json<CodeSentResponse>)> {
    let ident = Identifier::parse(&req.identifier)?;
    let channel = ident.channel();
    let sent = st.write(move |tx, st, now| otp::send_code(tx, st.secrets(), st.outbox(), &ident, &client, now)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CodeSentResponse { channel, expires_at: sent.expires_at, resend_after: sent.resend_after }),
    ))
}

/// Checks the code and starts a session bound to the device key.
#[utoipa::path(post, path = api::Verify::PATH, tag = "auth", request_body = VerifyRequest,
    responses((status = 200, body = SessionTokens),
              (status = 401, description = "code_wrong (attempts_left), code_expired", body = ErrorBody),
              (status = 422, description = "invalid_identifier, invalid_device_key", body = ErrorBody),
              (status = 429, description = "too_many_attempts (retry_at)", body = ErrorBody)))]
pub async fn verify(
    State(st): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<SessionTokens>> {
    let ident = Identifier::parse(&req.identifier)?;
    let key = sessions::parse_device_key(&req.device_public_key)?;
    let code = req.code;
    let tokens = st
        .write_always(move |tx, st, now| {
            otp::check_code(tx, st.secrets(), &ident, &client, &key, &code, now)?;
            let person = people::find_or_create(tx, &ident, now)?;
            sessions::create(tx, st.secrets(), person, &key, now)
        })
        .await?;
    Ok(Json(tokens))
}

/// Rotates the refresh token; reuse of an old one ends the session.
#[utoipa::path(post, path = api::Refresh::PATH, tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = SessionTokens),
              (status = 401, description = "invalid_refresh_token, refresh_token_reused", body = ErrorBody)))]
pub async fn refresh(State(st): State<AppState>, ApiJson(req): ApiJson<RefreshRequest>) -> Result<Json<SessionTokens>> {
    let token = req.refresh_token;
    let tokens = st.write_always(move |tx, st, now| sessions::refresh(tx, st.secrets(), &token, now)).await?;
    Ok(Json(tokens))
}

/// Ends the caller's session.
#[utoipa::path(post, path = api::Logout::PATH, tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(st): State<AppState>, Authed(s): Authed) -> Result<StatusCode> {
    st.write(move |tx, _, now| sessions::revoke(tx, s.session_id, "signed_out", now)).await?;
    Ok(StatusCode::NO_CONTENT)
}
