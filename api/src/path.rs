//! Filling a path template and writing a query string, percent-encoding what a caller
//! passes so a value can never add a path segment or a query parameter.

use std::fmt::{Display, Write as _};

/// Writes `value` percent-encoded: everything but RFC 3986's unreserved characters.
fn encode_into(out: &mut String, value: &str) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// The template with each `{name}` replaced by its value, encoded. A name the template
/// has but `params` lacks stays as it is (the endpoint macro passes every one).
pub(crate) fn fill(template: &str, params: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        match params.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => encode_into(&mut out, &value.to_string()),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Appends `name=value` to `path` when the value is set, with `?` or `&` as needed.
pub(crate) fn push_query(path: &mut String, name: &str, value: Option<&dyn Display>) {
    if let Some(value) = value {
        path.push(if path.contains('?') { '&' } else { '?' });
        encode_into(path, name);
        path.push('=');
        encode_into(path, &value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_with_a_slash_cannot_reach_another_route() {
        let path = fill("/v1/invitations/{token}/accept", &[("token", &"abc/../../admin")]);
        assert_eq!(path, "/v1/invitations/abc%2F..%2F..%2Fadmin/accept");
    }

    #[test]
    fn a_phone_number_in_a_query_keeps_its_plus() {
        let mut path = fill("/v1/admin/outbox", &[]);
        push_query(&mut path, "to", Some(&"+4915112345678"));
        push_query(&mut path, "unused", None);
        assert_eq!(path, "/v1/admin/outbox?to=%2B4915112345678");
    }

    #[test]
    fn several_path_parameters_are_filled_in_their_places() {
        let path = fill("/v1/admin/orgs/{org_id}/people/{person_id}", &[("org_id", &7), ("person_id", &42)]);
        assert_eq!(path, "/v1/admin/orgs/7/people/42");
    }
}
