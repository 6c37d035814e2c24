//! How the core reaches the backend securely: the `https` rule for the backend URL, the
//! certificate verifier, and telling a refused certificate apart from being offline.
//!
//! Certificates are verified by rustls-platform-verifier, the same verifier reqwest uses
//! on a phone: the Security framework on iOS and macOS, the system's trust manager on
//! Android (after `KeywayTls.initPlatformVerifier`, see docs/bindings.md), the system's
//! roots with webpki on Linux. An app (or a test) may add its own roots, e.g. a company CA
//! or a per-run test CA; they are added to the platform's, never in place of verification.
//! Verification is never turned off.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use thiserror::Error;
use url::Url;

/// A configuration the core cannot run with: a mistake in the embedding app, not something
/// a person can fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ConfigError {
    /// The backend URL does not parse, or has no host.
    #[error("the backend URL is not a web address")]
    BackendUrlInvalid,
    /// The backend URL is not `https://` (plain HTTP is allowed only to a loopback address,
    /// and only with the development option `allow_plain_http_to_loopback`).
    #[error("the backend URL must start with https://")]
    BackendNotHttps,
    /// An extra trusted root is neither a PEM certificate nor DER that rustls accepts.
    #[error("extra trusted root {index} is not a certificate (PEM or DER)")]
    TrustedRootInvalid {
        /// Its position in the list, from 0.
        index: i32,
    },
    /// The platform's verifier could not start (on Android: not initialised from JNI).
    #[error("the certificate verifier could not start: {detail}")]
    VerifierUnavailable {
        /// Why, for the developer.
        detail: String,
    },
}

/// Who the core trusts, as the app configures it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSettings {
    /// Root certificates trusted in addition to the platform's, each PEM (one or more
    /// certificates) or DER.
    pub extra_roots: Vec<Vec<u8>>,
    /// Development only: allow an `http://` backend URL whose host is a loopback address
    /// (`127.0.0.0/8`, `::1`, `localhost`). Never set in a released app.
    pub allow_plain_http_to_loopback: bool,
}

/// Parses the backend URL and applies the `https` rule.
pub fn checked_backend_url(base: &str, trust: &TrustSettings) -> Result<Url, ConfigError> {
    let url = Url::parse(base).map_err(|_| ConfigError::BackendUrlInvalid)?;
    let host = url.host().ok_or(ConfigError::BackendUrlInvalid)?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if trust.allow_plain_http_to_loopback && is_loopback(&host) => Ok(url),
        _ => Err(ConfigError::BackendNotHttps),
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

/// A list position as the apps count (a signed 32-bit integer); no app passes 2³¹ roots.
fn position(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}

/// The extra roots, decoded, each checked to be a certificate webpki can use as a root.
fn parse_roots(inputs: &[Vec<u8>]) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let mut roots = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let invalid = || ConfigError::TrustedRootInvalid { index: position(index) };
        let certs = if input.trim_ascii_start().starts_with(b"-----BEGIN") {
            CertificateDer::pem_slice_iter(input).collect::<Result<Vec<_>, _>>().map_err(|_| invalid())?
        } else {
            vec![CertificateDer::from(input.clone())]
        };
        let mut check = rustls::RootCertStore::empty();
        for cert in &certs {
            check.add(cert.clone()).map_err(|_| invalid())?;
        }
        if certs.is_empty() {
            return Err(invalid());
        }
        roots.extend(certs);
    }
    Ok(roots)
}

/// The rustls client configuration: ring, the platform's verifier, the extra roots.
pub(crate) fn client_config(trust: &TrustSettings) -> Result<rustls::ClientConfig, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = parse_roots(&trust.extra_roots)?;
    let verifier = verifier(roots, provider.clone())?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::VerifierUnavailable { detail: e.to_string() })?
        .dangerous() // Only to plug in the platform's verifier; it verifies everything.
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // What reqwest offers by default: HTTP/2 where the server speaks it, else HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Desktops and iOS: the platform verifier takes extra roots itself.
#[cfg(not(target_os = "android"))]
fn verifier(
    roots: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, ConfigError> {
    let unavailable = |e: rustls::Error| ConfigError::VerifierUnavailable { detail: e.to_string() };
    let platform = if roots.is_empty() {
        rustls_platform_verifier::Verifier::new(provider)
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider)
    };
    Ok(Arc::new(platform.map_err(unavailable)?))
}

/// Android: the platform verifier has no extra roots, so a certificate the system does not
/// know is checked against the app's roots by webpki ([`WithExtraRoots`]).
#[cfg(target_os = "android")]
fn verifier(
    roots: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, ConfigError> {
    let unavailable = |e: rustls::Error| ConfigError::VerifierUnavailable { detail: e.to_string() };
    let platform = Arc::new(rustls_platform_verifier::Verifier::new(provider.clone()).map_err(unavailable)?);
    if roots.is_empty() {
        return Ok(platform);
    }
    Ok(Arc::new(WithExtraRoots::new(platform, roots, provider)?))
}

/// A verifier that asks the platform first and, only when the platform does not know the
/// issuer, checks the chain against the app's extra roots (webpki: signatures, validity
/// dates, host name). Every other refusal by the platform stands.
#[derive(Debug)]
pub(crate) struct WithExtraRoots {
    platform: Arc<dyn ServerCertVerifier>,
    extra: Arc<rustls::client::WebPkiServerVerifier>,
}

impl WithExtraRoots {
    #[cfg_attr(not(any(test, target_os = "android")), allow(dead_code))]
    pub(crate) fn new(
        platform: Arc<dyn ServerCertVerifier>,
        roots: Vec<CertificateDer<'static>>,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, ConfigError> {
        let mut store = rustls::RootCertStore::empty();
        for (index, root) in roots.into_iter().enumerate() {
            store.add(root).map_err(|_| ConfigError::TrustedRootInvalid { index: position(index) })?;
        }
        let extra = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
            .build()
            .map_err(|e| ConfigError::VerifierUnavailable { detail: e.to_string() })?;
        Ok(Self { platform, extra })
    }
}

impl ServerCertVerifier for WithExtraRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.platform.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {
                self.extra.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.extra.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.extra.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.extra.supported_verify_schemes()
    }
}

