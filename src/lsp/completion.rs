//! What may be written at a place of a source being edited, for the
//! language server's completion.
//!
//! The text before the cursor is read as tokens, not parsed: it is being
//! typed, and seldom parses. The blocks it opens (`backend web {`,
//! `server a = ... {`, `check = http {`) say which schema's fields apply
//! (`check::types`), and the tokens of the current statement say which
//! slot the cursor is in: a field's value (its enum values, `true` or
//! `false`, the heads of a record), a route's backend, a bind's TLS
//! policy, an environment in a condition, a type, a standard module or
//! one of its definitions, or a statement of the block.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::types::{self, Schema, Ty};
use crate::model::Mode;
use crate::syntax::ast::Item;

/// The names a project declares, by kind, for completion.
#[derive(Debug, Default, Clone)]
pub struct Symbols {
    pub backends: BTreeSet<String>,
    pub tls: BTreeSet<String>,
    pub constants: BTreeSet<String>,
    pub envs: BTreeSet<String>,
    /// The standard modules the project imports, with their definitions,
    /// each a [`Kind::Constant`] or a [`Kind::Tls`] policy.
    pub modules: BTreeMap<String, Vec<(String, Kind)>>,
    /// Constants that a block takes as its template (`backend api with
    /// service`), with the schema of that block: their records hold its
    /// fields.
    pub templates: BTreeMap<String, &'static Schema>,
}

impl Symbols {
    /// The declarations of a loaded project, `if` branches included.
    pub fn of(project: &crate::project::Project) -> Symbols {
        fn walk(items: &[Item], out: &mut Symbols) {
            for item in items {
                match item {
                    Item::Backend(d) => {
                        out.backends.insert(d.name.name.to_string());
                        out.template(d, &types::BACKEND);
                    }
                    Item::Frontend(d) => out.template(d, &types::FRONTEND),
                    Item::Let(l) => {
                        out.constants.insert(l.name.name.to_string());
                    }
                    Item::Tls(t) => {
                        out.tls.insert(t.name.name.to_string());
                    }
                    Item::Env(e) => {
                        out.envs.insert(e.name.to_string());
                    }
                    Item::If(branch) => {
                        walk(&branch.then, out);
                        walk(&branch.otherwise, out);
                    }
                    Item::Import(_) | Item::Defaults(_) | Item::Stats(_) | Item::Guard(_) => {}
                }
            }
        }
        let mut out = Symbols::default();
        for file in &project.files {
            walk(&file.ast.items, &mut out);
        }
        for name in &project.imported_std {
            let Some(module) = project.std.get(name) else {
                continue;
            };
            let members = module
                .ast
                .items
                .iter()
                .filter_map(|item| match item {
                    Item::Let(l) => Some((l.name.name.to_string(), Kind::Constant)),
                    Item::Tls(t) => Some((t.name.name.to_string(), Kind::Tls)),
                    _ => None,
                })
                .collect();
            out.modules.insert(name.clone(), members);
        }
        out
    }

    /// Notes the template of `decl`, a block of `schema`.
    fn template(&mut self, decl: &crate::syntax::ast::Decl, schema: &'static Schema) {
        if let Some([name]) = decl.template.as_ref().map(|p| p.segments.as_slice()) {
            self.templates.insert(name.name.to_string(), schema);
        }
    }

    /// Adds the names of `other`: a check of sources being typed loses the
    /// items that do not parse, and completion is asked for just then.
    pub fn keep(&mut self, other: Symbols) {
        self.backends.extend(other.backends);
        for (name, schema) in other.templates {
            self.templates.entry(name).or_insert(schema);
        }
        self.tls.extend(other.tls);
        self.constants.extend(other.constants);
        self.envs.extend(other.envs);
        for (module, members) in other.modules {
            self.modules.entry(module).or_insert(members);
        }
    }
}

/// What a candidate is, for the editor's icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyword,
    Field,
    Value,
    Backend,
    Tls,
    Constant,
    Env,
    Module,
    Type,
}

/// One thing that may be written at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub label: String,
    pub kind: Kind,
    /// What it is: a field's type, an enum value's field.
    pub detail: Option<String>,
    /// What it does: a field's or an enumeration value's explanation.
    pub doc: Option<&'static str>,
}

/// The candidates at byte `cursor` of `text` (a file being edited). A
/// word being typed is not part of the answer: the editor filters the
/// candidates by it. What comes after the cursor is read only for the
/// `mode` of the block the cursor is in, which may be written below it.
pub fn complete(text: &str, cursor: usize, symbols: &Symbols) -> Vec<Candidate> {
    let tokens = lex(&text[..cursor]);
    let mut tokens = tokens.as_slice();
    // The word being typed, if the cursor is at its end.
    if let Some(Tok::Word(_, true)) = tokens.last() {
        tokens = &tokens[..tokens.len() - 1];
    }
    let (block, statement) = place(tokens, after_cursor(text, cursor), symbols);
    let mut out = Out::default();
    slot(block, statement, symbols, &mut out);
    out.list
}

/// What a field holds, for the editor: [`Ty::describe`], with the range of
/// an integer.
pub fn describe(ty: Ty) -> String {
    match ty {
        Ty::Int { min, max } => format!("an integer within {min}..={max}"),
        ty => ty.describe(),
    }
}

