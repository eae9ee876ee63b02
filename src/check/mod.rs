//! Checking: the parsed project → one [`model::Env`] per environment, and
//! every diagnostic at once. Each environment is elaborated separately
//! (`if env == ...` resolved), so an error that exists in only one
//! environment is still found; diagnostics shared by several environments
//! are reported once.

mod bodies;
mod build;
pub mod docs;
mod lint;
pub(crate) mod net;
mod openssl;
pub mod types;
pub mod value;

use indexmap::IndexMap;

use crate::diag::{nearest, Code, Diagnostic, Diagnostics, Names, Severity};
use crate::model;
use crate::project::{LintLevel, Project};
use crate::source::Span;
use crate::syntax::ast;
use value::{Raw, SRaw, Scope};

/// A deferred backend body does not parse (see `check::bodies`): load the
/// project again without deferring, and check that.
#[derive(Debug)]
pub struct Reload;

/// Checks a loaded project. Returns the models of the environments (empty
/// when there is any error) and all diagnostics in source order.
pub fn check(
    project: &Project,
    parse_diags: Vec<Diagnostic>,
) -> Result<(Vec<model::Env>, Vec<Diagnostic>), Reload> {
    let mut diags = Diagnostics::default();
    for d in parse_diags {
        diags.push(d);
    }
    let envs = declared_envs(project, &mut diags);
    let env_names = EnvNames::new(envs.iter().map(|e| e.name.to_string()).collect());
    unknown_production_envs(project, &envs, &env_names, &mut diags);
    // A large file's items are walked in runs side by side (every body
    // item is looked at, tens of thousands), their findings kept in order.
    for file in &project.files {
        let runs = crate::parallel::runs(&file.ast.items, 256);
        let found = crate::parallel::map(runs, |items| {
            let mut found = Diagnostics::default();
            check_conditions(items, &env_names, &mut found);
            found
        });
        for found in found {
            diags.merge(found);
        }
    }
    let mut found = bodies::Found::default();
    let bodies = bodies::Bodies::new(project, &env_names, &mut found);
    let top = elaborated(project);
    if found.failed {
        return Err(Reload);
    }
    let mut models = Vec::new();
    let mut usage = Usage::default();
    for env in &envs {
        diags.set_env(Some(&env.name));
        let production = project
            .manifest
            .project
            .production()
            .any(|p| p == env.name.as_str());
        let mut items = Vec::new();
        flatten_top(&top, &env.name, &mut items);
        let built = build::env(
            project,
            &env.name,
            production,
            &items,
            (&bodies, &mut found),
            &mut usage,
            &mut diags,
        );
        if let Some((model, tainted)) = built {
            lint::env(&model, &tainted, &items, &mut diags);
            models.push(model);
        }
    }
    bodies.rest(&mut found);
    if found.failed {
        return Err(Reload);
    }
    diags.set_env(None);
    usage.report(&mut diags);
    diags.merge(found.diags);
    let mut diags = apply_lint_levels(project, diags.into_sorted());
    drop_consequences_of_lost_items(project, &mut diags);
    // A finding in some environments only says which.
    for d in &mut diags {
        if !d.envs.is_empty() && d.envs.len() < envs.len() {
            let names: Vec<&str> = d.envs.iter().map(String::as_str).collect();
            let plural = if names.len() == 1 { "" } else { "s" };
            d.help.push(format!(
                "only in environment{plural} {}",
                types::list_values(&names)
            ));
        }
    }
    if diags.iter().any(Diagnostic::is_error) {
        models.clear();
    }
    Ok((models, diags))
}

