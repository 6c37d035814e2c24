//! The protocol tests' fixtures: their doors, and the test kit's site, phone and
//! in-memory lock (`keyway_protocol::testkit`) in the shapes these tests use.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use keyway_protocol::bundle::Bundle;
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::{CredentialId, DoorId};
use keyway_protocol::issuer::IssuerKey;
use keyway_protocol::testkit::{BundleSpec, KeySpec};
pub use keyway_protocol::testkit::{MemoryLock, NOW, TestDoor, TestPhone};

pub const DOOR: DoorId = DoorId([0xd0, 0, 0, 0, 0, 0, 0, 1]);
pub const OTHER_DOOR: DoorId = DoorId([0xd0, 0, 0, 0, 0, 0, 0, 2]);

pub fn issuer() -> IssuerKey {
    IssuerKey::generate().unwrap().0
}

/// A shareable member key for `doors`, valid from an hour before NOW for three days.
pub fn credential_for(issuer: &IssuerKey, phone: &TestPhone, doors: &[DoorId], id: u8) -> Credential {
    KeySpec::member(id, doors).sign(issuer, phone.device_key())
}

/// A guest key for DOOR shared from `parent`, valid for an hour.
pub fn guest_credential(issuer: &IssuerKey, phone: &TestPhone, parent: &Credential, id: u8) -> Credential {
    KeySpec::guest(id, parent, &[DOOR]).sign(issuer, phone.device_key())
}

pub fn bundle(issuer: &IssuerKey, door: DoorId, base: u32, version: u32, revoked: &[CredentialId]) -> Bundle {
    BundleSpec::new(door, version, base).revoking_ids(revoked, NOW + 100_000).sign(issuer)
}

/// The P-256 group order n.
const ORDER: [u8; 32] = hex_literal(b"ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

const fn hex_literal(s: &[u8; 64]) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        if c >= b'a' { c - b'a' + 10 } else { c - b'0' }
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// `n − s` (big-endian, 32 bytes).
fn negate(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(ORDER[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = (d + 256 * borrow) as u8;
    }
    out
}

/// Whether `s` is above n/2 ("high-S").
pub fn is_high_s(signature: &[u8; 64]) -> bool {
    let s = &signature[32..];
    s > &negate(s)[..]
}

/// The same signature with `s` replaced by `n − s`: equally valid, the other form.
pub fn flip_s(signature: &[u8; 64]) -> [u8; 64] {
    let mut out = *signature;
    out[32..].copy_from_slice(&negate(&signature[32..]));
    out
}
