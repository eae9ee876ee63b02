//! Building the model of one environment from its elaborated declarations.

use super::bodies::{Bodies, Found};
use super::openssl;
use super::types::{self, Ty};
use super::value::{self, Raw, Rec, SRaw, Value};
use super::{flatten, DefKind, Defs, Ns, Resolver, Usage};
use crate::diag::{Code, Diagnostic, Diagnostics, Names};
use crate::hash::{Map, Set};
use crate::model::{self, Host, Text};
use crate::project::{Project, PRELUDE};
use crate::source::Span;
use crate::syntax::ast;

struct Ctx<'a, 'd> {
    defs: Defs<'a>,
    diags: &'d mut Diagnostics,
    env: &'a str,
    tls_cache: Map<String, Option<model::TlsPolicy>>,
}

impl<'a> Ctx<'a, '_> {
    fn eval(&mut self, expr: &ast::Expr) -> SRaw {
        value::eval(
            expr,
            &mut Resolver {
                defs: &mut self.defs,
                ns: Ns::Project,
            },
            self.diags,
        )
    }

    fn coerce(&mut self, raw: &SRaw, ty: Ty) -> Option<Value> {
        value::coerce(raw, ty, &self.defs.project_names, self.diags)
    }

    fn eval_coerce(&mut self, expr: &ast::Expr, ty: Ty) -> Option<Value> {
        let mut scope = Resolver {
            defs: &mut self.defs,
            ns: Ns::Project,
        };
        value::eval_coerce(expr, ty, &mut scope, self.diags)
    }

    /// The `name = value` items of a block, checked against a schema. A
    /// failed field is left out of the record; the others stay usable.
    fn fields(&mut self, schema: &types::Schema, items: &[&ast::BodyItem]) -> Rec {
        // `server a =` at the end of a line reads the next line's keyword
        // as its value (`E0100` says the value is missing), and the rest of
        // that line (`s2 = 10.0.0.2:80`) as a field: not a second mistake.
        let mut after_keyword = false;
        let fields = items.iter().filter_map(|item| {
            let continued = std::mem::replace(&mut after_keyword, ends_with_keyword(item));
            match item {
                ast::BodyItem::Field(f) if !continued => Some(f),
                _ => None,
            }
        });
        let mut scope = Resolver {
            defs: &mut self.defs,
            ns: Ns::Project,
        };
        value::eval_record(schema, fields, &mut scope, self.diags).0
    }

    /// The fields of a backend or frontend (`kind`): those its body sets,
    /// then those of its template (`backend api with service { ... }`)
    /// that the body does not, with the template's name and those fields.
    /// `false` where the template is an error (reported): none of its
    /// fields are used.
    fn fields_with(
        &mut self,
        kind: &str,
        schema: &'static types::Schema,
        decl: &ast::Decl,
        items: &[&ast::BodyItem],
    ) -> (Rec, bool, Option<Box<model::Template>>) {
        let mut rec = self.fields(schema, items);
        let Some(path) = &decl.template else {
            return (rec, true, None);
        };
        let name = path.dotted();
        let Some(slot) = self.defs.refer(Ns::Project, path) else {
            let mut d = Diagnostic::new(
                Code::Undefined,
                path.span,
                format!("undefined constant `{name}`"),
            );
            if let Some(near) = self.defs.project_names.nearest(&name) {
                d = d.did_you_mean(near);
            }
            self.diags.push(d.help(format!(
                "a {kind}'s template is a record constant of {kind} fields: `let {name} = {{ ... }}`"
            )));
            return (rec, false, None);
        };
        // What is not the project's own record of fields is refused at
        // the use: its fields are not the block's (and may not even be
        // in the project's files).
        let not_fields = match (self.defs.slots[slot].ns, self.defs.slots[slot].kind) {
            (Ns::Std(_), _) => Some(format!(
                "`{name}` is of the standard library; a {kind}'s template is a record \
                 constant of the project: `let service = {{ ... }}`"
            )),
            (_, DefKind::TlsPolicy) => Some(format!(
                "`{name}` is a TLS policy: a bind names it, `bind :443 tls {name}`; \
                 a {kind}'s template is a record constant: `let service = {{ ... }}`"
            )),
            _ => None,
        };
        let found = self.defs.value(slot, self.diags);
        let not_fields = not_fields.or_else(|| match &found.raw {
            value::Raw::Record {
                head: Some(head), ..
            } if head.name == "http" || head.name == "tcp" => Some(format!(
                "`{name}` is a health check: a backend sets it as `check = {name}`; \
                 a {kind}'s template is a record of {kind} fields: `let service = {{ ... }}`"
            )),
            value::Raw::Record {
                head: Some(head), ..
            } => Some(format!(
                "`{name}` is a `{} {{ ... }}` record; a {kind}'s template is a record of \
                 {kind} fields: `let service = {{ ... }}`",
                head.name
            )),
            _ => None,
        });
        if let Some(help) = not_fields {
            self.diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    path.span,
                    format!("expected a record of {kind} fields, found `{name}`"),
                )
                .help(help),
            );
            return (rec, false, None);
        }
        let found = SRaw::new(found.raw, path.span);
        let Some(Value::Record(template)) = self.coerce(&found, Ty::Record(schema)) else {
            return (rec, false, None);
        };
        let mut taken = Vec::new();
        for (field, value, span) in template.fields {
            if rec.get(field).is_none() {
                taken.push(field);
                rec.fields.push((field, value, span));
            }
        }
        let template = model::Template {
            name,
            fields: taken,
        };
        (rec, true, Some(Box::new(template)))
    }
}

/// Whether `item`'s value is a bare keyword that begins a block's item
/// (`server`, `route`, ...): the value was missing, and the keyword taken
/// for it began the next item.
fn ends_with_keyword(item: &ast::BodyItem) -> bool {
    let value = match item {
        ast::BodyItem::Field(f) => &f.value,
        ast::BodyItem::Server(s) if s.options.is_none() => &s.addr,
        _ => return false,
    };
    match &value.kind {
        ast::ExprKind::Ref(r) => {
            r.overrides.is_none()
                && matches!(&r.path.segments[..], [only] if crate::syntax::BODY_KEYWORDS.contains(&only.name.as_str()))
        }
        _ => false,
    }
}

/// Objects whose building reported an error: lints skip them, so that one
/// mistake is not reported again as "backend has no server" and the like.
#[derive(Debug, Default)]
pub(super) struct Tainted {
    pub backends: Set<String>,
    pub frontends: Set<String>,
}

/// Builds one environment. Returns `None` only when nothing useful can be
/// built (the diagnostics say why).
pub(super) fn env<'a>(
    project: &'a Project,
    env: &'a str,
    production: bool,
    items: &[&'a ast::Item],
    (bodies, found): (&Bodies, &mut Found),
    usage: &mut Usage<'a>,
    diags: &mut Diagnostics,
) -> Option<(model::Env, Tainted)> {
    let mut ctx = Ctx {
        defs: Defs::new(project),
        diags,
        env,
        tls_cache: Map::default(),
    };
    // Definitions first (standard modules, then the project), so that uses
    // may come before definitions in source order.
    for (i, (_, module)) in project.std.iter().enumerate() {
        let mut std_items = Vec::new();
        flatten(&module.ast.items, env, &mut std_items);
        define_all(&mut ctx, Ns::Std(i), &std_items);
    }
    define_all(&mut ctx, Ns::Project, items);
    check_definitions(&mut ctx, items);
    let mut tainted = Tainted::default();

    let defaults = defaults(&mut ctx, project, items)?;
    let mut backends = Vec::new();
    let mut frontends = Vec::new();
    let mut stats = None;
    let mut seen: Map<(&str, &str), Span> = Map::default();
    let mut check_dup = |ctx: &mut Ctx, kind: &'static str, name: &'a ast::Ident| {
        if let Some(first) = seen.insert((kind, name.name.as_str()), name.span) {
            ctx.diags.push(
                Diagnostic::new(
                    Code::Duplicate,
                    name.span,
                    format!("{kind} `{}` is defined twice", name.name),
                )
                .label(first, "first defined here")
                .help(format!(
                    "rename one, or merge them into one {kind}; to differ per environment, \
                     put each in an `if env == ...` branch of its own"
                )),
            );
            return true;
        }
        false
    };
    // Backends first: frontends are checked against their names.
    let mut frontend_decls = Vec::new();
    let mut backend_decls = Vec::new();
    for item in items {
        match item {
            ast::Item::Backend(decl) if !check_dup(&mut ctx, "backend", &decl.name) => {
                backend_decls.push(decl);
            }
            ast::Item::Stats(decl) if !check_dup(&mut ctx, "stats", &decl.name) => {
                stats = self::stats(&mut ctx, decl);
            }
            ast::Item::Frontend(decl) if !check_dup(&mut ctx, "frontend", &decl.name) => {
                frontend_decls.push(decl);
            }
            _ => {}
        }
    }
    // Moved once, from the parts built on each thread into a list of the
    // exact length: a large project's backends are hundreds of kilobytes.
    backends.reserve_exact(backend_decls.len());
    for (be, complete) in build_backends(&mut ctx, (bodies, found), &backend_decls)
        .into_iter()
        .flatten()
    {
        if !complete {
            tainted.backends.insert(be.name.clone());
        }
        backends.push(be);
    }
    // A backend whose building failed (its mode may be the one it was
    // given for a misspelt one) is not held to its mode: one mistake, one
    // diagnostic.
    let backend_names = KnownBackends {
        set: backends
            .iter()
            .map(|b| {
                let mode = (!tainted.backends.contains(&b.name)).then_some(b.mode);
                (b.name.as_str(), (mode, b.origin))
            })
            .collect(),
        names: std::cell::OnceCell::new(),
    };
    for decl in frontend_decls {
        let errors = ctx.diags.error_count();
        let (fe, complete) = frontend(&mut ctx, decl, &backend_names, &defaults);
        frontends.push(fe);
        if !complete || ctx.diags.error_count() > errors {
            tainted.frontends.insert(decl.name.name.to_string());
        }
    }
    if stats.is_some() {
        // The stats page is written as `listen stats`, which is both a
        // frontend and a backend to HAProxy.
        let clash = frontends
            .iter()
            .map(|f| (&f.name, f.origin))
            .chain(backends.iter().map(|b| (&b.name, b.origin)));
        for (name, origin) in clash.filter(|(n, _)| n.as_str() == "stats") {
            ctx.diags.push(
                Diagnostic::new(Code::Duplicate, origin, format!("`{name}` clashes with the stats page"))
                    .help("the `stats` block is written as `listen stats`: rename this frontend or backend"),
            );
        }
    }
    ctx.defs.note_usage(usage);
    if defaults.dns.is_some() {
        for be in &mut backends {
            be.resolvers = model::RESOLVERS;
        }
    }
    let env = model::Env {
        name: env.to_string(),
        haproxy: project.manifest.target(),
        production,
        defaults,
        stats,
        frontends,
        backends,
    };
    Some((env, tainted))
}

