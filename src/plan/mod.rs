//! The plan: what changes between two checked models of one environment.
//! Each change is keyed by object (`backend api / server api3`), carries its
//! old → new field values, and is classified: hitless, with the Runtime API
//! commands that carry it out, or reload, with the reason. This is the one
//! classification in the codebase; `compile --base` writes its commands to
//! `runtime.txt`.

pub mod cfg_diff;
pub mod render;

use std::collections::HashMap;
use std::fmt;

use crate::emit::haproxy_cfg::render_words;
use crate::emit::runtime::{Command, MapEntry, ServerRef};
use crate::lower::{self, Word};
use crate::model::{self, Host, ServerState, Text};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Object {
    Environment(String),
    Defaults,
    Stats,
    Tls(String),
    Frontend(String),
    Bind(String, String),
    Route(String, String),
    Backend(String),
    Server(String, String),
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Environment(name) => write!(f, "environment {name}"),
            Object::Defaults => f.write_str("defaults"),
            Object::Stats => f.write_str("stats"),
            Object::Tls(name) => write!(f, "tls {name}"),
            Object::Frontend(name) => write!(f, "frontend {name}"),
            Object::Bind(fe, bind) => write!(f, "frontend {fe} / bind {bind}"),
            Object::Route(fe, route) => write!(f, "frontend {fe} / route {route}"),
            Object::Backend(name) => write!(f, "backend {name}"),
            Object::Server(be, s) => write!(f, "backend {be} / server {s}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Add,
    Update,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldChange {
    pub field: &'static str,
    /// `None` when the field is not set on that side.
    pub old: Option<String>,
    pub new: Option<String>,
    /// The template the new value comes from (or the old one came from,
    /// where the field is no longer set), when the block takes this field
    /// from one: a change of the template shows in every block that uses it.
    pub template: Option<String>,
}

/// How a change goes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Apply {
    /// Through the Runtime API, with these commands.
    Runtime(Vec<Command>),
    /// Only by reloading HAProxy, for this reason.
    Reload(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub object: Object,
    pub action: Action,
    pub fields: Vec<FieldChange>,
    pub apply: Apply,
    /// Removes or weakens something: a server, backend or route removed, a
    /// TLS policy weakened, access opened (an `allow` or a route's `from`
    /// that takes more clients, a backend's `basic_auth` removed, a route
    /// that refused requests and now serves them).
    pub destructive: bool,
}

/// The changes of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvPlan {
    pub env: String,
    pub changes: Vec<Change>,
    /// The target HAProxy versions of the base and the new sources, where
    /// they differ. Not a change of its own: both write the same
    /// configuration, and haptic does not upgrade HAProxy; it decides what
    /// the plan counts on (see [`classify`]).
    pub target: Option<(model::Haproxy, model::Haproxy)>,
}

impl EnvPlan {
    /// Whether the plan has anything to show: a change, or a new target.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.target.is_none()
    }

    /// What a plan says of a new target version, where there is one.
    pub fn target_note(&self) -> Option<String> {
        let (old, new) = self.target?;
        Some(format!(
            "target HAProxy {} -> {}: the configuration is written alike for both; \
             what goes live without a reload counts on what {} takes",
            old.name(),
            new.name(),
            old.min(new).name()
        ))
    }

    pub fn needs_reload(&self) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c.apply, Apply::Reload(_)))
    }

    /// `(object, reason)` of every change that needs a reload.
    pub fn reload_reasons(&self) -> Vec<(String, String)> {
        self.changes
            .iter()
            .filter_map(|c| match &c.apply {
                Apply::Reload(reason) => Some((c.object.to_string(), reason.clone())),
                Apply::Runtime(_) => None,
            })
            .collect()
    }

    /// The commands of every hitless change, in plan order, but for the
    /// routes map's, which come last: an entry sends traffic to its
    /// backend only once that backend's servers are added and set.
    pub fn runtime_commands(&self) -> Vec<Command> {
        let (servers, map): (Vec<Command>, Vec<Command>) = self
            .changes
            .iter()
            .filter_map(|c| match &c.apply {
                Apply::Runtime(commands) => Some(commands.iter().cloned()),
                Apply::Reload(_) => None,
            })
            .flatten()
            .partition(|c| {
                !matches!(
                    c,
                    Command::AddMap(_) | Command::SetMap(_) | Command::DelMap(_)
                )
            });
        servers.into_iter().chain(map).collect()
    }
}

/// A plan for an environment that did not exist in the base: HAProxy must
/// be started (or reloaded) on the new configuration.
pub fn new_env(env: &model::Env) -> EnvPlan {
    whole_env(
        &env.name,
        Action::Add,
        "a new environment needs HAProxy started on its configuration",
    )
}

/// A plan for an environment that the new sources no longer declare.
pub fn removed_env(name: &str) -> EnvPlan {
    whole_env(
        name,
        Action::Remove,
        "the environment is no longer declared",
    )
}

fn whole_env(name: &str, action: Action, why: &str) -> EnvPlan {
    EnvPlan {
        env: name.to_string(),
        changes: vec![Change {
            object: Object::Environment(name.to_string()),
            action,
            fields: Vec::new(),
            apply: Apply::Reload(why.into()),
            destructive: action == Action::Remove,
        }],
        target: None,
    }
}

