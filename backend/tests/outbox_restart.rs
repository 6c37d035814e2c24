//! Nothing is lost across a restart: a message queued while the mail server is down waits
//! in SQLite, survives the backend being killed with SIGKILL, and is delivered exactly once
//! by the next start; the member then accepts the invitation with it.
#![allow(clippy::unwrap_used, missing_docs)]

mod mail;

use keyway_protocol::testkit::TestPhone;
use mail::{Backend, SinkMode, SmtpSink, certs, free_port, workdir};
use serde_json::json;

#[tokio::test]
async fn outbox_survives_restart_and_the_invitation_arrives_exactly_once() {
    let dir = workdir("restart");
    let certs = certs(&dir);
    let port = free_port();
    let flags: Vec<String> = [
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port.to_string(),
        "--smtp-security",
        "plain-loopback",
        "--mail-from",
        "Keyway <no-reply@keyway.test>",
        "--outbox-first-retry-secs",
        "1",
    ]
    .map(str::to_owned)
    .to_vec();

    // The mail server is down: the invitation is queued, tried, and waits.
    let backend = Backend::start(&dir, &certs, &flags);
    let (org, facility) = backend.org_with_facility().await;
    let sent = backend
        .admin("POST", "/v1/admin/invitations", Some(json!({ "facility_id": facility, "email": "ada@example.com" })))
        .await;
    assert_eq!(sent["status"], "invited");
    let waiting = loop {
        let m = backend.outbox("ada@example.com").await.pop().unwrap();
        if m["attempts"].as_u64().unwrap() >= 1 {
            break m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(waiting["state"], "queued");
    assert_eq!(waiting["failure"], "cannot reach the SMTP server");
    let invitations = backend.admin("GET", &format!("/v1/admin/orgs/{org}/invitations"), None).await;
    assert_eq!(invitations[0]["delivery"], "queued");
    // What the database holds while the message waits (its text sealed): checked below.
    let while_queued = backend.database_text();
    backend.kill_9();

    // The server comes up, then the backend: the queued message goes, once.
    let sink = SmtpSink::start(&dir.join("mail"), SinkMode::Plain, port, &certs, &[]);
    let backend = Backend::start(&dir, &certs, &flags);
    let mails = sink.wait_for(1).await;
    let entry = backend.outbox_state("ada@example.com", "sent").await;
    assert!(entry["attempts"].as_u64().unwrap() >= 2, "{entry}");
    let link = mails[0].link();
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert!(!while_queued.contains(&token), "the queued invitation's link token was in SQLite in the clear");
    assert!(!backend.database_text().contains(&token));

    // The member accepts with it (their code comes by email too).
    backend.post(&format!("/v1/invitations/{token}/code"), json!({})).await;
    let mails = sink.wait_for(2).await;
    let code = mails[1].code();
    let phone = TestPhone::new();
    let key = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(phone.public_key())
    };
    let tokens = backend
        .post(
            &format!("/v1/invitations/{token}/accept"),
            json!({ "code": code, "device_public_key": key, "first_name": "Ada", "last_name": "Lovelace" }),
        )
        .await;
    assert!(tokens["access_token"].is_string());

    // Exactly once: the invitation was not sent again, by this start or a later one.
    let restarted = {
        backend.kill_9();
        Backend::start(&dir, &certs, &flags)
    };
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let invitations: Vec<_> =
        sink.mails().into_iter().filter(|m| m.header("Subject").is_some_and(|s| s.contains("invitation"))).collect();
    assert_eq!(invitations.len(), 1, "the invitation arrived exactly once");
    assert_eq!(sink.mails().len(), 2);
    let people = restarted.admin("GET", &format!("/v1/admin/orgs/{org}/people"), None).await;
    assert_eq!(people[0]["invitation_status"], "accepted");
}
