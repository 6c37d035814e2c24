//! `/v1/me…` and `/v1/credentials`: the signed-in person's profile, keys and credentials.

use axum::Json;
use axum::extract::State;
use rusqlite::params;
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
    AccessState, CredentialsRequest, CredentialsResponse, ErrorBody, KeysResponse, MembershipView, Profile,
};

/// Who is signed in and in which organisations.
#[utoipa::path(get, path = api::GetProfile::PATH, tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 401, body = ErrorBody)))]
pub async fn profile(State(st): State<AppState>, Authed(s): Authed) -> Result<Json<Profile>> {
    let p = st
        .write(move |tx, _, _| {
            let (email, phone, name) =
                tx.query_row("SELECT email, phone, name FROM people WHERE id = ?1", [s.person_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            let mut stmt = tx.prepare(
                "SELECT o.id, o.name, m.role FROM memberships m JOIN orgs o ON o.id = m.org_id
                 WHERE m.person_id = ?1 AND m.deleted_at IS NULL ORDER BY o.id",
            )?;
            let memberships = stmt
                .query_map(params![s.person_id], |r| {
                    Ok(MembershipView { org_id: r.get(0)?, organisation: r.get(1)?, role: r.get(2)? })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Profile { person_id: s.person_id, email, phone, name, memberships })
        })
        .await?;
    Ok(Json(p))
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
