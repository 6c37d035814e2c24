//! The phone reaches the backend only over verified HTTPS. A certificate from another CA,
//! an expired one and one for another host are each refused with `InsecureConnection`
//! (not `Offline`), and the backend proves nothing reached it: its count of requests
//! served stays at zero. An
//! `http://` backend is refused when the core opens, except on loopback with the
//! development option.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use keyway_core::api::{ConfigError, TrustSettings};
use keyway_core::{Config, Error};
use keyway_sandbox::world::{LINK_HOST, Served, World};

const ANA: &str = "ana@example.com";

/// A phone of a world whose backend serves `served` asks for a sign-in code.
async fn ask_for_a_code(served: Served) -> (World, Result<(), Error>) {
    let world = World::start_served(":memory:", false, served).await;
    assert_eq!(world.requests_served(), 0);
    let phone = world.phone();
    let result = phone.keyway.start_sign_in(ANA).await.map(|_| ());
    (world, result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_authority_is_refused_as_insecure_and_nothing_is_sent() {
    let (world, result) = ask_for_a_code(Served::HttpsFromAnotherCa).await;
    assert_eq!(result, Err(Error::InsecureConnection));
    assert_eq!(world.requests_served(), 0, "the request never reached the backend");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_refused_as_insecure_and_nothing_is_sent() {
    let (world, result) = ask_for_a_code(Served::HttpsExpired).await;
    assert_eq!(result, Err(Error::InsecureConnection));
    assert_eq!(world.requests_served(), 0, "the request never reached the backend");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_host_is_refused_as_insecure_and_nothing_is_sent() {
    let (world, result) = ask_for_a_code(Served::HttpsForAnotherHost).await;
    assert_eq!(result, Err(Error::InsecureConnection));
    assert_eq!(world.requests_served(), 0, "the request never reached the backend");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_certificate_trusted_as_an_extra_root_lets_the_code_through() {
    // The control for the three above: same world, a good certificate, the request served.
    let (world, result) = ask_for_a_code(Served::Https).await;
    assert_eq!(result, Ok(()));
    assert_eq!(world.requests_served(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_extra_root_the_platform_roots_alone_refuse_the_test_backend() {
    let world = World::start().await;
    let mut config = Config::new(world.base_url.clone(), vec![LINK_HOST.into()]);
    config.trust = TrustSettings::default();
    let phone = world.try_core(config).unwrap();
    assert_eq!(phone.start_sign_in(ANA).await.map(|_| ()), Err(Error::InsecureConnection));
    assert_eq!(world.requests_served(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_backend_is_refused_when_the_core_opens() {
    let world = World::start_served(":memory:", false, Served::PlainHttp).await;
    let plain_http = &world.base_url;
    assert!(plain_http.starts_with("http://127.0.0.1:"), "{plain_http}");
    let config = Config::new(world.base_url.clone(), vec![LINK_HOST.into()]);
    assert_eq!(
        world.try_core(config).err(),
        Some(Error::InvalidConfiguration { problem: ConfigError::BackendNotHttps })
    );
    let elsewhere = Config::new("http://keyway.example/", vec![LINK_HOST.into()]);
    assert_eq!(
        world.try_core(elsewhere).err(),
        Some(Error::InvalidConfiguration { problem: ConfigError::BackendNotHttps })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_loopback_works_only_with_the_development_option() {
    let world = World::start_served(":memory:", false, Served::PlainHttp).await;
    let mut config = Config::new(world.base_url.clone(), vec![LINK_HOST.into()]);
    config.trust.allow_plain_http_to_loopback = true;
    let phone = world.try_core(config).unwrap();
    phone.start_sign_in(ANA).await.unwrap();
    assert_eq!(world.requests_served(), 1);
    // The option does not open plain HTTP to anything but loopback.
    let mut elsewhere = Config::new("http://10.0.0.1:8080/", vec![LINK_HOST.into()]);
    elsewhere.trust.allow_plain_http_to_loopback = true;
    assert_eq!(
        world.try_core(elsewhere).err(),
        Some(Error::InvalidConfiguration { problem: ConfigError::BackendNotHttps })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_client_at_a_plain_http_port_is_refused_as_insecure_not_offline() {
    // Someone misconfigured the service (TLS off): the phone does not fall back.
    let world = World::start_served(":memory:", false, Served::PlainHttp).await;
    let https = world.base_url.replace("http://", "https://");
    let mut config = Config::new(https, vec![LINK_HOST.into()]);
    config.trust = world.trust();
    let phone = world.try_core(config).unwrap();
    assert_eq!(phone.start_sign_in(ANA).await.map(|_| ()), Err(Error::InsecureConnection));
    assert_eq!(world.requests_served(), 0);
}
