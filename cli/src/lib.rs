//! `keyway`: the desktop client of Keyway. Its commands (`login`, `accept`, `keys`,
//! `unlock`, `sync`, `share`, `shares`, `revoke-share`, `redeem`, `logout`, `doorcode`,
//! `profile`, `delete-account`) act for a member or a
//! guest against any backend over real Bluetooth. The library is the whole binary behind
//! one entry point, [`main`], so the journeys (keyway-e2e) can build and run the very
//! same client; the demo and the bench live in the sandbox (`keyway-sandbox`).

mod client;

use clap::{Parser, Subcommand};
use client::failure::{Exit, Failure};
use client::output::Output;
use client::{Client, Global, commands};

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  something failed on this computer (files, key store)
  2  bad arguments or input (link, address, code format)
  3  sign in first, or again
  4  the service could not be reached or failed
  5  refused (wrong code, dead invitation or share, no valid key, the lock said no)
  6  Bluetooth (off, not permitted, door not in range, link lost)";

/// Keyway on the desktop.
#[derive(Parser)]
#[command(name = "keyway", version, about = "Keyway: door access, offline-first", after_help = EXIT_CODES)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: ClientCommand,
}

/// The commands that act for a member or guest.
#[derive(Subcommand)]
enum ClientCommand {
    /// Sign in with a one-time code sent to an email or phone.
    Login {
        /// Your email, or phone number with +country code.
        address: String,
    },
    /// Accept an invitation link (a code goes to the invited address).
    Accept {
        /// The link from the invitation email.
        link: String,
        /// Your first name, when the invitation asks for it (with --last-name).
        #[arg(long, requires = "last_name")]
        first_name: Option<String>,
        /// Your last name (with --first-name).
        #[arg(long, requires = "first_name")]
        last_name: Option<String>,
    },
    /// Bring keys up to date (when online) and list them with their doors.
    Keys,
    /// Open a door over Bluetooth (works offline).
    Unlock {
        /// The door's name or id, as `keyway keys` shows it.
        door: String,
    },
    /// Carry the newest revocations and settings to a door without internet.
    Sync {
        /// The door's name or id.
        door: String,
    },
    /// Share doors of your key with a guest for a while.
    Share(commands::share::ShareArgs),
    /// List the keys you shared: guest, doors, window, status, and each share's id.
    Shares,
    /// Take back a share.
    RevokeShare {
        /// The share id, as `keyway shares` (or `keyway share`) prints it.
        share_id: i64,
    },
    /// As a guest: accept a shared-key link (sign in first with the address it was sent to).
    Redeem {
        /// The link from the share message.
        link: String,
    },
    /// Sign out and remove every key and secret from this computer.
    Logout,
    /// Show today's doorcode for a door, to type on its keypad.
    Doorcode {
        /// The door's name or id.
        door: String,
    },
    /// Show your profile: name, email, phone, card number, accounts (add names to change yours).
    Profile(commands::profile::ProfileArgs),
    /// Delete your account at the service and every key and secret on this computer.
    DeleteAccount {
        /// Confirm: this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

impl ClientCommand {
    fn uses_radio(&self) -> bool {
        matches!(self, Self::Unlock { .. } | Self::Sync { .. })
    }
}

async fn run_client(global: &Global, command: &ClientCommand, out: Output) -> Result<(), Failure> {
    let client = Client::open(global, command.uses_radio())?;
    use ClientCommand as Command;
    match command {
        Command::Login { address } => commands::login::run(&client, out, address).await,
        Command::Accept { link, first_name, last_name } => {
            let name = match (first_name, last_name) {
                (Some(f), Some(l)) => Some(keyway_core::PersonName { first_name: f.clone(), last_name: l.clone() }),
                _ => None,
            };
            commands::accept::run(&client, out, link, name).await
        }
        Command::Keys => commands::keys::run(&client, out).await,
        Command::Unlock { door } => commands::unlock::run(&client, out, door).await,
        Command::Sync { door } => commands::sync::run(&client, out, door).await,
        Command::Share(args) => commands::share::run(&client, out, args).await,
        Command::Shares => commands::shares::run(&client, out).await,
        Command::RevokeShare { share_id } => commands::share::revoke(&client, out, *share_id).await,
        Command::Redeem { link } => commands::redeem::run(&client, out, link).await,
        Command::Logout => commands::logout::run(&client, out).await,
        Command::Doorcode { door } => commands::doorcode::run(&client, out, door).await,
        Command::Profile(args) => commands::profile::run(&client, out, args).await,
        Command::DeleteAccount { yes } => commands::delete_account::run(&client, out, *yes).await,
    }
}

/// Runs `keyway` with this process's arguments: one command, its output, and the exit
/// code it documents (`keyway --help`).
pub fn main() -> std::process::ExitCode {
    // A bug must still end in one line, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("keyway: internal error{at}; please report it");
    }));
    let cli = Cli::parse();
    let out = Output::new(cli.global.json);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            out.failure(&Failure::new("runtime", Exit::Failed, format!("cannot start: {e}"), None));
            return Exit::Failed.into();
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    match runtime.block_on(run_client(&cli.global, &cli.command, out)) {
        Ok(()) => Exit::Ok.into(),
        Err(failure) => {
            out.failure(&failure);
            failure.exit.into()
        }
    }
}