/// The field `word` of the block that the end of `before` is in, with
/// its type and what it does, if it is one (`balance` in a backend).
pub fn field(
    before: &str,
    word: &str,
    symbols: &Symbols,
) -> Option<(&'static str, Ty, Option<&'static str>)> {
    let tokens = lex(before);
    let (block, _) = place(&tokens, "", symbols);
    let schema = block.schema()?;
    let (name, ty) = schema.field(word)?;
    Some((name, ty, crate::check::docs::field(schema.kind, name)))
}

/// The candidates, each label once (a project may have 20,000 backends:
/// a set, not a search of the list).
#[derive(Default)]
struct Out {
    list: Vec<Candidate>,
    seen: crate::hash::Set<String>,
}

impl Out {
    fn add(&mut self, label: impl Into<String>, kind: Kind, detail: Option<String>) {
        self.add_with_doc(label, kind, detail, None);
    }

    fn add_with_doc(
        &mut self,
        label: impl Into<String>,
        kind: Kind,
        detail: Option<String>,
        doc: Option<&'static str>,
    ) {
        let label = label.into();
        if self.seen.insert(label.clone()) {
            self.list.push(Candidate {
                label,
                kind,
                detail,
                doc,
            });
        }
    }

    fn keywords(&mut self, words: &[&str]) {
        for word in words {
            self.add(*word, Kind::Keyword, None);
        }
    }

    fn fields(&mut self, schema: &Schema) {
        self.fields_but(schema, &[]);
    }

    /// The fields of `schema` but those of `refused`.
    fn fields_but(&mut self, schema: &Schema, refused: &[&str]) {
        for (name, ty) in schema.fields.iter().filter(|(n, _)| !refused.contains(n)) {
            let doc = crate::check::docs::field(schema.kind, name);
            self.add_with_doc(*name, Kind::Field, Some(describe(*ty)), doc);
        }
    }

    fn constants(&mut self, symbols: &Symbols) {
        self.definitions(symbols, Kind::Constant);
    }

    /// The project's definitions of `kind` (constants or TLS policies),
    /// then those of the standard modules it imports.
    fn definitions(&mut self, symbols: &Symbols, kind: Kind) {
        let (project, what) = match kind {
            Kind::Tls => (&symbols.tls, "TLS policy"),
            _ => (&symbols.constants, "constant"),
        };
        for name in project {
            self.add(name, kind, Some(what.into()));
        }
        for (module, members) in &symbols.modules {
            for (name, _) in members.iter().filter(|(_, k)| *k == kind) {
                self.add(
                    format!("{module}.{name}"),
                    kind,
                    Some(format!("std.{module}")),
                );
            }
        }
    }
}

/// How many more `{` than `}` a line opens, outside strings and comments
/// (as [`lex`] reads them): hover's measure of a declaration's block.
pub(super) fn brace_depth(line: &str) -> i32 {
    lex(line)
        .iter()
        .map(|tok| match tok {
            Tok::Punct('{') => 1,
            Tok::Punct('}') => -1,
            _ => 0,
        })
        .sum()
}

/// A token of the text before the cursor. Strings and comments are kept
/// only as far as they matter: a string is one token, a comment none.
#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    /// A name, keyword or number; `true` when it ends at the cursor.
    Word(&'a str, bool),
    Str,
    Arrow,
    /// `==` or `!=`.
    Compare,
    Punct(char),
    Newline,
}

fn lex(text: &str) -> Vec<Tok<'_>> {
    use crate::syntax::is_name_char;
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                out.push(Tok::Newline);
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                // The closing quote; a string left open ends at the line.
                if bytes.get(i) == Some(&b'"') {
                    i += 1;
                }
                out.push(Tok::Str);
            }
            b'-' if bytes.get(i + 1) == Some(&b'>') => {
                out.push(Tok::Arrow);
                i += 2;
            }
            b'=' | b'!' if bytes.get(i + 1) == Some(&b'=') => {
                out.push(Tok::Compare);
                i += 2;
            }
            _ if is_name_char(c as char) => {
                let start = i;
                while i < bytes.len() && is_name_char(bytes[i] as char) {
                    i += 1;
                }
                out.push(Tok::Word(&text[start..i], i == bytes.len()));
            }
            _ if c.is_ascii_whitespace() => i += 1,
            _ => {
                let ch = text[i..].chars().next().unwrap_or(' ');
                out.push(Tok::Punct(ch));
                i += ch.len_utf8();
            }
        }
    }
    out
}

/// The kind of block the cursor is in.
#[derive(Debug, Clone, Copy)]
enum Block {
    Top,
    /// With its `mode`, where written before the cursor.
    Backend(Option<Mode>),
    Frontend(Option<Mode>),
    Record(&'static Schema),
    /// A block whose contents haptic cannot tell (a record in a `let`).
    Unknown,
}

impl Block {
    fn schema(self) -> Option<&'static Schema> {
        match self {
            Block::Backend(_) => Some(&types::BACKEND),
            Block::Frontend(_) => Some(&types::FRONTEND),
            Block::Record(schema) => Some(schema),
            Block::Top | Block::Unknown => None,
        }
    }
}

