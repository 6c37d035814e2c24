//! `/v1/admin/…`: what an operator does — organisations, sites, facilities, doors, keys,
//! people, invitations, grants and revocations, the outbox, and the door-sync task list.
//! Every route needs `Authorization: Bearer <admin token>`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Admin, ApiJson, ApiOptionalJson, ApiPath, ApiQuery};
use crate::AppState;
use crate::access;
use crate::doors;
use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::invitations;
use crate::keys;
use crate::people;
use crate::secrets::b64;
use crate::{orgs, sessions};
use keyway_api::Endpoint as _;
use keyway_api::endpoints as api;
use keyway_api::{
    AccessRequest, Created, DoorRequest, DoorView, ErrorBody, GrantChange, GrantSpec, InvitationSent, InviteRequest,
    KeyChange, KeyRequest, NameRequest, OutboxMessage, PersonAdded, PersonRequest, PersonSummary, RevokeReason,
    RevokeRequest, Revoked, SiteCreated, SiteRequest, UnfreezeRequest,
};
use keyway_api::{CardRequest, CardView};

fn non_empty(field: &str, v: &str) -> Result<String> {
    let t = v.trim();
    if t.is_empty() || t.len() > 200 {
        return Err(Error::field(field, "must be 1 to 200 characters"));
    }
    Ok(t.to_owned())
}

/// Creates an organisation (an account).
#[utoipa::path(post, path = api::CreateOrg::PATH, tag = "admin", security(("admin" = [])),
    request_body = NameRequest, responses((status = 201, body = Created), (status = 401, body = ErrorBody)))]
pub async fn create_org(
    _: Admin,
    State(st): State<AppState>,
    ApiJson(req): ApiJson<NameRequest>,
) -> Result<(StatusCode, Json<Created>)> {
    let name = non_empty("name", &req.name)?;
    let id = st.write(move |tx, _, now| orgs::create_org(tx, &name, now)).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Creates a site with its own issuer key.
#[utoipa::path(post, path = api::CreateSite::PATH, tag = "admin", security(("admin" = [])),
    params(("org_id" = i64, Path, description = "Organisation id")),
    request_body = SiteRequest, responses((status = 201, body = SiteCreated), (status = 404, body = ErrorBody)))]
pub async fn create_site(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(org_id): ApiPath<i64>,
    ApiJson(req): ApiJson<SiteRequest>,
) -> Result<(StatusCode, Json<SiteCreated>)> {
    let name = non_empty("name", &req.name)?;
    let (id, key) = st
        .write(move |tx, st, now| orgs::create_site(tx, st.secrets(), org_id, &name, req.credential_ttl_secs, now))
        .await?;
    Ok((StatusCode::CREATED, Json(SiteCreated { id, issuer_public_key: b64(&key) })))
}

/// Creates a facility in a site.
#[utoipa::path(post, path = api::CreateFacility::PATH, tag = "admin", security(("admin" = [])),
    params(("site_id" = i64, Path, description = "Site id")),
    request_body = NameRequest, responses((status = 201, body = Created), (status = 404, body = ErrorBody)))]
