//! Email for real: the backend binary sends codes and invitations through a real SMTP
//! server on loopback (aiosmtpd), over STARTTLS with a password or over implicit TLS,
//! checking the server's certificate against the run's CA. The tests read what the server
//! received and sign in with it; a server that keeps refusing shows "Send failed".
#![allow(clippy::unwrap_used, missing_docs)]

mod mail;

use keyway_protocol::testkit::TestPhone;
use mail::{Backend, SinkMode, SmtpSink, arg, certs, workdir};
use serde_json::json;

fn smtp_flags(certs: &std::path::Path, port: u16, security: &str) -> Vec<String> {
    [
        "--smtp-host",
        "localhost",
        "--smtp-port",
        &port.to_string(),
        "--smtp-security",
        security,
        "--mail-from",
        "Keyway <no-reply@keyway.test>",
        "--smtp-ca-file",
        &arg(&certs.join("ca.pem")),
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test]
async fn smtp_code_arrives_over_starttls_with_a_password_and_signs_the_member_in() {
    let dir = workdir("starttls");
    let certs = certs(&dir);
    let sink = SmtpSink::start(&dir.join("mail"), SinkMode::Starttls, 0, &certs, &["--auth", "keyway:s3cret-pw"]);
    std::fs::write(dir.join("smtp-password"), "s3cret-pw\n").unwrap();
    let mut flags = smtp_flags(&certs, sink.port, "starttls");
    flags.extend([
        "--smtp-username".into(),
        "keyway".into(),
        "--smtp-password-file".into(),
        arg(&dir.join("smtp-password")),
    ]);
    let backend = Backend::start(&dir, &certs, &flags);
    let (org, _) = backend.org_with_facility().await;
    backend.admin("POST", &format!("/v1/admin/orgs/{org}/people"), Some(json!({ "email": "ada@example.com" }))).await;

    backend.post("/v1/auth/code", json!({ "identifier": "ada@example.com" })).await;
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.rcpt, ["ada@example.com"]);
    assert!(mail.tls, "the message went over STARTTLS");
    assert_eq!(mail.auth.as_deref(), Some("keyway"));
    assert_eq!(mail.header("From").unwrap(), "Keyway <no-reply@keyway.test>");
    assert_eq!(mail.header("Subject").unwrap(), "Your Keyway sign-in code");
    let code = mail.code();

    let tokens = backend.verify("ada@example.com", &code, &TestPhone::new()).await;
    assert!(tokens["access_token"].as_str().is_some_and(|t| !t.is_empty()));

    // The admin sees that it went, not what it said; the database never held the code.
    let entry = backend.outbox_state("ada@example.com", "sent").await;
    assert_eq!(entry["attempts"], 1);
    assert!(entry["code"].is_null() && entry["body"] == "", "{entry}");
    assert!(!backend.database_text().contains(&code));
}

#[tokio::test]
async fn smtp_invitation_over_implicit_tls_is_accepted_with_the_emailed_code() {
    let dir = workdir("implicit");
    let certs = certs(&dir);
    let sink = SmtpSink::start(&dir.join("mail"), SinkMode::Implicit, 0, &certs, &[]);
    let backend = Backend::start(&dir, &certs, &smtp_flags(&certs, sink.port, "implicit-tls"));
    let (org, facility) = backend.org_with_facility().await;
    let sent = backend
        .admin("POST", "/v1/admin/invitations", Some(json!({ "facility_id": facility, "email": "bo@example.com" })))
        .await;
    assert_eq!(sent["status"], "invited");

    let invitation = sink.wait_for(1).await.remove(0);
    assert!(invitation.tls);
    assert_eq!(invitation.rcpt, ["bo@example.com"]);
    let link = invitation.link();
    assert!(link.starts_with("https://keyway.test/invite/"), "{link}");
    let token = link.rsplit('/').next().unwrap();

    backend.post(&format!("/v1/invitations/{token}/code"), json!({})).await;
    let code = sink.wait_for(2).await.remove(1).code();
    let tokens = backend
        .post(
            &format!("/v1/invitations/{token}/accept"),
            json!({ "code": code, "device_public_key": base64_key(&TestPhone::new()), "first_name": "Bo", "last_name": "Ek" }),
        )
        .await;
    assert!(tokens["access_token"].is_string());
    let people = backend.admin("GET", &format!("/v1/admin/orgs/{org}/people"), None).await;
    assert_eq!(people[0]["invitation_status"], "accepted");
    let invitations = backend.admin("GET", &format!("/v1/admin/orgs/{org}/invitations"), None).await;
    assert_eq!(invitations[0]["delivery"], "sent");
    assert!(!backend.database_text().contains(token));
}

