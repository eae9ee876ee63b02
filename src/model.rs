//! The checked model: one [`Env`] per environment, every value typed and
//! validated. Emitters read only this. Spans are kept (as `origin`) solely so
//! that lints can point at the source; no emitter reads them.

use std::net::IpAddr;

use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Env {
    pub name: String,
    /// The HAProxy version the project targets (`haproxy` in
    /// `haptic.toml`): what goes live without a reload depends on it.
    pub haproxy: Haproxy,
    pub production: bool,
    pub defaults: Defaults,
    pub stats: Option<Stats>,
    pub frontends: Vec<Frontend>,
    pub backends: Vec<Backend>,
}

impl Env {
    /// The path of the environment's routes map: `defaults { routes_map }`,
    /// where an HTTP frontend looks routes up in it. With tcp frontends
    /// alone, HAProxy would not load the map (no rule names it), so there
    /// is none to write, to converge or to plan.
    pub fn routes_map(&self) -> Option<&str> {
        self.defaults
            .routes_map
            .as_deref()
            .filter(|_| self.frontends.iter().any(|f| f.mode == Mode::Http))
    }

    /// The names of the secrets the environment's configuration expands
    /// from HAProxy's environment at start, sorted, each once: the stats
    /// page's password, the password hashes of `basic_auth`, the values of
    /// headers set or matched.
    pub fn secrets(&self) -> Vec<&str> {
        fn headers<'a>(set: &'a [Header], got: &'a [Header]) -> impl Iterator<Item = &'a Text> {
            set.iter().chain(got).map(|h| &h.value)
        }
        let mut texts: Vec<&Text> = Vec::new();
        texts.extend(self.stats.as_ref().map(|s| &s.password));
        for fe in &self.frontends {
            texts.extend(headers(&fe.request_headers, &fe.response_headers));
            let routes = fe
                .routes
                .iter()
                .filter_map(|r| r.header.as_ref()?.value.as_ref());
            texts.extend(routes);
        }
        let mut names: Vec<&str> = Vec::new();
        for be in &self.backends {
            texts.extend(headers(&be.request_headers, &be.response_headers));
            if let Some(auth) = &be.basic_auth {
                names.extend(auth.users.iter().map(|(_, hash)| hash.as_str()));
            }
        }
        names.extend(texts.into_iter().filter_map(|text| match text {
            Text::Secret(name) => Some(name.as_str()),
            Text::Literal(_) => None,
        }));
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// A HAProxy version haptic writes for (`haproxy = "2.6"` in `haptic.toml`).
/// Every directive haptic writes is valid from 2.6 on; the version decides
/// only what the Runtime API takes, so what a plan can do without a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Haproxy {
    V2_6,
    V2_8,
    V3_0,
}

impl Haproxy {
    /// Every supported version, oldest first.
    pub const ALL: [Haproxy; 3] = [Haproxy::V2_6, Haproxy::V2_8, Haproxy::V3_0];

    /// As `haptic.toml` writes it: `2.6`.
    pub fn name(self) -> &'static str {
        match self {
            Haproxy::V2_6 => "2.6",
            Haproxy::V2_8 => "2.8",
            Haproxy::V3_0 => "3.0",
        }
    }

    /// The version `haptic.toml` names (`2.6`), if haptic supports it.
    pub fn from_name(name: &str) -> Option<Haproxy> {
        Haproxy::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The supported version a running HAProxy's own version
    /// (`2.6.12-1+deb12u4`, as `show info` and `haproxy -v` give it) is
    /// at least: its branch, or the newest supported one before it. `None`
    /// for a HAProxy older than every supported version, or unreadable.
    pub fn of_release(release: &str) -> Option<Haproxy> {
        let (major, minor, _) = Haproxy::release_numbers(release)?;
        Haproxy::ALL
            .into_iter()
            .rev()
            .find(|v| (major, minor) >= v.branch())
    }

    /// This version's major and minor numbers (`2.6`: 2 and 6).
    fn branch(self) -> (u32, u32) {
        match self {
            Haproxy::V2_6 => (2, 6),
            Haproxy::V2_8 => (2, 8),
            Haproxy::V3_0 => (3, 0),
        }
    }

    /// Whether `release` (`2.8.30-0ubuntu0.24.04.2`, `2.8`) is one of this
    /// branch.
    pub fn has_release(self, release: &str) -> bool {
        Haproxy::release_numbers(release).is_some_and(|(m, n, _)| (m, n) == self.branch())
    }

    /// Whether `add server` takes `cookie`, which a server of a backend
    /// with sticky sessions has, in every release of this branch: from
    /// 3.0 on. 2.6.18 and 2.8.8 took it by a backport (their changelogs:
    /// "MINOR: server: allow cookie for dynamic servers"), so 2.6.12 and
    /// 2.8.5 refuse it
    /// ("'cookie' option is not accepted for dynamic server") and 2.8.30
    /// and 3.0.11 take it, the added server keeping its sessions (all four
    /// tried by the tests). A plan, which knows the target's branch alone,
    /// asks 2.6 and 2.8 for a reload that a later release would not need,
    /// never the reverse; `apply` asks the running release (see
    /// [`Runtime`]).
    pub fn adds_sticky_servers(self) -> bool {
        self >= Haproxy::V3_0
    }

    /// The patch number of the first release of this branch whose `add
    /// server` takes `cookie` (2.6.18, 2.8.8, 3.0.0).
    fn first_sticky_patch(self) -> u32 {
        match self {
            Haproxy::V2_6 => 18,
            Haproxy::V2_8 => 8,
            Haproxy::V3_0 => 0,
        }
    }

    /// A release's major, minor and patch numbers (`2.8.30-0ubuntu0.24.04.2`:
    /// 2, 8 and 30), the patch `None` where it is not a number (`2.9-dev1`).
    fn release_numbers(release: &str) -> Option<(u32, u32, Option<u32>)> {
        let mut parts = release.split(['.', '-', '+', ' ']);
        let mut number = || parts.next()?.parse::<u32>().ok();
        Some((number()?, number()?, number()))
    }

    /// Whether `release` is of this branch and its `add server` takes
    /// `cookie`.
    fn release_adds_sticky_servers(self, release: &str) -> bool {
        self.has_release(release)
            && Haproxy::release_numbers(release)
                .is_some_and(|(_, _, patch)| patch >= Some(self.first_sticky_patch()))
    }
}

/// What the Runtime API that a plan or `apply` counts on takes: a
/// version's (a plan's: the older target), and for `apply` the running
/// release's, where it is of that version's branch: a backport makes a
/// later release take more than its branch's first ones.
#[derive(Debug, Clone, Copy)]
pub struct Runtime<'a> {
    pub version: Haproxy,
    /// As `show info` gives it (`2.8.30-0ubuntu0.24.04.2`).
    pub release: Option<&'a str>,
}

