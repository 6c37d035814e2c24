//! Throw-away certificates for development and tests: a certificate authority made fresh
//! for each run and server certificates it signs, all with `rcgen` on ring (ECDSA P-256).
//!
//! This is the one place test certificates are made. The journeys, the CLI tests and
//! `keyway-sandbox demo` call it in-process; the Kotlin tests (and anyone trying the service by
//! hand) get the same files from `keyway-backend dev-certs --out DIR`. The CA's private
//! key never leaves memory: nothing can be signed by it after the run.
//!
//! Besides the good certificate, it makes the bad ones a client must refuse: one for
//! another host name, one that has expired, and (from a second CA) one nobody trusts.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// Why certificates could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum DevCertError {
    /// rcgen refused the parameters or failed to sign.
    #[error("cannot make the certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The files could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The host names (and addresses) a development server certificate covers: loopback.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A server's certificate chain and private key, both PEM.
#[derive(Clone)]
pub struct ServerIdentity {
    /// The server certificate, then the CA certificate that signed it.
    pub chain_pem: String,
    /// The server's private key (PKCS#8).
    pub key_pem: String,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").finish_non_exhaustive()
    }
}

/// How long a server certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From 1975 to 4096 (rcgen's default): valid whatever the test clock says.
    Current,
    /// All of 2020: expired by now.
    Expired,
}

/// A certificate authority that exists for one run.
pub struct DevCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl std::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCa").finish_non_exhaustive()
    }
}

impl DevCa {
    /// A fresh CA called `name`.
    pub fn new(name: &str) -> Result<Self, DevCertError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key)?;
        Ok(Self { issuer: Issuer::new(params, key), cert_pem: cert.pem() })
    }

    /// The CA certificate, PEM: what a client adds as an extra trusted root.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed by this CA.
    pub fn issue(&self, names: &[&str], validity: Validity) -> Result<ServerIdentity, DevCertError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("server"));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        if validity == Validity::Expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(ServerIdentity { chain_pem: format!("{}{}", cert.pem(), self.cert_pem), key_pem: key.serialize_pem() })
    }

    /// A current server certificate for the loopback names ([`LOOPBACK_NAMES`]).
    pub fn issue_loopback(&self) -> Result<ServerIdentity, DevCertError> {
        self.issue(&LOOPBACK_NAMES, Validity::Current)
    }
}

/// The files `keyway-backend dev-certs` writes.
#[derive(Debug, Clone)]
pub struct DevCertFiles {
    /// The CA certificate (give it to clients as an extra root, e.g. `keyway --ca-file`).
    pub ca: PathBuf,
    /// The server's certificate chain (`serve --tls-cert`).
    pub cert: PathBuf,
    /// The server's private key (`serve --tls-key`), mode 600.
    pub key: PathBuf,
}

/// Makes a fresh CA and a loopback server certificate, and writes `ca.pem`,
/// `server.pem` and `server.key` into `dir` (created if missing).
pub fn write_dev_certs(dir: &Path) -> Result<DevCertFiles, DevCertError> {
    let ca = DevCa::new("Keyway development CA")?;
    let server = ca.issue_loopback()?;
    let files = DevCertFiles { ca: dir.join("ca.pem"), cert: dir.join("server.pem"), key: dir.join("server.key") };
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DevCertError + '_ {
        move |source| DevCertError::Write { path: path.to_owned(), source }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::write(&files.ca, ca.cert_pem()).map_err(io(&files.ca))?;
    std::fs::write(&files.cert, &server.chain_pem).map_err(io(&files.cert))?;
    write_private(&files.key, &server.key_pem).map_err(io(&files.key))?;
    Ok(files)
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(contents.as_bytes())
}