/// Builds the backends, in runs of declaration order; the flag says
/// whether one was built without error.
///
/// Once every definition is evaluated, backends depend on nothing but
/// their own declaration: a large project builds them on several threads,
/// each with its own copy of the definitions and its own diagnostics, which
/// are merged in declaration order, so the result is the same as one
/// thread's.
fn build_backends<'a>(
    ctx: &mut Ctx<'a, '_>,
    (bodies, found): (&Bodies, &mut Found),
    decls: &[&'a ast::Decl],
) -> Vec<Vec<(model::Backend, bool)>> {
    let build = |ctx: &mut Ctx<'a, '_>, found: &mut Found, decl: &'a ast::Decl| {
        let errors = ctx.diags.error_count();
        let items = bodies.items(decl, found);
        let (be, complete) = backend(ctx, decl, &items);
        let complete = complete && ctx.diags.error_count() == errors;
        (be, complete)
    };
    let runs = crate::parallel::runs(decls, 100);
    if runs.len() <= 1 {
        return vec![decls.iter().map(|decl| build(ctx, found, decl)).collect()];
    }
    // Evaluate what is still pending (standard-library constants), so no
    // thread evaluates, or reports on, a definition another one does too.
    for slot in 0..ctx.defs.slots.len() {
        ctx.defs.value_in_order(slot, ctx.diags);
    }
    let (defs, tls_cache, env) = (&ctx.defs, &ctx.tls_cache, ctx.env);
    let results = crate::parallel::map(runs, |decls| {
        let mut diags = Diagnostics::default();
        let mut part = Found::default();
        let mut ctx = Ctx {
            defs: defs.clone(),
            diags: &mut diags,
            env,
            tls_cache: tls_cache.clone(),
        };
        let built: Vec<_> = decls
            .iter()
            .map(|decl| build(&mut ctx, &mut part, decl))
            .collect();
        let settled = ctx.defs.settled;
        (built, diags, part, settled)
    });
    results
        .into_iter()
        .map(|(built, diags, part, settled)| {
            ctx.diags.merge(diags);
            found.merge(part);
            ctx.defs.merge_settled(&settled);
            built
        })
        .collect()
}

/// Evaluates every constant and TLS policy of the project, used or not, so
/// that a mistake in an unused definition is still reported.
fn check_definitions<'a>(ctx: &mut Ctx<'a, '_>, items: &[&'a ast::Item]) {
    for item in items {
        let (name, is_tls) = match item {
            ast::Item::Let(l) => (&l.name, false),
            ast::Item::Tls(t) => (&t.name, true),
            _ => continue,
        };
        let Some(slot) = ctx
            .defs
            .index
            .get(&(Ns::Project, name.name.as_str()))
            .copied()
        else {
            continue;
        };
        let raw = ctx.defs.value_in_order(slot, ctx.diags);
        let invalid = matches!(raw.raw, Raw::Poison)
            || is_tls && ctx.coerce(&raw, Ty::Record(&types::TLS)).is_none();
        if invalid {
            // Reported as invalid, not as unused as well (W0008).
            ctx.defs.settled[slot] = true;
        }
    }
}

fn define_all<'a>(ctx: &mut Ctx<'a, '_>, ns: Ns, items: &[&'a ast::Item]) {
    for item in items {
        match item {
            ast::Item::Let(l) => ctx.defs.define(
                ns,
                &l.name,
                l.ty.as_ref(),
                &l.value,
                DefKind::Constant,
                ctx.diags,
            ),
            ast::Item::Tls(t) => {
                ctx.defs
                    .define(ns, &t.name, None, &t.value, DefKind::TlsPolicy, ctx.diags)
            }
            _ => {}
        }
    }
}

fn defaults<'a>(
    ctx: &mut Ctx<'a, '_>,
    project: &'a Project,
    items: &[&'a ast::Item],
) -> Option<model::Defaults> {
    let prelude = project.std.get(PRELUDE)?;
    let mut blocks: Vec<&'a ast::Decl> = prelude
        .ast
        .items
        .iter()
        .filter_map(|i| match i {
            ast::Item::Defaults(d) => Some(d),
            _ => None,
        })
        .collect();
    let mut user: Option<&ast::Decl> = None;
    for item in items {
        if let ast::Item::Defaults(d) = item {
            if let Some(first) = user {
                ctx.diags.push(
                    Diagnostic::new(Code::Duplicate, d.name.span, "`defaults` is defined twice")
                        .label(first.name.span, "first defined here")
                        .help("merge them into one `defaults` block"),
                );
                continue;
            }
            user = Some(d);
            blocks.push(d);
        }
    }
    let mut merged = Rec::default();
    for block in blocks {
        let mut body = Vec::new();
        flatten(&block.body, ctx.env, &mut body);
        reject_non_fields(ctx, &body, "defaults");
        let rec = ctx.fields(&types::DEFAULTS, &body);
        for field in rec.fields {
            merged.fields.retain(|(n, ..)| *n != field.0);
            merged.fields.push(field);
        }
    }
    // The prelude sets every timeout, so these are present unless the
    // project's override failed to check (already reported).
    let ms = |name: &str| merged.duration(name).unwrap_or(30_000);
    Some(model::Defaults {
        timeout_connect: ms("timeout_connect"),
        timeout_client: ms("timeout_client"),
        timeout_server: ms("timeout_server"),
        timeout_http_request: ms("timeout_http_request"),
        timeout_http_keep_alive: ms("timeout_http_keep_alive"),
        timeout_queue: ms("timeout_queue"),
        timeout_check: ms("timeout_check"),
        timeout_tunnel: merged.duration("timeout_tunnel"),
        retries: merged.int("retries").unwrap_or(3) as u32,
        redispatch: merged.bool("redispatch").unwrap_or(false),
        maxconn: merged.int("maxconn").map(|n| n as u32),
        socket: merged
            .string("socket")
            .unwrap_or_else(|| "/run/haproxy/admin.sock".into()),
        log: merged.string("log").unwrap_or_else(|| "stdout".into()),
        routes_map: merged.string("routes_map"),
        dns: match merged.get("dns") {
            Some(Value::Record(r)) => Some(dns(ctx, r)),
            _ => None,
        },
        error_pages: error_pages(ctx, &merged),
    })
}

/// The `error_pages` of a block: each of a status HAProxy answers with
/// itself (E0201 for another), once (E0101), with its file (E0106).
fn error_pages(ctx: &mut Ctx, rec: &Rec) -> Vec<model::ErrorPage> {
    let (Some(Value::List(pages)), Some(at)) = (rec.get("error_pages"), rec.span("error_pages"))
    else {
        return Vec::new();
    };
    let mut out: Vec<model::ErrorPage> = Vec::with_capacity(pages.len());
    let mut seen: Map<u16, Span> = Map::default();
    for page in pages {
        let Value::Record(r) = page else { continue };
        let (Some(status), Some(file)) = (r.int("status"), r.string("file")) else {
            // At the field it has, if any.
            let place = r.span("status").or(r.span("file")).unwrap_or(at);
            ctx.diags.push(
                Diagnostic::new(
                    Code::MissingField,
                    place,
                    "an error page needs `status` and `file`",
                )
                .help("error_pages = [{ status = 503, file = \"/etc/haproxy/errors/503.http\" }]"),
            );
            continue;
        };
        let status = status as u16;
        let span = r.span("status").unwrap_or(at);
        if !types::ERROR_STATUSES.contains(&status) {
            ctx.diags.push(
                Diagnostic::new(
                    Code::OutOfRange,
                    span,
                    format!("HAProxy takes no error page for status {status}"),
                )
                .help(format!(
                    "an error page replaces a response HAProxy makes itself, of status {}; \
                     a server's own responses are passed on as they are",
                    types::error_statuses()
                )),
            );
            continue;
        }
        if let Some(&first) = seen.get(&status) {
            ctx.diags.push(
                Diagnostic::new(
                    Code::Duplicate,
                    span,
                    format!("two error pages for status {status}"),
                )
                .label(first, "first here")
                .help("keep one: HAProxy sends one page for a status"),
            );
            continue;
        }
        seen.insert(status, span);
        out.push(model::ErrorPage { status, file });
    }
    out
}

/// `defaults { dns = { ... } }`; each name server an IP address and port.
fn dns(ctx: &mut Ctx, r: &Rec) -> model::Dns {
    let mut nameservers = Vec::new();
    if let (Some(Value::List(items)), Some(span)) = (r.get("nameservers"), r.span("nameservers")) {
        for item in items {
            match item {
                Value::Addr(Some(Host::Ip(ip)), port) => nameservers.push((*ip, *port)),
                _ => {
                    ctx.diags.push(
                        Diagnostic::new(
                            Code::InvalidAddress,
                            span,
                            "a name server is written as an IP address and port",
                        )
                        .help("write `10.0.0.2:53`, or `[2001:db8::53]:53`: HAProxy asks it before it can resolve a name"),
                    );
                    break;
                }
            }
        }
    }
    model::Dns {
        nameservers,
        hold_valid: r.duration("hold_valid"),
        hold_nx: r.duration("hold_nx"),
        resolve_retries: r.int("resolve_retries").map(|n| n as u32),
        timeout_retry: r.duration("timeout_retry"),
    }
}

