//! Checks over a built environment: warnings (unused backends, shadowed
//! routes, weak TLS, ...), contradictions across objects, and the project's
//! guardrails.

use super::build::Tainted;
use super::net::{self, Net};
use super::types::{self, Ty};
use super::value::{self, Value};
use crate::diag::{nearest, Code, Diagnostic, Diagnostics};
use crate::hash::{Map, Set};
use crate::model::{self, PathMatch, ServerState, TlsVersion};
use crate::source::Span;
use crate::syntax::ast;

/// The lints of `env`, whose top-level items (`if` branches resolved) are
/// `items`.
pub(super) fn env(
    env: &model::Env,
    tainted: &Tainted,
    items: &[&ast::Item],
    diags: &mut Diagnostics,
) {
    let routed_from_tainted = !tainted.frontends.is_empty();
    // The backends that ask for passwords (W0013), looked up per route.
    let asking: Set<&str> = env
        .backends
        .iter()
        .filter(|b| b.basic_auth.is_some())
        .map(|b| b.name.as_str())
        .collect();
    // The networks of the backends that allow only some (W0017), where
    // they read as networks, none IPv4-mapped.
    let allowing: Map<&str, (Vec<Net>, &model::Backend)> = env
        .backends
        .iter()
        .filter(|b| !b.allow.is_empty())
        .filter_map(|b| Some((b.name.as_str(), (net::plain(&b.allow)?, b))))
        .collect();
    if !routed_from_tainted {
        unused_backends(env, diags);
    }
    backend_servers(env, tainted, diags);
    for fe in env
        .frontends
        .iter()
        .filter(|f| !tainted.frontends.contains(&f.name))
    {
        let set = headers_set(fe);
        let shadowed = shadowing(&fe.routes, &set);
        shadowed_routes(fe, &shadowed, &set, diags);
        // A tcp frontend's routes are never entries, and need not be.
        if env.routes_map().is_some() && fe.mode == model::Mode::Http {
            map_entries(fe, &shadowed, diags);
        }
        frontend_shape(env, fe, diags);
        if !allowing.is_empty() {
            refused_clients(&allowing, fe, diags);
        }
        if !asking.is_empty() {
            clear_text_credentials(&asking, fe, diags);
        }
    }
    duplicate_binds(env, diags);
    servers_loop_back(env, diags);
    server_numbers_clash(env, diags);
    if tainted.frontends.is_empty() {
        prefixes_never_stripped(env, diags);
    }
    guards(env, tainted, items, diags);
}

/// W0017 for each route of `fe` (and its default) to a backend of
/// `allowing` that refuses every client the route takes: its networks
/// (`from`), within the frontend's `allow`, have none in common with the
/// backend's `allow`. A list not written is every client.
fn refused_clients(
    allowing: &Map<&str, (Vec<Net>, &model::Backend)>,
    fe: &model::Frontend,
    diags: &mut Diagnostics,
) {
    let frontend = match fe.allow.is_empty() {
        true => None,
        false => match net::plain(&fe.allow) {
            Some(nets) => Some(nets),
            None => return,
        },
    };
    for (backend, route) in fe.routed() {
        let Some((allowed, be)) = allowing.get(backend) else {
            continue;
        };
        let from = match route.and_then(|r| r.from.as_deref()) {
            None => None,
            Some(from) => match net::plain(from) {
                Some(nets) => Some(nets),
                None => continue,
            },
        };
        // A route whose networks the frontend refuses, every one, has no
        // clients: W0002 says so.
        if let (Some(frontend), Some(from)) = (&frontend, &from) {
            if !from
                .iter()
                .any(|&r| frontend.iter().any(|&f| net::overlap(r, f)))
            {
                continue;
            }
        }
        // CIDR blocks are nested or apart: an address is in a block of each
        // list where one block of each overlaps the others.
        let meets = |b: Net| {
            let overlapping = |list: &Option<Vec<Net>>, other: Option<Net>| match list {
                None => vec![other],
                Some(nets) => nets
                    .iter()
                    .filter(|&&n| net::overlap(n, b) && other.is_none_or(|o| net::overlap(n, o)))
                    .map(|&n| Some(n))
                    .collect(),
            };
            overlapping(&frontend, None)
                .into_iter()
                .any(|f| !overlapping(&from, f).is_empty())
        };
        if allowed.iter().any(|&b| meets(b)) {
            continue;
        }
        let whom = match route {
            Some(_) => "this route takes",
            None => "the default route takes",
        };
        diags.push(
            Diagnostic::new(
                Code::RefusedClients,
                route.map_or(fe.origin, |r| r.origin),
                format!("backend `{backend}` refuses every client {whom}"),
            )
            .label(be.origin, format!("allows {} only", be.allow.join(", ")))
            .help(format!(
                "add these clients' networks to the `allow` of backend `{backend}`, or send \
                 them to another backend"
            )),
        );
    }
}

/// W0013 for each backend of `asking` (those with `basic_auth`) that `fe`
/// routes to while one of its binds takes plain HTTP off the host (not on
/// a loopback address) without redirecting to HTTPS; once per backend, at
/// its first route.
fn clear_text_credentials(asking: &Set<&str>, fe: &model::Frontend, diags: &mut Diagnostics) {
    let Some(clear) = fe.binds.iter().find(|b| {
        b.tls.is_none() && !b.redirect_https && !b.listen.ip.is_some_and(|ip| ip.is_loopback())
    }) else {
        return;
    };
    let mut reported: Set<&str> = Set::default();
    for (backend, route) in fe.routed() {
        if !asking.contains(backend) || !reported.insert(backend) {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::ClearTextCredentials,
                route.map_or(fe.origin, |r| r.origin),
                format!(
                    "backend `{backend}` asks for passwords, and frontend `{}` takes plain HTTP: they cross the network in clear",
                    fe.name
                ),
            )
            .label(clear.origin, "plain HTTP, not redirected to HTTPS")
            .help("serve the frontend over TLS and redirect this bind (`bind :80 redirect https`), or bind it to a loopback address"),
        );
    }
}

