//! The names a TLS policy lists (`ciphers`, `ciphersuites`, `curves`), as
//! OpenSSL reads them, so that a list HAProxy would refuse is an error here
//! and not at `haproxy -c`. HAProxy refuses a cipher or suite list of which
//! OpenSSL knows no name (it passes over the others), and a curve list with
//! any name it does not know (both tried on HAProxy 2.6 with OpenSSL 3.0).
//! The names are OpenSSL 3.0's (`openssl ciphers -v ALL:COMPLEMENTOFALL`,
//! `openssl ecparam -list_curves`), with the cipher string keywords of
//! `ciphers(1)` and the groups of later versions. The ciphers 3.0 no longer
//! builds (3DES, RC4, SEED, IDEA: `DES-CBC3-SHA` alone is refused) are not
//! among them: a list of those alone is refused here as there.

/// Which list a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// `ciphers`: TLS 1.2 and older, OpenSSL's cipher string.
    Ciphers,
    /// `ciphersuites`: TLS 1.3.
    Suites,
    /// `curves`: key exchange groups.
    Curves,
}

/// Why HAProxy would refuse `list`, read as `kind`: the message, and the
/// name nearest to the first unknown one. `None` when it takes the list.
pub fn refused(kind: List, list: &str) -> Option<(String, Option<&'static str>)> {
    let mut names = list.split(':').filter(|n| !n.is_empty());
    let near =
        |name: &str, known: &[&'static str]| crate::diag::nearest(name, known.iter().copied());
    match kind {
        List::Curves => {
            let unknown = names.find(|n| !CURVES.contains(n))?;
            Some((
                format!("unknown curve `{}`", super::value::shorten(unknown)),
                near(unknown, CURVES),
            ))
        }
        List::Suites => {
            let names: Vec<&str> = names.collect();
            if names.iter().any(|n| SUITES.contains(n)) {
                return None;
            }
            let first = names.first().copied().unwrap_or("");
            Some((
                format!(
                    "no TLS 1.3 cipher suite of `{}` is known to OpenSSL",
                    super::value::shorten(list)
                ),
                near(first, SUITES),
            ))
        }
        List::Ciphers => {
            // An element adds ciphers unless it starts with `!` or `-`
            // (which take them out) or `+` (which moves them last); `A+B`
            // is the ciphers both name; `@STRENGTH` sorts.
            let mut first_unknown = None;
            for element in names {
                let (adds, rest) = match element.strip_prefix(['!', '-', '+']) {
                    Some(rest) => (false, rest),
                    None => (true, element),
                };
                if rest.starts_with('@') {
                    continue;
                }
                let known = rest
                    .split('+')
                    .all(|part| CIPHERS.contains(&part) || CIPHER_KEYWORDS.contains(&part));
                if known && adds {
                    return None;
                }
                if !known && first_unknown.is_none() {
                    first_unknown = Some(rest);
                }
            }
            let near = first_unknown.and_then(|name| near(name, CIPHERS));
            Some((
                format!(
                    "no cipher of `{}` is known to OpenSSL",
                    super::value::shorten(list)
                ),
                near,
            ))
        }
    }
}

/// What the help says of each list.
pub fn expected(kind: List) -> &'static str {
    match kind {
        List::Curves => {
            "HAProxy refuses a curve list with a name OpenSSL does not know: write names such as \
             `X25519`, `prime256v1`, `secp384r1`, `X448`"
        }
        List::Suites => {
            "HAProxy refuses a list of which OpenSSL knows no name: the TLS 1.3 suites are \
             `TLS_AES_128_GCM_SHA256`, `TLS_AES_256_GCM_SHA384`, `TLS_CHACHA20_POLY1305_SHA256`, \
             `TLS_AES_128_CCM_SHA256`, `TLS_AES_128_CCM_8_SHA256`"
        }
        List::Ciphers => {
            "HAProxy refuses a list of which OpenSSL knows no cipher: write OpenSSL's names \
             (`ECDHE-RSA-AES128-GCM-SHA256`) or keywords (`HIGH:!aNULL`)"
        }
    }
}

const SUITES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
];

