//! Values: evaluation of expressions to [`Raw`] values (references resolved,
//! nothing typed yet), then coercion of a raw value to the [`Ty`] its
//! position expects, which is where every type and range error is found.

use std::net::{IpAddr, Ipv4Addr};

use super::types::{list_values, Schema, StrKind, Ty};
use crate::diag::{nearest, Code, Diagnostic, Diagnostics, Names};
use crate::model::{Host, StatusRange, Text};
use crate::source::Span;
use crate::syntax::ast::{self, Ident, Name, StrLit};

/// Strings longer than this are refused (E0208).
pub const MAX_STRING: usize = 1024;
/// Names longer than this are refused (E0208).
pub const MAX_NAME: usize = 64;

/// An evaluated expression: references resolved, types not yet checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Int(Name),
    Quantity(Name, Name),
    Ipv4(Name),
    Cidr(Name),
    Str(Name),
    Bool(bool),
    /// Host (none for `:port`) and port, in one box.
    Addr(Box<(Option<SRaw>, SRaw)>),
    Ipv6(Name),
    List(Vec<SRaw>),
    Record {
        head: Option<Ident>,
        fields: Vec<(Ident, SRaw)>,
    },
    Secret(StrLit),
    /// A one-segment name that is not a constant: an enum value or a head,
    /// decided by the position it is used in.
    Name(Ident),
    /// An error was already reported for this value; report nothing more.
    Poison,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SRaw {
    pub raw: Raw,
    pub span: Span,
    /// Where the value was written, when `span` is a constant's name that
    /// stands for it: a mismatch points there too.
    pub origin: Option<Span>,
    /// The constant's name written at `span`, when the value is reached
    /// through one: a hint repeats what the user wrote (`x:80` for `x`).
    pub via: Option<ecow::EcoString>,
}

impl SRaw {
    pub fn new(raw: Raw, span: Span) -> SRaw {
        SRaw {
            raw,
            span,
            origin: None,
            via: None,
        }
    }

    fn describe(&self) -> String {
        match &self.raw {
            Raw::Int(n) => format!("integer `{n}`"),
            Raw::Quantity(n, u) => format!("`{n}{u}`"),
            Raw::Ipv4(ip) => format!("IP address `{ip}`"),
            Raw::Ipv6(ip) => format!("IPv6 address `{ip}`"),
            Raw::Cidr(c) => format!("CIDR `{c}`"),
            Raw::Str(_) => "a string".into(),
            Raw::Bool(b) => format!("`{b}`"),
            Raw::Addr(..) => "an address".into(),
            Raw::List(_) => "a list".into(),
            Raw::Record { .. } => "a record".into(),
            Raw::Secret(_) => "a secret".into(),
            Raw::Name(n) => format!("`{}`", n.name),
            Raw::Poison => "an invalid value".into(),
        }
    }
}

/// What evaluation needs from the checker: the constants in scope.
pub trait Scope {
    /// Resolves a reference. `None` means "not a defined name"; the scope
    /// reports errors of its own (cycles, bad definitions) by returning
    /// `Some(Raw::Poison)`.
    fn lookup(&mut self, path: &ast::Path, diags: &mut Diagnostics) -> Option<SRaw>;
    /// Names offered as "did you mean" for an undefined reference.
    fn candidates(&self) -> &Names;
    /// The project's constants, for "did you mean" on a name that is not
    /// a value of the expected enumeration (see [`coerce`]).
    fn names(&self) -> &Names {
        static NONE: Names = Names::new();
        &NONE
    }
}

/// Evaluates an expression, resolving references through `scope`.
pub fn eval(expr: &ast::Expr, scope: &mut dyn Scope, diags: &mut Diagnostics) -> SRaw {
    use ast::ExprKind as K;
    let (mut origin, mut via) = (None, None);
    let raw = match &expr.kind {
        K::Int(n) => Raw::Int(n.clone()),
        K::Quantity(q) => Raw::Quantity(q.0.clone(), q.1.clone()),
        K::Ipv4(ip) => Raw::Ipv4(ip.clone()),
        K::Cidr(c) => Raw::Cidr(c.clone()),
        K::Str(s) => Raw::Str(s.clone()),
        K::Bool(b) => Raw::Bool(*b),
        K::Invalid => Raw::Poison,
        K::Secret(s) => Raw::Secret(StrLit::clone(s)),
        K::List(items) => Raw::List(items.iter().map(|e| eval(e, scope, diags)).collect()),
        K::Record(fields) => Raw::Record {
            head: None,
            fields: eval_fields(fields, scope, diags),
        },
        K::Address(addr) => Raw::Addr(Box::new(eval_address(addr, scope, diags))),
        K::Ref(r) => {
            let ast::Reference { path, overrides } = &**r;
            let base = match (path.segments.len(), overrides) {
                // `http { ... }`: a head, unless a constant of that name exists.
                (1, Some(_)) => scope.lookup(path, diags).unwrap_or_else(|| {
                    SRaw::new(
                        Raw::Record {
                            head: Some(path.segments[0].clone()),
                            fields: Vec::new(),
                        },
                        path.span,
                    )
                }),
                _ => reference(path, scope, diags),
            };
            match overrides {
                None => {
                    (origin, via) = (base.origin, base.via);
                    base.raw
                }
                Some(record) => extend(base, record, scope, diags),
            }
        }
    };
    SRaw {
        origin,
        via,
        ..SRaw::new(raw, expr.span)
    }
}

/// The value of the constant `path` names, at the place it is written
/// (and where it was defined); `None` if it names none.
fn looked_up(path: &ast::Path, scope: &mut dyn Scope, diags: &mut Diagnostics) -> Option<SRaw> {
    let found = scope.lookup(path, diags)?;
    let via = match &path.segments[..] {
        [one] => one.name.clone(),
        _ => path.dotted().into(),
    };
    Some(SRaw {
        origin: found.origin.or(Some(found.span)),
        via: Some(via),
        ..SRaw::new(found.raw, path.span)
    })
}

fn reference(path: &ast::Path, scope: &mut dyn Scope, diags: &mut Diagnostics) -> SRaw {
    if let Some(found) = looked_up(path, scope, diags) {
        return found;
    }
    if path.segments.len() == 1 {
        return SRaw::new(Raw::Name(path.segments[0].clone()), path.span);
    }
    let name = path.dotted();
    let candidates = scope.candidates();
    let mut diag = Diagnostic::new(
        Code::Undefined,
        path.span,
        format!("undefined name `{name}`"),
    );
    if let Some(near) = candidates.nearest(&name) {
        diag = diag
            .help(format!("a name with a similar spelling exists: `{near}`"))
            .replace_with(near);
    } else {
        let first = &path.segments[0].name;
        if crate::project::STD_MODULES.iter().any(|(m, _)| m == first) {
            diag = diag.help(format!(
                "`{first}` is a standard module: import it with `import std.{first}`"
            ));
        } else {
            diag = diag.help(format!(
                "no constant or standard module is named `{first}`; a host name is written as a string: `\"{name}\"`"
            ));
        }
    }
    diags.push(diag);
    SRaw::new(Raw::Poison, path.span)
}

