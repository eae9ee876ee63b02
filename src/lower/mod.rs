//! Lowering: a checked [`model::Env`] → HAProxy configuration
//! [`Section`]s of directive lines made of [`Word`]s, one section at a time
//! ([`frame`] and [`backend`]). Deciding
//! *what* HAProxy must be told happens here; *how it is spelled* (quoting,
//! indentation) is `emit::haproxy_cfg`'s job.

use std::borrow::Cow;

use crate::emit::digits;
use crate::model::{self, Host, PathMatch, ServerState, Text};

/// One section of `haproxy.cfg`. Words borrow the names and texts of the
/// model they were lowered from.
#[derive(Debug, Clone, PartialEq)]
pub struct Section<'a> {
    /// `global`, `frontend www`, ...
    pub header: Vec<Word<'a>>,
    pub lines: Vec<Vec<Word<'a>>>,
}

/// One argument of a directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word<'a> {
    /// Syntax the compiler wrote itself (keywords, sample fetches). Never
    /// holds user text.
    Syntax(&'static str),
    /// A compiler-formatted value (numbers, durations, IPs, names that the
    /// grammar restricts to identifier characters).
    Value(Cow<'a, str>),
    /// A number.
    Int(u64),
    /// A duration in milliseconds, written with [`duration`]'s unit.
    Duration(u64),
    /// An address, written as [`address`] writes it.
    Address(Option<&'a Host>, u16),
    /// User text: quoted by the emitter so HAProxy reads back exactly one
    /// argument equal to it.
    Text(Cow<'a, str>),
    /// Text with environment-variable references (secrets), expanded by
    /// HAProxy at start.
    Template(Vec<Part>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Var(String),
}

fn syn(s: &'static str) -> Word<'static> {
    Word::Syntax(s)
}

/// A value the model holds as text (a name, a method): borrowed.
fn name(s: &str) -> Word<'_> {
    Word::Value(Cow::Borrowed(s))
}

/// User text the model holds: borrowed.
fn txt(s: &str) -> Word<'_> {
    Word::Text(Cow::Borrowed(s))
}

/// A value formatted here.
fn val(s: impl ToString) -> Word<'static> {
    Word::Value(Cow::Owned(s.to_string()))
}

/// Formats milliseconds with the largest unit that divides them exactly.
pub fn duration(ms: u64) -> String {
    let mut out = String::new();
    push_duration(&mut out, ms);
    out
}

/// Appends [`duration`]`(ms)` to `out`.
pub fn push_duration(out: &mut String, ms: u64) {
    const UNITS: &[(u64, &str)] = &[
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ];
    let (value, unit) = UNITS
        .iter()
        .find(|(factor, _)| ms != 0 && ms % factor == 0)
        .map_or((ms, "ms"), |(factor, unit)| (ms / factor, unit));
    digits::push_int(out, value);
    out.push_str(unit);
}

/// `10.0.0.1:80`, `[2001:db8::1]:80`, `app.internal:80`, `:443`.
pub fn address(host: Option<&Host>, port: u16) -> String {
    let mut out = String::new();
    push_address(&mut out, host, port);
    out
}

/// Appends [`address`]`(host, port)` to `out`.
pub fn push_address(out: &mut String, host: Option<&Host>, port: u16) {
    match host {
        None => {}
        Some(Host::Ip(ip @ std::net::IpAddr::V6(_))) => {
            out.push('[');
            digits::push_ip(out, ip);
            out.push(']');
        }
        Some(Host::Ip(ip)) => digits::push_ip(out, ip),
        Some(Host::Name(name)) => out.push_str(name),
    }
    out.push(':');
    digits::push_int(out, u64::from(port));
}

/// The sections that come before the backends (`global`, `defaults`, the
/// frontends) and after them (the stats page). With the [`backend`]
/// sections between, they make the whole configuration.
pub fn frame(env: &model::Env) -> (Vec<Section<'_>>, Vec<Section<'_>>) {
    let answers = Answers::of(env);
    let mut before = vec![global(env), defaults(&env.defaults)];
    before.extend(env.defaults.dns.as_ref().map(resolvers));
    let routes_map = env.routes_map();
    before.extend(
        env.frontends
            .iter()
            .map(|fe| frontend(fe, &answers, routes_map)),
    );
    let mut after: Vec<Section> = answers.sections();
    after.extend(env.stats.iter().map(stats_section));
    after.extend(env.backends.iter().filter_map(userlist));
    (before, after)
}

/// The rule that answers 403 to a client outside the networks `allow`
/// lists (a frontend's or a backend's); none when it lists none.
fn allow_only(allow: &[String]) -> Option<Vec<Word<'_>>> {
    allow_with(allow, &["http-request", "deny", "deny_status", "403"])
}

/// `rule` unless the client's address is in `allow` (403 for HTTP; for
/// TCP, the connection closed: in a frontend before anything is read,
/// `tcp-request connection`, in a backend `tcp-request content`).
fn allow_with<'a>(allow: &'a [String], rule: &[&'static str]) -> Option<Vec<Word<'a>>> {
    if allow.is_empty() {
        return None;
    }
    let mut line: Vec<Word> = rule.iter().copied().map(syn).collect();
    line.extend(["unless", "{", "src"].map(syn));
    line.extend(allow.iter().map(val));
    line.push(syn("}"));
    Some(line)
}

/// The name of the `userlist` of a backend's `basic_auth`: `auth.` and
/// the backend's name (a `.`, which no name of the sources has).
fn userlist_name(backend: &str) -> String {
    format!("auth.{backend}")
}

/// The users of `be`'s `basic_auth`, each with the hash of their password
/// from HAProxy's environment; `None` for a backend without.
fn userlist(be: &model::Backend) -> Option<Section<'_>> {
    let auth = be.basic_auth.as_ref()?;
    let lines = auth
        .users
        .iter()
        .map(|(user, hash)| {
            vec![
                syn("user"),
                txt(user),
                syn("password"),
                Word::Template(vec![Part::Var(hash.clone())]),
            ]
        })
        .collect();
    Some(Section {
        header: vec![syn("userlist"), val(userlist_name(&be.name))],
        lines,
    })
}

/// The names of the backends that answer redirect and deny routes (see
/// `Answers`): they run beside the declared ones.
pub fn answer_backends(env: &model::Env) -> Vec<String> {
    let answers = Answers::of(env);
    answers
        .urls
        .iter()
        .map(|url| answers.redirect(url))
        .chain(answers.statuses.iter().map(|&s| Answers::deny(s)))
        .collect()
}

/// What routes ask HAProxy to answer itself, each answered by a backend of
/// its own: a redirect (`redirect.1`, `redirect.2`, ... in the order they
/// are first written) and a refusal by status (`deny.403`): names with a
/// `.`, which no backend of the sources can have. Such a route is a
/// `use_backend` like the others, so routes keep their order: an
/// `http-request redirect` or `deny` in the frontend would come before
/// every `use_backend`.
struct Answers<'a> {
    urls: Vec<&'a str>,
    /// Each URL's number.
    numbers: std::collections::HashMap<&'a str, usize>,
    /// The statuses of refusals, in the order they are first written.
    statuses: Vec<u16>,
}

