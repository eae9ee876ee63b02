//! The hand-written parser: recursive descent over bytes, for the language
//! that `grammar/haptic.pest` defines.
//!
//! It follows the grammar rule by rule with the same PEG semantics (ordered
//! choice, greedy repetition, `WHITESPACE`/`COMMENT` skipped between the
//! elements of non-atomic rules and nowhere else), so that it accepts the
//! same files and gives every node the span pest gives it (a rule that ends
//! in an optional part that is absent ends after the trivia pest skipped
//! before trying it). It builds the tree directly, without pest's token
//! queue, which makes it several times faster on large projects.
//!
//! It reports no syntax errors: at the first thing it does not accept it
//! returns `None`, and [`super::grammar`] parses the file again to say what
//! is wrong.

use super::ast::*;
use super::literal;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The tree and the diagnostics of literals (bad escapes, unknown units),
/// or `None` where the file is not in the language.
pub fn parse(file: FileId, text: &str) -> Option<(File, Vec<Diagnostic>)> {
    let (items, diags) = parse_part(file, text, 0, text.len(), &[])?;
    Some((
        File {
            items,
            lost: Vec::new(),
        },
        diags,
    ))
}

/// The body of a deferred `decl` in `text` (its whole file), and the
/// diagnostics of its literals; `None` where it does not parse, or ends
/// elsewhere than the declaration did.
pub fn parse_body(
    file: FileId,
    text: &str,
    decl: &Decl,
) -> Option<(Vec<BodyItem>, Vec<Diagnostic>)> {
    let base = file.0;
    let head = decl.template.as_ref().map_or(decl.name.span, |t| t.span);
    let (from, end) = ((head.end - base) as usize, (decl.span.end - base) as usize);
    let mut p = Parser::new(file, &text[..end], from, &[]);
    p.skip();
    let body = p.body()?;
    (p.pos == end).then_some((body, p.diags))
}

/// The items of `text[start..end]`, a run of whole top-level items, with
/// spans in the whole text. With `closes` (where the `}` of each top-level
/// block is, from the pre-scan), unconditional top-level backends are
/// deferred: their bodies are skipped, for [`parse_body`] to parse later.
pub fn parse_part(
    file: FileId,
    text: &str,
    start: usize,
    end: usize,
    closes: &[usize],
) -> Option<(Vec<Item>, Vec<Diagnostic>)> {
    let mut p = Parser::new(file, &text[..end], start, closes);
    let items = p.items(false)?;
    Some((items, p.diags))
}

/// What of `text[start..end]` parses, item after item, from its start.
pub struct Prefix {
    /// The items, with spans in the whole text.
    pub items: Vec<Item>,
    pub diags: Vec<Diagnostic>,
    /// Where the last of them begins.
    pub last: Option<usize>,
    /// Where the first item that does not parse begins (`end` when all do).
    pub stop: usize,
}

/// The items at the start of `text[start..end]` that parse: after a
/// syntax error, what comes before it in its region is still checked.
pub fn parse_prefix(file: FileId, text: &str, start: usize, end: usize) -> Prefix {
    let mut p = Parser::new(file, &text[..end], start, &[]);
    let mut items = Vec::new();
    let mut last = None;
    loop {
        p.skip();
        let at = p.pos;
        match p.attempt(Parser::item) {
            Some(item) => {
                items.push(item);
                last = Some(at);
            }
            None => break,
        }
    }
    Prefix {
        items,
        diags: p.diags,
        last,
        stop: p.pos,
    }
}

struct Parser<'t> {
    /// Where the `}` of each top-level block is, when unconditional
    /// backends keep their bodies for later; empty otherwise.
    closes: &'t [usize],
    /// How many top-level `if`s the parser is in.
    in_if: usize,
    file: FileId,
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    /// Where the last run of trivia that [`Parser::skip`] passed over
    /// starts and ends: a span that ends there ends before it.
    trivia: (usize, usize),
    diags: Vec<Diagnostic>,
    stacks: Stacks,
    /// Whether common server lines take [`Parser::literal_server`]; off
    /// only in the test that compares the two ways.
    fast: bool,
}

/// Where [`Parser::collect`] gathers the elements of a repetition before
/// they get a vector of their own, exactly as long as needed: growing each
/// vector by doubling left most of a large tree's memory behind as
/// garbage. Nested repetitions share a stack, each above the last.
#[derive(Default)]
struct Stacks {
    items: Vec<Item>,
    body: Vec<BodyItem>,
    fields: Vec<Field>,
}

/// The elements of the large repetitions, which [`Parser::collect`] gathers.
trait Stacked: Sized {
    fn stack(stacks: &mut Stacks) -> &mut Vec<Self>;
}

impl Stacked for Item {
    fn stack(stacks: &mut Stacks) -> &mut Vec<Item> {
        &mut stacks.items
    }
}

impl Stacked for BodyItem {
    fn stack(stacks: &mut Stacks) -> &mut Vec<BodyItem> {
        &mut stacks.body
    }
}

impl Stacked for Field {
    fn stack(stacks: &mut Stacks) -> &mut Vec<Field> {
        &mut stacks.fields
    }
}

pub(super) fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub(super) fn is_ident_char(b: u8) -> bool {
    super::WORD[usize::from(b)]
}