/// Leaves out the findings that items missing from the sources may
/// explain, so that a syntax error is not followed by a screen of errors
/// about its consequences: names that read as unknown, a backend that reads
/// as unused, no environment, a file that reads as not imported. Where the
/// regions that did not parse are known, only findings about a name written
/// in one of them go (`unknown backend \`web\`` after `backend web {` did
/// not parse); where a whole file is missing (it could not be read, or is
/// not UTF-8, or is nested too deep), all of them go. They come back, if
/// they are real, once the sources parse.
fn drop_consequences_of_lost_items(project: &Project, diags: &mut Vec<Diagnostic>) {
    let may_follow = |code: Code| {
        matches!(
            code,
            Code::Undefined
                | Code::UnknownBackend
                | Code::UnknownTls
                | Code::UnknownEnv
                | Code::UnknownGuard
                | Code::NoEnvironment
                | Code::UnusedBackend
                | Code::UnusedDefinition
                | Code::UnimportedFile
        )
    };
    let whole_file_lost = diags
        .iter()
        .any(|d| matches!(d.code, Code::NotUtf8 | Code::TooDeep | Code::ImportNotFound));
    let lost: Vec<&str> = project
        .files
        .iter()
        .flat_map(|file| &file.ast.lost)
        .map(|span| text_of(project, *span))
        .collect();
    if !whole_file_lost && lost.is_empty() {
        return;
    }
    fn words_of(text: &str) -> impl Iterator<Item = &str> {
        text.split(|c: char| !crate::syntax::is_name_char(c))
            .filter(|word| !word.is_empty())
    }
    let words: std::collections::HashSet<&str> = lost.iter().flat_map(|t| words_of(t)).collect();
    diags.retain(|d| {
        if !may_follow(d.code) {
            return true;
        }
        if whole_file_lost {
            return false;
        }
        if d.code == Code::NoEnvironment {
            return !words.contains("env");
        }
        let Some(span) = d.span else { return true };
        match d.code {
            Code::UnimportedFile => {
                let name = &project.sources.get(project.sources.file_of(span)).name;
                !lost.iter().any(|text| text.contains(name.as_str()))
            }
            _ => !words_of(text_of(project, span)).any(|word| words.contains(word)),
        }
    });
}

/// The source text at `span`.
fn text_of(project: &Project, span: Span) -> &str {
    let (file, range) = project.sources.locate(span);
    file.text.get(range).unwrap_or("")
}

fn apply_lint_levels(project: &Project, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let levels = &project.manifest.lints;
    diags
        .into_iter()
        .filter_map(|mut d| {
            if d.code.default_severity() == Severity::Warning {
                match levels.get(d.code.name()) {
                    Some(LintLevel::Allow) => return None,
                    Some(LintLevel::Deny) => d.severity = Severity::Error,
                    _ => {}
                }
            }
            Some(d)
        })
        .collect()
}

fn declared_envs(project: &Project, diags: &mut Diagnostics) -> Vec<ast::Ident> {
    let mut envs: Vec<ast::Ident> = Vec::new();
    let mut first: crate::hash::Map<&str, Span> = crate::hash::Map::default();
    for file in &project.files {
        for item in &file.ast.items {
            if let ast::Item::Env(name) = item {
                if let Some(first) = first.get(name.name.as_str()) {
                    diags.push(
                        Diagnostic::new(
                            Code::Duplicate,
                            name.span,
                            format!("environment `{}` is declared twice", name.name),
                        )
                        .label(*first, "first declared here")
                        .help(
                            "remove this declaration: an environment is declared once, in any file",
                        ),
                    );
                } else {
                    first.insert(&name.name, name.span);
                    envs.push(name.clone());
                }
            }
        }
    }
    if envs.is_empty() && project.files.iter().any(|f| !f.ast.items.is_empty()) {
        let span = project.files.first().map(|f| Span::new(f.id, 0..0));
        diags.push(
            Diagnostic::new(Code::NoEnvironment, span, "no environment is declared")
                .help("add `env production` at the top of the entry file"),
        );
    }
    envs
}

