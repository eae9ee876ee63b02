//! The value types of the language and the schemas of every record-like
//! construct (backend, server, health check, TLS policy, ...).

use crate::model::{Balance, ForwardedFor, Mode, RequestId, ServerState, TlsVersion};

/// What a position in the source expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    Str(StrKind),
    Duration,
    /// A duration HAProxy accepts as a timeout (below 2^31 ms, about 24
    /// days), not 0: HAProxy reads a timeout of 0 as none at all (a
    /// connection held forever), or refuses it (a check's interval).
    Timeout,
    /// A duration of the same range that may be 0, where 0 is a setting of
    /// its own: no slow start, a timeout that falls back to another.
    Delay,
    Size,
    Port,
    Ip,
    Cidr,
    /// A host name or an IP address.
    Host,
    /// HTTP statuses: a code (`200`), a class (`"3xx"`), or a list of
    /// them (`[200, 204, "3xx"]`).
    Status,
    /// `host:port`; the host may be omitted (all addresses) only for binds.
    Addr,
    Enum(&'static [&'static str]),
    List(&'static Ty),
    Record(&'static Schema),
    /// A `secret("NAME")`, nothing else.
    Secret,
    /// A printable literal or a secret.
    Text,
    /// No expectation: used for `let` without a type annotation.
    Any,
}

/// The character sets a string may use, per position. See E0204.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrKind {
    /// A file or directory on the HAProxy host.
    FilePath,
    /// An absolute path for a Unix socket (at most 107 bytes).
    SocketPath,
    /// An absolute path of a map file: HAProxy's Runtime API names the map
    /// by the path the configuration wrote.
    MapPath,
    /// Where HAProxy logs: `stdout`, `stderr`, a Unix socket path or `IP:port`.
    LogTarget,
    /// An HTTP request path, starting with `/`.
    UrlPath,
    /// A word without spaces: a cookie, user or protocol name.
    Token,
    /// A colon-separated list of cipher, suite or curve names.
    CipherList,
    /// An HTTP header name.
    HeaderName,
    /// Any printable text (used by `let x: string`).
    Printable,
    /// Printable text that may hold `"` (a health check's `expect_body`,
    /// often a piece of JSON): the emitter escapes it in its quotes.
    Quoted,
}

impl Ty {
    pub fn describe(&self) -> String {
        match self {
            Ty::Int { .. } => "an integer".into(),
            Ty::Bool => "`true` or `false`".into(),
            Ty::Str(StrKind::FilePath | StrKind::SocketPath | StrKind::MapPath) => {
                "a file path string".into()
            }
            Ty::Str(StrKind::UrlPath) => "a URL path string".into(),
            Ty::Str(StrKind::CipherList) => "a cipher list string".into(),
            Ty::Str(StrKind::HeaderName) => "a header name string".into(),
            Ty::Str(_) => "a string".into(),
            Ty::Duration => "a duration (`30s`, `250ms`)".into(),
            Ty::Timeout | Ty::Delay => "a timeout (`30s`, `250ms`)".into(),
            Ty::Size => "a size (`16k`)".into(),
            Ty::Port => "a port".into(),
            Ty::Ip => "an IP address".into(),
            Ty::Cidr => "a CIDR block".into(),
            Ty::Host => "a host name or IP address".into(),
            Ty::Status => "an HTTP status".into(),
            Ty::Addr => "an address `host:port`".into(),
            Ty::Enum(values) => format!("one of {}", list_values(values)),
            Ty::List(inner) => format!("a list of {}", inner.describe_many()),
            Ty::Record(schema) => format!("a {} record `{{ ... }}`", schema.kind),
            Ty::Secret => "`secret(\"NAME\")`".into(),
            Ty::Text => "a string or `secret(\"NAME\")`".into(),
            Ty::Any => "a value".into(),
        }
    }

