//! Links as people paste them: `links::normalise_pasted_link` and `links::parse_link` on
//! arbitrary text. Never a panic; normalising is idempotent; a link the checks accept is
//! still the same link (kind, host) when a chat app wraps it in brackets or quotes, adds a
//! full stop or breaks it over two lines, and its normal form is accepted as that link too.
#![no_main]

use keyway_core::links::{normalise_pasted_link, parse_link};
use libfuzzer_sys::fuzz_target;

const TRUSTED: &str = "keys.example.com";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let once = normalise_pasted_link(&text);
    assert_eq!(normalise_pasted_link(&once), once, "normalising twice changed the text");
    let hosts = [TRUSTED.to_owned()];
    let Ok(link) = parse_link(&text, &hosts) else { return };
    assert!(link.host.eq_ignore_ascii_case(TRUSTED), "accepted a link on {}", link.host);
    let same = |pasted: &str| match parse_link(pasted, &hosts) {
        Ok(again) => assert!(again == link, "a pasted form of an accepted link is another link"),
        Err(e) => panic!("a pasted form of an accepted link was refused: {e}"),
    };
    same(&once);
    same(&format!("<{text}>"));
    same(&format!("({text})."));
    same(&format!("“{text}”,"));
    let mid = text.char_indices().nth(text.chars().count() / 2).map_or(0, |(i, _)| i);
    same(&format!("{}\n{}", &text[..mid], &text[mid..]));
});
