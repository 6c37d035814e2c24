//! `/v1/invitations/{token}`: the unauthenticated invitation preview, the code to the
//! invited address, and accepting with that code and the device key.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::{ApiJson, ApiPath};
use crate::AppState;
use crate::client_address::ClientAddress;
use crate::error::Result;
use crate::invitations;
use crate::sessions;
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{AcceptRequest, Channel, CodeSentResponse, ErrorBody, InvitationPreview, SessionTokens};

/// Shows organisation, facility, role, the address to sign in with and the access start.
#[utoipa::path(get, path = api::PreviewInvitation::PATH, tag = "invitations",
    params(("token" = String, Path, description = "The token from the invitation link")),
    responses((status = 200, body = InvitationPreview),
              (status = 404, description = "invitation_not_found", body = ErrorBody),
              (status = 409, description = "invitation_already_used", body = ErrorBody),
              (status = 410, description = "invitation_expired, invitation_superseded, invitation_cancelled", body = ErrorBody)))]
pub async fn preview(State(st): State<AppState>, ApiPath(token): ApiPath<String>) -> Result<Json<InvitationPreview>> {
    let p = st.write(move |tx, st, now| invitations::preview(tx, st.secrets(), &token, now)).await?;
    Ok(Json(p))
}

/// Sends a sign-in code to the invited address.
#[utoipa::path(post, path = api::SendInvitationCode::PATH, tag = "invitations",
    params(("token" = String, Path, description = "The token from the invitation link")),
    responses((status = 202, body = CodeSentResponse),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 410, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn send_code(
    State(st): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiPath(token): ApiPath<String>,
) -> Result<(StatusCode, Json<CodeSentResponse>)> {
    let sent = st
        .write(move |tx, st, now| {
            let ident = invitations::invited_email(tx, st.secrets(), &token, now)?;
            crate::otp::send_code(tx, st.secrets(), st.outbox(), &ident, &client, now)
        })
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CodeSentResponse {
            channel: Channel::Email,
            expires_at: sent.expires_at,
            resend_after: sent.resend_after,
        }),
    ))
}

/// Accepts the invitation and signs the person in on this device.
#[utoipa::path(post, path = api::AcceptInvitation::PATH, tag = "invitations",
    params(("token" = String, Path, description = "The token from the invitation link")),
    request_body = AcceptRequest,
    responses((status = 200, body = SessionTokens),
              (status = 401, description = "code_wrong, code_expired", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "invitation_already_used", body = ErrorBody),
              (status = 410, description = "invitation_expired, invitation_superseded, invitation_cancelled", body = ErrorBody),
              (status = 422, description = "invalid_field: first_name or last_name", body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn accept(
    State(st): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiPath(token): ApiPath<String>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> Result<Json<SessionTokens>> {
    let key = sessions::parse_device_key(&req.device_public_key)?;
    let name = match (&req.first_name, &req.last_name) {
        (None, None) => None,
        (first, last) => Some((
            crate::profile::parse_name("first_name", first.as_deref().unwrap_or(""))?,
            crate::profile::parse_name("last_name", last.as_deref().unwrap_or(""))?,
        )),
    };
    let code = req.code;
    let tokens = st
        .write_always(move |tx, st, now| {
            let name = name.as_ref().map(|(f, l)| (f.as_str(), l.as_str()));
            let acceptance = invitations::Acceptance { code: &code, device_public_key: &key, name };
            invitations::accept(tx, st.secrets(), &token, &client, &acceptance, now)
        })
        .await?;
    Ok(Json(tokens))
}
