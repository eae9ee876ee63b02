//! Finding one's way in a project from the editor: go to definition,
//! references, rename, hover and the outline of a document.

use lsp_types::{GotoDefinitionParams, Location, Range, TextEdit, Url, WorkspaceEdit};
use std::collections::HashMap;

use super::{
    alone, declarations, declared, file_path, location, offset_of, parsed_alone, project_root,
    range, Namespace, Overlay, Server,
};
use crate::diag::Code;
use crate::source::{SourceMap, Span};
use crate::syntax::ast::{Item, RouteTarget};

impl Server {
    /// The root of the project holding the document, the name under the
    /// cursor (not the second part of a dotted one), and its namespace
    /// where the buffer says (`None` in what does not parse), asked for
    /// only where it matters (`need`, given the name: parsing a large
    /// buffer for every hover would be wasted where a name is in one
    /// namespace).
    fn name_under(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
        need: impl FnOnce(&std::path::Path, &str) -> bool,
    ) -> Option<(std::path::PathBuf, String, Option<Namespace>)> {
        let path = file_path(&at.text_document.uri)?;
        let root = project_root(&path)?;
        let file = crate::source::SourceFile::new(String::new(), self.text(&path)?);
        let offset = offset_of(&file, at.position)?;
        let word = word_at(&file.text, offset)?;
        let namespace = need(&root, word)
            .then(|| namespace_at(&file.text, offset, word))
            .flatten();
        Some((root, word.to_string(), namespace))
    }

    /// Whether the last check of the project in `root` declares `word` in
    /// more than one namespace (or has not been made).
    fn ambiguous(&self, root: &std::path::Path, word: &str) -> bool {
        self.declared.get(root).is_none_or(|declared| {
            declared
                .get(word)
                .is_some_and(|found| found.iter().any(|(namespace, _)| *namespace != found[0].0))
        })
    }

    /// The project in `root` read and parsed whole (open buffers over the
    /// disk), for a request that needs its trees.
    fn load(
        &self,
        root: &std::path::Path,
    ) -> Result<(crate::project::Project, Vec<crate::diag::Diagnostic>), crate::project::LoadError>
    {
        let overlay = Overlay {
            root,
            open: &self.open,
            listed: &self.listed,
        };
        crate::project::load_from(root, &overlay, crate::project::Parse::Whole)
    }

    /// Where the name under the cursor is declared: a backend, frontend,
    /// constant, TLS policy or environment of the project, in every
    /// branch that declares it. Names of the standard library (`tls.modern`)
    /// are not files the editor can open.
    pub(super) fn definition(&self, params: &GotoDefinitionParams) -> Option<Vec<Location>> {
        let (root, word, namespace) = self
            .name_under(&params.text_document_position_params, |root, word| {
                self.ambiguous(root, word)
            })?;
        let word = word.as_str();
        let found = match self.declared.get(&root) {
            Some(declared) => declared.get(word).cloned(),
            // A project not checked yet (no document of it was opened):
            // its files are read and parsed for this request.
            None => {
                let (project, _) = self.load(&root).ok()?;
                declared(&root, &project).remove(word)
            }
        };
        let locations: Vec<Location> = in_namespace(found.unwrap_or_default(), namespace);
        (!locations.is_empty()).then_some(locations)
    }

