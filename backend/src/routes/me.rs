//! `/v1/me…` and `/v1/credentials`: the signed-in person's profile, keys and credentials.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ApiJson, ApiQuery, Authed};
use crate::AppState;
use crate::credentials;
use crate::error::{Error, Result};
use crate::keys;
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{
    AccessState, CredentialsRequest, CredentialsResponse, DeleteAccountRequest, ErrorBody, KeysResponse, NameChange,
    Profile,
};

/// Who is signed in: names, card, and each membership with its access.
#[utoipa::path(get, path = api::GetProfile::PATH, tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 401, body = ErrorBody)))]
pub async fn profile(State(st): State<AppState>, Authed(s): Authed) -> Result<Json<Profile>> {
    let p = st.write(move |tx, _, now| crate::profile::profile(tx, s.person_id, now)).await?;
    Ok(Json(p))
}

/// Sets the signed-in person's first and last name; answers the new profile.
#[utoipa::path(post, path = api::UpdateMyName::PATH, tag = "me", security(("bearer" = [])),
    request_body = NameChange,
    responses((status = 200, body = Profile), (status = 401, body = ErrorBody),
              (status = 422, description = "invalid_field: first_name or last_name", body = ErrorBody)))]
pub async fn update_name(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<NameChange>,
) -> Result<Json<Profile>> {
    let first = crate::profile::parse_name("first_name", &req.first_name)?;
    let last = crate::profile::parse_name("last_name", &req.last_name)?;
    let p = st
        .write(move |tx, _, now| {
            crate::profile::set_name(tx, s.person_id, &first, &last)?;
            crate::profile::profile(tx, s.person_id, now)
        })
        .await?;
    Ok(Json(p))
}

/// Deletes the signed-in person's account. Needs the device's signature: an access
/// token alone cannot delete an account.
#[utoipa::path(post, path = api::DeleteMyAccount::PATH, tag = "me", security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204), (status = 401, body = ErrorBody),
              (status = 403, description = "device_proof_invalid", body = ErrorBody)))]
pub async fn delete_account(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<DeleteAccountRequest>,
) -> Result<axum::http::StatusCode> {
    crate::account_deletion::verify_proof(&s, &req.device_proof)?;
    st.write(move |tx, st, now| crate::account_deletion::delete(tx, st.outbox(), &s, now)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Incremental refresh cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SinceQuery {
    /// The `cursor` of a previous answer; only keys changed after it are returned.
    pub since: Option<i64>,
}

/// Keys across all accounts: doors (with lock id, public key, online/offline), windows, state.
#[utoipa::path(get, path = api::ListKeys::PATH, tag = "me", security(("bearer" = [])), params(SinceQuery),
    responses((status = 200, body = KeysResponse), (status = 401, body = ErrorBody),
              (status = 422, description = "invalid_field: negative since", body = ErrorBody)))]
pub async fn keys(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiQuery(q): ApiQuery<SinceQuery>,
) -> Result<Json<KeysResponse>> {
    if q.since.is_some_and(|c| c < 0) {
        return Err(Error::field("since", "must be a cursor from an earlier answer, 0 or more"));
    }
    let (keys, cursor) = st.write(move |tx, _, now| keys::list_for_person(tx, s.person_id, q.since, now)).await?;
    let revoked_grant_ids = if q.since.is_some() {
        keys.iter().filter(|k| k.access_state == AccessState::Revoked).map(|k| k.grant_id).collect()
    } else {
        Vec::new()
    };
    Ok(Json(KeysResponse { cursor, keys, revoked_grant_ids }))
}

/// Issues or renews credentials for the session's device key.
#[utoipa::path(post, path = api::IssueCredentials::PATH, tag = "me", security(("bearer" = [])),
    request_body = CredentialsRequest,
    responses((status = 200, body = CredentialsResponse),
              (status = 401, body = ErrorBody),
              (status = 403, description = "key_revoked, key_expired, key_not_yet_valid (starts_at)", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn credentials(
    State(st): State<AppState>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<CredentialsRequest>,
) -> Result<Json<CredentialsResponse>> {
    let creds = st
        .write(move |tx, st, now| match req.grant_id {
            Some(g) => Ok(vec![credentials::issue_one(tx, st.secrets(), &s, g, now)?]),
            None => credentials::issue_all(tx, st.secrets(), &s, now),
        })
        .await?;
    Ok(Json(CredentialsResponse { credentials: creds }))
}
