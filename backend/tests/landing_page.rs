//! The links people are sent, opened in a browser, over the real HTTPS server: the
//! invitation and share pages (what they show, their headers, escaping), the pages of
//! links that no longer work (status, and nothing about whom they were for), and the
//! `.well-known` files that let the apps open the links.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use keyway_backend::landing::AppLinks;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const APP_STORE: &str = "https://apps.apple.com/app/keyway/id123456789";
const PLAY_STORE: &str = "https://play.google.com/store/apps/details?id=app.keyway.members";

fn configured() -> AppLinks {
    AppLinks::default()
        .with_app_store_url(APP_STORE)
        .and_then(|a| a.with_play_store_url(PLAY_STORE))
        .and_then(|a| a.with_ios_app_id("ABCDE12345.app.keyway.members"))
        .and_then(|a| a.with_android_app("app.keyway.members", &["ab".repeat(32)]))
        .unwrap()
}

/// A page as a browser gets it: status, headers, text.
struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

async fn get(s: &Server, path: &str) -> Page {
    // No redirects followed: the .well-known files must be served in place.
    let root = reqwest::Certificate::from_pem(s.ca_pem().as_bytes()).unwrap();
    let http =
        reqwest::Client::builder().tls_certs_only([root]).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = http.get(format!("{}{path}", s.base)).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Page { status, headers, body: resp.text().await.unwrap() }
}

fn header<'a>(p: &'a Page, name: &str) -> &'a str {
    p.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Every page, live or dead, keeps its link to itself.