    /// Renames the project's name under the cursor: its declarations and
    /// every use ([`uses`]) in its namespace, in every file. Refused, with
    /// the reason, where [`Server::renamable`] refuses, or the new name is
    /// not a name of the language or is declared in the namespace already.
    pub(super) fn rename(&self, p: &lsp_types::RenameParams) -> Result<WorkspaceEdit, String> {
        let target = self.renamable(&p.text_document_position)?;
        let (word, new) = (target.word.as_str(), p.new_name.as_str());
        if !is_name(new) {
            return Err(format!(
                "`{}` is not a name: a letter or `_`, then letters, digits, `_` or `-`",
                new.escape_debug()
            ));
        }
        let project = &target.project;
        let namespace = Some(target.namespace);
        if target.namespace == Namespace::Value && crate::check::types::is_value_word(new) {
            return Err(format!(
                "`{new}` is a value of the language: a constant of that name would stand for \
                 it wherever it is written (`balance = leastconn`, `check = http {{ ... }}`)"
            ));
        }
        if found_in(project, declarations_named, new, namespace)
            .next()
            .is_some()
        {
            return Err(format!("`{new}` already names {}", target.namespace.noun()));
        }
        let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
        let spans = found_in(project, declarations_named, word, namespace)
            .chain(found_in(project, uses, word, namespace));
        for at in spans.filter_map(|span| location(&project.root, &project.sources, span)) {
            changes.entry(at.uri).or_default().push(TextEdit {
                range: at.range,
                new_text: new.to_string(),
            });
        }
        // An environment that counts as production stays one, and one that
        // does not is not made one by its new name.
        let section = &project.manifest.project;
        if target.namespace == Namespace::Env
            && section.production().any(|e| e == new)
            && !section.production().any(|e| e == word)
        {
            return Err(format!(
                "`{new}` counts as production in `haptic.toml`: `{word}` would become a production environment"
            ));
        }
        if target.namespace == Namespace::Env && section.production().any(|e| e == word) {
            let (at, edit) = production_edit(project, word, new).ok_or(
                "`haptic.toml` cannot be edited here: rename the environment there by hand",
            )?;
            changes.entry(at).or_default().push(edit);
        }
        Ok(WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        })
    }

    /// The name under the cursor, if it can be renamed: a backend,
    /// frontend, constant, TLS policy or environment of the project, in the
    /// namespace where it is written there, in a project whose files all
    /// parse (a use in what did not parse would
    /// be left as it is). Editors ask first (`prepareRename`), so the
    /// refusal comes before the new name is typed.
    pub(super) fn renamable(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
    ) -> Result<Renamable, String> {
        let path = file_path(&at.text_document.uri).ok_or("not a file")?;
        let root = project_root(&path).ok_or("no `haptic.toml` above this file")?;
        let (sources, id, parsed) = self
            .text(&path)
            .and_then(parsed_alone)
            .ok_or("the file cannot be read")?;
        let file = sources.get(id);
        let offset = offset_of(file, at.position).ok_or("no name of the project at the cursor")?;
        let (word, range) = word_range(&file.text, offset)
            .map(|r| {
                (
                    file.text[r.clone()].to_string(),
                    range(&sources, Span::new(id, r)),
                )
            })
            .ok_or("no name of the project at the cursor")?;
        let (project, read) = self
            .load(&root)
            .map_err(|_| "the project cannot be read".to_string())?;
        let unread = read
            .iter()
            .any(|d| matches!(d.code, Code::Syntax | Code::NotUtf8 | Code::TooDeep));
        if unread || project.files.iter().any(|f| !f.ast.lost.is_empty()) {
            return Err("a file of the project does not parse: mend it first".into());
        }
        // The namespace of the name where it is written here: `www` after
        // `->` is the backend, after `frontend` the frontend.
        let at = Span::new(id, offset..offset).start;
        let namespace = namespace_in(&parsed.items, at, &word)
            .filter(|&namespace| found_in(&project, declarations_named, &word, Some(namespace)).next().is_some())
            .ok_or_else(|| {
                format!(
                    "`{word}` is not a backend, frontend, constant, TLS policy or environment of this project"
                )
            })?;
        Ok(Renamable {
            word,
            namespace,
            range,
            project,
        })
    }

    /// The outline of a document: its environments, constants, TLS
    /// policies, backends (with their servers), frontends, `defaults`,
    /// `stats` and guards, in `if` branches too, from the buffer as it
    /// parses (items lost to a syntax error are left out).
    pub(super) fn outline(&self, uri: &Url) -> Option<lsp_types::DocumentSymbolResponse> {
        let path = file_path(uri)?;
        let (sources, _, file) = parsed_alone(self.text(&path)?)?;
        let mut symbols = Vec::new();
        outline(&file.items, &sources, &mut symbols);
        Some(lsp_types::DocumentSymbolResponse::Nested(symbols))
    }

    /// Where the name under the cursor is used in the project's files
    /// (and declared, when the client asks): a route or default naming a
    /// backend, a bind naming a TLS policy, a value naming a constant. The
    /// project is read and parsed for the request: it is asked for now and
    /// then, not at every keystroke.
    pub(super) fn references(&self, params: &lsp_types::ReferenceParams) -> Option<Vec<Location>> {
        let (root, word, namespace) =
            self.name_under(&params.text_document_position, |_, _| true)?;
        let word = word.as_str();
        let (project, _) = self.load(&root).ok()?;
        let mut spans: Vec<Span> = found_in(&project, uses, word, namespace).collect();
        if params.context.include_declaration {
            spans.extend(found_in(&project, declarations_named, word, namespace));
        }
        spans.sort();
        let locations = spans
            .into_iter()
            .filter_map(|span| location(&root, &project.sources, span))
            .collect();
        Some(locations)
    }

    /// The names declared in the projects checked so far that match
    /// `query`: its characters in order, case ignored (`apiv2` finds
    /// `api_v2`). Best first: the name itself, then names that start with
    /// it, that hold it, that hold its characters; at most
    /// [`SYMBOLS_LISTED`], as a project may declare tens of thousands.
    pub(super) fn workspace_symbols(&self, query: &str) -> Vec<lsp_types::WorkspaceSymbol> {
        use lsp_types::SymbolKind;
        let query = query.to_lowercase();
        let mut found = Vec::new();
        for declared in self.declared.values() {
            for (name, places) in declared {
                let Some(rank) = matches(&name.to_lowercase(), &query) else {
                    continue;
                };
                for (namespace, location) in places {
                    found.push((rank, name, *namespace, location));
                }
            }
        }
        // Every part of a place is a key, so that the order does not
        // depend on the maps'.
        found.sort_by(|a, b| {
            type Found<'a> = (u8, &'a String, Namespace, &'a Location);
            fn key<'a>(f: &Found<'a>) -> (u8, &'a str, &'a str, u32, u32) {
                let at = f.3.range.start;
                (f.0, f.1, f.3.uri.as_str(), at.line, at.character)
            }
            key(a).cmp(&key(b))
        });
        found.truncate(SYMBOLS_LISTED);
        found
            .into_iter()
            .map(
                |(_, name, namespace, location)| lsp_types::WorkspaceSymbol {
                    name: name.clone(),
                    kind: match namespace {
                        Namespace::Backend => SymbolKind::CLASS,
                        Namespace::Frontend => SymbolKind::INTERFACE,
                        Namespace::Value => SymbolKind::CONSTANT,
                        Namespace::Env => SymbolKind::ENUM_MEMBER,
                    },
                    tags: None,
                    container_name: None,
                    location: lsp_types::OneOf::Left(location.clone()),
                    data: None,
                },
            )
            .collect()
    }

    /// The declarations and uses of the name under the cursor in this
    /// buffer, in the namespace it is in there: what an editor marks while
    /// the cursor rests on a name. From the buffer parsed alone (what a
    /// syntax error loses is left out); nothing off a name of the project.
    pub(super) fn occurrences(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
    ) -> Option<Vec<lsp_types::DocumentHighlight>> {
        use lsp_types::{DocumentHighlight, DocumentHighlightKind};
        let path = file_path(&at.text_document.uri)?;
        let (sources, id) = alone(self.text(&path)?)?;
        let offset = offset_of(sources.get(id), at.position)?;
        let word = word_at(&sources.get(id).text, offset)?;
        // Editors ask wherever the cursor rests, mostly on keywords, fields
        // and values: the last check of the project says the word is no
        // name without parsing the buffer.
        let checked = project_root(&path).and_then(|root| self.declared.get(&root));
        if checked.is_some_and(|declared| !declared.contains_key(word)) {
            return None;
        }
        let (file, _) = crate::syntax::parse(id, &sources.get(id).text);
        let cursor = Span::new(id, offset..offset).start;
        let namespace = namespace_in(&file.items, cursor, word)?;
        let marked = |walk: Walk, kind: DocumentHighlightKind| {
            let mut found = Vec::new();
            walk(&file.items, word, &mut found);
            in_namespace(found, Some(namespace))
                .into_iter()
                .map(move |span| (span, kind))
        };
        let mut found: Vec<(Span, DocumentHighlightKind)> =
            marked(declarations_named, DocumentHighlightKind::WRITE)
                .chain(marked(uses, DocumentHighlightKind::READ))
                .collect();
        found.sort_by_key(|(span, _)| *span);
        Some(
            found
                .into_iter()
                .map(|(span, kind)| DocumentHighlight {
                    range: range(&sources, span),
                    kind: Some(kind),
                })
                .collect(),
        )
    }

    /// What the name under the cursor is: the line of each declaration of
    /// a name of the project (`let app_port: port = 8080`), or a field's
    /// type (`balance`: one of `roundrobin`, ...).
    pub(super) fn hover(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
    ) -> Option<lsp_types::Hover> {
        let path = file_path(&at.text_document.uri)?;
        let text = self.text(&path)?;
        let file = crate::source::SourceFile::new(String::new(), text);
        let offset = offset_of(&file, at.position)?;
        let range = name_range(&file.text, offset)?;
        if let Some(module) = range
            .start
            .checked_sub(1)
            .filter(|&dot| file.text[..range.start].ends_with('.') && dot > 0)
        {
            // `tls.modern`: a definition of the standard library.
            let module = &file.text[name_range(&file.text, module)?];
            let value = std_declaration(module, &file.text[range])?;
            return Some(markdown(format!("```haptic\n{value}\n```")));
        }
        let (start, word) = (range.start, &file.text[range.clone()]);
        // `route`: whether the route is an entry of the routes map.
        if word == "route" {
            let line = file.line_utf16(range.start).0 as u32;
            let notes = project_root(&path)
                .and_then(|root| self.routes.get(&root)?.get(&(path.clone(), line)));
            if let Some(notes) = notes {
                return Some(markdown(notes.join("\n\n")));
            }
        }
        // `guard min_servers`: what the rule requires.
        let before = file.text[..start].trim_end_matches([' ', '\t']);
        if name_range(&file.text, before.len()).is_some_and(|r| &file.text[r] == "guard") {
            if let Some(rule) = crate::check::types::guard_rule(word) {
                return Some(markdown(format!("`guard {}`: {}", rule.name, rule.summary)));
            }
        }
        let root = project_root(&path);
        let namespace = root
            .as_deref()
            .filter(|root| self.ambiguous(root, word))
            .and_then(|_| namespace_at(&file.text, offset, word));
        let declared = root
            .as_ref()
            .and_then(|root| self.declared.get(root))
            .and_then(|declared| declared.get(word))
            .map(|found| in_namespace(found.clone(), namespace))
            .filter(|locations| !locations.is_empty());
        let value = match declared {
            Some(locations) => {
                let mut lines: Vec<String> = Vec::new();
                for location in locations.iter().take(3) {
                    let line = self.line_of(location)?;
                    if !lines.contains(&line) {
                        lines.push(line);
                    }
                }
                format!("```haptic\n{}\n```", lines.join("\n"))
            }
            None => {
                let empty = super::completion::Symbols::default();
                let symbols = root
                    .as_ref()
                    .and_then(|root| self.symbols.get(root))
                    .unwrap_or(&empty);
                match super::completion::field(&file.text[..start], word, symbols) {
                    Some((name, ty, doc)) => {
                        let ty = super::completion::describe(ty);
                        match doc {
                            Some(doc) => format!("`{name}`: {ty}\n\n{doc}"),
                            None => format!("`{name}`: {ty}"),
                        }
                    }
                    // `balance = leastconn`: what the value does.
                    None => {
                        let field = before.strip_suffix('=')?.trim_end_matches([' ', '\t']);
                        let field_at = name_range(&file.text, field.len())?;
                        let (name, ty, _) = super::completion::field(
                            &file.text[..field_at.start],
                            &file.text[field_at],
                            symbols,
                        )?;
                        let crate::check::types::Ty::Enum(values) = ty else {
                            return None;
                        };
                        values.contains(&word).then_some(())?;
                        let doc = crate::check::docs::value(name, word)?;
                        format!("`{name} = {word}`: {doc}")
                    }
                }
            }
        };
        Some(markdown(value))
    }

    /// A declaration as the source writes it, from the editor's buffer or
    /// the disk: its line, and the lines of the block it opens there
    /// (`backend web {` to its `}`), at most [`HOVER_LINES`], unindented.
    fn line_of(&self, location: &Location) -> Option<String> {
        let path = file_path(&location.uri)?;
        let text = self.text(&path)?;
        let mut lines = text.lines().skip(location.range.start.line as usize);
        let first = lines.next()?;
        let indent = first.len() - first.trim_start().len();
        let mut depth = super::completion::brace_depth(first);
        let mut out = vec![first.trim().to_string()];
        for line in lines {
            if depth <= 0 {
                break;
            }
            if out.len() == HOVER_LINES {
                out.push("...".into());
                break;
            }
            depth += super::completion::brace_depth(line);
            let cut = indent.min(line.len() - line.trim_start().len());
            out.push(line[cut..].trim_end().to_string());
        }
        Some(out.join("\n"))
    }
}