#[tokio::test]
async fn smtp_server_that_keeps_refusing_shows_send_failed_to_the_admin_after_the_retries() {
    let dir = workdir("refusing");
    let certs = certs(&dir);
    let sink =
        SmtpSink::start(&dir.join("mail"), SinkMode::Plain, 0, &certs, &["--reply", "451 4.3.0 Try again later"]);
    let mut flags = smtp_flags(&certs, sink.port, "plain-loopback");
    flags.extend(["--outbox-max-attempts", "3", "--outbox-first-retry-secs", "1"].map(str::to_owned));
    let backend = Backend::start(&dir, &certs, &flags);
    let (org, facility) = backend.org_with_facility().await;
    backend
        .admin("POST", "/v1/admin/invitations", Some(json!({ "facility_id": facility, "email": "cy@example.com" })))
        .await;

    // Tried at once, after 1 s, after 2 s more: then given up.
    let entry = backend.outbox_state("cy@example.com", "failed").await;
    assert_eq!(entry["attempts"], 3);
    assert_eq!(entry["failure"], "SMTP server answered 451");
    assert_eq!(sink.attempts(), 3);
    assert!(sink.mails().is_empty());
    let people = backend.admin("GET", &format!("/v1/admin/orgs/{org}/people"), None).await;
    assert_eq!(people[0]["invitation_status"], "send_failed");
    let invitations = backend.admin("GET", &format!("/v1/admin/orgs/{org}/invitations"), None).await;
    assert_eq!(invitations[0]["delivery"], "failed");
    assert_eq!(invitations[0]["delivery_failure"], "SMTP server answered 451");
    // No more attempts after giving up.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(sink.attempts(), 3);
}

#[tokio::test]
async fn smtp_permanent_refusal_fails_at_once_without_retrying() {
    let dir = workdir("permanent");
    let certs = certs(&dir);
    let sink = SmtpSink::start(&dir.join("mail"), SinkMode::Plain, 0, &certs, &["--reply", "550 5.1.1 No such user"]);
    let mut flags = smtp_flags(&certs, sink.port, "plain-loopback");
    flags.extend(["--outbox-first-retry-secs", "1"].map(str::to_owned));
    let backend = Backend::start(&dir, &certs, &flags);
    let (org, facility) = backend.org_with_facility().await;
    backend
        .admin("POST", "/v1/admin/invitations", Some(json!({ "facility_id": facility, "email": "di@example.com" })))
        .await;
    let entry = backend.outbox_state("di@example.com", "failed").await;
    assert_eq!(entry["attempts"], 1);
    assert_eq!(entry["failure"], "SMTP server answered 550");
    let people = backend.admin("GET", &format!("/v1/admin/orgs/{org}/people"), None).await;
    assert_eq!(people[0]["invitation_status"], "send_failed");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(sink.attempts(), 1);
}

#[test]
fn smtp_plain_connection_to_a_remote_host_is_refused_at_start() {
    let dir = workdir("plain-remote");
    let certs = certs(&dir);
    let out = std::process::Command::new(mail::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--db", ":memory:", "--tls-cert"])
        .arg(certs.join("server.pem"))
        .arg("--tls-key")
        .arg(certs.join("server.key"))
        .args(["--smtp-host", "smtp.example.com", "--smtp-security", "plain-loopback", "--mail-from", "a@b.example"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("only to a loopback host"), "{err}");
}

fn base64_key(phone: &TestPhone) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(phone.public_key())
}