/// Classifies every difference between `base` and `new`.
pub fn classify(base: &model::Env, new: &model::Env) -> EnvPlan {
    let mut changes = Vec::new();
    let reload = |why: &str| Apply::Reload(why.to_string());

    let fields = diff_fields(
        &defaults_fields(&base.defaults),
        &defaults_fields(&new.defaults),
    );
    if !fields.is_empty() {
        changes.push(update(
            Object::Defaults,
            fields,
            reload("global and defaults settings need a reload"),
        ));
    }
    let (old_stats, new_stats) = (
        base.stats.as_ref().map(stats_fields).unwrap_or_default(),
        new.stats.as_ref().map(stats_fields).unwrap_or_default(),
    );
    let fields = diff_fields(&old_stats, &new_stats);
    if !fields.is_empty() {
        let mut change = update(
            Object::Stats,
            fields,
            reload("the stats page needs a reload"),
        );
        change.destructive = base
            .stats
            .as_ref()
            .zip(new.stats.as_ref())
            .is_some_and(|(old, new)| opened(&old.allow, &new.allow));
        changes.push(change);
    }
    tls_changes(base, new, &mut changes);
    let maps = Maps::of(base, new);
    keyed(
        &base.frontends,
        &new.frontends,
        |f| f.name.as_str(),
        |action, old, new| frontend_changes(action, old, new, &maps, &mut changes),
    );
    // What the Runtime API takes: a plan that also moves to another
    // HAProxy version counts on the older one's.
    let haproxy = base.haproxy.min(new.haproxy);
    let mut backend_changes = Vec::new();
    keyed(
        &base.backends,
        &new.backends,
        |b| b.name.as_str(),
        |action, old, new| backend_change(action, old, new, haproxy, &mut backend_changes),
    );
    mark_moves(&mut backend_changes);
    changes.extend(backend_changes);
    EnvPlan {
        env: new.name.clone(),
        changes,
        target: (base.haproxy != new.haproxy).then_some((base.haproxy, new.haproxy)),
    }
}

/// A server removed from one backend and added to another under the same
/// name has moved: both changes say where to and from. (They stay a
/// removal and an addition: that is how HAProxy carries them out.)
fn mark_moves(changes: &mut [Change]) {
    let mut removed: HashMap<String, (usize, String)> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        if let (Action::Remove, Object::Server(backend, server)) = (c.action, &c.object) {
            removed.insert(server.clone(), (i, backend.clone()));
        }
    }
    let mut moves = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if let (Action::Add, Object::Server(backend, server)) = (c.action, &c.object) {
            if let Some((from, old_backend)) = removed.get(server) {
                moves.push((i, *from, old_backend.clone(), backend.clone()));
            }
        }
    }
    for (to, from, old_backend, new_backend) in moves {
        changes[to].fields.insert(
            0,
            FieldChange {
                field: "moved from",
                old: None,
                new: Some(format!("backend {old_backend}")),
                template: None,
            },
        );
        changes[from].fields.insert(
            0,
            FieldChange {
                field: "moved to",
                old: None,
                new: Some(format!("backend {new_backend}")),
                template: None,
            },
        );
    }
}

/// Whether client networks `new` take clients that `old` refused: `old`
/// listed networks (none is every client) and `new` lists none, or one
/// that no network of `old` holds. A plan calls out the block as opened,
/// as it does a TLS policy that takes older clients as weakened.
fn opened(old: &[String], new: &[String]) -> bool {
    use crate::check::net;
    if old.is_empty() {
        return false;
    }
    if new.is_empty() {
        return true;
    }
    match (net::parse_all(old), net::parse_all(new)) {
        (Some(old), Some(new)) => new.iter().any(|&n| !old.iter().any(|&o| net::holds(o, n))),
        _ => new.iter().any(|n| !old.contains(n)),
    }
}

fn update(object: Object, fields: Vec<FieldChange>, apply: Apply) -> Change {
    Change {
        object,
        action: Action::Update,
        fields,
        apply,
        destructive: false,
    }
}

/// Pairs the objects of two lists by key (unique in each list): updates
/// (and additions) in the new list's order, then removals in the base's
/// order. Linear: the base is indexed once, by keys that borrow from the
/// objects where they can (a plan of a large project pairs every server of
/// each changed backend).
fn keyed<'a, T, K: std::hash::Hash + Eq>(
    base: &'a [T],
    new: &'a [T],
    key: impl Fn(&'a T) -> K,
    mut visit: impl FnMut(Action, Option<&'a T>, Option<&'a T>),
) {
    let mut index: crate::hash::Map<K, usize> = crate::hash::map_with_capacity(base.len());
    index.extend(base.iter().enumerate().map(|(i, t)| (key(t), i)));
    let mut paired = vec![false; base.len()];
    for item in new {
        match index.get(&key(item)) {
            Some(&i) => {
                paired[i] = true;
                visit(Action::Update, Some(&base[i]), Some(item));
            }
            None => visit(Action::Add, None, Some(item)),
        }
    }
    for (item, paired) in base.iter().zip(paired) {
        if !paired {
            visit(Action::Remove, Some(item), None);
        }
    }
}