impl<'a> Answers<'a> {
    fn of(env: &'a model::Env) -> Answers<'a> {
        let mut urls: Vec<&str> = Vec::new();
        let mut numbers = std::collections::HashMap::new();
        let mut statuses = Vec::new();
        // Each frontend's routes, then its default.
        let targets = env.frontends.iter().flat_map(model::Frontend::targets);
        for target in targets {
            match target {
                model::Target::Redirect(url) => {
                    numbers.entry(url.as_str()).or_insert_with(|| {
                        urls.push(url);
                        urls.len()
                    });
                }
                model::Target::Deny(status) if !statuses.contains(status) => statuses.push(*status),
                _ => {}
            }
        }
        Answers {
            urls,
            numbers,
            statuses,
        }
    }

    /// The backend that answers with a redirect to `url`.
    fn redirect(&self, url: &str) -> String {
        format!("redirect.{}", self.numbers[url])
    }

    /// The backend that answers with `status`.
    fn deny(status: u16) -> String {
        model::deny_backend(status)
    }

    /// The backend `target` names: its own, or the one that answers.
    fn backend<'t>(&self, target: &'t model::Target) -> Word<'t> {
        match target {
            model::Target::Backend(backend) => name(backend),
            model::Target::Redirect(url) => val(self.redirect(url)),
            model::Target::Deny(status) => val(Self::deny(*status)),
        }
    }

    fn sections(&self) -> Vec<Section<'a>> {
        let redirects = self.urls.iter().map(|url| Section {
            header: vec![syn("backend"), val(self.redirect(url))],
            // The prefix is a log-format string: a `%` of the URL
            // (`%20`) is written `%%`, never read as a variable.
            lines: vec![vec![
                syn("http-request"),
                syn("redirect"),
                syn("prefix"),
                Word::Text(Cow::Owned(url.replace('%', "%%"))),
                syn("code"),
                syn("308"),
            ]],
        });
        // The answer is HAProxy's own, or the environment's error page
        // for the status (`errorfile` of the defaults).
        let denials = self.statuses.iter().map(|&status| Section {
            header: vec![syn("backend"), val(Self::deny(status))],
            lines: vec![vec![
                syn("http-request"),
                syn("deny"),
                syn("deny_status"),
                Word::Int(u64::from(status)),
            ]],
        });
        redirects.chain(denials).collect()
    }
}

/// The environment's routes map, when `defaults` sets `routes_map` (its
/// path on the HAProxy host): one map for every frontend, whose keys are
/// a host name, the frontend's name and a path ([`map_key`]:
/// `api.example.com@edge/` for the host alone, `api.example.com@edge/v1/`
/// for a prefix, `api.example.com@edge=/v1/me` for an exact path) and
/// whose values are backend names. Each frontend looks the request up
/// first, before its `use_backend` rules: its exact path, then the longest
/// key that starts its host, frontend and path; a route is an entry of the map
/// instead of a rule when that changes nothing (see
/// [`model::Frontend::map_fit`]), and its changes then go live through the
/// Runtime API (`add map`, `set map`, `del map`) without a reload.
pub struct RouteMap<'a> {
    /// The map file's path on the HAProxy host.
    pub path: &'a str,
    /// Key and backend of every entry, sorted by key: entries have no
    /// order (the longest matching key wins, in a tree), so routes written
    /// in another order make the same file, and a change of entries a diff
    /// of its own lines.
    pub entries: Vec<(String, Cow<'a, str>)>,
}

