//! The abstract syntax tree: what was written, with spans, before any
//! name or type is checked. Produced by [`crate::syntax::parse`].

use crate::source::Span;

/// The text of names and literals. Nearly all are short (`s12`, `weight`,
/// `10.0.4.12`, `8080`): up to 15 bytes are stored inline, without an
/// allocation of their own, in 16 bytes (a large project has millions).
pub type Name = ecow::EcoString;

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    /// Regions of the file that did not parse (see `syntax::parse`): their
    /// items are missing, so a name declared there reads as unknown.
    pub lost: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: Name,
    pub span: Span,
}

/// A string literal with escapes resolved. The value may hold any character,
/// including ones the checker will refuse in the position it is used.
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    pub value: Name,
    pub span: Span,
}

/// A dotted reference: `app_port`, `tls.intermediate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    pub fn dotted(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Import(Import),
    Env(Ident),
    Let(Let),
    Tls(TlsDecl),
    Backend(Decl),
    Frontend(Decl),
    Defaults(Decl),
    Stats(Decl),
    Guard(Guard),
    If(If<Item>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Import {
    /// `import std.tls`: the standard module, reachable as `tls.NAME`.
    Std(Ident),
    /// `import "teams/shop.hap"`: a project file, merged into the namespace.
    File(StrLit),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Let {
    pub name: Ident,
    pub ty: Option<TypeName>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeName {
    pub name: Ident,
    pub arg: Option<Box<TypeName>>,
    pub span: Span,
}

/// `tls NAME = BASE { overrides }` or `tls NAME { fields }`.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsDecl {
    pub name: Ident,
    pub value: Expr,
}

/// A backend, frontend, `defaults` or `stats` block. `defaults` and `stats`
/// have no name of their own; theirs is the keyword.
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    pub name: Ident,
    /// `backend api with service { ... }`: the constant whose record
    /// gives the fields the body does not set. Backends and frontends only.
    pub template: Option<Path>,
    pub body: Vec<BodyItem>,
    pub span: Span,
    /// The body was not parsed yet (`body` is empty): it is parsed where
    /// the backend is built.
    pub deferred: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    pub name: Ident,
    pub options: Option<Record>,
    /// Environments the guard applies to; all when empty.
    pub envs: EnvList,
    pub span: Span,
}

/// Items that may be an `if env ...` holding more items of their kind.
pub trait Conditional: Sized {
    fn as_if(&self) -> Option<&If<Self>>;
}

impl Conditional for Item {
    fn as_if(&self) -> Option<&If<Item>> {
        match self {
            Item::If(branch) => Some(branch),
            _ => None,
        }
    }
}

impl Conditional for BodyItem {
    fn as_if(&self) -> Option<&If<BodyItem>> {
        match self {
            BodyItem::If(branch) => Some(&**branch),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct If<T> {
    pub cond: Condition,
    pub then: Vec<T>,
    /// `else { ... }`, or `else if ...` as a single nested `If` item.
    pub otherwise: Vec<T>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CondOp {
    Eq,
    Ne,
    In,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub op: CondOp,
    pub envs: EnvList,
    pub span: Span,
}

impl Condition {
    pub fn holds(&self, env: &str) -> bool {
        let listed = self.envs.contains(env);
        match self.op {
            CondOp::Eq | CondOp::In => listed,
            CondOp::Ne => !listed,
        }
    }
}

/// The environments a condition or a guard names, in source order. Every
/// environment asks whether it is listed, so a long list answers from a
/// sorted copy: walking it would cost environments × names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnvList {
    names: Vec<Ident>,
    /// The names sorted, for a list longer than [`EnvList::SHORT`];
    /// empty otherwise.
    sorted: Vec<Name>,
}

impl EnvList {
    /// Up to this many names are walked.
    const SHORT: usize = 8;

    pub fn new(names: Vec<Ident>) -> EnvList {
        let mut sorted = Vec::new();
        if names.len() > Self::SHORT {
            sorted = names.iter().map(|n| n.name.clone()).collect();
            sorted.sort_unstable();
        }
        EnvList { names, sorted }
    }

    /// Whether `env` is one of the names.
    pub fn contains(&self, env: &str) -> bool {
        if self.sorted.is_empty() {
            self.names.iter().any(|n| n.name == env)
        } else {
            self.sorted
                .binary_search_by(|n| n.as_str().cmp(env))
                .is_ok()
        }
    }
}

impl std::ops::Deref for EnvList {
    type Target = [Ident];

    fn deref(&self) -> &[Ident] {
        &self.names
    }
}

/// The items of a block. A large project's tree is mostly server items
/// and fields, so the rare large variants are boxed: every item is as
/// large as the largest variant.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyItem {
    Field(Field),
    Server(Server),
    Bind(Bind),
    Route(Route),
    Default(DefaultRoute),
    Header(Header),
    If(Box<If<BodyItem>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub name: Ident,
    pub addr: Expr,
    /// `{ ... }`, or the value after `with`.
    pub options: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bind {
    pub addr: Expr,
    pub tls: Option<Box<Path>>,
    pub redirect: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub host: Option<StrLit>,
    /// The match kind (`prefix`, `exact`...) and the path.
    pub path: Option<Box<(Ident, StrLit)>>,
    /// A request header and client networks, where it matches either:
    /// boxed together, so that a route is no larger than a server, and a
    /// frontend of thousands of routes holds no more than it did.
    pub conditions: Option<Box<Conditions>>,
    pub target: RouteTarget,
    pub span: Span,
}

/// The rarer matches of a route.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditions {
    pub header: Option<HeaderMatch>,
    /// `from NETWORKS`: the networks of the clients it takes.
    pub from: Option<Expr>,
}

impl Conditions {
    /// Boxed where there is one, `None` for a route of neither.
    pub fn of(header: Option<HeaderMatch>, from: Option<Expr>) -> Option<Box<Conditions>> {
        (header.is_some() || from.is_some()).then(|| Box::new(Conditions { header, from }))
    }
}

impl Route {
    /// Its `header "NAME" ["VALUE"]`, if any.
    pub fn header(&self) -> Option<&HeaderMatch> {
        self.conditions.as_ref()?.header.as_ref()
    }

    /// Its `from NETWORKS`, if any.
    pub fn from(&self) -> Option<&Expr> {
        self.conditions.as_ref()?.from.as_ref()
    }
}

/// `header "X-Canary" "always"`, `header "X-Canary"`: a route's match of a
/// request header, of one value or of any.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderMatch {
    pub name: StrLit,
    /// A string or `secret("NAME")`; `None` for any value.
    pub value: Option<Expr>,
}

/// `default -> api`, `default -> redirect "https://..."`: where a
/// frontend sends what no route matches.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultRoute {
    pub target: RouteTarget,
    pub span: Span,
}

/// Where a route sends what it matches.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteTarget {
    /// `-> api`: a backend.
    Backend(Ident),
    /// `-> redirect "https://new.example.com"`: a redirect to this URL,
    /// the request's path and query after it.
    Redirect(StrLit),
    /// `-> deny 403`: HAProxy answers with this status (its digits).
    Deny(StrLit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    Request,
    Response,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub kind: HeaderKind,
    pub name: StrLit,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub fields: Vec<Field>,
    pub span: Span,
}

impl Record {
    /// The record as a value, spanning what the record spans.
    pub fn into_expr(self) -> Expr {
        Expr {
            kind: ExprKind::Record(self.fields.into_boxed_slice()),
            span: self.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// What a value is. Values are the bulk of a large project's tree, and the
/// largest variant sets every value's size: variants larger than a name
/// are boxed, or a boxed slice (the parser gives repetitions their exact
/// length).
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Digits as written; range-checked by the checker.
    Int(Name),
    /// `30s`, `16k`: digits and unit as written.
    Quantity(Box<(Name, Name)>),
    /// Four dot-separated numbers as written; validated by the checker.
    Ipv4(Name),
    Cidr(Name),
    Str(Name),
    Bool(bool),
    Address(Box<Address>),
    List(Box<[Expr]>),
    /// `{ name = value, ... }`; its span is the value's.
    Record(Box<[Field]>),
    Secret(Box<StrLit>),
    /// A reference, optionally extended: `tls.intermediate { certs = "..." }`.
    Ref(Box<Reference>),
    /// A malformed literal, already reported by the parser.
    Invalid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub path: Path,
    pub overrides: Option<Record>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub host: Option<AddrHost>,
    pub port: AddrPort,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AddrHost {
    Ipv4(Name, Span),
    Ipv6(Name, Span),
    Name(StrLit),
    Ref(Box<Path>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum AddrPort {
    Number(Name, Span),
    Ref(Box<Path>),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sizes that make up most of a large tree; a change that grows
    /// them grows every project's memory (see benches/README.md).
    #[test]
    fn the_common_nodes_stay_small() {
        use std::mem::size_of;
        assert!(size_of::<Name>() <= 16, "Name: {}", size_of::<Name>());
        assert!(size_of::<crate::source::Span>() <= 8);
        assert!(size_of::<Expr>() <= 32, "Expr: {}", size_of::<Expr>());
        assert!(size_of::<Field>() <= 64, "Field: {}", size_of::<Field>());
        assert!(
            size_of::<Address>() <= 64,
            "Address: {}",
            size_of::<Address>()
        );
        assert!(
            size_of::<BodyItem>() <= 96,
            "BodyItem: {}",
            size_of::<BodyItem>()
        );
    }

    #[test]
    fn env_lists_answer_as_a_walk_of_their_names_does() {
        let ident = |name: &str| Ident {
            name: name.into(),
            span: crate::source::Span { start: 0, end: 0 },
        };
        for len in [0, 1, EnvList::SHORT, EnvList::SHORT + 1, 40] {
            // Not in order, as written.
            let names: Vec<String> = (0..len).rev().map(|i| format!("e{}", i * 7 % 41)).collect();
            let list = EnvList::new(names.iter().map(|n| ident(n)).collect());
            assert_eq!(list.len(), len);
            assert!(list
                .iter()
                .map(|i| i.name.as_str())
                .eq(names.iter().map(String::as_str)));
            for i in 0..50 {
                let env = format!("e{i}");
                assert_eq!(
                    list.contains(&env),
                    names.contains(&env),
                    "{env} in {names:?}"
                );
            }
        }
    }
}