    /// What values of the type are, in the plural: "a list of CIDR
    /// blocks", not "a list of a CIDR block".
    pub fn describe_many(&self) -> String {
        match self {
            Ty::Int { .. } => "integers".into(),
            Ty::Bool => "`true` or `false`".into(),
            Ty::Str(StrKind::FilePath | StrKind::SocketPath | StrKind::MapPath) => {
                "file path strings".into()
            }
            Ty::Str(StrKind::UrlPath) => "URL path strings".into(),
            Ty::Str(StrKind::CipherList) => "cipher list strings".into(),
            Ty::Str(StrKind::HeaderName) => "header name strings".into(),
            Ty::Str(_) => "strings".into(),
            Ty::Duration => "durations (`30s`, `250ms`)".into(),
            Ty::Timeout | Ty::Delay => "timeouts (`30s`, `250ms`)".into(),
            Ty::Size => "sizes (`16k`)".into(),
            Ty::Port => "ports".into(),
            Ty::Ip => "IP addresses".into(),
            Ty::Cidr => "CIDR blocks".into(),
            Ty::Host => "host names or IP addresses".into(),
            Ty::Status => "HTTP statuses".into(),
            Ty::Addr => "addresses `host:port`".into(),
            Ty::Enum(values) => format!("values among {}", list_values(values)),
            Ty::List(_) => "lists".into(),
            Ty::Record(schema) => format!("{} records `{{ ... }}`", schema.kind),
            Ty::Secret => "`secret(\"NAME\")` references".into(),
            Ty::Text => "strings or `secret(\"NAME\")` references".into(),
            Ty::Any => "values".into(),
        }
    }
}

/// `values` quoted and joined, for a message or a help line. A long list
/// (the environments of a project that has thousands) is cut after
/// [`LISTED`] values: a message is read by a person, and a list in each of
/// thousands of messages would make the output grow in their square.
pub fn list_values(values: &[&str]) -> String {
    let mut list = values
        .iter()
        .take(LISTED)
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if values.len() > LISTED {
        list.push_str(&format!(" and {} more", values.len() - LISTED));
    }
    list
}

/// How many values [`list_values`] shows.
pub const LISTED: usize = 20;

/// The fields a record-like construct accepts.
#[derive(Debug, PartialEq, Eq)]
pub struct Schema {
    /// Shown in messages: "unknown field `x` in server".
    pub kind: &'static str,
    /// Names that may head a record of this kind: `http { ... }`.
    pub heads: &'static [&'static str],
    pub fields: &'static [(&'static str, Ty)],
}

