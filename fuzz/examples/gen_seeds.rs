//! Writes the seed corpora under `fuzz/seeds/<target>/`: valid messages produced by the
//! protocol crate itself (and scripts for the structured targets that drive it).
//!
//! `cargo run --release --manifest-path fuzz/Cargo.toml --example gen_seeds [out-dir]`
//!
//! Signatures are randomised (ECDSA), so a rerun changes signature bytes but not shapes.

#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)]

use keyway_fuzz::*;
use keyway_protocol::advert::Advertisement;
use keyway_protocol::anchor_update::{AnchorUpdateBody, DoorSyncDelivery};
use keyway_protocol::bundle::{DoorcodeGrant, LockConfig, PrefixRevocation, RevocationList};
use keyway_protocol::credential::{CredentialBody, CredentialFlags, DeviceKey};
use keyway_protocol::doorcode::DoorcodeSlot;
use keyway_protocol::framing::fragment;
use keyway_protocol::ids::{CredentialId, DoorId, KeyId, LockNonce, SerialPrefix};
use keyway_protocol::lock_role::{LockEnvironment, sign_receipt};
use keyway_protocol::receipt::{AuditEvent, AuditKind, ReceiptBody};
use keyway_protocol::{Command, Refusal};
use std::path::{Path, PathBuf};

struct Out {
    root: PathBuf,
    written: usize,
}

