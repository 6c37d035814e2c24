//! The person's own record (issue 17: `profile`, `delete_account`): names, the NFC card
//! on their record, what access a membership gives, and deleting one's own account.

use serde::{Deserialize, Serialize};

use crate::shares::DeviceProof;

/// How an administrator typed a card id (the form's "hexadecimal or decimal" choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CardFormat {
    /// Hexadecimal digits, in pairs; spaces, `:` and `-` between them are ignored.
    Hex,
    /// A decimal number, as printed by readers that show the id as one integer.
    Decimal,
}

/// An NFC card to put on a person's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardRequest {
    /// The card's id (its UID: 4, 7 or 10 bytes), in `format`.
    pub card_id: String,
    /// How `card_id` is written.
    pub format: CardFormat,
    /// The number printed on the card, to recognise it (letters, digits, spaces, `-`; at most 32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surface_id: Option<String>,
}

/// An NFC card as a record holds it, in both of the forms a front desk may know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardView {
    /// The UID in upper-case hexadecimal, two digits a byte, no separators.
    pub hex: String,
    /// The same UID as one decimal number.
    pub decimal: String,
    /// The number printed on the card, if recorded.
    pub surface_id: Option<String>,
}

/// A person's first and last name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NameChange {
    /// First name (1 to 100 characters, no control characters).
    pub first_name: String,
    /// Last name (1 to 100 characters, no control characters).
    pub last_name: String,
}

/// What access a membership gives right now, as its screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MembershipAccess {
    /// No key was ever granted here: the invitation was not access ("no access yet").
    NoAccessYet,
    /// At least one key is active or starts later.
    HasKeys,
    /// Keys were granted, but every one has ended or was revoked.
    AccessEnded,
    /// An administrator turned the person's access here off ("access suspended"): their
    /// keys come back when it is turned on again, with no new invitation.
    Suspended,
}

/// Delete the caller's own account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The device signature over [`delete_account_message`]: an access token alone cannot
    /// delete an account.
    pub device_proof: DeviceProof,
}

/// The label that starts the signed message, so the signature means nothing elsewhere.
pub const DELETE_ACCOUNT_LABEL: &[u8] = b"keyway/delete-account/v1\0";

/// The bytes a device signs to delete account `person_id`: the label, the person id
/// (i64 big-endian), then the 16-byte nonce. The nonce is in the proof too.
pub fn delete_account_message(person_id: i64, nonce: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DELETE_ACCOUNT_LABEL.len() + 8 + nonce.len());
    m.extend_from_slice(DELETE_ACCOUNT_LABEL);
    m.extend_from_slice(&person_id.to_be_bytes());
    m.extend_from_slice(nonce);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delete_account_message_is_label_person_and_nonce() {
        let m = delete_account_message(7, &[9; 16]);
        assert_eq!(&m[..DELETE_ACCOUNT_LABEL.len()], DELETE_ACCOUNT_LABEL);
        assert_eq!(&m[DELETE_ACCOUNT_LABEL.len()..DELETE_ACCOUNT_LABEL.len() + 8], &7i64.to_be_bytes());
        assert_eq!(&m[DELETE_ACCOUNT_LABEL.len() + 8..], &[9; 16]);
        assert_ne!(m, delete_account_message(8, &[9; 16]));
    }
}
