//! `keyway-backend`: `serve` runs the service (HTTPS); `admin …` drives its admin API;
//! `dev-certs` makes a throw-away CA and loopback certificate; `openapi` prints the
//! OpenAPI document.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use keyway_backend::admin_cli::{self, AdminCommand};
use keyway_backend::clock::SystemClock;
use keyway_backend::db::Db;
use keyway_backend::{AppState, Config};

#[derive(Debug, Parser)]
#[command(name = "keyway-backend", about = "The reference Keyway cloud service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How `serve` talks: HTTPS with a certificate, or (development only) plain HTTP.
#[derive(Debug, clap::Args)]
struct Transport {
    /// The server's certificate chain, PEM (server certificate first).
    #[arg(long, env = "KEYWAY_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The server's private key, PEM.
    #[arg(long, env = "KEYWAY_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Development only: serve plain HTTP, no TLS. Phones refuse it; use it only on loopback
    /// or behind a TLS-terminating proxy on the same host.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    insecure_plain_http: bool,
}

/// `serve`'s options.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// SQLite file, or `:memory:`.
    #[arg(long, default_value = "keyway.sqlite")]
    db: String,
    /// Address to listen on; port 0 picks a free one (the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Host name used in invitation and share links.
    #[arg(long, env = "KEYWAY_PUBLIC_HOST", default_value = "keyway.example")]
    public_host: String,
    /// File holding the admin token (created with a random token if missing).
    /// Default: `<db>.admin-token`, or a file in the temp directory for `:memory:`.
    #[arg(long)]
    admin_token_file: Option<PathBuf>,
    /// File holding the server secret (created if missing). Default: `<db>.secret`;
    /// a random in-memory secret for `:memory:`.
    #[arg(long)]
    secret_file: Option<PathBuf>,
    #[command(flatten)]
    transport: Transport,
    #[command(flatten)]
    push: keyway_backend::push::args::PushArgs,
    #[command(flatten)]
    delivery: keyway_backend::delivery::config::DeliveryArgs,
    #[command(flatten)]
    app_links: keyway_backend::landing::AppLinkFlags,
    /// A reverse proxy in front of the service whose forwarded client address is believed
    /// for the sign-in limits: an address or a block (`10.0.0.0/8`); repeat it or separate
    /// with commas. Only requests from these peers have their header read.
    #[arg(long = "trusted-proxy", env = "KEYWAY_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<keyway_backend::client_address::AddressBlock>,
    /// The header the trusted proxies write the client's address in.
    #[arg(long, env = "KEYWAY_CLIENT_ADDRESS_HEADER", value_enum, default_value = "x-forwarded-for")]
    client_address_header: keyway_backend::client_address::ForwardingHeader,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service over HTTPS (`--tls-cert`, `--tls-key`).
    Serve(Box<ServeArgs>),
    /// Write a throw-away CA (`ca.pem`) and a loopback server certificate (`server.pem`,
    /// `server.key`) for development and tests. The CA's key is not kept.
    DevCerts {
        /// Folder for the three files (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Operator commands against a running service's admin API.
    Admin {
        /// Base URL of the service.
        #[arg(long, env = "KEYWAY_URL", default_value = "https://localhost:8080")]
        url: String,
        /// A PEM file of extra CA certificates to trust (e.g. `dev-certs`' `ca.pem`).
        #[arg(long, env = "KEYWAY_CA_FILE")]
        ca_file: Option<PathBuf>,
        /// File holding the admin token.
        #[arg(long, env = "KEYWAY_ADMIN_TOKEN_FILE")]
        token_file: PathBuf,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
}

fn random_hex(n: usize) -> Result<String, String> {
    use ring::rand::SecureRandom as _;
    let mut b = vec![0u8; n];
    ring::rand::SystemRandom::new().fill(&mut b).map_err(|_| "random source failed".to_string())?;
    Ok(hex::encode(b))
}

/// Reads a secret file, creating it (owner-only) with a fresh random value if it is missing.
fn read_or_create(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    }
    let value = random_hex(32)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    writeln!(f, "{value}").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(value)
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let ServeArgs {
        db: db_path,
        listen,
        public_host,
        admin_token_file,
        secret_file,
        transport,
        push,
        delivery,
        app_links,
        trusted_proxies,
        client_address_header,
    } = args;
    let trusted_proxies =
        keyway_backend::client_address::TrustedProxies { blocks: trusted_proxies, header: client_address_header };
    let app_links = app_links.into_app_links().map_err(|e| e.to_string())?;
    // Read the certificate before anything else: a bad file fails before a port is taken.
    let tls = match (&transport.tls_cert, &transport.tls_key) {
        (Some(cert), Some(key)) => {
            Some(keyway_backend::tls::TlsIdentity::from_files(cert, key).map_err(|e| e.to_string())?)
        }
        _ if transport.insecure_plain_http => None,
        _ => {
            return Err("serve needs --tls-cert and --tls-key (HTTPS; `keyway-backend dev-certs` makes a pair \
                        for trying it out), or --insecure-plain-http for development"
                .into());
        }
    };
    // Senders next: a bad SMTP or SMS setting fails before anything is queued.
    let delivery = delivery.load(&public_host).map_err(|e| e.to_string())?;
    let push = push.config()?;
    let push_senders =
        push.map(|c| keyway_backend::push::sender::Senders::new(&c).map_err(|e| e.to_string())).transpose()?;
    let in_memory = db_path == ":memory:";
    let secret = match (secret_file, in_memory) {
        (Some(p), _) => read_or_create(&p)?,
        (None, false) => read_or_create(&PathBuf::from(format!("{db_path}.secret")))?,
        (None, true) => random_hex(32)?,
    };
    let token_path = match (admin_token_file, in_memory) {
        (Some(p), _) => p,
        (None, false) => PathBuf::from(format!("{db_path}.admin-token")),
        (None, true) => std::env::temp_dir().join(format!("keyway-backend-{}.admin-token", std::process::id())),
    };
    let admin_token = read_or_create(&token_path)?;
    let db = Db::open(&db_path).map_err(|e| format!("cannot open the database: {e}"))?;
    let config = Config { public_host, admin_token, server_secret: secret.into_bytes(), app_links, trusted_proxies };
    let state = AppState::with_delivery(db, Arc::new(SystemClock), &config, delivery).map_err(|e| e.to_string())?;
    let started = match &tls {
        Some(tls) => keyway_backend::start_tls(state, &listen, tls).await,
        None => keyway_backend::start(state, &listen).await,
    };
    let server = started.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let _push_task = push_senders.map(|s| keyway_backend::push::sender::spawn(server.state.clone(), s));
    let scheme = if tls.is_some() { "https" } else { "http" };
    if tls.is_none() {
        eprintln!("WARNING: --insecure-plain-http: serving PLAIN HTTP with no TLS. Development only;");
        eprintln!("WARNING: phones refuse http:// backends. Never expose this port to a network.");
    }
    // The first line is for scripts and tests: the bound address. Whoever started the
    // service may read that line and close the pipe: a write that fails then must not
    // stop the service (println! would panic), so these lines ignore write errors.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {scheme}://{}", server.addr);
    let _ = writeln!(out, "admin token file: {}", token_path.display());
    let _ = out.flush();
    drop(out);
    tokio::select! {
        _ = server.task => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::DevCerts { out } => keyway_backend::dev_certs::write_dev_certs(&out)
            .map(|files| {
                println!("CA certificate (trust it in clients): {}", files.ca.display());
                println!("server certificate (--tls-cert): {}", files.cert.display());
                println!("server key (--tls-key): {}", files.key.display());
            })
            .map_err(|e| e.to_string()),
        Command::Admin { url, ca_file, token_file, command } => match std::fs::read_to_string(&token_file) {
            Ok(token) => admin_cli::run(&url, ca_file.as_deref(), token.trim(), command).await.map(|v| {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            }),
            Err(e) => Err(format!("cannot read {}: {e}", token_file.display())),
        },
        Command::Openapi => {
            print!("{}", keyway_backend::openapi::document_json());
            Ok(())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
