//! One-time sign-in codes: 6 digits, 10 minutes, single use, stored as keyed hashes and
//! compared in constant time, with the guessing limits of NIST SP 800-63B §5.2.2.
//!
//! The limits, all checked before a guess is compared with anything:
//! - **Per code**: 5 guesses.
//! - **Per identifier**: a count of consecutive failures that only a successful sign-in
//!   resets (never time, never a resend). Every 5th failure starts a back-off that doubles
//!   (15 min, 30 min, 1 h, … capped at 24 h). At 100 the identifier is frozen: no guess is
//!   evaluated any more, except from a device that already holds a live session of that
//!   person (see below).
//! - **Per client** (the peer address the service sees; IPv6 grouped by /64): the same
//!   consecutive count and back-off across every identifier the client guesses at, frozen
//!   at 100; it is forgotten 7 days after the client's last failure (addresses change hands)
//!   or at a successful sign-in from it. At most 30 codes an hour per client.
//! - **Global**: once 1,000 wrong guesses were made service-wide in the current hour,
//!   clients with failures on record are refused until the next hour; clients with a clean
//!   record are still served, so one noisy attacker cannot close sign-in for everyone.
//!
//! Why an attacker cannot lock a member out for good:
//! - **Codes are bound to the client that asked for them** (one live code per identifier
//!   and client address). A guess is compared only with the code that client asked for, so
//!   an attacker's guesses never burn the member's code and an attacker's code requests
//!   never replace it.
//! - **The back-off applies only to clients that have failed against the identifier**:
//!   the member asking from a clean address is not slowed by the attacker's failures.
//! - **A frozen identifier still signs in a device the member is signed in on**: the
//!   `device_public_key` of the verify request names a live session of that person. And
//!   signed-in devices keep working (refresh does not go through codes at all), and a
//!   person with both an email and a phone has a second, separate identifier.
//!
//! Unknown identifiers take the same path as known ones — a code is generated, hashed and
//! stored, and the same answer is returned — but nothing is delivered and no guess can
//! succeed, so the response and the work done do not tell who has an account.

use std::net::{IpAddr, SocketAddr};

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::identifiers::Identifier;
use crate::outbox::{NewMessage, Outbox};
use crate::secrets::{Purpose, Secrets, same};

/// How long a code works.
pub const CODE_TTL_SECS: i64 = 600;
/// Guesses allowed on one code.
pub const GUESSES_PER_CODE: i64 = 5;
/// Wrong guesses between two back-offs (and the old per-identifier limit).
pub const MAX_FAILURES: i64 = 5;
/// The first back-off; each later one doubles.
pub const LOCK_SECS: i64 = 15 * 60;
/// The longest back-off.
pub const MAX_LOCK_SECS: i64 = 24 * 3600;
/// Consecutive failures after which an identifier is frozen (NIST SP 800-63B: at most 100).
pub const MAX_IDENTIFIER_FAILURES: i64 = 100;
/// Consecutive failures after which a client address is frozen.
pub const MAX_CLIENT_FAILURES: i64 = 100;
/// A client's failures are forgotten this long after its last one.
pub const CLIENT_FORGET_SECS: i64 = 7 * 24 * 3600;
/// Wrong guesses service-wide per clock hour before clients with failures are refused.
pub const GLOBAL_FAILURES_PER_HOUR: i64 = 1000;
/// Minimum time between two codes to the same identifier from the same client.
pub const RESEND_COOLDOWN_SECS: i64 = 30;
/// Throttle window for sends.
pub const SEND_WINDOW_SECS: i64 = 3600;
/// Codes allowed per identifier and client per window.
pub const SENDS_PER_WINDOW: i64 = 5;
/// Codes allowed per identifier per window, whoever asks (bounds texts to one person).
pub const IDENTIFIER_SENDS_PER_WINDOW: i64 = 10;
/// Codes allowed per client per window, whatever the identifier.
pub const CLIENT_SENDS_PER_WINDOW: i64 = 30;

/// Who is asking, as the service sees the connection: the peer's address.
///
/// Behind a reverse proxy every request comes from the proxy's address, so the per-client
/// limits become one shared limit (see docs/backend.md); the service reads no
/// `X-Forwarded-For` header, which any client could forge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client(String);