impl Schema {
    /// The schema of a record of this kind headed `head`: this one, or
    /// the variant the head names (`tcp { ... }` for a health check).
    pub fn headed(&'static self, head: &str) -> &'static Schema {
        HEADED
            .iter()
            .find(|(schema, name, _)| std::ptr::eq(*schema, self) && *name == head)
            .map_or(self, |(_, _, variant)| variant)
    }

    /// The field `name` as the schema spells it, and its type.
    pub fn field(&self, name: &str) -> Option<(&'static str, Ty)> {
        self.fields.iter().find(|(n, _)| *n == name).copied()
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().map(|(n, _)| *n)
    }
}

const COUNT: Ty = Ty::Int { min: 1, max: 1000 };
const MAXCONN: Ty = Ty::Int {
    min: 1,
    max: 10_000_000,
};
pub const TLS_VERSION: Ty = Ty::Enum(TlsVersion::NAMES);
pub const HTTP_METHODS: &[&str] = &["GET", "HEAD", "OPTIONS", "POST"];
pub const HTTP_REUSE: &[&str] = &["never", "safe", "aggressive", "always"];
pub const VERIFY: &[&str] = &["required", "none"];
pub const CLIENT_VERIFY: &[&str] = &["required", "optional"];
pub const PATH_KINDS: &[&str] = &["prefix", "exact"];
/// Header names, as a block's `remove_request_headers` lists them.
const HEADER_NAMES: Ty = Ty::List(&Ty::Str(StrKind::HeaderName));
/// `error_pages = [{ status = 503, file = "..." }]`.
const ERROR_PAGES: Ty = Ty::List(&Ty::Record(&ERROR_PAGE));
pub const REDIRECTS: &[&str] = &["https"];

pub static CHECK: Schema = Schema {
    kind: "health check",
    heads: &["http", "tcp"],
    fields: &[
        ("method", Ty::Enum(HTTP_METHODS)),
        ("path", Ty::Str(StrKind::UrlPath)),
        ("expect", Ty::Status),
        ("expect_body", Ty::Str(StrKind::Quoted)),
        ("every", Ty::Timeout),
        ("rise", COUNT),
        ("fall", COUNT),
        ("host", Ty::Host),
        ("port", Ty::Port),
    ],
};

/// `tcp { ... }`: a health check that connects, and asks nothing more.
pub static TCP_CHECK: Schema = Schema {
    kind: "TCP health check",
    heads: &["tcp"],
    fields: &[
        ("every", Ty::Timeout),
        ("rise", COUNT),
        ("fall", COUNT),
        ("port", Ty::Port),
    ],
};

/// The schemas a head picks instead of the one a position expects: a
/// health check headed `tcp` has the fields of [`TCP_CHECK`].
static HEADED: &[(&Schema, &str, &Schema)] = &[(&CHECK, "tcp", &TCP_CHECK)];

pub static SERVER_TLS: Schema = Schema {
    kind: "server TLS",
    heads: &[],
    fields: &[
        ("verify", Ty::Enum(VERIFY)),
        ("ca", Ty::Str(StrKind::FilePath)),
        ("sni", Ty::Host),
    ],
};

pub static SERVER: Schema = Schema {
    kind: "server",
    heads: &[],
    fields: &[
        ("weight", Ty::Int { min: 0, max: 256 }),
        ("state", Ty::Enum(ServerState::NAMES)),
        ("maxconn", MAXCONN),
        ("tls", Ty::Record(&SERVER_TLS)),
        ("check", Ty::Bool),
        ("backup", Ty::Bool),
        ("send_proxy", Ty::Bool),
        ("slowstart", Ty::Delay),
        ("http2", Ty::Bool),
    ],
};

pub static BACKEND: Schema = Schema {
    kind: "backend",
    heads: &[],
    fields: &[
        ("balance", Ty::Enum(Balance::NAMES)),
        ("check", Ty::Record(&CHECK)),
        ("timeout_connect", Ty::Timeout),
        ("timeout_server", Ty::Timeout),
        ("timeout_queue", Ty::Delay),
        ("timeout_tunnel", Ty::Delay),
        ("http_reuse", Ty::Enum(HTTP_REUSE)),
        ("sticky_cookie", Ty::Str(StrKind::Token)),
        ("retries", Ty::Int { min: 0, max: 100 }),
        ("redispatch", Ty::Bool),
        ("compress", Ty::List(&Ty::Str(StrKind::Token))),
        ("strip_prefix", Ty::Str(StrKind::UrlPath)),
        ("add_prefix", Ty::Str(StrKind::UrlPath)),
        ("basic_auth", Ty::Record(&BASIC_AUTH)),
        ("allow", Ty::List(&Ty::Cidr)),
        ("mode", Ty::Enum(Mode::NAMES)),
        ("error_pages", ERROR_PAGES),
        ("remove_request_headers", HEADER_NAMES),
        ("remove_response_headers", HEADER_NAMES),
    ],
};

/// `{ status = 503, file = "/etc/haproxy/errors/503.http" }`: the
/// response HAProxy sends, from a file on its host, where it answers with
/// that status itself.
pub static ERROR_PAGE: Schema = Schema {
    kind: "error page",
    heads: &[],
    fields: &[
        ("status", Ty::Int { min: 100, max: 599 }),
        ("file", Ty::Str(StrKind::FilePath)),
    ],
};

/// The statuses HAProxy 2.6 answers with itself, and takes an error page
/// for (`errorfile`); it refuses any other.
pub const ERROR_STATUSES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 425, 429, 500, 501, 502, 503, 504,
];

/// [`ERROR_STATUSES`] as a help lists them: `200, 400, ..., 504`.
pub fn error_statuses() -> String {
    let statuses: Vec<String> = ERROR_STATUSES.iter().map(u16::to_string).collect();
    statuses.join(", ")
}

pub static BASIC_AUTH: Schema = Schema {
    kind: "basic auth",
    heads: &[],
    fields: &[
        ("realm", Ty::Str(StrKind::Token)),
        ("users", Ty::List(&Ty::Record(&AUTH_USER))),
    ],
};

pub static AUTH_USER: Schema = Schema {
    kind: "user",
    heads: &[],
    fields: &[
        ("name", Ty::Str(StrKind::Token)),
        ("password_hash", Ty::Secret),
    ],
};

