//! Client networks (CIDR blocks, as the checker accepted them) as numbers,
//! to tell which holds which: the shadowing lint (a route from
//! `10.1.0.0/16` after one from `10.0.0.0/8`), a route whose clients a
//! frontend's or a backend's `allow` refuses (`W0002`, `W0017`), and a
//! plan's `allow` or `from` that takes more clients than before.

/// A network: whether it is IPv6, its address with the bits past its
/// prefix cleared (an IPv4 one in the low 32 bits), and its prefix length.
pub(crate) type Net = (bool, u128, u8);

/// The address `bits` of a network of `width` bits cut to its first `len`.
fn masked(bits: u128, len: u8, width: u8) -> u128 {
    match len {
        0 => 0,
        len => bits & (u128::MAX >> (128 - u32::from(width))) & (u128::MAX << (width - len)),
    }
}

/// The network written `text` (`10.0.0.0/8`, `2001:db8::/32`); `None` if
/// it is not one.
pub(crate) fn parse(text: &str) -> Option<Net> {
    let (ip, len) = text.split_once('/')?;
    let len: u8 = len.parse().ok()?;
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(ip) if len <= 32 => {
            Some((false, masked(u32::from(ip).into(), len, 32), len))
        }
        std::net::IpAddr::V6(ip) if len <= 128 => Some((true, masked(ip.into(), len, 128), len)),
        _ => None,
    }
}

/// The networks of `list`; `None` if one is not a network.
pub(crate) fn parse_all(list: &[String]) -> Option<Vec<Net>> {
    list.iter().map(|text| parse(text)).collect()
}

/// The networks of `list`, if each reads as one and none may hold
/// IPv4-mapped IPv6 addresses (see [`mapped`]: HAProxy compares those with
/// IPv4 ones, so what holds what is not told by the numbers alone).
pub(crate) fn plain(list: &[String]) -> Option<Vec<Net>> {
    parse_all(list).filter(|nets| !nets.iter().any(|&n| mapped(n)))
}

/// The networks that hold `net`: itself and each shorter prefix of it, the
/// longest first.
pub(crate) fn over(net: Net) -> impl Iterator<Item = Net> {
    let (v6, bits, len) = net;
    let width = if v6 { 128 } else { 32 };
    (0..=len)
        .rev()
        .map(move |l| (v6, masked(bits, l, width), l))
}

/// Whether network `outer` holds every address of `inner` (of the same
/// family: an IPv4 network holds no IPv6 one, `::ffff:10.0.0.0/104`
/// included; see [`mapped`]).
pub(crate) fn holds(outer: Net, inner: Net) -> bool {
    let width = if outer.0 { 128 } else { 32 };
    outer.0 == inner.0 && outer.2 <= inner.2 && masked(inner.1, outer.2, width) == outer.1
}

/// Whether two networks have an address in common: one holds the other.
pub(crate) fn overlap(a: Net, b: Net) -> bool {
    holds(a, b) || holds(b, a)
}

/// Whether `net` is an IPv6 network that may hold IPv4-mapped addresses
/// (`::ffff:0:0/96` or a part of it, or a network over it): HAProxy
/// compares IPv4 clients and patterns with those too.
pub(crate) fn mapped(net: Net) -> bool {
    const MAPPED: Net = (true, 0xffff_0000_0000, 96);
    overlap(net, MAPPED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_hold_their_parts_of_their_own_family() {
        let n = |text| parse(text).unwrap();
        assert!(holds(n("10.0.0.0/8"), n("10.1.2.0/24")));
        assert!(holds(n("10.1.2.3/8"), n("10.200.0.0/16")));
        assert!(!holds(n("10.1.2.0/24"), n("10.0.0.0/8")));
        assert!(holds(n("0.0.0.0/0"), n("192.168.1.1/32")));
        assert!(holds(n("::/0"), n("2001:db8::/32")));
        assert!(!holds(n("0.0.0.0/0"), n("2001:db8::/32")));
        assert!(!holds(n("::/0"), n("10.0.0.0/8")));
        assert!(overlap(n("10.1.0.0/16"), n("10.0.0.0/8")));
        assert!(!overlap(n("10.1.0.0/16"), n("10.2.0.0/16")));
        assert!(mapped(n("::ffff:10.0.0.0/104")));
        assert!(mapped(n("::/0")));
        assert!(!mapped(n("2001:db8::/32")));
        assert_eq!(parse("10.0.0.0/33"), None);
        assert_eq!(parse("10.0.0.0"), None);
        assert_eq!(over(n("10.1.0.0/16")).count(), 17);
    }
}