/// W0012 for each backend whose `strip_prefix` no route to it can match:
/// every route to it has a path, and none of its paths can start with the
/// prefix where a segment ends.
fn prefixes_never_stripped(env: &model::Env, diags: &mut Diagnostics) {
    if env.backends.iter().all(|b| b.strip_prefix.is_none()) {
        return;
    }
    // Per backend: the routes with a path to it, and whether one without
    // a path (or a default) sends it any path.
    let mut routed: Map<&str, (Vec<&model::Route>, bool)> = Map::default();
    for (backend, route) in env.frontends.iter().flat_map(model::Frontend::routed) {
        let entry = routed.entry(backend).or_default();
        match route {
            Some(route) if route.path.is_some() => entry.0.push(route),
            _ => entry.1 = true,
        }
    }
    for be in &env.backends {
        let (Some(prefix), Some((routes, any_path))) =
            (&be.strip_prefix, routed.get(be.name.as_str()))
        else {
            continue;
        };
        if *any_path || routes.iter().any(|r| strips(prefix, r.path.as_ref())) {
            continue;
        }
        let mut diag = Diagnostic::new(
            Code::PrefixNeverStripped,
            be.origin,
            format!(
                "backend `{}` strips `{prefix}`, but no route to it matches a path that starts with it",
                be.name
            ),
        );
        // A few are enough to show it; a backend may have thousands.
        for route in routes.iter().take(3) {
            diag = diag.label(route.origin, "routes other paths here");
        }
        diags.push(diag.help(format!(
            "make `{prefix}` the start of the routes' paths, or remove `strip_prefix`"
        )));
    }
}

/// Whether some path that `path` matches is `prefix` or starts with
/// `prefix/`: what `strip_prefix = prefix` takes off.
fn strips(prefix: &str, path: Option<&PathMatch>) -> bool {
    let below = |p: &str| {
        p.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    match path {
        None => true,
        Some(PathMatch::Prefix(p)) => prefix.starts_with(p.as_str()) || below(p),
        Some(PathMatch::Exact(p)) => p == prefix || below(p),
    }
}

fn unused_backends(env: &model::Env, diags: &mut Diagnostics) {
    let used: Set<&str> = env
        .frontends
        .iter()
        .flat_map(model::Frontend::routed)
        .map(|(backend, _)| backend)
        .collect();
    for be in &env.backends {
        if !used.contains(be.name.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::UnusedBackend,
                    be.origin,
                    format!("backend `{}` is never used", be.name),
                )
                .help("route to it from a frontend, or remove it"),
            );
        }
    }
}

fn backend_servers(env: &model::Env, tainted: &Tainted, diags: &mut Diagnostics) {
    for be in &env.backends {
        if tainted.backends.contains(&be.name) {
            continue;
        }
        if be.servers.is_empty() {
            diags.push(
                Diagnostic::new(
                    Code::EmptyBackend,
                    be.origin,
                    format!("backend `{}` has no server", be.name),
                )
                .help("add a server, or stop routing to this backend in that environment"),
            );
        } else if be.servers.iter().all(|s| s.state == ServerState::Maint) {
            diags.push(
                Diagnostic::new(
                    Code::AllServersDown,
                    be.origin,
                    format!("every server of backend `{}` is in maintenance", be.name),
                )
                .help("put at least one server in `ready` or `drain`"),
            );
        }
        for s in &be.servers {
            if s.tls.as_ref().is_some_and(|t| !t.verify) {
                diags.push(
                    Diagnostic::new(
                        Code::UnverifiedServerTls,
                        s.origin,
                        format!("TLS to server `{}` is not verified", s.name),
                    )
                    .help("set `ca` to the CA bundle that signed the server's certificate"),
                );
            }
        }
    }
}

/// For each route of `fe` by a request header, the header the frontend
/// itself sets on every request before any route, where that is one the
/// route takes (of any value, or of the value it wants): such a route
/// matches as one without the header (proven on a real HAProxy,
/// `header_routes_see_the_frontends_own_header_changes_`). Empty when no
/// route is so matched.
fn headers_set(fe: &model::Frontend) -> Vec<Option<&model::Header>> {
    if fe.request_headers.is_empty() || fe.routes.iter().all(|r| r.header.is_none()) {
        return Vec::new();
    }
    let set: Vec<Option<&model::Header>> = fe
        .routes
        .iter()
        .map(|route| {
            let wanted = route.header.as_ref()?;
            // The last one the frontend sets of the name is what routes see.
            let set = (fe.request_headers.iter().rev())
                .find(|h| h.name.eq_ignore_ascii_case(&wanted.name))?;
            (wanted.value.is_none() || wanted.value.as_ref() == Some(&set.value)).then_some(set)
        })
        .collect();
    if set.iter().all(Option::is_none) {
        return Vec::new();
    }
    set
}

/// A route is shadowed when an earlier route of the same frontend matches
/// every request it matches: one of the same host (or of none, or a
/// wildcard over it) with no path, an equal exact path, or a prefix of its
/// path: `shadowed` is [`shadowing`]'s answer for each route.
/// `set` is [`headers_set`]'s: a route by a header the frontend sets takes
/// every request of its host and path, and the label says why.
fn shadowed_routes(
    fe: &model::Frontend,
    shadowed: &[Option<usize>],
    set: &[Option<&model::Header>],
    diags: &mut Diagnostics,
) {
    for (route, &earlier) in fe.routes.iter().zip(shadowed) {
        if let Some(at) = earlier {
            let earlier = &fe.routes[at];
            // The earlier route by a header the frontend sets: it takes
            // every request of its host, path and networks.
            if let Some(Some(header)) = set.get(at) {
                let value = match &header.value {
                    model::Text::Literal(value) => format!("`{value}`"),
                    model::Text::Secret(name) => format!("secret(\"{name}\")"),
                };
                diags.push(
                    Diagnostic::new(Code::ShadowedRoute, route.origin, "route can never match")
                        .label(
                            earlier.origin,
                            format!(
                                "takes them all: the frontend sets `{}` to {value} first",
                                header.name
                            ),
                        )
                        .help(
                            "route by a header that clients send, or set this one in the \
                             backend (after routing)",
                        ),
                );
                continue;
            }
            // The same host and path again: nothing to reorder.
            let same = earlier.host == route.host
                && earlier.path == route.path
                && match (&earlier.header, &route.header) {
                    (Some(e), Some(r)) => e.covers(r) && r.covers(e),
                    (e, r) => e.is_none() && r.is_none(),
                }
                && networks(earlier) == networks(route);
            let (label, help) = if same {
                let help = if earlier.target == route.target {
                    "remove it: it repeats the earlier route".to_string()
                } else {
                    match &earlier.target {
                        model::Target::Deny(status) => format!(
                            "the earlier route refuses these requests with {status}: remove the route that is wrong"
                        ),
                        target => {
                            let what = match target {
                                model::Target::Backend(_) => "backend",
                                _ => "redirect",
                            };
                            format!(
                                "these requests go to {}, the earlier route's {what}: remove the route that is wrong",
                                target.describe()
                            )
                        }
                    }
                };
                let label = if route.header.is_some() || route.from.is_some() {
                    "the same matches, routed earlier"
                } else {
                    "the same host and path, routed earlier"
                };
                (label, help)
            } else {
                (
                    "an earlier route already matches every request it matches",
                    "move the more specific route before the general one".to_string(),
                )
            };
            diags.push(
                Diagnostic::new(Code::ShadowedRoute, route.origin, "route can never match")
                    .label(earlier.origin, label)
                    .help(help),
            );
        }
    }
}