/// A name where an address's host is written: a constant, or else most
/// likely a DNS name that was meant as one (`web1.internal:80`), which the
/// language writes as a string.
fn host_reference(
    path: &ast::Path,
    port: &ast::AddrPort,
    scope: &mut dyn Scope,
    diags: &mut Diagnostics,
) -> SRaw {
    if let Some(found) = looked_up(path, scope, diags) {
        return found;
    }
    let name = path.dotted();
    let mut diag = Diagnostic::new(
        Code::Undefined,
        path.span,
        format!("undefined name `{name}`"),
    );
    if let Some(near) = scope.candidates().nearest(&name) {
        diag = diag
            .help(format!("a constant with a similar name exists: `{near}`"))
            .replace_with(near);
    }
    let port = match port {
        ast::AddrPort::Number(digits, _) => digits.to_string(),
        ast::AddrPort::Ref(path) => path.dotted(),
    };
    diags.push(diag.help(format!(
        "a host named by DNS is written as a string: `\"{name}\":{port}`"
    )));
    SRaw::new(Raw::Poison, path.span)
}

fn extend(base: SRaw, record: &ast::Record, scope: &mut dyn Scope, diags: &mut Diagnostics) -> Raw {
    match base.raw {
        Raw::Record { head, mut fields } => {
            for (name, value) in eval_fields(&record.fields, scope, diags) {
                fields.retain(|(n, _)| n.name != name.name);
                fields.push((name, value));
            }
            Raw::Record { head, fields }
        }
        Raw::Poison => Raw::Poison,
        _ => {
            diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    base.span,
                    format!("expected a record to extend, found {}", base.describe()),
                )
                .help("only records (TLS policies, health checks) can be extended with `{ ... }`"),
            );
            Raw::Poison
        }
    }
}

/// The host (none for `:port`) and the port of an address.
fn eval_address(
    addr: &ast::Address,
    scope: &mut dyn Scope,
    diags: &mut Diagnostics,
) -> (Option<SRaw>, SRaw) {
    let host = addr.host.as_ref().map(|h| match h {
        ast::AddrHost::Ipv4(ip, span) => SRaw::new(Raw::Ipv4(ip.clone()), *span),
        ast::AddrHost::Ipv6(ip, span) => SRaw::new(Raw::Ipv6(ip.clone()), *span),
        ast::AddrHost::Name(s) => SRaw::new(Raw::Str(s.value.clone()), s.span),
        ast::AddrHost::Ref(path) => host_reference(path, &addr.port, scope, diags),
    });
    let port = match &addr.port {
        ast::AddrPort::Number(n, span) => SRaw::new(Raw::Int(n.clone()), *span),
        ast::AddrPort::Ref(path) => reference(path, scope, diags),
    };
    (host, port)
}

/// [`coerce`] of [`eval`] of `expr`, without a raw value between where the
/// value is written out in place: a record where a record is expected, an
/// address where an address is. Server options and addresses are most of a
/// large project's values. The diagnostics are those of
/// `coerce(eval(expr))`, though not pushed in the same order (they are
/// sorted by place before anyone sees them).
pub fn eval_coerce(
    expr: &ast::Expr,
    ty: Ty,
    scope: &mut dyn Scope,
    diags: &mut Diagnostics,
) -> Option<Value> {
    use ast::ExprKind as K;
    match (&expr.kind, ty) {
        (K::Record(fields), Ty::Record(schema)) => {
            let (rec, ok) = eval_record(schema, fields.iter(), scope, diags);
            ok.then_some(Value::Record(rec))
        }
        (K::Address(addr), Ty::Addr | Ty::Any) => {
            // Written out in digits (most addresses of a large project):
            // the port, then the host, as `coerce_address` checks them.
            if let (
                Some(ast::AddrHost::Ipv4(ip, ip_span)),
                ast::AddrPort::Number(port, port_span),
            ) = (&addr.host, &addr.port)
            {
                let port = int_in_range(port, 1, 65535, *port_span, diags)?;
                let ip = parse_ipv4(ip, *ip_span, diags)?;
                return Some(Value::Addr(Some(Host::Ip(IpAddr::V4(ip))), port as u16));
            }
            let (host, port) = eval_address(addr, scope, diags);
            coerce_address(host.as_ref(), &port, scope.names(), diags)
        }
        _ => {
            let raw = eval(expr, scope, diags);
            coerce(&raw, ty, scope.names(), diags)
        }
    }
}

/// `record` of `eval_fields` (no head), field by field, without the
/// vector of raw fields between.
pub fn eval_record<'f>(
    schema: &Schema,
    fields: impl IntoIterator<Item = &'f ast::Field>,
    scope: &mut dyn Scope,
    diags: &mut Diagnostics,
) -> (Rec, bool) {
    let fields = fields.into_iter();
    let mut seen = Seen::new();
    let mut rec = Rec {
        fields: Vec::with_capacity(fields.size_hint().0),
        head: None,
    };
    let mut ok = true;
    for field in fields {
        if let Some(first) = seen.first(&field.name) {
            set_twice(&field.name, first, diags);
            continue;
        }
        // Most fields of a large project are integers written out (a
        // server's weight and maxconn): checked here, without a raw value
        // between, as `coerce` checks them.
        if let ast::ExprKind::Int(digits) = &field.value.kind {
            if let Some((name, Ty::Int { min, max })) = schema.field(&field.name.name) {
                let span = field.value.span;
                match int_in_range(digits, min, max, span, diags) {
                    Some(n) => rec.fields.push((name, Value::Int(n), span)),
                    None => ok = false,
                }
                continue;
            }
        }
        let raw = eval(&field.value, scope, diags);
        ok &= record_field(schema, &mut rec, &field.name, &raw, scope.names(), diags);
    }
    (rec, ok)
}

/// Where each field name of a record was first set. A record has a few
/// fields, searched in a list kept in place (no allocation: most records
/// are a server's options); a long one (written by mistake, or to slow
/// the checker down) gets a map, so checking stays linear.
struct Seen<'f> {
    list: [Option<&'f Ident>; SEEN_LIST],
    len: usize,
    map: std::collections::HashMap<&'f str, Span>,
}

/// How many field names [`Seen`] keeps in its list.
const SEEN_LIST: usize = 16;

impl<'f> Seen<'f> {
    fn new() -> Seen<'f> {
        Seen {
            list: [None; SEEN_LIST],
            len: 0,
            map: std::collections::HashMap::new(),
        }
    }

    /// Where `name` was set before, if it was; else notes it set here.
    fn first(&mut self, name: &'f Ident) -> Option<Span> {
        if self.len < SEEN_LIST {
            let mut seen = self.list[..self.len].iter().flatten();
            if let Some(first) = seen.find(|n| n.name == name.name) {
                return Some(first.span);
            }
            self.list[self.len] = Some(name);
            self.len += 1;
            if self.len == SEEN_LIST {
                self.map = self
                    .list
                    .iter()
                    .flatten()
                    .map(|n| (n.name.as_str(), n.span))
                    .collect();
            }
            return None;
        }
        match self.map.entry(name.name.as_str()) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(name.span);
                None
            }
        }
    }
}

fn set_twice(name: &Ident, first: Span, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::new(
            Code::Duplicate,
            name.span,
            format!("field `{}` is set twice", name.name),
        )
        .label(first, "first set here")
        .help(format!(
            "remove one; to set it per environment, set it in each branch: \
             `if env == production {{ {0} = ... }} else {{ {0} = ... }}`",
            name.name
        )),
    );
}