/// `defaults` and `stats` blocks hold fields only.
fn reject_non_fields(ctx: &mut Ctx, body: &[&ast::BodyItem], kind: &str) {
    for item in body {
        let span = match item {
            ast::BodyItem::Field(_) | ast::BodyItem::If(_) => continue,
            ast::BodyItem::Server(s) => s.span,
            ast::BodyItem::Bind(b) => b.span,
            ast::BodyItem::Route(r) => r.span,
            ast::BodyItem::Default(d) => d.span,
            ast::BodyItem::Header(h) => h.span,
        };
        ctx.diags.push(
            Diagnostic::new(
                Code::Syntax,
                span,
                format!("expected a field, found an item that `{kind}` cannot hold"),
            )
            .help(format!("`{kind}` holds `name = value` fields only")),
        );
    }
}

fn name_length(ctx: &mut Ctx, name: &ast::Ident) {
    if name.name.len() > value::MAX_NAME {
        ctx.diags.push(
            Diagnostic::new(
                Code::TooLong,
                name.span,
                format!(
                    "name is {} characters long, more than {}",
                    name.name.len(),
                    value::MAX_NAME
                ),
            )
            .help("shorten the name"),
        );
    }
}

/// Builds a backend from its body's `items`; the flag is false when a
/// part of it (a server, a header) was dropped because of an error.
fn backend<'a>(
    ctx: &mut Ctx<'a, '_>,
    decl: &'a ast::Decl,
    items: &[ast::BodyItem],
) -> (model::Backend, bool) {
    let mut complete = true;
    name_length(ctx, &decl.name);
    let mut body = Vec::new();
    flatten(items, ctx.env, &mut body);
    let (rec, template_ok, template) = ctx.fields_with("backend", &types::BACKEND, decl, &body);
    complete &= template_ok;
    let balance = rec
        .enumeration("balance")
        .and_then(model::Balance::from_name)
        .unwrap_or(model::Balance::RoundRobin);
    let (mode, tcp) = Tcp::of(ctx, &rec, "backend", &decl.name.name);
    let http_balance = rec
        .enumeration("balance")
        .filter(|b| types::HTTP_BALANCES.contains(b));
    if let (Some(tcp), Some(http_balance)) = (&tcp, http_balance) {
        tcp.refuse(
            ctx,
            rec.span("balance").unwrap_or(decl.name.span),
            &format!("`balance = {http_balance}`"),
            "balance by what a connection has: `source` (the client's address), or \
             `leastconn` for long connections",
        );
        complete = false;
    }
    let check = match rec.get("check") {
        Some(Value::Record(c)) => Some(model::HealthCheck {
            http: (c.head != Some(&"tcp")).then(|| model::HttpProbe {
                method: c.enumeration("method").unwrap_or("GET").to_string(),
                path: c.string("path").unwrap_or_else(|| "/".into()),
                expect: match c.get("expect") {
                    Some(Value::Statuses(list)) => list.clone(),
                    _ => vec![model::StatusRange {
                        first: 200,
                        last: 200,
                    }],
                },
                expect_body: c.string("expect_body"),
                host: c.string("host"),
            }),
            every: c.duration("every").unwrap_or(2000),
            rise: c.int("rise").unwrap_or(2) as u32,
            fall: c.int("fall").unwrap_or(3) as u32,
            port: match c.get("port") {
                Some(Value::Port(p)) => Some(*p),
                _ => None,
            },
        }),
        _ => None,
    };
    if let (Some(tcp), Some(c)) = (&tcp, &check) {
        if c.http.is_some() && c.port.is_none() {
            let mut diag = Diagnostic::new(
                Code::HttpCheckOfTcp,
                rec.span("check").unwrap_or(decl.name.span),
                format!(
                    "HTTP health check of tcp backend `{}` on its servers' own port",
                    decl.name.name
                ),
            )
            .help(
                "a server that speaks no HTTP there fails it and is taken out of service: \
                 check that a connection is accepted, `check = checks.connect`, or send \
                 the request to the servers' HTTP endpoint, `port = 8008`",
            );
            if let Some(at) = tcp.at {
                diag = diag.label(at, "`mode = tcp` here");
            }
            ctx.diags.push(diag);
        }
    }
    let backend_check = match &check {
        Some(_) => BackendCheck::Declared,
        None if failed(&rec, "check", &body, template_ok) => BackendCheck::Invalid,
        None => BackendCheck::Absent,
    };
    let server_count = body
        .iter()
        .filter(|item| matches!(item, ast::BodyItem::Server(_)))
        .count();
    let mut servers: Vec<model::Server> = Vec::with_capacity(server_count);
    let mut server_spans: Map<&str, Span> = crate::hash::map_with_capacity(body.len());
    let mut addr_spans: Vec<Span> = Vec::with_capacity(server_count);
    let mut request_headers = Vec::new();
    let mut response_headers = Vec::new();
    for item in &body {
        match item {
            ast::BodyItem::Server(s) => {
                if let Some(first) = server_spans.insert(s.name.name.as_str(), s.name.span) {
                    ctx.diags.push(
                        Diagnostic::new(
                            Code::Duplicate,
                            s.name.span,
                            format!(
                                "server `{}` is defined twice in backend `{}`",
                                s.name.name, decl.name.name
                            ),
                        )
                        .label(first, "first defined here")
                        .help(
                            "give each server a name of its own: HAProxy and its Runtime API \
                             know a server by its backend and name",
                        ),
                    );
                    continue;
                }
                match server(ctx, s, backend_check, tcp.as_ref()) {
                    Some(server) => {
                        servers.push(server);
                        addr_spans.push(s.addr.span);
                    }
                    None => complete = false,
                }
            }
            ast::BodyItem::Header(h) => {
                if let Some(tcp) = &tcp {
                    tcp.refuse_header(ctx, h);
                    complete = false;
                    continue;
                }
                match (header(ctx, h), h.kind) {
                    (Some(value), ast::HeaderKind::Request) => request_headers.push(value),
                    (Some(value), ast::HeaderKind::Response) => response_headers.push(value),
                    (None, _) => complete = false,
                }
            }
            ast::BodyItem::Field(_) => {}
            other => misplaced(ctx, other, "backend"),
        }
    }
    duplicate_addresses(ctx, &decl.name.name, &servers, &addr_spans);
    let backend = model::Backend {
        name: decl.name.name.to_string(),
        template,
        mode,
        balance,
        check,
        timeout_connect: rec.duration("timeout_connect"),
        timeout_server: rec.duration("timeout_server"),
        timeout_queue: rec.duration("timeout_queue"),
        timeout_tunnel: rec.duration("timeout_tunnel"),
        http_reuse: rec.enumeration("http_reuse").map(str::to_string),
        sticky_cookie: rec.string("sticky_cookie"),
        retries: rec.int("retries").map(|n| n as u32),
        redispatch: rec.bool("redispatch"),
        compress: rec.strings("compress"),
        strip_prefix: path_prefix(ctx, &rec, "strip_prefix"),
        add_prefix: path_prefix(ctx, &rec, "add_prefix"),
        resolvers: "default",
        allow: rec.strings("allow"),
        error_pages: error_pages(ctx, &rec),
        remove_request_headers: rec.strings("remove_request_headers"),
        remove_response_headers: rec.strings("remove_response_headers"),
        basic_auth: match rec.get("basic_auth") {
            Some(Value::Record(r)) => basic_auth(ctx, r, &decl.name, rec.span("basic_auth")),
            _ => None,
        },
        request_headers,
        response_headers,
        servers,
        origin: decl.name.span,
    };
    (backend, complete)
}

/// A backend's `strip_prefix` or `add_prefix` (`field`), a path checked
/// as any is, which must also name at least one segment and end where a
/// segment does (without `/`): stripped, `/api` takes `/api/users` to
/// `/users` and `/api` to `/`; added, `/v2` takes `/users` to `/v2/users`.
fn path_prefix(ctx: &mut Ctx, rec: &Rec, field: &str) -> Option<String> {
    let prefix = rec.string(field)?;
    let span = rec.span(field)?;
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.len() != prefix.len() {
        let (what, example) = match field {
            "add_prefix" => (
                "to add",
                format!("`{trimmed}` takes `/users` to `{trimmed}/users`"),
            ),
            _ => (
                "to strip",
                format!("`{trimmed}` takes `{trimmed}/users` to `/users`, and `{trimmed}` to `/`"),
            ),
        };
        let diag = Diagnostic::new(
            Code::UnsafeString,
            span,
            format!("`{}` is not a prefix {what}", value::shorten(&prefix)),
        );
        ctx.diags.push(if trimmed.is_empty() {
            diag.help("a prefix names at least one path segment: `/api`")
        } else {
            diag.help(format!("write it without the final `/`: {example}"))
                .replace_with(&format!("\"{trimmed}\""))
        });
        return None;
    }
    Some(prefix)
}

/// A backend's `basic_auth`: one user at least, each named once, without
/// `:` (which ends the name in the credentials a client sends).
fn basic_auth(
    ctx: &mut Ctx,
    r: &Rec,
    backend: &ast::Ident,
    span: Option<Span>,
) -> Option<model::BasicAuth> {
    let span = span.unwrap_or(backend.span);
    let mut users: Vec<(String, String)> = Vec::new();
    if let Some(Value::List(items)) = r.get("users") {
        for item in items {
            let Value::Record(user) = item else { continue };
            let (Some(name), Some(Value::Secret(hash))) =
                (user.string("name"), user.get("password_hash"))
            else {
                ctx.diags.push(
                    Diagnostic::new(
                        Code::MissingField,
                        span,
                        "a user needs `name` and `password_hash`",
                    )
                    .help("{ name = \"alice\", password_hash = secret(\"ALICE_PASSWORD_HASH\") }"),
                );
                return None;
            };
            let name_span = user.span("name").unwrap_or(span);
            if name.contains(':') {
                ctx.diags.push(
                    Diagnostic::new(
                        Code::UnsafeString,
                        name_span,
                        format!("user name `{}` holds `:`", value::shorten(&name)),
                    )
                    .help("a client sends `name:password`: a name cannot hold `:`"),
                );
                return None;
            }
            if users.iter().any(|(n, _)| *n == name) {
                ctx.diags.push(
                    Diagnostic::new(
                        Code::Duplicate,
                        name_span,
                        format!("user `{name}` is listed twice"),
                    )
                    .help("list each user once"),
                );
                return None;
            }
            users.push((name, hash.clone()));
        }
    }
    if users.is_empty() {
        ctx.diags.push(
            Diagnostic::new(
                Code::MissingField,
                span,
                "basic authentication needs one user at least",
            )
            .help(
                "users = [{ name = \"alice\", password_hash = secret(\"ALICE_PASSWORD_HASH\") }]",
            ),
        );
        return None;
    }
    Some(model::BasicAuth {
        realm: r
            .string("realm")
            .unwrap_or_else(|| backend.name.to_string()),
        users,
    })
}

