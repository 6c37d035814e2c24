//! Who is asking, behind a reverse proxy: the sign-in limits count per client address
//! (`otp.rs`), and behind a proxy every connection comes from the proxy.
//!
//! The operator names the proxies it runs (`--trusted-proxy`, addresses or CIDR blocks) and
//! the header they write (`--client-address-header`: `x-forwarded-for`, the default, or
//! `forwarded`, RFC 7239). Only when the connection's peer is one of them is the header
//! read, from the right: each trusted proxy appends the address it saw, so the right-most
//! address that is not a trusted proxy is the client; whatever stands to its left was
//! written by the client and is ignored. A header that is missing, or unreadable at the
//! place that matters, leaves the peer as the client. A peer that is not a trusted proxy
//! is the client, whatever headers it sends.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::AppState;
use crate::error::Error;
use crate::otp::Client;
use crate::routes::Peer;

/// The client asking, as handlers that limit per client see it: the connection's peer, or
/// behind a trusted proxy the address it forwarded.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub Client);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let ConnectInfo(Peer(peer)) = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .cloned()
            .ok_or_else(|| Error::Internal("the connection's peer address is missing".into()))?;
        Ok(Self(st.trusted_proxies().client(peer, &parts.headers)))
    }
}

/// An address block: an address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressBlock {
    network: IpAddr,
    prefix: u8,
}

/// Why a `--trusted-proxy` entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or an address block such as 10.0.0.0/8 or fd00::/8")]
pub struct BadAddressBlock(pub String);

impl FromStr for AddressBlock {
    type Err = BadAddressBlock;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAddressBlock(s.to_owned());
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl AddressBlock {
    /// Whether `ip` lies in the block (an IPv4-mapped IPv6 address counts as its IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, unmap(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => same_prefix(&n.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => same_prefix(&n.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits);
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// Which header the trusted proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ForwardingHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

/// The proxies whose forwarding header is believed, and which header that is. Empty by
/// default: every header is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    /// The proxies' addresses or blocks.
    pub blocks: Vec<AddressBlock>,
    /// The header they write.
    pub header: ForwardingHeader,
}

impl TrustedProxies {
    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|b| b.contains(ip))
    }

    /// The client of a request that came over a connection from `peer` with `headers`.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> Client {
        if !self.trusts(peer.ip()) {
            return Client::from_peer(peer);
        }
        match self.forwarded_client(headers) {
            Some(ip) => Client::from_peer(SocketAddr::new(ip, peer.port())),
            None => Client::from_peer(peer),
        }
    }

    /// Walks the header's addresses from the right past the trusted proxies; `None` when
    /// there is no header or an address that must be read cannot be.
    fn forwarded_client(&self, headers: &HeaderMap) -> Option<IpAddr> {
        let name = match self.header {
            ForwardingHeader::XForwardedFor => "x-forwarded-for",
            ForwardingHeader::Forwarded => "forwarded",
        };
        // Several header lines are one list, in order.
        let mut entries: Vec<&str> = Vec::new();
        for value in headers.get_all(name) {
            entries.extend(value.to_str().ok()?.split(','));
        }
        let mut last_trusted = None;
        for entry in entries.iter().rev() {
            let ip = match self.header {
                ForwardingHeader::XForwardedFor => parse_node(entry.trim())?,
                ForwardingHeader::Forwarded => forwarded_for(entry)?,
            };
            if !self.trusts(ip) {
                return Some(ip);
            }
            last_trusted = Some(ip);
        }
        // Every hop was a trusted proxy: the first of them is the client as far as known.
        last_trusted
    }
}

