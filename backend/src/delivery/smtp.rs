//! Email over SMTP with `lettre` on tokio and rustls (ring): STARTTLS (submission, port
//! 587), implicit TLS (port 465), or plain SMTP to a server on this machine's loopback
//! (tests, or a local relay). The server's certificate is checked against the platform's
//! roots plus any extra CA the operator names.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::{Content, SendFailure};

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    ImplicitTls,
    /// No TLS at all: only to a server on loopback (tests, a relay on the same machine).
    PlainLoopback,
}

impl SmtpSecurity {
    /// The usual port for this kind of connection.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::ImplicitTls => 465,
            SmtpSecurity::PlainLoopback => 25,
        }
    }
}

/// Why the SMTP sender cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    /// Plain SMTP was asked for a host that is not loopback.
    #[error("plain SMTP (no TLS) is allowed only to a loopback host, not {0}")]
    PlainNotLoopback(String),
    /// The sender address does not parse.
    #[error("the sender address is not a valid mailbox (e.g. `Keyway <no-reply@example.com>`)")]
    BadSender,
    /// The extra CA file holds no usable certificate, or TLS could not be set up.
    #[error("cannot set up TLS for the SMTP server: {0}")]
    Tls(String),
}

/// Where and how to send email.
#[derive(Clone)]
pub struct SmtpSettings {
    /// Server host name (checked against its certificate).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// STARTTLS, implicit TLS or plain (loopback only).
    pub security: SmtpSecurity,
    /// User name and password, if the server wants them.
    pub credentials: Option<(String, String)>,
    /// The `From:` address, e.g. `Keyway <no-reply@keyway.example>`.
    pub from: String,
    /// Extra CA certificates (PEM) to trust besides the platform's.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// The name this service gives itself in `EHLO` and message ids.
    pub hello_name: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("authenticated", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

/// Sends email through one SMTP server.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    hello_name: String,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender").finish_non_exhaustive()
    }
}

/// Whether `host` names this machine's loopback.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.trim_matches(|c| c == '[' || c == ']').parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl SmtpSender {
    /// A sender for `settings` (nothing is connected until the first message).
    pub fn new(settings: SmtpSettings) -> Result<Self, SmtpSetupError> {
        let from: Mailbox = settings.from.parse().map_err(|_| SmtpSetupError::BadSender)?;
        let tls = || -> Result<TlsParameters, SmtpSetupError> {
            let mut params = TlsParameters::builder(settings.host.clone());
            if let Some(pem) = &settings.extra_roots_pem {
                let roots = Certificate::from_pem(pem).map_err(|e| SmtpSetupError::Tls(e.to_string()))?;
                params = params.add_root_certificate(roots);
            }
            params.build_rustls().map_err(|e| SmtpSetupError::Tls(e.to_string()))
        };
        let tls = match settings.security {
            SmtpSecurity::Starttls => Tls::Required(tls()?),
            SmtpSecurity::ImplicitTls => Tls::Wrapper(tls()?),
            SmtpSecurity::PlainLoopback if is_loopback(&settings.host) => Tls::None,
            SmtpSecurity::PlainLoopback => return Err(SmtpSetupError::PlainNotLoopback(settings.host)),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(tls)
            .hello_name(ClientId::Domain(settings.hello_name.clone()))
            .timeout(Some(TIMEOUT));
        if let Some((user, password)) = settings.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self { transport: builder.build(), from, hello_name: settings.hello_name })
    }

    /// Sends queued message `id` to `to`. The Message-ID is the same on every attempt, so
    /// a receiver can drop the copy a crash between "accepted" and "marked sent" may cause.
    pub async fn send(&self, id: i64, to: &str, content: &Content) -> Result<(), SendFailure> {
        let to: Mailbox = to.parse().map_err(|_| SendFailure::permanent("not a valid email address"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(content.subject.clone())
            .message_id(Some(format!("<outbox-{id}@{}>", self.hello_name)))
            .header(ContentType::TEXT_PLAIN)
            .body(content.body.clone())
            .map_err(|_| SendFailure::permanent("the message could not be built"))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(&e)),
        }
    }
}

/// A few words for an SMTP failure: the server's reply code, never its free text (which
/// may echo anything), and whether it is worth trying again.
fn classify(e: &lettre::transport::smtp::Error) -> SendFailure {
    if let Some(code) = e.status() {
        let reason = format!("SMTP server answered {code}");
        return if e.is_permanent() { SendFailure::permanent(reason) } else { SendFailure::transient(reason) };
    }
    if e.is_timeout() {
        SendFailure::transient("SMTP server did not answer in time")
    } else if e.is_tls() {
        SendFailure::transient("TLS with the SMTP server failed")
    } else {
        SendFailure::transient("cannot reach the SMTP server")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(host: &str, security: SmtpSecurity) -> SmtpSettings {
        SmtpSettings {
            host: host.into(),
            port: 2525,
            security,
            credentials: None,
            from: "Keyway <no-reply@keyway.test>".into(),
            extra_roots_pem: None,
            hello_name: "keyway.test".into(),
        }
    }

    #[test]
    fn smtp_plain_connections_are_refused_unless_the_server_is_on_loopback() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        for host in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            assert!(SmtpSender::new(settings(host, SmtpSecurity::PlainLoopback)).is_ok(), "{host}");
        }
        for host in ["smtp.example.com", "10.0.0.1"] {
            let refused = SmtpSender::new(settings(host, SmtpSecurity::PlainLoopback));
            assert!(matches!(refused, Err(SmtpSetupError::PlainNotLoopback(_))), "{host}");
        }
    }

    #[test]
    fn smtp_sender_address_must_be_a_mailbox() {
        let mut s = settings("127.0.0.1", SmtpSecurity::PlainLoopback);
        s.from = "not an address".into();
        assert!(matches!(SmtpSender::new(s), Err(SmtpSetupError::BadSender)));
    }
}