impl<'a> RouteMap<'a> {
    /// The environment's map; `None` without `routes_map`.
    pub fn of(env: &'a model::Env) -> Option<RouteMap<'a>> {
        let path = env.routes_map()?;
        let mut entries = Vec::new();
        for fe in &env.frontends {
            for (route, fit) in fe.routes.iter().zip(fe.map_fit()) {
                if let (Ok(()), Some(host), Some(backend)) =
                    (fit, &route.host, route.target.map_backend())
                {
                    entries.push((map_key(host, &fe.name, route.path.as_ref()), backend));
                }
            }
        }
        entries.sort_unstable();
        Some(RouteMap { path, entries })
    }
}

/// The key of a route's entry in frontend `frontend`'s part of the routes
/// map: the host in lower case, `@`, the frontend's name, then the route's
/// path prefix, `/` for a route of the host alone, or `=` and its exact
/// path (`api.example.com@edge/`, `api.example.com@edge/v1/`,
/// `api.example.com@edge=/v1/me`). The prefix lookup appends the request's
/// path to the host and frontend, and takes the key that is its longest
/// prefix; the `/` ends a frontend's name, so no key of one frontend is a
/// prefix of another's, and no exact path's key (with its `=`) a prefix of
/// any lookup.
pub fn map_key(host: &str, frontend: &str, path: Option<&PathMatch>) -> String {
    let host = host.to_ascii_lowercase();
    match path {
        Some(PathMatch::Prefix(p)) => format!("{host}@{frontend}{p}"),
        Some(PathMatch::Exact(x)) => format!("{host}@{frontend}={x}"),
        None => format!("{host}@{frontend}/"),
    }
}

/// The host, frontend and path of a routes map key ([`map_key`] read
/// back: no host name has an `@`, no frontend's name a `/` or `=`); `None`
/// for a key of another shape, which haptic does not write.
pub fn parse_map_key(key: &str) -> Option<(&str, &str, Option<PathMatch>)> {
    let (host, rest) = key.split_once('@')?;
    let (frontend, path) = rest.split_at(rest.find(['/', '='])?);
    let path = match (path, path.strip_prefix('=')) {
        ("/", _) => None,
        (_, Some(exact)) => Some(PathMatch::Exact(exact.to_string())),
        (prefix, None) => Some(PathMatch::Prefix(prefix.to_string())),
    };
    Some((host, frontend, path))
}

/// The variable that holds a request's path for the routes map's lookup
/// (`concat` appends a variable, not a sample).
const MAP_PATH_VAR: &str = "txn.haptic_path";

/// The lookups of frontend `fe` in the routes map at `path`, in order, as
/// sample expressions: the request's host, without its port, in lower
/// case, `@` and the frontend's name, then (1) `=` and the request's path,
/// for the entry of that exact path, (2) the request's path, for the
/// entry whose key is its longest prefix, and (3) `/`, for the entry of
/// the host alone when the path does not start with `/` (`OPTIONS *`).
/// Made of a path the checker restricted to letters, digits and `._/@+-`,
/// and an identifier.
fn map_lookups(fe: &str, path: &str) -> [String; 3] {
    let host = "req.hdr(host),host_only,lower";
    [
        format!("{host},concat(@{fe}=,{MAP_PATH_VAR}),map({path})"),
        format!("{host},concat(@{fe},{MAP_PATH_VAR}),map_beg({path})"),
        format!("{host},concat(@{fe}/),map({path})"),
    ]
}

/// The table of a frontend's `rate_limit`: each client address's rates of
/// requests and of new connections over the period.
fn stick_table<'w>(limit: model::RateLimit) -> Vec<Word<'w>> {
    let period = duration(limit.per);
    let mut rates = Vec::new();
    if limit.requests.is_some() {
        rates.push(format!("http_req_rate({period})"));
    }
    if limit.connections.is_some() {
        rates.push(format!("conn_rate({period})"));
    }
    vec![
        syn("stick-table"),
        syn("type"),
        // IPv4 clients are stored as IPv4-mapped addresses.
        syn("ipv6"),
        syn("size"),
        syn("100k"),
        syn("expire"),
        Word::Duration(limit.per),
        syn("store"),
        val(rates.join(",")),
    ]
}

/// A rate limit of new connections: each is counted for its client's
/// address, and refused past the limit, before anything is read.
fn connection_limit<'w>(limit: model::RateLimit) -> Vec<Vec<Word<'w>>> {
    let Some(connections) = limit.connections else {
        return Vec::new();
    };
    let mut reject = [
        "tcp-request",
        "connection",
        "reject",
        "if",
        "{",
        "sc_conn_rate(0)",
        "gt",
    ]
    .map(syn)
    .to_vec();
    reject.extend([val(connections), syn("}")]);
    vec![
        ["tcp-request", "connection", "track-sc0", "src"]
            .map(syn)
            .to_vec(),
        reject,
    ]
}

/// `errorfile STATUS FILE` for each error page.
fn error_files(pages: &[model::ErrorPage]) -> impl Iterator<Item = Vec<Word<'_>>> {
    pages
        .iter()
        .map(|p| vec![syn("errorfile"), val(p.status), txt(&p.file)])
}

/// A frontend's binds, then its `maxconn` and client timeout.
fn binds_and_limits(fe: &model::Frontend) -> Vec<Vec<Word<'_>>> {
    let mut lines: Vec<Vec<Word>> = fe.binds.iter().map(|b| bind_line(fe, b)).collect();
    if let Some(n) = fe.maxconn {
        lines.push(vec![syn("maxconn"), val(n)]);
    }
    if let Some(ms) = fe.timeout_client {
        lines.push(vec![syn("timeout"), syn("client"), val(duration(ms))]);
    }
    lines
}

/// A `mode = tcp` frontend: its binds, limits and allowed networks, and
/// its routes by the TLS server name a client asks for. Where its binds
/// pass TLS through, the name is read from the client's hello, which the
/// frontend waits for: a client that sends other bytes goes to the
/// default at once, one that sends nothing (its server speaks first)
/// when the wait ends (`timeout_hello`, five seconds unless written).
/// Where they end TLS, the name is HAProxy's own session's (the checker
/// keeps a frontend to one of the two).
fn tcp_frontend(fe: &model::Frontend) -> Section<'_> {
    let mut lines = vec![
        vec![syn("mode"), syn("tcp")],
        vec![syn("option"), syn("tcplog")],
    ];
    lines.extend(binds_and_limits(fe));
    lines.extend(fe.rate_limit.map(stick_table));
    lines.extend(allow_with(
        &fe.allow,
        &["tcp-request", "connection", "reject"],
    ));
    lines.extend(fe.rate_limit.map(connection_limit).unwrap_or_default());
    let ends_tls = fe.binds.iter().any(|b| b.tls.is_some());
    let server_name = if ends_tls {
        "ssl_fc_sni"
    } else {
        "req.ssl_sni"
    };
    if fe.reads_hello() {
        lines.push(vec![
            syn("tcp-request"),
            syn("inspect-delay"),
            val(duration(fe.hello_wait())),
        ]);
        lines.push(
            [
                "tcp-request",
                "content",
                "accept",
                "if",
                "{",
                "req.ssl_hello_type",
                "1",
                "}",
            ]
            .map(syn)
            .to_vec(),
        );
    }
    for route in &fe.routes {
        let Some(backend) = route.target.backend() else {
            continue;
        };
        // A tcp route has no path nor header (the checker refuses them).
        let mut line = vec![syn("use_backend"), name(backend), syn("if")];
        line.extend(conditions(route, server_name));
        lines.push(line);
    }
    if let Some(backend) = fe.default.as_ref().and_then(model::Target::backend) {
        lines.push(vec![syn("default_backend"), val(backend)]);
    }
    Section {
        header: vec![syn("frontend"), name(&fe.name)],
        lines,
    }
}

