//! Links that arrive from outside (email, text, QR, paste): invitation and guest-share
//! links. What pasting does to a link is undone first ([`normalise_pasted_link`]); then
//! only `https` links on the configured hosts (default port), with the expected path and
//! a token of the expected form, are accepted; anything else is refused with the reason.

use thiserror::Error;
use url::Url;

mod pasted;
pub use pasted::normalise_pasted_link;

/// What kind of link it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum LinkKind {
    /// `https://<host>/invite/<token>`
    Invitation,
    /// `https://<host>/share/<token>`: a key shared by a member.
    SharedKey,
}

/// A link that passed every check. The token is a bearer secret: it is never logged
/// and its `Debug` form hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedLink {
    /// Invitation or share.
    pub kind: LinkKind,
    /// The host it came from.
    pub host: String,
    token: String,
}

impl std::fmt::Debug for ParsedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedLink").field("kind", &self.kind).field("host", &self.host).finish_non_exhaustive()
    }
}

impl ParsedLink {
    /// The token, for the one API call that needs it.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum LinkProblem {
    /// Not a URL at all.
    #[error("this is not a link")]
    NotALink,
    /// Not `https`.
    #[error("the link is not secure (https)")]
    NotHttps,
    /// A host this app does not trust.
    #[error("the link is not from a trusted address")]
    UntrustedHost,
    /// The right host, but not an invitation or share link.
    #[error("this is not an invitation or shared-key link")]
    WrongKind,
    /// The token is missing or malformed (e.g. cut off when copied).
    #[error("the link is incomplete; open it from the original message")]
    Incomplete,
}

/// Tokens are ≥ 128 bits in base64url: at least 22 characters, at most a few hundred.
const MIN_TOKEN: usize = 22;
const MAX_TOKEN: usize = 256;

