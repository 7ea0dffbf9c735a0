//! Who the client is behind reverse proxies (server only). Only proxies
//! named in `FF_BOARD_TRUSTED_PROXIES` (comma-separated addresses or CIDR
//! ranges, e.g. `10.0.0.0/8,127.0.0.1`) are believed about
//! `X-Forwarded-For`; the client is the right-most hop that is not a
//! trusted proxy. Without the setting the peer address is the client.
use std::net::IpAddr;
use std::sync::OnceLock;

/// The environment variable naming the trusted proxies.
pub const TRUSTED_PROXIES_ENV: &str = "FF_BOARD_TRUSTED_PROXIES";
/// Entries of the setting read at most (a typo must not cost memory).
const MAX_ENTRIES: usize = 64;

/// An address range: a network and its prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `10.0.0.0/8`, `fd00::/8` or a single address.
    pub fn parse(raw: &str) -> Result<Cidr, String> {
        let raw = raw.trim();
        let (ip, prefix) = raw.split_once('/').map_or((raw, None), |(a, p)| (a, Some(p)));
        let net: IpAddr = ip.parse().map_err(|_| format!("{raw:?} is not an address or CIDR range"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{raw:?}: bad prefix length"))?,
        };
        Ok(Cidr { net, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |a: IpAddr| match a {
            IpAddr::V4(v) => (u128::from(u32::from(v)) << 96, true),
            IpAddr::V6(v) => match v.to_ipv4_mapped() {
                Some(v4) => (u128::from(u32::from(v4)) << 96, true),
                None => (u128::from(v), false),
            },
        };
        let ((n, n4), (a, a4)) = (bits(self.net), bits(ip));
        if n4 != a4 {
            return false;
        }
        // A v4 address sits in the top 32 bits, so one mask fits both.
        let len = u32::from(self.prefix);
        if len == 0 {
            return true;
        }
        let mask = u128::MAX << (128 - len);
        n & mask == a & mask
    }
}

/// Parse the setting; an error names the bad entry.
pub fn parse_list(raw: &str) -> Result<Vec<Cidr>, String> {
    let entries: Vec<&str> = raw.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
    if entries.len() > MAX_ENTRIES {
        return Err(format!("{TRUSTED_PROXIES_ENV}: at most {MAX_ENTRIES} entries"));
    }
    entries.into_iter().map(Cidr::parse).collect()
}

/// The process's trusted proxies (the server checks the setting at start,
/// so a bad value stops it there; here it counts as none).
pub fn trusted() -> &'static [Cidr] {
    static T: OnceLock<Vec<Cidr>> = OnceLock::new();
    T.get_or_init(|| std::env::var(TRUSTED_PROXIES_ENV).ok().and_then(|v| parse_list(&v).ok()).unwrap_or_default())
}

/// The client of a request from `peer` carrying `forwarded` (the
/// `X-Forwarded-For` values joined by commas).
pub fn client_ip(peer: Option<IpAddr>, forwarded: &str, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded.rsplit(',').map(str::trim).filter(|h| !h.is_empty()) {
        let Ok(ip) = hop.parse::<IpAddr>() else { return Some(client) };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.1.2.3")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.0.0.1")), "v4-mapped v6");
        assert!(Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(!Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.2")));
        assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(!Cidr::parse("fd00::/8").unwrap().contains(ip("10.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_list(" 10.0.0.0/8, ,127.0.0.1 ").unwrap().len(), 2);
        assert!(parse_list("10.0.0.0/8,bad").is_err());
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let proxies = parse_list("10.0.0.0/8").unwrap();
        // No trusted proxy: the header is ignored, whatever it says.
        assert_eq!(client_ip(Some(ip("203.0.113.9")), "1.2.3.4", &proxies), Some(ip("203.0.113.9")));
        assert_eq!(client_ip(Some(ip("10.0.0.5")), "1.2.3.4", &[]), Some(ip("10.0.0.5")));
        // Through a trusted proxy: the hop it saw, not what the client wrote on the left.
        assert_eq!(client_ip(Some(ip("10.0.0.5")), "6.6.6.6, 203.0.113.9", &proxies), Some(ip("203.0.113.9")));
        // Two trusted proxies in a row.
        assert_eq!(client_ip(Some(ip("10.0.0.5")), "6.6.6.6, 203.0.113.9, 10.0.0.7", &proxies), Some(ip("203.0.113.9")));
        // Garbage in the header stops the walk at the last good hop.
        assert_eq!(client_ip(Some(ip("10.0.0.5")), "x, 10.0.0.7", &proxies), Some(ip("10.0.0.7")));
        assert_eq!(client_ip(Some(ip("10.0.0.5")), "", &proxies), Some(ip("10.0.0.5")));
        assert_eq!(client_ip(None, "1.2.3.4", &proxies), None);
    }
}