type Fields = Vec<(&'static str, String)>;

fn diff_fields(old: &Fields, new: &Fields) -> Vec<FieldChange> {
    let get = |fields: &Fields, name: &str| {
        fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    };
    let mut names: Vec<&'static str> = new.iter().map(|(n, _)| *n).collect();
    for (n, _) in old {
        if !names.contains(n) {
            names.push(n);
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let (o, n) = (get(old, name), get(new, name));
            (o != n).then_some(FieldChange {
                field: name,
                old: o,
                new: n,
                template: None,
            })
        })
        .collect()
}

/// Marks each change of a field that the block takes from its template,
/// in the new version or, for a field no longer set, in the old one.
fn through_templates(
    fields: &mut [FieldChange],
    old: Option<&model::Template>,
    new: Option<&model::Template>,
) {
    for f in fields {
        let from = if f.new.is_some() { new } else { old };
        f.template = from
            .filter(|t| t.fields.contains(&f.field))
            .map(|t| t.name.clone());
    }
}

fn text(t: &Text) -> String {
    match t {
        Text::Literal(s) => format!("{s:?}"),
        Text::Secret(name) => format!("secret(\"{name}\")"),
    }
}

fn opt<T: ToString>(fields: &mut Fields, name: &'static str, value: &Option<T>) {
    if let Some(v) = value {
        fields.push((name, v.to_string()));
    }
}

fn defaults_fields(d: &model::Defaults) -> Fields {
    let mut f: Fields = vec![
        ("timeout_connect", lower::duration(d.timeout_connect)),
        ("timeout_client", lower::duration(d.timeout_client)),
        ("timeout_server", lower::duration(d.timeout_server)),
        (
            "timeout_http_request",
            lower::duration(d.timeout_http_request),
        ),
        (
            "timeout_http_keep_alive",
            lower::duration(d.timeout_http_keep_alive),
        ),
        ("timeout_queue", lower::duration(d.timeout_queue)),
        ("timeout_check", lower::duration(d.timeout_check)),
        ("retries", d.retries.to_string()),
        ("redispatch", d.redispatch.to_string()),
        ("socket", d.socket.clone()),
        ("log", d.log.clone()),
    ];
    opt(
        &mut f,
        "timeout_tunnel",
        &d.timeout_tunnel.map(lower::duration),
    );
    opt(&mut f, "maxconn", &d.maxconn);
    opt(&mut f, "routes_map", &d.routes_map);
    opt(&mut f, "dns", &d.dns.as_ref().map(dns_text));
    error_pages(&mut f, &d.error_pages);
    f
}

/// `remove_request_headers` and `remove_response_headers`, where set.
fn removed_headers(fields: &mut Fields, request: &[String], response: &[String]) {
    for (name, list) in [
        ("remove_request_headers", request),
        ("remove_response_headers", response),
    ] {
        if !list.is_empty() {
            fields.push((name, list.join(", ")));
        }
    }
}

/// `error_pages` as a plan shows it: `503 /etc/haproxy/errors/503.http, ...`.
fn error_pages(fields: &mut Fields, pages: &[model::ErrorPage]) {
    if !pages.is_empty() {
        let pages: Vec<String> = pages
            .iter()
            .map(|p| format!("{} {}", p.status, p.file))
            .collect();
        fields.push(("error_pages", pages.join(", ")));
    }
}

/// `dns` as a plan shows it: `{ nameservers = [10.0.0.2:53], hold_valid = 10s }`.
fn dns_text(dns: &model::Dns) -> String {
    let servers: Vec<String> = dns
        .nameservers
        .iter()
        .map(|(ip, port)| lower::address(Some(&Host::Ip(*ip)), *port))
        .collect();
    let mut fields = vec![format!("nameservers = [{}]", servers.join(", "))];
    let durations = [
        ("hold_valid", dns.hold_valid),
        ("hold_nx", dns.hold_nx),
        ("timeout_retry", dns.timeout_retry),
    ];
    for (name, ms) in durations {
        if let Some(ms) = ms {
            fields.push(format!("{name} = {}", lower::duration(ms)));
        }
    }
    if let Some(n) = dns.resolve_retries {
        fields.push(format!("resolve_retries = {n}"));
    }
    format!("{{ {} }}", fields.join(", "))
}

fn stats_fields(s: &model::Stats) -> Fields {
    let host = s.bind.ip.map(Host::Ip);
    let mut f: Fields = vec![
        ("bind", lower::address(host.as_ref(), s.bind.port)),
        ("uri", s.uri.clone()),
        ("user", s.user.clone()),
        ("password", text(&s.password)),
        ("refresh", lower::duration(s.refresh)),
    ];
    opt(&mut f, "metrics", &s.metrics);
    if !s.allow.is_empty() {
        f.push(("allow", s.allow.join(", ")));
    }
    f
}

fn tls_fields(t: &model::TlsPolicy) -> Fields {
    let mut f: Fields = vec![("min_version", t.min_version.name().to_string())];
    opt(&mut f, "max_version", &t.max_version.map(|v| v.name()));
    opt(&mut f, "ciphers", &t.ciphers);
    opt(&mut f, "ciphersuites", &t.ciphersuites);
    opt(&mut f, "curves", &t.curves);
    if !t.alpn.is_empty() {
        f.push(("alpn", t.alpn.join(",")));
    }
    match &t.certs {
        model::Certs::Path(path) => f.push(("certs", path.clone())),
        model::Certs::List(list) => f.push(("crt_list", list.clone())),
    }
    opt(&mut f, "hsts", &t.hsts.map(|s| format!("{s}s")));
    f.push(("tickets", t.tickets.to_string()));
    if let Some(certs) = &t.client_certs {
        f.push(("client_ca", format!("{} ({})", certs.ca, certs.verify())));
    }
    f
}

/// TLS policies in use, by name: a changed policy is one change, however
/// many binds use it.
fn tls_changes(base: &model::Env, new: &model::Env, changes: &mut Vec<Change>) {
    fn policies(env: &model::Env) -> Vec<&model::TlsPolicy> {
        let mut seen = std::collections::HashSet::new();
        env.frontends
            .iter()
            .flat_map(|f| f.binds.iter().filter_map(|b| b.tls.as_ref()))
            .filter(|t| seen.insert(t.name.clone()))
            .collect()
    }
    let (old, new) = (policies(base), policies(new));
    let index: HashMap<&str, &model::TlsPolicy> =
        old.iter().map(|t| (t.name.as_str(), *t)).collect();
    for policy in new {
        let Some(before) = index.get(policy.name.as_str()) else {
            continue;
        };
        let fields = diff_fields(&tls_fields(before), &tls_fields(policy));
        if !fields.is_empty() {
            // Client certificates no longer asked for, or no longer
            // required, weaken it too.
            let weakened = policy.min_version < before.min_version
                || (before.hsts.is_some() && policy.hsts.is_none_or(|h| Some(h) < before.hsts))
                || before.client_certs.as_ref().is_some_and(|c| c.required)
                    && !policy.client_certs.as_ref().is_some_and(|c| c.required);
            changes.push(Change {
                object: Object::Tls(policy.name.clone()),
                action: Action::Update,
                fields,
                apply: Apply::Reload("TLS settings need a reload".into()),
                destructive: weakened,
            });
        }
    }
}

fn bind_key(b: &model::Bind) -> String {
    lower::address(b.listen.ip.map(Host::Ip).as_ref(), b.listen.port)
}

fn bind_fields(b: &model::Bind) -> Fields {
    let mut f = Fields::new();
    opt(&mut f, "tls", &b.tls.as_ref().map(|t| t.name.clone()));
    if b.redirect_https {
        f.push(("redirect", "https".into()));
    }
    f
}

fn headers(list: &[model::Header]) -> String {
    let parts: Vec<String> = list
        .iter()
        .map(|h| format!("{}: {}", h.name, text(&h.value)))
        .collect();
    parts.join(", ")
}

/// What the plan needs to know of the routes maps of the two versions.
struct Maps<'a> {
    /// The map's path on the HAProxy host, when both versions have a
    /// routes map at the same path: only then do entries change at
    /// runtime (a map that appears, moves or goes is a reload, as a
    /// `defaults` change).
    path: Option<&'a str>,
    /// The backends of the base, and those that answer its refusals
    /// (`deny.404`): an entry can only send to a backend that HAProxy
    /// already runs.
    base_backends: std::collections::HashSet<std::borrow::Cow<'a, str>>,
}