/// The edit of `haptic.toml` that renames the environment `word`, which
/// counts as production, to `new`: its entry in `production = [...]`, or,
/// where the manifest leaves `production` to its default (`["production"]`),
/// the key written after `[project]` with the new name.
fn production_edit(
    project: &crate::project::Project,
    word: &str,
    new: &str,
) -> Option<(Url, TextEdit)> {
    let id = project.sources.find("haptic.toml")?;
    let text = &project.sources.get(id).text;
    let section = &project.manifest.project;
    let quoted = format!("\"{new}\"");
    let (span, new_text) = if let Some(written) = section.production_written() {
        let entry = written.iter().find(|e| e.get_ref() == word)?;
        (Span::new(id, entry.span()), quoted)
    } else {
        let header = text.find("[project]")?;
        let end = header + text[header..].find('\n')? + 1;
        (
            Span::new(id, end..end),
            format!("production = [{quoted}]\n"),
        )
    };
    let at = location(&project.root, &project.sources, span)?;
    Some((
        at.uri,
        TextEdit {
            range: at.range,
            new_text,
        },
    ))
}

/// A name the cursor is on that can be renamed, where, and the project
/// read for it.
pub(super) struct Renamable {
    word: String,
    namespace: Namespace,
    pub(super) range: Range,
    project: crate::project::Project,
}