/// Evaluates `name = value` fields, reporting a name set twice.
fn eval_fields<'f>(
    fields: impl IntoIterator<Item = &'f ast::Field>,
    scope: &mut dyn Scope,
    diags: &mut Diagnostics,
) -> Vec<(Ident, SRaw)> {
    let fields = fields.into_iter();
    let mut seen = Seen::new();
    let mut out: Vec<(Ident, SRaw)> = Vec::with_capacity(fields.size_hint().0);
    for field in fields {
        if let Some(first) = seen.first(&field.name) {
            set_twice(&field.name, first, diags);
            continue;
        }
        out.push((field.name.clone(), eval(&field.value, scope, diags)));
    }
    out
}

/// A typed, validated value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    Str(String),
    /// Milliseconds.
    Duration(u64),
    /// Bytes.
    Size(u64),
    Port(u16),
    Ip(IpAddr),
    Cidr(String),
    Host(Host),
    Statuses(Vec<StatusRange>),
    Addr(Option<Host>, u16),
    Enum(&'static str),
    List(Vec<Value>),
    Record(Rec),
    Secret(String),
    Text(Text),
}

/// A typed record: each field with the span of its value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rec {
    pub fields: Vec<(&'static str, Value, Span)>,
    /// The head it was written with (`http`, `tcp`), among its schema's:
    /// a thin reference into them, so that a record, and so every value,
    /// stays as small as it was without one (a large project's servers
    /// hold hundreds of thousands of values).
    pub head: Option<&'static &'static str>,
}