pub static RATE_LIMIT: Schema = Schema {
    kind: "rate limit",
    heads: &[],
    fields: &[
        (
            "requests",
            Ty::Int {
                min: 1,
                max: 1_000_000,
            },
        ),
        (
            "connections",
            Ty::Int {
                min: 1,
                max: 1_000_000,
            },
        ),
        ("per", Ty::Timeout),
    ],
};

/// The settings of a frontend that read or write HTTP: refused in a tcp
/// one (E0304).
pub const HTTP_FRONTEND_FIELDS: &[&str] = &[
    "error_pages",
    "remove_request_headers",
    "remove_response_headers",
    "max_body",
    "forwarded_for",
    "forwarded_proto",
    "monitor_uri",
    "request_id",
];

/// The settings of a frontend that only a tcp one has (E0304 in an HTTP
/// one).
pub const TCP_FRONTEND_FIELDS: &[&str] = &["timeout_hello"];

/// The settings of a backend that read or write HTTP: refused in a tcp
/// one (E0304).
pub const HTTP_BACKEND_FIELDS: &[&str] = &[
    "error_pages",
    "remove_request_headers",
    "remove_response_headers",
    "http_reuse",
    "sticky_cookie",
    "compress",
    "strip_prefix",
    "add_prefix",
    "basic_auth",
];

/// The `balance` values that read HTTP (a hash of the request's path):
/// refused in a tcp backend (E0304; HAProxy falls back to round robin).
pub const HTTP_BALANCES: &[&str] = &["uri"];

pub static FRONTEND: Schema = Schema {
    kind: "frontend",
    heads: &[],
    fields: &[
        ("maxconn", MAXCONN),
        ("timeout_client", Ty::Timeout),
        ("timeout_hello", Ty::Delay),
        ("allow", Ty::List(&Ty::Cidr)),
        ("rate_limit", Ty::Record(&RATE_LIMIT)),
        ("max_body", Ty::Size),
        ("forwarded_for", Ty::Enum(ForwardedFor::NAMES)),
        ("forwarded_proto", Ty::Bool),
        ("accept_proxy", Ty::Bool),
        ("monitor_uri", Ty::Str(StrKind::UrlPath)),
        ("request_id", Ty::Enum(RequestId::NAMES)),
        ("mode", Ty::Enum(Mode::NAMES)),
        ("error_pages", ERROR_PAGES),
        ("remove_request_headers", HEADER_NAMES),
        ("remove_response_headers", HEADER_NAMES),
    ],
};

pub static TLS: Schema = Schema {
    kind: "TLS policy",
    heads: &[],
    fields: &[
        ("min_version", TLS_VERSION),
        ("max_version", TLS_VERSION),
        ("ciphers", Ty::Str(StrKind::CipherList)),
        ("ciphersuites", Ty::Str(StrKind::CipherList)),
        ("curves", Ty::Str(StrKind::CipherList)),
        ("alpn", Ty::List(&Ty::Str(StrKind::Token))),
        ("certs", Ty::Str(StrKind::FilePath)),
        ("crt_list", Ty::Str(StrKind::FilePath)),
        ("hsts", Ty::Duration),
        ("tickets", Ty::Bool),
        ("client_ca", Ty::Str(StrKind::FilePath)),
        ("client_verify", Ty::Enum(CLIENT_VERIFY)),
    ],
};

pub static DNS: Schema = Schema {
    kind: "DNS",
    heads: &[],
    fields: &[
        ("nameservers", Ty::List(&Ty::Addr)),
        ("hold_valid", Ty::Delay),
        ("hold_nx", Ty::Delay),
        ("resolve_retries", Ty::Int { min: 1, max: 100 }),
        ("timeout_retry", Ty::Timeout),
    ],
};

pub static DEFAULTS: Schema = Schema {
    kind: "defaults",
    heads: &[],
    fields: &[
        ("timeout_connect", Ty::Timeout),
        ("timeout_client", Ty::Timeout),
        ("timeout_server", Ty::Timeout),
        ("timeout_http_request", Ty::Delay),
        ("timeout_http_keep_alive", Ty::Delay),
        ("timeout_queue", Ty::Delay),
        ("timeout_check", Ty::Delay),
        ("timeout_tunnel", Ty::Delay),
        ("retries", Ty::Int { min: 0, max: 100 }),
        ("redispatch", Ty::Bool),
        ("maxconn", MAXCONN),
        ("socket", Ty::Str(StrKind::SocketPath)),
        ("log", Ty::Str(StrKind::LogTarget)),
        ("routes_map", Ty::Str(StrKind::MapPath)),
        ("dns", Ty::Record(&DNS)),
        ("error_pages", ERROR_PAGES),
    ],
};

