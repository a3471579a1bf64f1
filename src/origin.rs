//! Origins and proxy addresses, pure: what `Origin`, `Referer`, `Host` and
//! the forwarding headers name, the configured public origins, and the
//! address ranges of trusted proxies. Nothing here knows of Rocket; the
//! per-request decisions are in `http.rs`.

use std::net::IpAddr;

/// `scheme://host[:port]` with the port made explicit: what a browser sends
/// as `Origin`, parsed. Hosts compare without regard to ASCII case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OriginParts<'a> {
    /// `https` (else `http`).
    pub secure: bool,
    pub host: &'a str,
    pub port: u16,
}

impl OriginParts<'_> {
    /// The same site: scheme, host and port.
    pub fn same_as(&self, other: &OriginParts<'_>) -> bool {
        self.secure == other.secure && self.port == other.port && self.host.eq_ignore_ascii_case(other.host)
    }
}

/// The origin of `Origin`'s value: `http(s)://host[:port]` and nothing more.
/// `null`, other schemes, user info and paths are `None`.
pub fn parse_origin(origin: &str) -> Option<OriginParts<'_>> {
    let (secure, authority) = split_scheme(origin)?;
    let (host, port) = split_authority(authority, default_port(secure))?;
    Some(OriginParts { secure, host, port })
}

/// The origin of an absolute `http(s)` URL (a `Referer`): its scheme and
/// authority; the path, query and fragment are ignored.
pub fn url_origin(url: &str) -> Option<OriginParts<'_>> {
    let (secure, rest) = split_scheme(url)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, port) = split_authority(&rest[..end], default_port(secure))?;
    Some(OriginParts { secure, host, port })
}

fn split_scheme(url: &str) -> Option<(bool, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.eq_ignore_ascii_case("https") {
        Some((true, rest))
    } else if scheme.eq_ignore_ascii_case("http") {
        Some((false, rest))
    } else {
        None
    }
}

/// 443 for `https`, 80 for `http`.
pub fn default_port(secure: bool) -> u16 {
    if secure {
        443
    } else {
        80
    }
}

/// `host[:port]` or `[v6][:port]` (a `Host` header, an authority) into host
/// and port, `default_port` when none is written; `None` for anything else.
pub fn split_authority(authority: &str, default_port: u16) -> Option<(&str, u16)> {
    let (host, port) = split_host_port(authority)?;
    Some((host, port.unwrap_or(default_port)))
}

/// `host[:port]` or `[v6][:port]` into host and the port written, if any;
/// `None` for user info, a path, spaces, an empty host, a port that is not
/// a number from 1 to 65535.
pub fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.is_empty() || authority.contains(['/', '@', '?', '#', ' ', ',', ';', '\\']) {
        return None;
    }
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok().filter(|&p| p != 0)?)
        }
        Some(_) => return None,
    };
    let bracketed = host.starts_with('[') == host.ends_with(']');
    (!host.is_empty() && bracketed).then_some((host, port))
}

/// A configured public origin (`public_origins`), lower-cased, port explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigin {
    secure: bool,
    host: String,
    port: u16,
}

impl PublicOrigin {
    /// Parses `https://crm.example.com` or `http://10.0.0.5:8080`; the
    /// error says what is wrong. A trailing `/` is allowed, nothing else after
    /// the authority.
    pub fn parse(value: &str) -> Result<PublicOrigin, String> {
        let trimmed = value.strip_suffix('/').unwrap_or(value);
        let parts = parse_origin(trimmed).ok_or_else(|| {
            format!("{value:?} is not an origin: expected http(s)://host[:port], without a path, e.g. \"https://crm.example.com\"")
        })?;
        Ok(PublicOrigin { secure: parts.secure, host: parts.host.to_ascii_lowercase(), port: parts.port })
    }

    pub fn parts(&self) -> OriginParts<'_> {
        OriginParts { secure: self.secure, host: &self.host, port: self.port }
    }
}

