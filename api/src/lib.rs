//! keyway-api: the HTTP contract between the Keyway backend and the apps, written once.
//!
//! The request and answer types (serde) live in one module per part of the API; each
//! endpoint is one type in [`endpoints`] that names its method, its path template, who may
//! call it, its query parameters, its body and its answer. The backend mounts its routes
//! from these, the core's client calls them, and the backend generates its OpenAPI
//! document (`backend/openapi.json`) from the same types (feature `openapi`), with a test
//! that fails when a route here and the document disagree.
//!
//! Light on purpose: serde only (plus utoipa behind `openapi`), so the phone library does
//! not grow.
#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
pub mod calendar;
pub mod clock_resets;
pub mod doorcodes;
pub mod doors;
pub mod endpoints;
pub mod invitations;
pub mod issuer_keys;
pub mod lock_link;
pub mod me;
pub mod people;
pub mod push;
pub mod service;
pub mod shares;

mod path;

pub use admin::*;
pub use auth::*;
pub use clock_resets::*;
pub use doorcodes::*;
pub use doors::*;
pub use invitations::*;
pub use issuer_keys::*;
pub use lock_link::*;
pub use me::*;
pub use people::*;
pub use push::*;
pub use service::*;
pub use shares::*;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`: reads, safe to repeat.
    Get,
    /// `POST`: creates or changes.
    Post,
    /// `DELETE`: removes.
    Delete,
}

impl Method {
    /// The method's name as HTTP writes it (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone (sign-in, invitation and share-link previews, health).
    Public,
    /// A signed-in person: `Authorization: Bearer <access token>`.
    Member,
    /// An operator: `Authorization: Bearer <admin token>`.
    Admin,
}

impl Access {
    /// The OpenAPI security scheme that stands for it (`None` for [`Access::Public`]).
    pub fn security_scheme(self) -> Option<&'static str> {
        match self {
            Access::Public => None,
            Access::Member => Some("bearer"),
            Access::Admin => Some("admin"),
        }
    }
}

/// The body of a request that sends none. It has no values, so no call can pass one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NoBody {}

/// One endpoint of the API: everything a client needs to call it and a server needs to
/// mount it. A value of the type is one call: its path parameters, query and body.
pub trait Endpoint {
    /// The JSON body sent ([`NoBody`] for none).
    type Body: Serialize;
    /// The JSON answer on success (`()` for `204 No Content`).
    type Answer: DeserializeOwned;
    /// The method.
    const METHOD: Method;
    /// The path template, parameters in braces as axum and OpenAPI write them
    /// (`/v1/doors/{door_id}/bundle`).
    const PATH: &'static str;
    /// Who may call it.
    const ACCESS: Access;
    /// The names of its query parameters (all optional).
    const QUERY: &'static [&'static str];

    /// This call's path: the template with its parameters filled in (percent-encoded),
    /// and the query parameters that are set.
    fn path(&self) -> String;

    /// This call's body, if the endpoint takes one.
    fn body(&self) -> Option<&Self::Body>;
}

/// Something that looks at every endpoint's type in turn (see [`visit_all`]): the
/// backend's contract tests walk the API with it.
pub trait EndpointVisitor {
    /// Called once per endpoint.
    fn visit<E: Endpoint>(&mut self);
}

pub use endpoints::visit_all;

/// An endpoint's method, template, access and query names, without its types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    /// The method.
    pub method: Method,
    /// The path template.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Its query parameter names.
    pub query: &'static [&'static str],
}

impl Route {
    /// The route of endpoint `E`.
    pub fn of<E: Endpoint>() -> Self {
        Route { method: E::METHOD, path: E::PATH, access: E::ACCESS, query: E::QUERY }
    }
}

/// Every route of the API, in the order of [`endpoints`].
pub fn routes() -> Vec<Route> {
    struct Collect(Vec<Route>);
    impl EndpointVisitor for Collect {
        fn visit<E: Endpoint>(&mut self) {
            self.0.push(Route::of::<E>());
        }
    }
    let mut all = Collect(Vec::new());
    visit_all(&mut all);
    all.0
}