/// Whether a failed request failed in the TLS handshake (a certificate refused, or TLS
/// spoken wrongly), as opposed to a network that is not there.
pub(crate) fn is_tls_failure(e: &reqwest::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = next {
        if error.is::<rustls::Error>() {
            return true;
        }
        // An io::Error's `source()` skips the error it wraps: step into that one instead.
        next = match error.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner),
            None => error.source(),
        };
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn settings(loopback_http: bool) -> TrustSettings {
        TrustSettings { extra_roots: Vec::new(), allow_plain_http_to_loopback: loopback_http }
    }

    #[test]
    fn an_http_backend_is_refused_even_on_loopback_without_the_development_option() {
        for url in ["http://api.example.com/", "http://127.0.0.1:8080/", "http://localhost/", "http://[::1]/"] {
            assert_eq!(checked_backend_url(url, &settings(false)), Err(ConfigError::BackendNotHttps), "{url}");
        }
    }

    #[test]
    fn the_development_option_allows_http_to_loopback_only() {
        for url in ["http://127.0.0.1:8080/", "http://localhost:1/", "http://[::1]:9/", "http://127.9.9.9/"] {
            assert!(checked_backend_url(url, &settings(true)).is_ok(), "{url}");
        }
        for url in ["http://10.0.0.2/", "http://api.example.com/", "http://localhost.example.com/"] {
            assert_eq!(checked_backend_url(url, &settings(true)), Err(ConfigError::BackendNotHttps), "{url}");
        }
        assert_eq!(checked_backend_url("ftp://127.0.0.1/", &settings(true)), Err(ConfigError::BackendNotHttps));
    }

    #[test]
    fn an_https_backend_is_accepted_and_garbage_is_invalid() {
        assert!(checked_backend_url("https://api.example.com/", &settings(false)).is_ok());
        assert_eq!(checked_backend_url("api.example.com", &settings(false)), Err(ConfigError::BackendUrlInvalid));
    }

    /// A CA and a leaf it signs for `host`, expired or not.
    fn ca_and_leaf(host: &str, expired: bool) -> (CertificateDer<'static>, CertificateDer<'static>) {
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        // Each CA its own name: webpki finds a leaf's issuer by name.
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ca.distinguished_name.push(rcgen::DnType::CommonName, format!("test CA {n}"));
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let mut leaf = rcgen::CertificateParams::new(vec![host.to_owned()]).unwrap();
        if expired {
            leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
            leaf.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let leaf_cert = leaf.signed_by(&rcgen::KeyPair::generate().unwrap(), &issuer).unwrap();
        (ca_cert.der().clone(), leaf_cert.der().clone())
    }

    /// The Android arrangement, with webpki over an unrelated root standing in for the
    /// platform (which knows nothing of the app's CA).
    fn with_extra_root(root: CertificateDer<'static>) -> WithExtraRoots {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (unrelated, _) = ca_and_leaf("elsewhere.test", false);
        let mut store = rustls::RootCertStore::empty();
        store.add(unrelated).unwrap();
        let platform = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
            .build()
            .unwrap();
        WithExtraRoots::new(platform, vec![root], provider).unwrap()
    }

    fn verify(verifier: &WithExtraRoots, leaf: &CertificateDer<'_>, host: &str) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        verifier.verify_server_cert(leaf, &[], &name, &[], UnixTime::now()).map(|_| ())
    }

    #[test]
    fn the_extra_root_is_asked_only_when_the_platform_does_not_know_the_issuer() {
        let (root, leaf) = ca_and_leaf("api.keyway.test", false);
        let verifier = with_extra_root(root);
        assert_eq!(verify(&verifier, &leaf, "api.keyway.test"), Ok(()));
        // The extra root still checks the host and the dates.
        assert!(matches!(
            verify(&verifier, &leaf, "other.keyway.test"),
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext { .. }))
        ));
        let (expired_root, expired) = ca_and_leaf("api.keyway.test", true);
        assert!(matches!(
            verify(&with_extra_root(expired_root), &expired, "api.keyway.test"),
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ExpiredContext { .. }))
        ));
        // A leaf from a CA neither trusts is refused.
        let (_, stranger) = ca_and_leaf("api.keyway.test", false);
        assert!(matches!(
            verify(&verifier, &stranger, "api.keyway.test"),
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer))
        ));
    }

    #[test]
    fn a_trusted_root_that_is_not_a_certificate_is_refused_with_its_position() {
        let pem_without_certificate = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec();
        let trust = TrustSettings { extra_roots: vec![pem_without_certificate], allow_plain_http_to_loopback: false };
        assert_eq!(client_config(&trust).err(), Some(ConfigError::TrustedRootInvalid { index: 0 }));
    }
}