impl Runtime<'_> {
    /// The Runtime API of `version`, whatever its release.
    pub fn of(version: Haproxy) -> Runtime<'static> {
        Runtime {
            version,
            release: None,
        }
    }

    /// Whether `add server` takes `cookie` (see
    /// [`Haproxy::adds_sticky_servers`]).
    pub fn adds_sticky_servers(&self) -> bool {
        self.version.adds_sticky_servers()
            || self
                .release
                .is_some_and(|r| self.version.release_adds_sticky_servers(r))
    }

    /// Why a server of a backend with sticky sessions is not added at
    /// runtime, where [`Self::adds_sticky_servers`] says no.
    pub fn sticky_refusal(&self) -> String {
        let (major, minor) = self.version.branch();
        let first = format!("{major}.{minor}.{}", self.version.first_sticky_patch());
        match self.release.filter(|r| self.version.has_release(r)) {
            Some(release) => format!(
                "`add server` refuses the `cookie` option that sticky sessions need on HAProxy \
                 {release} ({first} and 3.0 take it)"
            ),
            // A plan's target, or a running release of another branch
            // (the target older) or unreadable.
            None => format!(
                "`add server` refuses the `cookie` option that sticky sessions need on HAProxy \
                 {} before {first}, which haptic counts on here (3.0 takes it)",
                self.version.name()
            ),
        }
    }
}

/// Durations are kept in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    pub timeout_connect: u64,
    pub timeout_client: u64,
    pub timeout_server: u64,
    pub timeout_http_request: u64,
    pub timeout_http_keep_alive: u64,
    pub timeout_queue: u64,
    pub timeout_check: u64,
    /// How long a tunnel (a WebSocket, after its upgrade) may stay idle;
    /// HAProxy's own default is the client and server timeouts.
    pub timeout_tunnel: Option<u64>,
    pub retries: u32,
    /// Whether a request's last retry may go to another server than the
    /// one it was bound to (`option redispatch`).
    pub redispatch: bool,
    pub maxconn: Option<u32>,
    /// The Runtime API socket written into `global`.
    pub socket: String,
    pub log: String,
    /// Where the environment's routes map is on the HAProxy host: when
    /// set, a route that matches a host name, alone or with a path, is an
    /// entry of that map (`out/<env>/routes.map`), changed at
    /// runtime without a reload, instead of a `use_backend` rule, where
    /// that changes no routing (see `lower::RouteMap`,
    /// [`Frontend::map_fit`]).
    pub routes_map: Option<String>,
    /// How servers named by DNS are resolved (`dns = { ... }`); `None`:
    /// by HAProxy's built-in `default` resolvers, from /etc/resolv.conf.
    pub dns: Option<Dns>,
    /// The error pages of every frontend and backend that sets none of
    /// its own for their status.
    pub error_pages: Vec<ErrorPage>,
}

/// The response HAProxy sends where it answers with `status` itself (503
/// when no server is up, 403 to a client outside `allow`, ...): the HTTP
/// response, headers and all, in `file` on its host (`errorfile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPage {
    pub status: u16,
    pub file: String,
}

/// The environment's own DNS resolution, HAProxy's `resolvers haptic`
/// section: the servers named by DNS use it instead of `default`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dns {
    /// The name servers asked (`IP:port`); none: those of
    /// /etc/resolv.conf.
    pub nameservers: Vec<(IpAddr, u16)>,
    /// How long a valid answer is kept (HAProxy's default: 10s).
    pub hold_valid: Option<u64>,
    /// How long a name that does not exist keeps its last address.
    pub hold_nx: Option<u64>,
    pub resolve_retries: Option<u32>,
    pub timeout_retry: Option<u64>,
}

/// HTTP Basic authentication (`basic_auth = { ... }`): a request without
/// the credentials of one of the users gets a 401 asking for them.
#[derive(Debug, Clone, PartialEq)]
pub struct BasicAuth {
    /// What the browser shows the user is logging in to.
    pub realm: String,
    /// Each user's name and the secret (an environment variable HAProxy
    /// expands at start) holding their password's crypt(3) hash.
    pub users: Vec<(String, String)>,
}

/// The name of the `resolvers` section of [`Dns`].
pub const RESOLVERS: &str = "haptic";

#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub bind: Listen,
    /// Where the bind is written.
    pub bind_origin: Span,
    pub uri: String,
    pub user: String,
    pub password: Text,
    pub refresh: u64,
    /// Where HAProxy's Prometheus exporter answers on the stats bind
    /// (`/metrics`), without the page's password.
    pub metrics: Option<String>,
    /// Client networks that reach the bind; all when empty.
    pub allow: Vec<String>,
}

/// A string that is either literal or a reference to an environment variable
/// that HAProxy expands at start (a secret).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Text {
    Literal(String),
    Secret(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Ip(IpAddr),
    /// A DNS name, resolved by HAProxy at start.
    Name(String),
}

