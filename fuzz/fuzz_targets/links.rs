//! Links and addresses from outside (email, text, QR code, paste): `links::parse_link` and
//! `SignInAddress::parse` on arbitrary text. Never a panic; an accepted link is https on a
//! trusted host, with an invitation or share path; an accepted address parses again to itself.
#![no_main]

use keyway_core::address::SignInAddress;
use keyway_core::links::{LinkKind, parse_link};
use libfuzzer_sys::fuzz_target;

const TRUSTED: &str = "keys.example.com";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(link) = parse_link(&text, &[TRUSTED.to_owned()]) {
        assert!(link.host.eq_ignore_ascii_case(TRUSTED), "accepted a link on {}", link.host);
        // What `parse_link` checks is the link as people paste it, cleaned first (quotes,
        // brackets, chat punctuation, invisible characters, encoded letters); the URL
        // standard then drops tabs and newlines anywhere and controls and spaces at the ends.
        let cleaned = keyway_core::links::normalise_pasted_link(&text);
        let lower: String =
            cleaned.trim().to_ascii_lowercase().chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
        assert!(
            lower.trim_start_matches(|c: char| c <= ' ').starts_with("https:"),
            "accepted a link that is not https"
        );
        let path = match link.kind {
            LinkKind::Invitation => "invite",
            LinkKind::SharedKey => "share",
        };
        assert!(lower.contains(path), "accepted a {:?} link without its path", link.kind);
    }
    if let Ok(address) = SignInAddress::parse(&text) {
        let again = SignInAddress::parse(address.as_str()).expect("a normalised address parses");
        assert_eq!(again, address);
    }
});