/// Every `if env == NAME` names a declared environment; environments are
/// declared at the top level only. No definition is named as a value
/// (W0010).
fn check_conditions(items: &[ast::Item], envs: &EnvNames, diags: &mut Diagnostics) {
    top(items, envs, false, diags);
    fn top(items: &[ast::Item], envs: &EnvNames, nested: bool, diags: &mut Diagnostics) {
        for item in items {
            match item {
                ast::Item::If(branch) => {
                    check_condition(&branch.cond, envs, diags);
                    top(&branch.then, envs, true, diags);
                    top(&branch.otherwise, envs, true, diags);
                }
                ast::Item::Env(name) if nested => diags.push(
                    Diagnostic::new(
                        Code::Contradiction,
                        name.span,
                        "environments cannot be declared inside `if`",
                    )
                    .help("declare every environment at the top level of a file"),
                ),
                // A deferred body's conditions are looked at where it is
                // parsed (see `bodies`).
                ast::Item::Backend(d) | ast::Item::Frontend(d) => {
                    body_conditions(&d.body, envs, diags)
                }
                ast::Item::Defaults(d) | ast::Item::Stats(d) => {
                    body_conditions(&d.body, envs, diags)
                }
                ast::Item::Let(l) => shadowed_value("constant", &l.name, diags),
                ast::Item::Tls(t) => shadowed_value("TLS policy", &t.name, diags),
                ast::Item::Guard(g) => {
                    let cond = ast::Condition {
                        op: ast::CondOp::In,
                        envs: g.envs.clone(),
                        span: g.span,
                    };
                    check_condition(&cond, envs, diags);
                }
                _ => {}
            }
        }
    }
}

/// W0010 for a definition named as a value of the language: where the
/// value is written, the definition is taken instead.
fn shadowed_value(kind: &str, ident: &ast::Ident, diags: &mut Diagnostics) {
    let Some(what) = types::value_word(&ident.name) else {
        return;
    };
    let name = &ident.name;
    diags.push(
        Diagnostic::new(
            Code::ShadowedValue,
            ident.span,
            format!("{kind} `{name}` hides the value `{name}`"),
        )
        .help(format!(
            "`{name}` is {what}: written there, it now means this {kind}"
        ))
        .help(format!("give the {kind} another name")),
    );
}

/// The declared environments' names, as the conditions ask for them: every
/// condition looks its names up, and a project may declare thousands, so
/// that each unknown name is not compared with all of them.
pub(crate) struct EnvNames {
    set: crate::hash::Set<String>,
    /// In declaration order, for "did you mean" (prepared on the first
    /// unknown name).
    names: Names,
    /// The help line that lists them, made on the first unknown name.
    listed: std::sync::OnceLock<String>,
}

