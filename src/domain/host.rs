//! The class of a host: loopback, the Vipps test environment, Vipps
//! production, or other. Decided here once, for every command, rule and
//! adapter, from the URL alone: no DNS, no socket.

use std::net::IpAddr;

use url::Url;

/// Base URL of the Vipps test environment.
pub const TEST_BASE_URL: &str = "https://apitest.vipps.no";
/// Base URL of Vipps production.
pub const PRODUCTION_BASE_URL: &str = "https://api.vipps.no";

/// Hosts of the Vipps production APIs (behaviour.md §1), normalised.
///
/// OPEN: behaviour.md names only `api.vipps.no`; an IP address of that host
/// cannot be recognised without DNS and is classed [`HostClass::Other`].
pub(crate) const PRODUCTION_HOSTS: &[&str] = &["api.vipps.no"];

/// Hosts of the Vipps test environment, normalised.
pub(crate) const TEST_HOSTS: &[&str] = &["apitest.vipps.no"];

/// Domains that Vipps MobilePay owns. Any host under them other than the test
/// environment is classed as production (a new production name, a regional
/// API host): refusing one by mistake costs a flag, sending to one by mistake
/// costs real money.
pub(crate) const VIPPS_DOMAINS: &[&str] = &[
    "vipps.no",
    "vippsmobilepay.com",
    "mobilepay.dk",
    "mobilepay.fi",
];

/// What a URL's host is, after normalising it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostClass {
    /// 127.0.0.0/8, `::1` (also IPv4-mapped), `localhost` or a name under
    /// `.localhost`: plain http is fine here.
    Loopback,
    /// The Vipps test environment.
    VippsTest,
    /// A Vipps production API host, or any other host under a Vipps domain
    /// that is not the test environment: real money.
    VippsProduction,
    /// Anything else.
    Other,
}

impl HostClass {
    /// Classifies a parsed URL's host. Pure: no DNS, no socket.
    pub fn of(url: &Url) -> HostClass {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => return class_of_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => return class_of_ip(IpAddr::V6(ip)),
            _ => {}
        }
        match normalised_host(url) {
            Some(host) => class_of_name(&host),
            None => HostClass::Other,
        }
    }

    /// True for a host that may be reached over plain http.
    pub(crate) fn is_loopback(self) -> bool {
        self == HostClass::Loopback
    }
}

/// The host of `url` as compared: lowercase, IDNA-mapped and percent-decoded
/// (the `url` crate does these when it parses a special scheme's host) and
/// without trailing dots (`api.vipps.no.` is the same DNS name).
fn normalised_host(url: &Url) -> Option<String> {
    let host = match url.host()? {
        url::Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    Some(host)
}

/// True when `url`'s host is loopback (see [`HostClass::Loopback`]).
pub(crate) fn is_loopback(url: &Url) -> bool {
    HostClass::of(url).is_loopback()
}

/// True for a base URL with no port and no path: the only form in which a
/// URL names a Vipps environment itself (`https://apitest.vipps.no`).
pub(crate) fn is_canonical_base(url: &Url) -> bool {
    url.port().is_none() && url.path().trim_end_matches('/').is_empty()
}

/// A URL as shown in messages, reports and the terminal: scheme, host, port
/// and path only. User info, query and fragment may hold credentials.
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// [`display_url`] for a string that may not even parse.
pub fn display_raw(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(url) => display_url(&url),
        Err(_) => {
            let cut = raw.find(['?', '#']).map_or(raw, |i| &raw[..i]);
            if cut.contains('@') {
                "(value hidden: it contains `@`)".to_owned()
            } else {
                cut.escape_debug().to_string()
            }
        }
    }
}

fn class_of_ip(ip: IpAddr) -> HostClass {
    let loopback = match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    };
    if loopback {
        HostClass::Loopback
    } else {
        HostClass::Other
    }
}

fn class_of_name(host: &str) -> HostClass {
    if host == "localhost" || host.ends_with(".localhost") {
        HostClass::Loopback
    } else if TEST_HOSTS.contains(&host) {
        HostClass::VippsTest
    } else if PRODUCTION_HOSTS.contains(&host)
        || VIPPS_DOMAINS
            .iter()
            .any(|d| host == *d || host.strip_suffix(d).is_some_and(|p| p.ends_with('.')))
    {
        HostClass::VippsProduction
    } else {
        HostClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(raw: &str) -> HostClass {
        HostClass::of(&Url::parse(raw).unwrap())
    }

    #[test]
    fn production_is_recognised_in_every_spelling() {
        for raw in [
            "https://api.vipps.no",
            "https://API.VIPPS.NO.",
            "https://api.vipps.no..",
            "https://api%2evipps%2eno",
            "https://\u{ff41}\u{ff50}\u{ff49}.vipps.no",
            "https://api\u{3002}vipps\u{3002}no",
            "  https://api.vipps.no:8443/x  ",
            "https://u:p@api.vipps.no/",
            "http://notapi.vipps.no",
            "https://api.mobilepay.dk",
            "https://VippsMobilePay.com.",
        ] {
            assert_eq!(class(raw), HostClass::VippsProduction, "{raw:?}");
        }
    }

    #[test]
    fn look_alikes_are_not_vipps() {
        for raw in [
            "https://api.vipps.no.evil.example",
            "https://vipps.no.example",
            "https://evilvipps.no",
            "https://sim.example",
        ] {
            assert_eq!(class(raw), HostClass::Other, "{raw:?}");
        }
    }

    #[test]
    fn loopback_includes_v6_and_mapped_and_localhost() {
        for raw in [
            "http://127.0.0.1:7777",
            "http://127.9.8.7",
            "http://[::1]:9",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost",
            "http://LOCALHOST./",
            "http://shop.localhost:8080",
        ] {
            assert_eq!(class(raw), HostClass::Loopback, "{raw:?}");
        }
        for raw in [
            "http://10.0.0.1",
            "http://[::2]",
            "http://localhost.example",
        ] {
            assert_eq!(class(raw), HostClass::Other, "{raw:?}");
        }
    }
}