impl<'a> Maps<'a> {
    fn of(base: &'a model::Env, new: &'a model::Env) -> Maps<'a> {
        let (old_path, new_path) = (base.routes_map(), new.routes_map());
        Maps {
            path: new_path.filter(|_| old_path == new_path),
            base_backends: base
                .backends
                .iter()
                .map(|b| b.name.as_str().into())
                .chain(
                    base.frontends
                        .iter()
                        .flat_map(model::Frontend::targets)
                        .filter(|t| matches!(t, model::Target::Deny(_)))
                        .filter_map(model::Target::map_backend),
                )
                .collect(),
        }
    }
}

/// Routes by key: whether each is an entry of the routes map, or why not.
type Fits = HashMap<String, Result<(), String>>;

/// Each route of `f` by key: whether it is an entry of the routes map, or
/// why not (see [`model::Frontend::map_fit`]); empty without a map.
fn route_fits(f: &model::Frontend, has_map: bool) -> Fits {
    if !has_map {
        return HashMap::new();
    }
    f.routes
        .iter()
        .map(model::Route::key)
        .zip(f.map_fit())
        .map(|(key, fit)| (key, fit.map_err(|why| f.why_not_entry(why))))
        .collect()
}

fn frontend_fields(f: &model::Frontend, fits: &Fits) -> Fields {
    let mut fields: Fields = vec![("mode", f.mode.name().to_string())];
    let default = f.default.as_ref().map(|target| match target {
        model::Target::Backend(name) => name.clone(),
        model::Target::Redirect(url) => format!("redirect {url}"),
        model::Target::Deny(status) => format!("deny {status}"),
    });
    opt(&mut fields, "default", &default);
    opt(&mut fields, "maxconn", &f.maxconn);
    opt(&mut fields, "monitor_uri", &f.monitor_uri);
    opt(
        &mut fields,
        "request_id",
        &f.request_id.map(model::RequestId::name),
    );
    opt(
        &mut fields,
        "timeout_client",
        &f.timeout_client.map(lower::duration),
    );
    opt(
        &mut fields,
        "timeout_hello",
        &f.timeout_hello.map(lower::duration),
    );
    if !f.allow.is_empty() {
        fields.push(("allow", f.allow.join(", ")));
    }
    opt(&mut fields, "max_body", &f.max_body);
    opt(
        &mut fields,
        "forwarded_for",
        &f.forwarded_for.map(model::ForwardedFor::name),
    );
    if f.forwarded_proto {
        fields.push(("forwarded_proto", "true".to_string()));
    }
    if f.accept_proxy {
        fields.push(("accept_proxy", "true".to_string()));
    }
    let rate = f.rate_limit.map(|r| {
        let counts: Vec<String> = [("requests", r.requests), ("connections", r.connections)]
            .into_iter()
            .filter_map(|(what, n)| Some(format!("{} {what}", n?)))
            .collect();
        format!("{} per {}", counts.join(", "), lower::duration(r.per))
    });
    opt(&mut fields, "rate_limit", &rate);
    error_pages(&mut fields, &f.error_pages);
    removed_headers(
        &mut fields,
        &f.remove_request_headers,
        &f.remove_response_headers,
    );
    if !f.request_headers.is_empty() {
        fields.push(("request_headers", headers(&f.request_headers)));
    }
    if !f.response_headers.is_empty() {
        fields.push(("response_headers", headers(&f.response_headers)));
    }
    // The order of the routes that are rules: the map's entries have none.
    let order: Vec<String> = f
        .routes
        .iter()
        .map(model::Route::key)
        .filter(|key| !fits.get(key).is_some_and(Result::is_ok))
        .collect();
    fields.push(("route order", order.join("; ")));
    fields
}

