//! The link pages in a real browser: Debian's Chromium, headless, loads a live invitation,
//! an expired one and a garbage link from the real HTTPS server, and for each dumps the
//! DOM it rendered (whose visible text is checked) and takes a screenshot (a PNG of the
//! window's size is checked for). Screenshots are kept in
//! `target/tmp/landing_page_screenshots/` to look at (docs/backend.md says how).
//!
//! Chromium trusts the run's test CA the way a person's browser would trust a company CA:
//! it is added to the NSS certificate database of a throw-away home folder (`certutil`),
//! so no certificate error is ignored. Chromium and certutil come from Debian
//! (`chromium`, `libnss3-tools`; scripts/lib/setup.sh installs both); the test fails, saying
//! so, if they are missing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use keyway_backend::landing::AppLinks;

/// A phone-sized window.
const WIDTH: u32 = 412;
const HEIGHT: u32 = 915;

/// A throw-away browser set-up under the cargo target folder.
struct Browser {
    home: PathBuf,
    shots: PathBuf,
}

impl Browser {
    /// A fresh home whose NSS database trusts `ca_pem` for websites.
    fn trusting(ca_pem: &str) -> Self {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let home = tmp.join(format!("landing_page_chromium_home_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        let nssdb = home.join(".pki/nssdb");
        std::fs::create_dir_all(&nssdb).unwrap();
        let ca = home.join("test-ca.pem");
        std::fs::write(&ca, ca_pem).unwrap();
        let db = format!("sql:{}", nssdb.display());
        run_certutil(&["-d", &db, "-N", "--empty-password"]);
        // "C,,": a CA trusted to issue server certificates, and nothing else.
        run_certutil(&["-d", &db, "-A", "-n", "Keyway test CA", "-t", "C,,", "-i", &ca.display().to_string()]);
        let shots = tmp.join("landing_page_screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Self { home, shots }
    }

    /// Loads `url`, saves a screenshot as `<name>.png`, and returns the rendered DOM and
    /// what Chromium logged.
    async fn visit(&self, url: &str, name: &str) -> (String, String, PathBuf) {
        let shot = self.shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        let profile = self.home.join(format!("profile-{name}"));
        // Output goes to files, read once Chromium has exited (nothing can fill a pipe).
        let dom_file = self.home.join(format!("{name}.dom.html"));
        let log_file = self.home.join(format!("{name}.log"));
        let mut child = std::process::Command::new("chromium")
            .env("HOME", &self.home)
            .args([
                "--headless",
                // Chromium's sandbox needs user namespaces, which a container (and root)
                // does not give it: as root it refuses to start without this flag. The page
                // is our own, served from loopback.
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--window-size={WIDTH},{HEIGHT}"))
            .arg(format!("--screenshot={}", shot.display()))
            .arg("--dump-dom")
            .arg(url)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&dom_file).unwrap())
            .stderr(std::fs::File::create(&log_file).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run chromium (scripts/lib/setup.sh installs Debian's chromium): {e}"));
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(90) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish {name} within 90 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let stderr = std::fs::read_to_string(&log_file).unwrap_or_default();
        assert!(status.success(), "chromium failed on {name}: {status}\n{stderr}");
        (std::fs::read_to_string(&dom_file).unwrap(), stderr, shot)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn run_certutil(args: &[&str]) {
    let out = std::process::Command::new("certutil")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run certutil (scripts/lib/setup.sh installs libnss3-tools): {e}"));
    assert!(out.status.success(), "certutil {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The text a person sees: the body without tags, entities decoded, spaces collapsed.
fn visible_text(dom: &str) -> String {
    let body = dom.split("<body>").nth(1).unwrap_or("");
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks the file is a PNG of the window's size with more in it than a blank page.
fn assert_screenshot(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", path.display());
    // The IHDR chunk comes first: width and height, big-endian, at bytes 16..24.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (WIDTH, HEIGHT), "{}", path.display());
    assert!(bytes.len() > 10_000, "{} is only {} bytes: a blank page?", path.display(), bytes.len());
}

#[tokio::test]
async fn landing_page_in_headless_chromium_shows_a_live_an_expired_and_a_garbage_link() {
    let apps = AppLinks::default()
        .with_app_store_url("https://apps.apple.com/app/keyway/id123456789")
        .and_then(|a| a.with_play_store_url("https://play.google.com/store/apps/details?id=app.keyway.members"))
        .unwrap();
    let s = Server::start_with(apps).await;
    let f = fixture(&s, "Acme Fitness", 1).await;
    invite(&s, &f, "old@example.com").await;
    let expired = token_of(&s.last_link("old@example.com", "invitation").await);
    s.clock.advance(DAY + 1);
    invite(&s, &f, "ada@example.com").await;
    let live = token_of(&s.last_link("ada@example.com", "invitation").await);
    let browser = Browser::trusting(s.ca_pem());

    let (dom, log, shot) = browser.visit(&format!("{}/invite/{live}", s.base), "live_invitation").await;
    let text = visible_text(&dom);
    for seen in [
        "Your invitation to Riverside Gym",
        "Acme Fitness invited you to Riverside Gym",
        "Role member",
        "All doors : Back gate, Front door",
        "Open in the app",
        "Download on the App Store",
        "Get it on Google Play",
    ] {
        assert!(text.contains(seen), "{seen:?} not on the page: {text}");
    }
    assert_screenshot(&shot);
    // The inline style ran under the page's policy: Chromium logs any refused source.
    assert!(!log.contains("Content Security Policy"), "the policy refused something:\n{log}");

    let (dom, log, shot) = browser.visit(&format!("{}/invite/{expired}", s.base), "expired_invitation").await;
    let text = visible_text(&dom);
    assert!(text.contains("This invitation has expired"), "{text}");
    assert!(text.contains("ask your administrator to send a new one"), "{text}");
    assert!(!text.contains("Acme") && !text.contains("Riverside") && !text.contains("Open in the app"), "{text}");
    assert_screenshot(&shot);
    assert!(!log.contains("Content Security Policy"), "{log}");

    let (dom, _, shot) = browser.visit(&format!("{}/invite/not-a-real-token", s.base), "garbage_link").await;
    let text = visible_text(&dom);
    assert!(text.contains("This link does not work"), "{text}");
    assert!(!text.contains("not-a-real-token"), "{text}");
    assert_screenshot(&shot);

    // The JSON preview agrees the expired link is dead (the page and the app read one lookup).
    s.send("GET", &format!("/v1/invitations/{expired}"), None, None).await.err(410, "invitation_expired");
}
