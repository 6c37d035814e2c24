//! The contract's own promises: one endpoint per method and path, calls that fill their
//! paths as the backend reads them, and secrets that never show in `Debug`.

use std::collections::HashSet;

use keyway_api::endpoints::{AcceptInvitation, DeletePerson, GetBundle, ListKeys, Logout, RevokeShare};
use keyway_api::{AcceptRequest, Endpoint, Method, RefreshRequest, SessionTokens, VerifyRequest, routes};

#[test]
fn no_two_endpoints_share_a_method_and_path() {
    let all = routes();
    let distinct: HashSet<_> = all.iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(distinct.len(), all.len());
    assert!(all.iter().all(|r| r.path.starts_with("/v1/")), "every route is under /v1");
}

#[test]
fn a_bundle_call_names_the_door_and_the_version_the_lock_runs() {
    let call = GetBundle { door_id: 12, since: Some(4) };
    assert_eq!(call.path(), "/v1/doors/12/bundle?since=4");
    assert_eq!(GetBundle { door_id: 12, since: None }.path(), "/v1/doors/12/bundle");
    assert_eq!(<GetBundle as Endpoint>::METHOD, Method::Get);
}

#[test]
fn a_first_key_refresh_sends_no_cursor() {
    assert_eq!(ListKeys { since: None }.path(), "/v1/me/keys");
    assert_eq!(ListKeys { since: Some(0) }.path(), "/v1/me/keys?since=0");
}

#[test]
fn calls_without_a_body_send_none() {
    assert!(Logout {}.body().is_none());
    assert!(RevokeShare { share_id: 3 }.body().is_none());
    assert_eq!(DeletePerson { org_id: 1, person_id: 2 }.path(), "/v1/admin/orgs/1/people/2");
}

#[test]
fn an_invitation_token_stays_one_path_segment() {
    let call = AcceptInvitation {
        token: "tok/../admin".into(),
        body: AcceptRequest {
            code: "123456".into(),
            device_public_key: "BAAA".into(),
            first_name: None,
            last_name: None,
        },
    };
    assert_eq!(call.path(), "/v1/invitations/tok%2F..%2Fadmin/accept");
}

#[test]
fn codes_and_tokens_never_show_in_debug() {
    let tokens = SessionTokens {
        access_token: "at_secret".into(),
        access_expires_at: 1,
        access_expires_in: 900,
        refresh_token: "rt_secret".into(),
        person_id: 7,
    };
    let verify =
        VerifyRequest { identifier: "a@b.example".into(), code: "654321".into(), device_public_key: "k".into() };
    let accept =
        AcceptRequest { code: "654321".into(), device_public_key: "k".into(), first_name: None, last_name: None };
    let refresh = RefreshRequest { refresh_token: "rt_secret".into() };
    let printed = format!("{tokens:?} {verify:?} {accept:?} {refresh:?}");
    for secret in ["at_secret", "rt_secret", "654321"] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains("person_id: 7"), "{printed}");
}

#[test]
fn an_optional_start_is_left_out_of_a_share_request_as_before() {
    let request = keyway_api::CreateShareRequest {
        grant_id: 1,
        door_ids: vec![2],
        starts_at: None,
        ends_at: 100,
        guest: "g@example.com".into(),
        device_proof: keyway_api::DeviceProof { nonce: "n".into(), signature: "s".into() },
    };
    let json = serde_json::to_value(&request).expect("serialises");
    assert!(json.get("starts_at").is_none(), "{json}");
    let all = keyway_api::CredentialsRequest { grant_id: None };
    assert_eq!(serde_json::to_string(&all).expect("serialises"), "{}");
}