/// Parses and checks a link, as pasted, against the trusted hosts.
pub fn parse_link(input: &str, trusted_hosts: &[String]) -> Result<ParsedLink, LinkProblem> {
    let url = Url::parse(&normalise_pasted_link(input)).map_err(|e| match e {
        // A host with letters outside ASCII (a look-alike such as a Cyrillic "е"): the
        // library keeps no Unicode tables (Cargo.toml, `idna_adapter`), and the hosts the
        // app trusts are ASCII, so it is a link from somewhere else.
        url::ParseError::IdnaError => LinkProblem::UntrustedHost,
        _ => LinkProblem::NotALink,
    })?;
    if url.scheme() != "https" {
        return Err(LinkProblem::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(LinkProblem::UntrustedHost);
    }
    let host = url.host_str().ok_or(LinkProblem::UntrustedHost)?.to_ascii_lowercase();
    let port_ok = url.port().is_none();
    if !port_ok || !trusted_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Err(LinkProblem::UntrustedHost);
    }
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
    let (kind, token) = match segments.as_slice() {
        ["invite", token] => (LinkKind::Invitation, *token),
        ["share", token] => (LinkKind::SharedKey, *token),
        _ => return Err(LinkProblem::WrongKind),
    };
    let well_formed = (MIN_TOKEN..=MAX_TOKEN).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(LinkProblem::Incomplete);
    }
    Ok(ParsedLink { kind, host, token: token.to_owned() })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["keys.example.com".into()]
    }
    const TOKEN: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";

    #[test]
    fn invitation_and_share_links_on_a_trusted_host_are_accepted() {
        let l = parse_link(&format!("https://keys.example.com/invite/{TOKEN}"), &hosts()).unwrap();
        assert_eq!((l.kind, l.token()), (LinkKind::Invitation, TOKEN));
        let l = parse_link(&format!("https://KEYS.example.com/share/{TOKEN}?utm=mail"), &hosts()).unwrap();
        assert_eq!(l.kind, LinkKind::SharedKey);
    }

    #[test]
    fn every_other_link_is_refused_with_its_reason() {
        let h = hosts();
        assert_eq!(parse_link("not a link", &h), Err(LinkProblem::NotALink));
        assert_eq!(parse_link(&format!("http://keys.example.com/invite/{TOKEN}"), &h), Err(LinkProblem::NotHttps));
        assert_eq!(parse_link(&format!("https://evil.example/invite/{TOKEN}"), &h), Err(LinkProblem::UntrustedHost));
        assert_eq!(
            parse_link(&format!("https://keys.example.com.evil.example/invite/{TOKEN}"), &h),
            Err(LinkProblem::UntrustedHost)
        );
        assert_eq!(
            parse_link(&format!("https://user@keys.example.com/invite/{TOKEN}"), &h),
            Err(LinkProblem::UntrustedHost)
        );
        assert_eq!(
            parse_link(&format!("https://keys.example.com:8443/invite/{TOKEN}"), &h),
            Err(LinkProblem::UntrustedHost)
        );
        assert_eq!(parse_link(&format!("https://keys.example.com/admin/{TOKEN}"), &h), Err(LinkProblem::WrongKind));
        assert_eq!(parse_link("https://keys.example.com/invite/short", &h), Err(LinkProblem::Incomplete));
        assert_eq!(
            parse_link(&format!("https://keys.example.com/invite/{TOKEN}%00"), &h),
            Err(LinkProblem::Incomplete)
        );
    }

    #[test]
    fn a_look_alike_host_with_letters_outside_ascii_is_untrusted() {
        // "keys.example.com" with a Cyrillic "е", as a phishing message would write it.
        let look_alike = format!("https://keys.\u{435}xample.com/invite/{TOKEN}");
        assert_eq!(parse_link(&look_alike, &hosts()), Err(LinkProblem::UntrustedHost));
        assert_eq!(
            parse_link(&format!("https://bücher.example/share/{TOKEN}"), &hosts()),
            Err(LinkProblem::UntrustedHost)
        );
    }

    #[test]
    fn a_link_pasted_with_unicode_white_space_around_it_is_accepted() {
        let pasted = format!("\u{85}\u{a0} https://keys.example.com/share/{TOKEN}\u{2003}\n");
        assert_eq!(parse_link(&pasted, &hosts()).unwrap().kind, LinkKind::SharedKey);
    }

    #[test]
    fn pasted_links_chat_punctuation_brackets_and_line_breaks_are_undone() {
        let link = format!("https://keys.example.com/invite/{TOKEN}");
        let (a, b) = link.split_at(30);
        for pasted in [
            format!("<{link}>"),
            format!("{link}."),
            format!("({link}),"),
            format!("\"{link}\""),
            format!("“{link}”."),
            format!("{a}\n{b}"),
            format!("> {a}\r\n> {b}").replace("> ", ""),
        ] {
            let l = parse_link(&pasted, &hosts()).unwrap_or_else(|e| panic!("{pasted:?}: {e}"));
            assert_eq!((l.kind, l.token()), (LinkKind::Invitation, TOKEN), "{pasted:?}");
        }
    }

    #[test]
    fn pasted_links_equivalent_under_rfc_3986_are_the_same_link() {
        let h = hosts();
        for same in [
            format!("HTTPS://Keys.Example.COM/invite/{TOKEN}"),
            format!("https://keys.example.com:443/invite/{TOKEN}"),
            format!("https://keys.example.com/%69nvite/{TOKEN}"),
            format!("https://keys.example.com/invite/{}", TOKEN.replace("AbC", "%41%62%43")),
            format!("https://keys.example.com/share/../invite/{TOKEN}/"),
        ] {
            let l = parse_link(&same, &h).unwrap_or_else(|e| panic!("{same}: {e}"));
            assert_eq!((l.kind, l.token(), l.host.as_str()), (LinkKind::Invitation, TOKEN, "keys.example.com"));
        }
    }

    #[test]
    fn pasted_links_that_are_something_else_keep_their_typed_refusal() {
        let h = hosts();
        assert_eq!(
            parse_link(&format!("Open this: https://keys.example.com/invite/{TOKEN}"), &h).map(|_| ()),
            Err(LinkProblem::NotHttps)
        );
        assert_eq!(parse_link(&format!("<http://keys.example.com/invite/{TOKEN}>."), &h), Err(LinkProblem::NotHttps));
        assert_eq!(
            parse_link(&format!("(https://keys.example.com:8443/invite/{TOKEN})"), &h),
            Err(LinkProblem::UntrustedHost)
        );
        assert_eq!(parse_link(&format!("https://keys.example.com/invite%2F{TOKEN}"), &h), Err(LinkProblem::WrongKind));
        assert_eq!(
            parse_link(&format!("https://keys.example.com/invite/{TOKEN}%2E"), &h).map(|l| l.kind),
            Ok(LinkKind::Invitation)
        );
        assert_eq!(parse_link("<>", &h), Err(LinkProblem::NotALink));
        assert_eq!(
            parse_link(&format!("https://keys.example.com/invite/{}", &TOKEN[..20]), &h),
            Err(LinkProblem::Incomplete)
        );
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let l = parse_link(&format!("https://keys.example.com/invite/{TOKEN}"), &hosts()).unwrap();
        assert!(!format!("{l:?}").contains(TOKEN));
    }
}