impl Rec {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, v, _)| v)
    }

    pub fn span(&self, name: &str) -> Option<Span> {
        self.fields
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(.., s)| *s)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn duration(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            Some(Value::Duration(ms)) => Some(*ms),
            _ => None,
        }
    }

    pub fn string(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Some(Value::Str(s)) => Some(s.clone()),
            Some(Value::Host(Host::Name(s))) => Some(s.clone()),
            Some(Value::Host(Host::Ip(ip))) => Some(ip.to_string()),
            _ => None,
        }
    }

    pub fn enumeration(&self, name: &str) -> Option<&'static str> {
        match self.get(name) {
            Some(Value::Enum(e)) => Some(e),
            _ => None,
        }
    }

    pub fn size(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            Some(Value::Size(bytes)) => Some(*bytes),
            _ => None,
        }
    }

    /// A list of strings (or CIDR blocks); empty when unset.
    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(Value::List(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::Str(s) | Value::Cidr(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

/// What to write instead, for a value of the wrong type: the edit that
/// makes it right where there is one (with, where the value would be right
/// but for its quotes or its `/32`, the text that replaces it: the fix),
/// else how a value of the type is written ([`how_to_write`]). User text is
/// repeated back only when it is plainly safe (a number, a plausible host
/// name, a value of the enumeration).
fn mismatch_hint(ty: Ty, raw: &Raw, via: Option<&str>) -> Option<(String, Option<String>)> {
    // A value that is right but for its quotes: the fix is the value bare.
    let unquoted = |s: &str| {
        Some((
            format!("write it without quotes: `{s}`"),
            Some(s.to_string()),
        ))
    };
    match (ty, raw) {
        (Ty::Duration | Ty::Timeout | Ty::Delay, Raw::Int(n)) => {
            Some((format!("write the unit: `{n}s` or `{n}ms`"), None))
        }
        (Ty::Duration | Ty::Timeout | Ty::Delay | Ty::Size, Raw::Str(s))
            if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            // Only where the text is a number and a unit of the type: `"2x"`
            // bare is no better.
            let unit = s.trim_start_matches(|c: char| c.is_ascii_digit());
            let units = match ty {
                Ty::Size => SIZE_UNITS,
                _ => DURATION_UNITS,
            };
            (unit.len() < s.len() && factor_of(units, unit).is_some())
                .then(|| unquoted(s))
                .flatten()
                .or_else(|| how_to_write(ty).map(|how| (how, None)))
        }
        // `expect = "200"`, `backup = "true"`: a number or a boolean in quotes.
        (Ty::Int { .. } | Ty::Port, Raw::Str(s))
            if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            unquoted(s)
        }
        (Ty::Bool, Raw::Str(s)) if *s == "true" || *s == "false" => unquoted(s),
        // `balance = "leastconn"`: an enumeration's value in quotes.
        (Ty::Enum(values), Raw::Str(s)) if values.contains(&s.as_str()) => Some((
            format!("the values of an enumeration are written without quotes: `{s}`"),
            Some(s.to_string()),
        )),
        // `tls = true` on a server, `check = true` on a backend: a record
        // that says what, not a switch.
        (Ty::Record(schema), Raw::Bool(true)) if std::ptr::eq(schema, &super::types::SERVER_TLS) => Some((
            "write the server's TLS settings: `tls = { ca = \"/etc/ssl/certs/ca-certificates.crt\" }` \
             to verify its certificate, or `tls = { verify = none }` to encrypt without verifying"
                .to_string(),
            None,
        )),
        (Ty::Record(schema), Raw::Bool(true)) if std::ptr::eq(schema, &super::types::CHECK) => Some((
            "a health check says what to ask: `check = checks.healthz` (with `import std.checks`), \
             or `check = http { path = \"/healthz\" }`"
                .to_string(),
            None,
        )),
        // `expect = [200, 204]`: a list where one value goes.
        (ty, Raw::List(_)) if !matches!(ty, Ty::List(_) | Ty::Any) => Some((
            match how_to_write(ty) {
                Some(how) => format!("one value goes here, not a list: {how}"),
                None => "one value goes here, not a list".to_string(),
            },
            None,
        )),
        // `allow = 10.0.0.0/8`: one value where a list of them goes.
        (Ty::List(Ty::Cidr), Raw::Cidr(text))
        | (Ty::List(Ty::Ip | Ty::Host), Raw::Ipv4(text))
        | (Ty::List(Ty::Int { .. } | Ty::Port), Raw::Int(text)) => Some((
            format!("a list is written in brackets, even of one: `[{text}]`"),
            Some(format!("[{text}]")),
        )),
        // `allow = [10.0.0.0/8, 192.168.1.1]`: one address where a network goes.
        (Ty::Cidr, Raw::Ipv4(ip)) => Some((
            format!("one address is a network of one: `{ip}/32`"),
            Some(format!("{ip}/32")),
        )),
        // `server a = x` with `x` an address constant: the port goes after
        // the name.
        (Ty::Addr, Raw::Ipv4(_)) | (Ty::Addr, Raw::Str(_))
            if via.is_some() && !matches!(raw, Raw::Str(host) if !plausible_host(host)) =>
        {
            Some((
                format!("add the port after the name: `{}:80`", via.unwrap_or_default()),
                None,
            ))
        }
        // `server a = 10.0.0.1`, `bind 443`: an address without its port,
        // or a port without its colon.
        (Ty::Addr, Raw::Ipv4(ip)) => Some((format!("add the port: `{ip}:80`"), None)),
        (Ty::Addr, Raw::Str(host)) if plausible_host(host) => {
            Some((format!("add the port: `\"{host}\":80`"), None))
        }
        (Ty::Addr, Raw::Int(port)) => Some((
            format!(
                "the port comes after a colon: `HOST:{port}`, or `:{port}` for a bind on every address"
            ),
            None,
        )),
        _ => how_to_write(ty).map(|how| (how, None)),
    }
}

/// The value of `values` that `word`, another tool's name for it, means:
/// HAProxy's `disabled` for `maint`, `up` for `ready`.
fn synonym(word: &str, values: &[&'static str]) -> Option<&'static str> {
    const SYNONYMS: &[(&str, &str)] = &[
        ("disabled", "maint"),
        ("disable", "maint"),
        ("maintenance", "maint"),
        ("down", "maint"),
        ("enabled", "ready"),
        ("enable", "ready"),
        ("up", "ready"),
        ("active", "ready"),
        ("draining", "drain"),
    ];
    let (_, meant) = SYNONYMS.iter().find(|(other, _)| *other == word)?;
    values.iter().copied().find(|v| v == meant)
}

/// The units of a duration and what each is in milliseconds (`us` is
/// rounded up to whole milliseconds: 0 stands for it).
const DURATION_UNITS: &[(&str, u64)] = &[
    ("us", 0),
    ("ms", 1),
    ("s", 1000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// The units of a size and what each is in bytes.
const SIZE_UNITS: &[(&str, u64)] = &[
    ("k", 1 << 10),
    ("K", 1 << 10),
    ("m", 1 << 20),
    ("M", 1 << 20),
    ("g", 1 << 30),
    ("G", 1 << 30),
];

/// What `unit` is worth among `units`.
fn factor_of(units: &[(&str, u64)], unit: &str) -> Option<u64> {
    units
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|&(_, factor)| factor)
}

/// How a value of `ty` is written, for a mismatch that no hint above
/// explains better.
fn how_to_write(ty: Ty) -> Option<String> {
    Some(match ty {
        Ty::Int { min, max } => format!("write a whole number within {min}..={max}"),
        Ty::Port => "write a port number, 1..=65535: `8080`".into(),
        Ty::Bool => "write `true` or `false`, without quotes".into(),
        Ty::Duration | Ty::Timeout | Ty::Delay => {
            "write a number and a unit (`us`, `ms`, `s`, `m`, `h`, `d`): `30s`, `250ms`".into()
        }
        Ty::Size => "write a number and a unit (`k`, `M`, `G`): `16k`, `1M`".into(),
        Ty::Ip => "write an IPv4 address (`10.0.0.1`), or an IPv6 one in quotes".into(),
        Ty::Cidr => "write a network: `10.0.0.0/8`".into(),
        Ty::Host => "write an IP address, or a host name in quotes: `\"app.internal\"`".into(),
        Ty::Status => "write a status code (`200`), a class of them in quotes (`\"2xx\"`), or a list: `[200, 204, \"3xx\"]`".into(),
        Ty::Addr => "write a host and a port: `10.0.0.1:8080`, `\"app.internal\":8080`".into(),
        Ty::Str(_) | Ty::Text => "write it in double quotes".into(),
        Ty::List(inner) => format!(
            "write a list in brackets, of {}: `[a, b]`",
            inner.describe_many()
        ),
        // A health check is most often a path to ask, or a standard one.
        Ty::Record(schema) if std::ptr::eq(schema, &super::types::CHECK) => {
            "write `http { path = \"/healthz\" }`, or a check of `std.checks`: `checks.healthz`"
                .into()
        }
        Ty::Record(schema) => match schema.names().next() {
            Some(field) => format!("write it in braces: `{{ {field} = ... }}`"),
            None => return None,
        },
        Ty::Secret => "write `secret(\"NAME\")`".into(),
        Ty::Enum(values) => match values.first() {
            Some(first) => format!("write one of the values bare, without quotes: `{first}`"),
            None => return None,
        },
        Ty::Any => return None,
    })
}

/// Coerces a raw value to the type `ty`; reports every problem and returns
/// `None` when the value is unusable.
pub fn coerce(value: &SRaw, ty: Ty, names: &Names, diags: &mut Diagnostics) -> Option<Value> {
    let span = value.span;
    let mismatch = |diags: &mut Diagnostics| {
        // A host name where an address goes: what it lacks is the port.
        let found = match (&value.raw, ty) {
            (Raw::Str(s), Ty::Addr) if is_host_name(s) => "a host name without a port".to_string(),
            _ => value.describe(),
        };
        let mut diag = Diagnostic::new(
            Code::TypeMismatch,
            span,
            format!("expected {}, found {found}", ty.describe()),
        );
        if let Some((hint, fix)) = mismatch_hint(ty, &value.raw, value.via.as_deref()) {
            diag = diag.help(hint);
            // Only where the value is written here: a constant's value is
            // fixed at the constant.
            if let (Some(fix), None) = (fix, value.origin) {
                diag = diag.replace_with(&fix);
            }
        }
        if let Some(origin) = value.origin {
            diag = diag.label(origin, "the value, written here");
        }
        diags.push(diag);
        None
    };
    match (&value.raw, ty) {
        (Raw::Poison, _) => None,
        (Raw::Name(name), Ty::Enum(values)) => match values.iter().find(|v| **v == name.name) {
            Some(v) => Some(Value::Enum(v)),
            None => {
                let mut diag = Diagnostic::new(
                    Code::InvalidEnum,
                    name.span,
                    format!("unknown value `{}`", name.name),
                );
                if let Some(near) = synonym(&name.name, values)
                    .or_else(|| nearest(&name.name, values.iter().copied()))
                {
                    diag = diag.did_you_mean(near);
                }
                diags.push(diag.help(format!("expected one of {}", list_values(values))));
                None
            }
        },
        (Raw::Name(name), _) => {
            let mut diag = Diagnostic::new(
                Code::Undefined,
                name.span,
                format!("undefined name `{}`", name.name),
            );
            // `server a =` at the end of a line: the next item's keyword is
            // read as the value.
            let keyword = |list: &[&str]| list.contains(&name.name.as_str());
            if keyword(crate::syntax::BODY_KEYWORDS) || keyword(crate::syntax::TOP_KEYWORDS) {
                diag = diag.help(format!(
                    "`{}` begins an item: is the value before it missing?",
                    name.name
                ));
            } else if let Some(near) = names.nearest(&name.name) {
                diag = diag
                    .help(format!("a constant with a similar name exists: `{near}`"))
                    .replace_with(near);
            } else {
                diag = diag.help(format!("expected {}", ty.describe()));
            }
            diags.push(diag);
            None
        }
        (Raw::Int(digits), Ty::Int { min, max }) => {
            let n = int_in_range(digits, min, max, span, diags)?;
            Some(Value::Int(n))
        }
        (Raw::Int(digits), Ty::Port) => {
            let n = int_in_range(digits, 1, 65535, span, diags)?;
            Some(Value::Port(n as u16))
        }
        (Raw::Int(digits), Ty::Any) => {
            int_in_range(digits, 0, i64::MAX, span, diags).map(Value::Int)
        }
        (Raw::Quantity(n, unit), Ty::Timeout | Ty::Delay) => {
            let ms = match coerce(value, Ty::Duration, names, diags)? {
                Value::Duration(ms) => ms,
                _ => return None,
            };
            if ms == 0 && ty == Ty::Timeout {
                diags.push(
                    Diagnostic::new(
                        Code::OutOfRange,
                        span,
                        format!("`{n}{unit}` is out of range"),
                    )
                    .help("expected a duration from 1ms to below 24d")
                    .help(
                        "HAProxy reads a timeout of 0 as none at all (a connection held \
                         forever), and refuses a check's interval of 0",
                    ),
                );
                return None;
            }
            if ms >= 1 << 31 {
                diags.push(
                    Diagnostic::new(Code::OutOfRange, span, "timeout is too long for HAProxy")
                        .help("a timeout must be below 24d (2147483647ms)"),
                );
                return None;
            }
            Some(Value::Duration(ms))
        }
        (Raw::Quantity(n, unit), Ty::Duration) => {
            let Some(factor) = factor_of(DURATION_UNITS, unit) else {
                return mismatch(diags);
            };
            let n = parse_u64(n, span, diags)?;
            let ms = if factor == 0 {
                Some(n.div_ceil(1000))
            } else {
                n.checked_mul(factor)
            };
            // Ten years: beyond any timeout or HSTS max-age.
            match ms.filter(|ms| *ms <= 3650 * 86_400_000) {
                Some(ms) => Some(Value::Duration(ms)),
                None => too_large(span, "3650d", diags),
            }
        }
        (Raw::Quantity(n, unit), Ty::Size) => {
            let Some(factor) = factor_of(SIZE_UNITS, unit) else {
                return mismatch(diags);
            };
            let n = parse_u64(n, span, diags)?;
            match n.checked_mul(factor) {
                Some(bytes) => Some(Value::Size(bytes)),
                None => too_large(span, "a few gigabytes", diags),
            }
        }
        (Raw::Quantity(_, unit), Ty::Any) => {
            let ty = if matches!(unit.as_str(), "k" | "K" | "M" | "g" | "G") {
                Ty::Size
            } else {
                Ty::Duration
            };
            coerce(value, ty, names, diags)
        }
        (Raw::Ipv4(ip), Ty::Ip | Ty::Host | Ty::Any) => {
            let ip = parse_ipv4(ip, span, diags)?;
            Some(match ty {
                Ty::Host => Value::Host(Host::Ip(IpAddr::V4(ip))),
                _ => Value::Ip(IpAddr::V4(ip)),
            })
        }
        (Raw::Ipv6(ip), Ty::Ip | Ty::Host | Ty::Any) => match ip.parse::<std::net::Ipv6Addr>() {
            Ok(ip) => Some(match ty {
                Ty::Host => Value::Host(Host::Ip(IpAddr::V6(ip))),
                _ => Value::Ip(IpAddr::V6(ip)),
            }),
            Err(_) => invalid_address(span, &format!("`{ip}` is not a valid IPv6 address"), diags),
        },
        (Raw::Cidr(c), Ty::Cidr | Ty::Any) => {
            let (ip, bits) = c.split_once('/').unwrap_or((c, ""));
            parse_ipv4(ip, span, diags)?;
            match bits.parse::<u8>() {
                Ok(b) if b <= 32 => Some(Value::Cidr(c.to_string())),
                _ => invalid_address(
                    span,
                    &format!("`/{bits}` is not a prefix length within 0..=32"),
                    diags,
                ),
            }
        }
        (Raw::Str(s), Ty::Cidr) => {
            check_string(s, StrKind::Token, span, diags)?;
            let ok = s.split_once('/').is_some_and(|(ip, bits)| {
                let max = if ip.contains(':') { 128 } else { 32 };
                ip.parse::<IpAddr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= max)
            });
            if ok {
                Some(Value::Cidr(s.to_string()))
            } else {
                diags.push(
                    Diagnostic::new(
                        Code::InvalidAddress,
                        span,
                        format!("`{}` is not a valid CIDR block", shorten(s)),
                    )
                    .help(
                        "a network is an address and a prefix length: `\"2001:db8::/32\"` \
                         (IPv6, up to /128, in quotes), `10.0.0.0/8` (IPv4, up to /32)",
                    ),
                );
                None
            }
        }
        (Raw::Str(s), Ty::Ip) => match s.parse::<IpAddr>() {
            Ok(ip) => Some(Value::Ip(ip)),
            Err(_) => {
                check_string(s, StrKind::Printable, span, diags)?;
                invalid_address(span, &format!("`{s}` is not an IP address"), diags)
            }
        },
        (Raw::Str(s), Ty::Host) => host(s, span, diags).map(Value::Host),
        (Raw::Int(_) | Raw::Str(_) | Raw::List(_), Ty::Status) => {
            statuses(value, diags).map(Value::Statuses)
        }
        (Raw::Str(s), Ty::Str(kind)) => {
            check_string(s, kind, span, diags)?;
            Some(Value::Str(s.to_string()))
        }
        (Raw::Str(s), Ty::Any) => {
            check_string(s, StrKind::Printable, span, diags)?;
            Some(Value::Str(s.to_string()))
        }
        (Raw::Str(s), Ty::Text) => {
            check_string(s, StrKind::Printable, span, diags)?;
            Some(Value::Text(Text::Literal(s.to_string())))
        }
        (Raw::Str(_), Ty::Secret) => {
            diags.push(
                Diagnostic::new(
                    Code::LiteralSecret,
                    span,
                    "expected a secret reference, found a literal string",
                )
                .help("write `secret(\"NAME\")` and give HAProxy the variable NAME in its environment"),
            );
            None
        }
        (Raw::Secret(name), Ty::Secret | Ty::Text | Ty::Any) => {
            let name = secret_name(name, diags)?;
            Some(match ty {
                Ty::Text => Value::Text(Text::Secret(name)),
                _ => Value::Secret(name),
            })
        }
        (Raw::Bool(b), Ty::Bool | Ty::Any) => Some(Value::Bool(*b)),
        (Raw::Addr(parts), Ty::Addr | Ty::Any) => {
            let (host, port) = &**parts;
            coerce_address(host.as_ref(), port, names, diags)
        }
        (Raw::List(items), Ty::List(inner)) => {
            let values: Vec<Option<Value>> = items
                .iter()
                .map(|i| coerce(i, *inner, names, diags))
                .collect();
            values
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(Value::List)
        }
        (Raw::Record { head, fields }, Ty::Record(schema)) => {
            let (rec, ok) = record(schema, head.as_ref(), fields, names, diags);
            ok.then_some(Value::Record(rec))
        }
        _ => mismatch(diags),
    }
}

/// Coerces the fields of a record (or of a block's `name = value` items)
/// against a schema. Problems in one field do not hide the others: the
/// record holds every field that checked, and the flag says whether all did.
fn record(
    schema: &'static Schema,
    head: Option<&Ident>,
    fields: &[(Ident, SRaw)],
    names: &Names,
    diags: &mut Diagnostics,
) -> (Rec, bool) {
    let mut ok = true;
    let schema = match head {
        Some(head) => schema.headed(&head.name),
        None => schema,
    };
    if let Some(head) = head {
        if !schema.heads.contains(&head.name.as_str()) {
            ok = false;
            let mut diag = Diagnostic::new(
                Code::Undefined,
                head.span,
                format!("undefined name `{}`", head.name),
            );
            if let Some(near) = nearest(&head.name, schema.heads.iter().copied()) {
                diag = diag.did_you_mean(near);
            } else if !schema.heads.is_empty() {
                diag = diag.help(format!(
                    "a {} starts with {}",
                    schema.kind,
                    list_values(schema.heads)
                ));
            } else {
                diag = diag.help(format!(
                    "a {} is written in braces alone: `{{ ... }}`",
                    schema.kind
                ));
            }
            diags.push(diag);
        }
    }
    let mut rec = Rec {
        fields: Vec::with_capacity(fields.len()),
        head: head.and_then(|h| schema.heads.iter().find(|n| **n == h.name)),
    };
    for (name, raw) in fields {
        ok &= record_field(schema, &mut rec, name, raw, names, diags);
    }
    (rec, ok)
}

/// Coerces one field of a record against its schema into `rec`; whether
/// it checked.
fn record_field(
    schema: &Schema,
    rec: &mut Rec,
    name: &Ident,
    raw: &SRaw,
    names: &Names,
    diags: &mut Diagnostics,
) -> bool {
    let Some((field, ty)) = schema.field(&name.name) else {
        let mut diag = Diagnostic::new(
            Code::UnknownField,
            name.span,
            format!("unknown field `{}` in {}", name.name, schema.kind),
        );
        let near = nearest(&name.name, schema.names());
        if let Some(near) = near {
            diag = diag.did_you_mean(near);
        }
        // `servers = [...]`: what is an item of the block, one per line.
        let singular = name.name.strip_suffix('s').unwrap_or(&name.name);
        let item = match singular {
            "server" if std::ptr::eq(schema, &super::types::BACKEND) => {
                Some("`server NAME = ADDRESS`")
            }
            "bind" if std::ptr::eq(schema, &super::types::FRONTEND) => Some("`bind :PORT`"),
            "route" if std::ptr::eq(schema, &super::types::FRONTEND) => {
                Some("`route host \"NAME\" -> BACKEND`")
            }
            _ => None,
        };
        if let Some(item) = item {
            diag = diag.help(format!(
                "each {singular} is an item of its own, one per line: {item}"
            ));
        }
        // `weight` in a backend: a field of another block, written there.
        let homes: Vec<String> = super::types::FIELD_HOMES
            .iter()
            .filter(|(home, _)| !std::ptr::eq(*home, schema) && home.field(&name.name).is_some())
            .map(|(_, how)| how.replace("{}", &name.name))
            .collect();
        if !homes.is_empty() {
            diag = diag.help(format!(
                "`{}` is written {}",
                name.name,
                homes.join("; or ")
            ));
        }
        // `cookie` for `sticky_cookie`: the field in other words, where
        // nothing above says what was meant.
        if near.is_none() && item.is_none() && homes.is_empty() {
            if let Some(same) = crate::diag::same_words(&name.name, schema.names()) {
                diag = diag.did_you_mean(same);
            }
        }
        let all: Vec<&str> = schema.names().collect();
        // `defaults` and `stats` are blocks of their own, not kinds of thing.
        let which = match schema.kind {
            "defaults" | "stats" => format!("`{}`", schema.kind),
            kind => format!("a {kind}"),
        };
        diag = diag.help(if all.is_empty() {
            format!("{which} takes no fields")
        } else {
            format!("the fields of {which} are {}", list_values(&all))
        });
        diags.push(diag);
        return false;
    };
    match coerce(raw, ty, names, diags) {
        Some(v) => {
            rec.fields.push((field, v, raw.span));
            true
        }
        None => false,
    }
}

/// An address: the port, then the host (not checked when the port fails).
fn coerce_address(
    host: Option<&SRaw>,
    port: &SRaw,
    names: &Names,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let port = match coerce(port, Ty::Port, names, diags)? {
        Value::Port(p) => p,
        _ => return None,
    };
    let host = match host {
        None => None,
        Some(h) => match coerce(h, Ty::Host, names, diags)? {
            Value::Host(h) => Some(h),
            _ => return None,
        },
    };
    Some(Value::Addr(host, port))
}

fn parse_u64(digits: &str, span: Span, diags: &mut Diagnostics) -> Option<u64> {
    match digits.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => too_large(span, "18446744073709551615", diags),
    }
}

fn int_in_range(
    digits: &str,
    min: i64,
    max: i64,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<i64> {
    match digits.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            let shown: String = digits.chars().take(24).collect();
            let ellipsis = if digits.len() > 24 { "..." } else { "" };
            diags.push(
                Diagnostic::new(
                    Code::OutOfRange,
                    span,
                    format!("`{shown}{ellipsis}` is out of range"),
                )
                .help(format!("expected a value within {min}..={max}")),
            );
            None
        }
    }
}

fn too_large<T>(span: Span, limit: &str, diags: &mut Diagnostics) -> Option<T> {
    diags.push(
        Diagnostic::new(Code::OutOfRange, span, "value is too large")
            .help(format!("the largest accepted value is about {limit}")),
    );
    None
}

fn parse_ipv4(ip: &str, span: Span, diags: &mut Diagnostics) -> Option<Ipv4Addr> {
    match ip.parse::<Ipv4Addr>() {
        Ok(ip) => Some(ip),
        Err(_) => invalid_address(span, &format!("`{ip}` is not a valid IPv4 address"), diags),
    }
}

fn invalid_address<T>(span: Span, message: &str, diags: &mut Diagnostics) -> Option<T> {
    diags.push(
        Diagnostic::new(Code::InvalidAddress, span, message)
            .help("each part of an IPv4 address is within 0..=255, without leading zeros"),
    );
    None
}

/// A host name or an IP address written as a string.
fn host(s: &str, span: Span, diags: &mut Diagnostics) -> Option<Host> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(Host::Ip(ip));
    }
    check_string(s, StrKind::Printable, span, diags)?;
    if is_host_name(s) {
        Some(Host::Name(s.to_ascii_lowercase()))
    } else {
        let mut diag = Diagnostic::new(
            Code::InvalidAddress,
            span,
            format!("`{}` is not a valid host name", shorten(s)),
        )
        .help("a host name is dot-separated labels of letters, digits and `-`");
        if let Some(hint) = host_hint(s) {
            diag = diag.help(hint);
        }
        diags.push(diag);
        None
    }
}