/// The name (letters, digits, `_`, `-`) that `offset` is in or just after;
/// `None` for the second part of a dotted name (`tls.modern`).
fn word_at(text: &str, offset: usize) -> Option<&str> {
    word_range(text, offset).map(|range| &text[range])
}

/// How many lines of a declaration a hover shows.
const HOVER_LINES: usize = 12;

/// A hover of Markdown text.
fn markdown(value: String) -> lsp_types::Hover {
    lsp_types::Hover {
        contents: lsp_types::HoverContents::Markup(lsp_types::MarkupContent {
            kind: lsp_types::MarkupKind::Markdown,
            value,
        }),
        range: None,
    }
}

/// The definition `name` of standard module `module` as its source writes
/// it, with the comment above it: a `let` line, or a `tls` block.
fn std_declaration(module: &str, name: &str) -> Option<String> {
    let (_, source) = crate::project::STD_MODULES
        .iter()
        .find(|(m, _)| *m == module)?;
    let lines: Vec<&str> = source.lines().collect();
    let declares = |line: &str| {
        ["let ", "tls "].iter().any(|kw| {
            line.strip_prefix(kw)
                .and_then(|rest| rest.strip_prefix(name))
                .is_some_and(|rest| rest.starts_with([' ', ':', '{']))
        })
    };
    let at = lines.iter().position(|line| declares(line))?;
    let first = lines[..at]
        .iter()
        .rposition(|line| !line.starts_with("//"))
        .map_or(0, |i| i + 1);
    let last = if lines[at].trim_end().ends_with('{') {
        at + lines[at..].iter().position(|line| *line == "}")?
    } else {
        at
    };
    Some(lines[first..=last].join("\n"))
}