const CURVES: &[&str] = &[
    "X25519",
    "X448",
    "P-224",
    "P-256",
    "P-384",
    "P-521",
    "ffdhe2048",
    "ffdhe3072",
    "ffdhe4096",
    "ffdhe6144",
    "ffdhe8192",
    "brainpoolP256r1tls13",
    "brainpoolP384r1tls13",
    "brainpoolP512r1tls13",
    "X25519MLKEM768",
    "SecP256r1MLKEM768",
    "SecP384r1MLKEM1024",
    "X448MLKEM1024",
    "MLKEM512",
    "MLKEM768",
    "MLKEM1024",
    "secp112r1",
    "secp112r2",
    "secp128r1",
    "secp128r2",
    "secp160k1",
    "secp160r1",
    "secp160r2",
    "secp192k1",
    "secp224k1",
    "secp224r1",
    "secp256k1",
    "secp384r1",
    "secp521r1",
    "prime192v1",
    "prime192v2",
    "prime192v3",
    "prime239v1",
    "prime239v2",
    "prime239v3",
    "prime256v1",
    "sect113r1",
    "sect113r2",
    "sect131r1",
    "sect131r2",
    "sect163k1",
    "sect163r1",
    "sect163r2",
    "sect193r1",
    "sect193r2",
    "sect233k1",
    "sect233r1",
    "sect239k1",
    "sect283k1",
    "sect283r1",
    "sect409k1",
    "sect409r1",
    "sect571k1",
    "sect571r1",
    "brainpoolP160r1",
    "brainpoolP160t1",
    "brainpoolP192r1",
    "brainpoolP192t1",
    "brainpoolP224r1",
    "brainpoolP224t1",
    "brainpoolP256r1",
    "brainpoolP256t1",
    "brainpoolP320r1",
    "brainpoolP320t1",
    "brainpoolP384r1",
    "brainpoolP384t1",
    "brainpoolP512r1",
    "brainpoolP512t1",
    "SM2",
];

const CIPHER_KEYWORDS: &[&str] = &[
    "DEFAULT",
    "COMPLEMENTOFDEFAULT",
    "ALL",
    "COMPLEMENTOFALL",
    "HIGH",
    "MEDIUM",
    "LOW",
    "EXP",
    "EXPORT",
    "eNULL",
    "NULL",
    "aNULL",
    "kRSA",
    "aRSA",
    "RSA",
    "kDHr",
    "kDHd",
    "kDH",
    "kDHE",
    "kEDH",
    "DH",
    "DHE",
    "EDH",
    "ADH",
    "kEECDH",
    "kECDHE",
    "ECDH",
    "ECDHE",
    "EECDH",
    "AECDH",
    "aDSS",
    "DSS",
    "aDH",
    "aECDSA",
    "ECDSA",
    "TLSv1.2",
    "TLSv1.0",
    "TLSv1",
    "SSLv3",
    "AES128",
    "AES256",
    "AES",
    "AESGCM",
    "AESCCM",
    "AESCCM8",
    "ARIA128",
    "ARIA256",
    "ARIA",
    "ARIAGCM",
    "CAMELLIA128",
    "CAMELLIA256",
    "CAMELLIA",
    "CHACHA20",
    "3DES",
    "DES",
    "RC4",
    "RC2",
    "IDEA",
    "SEED",
    "MD5",
    "SHA1",
    "SHA",
    "SHA256",
    "SHA384",
    "aGOST",
    "aGOST01",
    "kGOST",
    "kGOST18",
    "GOST94",
    "GOST89MAC",
    "PSK",
    "kPSK",
    "kECDHEPSK",
    "kDHEPSK",
    "kRSAPSK",
    "aPSK",
    "SUITEB128",
    "SUITEB128ONLY",
    "SUITEB192",
    "CBC",
    "kSRP",
    "aSRP",
    "SRP",
];