/// Whether `s` is a host name: dot-separated labels of letters, digits
/// and `-` (not first or last), 63 bytes at most each, 253 in all.
pub fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Whether `s` looks like a host name (its labels unchecked): safe to
/// repeat back in a help line.
fn plausible_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// The statuses of an `expect`: a code, a class (`"3xx"`), or a
/// non-empty list of them.
fn statuses(value: &SRaw, diags: &mut Diagnostics) -> Option<Vec<StatusRange>> {
    let one = |item: &SRaw, diags: &mut Diagnostics| -> Option<StatusRange> {
        match &item.raw {
            Raw::Int(digits) => {
                let code = int_in_range(digits, 100, 599, item.span, diags)? as u16;
                Some(StatusRange {
                    first: code,
                    last: code,
                })
            }
            Raw::Str(s) => match s.as_bytes() {
                [d @ b'1'..=b'5', x, y]
                    if x.eq_ignore_ascii_case(&b'x') && y.eq_ignore_ascii_case(&b'x') =>
                {
                    let first = u16::from(d - b'0') * 100;
                    Some(StatusRange {
                        first,
                        last: first + 99,
                    })
                }
                _ => {
                    check_string(s, StrKind::Printable, item.span, diags)?;
                    let mut diag = Diagnostic::new(
                        Code::TypeMismatch,
                        item.span,
                        format!("expected an HTTP status, found `{}`", shorten(s)),
                    );
                    // `"200"`: a code in quotes (fixed here only where it is
                    // written here, not through a constant).
                    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
                        diag = diag.help(format!("a code is written without quotes: `{s}`"));
                        if item.origin.is_none() {
                            diag = diag.replace_with(s);
                        }
                    } else {
                        diag = diag.help(
                            "a class of statuses is a digit and `xx`: `\"2xx\"` for 200 to 299",
                        );
                    }
                    if let Some(origin) = item.origin {
                        diag = diag.label(origin, "the value, written here");
                    }
                    diags.push(diag);
                    None
                }
            },
            _ => {
                let mut diag = Diagnostic::new(
                    Code::TypeMismatch,
                    item.span,
                    format!("expected an HTTP status, found {}", item.describe()),
                );
                if let Some(how) = how_to_write(Ty::Status) {
                    diag = diag.help(how);
                }
                if let Some(origin) = item.origin {
                    diag = diag.label(origin, "the value, written here");
                }
                diags.push(diag);
                None
            }
        }
    };
    match &value.raw {
        Raw::List(items) if items.is_empty() => {
            diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    value.span,
                    "expected HTTP statuses, found an empty list",
                )
                .help("no answer would be healthy: write the statuses a healthy server answers with, `[200, 204]`"),
            );
            None
        }
        Raw::List(items) => {
            // Every item checked, each reported.
            let all: Vec<Option<StatusRange>> = items.iter().map(|item| one(item, diags)).collect();
            all.into_iter().collect()
        }
        _ => one(value, diags).map(|r| vec![r]),
    }
}

