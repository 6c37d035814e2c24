//! What the link pages and the `.well-known` files are built from: where the apps are
//! downloaded, and which iOS and Android apps may open this host's links. Every part is
//! optional; a part left out drops its button or makes its file a 404. Each value is
//! checked when the service starts, so a typo fails `serve` instead of breaking links.

/// Why an app-link setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppLinksError {
    /// A store address is not an absolute `https://` URL without user or password.
    #[error("{flag} must be an https:// address, e.g. https://apps.apple.com/app/id123456789")]
    NotHttpsUrl {
        /// The flag that carried it.
        flag: &'static str,
    },
    /// An iOS app id is not `<Team ID>.<bundle id>` (ten capital letters or digits, a dot,
    /// then the bundle id).
    #[error("--ios-app-id must be <Team ID>.<bundle id>, e.g. ABCDE12345.app.keyway.members")]
    InvalidIosAppId,
    /// The Android package name is not a Java-style dotted name of two parts or more.
    #[error("--android-package must be a package name such as app.keyway.members")]
    InvalidAndroidPackage,
    /// A certificate fingerprint is not 32 bytes of hex (colons between bytes allowed).
    #[error("--android-cert-sha256 must be a SHA-256 fingerprint: 32 hex bytes, e.g. AB:CD:…")]
    InvalidFingerprint,
    /// An Android package was given without the fingerprint of its signing certificate,
    /// or fingerprints without a package.
    #[error("--android-package and --android-cert-sha256 go together")]
    AndroidIncomplete,
}

/// The Android app that may open this host's links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndroidApp {
    package: String,
    cert_sha256: Vec<String>,
}

impl AndroidApp {
    /// The application id (package name).
    pub fn package(&self) -> &str {
        &self.package
    }

    /// SHA-256 fingerprints of the app's signing certificates, `AB:CD:…` upper case.
    pub fn cert_sha256(&self) -> &[String] {
        &self.cert_sha256
    }
}

/// The app stores and app identities the link pages and `.well-known` files use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppLinks {
    app_store_url: Option<String>,
    play_store_url: Option<String>,
    ios_app_ids: Vec<String>,
    android: Option<AndroidApp>,
}

impl AppLinks {
    /// Where the iOS app is downloaded (the App Store button).
    pub fn with_app_store_url(mut self, url: &str) -> Result<Self, AppLinksError> {
        self.app_store_url = Some(https_url(url, "--app-store-url")?);
        Ok(self)
    }

    /// Where the Android app is downloaded (the Google Play button).
    pub fn with_play_store_url(mut self, url: &str) -> Result<Self, AppLinksError> {
        self.play_store_url = Some(https_url(url, "--play-store-url")?);
        Ok(self)
    }

    /// An iOS app (`<Team ID>.<bundle id>`) that may open the links (universal links).
    pub fn with_ios_app_id(mut self, app_id: &str) -> Result<Self, AppLinksError> {
        let app_id = app_id.trim();
        if !is_ios_app_id(app_id) {
            return Err(AppLinksError::InvalidIosAppId);
        }
        self.ios_app_ids.push(app_id.to_owned());
        Ok(self)
    }

    /// The Android app that may open the links (App Links), with the SHA-256 fingerprints
    /// of the certificates it is signed with (for Play App Signing: the one Play shows).
    pub fn with_android_app(mut self, package: &str, cert_sha256: &[String]) -> Result<Self, AppLinksError> {
        let package = package.trim();
        if !is_android_package(package) {
            return Err(AppLinksError::InvalidAndroidPackage);
        }
        if cert_sha256.is_empty() {
            return Err(AppLinksError::AndroidIncomplete);
        }
        let cert_sha256 = cert_sha256.iter().map(|f| fingerprint(f)).collect::<Result<_, _>>()?;
        self.android = Some(AndroidApp { package: package.to_owned(), cert_sha256 });
        Ok(self)
    }

    /// The App Store address, if configured.
    pub fn app_store_url(&self) -> Option<&str> {
        self.app_store_url.as_deref()
    }

    /// The Google Play address, if configured.
    pub fn play_store_url(&self) -> Option<&str> {
        self.play_store_url.as_deref()
    }

    /// The iOS apps that may open the links (none: no apple-app-site-association).
    pub fn ios_app_ids(&self) -> &[String] {
        &self.ios_app_ids
    }

    /// The Android app that may open the links (none: no assetlinks.json).
    pub fn android(&self) -> Option<&AndroidApp> {
        self.android.as_ref()
    }
}