/// Host routes that an earlier route without a host (`path exact
/// "/healthz"`) keeps out of the routes map (see
/// [`model::Frontend::map_fit`]), but for those it shadows entirely
/// (`W0002` says so). One kept out by a route of its own host, or of a
/// wildcard over it, is the general route after the specific ones: it
/// cannot come first, and is not reported.
fn map_entries(fe: &model::Frontend, shadowed: &[Option<usize>], diags: &mut Diagnostics) {
    const MESSAGE: &str = "route is not an entry of the routes map: its changes need a reload";
    for ((route, fit), shadowed) in fe.routes.iter().zip(fe.map_fit()).zip(shadowed) {
        let earlier = match fit {
            Err(model::NotEntry::After(earlier)) => earlier,
            // `host "a.example.com" path prefix "/"`: the host alone, but
            // for `OPTIONS *`, whose key is the host's own.
            Err(model::NotEntry::RootPrefix) if shadowed.is_none() => {
                let host = route.host.as_deref().unwrap_or_default();
                diags.push(
                    Diagnostic::new(Code::NotAMapEntry, route.origin, MESSAGE).help(format!(
                        "write it without its path, `route host \"{host}\" -> ...`: the prefix \
                         `/` takes every request of the host but `OPTIONS *`, and a route of \
                         the host alone can be an entry"
                    )),
                );
                continue;
            }
            _ => continue,
        };
        let earlier = &fe.routes[earlier];
        if shadowed.is_some() || earlier.host.is_some() {
            continue;
        }
        diags.push(
            Diagnostic::new(Code::NotAMapEntry, route.origin, MESSAGE)
                .label(
                    earlier.origin,
                    "this earlier route can match some of its requests",
                )
                .help(format!(
                    "write it before route `{}`, if its host's requests need not go there first",
                    earlier.key()
                )),
        );
    }
}