/// What was likely meant by a host name that is not one: a URL, a name
/// with a port or a final dot, or a wildcard.
fn host_hint(s: &str) -> Option<String> {
    if let Some((_, rest)) = s.split_once("://") {
        let host = rest.split(['/', ':']).next().unwrap_or("");
        return plausible_host(host).then(|| format!("write the host name alone: `{host}`"));
    }
    if let Some((host, port)) = s.rsplit_once(':') {
        if plausible_host(host) && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!("write the host name without its port: `{host}`"));
        }
    }
    if let Some(ip) = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        if ip.parse::<std::net::Ipv6Addr>().is_ok() {
            return Some(format!(
                "an IPv6 address is written without brackets in a string, `\"{ip}\"`, or with brackets and no quotes in an address: `[{ip}]:80`"
            ));
        }
    }
    // `example.com.`: the root's dot of a fully qualified name, which no
    // `Host` header carries.
    if let Some(host) = s.strip_suffix('.') {
        if plausible_host(host) && !host.ends_with('.') {
            return Some(format!("write it without the final dot: `{host}`"));
        }
    }
    s.starts_with("*.").then(|| {
        "a wildcard host is written only in a route (`route host \"*.example.com\"`); here, write the host name".to_string()
    })
}

/// Whether `name` may be a secret's environment variable: uppercase
/// letters, digits and `_`, not starting with a digit.
fn is_secret_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn secret_name(lit: &StrLit, diags: &mut Diagnostics) -> Option<String> {
    let name = &lit.value;
    if is_secret_name(name) {
        Some(name.to_string())
    } else {
        let mut diag = Diagnostic::new(
            Code::InvalidSecretName,
            lit.span,
            format!("`{}` is not an environment variable name", shorten(name)),
        )
        .help("use uppercase letters, digits and `_`, starting with a letter: `secret(\"STATS_PASSWORD\")`");
        // `secret("api-key")`: the same name in the form that is one.
        let upper: String = name
            .chars()
            .map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        if is_secret_name(&upper) {
            diag = diag
                .help(format!("did you mean `{upper}`?"))
                .replace_with(&format!("\"{upper}\""));
        }
        diags.push(diag);
        None
    }
}