impl EnvNames {
    fn new(names: Vec<String>) -> EnvNames {
        EnvNames {
            set: names.iter().cloned().collect(),
            names: Names::from(names),
            listed: std::sync::OnceLock::new(),
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.set.contains(name)
    }

    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    fn listed(&self) -> &str {
        self.listed.get_or_init(|| {
            let listed = types::list_values(&self.names.iter().collect::<Vec<_>>());
            format!("the declared environments are {listed}")
        })
    }
}

/// Every `if env == NAME` of a block's items names a declared environment.
fn body_conditions(items: &[ast::BodyItem], envs: &EnvNames, diags: &mut Diagnostics) {
    for item in items {
        if let ast::BodyItem::If(branch) = item {
            check_condition(&branch.cond, envs, diags);
            body_conditions(&branch.then, envs, diags);
            body_conditions(&branch.otherwise, envs, diags);
        }
    }
}

/// The environments `haptic.toml` counts as production that the sources
/// do not declare: a misspelt one would leave the production lints and
/// guards off. (The default, `["production"]`, may name none.)
fn unknown_production_envs(
    project: &Project,
    envs: &[ast::Ident],
    names: &EnvNames,
    diags: &mut Diagnostics,
) {
    let section = &project.manifest.project;
    let Some(manifest) = project.sources.find("haptic.toml") else {
        return;
    };
    if envs.is_empty() {
        return; // reported as no environment at all
    }
    for written in section.production_written().unwrap_or_default() {
        let (name, at) = (written.get_ref(), written.span());
        if !names.contains(name) {
            let mut d = Diagnostic::new(
                Code::UnknownEnv,
                Span::new(manifest, at.clone()),
                format!(
                    "unknown environment `{}` in `production`",
                    name.escape_debug()
                ),
            );
            if let Some(near) = names.names.nearest_or_expansion(name) {
                // The span is the TOML string, quotes included.
                d = d
                    .help(format!("did you mean `{near}`?"))
                    .replace_with(&format!("\"{near}\""));
            }
            diags.push(d.help(names.listed()));
        }
    }
}

fn check_condition(cond: &ast::Condition, envs: &EnvNames, diags: &mut Diagnostics) {
    for name in cond.envs.iter() {
        if !envs.contains(name.name.as_str()) {
            let mut d = Diagnostic::new(
                Code::UnknownEnv,
                name.span,
                format!("unknown environment `{}`", name.name),
            );
            if let Some(near) = envs.names.nearest_or_expansion(&name.name) {
                d = d.did_you_mean(near);
            }
            diags.push(d.help(envs.listed()));
        }
    }
}

/// The project's top-level items that an environment elaborates: all but
/// the `env` declarations, in source order. Taken once, so that each
/// environment does not walk the declarations of all the others (a
/// project with thousands of environments took time in their square).
fn elaborated(project: &Project) -> Vec<&ast::Item> {
    project
        .files
        .iter()
        .flat_map(|f| &f.ast.items)
        .filter(|item| !matches!(item, ast::Item::Env(_)))
        .collect()
}

/// [`flatten`] of top-level items taken by [`elaborated`].
pub(crate) fn flatten_top<'a>(items: &[&'a ast::Item], env: &str, out: &mut Vec<&'a ast::Item>) {
    for &item in items {
        flatten(std::slice::from_ref(item), env, out);
    }
}

/// Items of one environment, `if` branches resolved: top-level items or
/// the items of a block alike.
pub(crate) fn flatten<'a, T: ast::Conditional>(items: &'a [T], env: &str, out: &mut Vec<&'a T>) {
    for item in items {
        match item.as_if() {
            Some(branch) => {
                let taken = if branch.cond.holds(env) {
                    &branch.then
                } else {
                    &branch.otherwise
                };
                flatten(taken, env, out);
            }
            None => out.push(item),
        }
    }
}

/// Which namespace a definition lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ns {
    Project,
    Std(usize),
}

#[derive(Clone)]
enum SlotState {
    Pending,
    InProgress,
    Done(SRaw),
}

/// A `let` or `tls` definition, evaluated on first use.
#[derive(Clone)]
struct Slot<'a> {
    name: &'a ast::Ident,
    kind: DefKind,
    ty: Option<&'a ast::TypeName>,
    expr: &'a ast::Expr,
    ns: Ns,
    state: SlotState,
}

/// What a definition defines: both live in one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DefKind {
    /// `let NAME = VALUE`.
    Constant,
    /// `tls NAME ...`.
    TlsPolicy,
}

/// The references written in a value, nested ones included.
pub(crate) fn paths_in<'e>(expr: &'e ast::Expr, out: &mut Vec<&'e ast::Path>) {
    use ast::ExprKind as K;
    match &expr.kind {
        K::Ref(r) => {
            out.push(&r.path);
            for field in r.overrides.iter().flat_map(|o| &o.fields) {
                paths_in(&field.value, out);
            }
        }
        K::List(items) => items.iter().for_each(|e| paths_in(e, out)),
        K::Record(fields) => fields.iter().for_each(|f| paths_in(&f.value, out)),
        K::Address(addr) => {
            if let Some(ast::AddrHost::Ref(path)) = &addr.host {
                out.push(path);
            }
            if let ast::AddrPort::Ref(path) = &addr.port {
                out.push(path);
            }
        }
        K::Int(_)
        | K::Quantity(_)
        | K::Ipv4(_)
        | K::Cidr(_)
        | K::Str(_)
        | K::Bool(_)
        | K::Secret(_)
        | K::Invalid => {}
    }
}

