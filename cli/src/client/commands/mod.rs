//! One file per client command, and what they share: finding a door by name, entering
//! a one-time code, reading times.

pub mod accept;
pub mod delete_account;
pub mod doorcode;
pub mod keys;
pub mod login;
pub mod logout;
pub mod profile;
pub mod redeem;
pub mod share;
pub mod shares;
pub mod sync;
pub mod unlock;

use super::failure::{Failure, when};
use super::output::Output;
use super::prompt;
use keyway_core::Error;
use keyway_core::cache::Door;
use keyway_protocol::credential::UnixSeconds;
use std::future::Future;

/// A door by its name (any case) or its lock id, among the doors this person holds keys for.
pub fn find_door(doors: Vec<Door>, wanted: &str) -> Result<Door, Failure> {
    let wanted = wanted.trim();
    let mut matches: Vec<Door> = doors
        .into_iter()
        .filter(|d| d.name.eq_ignore_ascii_case(wanted) || d.id.to_string().eq_ignore_ascii_case(wanted))
        .collect();
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(Failure::from(Error::UnknownDoor)),
        _ => Err(Failure::usage(
            format!("{} doors are called \"{wanted}\"", matches.len()),
            &format!("name it by id: {}", matches.iter().map(|d| d.id.to_string()).collect::<Vec<_>>().join(", ")),
        )),
    }
}

/// Reads the one-time code and hands it to `submit`; on a terminal a wrong code may be
/// typed again, from a pipe the first answer counts.
pub async fn enter_code<F, Fut>(out: Output, mut submit: F) -> Result<(), Failure>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    loop {
        let Some(code) = prompt::ask("Enter the 6-digit code:")? else {
            return Err(Failure::usage("no code was entered", "type the code from the message, or pipe it in"));
        };
        match submit(code).await {
            Ok(()) => return Ok(()),
            Err(e @ (Error::CodeWrong { .. } | Error::CodeMalformed)) if prompt::interactive() => {
                out.failure(&Failure::from(e));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Where the code went, in a sentence.
pub fn code_sent_line(info: &keyway_core::CodeSent, to: &str) -> String {
    let by = match info.channel {
        keyway_core::CodeChannel::Email => "by email",
        keyway_core::CodeChannel::Sms => "by text message",
    };
    format!("A code was sent {by} to {to}; it works until {}.", when(info.expires_at))
}

/// A moment given on the command line: RFC 3339 (`2026-12-01T18:00:00Z`), or a date and
/// time in UTC (`2026-12-01 18:00`), or a date (midnight UTC).
pub fn parse_time(text: &str) -> Result<UnixSeconds, Failure> {
    let text = text.trim();
    let attempt = humantime::parse_rfc3339_weak(text)
        .or_else(|_| humantime::parse_rfc3339_weak(&format!("{text}:00")))
        .or_else(|_| humantime::parse_rfc3339_weak(&format!("{text} 00:00:00")));
    let time = attempt.map_err(|_| {
        Failure::usage(format!("\"{text}\" is not a date and time"), "write it like 2026-12-01 18:00 (UTC)")
    })?;
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Failure::usage("dates before 1970", "pick a later date"))?;
    UnixSeconds::try_from(secs.as_secs())
        .map_err(|_| Failure::usage("that date is too far away", "pick an earlier date"))
}

/// A length of time: `90m`, `8h`, `3d`, `1w`.
pub fn parse_duration(text: &str) -> Result<u32, Failure> {
    humantime::parse_duration(text.trim())
        .ok()
        .and_then(|d| u32::try_from(d.as_secs()).ok())
        .filter(|&s| s > 0)
        .ok_or_else(|| Failure::usage(format!("\"{text}\" is not a length of time"), "write it like 90m, 8h or 3d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_utc_in_the_forms_people_type() {
        assert_eq!(parse_time("2026-12-01T18:00:00Z").ok(), Some(1_796_148_000));
        assert_eq!(parse_time("2026-12-01 18:00").ok(), Some(1_796_148_000));
        assert_eq!(parse_time("2026-12-01").ok(), Some(1_796_083_200));
        assert!(parse_time("next tuesday").is_err());
    }

    #[test]
    fn durations_are_read_in_the_forms_people_type() {
        assert_eq!(parse_duration("3d").ok(), Some(3 * 86_400));
        assert_eq!(parse_duration("90m").ok(), Some(5_400));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