const FRONTEND_RELOAD: &str = "frontends, binds and routes need a reload";

fn frontend_changes(
    action: Action,
    old: Option<&model::Frontend>,
    new: Option<&model::Frontend>,
    maps: &Maps,
    changes: &mut Vec<Change>,
) {
    let name = new.or(old).map(|f| f.name.clone()).unwrap_or_default();
    let reload = || Apply::Reload(FRONTEND_RELOAD.into());
    let (old, new) = match (old, new) {
        (Some(old), Some(new)) => (old, new),
        _ => {
            changes.push(Change {
                object: Object::Frontend(name),
                action,
                fields: Vec::new(),
                apply: reload(),
                destructive: action == Action::Remove,
            });
            return;
        }
    };
    // Without the same map on both sides, routes are compared as rules.
    let old_fits = route_fits(old, maps.path.is_some());
    let new_fits = route_fits(new, maps.path.is_some());
    let mut fields = diff_fields(
        &frontend_fields(old, &old_fits),
        &frontend_fields(new, &new_fits),
    );
    through_templates(
        &mut fields,
        old.template.as_deref(),
        new.template.as_deref(),
    );
    // Route order is a change of its own only when the same routes are
    // there (added and removed routes are listed on their own).
    let keys = |f: &model::Frontend| {
        let mut keys: Vec<String> = f.routes.iter().map(model::Route::key).collect();
        keys.sort();
        keys
    };
    if keys(old) != keys(new) {
        fields.retain(|f| f.field != "route order");
    }
    if !fields.is_empty() {
        let mut change = update(Object::Frontend(name.clone()), fields, reload());
        change.destructive = opened(&old.allow, &new.allow);
        changes.push(change);
    }
    members(
        &old.binds,
        &new.binds,
        bind_key,
        bind_fields,
        |key| Object::Bind(name.clone(), key),
        changes,
    );
    route_changes(&name, old, new, (&old_fits, &new_fits), maps, changes);
}

/// The routes of a frontend, paired by key. A route that is an entry of
/// the routes map on both sides (or added or removed as one) changes at
/// runtime, when its backend already runs; every other change is a
/// reload, with the reason a route is not an entry.
fn route_changes(
    frontend: &str,
    old: &model::Frontend,
    new: &model::Frontend,
    (old_fits, new_fits): (&Fits, &Fits),
    maps: &Maps,
    changes: &mut Vec<Change>,
) {
    let fields_of = |r: &model::Route, fits: &Fits| {
        let mut fields = match &r.target {
            model::Target::Backend(name) => vec![("backend", name.clone())],
            model::Target::Redirect(url) => vec![("redirect", url.clone())],
            model::Target::Deny(status) => vec![("deny", status.to_string())],
        };
        if let Some(header) = &r.header {
            let value = match &header.value {
                None => "any".to_string(),
                Some(model::Text::Literal(value)) => format!("\"{value}\""),
                Some(secret) => model::header_value(secret),
            };
            fields.push(("header value", value));
        }
        if let Some(from) = &r.from {
            fields.push(("from", from.join(", ")));
        }
        // Said when the map is the same on both sides (`fits` is empty
        // otherwise): a map that appears or goes is one change of
        // `defaults`, not one of every route.
        if let Some(fit) = fits.get(&model::Route::key(r)) {
            let lowered = if fit.is_ok() { "map entry" } else { "rule" };
            fields.push(("lowered as", lowered.to_string()));
        }
        fields
    };
    // A route is the same route with other client networks or another
    // value of its header: changing them is a change of its `from` or its
    // `header value`, not a route removed and another added. Routes alike
    // but for those are told apart by their order.
    fn identified(routes: &[model::Route]) -> Vec<(&model::Route, (String, usize))> {
        let mut seen: crate::hash::Map<String, usize> = Default::default();
        routes
            .iter()
            .map(|r| {
                let identity = r.identity();
                let n = seen.entry(identity.clone()).or_default();
                *n += 1;
                (r, (identity, *n))
            })
            .collect()
    }
    let (old_routes, new_routes) = (identified(&old.routes), identified(&new.routes));
    keyed(
        &old_routes,
        &new_routes,
        |(_, identity)| identity,
        |action, o, n| {
            let (o, n) = (o.map(|(r, _)| *r), n.map(|(r, _)| *r));
            let fields = diff_fields(
                &o.map(|r| fields_of(r, old_fits)).unwrap_or_default(),
                &n.map(|r| fields_of(r, new_fits)).unwrap_or_default(),
            );
            if action == Action::Update && fields.is_empty() {
                return;
            }
            let key = model::Route::key(n.or(o).expect("one side exists"));
            let apply = map_apply(frontend, &key, o, n, (old_fits, new_fits), maps);
            // A route that now takes clients of more networks, or that
            // refused requests and now serves them, opens access too.
            let opens = |(o, n): (&model::Route, &model::Route)| {
                let networks = |r: &model::Route| r.from.as_deref().unwrap_or_default().to_vec();
                (o.from.is_some() && opened(&networks(o), &networks(n)))
                    || (matches!(o.target, model::Target::Deny(_))
                        && !matches!(n.target, model::Target::Deny(_)))
            };
            changes.push(Change {
                object: Object::Route(frontend.to_string(), key),
                action,
                fields,
                apply,
                destructive: action == Action::Remove || o.zip(n).is_some_and(opens),
            });
        },
    );
}