/// A route's conditions, in order: its host (read by `host_fetch`: the
/// request's Host header, or in a tcp frontend the TLS server name), its
/// path, its request header and its client networks.
fn conditions<'a>(route: &'a model::Route, host_fetch: &'static str) -> Vec<Word<'a>> {
    let mut line = Vec::new();
    if let Some(suffix) = route.host_suffix() {
        // `*.example.com`: the names that end with `.example.com`.
        line.extend([
            syn("{"),
            syn(host_fetch),
            syn("-m"),
            syn("end"),
            syn("-i"),
            txt(suffix),
            syn("}"),
        ]);
    } else if let Some(host) = &route.host {
        // `host_only` drops the port and keeps an IPv6 literal in its
        // brackets (`[::1]:8080` → `[::1]`), as the Host header writes
        // it; cutting at the first `:` would leave `[`. (A tcp route's
        // host is a name: the checker refuses an address as a server name.)
        let host = match host.parse::<std::net::Ipv6Addr>() {
            Ok(v6) => Cow::Owned(format!("[{v6}]")),
            Err(_) => Cow::Borrowed(host.as_str()),
        };
        line.extend([
            syn("{"),
            syn(host_fetch),
            syn("-i"),
            Word::Text(host),
            syn("}"),
        ]);
    }
    match &route.path {
        Some(PathMatch::Prefix(p)) => line.extend([syn("{"), syn("path_beg"), txt(p), syn("}")]),
        Some(PathMatch::Exact(p)) => line.extend([syn("{"), syn("path"), txt(p), syn("}")]),
        None => {}
    }
    if let Some(header) = &route.header {
        // A header name is letters, digits, `-` and `_` (checked), and
        // `req.fhdr` takes each of its lines whole, commas and all.
        line.extend([syn("{"), val(format!("req.fhdr({})", header.name))]);
        match &header.value {
            // `--` ends the flags: a value may start with `-`.
            Some(value) => line.extend([syn("-m"), syn("str"), syn("--"), text(value)]),
            None => line.extend([syn("-m"), syn("found")]),
        }
        line.push(syn("}"));
    }
    if let Some(from) = &route.from {
        // CIDR blocks, checked.
        line.extend([syn("{"), syn("src")]);
        line.extend(from.iter().map(|c| name(c)));
        line.push(syn("}"));
    }
    line
}

/// The format of `option httplog` (HAProxy's configuration manual), and
/// the request's unique ID after it.
const HTTPLOG_WITH_ID: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc \
     %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %ID";

fn global(env: &model::Env) -> Section<'_> {
    let d = &env.defaults;
    let mut lines = Vec::new();
    if d.log == "stdout" || d.log == "stderr" {
        lines.push(vec![
            syn("log"),
            name(&d.log),
            syn("format"),
            syn("raw"),
            syn("local0"),
        ]);
    } else {
        lines.push(vec![syn("log"), txt(&d.log), syn("local0")]);
    }
    lines.push(vec![
        syn("stats"),
        syn("socket"),
        txt(&d.socket),
        syn("mode"),
        syn("660"),
        syn("level"),
        syn("admin"),
    ]);
    lines.push(vec![syn("stats"), syn("timeout"), syn("30s")]);
    if let Some(n) = d.maxconn {
        lines.push(vec![syn("maxconn"), val(n)]);
    }
    Section {
        header: vec![syn("global")],
        lines,
    }
}

fn defaults(d: &model::Defaults) -> Section<'_> {
    let timeout = |name: &'static str, ms: u64| vec![syn("timeout"), syn(name), val(duration(ms))];
    let mut lines = vec![
        vec![syn("mode"), syn("http")],
        vec![syn("log"), syn("global")],
        vec![syn("option"), syn("httplog")],
        vec![syn("option"), syn("dontlognull")],
        timeout("connect", d.timeout_connect),
        timeout("client", d.timeout_client),
        timeout("server", d.timeout_server),
        timeout("http-request", d.timeout_http_request),
        timeout("http-keep-alive", d.timeout_http_keep_alive),
        timeout("queue", d.timeout_queue),
        timeout("check", d.timeout_check),
    ];
    if let Some(ms) = d.timeout_tunnel {
        lines.push(timeout("tunnel", ms));
    }
    lines.push(vec![syn("retries"), val(d.retries)]);
    if d.redispatch {
        lines.push(vec![syn("option"), syn("redispatch")]);
    }
    lines.extend(error_files(&d.error_pages));
    Section {
        header: vec![syn("defaults")],
        lines,
    }
}

/// The environment's `resolvers` section: its name servers (or those of
/// /etc/resolv.conf) and how long answers are kept.
fn resolvers(dns: &model::Dns) -> Section<'_> {
    let mut lines = Vec::new();
    if dns.nameservers.is_empty() {
        lines.push(vec![syn("parse-resolv-conf")]);
    }
    for (i, (ip, port)) in dns.nameservers.iter().enumerate() {
        let host = Host::Ip(*ip);
        lines.push(vec![
            syn("nameserver"),
            val(format_args!("ns{}", i + 1)),
            val(address(Some(&host), *port)),
        ]);
    }
    if let Some(n) = dns.resolve_retries {
        lines.push(vec![syn("resolve_retries"), val(n)]);
    }
    if let Some(ms) = dns.timeout_retry {
        lines.push(vec![syn("timeout"), syn("retry"), val(duration(ms))]);
    }
    for (what, hold) in [("valid", dns.hold_valid), ("nx", dns.hold_nx)] {
        if let Some(ms) = hold {
            lines.push(vec![syn("hold"), syn(what), val(duration(ms))]);
        }
    }
    Section {
        header: vec![syn("resolvers"), syn(model::RESOLVERS)],
        lines,
    }
}

