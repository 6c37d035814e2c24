//! `/v1/admin/sites/{site_id}/issuer-keys…`: an operator lists, rotates and retires a
//! site's issuer keys (the rules are in `crate::issuer_keys`). Admin token only.

use axum::Json;
use axum::extract::State;

use super::{Admin, ApiJson, ApiPath};
use crate::AppState;
use crate::error::Result;
use crate::issuer_keys;
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{ErrorBody, IssuerKeys, RetireIssuerKeyRequest};

/// A site's issuer keys and the doors that have not confirmed its anchor set.
#[utoipa::path(get, path = api::ListIssuerKeys::PATH, tag = "admin", security(("admin" = [])),
    params(("site_id" = i64, Path, description = "Site id")),
    responses((status = 200, body = IssuerKeys), (status = 404, body = ErrorBody)))]
pub async fn list(_: Admin, State(st): State<AppState>, ApiPath(site_id): ApiPath<i64>) -> Result<Json<IssuerKeys>> {
    Ok(Json(st.write(move |tx, _, _| issuer_keys::status(tx, site_id)).await?))
}

/// Rotates a site's issuer key: a new key signs from now on; every door is told, signed
/// by the old key, to trust both.
#[utoipa::path(post, path = api::RotateIssuerKey::PATH, tag = "admin", security(("admin" = [])),
    params(("site_id" = i64, Path, description = "Site id")),
    responses((status = 200, body = IssuerKeys), (status = 404, body = ErrorBody),
              (status = 409, description = "conflict: an outgoing key waits to be retired", body = ErrorBody)))]
pub async fn rotate(_: Admin, State(st): State<AppState>, ApiPath(site_id): ApiPath<i64>) -> Result<Json<IssuerKeys>> {
    Ok(Json(st.write(move |tx, st, now| issuer_keys::rotate(tx, st.secrets(), site_id, now)).await?))
}

/// Retires a site's outgoing issuer key: every door is told, signed by the active key, to
/// drop it; it signs nothing from then on.
#[utoipa::path(post, path = api::RetireIssuerKey::PATH, tag = "admin", security(("admin" = [])),
    params(("site_id" = i64, Path, description = "Site id")), request_body = RetireIssuerKeyRequest,
    responses((status = 200, body = IssuerKeys), (status = 404, body = ErrorBody),
              (status = 409, description = "conflict: no outgoing key, or doors not yet synced", body = ErrorBody)))]
pub async fn retire(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(site_id): ApiPath<i64>,
    ApiJson(req): ApiJson<RetireIssuerKeyRequest>,
) -> Result<Json<IssuerKeys>> {
    Ok(Json(st.write(move |tx, st, now| issuer_keys::retire(tx, st.secrets(), site_id, req.force, now)).await?))
}