/// How a route's change goes live: as a change of its entry in the routes
/// map, or by a reload (and why).
fn map_apply(
    frontend: &str,
    key: &str,
    old: Option<&model::Route>,
    new: Option<&model::Route>,
    (old_fits, new_fits): (&Fits, &Fits),
    maps: &Maps,
) -> Apply {
    let reload = |why: String| Apply::Reload(why);
    let Some(path) = maps.path else {
        return reload(FRONTEND_RELOAD.into());
    };
    // Why a side is not an entry; `None` when it is one or is absent.
    let not_entry = |route: Option<&model::Route>, fits: &Fits| {
        route.and_then(|_| match fits.get(key) {
            Some(Ok(())) => None,
            Some(Err(why)) => Some(why.clone()),
            None => Some("it is not a map entry".into()),
        })
    };
    if let Some(why) = not_entry(new, new_fits).or_else(|| not_entry(old, old_fits)) {
        return reload(format!(
            "a route that is not an entry of the routes map needs a reload, and {why}"
        ));
    }
    let entry = |route: &model::Route| {
        let host = route.host.as_deref().expect("an entry matches a host");
        let backend = route
            .target
            .map_backend()
            .expect("an entry sends to a backend");
        MapEntry {
            map: path.into(),
            key: lower::map_key(host, frontend, route.path.as_ref()),
            backend: backend.to_string(),
        }
    };
    if let Some(route) = new {
        let backend = route.target.map_backend().unwrap_or_default();
        if !maps.base_backends.contains(backend.as_ref()) {
            return reload(format!(
                "its backend `{backend}` is new: HAProxy runs it only after a reload"
            ));
        }
    }
    Apply::Runtime(vec![match (old, new) {
        (None, Some(n)) => Command::AddMap(entry(n)),
        (Some(_), Some(n)) => Command::SetMap(entry(n)),
        (Some(o), None) => Command::DelMap(entry(o)),
        (None, None) => unreachable!("one side exists"),
    }])
}

/// The binds or routes of a frontend, paired by key: each one added,
/// removed or changed is a change of its own, and needs a reload.
fn members<T>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> String,
    fields_of: impl Fn(&T) -> Fields,
    object: impl Fn(String) -> Object,
    changes: &mut Vec<Change>,
) {
    keyed(old, new, &key, |action, o, n| {
        let fields = diff_fields(
            &o.map(&fields_of).unwrap_or_default(),
            &n.map(&fields_of).unwrap_or_default(),
        );
        if action != Action::Update || !fields.is_empty() {
            changes.push(Change {
                object: object(key(n.or(o).expect("one side exists"))),
                action,
                fields,
                apply: Apply::Reload(FRONTEND_RELOAD.into()),
                destructive: action == Action::Remove,
            });
        }
    });
}

fn backend_fields(b: &model::Backend) -> Fields {
    let mut f: Fields = vec![
        ("mode", b.mode.name().to_string()),
        ("balance", b.balance.name().to_string()),
    ];
    if let Some(c) = &b.check {
        let (probe, host) = match &c.http {
            Some(http) => (
                format!(
                    "{} {} expect {}{}",
                    http.method,
                    http.path,
                    model::statuses(&http.expect),
                    http.expect_body
                        .as_ref()
                        .map(|b| format!(" body {b}"))
                        .unwrap_or_default()
                ),
                http.host.as_ref().map(|h| format!(" host {h}")),
            ),
            None => ("tcp".to_string(), None),
        };
        let mut rest = host.unwrap_or_default();
        if let Some(port) = c.port {
            rest.push_str(&format!(" port {port}"));
        }
        f.push((
            "check",
            format!(
                "{probe} every {} rise {} fall {}{rest}",
                lower::duration(c.every),
                c.rise,
                c.fall
            ),
        ));
    }
    opt(
        &mut f,
        "timeout_connect",
        &b.timeout_connect.map(lower::duration),
    );
    opt(
        &mut f,
        "timeout_server",
        &b.timeout_server.map(lower::duration),
    );
    opt(
        &mut f,
        "timeout_queue",
        &b.timeout_queue.map(lower::duration),
    );
    opt(
        &mut f,
        "timeout_tunnel",
        &b.timeout_tunnel.map(lower::duration),
    );
    opt(&mut f, "http_reuse", &b.http_reuse);
    opt(&mut f, "sticky_cookie", &b.sticky_cookie);
    opt(&mut f, "retries", &b.retries);
    opt(&mut f, "redispatch", &b.redispatch);
    if !b.compress.is_empty() {
        f.push(("compress", b.compress.join(" ")));
    }
    opt(&mut f, "strip_prefix", &b.strip_prefix);
    opt(&mut f, "add_prefix", &b.add_prefix);
    if !b.allow.is_empty() {
        f.push(("allow", b.allow.join(", ")));
    }
    error_pages(&mut f, &b.error_pages);
    opt(
        &mut f,
        "basic_auth",
        &b.basic_auth.as_ref().map(|a| {
            let users: Vec<String> = a
                .users
                .iter()
                .map(|(name, hash)| format!("{name} (secret {hash})"))
                .collect();
            format!("realm {}, users {}", a.realm, users.join(", "))
        }),
    );
    removed_headers(
        &mut f,
        &b.remove_request_headers,
        &b.remove_response_headers,
    );
    if !b.request_headers.is_empty() {
        f.push(("request_headers", headers(&b.request_headers)));
    }
    if !b.response_headers.is_empty() {
        f.push(("response_headers", headers(&b.response_headers)));
    }
    f
}

