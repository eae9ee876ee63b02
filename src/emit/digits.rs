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
        // Spelled in a buffer on the stack and appended once: an output
        // has an address for every server, twice.
        IpAddr::V4(v4) => {
            let mut text = [0u8; 15];
            let mut len = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    text[len] = b'.';
                    len += 1;
                }
                if octet >= 100 {
                    text[len] = b'0' + octet / 100;
                    len += 1;
                }
                if octet >= 10 {
                    text[len] = b'0' + octet / 10 % 10;
                    len += 1;
                }
                text[len] = b'0' + octet % 10;
                len += 1;
            }
            out.push_str(std::str::from_utf8(&text[..len]).expect("ASCII digits and dots"));
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
            "100.109.99.9",
            "255.255.255.255",
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