/// For each route, the first earlier route that covers it: of its own
/// host, of a wildcard over its host, or of no host, and of no header, or
/// of its header with any value or with its own, and of no networks or
/// of networks that hold all of its own (each of them inside one: an
/// office's `10.1.0.0/16` inside `10.0.0.0/8`). A wildcard route is
/// kept under its domain with the leading dot (`.example.com` for
/// `*.example.com`), which no host name starts with, so a host looks up
/// the wildcards over it by its own suffixes (`api.eu.example.com`:
/// `.eu.example.com`, `.example.com`, `.com`), a few lookups, not a pass
/// over the wildcards; a route with a header looks up at most three
/// headers (none, its name, its name and value), and a route with networks
/// the earlier lists that hold them, found by the lists that hold a network
/// over one of its own (at most 33 lookups for an IPv4 network, 129 for an
/// IPv6 one), not by a pass over every list. Earlier routes are kept by
/// what they match (no path, an exact path, a prefix in a tree of bytes),
/// so a route looks up its own path, walking it once, instead of comparing
/// itself with every route before it. Every scope's tables are shared, so
/// a frontend with thousands of hosts allocates a few tables, not a few
/// for each host.
fn shadowing(routes: &[model::Route], set: &[Option<&model::Header>]) -> Vec<Option<usize>> {
    /// A header's name in lower case, and its value (`None` for any).
    type Header<'a> = (&'a str, Option<&'a model::Text>);
    /// A host (`None` for every host), and the numbers of a header and of
    /// client networks (0 for none; see `Ids`): a small key, as the
    /// tables hold one for each host of thousands.
    type Scope<'a> = (Option<&'a str>, u32, u32);
    /// Numbers for the few headers and lists of networks the routes
    /// match, from 1, in the order first seen.
    struct Ids<K>(Map<K, u32>);
    impl<K: std::hash::Hash + Eq> Ids<K> {
        fn of(&mut self, key: K) -> u32 {
            let next = self.0.len() as u32 + 1;
            *self.0.entry(key).or_insert(next)
        }
        /// The number of `key` if a route has had it.
        fn seen(&self, key: K) -> Option<u32> {
            self.0.get(&key).copied()
        }
    }
    /// The first earlier route of each scope by what it matches.
    #[derive(Default)]
    struct Earlier<'a> {
        /// With no path.
        any: Map<Scope<'a>, usize>,
        /// With an exact path.
        exact: Map<(Scope<'a>, &'a str), usize>,
        /// With a prefix: each scope's prefixes make a tree of bytes, from
        /// the scope's root node; a node is reached from its parent by one
        /// byte, and `ends` holds the first route whose prefix ends there.
        roots: Map<Scope<'a>, usize>,
        edges: Map<(usize, u8), usize>,
        ends: Vec<Option<usize>>,
    }
    impl<'a> Earlier<'a> {
        fn node(&mut self) -> usize {
            self.ends.push(None);
            self.ends.len() - 1
        }

        fn add(&mut self, scope: Scope<'a>, path: &'a Option<PathMatch>, route: usize) {
            match path {
                None => {
                    self.any.entry(scope).or_insert(route);
                }
                Some(PathMatch::Exact(p)) => {
                    self.exact.entry((scope, p.as_str())).or_insert(route);
                }
                Some(PathMatch::Prefix(p)) => {
                    let mut at = match self.roots.get(&scope) {
                        Some(&root) => root,
                        None => {
                            let root = self.node();
                            self.roots.insert(scope, root);
                            root
                        }
                    };
                    for &b in p.as_bytes() {
                        at = match self.edges.get(&(at, b)) {
                            Some(&next) => next,
                            None => {
                                let next = self.node();
                                self.edges.insert((at, b), next);
                                next
                            }
                        };
                    }
                    self.ends[at].get_or_insert(route);
                }
            }
        }

        /// The first route of `scope` with a prefix of `path`.
        fn prefix_of(&self, scope: Scope, path: &str) -> Option<usize> {
            let mut at = *self.roots.get(&scope)?;
            let mut first = self.ends[at];
            for &b in path.as_bytes() {
                match self.edges.get(&(at, b)) {
                    Some(&next) => at = next,
                    None => break,
                }
                first = first.into_iter().chain(self.ends[at]).min();
            }
            first
        }

        fn covering(&self, scope: Scope, path: &Option<PathMatch>) -> Option<usize> {
            let any = self.any.get(&scope).copied();
            let (q, exact) = match path {
                None => return any,
                Some(PathMatch::Exact(q)) => {
                    (q.as_str(), self.exact.get(&(scope, q.as_str())).copied())
                }
                Some(PathMatch::Prefix(q)) => (q.as_str(), None),
            };
            any.into_iter()
                .chain(exact)
                .chain(self.prefix_of(scope, q))
                .min()
        }
    }
    // Header names compare without case; networks in any order. Most
    // frontends have neither: then no route has an entry.
    // A route by a header the frontend sets (see `headers_set`) matches
    // as one without it.
    let names: Vec<Option<String>> = if routes.iter().any(|r| r.header.is_some()) {
        routes
            .iter()
            .enumerate()
            .map(|(i, r)| match set.get(i) {
                Some(Some(_)) => None,
                _ => Some(r.header.as_ref()?.name.to_ascii_lowercase()),
            })
            .collect()
    } else {
        Vec::new()
    };
    let networks: Vec<Option<String>> = if routes.iter().any(|r| r.from.is_some()) {
        routes.iter().map(networks).collect()
    } else {
        Vec::new()
    };
    let mut earlier = Earlier::default();
    let mut header_ids: Ids<Header> = Ids(Map::default());
    let mut network_ids: Ids<&str> = Ids(Map::default());
    let mut lists = Lists::default();
    let mut out = Vec::with_capacity(routes.len());
    for (i, route) in routes.iter().enumerate() {
        let name = names.get(i).and_then(Option::as_deref);
        let from = networks.get(i).and_then(Option::as_deref);
        let nets = route.from.as_deref().map(net::parse_all);
        // A wildcard by its domain, `.example.com`.
        let host = route
            .host
            .as_deref()
            .map(|h| h.strip_prefix('*').unwrap_or(h));
        let header: Option<Header> = name
            .zip(route.header.as_ref())
            .map(|(name, h)| (name, h.value.as_ref()));
        // The headers whose routes match every request of this one's (none,
        // its own of any value, its own), and the networks (none, its
        // own), of those an earlier route has had.
        let headers = [
            Some(0),
            header.and_then(|(name, _)| header_ids.seen((name, None))),
            header
                .filter(|(_, value)| value.is_some())
                .and_then(|h| header_ids.seen(h)),
        ];
        // The lists of networks whose routes take every client of this
        // one's (none, and those that hold its networks).
        // (Most routes have no networks: then no list is made.)
        let holding = match (&nets, from) {
            (Some(Some(nets)), _) => lists.holding(nets),
            // A network that does not parse (never so once checked): its
            // own list alone.
            (_, Some(from)) => network_ids.seen(from).into_iter().collect(),
            _ => Vec::new(),
        };
        let froms = || std::iter::once(0).chain(holding.iter().copied());
        // Its own host, the wildcards over it (its strict suffixes at a
        // dot), and no host.
        let over = host.into_iter().flat_map(|h| {
            h.char_indices()
                .filter(|&(at, c)| c == '.' && at > 0)
                .map(|(at, _)| &h[at..])
        });
        let hosts = host.into_iter().chain(over).map(Some).chain([None]);
        let first = hosts
            .flat_map(|h| headers.iter().flatten().map(move |&c| (h, c)))
            .flat_map(|(h, c)| froms().map(move |f| (h, c, f)))
            .filter_map(|scope| earlier.covering(scope, &route.path))
            .min();
        out.push(first);
        let from = from.map_or(0, |f| {
            let known = network_ids.0.len();
            let id = network_ids.of(f);
            if network_ids.0.len() > known {
                lists.add(id, nets.flatten());
            }
            id
        });
        let scope = (host, header.map_or(0, |h| header_ids.of(h)), from);
        earlier.add(scope, &route.path, i);
    }
    out
}

/// The lists of networks earlier routes take clients from, by number (see
/// `Ids`), and which of them hold each network.
#[derive(Default)]
struct Lists {
    /// Each list's networks by its number (`None` for one that did not
    /// parse: it holds nothing but itself).
    nets: Vec<Option<Vec<Net>>>,
    /// The lists that hold a network, by the network.
    holding: Map<Net, Vec<u32>>,
}

impl Lists {
    /// Records list `id`, new, with its networks.
    fn add(&mut self, id: u32, nets: Option<Vec<Net>>) {
        debug_assert_eq!(self.nets.len() + 1, id as usize);
        for &net in nets.iter().flatten() {
            let ids = self.holding.entry(net).or_default();
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        }
        self.nets.push(nets);
    }