/// Where [`word_at`]'s name is in `text`.
fn word_range(text: &str, offset: usize) -> Option<std::ops::Range<usize>> {
    let range = name_range(text, offset)?;
    (!text[..range.start].ends_with('.')).then_some(range)
}

/// The name (letters, digits, `_`, `-`) that `offset` is in or just
/// after, dotted or not.
fn name_range(text: &str, offset: usize) -> Option<std::ops::Range<usize>> {
    use crate::syntax::is_name_char as is_name;
    // After the last character that is not a name's, whatever its width.
    let start = text[..offset]
        .char_indices()
        .rfind(|&(_, c)| !is_name(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = text[offset..]
        .find(|c: char| !is_name(c))
        .map_or(text.len(), |i| offset + i);
    (start != end).then_some(start..end)
}

/// How many names `workspace/symbol` answers with at most.
const SYMBOLS_LISTED: usize = 500;

/// How well `name` matches `query` (both lower case), lower is better:
/// equal, a prefix, a part, its characters in order; `None` for none.
fn matches(name: &str, query: &str) -> Option<u8> {
    if name == query {
        Some(0)
    } else if name.starts_with(query) {
        Some(1)
    } else if name.contains(query) {
        Some(2)
    } else {
        let mut rest = name.chars();
        query.chars().all(|q| rest.any(|c| c == q)).then_some(3)
    }
}

/// A walk that finds where a name stands among items, `if` branches
/// included, and in which namespace: [`declarations_named`] or [`uses`].
type Walk = fn(&[Item], &str, &mut Vec<(Namespace, Span)>);

/// Where `walk` finds `word` in the project's files: in `namespace`, or
/// in any.
fn found_in<'p>(
    project: &'p crate::project::Project,
    walk: Walk,
    word: &'p str,
    namespace: Option<Namespace>,
) -> impl Iterator<Item = Span> + 'p {
    project.files.iter().flat_map(move |parsed| {
        let mut found = Vec::new();
        walk(&parsed.ast.items, word, &mut found);
        in_namespace(found, namespace)
    })
}