/// W0009 for each server of a backend at the address and port of an
/// earlier one; `spans` are where the servers' addresses are written.
/// The servers are sorted by address, not compared in pairs: a backend
/// may have thousands. IPv4 servers, nearly all of them, sort by one
/// integer.
fn duplicate_addresses(ctx: &mut Ctx, backend: &str, servers: &[model::Server], spans: &[Span]) {
    if servers.len() < 2 {
        return;
    }
    /// A server's address and port as one integer for IPv4; the rest
    /// (IPv6, host names) after every IPv4 server, compared as they are.
    fn key(s: &model::Server) -> u64 {
        match s.host {
            Host::Ip(std::net::IpAddr::V4(ip)) => {
                u64::from(u32::from(ip)) << 16 | u64::from(s.port)
            }
            _ => u64::MAX,
        }
    }
    let mut order: Vec<(u64, u32)> = (0..servers.len())
        .map(|i| (key(&servers[i]), i as u32))
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| match a.0 {
                u64::MAX => compare_other(&servers[a.1 as usize], &servers[b.1 as usize]),
                _ => std::cmp::Ordering::Equal,
            })
            .then(a.1.cmp(&b.1))
    });
    let same = |a: usize, b: usize| {
        servers[a].host == servers[b].host && servers[a].port == servers[b].port
    };
    let mut first = order[0].1 as usize;
    for &(_, i) in &order[1..] {
        let i = i as usize;
        if !same(first, i) {
            first = i;
            continue;
        }
        let (s, earlier) = (&servers[i], &servers[first]);
        ctx.diags.push(
            Diagnostic::new(
                Code::DuplicateAddress,
                spans[i],
                format!(
                    "servers `{}` and `{}` of backend `{backend}` are both at `{}`",
                    earlier.name,
                    s.name,
                    crate::lower::address(Some(&s.host), s.port)
                ),
            )
            .label(spans[first], format!("`{}` is declared here", earlier.name))
            .help("give the server its own address or port, or remove it"),
        );
    }
}

/// The order of two servers that are not both IPv4: by address, then port.
fn compare_other(a: &model::Server, b: &model::Server) -> std::cmp::Ordering {
    let host = match (&a.host, &b.host) {
        (Host::Ip(x), Host::Ip(y)) => x.cmp(y),
        (Host::Ip(_), Host::Name(_)) => std::cmp::Ordering::Less,
        (Host::Name(_), Host::Ip(_)) => std::cmp::Ordering::Greater,
        (Host::Name(x), Host::Name(y)) => x.cmp(y),
    };
    host.then(a.port.cmp(&b.port))
}

/// Whether `field` of a block was written, in its body or through its
/// template, and did not check (reported): `rec` lacks it, and the body
/// writes it or the template failed.
fn failed(rec: &Rec, field: &str, body: &[&ast::BodyItem], template_ok: bool) -> bool {
    rec.get(field).is_none()
        && (!template_ok
            || body
                .iter()
                .any(|item| matches!(item, ast::BodyItem::Field(f) if f.name.name == field)))
}

/// A block's `mode = tcp`: its bytes are passed on as they come, and
/// what needs HTTP is refused (E0304).
struct Tcp<'n> {
    /// `frontend` or `backend`.
    kind: &'static str,
    name: &'n str,
    /// Where `mode = tcp` is written.
    at: Option<Span>,
}

impl<'n> Tcp<'n> {
    /// The mode of the block of `kind` whose fields are `rec`, and for
    /// `mode = tcp` what refuses HTTP in it, after it refused its fields
    /// that need HTTP.
    fn of(
        ctx: &mut Ctx,
        rec: &Rec,
        kind: &'static str,
        name: &'n str,
    ) -> (model::Mode, Option<Tcp<'n>>) {
        let mode = rec
            .enumeration("mode")
            .and_then(model::Mode::from_name)
            .unwrap_or_default();
        if mode == model::Mode::Http {
            return (mode, None);
        }
        let tcp = Tcp {
            kind,
            name,
            at: rec.span("mode"),
        };
        let http = match kind {
            "frontend" => types::HTTP_FRONTEND_FIELDS,
            _ => types::HTTP_BACKEND_FIELDS,
        };
        for (field, _, span) in &rec.fields {
            if http.contains(field) {
                tcp.refuse(
                    ctx,
                    *span,
                    &format!("`{field}`"),
                    &format!("remove `{field}`: a tcp {kind} reads no HTTP"),
                );
            }
        }
        (mode, Some(tcp))
    }

    /// E0304 for `what`, written at `span`, which needs HTTP.
    fn refuse(&self, ctx: &mut Ctx, span: Span, what: &str, help: &str) {
        let mut diag = Diagnostic::new(
            Code::WrongMode,
            span,
            format!(
                "{what} needs HTTP, and {} `{}` is `mode = tcp`",
                self.kind, self.name
            ),
        )
        .help(format!(
            "{help}; or make the {} `mode = http`, the default",
            self.kind
        ));
        if let Some(at) = self.at {
            diag = diag.label(at, "`mode = tcp` here");
        }
        ctx.diags.push(diag);
    }

    /// E0304 for a header item.
    fn refuse_header(&self, ctx: &mut Ctx, h: &ast::Header) {
        let item = match h.kind {
            ast::HeaderKind::Request => "`request_header`",
            ast::HeaderKind::Response => "`response_header`",
        };
        self.refuse(
            ctx,
            h.span,
            item,
            &format!("remove it: a tcp {} sees no headers", self.kind),
        );
    }
}

fn misplaced(ctx: &mut Ctx, item: &ast::BodyItem, kind: &str) {
    let (span, what) = match item {
        ast::BodyItem::Server(s) => (s.span, "a server"),
        ast::BodyItem::Bind(b) => (b.span, "a bind"),
        ast::BodyItem::Route(r) => (r.span, "a route"),
        ast::BodyItem::Default(d) => (d.span, "a default route"),
        ast::BodyItem::Header(h) if h.kind == ast::HeaderKind::Request => {
            (h.span, "a request header")
        }
        ast::BodyItem::Header(h) => (h.span, "a response header"),
        ast::BodyItem::Field(_) | ast::BodyItem::If(_) => return,
    };
    let help = match kind {
        "backend" => "a backend holds fields, servers and headers",
        _ => "a frontend holds fields, binds, routes, a default and headers",
    };
    ctx.diags.push(
        Diagnostic::new(
            Code::Syntax,
            span,
            format!("{what} cannot stand in a {kind}"),
        )
        .help(help),
    );
}

/// The health check of a server's backend, as its servers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BackendCheck {
    Declared,
    Absent,
    /// Written, but its value is an error, reported where it is written.
    Invalid,
}

fn server(
    ctx: &mut Ctx,
    s: &ast::Server,
    backend_check: BackendCheck,
    tcp: Option<&Tcp>,
) -> Option<model::Server> {
    let backend_has_check = backend_check == BackendCheck::Declared;
    name_length(ctx, &s.name);
    let addr = ctx.eval_coerce(&s.addr, Ty::Addr);
    let options = s
        .options
        .as_ref()
        .map(|o| ctx.eval_coerce(o, Ty::Record(&types::SERVER)));
    let options = match options {
        Some(Some(Value::Record(r))) => r,
        Some(_) => return None,
        None => Rec::default(),
    };
    let (host, port) = match addr? {
        Value::Addr(Some(host), port) => (host, port),
        Value::Addr(None, _) => {
            ctx.diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    s.addr.span,
                    "expected an address with a host, found only a port",
                )
                .help("write the server's address: `10.0.0.1:8080` or `\"app.internal\":8080`"),
            );
            return None;
        }
        _ => return None,
    };
    // The options in one pass over those written (most servers of a large
    // project have two or three), not a search of them for each option.
    let mut server = model::Server {
        name: s.name.name.clone(),
        host,
        port,
        weight: 100,
        state: model::ServerState::Ready,
        maxconn: None,
        tls: None,
        check: backend_has_check,
        backup: false,
        send_proxy: false,
        slowstart: None,
        http2: false,
        origin: s.name.span,
    };
    for (name, value, _) in &options.fields {
        match (*name, value) {
            ("weight", Value::Int(n)) => server.weight = *n as u32,
            ("maxconn", Value::Int(n)) => server.maxconn = Some(*n as u32),
            ("state", Value::Enum(state)) => {
                server.state =
                    model::ServerState::from_name(state).unwrap_or(model::ServerState::Ready);
            }
            ("tls", Value::Record(t)) => {
                server.tls = Some(Box::new(model::ServerTls {
                    verify: t.enumeration("verify") != Some("none"),
                    ca: t.string("ca"),
                    sni: t.string("sni"),
                }));
            }
            ("check", Value::Bool(b)) => server.check = *b,
            ("backup", Value::Bool(b)) => server.backup = *b,
            ("send_proxy", Value::Bool(b)) => server.send_proxy = *b,
            // A timeout is below 2^31 ms.
            ("slowstart", Value::Duration(ms)) => server.slowstart = Some(*ms as u32),
            ("http2", Value::Bool(b)) => server.http2 = *b,
            _ => {}
        }
    }
    if let Some(tls) = &server.tls {
        if tls.verify && tls.ca.is_none() {
            let span = options.span("tls").unwrap_or(s.span);
            ctx.diags.push(
                Diagnostic::new(Code::MissingField, span, "server TLS with verification needs `ca`")
                    .help("add `ca = \"/etc/ssl/certs/ca-certificates.crt\"`, or `verify = none` to encrypt without verifying"),
            );
        }
    }
    if let (Some(tcp), true) = (tcp, server.http2) {
        tcp.refuse(
            ctx,
            options.span("http2").unwrap_or(s.span),
            "`http2`",
            "remove `http2`: HTTP/2 is a protocol of HTTP requests, which a tcp backend does not read",
        );
        return None;
    }
    // Not where the backend's check is an error: the error explains it.
    if server.check && backend_check == BackendCheck::Absent {
        let span = options.span("check").unwrap_or(s.span);
        ctx.diags.push(
            Diagnostic::new(
                Code::Contradiction,
                span,
                "server asks for a health check, but its backend has none",
            )
            .help("add `check = checks.healthz` (with `import std.checks`) to the backend"),
        );
    }
    Some(server)
}

