//! `keyway-backend admin …`: operator commands that drive the admin API over HTTP, the
//! way a console would. Each prints the JSON answer.

use clap::Subcommand;
use serde_json::{Value, json};

/// One admin command.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an organisation (account).
    CreateOrg {
        /// Name.
        name: String,
    },
    /// Create a site (with its issuer key) in an organisation.
    CreateSite {
        /// Organisation id.
        org_id: i64,
        /// Name.
        name: String,
        /// Credential life in seconds (default 72 h).
        #[arg(long)]
        credential_ttl_secs: Option<i64>,
    },
    /// A site's issuer keys, its anchor-set version and the doors not yet synced to it.
    IssuerKeys {
        /// Site id.
        site_id: i64,
    },
    /// Rotate a site's issuer key: a new key signs from now on; every door is told to
    /// trust both (wait for `issuer-keys` to list no pending door, then `retire-issuer-key`).
    RotateIssuerKey {
        /// Site id.
        site_id: i64,
    },
    /// Retire a site's outgoing issuer key: doors drop it, and it signs nothing again.
    RetireIssuerKey {
        /// Site id.
        site_id: i64,
        /// Retire although some doors have not synced (they must be provisioned again).
        #[arg(long)]
        force: bool,
    },
    /// Create a facility in a site.
    CreateFacility {
        /// Site id.
        site_id: i64,
        /// Name.
        name: String,
    },
    /// Add a door to a facility.
    CreateDoor {
        /// Facility id.
        facility_id: i64,
        /// Name.
        name: String,
        /// Lock id, 16 hex digits.
        #[arg(long)]
        lock_id: String,
        /// Lock public key, base64url of 65 bytes.
        #[arg(long)]
        lock_public_key: String,
        /// Lock receipt-signing public key, base64url of 65 bytes.
        #[arg(long)]
        lock_signing_public_key: String,
        /// The door is connected to the internet.
        #[arg(long)]
        online: bool,
    },
    /// List an organisation's doors.
    Doors {
        /// Organisation id.
        org_id: i64,
    },
    /// Create a key holding doors.
    CreateKey {
        /// Facility id.
        facility_id: i64,
        /// Name.
        name: String,
        /// Door ids.
        #[arg(long = "door", required = true)]
        door_ids: Vec<i64>,
    },
    /// Add a person (e.g. phone-only) to an organisation.
    AddPerson {
        /// Organisation id.
        org_id: i64,
        /// Email.
        #[arg(long)]
        email: Option<String>,
        /// Phone.
        #[arg(long)]
        phone: Option<String>,
        /// Name.
        #[arg(long)]
        name: Option<String>,
        /// Role.
        #[arg(long)]
        role: Option<String>,
    },
    /// List an organisation's people with invitation status.
    People {
        /// Organisation id.
        org_id: i64,
    },
    /// Invite a person by email, optionally granting one key.
    Invite {
        /// Facility id.
        facility_id: i64,
        /// Email.
        email: String,
        /// Role.
        #[arg(long)]
        role: Option<String>,
        /// Key to grant.
        #[arg(long)]
        key_id: Option<i64>,
        /// Grant expiry, unix seconds (with --key-id).
        #[arg(long)]
        expires_at: Option<i64>,
        /// Let the person share the key.
        #[arg(long)]
        shareable: bool,
        /// Access start, unix seconds.
        #[arg(long)]
        access_start: Option<i64>,
    },
    /// Resend an invitation (new link; the old one stops working).
    Resend {
        /// Invitation id.
        invitation_id: i64,
    },
    /// Cancel an invitation.
    Cancel {
        /// Invitation id.
        invitation_id: i64,
    },
    /// Grant a key to a person.
    Grant {
        /// Person id.
        person_id: i64,
        /// Key id.
        key_id: i64,
        /// Expiry, unix seconds.
        #[arg(long)]
        expires_at: i64,
        /// Start, unix seconds.
        #[arg(long)]
        starts_at: Option<i64>,
        /// Shareable with guests.
        #[arg(long)]
        shareable: bool,
    },
    /// Change a grant's window or sharing.
    UpdateGrant {
        /// Grant id.
        grant_id: i64,
        /// New start, unix seconds.
        #[arg(long)]
        starts_at: Option<i64>,
        /// New expiry, unix seconds.
        #[arg(long)]
        expires_at: Option<i64>,
        /// Shareable with guests (true/false).
        #[arg(long)]
        shareable: Option<bool>,
    },
    /// Revoke one grant.
    RevokeGrant {
        /// Grant id.
        grant_id: i64,
        /// Words for the holder, shown on their key (at most 200 characters).
        #[arg(long)]
        message: Option<String>,
    },
    /// Revoke all of a person's keys in an organisation.
    RevokeAll {
        /// Organisation id.
        org_id: i64,
        /// Person id.
        person_id: i64,
        /// Words for the holder, shown on their keys (at most 200 characters).
        #[arg(long)]
        message: Option<String>,
    },
    /// Turn a person's access off for now (keys kept, refused once doors sync).
    Suspend {
        /// Organisation id.
        org_id: i64,
        /// Person id.
        person_id: i64,
        /// Words for the person, shown on their keys (at most 200 characters).
        #[arg(long)]
        message: Option<String>,
    },
    /// Turn a suspended person's access back on.
    Resume {
        /// Organisation id.
        org_id: i64,
        /// Person id.
        person_id: i64,
    },
    /// Rename a key or replace its doors.
    UpdateKey {
        /// Key id.
        key_id: i64,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// The doors it holds from now on (comma-separated door ids).
        #[arg(long, value_delimiter = ',')]
        door_ids: Option<Vec<i64>>,
    },
    /// Lift the sign-in freeze on an email address or phone number.
    Unfreeze {
        /// The email address or phone number.
        identifier: String,
    },
    /// Delete a key (every grant of it is revoked).
    DeleteKey {
        /// Key id.
        key_id: i64,
    },
    /// Delete a person from an organisation (history kept).
    DeletePerson {
        /// Organisation id.
        org_id: i64,
        /// Person id.
        person_id: i64,
    },
    /// Read the outbox.
    Outbox {
        /// Only messages to this address.
        #[arg(long)]
        to: Option<String>,
    },
    /// Offline doors that need a door sync.
    PendingSync,
    /// An organisation's invitations (pending, expired, accepted, cancelled).
    Invitations {
        /// Organisation id.
        org_id: i64,
    },
    /// Change a door's lock settings (offline doors get them with the next sync).
    DoorConfig {
        /// Door id.
        door_id: i64,
        /// Latch open time in milliseconds.
        #[arg(long)]
        unlock_ms: Option<u16>,
        /// Accept fast unlocks (true/false).
        #[arg(long)]
        fast_unlock: Option<bool>,
    },
    /// A door's activity history.
    DoorEvents {
        /// Door id.
        door_id: i64,
    },
}