impl std::fmt::Display for PublicOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.secure { "https" } else { "http" };
        if self.port == default_port(self.secure) {
            write!(f, "{scheme}://{}", self.host)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// A trusted proxy's address or network (`trusted_proxies`): `127.0.0.1`,
/// `10.0.0.0/8`, `::1`, `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl AddressRange {
    /// Parses an address or `address/prefix`; host bits set in a network
    /// are refused (`10.0.0.1/8` is likely a typo for one address).
    pub fn parse(value: &str) -> Result<AddressRange, String> {
        let (address, prefix) = match value.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (value, None),
        };
        let network: IpAddr = address.trim().parse().map_err(|_| {
            format!("{value:?} is not an IP address or network (e.g. \"127.0.0.1\", \"10.0.0.0/8\", \"::1\")")
        })?;
        let network = network.to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => match p.trim().parse::<u8>() {
                Ok(p) if p <= bits => p,
                _ => return Err(format!("{value:?}: the prefix length must be 0 to {bits}")),
            },
        };
        let range = AddressRange { network, prefix };
        if range.masked(network) != bits_of(network) {
            return Err(format!("{value:?}: the address has bits set beyond the /{prefix} prefix"));
        }
        Ok(range)
    }

    fn masked(&self, address: IpAddr) -> u128 {
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let value = bits_of(address);
        if self.prefix == 0 {
            0
        } else {
            value & (u128::MAX << (bits - u32::from(self.prefix))) & (u128::MAX >> (128 - bits))
        }
    }

    /// Whether `address` (an IPv4-mapped IPv6 address counts as IPv4) is in the range.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        address.is_ipv4() == self.network.is_ipv4() && self.masked(address) == self.masked(self.network)
    }
}

fn bits_of(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_to_scheme_host_and_explicit_port() {
        let o = |s| parse_origin(s).map(|p| (p.secure, p.host, p.port));
        assert_eq!(o("http://127.0.0.1:8000"), Some((false, "127.0.0.1", 8000)));
        assert_eq!(o("https://Example.com"), Some((true, "Example.com", 443)));
        assert_eq!(o("HTTP://example.com"), Some((false, "example.com", 80)));
        assert_eq!(o("http://[::1]:8000"), Some((false, "[::1]", 8000)));
        for bad in [
            "null",
            "",
            "ftp://example.com",
            "http://example.com@evil",
            "http://example.com:x",
            "http://example.com/",
            "http://",
            "http://:80",
            "http://example.com:0",
            "http://example.com:123456",
            "http://[::1",
            "http://a b",
            "example.com",
        ] {
            assert_eq!(o(bad), None, "{bad}");
        }
        assert!(parse_origin("https://example.com")
            .unwrap()
            .same_as(&parse_origin("https://EXAMPLE.com:443").unwrap()));
        assert!(!parse_origin("http://example.com").unwrap().same_as(&parse_origin("https://example.com").unwrap()));
    }

    #[test]
    fn a_referer_is_judged_by_its_origin() {
        let u = |s| url_origin(s).map(|p| (p.secure, p.host, p.port));
        assert_eq!(u("http://app.corp.example/x?y#z"), Some((false, "app.corp.example", 80)));
        assert_eq!(u("https://app.corp.example:8443?q"), Some((true, "app.corp.example", 8443)));
        assert_eq!(u("https://app.corp.example"), Some((true, "app.corp.example", 443)));
        assert_eq!(u("https://user@app.corp.example/"), None);
        assert_eq!(u("android-app://com.example/"), None);
        assert_eq!(u("/relative"), None);
    }

    #[test]
    fn public_origins_are_normalised_and_printed_back() {
        let p = PublicOrigin::parse("https://CRM.example.com/").unwrap();
        assert_eq!(p.to_string(), "https://crm.example.com");
        assert_eq!(PublicOrigin::parse("http://10.0.0.5:8080").unwrap().to_string(), "http://10.0.0.5:8080");
        assert_eq!(PublicOrigin::parse("https://x.example:443").unwrap().to_string(), "https://x.example");
        for bad in ["crm.example.com", "https://crm.example.com/app", "https://", "*", "https://a.example?x"] {
            let error = PublicOrigin::parse(bad).unwrap_err();
            assert!(error.contains("is not an origin"), "{bad}: {error}");
        }
    }

    #[test]
    fn address_ranges_contain_what_they_say() {
        let r = |s: &str| AddressRange::parse(s).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(r("127.0.0.1").contains(ip("127.0.0.1")));
        assert!(!r("127.0.0.1").contains(ip("127.0.0.2")));
        assert!(r("10.0.0.0/8").contains(ip("10.200.3.4")));
        assert!(!r("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(r("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(!r("0.0.0.0/0").contains(ip("::1")));
        assert!(r("::1").contains(ip("::1")));
        assert!(r("fd00::/8").contains(ip("fd12:3456::1")));
        assert!(!r("fd00::/8").contains(ip("fe80::1")));
        // An IPv4 peer seen on a dual-stack socket.
        assert!(r("127.0.0.1").contains(ip("::ffff:127.0.0.1")));
        for bad in
            ["::ffff:10.0.0.0/104", "", "localhost", "10.0.0.0/33", "::/129", "10.0.0.1/8", "10.0.0.0/x", "1.2.3"]
        {
            assert!(AddressRange::parse(bad).is_err(), "{bad}");
        }
    }
}
