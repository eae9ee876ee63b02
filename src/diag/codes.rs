//! The one registry of diagnostic codes.
//!
//! A code, once published, keeps its number and meaning forever: add new
//! codes at the end of their group, never renumber. `haptic explain CODE`
//! prints [`Code::explanation`].

use std::fmt;

/// How serious a diagnostic is. Warnings can be raised to errors or silenced
/// through `[lints]` in `haptic.toml`; errors cannot be lowered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, $sev:ident, $name:literal, $explain:literal; )*) => {
        /// Every diagnostic haptic can emit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable code, `E0200` or `W0001`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The kebab-case name used in `[lints]` and as the Code Quality `check_name`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }

            /// The long explanation with an example, as `haptic explain` prints it.
            pub fn explanation(self) -> &'static str {
                match self { $(Code::$variant => $explain,)* }
            }

            /// What the code means, in one line (its doc comment), as
            /// `haptic explain` without a code lists it.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => concat!($($doc),*).trim_ascii(),)* }
            }
        }
    };
}

codes! {
    /// The source does not follow the grammar.
    Syntax = "E0001", Error, "syntax",
"The source does not follow haptic's grammar. After a syntax error the parser
starts again at the next top-level item that follows a closed block, or at
the next line that begins with a top-level keyword, so each broken item is
reported, and the items that parse (and the other files) are
still checked. Errors that the broken items may explain (an unknown backend
whose name is written in them, say) are left out until the file parses.

Example:

    backend api {
      server api1 = 10.0.0.1:8080 {      // missing closing brace
    }

Fix: close every `{` and write each item as the README's language section shows.";

    /// A source file is not valid UTF-8.
    NotUtf8 = "E0002", Error, "not-utf8",
"haptic sources must be UTF-8. The byte offset of the first invalid sequence
is reported.

Fix: re-encode the file as UTF-8 (`iconv -f latin1 -t utf-8`).";

    /// Braces or brackets are nested deeper than the compiler accepts, or a
    /// constant is defined through too many others.
    TooDeep = "E0003", Error, "too-deep",
"Blocks, records, lists and type arguments may be nested at most 32 levels
deep, and a constant may be defined through at most 64 others (`let a = b`,
`let b = c`, ...). Deeper nesting or longer chains are never needed for a
HAProxy deployment and are refused so that the compiler's stack stays
bounded.

Fix: flatten the construct, for example with `let` constants; give a
constant of a long chain a literal value.";

    /// An imported file or standard-library module does not exist.
    ImportNotFound = "E0004", Error, "import-not-found",
"An `import` names a project file that does not exist, or a module of the
standard library that haptic does not ship.

Example:

    import std.tsl        // the module is `std.tls`
    import \"teams/shop.hap\"

Fix: correct the path (relative to the directory of `haptic.toml`) or the
module name; `help:` lists the standard modules.";

    /// `haptic.toml` cannot be read or has invalid content.
    Manifest = "E0005", Error, "manifest",
"The project manifest `haptic.toml` is missing a required key, has an
unknown key, or a value of the wrong type; or its project name is not
one word (the outputs' headers carry it). Every such mistake is reported
in one run, but a TOML syntax error, which stops the reading.

Example:

    [project]
    name = \"shop\"
    haproxy = \"2.6\"

Fix: follow the manifest reference in the README.";

    /// A name is used but never defined.
    Undefined = "E0100", Error, "undefined",
"A reference names a constant, TLS policy or module member that is not
defined in this environment.

Example:

    let app_port: port = 8080
    server a = 10.0.0.1:app_prot     // `app_port`

Fix: define the name, or correct the spelling (`help:` gives the nearest
defined name).";

    /// The same name is defined twice.
    Duplicate = "E0101", Error, "duplicate",
"Two definitions of the same kind share a name in one environment: two
backends, two servers in a backend, two `let` constants, two fields of one
record.

Example:

    backend api { ... }
    backend api { ... }

Fix: rename or remove one of them. Definitions in different branches of
`if env == ...` do not clash.";

    /// A route or default points at a backend that does not exist.
    UnknownBackend = "E0102", Error, "unknown-backend",
"A `route ... -> NAME` or `default -> NAME` names a backend that is not
defined in the environment being compiled.

Example:

    backend web { ... }
    frontend www { default -> wbe }

Fix: correct the name or define the backend in every environment that
routes to it.";

    /// A bind refers to a TLS policy that does not exist.
    UnknownTls = "E0103", Error, "unknown-tls",
"A `bind ... tls NAME` names a TLS policy that is not defined.

Example:

    tls public = tls.intermediate { certs = \"/etc/haproxy/certs/\" }
    frontend www { bind :443 tls pubilc }

Fix: correct the name, or define it with `tls NAME = tls.intermediate { ... }`.";

    /// A condition, a guard or the manifest's `production` list names an
    /// environment that is not declared.
    UnknownEnv = "E0104", Error, "unknown-env",
"`if env == NAME`, `guard ... in NAME` or `production = [...]` in
`haptic.toml` names an environment that no `env NAME` declares. Such a
branch would silently never apply, and such a production environment
would silently go without the production lints and guards.

Fix: declare the environment with `env NAME`, or correct the spelling.";

    /// A record or block sets a field that its kind does not have.
    UnknownField = "E0105", Error, "unknown-field",
"A backend, server, frontend, health check, TLS policy or guard has no field
of that name.

Example:

    server a = 10.0.0.1:80 { wieght = 10 }     // `weight`

Fix: correct the field name; `help:` gives the nearest one and the fields
that exist.";

    /// A required field is missing.
    MissingField = "E0106", Error, "missing-field",
"A construct lacks a field it needs, for example a TLS policy used on a bind
without `certs`.

Fix: add the field.";

    /// A `let` constant refers to itself, directly or through others.
    CyclicLet = "E0107", Error, "cyclic-let",
"`let` constants may refer to each other, but not in a cycle.

Example:

    let a: port = b
    let b: port = a

Fix: give one of them a literal value.";

    /// A value has the wrong type for its position.
    TypeMismatch = "E0200", Error, "type-mismatch",
"A value of one type is written where another is expected, for example a
string where a duration is needed.

Example:

    check = http { every = \"2s\" }     // a duration is written `2s`

Fix: write a value of the expected type; the README lists the value types.";

    /// A number is outside the range its type allows.
    OutOfRange = "E0201", Error, "out-of-range",
"A port must be within 1..=65535, a weight within 0..=256, a rise/fall count
within 1..=1000, an HTTP status within 100..=599, and so on.

Example:

    server a = 10.0.0.1:99999

Fix: use a value inside the range that `help:` gives.";

    /// A value is not one of the allowed names of an enumeration, or a TLS
    /// policy's list names none OpenSSL knows.
    InvalidEnum = "E0202", Error, "invalid-enum",
"An enumeration (balance algorithm, server state, TLS version, HTTP method,
...) has a fixed set of values. So have the names a TLS policy lists in
`ciphers`, `ciphersuites` and `curves`: OpenSSL's. HAProxy refuses a curve
list with a name OpenSSL does not know, and a cipher or suite list of
which it knows no name; so does haptic.

Example:

    balance = roundrobbin     // `roundrobin`

Fix: use one of the values that `help:` lists.";

    /// An IP address, CIDR or host name is malformed.
    InvalidAddress = "E0203", Error, "invalid-address",
"An IPv4 or IPv6 address, CIDR block or host name is not well formed.

Example:

    server a = 10.0.0.300:80

Fix: write a valid address (`10.0.0.30`, `[2001:db8::1]`, `\"db.internal\"`).";

    /// A string holds characters that are not allowed in its position.
    UnsafeString = "E0204", Error, "unsafe-string",
"Strings reach `haproxy.cfg` and the Runtime API. To make injection
impossible, each position accepts a restricted set of characters: no control
characters (newline, NUL, ...), and, depending on the position, no spaces,
quotes, `#`, `;`, `$` or backslashes.

Example:

    route host \"api.example.com\\nbind :1\" -> api

Fix: remove the character; host names and paths never need it.";

    /// A string contains `${...}` that is not a declared secret.
    RawInterpolation = "E0205", Error, "raw-interpolation",
"HAProxy expands `${NAME}` in its configuration. haptic only lets that happen
through `secret(\"NAME\")`, so every environment variable the output depends on
is declared and visible in review.

Example:

    request_header \"X-Token\" = \"${TOKEN}\"

Fix: write `secret(\"TOKEN\")`.";

    /// A literal looks like key material or a password.
    LiteralSecret = "E0206", Error, "literal-secret",
"Secrets stay references. A string that contains a PEM block (`-----BEGIN`),
a literal written where a password is expected, and a literal value of a
header that carries a credential (`Authorization`, `Proxy-Authorization`,
names ending in `-Auth`, and names with `api-key`, `token`, `secret` or
`password`: `X-Api-Key`) are
refused.

Example:

    stats { password = \"hunter2\" }
    request_header \"Authorization\" = \"Bearer 8f2c...\"

Fix: `password = secret(\"STATS_PASSWORD\")`, `request_header
\"Authorization\" = secret(\"UPSTREAM_AUTH\")`, and give HAProxy the
variables in its environment.";

    /// A secret name is not a valid environment variable name.
    InvalidSecretName = "E0207", Error, "invalid-secret-name",
"`secret(\"NAME\")` lowers to `${NAME}`; NAME must be an environment variable
name: an uppercase letter or `_`, then uppercase letters, digits or `_`, at
most 64 characters.

Fix: `secret(\"STATS_PASSWORD\")`.";

    /// A value is longer than the compiler accepts.
    TooLong = "E0208", Error, "too-long",
"Names are limited to 64 characters and strings to 1024 bytes, well within
HAProxy's line length, so that no output line is truncated.

Fix: shorten the value.";

    /// Settings that contradict each other.
    Contradiction = "E0300", Error, "contradiction",
"Two settings cannot both hold. For example:

- a `redirect https` bind on a frontend that has no TLS bind;
- a server `state = maint` together with being the only server of a
  default backend;
- a TLS policy whose minimum version is above its maximum;
- two TLS binds of one frontend whose policies ask for different `hsts`
  (a frontend sends one `Strict-Transport-Security` header for all);
- a plain bind without `redirect https` in a frontend whose other plain
  bind has it (the frontend redirects every plain-HTTP request);
- a `request_header` that the frontend's `forwarded_for`,
  `forwarded_proto` or `request_id` sets already (or a `response_header`
  that `request_id` sets);
- a stats block whose `metrics` path is its page's own `uri`;
- a TLS policy's `client_verify` without the `client_ca` that client
  certificates are checked with.

Fix: remove one of the two settings (or add the missing one).";

    /// A frontend can route no request.
    NoRoute = "E0301", Error, "no-route",
"A frontend has neither routes nor a `default -> BACKEND`, so every request
would be answered with 503.

Fix: add `default -> BACKEND`.";

    /// The project declares no environment.
    NoEnvironment = "E0302", Error, "no-environment",
"A project must declare at least one environment with `env NAME`; haptic
writes one output per environment.

Fix: add `env production` (and `env staging`, ...).";

    /// Two binds in one environment listen on the same address.
    DuplicateBind = "E0303", Error, "duplicate-bind",
"Two binds, in the same or in different frontends or the stats page's,
listen on the same address and port. HAProxy starts all the same: it
binds the port for each of them (with SO_REUSEPORT), and the system
shares the connections out between them at random, so that some of the
clients of one frontend reach the other, or the stats page.

    frontend www { bind :8080  default -> web }
    stats { bind = :8080, user = \"ops\", password = secret(\"STATS_PASSWORD\") }

Fix: give each bind its own port, or each an address of its own.";

    /// A setting that needs HTTP in a `mode = tcp` block, or traffic sent to a backend of the other mode.
    WrongMode = "E0304", Error, "wrong-mode",
"A frontend or backend with `mode = tcp` passes the bytes of each
connection on as they come: it reads no HTTP request, so it cannot route
by path or by header, redirect, set headers, count requests, compress, authenticate
users or set cookies. And a frontend sends its traffic only to backends
of its own mode: HAProxy refuses to start when an HTTP frontend names a
TCP backend, or the other way round.

    backend orders_db {
      mode = tcp
      server pg1 = 10.0.3.10:5432
    }

    frontend postgres {
      mode = tcp
      bind 10.0.0.2:5432
      default -> orders_db
    }

    frontend passthrough {
      mode = tcp
      bind :443
      route host \"api.example.com\" -> api_tls   // by the TLS server name
      default -> web_tls
    }

A `route host` of a tcp frontend matches the server name a client asks
for in its TLS hello (SNI): the connection is passed through, still
encrypted, to a backend whose servers hold the certificate, or, on a
bind with `tls`, HAProxy ends TLS and passes the decrypted bytes on. A
protocol that starts TLS inside its own (Postgres's SSLRequest) sends
no hello first, and its connections go to the default; one whose server
speaks first (SMTP, MySQL) waits five seconds for a hello before it
does: give it a frontend without host routes.

Fix: remove the setting, or make the block `mode = http` (the default);
route a tcp frontend to tcp backends only.";

    /// A server at an address and port that HAProxy itself binds.
    ServerLoopsBack = "E0305", Error, "server-loops-back",
"A server's address and port are one that HAProxy binds itself: a
loopback address (`127.0.0.1`, `::1`) with a bind of that port on every
address or on that one, or the very address of a bind. Each request
sent to the server comes back to HAProxy's frontend, which may send it
to the server again, until the connections run out; and an application
on that host cannot bind the port HAProxy holds.

    backend web { server app = 127.0.0.1:8080 }
    frontend www { bind :8080  default -> web }   // the app's port

Fix: point the server at the port its application listens on, or bind
the frontend to another port.";

    /// Two servers of a backend that balances by a hash have one number.
    ServerNumberClash = "E0306", Error, "server-number-clash",
"In a backend that balances by a hash (`balance = source` or `uri`),
haptic numbers each server by its name (HAProxy's `id`: the first 31
bits of the SHA-256 of the name), so that its place on the hash ring is
the same however the other servers change, at runtime or after a reload.
Two names of one backend came out with the same number, which HAProxy
refuses; it happens to about one backend in ten million of 25 servers.

    backend api {
      balance = source
      server app21640 = 10.0.0.1:8080
      server app45309 = 10.0.0.2:8080   // the same number as app21640
    }

Fix: rename one of the two servers.";

    /// A guardrail of the project is violated.
    Guardrail = "E0400", Error, "guardrail",
"A `guard` declared by the team does not hold in some environment. The
message names the guard and the object that violates it. A guard holds in
every environment, or in those named after `in`:

    guard tls_min_version { min = tls12 } in production
    guard health_check
    guard min_servers { count = 3 } in staging, production
    guard server_tls in production
    guard rate_limit in production

Fix: change the object, or (after discussion) the guard.";

    /// A guard names a rule that does not exist.
    UnknownGuard = "E0401", Error, "unknown-guard",
"`guard NAME` names a rule haptic does not know.

Fix: use one of the rules `help:` lists.";

    /// A backend is never routed to.
    UnusedBackend = "W0001", Warning, "unused-backend",
"A backend is defined but no route or default of any frontend sends traffic
to it in that environment.

Fix: route to it, or remove it.";

    /// A route can never match because an earlier route matches first.
    ShadowedRoute = "W0002", Warning, "shadowed-route",
"Routes are tried in order. A route whose host, path, header and client
networks are already covered by an earlier route never matches (a route
without a header or networks covers those with them: a canary's route by
header comes before its host's own; a route from `10.0.0.0/8` covers one
from `10.1.0.0/16`, the office before the company); nor does a route to the exact path
the frontend answers itself (`monitor_uri`), which comes before any route,
nor one from networks that the frontend's `allow` refuses, nor one by a
request header that the frontend removes (`remove_request_headers`) or
sets to another value (`request_header`) as requests come in. A route by a
header that the frontend sets to the value it wants (or to any, for a
route of any value) takes every request of its host and path, and covers
the routes after it as a route without the header would.

Example:

    route path prefix \"/api/\" -> api
    route path prefix \"/api/v2/\" -> api_v2     // never reached

Fix: put the more specific route first (or give `monitor_uri` a path of
its own).";

    /// A weak TLS policy reaches a production environment.
    WeakTls = "W0003", Warning, "weak-tls",
"A TLS policy that allows TLS 1.0 or 1.1 (Mozilla's `old` profile) is used
by a bind in a production environment (see `production` in `haptic.toml`).

Fix: use `tls.intermediate` or `tls.modern`.";

    /// A TLS connection to a server is not verified.
    UnverifiedServerTls = "W0004", Warning, "unverified-server-tls",
"A server uses TLS with `verify = none`: the connection is encrypted but
the server's certificate is not checked.

Fix: `tls = { ca = \"/etc/ssl/certs/ca-certificates.crt\" }`.";

    /// A backend has no server in an environment.
    EmptyBackend = "W0005", Warning, "empty-backend",
"A backend has no server in some environment; every request routed to it
is answered with 503.

Fix: add a server, or stop routing to the backend in that environment.";

    /// Every server of a backend is in maintenance.
    AllServersDown = "W0006", Warning, "all-servers-down",
"Every server of a backend is declared `maint`: the backend answers 503.

Fix: put at least one server in `ready` or `drain`.";

    /// A source file of the project is not imported.
    UnimportedFile = "W0007", Warning, "unimported-file",
"A `.hap` file in the project's directory is not reached from the entry
file (`main.hap` unless `entry` says otherwise) through imports, so nothing
in it is compiled: its backends, frontends and constants are in no output.
Not looked at: what the project's `.gitignore` or `.ignore` leaves out,
hidden directories, the outputs, and directories that hold their own
`haptic.toml` (other projects).

Fix: import it from the entry file or from a file the entry imports
(`import \"teams/new.hap\"`), or delete it. Files kept on purpose (drafts,
snippets for documentation) can be listed in an `.ignore` file, or the lint
turned off in `haptic.toml`: `[lints] unimported-file = \"allow\"`.";

    /// A `let` constant or a `tls` policy is never referred to.
    UnusedDefinition = "W0008", Warning, "unused-definition",
"A `let` constant or a `tls` policy of the project is defined but nothing
refers to it: no field, server, bind, route or other definition names it,
in any environment. It is still checked, but it reaches no output.

A definition that another definition uses counts as used, even when that
one is itself unused: remove the unused one, and the next run says whether
what it used is still needed. A use in any environment counts: a constant
used only inside `if env == production { ... }` is used. Not reported for a
definition whose value is already an error, nor while a name of the sources
is unknown (`E0100`, `E0103`): the unknown name may be a misspelt use.

Example:

    let old_port: port = 8080      // nothing refers to `old_port`
    tls legacy = tls.old { certs = \"/etc/haproxy/certs/\" }   // no bind uses it

Fix: use it, or remove it. Constants kept on purpose can be allowed in
`haptic.toml`: `[lints] unused-definition = \"allow\"`.";

    /// Two servers of one backend have the same address and port.
    DuplicateAddress = "W0009", Warning, "duplicate-address",
"Two servers of one backend have the same address and port, in some
environment. They are one machine under two names: the backend counts it
twice in its balancing, and its redundancy is less than the server list
says. Usually a copied line whose address was not changed. Host names
compare without regard to case; an IPv4 address and a host name that
resolves to it are not compared.

Example:

    backend api {
      server api1 = 10.0.1.10:8080
      server api2 = 10.0.1.10:8080   // the same as `api1`
    }

Fix: give the server its own address or port, or remove it. A backend
that lists one machine twice on purpose can allow the lint in
`haptic.toml`: `[lints] duplicate-address = \"allow\"`.";

    /// A constant or TLS policy is named as a value of the language.
    ShadowedValue = "W0010", Warning, "shadowed-value",
"A `let` constant or a `tls` policy has the name of a value of the language:
an enumeration's value (`leastconn`, `drain`, `none`) or a record's head
(`http`). A name written where a value goes is looked up as a constant
first, so wherever the value is written, it now means the constant.

Example:

    let leastconn: int = 5
    backend api {
      balance = leastconn        // the integer 5, not the algorithm
    }

Fix: give the constant another name (`leastconn_weight`).";

    /// A host route stays a rule in an environment with a routes map.
    NotAMapEntry = "W0011", Warning, "not-a-map-entry",
"The environment has a routes map (`defaults { routes_map = ... }`), whose
entries change without a reload, but a route that matches a host name
(alone or with a path) is not one of its entries: a route without a
host, written before it, can match some of the same requests. Each
frontend looks the map up before its rules, so making the route an entry
would move it ahead of that route, and change where those requests go.
The route stays a `use_backend` rule, and every change of it needs a
reload. (A host route after a route of the same host that can match some
of its requests and that the lookup would not take first (the host alone,
a shorter prefix), or after a wildcard over it, is not an entry either,
and is not reported: the general route comes after the specific ones on
purpose.)

Example:

    route path exact \"/healthz\" -> health
    route host \"api.example.com\" -> api     // not an entry: `/healthz` first

Fix: write the host route before the other route, when requests for that
host need not go there first (`api.example.com/healthz` then goes to `api`).
A route of a host with the path prefix `/` is reported too: its key would
be the host's own; the host alone takes the same requests (and `OPTIONS *`)
and can be an entry.
A route that must stay after it can allow the lint in `haptic.toml`:
`[lints] not-a-map-entry = \"allow\"`.";

    /// A backend's `strip_prefix` matches no request routed to it.
    PrefixNeverStripped = "W0012", Warning, "prefix-never-stripped",
"A backend takes `strip_prefix` off the paths it forwards, but every route
to it matches paths that never start with that prefix (where a segment
ends): the prefix is never taken off, which usually means the prefix or a
route path is misspelt, or a version moved on in one and not the other.
A route without a path (a host alone) and the default route can send
any path, so a backend they reach is not reported.

Example:

    backend search { strip_prefix = \"/v1/search\" ... }
    route path prefix \"/v2/search/\" -> search    // `/v2/...` is sent as it is

Fix: make the prefix the start of the routes' paths (`/v2/search`), or
remove `strip_prefix`.";

    /// A backend with basic authentication is reached over plain HTTP.
    ClearTextCredentials = "W0013", Warning, "clear-text-credentials",
"A backend asks for passwords (`basic_auth`), and a frontend that routes to
it takes plain HTTP on a bind that does not redirect to HTTPS: a client's
password crosses the network readable by anyone on the path (Basic
authentication only encodes it). A bind on a loopback address is not
reported: its traffic does not leave the host.

Example:

    backend ops { basic_auth = { users = [...] } ... }
    frontend f {
      bind :80                    // passwords in clear
      route path prefix \"/ops/\" -> ops
    }

Fix: serve the frontend over TLS (`bind :443 tls POLICY`) and redirect its
plain-HTTP bind (`bind :80 redirect https`), or bind it to a loopback
address when a proxy on the host terminates TLS.";

    /// The metrics of the stats bind answer every client.
    OpenMetrics = "W0014", Warning, "open-metrics",
"The stats block serves HAProxy's Prometheus exporter (`metrics`), which
asks for no password, on every address of the host and to every client:
anyone who reaches the port reads the names of the backends and servers,
their states and their traffic.

Example:

    stats {
      bind = :8404
      metrics = \"/metrics\"      // open to the world
      ...
    }

Fix: list the networks of the scrapers (`allow = [10.0.0.0/8]`: others get
403, the stats page too), or bind the stats to an internal or loopback
address (`bind = 10.0.0.5:8404`).";

    /// A tcp backend's HTTP health check asks its servers on the port they serve.
    HttpCheckOfTcp = "W0015", Warning, "http-check-of-tcp",
"A backend with `mode = tcp` passes connections to servers that most
often speak no HTTP (a database, a message broker), and its HTTP health
check sends them an HTTP request on the port they serve: a server that
does not answer it with an HTTP status fails the check, and HAProxy takes
every server out of service.

Example:

    backend orders_db {
      mode = tcp
      check = checks.healthz          // GET /healthz on port 5432
      server pg1 = 10.0.3.10:5432
    }

Fix: check that a connection is accepted (`check = checks.connect`, or
`tcp { every = 2s }`), or send the HTTP request to the port of the
servers' HTTP endpoint (`check = http { path = \"/primary\", port =
8008 }`, as Patroni answers for Postgres). Where the servers do speak HTTP
on that port (a tcp backend of plain HTTP servers), silence the warning
with `[lints] http-check-of-tcp = \"allow\"`.";

    /// A tcp frontend ends TLS with a policy that offers HTTP/2 by ALPN.
    H2OnTcp = "W0016", Warning, "h2-on-tcp",
"A frontend with `mode = tcp` that ends TLS passes the decrypted bytes
on as they come. Its TLS policy offers `h2` by ALPN (the standard
profiles do, for HTTP frontends): a client that speaks HTTP takes it and
sends HTTP/2, which the frontend passes to servers that may speak only
HTTP/1.1, or another protocol altogether.

Example:

    tls public = tls.intermediate { certs = \"/etc/haproxy/certs/\" }
    frontend mqtt {
      mode = tcp
      bind :8883 tls public          // offers h2 and http/1.1
      default -> brokers
    }

Fix: give the bind a policy whose `alpn` names the service's own
protocols, or none: `tls brokers_tls = tls.intermediate { certs =
\"/etc/haproxy/certs/\", alpn = [] }` (`[\"http/1.1\"]` for HTTP/1.1
servers). Where the servers do speak HTTP/2, silence the warning with
`[lints] h2-on-tcp = \"allow\"`.";

    /// Every client a route takes is refused by its backend's `allow`.
    RefusedClients = "W0017", Warning, "refused-clients",
"A backend with `allow` answers 403 to clients outside its networks (a
tcp backend closes their connections). A route whose clients all lie
outside them, its own networks (`from`) within the frontend's `allow`, or
every client where neither is written, sends the backend only requests
it refuses.

Example:

    backend admin {
      allow = [10.8.0.0/16]                 // the VPN
      server a1 = 10.0.5.10:8080
    }
    frontend www {
      bind :443 tls public
      route path prefix \"/admin/\" from [10.1.0.0/16] -> admin   // the office
    }

Fix: add the route's networks to the backend's `allow`, or send those
clients to another backend.";

    /// A tcp frontend's clients time out before its wait for their TLS hello ends.
    HelloOutlastsClient = "W0018", Warning, "hello-outlasts-client",
"A tcp frontend that routes by `host` and passes TLS through reads the
server name from each client's TLS hello, and waits for it up to
`timeout_hello` (5s unless written): a client that sends other bytes goes
to the default at once, one that sends nothing (a protocol whose server
speaks first: SMTP, MySQL) when the wait ends. HAProxy closes a
connection that sends nothing when the client's timeout ends
(`timeout_client`, the frontend's or the defaults'): where that comes
first, such a client is cut off instead of reaching the default.

Example:

    frontend edge {
      mode = tcp
      bind :8443
      timeout_client = 3s
      route host \"api.example.com\" -> api   // waits 5s for a hello
      default -> legacy                     // its server speaks first
    }

Fix: make `timeout_hello` shorter than the client's timeout
(`timeout_hello = 1s`), or the client's timeout longer.";
}

impl Code {
    /// Looks a code up by its text (`E0200`), case-insensitively.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text) || c.name() == text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        let mut names = HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert!(names.insert(code.name()), "duplicate name {}", code.name());
            let s = code.as_str();
            let prefix = match code.default_severity() {
                Severity::Error => 'E',
                Severity::Warning => 'W',
            };
            assert!(s.starts_with(prefix) && s.len() == 5, "{s}");
            assert!(!code.explanation().is_empty());
        }
    }
}
