//! The `serve` command's push options (flags or environment variables), read into a
//! [`PushConfig`]: key files are read here, so a wrong path fails before a port is taken.

use super::apns::{self, ApnsConfig};
use super::fcm::{self, FcmConfig};
use super::sender::PushConfig;
use std::path::{Path, PathBuf};

/// Push options of `keyway-backend serve`. Without any, no push is sent (tokens are still
/// registered, and pushes wait in the queue).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PushArgs {
    /// APNs: the `.p8` key file (PKCS#8, P-256) from the Apple developer account.
    #[arg(long, env = "KEYWAY_APNS_KEY_FILE", requires_all = ["apns_key_id", "apns_team_id", "apns_topic"])]
    pub apns_key_file: Option<PathBuf>,
    /// APNs: the key's id.
    #[arg(long, env = "KEYWAY_APNS_KEY_ID")]
    pub apns_key_id: Option<String>,
    /// APNs: the team id.
    #[arg(long, env = "KEYWAY_APNS_TEAM_ID")]
    pub apns_team_id: Option<String>,
    /// APNs: the iOS app's bundle id.
    #[arg(long, env = "KEYWAY_APNS_TOPIC")]
    pub apns_topic: Option<String>,
    /// APNs endpoint (Apple's sandbox for development builds: https://api.sandbox.push.apple.com).
    #[arg(long, env = "KEYWAY_APNS_URL", default_value = apns::PRODUCTION_URL)]
    pub apns_url: String,
    /// FCM: the Firebase service account's JSON key file.
    #[arg(long, env = "KEYWAY_FCM_SERVICE_ACCOUNT_FILE")]
    pub fcm_service_account_file: Option<PathBuf>,
    /// FCM endpoint.
    #[arg(long, env = "KEYWAY_FCM_URL", default_value = fcm::PRODUCTION_URL)]
    pub fcm_url: String,
    /// Extra CA certificates (PEM) trusted for the push endpoints, besides the system's.
    #[arg(long, env = "KEYWAY_PUSH_CA_FILE")]
    pub push_ca_file: Option<PathBuf>,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

impl PushArgs {
    /// The configuration, or `None` when no push service is configured.
    pub fn config(&self) -> Result<Option<PushConfig>, String> {
        let apns = match (&self.apns_key_file, &self.apns_key_id, &self.apns_team_id, &self.apns_topic) {
            (Some(file), Some(key_id), Some(team_id), Some(topic)) => Some(ApnsConfig {
                key_pem: read(file)?,
                key_id: key_id.clone(),
                team_id: team_id.clone(),
                topic: topic.clone(),
                base_url: self.apns_url.clone(),
            }),
            _ => None,
        };
        let fcm = match &self.fcm_service_account_file {
            Some(file) => Some(FcmConfig::from_service_account(&read(file)?, &self.fcm_url)?),
            None => None,
        };
        if apns.is_none() && fcm.is_none() {
            return Ok(None);
        }
        let extra_roots_pem = self.push_ca_file.as_deref().map(read).transpose()?;
        Ok(Some(PushConfig { apns, fcm, extra_roots_pem }))
    }
}