fn header(ctx: &mut Ctx, h: &ast::Header) -> Option<model::Header> {
    Some(model::Header {
        name: header_name(ctx, &h.name)?,
        value: header_value(ctx, &h.name, &h.value)?,
    })
}

/// A header's name, letters, digits, `-` and `_`.
fn header_name(ctx: &mut Ctx, name: &ast::StrLit) -> Option<String> {
    value::check_string(
        &name.value,
        types::StrKind::HeaderName,
        name.span,
        ctx.diags,
    )?;
    Some(name.value.to_string())
}

/// The value of header `name`, a string or a secret: E0206 for a literal
/// of a header that carries a credential.
fn header_value(ctx: &mut Ctx, name: &ast::StrLit, value: &ast::Expr) -> Option<model::Text> {
    let raw = ctx.eval(value);
    match ctx.coerce(&raw, Ty::Text)? {
        Value::Text(model::Text::Literal(value))
            if !value.is_empty() && carries_credential(&name.value) =>
        {
            let mut diag = Diagnostic::new(
                Code::LiteralSecret,
                raw.span,
                format!(
                    "header `{}` carries a credential, written as a literal",
                    name.value
                ),
            )
            .help(
                "write `secret(\"NAME\")` and give HAProxy the variable NAME in its environment: \
                 a credential in the sources is in every clone and every CI log",
            );
            if let Some(origin) = raw.origin {
                diag = diag.label(origin, "the value, written here");
            }
            ctx.diags.push(diag);
            None
        }
        Value::Text(value) => Some(value),
        _ => None,
    }
}

/// Whether a header of this name carries a credential: `Authorization`,
/// `Proxy-Authorization`, names that end in `-Auth`, and names that say
/// key, token, secret or password (`X-Api-Key`, `X-Auth-Token`).
fn carries_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(name.as_str(), "authorization" | "proxy-authorization")
        || name.ends_with("-auth")
        || [
            "api-key", "apikey", "api_key", "token", "secret", "password", "passwd",
        ]
        .iter()
        .any(|word| name.contains(word))
}

/// Builds a frontend; the flag is false when a part of it was dropped.
fn frontend<'a>(
    ctx: &mut Ctx<'a, '_>,
    decl: &'a ast::Decl,
    backends: &KnownBackends,
    defaults: &model::Defaults,
) -> (model::Frontend, bool) {
    let mut complete = true;
    name_length(ctx, &decl.name);
    let mut body = Vec::new();
    flatten(&decl.body, ctx.env, &mut body);
    let (rec, template_ok, template) = ctx.fields_with("frontend", &types::FRONTEND, decl, &body);
    complete &= template_ok;
    let (mode, tcp) = Tcp::of(ctx, &rec, "frontend", &decl.name.name);
    // A misspelt mode (reported) holds the routes to no mode.
    let mode_known = !failed(&rec, "mode", &body, template_ok);
    let mut fe = model::Frontend {
        name: decl.name.name.to_string(),
        template,
        mode,
        binds: Vec::new(),
        routes: Vec::new(),
        default: None,
        maxconn: rec.int("maxconn").map(|n| n as u32),
        timeout_client: rec.duration("timeout_client"),
        timeout_hello: rec.duration("timeout_hello"),
        max_body: rec.size("max_body"),
        forwarded_for: rec
            .enumeration("forwarded_for")
            .and_then(model::ForwardedFor::from_name),
        forwarded_proto: rec.bool("forwarded_proto").unwrap_or(false),
        accept_proxy: rec.bool("accept_proxy").unwrap_or(false),
        monitor_uri: rec.string("monitor_uri"),
        request_id: rec
            .enumeration("request_id")
            .and_then(model::RequestId::from_name),
        allow: rec.strings("allow"),
        error_pages: error_pages(ctx, &rec),
        remove_request_headers: rec.strings("remove_request_headers"),
        remove_response_headers: rec.strings("remove_response_headers"),
        rate_limit: match rec.get("rate_limit") {
            Some(Value::Record(r)) => {
                let (requests, connections) = (r.int("requests"), r.int("connections"));
                match (requests.or(connections), r.duration("per")) {
                    (Some(_), Some(per)) => Some(model::RateLimit {
                        requests: requests.map(|n| n as u32),
                        connections: connections.map(|n| n as u32),
                        per,
                    }),
                    _ => {
                        ctx.diags.push(
                            Diagnostic::new(
                                Code::MissingField,
                                rec.span("rate_limit").unwrap_or(decl.name.span),
                                "a rate limit needs `per`, and `requests` or `connections`",
                            )
                            .help(
                                "rate_limit = { requests = 100, per = 10s } counts HTTP \
                                 requests; rate_limit = { connections = 20, per = 10s } new \
                                 connections",
                            ),
                        );
                        complete = false;
                        None
                    }
                }
            }
            _ => None,
        },
        request_headers: Vec::new(),
        response_headers: Vec::new(),
        origin: decl.name.span,
    };
    if let (Some(tcp), Some(Value::Record(r))) = (&tcp, rec.get("rate_limit")) {
        if let Some(span) = r.span("requests") {
            tcp.refuse(
                ctx,
                span,
                "a rate of `requests`",
                "count `connections` instead: a tcp frontend sees no requests",
            );
            complete = false;
        }
    }
    let mut default_span: Option<Span> = None;
    // Where each of `fe.request_headers` is written.
    let mut request_headers_at = Vec::new();
    for item in &body {
        if let Some(tcp) = &tcp {
            if !tcp_item(ctx, tcp, item) {
                complete = false;
                continue;
            }
        }
        match item {
            ast::BodyItem::Bind(b) => match bind(ctx, b) {
                Some(bind) => fe.binds.push(bind),
                None => complete = false,
            },
            ast::BodyItem::Route(r) => {
                let target = route_target(ctx, (&fe, mode_known), &r.target, backends);
                match route(ctx, r, target) {
                    Some(route) => fe.routes.push(route),
                    None => complete = false,
                }
            }
            ast::BodyItem::Default(default) => {
                if let Some(first) = default_span.replace(default.span) {
                    ctx.diags.push(
                        Diagnostic::new(
                            Code::Duplicate,
                            default.span,
                            "frontend has two default routes",
                        )
                        .label(first, "first default here")
                        .help("keep one: the default takes the requests no route matches"),
                    );
                    continue;
                }
                match route_target(ctx, (&fe, mode_known), &default.target, backends) {
                    Some(target) => fe.default = Some(target),
                    None => complete = false,
                }
            }
            ast::BodyItem::Header(h) => match (header(ctx, h), h.kind) {
                (Some(value), ast::HeaderKind::Request) => {
                    header_set_by_a_field(ctx, &fe, &rec, h);
                    fe.request_headers.push(value);
                    request_headers_at.push(h.span);
                }
                (Some(value), ast::HeaderKind::Response) => {
                    header_set_by_a_field(ctx, &fe, &rec, h);
                    fe.response_headers.push(value)
                }
                (None, _) => complete = false,
            },
            ast::BodyItem::Field(_) => {}
            other => misplaced(ctx, other, "frontend"),
        }
    }
    monitored_routes(ctx, &fe, &rec);
    refused_routes(ctx, &fe, &rec);
    header_routes(ctx, &fe, &rec, &request_headers_at);
    if tcp.is_some() {
        server_names(ctx, &fe);
    }
    if mode_known {
        complete &= hello_wait(ctx, &fe, &rec, defaults);
    }
    (fe, complete)
}

/// The wait of frontend `fe` for its clients' TLS hellos: `timeout_hello`
/// where the frontend reads them (see [`model::Frontend::reads_hello`]),
/// E0304 in an HTTP frontend and E0300 in a tcp frontend that reads none
/// (false then); W0018 where the client's timeout, the frontend's or the
/// defaults', ends first: HAProxy closes a connection that sent nothing
/// then, before the default takes it (proven on a real HAProxy).
fn hello_wait(ctx: &mut Ctx, fe: &model::Frontend, rec: &Rec, defaults: &model::Defaults) -> bool {
    let written = rec.span("timeout_hello");
    if let Some(at) = written {
        let help = "remove it: only a tcp frontend that routes by `host` and passes TLS \
                    through waits for a client's TLS hello, to read the server name";
        let refusal = if fe.mode == model::Mode::Http {
            Some(
                Diagnostic::new(
                    Code::WrongMode,
                    at,
                    format!(
                        "`timeout_hello` needs `mode = tcp`, and frontend `{}` is an HTTP one",
                        fe.name
                    ),
                )
                .help(format!(
                    "{help}; an HTTP frontend waits for a request up to \
                     `timeout_http_request` (in `defaults`)"
                )),
            )
        } else if !fe.reads_hello() {
            let why = match fe.binds.iter().find(|b| b.tls.is_some()) {
                Some(bind) => (
                    bind.origin,
                    "HAProxy ends TLS here: its own handshake reads the name",
                ),
                None => (fe.origin, "no route of this frontend is by `host`"),
            };
            Some(
                Diagnostic::new(
                    Code::Contradiction,
                    at,
                    format!("tcp frontend `{}` waits for no TLS hello", fe.name),
                )
                .label(why.0, why.1)
                .help(help),
            )
        } else {
            None
        };
        if let Some(diag) = refusal {
            ctx.diags.push(diag);
            return false;
        }
        if fe.timeout_hello == Some(0) {
            ctx.diags.push(
                Diagnostic::new(Code::OutOfRange, at, "a wait of 0 reads no TLS hello").help(
                    "a client's hello may come in more than one packet: wait at least `100ms`",
                ),
            );
            return false;
        }
    }
    if !fe.reads_hello() {
        return true;
    }
    let wait = fe.hello_wait();
    let client = fe.timeout_client.unwrap_or(defaults.timeout_client);
    // `timeout client 0` is no timeout.
    if client == 0 || wait < client {
        return true;
    }
    let at = written
        .or_else(|| {
            fe.routes
                .iter()
                .find(|r| r.host.is_some())
                .map(|r| r.origin)
        })
        .unwrap_or(fe.origin);
    let client_at = rec.span("timeout_client");
    let whose = match client_at {
        Some(_) => "its `timeout_client`",
        None => "the defaults' `timeout_client`",
    };
    let mut diag = Diagnostic::new(
        Code::HelloOutlastsClient,
        at,
        format!(
            "tcp frontend `{}` waits {} for a TLS hello, and {whose} of {} closes a \
             connection that sent nothing first",
            fe.name,
            crate::lower::duration(wait),
            crate::lower::duration(client),
        ),
    )
    .help(format!(
        "a client whose server speaks first never reaches the default: set \
         `timeout_hello` below {}, or lengthen `timeout_client`",
        crate::lower::duration(client)
    ));
    if let Some(client_at) = client_at {
        diag = diag.label(client_at, "the client's timeout");
    }
    ctx.diags.push(diag);
    true
}