fn assert_private_page(p: &Page) {
    assert_eq!(header(p, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(p, "referrer-policy"), "no-referrer");
    assert_eq!(header(p, "x-content-type-options"), "nosniff");
    assert_eq!(header(p, "cache-control"), "no-store");
    let csp = header(p, "content-security-policy");
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(csp.contains("style-src 'sha256-") && csp.contains("img-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe") && !csp.contains("script-src"), "{csp}");
    for needed in ["<html lang=\"en\">", "<meta name=\"robots\" content=\"noindex\">", "name=\"viewport\"", "<h1>"] {
        assert!(p.body.contains(needed), "{needed} missing in {}", p.body);
    }
    // Nothing is loaded from anywhere: no scripts, images, stylesheets, fonts or frames.
    for banned in ["<script", "<img", "<link", "<iframe", " src=\"", "url(", "@import"] {
        assert!(!p.body.contains(banned), "{banned} in {}", p.body);
    }
}

async fn invite_ada(s: &Server, f: &Fixture) -> (Value, String) {
    let sent = invite(s, f, "ada@example.com").await;
    (sent, token_of(&s.last_link("ada@example.com", "invitation").await))
}

#[tokio::test]
async fn landing_page_of_a_live_invitation_names_the_place_role_start_and_keys() {
    let s = Server::start_with(configured()).await;
    let f = fixture(&s, "Acme Fitness", 1).await;
    let (_, token) = invite_ada(&s, &f).await;
    let p = get(&s, &format!("/invite/{token}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_private_page(&p);
    for text in
        ["Acme Fitness", "Riverside Gym", "member", "15 January 2027, 08:00 UTC", "All doors", "Back gate, Front door"]
    {
        assert!(p.body.contains(text), "{text} missing in {}", p.body);
    }
    assert!(!p.body.contains("No access yet"));
    // "Open in the app" is the link itself, on the public host, for universal links and App Links.
    assert!(p.body.contains(&format!("href=\"https://keyway.test/invite/{token}\">Open in the app</a>")), "{}", p.body);
    assert!(p.body.contains(&format!("href=\"{APP_STORE}\"")) && p.body.contains("Download on the App Store"));
    assert!(p.body.contains(&format!("href=\"{}\"", PLAY_STORE)) && p.body.contains("Get it on Google Play"));
    // The address the invitation went to is not on the page.
    assert!(!p.body.contains("ada@example.com"));
}

#[tokio::test]
async fn landing_page_of_an_invitation_without_keys_says_no_access_yet() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme Fitness", 1).await;
    s.admin("POST", "/v1/admin/invitations", Some(json!({ "facility_id": f.facility, "email": "bo@example.com" })))
        .await
        .ok();
    let token = token_of(&s.last_link("bo@example.com", "invitation").await);
    let p = get(&s, &format!("/invite/{token}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("No access yet"), "{}", p.body);
    // No store configured: no store buttons, and the page says where to look instead.
    assert!(!p.body.contains("apps.apple.com") && !p.body.contains("play.google.com"));
    assert!(p.body.contains("app store"));
}

#[tokio::test]
async fn landing_page_escapes_hostile_names() {
    let s = Server::start().await;
    let f = fixture(&s, "<script>alert('org')</script> & Co", 1).await;
    let key = add_key(&s, f.facility, "\"><img src=x onerror=alert(1)>", &[f.offline_door]).await;
    s.admin(
        "POST",
        "/v1/admin/invitations",
        Some(json!({ "facility_id": f.facility, "email": "eve@example.com", "role": "<b>boss</b>",
                     "keys": [{ "key_id": key, "expires_at": s.now() + DAY }] })),
    )
    .await
    .ok();
    let token = token_of(&s.last_link("eve@example.com", "invitation").await);
    let p = get(&s, &format!("/invite/{token}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_private_page(&p);
    assert!(p.body.contains("&lt;script&gt;alert(&#39;org&#39;)&lt;/script&gt; &amp; Co"), "{}", p.body);
    assert!(p.body.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), "{}", p.body);
    assert!(p.body.contains("&lt;b&gt;boss&lt;/b&gt;") && !p.body.contains("<b>"), "{}", p.body);
}

#[tokio::test]
async fn landing_page_of_a_dead_invitation_is_gone_and_says_only_why() {
    let s = Server::start().await;
    let f = fixture(&s, "Acme Fitness", 1).await;
    let must_not_show = ["Acme Fitness", "Riverside Gym", "@example.com", "Open in the app", "All doors"];
    let check = |p: Page, status: u16, says: &str| {
        assert_eq!(p.status, status, "{}", p.body);
        assert_private_page(&p);
        assert!(p.body.contains(says), "{says} missing in {}", p.body);
        for secret in must_not_show {
            assert!(!p.body.contains(secret), "{secret} shown in {}", p.body);
        }
    };

    // Expired: 24 hours and a second later.
    let (_, expired) = invite_ada(&s, &f).await;
    s.clock.advance(DAY + 1);
    check(get(&s, &format!("/invite/{expired}")).await, 410, "This invitation has expired");

    // Superseded by a resend, then cancelled.
    let (sent, old) = invite_ada(&s, &f).await;
    s.admin("POST", &format!("/v1/admin/invitations/{}/resend", sent["invitation_id"]), None).await.ok();
    check(get(&s, &format!("/invite/{old}")).await, 410, "A newer invitation was sent");
    let (sent, cancelled) = invite_ada(&s, &f).await;
    s.admin("POST", &format!("/v1/admin/invitations/{}/cancel", sent["invitation_id"]), None).await;
    check(get(&s, &format!("/invite/{cancelled}")).await, 410, "This invitation was cancelled");

    // Used: accepted on a phone.
    member(&s, &f, "cy@example.com", &TestPhone::new()).await;
    let used = token_of(&s.last_link("cy@example.com", "invitation").await);
    check(get(&s, &format!("/invite/{used}")).await, 410, "This invitation was already accepted");
}

#[tokio::test]
async fn landing_page_of_a_garbage_token_is_not_found_and_does_not_repeat_it() {
    let s = Server::start().await;
    let long = "A".repeat(5000);
    for token in
        ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "a/b/c", "%FF%FE", &long]
    {
        for kind in ["invite", "share"] {
            let p = get(&s, &format!("/{kind}/{token}")).await;
            assert_eq!(p.status, 404, "{kind}/{token}: {}", p.body);
            assert_private_page(&p);
            assert!(p.body.contains("This link does not work"), "{}", p.body);
            assert!(!p.body.contains("alert(1)") && !p.body.contains("AAAAAAAAAAAAAAAAAAAA"), "{}", p.body);
        }
    }
}

#[tokio::test]
async fn landing_page_of_a_share_names_the_sharer_doors_and_window() {
    let s = Server::start_with(configured()).await;
    let f = fixture(&s, "Acme Fitness", 1).await;
    let phone = TestPhone::new();
    s.admin(
        "POST",
        "/v1/admin/invitations",
        Some(json!({ "facility_id": f.facility, "email": "ada@example.com", "first_name": "Ada",
                     "last_name": "<Lovelace>", "keys": [{ "key_id": f.key, "expires_at": s.now() + 30 * DAY,
                     "shareable": true }] })),
    )
    .await
    .ok();
    let token = token_of(&s.last_link("ada@example.com", "invitation").await);
    s.post(&format!("/v1/invitations/{token}/code"), json!({})).await.ok();
    let code = s.last_code("ada@example.com").await;
    let ada = s
        .post(
            &format!("/v1/invitations/{token}/accept"),
            json!({ "code": code, "device_public_key": phone.public_key_b64() }),
        )
        .await
        .ok();
    let keys = s.send("GET", "/v1/me/keys", Some(&bearer(&ada)), None).await.ok();
    let grant = keys["keys"][0]["grant_id"].as_i64().unwrap();
    let share = |guest: &'static str| {
        let body = phone.signed_share(json!({ "grant_id": grant, "door_ids": [f.offline_door],
            "starts_at": s.now() + DAY, "ends_at": s.now() + 3 * DAY, "guest": guest }));
        let t = bearer(&ada);
        let s = &s;
        async move { s.send("POST", "/v1/shares", Some(&t), Some(body)).await.ok() }
    };
    share("gus@example.com").await;
    let link = token_of(&s.last_link("gus@example.com", "share").await);
    let p = get(&s, &format!("/share/{link}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_private_page(&p);
    for text in ["Ada &lt;Lovelace&gt; shared a key with you", "Back gate", "Riverside Gym, Acme Fitness"] {
        assert!(p.body.contains(text), "{text} missing in {}", p.body);
    }
    assert!(p.body.contains("16 January 2027, 08:00 UTC") && p.body.contains("18 January 2027, 08:00 UTC"));
    assert!(!p.body.contains("Front door") && !p.body.contains("gus@example.com"));
    assert!(p.body.contains(&format!("href=\"https://keyway.test/share/{link}\">Open in the app</a>")));

    // Revoked by Ada: gone, and the page no longer says who or where.
    let made = share("hal@example.com").await;
    let revoked = token_of(&s.last_link("hal@example.com", "share").await);
    s.send("POST", &format!("/v1/shares/{}/revoke", made["share_id"]), Some(&bearer(&ada)), None).await.ok();
    let p = get(&s, &format!("/share/{revoked}")).await;
    assert_eq!(p.status, 410, "{}", p.body);
    assert!(p.body.contains("This shared key was revoked"));
    assert!(!p.body.contains("Ada") && !p.body.contains("Back gate") && !p.body.contains("Acme"));
}

#[tokio::test]
async fn well_known_files_are_not_found_when_no_app_is_configured() {
    let s = Server::start().await;
    for path in ["/.well-known/apple-app-site-association", "/.well-known/assetlinks.json"] {
        let p = get(&s, path).await;
        assert_eq!(p.status, 404, "{path}");
        let body: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn well_known_apple_app_site_association_lets_the_ios_app_open_invitations_and_shares() {
    let s = Server::start_with(configured()).await;
    let p = get(&s, "/.well-known/apple-app-site-association").await;
    assert_eq!(p.status, 200, "served in place, not redirected: {}", p.body);
    assert_eq!(header(&p, "content-type"), "application/json");
    let doc: Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(
        doc,
        json!({ "applinks": { "details": [{ "appIDs": ["ABCDE12345.app.keyway.members"],
                "components": [{ "/": "/invite/*" }, { "/": "/share/*" }] }] } })
    );
}

#[tokio::test]
async fn well_known_assetlinks_names_the_android_package_and_its_certificate() {
    let s = Server::start_with(configured()).await;
    let p = get(&s, "/.well-known/assetlinks.json").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(header(&p, "content-type"), "application/json");
    let doc: Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(
        doc,
        json!([{ "relation": ["delegate_permission/common.handle_all_urls"],
                 "target": { "namespace": "android_app", "package_name": "app.keyway.members",
                             "sha256_cert_fingerprints": [vec!["AB"; 32].join(":")] } }])
    );
}

/// The binary, started with `serve`'s link flags over HTTPS (`dev-certs`), serves them.
#[tokio::test]
async fn well_known_files_come_from_serves_flags_and_a_bad_value_stops_it() {
    use std::io::{BufRead as _, BufReader};
    use std::process::{Command, Stdio};
    const BIN: &str = env!("CARGO_BIN_EXE_keyway-backend");
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("well_known_flags_{}", std::process::id()));
    let certs = dir.join("certs");
    let made = Command::new(BIN).args(["dev-certs", "--out"]).arg(&certs).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let serve = |extra: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--db", ":memory:", "--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(certs.join("server.pem"))
            .arg("--tls-key")
            .arg(certs.join("server.key"))
            .args(extra);
        cmd
    };

    let refused = serve(&["--ios-app-id", "not-an-app-id"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--ios-app-id must be <Team ID>.<bundle id>"));

    // The fingerprints come from the environment, comma-separated, as a deployment sets them.
    let mut child =
        serve(&["--android-package", "app.keyway.members", "--ios-app-id", "ABCDE12345.app.keyway.members"])
            .env("KEYWAY_ANDROID_CERT_SHA256", format!("{},{}", "ab".repeat(32), "CD".repeat(32)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let url = first.strip_prefix("listening on ").unwrap().to_owned();
    let root = reqwest::Certificate::from_pem(&std::fs::read(certs.join("ca.pem")).unwrap()).unwrap();
    let http = reqwest::Client::builder().tls_certs_only([root]).build().unwrap();
    let fetch = |path: &'static str| {
        let req = http.get(format!("{url}{path}"));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let apple = fetch("/.well-known/apple-app-site-association").await;
    let android = fetch("/.well-known/assetlinks.json").await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(apple["applinks"]["details"][0]["appIDs"], json!(["ABCDE12345.app.keyway.members"]));
    assert_eq!(android[0]["target"]["package_name"], "app.keyway.members");
    assert_eq!(
        android[0]["target"]["sha256_cert_fingerprints"],
        json!([vec!["AB"; 32].join(":"), vec!["CD"; 32].join(":")])
    );
}