fn text(t: &Text) -> Word<'_> {
    match t {
        Text::Literal(s) => txt(s),
        Text::Secret(name) => Word::Template(vec![Part::Var(name.clone())]),
    }
}

/// Header values are log-format strings in HAProxy: a literal `%` is `%%`.
fn log_format(t: &Text) -> Word<'_> {
    match t {
        Text::Literal(s) => Word::Text(Cow::Owned(s.replace('%', "%%"))),
        secret => text(secret),
    }
}

/// `DIRECTIVE del-header NAME` for each name: headers taken off what
/// comes in, before the block sets its own.
fn remove_headers<'a>(
    directive: &'static str,
    names: &'a [String],
    lines: &mut Vec<Vec<Word<'a>>>,
) {
    for name in names {
        lines.push(vec![syn(directive), syn("del-header"), txt(name)]);
    }
}

fn set_headers<'a>(
    directive: &'static str,
    headers: &'a [model::Header],
    lines: &mut Vec<Vec<Word<'a>>>,
) {
    for h in headers {
        lines.push(vec![
            syn(directive),
            syn("set-header"),
            txt(&h.name),
            log_format(&h.value),
        ]);
    }
}

fn bind_line<'a>(fe: &model::Frontend, b: &'a model::Bind) -> Vec<Word<'a>> {
    let host = b.listen.ip.map(Host::Ip);
    let mut line = vec![syn("bind"), val(address(host.as_ref(), b.listen.port))];
    if fe.accept_proxy {
        line.push(syn("accept-proxy"));
    }
    if let Some(tls) = &b.tls {
        line.push(syn("ssl"));
        match &tls.certs {
            model::Certs::Path(path) => line.extend([syn("crt"), txt(path)]),
            model::Certs::List(list) => line.extend([syn("crt-list"), txt(list)]),
        }
        line.extend([syn("ssl-min-ver"), syn(tls.min_version.haproxy())]);
        if let Some(max) = tls.max_version {
            line.extend([syn("ssl-max-ver"), syn(max.haproxy())]);
        }
        if let Some(c) = &tls.ciphers {
            line.extend([syn("ciphers"), txt(c)]);
        }
        if let Some(c) = &tls.ciphersuites {
            line.extend([syn("ciphersuites"), txt(c)]);
        }
        if let Some(c) = &tls.curves {
            line.extend([syn("curves"), txt(c)]);
        }
        if !tls.alpn.is_empty() {
            line.extend([syn("alpn"), Word::Text(Cow::Owned(tls.alpn.join(",")))]);
        }
        if !tls.tickets {
            line.push(syn("no-tls-tickets"));
        }
        if let Some(certs) = &tls.client_certs {
            line.extend([
                syn("ca-file"),
                txt(&certs.ca),
                syn("verify"),
                syn(certs.verify()),
            ]);
        }
    }
    line
}