/// The text after byte `cursor` of `text` from the first place outside a
/// string or comment: the rest of the string or comment the cursor is in
/// (each ends at its line, as [`lex`] reads them) is left out, so that
/// what follows is read as written.
fn after_cursor(text: &str, cursor: usize) -> &str {
    let line = text[..cursor].rfind('\n').map_or(0, |n| n + 1);
    let bytes = text.as_bytes();
    let mut i = line;
    while i < cursor {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                return text[cursor..]
                    .find('\n')
                    .map_or("", |n| &text[cursor + n..]);
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= cursor {
                    // In the string: after its closing quote, or its line.
                    let end = (i + usize::from(bytes.get(i) == Some(&b'"'))).min(bytes.len());
                    return text.get(end..).unwrap_or("");
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    &text[cursor..]
}

/// The innermost open block at the end of `tokens`, and the tokens of the
/// statement being written there: those since the last line break, `{`,
/// `}`, or `,` outside brackets. The text `after` the cursor gives the
/// `mode` of the backend or frontend the cursor is in, where written
/// below it.
fn place<'t, 'a>(tokens: &'t [Tok<'a>], after: &str, symbols: &Symbols) -> (Block, &'t [Tok<'a>]) {
    let mut stack = vec![Block::Top];
    let mut start = 0;
    // The statement a line break ended last: the head of a `{` written on
    // a line of its own.
    let mut before = 0..0;
    let mut square = 0usize;
    for (i, tok) in tokens.iter().enumerate() {
        match tok {
            Tok::Punct('{') => {
                let top = *stack.last().unwrap_or(&Block::Top);
                let head = match &tokens[start..i] {
                    [] => &tokens[before.clone()],
                    head => head,
                };
                stack.push(opened(head, top, symbols));
                start = i + 1;
                before = 0..0;
                square = 0;
            }
            Tok::Newline if square == 0 => {
                note_mode(&mut stack, &tokens[start..i]);
                if start < i {
                    before = start..i;
                }
                start = i + 1;
            }
            Tok::Punct('}') => {
                note_mode(&mut stack, &tokens[start..i]);
                if stack.len() > 1 {
                    stack.pop();
                }
                start = i + 1;
                square = 0;
            }
            Tok::Punct('[') => square += 1,
            Tok::Punct(']') => square = square.saturating_sub(1),
            Tok::Punct(',') if square == 0 => {
                note_mode(&mut stack, &tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    mode_below(&mut stack, after);
    let statement = &tokens[start..];
    let statement = statement
        .iter()
        .position(|t| *t != Tok::Newline)
        .map_or(&statement[statement.len()..], |first| &statement[first..]);
    (*stack.last().unwrap_or(&Block::Top), statement)
}

/// Records `statement`, if it is `mode = tcp` (or `http`), as the mode of
/// the innermost backend or frontend of `stack` (the one an `if` inside it
/// is in, too).
fn note_mode(stack: &mut [Block], statement: &[Tok]) {
    let [Tok::Word("mode", _), Tok::Punct('='), Tok::Word(value, _)] = statement else {
        return;
    };
    let Some(mode) = Mode::from_name(value) else {
        return;
    };
    let block = stack
        .iter_mut()
        .rev()
        .find(|b| matches!(b, Block::Backend(_) | Block::Frontend(_)));
    if let Some(Block::Backend(m) | Block::Frontend(m)) = block {
        *m = Some(mode);
    }
}

/// Records a `mode` written in `after` (the text after the cursor) for
/// the backend or frontend of `stack` (and the `if` blocks in it that
/// the cursor is in), if none is written above: the statements up to the
/// `}` that closes it, the rest of the statement at the cursor aside.
/// The text is read a line at a time (strings and comments end at their
/// line), as far as that `}`: not the rest of a large file.
fn mode_below(stack: &mut [Block], after: &str) {
    let Some(owner) = stack
        .iter()
        .position(|b| matches!(b, Block::Backend(_) | Block::Frontend(_)))
    else {
        return;
    };
    let is_set = |b: &Block| matches!(b, Block::Backend(Some(_)) | Block::Frontend(Some(_)));
    if stack[owner..].iter().any(is_set) {
        return;
    }
    // Blocks open inside the owner; the statement at the cursor is not
    // one to read (`mode = ` being typed, or the end of a word).
    let mut depth = stack.len() - owner - 1;
    let mut statement: Option<Vec<Tok>> = None;
    let mut square = 0usize;
    for tok in after.split_inclusive('\n').flat_map(lex) {
        let ends = match tok {
            Tok::Punct('{') => {
                depth += 1;
                true
            }
            Tok::Punct('}') => true,
            Tok::Newline | Tok::Punct(',') => square == 0,
            Tok::Punct('[') => {
                square += 1;
                false
            }
            Tok::Punct(']') => {
                square = square.saturating_sub(1);
                false
            }
            _ => false,
        };
        if !ends {
            if let Some(statement) = &mut statement {
                statement.push(tok);
            }
            continue;
        }
        if let Some(statement) = &statement {
            note_mode(&mut stack[..=owner], statement);
        }
        if let Block::Backend(Some(mode)) | Block::Frontend(Some(mode)) = stack[owner] {
            for block in &mut stack[owner..] {
                if let Block::Backend(m) | Block::Frontend(m) = block {
                    *m = Some(mode);
                }
            }
            return;
        }
        if tok == Tok::Punct('}') {
            if depth == 0 {
                return;
            }
            depth -= 1;
        }
        if matches!(tok, Tok::Punct('{' | '}')) {
            square = 0;
        }
        statement = Some(Vec::new());
    }
}

/// The block that `{` opens after `head`, inside `outer`.
fn opened(head: &[Tok], outer: Block, symbols: &Symbols) -> Block {
    let word = |i: usize| match head.get(i) {
        Some(Tok::Word(w, _)) => Some(*w),
        _ => None,
    };
    match (word(0), outer) {
        (Some("if" | "else"), _) => outer,
        (Some("backend"), Block::Top) => Block::Backend(None),
        (Some("frontend"), Block::Top) => Block::Frontend(None),
        (Some("defaults"), Block::Top) => Block::Record(&types::DEFAULTS),
        (Some("stats"), Block::Top) => Block::Record(&types::STATS),
        (Some("tls"), Block::Top) => Block::Record(&types::TLS),
        (Some("guard"), Block::Top) => word(1)
            .and_then(types::guard_rule)
            .map_or(Block::Unknown, |rule| Block::Record(rule.options)),
        (Some("server"), Block::Backend(_)) => Block::Record(&types::SERVER),
        // `let service = {` or `let slow = service {`, of a template.
        (Some("let"), Block::Top) => [
            word(1),
            head.last().and_then(|t| match t {
                Tok::Word(w, _) => Some(*w),
                _ => None,
            }),
        ]
        .into_iter()
        .flatten()
        .find_map(|name| symbols.templates.get(name))
        .map_or(Block::Unknown, |schema| Block::Record(schema)),
        (Some(field), _) if head.get(1) == Some(&Tok::Punct('=')) => {
            match outer.schema().and_then(|s| s.field(field)) {
                // `check = tcp {`: the head picks the schema's variant.
                Some((_, Ty::Record(schema))) => match head.last() {
                    Some(Tok::Word(w, _)) => Block::Record(schema.headed(w)),
                    _ => Block::Record(schema),
                },
                // A record of a list: `users = [{ name = ... }, {`.
                Some((_, Ty::List(Ty::Record(schema)))) if head.contains(&Tok::Punct('[')) => {
                    Block::Record(schema)
                }
                _ => Block::Unknown,
            }
        }
        _ => Block::Unknown,
    }
}

/// The statements of the top level: the keywords that begin its items.
const TOP: &[&str] = crate::syntax::TOP_KEYWORDS;
const IN_BACKEND: &[&str] = &["server", "request_header", "response_header", "if"];
const IN_FRONTEND: &[&str] = &[
    "bind",
    "route",
    "default",
    "request_header",
    "response_header",
    "if",
];

/// What a route matches, in the order a route writes them.
const ROUTE_MATCHES: &[&str] = &["host", "path", "header", "from"];

/// The statements of `list` that a block of `mode` takes: a tcp block
/// sets no header.
fn statements(list: &[&'static str], mode: Option<Mode>) -> Vec<&'static str> {
    let tcp = mode == Some(Mode::Tcp);
    list.iter()
        .copied()
        .filter(|s| !(tcp && s.ends_with("_header")))
        .collect()
}

/// What a route of a frontend in `block` can match: a tcp frontend's,
/// the TLS server name (`host`) and the client's networks.
fn route_matches(block: Block) -> &'static [&'static str] {
    match block {
        Block::Frontend(Some(Mode::Tcp)) => &["host", "from"],
        _ => ROUTE_MATCHES,
    }
}

fn slot(block: Block, statement: &[Tok], symbols: &Symbols, out: &mut Out) {
    let word = |i: usize| match statement.get(i) {
        Some(Tok::Word(w, _)) => Some(*w),
        _ => None,
    };
    let last = statement.last();
    let n = statement.len();
    // `MODULE.` and a name being typed after it.
    if n >= 2 && last == Some(&Tok::Punct('.')) {
        if word(0) == Some("import") && word(1) == Some("std") && n == 3 {
            for (module, _) in crate::project::STD_MODULES {
                if *module != crate::project::PRELUDE {
                    out.add(*module, Kind::Module, Some("standard module".into()));
                }
            }
        } else if let Some(members) = word(n - 2).and_then(|m| symbols.modules.get(m)) {
            for (name, kind) in members {
                let detail = match kind {
                    Kind::Tls => "TLS policy",
                    _ => "constant",
                };
                out.add(name, *kind, Some(detail.into()));
            }
        }
        return;
    }
    if statement.is_empty() {
        match block {
            Block::Top => out.keywords(TOP),
            // What the block's mode refuses is not offered.
            Block::Backend(mode) => {
                let refused = match mode {
                    Some(Mode::Tcp) => types::HTTP_BACKEND_FIELDS,
                    _ => &[],
                };
                out.fields_but(&types::BACKEND, refused);
                out.keywords(&statements(IN_BACKEND, mode));
            }
            Block::Frontend(mode) => {
                let refused = match mode {
                    Some(Mode::Tcp) => types::HTTP_FRONTEND_FIELDS,
                    Some(Mode::Http) => types::TCP_FRONTEND_FIELDS,
                    None => &[],
                };
                out.fields_but(&types::FRONTEND, refused);
                out.keywords(&statements(IN_FRONTEND, mode));
            }
            Block::Record(schema) => out.fields(schema),
            Block::Unknown => {}
        }
        return;
    }
    match (word(0), last) {
        (_, Some(Tok::Arrow)) => {
            for name in &symbols.backends {
                out.add(name, Kind::Backend, Some("backend".into()));
            }
            // `route ... -> redirect "https://..."`, `default -> redirect ...`
            if matches!(word(0), Some("route" | "default")) {
                out.keywords(&["redirect", "deny"]);
            }
        }
        (Some("bind"), Some(Tok::Word("tls", _))) => tls_policies(symbols, out),
        (Some("tls"), Some(Tok::Punct('='))) if n == 3 => tls_policies(symbols, out),
        (Some("server"), Some(Tok::Word("with", _))) => out.constants(symbols),
        (Some("backend" | "frontend"), Some(Tok::Word("with", _))) if n == 3 => {
            out.constants(symbols)
        }
        (Some("bind"), Some(Tok::Word("redirect", _))) => out.keywords(types::REDIRECTS),
        (Some("bind"), _) if n >= 2 => out.keywords(&["tls", "redirect"]),
        (Some("route"), Some(Tok::Word("path", _))) => out.keywords(types::PATH_KINDS),
        (Some("route"), _) if n == 1 => out.keywords(route_matches(block)),
        // `from office`: a constant's list of networks.
        (Some("route"), Some(Tok::Word("from", _))) => out.constants(symbols),
        // After a match's string, the matches the route has not written.
        (Some("route"), Some(Tok::Str)) => {
            let written: Vec<&str> = (1..n).filter_map(word).collect();
            let left: Vec<&str> = route_matches(block)
                .iter()
                .copied()
                .filter(|m| !written.contains(m))
                .collect();
            out.keywords(&left);
        }
        (Some("guard"), _) if n == 1 => {
            for rule in types::GUARDS {
                out.add(rule.name, Kind::Keyword, Some(rule.summary.into()));
            }
        }
        (Some("if"), Some(Tok::Compare)) => envs(symbols, out),
        (Some("if"), _) if in_open_list(statement) => envs(symbols, out),
        (Some("if"), Some(Tok::Word("env", _))) => out.keywords(&["in"]),
        (Some("let"), Some(Tok::Punct(':' | '<'))) => {
            for name in types::TYPE_NAMES.iter().chain(&["list"]) {
                out.add(*name, Kind::Type, Some("type".into()));
            }
        }
        (Some(field), Some(Tok::Punct('='))) if n == 2 => {
            match block.schema().and_then(|s| s.field(field)) {
                Some((name, ty)) => value(name, ty, refused_values(block, name), symbols, out),
                None => out.constants(symbols),
            }
        }
        (_, Some(Tok::Punct('='))) => out.constants(symbols),
        _ => {}
    }
}

/// The project's TLS policies and the standard ones it imports.
fn tls_policies(symbols: &Symbols, out: &mut Out) {
    out.definitions(symbols, Kind::Tls);
}

/// Whether the statement ends inside `[` ... without its `]`.
fn in_open_list(statement: &[Tok]) -> bool {
    let mut depth = 0i32;
    for tok in statement {
        match tok {
            Tok::Punct('[') => depth += 1,
            Tok::Punct(']') => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

fn envs(symbols: &Symbols, out: &mut Out) {
    for name in &symbols.envs {
        out.add(name, Kind::Env, Some("environment".into()));
    }
}

/// The values of `field` that the checker refuses in `block`: a tcp
/// backend hashes no request's path ([`types::HTTP_BALANCES`]).
fn refused_values(block: Block, field: &str) -> &'static [&'static str] {
    match (block, field) {
        (Block::Backend(Some(Mode::Tcp)), "balance") => types::HTTP_BALANCES,
        _ => &[],
    }
}

/// The values of field `field`, of type `ty`, but those of `refused`.
fn value(field: &str, ty: Ty, refused: &[&str], symbols: &Symbols, out: &mut Out) {
    match ty {
        Ty::Enum(values) => {
            for v in values.iter().filter(|v| !refused.contains(v)) {
                let doc = crate::check::docs::value(field, v);
                out.add_with_doc(*v, Kind::Value, Some(field.to_string()), doc);
            }
        }
        Ty::Bool => out.keywords(&["true", "false"]),
        Ty::Record(schema) => {
            out.keywords(schema.heads);
            out.constants(symbols);
        }
        Ty::Secret => out.keywords(&["secret"]),
        Ty::Text => {
            out.keywords(&["secret"]);
            out.constants(symbols);
        }
        _ => out.constants(symbols),
    }
}

#[cfg(test)]
mod tests {
    /// A server's options, as completion offers them, in their order.
    const SERVER_FIELDS: [&str; 9] = [
        "weight",
        "state",
        "maxconn",
        "tls",
        "check",
        "backup",
        "send_proxy",
        "slowstart",
        "http2",
    ];
    use super::*;

    fn symbols() -> Symbols {
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        Symbols {
            backends: set(&["api", "web"]),
            tls: set(&["public"]),
            constants: set(&["app_port"]),
            envs: set(&["production", "staging"]),
            modules: [
                (
                    "checks".to_string(),
                    vec![("healthz".to_string(), Kind::Constant)],
                ),
                (
                    "tls".to_string(),
                    vec![
                        ("curves".to_string(), Kind::Constant),
                        ("modern".to_string(), Kind::Tls),
                    ],
                ),
            ]
            .into_iter()
            .collect(),
            templates: [
                ("service".to_string(), &types::BACKEND),
                ("edge".to_string(), &types::FRONTEND),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn labels(before: &str) -> Vec<String> {
        complete(before, before.len(), &symbols())
            .into_iter()
            .map(|c| c.label)
            .collect()
    }

    #[test]
    fn statements_of_each_block() {
        assert_eq!(labels("env production\n"), TOP);
        assert_eq!(labels("env production\nba"), TOP, "a word being typed");
        let backend = labels("backend api {\n  ");
        assert!(backend.starts_with(&["balance".to_string(), "check".to_string()]));
        assert!(backend.contains(&"server".to_string()));
        let frontend = labels("frontend f {\n  bind :80\n  ");
        assert!(frontend.contains(&"route".to_string()));
        assert!(frontend.contains(&"rate_limit".to_string()));
        assert!(!frontend.contains(&"server".to_string()));
        assert_eq!(labels("backend api {\n}\n"), TOP, "after the block");
        assert_eq!(
            labels("backend api {\n  server a = 10.0.0.1:80 { "),
            SERVER_FIELDS
        );
        assert_eq!(
            labels("backend api {\n  server a = 10.0.0.1:80 { weight = 5, "),
            SERVER_FIELDS
        );
        assert_eq!(
            labels("backend api {\n  server a = 1.2.3.4:80 { tls = { "),
            ["verify", "ca", "sni"]
        );
        assert_eq!(
            labels("backend api {\n  if env == production {\n    check = http {\n      "),
            [
                "method",
                "path",
                "expect",
                "expect_body",
                "every",
                "rise",
                "fall",
                "host",
                "port"
            ]
        );
        assert_eq!(
            labels("backend api {\n  check = tcp { "),
            ["every", "rise", "fall", "port"],
            "a TCP check's own fields"
        );
        assert_eq!(
            labels("guard tls_min_version { "),
            ["min"],
            "a guard's options"
        );
        assert!(labels("tls public = tls.modern {\n  ").contains(&"certs".to_string()));
        assert!(
            labels("let r = {\n  ").is_empty(),
            "a record of no known kind"
        );
        assert_eq!(
            labels("backend api\n{\n  server a = 1.2.3.4:80\n  {\n    "),
            SERVER_FIELDS,
            "a brace on a line of its own"
        );
    }

    #[test]
    fn values_of_fields() {
        assert_eq!(
            labels("backend api {\n  balance = "),
            crate::model::Balance::NAMES
        );
        assert_eq!(
            labels("backend api {\n  balance = lea"),
            crate::model::Balance::NAMES
        );
        assert_eq!(
            labels("backend api {\n  server a = 1.2.3.4:80 { state = "),
            ["ready", "drain", "maint"]
        );
        assert_eq!(
            labels("backend api {\n  server a = 1.2.3.4:80 { backup = "),
            ["true", "false"]
        );
        assert_eq!(
            labels("backend api {\n  check = "),
            ["http", "tcp", "app_port", "checks.healthz", "tls.curves"]
        );
        assert_eq!(
            labels("let x = "),
            ["app_port", "checks.healthz", "tls.curves"]
        );
        assert_eq!(labels("stats {\n  password = "), ["secret"]);
    }

    #[test]
    fn names_by_kind() {
        assert_eq!(
            labels("frontend f {\n  default -> "),
            ["api", "web", "redirect", "deny"]
        );
        assert_eq!(
            labels("frontend f {\n  route host \"a.example.com\" -> w"),
            ["api", "web", "redirect", "deny"]
        );
        assert_eq!(
            labels("frontend f {\n  bind :443 tls "),
            ["public", "tls.modern"]
        );
        assert_eq!(labels("frontend f {\n  bind :80 redirect "), ["https"]);
        assert_eq!(labels("tls site = "), ["public", "tls.modern"]);
        assert_eq!(
            labels("backend api {\n  server a = 10.0.0.1:80 with "),
            ["app_port", "checks.healthz", "tls.curves"]
        );
        assert_eq!(
            labels("backend api {\n  server a = 10.0.0.1:80 with small { "),
            SERVER_FIELDS
        );
        assert_eq!(
            labels("backend api with "),
            ["app_port", "checks.healthz", "tls.curves"]
        );
        assert_eq!(
            labels("frontend www with ed"),
            ["app_port", "checks.healthz", "tls.curves"],
            "a name being typed"
        );
        assert!(labels("backend api with service {\n  ").contains(&"balance".to_string()));
        assert_eq!(
            labels("frontend f {\n  route "),
            ["host", "path", "header", "from"]
        );
        assert_eq!(
            labels("frontend f {\n  route host \"x.example.com\" "),
            ["path", "header", "from"]
        );
        assert_eq!(
            labels("frontend f {\n  route host \"x.example.com\" path prefix \"/v1/\" "),
            ["header", "from"]
        );
        assert_eq!(
            labels("frontend f {\n  route header \"X-Canary\" "),
            ["host", "path", "from"]
        );
        assert!(
            labels("frontend f {\n  route from ").contains(&"app_port".to_string()),
            "constants after `from`"
        );
        assert_eq!(
            labels("frontend f {\n  route host \"x.example.com\" path "),
            ["prefix", "exact"]
        );
        assert_eq!(labels("if env == "), ["production", "staging"]);
        assert_eq!(labels("if env in [staging, "), ["production", "staging"]);
        assert_eq!(labels("import std."), ["tls", "checks"]);
        assert_eq!(labels("tls public = tls."), ["curves", "modern"]);
        assert_eq!(labels("backend api {\n  check = checks."), ["healthz"]);
        assert!(labels("let p: ").contains(&"port".to_string()));
        assert!(labels("let p: list<").contains(&"cidr".to_string()));
        assert_eq!(labels("guard ").len(), types::GUARDS.len());
    }

    /// A constant that a block takes as its template holds that block's
    /// fields; a record of no block's is of no known kind.
    #[test]
    fn fields_of_a_template() {
        let backend: Vec<String> = types::BACKEND
            .fields
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(labels("let service = {\n  "), backend);
        assert_eq!(labels("let service = { retries = 2, "), backend);
        assert_eq!(labels("let slow = service {\n  "), backend, "an extension");
        assert!(labels("let edge = { ").contains(&"rate_limit".to_string()));
        assert!(labels("let other = { ").is_empty());
        assert_eq!(
            labels("let service = {\n  balance = "),
            crate::model::Balance::NAMES
        );
        let field = |before: &str, word: &str| field(before, word, &symbols()).map(|(n, ..)| n);
        assert_eq!(field("let service = {\n  ", "balance"), Some("balance"));
        assert_eq!(field("let other = {\n  ", "balance"), None);
    }

    /// A block's `mode`, written before the cursor, leaves out what the
    /// checker refuses in that mode; with none written, everything.
    #[test]
    fn what_a_mode_refuses_is_not_offered() {
        let has = |before: &str, label: &str| labels(before).contains(&label.to_string());
        let tcp = "frontend f {\n  mode = tcp\n  ";
        assert!(has(tcp, "timeout_hello") && has(tcp, "bind") && has(tcp, "route"));
        assert!(!has(tcp, "max_body") && !has(tcp, "request_header"));
        let http = "frontend f {\n  mode = http\n  ";
        assert!(has(http, "max_body") && has(http, "request_header"));
        assert!(!has(http, "timeout_hello"));
        let unknown = "frontend f {\n  ";
        assert!(has(unknown, "max_body") && has(unknown, "timeout_hello"));
        let nested = "frontend f {\n  mode = tcp\n  if env == production {\n    ";
        assert!(!has(nested, "max_body") && has(nested, "maxconn"));
        let backend = "backend b {\n  mode = tcp\n  ";
        assert!(has(backend, "server") && has(backend, "balance"));
        assert!(!has(backend, "sticky_cookie") && !has(backend, "response_header"));
        let balance = "backend b {\n  mode = tcp\n  balance = ";
        assert!(has(balance, "source") && !has(balance, "uri"));
        assert!(has("backend b {\n  balance = ", "uri"));
        assert_eq!(
            labels("frontend f {\n  mode = tcp\n  route "),
            ["host", "from"]
        );
        assert_eq!(
            labels("frontend f {\n  mode = tcp\n  route host \"a\" "),
            ["from"]
        );
        assert_eq!(labels("frontend f {\n  route "), ROUTE_MATCHES);
        // Another block's mode is not this one's.
        let after = "backend b {\n  mode = tcp\n}\nfrontend f {\n  ";
        assert!(has(after, "max_body"));
    }

    /// A block's `mode` written below the cursor counts as one written
    /// above it; another block's, or one in a comment or a string, does
    /// not.
    #[test]
    fn a_mode_below_the_cursor_counts() {
        let at = |text: &str| -> Vec<String> {
            let cursor = text.find('|').unwrap();
            let text = text.replace('|', "");
            complete(&text, cursor, &symbols())
                .into_iter()
                .map(|c| c.label)
                .collect()
        };
        let has = |text: &str, label: &str| at(text).contains(&label.to_string());
        let tcp = "frontend f {\n  |\n  bind :80\n  mode = tcp\n}\n";
        assert!(has(tcp, "timeout_hello") && !has(tcp, "max_body"));
        let nested = "frontend f {\n  if env == prod {\n    |\n  }\n  mode = tcp\n}\n";
        assert!(!has(nested, "max_body") && has(nested, "maxconn"));
        let in_if = "frontend f {\n  |\n  if env == prod { mode = tcp }\n}\n";
        assert!(!has(in_if, "max_body"));
        let balance =
            "backend b {\n  balance = |\n  server a = 10.0.0.1:80 { weight = 1 }\n  mode = tcp\n}";
        assert!(has(balance, "source") && !has(balance, "uri"));
        // In a server's record, the backend's mode still tells nothing
        // the record takes; the backend's own statements are read.
        let server = "backend b {\n  server a = 10.0.0.1:80 { | }\n  mode = tcp\n}";
        assert!(has(server, "weight"));
        let next = "frontend f {\n  |\n}\nbackend b {\n  mode = tcp\n}\n";
        assert!(has(next, "max_body"));
        let comment = "frontend f {\n  |\n  // mode = tcp\n}\n";
        assert!(has(comment, "max_body"));
        let string = "frontend f {\n  monitor_uri = \"/|\n  mode = tcp\n}\n";
        assert!(at(string).is_empty());
        let brace = "frontend f {\n  request_header \"X\" = \"} |}\"\n  mode = tcp\n}\n";
        assert!(at(brace).is_empty(), "a string's value is not completed");
        let past = "frontend f {\n  request_header \"X\" = \"}}\"\n  |\n  mode = tcp\n}\n";
        assert!(has(past, "timeout_hello"));
        // A `}` in the comment the cursor is in closes nothing.
        let in_comment = "frontend f {\n  // a note |}\n  mode = tcp\n}\n";
        assert!(has(in_comment, "timeout_hello") && !has(in_comment, "max_body"));
        // The statement at the cursor is not read: `mode = tcp` typed
        // right after the cursor's word is the word's own statement.
        let same = "frontend f {\n  mode = |tcp\n}";
        assert!(has(same, "tcp") && has(same, "http"));
    }

    #[test]
    fn the_rest_of_a_string_or_comment_at_the_cursor_is_not_read() {
        let after = |text: &str| {
            let cursor = text.find('|').unwrap();
            after_cursor(&text.replace('|', ""), cursor).to_string()
        };
        assert_eq!(after("a = \"x|y } \" }\nz"), " }\nz");
        assert_eq!(after("a = \"x|y \\\" }\nz"), "\nz");
        assert_eq!(after("a = 1 // x|y }\nz"), "\nz");
        assert_eq!(after("a = \"x\" |}\nz"), "}\nz");
        assert_eq!(after("a = \"x\\\"\" |}"), "}");
        assert_eq!(after("|"), "");
        assert_eq!(after("a = \"x|"), "");
    }

    #[test]
    fn fields_by_block() {
        let field =
            |before: &str, word: &str| field(before, word, &symbols()).map(|(name, ..)| name);
        assert_eq!(field("backend api {\n  ", "balance"), Some("balance"));
        assert_eq!(field("frontend f {\n  ", "balance"), None);
        assert_eq!(
            field("backend api {\n  server a = 1.2.3.4:80 { ", "weight"),
            Some("weight")
        );
        assert_eq!(field("", "balance"), None);
    }

    /// Every prefix of every source of the repository: the text an editor
    /// holds while it is typed, whatever it is.
    #[test]
    fn any_prefix_of_any_source_is_read() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for dir in ["examples", "stdlib", "tests/cases"] {
            let walk = ignore::WalkBuilder::new(root.join(dir)).build();
            for entry in walk.flatten() {
                if entry.path().extension().is_some_and(|e| e == "hap") {
                    sources.push(std::fs::read_to_string(entry.path()).unwrap());
                }
            }
        }
        assert!(sources.len() > 50, "{}", sources.len());
        sources.push("\"é\\é\n backend x { // é\n  server é = \"\\".into());
        for source in &sources {
            for (i, _) in source.char_indices().step_by(7) {
                let _ = complete(&source[..i], i, &symbols());
                let _ = complete(source, i, &symbols());
            }
        }
    }

    /// A name offered for two reasons (a record's head, and a constant of
    /// that name) is offered once.
    #[test]
    fn each_name_is_offered_once() {
        let mut symbols = symbols();
        symbols.constants.insert("http".into());
        let found = complete("backend api {\n  check = ", 24, &symbols);
        let labels: Vec<&str> = found.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            ["http", "tcp", "app_port", "checks.healthz", "tls.curves"]
        );
    }

    #[test]
    fn braces_in_strings_and_comments_do_not_count() {
        assert_eq!(brace_depth("backend web {"), 1);
        assert_eq!(brace_depth("  server a = 10.0.0.1:80 { weight = 5 }"), 0);
        assert_eq!(brace_depth("}"), -1);
        assert_eq!(brace_depth(r#"  request_header "X-A" = "{ \" {" // {"#), 0);
        assert_eq!(
            brace_depth("if env == staging { let port = 8080 } else {"),
            1
        );
    }

    #[test]
    fn strings_and_comments_are_not_read() {
        assert_eq!(
            labels("backend api { // {\n  request_header \"X-A\" = \"{ {\"\n  "),
            labels("backend api {\n  ")
        );
        assert!(labels("backend api {\n  server a = \"x").is_empty());
        assert_eq!(
            labels("backend api {\n  request_header \"X-A\" = \"open\n  "),
            labels("backend api {\n  "),
            "a string left open ends at its line"
        );
    }
}
