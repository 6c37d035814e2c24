//! The pages a link opens in a browser (on a phone without the app, or on a computer):
//! what a live invitation or share gives, how to open it in the app or get the app, and,
//! for a link that no longer works, why — without a word about whom or what it was for.

use super::app_links::AppLinks;
use super::dates;
use super::html::{Html, document};
use crate::error::Error;
use keyway_api::{InvitationPreview, SharePreview};

/// A live invitation: organisation, facility, role, start, and the keys that come with it
/// (or that it gives no access yet); then the app.
pub fn invitation(p: &InvitationPreview, link: &str, apps: &AppLinks) -> String {
    let title = format!("Your invitation to {}", p.facility);
    let mut body = Html::tag_text("h1", &title);
    body.push(Html::tag_text(
        "p",
        &format!("{} invited you to {} on Keyway, the app that opens your doors.", p.organisation, p.facility),
    ));
    body.push(Html::element(
        "dl",
        &[("class", "card")],
        Html::concat([
            detail("Organisation", &p.organisation),
            detail("Facility", &p.facility),
            detail("Role", &p.role),
            detail("Access starts", &dates::utc(p.access_start)),
            detail("This link works until", &dates::utc(p.expires_at)),
        ]),
    ));
    body.push(Html::tag_text("h2", "Doors"));
    if p.keys.is_empty() {
        body.push(Html::element(
            "p",
            &[("class", "card")],
            Html::text(
                "No access yet: this invitation does not open any door by itself. Your administrator adds \
                 keys separately, and the app shows them as soon as they do.",
            ),
        ));
    } else {
        let keys = p.keys.iter().map(|k| {
            Html::concat([
                Html::tag_text("strong", &k.name),
                Html::text(&format!(
                    ": {}. From {} until {}.",
                    k.doors.join(", "),
                    dates::utc(k.starts_at),
                    dates::utc(k.expires_at)
                )),
            ])
        });
        body.push(Html::element("ul", &[("class", "card")], Html::concat(keys.map(|k| Html::tag("li", k)))));
    }
    body.push(open_in_the_app(link, apps));
    document(&title, body)
}

/// A live share: who shared which doors of which place, for when; then the app.
pub fn share(p: &SharePreview, link: &str, apps: &AppLinks) -> String {
    let sharer = p.shared_by.as_deref().unwrap_or("A member");
    let title = format!("{sharer} shared a key with you");
    let mut body = Html::tag_text("h1", &title);
    body.push(Html::tag_text("p", &format!("A guest key for {} at {}.", p.facility, p.organisation)));
    body.push(Html::element(
        "dl",
        &[("class", "card")],
        Html::concat([
            detail("Shared by", sharer),
            detail("Place", &format!("{}, {}", p.facility, p.organisation)),
            detail("Doors", &p.doors.join(", ")),
            detail("From", &dates::utc(p.starts_at)),
            detail("Until", &dates::utc(p.ends_at)),
            detail("Accept it before", &dates::utc(p.link_expires_at)),
        ]),
    ));
    body.push(open_in_the_app(link, apps));
    document(&title, body)
}

/// Why a link does not work, as a page: its HTTP status, heading and the error's own
/// sentence for people. Gone links (expired, replaced, cancelled, used, revoked) are 410;
/// links that never existed 404; anything else is our fault (500).
pub fn dead_link(e: &Error) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode as S;
    let (status, heading) = match e {
        Error::InvitationNotFound | Error::ShareNotFound | Error::NotFound(_) => {
            (S::NOT_FOUND, "This link does not work")
        }
        Error::InvitationExpired => (S::GONE, "This invitation has expired"),
        Error::InvitationSuperseded => (S::GONE, "A newer invitation was sent"),
        Error::InvitationCancelled => (S::GONE, "This invitation was cancelled"),
        Error::InvitationAlreadyUsed => (S::GONE, "This invitation was already accepted"),
        Error::ShareExpired => (S::GONE, "This shared key has expired"),
        Error::ShareRevoked => (S::GONE, "This shared key was revoked"),
        Error::ShareAlreadyRedeemed => (S::GONE, "This shared key was already accepted"),
        _ => (S::INTERNAL_SERVER_ERROR, "Something went wrong"),
    };
    let sentence = match e {
        Error::InvitationNotFound | Error::ShareNotFound | Error::NotFound(_) => {
            "Check that you opened the whole link from your message. If it still does not work, ask for a new one."
                .to_owned()
        }
        Error::Internal(_) => "Something went wrong on our side. Try again in a few minutes.".to_owned(),
        other => sentence_case(&other.to_string()),
    };
    let body =
        Html::concat([Html::tag_text("h1", heading), Html::element("p", &[("class", "card")], Html::text(&sentence))]);
    (status, document(heading, body))
}

fn detail(term: &str, value: &str) -> Html {
    Html::concat([Html::tag_text("dt", term), Html::tag_text("dd", value)])
}

/// "Open in the app" (the same https link: with the app installed, iOS universal links and
/// Android App Links hand it to the app), then the configured store buttons.
fn open_in_the_app(link: &str, apps: &AppLinks) -> Html {
    let mut out = Html::tag_text("h2", "Open it in the Keyway app");
    out.push(Html::element("a", &[("class", "button primary"), ("href", link)], Html::text("Open in the app")));
    out.push(Html::element(
        "p",
        &[("class", "note")],
        Html::text(
            "No app yet? Install it, then open the link in your message again. If this page opens again \
             with the app installed, tap the link in your message rather than this button.",
        ),
    ));
    // The stores get no Referer (the policy is no-referrer), so the token stays here.
    if let Some(url) = apps.app_store_url() {
        out.push(store_button(url, "Download on the App Store"));
    }
    if let Some(url) = apps.play_store_url() {
        out.push(store_button(url, "Get it on Google Play"));
    }
    if apps.app_store_url().is_none() && apps.play_store_url().is_none() {
        out.push(Html::element("p", &[("class", "note")], Html::text("Find Keyway in your phone's app store.")));
    }
    out
}

fn store_button(url: &str, label: &str) -> Html {
    Html::element("a", &[("class", "button"), ("href", url), ("rel", "noreferrer noopener")], Html::text(label))
}

fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(org: &str) -> InvitationPreview {
        InvitationPreview {
            organisation: org.into(),
            facility: "Riverside <Gym>".into(),
            role: "member".into(),
            email: "ana@example.com".into(),
            access_start: 0,
            expires_at: 86_400,
            keys: Vec::new(),
            first_name: None,
            last_name: None,
            name_required: true,
        }
    }

    #[test]
    fn an_organisation_called_script_stays_text() {
        let page = invitation(&preview("<script>alert(1)</script>"), "https://k.test/invite/t", &AppLinks::default());
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("Riverside &lt;Gym&gt;"));
    }

    #[test]
    fn an_invitation_without_keys_says_no_access_yet() {
        let page = invitation(&preview("Acme"), "https://k.test/invite/t", &AppLinks::default());
        assert!(page.contains("No access yet"));
        assert!(page.contains("Find Keyway in your phone"));
    }

    #[test]
    fn a_dead_link_page_says_only_why() {
        let (status, page) = dead_link(&Error::InvitationExpired);
        assert_eq!(status.as_u16(), 410);
        assert!(page.contains("This invitation has expired; ask your administrator to send a new one."));
        let (status, _) = dead_link(&Error::Internal("database: secret detail".into()));
        assert_eq!(status.as_u16(), 500);
        assert!(!dead_link(&Error::Internal("secret detail".into())).1.contains("secret"));
    }
}