fn frontend<'a>(
    fe: &'a model::Frontend,
    answers: &Answers,
    routes_map: Option<&str>,
) -> Section<'a> {
    if fe.mode == model::Mode::Tcp {
        return tcp_frontend(fe);
    }
    let mut lines = binds_and_limits(fe);
    lines.extend(error_files(&fe.error_pages));
    lines.extend(fe.rate_limit.map(stick_table));
    if let Some(path) = &fe.monitor_uri {
        lines.push(vec![syn("monitor-uri"), txt(path)]);
    }
    // `tcp-request connection` rules before `http-request` ones: HAProxy
    // evaluates them first whatever the order, and warns when they come
    // after.
    lines.extend(fe.rate_limit.map(connection_limit).unwrap_or_default());
    // `http-request` rules first: HAProxy evaluates them before
    // `use_backend` whatever the order, and warns when they come after.
    lines.extend(allow_only(&fe.allow));
    if let Some(bytes) = fe.max_body {
        let mut line = [
            "http-request",
            "deny",
            "deny_status",
            "413",
            "if",
            "{",
            "req.hdr_val(content-length)",
            "gt",
        ]
        .map(syn)
        .to_vec();
        line.extend([val(bytes), syn("}")]);
        lines.push(line);
    }
    if let Some((limit, requests)) = fe.rate_limit.and_then(|l| Some((l, l.requests?))) {
        // A client whose connections are counted is tracked already.
        if limit.connections.is_none() {
            lines.push(["http-request", "track-sc0", "src"].map(syn).to_vec());
        }
        let mut deny = [
            "http-request",
            "deny",
            "deny_status",
            "429",
            "if",
            "{",
            "sc_http_req_rate(0)",
            "gt",
        ]
        .map(syn)
        .to_vec();
        deny.extend([val(requests), syn("}")]);
        lines.push(deny);
    }
    if fe.redirects_to_https() {
        lines.push(
            [
                "http-request",
                "redirect",
                "scheme",
                "https",
                "code",
                "308",
                "unless",
                "{",
                "ssl_fc",
                "}",
            ]
            .map(syn)
            .to_vec(),
        );
    }
    remove_headers("http-request", &fe.remove_request_headers, &mut lines);
    if fe.forwarded_for == Some(model::ForwardedFor::Replace) {
        lines.push(
            ["http-request", "del-header", "X-Forwarded-For"]
                .map(syn)
                .to_vec(),
        );
    }
    if fe.forwarded_for.is_some() {
        lines.push(vec![syn("option"), syn("forwardfor")]);
    }
    if fe.forwarded_proto {
        for (scheme, condition) in [("https", "{"), ("http", "!{")] {
            lines.push(
                [
                    "http-request",
                    "set-header",
                    "X-Forwarded-Proto",
                    scheme,
                    "if",
                    condition,
                    "ssl_fc",
                    "}",
                ]
                .map(syn)
                .to_vec(),
            );
        }
    }
    // The request's ID in a variable, which the response can read (the
    // request's headers are gone by then): the one it came with, where it
    // is kept, else a new UUID. It is HAProxy's unique ID (`%ID` in a log
    // format) too.
    if let Some(request_id) = fe.request_id {
        let new = ["http-request", "set-var(txn.request_id)", "uuid()"].map(syn);
        match request_id {
            model::RequestId::Replace => lines.push(new.to_vec()),
            model::RequestId::Keep => {
                lines.push(
                    [
                        "http-request",
                        "set-var(txn.request_id)",
                        "req.hdr(X-Request-ID)",
                    ]
                    .map(syn)
                    .to_vec(),
                );
                let unless = ["unless", "{", "var(txn.request_id)", "-m", "found", "}"];
                lines.push(new.into_iter().chain(unless.map(syn)).collect());
            }
        }
        lines.push(vec![syn("unique-id-format"), syn("%[var(txn.request_id)]")]);
        // `option httplog`'s line, with the ID at its end.
        lines.push(vec![syn("log-format"), val(HTTPLOG_WITH_ID)]);
        lines.push(vec![
            syn("http-request"),
            syn("set-header"),
            syn(model::REQUEST_ID_HEADER),
            syn("%[var(txn.request_id)]"),
        ]);
    }
    set_headers("http-request", &fe.request_headers, &mut lines);
    remove_headers("http-response", &fe.remove_response_headers, &mut lines);
    if let Some(max_age) = fe.binds.iter().filter_map(|b| b.tls.as_ref()?.hsts).max() {
        lines.push(vec![
            syn("http-response"),
            syn("set-header"),
            syn("Strict-Transport-Security"),
            val(format!("max-age={max_age}")),
            syn("if"),
            syn("{"),
            syn("ssl_fc"),
            syn("}"),
        ]);
    }
    if fe.request_id.is_some() {
        // The client is told the ID its request was logged and passed on by.
        lines.push(vec![
            syn("http-response"),
            syn("set-header"),
            syn(model::REQUEST_ID_HEADER),
            syn("%[var(txn.request_id)]"),
        ]);
    }
    set_headers("http-response", &fe.response_headers, &mut lines);
    // The routes map's lookup comes first, whatever its entries: adding
    // the first one changes no line here.
    let in_map: Vec<bool> = match routes_map {
        Some(path) => {
            lines.push(vec![
                syn("http-request"),
                val(format!("set-var({MAP_PATH_VAR})")),
                syn("path"),
            ]);
            for lookup in map_lookups(&fe.name, path) {
                lines.push(vec![
                    syn("use_backend"),
                    val(format!("%[{lookup}]")),
                    syn("if"),
                    syn("{"),
                    val(lookup),
                    syn("-m"),
                    syn("found"),
                    syn("}"),
                ]);
            }
            fe.map_fit().iter().map(Result::is_ok).collect()
        }
        None => vec![false; fe.routes.len()],
    };
    for (route, _) in fe.routes.iter().zip(in_map).filter(|(_, entry)| !entry) {
        let mut line = vec![
            syn("use_backend"),
            answers.backend(&route.target),
            syn("if"),
        ];
        line.extend(conditions(route, "req.hdr(host),host_only"));
        lines.push(line);
    }
    if let Some(target) = &fe.default {
        lines.push(vec![syn("default_backend"), answers.backend(target)]);
    }
    Section {
        header: vec![syn("frontend"), name(&fe.name)],
        lines,
    }
}

