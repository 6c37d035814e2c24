//! Links as people paste them. Chat apps, mail clients and people wrap a link in `<…>`,
//! quotes or brackets, end it with the sentence's full stop, break it over two lines or
//! leave invisible characters in it; some tools percent-encode letters. This undoes
//! exactly that, and the equivalences of RFC 3986 §6.2.2 that the URL parser does not
//! already apply (it lowercases the scheme and host, drops the default port and resolves
//! dot segments), so that [`super::parse_link`] checks the link that was meant. It never
//! looks for a link inside other text: anything else is refused by the checks after it.

/// Characters that cannot be part of a link and that copying leaves inside one: white
/// space of any kind (a link wrapped over lines), and the invisible ones: zero-width
/// space, non-joiner and joiner, word joiner, byte-order mark, soft hyphen.
fn is_stray(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}')
}

/// What can sit in front of a link: an opening bracket or quote. None of these can start
/// an `https` link.
fn is_opener(c: char) -> bool {
    matches!(c, '<' | '(' | '[' | '{' | '"' | '\'' | '`' | '*' | '“' | '‘' | '«' | '‹' | '„' | '‚')
}

/// What can follow a link: the sentence's punctuation, a closing bracket or quote. None
/// of these can end an invitation or share link (its token is letters, digits, `-` and
/// `_`, and a trailing `/` is kept).
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | ')'
            | ']'
            | '}'
            | '>'
            | '"'
            | '\''
            | '`'
            | '*'
            | '”'
            | '’'
            | '»'
            | '›'
            | '…'
            | '。'
            | '、'
    )
}

/// Whether an ASCII byte is an RFC 3986 unreserved character (ALPHA / DIGIT / `-` / `.` /
/// `_` / `~`): its percent-encoded form means the same as the character itself.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986 §6.2.2.1 and §6.2.2.2 on everything after the scheme: a percent-encoded
/// unreserved character is decoded, every other percent-encoding keeps its octet with
/// upper-case hex digits. A `%` not followed by two hex digits is left as it is.
fn normalise_percent_encoding(rest: &str) -> String {
    let bytes = rest.as_bytes();
    let mut out = String::with_capacity(rest.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            let octet = hi * 16 + lo;
            if is_unreserved(octet) {
                out.push(char::from(octet));
            } else {
                out.push('%');
                out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
                out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
            }
            i += 3;
            continue;
        }
        // Copy one whole character (the input is UTF-8; `%` and hex digits are ASCII).
        let ch_len = rest[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&rest[i..i + ch_len]);
        i += ch_len;
    }
    out
}

/// The link that was meant, from the text that was pasted. Idempotent: normalising the
/// result again changes nothing.
pub fn normalise_pasted_link(input: &str) -> String {
    let compact: String = input.chars().filter(|c| !is_stray(*c)).collect();
    let decoded = match compact.split_once(':') {
        Some((scheme, rest)) => {
            // A stray `%` in front of an escape (`%%341`) makes a new escape once the inner
            // one is decoded; decode until nothing changes (each round shortens the text).
            let mut rest = rest.to_owned();
            loop {
                let next = normalise_percent_encoding(&rest);
                if next == rest {
                    break;
                }
                rest = next;
            }
            format!("{scheme}:{rest}")
        }
        None => compact,
    };
    decoded.trim_start_matches(is_opener).trim_end_matches(is_closer).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://keys.example.com/share/AbCdEfGhIjKlMnOpQrStUvWxYz012345";

    #[test]
    fn a_link_from_a_chat_app_loses_its_brackets_quotes_and_full_stop() {
        for pasted in [
            format!("<{LINK}>"),
            format!("{LINK}."),
            format!("({LINK})."),
            format!("\"{LINK}\","),
            format!("“{LINK}”"),
            format!("«{LINK}»!"),
            format!("'{LINK}';"),
            format!("`{LINK}`"),
            format!("*{LINK}*"),
            format!("[{LINK}]"),
            format!("{LINK}..."),
            format!("{LINK}…"),
        ] {
            assert_eq!(normalise_pasted_link(&pasted), LINK, "{pasted}");
        }
    }

    #[test]
    fn a_link_wrapped_over_two_lines_or_with_invisible_characters_is_joined() {
        let (a, b) = LINK.split_at(40);
        assert_eq!(normalise_pasted_link(&format!("{a}\n{b}")), LINK);
        assert_eq!(normalise_pasted_link(&format!("{a}\r\n  {b}\t")), LINK);
        assert_eq!(normalise_pasted_link(&format!("\u{feff}{a}\u{200b}{b}\u{ad}")), LINK);
    }

    #[test]
    fn percent_encoded_letters_are_decoded_and_other_escapes_keep_their_meaning() {
        let encoded = LINK.replace("AbC", "%41%62%43").replace("share", "sh%61re");
        assert_eq!(normalise_pasted_link(&encoded), LINK);
        assert_eq!(normalise_pasted_link("https://h/a%2fb%7e%2D"), "https://h/a%2Fb~-");
        assert_eq!(normalise_pasted_link("https://h/a%zz%4"), "https://h/a%zz%4");
    }

    #[test]
    fn the_scheme_is_not_decoded_so_an_encoded_scheme_stays_wrong() {
        assert_eq!(normalise_pasted_link("%68ttps://h/x"), "%68ttps://h/x");
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for s in [
            format!("(<{LINK}%2E>)."),
            "a%2E:%2E.".into(),
            "é%c3%a9:%C3%41…".into(),
            "%".into(),
            ":%4".into(),
            "h:%%341".into(),
        ] {
            let once = normalise_pasted_link(&s);
            assert_eq!(normalise_pasted_link(&once), once, "{s}");
        }
    }
}