/// The project's `let` constants and `tls` policies that some environment
/// defines, each with whether it is settled in any (`Defs::settled`).
#[derive(Default)]
struct Usage<'a> {
    /// By place, so that they are reported in source order.
    defined: std::collections::BTreeMap<Span, (&'a ast::Ident, DefKind, bool)>,
}

impl Usage<'_> {
    /// W0008 for each definition that no environment settled. Not while a name
    /// is unknown (E0100, E0103): that may be a misspelt use of one of them.
    fn report(self, diags: &mut Diagnostics) {
        if diags.has(Code::Undefined) || diags.has(Code::UnknownTls) {
            return;
        }
        for (name, kind, settled) in self.defined.into_values() {
            if settled {
                continue;
            }
            let (what, help) = match kind {
                DefKind::TlsPolicy => (
                    "TLS policy",
                    "use it in a `bind ... tls` or a `tls` definition, or remove it",
                ),
                DefKind::Constant => ("constant", "use it, or remove it"),
            };
            diags.push(
                Diagnostic::new(
                    Code::UnusedDefinition,
                    name.span,
                    format!("{what} `{}` is never used", name.name),
                )
                .help(help),
            );
        }
    }
}

/// The definitions visible in one environment.
#[derive(Clone)]
struct Defs<'a> {
    slots: Vec<Slot<'a>>,
    /// (namespace, name) → slot, for `let` constants and TLS policies alike.
    index: crate::hash::Map<(Ns, &'a str), usize>,
    modules: IndexMap<&'a str, Ns>,
    imported: Vec<String>,
    /// Names in the project namespace, for "did you mean".
    project_names: Names,
    /// Those and the definitions of imported standard modules, dotted
    /// (`tls.modern`), for "did you mean" on a dotted reference: made on
    /// the first, as every definition is known by then.
    dotted_names: std::sync::OnceLock<Names>,
    /// How many definitions are being evaluated, each through the next.
    depth: usize,
    /// Per slot: whether W0008 has nothing to say of it, because a
    /// reference resolved to it or its value is an error reported as such.
    settled: Vec<bool>,
}

/// A constant may be defined through at most this many others (`let a =
/// b`, `let b = c`, ...): each is a level of the checker's recursion, and
/// a chain of thousands overflowed its stack (see E0003).
pub const MAX_CHAIN: usize = 64;

