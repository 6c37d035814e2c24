//! The `serve` flags for delivery: an SMTP server for email, an SMS provider for text
//! messages, and the retry policy. With neither sender configured, messages go to the
//! development outbox (the default). Passwords and tokens are read from files, never
//! taken on the command line, where other users could see them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::sms::{SmsSetupError, TwilioSettings, TwilioSms};
use super::smtp::{SmtpSecurity, SmtpSender, SmtpSettings, SmtpSetupError};
use super::{Delivery, RetryPolicy};

/// Why the delivery flags cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryConfigError {
    /// A secret or CA file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A flag needs another one.
    #[error("{0}")]
    Missing(&'static str),
    /// The SMTP settings are refused.
    #[error(transparent)]
    Smtp(#[from] SmtpSetupError),
    /// The SMS settings are refused.
    #[error(transparent)]
    Sms(#[from] SmsSetupError),
}

/// Delivery flags of `keyway-backend serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeliveryArgs {
    /// SMTP server for email (codes, invitations, shares). Without it, email goes to the
    /// development outbox (`admin outbox`).
    #[arg(long, env = "KEYWAY_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP port (default: 587 for starttls, 465 for implicit-tls, 25 for plain-loopback).
    #[arg(long, env = "KEYWAY_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// How the SMTP connection is protected.
    #[arg(long, env = "KEYWAY_SMTP_SECURITY", value_enum, default_value = "starttls")]
    pub smtp_security: SmtpSecurity,
    /// SMTP user name (with --smtp-password-file).
    #[arg(long, env = "KEYWAY_SMTP_USERNAME", requires = "smtp_password_file")]
    pub smtp_username: Option<String>,
    /// File holding the SMTP password.
    #[arg(long, env = "KEYWAY_SMTP_PASSWORD_FILE", requires = "smtp_username")]
    pub smtp_password_file: Option<PathBuf>,
    /// The `From:` of every email, e.g. `Keyway <no-reply@keyway.example>` (needed with --smtp-host).
    #[arg(long, env = "KEYWAY_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Extra CA certificates (PEM) to trust for the SMTP server, besides the system's.
    #[arg(long, env = "KEYWAY_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Twilio account SID: text messages go through Twilio's Messages API. Without it,
    /// SMS goes to the development outbox.
    #[arg(long, env = "KEYWAY_TWILIO_ACCOUNT_SID", requires = "twilio_auth_token_file")]
    pub twilio_account_sid: Option<String>,
    /// File holding the Twilio auth token.
    #[arg(long, env = "KEYWAY_TWILIO_AUTH_TOKEN_FILE", requires = "twilio_account_sid")]
    pub twilio_auth_token_file: Option<PathBuf>,
    /// The sending number (E.164) or messaging service id (needed with --twilio-account-sid).
    #[arg(long, env = "KEYWAY_SMS_FROM")]
    pub sms_from: Option<String>,
    /// Base URL of the Twilio-shaped API (tests point it at a local HTTPS sink).
    #[arg(long, env = "KEYWAY_TWILIO_BASE_URL", default_value = "https://api.twilio.com")]
    pub twilio_base_url: String,
    /// Extra CA certificates (PEM) to trust for the SMS provider, besides the system's.
    #[arg(long, env = "KEYWAY_SMS_CA_FILE")]
    pub sms_ca_file: Option<PathBuf>,
    /// Attempts per message before it is marked failed.
    #[arg(long, default_value_t = RetryPolicy::default().max_attempts, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub outbox_max_attempts: u32,
    /// Seconds before the first retry; each later wait doubles, up to an hour.
    #[arg(long, default_value_t = RetryPolicy::default().first_retry_secs, value_parser = clap::value_parser!(i64).range(1..=86_400))]
    pub outbox_first_retry_secs: i64,
}

fn read(path: &Path) -> Result<Vec<u8>, DeliveryConfigError> {
    std::fs::read(path).map_err(|source| DeliveryConfigError::Read { path: path.display().to_string(), source })
}

fn read_secret(path: &Path) -> Result<String, DeliveryConfigError> {
    Ok(String::from_utf8_lossy(&read(path)?).trim().to_owned())
}

impl DeliveryArgs {
    /// The senders these flags describe; `hello_name` is the service's public host name.
    pub fn load(&self, hello_name: &str) -> Result<Delivery, DeliveryConfigError> {
        let smtp = match &self.smtp_host {
            None => None,
            Some(host) => {
                let from =
                    self.mail_from.clone().ok_or(DeliveryConfigError::Missing("--smtp-host needs --mail-from"))?;
                let credentials = match (&self.smtp_username, &self.smtp_password_file) {
                    (Some(user), Some(file)) => Some((user.clone(), read_secret(file)?)),
                    _ => None,
                };
                let extra_roots_pem = self.smtp_ca_file.as_deref().map(read).transpose()?;
                Some(Arc::new(SmtpSender::new(SmtpSettings {
                    host: host.clone(),
                    port: self.smtp_port.unwrap_or(self.smtp_security.default_port()),
                    security: self.smtp_security,
                    credentials,
                    from,
                    extra_roots_pem,
                    hello_name: hello_name.to_owned(),
                })?))
            }
        };
        let sms: Option<Arc<dyn super::sms::SmsProvider>> =
            match (&self.twilio_account_sid, &self.twilio_auth_token_file) {
                (Some(sid), Some(token_file)) => {
                    let from = self
                        .sms_from
                        .clone()
                        .ok_or(DeliveryConfigError::Missing("--twilio-account-sid needs --sms-from"))?;
                    Some(Arc::new(TwilioSms::new(TwilioSettings {
                        base_url: self.twilio_base_url.clone(),
                        account_sid: sid.clone(),
                        auth_token: read_secret(token_file)?,
                        from,
                        extra_roots_pem: self.sms_ca_file.as_deref().map(read).transpose()?,
                    })?))
                }
                _ => None,
            };
        let retry = RetryPolicy {
            max_attempts: self.outbox_max_attempts.max(1),
            first_retry_secs: self.outbox_first_retry_secs,
            ..RetryPolicy::default()
        };
        Ok(Delivery { smtp, sms, retry })
    }
}