/// Whether `item` of a tcp frontend can be: E0304 for a header, a route
/// by path or by request header, a redirect or a refusal by status, or a
/// bind that redirects to HTTPS.
fn tcp_item(ctx: &mut Ctx, tcp: &Tcp, item: &ast::BodyItem) -> bool {
    let redirect = |target: &ast::RouteTarget| match target {
        ast::RouteTarget::Redirect(url) => Some((url.span, "a redirect")),
        ast::RouteTarget::Deny(status) => Some((status.span, "a refusal with an HTTP status")),
        ast::RouteTarget::Backend(_) => None,
    };
    let redirect_help = "route to a backend: a tcp frontend answers nothing itself (`allow` \
                         closes the connections of other networks)";
    match item {
        ast::BodyItem::Header(h) => tcp.refuse_header(ctx, h),
        ast::BodyItem::Bind(b) if b.redirect.is_some() => {
            let at = b.redirect.as_ref().map_or(b.span, |r| r.span);
            tcp.refuse(
                ctx,
                at,
                "`redirect https`",
                "remove it: a tcp frontend cannot redirect",
            );
        }
        ast::BodyItem::Route(r)
            if r.path.is_some() || r.header().is_some() || redirect(&r.target).is_some() =>
        {
            if let Some(path) = &r.path {
                tcp.refuse(
                    ctx,
                    path.0.span.to(path.1.span),
                    "a route by path",
                    "route by `host` alone: a tcp frontend matches the TLS server name a \
                     client asks for, not a request's path",
                );
            }
            if let Some(header) = r.header() {
                let end = header.value.as_ref().map_or(header.name.span, |v| v.span);
                tcp.refuse(
                    ctx,
                    header.name.span.to(end),
                    "a route by request header",
                    "route by `host` alone: a tcp frontend matches the TLS server name a \
                     client asks for, and reads no request",
                );
            }
            if let Some((at, what)) = redirect(&r.target) {
                tcp.refuse(ctx, at, what, redirect_help);
            }
        }
        ast::BodyItem::Default(d) => match redirect(&d.target) {
            Some((at, what)) => tcp.refuse(ctx, at, what, redirect_help),
            None => return true,
        },
        _ => return true,
    }
    false
}

/// The routes of a tcp frontend match the TLS server name a client asks
/// for: E0203 for a route by IP address (no client sends one as a
/// server name), and E0300 for host routes in a frontend whose binds both
/// pass TLS through and end it (a route reads the name from the client's
/// TLS hello, passed through, or from HAProxy's own TLS session, and one
/// frontend cannot do both).
fn server_names(ctx: &mut Ctx, fe: &model::Frontend) {
    for route in &fe.routes {
        let Some(host) = &route.host else { continue };
        if host.parse::<std::net::IpAddr>().is_ok() {
            ctx.diags.push(
                Diagnostic::new(
                    Code::InvalidAddress,
                    route.origin,
                    format!("`{host}` is not a TLS server name"),
                )
                .help(
                    "a route of a tcp frontend matches the server name a client asks for \
                     (SNI), which is never an IP address: route by host name, or send \
                     the connections to addresses with `default`",
                ),
            );
        }
    }
    let Some(route) = fe.routes.iter().find(|r| r.host.is_some()) else {
        return;
    };
    let ending = fe.binds.iter().find(|b| b.tls.is_some());
    let passing = fe.binds.iter().find(|b| b.tls.is_none());
    let (Some(ending), Some(passing)) = (ending, passing) else {
        return;
    };
    ctx.diags.push(
        Diagnostic::new(
            Code::Contradiction,
            route.origin,
            format!(
                "tcp frontend `{}` both ends TLS and passes it through, and routes by \
                 server name",
                fe.name
            ),
        )
        .label(
            ending.origin,
            "HAProxy ends TLS here: the name is its session's",
        )
        .label(
            passing.origin,
            "TLS passes through here: the name is read from the client's hello",
        )
        .help(
            "put the binds that end TLS and those that pass it through in frontends of their own",
        ),
    );
}

/// W0002 for a route of `fe` whose exact path is its `monitor_uri`, which
/// HAProxy answers itself before any route.
fn monitored_routes(ctx: &mut Ctx, fe: &model::Frontend, rec: &Rec) {
    let (Some(uri), Some(at)) = (&fe.monitor_uri, rec.span("monitor_uri")) else {
        return;
    };
    for route in &fe.routes {
        if matches!(&route.path, Some(model::PathMatch::Exact(path)) if path == uri) {
            ctx.diags.push(
                Diagnostic::new(Code::ShadowedRoute, route.origin, "route can never match")
                    .label(at, "the frontend answers this path itself")
                    .help(format!(
                        "HAProxy answers `{uri}` with 200 before any route (`monitor_uri`): \
                         route another path, or give `monitor_uri` a path of its own"
                    )),
            );
        }
    }
}

/// W0002 for each route of `fe` whose client networks its `allow` refuses,
/// every one of them: HAProxy answers those clients with 403 (a tcp
/// frontend closes their connections) before any route. Not said where
/// either list has an IPv6 network that may hold IPv4-mapped addresses,
/// which HAProxy compares with IPv4 ones.
fn refused_routes(ctx: &mut Ctx, fe: &model::Frontend, rec: &Rec) {
    let Some(at) = rec.span("allow") else {
        return;
    };
    let Some(allowed) = super::net::plain(&fe.allow).filter(|a| !a.is_empty()) else {
        return;
    };
    for route in &fe.routes {
        let Some(nets) = route.from.as_deref().and_then(super::net::plain) else {
            continue;
        };
        let refused = nets
            .iter()
            .all(|&n| !allowed.iter().any(|&a| super::net::overlap(a, n)));
        if refused {
            ctx.diags.push(
                Diagnostic::new(Code::ShadowedRoute, route.origin, "route can never match")
                    .label(at, "clients of other networks are refused before any route")
                    .help(
                        "none of its networks is in the frontend's `allow`: add them to \
                         `allow`, or route other networks",
                    ),
            );
        }
    }
}

/// W0002 for each route of `fe` by a request header that the frontend
/// removes from every request (`remove_request_headers`), or sets to
/// another value (`request_header`, written at `set_at`): HAProxy does both
/// as a request comes in, before any route (the one it sets last wins,
/// after the removals).
fn header_routes(ctx: &mut Ctx, fe: &model::Frontend, rec: &Rec, set_at: &[Span]) {
    for route in &fe.routes {
        let Some(wanted) = &route.header else {
            continue;
        };
        let named = |name: &str| name.eq_ignore_ascii_case(&wanted.name);
        let set = fe
            .request_headers
            .iter()
            .zip(set_at)
            .rev()
            .find(|(h, _)| named(&h.name));
        let diag = match set {
            Some((set, &at)) => match (&wanted.value, &set.value) {
                (Some(model::Text::Literal(want)), model::Text::Literal(value))
                    if want != value =>
                {
                    Diagnostic::new(Code::ShadowedRoute, route.origin, "route can never match")
                        .label(
                            at,
                            format!(
                                "the frontend sets `{}` to `{value}` before any route",
                                set.name
                            ),
                        )
                        .help(format!(
                            "every request has `{}: {value}` by the time it is routed: route by \
                             another header, or set it in the backend",
                            set.name
                        ))
                }
                _ => continue,
            },
            None if fe.remove_request_headers.iter().any(|n| named(n)) => {
                let mut diag =
                    Diagnostic::new(Code::ShadowedRoute, route.origin, "route can never match")
                        .help(format!(
                            "the frontend removes `{}` from every request before any route: \
                             route by another header, or keep this one",
                            wanted.name
                        ));
                if let Some(at) = rec.span("remove_request_headers") {
                    diag = diag.label(at, "removed as requests come in");
                }
                diag
            }
            None => continue,
        };
        ctx.diags.push(diag);
    }
}

/// E0300 for a header that `forwarded_for`, `forwarded_proto` (requests)
/// or `request_id` (requests and responses) of the same frontend sets too:
/// one of the two would be lost.
fn header_set_by_a_field(ctx: &mut Ctx, fe: &model::Frontend, rec: &Rec, h: &ast::Header) {
    let name = h.name.value.as_str();
    let request = h.kind == ast::HeaderKind::Request;
    let field =
        if request && name.eq_ignore_ascii_case("X-Forwarded-For") && fe.forwarded_for.is_some() {
            "forwarded_for"
        } else if request && name.eq_ignore_ascii_case("X-Forwarded-Proto") && fe.forwarded_proto {
            "forwarded_proto"
        } else if name.eq_ignore_ascii_case(model::REQUEST_ID_HEADER) && fe.request_id.is_some() {
            "request_id"
        } else {
            return;
        };
    let mut diag = Diagnostic::new(
        Code::Contradiction,
        h.name.span,
        format!("`{field}` sets this header already"),
    )
    .help(format!("remove this header, or `{field}`"));
    if let Some(span) = rec.span(field) {
        diag = diag.label(span, format!("`{field}` here"));
    }
    ctx.diags.push(diag);
}