pub static STATS: Schema = Schema {
    kind: "stats",
    heads: &[],
    fields: &[
        ("bind", Ty::Addr),
        ("uri", Ty::Str(StrKind::UrlPath)),
        ("user", Ty::Str(StrKind::Token)),
        ("password", Ty::Secret),
        ("refresh", Ty::Duration),
        ("metrics", Ty::Str(StrKind::UrlPath)),
        ("allow", Ty::List(&Ty::Cidr)),
    ],
};

/// The schemas a field may be written in, and how one is written there,
/// for the help of a field written in the wrong one (`weight` in a
/// backend). `{}` stands for the field's name.
pub static FIELD_HOMES: &[(&Schema, &str)] = &[
    (
        &SERVER,
        "in braces after a server's address: `server NAME = ADDRESS { {} = ... }`",
    ),
    (
        &CHECK,
        "in the backend's health check: `check = http { {} = ... }`",
    ),
    (&BACKEND, "in a backend: `backend NAME { {} = ... }`"),
    (
        &RATE_LIMIT,
        "in a frontend's rate limit: `rate_limit = { {} = ... }`",
    ),
    (&FRONTEND, "in a frontend: `frontend NAME { {} = ... }`"),
    (
        &TLS,
        "in a TLS policy: `tls NAME { {} = ... }`, which a bind uses: `bind :443 tls NAME`",
    ),
    (
        &SERVER_TLS,
        "in a server's TLS: `server NAME = ADDRESS { tls = { {} = ... } }`",
    ),
    (&DEFAULTS, "in `defaults { {} = ... }`"),
    (
        &ERROR_PAGE,
        "in an error page: `error_pages = [{ {} = ... }]`",
    ),
    (&STATS, "in `stats { {} = ... }`"),
];

/// Whether `name` is a word that a value may be written as without naming
/// a constant: a value of an enumeration (`leastconn`) or the head of a
/// record (`http`). A constant of that name would stand for it there.
pub fn is_value_word(name: &str) -> bool {
    value_word(name).is_some()
}

/// What the word `name` is as a value, if it is one (see
/// [`is_value_word`]): "a value of `balance` in a backend", "the head of a
/// health check record `http { ... }`". The first place found is named.
pub fn value_word(name: &str) -> Option<String> {
    fn in_ty(ty: &Ty, name: &str) -> bool {
        match ty {
            Ty::Enum(values) => values.contains(&name),
            Ty::List(inner) => in_ty(inner, name),
            _ => false,
        }
    }
    FIELD_HOMES
        .iter()
        .map(|(schema, _)| *schema)
        .chain(GUARDS.iter().map(|rule| rule.options))
        .find_map(|schema| {
            if schema.heads.contains(&name) {
                return Some(format!(
                    "the head of a {} record `{name} {{ ... }}`",
                    schema.kind
                ));
            }
            let (field, _) = schema.fields.iter().find(|(_, ty)| in_ty(ty, name))?;
            Some(format!("a value of `{field}` in a {}", schema.kind))
        })
}

pub static GUARD_TLS_MIN: Schema = Schema {
    kind: "guard",
    heads: &[],
    fields: &[("min", TLS_VERSION)],
};

pub static GUARD_MIN_SERVERS: Schema = Schema {
    kind: "guard",
    heads: &[],
    fields: &[("count", COUNT)],
};

pub static GUARD_NONE: Schema = Schema {
    kind: "guard",
    heads: &[],
    fields: &[],
};

/// A rule that `guard NAME` states.
pub struct GuardRule {
    pub name: &'static str,
    /// The options it accepts: `guard min_servers { count = 3 }`.
    pub options: &'static Schema,
    /// What it requires, for the editor's completion and hover.
    pub summary: &'static str,
}

