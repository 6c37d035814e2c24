//! `bundle_v3.json`: format-3 bundles (revocations by serial prefix, grouped by expiry,
//! varint deltas), with and without the doorcode section, and malformed encodings with the
//! error each must give.

use super::{Actors, VECTOR_DOOR, VECTOR_NOW, sign_bundle_with};
use keyway_protocol::DecodeError;
use keyway_protocol::bundle::{Bundle, BundleBody, DoorcodeGrant, LockConfig, PrefixRevocation, RevocationList};
use keyway_protocol::doorcode::DoorcodeSlot;
use keyway_protocol::ids::{CredentialId, KeyId};
use keyway_protocol::varint;
use serde_json::{Value, json};

/// The credentials the vector revokes: four minted from serials (consecutive, then a gap),
/// one legacy random id, each with its `not after`.
pub fn revoked() -> Vec<(CredentialId, u32)> {
    vec![
        (CredentialId::from_serial(1_000, *b"\x11\x22\x33\x44\x55\x66\x77\x88"), VECTOR_NOW + 3_000),
        (CredentialId::from_serial(1_001, *b"\x99\xaa\xbb\xcc\xdd\xee\xff\x00"), VECTOR_NOW + 3_599),
        (CredentialId::from_serial(1_003, *b"\x01\x02\x03\x04\x05\x06\x07\x08"), VECTOR_NOW + 3_601),
        (CredentialId::from_serial(1_200, *b"\x10\x20\x30\x40\x50\x60\x70\x80"), VECTOR_NOW + 86_400),
        (CredentialId(*b"revoked-legacy-1"), VECTOR_NOW + 43_000),
    ]
}

pub fn body(doorcodes: Option<Vec<DoorcodeGrant>>) -> BundleBody {
    BundleBody {
        door: VECTOR_DOOR,
        issuer: KeyId::default(),
        version: 8,
        base_version: 7,
        signed_time: VECTOR_NOW + 60,
        audit_acknowledged: 3,
        config: LockConfig { unlock_duration_ms: 5000, fast_unlock: true },
        revocations: RevocationList::Prefixes(
            revoked().iter().map(|(id, expires)| PrefixRevocation::rounded(id, *expires)).collect(),
        ),
        doorcodes,
    }
}

fn grants() -> Vec<DoorcodeGrant> {
    vec![DoorcodeGrant { slot: DoorcodeSlot(4), not_before: VECTOR_NOW, not_after: VECTOR_NOW + 86_400 }]
}

/// The bundle's fields in wire order (decoded back, so revocations are in the one
/// canonical order: by expiry, then prefix).
fn bundle_json(signed: &Bundle) -> Value {
    let bundle = &Bundle::from_bytes(&signed.to_bytes()).unwrap();
    let entries: Vec<Value> = bundle
        .body
        .revocations
        .prefixes()
        .map(|r| json!({ "serial_prefix": r.prefix.to_hex(), "expires": r.expires }))
        .collect();
    json!({
        "version": bundle.body.version,
        "base_version": bundle.body.base_version,
        "signed_time": bundle.body.signed_time,
        "audit_acknowledged": bundle.body.audit_acknowledged,
        "revocations": entries,
        "doorcodes": bundle.body.doorcodes.as_ref().map(|g| g.iter().map(|g| json!({
            "slot": g.slot.0, "not_before": g.not_before, "not_after": g.not_after,
        })).collect::<Vec<_>>()),
        "signature": hex::encode(bundle.signature),
        "encoded": hex::encode(bundle.to_bytes()),
    })
}

/// The 40-byte header every format-3 body starts with.
const HEADER: usize = 40;

/// A body with the header of [`body`] and `section` as its revocation section, no doorcodes,
/// then a zero signature: for the malformed cases.
fn with_section(section: &[u8]) -> Vec<u8> {
    let mut bytes = body(None).to_bytes()[..HEADER].to_vec();
    bytes.extend_from_slice(section);
    bytes.push(0);
    bytes.extend_from_slice(&[0; 64]);
    bytes
}

fn error_text(e: &DecodeError) -> String {
    e.to_string()
}

fn malformed_cases() -> Vec<Value> {
    let mut too_big = vec![1, 0, 0, 0, 9, 2];
    varint::put(&mut too_big, u64::MAX);
    varint::put(&mut too_big, 1);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a group count the remaining bytes cannot hold", with_section(&[0xff, 0xff, 0x03])),
        ("an entry count the remaining bytes cannot hold", with_section(&[1, 0, 0, 0, 9, 0xff, 0x7f, 1])),
        ("an empty group", with_section(&[1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0])),
        ("two groups with the same expiry", with_section(&[2, 0, 0, 0, 9, 1, 1, 0, 0, 0, 9, 1, 2])),
        ("groups in descending expiry", with_section(&[2, 0, 0, 0, 9, 1, 1, 0, 0, 0, 8, 1, 2])),
        ("a later delta of zero (a prefix twice)", with_section(&[1, 0, 0, 0, 9, 2, 5, 0])),
        ("an overlong varint (0x80 0x00 for zero)", with_section(&[1, 0, 0, 0, 9, 1, 0x80, 0x00])),
        ("a prefix past 64 bits", with_section(&too_big)),
        ("a doorcode flag that is neither 0 nor 1", {
            let mut b = with_section(&[1, 0, 0, 0, 9, 1, 1]);
            let flag = b.len() - 65;
            b[flag] = 2;
            b
        }),
        ("format 4", {
            let mut b = with_section(&[0]);
            b[0] = 4;
            b
        }),
    ];
    cases
        .into_iter()
        .map(|(what, bytes)| {
            let error = Bundle::from_bytes(&bytes).expect_err(what);
            json!({ "description": what, "encoded": hex::encode(&bytes), "error": error_text(&error) })
        })
        .collect()
}

/// The whole file.
pub fn vector(actors: &Actors) -> Value {
    let key = actors.issuer_key();
    let plain = sign_bundle_with(&key, body(None));
    let with_doorcodes = sign_bundle_with(&key, body(Some(grants())));
    json!({
        "description": "Format-3 bundles (docs/protocol.md §6.1): the header of format 1, then revocations named by serial prefix (the first 8 bytes of the credential id) in groups of one expiry — group count varint | per group: expires u32 | entry count varint | prefix deltas varint (first from 0) — then a doorcode flag and, if 1, the doorcode section of format 2. Varints are unsigned LEB128, shortest form only. `credentials` are the revoked ids with their not-after; the backend rounds each expiry up to the hour, so the first two share a group. The signature covers \"keyway/bundle/v1\\0\" ‖ body (RFC 6979). `malformed` are bodies every decoder must refuse, with the reference decoder's error.",
        "issuer_public_key": hex::encode(actors.issuer().public_key()),
        "door": VECTOR_DOOR.to_hex(),
        "credentials": revoked().iter().map(|(id, not_after)| json!({ "id": id.to_hex(), "not_after": not_after })).collect::<Vec<_>>(),
        "bundle": bundle_json(&plain),
        "bundle_with_doorcodes": bundle_json(&with_doorcodes),
        "malformed": malformed_cases(),
    })
}