/// One backend's section, but for its server lines, which come after the
/// section's other lines: `server` and [`server_options`] each.
pub fn backend(be: &model::Backend) -> Section<'_> {
    let mut lines = Vec::new();
    if be.mode == model::Mode::Tcp {
        lines.push(vec![syn("mode"), syn("tcp")]);
    }
    lines.push(vec![syn("balance"), syn(be.balance.name())]);
    if be.balance.is_hash() {
        lines.push(vec![syn("hash-type"), syn("consistent")]);
    }
    // A check without a request only connects: HAProxy's default.
    if let Some(check) = be.check.as_ref().and_then(|c| c.http.as_ref()) {
        lines.push(vec![syn("option"), syn("httpchk")]);
        let mut send = vec![
            syn("http-check"),
            syn("send"),
            syn("meth"),
            name(&check.method),
            syn("uri"),
            txt(&check.path),
        ];
        if let Some(host) = &check.host {
            send.extend([
                syn("ver"),
                syn("HTTP/1.1"),
                syn("hdr"),
                syn("Host"),
                txt(host),
            ]);
        }
        lines.push(send);
        lines.push(vec![
            syn("http-check"),
            syn("expect"),
            syn("status"),
            val(model::statuses(&check.expect)),
        ]);
        if let Some(body) = &check.expect_body {
            lines.push(vec![
                syn("http-check"),
                syn("expect"),
                syn("string"),
                txt(body),
            ]);
        }
    }
    let timeouts = [
        ("connect", be.timeout_connect),
        ("server", be.timeout_server),
        ("queue", be.timeout_queue),
        ("tunnel", be.timeout_tunnel),
    ];
    for (name, ms) in timeouts {
        if let Some(ms) = ms {
            lines.push(vec![syn("timeout"), syn(name), val(duration(ms))]);
        }
    }
    if let Some(n) = be.retries {
        lines.push(vec![syn("retries"), val(n)]);
    }
    match be.redispatch {
        Some(true) => lines.push(vec![syn("option"), syn("redispatch")]),
        Some(false) => lines.push(vec![syn("no"), syn("option"), syn("redispatch")]),
        None => {}
    }
    lines.extend(error_files(&be.error_pages));
    if let Some(mode) = &be.http_reuse {
        lines.push(vec![syn("http-reuse"), val(mode)]);
    }
    if let Some(cookie) = &be.sticky_cookie {
        lines.push(vec![
            syn("cookie"),
            txt(cookie),
            syn("insert"),
            syn("indirect"),
            syn("nocache"),
        ]);
    }
    if !be.compress.is_empty() {
        lines.push(vec![syn("compression"), syn("algo"), syn("gzip")]);
        let mut types = vec![syn("compression"), syn("type")];
        types.extend(be.compress.iter().map(|t| txt(t)));
        lines.push(types);
    }
    lines.extend(match be.mode {
        model::Mode::Http => allow_only(&be.allow),
        model::Mode::Tcp => allow_with(&be.allow, &["tcp-request", "content", "reject"]),
    });
    if let Some(auth) = &be.basic_auth {
        lines.push(vec![
            syn("http-request"),
            syn("auth"),
            syn("realm"),
            txt(&auth.realm),
            syn("unless"),
            syn("{"),
            val(format_args!("http_auth({})", userlist_name(&be.name))),
            syn("}"),
        ]);
    }
    if let Some(prefix) = &be.strip_prefix {
        // The prefix alone first: once `/api/api` is `/api`, it stays.
        lines.push(vec![
            syn("http-request"),
            syn("set-path"),
            syn("/"),
            syn("if"),
            syn("{"),
            syn("path"),
            txt(prefix),
            syn("}"),
        ]);
        lines.push(vec![
            syn("http-request"),
            syn("set-path"),
            val(format_args!("%[path,bytes({})]", prefix.len())),
            syn("if"),
            syn("{"),
            syn("path_beg"),
            Word::Text(Cow::Owned(format!("{prefix}/"))),
            syn("}"),
        ]);
    }
    remove_headers("http-request", &be.remove_request_headers, &mut lines);
    if let Some(prefix) = &be.add_prefix {
        // After the prefix stripped, if any; a path's `%` is a log-format's.
        lines.push(vec![
            syn("http-request"),
            syn("set-path"),
            val(format_args!("{}%[path]", prefix.replace('%', "%%"))),
        ]);
    }
    set_headers("http-request", &be.request_headers, &mut lines);
    remove_headers("http-response", &be.remove_response_headers, &mut lines);
    set_headers("http-response", &be.response_headers, &mut lines);
    Section {
        header: vec![syn("backend"), name(&be.name)],
        lines,
    }
}

/// Where the words of a line go: a vector, or straight into the text of
/// the line (the emitter's, for the many server lines).
pub trait Words<'a> {
    fn word(&mut self, word: Word<'a>);

    fn words(&mut self, words: impl IntoIterator<Item = Word<'a>>) {
        for word in words {
            self.word(word);
        }
    }

    /// The health-check words of a server of a backend with `check`: the
    /// same for all its servers, so a sink may spell them once.
    fn check_words(&mut self, check: &'a model::HealthCheck) {
        self.words(check_words(check));
    }

    /// A keyword and a number (`weight 10`), which a sink may write
    /// without making words of them: a server line has several.
    fn keyword_int(&mut self, keyword: &'static str, n: u64) {
        self.words([syn(keyword), Word::Int(n)]);
    }

    /// A name and an address (`s1 10.0.0.1:8080`), as [`Words::keyword_int`].
    fn name_address(&mut self, name: &'a str, host: Option<&'a Host>, port: u16) {
        self.words([self::name(name), Word::Address(host, port)]);
    }
}

/// `check inter 2s rise 2 fall 3` (`check port 8081 inter ...` where the
/// check has a port of its own): how a server is health-checked.
pub fn check_words(check: &model::HealthCheck) -> Vec<Word<'static>> {
    let mut words = vec![syn("check")];
    if let Some(port) = check.port {
        words.extend([syn("port"), Word::Int(u64::from(port))]);
    }
    words.extend([
        syn("inter"),
        Word::Duration(check.every),
        syn("rise"),
        Word::Int(u64::from(check.rise)),
        syn("fall"),
        Word::Int(u64::from(check.fall)),
    ]);
    words
}

impl<'a> Words<'a> for Vec<Word<'a>> {
    fn word(&mut self, word: Word<'a>) {
        self.push(word);
    }
}

/// Everything after `server` on a server line: name, address and every
/// option written out. The Runtime API's `add server` takes the same words
/// (it ignores `default-server`), so this is the one place they are built.
pub fn server_options<'a>(be: &'a model::Backend, s: &'a model::Server) -> Vec<Word<'a>> {
    let mut words = Vec::with_capacity(SERVER_WORDS);
    push_server_options(be, s, &mut words);
    words
}

/// The words of a server line with health checks, weight and maxconn.
const SERVER_WORDS: usize = 13;

/// Gives [`server_options`] to `words`.
pub fn push_server_options<'a>(
    be: &'a model::Backend,
    s: &'a model::Server,
    words: &mut impl Words<'a>,
) {
    words.name_address(&s.name, Some(&s.host), s.port);
    if be.balance.is_hash() {
        words.keyword_int("id", u64::from(server_id(&s.name)));
    }
    if let (true, Some(check)) = (s.check, &be.check) {
        words.check_words(check);
    }
    words.keyword_int("weight", u64::from(s.effective_weight()));
    if let Some(n) = s.maxconn {
        words.keyword_int("maxconn", u64::from(n));
    }
    if let Host::Name(_) = s.host {
        // A DNS name is resolved by HAProxy's resolvers (the built-in
        // `default` section reads /etc/resolv.conf) and re-resolved while
        // running; until it resolves the server waits in maintenance, so
        // HAProxy never refuses to start because of DNS.
        words.words([
            syn("init-addr"),
            syn("last,none"),
            syn("resolvers"),
            syn(be.resolvers),
        ]);
    }
    push_unreported_options(s, words);
    if be.sticky_cookie.is_some() {
        words.words([syn("cookie"), name(&s.name)]);
    }
    if s.backup {
        words.word(syn("backup"));
    }
    if s.state == ServerState::Maint {
        words.word(syn("disabled"));
    }
}