/// Runs one command against `base_url` with `token`; returns the JSON answer (or the error
/// body). `ca_file` adds extra trusted CA certificates (PEM) to the system's, e.g. a
/// development CA from `keyway-backend dev-certs`.
pub async fn run(
    base_url: &str,
    ca_file: Option<&std::path::Path>,
    token: &str,
    cmd: AdminCommand,
) -> Result<Value, String> {
    use AdminCommand as C;
    let (method, path, body): (&str, String, Option<Value>) = match cmd {
        C::CreateOrg { name } => ("POST", "/v1/admin/orgs".into(), Some(json!({ "name": name }))),
        C::CreateSite { org_id, name, credential_ttl_secs } => (
            "POST",
            format!("/v1/admin/orgs/{org_id}/sites"),
            Some(json!({ "name": name, "credential_ttl_secs": credential_ttl_secs })),
        ),
        C::IssuerKeys { site_id } => ("GET", format!("/v1/admin/sites/{site_id}/issuer-keys"), None),
        C::RotateIssuerKey { site_id } => ("POST", format!("/v1/admin/sites/{site_id}/issuer-keys/rotate"), None),
        C::RetireIssuerKey { site_id, force } => {
            ("POST", format!("/v1/admin/sites/{site_id}/issuer-keys/retire"), Some(json!({ "force": force })))
        }
        C::CreateFacility { site_id, name } => {
            ("POST", format!("/v1/admin/sites/{site_id}/facilities"), Some(json!({ "name": name })))
        }
        C::CreateDoor { facility_id, name, lock_id, lock_public_key, lock_signing_public_key, online } => (
            "POST",
            format!("/v1/admin/facilities/{facility_id}/doors"),
            Some(json!({ "name": name, "lock_id": lock_id, "lock_public_key": lock_public_key,
                        "lock_signing_public_key": lock_signing_public_key, "online": online })),
        ),
        C::Doors { org_id } => ("GET", format!("/v1/admin/orgs/{org_id}/doors"), None),
        C::CreateKey { facility_id, name, door_ids } => (
            "POST",
            format!("/v1/admin/facilities/{facility_id}/keys"),
            Some(json!({ "name": name, "door_ids": door_ids })),
        ),
        C::AddPerson { org_id, email, phone, name, role } => (
            "POST",
            format!("/v1/admin/orgs/{org_id}/people"),
            Some(json!({ "email": email, "phone": phone, "name": name, "role": role })),
        ),
        C::People { org_id } => ("GET", format!("/v1/admin/orgs/{org_id}/people"), None),
        C::Invite { facility_id, email, role, key_id, expires_at, shareable, access_start } => {
            let keys = match (key_id, expires_at) {
                (Some(k), Some(e)) => {
                    json!([{ "key_id": k, "expires_at": e, "shareable": shareable }])
                }
                (Some(_), None) => return Err("--key-id needs --expires-at".into()),
                _ => json!([]),
            };
            (
                "POST",
                "/v1/admin/invitations".into(),
                Some(json!({ "facility_id": facility_id, "email": email, "role": role,
                             "access_start": access_start, "keys": keys })),
            )
        }
        C::Resend { invitation_id } => ("POST", format!("/v1/admin/invitations/{invitation_id}/resend"), None),
        C::Cancel { invitation_id } => ("POST", format!("/v1/admin/invitations/{invitation_id}/cancel"), None),
        C::Grant { person_id, key_id, expires_at, starts_at, shareable } => (
            "POST",
            format!("/v1/admin/people/{person_id}/grants"),
            Some(json!({ "key_id": key_id, "expires_at": expires_at, "starts_at": starts_at, "shareable": shareable })),
        ),
        C::UpdateGrant { grant_id, starts_at, expires_at, shareable } => (
            "POST",
            format!("/v1/admin/grants/{grant_id}"),
            Some(json!({ "starts_at": starts_at, "expires_at": expires_at, "shareable": shareable })),
        ),
        C::RevokeGrant { grant_id, message } => {
            ("POST", format!("/v1/admin/grants/{grant_id}/revoke"), Some(json!({ "message": message })))
        }
        C::RevokeAll { org_id, person_id, message } => (
            "POST",
            format!("/v1/admin/orgs/{org_id}/people/{person_id}/revoke-all"),
            Some(json!({ "message": message })),
        ),
        C::Suspend { org_id, person_id, message } => (
            "POST",
            format!("/v1/admin/orgs/{org_id}/people/{person_id}/access"),
            Some(json!({ "enabled": false, "message": message })),
        ),
        C::Resume { org_id, person_id } => {
            ("POST", format!("/v1/admin/orgs/{org_id}/people/{person_id}/access"), Some(json!({ "enabled": true })))
        }
        C::UpdateKey { key_id, name, door_ids } => {
            ("POST", format!("/v1/admin/keys/{key_id}"), Some(json!({ "name": name, "door_ids": door_ids })))
        }
        C::Unfreeze { identifier } => {
            ("POST", "/v1/admin/sign-in/unfreeze".into(), Some(json!({ "identifier": identifier })))
        }
        C::DeleteKey { key_id } => ("DELETE", format!("/v1/admin/keys/{key_id}"), None),
        C::DeletePerson { org_id, person_id } => {
            ("DELETE", format!("/v1/admin/orgs/{org_id}/people/{person_id}"), None)
        }
        C::Outbox { to } => (
            "GET",
            match to {
                Some(t) => format!("/v1/admin/outbox?to={}", urlencode(&t)),
                None => "/v1/admin/outbox".into(),
            },
            None,
        ),
        C::PendingSync => ("GET", "/v1/admin/door-sync/pending".into(), None),
        C::Invitations { org_id } => ("GET", format!("/v1/admin/orgs/{org_id}/invitations"), None),
        C::DoorConfig { door_id, unlock_ms, fast_unlock } => (
            "POST",
            format!("/v1/admin/doors/{door_id}/config"),
            Some(json!({ "unlock_ms": unlock_ms, "fast_unlock": fast_unlock })),
        ),
        C::DoorEvents { door_id } => ("GET", format!("/v1/admin/doors/{door_id}/events"), None),
    };
    // rustls on ring, installed once per process (a no-op if already installed).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let roots = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| format!("{} holds no PEM certificate", path.display()))?;
        builder = builder.tls_certs_merge(roots);
    }
    let client = builder.build().map_err(|e| format!("cannot start the HTTPS client: {e}"))?;
    let url = format!("{}{}", base_url.trim_end_matches('/'), path);
    let req = match method {
        "GET" => client.get(&url),
        "DELETE" => client.delete(&url),
        _ => client.post(&url),
    }
    .bearer_auth(token);
    let req = match body {
        Some(b) => req.json(&strip_nulls(b)),
        None => req,
    };
    let resp = req.send().await.map_err(|e| format!("request failed: {}", with_causes(&e)))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| format!("reading the answer failed: {e}"))?;
    let value = if text.is_empty() {
        json!({ "status": status.as_u16() })
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if status.is_success() { Ok(value) } else { Err(value.to_string()) }
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An error and every cause under it ("error sending request: connection reset…"): the
/// top line alone does not say what went wrong.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