    /// The lists that hold every one of `nets`, in the order they were
    /// first seen: looked for among the lists that hold its network that
    /// fewest lists hold, the closest first. At most [`Self::LOOKED_AT`]
    /// of those are looked at, so that thousands of lists that all hold
    /// one network (`[10.0.0.0/8, 10.N.0.0/16]`) cost no pass over them
    /// for each route: a route so covered may then go unreported, never
    /// the other way.
    fn holding(&self, nets: &[Net]) -> Vec<u32> {
        let lists = |net: Net| net::over(net).filter_map(|n| self.holding.get(&n));
        let count = |net: Net| lists(net).map(Vec::len).sum::<usize>();
        let Some(&rarest) = nets.iter().min_by_key(|&&net| count(net)) else {
            return Vec::new();
        };
        let mut found: Vec<u32> = lists(rarest)
            .flatten()
            .copied()
            .take(Self::LOOKED_AT)
            .filter(|&id| match self.nets.get(id as usize - 1) {
                Some(Some(list)) => nets
                    .iter()
                    .all(|&net| list.iter().any(|&outer| net::holds(outer, net))),
                _ => false,
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    const LOOKED_AT: usize = 64;
}

/// A route's client networks as one text, the same for a list in any
/// order; `None` for a route of every client.
fn networks(route: &model::Route) -> Option<String> {
    let mut from = route.from.as_deref()?.to_vec();
    from.sort_unstable();
    from.dedup();
    Some(from.join(","))
}

/// W0016 for each TLS bind of tcp frontend `fe` whose policy offers `h2`
/// by ALPN: a client would send HTTP/2 on through a frontend that passes
/// bytes as they come.
fn h2_on_tcp(fe: &model::Frontend, diags: &mut Diagnostics) {
    for b in &fe.binds {
        let Some(tls) = b.tls.as_ref().filter(|t| t.alpn.iter().any(|p| p == "h2")) else {
            continue;
        };
        diags.push(
            Diagnostic::new(
                Code::H2OnTcp,
                b.origin,
                format!(
                    "tcp frontend `{}` ends TLS offering `h2` by ALPN (TLS policy `{}`)",
                    fe.name, tls.name
                ),
            )
            .help(format!(
                "a client that takes it sends HTTP/2, which the frontend passes on to its \
                 servers as it is: give the bind a policy whose `alpn` names the service's \
                 protocols, `tls {}_tcp = {} {{ alpn = [] }}` (`[\"http/1.1\"]` for HTTP/1.1 \
                 servers)",
                fe.name, tls.name
            )),
        );
    }
}

/// A frontend sends one `Strict-Transport-Security` header on every TLS
/// connection (see `lower`), so the TLS policies of its binds must agree
/// on `hsts`: E0300 at the first bind whose policy asks for another.
fn hsts_agrees(fe: &model::Frontend, diags: &mut Diagnostics) {
    let mut tls = fe.binds.iter().filter_map(|b| Some((b, b.tls.as_ref()?)));
    let Some((first, first_tls)) = tls.next() else {
        return;
    };
    let Some((other, other_tls)) = tls.find(|(_, t)| t.hsts != first_tls.hsts) else {
        return;
    };
    let asks = |t: &model::TlsPolicy| match t.hsts {
        Some(max_age) => format!("TLS policy `{}` asks for `max-age={max_age}`", t.name),
        None => format!("TLS policy `{}` sets no `hsts`", t.name),
    };
    diags.push(
        Diagnostic::new(
            Code::Contradiction,
            other.origin,
            format!(
                "the binds of frontend `{}` disagree on HSTS, which it sends once for all",
                fe.name
            ),
        )
        .label(other.origin, asks(other_tls))
        .label(first.origin, asks(first_tls))
        .help("give the TLS policies of the frontend's binds the same `hsts`, or put the binds in frontends of their own"),
    );
}

/// A frontend redirects every plain-HTTP request when one of its binds
/// says `redirect https` (see `lower`), so a plain bind without it would
/// redirect all the same: E0300 at the first such bind.
fn redirect_agrees(fe: &model::Frontend, diags: &mut Diagnostics) {
    let plain = |b: &&model::Bind| b.tls.is_none();
    let Some(redirecting) = fe.binds.iter().filter(plain).find(|b| b.redirect_https) else {
        return;
    };
    let Some(other) = fe.binds.iter().filter(plain).find(|b| !b.redirect_https) else {
        return;
    };
    diags.push(
        Diagnostic::new(
            Code::Contradiction,
            other.origin,
            "this plain bind would redirect to HTTPS too",
        )
        .label(other.origin, "no `redirect https` here")
        .label(redirecting.origin, "`redirect https` here")
        .help(format!(
            "frontend `{}` redirects every plain-HTTP request when one of its binds says so",
            fe.name
        ))
        .help("add `redirect https` to this bind too, or put it in a frontend of its own"),
    );
}

fn frontend_shape(env: &model::Env, fe: &model::Frontend, diags: &mut Diagnostics) {
    if fe.routes.is_empty() && fe.default.is_none() && !fe.redirects_to_https() {
        diags.push(
            Diagnostic::new(
                Code::NoRoute,
                fe.origin,
                format!("frontend `{}` routes no request", fe.name),
            )
            .help("add `default -> BACKEND`"),
        );
    }
    if fe.binds.is_empty() {
        diags.push(
            Diagnostic::new(
                Code::MissingField,
                fe.origin,
                format!("frontend `{}` has no bind", fe.name),
            )
            .help("add `bind :80` (or `bind :443 tls POLICY`)"),
        );
    }
    let has_tls = fe.binds.iter().any(|b| b.tls.is_some());
    if fe.redirects_to_https() && !has_tls {
        let span = fe
            .binds
            .iter()
            .find(|b| b.redirect_https)
            .map_or(fe.origin, |b| b.origin);
        diags.push(
            Diagnostic::new(
                Code::Contradiction,
                span,
                format!(
                    "frontend `{}` redirects to HTTPS but has no TLS bind",
                    fe.name
                ),
            )
            .help("add `bind :443 tls POLICY` to the frontend"),
        );
    }
    // A tcp frontend sends no header, HSTS or other.
    if fe.mode == model::Mode::Http {
        hsts_agrees(fe, diags);
    } else {
        h2_on_tcp(fe, diags);
    }
    redirect_agrees(fe, diags);
    if env.production {
        for b in &fe.binds {
            if let Some(tls) = b.tls.as_ref().filter(|t| t.min_version < TlsVersion::Tls12) {
                diags.push(
                    Diagnostic::new(
                        Code::WeakTls,
                        b.origin,
                        format!(
                            "TLS policy `{}` allows {} in a production environment",
                            tls.name,
                            tls.min_version.haproxy(),
                        ),
                    )
                    .help("use `tls.intermediate` or `tls.modern`"),
                );
            }
        }
    }
}

fn duplicate_binds(env: &model::Env, diags: &mut Diagnostics) {
    let mut seen: Map<Address, Span> = Map::default();
    // The first bind of each port, whatever its address: what a wildcard
    // bind clashes with (looked up, not searched for among all binds).
    let mut first_on_port: Map<u16, Span> = Map::default();
    // The stats page's bind is one more: HAProxy binds the port twice (each
    // with SO_REUSEPORT), and the system shares the connections out
    // between the two at random.
    for (listen, origin, _) in binds(env) {
        // A wildcard bind clashes with every address on the same port; the
        // first of them is named. An address clashes with itself and with
        // a wildcard.
        let clash = match listen.ip {
            None => first_on_port.get(&listen.port),
            Some(_) => seen
                .get(&(listen.ip, listen.port))
                .or_else(|| seen.get(&(None, listen.port))),
        }
        .copied();
        if let Some(first) = clash {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateBind,
                    origin,
                    format!("port {} is bound twice", listen.port),
                )
                .label(first, "first bound here")
                .help(
                    "bind another port, or give each bind an address of its own \
                     (`10.0.0.1:443`, `10.0.0.2:443`): `:PORT` takes the port on every address",
                ),
            );
        } else {
            seen.insert((listen.ip, listen.port), origin);
            first_on_port
                .entry(listen.port)
                .and_modify(|first| *first = (*first).min(origin))
                .or_insert(origin);
        }
    }
}

/// What a bind listens on: an address (`None` for every address) and a
/// port.
type Address = (Option<std::net::IpAddr>, u16);

/// Every bind of `env`: each frontend's, then the stats page's, with where
/// it is written and its frontend's name (`None` for the stats page).
fn binds(env: &model::Env) -> impl Iterator<Item = (&model::Listen, Span, Option<&str>)> {
    let frontends = env.frontends.iter().flat_map(|f| {
        f.binds
            .iter()
            .map(move |b| (&b.listen, b.origin, Some(f.name.as_str())))
    });
    let stats = env.stats.iter().map(|s| (&s.bind, s.bind_origin, None));
    frontends.chain(stats)
}

/// E0305 for each server at an address and port that HAProxy binds itself:
/// the address of a bind, or a loopback address where a bind takes the
/// port on every address.
fn servers_loop_back(env: &model::Env, diags: &mut Diagnostics) {
    // Each bind's address (`None` for every address) and port, with its
    // place and its frontend; the first of a clash (E0303) only.
    let mut binds: Map<Address, (Span, Option<&str>)> = Map::default();
    for (listen, origin, frontend) in self::binds(env) {
        let ip = listen.ip.filter(|ip| !ip.is_unspecified());
        binds.entry((ip, listen.port)).or_insert((origin, frontend));
    }
    if binds.is_empty() {
        return;
    }
    // The ports bound, a bit each: most servers are at none of them, and
    // are passed by one test of a bit instead of a lookup by address.
    let mut bound_ports = vec![0u64; 1 << 10];
    for &(_, port) in binds.keys() {
        bound_ports[usize::from(port >> 6)] |= 1 << (port & 63);
    }
    for backend in &env.backends {
        for server in &backend.servers {
            let port = server.port;
            if bound_ports[usize::from(port >> 6)] & (1 << (port & 63)) == 0 {
                continue;
            }
            let model::Host::Ip(ip) = server.host else {
                continue;
            };
            let bound = binds
                .get(&(Some(ip), server.port))
                .or_else(|| binds.get(&(None, server.port)).filter(|_| ip.is_loopback()));
            let Some(&(at, frontend)) = bound else {
                continue;
            };
            let owner = match frontend {
                Some(name) => format!("frontend `{name}`"),
                None => "the stats page".to_string(),
            };
            diags.push(
                Diagnostic::new(
                    Code::ServerLoopsBack,
                    server.origin,
                    format!(
                        "server `{}` of backend `{}` is at a port HAProxy binds itself",
                        server.name, backend.name
                    ),
                )
                .label(at, format!("{owner} binds {} here", server.port))
                .help(
                    "its requests would come back to HAProxy: point the server at the port \
                     its application listens on, or bind the frontend to another",
                ),
            );
        }
    }
}

/// Two servers of a backend that balances by a hash numbered alike
/// ([`lower::server_id`]): HAProxy refuses two servers of one number.
fn server_numbers_clash(env: &model::Env, diags: &mut Diagnostics) {
    for backend in env.backends.iter().filter(|b| b.balance.is_hash()) {
        let mut numbers: crate::hash::Map<u32, &model::Server> = crate::hash::Map::default();
        for server in &backend.servers {
            let number = crate::lower::server_id(&server.name);
            let first = match numbers.entry(number) {
                std::collections::hash_map::Entry::Occupied(first) => *first.get(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(server);
                    continue;
                }
            };
            diags.push(
                Diagnostic::new(
                    Code::ServerNumberClash,
                    server.origin,
                    format!(
                        "servers `{}` and `{}` of backend `{}` have the same number, {number}",
                        first.name, server.name, backend.name
                    ),
                )
                .label(
                    first.origin,
                    format!("`{}` is numbered {number} too", first.name),
                )
                .help(
                    "a backend that balances by a hash numbers its servers by their names: \
                     rename one of the two",
                ),
            );
        }
    }
}

/// A dummy scope: guard options are literals.
struct NoScope;

impl value::Scope for NoScope {
    fn lookup(&mut self, _: &ast::Path, _: &mut Diagnostics) -> Option<value::SRaw> {
        None
    }
    fn candidates(&self) -> &crate::diag::Names {
        self.names()
    }
}

fn guards(env: &model::Env, tainted: &Tainted, items: &[&ast::Item], diags: &mut Diagnostics) {
    for item in items {
        let ast::Item::Guard(guard) = item else {
            continue;
        };
        let Some(schema) = types::guard_rule(&guard.name.name).map(|rule| rule.options) else {
            let names: Vec<&str> = types::GUARDS.iter().map(|rule| rule.name).collect();
            let mut d = Diagnostic::new(
                Code::UnknownGuard,
                guard.name.span,
                format!("unknown guard `{}`", guard.name.name),
            );
            if let Some(near) = nearest(&guard.name.name, names.iter().copied()) {
                d = d.did_you_mean(near);
            }
            diags.push(d.help(format!("the guards are {}", types::list_values(&names))));
            continue;
        };
        let options = match &guard.options {
            None => value::Rec::default(),
            Some(record) => {
                let raw = value::eval(&record.clone().into_expr(), &mut NoScope, diags);
                match value::coerce(&raw, Ty::Record(schema), &crate::diag::Names::new(), diags) {
                    Some(Value::Record(r)) => r,
                    _ => continue,
                }
            }
        };
        if !guard.envs.is_empty() && !guard.envs.contains(&env.name) {
            continue;
        }
        enforce(guard, &options, env, tainted, diags);
    }
}

/// Checks one guard over `env`. Backends in which something was dropped for
/// an error are not judged on their servers: one mistake, one diagnostic.
fn enforce(
    guard: &ast::Guard,
    options: &value::Rec,
    env: &model::Env,
    tainted: &Tainted,
    diags: &mut Diagnostics,
) {
    let whole = |be: &&model::Backend| !tainted.backends.contains(&be.name);
    let name = guard.name.name.as_str();
    let mut violation = |span: Span, message: String, help: &str| {
        diags.push(
            Diagnostic::new(
                Code::Guardrail,
                span,
                format!("guard `{name}` violated: {message}"),
            )
            .label(guard.span, "guard declared here")
            .help(help.to_string()),
        );
    };
    match name {
        "tls_min_version" => {
            let min = options
                .enumeration("min")
                .and_then(TlsVersion::from_name)
                .unwrap_or(TlsVersion::Tls12);
            for fe in &env.frontends {
                for b in &fe.binds {
                    if let Some(tls) = b.tls.as_ref().filter(|t| t.min_version < min) {
                        violation(
                            b.origin,
                            format!(
                                "TLS policy `{}` allows {}, below {}",
                                tls.name,
                                tls.min_version.haproxy(),
                                min.haproxy()
                            ),
                            "use a policy whose `min_version` is at least the guard's `min`",
                        );
                    }
                }
            }
        }
        "hsts" => {
            // HSTS is a header: a tcp frontend sends none.
            for fe in env.frontends.iter().filter(|f| f.mode == model::Mode::Http) {
                for b in &fe.binds {
                    if let Some(tls) = b.tls.as_ref().filter(|t| t.hsts.is_none()) {
                        violation(
                            b.origin,
                            format!("TLS policy `{}` sets no HSTS", tls.name),
                            "set `hsts = 730d` in the TLS policy",
                        );
                    }
                }
            }
        }
        "health_check" => {
            for be in env
                .backends
                .iter()
                .filter(whole)
                .filter(|b| b.servers.len() > 1 && b.check.is_none())
            {
                violation(
                    be.origin,
                    format!(
                        "backend `{}` has {} servers and no health check",
                        be.name,
                        be.servers.len()
                    ),
                    match be.mode {
                        model::Mode::Http => "add `check = checks.healthz` (with `import std.checks`)",
                        model::Mode::Tcp => "add `check = checks.connect` (with `import std.checks`): it connects, and asks nothing more",
                    },
                );
            }
        }
        "server_maxconn" => {
            for be in &env.backends {
                for s in be.servers.iter().filter(|s| s.maxconn.is_none()) {
                    violation(
                        s.origin,
                        format!("server `{}/{}` has no maxconn", be.name, s.name),
                        "add `maxconn = N` to the server",
                    );
                }
            }
        }
        "https_only" => {
            // A tcp frontend's plain binds do not serve HTTP.
            for fe in env.frontends.iter().filter(|f| f.mode == model::Mode::Http) {
                for b in fe
                    .binds
                    .iter()
                    .filter(|b| b.tls.is_none() && !b.redirect_https)
                {
                    violation(
                        b.origin,
                        format!("frontend `{}` serves plain HTTP", fe.name),
                        "add `redirect https` to the bind, or `tls POLICY`",
                    );
                }
                // A redirect route that sends clients to plain HTTP.
                for route in &fe.routes {
                    if let model::Target::Redirect(url) = &route.target {
                        if url.starts_with("http://") {
                            violation(
                                route.origin,
                                format!(
                                    "a route of frontend `{}` redirects to plain HTTP",
                                    fe.name
                                ),
                                "redirect to `https://`",
                            );
                        }
                    }
                }
            }
        }
        "server_tls" => {
            // A tcp backend passes bytes that may be TLS already (a
            // frontend that passes it through).
            let http = |be: &&model::Backend| be.mode == model::Mode::Http;
            for be in env.backends.iter().filter(http) {
                for s in &be.servers {
                    let (message, help) = match s.tls.as_deref() {
                        None => (
                            "is reached without TLS",
                            "add `tls = { ca = \"/etc/ssl/certs/ca-certificates.crt\" }` to the \
                             server, with the CA that signs its certificate",
                        ),
                        Some(tls) if !tls.verify => (
                            "does not verify its certificate (`verify = none`)",
                            "verify it: `tls = { ca = \"PATH\" }`, with the CA that signs the \
                             server's certificate",
                        ),
                        Some(_) => continue,
                    };
                    violation(
                        s.origin,
                        format!("server `{}/{}` {message}", be.name, s.name),
                        help,
                    );
                }
            }
        }
        "rate_limit" => {
            for fe in env.frontends.iter().filter(|f| f.rate_limit.is_none()) {
                violation(
                    fe.origin,
                    format!("frontend `{}` has no rate limit", fe.name),
                    match fe.mode {
                        model::Mode::Http => {
                            "add `rate_limit = { requests = 100, per = 10s }` (each client's \
                             requests), or `connections = 20`"
                        }
                        model::Mode::Tcp => {
                            "add `rate_limit = { connections = 20, per = 10s }` (each client's \
                             new connections)"
                        }
                    },
                );
            }
        }
        "min_servers" => {
            let min = options.int("count").unwrap_or(2) as usize;
            for be in env.backends.iter().filter(whole) {
                let serving = in_service(be);
                if serving < min {
                    violation(
                        be.origin,
                        format!(
                            "backend `{}` has {serving} {} in service, fewer than {min}",
                            be.name,
                            if serving == 1 { "server" } else { "servers" },
                        ),
                        "add servers at other addresses, or put drained or maintenance servers back in `ready`",
                    );
                }
            }
        }
        _ => {}
    }
}

/// How many distinct addresses of `be` take traffic: servers that are
/// `ready` and not `backup`, two at one address and port counted once.
fn in_service(be: &model::Backend) -> usize {
    be.servers
        .iter()
        .filter(|s| s.state == ServerState::Ready && !s.backup)
        .map(|s| (&s.host, s.port))
        .collect::<Set<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_route_path_lets_strip_prefix_take_off() {
        let prefix = |p: &str| Some(PathMatch::Prefix(p.into()));
        let exact = |p: &str| Some(PathMatch::Exact(p.into()));
        for (path, strips_it) in [
            (None, true),
            (prefix("/"), true),
            (prefix("/v1/"), true),
            (prefix("/v1/se"), true),
            (prefix("/v1/search"), true),
            (prefix("/v1/search/"), true),
            (prefix("/v1/search/q/"), true),
            (prefix("/v1/searchx"), false),
            (prefix("/v2/"), false),
            (prefix("/v1/search2/"), false),
            (exact("/v1/search"), true),
            (exact("/v1/search/"), true),
            (exact("/v1/search/_search"), true),
            (exact("/v1/searches"), false),
            (exact("/v1"), false),
        ] {
            assert_eq!(strips("/v1/search", path.as_ref()), strips_it, "{path:?}");
        }
    }

    /// Whether `earlier` matches every request `later` matches, by the
    /// definition (the way the check was first written).
    fn covers(earlier: &model::Route, later: &model::Route) -> bool {
        let later_domain = later.host_suffix().or(later.host.as_deref());
        let host = earlier.host.is_none()
            || earlier.host == later.host
            || earlier
                .host_suffix()
                .zip(later_domain)
                .is_some_and(|(over, h)| h.len() > over.len() && h.ends_with(over));
        let header = match (&earlier.header, &later.header) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(e), Some(l)) => {
                e.name.eq_ignore_ascii_case(&l.name) && (e.value.is_none() || e.value == l.value)
            }
        };
        // Whether network `outer` holds network `inner`, by their bits.
        fn inside(inner: &str, outer: &str) -> bool {
            let bits = |text: &str| {
                let (ip, len) = text.split_once('/').unwrap();
                let len: usize = len.parse().unwrap();
                let bits: String = match ip.parse::<std::net::IpAddr>().unwrap() {
                    std::net::IpAddr::V4(ip) => {
                        ip.octets().iter().map(|o| format!("{o:08b}")).collect()
                    }
                    std::net::IpAddr::V6(ip) => {
                        ip.octets().iter().map(|o| format!("{o:08b}")).collect()
                    }
                };
                (bits.len(), bits[..len].to_string())
            };
            let ((inner_width, inner), (outer_width, outer)) = (bits(inner), bits(outer));
            inner_width == outer_width && inner.starts_with(&outer)
        }
        let from = match (&earlier.from, &later.from) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(e), Some(l)) => l.iter().all(|l| e.iter().any(|e| inside(l, e))),
        };
        host && header
            && from
            && match (&earlier.path, &later.path) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(PathMatch::Prefix(p)), Some(PathMatch::Prefix(q) | PathMatch::Exact(q))) => {
                    q.starts_with(p.as_str())
                }
                (Some(PathMatch::Exact(p)), Some(PathMatch::Exact(q))) => p == q,
                (Some(PathMatch::Exact(_)), Some(PathMatch::Prefix(_))) => false,
            }
    }

    /// The first covering route, found by comparing with every earlier
    /// route.
    fn naive(routes: &[model::Route]) -> Vec<Option<usize>> {
        (0..routes.len())
            .map(|i| (0..i).find(|&e| covers(&routes[e], &routes[i])))
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1000, failure_persistence: None, ..Default::default() })]

        #[test]
        fn shadowing_finds_what_comparing_every_pair_finds(
            routes in proptest::collection::vec(
                ((0u8..8, 0u8..3, 0usize..8), (0usize..7, 0usize..13)),
                0..30,
            ),
        ) {
            const PATHS: [&str; 8] = ["/", "/a", "/ab", "/a/", "/b", "/é", "/éa", ""];
            // No header, a header of any value, of a value, in other cases.
            let header = |name: &str, value: Option<&str>| {
                Some(Box::new(model::HeaderMatch {
                    name: name.into(),
                    value: value.map(|v| model::Text::Literal(v.into())),
                }))
            };
            let headers = [
                None,
                header("X-A", None),
                header("x-a", Some("1")),
                header("X-A", Some("2")),
                header("X-B", Some("1")),
                None,
                Some(Box::new(model::HeaderMatch {
                    name: "X-A".into(),
                    value: Some(model::Text::Secret("ONE".into())),
                })),
            ];
            // No networks, or lists of them, some the same in another
            // order, some inside others, of both families.
            let networks = |list: &[&str]| {
                Some(list.iter().map(|n| n.to_string()).collect::<Box<[String]>>())
            };
            let froms = [
                None,
                networks(&["10.0.0.0/8"]),
                networks(&["10.0.0.0/8", "192.168.0.0/16"]),
                networks(&["192.168.0.0/16", "10.0.0.0/8"]),
                None,
                networks(&["10.1.0.0/16"]),
                networks(&["10.1.2.0/24", "192.168.7.0/24"]),
                networks(&["10.1.2.3/8"]),
                networks(&["0.0.0.0/0"]),
                networks(&["2001:db8::/32"]),
                networks(&["2001:db8:1::/48", "10.1.0.0/16"]),
                networks(&["::/0"]),
                networks(&["10.0.0.0/9", "10.128.0.0/9"]),
            ];
            let routes: Vec<model::Route> = routes
                .iter()
                .map(|&((host, kind, path), (h, f))| model::Route {
                    host: ["a", "b", "x.a", "*.a", "*.x.a", "y.x.a", "*.b"]
                        .get(usize::from(host))
                        .map(|h| h.to_string()),
                    path: match kind {
                        0 => None,
                        1 => Some(PathMatch::Exact(PATHS[path].into())),
                        _ => Some(PathMatch::Prefix(PATHS[path].into())),
                    },
                    header: headers[h].clone(),
                    from: froms[f].clone(),
                    target: model::Target::Backend("b".into()),
                    origin: Span { start: 0, end: 0 },
                })
                .collect();
            proptest::prop_assert_eq!(shadowing(&routes, &[]), naive(&routes));
        }
    }
}
