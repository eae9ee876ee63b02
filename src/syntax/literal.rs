//! Literals as both parsers read them: the escapes of a string and the forms
//! of a `numeric` token. One implementation, so that the hand-written parser
//! and the pest reference build the same values and the same diagnostics.

use super::ast::*;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;

/// A string literal from the text between its quotes (`raw`), with escapes
/// resolved; a bad escape is reported at the whole literal (`span`).
pub fn string(raw: &str, span: Span, diags: &mut Vec<Diagnostic>) -> StrLit {
    if !raw.contains('\\') {
        return StrLit {
            value: raw.into(),
            span,
        };
    }
    let mut value = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => value.push('"'),
            Some('\\') => value.push('\\'),
            Some('n') => value.push('\n'),
            Some('t') => value.push('\t'),
            Some('0') => value.push('\0'),
            other => {
                // A control character is named, not repeated (see
                // ARCHITECTURE.md: diagnostics repeat no control character).
                let shown = match other {
                    None => "end of string".to_string(),
                    Some('\n' | '\r') => "a backslash at the end of a line".to_string(),
                    Some(c) => format!("`\\{}`", c.escape_debug()),
                };
                diags.push(
                    Diagnostic::new(
                        Code::Syntax,
                        span,
                        format!(
                            "expected an escape (`\\\"`, `\\\\`, `\\n`, `\\t`, `\\0`), found {shown}"
                        ),
                    )
                    .help("write a backslash as `\\\\`"),
                );
            }
        }
    }
    StrLit {
        value: value.into(),
        span,
    }
}

/// Tells apart the forms of a `numeric` token (`text`, written at `span`):
/// an integer, a quantity (`30s`, `16k`), an IPv4 address, a CIDR block, or
/// an address whose host is an IPv4 address.
pub fn numeric(text: &str, span: Span, diags: &mut Vec<Diagnostic>) -> ExprKind {
    let at = |start: usize, end: usize| span.slice(start..end);
    // One pass over the token: where its `:` and its first letter are,
    // whether it has a `/`, and how many `.`.
    let (mut colon, mut slash, mut alpha, mut dots) = (None, false, None, 0);
    for (i, b) in text.bytes().enumerate() {
        match b {
            b':' if colon.is_none() => colon = Some(i),
            b'/' => slash = true,
            b'.' => dots += 1,
            b if b.is_ascii_alphabetic() && alpha.is_none() => alpha = Some(i),
            _ => {}
        }
    }
    if let Some(colon) = colon {
        let (host, port) = (&text[..colon], &text[colon + 1..]);
        let port_span = at(colon + 1, text.len());
        let port = if port.bytes().all(|b| b.is_ascii_digit()) {
            AddrPort::Number(port.into(), port_span)
        } else {
            let ident = Ident {
                name: port.into(),
                span: port_span,
            };
            AddrPort::Ref(Box::new(Path {
                segments: vec![ident],
                span: port_span,
            }))
        };
        let host = AddrHost::Ipv4(host.into(), at(0, colon));
        return ExprKind::Address(Box::new(Address {
            host: Some(host),
            port,
        }));
    }
    if slash {
        return ExprKind::Cidr(text.into());
    }
    let split = alpha.unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    const UNITS: &[&str] = &["us", "ms", "s", "m", "h", "d", "k", "K", "M", "g", "G"];
    // Letters come after the digits and dots: the dots are the number's.
    match (dots, unit) {
        (0, "") => ExprKind::Int(number.into()),
        (0, unit) if UNITS.contains(&unit) => {
            ExprKind::Quantity(Box::new((Name::from(number), Name::from(unit))))
        }
        (0, unit) => {
            let mut diag = Diagnostic::new(
                Code::Syntax,
                at(split, text.len()),
                format!("unknown unit `{unit}`"),
            )
            .help(
                "durations are written in `us`, `ms`, `s`, `m`, `h` or `d`; sizes in `k`, `M` or `g`",
            );
            // `1y`, `2w`: longer units in days.
            let days = match unit {
                "y" | "Y" => Some(365),
                "w" | "W" => Some(7),
                _ => None,
            };
            if let Some(days) = days
                .zip(number.parse::<u64>().ok())
                .and_then(|(d, n)| n.checked_mul(d))
            {
                diag = diag.help(format!("in days: `{days}d`"));
            }
            diags.push(diag);
            ExprKind::Invalid
        }
        (3, "") => ExprKind::Ipv4(text.into()),
        _ => {
            diags.push(
                Diagnostic::new(
                    Code::Syntax,
                    span,
                    format!("expected a whole number or an IPv4 address, found `{text}`"),
                )
                .help(
                    "numbers are whole: write a duration or size in a smaller unit (`1500ms`, not `1.5s`)",
                )
                .help("an IPv4 address has four parts: `10.0.0.1`"),
            );
            ExprKind::Invalid
        }
    }
}
