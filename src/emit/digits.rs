//! Numbers and IP addresses appended to an output buffer. `format!` and
//! `write!` cost more than the text they make when an output has hundreds of
//! thousands of them; these write the same text directly.

use std::fmt::Write as _;
use std::net::IpAddr;

/// Appends `n` in decimal, as `n.to_string()` would.
pub fn push_int(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `ip` as its `Display` writes it.
pub fn push_ip(out: &mut String, ip: &IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_int(out, u64::from(octet));
            }
        }
        // Rare, and its shortest form has rules of its own: std's.
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_as_display() {
        for n in [0, 7, 10, 99, 100, 65535, u64::from(u32::MAX), u64::MAX] {
            let mut out = String::new();
            push_int(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        for ip in [
            "0.0.0.0",
            "10.1.22.255",
            "::1",
            "2001:db8::8",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = String::new();
            push_ip(&mut out, &ip);
            assert_eq!(out, ip.to_string());
        }
    }
}
