//! The member's device signature on a share request. A share hands a guest access to
//! doors, so the backend asks for proof that the request comes from the member's device
//! — the key their session was opened with — and not only from someone who holds their
//! access token. The phone signs [`ShareRequestProof::message`] with its device key
//! (ECDSA P-256, SHA-256, `r ‖ s`); the backend verifies it and refuses a nonce it has
//! seen before. The layout is in docs/protocol.md §15.12.

/// The signed message starts with this label, so the signature means nothing elsewhere.
pub const SHARE_PROOF_LABEL: &[u8] = b"keyway/share-request/v1\0";

/// Length of the phone's random nonce, which makes every signed request single-use.
pub const SHARE_PROOF_NONCE_LEN: usize = 16;

/// What a share request's device signature covers: every field of the request, as sent.
#[derive(Debug, Clone, Copy)]
pub struct ShareRequestProof<'a> {
    /// The member's grant being shared.
    pub grant_id: i64,
    /// The doors, as listed in the request (empty: every door of the key).
    pub door_ids: &'a [i64],
    /// The start of the guest's window, if the request names one.
    pub starts_at: Option<i64>,
    /// The end of the guest's window.
    pub ends_at: i64,
    /// The guest's email or phone number, exactly as the request carries it.
    pub guest: &'a str,
    /// The phone's random nonce.
    pub nonce: &'a [u8; SHARE_PROOF_NONCE_LEN],
}

impl ShareRequestProof<'_> {
    /// The bytes the device signs: the label, then each field in order, integers
    /// big-endian, lists and strings length-prefixed with a `u32`.
    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(SHARE_PROOF_LABEL.len() + 64 + 8 * self.door_ids.len() + self.guest.len());
        m.extend_from_slice(SHARE_PROOF_LABEL);
        m.extend_from_slice(&self.grant_id.to_be_bytes());
        match self.starts_at {
            Some(t) => {
                m.push(1);
                m.extend_from_slice(&t.to_be_bytes());
            }
            None => {
                m.push(0);
                m.extend_from_slice(&0i64.to_be_bytes());
            }
        }
        m.extend_from_slice(&self.ends_at.to_be_bytes());
        m.extend_from_slice(&len_u32(self.door_ids.len()).to_be_bytes());
        for door in self.door_ids {
            m.extend_from_slice(&door.to_be_bytes());
        }
        m.extend_from_slice(&len_u32(self.guest.len()).to_be_bytes());
        m.extend_from_slice(self.guest.as_bytes());
        m.extend_from_slice(self.nonce);
        m
    }
}

/// A length as the message encodes it (longer lists cannot reach the backend anyway).
fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof<'a>(doors: &'a [i64], guest: &'a str, starts_at: Option<i64>) -> ShareRequestProof<'a> {
        ShareRequestProof { grant_id: 7, door_ids: doors, starts_at, ends_at: 1_800_000_000, guest, nonce: &[9; 16] }
    }

    #[test]
    fn every_field_changes_the_signed_message() {
        let base = proof(&[1, 2], "guest@example.com", None).message();
        assert_ne!(base, proof(&[1], "guest@example.com", None).message());
        assert_ne!(base, proof(&[1, 2], "thief@example.com", None).message());
        assert_ne!(base, proof(&[1, 2], "guest@example.com", Some(0)).message());
        assert_ne!(base, ShareRequestProof { grant_id: 8, ..proof(&[1, 2], "guest@example.com", None) }.message());
        assert_ne!(base, ShareRequestProof { ends_at: 1, ..proof(&[1, 2], "guest@example.com", None) }.message());
        assert_ne!(base, ShareRequestProof { nonce: &[8; 16], ..proof(&[1, 2], "guest@example.com", None) }.message());
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let m = proof(&[1], "a", Some(5)).message();
        let mut expected = SHARE_PROOF_LABEL.to_vec();
        expected.extend_from_slice(&7i64.to_be_bytes());
        expected.push(1);
        expected.extend_from_slice(&5i64.to_be_bytes());
        expected.extend_from_slice(&1_800_000_000i64.to_be_bytes());
        expected.extend_from_slice(&1u32.to_be_bytes());
        expected.extend_from_slice(&1i64.to_be_bytes());
        expected.extend_from_slice(&1u32.to_be_bytes());
        expected.push(b'a');
        expected.extend_from_slice(&[9; 16]);
        assert_eq!(m, expected);
    }
}