/// The backends of an environment, as routes see them. A set, since
/// every route looks its target up (a list would make checking quadratic
/// in the number of backends); the names for "did you mean" are prepared
/// on the first unknown target.
struct KnownBackends<'b> {
    /// Each backend's mode (`None` for one whose building failed), and
    /// where it is declared.
    set: crate::hash::IndexMap<&'b str, (Option<model::Mode>, Span)>,
    names: std::cell::OnceCell<Names>,
}

/// Checks that a route target of frontend `fe` names a backend of this
/// environment, of the frontend's mode where both modes are known
/// (`mode_known`: the frontend's is not a misspelt value).
fn backend_ref(
    ctx: &mut Ctx,
    (fe, mode_known): (&model::Frontend, bool),
    target: &ast::Ident,
    backends: &KnownBackends,
) -> bool {
    if let Some(&(mode, origin)) = backends.set.get(target.name.as_str()) {
        let Some(mode) = mode.filter(|_| mode_known) else {
            return true;
        };
        if mode == fe.mode {
            return true;
        }
        ctx.diags.push(
            Diagnostic::new(
                Code::WrongMode,
                target.span,
                format!(
                    "{} frontend `{}` cannot send to {} backend `{}`",
                    fe.mode.name(),
                    fe.name,
                    mode.name(),
                    target.name
                ),
            )
            .label(origin, format!("`mode = {}` backend", mode.name()))
            .help(
                "HAProxy refuses to start when a frontend names a backend of the other mode: \
                 route to a backend of the frontend's mode, or give the two the same `mode`",
            ),
        );
        return false;
    }
    let mut d = Diagnostic::new(
        Code::UnknownBackend,
        target.span,
        format!("unknown backend `{}`", target.name),
    );
    let names = backends.names.get_or_init(|| {
        Names::from(
            backends
                .set
                .keys()
                .map(|n| n.to_string())
                .collect::<Vec<_>>(),
        )
    });
    if target.name == "deny" {
        // `-> deny` without its status: the word is a backend's name.
        d = d
            .help("to answer the requests with a status of HAProxy's own, write it: `-> deny 403`");
    } else if let Some(near) = names.nearest(&target.name) {
        d = d.did_you_mean(near);
    } else {
        d = d.help(format!(
            "declare it, `backend {} {{ server NAME = ADDRESS }}`, or route to a backend of this environment",
            target.name
        ));
    }
    ctx.diags.push(d);
    false
}

/// Where a route or the default of frontend `fe` sends its requests: a
/// backend of this environment and of the frontend's mode (see
/// [`backend_ref`]), a redirect's URL, or a status HAProxy answers with.
fn route_target(
    ctx: &mut Ctx,
    fe: (&model::Frontend, bool),
    target: &ast::RouteTarget,
    backends: &KnownBackends,
) -> Option<model::Target> {
    match target {
        ast::RouteTarget::Backend(name) => backend_ref(ctx, fe, name, backends)
            .then(|| model::Target::Backend(name.name.to_string())),
        ast::RouteTarget::Redirect(url) => redirect_url(ctx, url).map(model::Target::Redirect),
        ast::RouteTarget::Deny(status) => deny_status(ctx, status).map(model::Target::Deny),
    }
}

/// A route of the model, or `None` after reporting what is wrong with it:
/// each of its matches (and, before, its `target`) is checked, so that a
/// route with several mistakes has each reported in one run.
fn route(ctx: &mut Ctx, r: &ast::Route, target: Option<model::Target>) -> Option<model::Route> {
    // `Some(None)`: the match is not written; `None`: it is wrong.
    let host = r.host.as_ref().map(|h| route_host(ctx, h));
    let path = r.path.as_deref().map(|(kind, p)| route_path(ctx, kind, p));
    let header = r.header().map(|h| route_header(ctx, h));
    let from = r.from().map(|networks| route_from(ctx, networks));
    Some(model::Route {
        host: host.map_or(Some(None), |h| h.map(Some))?,
        path: path.map_or(Some(None), |p| p.map(Some))?,
        header: header.map_or(Some(None), |h| h.map(Some))?,
        from: from.map_or(Some(None), |f| f.map(Some))?,
        target: target?,
        origin: r.span,
    })
}

/// A route's host: a name or an address, or `*.` and a domain: every name
/// under it, at any depth, not the domain itself (see
/// `model::Route::host`).
fn route_host(ctx: &mut Ctx, h: &ast::StrLit) -> Option<String> {
    if let Some(name) = h.value.strip_prefix("*.") {
        if name.is_empty() {
            ctx.diags.push(
                Diagnostic::new(Code::InvalidAddress, h.span, "`*.` names no domain")
                    .help("a wildcard host is `*.` and a domain: `*.example.com`; a route for every host has no `host`"),
            );
            return None;
        }
        return match ctx.coerce(&SRaw::new(Raw::Str(name.into()), h.span), Ty::Host)? {
            Value::Host(Host::Name(name)) => Some(format!("*.{name}")),
            Value::Host(Host::Ip(_)) => {
                ctx.diags.push(
                    Diagnostic::new(
                        Code::InvalidAddress,
                        h.span,
                        format!("`{}` is not a valid host name", h.value),
                    )
                    .help("a wildcard stands for the names under a domain, not for the addresses of a network: `*.example.com`"),
                );
                None
            }
            _ => None,
        };
    }
    match ctx.coerce(&SRaw::new(Raw::Str(h.value.clone()), h.span), Ty::Host)? {
        Value::Host(Host::Name(name)) => Some(name),
        Value::Host(Host::Ip(ip)) => Some(ip.to_string()),
        _ => None,
    }
}

/// A route's path: `prefix` or `exact`, and a URL path.
fn route_path(ctx: &mut Ctx, kind: &ast::Ident, p: &ast::StrLit) -> Option<model::PathMatch> {
    let kind = ctx.coerce(
        &SRaw::new(Raw::Name(kind.clone()), kind.span),
        Ty::Enum(types::PATH_KINDS),
    );
    value::check_string(&p.value, types::StrKind::UrlPath, p.span, ctx.diags)?;
    match kind? {
        Value::Enum("exact") => Some(model::PathMatch::Exact(p.value.to_string())),
        _ => Some(model::PathMatch::Prefix(p.value.to_string())),
    }
}

/// A route's request header: its name, and its value, if any.
fn route_header(ctx: &mut Ctx, h: &ast::HeaderMatch) -> Option<Box<model::HeaderMatch>> {
    let name = header_name(ctx, &h.name);
    let value = h.value.as_ref().map(|v| header_value(ctx, &h.name, v));
    let (name, value) = (name?, value.map_or(Some(None), |v| v.map(Some))?);
    // The condition is `{ req.fhdr(NAME) -m str -- VALUE }`, and
    // HAProxy ends it at a word `}`, quoted or not.
    if let (Some(model::Text::Literal(v)), Some(at)) = (&value, &h.value) {
        if v == "}" {
            ctx.diags.push(
                Diagnostic::new(
                    Code::UnsafeString,
                    at.span,
                    "a header's value cannot be `}` alone",
                )
                .help("HAProxy reads a lone `}` as the end of the route's condition"),
            );
            return None;
        }
    }
    Some(Box::new(model::HeaderMatch { name, value }))
}

/// A route's client networks: a list of CIDR blocks, not empty.
fn route_from(ctx: &mut Ctx, networks: &ast::Expr) -> Option<Box<[String]>> {
    let raw = ctx.eval(networks);
    let Value::List(items) = ctx.coerce(&raw, Ty::List(&Ty::Cidr))? else {
        return None;
    };
    if items.is_empty() {
        ctx.diags.push(
            Diagnostic::new(
                Code::Contradiction,
                raw.span,
                "route from no network can never match",
            )
            .help("list the clients' networks, `from [10.0.0.0/8]`, or remove the route"),
        );
        return None;
    }
    Some(
        items
            .iter()
            .filter_map(|v| match v {
                Value::Cidr(c) => Some(c.clone()),
                _ => None,
            })
            .collect::<Box<[String]>>(),
    )
}

/// The status of `-> deny STATUS`: one HAProxy answers with itself.
fn deny_status(ctx: &mut Ctx, status: &ast::StrLit) -> Option<u16> {
    let known = status
        .value
        .parse::<u16>()
        .ok()
        .filter(|s| types::ERROR_STATUSES.contains(s));
    if known.is_none() {
        ctx.diags.push(
            Diagnostic::new(
                Code::OutOfRange,
                status.span,
                format!(
                    "HAProxy cannot answer a request with status {}",
                    status.value
                ),
            )
            .help(format!("expected one of {}", types::error_statuses())),
        );
    }
    known
}

/// A redirect's URL: `http://` or `https://`, a host name or IP address,
/// perhaps a port, perhaps a path, nothing after (the request's path and
/// query are appended, so no `?`, no `#` and no final `/`).
fn redirect_url(ctx: &mut Ctx, url: &ast::StrLit) -> Option<String> {
    let text = url.value.as_str();
    value::check_string(text, types::StrKind::Printable, url.span, ctx.diags)?;
    let invalid = |ctx: &mut Ctx, why: &str, help: &str| {
        ctx.diags.push(
            Diagnostic::new(
                Code::InvalidAddress,
                url.span,
                format!(
                    "`{}` is not a URL to redirect to: {why}",
                    value::shorten(text)
                ),
            )
            .help(help.to_string()),
        );
        None
    };
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return invalid(
            ctx,
            "it does not start with `https://` or `http://`",
            "write the scheme and the host: `https://new.example.com`",
        );
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            if !port.parse::<u16>().is_ok_and(|p| p > 0) {
                return invalid(ctx, "its port is out of range", "a port is 1..=65535");
            }
            host
        }
        _ => authority,
    };
    if !value::is_host_name(host) {
        return invalid(
            ctx,
            "its host is not a host name",
            "write a host name after the scheme: `https://new.example.com`",
        );
    }
    if let Some(c) = path
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "-._~/%:@+,=!*".contains(c)))
    {
        return invalid(
            ctx,
            &match c {
                ' ' => "its path holds a space".to_string(),
                c => format!("its path holds `{c}`"),
            },
            "a path is letters, digits and `-._~/%:@+,=!*`; the request's query is kept as it is",
        );
    }
    if path.ends_with('/') {
        return invalid(
            ctx,
            "it ends with `/`",
            "the request's path, which starts with `/`, is appended: write the URL without the final `/`",
        );
    }
    Some(text.to_string())
}

