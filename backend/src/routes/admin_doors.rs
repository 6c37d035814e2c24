//! `/v1/admin/doors/…` and the invitations list: door configuration, a door's activity
//! history, and the pending-invitations view. Every route needs the admin token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Admin, ApiJson, ApiPath, ApiQuery};
use crate::AppState;
use crate::door_sync;
use crate::doors;
use crate::error::Result;
use crate::invitations;
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{AuditEventView, DoorConfigRequest, ErrorBody, InvitationView};

/// Changes a door's lock settings; offline doors get them with the next door sync.
#[utoipa::path(post, path = api::SetDoorConfig::PATH, tag = "admin", security(("admin" = [])),
    params(("door_id" = i64, Path, description = "Door id")),
    request_body = DoorConfigRequest,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_config(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(door_id): ApiPath<i64>,
    ApiJson(req): ApiJson<DoorConfigRequest>,
) -> Result<StatusCode> {
    st.write(move |tx, _, _| doors::set_config(tx, door_id, req.unlock_ms, req.fast_unlock)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// A door's activity history (audit events from lock receipts), newest first.
#[utoipa::path(get, path = api::ListDoorEvents::PATH, tag = "admin", security(("admin" = [])),
    params(("door_id" = i64, Path, description = "Door id"), EventsQuery),
    responses((status = 200, body = Vec<AuditEventView>), (status = 404, body = ErrorBody)))]
pub async fn events(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(door_id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Vec<AuditEventView>>> {
    let limit = q.limit.unwrap_or(100);
    Ok(Json(st.write(move |tx, _, _| door_sync::events(tx, door_id, limit)).await?))
}

/// An organisation's invitations (latest link per person): pending, expired, accepted, cancelled.
#[utoipa::path(get, path = api::ListInvitations::PATH, tag = "admin", security(("admin" = [])),
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = Vec<InvitationView>)))]
pub async fn list_invitations(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(org_id): ApiPath<i64>,
) -> Result<Json<Vec<InvitationView>>> {
    Ok(Json(st.write(move |tx, _, now| invitations::list_for_org(tx, org_id, now)).await?))
}
