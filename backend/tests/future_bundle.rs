//! The time the backend signs into bundles (issue 16, `future_bundle`): a clock that jumps
//! signs nothing until it is back or has stayed an hour, a minute's glitch bricks no door,
//! and no bundle is signed behind the door's last one.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::Value;

/// Far enough ahead to expire every 72-hour key, inside the member's 30-day grant.
const WEEKS: i64 = 20 * DAY;
const ADA: &str = "ada@example.com";

async fn setup() -> (Server, Fixture, Value) {
    let s = Server::start().await;
    let f = fixture(&s, "Acme", 1).await;
    let ada = member(&s, &f, ADA, &TestPhone::new()).await;
    (s, f, ada)
}

/// The full bundle for the offline door, as a courier asks for it.
async fn bundle(s: &Server, f: &Fixture, t: &Value) -> Answer {
    s.send("GET", &format!("/v1/doors/{}/bundle", f.offline_door), Some(&bearer(t)), None).await
}

/// A fresh session for Ada: an access token lives 15 minutes by the (jumping) clock.
async fn signed_in_again(s: &Server) -> Value {
    s.sign_in(ADA, &TestPhone::new()).await
}

fn signed_time(a: Answer) -> i64 {
    a.ok()["signed_time"].as_i64().unwrap()
}

#[tokio::test]
async fn future_bundle_a_backend_clock_that_jumps_weeks_ahead_signs_nothing_until_it_is_back() {
    let (s, f, ada) = setup().await;
    assert_eq!(signed_time(bundle(&s, &f, &ada).await), s.now());
    s.clock.advance(60);
    s.clock.glitch(WEEKS);
    let ada = signed_in_again(&s).await;
    let refused = bundle(&s, &f, &ada).await;
    refused.err(503, "signing_clock_unsure");
    assert_eq!(refused.body["error"]["retry_at"].as_i64().unwrap(), s.now() + 3600);
    s.clock.advance(600);
    bundle(&s, &f, &ada).await.err(503, "signing_clock_unsure");
    // The clock comes back: bundles are signed again, at the right time.
    s.clock.glitch(-WEEKS);
    s.clock.advance(5);
    let t = signed_time(bundle(&s, &f, &ada).await);
    assert_eq!(t, s.now());
    assert!(t < T0 + DAY);
}

#[tokio::test]
async fn future_bundle_a_clock_glitch_of_a_minute_does_not_brick_the_door() {
    let (s, f, ada) = setup().await;
    let first = signed_time(bundle(&s, &f, &ada).await);
    s.clock.glitch(60);
    assert_eq!(signed_time(bundle(&s, &f, &ada).await), first + 60, "a minute is within what drift explains");
    // Back a minute: the door's last signed time is held, never signed behind.
    s.clock.glitch(-60);
    s.clock.advance(10);
    assert_eq!(signed_time(bundle(&s, &f, &ada).await), first + 60);
    s.clock.advance(120);
    assert_eq!(signed_time(bundle(&s, &f, &ada).await), s.now());
}

#[tokio::test]
async fn future_bundle_a_clock_set_back_a_day_signs_nothing_behind_the_door_until_it_has_been_steady_an_hour() {
    let (s, f, ada) = setup().await;
    let first = signed_time(bundle(&s, &f, &ada).await);
    s.clock.glitch(-DAY);
    bundle(&s, &f, &ada).await.err(503, "signing_clock_unsure");
    s.clock.advance(1800);
    bundle(&s, &f, &ada).await.err(503, "signing_clock_unsure");
    // An hour on, the set-back clock has agreed with the steady clock all along: it is
    // believed (a correction), and the door gets its time.
    s.clock.advance(1800);
    let t = signed_time(bundle(&s, &f, &ada).await);
    assert_eq!(t, s.now());
    assert!(t < first);
}

#[tokio::test]
async fn future_bundle_a_jump_that_stays_an_hour_is_believed_but_never_signed_more_than_a_day_ahead_of_the_clock() {
    let (s, f, ada) = setup().await;
    bundle(&s, &f, &ada).await.ok();
    s.clock.glitch(2 * DAY);
    let ada = signed_in_again(&s).await;
    bundle(&s, &f, &ada).await.err(503, "signing_clock_unsure");
    s.clock.advance(3600);
    let ada = signed_in_again(&s).await;
    // Believed after an hour: what is signed is the clock itself, never more than the lock's
    // bound (24 h) ahead of it.
    let t = signed_time(bundle(&s, &f, &ada).await);
    assert_eq!(t, s.now());
    assert!(t <= s.now() + i64::from(keyway_protocol::bundle::MAX_BUNDLE_TIME_AHEAD_SECS));
}