/// The declarations of `word` among `items`, `if` branches included, with
/// their namespaces.
fn declarations_named(items: &[Item], word: &str, out: &mut Vec<(Namespace, Span)>) {
    declarations(items, &mut |namespace, name| {
        if name.name == word {
            out.push((namespace, name.span));
        }
    });
}

/// The places of `found` in `namespace` (spans, locations); all of them
/// where it is not known.
fn in_namespace<T>(found: Vec<(Namespace, T)>, namespace: Option<Namespace>) -> Vec<T> {
    found
        .into_iter()
        .filter(|(n, _)| namespace.is_none_or(|namespace| namespace == *n))
        .map(|(_, place)| place)
        .collect()
}

/// The namespace of `word` at `offset` of a buffer: that of the
/// declaration or use of it there, as the buffer parses on its own.
/// `None` where the buffer does not say (a syntax error, a field name).
fn namespace_at(text: &str, offset: usize, word: &str) -> Option<Namespace> {
    let (_, id, file) = parsed_alone(text.to_string())?;
    namespace_in(&file.items, Span::new(id, offset..offset).start, word)
}

/// [`namespace_at`] in a buffer parsed already: `at` is the cursor's
/// place as a span counts it.
fn namespace_in(items: &[Item], at: u32, word: &str) -> Option<Namespace> {
    let mut found = Vec::new();
    declarations_named(items, word, &mut found);
    uses(items, word, &mut found);
    found
        .into_iter()
        .find(|(_, span)| span.start <= at && at <= span.end)
        .map(|(namespace, _)| namespace)
}

/// Where `name` is used among `items`, `if` branches included, and in
/// which namespace: as a route's or default's backend, a bind's TLS
/// policy, a block's template or a constant or TLS policy in a value (not
/// `tls.modern`, a standard module's), or an environment in a condition
/// or a guard.
fn uses(items: &[Item], name: &str, out: &mut Vec<(Namespace, Span)>) {
    use crate::syntax::ast::{BodyItem, DefaultRoute, Expr};
    fn value(expr: &Expr, name: &str, out: &mut Vec<(Namespace, Span)>) {
        let mut paths = Vec::new();
        crate::check::paths_in(expr, &mut paths);
        for path in paths {
            if let [only] = path.segments.as_slice() {
                if only.name == name {
                    out.push((Namespace::Value, only.span));
                }
            }
        }
    }
    fn body(items: &[BodyItem], name: &str, out: &mut Vec<(Namespace, Span)>) {
        for item in items {
            match item {
                BodyItem::Field(f) => value(&f.value, name, out),
                BodyItem::Server(s) => {
                    value(&s.addr, name, out);
                    if let Some(options) = &s.options {
                        value(options, name, out);
                    }
                }
                BodyItem::Bind(b) => {
                    value(&b.addr, name, out);
                    if let Some([only]) = b.tls.as_ref().map(|p| p.segments.as_slice()) {
                        if only.name == name {
                            out.push((Namespace::Value, only.span));
                        }
                    }
                }
                BodyItem::Route(r) => {
                    if let RouteTarget::Backend(target) = &r.target {
                        if target.name == name {
                            out.push((Namespace::Backend, target.span));
                        }
                    }
                    // `from office`: a constant's list of networks.
                    if let Some(from) = r.from() {
                        value(from, name, out);
                    }
                }
                BodyItem::Default(DefaultRoute {
                    target: RouteTarget::Backend(target),
                    ..
                }) if target.name == name => out.push((Namespace::Backend, target.span)),
                BodyItem::Default(_) => {}
                BodyItem::Header(h) => value(&h.value, name, out),
                BodyItem::If(branch) => {
                    envs(&branch.cond.envs, name, out);
                    body(&branch.then, name, out);
                    body(&branch.otherwise, name, out);
                }
            }
        }
    }
    fn envs(list: &[crate::syntax::ast::Ident], name: &str, out: &mut Vec<(Namespace, Span)>) {
        out.extend(
            list.iter()
                .filter(|e| e.name == name)
                .map(|e| (Namespace::Env, e.span)),
        );
    }
    for item in items {
        match item {
            Item::Let(l) => value(&l.value, name, out),
            Item::Tls(t) => value(&t.value, name, out),
            Item::Backend(d) | Item::Frontend(d) | Item::Defaults(d) | Item::Stats(d) => {
                if let Some([only]) = d.template.as_ref().map(|p| p.segments.as_slice()) {
                    if only.name == name {
                        out.push((Namespace::Value, only.span));
                    }
                }
                body(&d.body, name, out);
            }
            Item::Guard(g) => {
                for field in g.options.iter().flat_map(|o| &o.fields) {
                    value(&field.value, name, out);
                }
                envs(&g.envs, name, out);
            }
            Item::If(branch) => {
                envs(&branch.cond.envs, name, out);
                uses(&branch.then, name, out);
                uses(&branch.otherwise, name, out);
            }
            Item::Import(_) | Item::Env(_) => {}
        }
    }
}