/// A listening address; `ip` is `None` for all addresses (`:443`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub ip: Option<IpAddr>,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Frontend {
    pub name: String,
    /// The template it takes fields from, if any: the plan says which
    /// changes came through it.
    pub template: Option<Box<Template>>,
    pub mode: Mode,
    pub binds: Vec<Bind>,
    pub routes: Vec<Route>,
    /// Where the requests no route matches go: a backend, or a redirect.
    pub default: Option<Target>,
    pub maxconn: Option<u32>,
    pub timeout_client: Option<u64>,
    /// How long a tcp frontend that reads its clients' TLS hellos (see
    /// [`Frontend::reads_hello`]) waits for one (ms), where written.
    pub timeout_hello: Option<u64>,
    /// Requests announcing a larger body (`Content-Length`, bytes) get 413.
    pub max_body: Option<u64>,
    /// Client networks allowed in (CIDR); everyone when empty.
    pub allow: Vec<String>,
    pub rate_limit: Option<RateLimit>,
    /// Whether the backends are told the client's address in
    /// `X-Forwarded-For`, and what becomes of one the client sent.
    pub forwarded_for: Option<ForwardedFor>,
    /// Whether the backends are told the client's scheme in
    /// `X-Forwarded-Proto` (`https` on a TLS bind, else `http`).
    pub forwarded_proto: bool,
    /// Whether every bind reads the PROXY protocol header (v1 or v2) that
    /// a load balancer in front sends, and takes the client's address
    /// from it; a connection without one is refused.
    pub accept_proxy: bool,
    /// A path HAProxy answers itself with 200 while it runs (`monitor-uri`),
    /// before any rule: for the health checks of a load balancer in front.
    pub monitor_uri: Option<String>,
    pub request_id: Option<RequestId>,
    pub error_pages: Vec<ErrorPage>,
    /// Headers taken off requests as they come in, before the frontend
    /// sets its own.
    pub remove_request_headers: Vec<String>,
    /// Headers taken off responses as they come back, before the
    /// frontend sets its own.
    pub remove_response_headers: Vec<String>,
    pub request_headers: Vec<Header>,
    pub response_headers: Vec<Header>,
    pub origin: Span,
}

/// The template a block takes fields from (`backend api with service`),
/// and the fields it took: those its body does not set.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    pub fields: Vec<&'static str>,
}

/// What a frontend or a backend carries: HTTP requests, which it reads
/// (routes by path, headers, redirects, ...), or the bytes of TCP
/// connections, which it passes on as they come (a database, a message
/// broker, TLS passed through to the servers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Http,
    Tcp,
}