/// The number (`id`) of the server `name` in a backend that balances by
/// a hash: the first 31 bits of the SHA-256 of its name (1 where those
/// are 0). `hash-type consistent` places a server on its ring by its
/// number, which HAProxy otherwise counts in the order servers are
/// written, and gives one added at runtime the lowest free: a server
/// added or removed elsewhere than last would run under other numbers
/// than after a reload, and the reload would move clients between
/// servers that did not change. A number of the name alone is the same
/// however the servers change, at runtime (`add server` carries it) or
/// in the sources. Never to change: the clients of every such backend
/// would move at the next reload. Two names of one backend with the same
/// number are an error (E0306).
pub fn server_id(name: &str) -> u32 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) & 0x7fff_ffff;
    first.max(1)
}

/// The options of a server line that a running HAProxy does not report
/// (`show servers state` and `show stat` show neither): `slowstart`, the
/// PROXY protocol, HTTP/2, and TLS with its verification, CA file and SNI. The
/// reload fingerprint holds the set of them that a backend's servers use
/// (`emit::haproxy_cfg::reload_fingerprint`).
pub fn push_unreported_options<'a>(s: &'a model::Server, words: &mut impl Words<'a>) {
    if !has_unreported_options(s) {
        return;
    }
    if let Some(ms) = s.slowstart {
        words.words([syn("slowstart"), val(duration(u64::from(ms)))]);
    }
    if s.send_proxy {
        words.word(syn("send-proxy-v2"));
    }
    if s.http2 {
        words.words([syn("proto"), syn("h2")]);
    }
    if let Some(tls) = &s.tls {
        words.word(syn("ssl"));
        if tls.verify {
            words.words([syn("verify"), syn("required")]);
            if let Some(ca) = &tls.ca {
                words.words([syn("ca-file"), txt(ca)]);
            }
        } else {
            words.words([syn("verify"), syn("none")]);
        }
        if let Some(sni) = &tls.sni {
            words.words([syn("sni"), val(format!("str({sni})"))]);
        }
        // gRPC servers refuse a TLS handshake that does not offer h2.
        if s.http2 {
            words.words([syn("alpn"), syn("h2")]);
        }
    }
}

/// Whether [`push_unreported_options`] gives `s` any word: most servers
/// have none, and the fingerprint asks of every server.
pub fn has_unreported_options(s: &model::Server) -> bool {
    s.slowstart.is_some() || s.send_proxy || s.http2 || s.tls.is_some()
}

fn stats_section(stats: &model::Stats) -> Section<'_> {
    let host = stats.bind.ip.map(Host::Ip);
    let auth = match &stats.password {
        Text::Secret(name) => Word::Template(vec![
            Part::Lit(format!("{}:", stats.user)),
            Part::Var(name.clone()),
        ]),
        Text::Literal(p) => Word::Text(Cow::Owned(format!("{}:{p}", stats.user))),
    };
    let mut lines = vec![vec![
        syn("bind"),
        val(address(host.as_ref(), stats.bind.port)),
    ]];
    lines.extend(allow_only(&stats.allow));
    if let Some(path) = &stats.metrics {
        // Before the page: HAProxy's exporter answers this path itself.
        lines.push(vec![
            syn("http-request"),
            syn("use-service"),
            syn("prometheus-exporter"),
            syn("if"),
            syn("{"),
            syn("path"),
            txt(path),
            syn("}"),
        ]);
    }
    // A password set to nothing (one not set at all stops HAProxy at the
    // top of the file) would open the page to its user with an empty
    // one: the page refuses every request instead (HAProxy's `env` reads
    // the variable as it runs). The metrics above need no password.
    if let Text::Secret(name) = &stats.password {
        lines.push(vec![
            syn("http-request"),
            syn("deny"),
            syn("if"),
            syn("{"),
            val(format!("env({name})")),
            syn("-m"),
            syn("len"),
            syn("0"),
            syn("}"),
        ]);
    }
    lines.extend([
        vec![syn("stats"), syn("enable")],
        vec![syn("stats"), syn("uri"), txt(&stats.uri)],
        vec![syn("stats"), syn("refresh"), val(duration(stats.refresh))],
        vec![syn("stats"), syn("auth"), auth],
    ]);
    Section {
        header: vec![syn("listen"), syn("stats")],
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's number in a backend balanced by a hash is its name's
    /// alone, and never changes (the clients of every such backend would
    /// move at the next reload): these are the numbers of the first
    /// release that wrote them.
    #[test]
    fn server_numbers_are_their_names_and_never_change() {
        assert_eq!(server_id("s"), 70_939_015);
        assert_eq!(server_id("es1"), 1_358_151_255);
        assert_eq!(server_id("app21640"), server_id("app45309"));
        assert!(["a", "b", "web-1", "x_2"]
            .iter()
            .all(|n| (1..=0x7fff_ffff).contains(&server_id(n))));
    }

    /// A routes map key reads back as the host, frontend and path it was
    /// made of; a key haptic does not write reads as none.
    #[test]
    fn map_keys_read_back() {
        let paths = [
            None,
            Some(PathMatch::Prefix("/v1/a=b/".into())),
            Some(PathMatch::Exact("/me@x".into())),
        ];
        for path in paths {
            let key = map_key("API.example.com", "edge-2", path.as_ref());
            assert_eq!(
                parse_map_key(&key),
                Some(("api.example.com", "edge-2", path.clone())),
                "{key}"
            );
        }
        assert_eq!(parse_map_key("api.example.com"), None);
        assert_eq!(parse_map_key("api.example.com@edge"), None);
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        assert_eq!(duration(5000), "5s");
        assert_eq!(duration(250), "250ms");
        assert_eq!(duration(120_000), "2m");
        assert_eq!(duration(63_072_000_000), "730d");
        assert_eq!(duration(0), "0ms");
    }
}