/// The `for=` node of one RFC 7239 element (`for=192.0.2.1;proto=https`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let node = element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then_some(value.trim())
    })?;
    let node = node.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(node);
    parse_node(node)
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711`. Anything else (`unknown`, `_hidden`) is unreadable.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(|p| p.parse::<u16>().is_ok())) {
            return None;
        }
        return v6.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    node.parse::<SocketAddr>().ok().filter(SocketAddr::is_ipv4).map(|s| s.ip())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(blocks: &[&str], header: ForwardingHeader) -> TrustedProxies {
        TrustedProxies { blocks: blocks.iter().map(|b| b.parse().unwrap()).collect(), header }
    }

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 50_000)
    }

    #[test]
    fn otp_farming_address_blocks_are_parsed_and_matched() {
        let b: AddressBlock = "10.1.0.0/16".parse().unwrap();
        assert!(b.contains("10.1.200.3".parse().unwrap()));
        assert!(!b.contains("10.2.0.1".parse().unwrap()));
        assert!(b.contains("::ffff:10.1.0.9".parse().unwrap()), "an IPv4-mapped peer counts as IPv4");
        let one: AddressBlock = "192.0.2.7".parse().unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()) && !one.contains("192.0.2.8".parse().unwrap()));
        let v6: AddressBlock = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()) && !v6.contains("fe80::1".parse().unwrap()));
        let odd: AddressBlock = "192.0.2.0/25".parse().unwrap();
        assert!(odd.contains("192.0.2.127".parse().unwrap()) && !odd.contains("192.0.2.128".parse().unwrap()));
        for bad in ["", "10.0.0.0/33", "fd00::/129", "proxy.local", "10.0.0/8", "10.0.0.0/x"] {
            assert!(bad.parse::<AddressBlock>().is_err(), "{bad}");
        }
    }

    #[test]
    fn otp_farming_a_forged_header_from_an_untrusted_peer_changes_nothing() {
        let p = proxies(&["10.0.0.0/8"], ForwardingHeader::XForwardedFor);
        let forged = headers("x-forwarded-for", &["198.51.100.9"]);
        assert_eq!(p.client(peer("203.0.113.5"), &forged).as_str(), "203.0.113.5");
        // No trusted proxy configured: the header is never read.
        let none = TrustedProxies::default();
        assert_eq!(none.client(peer("10.0.0.2"), &forged).as_str(), "10.0.0.2");
    }

    #[test]
    fn otp_farming_through_a_trusted_proxy_the_right_most_untrusted_address_is_the_client() {
        let p = proxies(&["10.0.0.0/8"], ForwardingHeader::XForwardedFor);
        // The client wrote a fake first entry; the proxies appended what they saw.
        let h = headers("x-forwarded-for", &["1.2.3.4, 198.51.100.9", "10.0.0.3"]);
        assert_eq!(p.client(peer("10.0.0.2"), &h).as_str(), "198.51.100.9");
        let h = headers("x-forwarded-for", &["198.51.100.10"]);
        assert_eq!(p.client(peer("10.0.0.2"), &h).as_str(), "198.51.100.10");
        let v6 = headers("x-forwarded-for", &["2001:db8:1:2:3::9"]);
        assert_eq!(p.client(peer("10.0.0.2"), &v6).as_str(), "2001:db8:1:2::/64");
    }

    #[test]
    fn otp_farming_a_malformed_header_falls_back_to_the_peer() {
        let p = proxies(&["10.0.0.0/8"], ForwardingHeader::XForwardedFor);
        for bad in ["not-an-address", "198.51.100.9, ", "", "unknown", "198.51.100.9 junk"] {
            let h = headers("x-forwarded-for", &[bad]);
            assert_eq!(p.client(peer("10.0.0.2"), &h).as_str(), "10.0.0.2", "{bad:?}");
        }
        // Garbage left of the client's address was the client's own writing: ignored.
        let h = headers("x-forwarded-for", &["garbage, 198.51.100.9"]);
        assert_eq!(p.client(peer("10.0.0.2"), &h).as_str(), "198.51.100.9");
        // No header at all: the proxy itself.
        assert_eq!(p.client(peer("10.0.0.2"), &HeaderMap::new()).as_str(), "10.0.0.2");
    }

    #[test]
    fn otp_farming_the_forwarded_header_is_read_when_the_proxies_write_it() {
        let p = proxies(&["10.0.0.0/8"], ForwardingHeader::Forwarded);
        let h = headers("forwarded", &[r#"for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.9"#]);
        assert_eq!(p.client(peer("10.0.0.2"), &h).as_str(), "2001:db8:cafe:0::/64");
        let h = headers("forwarded", &["for=198.51.100.3:8080;by=10.0.0.2"]);
        assert_eq!(p.client(peer("10.0.0.2"), &h).as_str(), "198.51.100.3");
        let hidden = headers("forwarded", &["for=_hidden"]);
        assert_eq!(p.client(peer("10.0.0.2"), &hidden).as_str(), "10.0.0.2");
        // A proxy that writes Forwarded: an X-Forwarded-For the client sent is not read.
        let xff = headers("x-forwarded-for", &["198.51.100.9"]);
        assert_eq!(p.client(peer("10.0.0.2"), &xff).as_str(), "10.0.0.2");
    }
}