fn backend_change(
    action: Action,
    old: Option<&model::Backend>,
    new: Option<&model::Backend>,
    haproxy: model::Haproxy,
    changes: &mut Vec<Change>,
) {
    let (old, new) = match (old, new) {
        // Most backends of a merge request are untouched.
        (Some(old), Some(new)) if old.same_as(new) => return,
        (Some(old), Some(new)) => (old, new),
        (old, new) => {
            let b = new.or(old).expect("one side exists");
            let why = match action {
                Action::Add => "new backends need a reload",
                _ => "removing a backend needs a reload",
            };
            changes.push(Change {
                object: Object::Backend(b.name.clone()),
                action,
                fields: Vec::new(),
                apply: Apply::Reload(why.into()),
                destructive: action == Action::Remove,
            });
            return;
        }
    };
    let mut fields = diff_fields(&backend_fields(old), &backend_fields(new));
    through_templates(
        &mut fields,
        old.template.as_deref(),
        new.template.as_deref(),
    );
    if !fields.is_empty() {
        let why = if old.balance != new.balance {
            "a change of balance algorithm needs a reload"
        } else {
            "backend settings and health checks need a reload"
        };
        let mut change = update(
            Object::Backend(new.name.clone()),
            fields,
            Apply::Reload(why.into()),
        );
        // Open to more clients, or to anyone without a password.
        change.destructive = opened(&old.allow, &new.allow)
            || (old.basic_auth.is_some() && new.basic_auth.is_none());
        changes.push(change);
    }
    let kinds = ServerKinds {
        old,
        new,
        before: Default::default(),
        after: Default::default(),
    };
    keyed(
        &old.servers,
        &new.servers,
        |s| s.name.as_str(),
        |action, o, n| {
            if let Some(change) = server_change(action, new, haproxy, &kinds, o, n) {
                changes.push(change);
            }
        },
    );
}

fn server_fields(s: &model::Server) -> Fields {
    let mut f: Fields = vec![
        ("address", lower::address(Some(&s.host), s.port)),
        // What HAProxy runs: a draining server's weight is 0, whatever
        // the sources say it takes back when ready (a change of that alone
        // changes no output, and is none).
        ("weight", s.effective_weight().to_string()),
        ("state", s.state.name().to_string()),
    ];
    opt(&mut f, "maxconn", &s.maxconn);
    if let Some(t) = &s.tls {
        let verify = if t.verify { "required" } else { "none" };
        let ca =
            t.ca.as_ref()
                .map(|c| format!(" ca {c}"))
                .unwrap_or_default();
        let sni = t
            .sni
            .as_ref()
            .map(|c| format!(" sni {c}"))
            .unwrap_or_default();
        f.push(("tls", format!("verify {verify}{ca}{sni}")));
    }
    f.push(("check", s.check.to_string()));
    f.push(("backup", s.backup.to_string()));
    if s.send_proxy {
        f.push(("send_proxy", "true".to_string()));
    }
    if s.http2 {
        f.push(("http2", "true".to_string()));
    }
    opt(
        &mut f,
        "slowstart",
        &s.slowstart.map(|ms| lower::duration(u64::from(ms))),
    );
    f
}

/// The fields the Runtime API can change on a running server.
const RUNTIME_FIELDS: &[&str] = &["address", "weight", "state", "maxconn"];

fn server_change(
    action: Action,
    backend: &model::Backend,
    haproxy: model::Haproxy,
    kinds: &ServerKinds,
    old: Option<&model::Server>,
    new: Option<&model::Server>,
) -> Option<Change> {
    if let (Some(old), Some(new)) = (old, new) {
        // Most servers of a changed backend are untouched.
        if old.same_as(new) {
            return None;
        }
    }
    let s = new.or(old).expect("one side exists");
    let target = ServerRef::new(&backend.name, &s.name);
    let object = Object::Server(backend.name.clone(), s.name.to_string());
    let fields = diff_fields(
        &old.map(server_fields).unwrap_or_default(),
        &new.map(server_fields).unwrap_or_default(),
    );
    let apply = match (old, new) {
        (None, Some(new)) => match kinds.first_or_last(new, Action::Add) {
            Some(why) => Apply::Reload(why),
            None => add_server(backend, new, target, model::Runtime::of(haproxy)),
        },
        (Some(old), None) => match kinds.first_or_last(old, Action::Remove) {
            Some(why) => Apply::Reload(why),
            None => remove_server(old, target),
        },
        (Some(old), Some(new)) => {
            if fields.is_empty() {
                return None;
            }
            update_server(backend, old, new, &fields, target)
        }
        (None, None) => return None,
    };
    Some(Change {
        object,
        action,
        fields,
        apply,
        destructive: action == Action::Remove,
    })
}

/// The kinds of servers of a backend before and after, by the options a
/// running HAProxy does not report (`slowstart`, PROXY protocol, TLS):
/// the reload fingerprint holds the set of them, so adding the first
/// server of a kind, or removing the last, needs a reload. Each set is
/// made once, when a server is added or removed.
struct ServerKinds<'a> {
    old: &'a model::Backend,
    new: &'a model::Backend,
    before: std::cell::OnceCell<Vec<String>>,
    after: std::cell::OnceCell<Vec<String>>,
}

