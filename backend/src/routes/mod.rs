//! The HTTP layer: the `/v1` router, typed extractors that turn every bad input into a
//! typed 4xx error, and the session and admin authentication extractors.

pub mod admin;
pub mod admin_doors;
pub mod auth;
pub mod clock_resets;
pub mod door_sync;
pub mod doorcodes;
pub mod invitations;
pub mod issuer_keys;
pub mod lock_link;
pub mod me;
pub mod push;
pub mod shares;

use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, get};
use keyway_api::endpoints as api;
use keyway_api::{Endpoint, Method, Route};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::Error;
use crate::sessions::{self, SessionInfo};
use keyway_api::Health;

/// Largest request body accepted (64 KiB): nothing in the API needs more.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Mounts each endpoint of the contract (`keyway_api::endpoints`) on its handler, at the
/// contract's path and method, and lists what it mounted for the contract test.
macro_rules! mount {
    ($($endpoint:ident => $handler:path),* $(,)?) => {
        fn mount_endpoints(router: Router<AppState>) -> Router<AppState> {
            router$(.route(
                <api::$endpoint as Endpoint>::PATH,
                axum::routing::on(method_filter(<api::$endpoint as Endpoint>::METHOD), $handler),
            ))*
        }

        /// The routes [`router`] mounts from the contract.
        pub fn mounted_routes() -> Vec<Route> {
            vec![$(Route::of::<api::$endpoint>()),*]
        }
    };
}

mount! {
    GetHealth => health,
    SendCode => auth::send_code,
    Verify => auth::verify,
    Refresh => auth::refresh,
    Logout => auth::logout,
    PreviewInvitation => invitations::preview,
    SendInvitationCode => invitations::send_code,
    AcceptInvitation => invitations::accept,
    GetProfile => me::profile,
    ListKeys => me::keys,
    IssueCredentials => me::credentials,
    UpdateMyName => me::update_name,
    DeleteMyAccount => me::delete_account,
    RegisterPushToken => push::register,
    ForgetPushToken => push::forget,
    CreateShare => shares::create,
    RevokeShare => shares::revoke,
    PreviewShareLink => shares::preview,
    RedeemShareLink => shares::redeem,
    ListMyShares => shares::mine,
    ListPendingDoors => door_sync::pending,
    GetBundle => door_sync::bundle,
    UploadReceipt => door_sync::receipt,
    RequestClockReset => clock_resets::request,
    GetLinkChallenge => lock_link::challenge,
    PollLink => lock_link::poll,
    CreateOrg => admin::create_org,
    CreateSite => admin::create_site,
    ListIssuerKeys => issuer_keys::list,
    RotateIssuerKey => issuer_keys::rotate,
    RetireIssuerKey => issuer_keys::retire,
    CreateFacility => admin::create_facility,
    CreateDoor => admin::create_door,
    ListDoors => admin::list_doors,
    CreateKey => admin::create_key,
    AddPerson => admin::add_person,
    ListPeople => admin::list_people,
    DeletePerson => admin::delete_person,
    RevokeAll => admin::revoke_all,
    SetAccess => admin::set_access,
    SetPersonCard => admin::set_card,
    GrantKey => admin::grant,
    UpdateGrant => admin::update_grant,
    RevokeGrant => admin::revoke_grant,
    UnfreezeSignIn => admin::unfreeze_sign_in,
    AdminClockReset => clock_resets::admin,
    UpdateKey => admin::update_key,
    DeleteKey => admin::delete_key,
    Invite => admin::invite,
    ResendInvitation => admin::resend,
    CancelInvitation => admin::cancel,
    ReadOutbox => admin::outbox,
    SetDoorConfig => admin_doors::set_config,
    ListDoorEvents => admin_doors::events,
    ListInvitations => admin_doors::list_invitations,
    ListDoorsToSync => admin::pending_doors,
    GetDoorcodes => doorcodes::mine,
    SetGrantDoorcode => doorcodes::set_for_grant,
    SetDoorcodeSecret => doorcodes::set_secret,
}

fn method_filter(method: Method) -> MethodFilter {
    match method {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Delete => MethodFilter::DELETE,
    }
}

/// Builds the whole router: the contract's endpoints, and `openapi_document` (the JSON
/// that describes them, which is not itself part of the contract) at `/v1/openapi.json`.
/// The document comes in as data so that this layer never reads the module that
/// generates it from the handlers here.
pub fn router(state: AppState, openapi_document: String) -> Router {
    let document = axum::body::Bytes::from(openapi_document);
    let serve_document = move || {
        let document = document.clone();
        async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], document) }
    };
    mount_endpoints(Router::new())
        .route("/v1/openapi.json", get(serve_document))
        // The links' browser pages and the apps' .well-known files (not part of the API).
        .merge(crate::landing::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(catch_panics))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// The peer address of a request's connection (plain TCP or TLS), for handlers that limit