impl Out {
    fn target(&self, target: &str) -> PathBuf {
        let dir = self.root.join(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write(&mut self, dir: &Path, name: &str, bytes: &[u8]) {
        assert!(bytes.len() <= 4096, "seed {name} is {} bytes", bytes.len());
        std::fs::write(dir.join(name), bytes).unwrap();
        self.written += 1;
    }
}

fn receipt_bytes(events: &[AuditEvent], more_pending: bool) -> Vec<u8> {
    let body = ReceiptBody { door: DOOR, bundle_version: 7, lock_clock: NOW, more_pending, events: events.to_vec() };
    sign_receipt(body, &KEYS.lock_signing).to_bytes()
}

fn sample_events() -> Vec<AuditEvent> {
    vec![
        AuditEvent {
            seq: 1,
            time: NOW - 50,
            kind: AuditKind::Granted { fast: false },
            credential: Some(KEYS.member.body.id),
        },
        AuditEvent {
            seq: 2,
            time: NOW - 40,
            kind: AuditKind::Granted { fast: true },
            credential: Some(KEYS.member.body.id),
        },
        AuditEvent {
            seq: 3,
            time: NOW - 30,
            kind: AuditKind::Refused(Refusal::Expired),
            credential: Some(KEYS.guest.body.id),
        },
        AuditEvent { seq: 5, time: NOW - 20, kind: AuditKind::Refused(Refusal::StaleNonce), credential: None },
        AuditEvent { seq: 9, time: NOW - 10, kind: AuditKind::BundleApplied { version: 7 }, credential: None },
    ]
}

fn main() {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let mut out = Out { root, written: 0 };
    let keys = &*KEYS;

    // --- credentials
    let device_key = keys.member.body.device_key;
    let wide = keys
        .issuer
        .issue(CredentialBody {
            id: CredentialId([0x55; 16]),
            issuer: KeyId::default(),
            device_key: DeviceKey(device_key.0),
            doors: (0..32u8).map(|i| DoorId([0xd0, 0x0f, 0, 0, 0, 0, 1, i])).collect(),
            not_before: 0,
            not_after: u32::MAX,
            flags: CredentialFlags { shareable: false, guest: false },
            parent: None,
        })
        .unwrap();
    let credentials = [
        ("member", keys.member.to_bytes()),
        ("guest", keys.guest.to_bytes()),
        ("other_door", keys.other_door.to_bytes()),
        ("untrusted_issuer", keys.untrusted.to_bytes()),
        ("thirty_two_doors", wide.to_bytes()),
    ];
    let dir = out.target("credential");
    for (name, bytes) in &credentials {
        out.write(&dir, name, bytes);
    }

    // --- bundles
    let mut with_config = bundle_body(9, 4, &[keys.member.body.id, keys.guest.body.id, CredentialId([0xee; 16])]);
    with_config.config = LockConfig { unlock_duration_ms: 1_500, fast_unlock: false };
    with_config.audit_acknowledged = 3;
    // Format 3: serials in three expiry groups with gaps, the member's (legacy) id among
    // them, without and with the doorcode section.
    let format_3 = |doorcodes: Option<Vec<DoorcodeGrant>>| {
        let mut body = bundle_body(9, 4, &[]);
        let serials = (0..40u32).map(|i| PrefixRevocation {
            expires: NOW + 3_600 * (1 + i % 3),
            prefix: SerialPrefix::from_u64(1_000 + u64::from(2 * i + i % 5)),
        });
        let legacy = PrefixRevocation { expires: NOW + 7_200, prefix: keys.member.body.id.serial_prefix() };
        body.revocations = RevocationList::Prefixes(serials.chain([legacy]).collect());
        body.doorcodes = doorcodes;
        keys.issuer.sign_bundle(body).unwrap().to_bytes()
    };
    let slots = vec![DoorcodeGrant { slot: DoorcodeSlot(3), not_before: NOW, not_after: NOW + 86_400 }];
    let bundles = [
        ("first", keys.issuer.sign_bundle(bundle_body(1, 0, &[])).unwrap().to_bytes()),
        ("delta_three_revocations", keys.issuer.sign_bundle(with_config).unwrap().to_bytes()),
        ("untrusted_issuer", keys.untrusted_issuer.sign_bundle(bundle_body(2, 1, &[])).unwrap().to_bytes()),
        ("format_3_serials", format_3(None)),
        ("format_3_doorcodes", format_3(Some(slots))),
    ];
    let dir = out.target("bundle");
    for (name, bytes) in &bundles {
        out.write(&dir, name, bytes);
    }

    // --- anchor updates in front of bundles (door-sync deliveries)
    let second = keys.untrusted_issuer.public_key().try_into().unwrap();
    let own = keys.issuer.public_key().try_into().unwrap();
    let update = |version, anchors: Vec<[u8; 65]>| {
        let body = AnchorUpdateBody { door: DOOR, signer: KeyId([0; 8]), version, anchors };
        keys.issuer.sign_anchor_update(body).unwrap()
    };
    let first = keys.issuer.sign_bundle(bundle_body(1, 0, &[])).unwrap().to_bytes();
    let rotated = keys.untrusted_issuer.sign_bundle(bundle_body(1, 0, &[])).unwrap().to_bytes();
    let deliveries = [
        ("add_an_anchor", DoorSyncDelivery::join(Some(&update(1, vec![own, second])), &rotated)),
        ("replace_the_anchor", DoorSyncDelivery::join(Some(&update(2, vec![second])), &first)),
        ("update_alone", update(1, vec![own]).to_bytes()),
        ("no_update", first.clone()),
    ];
    let dir = out.target("anchor_update");
    for (name, bytes) in &deliveries {
        out.write(&dir, name, bytes);
    }

    // --- receipts
    let receipts = [
        ("empty", receipt_bytes(&[], false)),
        ("every_event_kind", receipt_bytes(&sample_events(), false)),
        ("more_pending", receipt_bytes(&sample_events()[..2], true)),
    ];
    let dir = out.target("receipt");
    for (name, bytes) in &receipts {
        out.write(&dir, name, bytes);
    }

    // --- advertisements
    let adverts = [
        ("fresh_lock", Advertisement { door: DOOR, nonce: LockNonce([1; 8]), bundle_version: 0 }.to_bytes()),
        ("synced_lock", Advertisement { door: OTHER_DOOR, nonce: LockNonce([0xa5; 8]), bundle_version: 41 }.to_bytes()),
    ];
    let dir = out.target("advertisement");
    for (name, bytes) in &adverts {
        out.write(&dir, name, bytes);
    }

    // --- round trip: every valid wire message above
    let dir = out.target("roundtrip");
    for (kind, list) in [("credential", &credentials[..]), ("bundle", &bundles[..]), ("receipt", &receipts[..])] {
        for (name, bytes) in list {
            out.write(&dir, &format!("{kind}_{name}"), bytes);
        }
    }
    for (name, bytes) in &adverts {
        out.write(&dir, &format!("advertisement_{name}"), bytes);
    }

    // --- frames: real messages fragmented at several MTUs, plus broken sequences
    let dir = out.target("frames");
    let messages = [("credential", keys.member.to_bytes()), ("bundle", bundles[1].1.clone())];
    for (name, message) in &messages {
        for mtu in [23u16, 185, 517] {
            let mut s = Script::new();
            s.u16(mtu - 23);
            for frame in fragment(message, mtu).unwrap() {
                s.chunk(&frame);
            }
            out.write(&dir, &format!("{name}_mtu{mtu}"), &s.into_bytes());
        }
    }
    let frames = fragment(&messages[1].1, 23).unwrap();
    let mut s = Script::new();
    s.u16(0).chunk(&frames[0]).chunk(&frames[2]).chunk(&frames[0]).chunk(&frames[1]);
    out.write(&dir, "gap_then_restart", &s.into_bytes());
    let mut s = Script::new();
    s.u16(0).chunk(&frames[1]).chunk(&[0xc0, 0, 0, 1, 0x42]).chunk(&[]);
    out.write(&dir, "continuation_first_and_empty", &s.into_bytes());

    // --- lock_request: scripts of operations (see keyway_fuzz::op)
    let dir = out.target("lock_request");
    let first_bundle = &bundles[0].1;
    let mut scripts: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut s = Script::new();
    s.u8(op::STANDARD).u8(0x01).u8(op::BUNDLE_BYTES).chunk(first_bundle).u8(op::RECEIPT_REQUEST);
    scripts.push(("standard_unlock_then_sync", s.into_bytes()));
    let mut s = Script::new();
    s.u8(op::STANDARD).u8(0x01 | 0x02 | (1 << 3)); // guest, sync only, wants a ticket
    s.u8(op::SIGNED_BUNDLE).u8(0).u32(3).u32(0).u32(NOW + 100).u64(1).u16(2_000).u8(2).u8(0).u8(3).put(&[0xab; 16]);
    s.u8(op::RECEIPT_REQUEST);
    s.u8(op::SIGNED_BUNDLE).u8(0).u32(3).u32(2).u32(NOW).u64(0).u16(2_000).u8(0); // not newer
    scripts.push(("guest_sync_only_signed_bundles", s.into_bytes()));
    let mut s = Script::new();
    s.u8(op::STANDARD).u8(0x01).u8(op::FAST).u8(0).u8(op::FAST).u8(0x01);
    scripts.push(("standard_then_fast_twice", s.into_bytes()));
    let mut s = Script::new();
    s.u8(op::FAST).u8(0x02).put(&[0x99; 16]).u8(op::FAST).u8(0);
    scripts.push(("unknown_ticket_then_preloaded", s.into_bytes()));
    let mut s = Script::new();
    s.u8(op::STANDARD).u8(2 << 3).u8(op::STANDARD).u8(3 << 3).u8(op::STANDARD).u8(0x20).put(&[0x17; 64]);
    s.u8(op::STANDARD).u8(0x04).chunk(&keys.member.to_bytes()[..40]);
    scripts.push(("refusals_wrong_door_issuer_signature_malformed", s.into_bytes()));
    let mut s = Script::new();
    s.u8(op::LOCK_STATE).u8(0).u32(NOW + 90 * 86_400).u8(op::STANDARD).u8(0);
    s.u8(op::LOCK_STATE).u8(1).u32(NOW).u8(op::STANDARD).u8(0x02).u8(op::SIGNED_BUNDLE).u8(0).u32(1).u32(0);
    s.u32(NOW).u64(0).u16(100).u8(0);
    scripts.push(("expired_then_storage_failure", s.into_bytes()));
    let mut inner = vec![0x01];
    inner.extend_from_slice(first_bundle);
    let mut s = Script::new();
    s.u8(op::FORGED).u8(0x01).put(&[3; 16]).chunk(&[Command::Unlock as u8]);
    s.u8(op::FORGED).u8(0x80).chunk(&inner).u8(op::FORGED).u8(0x80).chunk(&[0x03]);
    s.u8(op::FORGED).u8(0x80).chunk(&[0x09, 0x00]);
    scripts.push(("forged_fast_and_sealed_messages", s.into_bytes()));
    let mut s = Script::new();
    s.u8(op::FORGED).u8(0x00).put(&[4; 16]).chunk(&[1, 2]);
    scripts.push(("forged_fast_bad_payload", s.into_bytes()));
    let mut s = Script::new();
    s.u8(op::RAW)
        .chunk(&[0x01, 0x01])
        .u8(op::RAW)
        .chunk(&[0x03])
        .u8(op::RAW)
        .chunk(&[])
        .u8(op::RAW)
        .chunk(&[0x05, 1, 2]);
    scripts.push(("raw_garbage_until_closed", s.into_bytes()));

    // The first script's messages, replayed as raw messages: the lock is deterministic,
    // so the recorded session (request, bundle, receipt request) replays exactly.
    let rig = run_lock_script(&scripts[0].1);
    assert_eq!((rig.lock.actuations, rig.lock.bundle_version()), (1, 1));
    let mut s = Script::new();
    for m in &rig.transcript {
        s.u8(op::RAW).chunk(m);
    }
    let replay = s.into_bytes();
    let again = run_lock_script(&replay);
    assert_eq!((again.lock.actuations, again.lock.bundle_version()), (1, 1), "the transcript does not replay");
    scripts.push(("raw_transcript_of_standard_unlock_and_sync", replay));
    let rig = run_lock_script(&scripts[2].1);
    let mut s = Script::new();
    for m in &rig.transcript {
        s.u8(op::RAW).chunk(m);
    }
    scripts.push(("raw_transcript_of_standard_then_fast", s.into_bytes()));
    for (name, bytes) in &scripts {
        out.write(&dir, name, bytes);
    }

    // --- phone_response: mode byte, answer chunk, sync reply chunks
    let dir = out.target("phone_response");
    let mut refusal = vec![0x7f, 0x01, Refusal::StaleNonce.code()];
    refusal.extend_from_slice(&[0x42; 8]);
    let mut s = Script::new();
    s.u8(0).chunk(&refusal);
    out.write(&dir, "standard_plain_refusal", &s.into_bytes());
    let mut s = Script::new();
    s.u8(1).chunk(&refusal);
    out.write(&dir, "fast_plain_refusal", &s.into_bytes());

    // A real lock's standard answer (it will not authenticate for a new request, but has the shape).
    let mut rig = Rig::new();
    let (_, request) = rig.standard_request(Presented::Fixed(0), Command::Unlock, true, None).unwrap();
    let answer = rig.deliver(&request).reply.unwrap();
    let mut s = Script::new();
    s.u8(0).chunk(&answer);
    out.write(&dir, "standard_response_shape", &s.into_bytes());

    let mut receipt_reply = vec![0x02, 0x00];
    receipt_reply.extend_from_slice(&receipts[1].1);
    let mut refused_reply = vec![0x02, Refusal::BundleNotNewer.code()];
    refused_reply.extend_from_slice(&receipts[0].1);
    let mut s = Script::new();
    s.u8(2 << 1).chunk(&[]).chunk(&receipt_reply);
    out.write(&dir, "standard_real_answer_then_sync_reply", &s.into_bytes());
    let mut s = Script::new();
    s.u8(1 | (2 << 1)).chunk(&[]).chunk(&receipt_reply);
    out.write(&dir, "fast_real_answer_then_sync_reply", &s.into_bytes());

    let granted = response_payload(None, NOW, 3, 150, Some([0x61; 16]));
    let mut s = Script::new();
    s.u8(1 | (1 << 1) | 0x08).chunk(&granted).chunk(&receipt_reply).chunk(&refused_reply).chunk(&[0x02]);
    out.write(&dir, "fast_sealed_granted_then_sealed_sync_replies", &s.into_bytes());
    let mut s = Script::new();
    s.u8(1 | (1 << 1)).chunk(&response_payload(Some(Refusal::Revoked), NOW, 0, 0, None));
    out.write(&dir, "fast_sealed_refused", &s.into_bytes());
    let mut s = Script::new();
    s.u8(1 | (1 << 1)).chunk(&response_payload(None, 0, u32::MAX, u16::MAX, None));
    out.write(&dir, "fast_sealed_granted_no_ticket", &s.into_bytes());

    core_seeds(&mut out, keys);
    keypad_seeds(&mut out);
    println!("wrote {} seed files under {}", out.written, out.root.display());
}

/// Seeds for the core's targets: links, backend answers, cached rows, the stored session.
fn core_seeds(out: &mut Out, keys: &Keys) {
    use keyway_core::api::b64;
    use keyway_core::fuzzing::TABLES;

    let dir = out.target("links");
    let token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    let links = [
        ("invitation", format!("https://keys.example.com/invite/{token}")),
        ("share_with_query", format!("https://KEYS.example.com/share/{token}?utm=mail#top")),
        ("plain_http", format!("http://keys.example.com/invite/{token}")),
        ("other_host", format!("https://keys.example.com.evil.example/invite/{token}")),
        ("user_and_port", format!("https://a:b@keys.example.com:8443/invite/{token}")),
        ("short_token", "https://keys.example.com/invite/short".to_owned()),
        ("encoded_token", format!("https://keys.example.com/invite/{token}%2F..")),
        ("email_address", " Ana@Example.com ".to_owned()),
        ("phone_number", "+44 7700 900123".to_owned()),
    ];
    for (name, text) in &links {
        out.write(&dir, name, text.as_bytes());
    }

    let dir = out.target("pasted_links");
    let link = format!("https://keys.example.com/share/{token}");
    let (head, tail) = link.split_at(30);
    let pasted = [
        ("angle_brackets", format!("<{link}>")),
        ("chat_full_stop", format!("({link}).")),
        ("curly_quotes", format!("\u{201c}{link}\u{201d},")),
        ("two_lines", format!("{head}\r\n{tail}")),
        ("invisible_characters", format!("\u{feff}{head}\u{200b}{tail}")),
        ("encoded_letters", format!("HTTPS://Keys.Example.com:443/%73hare/%41{}", &token[1..])),
        ("stray_percent", "https://keys.example.com/invite/%%341%4".to_owned()),
    ];
    for (name, text) in &pasted {
        out.write(&dir, name, text.as_bytes());
    }

    // endpoint byte, status, JSON flag, body (endpoints as in keyway_core::fuzzing::api_answer)
    let dir = out.target("api_answer");
    let answer = |endpoint: u8, status: u16, json: bool, body: &str| {
        let mut s = Script::new();
        s.u8(endpoint).u16(status).u8(u8::from(json)).put(body.as_bytes());
        s.into_bytes()
    };
    let key65 = b64(&[4u8; 65]);
    let door = format!(
        r#"{{"id":7,"name":"Front","lock_id":"{}","lock_public_key":"{key65}","lock_signing_public_key":"{key65}","online":false,"bundle_version":3,"synced_version":1,"synced_at":null}}"#,
        DOOR.to_hex()
    );
    let bundle = keys.issuer.sign_bundle(bundle_body(2, 0, &[keys.guest.body.id])).unwrap().to_bytes();
    let answers = [
        ("code_sent", answer(0, 200, true, r#"{"channel":"email","expires_at":1800000600,"resend_after":1800000030}"#)),
        (
            "session_tokens",
            answer(
                1,
                200,
                true,
                r#"{"access_token":"a","access_expires_at":1800000900,"access_expires_in":900,"refresh_token":"r","person_id":4}"#,
            ),
        ),
        (
            "invitation_preview",
            answer(
                2,
                200,
                true,
                r#"{"organisation":"Gym","facility":"Main","role":"member","email":"a@b.c","access_start":0,"expires_at":1}"#,
            ),
        ),
        ("profile", answer(3, 200, true, r#"{"memberships":[{"org_id":1,"organisation":"Gym","role":"member"}]}"#)),
        (
            "keys",
            answer(
                4,
                200,
                true,
                &format!(
                    r#"{{"cursor":9,"keys":[{{"grant_id":1,"key_id":2,"name":"K","organisation":"Gym","facility":"Main","doors":[{door}],"starts_at":0,"expires_at":1900000000,"shareable":true,"guest":false,"access_state":"active","revoke_reason":null}}],"revoked_grant_ids":[5]}}"#
                ),
            ),
        ),
        ("pending_doors", answer(5, 200, true, &format!(r#"{{"doors":[{door}]}}"#))),
        (
            "credentials",
            answer(
                6,
                200,
                true,
                &format!(
                    r#"{{"credentials":[{{"grant_id":1,"credential_id":"00","credential":"{}","not_before":0,"not_after":1900000000}}]}}"#,
                    b64(&keys.member.to_bytes())
                ),
            ),
        ),
        ("share_created", answer(7, 201, true, r#"{"share_id":3,"starts_at":1,"ends_at":2,"delivered":true}"#)),
        ("bundle", answer(8, 200, true, &format!(r#"{{"version":2,"bundle":"{}"}}"#, b64(&bundle)))),
        ("any_json", answer(9, 200, true, r#"{"redeemed":true}"#)),
        ("no_content", answer(10, 204, false, "")),
        (
            "code_wrong",
            answer(1, 400, true, r#"{"error":{"code":"code_wrong","message":"Wrong code","attempts_left":2}}"#),
        ),
        ("server_error", answer(4, 503, true, r#"{"error":{"code":"unavailable"}}"#)),
        ("html_error_page", answer(3, 502, false, "<html>Bad gateway</html>")),
        ("not_json", answer(0, 200, false, "ok")),
    ];
    for (name, bytes) in &answers {
        out.write(&dir, name, bytes);
    }

    let dir = out.target("stored_session");
    out.write(
        &dir,
        "session",
        br#"{"access_token":"a","access_expires_at":1,"refresh_token":"r","person_id":4,"local_expires_at":5}"#,
    );

    // rows: table index, then per column a type byte and a value (see the target)
    let dir = out.target("cached_rows");
    let table = |name: &str| TABLES.iter().position(|(t, _)| *t == name).unwrap() as u8;
    let int = |s: &mut Script, v: i64| {
        s.u8(1).u64(v as u64);
    };
    let text = |s: &mut Script, v: &str| {
        s.u8(2).chunk(v.as_bytes());
    };
    let blob = |s: &mut Script, v: &[u8]| {
        s.u8(3).chunk(v);
    };
    let door_row = |s: &mut Script, lock_id: &str, key: &[u8]| {
        s.u8(table("doors"));
        text(s, lock_id);
        int(s, 7);
        text(s, "Front");
        int(s, 0);
        blob(s, key);
        blob(s, key);
        int(s, 3);
        int(s, 1);
        s.u8(0);
    };
    let key_rows = |s: &mut Script, lock_id: &str| {
        s.u8(table("keys"));
        for v in [1, 2] {
            int(s, v);
        }
        for v in ["K", "Gym", "Main"] {
            text(s, v);
        }
        for v in [0, 1_900_000_000, 1, 0, 0] {
            int(s, v);
        }
        s.u8(0);
        s.u8(table("key_doors"));
        int(s, 1);
        text(s, lock_id);
        s.u8(table("credentials"));
        int(s, 1);
        text(s, "00");
        blob(s, &keys.member.to_bytes());
        int(s, 0);
        int(s, 1_900_000_000);
    };
    let hex = DOOR.to_hex();
    let mut s = Script::new();
    door_row(&mut s, &hex, &[4; 65]);
    key_rows(&mut s, &hex);
    s.u8(table("bundles"));
    text(&mut s, &hex);
    int(&mut s, 2);
    blob(&mut s, &bundle);
    s.u8(table("receipt_outbox"));
    text(&mut s, &hex);
    blob(&mut s, &[1, 2, 3]);
    int(&mut s, 5);
    out.write(&dir, "whole_cache", &s.into_bytes());
    let mut s = Script::new();
    door_row(&mut s, "not hex", &[4; 3]);
    key_rows(&mut s, "zz");
    out.write(&dir, "corrupt_door_and_key", &s.into_bytes());
    let mut s = Script::new();
    s.u8(table("keys"));
    for _ in 0..11 {
        text(&mut s, "x");
    }
    s.u8(table("meta"));
    text(&mut s, "keys_cursor");
    blob(&mut s, &[0xff]);
    out.write(&dir, "text_in_integer_columns", &s.into_bytes());
}

/// Seeds for the keypad target: today's codes of the lock's allowed slots, wrong codes up
/// to a lock-out, and malformed entries (one entry per line).
fn keypad_seeds(out: &mut Out) {
    let (_, valid) = keyway_fuzz::keypad_lock();
    let dir = out.target("keypad");
    let right = valid[0].1.reveal();
    out.write(&dir, "right_code", format!("{right}#").as_bytes());
    out.write(&dir, "star_then_right_code", format!("12*{right}#").as_bytes());
    out.write(
        &dir,
        "five_wrong_then_right",
        format!("00000000\n00000001\n00000002\n00000003\n00000004\n{right}").as_bytes(),
    );
    out.write(&dir, "malformed", b"12#\n1234567a\n123456789\n#\n12345678#1");
}