/// Whether `name` is a name of the language (`ident` in the grammar) that
/// reads as one wherever a name goes: not a boolean, nor a word that
/// starts a condition, a secret or a standard module.
fn is_name(name: &str) -> bool {
    const TAKEN: &[&str] = &[
        "true", "false", "if", "else", "in", "env", "secret", "std", "with",
    ];
    crate::syntax::is_ident(name) && !TAKEN.contains(&name)
}

/// The document symbols of `items`, `if` branches flattened in.
fn outline(items: &[Item], sources: &SourceMap, out: &mut Vec<lsp_types::DocumentSymbol>) {
    use crate::syntax::ast::BodyItem;
    use lsp_types::SymbolKind;
    #[allow(deprecated)] // `deprecated` is a required field of the type.
    let symbol = |name: &str, detail: &str, kind: SymbolKind, whole: Span, name_at: Span| {
        lsp_types::DocumentSymbol {
            name: name.to_string(),
            detail: Some(detail.to_string()),
            kind,
            tags: None,
            deprecated: None,
            range: range(sources, whole),
            selection_range: range(sources, name_at),
            children: None,
        }
    };
    for item in items {
        let found = match item {
            Item::Env(e) => symbol(&e.name, "env", SymbolKind::ENUM_MEMBER, e.span, e.span),
            Item::Let(l) => symbol(
                &l.name.name,
                "let",
                SymbolKind::CONSTANT,
                l.name.span.to(l.value.span),
                l.name.span,
            ),
            Item::Tls(t) => symbol(
                &t.name.name,
                "tls",
                SymbolKind::STRUCT,
                t.name.span.to(t.value.span),
                t.name.span,
            ),
            Item::Backend(d) => {
                let mut backend = symbol(
                    &d.name.name,
                    "backend",
                    SymbolKind::CLASS,
                    d.span,
                    d.name.span,
                );
                let mut servers = Vec::new();
                let mut stack: Vec<&[BodyItem]> = vec![&d.body];
                while let Some(body) = stack.pop() {
                    for item in body {
                        match item {
                            BodyItem::Server(s) => servers.push(symbol(
                                &s.name.name,
                                "server",
                                SymbolKind::FIELD,
                                s.span,
                                s.name.span,
                            )),
                            BodyItem::If(branch) => {
                                stack.push(&branch.then);
                                stack.push(&branch.otherwise);
                            }
                            _ => {}
                        }
                    }
                }
                servers.sort_by_key(|s| (s.range.start.line, s.range.start.character));
                backend.children = Some(servers);
                backend
            }
            Item::Frontend(d) => symbol(
                &d.name.name,
                "frontend",
                SymbolKind::INTERFACE,
                d.span,
                d.name.span,
            ),
            Item::Defaults(d) | Item::Stats(d) => {
                symbol(&d.name.name, "", SymbolKind::OBJECT, d.span, d.name.span)
            }
            Item::Guard(g) => symbol(
                &g.name.name,
                "guard",
                SymbolKind::EVENT,
                g.span,
                g.name.span,
            ),
            Item::If(branch) => {
                outline(&branch.then, sources, out);
                outline(&branch.otherwise, sources, out);
                continue;
            }
            Item::Import(_) => continue,
        };
        out.push(found);
    }
}
