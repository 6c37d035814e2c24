//! The desktop client: `keyway login`, `accept`, `keys`, `unlock`, `sync`, `share`,
//! `revoke-share`, `redeem`, `logout`, against any backend URL. Each command opens the
//! client's folder ([`home`]), the core with its secrets in the OS keyring or private
//! files ([`secrets`]) and the radio ([`radio`]), does one thing, and prints it for a
//! person or, with `--json`, for a script ([`output`]). Failures become one line and
//! an exit code ([`failure`]).

pub mod commands;
pub mod failure;
pub mod home;
pub mod output;
pub mod prompt;
pub mod radio;
pub mod secrets;

use failure::{Exit, Failure};
use home::{Home, Settings};
use keyway_core::platform::SoftwareSigner;
use keyway_core::platform::SystemClock;
use keyway_core::{Config, Keyway, Platform};
use std::path::PathBuf;
use std::sync::Arc;

/// Options every client command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// The client's folder (session, device key, key cache).
    #[arg(long, global = true, env = "KEYWAY_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The backend's base URL (`https://…`); remembered after a sign-in.
    #[arg(long, global = true, env = "KEYWAY_BACKEND", value_name = "URL")]
    pub backend: Option<String>,
    /// A PEM file of CA certificates to trust for the backend, besides the system's (e.g. a
    /// company or development CA); remembered after a sign-in.
    #[arg(long, global = true, env = "KEYWAY_CA_FILE", value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// A host whose invitation and share links are trusted (repeatable); default: the backend's host.
    #[arg(long = "link-host", global = true, env = "KEYWAY_LINK_HOST", value_name = "HOST", value_delimiter = ',')]
    pub link_hosts: Vec<String>,
    /// Where secrets are kept: the OS keyring, private files, or (auto) the folder's
    /// recorded choice, for a new folder the keyring when there is one.
    #[arg(long, global = true, env = "KEYWAY_SECRETS", value_enum, default_value_t)]
    pub secrets: secrets::SecretsChoice,
    /// Print one JSON object on standard output instead of sentences.
    #[arg(long, global = true)]
    pub json: bool,
}

/// What one command works with.
pub struct Client {
    /// The core.
    pub keyway: Keyway,
    /// The folder, held for the command's duration.
    pub home: Home,
    /// The settings in use.
    pub settings: Settings,
}

/// Which settings a command runs with: the command line wins over what was saved.
fn settings(global: &Global, saved: Option<Settings>) -> Result<Settings, Failure> {
    let backend_url = match (&global.backend, &saved) {
        (Some(url), _) => url.clone(),
        (None, Some(saved)) => saved.backend_url.clone(),
        (None, None) => {
            return Err(Failure::usage(
                "no backend given",
                "pass --backend https://… (or set KEYWAY_BACKEND); it is remembered after you sign in",
            ));
        }
    };
    let parsed = url::Url::parse(&backend_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| Failure::usage(format!("{backend_url} is not a web address"), "use https://host[:port]/"))?;
    let same_backend = saved.filter(|s| s.backend_url == backend_url);
    let link_hosts = if !global.link_hosts.is_empty() {
        global.link_hosts.clone()
    } else if let Some(saved) = &same_backend {
        saved.link_hosts.clone()
    } else {
        vec![parsed.host_str().unwrap_or_default().to_owned()]
    };
    // Kept as an absolute path: later commands may run from another folder.
    let given = global.ca_file.as_ref().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()));
    let ca_file = given.or_else(|| same_backend.and_then(|s| s.ca_file));
    let mut backend_url = backend_url;
    if !backend_url.ends_with('/') {
        backend_url.push('/');
    }
    Ok(Settings { backend_url, link_hosts, ca_file })
}

impl Client {
    /// Opens the folder and the core. `radio` is whether the command uses Bluetooth.
    pub fn open(global: &Global, radio: bool) -> Result<Self, Failure> {
        let dir = global.home.clone().unwrap_or_else(home::default_dir);
        let home = Home::open(&dir)?;
        let settings = settings(global, home.settings()?)?;
        let opened = secrets::open(&home, global.secrets)?;
        if let Some(notice) = &opened.notice {
            eprintln!("{notice}");
        }
        let store = opened.store;
        let ble = if radio { radio::open() } else { radio::none() };
        let platform = Platform {
            secure_store: store.clone(),
            signer: Arc::new(SoftwareSigner::new(store)),
            ble,
            clock: Arc::new(SystemClock),
        };
        let mut config = Config::new(settings.backend_url.clone(), settings.link_hosts.clone());
        config.cache_path = Some(home.cache_path());
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                Failure::usage(format!("cannot read {}: {e}", path.display()), "give a PEM file of CA certificates")
            })?;
            config.trust.extra_roots = vec![pem];
        }
        let keyway = Keyway::open(config, platform)?;
        Ok(Self { keyway, home, settings })
    }

    /// Remembers the backend after a successful sign-in.
    pub fn remember_backend(&self) -> Result<(), Failure> {
        Ok(self.home.save_settings(&self.settings)?)
    }

    /// Fails unless someone is signed in.
    pub fn require_session(&self) -> Result<(), Failure> {
        match self.keyway.session_state() {
            keyway_core::listeners::SessionState::SignedIn => Ok(()),
            _ => Err(keyway_core::Error::NotSignedIn.into()),
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}