impl Mode {
    pub const NAMES: &'static [&'static str] = &["http", "tcp"];

    pub fn from_name(name: &str) -> Option<Mode> {
        Some(match name {
            "http" => Mode::Http,
            "tcp" => Mode::Tcp,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// What a frontend does with `X-Forwarded-For`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedFor {
    /// The client's own header is removed first, so the backends read
    /// only the address HAProxy saw: for HAProxy at the edge.
    Replace,
    /// The client's address is added after what the client (another
    /// proxy in front) sent.
    Append,
}

impl ForwardedFor {
    pub const NAMES: &'static [&'static str] = &["replace", "append"];

    pub fn from_name(name: &str) -> Option<ForwardedFor> {
        Some(match name {
            "replace" => ForwardedFor::Replace,
            "append" => ForwardedFor::Append,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// What a frontend does with `X-Request-ID`, the request's identifier
/// that the backends log and pass on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestId {
    /// Every request gets a new one (a UUID), whatever the client sent:
    /// for HAProxy at the edge.
    Replace,
    /// A request that has one keeps it (a proxy in front set it); one
    /// without gets a new one.
    Keep,
}

impl RequestId {
    pub const NAMES: &'static [&'static str] = &["replace", "keep"];

    pub fn from_name(name: &str) -> Option<RequestId> {
        Some(match name {
            "replace" => RequestId::Replace,
            "keep" => RequestId::Keep,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// The header [`RequestId`] sets.
pub const REQUEST_ID_HEADER: &str = "X-Request-ID";

/// At most `requests` HTTP requests, and at most `connections` new
/// connections, per client address in any `per` milliseconds (one or
/// both); more requests are answered 429, more connections refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: Option<u32>,
    pub connections: Option<u32>,
    pub per: u64,
}

impl Frontend {
    pub fn redirects_to_https(&self) -> bool {
        self.binds.iter().any(|b| b.redirect_https)
    }

    /// Where each route sends its requests, in order, then the default's.
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.routes.iter().map(|r| &r.target).chain(&self.default)
    }

    /// The backends the frontend sends requests to, in order: each route's
    /// that does not redirect (with the route), then the default's (with
    /// `None`: it takes any request no route took).
    pub fn routed(&self) -> impl Iterator<Item = (&str, Option<&Route>)> {
        self.routes
            .iter()
            .filter_map(|r| Some((r.target.backend()?, Some(r))))
            .chain(
                self.default
                    .as_ref()
                    .and_then(Target::backend)
                    .map(|b| (b, None)),
            )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bind {
    pub listen: Listen,
    pub tls: Option<TlsPolicy>,
    pub redirect_https: bool,
    pub origin: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// A host name, an IP address, or `*.` and a domain: a wildcard for
    /// every name under the domain, at any depth (`*.example.com` matches
    /// `api.example.com` and `a.b.example.com`, not `example.com`).
    pub host: Option<String>,
    pub path: Option<PathMatch>,
    /// A request header it needs, of one value or of any (boxed, as the
    /// networks: most routes have neither, and a frontend may have
    /// thousands of routes).
    pub header: Option<Box<HeaderMatch>>,
    /// The networks of the clients it takes (CIDR blocks as written).
    pub from: Option<Box<[String]>>,
    pub target: Target,
    pub origin: Span,
}

/// A route's match of a request header (`header "X-Canary" "always"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMatch {
    /// As written; HTTP compares header names without case.
    pub name: String,
    /// The value it must have, all of it, case and all; `None` for any.
    pub value: Option<Text>,
}

impl HeaderMatch {
    /// Whether a request that has `other` always has this one: the same
    /// header (without case), and this one of any value or of the same.
    pub fn covers(&self, other: &HeaderMatch) -> bool {
        self.name.eq_ignore_ascii_case(&other.name)
            && (self.value.is_none() || self.value == other.value)
    }
}

/// Where a route sends the requests it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A backend, by name.
    Backend(String),
    /// A permanent redirect (308) to this URL, the request's path and
    /// query appended: `https://new.example.com`.
    Redirect(String),
    /// An answer of HAProxy's own with this status (`-> deny 404`), one
    /// of those it answers with itself (and takes an error page for).
    Deny(u16),
}

impl Target {
    /// The backend's name, for a route to a backend.
    pub fn backend(&self) -> Option<&str> {
        match self {
            Target::Backend(name) => Some(name),
            Target::Redirect(_) | Target::Deny(_) => None,
        }
    }

    /// The backend a routes map entry of a route to it holds: the route's
    /// own, or the one that answers with the refusal's status (a backend
    /// by the status alone, so that an entry does not change when other
    /// refusals come or go); `None` for a redirect.
    pub fn map_backend(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Target::Backend(name) => Some(name.as_str().into()),
            Target::Deny(status) => Some(deny_backend(*status).into()),
            Target::Redirect(_) => None,
        }
    }

    /// How a message names it: `` `api` ``, `` a redirect to `https://...` ``.
    pub fn describe(&self) -> String {
        match self {
            Target::Backend(name) => format!("`{name}`"),
            Target::Redirect(url) => format!("a redirect to `{url}`"),
            Target::Deny(status) => format!("a refusal with {status}"),
        }
    }
}

/// The backend that answers with `status` itself (`deny.404`), for the
/// routes that refuse requests with it.
pub fn deny_backend(status: u16) -> String {
    format!("deny.{status}")
}

/// Why a route is not an entry of the routes map (see
/// [`Frontend::map_fit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotEntry {
    /// It matches a path alone.
    NoHost,
    Wildcard,
    Ipv6,
    /// Its path prefix is `/`, whose key is the host's own.
    RootPrefix,
    /// It matches a request header too.
    Header,
    /// It matches the client's network too.
    From,
    Redirect,
    /// It is a route of a `mode = tcp` frontend, by the TLS server name.
    Tcp,
    /// The route of this index, written before it, can match some of its
    /// requests, and is not an entry that the lookup takes first (an exact
    /// path, or a longer prefix, of its host).
    After(usize),
}

impl Frontend {
    /// How long a frontend waits for a client's TLS hello where
    /// `timeout_hello` is not written (ms).
    pub const HELLO_WAIT: u64 = 5_000;

    /// Whether the frontend reads the server name of each client's TLS
    /// hello before it routes: a tcp frontend that routes by host and
    /// passes TLS through (one that ends TLS reads the name from its own
    /// session).
    pub fn reads_hello(&self) -> bool {
        self.mode == Mode::Tcp
            && self.binds.iter().all(|b| b.tls.is_none())
            && self.routes.iter().any(|r| r.host.is_some())
    }

    /// How long the frontend waits for a client's TLS hello (ms): a
    /// client that sends other bytes goes to the default at once, one
    /// that sends nothing when the wait ends.
    pub fn hello_wait(&self) -> u64 {
        self.timeout_hello.unwrap_or(Self::HELLO_WAIT)
    }

    /// For each route, whether it is an entry of the routes map (when the
    /// environment has one; see `lower::RouteMap`), or why it stays a
    /// `use_backend` rule. An entry is a host name, alone, with an exact
    /// path or with a path prefix, that sends to a backend. The lookups
    /// come before every rule: the entry of the request's host and exact
    /// path first, then the one of its host with the longest prefix of its
    /// path (the host alone being the shortest). So a route can be an
    /// entry only where that changes nothing: every route written before
    /// it that can match some of its requests is an entry the lookups take
    /// first (which first-match routing would pick first too): an exact
    /// path of its host, or a longer prefix of its host. An exact path is
    /// taken first of all, so nothing that can match its request may come
    /// before it. A route without a host, a wildcard over its host, or a
    /// shorter prefix of its host before it keeps it a rule.
    ///
    /// Near-linear in the routes: the routes seen are kept in tables by
    /// scope (no host, a wildcard's domain, a host) and by what they match,
    /// and a route looks up its own scopes (its host's domains by its own
    /// suffixes) and the prefixes of its own path.
    pub fn map_fit(&self) -> Vec<Result<(), NotEntry>> {
        /// The routes seen of one scope, by what they match: the first
        /// index of each.
        #[derive(Default)]
        struct Seen<'a> {
            /// With no path.
            any: Option<usize>,
            /// With a path prefix.
            prefixes: std::collections::BTreeMap<&'a str, usize>,
            /// With a path prefix, and not entries.
            blocking: std::collections::BTreeMap<&'a str, usize>,
            /// With an exact path.
            exacts: std::collections::BTreeMap<&'a str, usize>,
            /// With an exact path, and not entries.
            blocking_exacts: std::collections::BTreeMap<&'a str, usize>,
        }
        impl<'a> Seen<'a> {
            /// The first route seen here that keeps a route of path `path`
            /// out of the map: one with no path, a prefix of its path
            /// (itself included), and for a prefix (`""` for none) a
            /// longer prefix or an exact path under it that is not an
            /// entry, for an exact path the same exact path.
            fn blocker(&self, path: Result<&str, &str>) -> Option<usize> {
                let (Ok(p) | Err(p)) = path;
                let under = |table: &std::collections::BTreeMap<&'a str, usize>| {
                    table
                        .range::<str, _>((std::ops::Bound::Included(p), std::ops::Bound::Unbounded))
                        .next()
                        .filter(|(q, _)| q.starts_with(p))
                        .map(|(_, i)| *i)
                };
                let shorter = (1..=p.len())
                    .filter(|&k| p.is_char_boundary(k))
                    .find_map(|k| self.prefixes.get(&p[..k]).copied());
                let longer = match path {
                    Ok(_) => [under(&self.blocking), under(&self.blocking_exacts)],
                    Err(x) => [self.exacts.get(x).copied(), None],
                };
                [self.any, shorter]
                    .into_iter()
                    .chain(longer)
                    .flatten()
                    .min()
            }
            fn insert(&mut self, i: usize, path: Option<&'a PathMatch>, entry: bool) {
                match path {
                    None => {
                        self.any.get_or_insert(i);
                    }
                    Some(PathMatch::Prefix(q)) => {
                        self.prefixes.entry(q).or_insert(i);
                        if !entry {
                            self.blocking.entry(q).or_insert(i);
                        }
                    }
                    Some(PathMatch::Exact(x)) => {
                        self.exacts.entry(x).or_insert(i);
                        if !entry {
                            self.blocking_exacts.entry(x).or_insert(i);
                        }
                    }
                }
            }
        }
        if self.mode == Mode::Tcp {
            return vec![Err(NotEntry::Tcp); self.routes.len()];
        }
        let mut hostless = Seen::default();
        // Wildcards under their domain with its leading dot
        // (`.example.com`), hosts in lower case.
        let mut domains: crate::hash::Map<String, Seen> = Default::default();
        let mut hosts: crate::hash::Map<String, Seen> = Default::default();
        let mut fits = Vec::with_capacity(self.routes.len());
        for (i, route) in self.routes.iter().enumerate() {
            // `Ok(prefix)`, `""` for none, or `Err(exact path)`.
            let path = match &route.path {
                None => Ok(Ok("")),
                Some(PathMatch::Prefix(p)) if p == "/" => Err(NotEntry::RootPrefix),
                Some(PathMatch::Prefix(p)) => Ok(Ok(p.as_str())),
                Some(PathMatch::Exact(x)) => Ok(Err(x.as_str())),
            };
            let host = route.host.as_deref().map(str::to_ascii_lowercase);
            let fit = match (&host, path) {
                (None, _) => Err(NotEntry::NoHost),
                (Some(_), _) if route.host_suffix().is_some() => Err(NotEntry::Wildcard),
                (Some(host), _) if host.contains(':') => Err(NotEntry::Ipv6),
                (Some(_), Err(why)) => Err(why),
                (Some(_), _) if route.header.is_some() => Err(NotEntry::Header),
                (Some(_), _) if route.from.is_some() => Err(NotEntry::From),
                (Some(_), _) if matches!(route.target, Target::Redirect(_)) => {
                    Err(NotEntry::Redirect)
                }
                (Some(host), Ok(p)) => {
                    // Routes without a host first, then wildcards, then the
                    // host's own: `W0011` tells of the first kind.
                    let wildcard = || {
                        host.match_indices('.')
                            .filter_map(|(at, _)| domains.get(&host[at..])?.blocker(p))
                            .min()
                    };
                    let own = || hosts.get(host.as_str())?.blocker(p);
                    match hostless.blocker(p).or_else(wildcard).or_else(own) {
                        Some(earlier) => Err(NotEntry::After(earlier)),
                        None => Ok(()),
                    }
                }
            };
            let seen = match (host, route.host_suffix()) {
                (None, _) => &mut hostless,
                (Some(_), Some(suffix)) => domains.entry(suffix.to_ascii_lowercase()).or_default(),
                (Some(host), None) => hosts.entry(host).or_default(),
            };
            seen.insert(i, route.path.as_ref(), fit.is_ok());
            fits.push(fit);
        }
        fits
    }

    /// Why a route is not an entry of the routes map, in words: "route
    /// \`path exact /healthz\` before it can match the same requests".
    pub fn why_not_entry(&self, why: NotEntry) -> String {
        match why {
            NotEntry::NoHost => "it matches a path alone".into(),
            NotEntry::Wildcard => "it matches a wildcard host".into(),
            NotEntry::Ipv6 => "it matches an IPv6 address".into(),
            NotEntry::RootPrefix => {
                "its path prefix is `/` (the host alone, without a path, can be an entry)".into()
            }
            NotEntry::Header => "it matches a request header".into(),
            NotEntry::From => "it matches the client's network".into(),
            NotEntry::Redirect => "it redirects".into(),
            NotEntry::Tcp => "it is a route of a `mode = tcp` frontend".into(),
            NotEntry::After(earlier) => format!(
                "route `{}` before it can match the same requests",
                self.routes[earlier].key()
            ),
        }
    }
}

/// How a route's key names the value its header must have: the literal as
/// written (a literal holds no `"`, so `secret("NAME")` is no literal's).
pub fn header_value(value: &Text) -> String {
    match value {
        Text::Literal(value) => value.clone(),
        Text::Secret(name) => format!("secret(\"{name}\")"),
    }
}

/// How a plan or a message names a route that matches `host` and `path`
/// (see [`Route::key`]); `apply` names a routes map's key by it too.
pub fn route_key(host: Option<&str>, path: Option<&PathMatch>) -> String {
    let mut parts = Vec::new();
    if let Some(host) = host {
        parts.push(format!("host {host}"));
    }
    match path {
        Some(PathMatch::Prefix(p)) => parts.push(format!("path prefix {p}")),
        Some(PathMatch::Exact(p)) => parts.push(format!("path exact {p}")),
        None => {}
    }
    parts.join(" ")
}

impl Route {
    /// How a plan or a message names the route by what it matches:
    /// `host api.example.com path prefix /v1/`.
    pub fn key(&self) -> String {
        let mut key = self.identity();
        if let Some(value) = self.header.as_ref().and_then(|h| h.value.as_ref()) {
            key.push(' ');
            key.push_str(&header_value(value));
        }
        if let Some(from) = &self.from {
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str(&format!("from {}", from.join(",")));
        }
        key
    }

    /// What makes a route the same route in two versions (see `plan`):
    /// its key without the header's value and the client networks, which
    /// may change (a canary's value, an office's networks).
    pub fn identity(&self) -> String {
        let mut key = route_key(self.host.as_deref(), self.path.as_ref());
        if let Some(header) = &self.header {
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str(&format!("header {}", header.name));
        }
        key
    }

    /// The domain a wildcard host stands under, with its leading dot
    /// (`.example.com` for `*.example.com`); `None` for any other host.
    pub fn host_suffix(&self) -> Option<&str> {
        self.host.as_deref()?.strip_prefix('*')
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    Exact(String),
    Prefix(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub name: String,
    pub value: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    pub const NAMES: &'static [&'static str] = &["tls10", "tls11", "tls12", "tls13"];

    pub fn from_name(name: &str) -> Option<TlsVersion> {
        Some(match name {
            "tls10" => TlsVersion::Tls10,
            "tls11" => TlsVersion::Tls11,
            "tls12" => TlsVersion::Tls12,
            "tls13" => TlsVersion::Tls13,
            _ => return None,
        })
    }

    /// HAProxy's spelling (`TLSv1.2`).
    pub fn haproxy(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLSv1.0",
            TlsVersion::Tls11 => "TLSv1.1",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// Where a TLS bind finds its certificates: never key material in sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certs {
    /// A PEM file, or a directory of them (ending in `/`).
    Path(String),
    /// A crt-list file (certificates with per-certificate options and SNI).
    List(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TlsPolicy {
    pub name: String,
    pub min_version: TlsVersion,
    pub max_version: Option<TlsVersion>,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    pub alpn: Vec<String>,
    pub certs: Certs,
    /// HSTS `max-age` in seconds.
    pub hsts: Option<u64>,
    pub tickets: bool,
    /// Client certificates asked for, if any.
    pub client_certs: Option<ClientCerts>,
}

/// The client certificates a TLS policy asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCerts {
    /// The CA file that signs them.
    pub ca: String,
    /// Whether a client must present one (`required`) or may (`optional`).
    pub required: bool,
}

impl ClientCerts {
    /// `required` or `optional`, as HAProxy's `verify` and the sources
    /// write it.
    pub fn verify(&self) -> &'static str {
        if self.required {
            "required"
        } else {
            "optional"
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    Uri,
    Random,
}

impl Balance {
    pub const NAMES: &'static [&'static str] = &[
        "roundrobin",
        "static-rr",
        "leastconn",
        "first",
        "source",
        "uri",
        "random",
    ];

    pub fn from_name(name: &str) -> Option<Balance> {
        Some(match name {
            "roundrobin" => Balance::RoundRobin,
            "static-rr" => Balance::StaticRr,
            "leastconn" => Balance::LeastConn,
            "first" => Balance::First,
            "source" => Balance::Source,
            "uri" => Balance::Uri,
            "random" => Balance::Random,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether HAProxy 2.6 accepts `add server` on a backend with this
    /// algorithm (hash algorithms are written with `hash-type consistent`).
    pub fn is_dynamic(self) -> bool {
        !matches!(self, Balance::StaticRr)
    }

    /// Hash-based algorithms, written with `hash-type consistent`.
    pub fn is_hash(self) -> bool {
        matches!(self, Balance::Source | Balance::Uri)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    pub name: String,
    /// The template it takes fields from, if any (see [`Template`]).
    pub template: Option<Box<Template>>,
    pub mode: Mode,
    pub balance: Balance,
    pub check: Option<HealthCheck>,
    pub timeout_connect: Option<u64>,
    pub timeout_server: Option<u64>,
    pub timeout_queue: Option<u64>,
    pub timeout_tunnel: Option<u64>,
    pub http_reuse: Option<String>,
    pub sticky_cookie: Option<String>,
    pub retries: Option<u32>,
    /// `option redispatch` (`Some(true)`) or `no option redispatch`
    /// (`Some(false)`), where the backend says, against the defaults.
    pub redispatch: Option<bool>,
    /// The media types of responses compressed with gzip for clients
    /// that accept it (`text/html`); none when empty.
    pub compress: Vec<String>,
    /// A path prefix taken off the requests the backend forwards, at a
    /// segment boundary (`/api`: `/api/users` → `/users`, `/api` → `/`,
    /// `/apix` as it is): it starts with `/` and does not end with one.
    pub strip_prefix: Option<String>,
    /// A path prefix put before the path of the requests the backend
    /// forwards, after `strip_prefix` took its own off (`/v2`: `/users` →
    /// `/v2/users`): it starts with `/` and does not end with one.
    pub add_prefix: Option<String>,
    /// The `resolvers` section its servers named by DNS use: `default`
    /// (HAProxy's own, from /etc/resolv.conf), or [`RESOLVERS`] when the
    /// environment sets `dns`.
    pub resolvers: &'static str,
    /// HTTP Basic authentication of every request the backend takes.
    pub basic_auth: Option<BasicAuth>,
    /// Client networks whose requests the backend takes (CIDR); every
    /// client when empty. Others get 403.
    pub allow: Vec<String>,
    pub error_pages: Vec<ErrorPage>,
    /// Headers taken off the requests the backend forwards, before it
    /// sets its own.
    pub remove_request_headers: Vec<String>,
    /// Headers taken off its servers' responses, before it sets its own.
    pub remove_response_headers: Vec<String>,
    pub request_headers: Vec<Header>,
    /// Headers set on the responses of the backend's servers.
    pub response_headers: Vec<Header>,
    pub servers: Vec<Server>,
    pub origin: Span,
}

impl Backend {
    /// Whether `self` and `other` declare the same backend, servers
    /// included, wherever each is written ([`Server::same_as`]). Every
    /// field is named, so a field added to `Backend` must be added here.
    pub fn same_as(&self, other: &Backend) -> bool {
        let Backend {
            name,
            template: _,
            mode,
            balance,
            check,
            timeout_connect,
            timeout_server,
            timeout_queue,
            timeout_tunnel,
            http_reuse,
            sticky_cookie,
            retries,
            redispatch,
            compress,
            strip_prefix,
            add_prefix,
            resolvers,
            basic_auth,
            allow,
            error_pages,
            remove_request_headers,
            remove_response_headers,
            request_headers,
            response_headers,
            servers,
            origin: _,
        } = self;
        *name == other.name
            && *mode == other.mode
            && *balance == other.balance
            && *check == other.check
            && *timeout_connect == other.timeout_connect
            && *timeout_server == other.timeout_server
            && *timeout_queue == other.timeout_queue
            && *timeout_tunnel == other.timeout_tunnel
            && *http_reuse == other.http_reuse
            && *sticky_cookie == other.sticky_cookie
            && *retries == other.retries
            && *redispatch == other.redispatch
            && *compress == other.compress
            && *strip_prefix == other.strip_prefix
            && *add_prefix == other.add_prefix
            && *resolvers == other.resolvers
            && *basic_auth == other.basic_auth
            && *allow == other.allow
            && *error_pages == other.error_pages
            && *remove_request_headers == other.remove_request_headers
            && *remove_response_headers == other.remove_response_headers
            && *request_headers == other.request_headers
            && *response_headers == other.response_headers
            && servers.len() == other.servers.len()
            && servers
                .iter()
                .zip(&other.servers)
                .all(|(a, b)| a.same_as(b))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    /// The request a server is asked once connected (`http { ... }`);
    /// `None` for a check that only connects (`tcp { ... }`).
    pub http: Option<HttpProbe>,
    pub every: u64,
    pub rise: u32,
    pub fall: u32,
    /// The port checked, where it is not the server's (a management port).
    pub port: Option<u16>,
}

/// The HTTP request of a health check, and what a healthy server answers.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpProbe {
    pub method: String,
    pub path: String,
    /// The statuses a healthy server answers with: codes and ranges of
    /// codes, as written (`200`, `"3xx"` is 300..=399), never empty.
    pub expect: Vec<StatusRange>,
    /// A text the response's body must hold too (`http-check expect
    /// string`): for an endpoint that answers 200 whatever its state.
    pub expect_body: Option<String>,
    pub host: Option<String>,
}

/// HTTP status codes `first..=last` (one code when they are equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRange {
    pub first: u16,
    pub last: u16,
}

/// How HAProxy's `http-check expect status` reads a list of statuses:
/// `200`, `200,204`, `200,300-399`.
pub fn statuses(list: &[StatusRange]) -> String {
    list.iter()
        .map(|r| {
            if r.first == r.last {
                r.first.to_string()
            } else {
                format!("{}-{}", r.first, r.last)
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    Ready,
    Drain,
    Maint,
}

impl ServerState {
    pub const NAMES: &'static [&'static str] = &["ready", "drain", "maint"];

    pub fn from_name(name: &str) -> Option<ServerState> {
        Some(match name {
            "ready" => ServerState::Ready,
            "drain" => ServerState::Drain,
            "maint" => ServerState::Maint,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// Names are short and a large project has tens of thousands: kept
    /// inline, without an allocation each.
    pub name: crate::syntax::ast::Name,
    pub host: Host,
    pub port: u16,
    pub weight: u32,
    pub state: ServerState,
    pub maxconn: Option<u32>,
    /// Boxed: most servers have none, and every server pays for the
    /// largest field.
    pub tls: Option<Box<ServerTls>>,
    pub check: bool,
    pub backup: bool,
    /// Whether connections to the server begin with a PROXY protocol v2
    /// header carrying the client's address.
    pub send_proxy: bool,
    /// Milliseconds over which a server back up (or new) ramps from no
    /// traffic to its weight.
    pub slowstart: Option<u32>,
    /// Whether requests go to the server over HTTP/2 (gRPC services),
    /// whatever TLS negotiates.
    pub http2: bool,
    pub origin: Span,
}

impl Server {
    /// Whether `self` and `other` declare the same server, wherever each is
    /// written: `==` with the origins left out (a line added above a server
    /// moves it, and changes nothing of it). Every field is named, so a
    /// field added to `Server` must be added here.
    pub fn same_as(&self, other: &Server) -> bool {
        let Server {
            name,
            host,
            port,
            weight,
            state,
            maxconn,
            tls,
            check,
            backup,
            send_proxy,
            slowstart,
            http2,
            origin: _,
        } = self;
        *name == other.name
            && *host == other.host
            && *port == other.port
            && *weight == other.weight
            && *state == other.state
            && *maxconn == other.maxconn
            && *tls == other.tls
            && *check == other.check
            && *backup == other.backup
            && *send_proxy == other.send_proxy
            && *slowstart == other.slowstart
            && *http2 == other.http2
    }
    /// The weight HAProxy should run the server with: a draining server
    /// takes no new traffic, which the configuration expresses as weight 0
    /// (HAProxy has no `drain` keyword) and the Runtime API as `state drain`.
    pub fn effective_weight(&self) -> u32 {
        match self.state {
            ServerState::Drain => 0,
            _ => self.weight,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerTls {
    pub verify: bool,
    pub ca: Option<String>,
    pub sni: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_running_haproxy_counts_as_the_newest_supported_version_before_it() {
        let of = |release| Haproxy::of_release(release).map(Haproxy::name);
        assert_eq!(of("2.6.12-1+deb12u4"), Some("2.6"));
        assert_eq!(of("2.7.1"), Some("2.6"));
        assert_eq!(of("2.8.5-1ubuntu3"), Some("2.8"));
        assert_eq!(of("2.10.0"), Some("2.8"));
        assert_eq!(of("3.0.11-1+deb13u4"), Some("3.0"));
        assert_eq!(of("3.2-dev4"), Some("3.0"));
        assert_eq!(of("2.4.22"), None);
        assert_eq!(of("dev"), None);
        assert_eq!(of(""), None);
        for v in Haproxy::ALL {
            assert_eq!(Haproxy::from_name(v.name()), Some(v));
            assert_eq!(Haproxy::of_release(v.name()), Some(v));
        }
    }

    fn frontend(routes: Vec<Route>) -> Frontend {
        Frontend {
            name: "f".into(),
            template: None,
            mode: Mode::Http,
            binds: Vec::new(),
            routes,
            default: Some(Target::Backend("default".into())),
            maxconn: None,
            timeout_client: None,
            timeout_hello: None,
            max_body: None,
            allow: Vec::new(),
            rate_limit: None,
            forwarded_for: None,
            forwarded_proto: false,
            accept_proxy: false,
            monitor_uri: None,
            request_id: None,
            error_pages: Vec::new(),
            remove_request_headers: Vec::new(),
            remove_response_headers: Vec::new(),
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            origin: Span { start: 0, end: 0 },
        }
    }

    /// Whether `route` takes a request for `host` and `path`, with header
    /// `X-A` of value `header` (`None`: without it), from a client in
    /// `10.0.0.0/8` or not (`inside`), as its `use_backend` rule does
    /// (`host_only -i`, `-m end -i`, `path`, `path_beg`, `req.fhdr(...)`,
    /// `src`).
    fn takes(route: &Route, host: &str, path: &str, header: Option<&str>, inside: bool) -> bool {
        let host_ok = match (&route.host, route.host_suffix()) {
            (None, _) => true,
            (Some(_), Some(suffix)) => host
                .to_ascii_lowercase()
                .ends_with(&suffix.to_ascii_lowercase()),
            (Some(h), None) => host.eq_ignore_ascii_case(h),
        };
        let path_ok = match &route.path {
            None => true,
            Some(PathMatch::Exact(p)) => path == p,
            Some(PathMatch::Prefix(p)) => path.starts_with(p.as_str()),
        };
        let header_ok = match (&route.header, header) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(h), Some(value)) => match &h.value {
                None => true,
                Some(Text::Literal(v)) => v == value,
                Some(Text::Secret(_)) => false,
            },
        };
        let from_ok = route.from.is_none() || inside;
        host_ok && path_ok && header_ok && from_ok
    }

    fn route_strategy() -> impl Strategy<Value = Route> {
        let hosts = prop::sample::select(vec![
            None,
            Some("a.example.com"),
            Some("A.Example.com"),
            Some("b.example.com"),
            Some("x.b.example.com"),
            Some("*.example.com"),
            Some("*.b.example.com"),
            Some("::1"),
        ]);
        let paths = prop::sample::select(vec![
            None,
            None,
            Some(PathMatch::Exact("/x".into())),
            Some(PathMatch::Exact("/xy".into())),
            Some(PathMatch::Prefix("/x".into())),
            Some(PathMatch::Prefix("/xy".into())),
            Some(PathMatch::Prefix("/y".into())),
            Some(PathMatch::Prefix("/".into())),
        ]);
        let targets = prop::sample::select(vec![
            Target::Backend("a".into()),
            Target::Backend("b".into()),
            Target::Backend("c".into()),
            Target::Redirect("https://r.example.com".into()),
            Target::Deny(404),
        ]);
        let headers = prop::sample::select(vec![
            None,
            None,
            Some(Box::new(HeaderMatch {
                name: "X-A".into(),
                value: None,
            })),
            Some(Box::new(HeaderMatch {
                name: "x-a".into(),
                value: Some(Text::Literal("1".into())),
            })),
        ]);
        let froms = prop::sample::select(vec![
            None,
            None,
            Some(vec!["10.0.0.0/8".to_string()].into_boxed_slice()),
        ]);
        (hosts, paths, headers, froms, targets).prop_map(|(host, path, header, from, target)| {
            Route {
                host: host.map(str::to_string),
                path,
                header,
                from,
                target,
                origin: Span { start: 0, end: 0 },
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The routes map's one promise: looking the request up among the
        /// entries first (the entry of its host whose path prefix is the
        /// longest that starts its path, the host alone being the
        /// shortest; the host alone only for a path without `/`, as
        /// `OPTIONS *`), then trying the other routes in order, sends every
        /// request where trying every route in order does.
        #[test]
        fn map_entries_first_route_as_the_rules_in_order(
            routes in prop::collection::vec(route_strategy(), 0..9),
        ) {
            let fe = frontend(routes);
            let fits = fe.map_fit();
            let entries: Vec<(String, Option<&PathMatch>, &Target)> = fe
                .routes
                .iter()
                .zip(&fits)
                .filter(|(_, fit)| fit.is_ok())
                .map(|(r, _)| (r.host.as_deref().unwrap().to_ascii_lowercase(), r.path.as_ref(), &r.target))
                .collect();
            // The exact path's entry, else the longest prefix's.
            let looked_up = |host: &str, path: &str| -> Option<&Target> {
                let host = host.to_ascii_lowercase();
                let of_host = entries.iter().filter(|(h, _, _)| *h == host);
                let exact = of_host
                    .clone()
                    .find(|(_, p, _)| matches!(p, Some(PathMatch::Exact(x)) if x == path));
                if let Some((_, _, target)) = exact {
                    return Some(*target);
                }
                of_host
                    .filter_map(|(_, p, target)| match p {
                        None => Some((0, *target)),
                        Some(PathMatch::Prefix(q)) if path.starts_with(q.as_str()) => {
                            Some((q.len(), *target))
                        }
                        _ => None,
                    })
                    .max_by_key(|(len, _)| *len)
                    .map(|(_, target)| target)
            };
            let default = Target::Backend("default".into());
            for host in ["a.example.com", "A.EXAMPLE.COM", "b.example.com", "x.b.example.com",
                         "y.b.example.com", "example.com", "other.org", "::1"] {
                for (path, header, inside) in ["/", "/x", "/xy", "/xyz", "/y", "/y/", "*"]
                    .into_iter()
                    .flat_map(|p| [(p, None), (p, Some("1")), (p, Some("2"))])
                    .flat_map(|(p, h)| [(p, h, false), (p, h, true)])
                {
                    let in_order = fe
                        .routes
                        .iter()
                        .find(|r| takes(r, host, path, header, inside))
                        .map_or(&default, |r| &r.target);
                    let map_first = looked_up(host, path)
                        .or_else(|| {
                            fe.routes
                                .iter()
                                .zip(&fits)
                                .filter(|(_, fit)| fit.is_err())
                                .find(|(r, _)| takes(r, host, path, header, inside))
                                .map(|(r, _)| &r.target)
                        })
                        .unwrap_or(&default);
                    prop_assert_eq!(
                        in_order,
                        map_first,
                        "{} {} {:?} {}: {:?}",
                        host,
                        path,
                        header,
                        inside,
                        fe.routes
                    );
                }
            }
        }
    }

    /// Each enumeration's names are in the order of its variants: `name`
    /// reads them by position.
    #[test]
    fn every_enumeration_name_round_trips() {
        for &name in Balance::NAMES {
            assert_eq!(Balance::from_name(name).map(Balance::name), Some(name));
        }
        for &name in ServerState::NAMES {
            assert_eq!(
                ServerState::from_name(name).map(ServerState::name),
                Some(name)
            );
        }
        for &name in TlsVersion::NAMES {
            assert_eq!(
                TlsVersion::from_name(name).map(TlsVersion::name),
                Some(name)
            );
        }
        for &name in ForwardedFor::NAMES {
            assert_eq!(
                ForwardedFor::from_name(name).map(ForwardedFor::name),
                Some(name)
            );
        }
    }
}