impl<'t> Parser<'t> {
    /// A parser of `text` (a whole file, or the start of one) from `pos`.
    fn new(file: FileId, text: &'t str, pos: usize, closes: &'t [usize]) -> Parser<'t> {
        Parser {
            closes,
            in_if: 0,
            file,
            text,
            bytes: text.as_bytes(),
            pos,
            trivia: (0, 0),
            diags: Vec::new(),
            stacks: Stacks::default(),
            fast: true,
        }
    }

    // ------------------------------------------------------------ tokens

    /// From `start` to the end of the last token: trivia that was passed
    /// over after it, looking for an optional part that is not there,
    /// belongs to no span (a `bind :80` label ends at `80`, not on the
    /// next line). As [`super::grammar`] ends the spans of pest's pairs.
    fn span(&self, start: usize) -> Span {
        let (trivia_start, trivia_end) = self.trivia;
        let end = if self.pos == trivia_end && trivia_start >= start {
            trivia_start
        } else {
            self.pos
        };
        Span::new(self.file, start..end)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    /// `WHITESPACE` and `COMMENT`, as pest skips them between elements.
    fn skip(&mut self) {
        let from = self.pos;
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'/') if self.at(1) == Some(b'/') => {
                    self.pos += 2;
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        if self.pos > from {
            self.trivia = (from, self.pos);
        }
    }

    /// A literal token.
    fn lit(&mut self, token: &str) -> bool {
        let found = self.bytes[self.pos..].starts_with(token.as_bytes());
        if found {
            self.pos += token.len();
        }
        found
    }

    /// A keyword: the word, not followed by a character of a name.
    fn is_kw(&self, word: &str) -> bool {
        self.bytes[self.pos..].starts_with(word.as_bytes())
            && !self
                .bytes
                .get(self.pos + word.len())
                .is_some_and(|&b| is_ident_char(b))
    }

    fn kw(&mut self, word: &str) -> bool {
        let found = self.is_kw(word);
        if found {
            self.pos += word.len();
        }
        found
    }

    /// Runs `f`; where it fails, puts the position and the diagnostics back
    /// as they were (PEG backtracking).
    fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let (pos, trivia, diags) = (self.pos, self.trivia, self.diags.len());
        let result = f(self);
        if result.is_none() {
            self.pos = pos;
            self.trivia = trivia;
            self.diags.truncate(diags);
        }
        result
    }

    /// `X*` after an element of a non-atomic rule: trivia, then `X`
    /// repeatedly with trivia between; trivia after the last `X` is not
    /// consumed, trivia before a missing first `X` is.
    fn repeat<T>(&mut self, mut f: impl FnMut(&mut Self) -> Option<T>) -> Vec<T> {
        let mut out = Vec::new();
        self.skip();
        if let Some(first) = self.attempt(&mut f) {
            out.push(first);
            while let Some(next) = self.attempt(|p| {
                p.skip();
                f(p)
            }) {
                out.push(next);
            }
        }
        out
    }

    /// [`Self::repeat`] for the elements that make up most of a large
    /// tree: gathered on a stack, then moved to a vector of their exact
    /// length (no spare room, no garbage from growing).
    fn collect<T: Stacked>(&mut self, mut f: impl FnMut(&mut Self) -> Option<T>) -> Vec<T> {
        let base = T::stack(&mut self.stacks).len();
        self.skip();
        if let Some(first) = self.attempt(&mut f) {
            T::stack(&mut self.stacks).push(first);
            while let Some(next) = self.attempt(|p| {
                p.skip();
                f(p)
            }) {
                T::stack(&mut self.stacks).push(next);
            }
        }
        // Nested repetitions of the same kind have taken theirs off by now.
        let stack = T::stack(&mut self.stacks);
        let mut out = Vec::with_capacity(stack.len() - base);
        out.extend(stack.drain(base..));
        out
    }

    fn ident(&mut self) -> Option<Ident> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        self.pos += 1;
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        Some(Ident {
            name: Name::from(&self.text[start..self.pos]),
            span: self.span(start),
        })
    }

    /// `path_ref = ${ ident ~ ("." ~ ident)* }`
    fn path_ref(&mut self) -> Option<Path> {
        let start = self.pos;
        let mut segments = vec![self.ident()?];
        while self.peek() == Some(b'.') && self.at(1).is_some_and(is_ident_start) {
            self.pos += 1;
            segments.push(self.ident()?);
        }
        Some(Path {
            segments,
            span: self.span(start),
        })
    }

    /// `string = ${ "\"" ~ str_inner ~ "\"" }`: any character but `"`,
    /// a backslash escaping any character.
    fn string(&mut self) -> Option<StrLit> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return None;
        }
        let mut i = start + 1;
        loop {
            match self.bytes.get(i) {
                None => return None,
                Some(b'"') => break,
                // Bytes after the first of a UTF-8 character are never `"`
                // or `\`, so stepping over one byte steps over the escape.
                Some(b'\\') if i + 1 < self.bytes.len() => i += 2,
                Some(b'\\') => return None,
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        let span = self.span(start);
        Some(literal::string(
            &self.text[start + 1..i],
            span,
            &mut self.diags,
        ))
    }

    fn digits(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// `numeric = @{ DIGIT+ ~ ("." ~ DIGIT+)* ~ (("/" ~ DIGIT+) |
    /// (":" ~ (DIGIT+ | ident)))? ~ ALPHA* ~ !ident_char }`
    fn numeric(&mut self) -> Option<Expr> {
        let start = self.pos;
        if !self.digits() {
            return None;
        }
        // Digits alone (`100`, most numbers of a large project): the
        // integer that `literal::numeric` makes of them, without reading
        // them again.
        if !self
            .peek()
            .is_some_and(|b| b == b'.' || b == b'/' || b == b':' || is_ident_char(b))
        {
            let span = self.span(start);
            let kind = ExprKind::Int(Name::from(&self.text[start..self.pos]));
            return Some(Expr { kind, span });
        }
        while self.peek() == Some(b'.') && self.at(1).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
            self.digits();
        }
        match (self.peek(), self.at(1)) {
            (Some(b'/'), Some(b)) if b.is_ascii_digit() => {
                self.pos += 1;
                self.digits();
            }
            (Some(b':'), Some(b)) if b.is_ascii_digit() => {
                self.pos += 1;
                self.digits();
            }
            (Some(b':'), Some(b)) if is_ident_start(b) => {
                self.pos += 1;
                self.ident();
            }
            _ => {}
        }
        while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        if self.peek().is_some_and(is_ident_char) {
            self.pos = start;
            return None;
        }
        let span = self.span(start);
        let kind = literal::numeric(&self.text[start..self.pos], span, &mut self.diags);
        Some(Expr { kind, span })
    }

    /// `addr_port = ${ number | path_ref }`, `number = @{ DIGIT+ ~
    /// !(ident_char | ".") }`
    fn addr_port(&mut self) -> Option<AddrPort> {
        let start = self.pos;
        if self.digits() {
            if self.peek().is_some_and(|b| is_ident_char(b) || b == b'.') {
                self.pos = start;
                return None;
            }
            let span = self.span(start);
            return Some(AddrPort::Number(
                Name::from(&self.text[start..self.pos]),
                span,
            ));
        }
        self.path_ref().map(|path| AddrPort::Ref(Box::new(path)))
    }

    /// The rest of `address = ${ addr_host? ~ ":" ~ addr_port }` once its
    /// host (if any) is read: `:` and the port, with no space between.
    fn address_rest(&mut self, start: usize, host: Option<AddrHost>) -> Option<Expr> {
        if !self.lit(":") {
            return None;
        }
        let port = self.addr_port()?;
        Some(Expr {
            kind: ExprKind::Address(Box::new(Address { host, port })),
            span: self.span(start),
        })
    }

    /// `ipv6_bracketed = ${ "[" ~ ipv6 ~ "]" }`, `ipv6 = @{ (HEX | ":" | ".")+ }`
    fn ipv6_bracketed(&mut self) -> Option<AddrHost> {
        if !self.lit("[") {
            return None;
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        let host = AddrHost::Ipv6(Name::from(&self.text[start..self.pos]), self.span(start));
        self.lit("]").then_some(host)
    }

    // ------------------------------------------------------------ values

    /// `expr = _{ list | record | secret_call | numeric | address | string |
    /// boolean | extended }`, tried in that order where the first byte
    /// allows.
    fn expr(&mut self) -> Option<Expr> {
        let start = self.pos;
        match self.peek()? {
            b'[' => {
                if let Some(list) = self.attempt(Self::list) {
                    return Some(list);
                }
                self.attempt(|p| {
                    let host = p.ipv6_bracketed()?;
                    p.address_rest(start, Some(host))
                })
            }
            b'{' => self.record().map(Record::into_expr),
            b'0'..=b'9' => self.numeric(),
            b':' => self.attempt(|p| p.address_rest(start, None)),
            b'"' => {
                let string = self.string()?;
                if self.peek() == Some(b':') {
                    let host = AddrHost::Name(string.clone());
                    if let Some(address) = self.attempt(|p| p.address_rest(start, Some(host))) {
                        return Some(address);
                    }
                }
                Some(Expr {
                    kind: ExprKind::Str(string.value),
                    span: string.span,
                })
            }
            b if is_ident_start(b) => {
                if self.is_kw("secret") {
                    if let Some(secret) = self.attempt(Self::secret_call) {
                        return Some(secret);
                    }
                }
                let path = self.path_ref()?;
                let path_end = self.pos;
                if self.peek() == Some(b':') {
                    let host = AddrHost::Ref(Box::new(path.clone()));
                    if let Some(address) = self.attempt(|p| p.address_rest(start, Some(host))) {
                        return Some(address);
                    }
                }
                for (word, value) in [("true", true), ("false", false)] {
                    self.pos = start;
                    if self.kw(word) {
                        return Some(Expr {
                            kind: ExprKind::Bool(value),
                            span: self.span(start),
                        });
                    }
                }
                // `extended = { path_ref ~ record? }`
                self.pos = path_end;
                self.skip();
                let overrides = self.attempt(Self::record);
                Some(Expr {
                    kind: ExprKind::Ref(Box::new(Reference { path, overrides })),
                    span: self.span(start),
                })
            }
            _ => None,
        }
    }

    /// `top_value = _{ !next_item ~ expr }`: the value of a `let` or a
    /// `tls`, which is not the start of the next top-level item (a
    /// keyword, then a name, a string or a `{`).
    fn top_value(&mut self) -> Option<Expr> {
        let Some(word) = super::TOP_KEYWORDS.iter().find(|word| self.is_kw(word)) else {
            return self.expr();
        };
        // A look ahead, which `attempt` undoes as it fails.
        let mut next_item = false;
        self.attempt(|p| {
            p.pos += word.len();
            p.skip();
            next_item = p.peek().is_some_and(super::follows_top_keyword);
            None::<()>
        });
        if next_item {
            return None;
        }
        self.expr()
    }

    /// `secret_call = { kw_secret ~ "(" ~ string ~ ")" }`
    fn secret_call(&mut self) -> Option<Expr> {
        let start = self.pos;
        self.kw("secret").then_some(())?;
        self.skip();
        self.lit("(").then_some(())?;
        self.skip();
        let name = self.string()?;
        self.skip();
        self.lit(")").then_some(())?;
        Some(Expr {
            kind: ExprKind::Secret(Box::new(name)),
            span: self.span(start),
        })
    }

    /// `(X ~ ("," ~ X)* ~ ","?)?`: the items of a list, commas between, one
    /// after the last allowed.
    fn separated<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Vec<T> {
        self.attempt(|p| {
            let mut items = vec![item(p)?];
            items.extend(p.repeat(|p| {
                p.lit(",").then_some(())?;
                p.skip();
                item(p)
            }));
            p.skip();
            p.lit(",");
            Some(items)
        })
        .unwrap_or_default()
    }

    /// `list = { "[" ~ (expr ~ ("," ~ expr)* ~ ","?)? ~ "]" }`
    fn list(&mut self) -> Option<Expr> {
        let start = self.pos;
        self.lit("[").then_some(())?;
        self.skip();
        let items = self.separated(Self::expr);
        self.skip();
        self.lit("]").then_some(())?;
        Some(Expr {
            kind: ExprKind::List(items.into_boxed_slice()),
            span: self.span(start),
        })
    }

    /// `record = { "{" ~ field* ~ "}" }`
    fn record(&mut self) -> Option<Record> {
        let start = self.pos;
        self.lit("{").then_some(())?;
        let fields = self.collect(Self::field);
        self.skip();
        self.lit("}").then_some(())?;
        Some(Record {
            fields,
            span: self.span(start),
        })
    }

    /// `field = { ident ~ eq ~ expr ~ ","? }`
    fn field(&mut self) -> Option<Field> {
        let start = self.pos;
        let name = self.ident()?;
        self.skip();
        self.lit("=").then_some(())?;
        self.skip();
        let value = self.expr()?;
        self.skip();
        self.lit(",");
        Some(Field {
            name,
            value,
            span: self.span(start),
        })
    }

    // ------------------------------------------------------- top level

    /// `top_item*` up to the end of the file, or up to `}` in a block.
    fn items(&mut self, in_block: bool) -> Option<Vec<Item>> {
        let items = self.collect(Self::item);
        self.skip();
        let done = if in_block {
            self.peek() == Some(b'}')
        } else {
            self.pos == self.bytes.len()
        };
        done.then_some(items)
    }

    fn item(&mut self) -> Option<Item> {
        let start = self.pos;
        let word_end = self.bytes[start..]
            .iter()
            .position(|&b| !is_ident_char(b))
            .map_or(self.bytes.len(), |n| start + n);
        let word = &self.text[start..word_end];
        self.pos = word_end;
        self.skip();
        let item = match word {
            "import" => match self.attempt(|p| {
                // `std_module = ${ "std" ~ "." ~ ident }`
                p.lit("std.").then_some(())?;
                p.ident()
            }) {
                Some(module) => Item::Import(Import::Std(module)),
                None => Item::Import(Import::File(self.string()?)),
            },
            "env" => Item::Env(self.ident()?),
            "let" => {
                let name = self.ident()?;
                self.skip();
                let ty = self.attempt(|p| {
                    p.lit(":").then_some(())?;
                    p.skip();
                    p.type_name()
                });
                self.skip();
                self.lit("=").then_some(())?;
                self.skip();
                Item::Let(Let {
                    name,
                    ty,
                    value: self.top_value()?,
                })
            }
            "tls" => {
                let name = self.ident()?;
                self.skip();
                let value = if self.lit("=") {
                    self.skip();
                    self.top_value()?
                } else {
                    self.record()?.into_expr()
                };
                Item::Tls(TlsDecl { name, value })
            }
            "backend" | "frontend" => {
                let name = self.ident()?;
                self.skip();
                // `template = { kw_with ~ path_ref }`
                let template = if self.kw("with") {
                    self.skip();
                    let path = self.path_ref()?;
                    self.skip();
                    Some(path)
                } else {
                    None
                };
                let deferred = !self.closes.is_empty() && self.in_if == 0 && word == "backend";
                let body = if deferred {
                    self.skip_block().then(Vec::new)?
                } else {
                    self.body()?
                };
                let decl = Decl {
                    name,
                    template,
                    body,
                    span: self.span(start),
                    deferred,
                };
                if word == "backend" {
                    Item::Backend(decl)
                } else {
                    Item::Frontend(decl)
                }
            }
            "defaults" | "stats" => {
                let name = Ident {
                    name: word.into(),
                    span: Span::new(self.file, start..word_end),
                };
                let body = self.body()?;
                let decl = Decl {
                    name,
                    template: None,
                    body,
                    span: self.span(start),
                    deferred: false,
                };
                if word == "defaults" {
                    Item::Defaults(decl)
                } else {
                    Item::Stats(decl)
                }
            }
            "guard" => {
                let name = self.ident()?;
                self.skip();
                let options = self.attempt(Self::record);
                self.skip();
                let envs = self
                    .attempt(|p| {
                        p.kw("in").then_some(())?;
                        p.skip();
                        let mut envs = vec![p.ident()?];
                        envs.extend(p.repeat(|p| {
                            p.lit(",").then_some(())?;
                            p.skip();
                            p.ident()
                        }));
                        Some(envs)
                    })
                    .unwrap_or_default();
                Item::Guard(Guard {
                    name,
                    options,
                    envs: EnvList::new(envs),
                    span: self.span(start),
                })
            }
            "if" => {
                self.in_if += 1;
                let branch = self.if_rest(start, |p| {
                    p.lit("{").then_some(())?;
                    let items = p.items(true)?;
                    p.lit("}");
                    Some(items)
                });
                self.in_if -= 1;
                Item::If(branch?)
            }
            _ => return None,
        };
        Some(item)
    }

    /// `top_if` and `body_if` after `if` and its trivia: `condition ~ BLOCK
    /// ~ (kw_else ~ (IF | BLOCK))?`.
    fn if_rest<T: From<If<T>>>(
        &mut self,
        start: usize,
        block: fn(&mut Self) -> Option<Vec<T>>,
    ) -> Option<If<T>> {
        let cond = self.condition()?;
        self.skip();
        let then = block(self)?;
        self.skip();
        let otherwise = self
            .attempt(|p| {
                p.kw("else").then_some(())?;
                p.skip();
                let nested = p.pos;
                if p.kw("if") {
                    p.skip();
                    if let Some(branch) = p.attempt(|p| p.if_rest(nested, block)) {
                        return Some(vec![T::from(branch)]);
                    }
                    p.pos = nested;
                }
                block(p)
            })
            .unwrap_or_default();
        Some(If {
            cond,
            then,
            otherwise,
            span: self.span(start),
        })
    }

    /// `condition = { kw_env ~ cond_op ~ (ident_list | ident) }`
    fn condition(&mut self) -> Option<Condition> {
        let start = self.pos;
        self.kw("env").then_some(())?;
        self.skip();
        let op = if self.lit("==") {
            CondOp::Eq
        } else if self.lit("!=") {
            CondOp::Ne
        } else if self.kw("in") {
            CondOp::In
        } else {
            return None;
        };
        self.skip();
        let envs = if self.peek() == Some(b'[') {
            // `ident_list = { "[" ~ (ident ~ ("," ~ ident)* ~ ","?)? ~ "]" }`
            self.pos += 1;
            self.skip();
            let envs = self.separated(Self::ident);
            self.skip();
            self.lit("]").then_some(())?;
            envs
        } else {
            vec![self.ident()?]
        };
        Some(Condition {
            op,
            envs: EnvList::new(envs),
            span: self.span(start),
        })
    }

    /// `type_name = { ident ~ ("<" ~ type_name ~ ">")? }`
    fn type_name(&mut self) -> Option<TypeName> {
        let start = self.pos;
        let name = self.ident()?;
        self.skip();
        let arg = self.attempt(|p| {
            p.lit("<").then_some(())?;
            p.skip();
            let arg = p.type_name()?;
            p.skip();
            p.lit(">").then_some(Box::new(arg))
        });
        Some(TypeName {
            name,
            arg,
            span: self.span(start),
        })
    }

    // ------------------------------------------------ backend / frontend

    /// A top-level block skipped, not parsed: `{`, and everything up to
    /// the `}` that the pre-scan found closes it. Whether it parses, and
    /// ends there, is up to [`parse_body`].
    fn skip_block(&mut self) -> bool {
        if !self.lit("{") {
            return false;
        }
        let next = self.closes.partition_point(|&c| c < self.pos);
        match self.closes.get(next) {
            Some(&close) if close < self.bytes.len() => {
                self.pos = close + 1;
                true
            }
            _ => false,
        }
    }

    /// `body = { "{" ~ body_item* ~ "}" }`
    fn body(&mut self) -> Option<Vec<BodyItem>> {
        self.lit("{").then_some(())?;
        let items = self.collect(Self::body_item);
        self.skip();
        self.lit("}").then_some(items)
    }

    /// `body_item = _{ server_item | bind_item | route_item | default_item |
    /// header_item | body_if | field }`: keywords are reserved only where
    /// their construct parses, so each falls back to a field of that name.
    fn body_item(&mut self) -> Option<BodyItem> {
        let start = self.pos;
        let keyword: fn(&mut Self, usize) -> Option<BodyItem> = if self.is_kw("server") {
            if self.fast {
                if let Some(server) = self.attempt(|p| p.literal_server(start)) {
                    return Some(server);
                }
            }
            Self::server_item
        } else if self.is_kw("bind") {
            Self::bind_item
        } else if self.is_kw("route") {
            Self::route_item
        } else if self.is_kw("default") {
            |p, start| {
                p.kw("default");
                p.skip();
                p.lit("->").then_some(())?;
                p.skip();
                let target = p.route_target()?;
                Some(BodyItem::Default(DefaultRoute {
                    target,
                    span: p.span(start),
                }))
            }
        } else if self.is_kw("request_header") || self.is_kw("response_header") {
            Self::header_item
        } else if self.is_kw("if") {
            |p, start| {
                p.kw("if");
                p.skip();
                p.if_rest(start, Self::body).map(BodyItem::from)
            }
        } else {
            return self.field().map(BodyItem::Field);
        };
        if let Some(item) = self.attempt(|p| keyword(p, start)) {
            return Some(item);
        }
        self.field().map(BodyItem::Field)
    }

    /// `server_item = { kw_server ~ ident ~ eq ~ expr ~ (record | kw_with ~ expr)? }`
    fn server_item(&mut self, start: usize) -> Option<BodyItem> {
        let name = self.server_head()?;
        let addr = self.expr()?;
        self.skip();
        let options = if self.peek() == Some(b'{') {
            self.attempt(Self::record).map(Record::into_expr)
        } else if self.is_kw("with") {
            self.attempt(|p| {
                p.kw("with");
                p.skip();
                p.expr()
            })
        } else {
            None
        };
        Some(BodyItem::Server(Server {
            name,
            addr,
            options,
            span: self.span(start),
        }))
    }

    /// `kw_server ~ ident ~ eq`, and the trivia after: a server's name.
    fn server_head(&mut self) -> Option<Ident> {
        self.kw("server");
        self.skip();
        let name = self.ident()?;
        self.skip();
        self.lit("=").then_some(())?;
        self.skip();
        Some(name)
    }

    /// [`Self::server_item`] for the shape most servers of a large project
    /// have, `server NAME = A.B.C.D:PORT { FIELD = DIGITS, ... }` (the
    /// options may be absent): the same tree, made in one pass without
    /// trying each alternative of `expr` and `field` in turn. `None`
    /// wherever the line has any other shape (a unit, a string, a
    /// reference, a nested record, `with`, a malformed token): then
    /// `server_item` parses it from the start. Two thirds of the time a
    /// large project spent parsing went to server lines.
    fn literal_server(&mut self, start: usize) -> Option<BodyItem> {
        let name = self.server_head()?;
        let addr = self.literal_address()?;
        self.skip();
        let options = match self.peek() {
            Some(b'{') => Some(self.literal_record()?),
            _ if self.is_kw("with") => return None,
            _ => None,
        };
        Some(BodyItem::Server(Server {
            name,
            addr,
            options,
            span: self.span(start),
        }))
    }

    /// Digits alone, ending the `numeric` token: what [`Self::numeric`]
    /// takes for an integer. `None` if more of the token follows.
    fn literal_digits(&mut self) -> Option<Name> {
        let start = self.pos;
        if !self.digits()
            || self
                .peek()
                .is_some_and(|b| b == b'.' || b == b'/' || b == b':' || is_ident_char(b))
        {
            return None;
        }
        Some(Name::from(&self.text[start..self.pos]))
    }

    /// `DIGITS(.DIGITS)*:DIGITS` as one `numeric` token: the address that
    /// [`literal::numeric`] makes of it, with the same spans.
    fn literal_address(&mut self) -> Option<Expr> {
        let start = self.pos;
        if !self.digits() {
            return None;
        }
        while self.peek() == Some(b'.') {
            self.pos += 1;
            if !self.digits() {
                return None;
            }
        }
        let colon = self.pos;
        self.lit(":").then_some(())?;
        let port_start = self.pos;
        let port = self.literal_digits()?;
        Some(Expr {
            kind: ExprKind::Address(Box::new(Address {
                host: Some(AddrHost::Ipv4(
                    Name::from(&self.text[start..colon]),
                    Span::new(self.file, start..colon),
                )),
                port: AddrPort::Number(port, self.span(port_start)),
            })),
            span: self.span(start),
        })
    }

    /// `{ NAME = DIGITS, ... }`, with the spans [`Self::record`] and
    /// [`Self::field`] give: a field ends after the trivia and the comma
    /// that follow its value.
    fn literal_record(&mut self) -> Option<Expr> {
        let start = self.pos;
        self.lit("{").then_some(())?;
        let mut fields = Vec::with_capacity(2);
        loop {
            self.skip();
            if self.lit("}") {
                break;
            }
            let field_start = self.pos;
            let (name, digits, value_start) = self.literal_field()?;
            let value = Expr {
                kind: ExprKind::Int(digits),
                span: self.span(value_start),
            };
            self.skip();
            self.lit(",");
            fields.push(Field {
                name,
                value,
                span: self.span(field_start),
            });
        }
        Some(Expr {
            kind: ExprKind::Record(fields.into_boxed_slice()),
            span: self.span(start),
        })
    }

    /// `NAME = DIGITS` of a literal record: the name, the digits and where
    /// they start.
    fn literal_field(&mut self) -> Option<(Ident, Name, usize)> {
        let name = self.ident()?;
        self.skip();
        self.lit("=").then_some(())?;
        self.skip();
        let value_start = self.pos;
        Some((name, self.literal_digits()?, value_start))
    }

    /// `bind_item = { kw_bind ~ (numeric | address) ~ bind_opt* }`
    fn bind_item(&mut self, start: usize) -> Option<BodyItem> {
        self.kw("bind");
        self.skip();
        let addr_start = self.pos;
        let addr = match self.peek()? {
            b'0'..=b'9' => self.numeric()?,
            _ => {
                let host = match self.peek()? {
                    b':' => None,
                    b'[' => Some(self.ipv6_bracketed()?),
                    b'"' => Some(AddrHost::Name(self.string()?)),
                    _ => Some(AddrHost::Ref(Box::new(self.path_ref()?))),
                };
                self.address_rest(addr_start, host)?
            }
        };
        let mut bind = Bind {
            addr,
            tls: None,
            redirect: None,
            span: Span::new(self.file, start..start),
        };
        // `bind_opt = { bind_tls | bind_redirect }`
        let options = self.repeat(|p| {
            let opt_start = p.pos;
            if p.kw("tls") {
                p.skip();
                let path = p.path_ref()?;
                Some((p.span(opt_start), Some(path), None))
            } else if p.kw("redirect") {
                p.skip();
                let ident = p.ident()?;
                Some((p.span(opt_start), None, Some(ident)))
            } else {
                None
            }
        });
        for (span, tls, redirect) in options {
            let duplicate = match (tls, redirect) {
                (Some(path), _) => bind.tls.replace(Box::new(path)).is_some(),
                (_, Some(ident)) => bind.redirect.replace(ident).is_some(),
                _ => false,
            };
            if duplicate {
                self.diags.push(
                    Diagnostic::new(Code::Duplicate, span, "bind option given twice")
                        .help(super::BIND_OPTION_TWICE),
                );
            }
        }
        bind.span = self.span(start);
        Some(BodyItem::Bind(bind))
    }

    /// `(redirect_to | deny_to | ident)`, after a route's or the default's
    /// arrow; `redirect_to = { kw_redirect ~ string }`, `deny_to = {
    /// kw_deny ~ number }`.
    fn route_target(&mut self) -> Option<RouteTarget> {
        let redirect = self.attempt(|p| {
            p.kw("redirect").then_some(())?;
            p.skip();
            p.string()
        });
        if let Some(url) = redirect {
            return Some(RouteTarget::Redirect(url));
        }
        let deny = self.attempt(|p| {
            p.kw("deny").then_some(())?;
            p.skip();
            // `number = @{ ASCII_DIGIT+ ~ !(ident_char | ".") }`
            let start = p.pos;
            (p.digits() && !p.peek().is_some_and(|b| b == b'.' || is_ident_char(b)))
                .then_some(())?;
            Some(StrLit {
                value: Name::from(&p.text[start..p.pos]),
                span: p.span(start),
            })
        });
        Some(match deny {
            Some(status) => RouteTarget::Deny(status),
            None => RouteTarget::Backend(self.ident()?),
        })
    }

    /// `route_item = { kw_route ~ route_match+ ~ arrow ~ (redirect_to | ident) }`
    fn route_item(&mut self, start: usize) -> Option<BodyItem> {
        self.kw("route");
        self.skip();
        enum Match {
            Host(StrLit),
            Path(Ident, StrLit),
            Header(HeaderMatch),
            From(Expr),
        }
        // `route_match = { host_match | path_match | header_match | from_match }`
        let route_match = |p: &mut Self| {
            let m_start = p.pos;
            let found = if p.kw("host") {
                p.skip();
                Match::Host(p.string()?)
            } else if p.kw("path") {
                p.skip();
                let kind = p.ident()?;
                p.skip();
                Match::Path(kind, p.string()?)
            } else if p.kw("header") {
                // `header_match = { kw_header ~ string ~ (secret_call | string)? }`
                p.skip();
                let name = p.string()?;
                let value = p.attempt(|p| {
                    p.skip();
                    if let Some(secret) = p.attempt(Self::secret_call) {
                        return Some(secret);
                    }
                    let s = p.string()?;
                    Some(Expr {
                        kind: ExprKind::Str(s.value),
                        span: s.span,
                    })
                });
                Match::Header(HeaderMatch { name, value })
            } else if p.kw("from") {
                // `from_match = { kw_from ~ expr }`
                p.skip();
                Match::From(p.expr()?)
            } else {
                return None;
            };
            Some((p.span(m_start), found))
        };
        let mut host = None;
        let mut path = None;
        let mut header = None;
        let mut from = None;
        let mut first = true;
        loop {
            let found = if first {
                Some(route_match(self)?)
            } else {
                self.attempt(|p| {
                    p.skip();
                    route_match(p)
                })
            };
            let Some((span, found)) = found else { break };
            first = false;
            // As pest's tree is converted: each match in turn.
            let duplicate = match found {
                Match::Host(h) => host.replace(h).is_some(),
                Match::Path(kind, p) => path.replace((kind, p)).is_some(),
                Match::Header(h) => header.replace(h).is_some(),
                Match::From(networks) => from.replace(networks).is_some(),
            };
            if duplicate {
                self.diags.push(
                    Diagnostic::new(Code::Duplicate, span, super::ROUTE_MATCH_TWICE)
                        .help("write a second route for the other value"),
                );
            }
        }
        self.skip();
        self.lit("->").then_some(())?;
        self.skip();
        let target = self.route_target()?;
        Some(BodyItem::Route(Route {
            host,
            path: path.map(Box::new),
            conditions: Conditions::of(header, from),
            target,
            span: self.span(start),
        }))
    }

    /// `header_item = { header_kind ~ string ~ eq ~ expr }`
    fn header_item(&mut self, start: usize) -> Option<BodyItem> {
        let kind = if self.kw("request_header") {
            HeaderKind::Request
        } else {
            self.kw("response_header");
            HeaderKind::Response
        };
        self.skip();
        let name = self.string()?;
        self.skip();
        self.lit("=").then_some(())?;
        self.skip();
        let value = self.expr()?;
        Some(BodyItem::Header(Header {
            kind,
            name,
            value,
            span: self.span(start),
        }))
    }
}

impl From<If<Item>> for Item {
    fn from(branch: If<Item>) -> Item {
        Item::If(branch)
    }
}

impl From<If<BodyItem>> for BodyItem {
    fn from(branch: If<BodyItem>) -> BodyItem {
        BodyItem::If(Box::new(branch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file parsed with or without [`Parser::literal_server`].
    fn parse_fast(text: &str, fast: bool) -> Option<(Vec<Item>, Vec<Diagnostic>)> {
        let mut p = Parser::new(FileId(0), text, 0, &[]);
        p.fast = fast;
        let items = p.items(false)?;
        Some((items, p.diags))
    }

    /// Pieces of server lines: the common shape, and each way out of it.
    const NAMES: &[&str] = &["s1", "web_2", "a", "server", "with", "x-1", "9a"];
    const ADDRESSES: &[&str] = &[
        "10.0.0.1:8080",
        "1.2.3.4:80",
        "300.1.1.1:99999",
        "1.2:3",
        "8080:80",
        "10.0.0.1:80x",
        "10.0.0.1:http",
        "10.0.0.1",
        "10.0.0.1:8080/",
        "10.0.0.1:8080.",
        "10.0.0.1:8080//c\n",
        "10.0.0.1:8080{}",
        "10.:80",
        "10.0.0.0/8:80",
        "\"h.internal\":80",
        ":80",
        "[::1]:80",
        "app:80",
        "app.port",
    ];
    const OPTIONS: &[&str] = &[
        "",
        " { weight = 1 }",
        "{weight=1,maxconn=2}",
        " { weight = 1, maxconn = 100, }",
        " {weight = 1 maxconn = 2}",
        " { }",
        " {}",
        " { weight = 1s }",
        " { weight = 1.5 }",
        " { weight = 01 }",
        " { weight = \"x\" }",
        " { weight = 1,, }",
        " { weight = 1 , maxconn = 2 , }",
        " { // c\n weight = 5 // d\n }",
        " { weight = // c\n 5 }",
        " { tls = { verify = none } }",
        " { w_1 = 99999999999999999999999 }",
        " { weight = 1 ",
        " with opts",
        " with { weight = 2 }",
    ];
    const GAPS: &[&str] = &[" ", "  ", "\t", "", "\n", " // c\n "];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 3000, failure_persistence: None, ..Default::default() })]

        /// A server line gets the same tree, spans and diagnostics (or the
        /// same failure) whichever way it is parsed.
        #[test]
        fn literal_servers_parse_as_any_server_does(
            lines in proptest::collection::vec(
                (0..NAMES.len(), 0..ADDRESSES.len(), 0..OPTIONS.len(), 0..GAPS.len(), 0..GAPS.len(), 0..GAPS.len()),
                1..4,
            ),
        ) {
            let mut text = String::from("backend b {\n");
            for (name, addr, options, a, b, c) in lines {
                text.push_str(&format!(
                    "  server{}{}{}={}{}{}{}\n",
                    // A name right after the keyword would be one word.
                    if GAPS[a].is_empty() { " " } else { GAPS[a] },
                    NAMES[name],
                    GAPS[b],
                    GAPS[c],
                    ADDRESSES[addr],
                    OPTIONS[options],
                    GAPS[b],
                ));
            }
            text.push_str("}\n");
            proptest::prop_assert_eq!(parse_fast(&text, true), parse_fast(&text, false), "{}", text);
        }
    }

    #[test]
    fn the_common_server_line_takes_the_literal_path() {
        // The property above would hold if the fast path never ran.
        let text = "  server s1 = 10.0.0.1:8080 { weight = 1, maxconn = 100 }\n}";
        let mut p = Parser::new(FileId(0), text, 2, &[]);
        assert!(p.literal_server(2).is_some());
        assert_eq!(&text[p.pos..], "\n}");
        let with_unit = text.replace("100", "1s");
        let mut p = Parser::new(FileId(0), &with_unit, 2, &[]);
        assert!(p.literal_server(2).is_none());
    }
}