impl Client {
    /// The client of a connection from `peer`: the IPv4 address, or the IPv6 /64 (one host
    /// is usually given a whole /64, so single IPv6 addresses would be free to change).
    pub fn from_peer(peer: SocketAddr) -> Self {
        match peer.ip() {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(v4.to_string()),
                None => {
                    let s = v6.segments();
                    Self(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
                }
            },
        }
    }

    /// The text stored for this client.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the caller learns after asking for a code (identical for known and unknown identifiers).
#[derive(Debug, Clone, Copy)]
pub struct CodeSent {
    /// Unix seconds when the code stops working.
    pub expires_at: i64,
    /// Unix seconds when another code may be asked for.
    pub resend_after: i64,
}

/// A failure counter: an identifier, a client, or an (identifier, client) pair.
#[derive(Debug, Clone, Copy, Default)]
struct Limit {
    failures: i64,
    locked_until: i64,
    last_failure_at: i64,
    window_start: i64,
    window_count: i64,
}

fn pair_subject(ident: &str, client: &Client) -> String {
    format!("{ident}\n{}", client.as_str())
}

fn load_limit(tx: &Transaction<'_>, scope: &str, subject: &str) -> Result<Limit> {
    Ok(tx
        .query_row(
            "SELECT failures, locked_until, last_failure_at, window_start, window_count FROM otp_limits
             WHERE scope = ?1 AND subject = ?2",
            params![scope, subject],
            |r| {
                Ok(Limit {
                    failures: r.get(0)?,
                    locked_until: r.get(1)?,
                    last_failure_at: r.get(2)?,
                    window_start: r.get(3)?,
                    window_count: r.get(4)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

fn store_limit(tx: &Transaction<'_>, scope: &str, subject: &str, l: &Limit) -> Result<()> {
    tx.execute(
        "INSERT INTO otp_limits (scope, subject, failures, locked_until, last_failure_at, window_start, window_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (scope, subject) DO UPDATE SET failures = ?3, locked_until = ?4, last_failure_at = ?5,
             window_start = ?6, window_count = ?7",
        params![scope, subject, l.failures, l.locked_until, l.last_failure_at, l.window_start, l.window_count],
    )?;
    Ok(())
}

/// A client's counter, with failures older than [`CLIENT_FORGET_SECS`] forgotten.
fn load_client(tx: &Transaction<'_>, client: &Client, now: i64) -> Result<Limit> {
    let mut l = load_limit(tx, "client", client.as_str())?;
    if l.failures > 0 && now >= l.last_failure_at + CLIENT_FORGET_SECS {
        l.failures = 0;
        l.locked_until = 0;
    }
    Ok(l)
}

/// The back-off after `failures` consecutive failures: none between multiples of 5, then
/// 15 min doubling at each multiple, capped at 24 h.
fn backoff(failures: i64) -> i64 {
    if failures <= 0 || failures % MAX_FAILURES != 0 {
        return 0;
    }
    let doublings = u32::try_from(failures / MAX_FAILURES - 1).unwrap_or(u32::MAX).min(16);
    LOCK_SECS.saturating_mul(1_i64 << doublings).min(MAX_LOCK_SECS)
}

/// Refuses a client that is backed off or frozen.
fn check_client(client: &Limit, now: i64) -> Result<()> {
    if client.failures >= MAX_CLIENT_FAILURES {
        return Err(Error::TooManyAttempts { retry_at: client.last_failure_at + CLIENT_FORGET_SECS });
    }
    if client.locked_until > now {
        return Err(Error::TooManyAttempts { retry_at: client.locked_until });
    }
    Ok(())
}

/// Refuses a client that has failed against this identifier while the identifier is backed
/// off or frozen.
fn check_identifier(ident: &Limit, pair: &Limit, now: i64) -> Result<()> {
    if pair.failures == 0 {
        return Ok(());
    }
    if ident.failures >= MAX_IDENTIFIER_FAILURES {
        return Err(Error::TooManyAttempts { retry_at: now + MAX_LOCK_SECS });
    }
    if ident.locked_until > now {
        return Err(Error::TooManyAttempts { retry_at: ident.locked_until });
    }
    Ok(())
}

/// Whether anyone could legitimately sign in with `ident`: a person, or a pending invitation or share.
fn is_known(tx: &Transaction<'_>, ident: &Identifier) -> Result<bool> {
    let n: i64 = tx.query_row(
        "SELECT (SELECT COUNT(*) FROM people WHERE email = ?1 OR phone = ?1)
              + (SELECT COUNT(*) FROM invitations WHERE email = ?1 AND state = 'pending')
              + (SELECT COUNT(*) FROM shares WHERE guest_identifier = ?1 AND state = 'pending')",
        [ident.as_str()],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Counts a send in `l`'s hourly window, or refuses when `max` were sent in it already.
fn count_send(l: &mut Limit, max: i64, now: i64) -> Result<()> {
    if now >= l.window_start + SEND_WINDOW_SECS {
        l.window_start = now;
        l.window_count = 0;
    }
    if l.window_count >= max {
        return Err(Error::RateLimited { retry_at: l.window_start + SEND_WINDOW_SECS });
    }
    l.window_count += 1;
    Ok(())
}

/// Lifts the freeze on `ident` (an administrator checked the person another way): the
/// identifier's failure count and its per-client counts start again from zero. The
/// clients' own counts stay: an attacker's address stays backed off.
pub fn unfreeze(tx: &Transaction<'_>, ident: &Identifier) -> Result<()> {
    let key = ident.as_str();
    tx.execute("DELETE FROM otp_limits WHERE scope = 'identifier' AND subject = ?1", [key])?;
    tx.execute(
        "DELETE FROM otp_limits WHERE scope = 'pair' AND substr(subject, 1, length(?1)) = ?1",
        [format!("{key}\n")],
    )?;
    Ok(())
}

/// Issues a code to `ident`, bound to `client`, and delivers it if the identifier is known.
pub fn send_code(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    outbox: &Outbox,
    ident: &Identifier,
    client: &Client,
    now: i64,
) -> Result<CodeSent> {
    let key = ident.as_str();
    let mut client_limit = load_client(tx, client, now)?;
    check_client(&client_limit, now)?;
    let mut ident_limit = load_limit(tx, "identifier", key)?;
    let pair_key = pair_subject(key, client);
    let mut pair = load_limit(tx, "pair", &pair_key)?;
    check_identifier(&ident_limit, &pair, now)?;
    let prev: Option<i64> = tx
        .query_row(
            "SELECT last_sent_at FROM otp_codes WHERE identifier = ?1 AND client = ?2",
            params![key, client.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(last) = prev
        && now < last + RESEND_COOLDOWN_SECS
    {
        return Err(Error::ResendTooSoon { retry_at: last + RESEND_COOLDOWN_SECS });
    }
    count_send(&mut pair, SENDS_PER_WINDOW, now)?;
    count_send(&mut ident_limit, IDENTIFIER_SENDS_PER_WINDOW, now)?;
    count_send(&mut client_limit, CLIENT_SENDS_PER_WINDOW, now)?;
    store_limit(tx, "pair", &pair_key, &pair)?;
    store_limit(tx, "identifier", key, &ident_limit)?;
    store_limit(tx, "client", client.as_str(), &client_limit)?;

    let known = is_known(tx, ident)?;
    let code = secrets.new_code()?;
    let hash = secrets.hash(Purpose::OtpCode, key, &code);
    tx.execute(
        "INSERT INTO otp_codes (identifier, client, code_hash, expires_at, used, guesses, deliverable, last_sent_at,
             window_start, window_count)
         VALUES (?1, ?2, ?3, ?4, 0, 0, ?5, ?6, 0, 0)
         ON CONFLICT (identifier, client) DO UPDATE SET code_hash = ?3, expires_at = ?4, used = 0, guesses = 0,
             deliverable = ?5, last_sent_at = ?6",
        params![key, client.as_str(), hash, now + CODE_TTL_SECS, known, now],
    )?;
    if known {
        let body = format!("Your Keyway sign-in code is {code}. It works for 10 minutes. Never share it.");
        outbox.send(
            tx,
            NewMessage {
                channel: ident.channel(),
                to: key.to_owned(),
                kind: "sign_in_code",
                subject: "Your Keyway sign-in code".into(),
                body,
                code: Some(code),
                link: None,
                useful_until: now + CODE_TTL_SECS,
                invitation_id: None,
            },
            now,
        )?;
    }
    Ok(CodeSent { expires_at: now + CODE_TTL_SECS, resend_after: now + RESEND_COOLDOWN_SECS })
}

/// Whether `device_public_key` belongs to a live session of the person with this identifier.
fn signed_in_device(tx: &Transaction<'_>, ident: &Identifier, device_public_key: &[u8]) -> Result<bool> {
    let n: i64 = tx.query_row(
        "SELECT COUNT(*) FROM sessions s JOIN people p ON p.id = s.person_id
         WHERE (p.email = ?1 OR p.phone = ?1) AND s.device_public_key = ?2 AND s.revoked_at IS NULL",
        params![ident.as_str(), device_public_key],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Checks a guess from `client` for the device `device_public_key`. A wrong guess is
/// recorded, so call this in a transaction that commits on error.
pub fn check_code(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    ident: &Identifier,
    client: &Client,
    device_public_key: &[u8],
    code: &str,
    now: i64,
) -> Result<()> {
    let key = ident.as_str();
    let mut client_limit = load_client(tx, client, now)?;
    check_client(&client_limit, now)?;
    let hour = now.div_euclid(3600);
    let global: i64 =
        tx.query_row("SELECT failures FROM otp_global WHERE hour = ?1", [hour], |r| r.get(0)).optional()?.unwrap_or(0);
    if global >= GLOBAL_FAILURES_PER_HOUR && client_limit.failures > 0 {
        return Err(Error::TooManyAttempts { retry_at: (hour + 1) * 3600 });
    }
    let mut ident_limit = load_limit(tx, "identifier", key)?;
    let pair_key = pair_subject(key, client);
    let mut pair = load_limit(tx, "pair", &pair_key)?;
    if ident_limit.failures >= MAX_IDENTIFIER_FAILURES && !signed_in_device(tx, ident, device_public_key)? {
        return Err(Error::TooManyAttempts { retry_at: now + MAX_LOCK_SECS });
    }
    if ident_limit.failures < MAX_IDENTIFIER_FAILURES {
        check_identifier(&ident_limit, &pair, now)?;
    }
    let row: Option<(Vec<u8>, i64, bool, i64, bool)> = tx
        .query_row(
            "SELECT code_hash, expires_at, used, guesses, deliverable FROM otp_codes
             WHERE identifier = ?1 AND client = ?2",
            params![key, client.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((code_hash, expires_at, used, guesses, deliverable)) = row else {
        return Err(Error::CodeExpired);
    };
    if used || now >= expires_at || guesses >= GUESSES_PER_CODE {
        return Err(Error::CodeExpired);
    }
    let guess = secrets.hash(Purpose::OtpCode, key, code.trim());
    if same(&guess, &code_hash) && deliverable {
        tx.execute(
            "UPDATE otp_codes SET used = 1 WHERE identifier = ?1 AND client = ?2",
            params![key, client.as_str()],
        )?;
        // A successful sign-in (or an administrator) is the only thing that clears the
        // identifier's count.
        unfreeze(tx, ident)?;
        client_limit.failures = 0;
        client_limit.locked_until = 0;
        store_limit(tx, "client", client.as_str(), &client_limit)?;
        return Ok(());
    }
    tx.execute(
        "UPDATE otp_codes SET guesses = guesses + 1 WHERE identifier = ?1 AND client = ?2",
        params![key, client.as_str()],
    )?;
    ident_limit.failures += 1;
    ident_limit.last_failure_at = now;
    let lock = backoff(ident_limit.failures);
    if lock > 0 {
        ident_limit.locked_until = now + lock;
    }
    client_limit.failures += 1;
    client_limit.last_failure_at = now;
    let lock = backoff(client_limit.failures);
    if lock > 0 {
        client_limit.locked_until = now + lock;
    }
    pair.failures += 1;
    pair.last_failure_at = now;
    store_limit(tx, "identifier", key, &ident_limit)?;
    store_limit(tx, "client", client.as_str(), &client_limit)?;
    store_limit(tx, "pair", &pair_key, &pair)?;
    tx.execute(
        "INSERT INTO otp_global (hour, failures) VALUES (?1, 1)
         ON CONFLICT (hour) DO UPDATE SET failures = failures + 1",
        [hour],
    )?;
    tx.execute("DELETE FROM otp_global WHERE hour < ?1", [hour - 24])?;
    let until_backoff = MAX_FAILURES - ident_limit.failures % MAX_FAILURES;
    let until_backoff = if until_backoff == MAX_FAILURES { 0 } else { until_backoff };
    let left = until_backoff.min(GUESSES_PER_CODE - guesses - 1).max(0);
    Err(Error::CodeWrong { attempts_left: u32::try_from(left).unwrap_or(0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_doubles_every_five_failures_up_to_a_day() {
        assert_eq!(backoff(4), 0);
        assert_eq!(backoff(5), 15 * 60);
        assert_eq!(backoff(10), 30 * 60);
        assert_eq!(backoff(15), 3600);
        assert_eq!(backoff(40), 24 * 3600);
        assert_eq!(backoff(95), 24 * 3600);
        // No overflow however long the count.
        assert_eq!(backoff(i64::MAX - 2), 24 * 3600);
    }

    fn client(ip: &str) -> Client {
        Client::from_peer(SocketAddr::new(ip.parse().unwrap(), 443))
    }

    #[test]
    fn otp_farming_past_the_global_budget_only_clients_with_a_clean_record_are_evaluated() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        let tx = conn.transaction().unwrap();
        let secrets = Secrets::new(b"unit test server secret, 32 bytes").unwrap();
        let outbox = Outbox::new(std::sync::Arc::new(Secrets::new(b"otp outbox").unwrap()), false, false);
        let now = 1_800_000_000;
        tx.execute("INSERT INTO people (email, created_at) VALUES ('ada@example.com', 1)", []).unwrap();
        let ada = Identifier::parse("ada@example.com").unwrap();
        let (noisy, clean) = (client("198.51.100.7"), client("203.0.113.9"));
        let device = [4u8; 65];
        // The noisy client has one failure on record (against someone else).
        let other = Identifier::parse("bob@example.com").unwrap();
        send_code(&tx, &secrets, &outbox, &other, &noisy, now).unwrap();
        assert!(matches!(
            check_code(&tx, &secrets, &other, &noisy, &device, "000000x", now),
            Err(Error::CodeWrong { .. })
        ));
        // The service-wide budget for this hour is spent.
        tx.execute(
            "UPDATE otp_global SET failures = ?2 WHERE hour = ?1",
            params![now / 3600, GLOBAL_FAILURES_PER_HOUR],
        )
        .unwrap();
        send_code(&tx, &secrets, &outbox, &ada, &noisy, now).unwrap();
        let code = outbox.list(&tx, Some("ada@example.com")).unwrap().pop().unwrap().code.unwrap();
        let refused = check_code(&tx, &secrets, &ada, &noisy, &device, &code, now);
        assert!(matches!(refused, Err(Error::TooManyAttempts { retry_at }) if retry_at == (now / 3600 + 1) * 3600));
        // A client with a clean record is still served.
        send_code(&tx, &secrets, &outbox, &ada, &clean, now).unwrap();
        let code = outbox.list(&tx, Some("ada@example.com")).unwrap().pop().unwrap().code.unwrap();
        check_code(&tx, &secrets, &ada, &clean, &device, &code, now).unwrap();
        // The next hour the noisy client is evaluated again.
        send_code(&tx, &secrets, &outbox, &ada, &noisy, now + 3600).unwrap();
        let code = outbox.list(&tx, Some("ada@example.com")).unwrap().pop().unwrap().code.unwrap();
        check_code(&tx, &secrets, &ada, &noisy, &device, &code, now + 3600).unwrap();
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let a: SocketAddr = "[2001:db8:1:2:aaaa::1]:443".parse().unwrap();
        let b: SocketAddr = "[2001:db8:1:2:bbbb::9]:80".parse().unwrap();
        assert_eq!(Client::from_peer(a), Client::from_peer(b));
        let v4: SocketAddr = "[::ffff:192.0.2.7]:1".parse().unwrap();
        assert_eq!(Client::from_peer(v4).as_str(), "192.0.2.7");
    }
}