impl ServerKinds<'_> {
    /// Why adding (removing) `s` needs a reload: no server before (after)
    /// has its unreported options.
    fn first_or_last(&self, s: &model::Server, action: Action) -> Option<String> {
        use crate::emit::haproxy_cfg::{unreported_option_sets, unreported_options};
        let options = unreported_options(s);
        if options.is_empty() {
            return None;
        }
        let (which, kinds) = match action {
            Action::Add => (
                "first",
                self.before.get_or_init(|| unreported_option_sets(self.old)),
            ),
            _ => (
                "last",
                self.after.get_or_init(|| unreported_option_sets(self.new)),
            ),
        };
        if kinds.binary_search(&options).is_ok() {
            return None;
        }
        Some(format!(
            "the {which} server of its backend with `{options}`: {UNREPORTED_OPTIONS}"
        ))
    }
}

/// The end of the reason a plan gives for adding the first server of a
/// kind to a backend, or removing the last (`ServerKinds::first_or_last`):
/// a reload that HAProxy would not ask for, which the reload fingerprint
/// needs.
pub const UNREPORTED_OPTIONS: &str =
    "HAProxy does not report these options, so they go live with a reload";

/// How the server `s` of `backend` is added to a running HAProxy whose
/// Runtime API is `haproxy`.
pub(crate) fn add_server(
    backend: &model::Backend,
    s: &model::Server,
    target: ServerRef,
    haproxy: model::Runtime,
) -> Apply {
    if !backend.balance.is_dynamic() {
        return Apply::Reload(format!(
            "`add server` is refused on a backend balanced with `{}`",
            backend.balance.name()
        ));
    }
    if let Host::Name(_) = s.host {
        return Apply::Reload("`add server` takes an IP address, not a DNS name".into());
    }
    if backend.sticky_cookie.is_some() && !haproxy.adds_sticky_servers() {
        return Apply::Reload(haproxy.sticky_refusal());
    }
    if s.tls.as_ref().is_some_and(|t| t.ca.is_some()) {
        return Apply::Reload("a new server verifying TLS with a CA file needs a reload".into());
    }
    // The whole server line after its name; a new server starts in
    // maintenance, so `disabled` is left out and the state set after.
    let words: Vec<Word> = lower::server_options(backend, s)
        .into_iter()
        .skip(1)
        .filter(|w| *w != Word::Syntax("disabled"))
        .collect();
    let mut commands = vec![Command::AddServer(target.clone(), render_words(&words))];
    if s.check && backend.check.is_some() {
        commands.push(Command::EnableHealth(target.clone()));
    }
    if s.state != ServerState::Maint {
        commands.push(Command::SetState(target, s.state));
    }
    Apply::Runtime(commands)
}

/// Why what the Runtime API (of HAProxy 2.6 and 3.0 alike) cannot do to a server named by
/// DNS needs a reload; `apply` gives the same reasons for live state.
pub(crate) mod dns_reload {
    pub const PORT: &str =
        "`set server addr` takes an IP address: a server named by DNS changes its port with a reload";
    pub const NAME_FOR_IP: &str =
        "`set server fqdn` needs a resolver, which a server written with an IP address has not";
    pub const IP_FOR_NAME: &str =
        "a server named by DNS keeps resolving its name: an IP address in its place needs a reload";
    pub const REMOVE: &str =
        "`del server` refuses a server named by DNS: its resolver points to it";
}

/// A server removed: put in maintenance, its sessions closed, deleted.
pub(crate) fn remove_server(s: &model::Server, target: ServerRef) -> Apply {
    if let Host::Name(_) = s.host {
        // HAProxy 2.6: "This server cannot be removed at runtime due to
        // other configuration elements pointing to it."
        return Apply::Reload(dns_reload::REMOVE.into());
    }
    Apply::Runtime(vec![
        Command::SetState(target.clone(), ServerState::Maint),
        Command::ShutdownSessions(target.clone()),
        Command::DelServer(target),
    ])
}

fn update_server(
    backend: &model::Backend,
    old: &model::Server,
    new: &model::Server,
    fields: &[FieldChange],
    target: ServerRef,
) -> Apply {
    if let Some(f) = fields.iter().find(|f| !RUNTIME_FIELDS.contains(&f.field)) {
        return Apply::Reload(format!("changing a server's `{}` needs a reload", f.field));
    }
    let mut commands = Vec::new();
    if old.host != new.host || old.port != new.port {
        match (&old.host, &new.host) {
            (Host::Ip(_), Host::Ip(ip)) => {
                commands.push(Command::SetAddr(target.clone(), *ip, new.port))
            }
            (Host::Name(_), Host::Name(name)) if old.port == new.port => {
                commands.push(Command::SetFqdn(target.clone(), name.clone()))
            }
            (Host::Name(_), Host::Name(_)) => return Apply::Reload(dns_reload::PORT.into()),
            (Host::Ip(_), Host::Name(_)) => return Apply::Reload(dns_reload::NAME_FOR_IP.into()),
            (Host::Name(_), Host::Ip(_)) => return Apply::Reload(dns_reload::IP_FOR_NAME.into()),
        }
    }
    let weight = new.effective_weight();
    if weight != old.effective_weight() {
        // Static algorithms accept only 0% or 100% of the initial weight,
        // which is the base configuration's.
        if !backend.balance.is_dynamic() && weight != 0 && weight != old.effective_weight() {
            return Apply::Reload(format!(
                "`{}` accepts only a weight of 0 or the configured one at runtime",
                backend.balance.name()
            ));
        }
        commands.push(Command::SetWeight(target.clone(), weight));
    }
    if old.state != new.state {
        commands.push(Command::SetState(target.clone(), new.state));
    }
    if old.maxconn != new.maxconn {
        commands.push(Command::SetMaxconn(target, new.maxconn.unwrap_or(0)));
    }
    Apply::Runtime(commands)
}
