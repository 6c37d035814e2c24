//! The OpenAPI document, generated from the handlers' annotations (whose paths are
//! keyway-api's endpoint paths) and keyway-api's types (their `openapi` feature).
//!
//! `backend/openapi.json` is the checked-in copy; a test fails when it differs from what
//! the code generates (regenerate with `keyway-backend openapi > backend/openapi.json`),
//! and `tests/contract.rs` fails when it and keyway-api's endpoints disagree.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;
use keyway_api::{ErrorBody, ErrorDetail};

/// The whole API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Keyway backend API", version = "1.0.0",
         description = "The API a Keyway app (and an operator) talks to. Every error is `{\"error\":{\"code\":…,\"message\":…}}`."),
    paths(
        routes::health,
        routes::auth::send_code, routes::auth::verify, routes::auth::refresh, routes::auth::logout,
        routes::invitations::preview, routes::invitations::send_code, routes::invitations::accept,
        routes::me::profile, routes::me::keys, routes::me::credentials,
        routes::me::update_name, routes::me::delete_account, routes::admin::set_card,
        routes::push::register, routes::push::forget,
        routes::shares::create, routes::shares::revoke, routes::shares::redeem,
        routes::shares::preview, routes::shares::mine,
        routes::admin_doors::set_config, routes::admin_doors::events, routes::admin_doors::list_invitations,
        routes::door_sync::pending, routes::door_sync::bundle, routes::door_sync::receipt,
        routes::clock_resets::request, routes::clock_resets::admin,
        routes::lock_link::challenge, routes::lock_link::poll,
        routes::admin::create_org, routes::admin::create_site, routes::admin::create_facility,
        routes::admin::create_door, routes::admin::list_doors, routes::admin::create_key,
        routes::admin::add_person, routes::admin::list_people, routes::admin::delete_person,
        routes::admin::revoke_all, routes::admin::set_access, routes::admin::unfreeze_sign_in, routes::admin::update_key, routes::admin::delete_key,
        routes::admin::grant, routes::admin::update_grant, routes::admin::revoke_grant,
        routes::admin::invite, routes::admin::resend, routes::admin::cancel,
        routes::admin::outbox, routes::admin::pending_doors,
        routes::doorcodes::mine, routes::doorcodes::set_for_grant, routes::doorcodes::set_secret,
        routes::issuer_keys::list, routes::issuer_keys::rotate, routes::issuer_keys::retire,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerSchemes),
    tags(
        (name = "auth", description = "One-time-code sign-in and sessions"),
        (name = "invitations", description = "Invitation preview and acceptance"),
        (name = "me", description = "The signed-in person's keys and credentials"),
        (name = "shares", description = "Guest sharing"),
        (name = "door_sync", description = "Bundles for offline doors and lock receipts"),
        (name = "lock_link", description = "The online link of a lock with internet, signed with the lock's own key"),
        (name = "admin", description = "Operator API (admin token)"),
        (name = "meta", description = "Service information"),
    )
)]
pub struct ApiDoc;

struct BearerSchemes;

impl Modify for BearerSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "admin",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The admin token from the server configuration"))
                    .build(),
            ),
        );
    }
}

/// The document as pretty JSON with a trailing newline (the checked-in form).
pub fn document_json() -> String {
    let mut s = ApiDoc::openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}