impl<'a> Defs<'a> {
    fn new(project: &'a Project) -> Defs<'a> {
        let mut modules = IndexMap::new();
        for (i, name) in project.std.keys().enumerate() {
            modules.insert(name.as_str(), Ns::Std(i));
        }
        Defs {
            slots: Vec::new(),
            index: Default::default(),
            modules,
            imported: project.imported_std.clone(),
            project_names: Names::new(),
            dotted_names: std::sync::OnceLock::new(),
            depth: 0,
            settled: Vec::new(),
        }
    }

    fn define(
        &mut self,
        ns: Ns,
        name: &'a ast::Ident,
        ty: Option<&'a ast::TypeName>,
        expr: &'a ast::Expr,
        kind: DefKind,
        diags: &mut Diagnostics,
    ) {
        if let Some(&first) = self.index.get(&(ns, name.name.as_str())) {
            diags.push(
                Diagnostic::new(
                    Code::Duplicate,
                    name.span,
                    format!("`{}` is defined twice", name.name),
                )
                .label(self.slots[first].name.span, "first defined here")
                .help(
                    "rename one (constants and TLS policies share their names); to differ per \
                     environment, define each in an `if env == ...` branch of its own",
                ),
            );
            return;
        }
        self.index
            .insert((ns, name.name.as_str()), self.slots.len());
        if ns == Ns::Project {
            self.project_names.push(name.name.to_string());
            self.dotted_names = std::sync::OnceLock::new();
        }
        self.slots.push(Slot {
            name,
            kind,
            ty,
            expr,
            ns,
            state: SlotState::Pending,
        });
        self.settled.push(false);
    }

    /// [`Defs::find`] for a reference written in the sources: the
    /// definition found counts as used.
    fn refer(&mut self, ns: Ns, path: &ast::Path) -> Option<usize> {
        let slot = self.find(ns, path)?;
        self.settled[slot] = true;
        Some(slot)
    }

    /// Adds what another copy of these definitions settled.
    fn merge_settled(&mut self, other: &[bool]) {
        for (mine, theirs) in self.settled.iter_mut().zip(other) {
            *mine |= *theirs;
        }
    }

    /// Records the project's definitions, and which are settled.
    fn note_usage(&self, usage: &mut Usage<'a>) {
        for (slot, &settled) in self.slots.iter().zip(&self.settled) {
            if slot.ns == Ns::Project {
                let seen = usage
                    .defined
                    .entry(slot.name.span)
                    .or_insert((slot.name, slot.kind, false));
                seen.2 |= settled;
            }
        }
    }

    fn find(&self, ns: Ns, path: &ast::Path) -> Option<usize> {
        match path.segments.as_slice() {
            [name] => self.index.get(&(ns, name.name.as_str())).copied(),
            [module, name] if ns == Ns::Project => {
                let module_ns = *self.modules.get(module.name.as_str())?;
                if !self.imported.iter().any(|m| *m == module.name) {
                    return None;
                }
                self.index.get(&(module_ns, name.name.as_str())).copied()
            }
            _ => None,
        }
    }

    /// Evaluates the slot (once per environment).
    fn value(&mut self, slot: usize, diags: &mut Diagnostics) -> SRaw {
        match &self.slots[slot].state {
            SlotState::Done(v) => return v.clone(),
            SlotState::InProgress => {
                let s = &self.slots[slot];
                diags.push(
                    Diagnostic::new(
                        Code::CyclicLet,
                        s.name.span,
                        format!("`{}` is defined in terms of itself", s.name.name),
                    )
                    .help("give one of the constants in the cycle a literal value"),
                );
                return SRaw::new(Raw::Poison, s.name.span);
            }
            SlotState::Pending => {}
        }
        if self.depth >= MAX_CHAIN {
            let s = &self.slots[slot];
            diags.push(
                Diagnostic::new(
                    Code::TooDeep,
                    s.name.span,
                    format!(
                        "`{}` is defined through more than {MAX_CHAIN} other constants",
                        s.name.name
                    ),
                )
                .help("give a constant of the chain a literal value"),
            );
            let poison = SRaw::new(Raw::Poison, s.name.span);
            self.slots[slot].state = SlotState::Done(poison.clone());
            return poison;
        }
        self.slots[slot].state = SlotState::InProgress;
        let (expr, ns, ty) = {
            let s = &self.slots[slot];
            (s.expr, s.ns, s.ty)
        };
        self.depth += 1;
        let mut raw = value::eval(expr, &mut Resolver { defs: self, ns }, diags);
        self.depth -= 1;
        if let Some(ty) = ty {
            raw = self.typed(raw, ty, diags);
        }
        // A cycle found below already replaced this slot's value with poison.
        if let SlotState::Done(v) = &self.slots[slot].state {
            return v.clone();
        }
        self.slots[slot].state = SlotState::Done(raw.clone());
        raw
    }

    /// [`Defs::value`] of `slot`, after every definition it refers to,
    /// deepest first, so that evaluating one never recurses through a
    /// chain of others: a valid chain may be as long as its author likes.
    /// Where the definitions reachable from `slot` hold a cycle, `slot` is
    /// evaluated directly, so the cycle is reported where it was before.
    fn value_in_order(&mut self, slot: usize, diags: &mut Diagnostics) -> SRaw {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Closed,
        }
        let mut marks = vec![Mark::New; self.slots.len()];
        let mut order = Vec::new();
        let mut stack = vec![(slot, self.refs(slot), 0)];
        marks[slot] = Mark::Open;
        while let Some((at, refs, next)) = stack.last_mut() {
            let Some(&child) = refs.get(*next) else {
                marks[*at] = Mark::Closed;
                order.push(*at);
                stack.pop();
                continue;
            };
            *next += 1;
            match marks[child] {
                Mark::Open => return self.value(slot, diags),
                Mark::Closed => {}
                Mark::New => {
                    marks[child] = Mark::Open;
                    let refs = self.refs(child);
                    stack.push((child, refs, 0));
                }
            }
        }
        let mut raw = None;
        for s in order {
            raw = Some(self.value(s, diags));
        }
        raw.unwrap_or_else(|| self.value(slot, diags))
    }