/// Shortens a user value for display in a message, escaping control characters.
pub fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(40).flat_map(char::escape_debug).collect();
    if s.chars().count() > 40 {
        out.push_str("...");
    }
    out
}

/// Validates a string for a position. Every string that reaches an output
/// passes through here (see ARCHITECTURE.md, "no injection").
pub fn check_string(s: &str, kind: StrKind, span: Span, diags: &mut Diagnostics) -> Option<()> {
    let fail = |diags: &mut Diagnostics, code: Code, message: String, help: &str| {
        diags.push(Diagnostic::new(code, span, message).help(help.to_string()));
        None
    };
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        let what = match c {
            '\n' => "a newline".to_string(),
            '\0' => "a NUL character".to_string(),
            '\t' => "a tab".to_string(),
            c => format!("the control character U+{:04X}", c as u32),
        };
        return fail(
            diags,
            Code::UnsafeString,
            format!("string contains {what}"),
            "strings are written on one line of haproxy.cfg; remove the character",
        );
    }
    if s.contains("${") || s.contains("$(") {
        // `"${TOKEN}"` alone: the secret it means, spelled out.
        let variable = s
            .strip_prefix("${")
            .and_then(|rest| rest.strip_suffix('}'))
            .filter(|v| is_secret_name(v));
        let help = match variable {
            Some(v) => format!(
                "where a value may come from HAProxy's environment, write `secret(\"{v}\")`"
            ),
            None => "where a value may come from HAProxy's environment, write `secret(\"NAME\")`"
                .to_string(),
        };
        return fail(
            diags,
            Code::RawInterpolation,
            "string contains `${`, which HAProxy would expand".to_string(),
            &help,
        );
    }
    if s.contains("-----BEGIN") || s.contains("PRIVATE KEY") {
        return fail(
            diags,
            Code::LiteralSecret,
            "string looks like key material".to_string(),
            "refer to certificate files by path; keys never belong in sources",
        );
    }
    if s.len() > MAX_STRING {
        return fail(
            diags,
            Code::TooLong,
            format!("string is {} bytes long, more than {MAX_STRING}", s.len()),
            "shorten the value",
        );
    }
    let (allowed, what): (fn(char) -> bool, &str) = match kind {
        StrKind::FilePath | StrKind::SocketPath | StrKind::MapPath => (
            |c| c.is_ascii_alphanumeric() || "._/@+-".contains(c),
            "letters, digits and `._/@+-`",
        ),
        StrKind::UrlPath => (
            |c| c.is_ascii_alphanumeric() || "-._~/%:@+,=!*".contains(c),
            "letters, digits and `-._~/%:@+,=!*`",
        ),
        StrKind::Token | StrKind::LogTarget => (
            |c| c.is_ascii_alphanumeric() || "._:/@+=-".contains(c),
            "letters, digits and `._:/@+=-`",
        ),
        StrKind::CipherList => (
            |c| c.is_ascii_alphanumeric() || "_:+-.!@=".contains(c),
            "letters, digits and `_:+-.!@=`",
        ),
        StrKind::HeaderName => (
            |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
            "letters, digits, `-` and `_`",
        ),
        StrKind::Printable => (
            |c| c.is_ascii_graphic() && !"\"\\$".contains(c) || c == ' ',
            "printable ASCII except `\"`, `\\` and `$`",
        ),
        StrKind::Quoted => (
            |c| c.is_ascii_graphic() && !"\\$".contains(c) || c == ' ',
            "printable ASCII except `\\` and `$`",
        ),
    };
    if let Some(c) = s.chars().find(|c| !allowed(*c)) {
        let shown = if c == ' ' {
            "a space".to_string()
        } else {
            format!("`{}`", c.escape_debug())
        };
        return fail(
            diags,
            Code::UnsafeString,
            format!("string contains {shown}, which is not allowed here"),
            &format!("this position accepts {what}"),
        );
    }
    // HAProxy drops an empty argument, which would shift the ones after it.
    if s.is_empty() {
        return fail(
            diags,
            Code::UnsafeString,
            "string is empty".to_string(),
            "write a value; HAProxy cannot take an empty argument",
        );
    }
    if kind == StrKind::SocketPath && (!s.starts_with('/') || s.len() > 107) {
        return fail(
            diags,
            Code::UnsafeString,
            format!(
                "`{}` is not an absolute socket path of at most 107 bytes",
                shorten(s)
            ),
            "write an absolute path such as `/run/haproxy/admin.sock`",
        );
    }
    if kind == StrKind::MapPath && !s.starts_with('/') {
        return fail(
            diags,
            Code::UnsafeString,
            format!("`{}` is not an absolute path", shorten(s)),
            "write an absolute path such as `/etc/haproxy/routes.map`: HAProxy reads the map there, and `haptic apply` names it by that path",
        );
    }
    if kind == StrKind::LogTarget {
        let address = s.rsplit_once(':').is_some_and(|(ip, port)| {
            ip.parse::<IpAddr>().is_ok() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        let socket = s.starts_with('/') && s.len() <= 107;
        if !(s == "stdout" || s == "stderr" || socket || address) {
            return fail(
                diags,
                Code::UnsafeString,
                format!("`{}` is not a log target", shorten(s)),
                "write `stdout`, `stderr`, a socket path such as `/dev/log`, or `IP:port`",
            );
        }
    }
    if kind == StrKind::UrlPath && !s.starts_with('/') {
        return fail(
            diags,
            Code::UnsafeString,
            format!("path `{}` does not start with `/`", shorten(s)),
            // Only the characters allowed above: nothing to escape.
            &format!(
                "write the path as it appears in the request: `/{}`",
                shorten(s)
            ),
        );
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::types;
    use crate::source::FileId;

    /// A large project's servers hold hundreds of thousands of values:
    /// a byte more in each is megabytes of memory touched. A record's head
    /// made every value 8 bytes larger once (6 % more page faults for
    /// 2,000 backends), until it was kept as a thin reference.
    #[test]
    fn values_stay_small() {
        assert!(std::mem::size_of::<Value>() <= 40);
        assert!(std::mem::size_of::<Rec>() <= 32);
    }

    struct NoDefs;

    impl Scope for NoDefs {
        fn lookup(&mut self, _: &ast::Path, _: &mut Diagnostics) -> Option<SRaw> {
            None
        }
        fn candidates(&self) -> &Names {
            self.names()
        }
    }

    /// A field set twice is found in a long record too (where the names
    /// seen are kept in a map), pointing at the first place it was set.
    #[test]
    fn a_field_set_twice_in_a_long_record() {
        let fields: Vec<String> = (0..40).map(|i| format!("f{i} = {i}")).collect();
        let src = format!("let r = {{ {}, f25 = 0, f3 = 0 }}\n", fields.join(", "));
        let (file, diags) = crate::syntax::parse(FileId(0), &src);
        assert!(diags.is_empty(), "{diags:?}");
        let ast::Item::Let(l) = &file.items[0] else {
            panic!("a let")
        };
        let ast::ExprKind::Record(fields) = &l.value.kind else {
            panic!("a record")
        };
        let mut found = Diagnostics::default();
        eval_record(&types::SERVER, fields.iter(), &mut NoDefs, &mut found);
        let twice: Vec<(String, usize)> = found
            .into_sorted()
            .into_iter()
            .filter(|d| d.code == Code::Duplicate)
            .map(|d| (d.message, d.labels[0].span.start as usize))
            .collect();
        let first = |name: &str| src.find(&format!("{name} = ")).unwrap();
        assert_eq!(
            twice,
            [
                ("field `f25` is set twice".to_string(), first("f25")),
                ("field `f3` is set twice".to_string(), first("f3")),
            ]
        );
    }

    /// Servers' addresses and options are checked in place
    /// ([`eval_coerce`]); what that finds must be what evaluating first
    /// and coercing after finds, value for value, diagnostic for diagnostic.
    #[test]
    fn checking_in_place_agrees_with_evaluating_first() {
        let src = r#"backend b {
  server a = 10.0.0.1:99999 { weight = 300, weight = 2, wieght = 1, state = up, maxconn = "x" }
  server c = "db.internal":80 { backup = true, tls = { verify = none, ca = 3 } }
  server d = [::1]:0 with opts
  server e = 10.0.0.300:x { check = maybe }
  server f = 10.0.0.2:8080 { weight = 10, maxconn = 100, state = drain }
}
"#;
        let (file, diags) = crate::syntax::parse(FileId(0), src);
        assert!(diags.is_empty(), "{diags:?}");
        let ast::Item::Backend(backend) = &file.items[0] else {
            panic!("a backend")
        };
        let (mut checked, mut found) = (0, 0);
        for item in &backend.body {
            let ast::BodyItem::Server(server) = item else {
                continue;
            };
            let record = Ty::Record(&types::SERVER);
            for (expr, ty) in [
                (Some(&server.addr), Ty::Addr),
                (server.options.as_ref(), record),
            ] {
                let Some(expr) = expr else { continue };
                let (in_place, first) = both_ways(expr, ty);
                assert_eq!(in_place, first, "{expr:?}");
                checked += 1;
                found += in_place.1.len();
            }
        }
        assert_eq!(checked, 10);
        assert!(found >= 8, "the sample has many mistakes; found {found}");
    }

    /// What checking one server in place finds, and what evaluating first
    /// and coercing after finds: (value, diagnostics) each.
    type Findings = (Option<Value>, Vec<crate::diag::Diagnostic>);

    fn both_ways(expr: &ast::Expr, ty: Ty) -> (Findings, Findings) {
        let mut in_place = Diagnostics::default();
        let value = eval_coerce(expr, ty, &mut NoDefs, &mut in_place);
        let mut first = Diagnostics::default();
        let raw = eval(expr, &mut NoDefs, &mut first);
        let coerced = coerce(&raw, ty, &Names::new(), &mut first);
        (
            (value, in_place.into_sorted()),
            (coerced, first.into_sorted()),
        )
    }

    const HOSTS: &[&str] = &[
        "10.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "10.0.0.300",
        "01.2.3.4",
        "1.2.3",
        "1.2.3.4.5",
        "\"db.internal\"",
        "[::1]",
        "",
    ];
    const PORTS: &[&str] = &[
        "80",
        "1",
        "65535",
        "0",
        "65536",
        "99999999999999999999999",
        "x",
    ];
    const FIELDS: &[&str] = &[
        "weight = 1",
        "weight = 256",
        "weight = 0",
        "maxconn = 100",
        "maxconn = 0",
        "maxconn = 99999999999999999999",
        "wieght = 1",
        "state = 5",
        "state = drain",
        "check = 1",
        "backup = true",
        "tls = 3",
        "weight = \"x\"",
        "weight = 1s",
        "ca = 3",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, failure_persistence: None, ..Default::default() })]

        /// Addresses and options written out (checked in place, integers
        /// and IPv4 addresses without a raw value between) find what
        /// evaluating first finds, value for value, diagnostic for
        /// diagnostic: in range or not, known field or not, set twice.
        #[test]
        fn servers_written_out_are_checked_as_any_server_is(
            host in 0..HOSTS.len(),
            port in 0..PORTS.len(),
            fields in proptest::collection::vec(0..FIELDS.len(), 0..5),
        ) {
            let options: Vec<&str> = fields.iter().map(|f| FIELDS[*f]).collect();
            let src = format!(
                "backend b {{\n  server a = {}:{} {{ {} }}\n}}\n",
                HOSTS[host],
                PORTS[port],
                options.join(", ")
            );
            let (file, _) = crate::syntax::parse(FileId(0), &src);
            let Some(ast::Item::Backend(backend)) = file.items.first() else {
                return Ok(());
            };
            for item in &backend.body {
                let ast::BodyItem::Server(server) = item else { continue };
                let (in_place, first) = both_ways(&server.addr, Ty::Addr);
                proptest::prop_assert_eq!(in_place, first, "{}", src);
                if let Some(options) = &server.options {
                    let (in_place, first) = both_ways(options, Ty::Record(&types::SERVER));
                    proptest::prop_assert_eq!(in_place, first, "{}", src);
                }
            }
        }
    }
}