/// per client (`ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, crate::tls::TlsListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, crate::tls::TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// Counts every request that reached the router (see [`AppState::requests_served`]).
async fn count_request(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    state.count_request();
    next.run(req).await
}

/// Runs each request on its own task so that a bug that panics becomes a typed 500 for that
/// request instead of a dropped connection.
async fn catch_panics(req: Request, next: axum::middleware::Next) -> Response {
    match tokio::spawn(next.run(req)).await {
        Ok(resp) => resp,
        Err(e) => Error::Internal(format!("request task failed: {e}")).into_response(),
    }
}

async fn not_found() -> Error {
    Error::NotFound("route")
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

/// Whether the service is up.
#[utoipa::path(get, path = api::GetHealth::PATH, tag = "meta", responses((status = 200, body = Health)))]
pub async fn health(axum::extract::State(st): axum::extract::State<AppState>) -> axum::Json<Health> {
    axum::Json(Health { status: "ok".into(), time: st.now() })
}

/// JSON body extractor whose failures are typed errors.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

/// JSON body extractor for bodies that may be left out: a request with no body at all
/// (no `Content-Type`, and no or a zero `Content-Length`) reads as `T::default()`; any
/// body that is sent is checked like [`ApiJson`].
pub struct ApiOptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiOptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let length = headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
        let chunked = headers.contains_key(axum::http::header::TRANSFER_ENCODING);
        let typed = headers.contains_key(axum::http::header::CONTENT_TYPE);
        if !typed && !chunked && length.is_none_or(|l| l.trim() == "0") {
            return Ok(ApiOptionalJson(T::default()));
        }
        ApiJson::from_request(req, state).await.map(|ApiJson(v)| ApiOptionalJson(v))
    }
}

fn json_rejection(rej: JsonRejection) -> Error {
    match rej {
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            // serde's message names the field ("name: invalid type …" or "unknown field `x`").
            let detail = text.split_once(": ").map(|(_, rest)| rest.to_owned()).unwrap_or(text);
            let field = detail
                .split_once(": ")
                .map(|(f, _)| f.to_owned())
                .filter(|f| !f.contains(' '))
                .unwrap_or_else(|| "body".to_owned());
            Error::InvalidField { field, message: without_values(&detail) }
        }
        JsonRejection::JsonSyntaxError(e) => Error::MalformedJson(e.body_text()),
        JsonRejection::MissingJsonContentType(_) => Error::UnsupportedMediaType,
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Error::BodyTooLarge,
        other => Error::MalformedJson(other.body_text()),
    }
}

/// Drops the values serde quotes in "invalid type/value" messages (`integer `123456``), so an
/// error never repeats what was sent — it may be a code or a token. Field names stay.
fn without_values(message: &str) -> String {
    if !message.contains("invalid type") && !message.contains("invalid value") && !message.contains("invalid length") {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '`' {
            if !inside {
                out.push_str("`…");
            } else {
                out.push('`');
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

/// Path parameters extractor whose failures are typed errors.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(Error::field("path", e.body_text())),
            Err(e) => Err(Error::field("path", e.body_text())),
        }
    }
}

/// Query string extractor whose failures are typed errors.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(Error::field("query", e.body_text())),
            Err(e) => Err(Error::field("query", e.body_text())),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The signed-in caller, from `Authorization: Bearer <access token>`.
pub struct Authed(pub SessionInfo);

impl FromRequestParts<AppState> for Authed {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(Error::Unauthenticated)?.to_owned();
        // Checking a session only reads: it never waits for the writer.
        let info = state.read(move |tx, st, now| sessions::authenticate(tx, st.secrets(), &token, now)).await?;
        Ok(Authed(info))
    }
}

/// An administrator, from `Authorization: Bearer <admin token>`.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(Error::AdminUnauthorized)?;
        if state.is_admin_token(token) { Ok(Admin) } else { Err(Error::AdminUnauthorized) }
    }
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn error_messages_do_not_repeat_the_values_sent() {
        let m = without_values("code: invalid type: integer `123456`, expected a string at line 1 column 14");
        assert!(!m.contains("123456"), "{m}");
        assert!(m.starts_with("code: invalid type"));
        assert_eq!(
            without_values("unknown field `admin`, expected `identifier`"),
            "unknown field `admin`, expected `identifier`"
        );
    }
}
