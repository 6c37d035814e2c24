//! `/v1/shares` and `/v1/share-links/{token}`: guest sharing by members, redemption by guests.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::{ApiJson, ApiPath, Authed};
use crate::AppState;
use crate::error::Result;
use crate::identifiers::Identifier;
use crate::share_views;
use crate::shares::{self, ShareRequest};
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{CreateShareRequest, ErrorBody, IssuedCredential, ShareCreated, SharePreview, ShareView};
use keyway_protocol::share_proof::{SHARE_PROOF_NONCE_LEN, ShareRequestProof};

/// Shares a shareable key with a guest; the guest gets a link.
#[utoipa::path(post, path = api::CreateShare::PATH, tag = "shares", security(("bearer" = [])),
    request_body = CreateShareRequest,
    responses((status = 201, body = ShareCreated),
              (status = 403, description = "key_not_shareable, key_revoked, key_expired, device_proof_invalid", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<CreateShareRequest>,
) -> Result<(StatusCode, Json<ShareCreated>)> {
    let proof = ShareRequestProof {
        grant_id: req.grant_id,
        door_ids: &req.door_ids,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        guest: &req.guest,
        nonce: &[0; SHARE_PROOF_NONCE_LEN],
    };
    let proof_nonce = shares::verify_device_proof(&s, proof, &req.device_proof.nonce, &req.device_proof.signature)?;
    let guest = Identifier::parse(&req.guest)?;
    let sreq = ShareRequest {
        proof_nonce,
        grant_id: req.grant_id,
        door_ids: req.door_ids,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        guest,
    };
    let out = st
        .write(move |tx, st, now| shares::create(tx, st.secrets(), st.outbox(), st.public_host(), &s, &sreq, now))
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// The sharing member revokes a share (and the guest's key).
#[utoipa::path(post, path = api::RevokeShare::PATH, tag = "shares", security(("bearer" = [])),
    params(("share_id" = i64, Path, description = "Share id")),
    responses((status = 204), (status = 404, description = "share_not_found", body = ErrorBody)))]
pub async fn revoke(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiPath(share_id): ApiPath<i64>,
) -> Result<StatusCode> {
    st.write(move |tx, _, now| shares::revoke(tx, &s, share_id, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in guest redeems a share link and gets a guest credential.
#[utoipa::path(post, path = api::RedeemShareLink::PATH, tag = "shares", security(("bearer" = [])),
    params(("token" = String, Path, description = "The token from the share link")),
    responses((status = 200, body = IssuedCredential),
              (status = 403, description = "share_wrong_recipient", body = ErrorBody),
              (status = 404, description = "share_not_found", body = ErrorBody),
              (status = 409, description = "share_already_redeemed", body = ErrorBody),
              (status = 410, description = "share_revoked, share_expired", body = ErrorBody)))]
pub async fn redeem(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<IssuedCredential>> {
    let c = st.write(move |tx, st, now| shares::redeem(tx, st.secrets(), &s, &token, now)).await?;
    Ok(Json(c))
}

/// What a share link offers (unauthenticated): organisation, facility, who shared it, doors,
/// window, who may redeem.
#[utoipa::path(get, path = api::PreviewShareLink::PATH, tag = "shares",
    params(("token" = String, Path, description = "The token from the share link")),
    responses((status = 200, body = SharePreview),
              (status = 404, description = "share_not_found", body = ErrorBody),
              (status = 409, description = "share_already_redeemed", body = ErrorBody),
              (status = 410, description = "share_revoked, share_expired", body = ErrorBody)))]
pub async fn preview(State(st): State<AppState>, ApiPath(token): ApiPath<String>) -> Result<Json<SharePreview>> {
    Ok(Json(st.write(move |tx, st, now| share_views::preview(tx, st.secrets(), &token, now)).await?))
}

/// The shares the caller has made, newest first, with their doors and state now.
#[utoipa::path(get, path = api::ListMyShares::PATH, tag = "shares", security(("bearer" = [])),
    responses((status = 200, body = Vec<ShareView>), (status = 401, body = ErrorBody)))]
pub async fn mine(State(st): State<AppState>, Authed(s): Authed) -> Result<Json<Vec<ShareView>>> {
    Ok(Json(st.read(move |tx, _, now| share_views::list_for_person(tx, s.person_id, now)).await?))
}