    /// The definitions `slot`'s value refers to, if it is not evaluated yet.
    fn refs(&self, slot: usize) -> Vec<usize> {
        let s = &self.slots[slot];
        if !matches!(s.state, SlotState::Pending) {
            return Vec::new();
        }
        let mut paths = Vec::new();
        paths_in(s.expr, &mut paths);
        paths
            .into_iter()
            .filter_map(|p| self.find(s.ns, p))
            .collect()
    }

    /// Checks a `let NAME: TYPE` value against its annotation once, so a
    /// bad constant is reported where it is defined, not at every use.
    fn typed(&self, raw: SRaw, ty: &ast::TypeName, diags: &mut Diagnostics) -> SRaw {
        let expected = match types::type_of(ty) {
            Ok(expected) => expected,
            Err(error) => {
                diags.push(type_error(ty, error));
                return SRaw::new(Raw::Poison, raw.span);
            }
        };
        match value::coerce(&raw, expected, &self.project_names, diags) {
            Some(_) => raw,
            None => SRaw::new(Raw::Poison, raw.span),
        }
    }
}

/// The diagnostic of an annotation that names no type.
fn type_error(ty: &ast::TypeName, error: types::TypeError) -> Diagnostic {
    let all = format!(
        "the types are {}, and `list<T>` of one of them",
        types::list_values(types::TYPE_NAMES)
    );
    match error {
        types::TypeError::Unknown(name, span) => {
            let mut d = Diagnostic::new(Code::Undefined, span, format!("unknown type `{name}`"));
            if let Some(near) = nearest(&name, types::TYPE_NAMES.iter().copied()) {
                d = d.did_you_mean(near);
            }
            d.help(all)
        }
        types::TypeError::Argument(name) => Diagnostic::new(
            Code::TypeMismatch,
            ty.span,
            format!("`{name}` takes no type argument"),
        )
        .help(format!("write `{name}`; only `list<T>` has one")),
        types::TypeError::ListWithoutElement => Diagnostic::new(
            Code::TypeMismatch,
            ty.span,
            "`list` needs the type of its elements",
        )
        .help("write `list<port>`, `list<cidr>`, ...")
        .help(all),
        types::TypeError::NestedList => Diagnostic::new(
            Code::TypeMismatch,
            ty.span,
            "a list of lists is not a type of the language",
        )
        .help("a list holds values of one of the scalar types: `list<port>`"),
    }
}

struct Resolver<'d, 'a> {
    defs: &'d mut Defs<'a>,
    ns: Ns,
}

impl Scope for Resolver<'_, '_> {
    fn lookup(&mut self, path: &ast::Path, diags: &mut Diagnostics) -> Option<SRaw> {
        let slot = self.defs.refer(self.ns, path)?;
        Some(self.defs.value(slot, diags))
    }

    fn names(&self) -> &Names {
        &self.defs.project_names
    }

    fn candidates(&self) -> &Names {
        let defs = &*self.defs;
        defs.dotted_names.get_or_init(|| {
            let mut names: Vec<String> = defs.project_names.iter().map(str::to_string).collect();
            for (module, ns) in &defs.modules {
                if defs.imported.iter().any(|m| m == module) {
                    for (slot_ns, name) in defs.index.keys() {
                        if slot_ns == ns {
                            names.push(format!("{module}.{name}"));
                        }
                    }
                }
            }
            Names::from(names)
        })
    }
}