fn bind(ctx: &mut Ctx, b: &ast::Bind) -> Option<model::Bind> {
    let addr = ctx.eval(&b.addr);
    let addr = ctx.coerce(&addr, Ty::Addr);
    let redirect_https = match &b.redirect {
        None => false,
        Some(r) => ctx
            .coerce(
                &SRaw::new(Raw::Name(r.clone()), r.span),
                Ty::Enum(types::REDIRECTS),
            )
            .is_some(),
    };
    let tls = match &b.tls {
        None => None,
        Some(path) => Some(tls_policy(ctx, path)?),
    };
    let listen = listen(ctx, addr?, b.addr.span)?;
    if tls.is_some() && redirect_https {
        ctx.diags.push(
            Diagnostic::new(
                Code::Contradiction,
                b.span,
                "a TLS bind cannot redirect to HTTPS",
            )
            .help("`redirect https` belongs on the plain-HTTP bind (`bind :80 redirect https`)"),
        );
    }
    Some(model::Bind {
        listen,
        tls,
        redirect_https,
        origin: b.span,
    })
}

fn listen(ctx: &mut Ctx, addr: Value, span: Span) -> Option<model::Listen> {
    match addr {
        Value::Addr(None, port) => Some(model::Listen { ip: None, port }),
        Value::Addr(Some(Host::Ip(ip)), port) => Some(model::Listen { ip: Some(ip), port }),
        Value::Addr(Some(Host::Name(name)), _) => {
            ctx.diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    format!("expected an IP address to listen on, found host name `{name}`"),
                )
                .help("write `:443` for all addresses, or an IP such as `127.0.0.1:443`"),
            );
            None
        }
        _ => None,
    }
}

fn tls_policy(ctx: &mut Ctx, path: &ast::Path) -> Option<model::TlsPolicy> {
    let name = path.dotted();
    if let Some(cached) = ctx.tls_cache.get(&name) {
        return cached.clone();
    }
    let slot = ctx.defs.refer(Ns::Project, path);
    let policy = match slot {
        None => {
            let mut d = Diagnostic::new(
                Code::UnknownTls,
                path.span,
                format!("unknown TLS policy `{name}`"),
            );
            if let Some(near) = ctx.defs.project_names.nearest(&name) {
                d = d.did_you_mean(near);
            }
            ctx.diags.push(d.help(
                "define it: `tls public = tls.intermediate { certs = \"/etc/haproxy/certs/\" }`",
            ));
            None
        }
        Some(slot) => {
            let raw = ctx.defs.value(slot, ctx.diags);
            let raw = SRaw::new(raw.raw, path.span);
            // A policy of the project is completed where it is defined; a
            // standard profile is extended by one.
            let defined =
                (ctx.defs.slots[slot].ns == Ns::Project).then(|| ctx.defs.slots[slot].name.span);
            match ctx.coerce(&raw, Ty::Record(&types::TLS)) {
                Some(Value::Record(rec)) => tls_from_record(ctx, &name, &rec, path.span, defined),
                _ => None,
            }
        }
    };
    ctx.tls_cache.insert(name, policy.clone());
    policy
}

fn tls_from_record(
    ctx: &mut Ctx,
    name: &str,
    rec: &Rec,
    span: Span,
    defined: Option<Span>,
) -> Option<model::TlsPolicy> {
    let version = |field: &str| {
        rec.enumeration(field)
            .and_then(model::TlsVersion::from_name)
    };
    let min_version = version("min_version").unwrap_or(model::TlsVersion::Tls12);
    let max_version = version("max_version");
    if let Some(max) = max_version.filter(|max| *max < min_version) {
        ctx.diags.push(
            Diagnostic::new(
                Code::Contradiction,
                rec.span("max_version").unwrap_or(span),
                format!(
                    "`max_version = {}` is below `min_version = {}`",
                    max.name(),
                    min_version.name()
                ),
            )
            .help("raise `max_version` or remove it"),
        );
    }
    if let (Some(at), None) = (rec.span("client_verify"), rec.get("client_ca")) {
        ctx.diags.push(
            Diagnostic::new(
                Code::Contradiction,
                at,
                format!("TLS policy `{name}` sets `client_verify` without `client_ca`"),
            )
            .help("add the CA that signs the client certificates: `client_ca = \"/etc/haproxy/ca/clients.pem\"`"),
        );
    }
    let certs = match (rec.string("certs"), rec.string("crt_list")) {
        (Some(path), None) => model::Certs::Path(path),
        (None, Some(list)) => model::Certs::List(list),
        (Some(_), Some(_)) => {
            ctx.diags.push(
                Diagnostic::new(
                    Code::Contradiction,
                    rec.span("crt_list").unwrap_or(span),
                    format!("TLS policy `{name}` sets both `certs` and `crt_list`"),
                )
                .help("keep one: a PEM file or directory, or a crt-list file"),
            );
            return None;
        }
        (None, None) => {
            let d = Diagnostic::new(
                Code::MissingField,
                span,
                format!("TLS policy `{name}` has no `certs`"),
            );
            let d = match defined {
                Some(at) => d
                    .label(at, "defined here")
                    .help(format!("add `certs = \"/etc/haproxy/certs/\"` where `{name}` is defined")),
                None => d.help(format!("define a policy that extends it with the certificate location: `tls public = {name} {{ certs = \"/etc/haproxy/certs/\" }}`")),
            };
            ctx.diags
                .push(d.help("or a crt-list file: `crt_list = \"/etc/haproxy/crt-list.txt\"`"));
            return None;
        }
    };
    let alpn = rec.strings("alpn");
    let mut refused = false;
    for (field, list) in [
        ("ciphers", openssl::List::Ciphers),
        ("ciphersuites", openssl::List::Suites),
        ("curves", openssl::List::Curves),
    ] {
        let Some((message, near)) = rec.string(field).and_then(|s| openssl::refused(list, &s))
        else {
            continue;
        };
        let mut d = Diagnostic::new(
            Code::InvalidEnum,
            rec.span(field).unwrap_or(span),
            format!("{message} in TLS policy `{name}`"),
        );
        if let Some(near) = near {
            d = d.help(format!("did you mean `{near}`?"));
        }
        ctx.diags.push(d.help(openssl::expected(list)));
        refused = true;
    }
    if refused {
        return None;
    }
    Some(model::TlsPolicy {
        name: name.to_string(),
        min_version,
        max_version,
        ciphers: rec.string("ciphers"),
        ciphersuites: rec.string("ciphersuites"),
        curves: rec.string("curves"),
        alpn,
        certs,
        hsts: rec.duration("hsts").map(|ms| ms / 1000),
        tickets: rec.bool("tickets").unwrap_or(false),
        client_certs: rec.string("client_ca").map(|ca| model::ClientCerts {
            ca,
            required: rec.enumeration("client_verify") != Some("optional"),
        }),
    })
}

fn stats<'a>(ctx: &mut Ctx<'a, '_>, decl: &'a ast::Decl) -> Option<model::Stats> {
    let mut body = Vec::new();
    flatten(&decl.body, ctx.env, &mut body);
    reject_non_fields(ctx, &body, "stats");
    let rec = ctx.fields(&types::STATS, &body);
    let mut missing = Vec::new();
    for field in ["bind", "user", "password"] {
        if rec.get(field).is_none()
            && !body
                .iter()
                .any(|i| matches!(i, ast::BodyItem::Field(f) if f.name.name == field))
        {
            missing.push(field);
        }
    }
    if !missing.is_empty() {
        ctx.diags.push(
            Diagnostic::new(
                Code::MissingField,
                decl.name.span,
                format!("`stats` needs {}", types::list_values(&missing)),
            )
            .help(
                "stats { bind = :8404, user = \"admin\", password = secret(\"STATS_PASSWORD\") }",
            ),
        );
        return None;
    }
    let bind_origin = rec.span("bind")?;
    let bind = match rec.get("bind")? {
        Value::Addr(..) => listen(ctx, rec.get("bind")?.clone(), bind_origin)?,
        _ => return None,
    };
    let password = match rec.get("password")? {
        Value::Secret(name) => Text::Secret(name.clone()),
        _ => return None,
    };
    let uri = rec.string("uri").unwrap_or_else(|| "/stats".into());
    let metrics = rec.string("metrics");
    if metrics.as_ref() == Some(&uri) {
        ctx.diags.push(
            Diagnostic::new(
                Code::Contradiction,
                rec.span("metrics")?,
                format!("the metrics and the stats page are both at `{uri}`"),
            )
            .help(
                "the exporter would answer the page's requests: give each a path of its own, \
                 `uri = \"/stats\"` and `metrics = \"/metrics\"`",
            ),
        );
        return None;
    }
    let allow = rec.strings("allow");
    if metrics.is_some() && allow.is_empty() && bind.ip.is_none_or(|ip| ip.is_unspecified()) {
        ctx.diags.push(
            Diagnostic::new(
                Code::OpenMetrics,
                rec.span("metrics")?,
                "the metrics answer every client, on every address, without a password",
            )
            .help(
                "list the networks of the scrapers, `allow = [10.0.0.0/8]`, or bind the stats \
                 to an internal address",
            ),
        );
    }
    Some(model::Stats {
        bind,
        bind_origin,
        uri,
        user: rec.string("user")?,
        password,
        refresh: rec.duration("refresh").unwrap_or(10_000),
        metrics,
        allow,
    })
}