/// `serve`'s flags for [`AppLinks`] (each also read from its environment variable).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AppLinkFlags {
    /// App Store address of the iOS app, for the invitation and share pages' button.
    #[arg(long, env = "KEYWAY_APP_STORE_URL")]
    pub app_store_url: Option<String>,
    /// Google Play address of the Android app, for the pages' button.
    #[arg(long, env = "KEYWAY_PLAY_STORE_URL")]
    pub play_store_url: Option<String>,
    /// iOS app allowed to open the links, `<Team ID>.<bundle id>` (repeat, or comma-separate
    /// in the variable); served in /.well-known/apple-app-site-association.
    #[arg(long = "ios-app-id", env = "KEYWAY_IOS_APP_IDS", value_delimiter = ',')]
    pub ios_app_ids: Vec<String>,
    /// Android package allowed to open the links; served in /.well-known/assetlinks.json.
    #[arg(long, env = "KEYWAY_ANDROID_PACKAGE", requires = "android_cert_sha256")]
    pub android_package: Option<String>,
    /// SHA-256 fingerprint of the Android app's signing certificate (repeat, or
    /// comma-separate in the variable).
    #[arg(long, env = "KEYWAY_ANDROID_CERT_SHA256", value_delimiter = ',', requires = "android_package")]
    pub android_cert_sha256: Vec<String>,
}

impl AppLinkFlags {
    /// Checks every value and builds the configuration.
    pub fn into_app_links(self) -> Result<AppLinks, AppLinksError> {
        let mut links = AppLinks::default();
        if let Some(url) = &self.app_store_url {
            links = links.with_app_store_url(url)?;
        }
        if let Some(url) = &self.play_store_url {
            links = links.with_play_store_url(url)?;
        }
        for id in &self.ios_app_ids {
            links = links.with_ios_app_id(id)?;
        }
        match &self.android_package {
            Some(package) => links.with_android_app(package, &self.android_cert_sha256),
            None if self.android_cert_sha256.is_empty() => Ok(links),
            None => Err(AppLinksError::AndroidIncomplete),
        }
    }
}

fn https_url(text: &str, flag: &'static str) -> Result<String, AppLinksError> {
    let url = reqwest::Url::parse(text.trim()).map_err(|_| AppLinksError::NotHttpsUrl { flag })?;
    let plain = url.username().is_empty() && url.password().is_none();
    if url.scheme() != "https" || url.host_str().is_none() || !plain {
        return Err(AppLinksError::NotHttpsUrl { flag });
    }
    Ok(url.to_string())
}

fn is_ios_app_id(id: &str) -> bool {
    let Some((team, bundle)) = id.split_once('.') else { return false };
    team.len() == 10
        && team.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && !bundle.is_empty()
        && bundle.split('.').all(|part| !part.is_empty())
        && bundle.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn is_android_package(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            p.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

/// `ab:cd…` or `abcd…` (64 hex digits) as `AB:CD:…`, the form assetlinks.json uses.
fn fingerprint(text: &str) -> Result<String, AppLinksError> {
    let digits: String = text.trim().chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(&digits).map_err(|_| AppLinksError::InvalidFingerprint)?;
    if bytes.len() != 32 {
        return Err(AppLinksError::InvalidFingerprint);
    }
    Ok(bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_addresses_must_be_https() {
        let links = AppLinks::default();
        assert!(links.clone().with_app_store_url("https://apps.apple.com/app/id123456789").is_ok());
        for bad in ["http://apps.apple.com/app/id1", "javascript:alert(1)", "apps.apple.com", "https://u:p@x.test/"] {
            assert_eq!(
                links.clone().with_play_store_url(bad),
                Err(AppLinksError::NotHttpsUrl { flag: "--play-store-url" }),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_ios_app_id_is_a_team_id_and_a_bundle_id() {
        assert!(is_ios_app_id("ABCDE12345.app.keyway.members"));
        for bad in ["abcde12345.app.keyway", "ABCDE1234.app", "ABCDE12345.", "ABCDE12345", "ABCDE12345.a..b", "X/Y"] {
            assert!(!is_ios_app_id(bad), "{bad}");
        }
    }

    #[test]
    fn an_android_package_is_a_dotted_name() {
        assert!(is_android_package("app.keyway.members"));
        for bad in ["keyway", "app..keyway", "1app.keyway", "app.keyway-x", ""] {
            assert!(!is_android_package(bad), "{bad}");
        }
    }

    #[test]
    fn fingerprints_are_written_the_way_assetlinks_wants_them() {
        let hex64 = "ab".repeat(32);
        let want = vec!["AB"; 32].join(":");
        assert_eq!(fingerprint(&hex64), Ok(want.clone()));
        assert_eq!(fingerprint(&want.to_lowercase()), Ok(want));
        assert_eq!(fingerprint("AB:CD"), Err(AppLinksError::InvalidFingerprint));
        assert_eq!(fingerprint(&"zz".repeat(32)), Err(AppLinksError::InvalidFingerprint));
    }

    #[test]
    fn an_android_app_needs_its_certificate() {
        let flags = AppLinkFlags { android_cert_sha256: vec!["ab".repeat(32)], ..AppLinkFlags::default() };
        assert_eq!(flags.into_app_links(), Err(AppLinksError::AndroidIncomplete));
        assert_eq!(AppLinks::default().with_android_app("app.keyway", &[]), Err(AppLinksError::AndroidIncomplete));
    }
}