pub async fn create_facility(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(site_id): ApiPath<i64>,
    ApiJson(req): ApiJson<NameRequest>,
) -> Result<(StatusCode, Json<Created>)> {
    let name = non_empty("name", &req.name)?;
    let id = st.write(move |tx, _, now| orgs::create_facility(tx, site_id, &name, now)).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Adds a door (lock id and public key) to a facility.
#[utoipa::path(post, path = api::CreateDoor::PATH, tag = "admin", security(("admin" = [])),
    params(("facility_id" = i64, Path, description = "Facility id")),
    request_body = DoorRequest,
    responses((status = 201, body = DoorView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_door(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(facility_id): ApiPath<i64>,
    ApiJson(req): ApiJson<DoorRequest>,
) -> Result<(StatusCode, Json<DoorView>)> {
    let name = non_empty("name", &req.name)?;
    let lock_id = doors::parse_lock_id(&req.lock_id)?;
    let key = sessions::parse_device_key(&req.lock_public_key)
        .map_err(|_| Error::field("lock_public_key", "must be a 65-byte uncompressed P-256 key, base64url"))?;
    let signing_key = sessions::parse_device_key(&req.lock_signing_public_key)
        .map_err(|_| Error::field("lock_signing_public_key", "must be a 65-byte uncompressed P-256 key, base64url"))?;
    let view = st
        .write(move |tx, _, now| {
            let id = doors::create(tx, facility_id, &name, &lock_id, &key, &signing_key, req.online, now)?;
            doors::get(tx, id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// All doors of an organisation, with sync state.
#[utoipa::path(get, path = api::ListDoors::PATH, tag = "admin", security(("admin" = [])),
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = Vec<DoorView>)))]
pub async fn list_doors(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(org_id): ApiPath<i64>,
) -> Result<Json<Vec<DoorView>>> {
    Ok(Json(st.write(move |tx, _, _| doors::list_for_org(tx, org_id)).await?))
}

/// Creates a key holding one or more doors.
#[utoipa::path(post, path = api::CreateKey::PATH, tag = "admin", security(("admin" = [])),
    params(("facility_id" = i64, Path, description = "Facility id")),
    request_body = KeyRequest, responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
pub async fn create_key(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(facility_id): ApiPath<i64>,
    ApiJson(req): ApiJson<KeyRequest>,
) -> Result<(StatusCode, Json<Created>)> {
    let name = non_empty("name", &req.name)?;
    let id = st.write(move |tx, _, now| keys::create_key(tx, facility_id, &name, &req.door_ids, now)).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Adds a person to an organisation (status Not invited).
#[utoipa::path(post, path = api::AddPerson::PATH, tag = "admin", security(("admin" = [])),
    params(("org_id" = i64, Path, description = "Organisation id")),
    request_body = PersonRequest,
    responses((status = 201, body = PersonAdded), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_person(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(org_id): ApiPath<i64>,
    ApiJson(req): ApiJson<PersonRequest>,
) -> Result<(StatusCode, Json<PersonAdded>)> {
    let email = req
        .email
        .as_deref()
        .map(|e| crate::identifiers::normalize_email(e).map(Identifier::Email))
        .transpose()
        .map_err(|_| Error::field("email", "not an email address"))?;
    let phone = req
        .phone
        .as_deref()
        .map(|p| crate::identifiers::normalize_phone(p).map(Identifier::Phone))
        .transpose()
        .map_err(|_| Error::field("phone", "not a phone number in international format"))?;
    let name = names(req.first_name.as_deref(), req.last_name.as_deref())?;
    if email.is_none() && phone.is_none() && name.is_none() {
        // Seed 001, "Without email": a card-only person needs at least a name.
        return Err(Error::field("email", "an email, a phone, or a first and last name is required"));
    }
    let card = req.card.as_ref().map(card_of).transpose()?;
    let role = non_empty("role", req.role.as_deref().unwrap_or("member"))?;
    let out = st
        .write(move |tx, _, now| {
            orgs::exists(tx, "orgs", org_id, "organisation")?;
            let person_id = match (&email, &phone, &name) {
                (None, None, Some((first, last))) => people::create_named(tx, first, last, now)?,
                _ => {
                    let id = people::upsert(tx, email.as_ref(), phone.as_ref(), req.name.as_deref(), now)?;
                    if let Some((first, last)) = &name {
                        crate::profile::set_name(tx, id, first, last)?;
                    }
                    id
                }
            };
            if let Some((hex, surface)) = &card {
                crate::profile::set_card(tx, person_id, hex, surface.as_deref())?;
            }
            let membership_id = people::ensure_membership(tx, person_id, org_id, &role, now)?;
            Ok(PersonAdded { person_id, membership_id })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// A first and last name, both or neither.
fn names(first: Option<&str>, last: Option<&str>) -> Result<Option<(String, String)>> {
    match (first, last) {
        (None, None) => Ok(None),
        (first, last) => Ok(Some((
            crate::profile::parse_name("first_name", first.unwrap_or(""))?,
            crate::profile::parse_name("last_name", last.unwrap_or(""))?,
        ))),
    }
}

/// A checked card: its canonical id and surface id.
fn card_of(card: &CardRequest) -> Result<(String, Option<String>)> {
    let hex = crate::cards::normalise_card_id(&card.card_id, card.format)?;
    let surface = card.surface_id.as_deref().map(crate::cards::normalise_surface_id).transpose()?;
    Ok((hex, surface))
}

/// Puts an NFC card (hexadecimal or decimal, with its surface id) on a person's record.
#[utoipa::path(post, path = api::SetPersonCard::PATH, tag = "admin", security(("admin" = [])),
    params(("person_id" = i64, Path, description = "Person id")),
    request_body = CardRequest,
    responses((status = 200, body = CardView), (status = 404, body = ErrorBody),
              (status = 409, description = "conflict: the card is on another record", body = ErrorBody),
              (status = 422, description = "invalid_field: card_id or surface_id", body = ErrorBody)))]
pub async fn set_card(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(person_id): ApiPath<i64>,
    ApiJson(req): ApiJson<CardRequest>,
) -> Result<Json<CardView>> {
    let (hex, surface) = card_of(&req)?;
    let view = st
        .write(move |tx, _, _| {
            crate::profile::set_card(tx, person_id, &hex, surface.as_deref())?;
            Ok(crate::cards::view(&hex, surface))
        })
        .await?;
    Ok(Json(view))
}

/// People with invitation status (Not invited / Invited / Send failed / Accepted / Expired) and app adoption.
#[utoipa::path(get, path = api::ListPeople::PATH, tag = "admin", security(("admin" = [])),
    params(("org_id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = Vec<PersonSummary>)))]
pub async fn list_people(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(org_id): ApiPath<i64>,
) -> Result<Json<Vec<PersonSummary>>> {
    Ok(Json(st.write(move |tx, _, now| people::list(tx, org_id, now)).await?))
}

/// Deletes a person from the organisation: access and their guests' access end, history stays.
#[utoipa::path(delete, path = api::DeletePerson::PATH, tag = "admin", security(("admin" = [])),
    params(("org_id" = i64, Path, description = "Organisation id"), ("person_id" = i64, Path, description = "Person id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_person(
    _: Admin,
    State(st): State<AppState>,
    ApiPath((org_id, person_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode> {
    st.write(move |tx, _, now| people::delete_from_org(tx, org_id, person_id, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes all of a person's keys in the organisation, and the guest keys they shared.
#[utoipa::path(post, path = api::RevokeAll::PATH, tag = "admin",
    security(("admin" = [])),
    params(("org_id" = i64, Path, description = "Organisation id"), ("person_id" = i64, Path, description = "Person id")),
    request_body = RevokeRequest,
    responses((status = 200, body = Revoked),
              (status = 404, description = "not_found: the person is not in this organisation", body = ErrorBody),
              (status = 422, description = "invalid_field: the message", body = ErrorBody)))]
pub async fn revoke_all(
    _: Admin,
    State(st): State<AppState>,
    ApiPath((org_id, person_id)): ApiPath<(i64, i64)>,
    ApiOptionalJson(req): ApiOptionalJson<RevokeRequest>,
) -> Result<Json<Revoked>> {
    let message = access::holder_message(req.message.as_deref())?;
    let reason = RevokeReason::RevokedByAdmin.as_str();
    let revoked = st
        .write(move |tx, _, now| keys::revoke_all_saying(tx, org_id, person_id, reason, message.as_deref(), now))
        .await?;
    Ok(Json(Revoked { revoked }))
}

/// Turns a person's access in the organisation off (suspended: keys kept, refused
/// everywhere once doors sync) or back on (keys work again after the app's next refresh).
#[utoipa::path(post, path = api::SetAccess::PATH, tag = "admin", security(("admin" = [])),
    params(("org_id" = i64, Path, description = "Organisation id"), ("person_id" = i64, Path, description = "Person id")),
    request_body = AccessRequest,
    responses((status = 204),
              (status = 404, description = "not_found: the person is not in this organisation", body = ErrorBody),
              (status = 422, description = "invalid_field: the message", body = ErrorBody)))]
pub async fn set_access(
    _: Admin,
    State(st): State<AppState>,
    ApiPath((org_id, person_id)): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<AccessRequest>,
) -> Result<StatusCode> {
    st.write(move |tx, _, now| access::set_access(tx, org_id, person_id, req.enabled, req.message.as_deref(), now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Renames a key or replaces its doors.
#[utoipa::path(post, path = api::UpdateKey::PATH, tag = "admin", security(("admin" = [])),
    params(("key_id" = i64, Path, description = "Key id")),
    request_body = KeyChange,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_key(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(key_id): ApiPath<i64>,
    ApiJson(change): ApiJson<KeyChange>,
) -> Result<StatusCode> {
    st.write(move |tx, _, now| access::update_key(tx, key_id, &change, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a key; every grant of it is revoked (`key_deleted`), with its guests' keys.
#[utoipa::path(delete, path = api::DeleteKey::PATH, tag = "admin", security(("admin" = [])),
    params(("key_id" = i64, Path, description = "Key id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_key(_: Admin, State(st): State<AppState>, ApiPath(key_id): ApiPath<i64>) -> Result<StatusCode> {
    st.write(move |tx, _, now| access::delete_key(tx, key_id, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts the sign-in freeze on an identifier (see docs/security.md): for a member whose
/// address an attacker drove into the lifetime cap, once their identity was checked.
#[utoipa::path(post, path = api::UnfreezeSignIn::PATH, tag = "admin", security(("admin" = [])),
    request_body = UnfreezeRequest,
    responses((status = 204), (status = 422, description = "invalid_identifier", body = ErrorBody)))]
pub async fn unfreeze_sign_in(
    _: Admin,
    State(st): State<AppState>,
    ApiJson(req): ApiJson<UnfreezeRequest>,
) -> Result<StatusCode> {
    let ident = Identifier::parse(&req.identifier)?;
    st.write(move |tx, _, _| crate::otp::unfreeze(tx, &ident)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grants a key to a person.
#[utoipa::path(post, path = api::GrantKey::PATH, tag = "admin", security(("admin" = [])),
    params(("person_id" = i64, Path, description = "Person id")),
    request_body = GrantSpec, responses((status = 201, body = Created), (status = 404, body = ErrorBody)))]
pub async fn grant(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(person_id): ApiPath<i64>,
    ApiJson(spec): ApiJson<GrantSpec>,
) -> Result<(StatusCode, Json<Created>)> {
    let id = st.write(move |tx, _, now| keys::grant(tx, person_id, &spec, now)).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Changes a grant's window or sharing; credentials outside the new window are revoked.
#[utoipa::path(post, path = api::UpdateGrant::PATH, tag = "admin", security(("admin" = [])),
    params(("grant_id" = i64, Path, description = "Grant id")),
    request_body = GrantChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn update_grant(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(grant_id): ApiPath<i64>,
    ApiJson(change): ApiJson<GrantChange>,
) -> Result<StatusCode> {
    st.write(move |tx, _, now| keys::update_grant(tx, grant_id, &change, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes one key grant (and guest keys shared from it).
#[utoipa::path(post, path = api::RevokeGrant::PATH, tag = "admin", security(("admin" = [])),
    params(("grant_id" = i64, Path, description = "Grant id")),
    request_body = RevokeRequest,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revoke_grant(
    _: Admin,
    State(st): State<AppState>,
    ApiPath(grant_id): ApiPath<i64>,
    ApiOptionalJson(req): ApiOptionalJson<RevokeRequest>,
) -> Result<StatusCode> {
    let message = access::holder_message(req.message.as_deref())?;
    let reason = RevokeReason::RevokedByAdmin.as_str();
    st.write(move |tx, _, now| keys::revoke_grant_saying(tx, grant_id, reason, message.as_deref(), now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invites a person by email with a role and keys; the email carries a 24-hour link.
#[utoipa::path(post, path = api::Invite::PATH, tag = "admin", security(("admin" = [])),
    request_body = InviteRequest,
    responses((status = 201, body = InvitationSent), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn invite(
    _: Admin,
    State(st): State<AppState>,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<(StatusCode, Json<InvitationSent>)> {
    let email = crate::identifiers::normalize_email(&req.email)
        .map(Identifier::Email)
        .map_err(|_| Error::field("email", "an invitation needs an email address"))?;
    let role = non_empty("role", req.role.as_deref().unwrap_or("member"))?;
    let name = names(req.first_name.as_deref(), req.last_name.as_deref())?;
    let invited_by = req.invited_by.as_deref().map(|v| non_empty("invited_by", v)).transpose()?;
    let out = st
        .write(move |tx, st, now| {
            let spec = invitations::InviteSpec {
                facility_id: req.facility_id,
                email: &email,
                role: &role,
                access_start: req.access_start.unwrap_or(now),
                keys: &req.keys,
                person_id: req.person_id,
                name: name.as_ref().map(|(f, l)| (f.as_str(), l.as_str())),
                invited_by: invited_by.as_deref(),
            };
            invitations::invite(tx, st.secrets(), st.outbox(), st.public_host(), &spec, now)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Resends an invitation: a new link with a fresh 24 hours; the old link stops working.
#[utoipa::path(post, path = api::ResendInvitation::PATH, tag = "admin", security(("admin" = [])),
    params(("invitation_id" = i64, Path, description = "Invitation id")),
    responses((status = 200, body = InvitationSent), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resend(_: Admin, State(st): State<AppState>, ApiPath(id): ApiPath<i64>) -> Result<Json<InvitationSent>> {
    let out = st
        .write(move |tx, st, now| invitations::resend(tx, st.secrets(), st.outbox(), st.public_host(), id, now))
        .await?;
    Ok(Json(out))
}

/// Cancels an invitation; its link stops working at once.
#[utoipa::path(post, path = api::CancelInvitation::PATH, tag = "admin", security(("admin" = [])),
    params(("invitation_id" = i64, Path, description = "Invitation id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(_: Admin, State(st): State<AppState>, ApiPath(id): ApiPath<i64>) -> Result<StatusCode> {
    st.write(move |tx, _, now| invitations::cancel(tx, id, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Outbox filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages to this email or phone.
    pub to: Option<String>,
}

/// Reads the outbox: every message's delivery state, and the text of those that went to the
/// development outbox (codes and links as sent).
#[utoipa::path(get, path = api::ReadOutbox::PATH, tag = "admin", security(("admin" = [])), params(OutboxQuery),
    responses((status = 200, body = Vec<OutboxMessage>)))]
pub async fn outbox(
    _: Admin,
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<Json<Vec<OutboxMessage>>> {
    let to = match q.to.as_deref() {
        Some(t) => Some(Identifier::parse(t)?.as_str().to_owned()),
        None => None,
    };
    let st2 = st.clone();
    let list = st.db().with_conn(move |c| st2.outbox().list(c, to.as_deref())).await?;
    Ok(Json(list))
}

/// Door-sync task list filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PendingQuery {
    /// Only this organisation's doors.
    pub org_id: Option<i64>,
}

/// Offline doors that need a door sync.
#[utoipa::path(get, path = api::ListDoorsToSync::PATH, tag = "admin", security(("admin" = [])),
    params(PendingQuery), responses((status = 200, body = Vec<DoorView>)))]
pub async fn pending_doors(
    _: Admin,
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<PendingQuery>,
) -> Result<Json<Vec<DoorView>>> {
    Ok(Json(st.write(move |tx, _, _| doors::pending_sync(tx, q.org_id)).await?))
}