const CIPHERS: &[&str] = &[
    "ADH-AES128-GCM-SHA256",
    "ADH-AES128-SHA",
    "ADH-AES128-SHA256",
    "ADH-AES256-GCM-SHA384",
    "ADH-AES256-SHA",
    "ADH-AES256-SHA256",
    "ADH-CAMELLIA128-SHA",
    "ADH-CAMELLIA128-SHA256",
    "ADH-CAMELLIA256-SHA",
    "ADH-CAMELLIA256-SHA256",
    "AECDH-AES128-SHA",
    "AECDH-AES256-SHA",
    "AECDH-NULL-SHA",
    "AES128-CCM",
    "AES128-CCM8",
    "AES128-GCM-SHA256",
    "AES128-SHA",
    "AES128-SHA256",
    "AES256-CCM",
    "AES256-CCM8",
    "AES256-GCM-SHA384",
    "AES256-SHA",
    "AES256-SHA256",
    "ARIA128-GCM-SHA256",
    "ARIA256-GCM-SHA384",
    "CAMELLIA128-SHA",
    "CAMELLIA128-SHA256",
    "CAMELLIA256-SHA",
    "CAMELLIA256-SHA256",
    "DHE-DSS-AES128-GCM-SHA256",
    "DHE-DSS-AES128-SHA",
    "DHE-DSS-AES128-SHA256",
    "DHE-DSS-AES256-GCM-SHA384",
    "DHE-DSS-AES256-SHA",
    "DHE-DSS-AES256-SHA256",
    "DHE-DSS-ARIA128-GCM-SHA256",
    "DHE-DSS-ARIA256-GCM-SHA384",
    "DHE-DSS-CAMELLIA128-SHA",
    "DHE-DSS-CAMELLIA128-SHA256",
    "DHE-DSS-CAMELLIA256-SHA",
    "DHE-DSS-CAMELLIA256-SHA256",
    "DHE-PSK-AES128-CBC-SHA",
    "DHE-PSK-AES128-CBC-SHA256",
    "DHE-PSK-AES128-CCM",
    "DHE-PSK-AES128-CCM8",
    "DHE-PSK-AES128-GCM-SHA256",
    "DHE-PSK-AES256-CBC-SHA",
    "DHE-PSK-AES256-CBC-SHA384",
    "DHE-PSK-AES256-CCM",
    "DHE-PSK-AES256-CCM8",
    "DHE-PSK-AES256-GCM-SHA384",
    "DHE-PSK-ARIA128-GCM-SHA256",
    "DHE-PSK-ARIA256-GCM-SHA384",
    "DHE-PSK-CAMELLIA128-SHA256",
    "DHE-PSK-CAMELLIA256-SHA384",
    "DHE-PSK-CHACHA20-POLY1305",
    "DHE-PSK-NULL-SHA",
    "DHE-PSK-NULL-SHA256",
    "DHE-PSK-NULL-SHA384",
    "DHE-RSA-AES128-CCM",
    "DHE-RSA-AES128-CCM8",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES128-SHA",
    "DHE-RSA-AES128-SHA256",
    "DHE-RSA-AES256-CCM",
    "DHE-RSA-AES256-CCM8",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES256-SHA",
    "DHE-RSA-AES256-SHA256",
    "DHE-RSA-ARIA128-GCM-SHA256",
    "DHE-RSA-ARIA256-GCM-SHA384",
    "DHE-RSA-CAMELLIA128-SHA",
    "DHE-RSA-CAMELLIA128-SHA256",
    "DHE-RSA-CAMELLIA256-SHA",
    "DHE-RSA-CAMELLIA256-SHA256",
    "DHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ARIA128-GCM-SHA256",
    "ECDHE-ARIA256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-CCM",
    "ECDHE-ECDSA-AES128-CCM8",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-ECDSA-AES256-CCM",
    "ECDHE-ECDSA-AES256-CCM8",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-ECDSA-ARIA128-GCM-SHA256",
    "ECDHE-ECDSA-ARIA256-GCM-SHA384",
    "ECDHE-ECDSA-CAMELLIA128-SHA256",
    "ECDHE-ECDSA-CAMELLIA256-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-NULL-SHA",
    "ECDHE-PSK-AES128-CBC-SHA",
    "ECDHE-PSK-AES128-CBC-SHA256",
    "ECDHE-PSK-AES256-CBC-SHA",
    "ECDHE-PSK-AES256-CBC-SHA384",
    "ECDHE-PSK-CAMELLIA128-SHA256",
    "ECDHE-PSK-CAMELLIA256-SHA384",
    "ECDHE-PSK-CHACHA20-POLY1305",
    "ECDHE-PSK-NULL-SHA",
    "ECDHE-PSK-NULL-SHA256",
    "ECDHE-PSK-NULL-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-RSA-CAMELLIA128-SHA256",
    "ECDHE-RSA-CAMELLIA256-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-RSA-NULL-SHA",
    "NULL-MD5",
    "NULL-SHA",
    "NULL-SHA256",
    "PSK-AES128-CBC-SHA",
    "PSK-AES128-CBC-SHA256",
    "PSK-AES128-CCM",
    "PSK-AES128-CCM8",
    "PSK-AES128-GCM-SHA256",
    "PSK-AES256-CBC-SHA",
    "PSK-AES256-CBC-SHA384",
    "PSK-AES256-CCM",
    "PSK-AES256-CCM8",
    "PSK-AES256-GCM-SHA384",
    "PSK-ARIA128-GCM-SHA256",
    "PSK-ARIA256-GCM-SHA384",
    "PSK-CAMELLIA128-SHA256",
    "PSK-CAMELLIA256-SHA384",
    "PSK-CHACHA20-POLY1305",
    "PSK-NULL-SHA",
    "PSK-NULL-SHA256",
    "PSK-NULL-SHA384",
    "RSA-PSK-AES128-CBC-SHA",
    "RSA-PSK-AES128-CBC-SHA256",
    "RSA-PSK-AES128-GCM-SHA256",
    "RSA-PSK-AES256-CBC-SHA",
    "RSA-PSK-AES256-CBC-SHA384",
    "RSA-PSK-AES256-GCM-SHA384",
    "RSA-PSK-ARIA128-GCM-SHA256",
    "RSA-PSK-ARIA256-GCM-SHA384",
    "RSA-PSK-CAMELLIA128-SHA256",
    "RSA-PSK-CAMELLIA256-SHA384",
    "RSA-PSK-CHACHA20-POLY1305",
    "RSA-PSK-NULL-SHA",
    "RSA-PSK-NULL-SHA256",
    "RSA-PSK-NULL-SHA384",
    "SRP-AES-128-CBC-SHA",
    "SRP-AES-256-CBC-SHA",
    "SRP-DSS-AES-128-CBC-SHA",
    "SRP-DSS-AES-256-CBC-SHA",
    "SRP-RSA-AES-128-CBC-SHA",
    "SRP-RSA-AES-256-CBC-SHA",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_refused_as_haproxy_refuses_them() {
        // Tried with `haproxy -c` (2.6, OpenSSL 3.0): taken, refused.
        for (kind, list, taken) in [
            (List::Ciphers, "ECDHE-RSA-AES128-GCM-SHA256:XXXX", true),
            (List::Ciphers, "XXXX", false),
            (List::Ciphers, "ECDHE+AESGCM:!aNULL:@STRENGTH", true),
            (List::Ciphers, "HIGH:!aNULL:!MD5", true),
            (List::Ciphers, "!aNULL:@STRENGTH", false),
            (List::Ciphers, "DES-CBC3-SHA", false),
            (List::Ciphers, "AES128-SHA:DES-CBC3-SHA", true),
            (List::Suites, "TLS_AES_128_GCM_SHA256:XXXX", true),
            (List::Suites, "XXXX", false),
            (List::Suites, "TLS_AES_128_CCM_8_SHA256", true),
            (List::Curves, "X25519:XXXX", false),
            (List::Curves, "P-256:secp384r1", true),
            (List::Curves, "brainpoolP256r1", true),
        ] {
            assert_eq!(refused(kind, list).is_none(), taken, "{kind:?} {list}");
        }
        assert_eq!(
            refused(List::Curves, "X25519:prime265v1"),
            Some(("unknown curve `prime265v1`".into(), Some("prime256v1")))
        );
    }
}
