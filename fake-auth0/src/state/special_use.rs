//! Special-use IP addresses (RFC 6890 and the IANA registries it set up) that a fetch
//! of a Client ID Metadata Document must never reach: the draft's SSRF rule, with its one
//! exception, the loopback address fake-auth0 itself listens on.
//!
//! IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address inside them, so a
//! private address cannot be smuggled through either form.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether a metadata document fetch may connect to `address`. `own_loopback` is the
/// loopback address fake-auth0 listens on, if it listens on one.
pub(crate) fn may_connect(address: IpAddr, own_loopback: Option<IpAddr>) -> bool {
    let address = canonical(address);
    if own_loopback.is_some_and(|own| canonical(own) == address) {
        return true;
    }
    match address {
        IpAddr::V4(v4) => !is_special_v4(v4),
        IpAddr::V6(v6) => !is_special_v6(v6),
    }
}

/// An IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) address as the IPv4
/// address it stands for.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let segments = v6.segments();
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., high, low] = segments;
                return IpAddr::V4(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

fn is_special_v4(address: Ipv4Addr) -> bool {
    let [a, b, c, _] = address.octets();
    address.is_unspecified()
        || address.is_loopback()
        || address.is_private()
        || address.is_link_local()
        || address.is_broadcast()
        || address.is_documentation()
        || address.is_multicast()
        || a == 0 // "this network", 0.0.0.0/8
        || (a == 100 && (64..128).contains(&b)) // shared address space, 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, 192.0.0.0/24
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (18..20).contains(&b)) // benchmarking, 198.18.0.0/15
        || a >= 240 // reserved, 240.0.0.0/4
}

fn is_special_v6(address: Ipv6Addr) -> bool {
    let segments = address.segments();
    address.is_unspecified()
        || address.is_loopback()
        || address.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (segments[0] == 0x2001 && segments[1] < 0x0200) // IETF protocol assignments, 2001::/23
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || segments[0] == 0x2002 // 6to4
        || segments[..4] == [0x0100, 0, 0, 0] // discard-only, 100::/64
        || segments[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible, deprecated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn private_loopback_and_reserved_addresses_are_refused() {
        for refused in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.1.2.3",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!may_connect(ip(refused), None), "{refused}");
        }
        for allowed in [
            "93.184.215.14",
            "2606:4700::6810:84e5",
            "64:ff9b::5db8:d70e",
        ] {
            assert!(may_connect(ip(allowed), None), "{allowed}");
        }
    }

    #[test]
    fn only_the_servers_own_loopback_address_is_excepted() {
        let own = Some(ip("127.0.0.1"));
        assert!(may_connect(ip("127.0.0.1"), own));
        assert!(may_connect(ip("::ffff:127.0.0.1"), own));
        assert!(!may_connect(ip("127.0.0.2"), own));
        assert!(!may_connect(ip("::1"), own));
        assert!(!may_connect(ip("10.0.0.1"), own));
    }
}