/// The guard rules.
pub static GUARDS: &[GuardRule] = &[
    GuardRule {
        name: "tls_min_version",
        options: &GUARD_TLS_MIN,
        summary: "every TLS bind allows no version below `min` (`tls12` when not given)",
    },
    GuardRule {
        name: "hsts",
        options: &GUARD_NONE,
        summary: "every TLS bind's policy sets HSTS",
    },
    GuardRule {
        name: "health_check",
        options: &GUARD_NONE,
        summary: "every backend with more than one server has a health check",
    },
    GuardRule {
        name: "server_maxconn",
        options: &GUARD_NONE,
        summary: "every server states `maxconn`",
    },
    GuardRule {
        name: "https_only",
        options: &GUARD_NONE,
        summary: "every plain-HTTP bind redirects to HTTPS, and no route redirects to plain HTTP",
    },
    GuardRule {
        name: "server_tls",
        options: &GUARD_NONE,
        summary: "every server of an HTTP backend is reached over TLS and verifies its \
                  certificate (a tcp backend's bytes may be TLS already)",
    },
    GuardRule {
        name: "rate_limit",
        options: &GUARD_NONE,
        summary: "every frontend limits each client's rate (`rate_limit`)",
    },
    GuardRule {
        name: "min_servers",
        options: &GUARD_MIN_SERVERS,
        summary: "every backend has `count` servers in service (2 when not given): \
                  `ready`, not `backup`, at distinct addresses",
    },
];

/// The guard rule called `name`.
pub fn guard_rule(name: &str) -> Option<&'static GuardRule> {
    GUARDS.iter().find(|rule| rule.name == name)
}

/// The scalar type names usable in `let NAME: TYPE`; `list<T>` holds one
/// of them.
pub const TYPE_NAMES: &[&str] = &[
    "int", "bool", "string", "duration", "size", "port", "ip", "cidr", "host", "address", "path",
];

/// The type a `let` annotation names: a scalar type, or `list<T>` of one.
pub fn type_of(ty: &crate::syntax::ast::TypeName) -> Result<Ty, TypeError> {
    let name = ty.name.name.as_str();
    match (name, &ty.arg) {
        ("list", Some(arg)) => match (&arg.arg, scalar_type(&arg.name.name)) {
            (None, Some(inner)) => Ok(Ty::List(inner)),
            (Some(_), _) if arg.name.name == "list" => Err(TypeError::NestedList),
            (Some(_), Some(_)) => Err(TypeError::Argument(arg.name.name.to_string())),
            (_, None) => Err(TypeError::Unknown(arg.name.name.to_string(), arg.name.span)),
        },
        ("list", None) => Err(TypeError::ListWithoutElement),
        (_, arg) => match (scalar_type(name), arg) {
            (Some(ty), None) => Ok(*ty),
            (Some(_), Some(_)) => Err(TypeError::Argument(name.to_string())),
            (None, _) => Err(TypeError::Unknown(name.to_string(), ty.name.span)),
        },
    }
}

/// Why a `let` annotation names no type.
#[derive(Debug)]
pub enum TypeError {
    /// No type has this name (written at this place).
    Unknown(String, crate::source::Span),
    /// A scalar type given a type argument: `port<int>`.
    Argument(String),
    ListWithoutElement,
    NestedList,
}

/// The scalar types by name, as `'static` values so that a list can hold
/// them.
fn scalar_type(name: &str) -> Option<&'static Ty> {
    Some(match name {
        "int" => &Ty::Int {
            min: 0,
            max: u32::MAX as i64,
        },
        "bool" => &Ty::Bool,
        "string" => &Ty::Str(StrKind::Printable),
        "duration" => &Ty::Duration,
        "size" => &Ty::Size,
        "port" => &Ty::Port,
        "ip" => &Ty::Ip,
        "cidr" => &Ty::Cidr,
        "host" => &Ty::Host,
        "address" => &Ty::Addr,
        "path" => &Ty::Str(StrKind::FilePath),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_cut() {
        assert_eq!(list_values(&["a", "b"]), "`a`, `b`");
        let names: Vec<String> = (0..LISTED + 5).map(|i| format!("e{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let listed = list_values(&names);
        assert!(listed.starts_with("`e0`, `e1`"), "{listed}");
        assert!(
            listed.ends_with(&format!("`e{}` and 5 more", LISTED - 1)),
            "{listed}"
        );
        assert_eq!(
            list_values(&names[..LISTED]).matches('`').count(),
            2 * LISTED
        );
    }
}
