//! `haptic lsp`: a language server on standard input and output that
//! publishes the same diagnostics as `haptic check`, as the user types.
//!
//! Each change re-checks the project that holds the document (the nearest
//! directory above it with a `haptic.toml`), reading open documents from
//! the editor's buffers and everything else from disk. The check also
//! notes where each name is declared, which go to definition and hover
//! look up, and the names by kind, which completion offers
//! (`completion.rs`). References and rename read the project for the
//! request; the outline and formatting read the buffer alone. Quick fixes
//! import a file no import reaches and write the nearest name in place of
//! a misspelt one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, Message, Notification};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    PrepareRenameRequest, References, Rename, Request as _,
};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CompletionItem,
    CompletionItemKind, CompletionParams, DiagnosticRelatedInformation, DiagnosticSeverity,
    DocumentFormattingParams, GotoDefinitionParams, Location, NumberOrString, Position,
    PublishDiagnosticsParams, Range, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextEdit, Url, WorkspaceEdit,
};

use crate::diag::{Code, Diagnostic, Severity};
use crate::driver;
use crate::project::{Files, LoadError};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::Item;

pub mod completion;
pub mod highlight;
mod navigate;

/// Runs the server until the client says `exit`.
pub fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (connection, io_threads) = Connection::stdio();
    serve(&connection)?;
    // The writer thread ends when the last sender is gone.
    drop(connection);
    io_threads.join()?;
    Ok(())
}

/// The server loop, on any connection (tests use an in-memory one).
pub fn serve(connection: &Connection) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        document_formatting_provider: Some(lsp_types::OneOf::Left(true)),
        definition_provider: Some(lsp_types::OneOf::Left(true)),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        references_provider: Some(lsp_types::OneOf::Left(true)),
        document_highlight_provider: Some(lsp_types::OneOf::Left(true)),
        workspace_symbol_provider: Some(lsp_types::OneOf::Left(true)),
        document_symbol_provider: Some(lsp_types::OneOf::Left(true)),
        rename_provider: Some(lsp_types::OneOf::Right(lsp_types::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        code_action_provider: Some(lsp_types::CodeActionProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(
            lsp_types::SemanticTokensOptions {
                legend: highlight::legend(),
                full: Some(lsp_types::SemanticTokensFullOptions::Bool(true)),
                ..lsp_types::SemanticTokensOptions::default()
            }
            .into(),
        ),
        completion_provider: Some(lsp_types::CompletionOptions {
            trigger_characters: Some(vec![".".into(), ">".into()]),
            ..lsp_types::CompletionOptions::default()
        }),
        ..ServerCapabilities::default()
    };
    let init = connection.initialize(serde_json::to_value(capabilities)?)?;
    if init["capabilities"]["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] == true {
        connection.sender.send(Message::Request(watch_files()))?;
    }
    let mut server = Server::default();
    // A message read while gathering changes, handled next.
    let mut next: Option<Message> = None;
    loop {
        let message = match next.take() {
            Some(message) => message,
            None => match connection.receiver.recv() {
                Ok(message) => message,
                Err(_) => return Ok(()),
            },
        };
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(());
                }
                let response = server.answer(request);
                connection.sender.send(Message::Response(response))?;
            }
            Message::Notification(notification) => {
                // Every change already waiting is applied before checking,
                // and each project is checked once for all of them: a
                // project that takes a while to check does not fall
                // further behind the editor with each keystroke.
                let mut roots = std::collections::BTreeSet::new();
                roots.extend(server.document(notification));
                while let Ok(waiting) = connection.receiver.try_recv() {
                    match waiting {
                        Message::Notification(n) => roots.extend(server.document(n)),
                        other => {
                            next = Some(other);
                            break;
                        }
                    }
                }
                for root in roots {
                    for publish in server.check(&root) {
                        connection
                            .sender
                            .send(Message::Notification(Notification::new(
                                PublishDiagnostics::METHOD.to_string(),
                                publish,
                            )))?;
                    }
                }
            }
            Message::Response(_) => {}
        }
    }
}

#[derive(Default)]
struct Server {
    /// Open documents: path → text as in the editor.
    open: HashMap<PathBuf, String>,
    /// Files that were last published with diagnostics, per project root,
    /// so that fixing a file clears its diagnostics.
    published: HashMap<PathBuf, HashSet<PathBuf>>,
    /// Where each name is declared, per project root, as of its last
    /// check: a definition request looks the name up instead of loading
    /// the project again (half a second at 20,000 backends).
    declared: HashMap<PathBuf, Declared>,
    /// Per project root, as of its last check: how to import the files
    /// that no import reaches (W0007), for the quick fix.
    imports: HashMap<PathBuf, ImportFix>,
    /// Per project root, as of its last check: the names it declares by
    /// kind, for completion.
    symbols: HashMap<PathBuf, completion::Symbols>,
    /// Per project root, as of its last check: for the line of each route
    /// of an environment with a routes map, whether it is an entry of the
    /// map or a rule, and why (shown when `route` is hovered).
    routes: HashMap<PathBuf, RouteNotes>,
    /// Per project root, its `.hap` files on disk (W0007), walked again
    /// when a document of the project is opened, saved or closed, not at
    /// every change: the walk looks at every file under the root.
    listed: Listed,
}

/// What the hover of a route says, by file and 0-based line: a note for
/// each environment with a routes map.
type RouteNotes = HashMap<(PathBuf, u32), Vec<String>>;

/// Whether each route of every environment with a routes map is an entry
/// of the map (its changes go live without a reload) or a rule, and why.
fn route_notes(root: &Path, compilation: &driver::Compilation) -> RouteNotes {
    let sources = &compilation.project.sources;
    let mut notes = RouteNotes::new();
    for env in &compilation.envs {
        let Some(map) = env.routes_map() else {
            continue;
        };
        for fe in &env.frontends {
            for (route, fit) in fe.routes.iter().zip(fe.map_fit()) {
                let (file, span) = sources.locate(route.origin);
                if file.name.starts_with("std/") {
                    continue;
                }
                let note = match (fit, &route.host) {
                    (Ok(()), Some(host)) => format!(
                        "`{}`: an entry of the routes map `{map}` (`{}`): its changes go live \
                         without a reload",
                        env.name,
                        crate::lower::map_key(host, &fe.name, route.path.as_ref())
                    ),
                    (Ok(()), None) => continue,
                    (Err(why), _) => format!(
                        "`{}`: a `use_backend` rule, not an entry of the routes map: {}; its \
                         changes need a reload",
                        env.name,
                        fe.why_not_entry(why)
                    ),
                };
                let line = file.line_utf16(span.start).0 as u32;
                notes
                    .entry((root.join(&file.name), line))
                    .or_default()
                    .push(note);
            }
        }
    }
    notes
}

/// `.hap` files on disk by project root, with the outputs directory they
/// were listed without.
type Listed = std::sync::Mutex<HashMap<PathBuf, (String, Vec<String>)>>;

/// Where an import goes in a project's entry file, and the files that
/// want one.
struct ImportFix {
    entry: PathBuf,
    /// The start of the line after the entry's last import (or the first);
    /// or the end of that import's line when the file ends there without
    /// a newline, and the import then starts with one.
    at: Position,
    newline_first: bool,
    unreached: HashSet<PathBuf>,
}

/// Declared names (backends, frontends, constants, TLS policies,
/// environments), their namespace and where, in every `if` branch that
/// declares them.
type Declared = crate::hash::Map<String, Vec<(Namespace, Location)>>;

/// The namespaces of the language's names: one name may be declared in
/// each (`backend www` and `frontend www`, `let api` and `backend api`),
/// and where a name is written says which it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Namespace {
    /// Declared by `backend`; named by routes and defaults.
    Backend,
    /// Declared by `frontend`; named by nothing.
    Frontend,
    /// Constants and TLS policies: declared by `let` and `tls`; named by
    /// values and binds.
    Value,
    /// Declared by `env`; named by conditions and guards.
    Env,
}

impl Namespace {
    /// What a name of the namespace is, in messages, with its article.
    pub(super) fn noun(self) -> &'static str {
        match self {
            Namespace::Backend => "a backend",
            Namespace::Frontend => "a frontend",
            Namespace::Value => "a constant or TLS policy",
            Namespace::Env => "an environment",
        }
    }
}

impl Server {
    /// The response to a request other than `shutdown`.
    fn answer(&self, request: lsp_server::Request) -> lsp_server::Response {
        fn params<T: serde::de::DeserializeOwned>(request: lsp_server::Request) -> Option<T> {
            serde_json::from_value(request.params).ok()
        }
        let id = request.id.clone();
        match request.method.as_str() {
            GotoDefinition::METHOD => {
                let found = params(request).and_then(|p: GotoDefinitionParams| self.definition(&p));
                lsp_server::Response::new_ok(id, found)
            }
            Formatting::METHOD => {
                let edits = params(request)
                    .and_then(|p: DocumentFormattingParams| self.format(&p.text_document.uri));
                lsp_server::Response::new_ok(id, edits)
            }
            Rename::METHOD => {
                let renamed = params(request).map(|p: lsp_types::RenameParams| self.rename(&p));
                refusable(id, renamed)
            }
            PrepareRenameRequest::METHOD => {
                let target = params(request).map(|p: lsp_types::TextDocumentPositionParams| {
                    self.renamable(&p)
                        .map(|t| lsp_types::PrepareRenameResponse::Range(t.range))
                });
                refusable(id, target)
            }
            DocumentSymbolRequest::METHOD => {
                let symbols = params(request).and_then(|p: lsp_types::DocumentSymbolParams| {
                    self.outline(&p.text_document.uri)
                });
                lsp_server::Response::new_ok(id, symbols)
            }
            References::METHOD => {
                let found =
                    params(request).and_then(|p: lsp_types::ReferenceParams| self.references(&p));
                lsp_server::Response::new_ok(id, found)
            }
            lsp_types::request::DocumentHighlightRequest::METHOD => {
                let marked = params(request).and_then(|p: lsp_types::DocumentHighlightParams| {
                    self.occurrences(&p.text_document_position_params)
                });
                lsp_server::Response::new_ok(id, marked)
            }
            lsp_types::request::WorkspaceSymbolRequest::METHOD => {
                let symbols = params(request).map(|p: lsp_types::WorkspaceSymbolParams| {
                    lsp_types::WorkspaceSymbolResponse::Nested(self.workspace_symbols(&p.query))
                });
                lsp_server::Response::new_ok(id, symbols)
            }
            HoverRequest::METHOD => {
                let hover = params(request).and_then(|p: lsp_types::HoverParams| {
                    self.hover(&p.text_document_position_params)
                });
                lsp_server::Response::new_ok(id, hover)
            }
            Completion::METHOD => {
                let items = params(request)
                    .map(|p: CompletionParams| self.completion(&p.text_document_position))
                    .unwrap_or_default();
                lsp_server::Response::new_ok(id, items)
            }
            CodeActionRequest::METHOD => {
                let actions = params(request)
                    .map(|p: CodeActionParams| self.code_actions(&p))
                    .unwrap_or_default();
                lsp_server::Response::new_ok(id, actions)
            }
            lsp_types::request::SemanticTokensFullRequest::METHOD => {
                let tokens = params(request).and_then(|p: lsp_types::SemanticTokensParams| {
                    let text = self.text(&file_path(&p.text_document.uri)?)?;
                    Some(lsp_types::SemanticTokens {
                        result_id: None,
                        data: highlight::tokens(&text),
                    })
                });
                lsp_server::Response::new_ok(id, tokens)
            }
            // Answered, so that the client does not wait.
            method => lsp_server::Response::new_err(
                id,
                lsp_server::ErrorCode::MethodNotFound as i32,
                format!("haptic does not support `{method}`"),
            ),
        }
    }

    /// The text of a document: the editor's buffer, or else the file.
    fn text(&self, path: &Path) -> Option<String> {
        match self.open.get(path) {
            Some(text) => Some(text.clone()),
            None => std::fs::read_to_string(path).ok(),
        }
    }

    fn listed_mut(&mut self) -> &mut HashMap<PathBuf, (String, Vec<String>)> {
        self.listed
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies a notification; returns the roots of the projects to check
    /// again. A document opened, saved or closed has its project's files
    /// listed again. Files made, changed or deleted on disk (as the client
    /// tells, through the watchers [`watch_files`] asks for) have every
    /// project already checked that holds them listed and checked again:
    /// a file no editor has open changes under a `git checkout`.
    fn document(&mut self, n: Notification) -> Vec<PathBuf> {
        if n.method == DidChangeWatchedFiles::METHOD {
            let Ok(p) = serde_json::from_value::<lsp_types::DidChangeWatchedFilesParams>(n.params)
            else {
                return Vec::new();
            };
            let mut roots = Vec::new();
            for path in p.changes.iter().filter_map(|c| file_path(&c.uri)) {
                roots.extend(
                    self.published
                        .keys()
                        .filter(|root| path.starts_with(root))
                        .cloned(),
                );
            }
            let listed = self.listed_mut();
            for root in &roots {
                listed.remove(root);
            }
            return roots;
        }
        let relists = [
            DidOpenTextDocument::METHOD,
            DidSaveTextDocument::METHOD,
            DidCloseTextDocument::METHOD,
        ]
        .contains(&n.method.as_str());
        let Some(root) = self.apply(n).as_deref().and_then(project_root) else {
            return Vec::new();
        };
        if relists {
            self.listed_mut().remove(&root);
        }
        vec![root]
    }

    fn apply(&mut self, n: Notification) -> Option<PathBuf> {
        fn params<T: serde::de::DeserializeOwned>(n: Notification) -> Option<T> {
            serde_json::from_value(n.params).ok()
        }
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let p: lsp_types::DidOpenTextDocumentParams = params(n)?;
                let path = file_path(&p.text_document.uri)?;
                self.open.insert(path.clone(), p.text_document.text);
                Some(path)
            }
            DidChangeTextDocument::METHOD => {
                let p: lsp_types::DidChangeTextDocumentParams = params(n)?;
                let path = file_path(&p.text_document.uri)?;
                // Full synchronisation: the last change holds the whole text.
                if let Some(change) = p.content_changes.into_iter().last() {
                    self.open.insert(path.clone(), change.text);
                }
                Some(path)
            }
            DidSaveTextDocument::METHOD => {
                let p: lsp_types::DidSaveTextDocumentParams = params(n)?;
                file_path(&p.text_document.uri)
            }
            DidCloseTextDocument::METHOD => {
                let p: lsp_types::DidCloseTextDocumentParams = params(n)?;
                let path = file_path(&p.text_document.uri)?;
                self.open.remove(&path);
                Some(path)
            }
            _ => None,
        }
    }

    /// `haptic fmt` of an open document, as one edit of the whole text
    /// (none when it is formatted already); `None` when it does not parse,
    /// since the formatter trusts the tokens.
    fn format(&self, uri: &Url) -> Option<Vec<TextEdit>> {
        let path = file_path(uri)?;
        let text = self.open.get(&path)?;
        let (_, id) = alone(text.clone())?;
        let (_, diags) = crate::syntax::parse(id, text);
        if diags.iter().any(|d| crate::fmt::stops_formatting(d.code)) {
            return None;
        }
        let formatted = crate::fmt::format(text);
        if formatted == *text {
            return Some(Vec::new());
        }
        // The end of the text: its last line, in UTF-16 units.
        let last = text.rsplit('\n').next().unwrap_or("");
        let end = Position {
            line: text.matches('\n').count() as u32,
            character: last.encode_utf16().count() as u32,
        };
        Some(vec![TextEdit {
            range: Range {
                start: Position::default(),
                end,
            },
            new_text: formatted,
        }])
    }

    /// What may be written at the cursor (`completion.rs`), with the
    /// project's names as of its last check.
    fn completion(&self, at: &lsp_types::TextDocumentPositionParams) -> Vec<CompletionItem> {
        let Some(path) = file_path(&at.text_document.uri) else {
            return Vec::new();
        };
        let text = self.text(&path).unwrap_or_default();
        let file = crate::source::SourceFile::new(String::new(), text);
        let Some(offset) = offset_of(&file, at.position) else {
            return Vec::new();
        };
        let empty = completion::Symbols::default();
        let symbols = project_root(&path)
            .and_then(|root| self.symbols.get(&root))
            .unwrap_or(&empty);
        completion::complete(&file.text, offset, symbols)
            .into_iter()
            .map(|c| {
                use completion::Kind;
                let kind = match c.kind {
                    Kind::Keyword => CompletionItemKind::KEYWORD,
                    Kind::Field => CompletionItemKind::FIELD,
                    Kind::Value => CompletionItemKind::ENUM_MEMBER,
                    Kind::Backend => CompletionItemKind::CLASS,
                    Kind::Tls => CompletionItemKind::STRUCT,
                    Kind::Constant => CompletionItemKind::CONSTANT,
                    Kind::Env => CompletionItemKind::VALUE,
                    Kind::Module => CompletionItemKind::MODULE,
                    Kind::Type => CompletionItemKind::TYPE_PARAMETER,
                };
                CompletionItem {
                    label: c.label,
                    kind: Some(kind),
                    detail: c.detail,
                    documentation: c.doc.map(|doc| {
                        lsp_types::Documentation::MarkupContent(lsp_types::MarkupContent {
                            kind: lsp_types::MarkupKind::Markdown,
                            value: doc.to_string(),
                        })
                    }),
                    ..CompletionItem::default()
                }
            })
            .collect()
    }

    /// The quick fixes: a diagnostic's fix in place of its text (from the
    /// diagnostics the client sends back), the removal of an unused
    /// definition (W0008) or of a server at another's address (W0009), and
    /// for a file that no import reaches (W0007),
    /// an import of it at the end of the entry file's imports. None loads
    /// the project: editors ask as the cursor moves.
    fn code_actions(&self, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        let mut actions = replacements(params);
        actions.extend(self.removals(params));
        actions.extend(self.import_action(params));
        actions
    }

    /// For each unused definition (W0008) and each server at the address
    /// of another (W0009) among the diagnostics the client sends back, its
    /// removal: the whole lines of its `let`, `tls` or `server` item, where
    /// nothing else stands on them. The buffer is parsed alone.
    fn removals(&self, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        let code = |code: Code| Some(NumberOrString::String(code.as_str().into()));
        let (unused, duplicate) = (code(Code::UnusedDefinition), code(Code::DuplicateAddress));
        let found: Vec<&lsp_types::Diagnostic> = params
            .context
            .diagnostics
            .iter()
            .filter(|d| d.code == unused || d.code == duplicate)
            .collect();
        let Some(text) = file_path(&params.text_document.uri)
            .filter(|_| !found.is_empty())
            .and_then(|path| self.text(&path))
        else {
            return Vec::new();
        };
        let Some((sources, id, file)) = parsed_alone(text) else {
            return Vec::new();
        };
        let text = &sources.get(id).text;
        let mut definitions = Vec::new();
        defined(&file.items, &mut definitions);
        let mut servers = Vec::new();
        servers_in(&file.items, &mut servers);
        let mut actions = Vec::new();
        for d in found {
            // What the diagnostic is about (W0008 points at the name, W0009
            // at the address), the whole item but its keyword, and that
            // keyword: all that may stand before it on its line.
            let target = if d.code == unused {
                definitions
                    .iter()
                    .find(|(name, _)| range(&sources, name.span) == d.range)
                    .map(|(name, whole)| {
                        (
                            format!("remove `{}`", name.name),
                            *whole,
                            &["let", "tls"][..],
                        )
                    })
            } else {
                servers
                    .iter()
                    .find(|s| range(&sources, s.addr.span) == d.range)
                    .map(|s| {
                        (
                            format!("remove server `{}`", s.name.name),
                            s.span,
                            &[""][..],
                        )
                    })
            };
            let Some((title, whole, keywords)) = target else {
                continue;
            };
            let (_, bytes) = sources.locate(whole);
            let first = text[..bytes.start].rfind('\n').map_or(0, |n| n + 1);
            let before = text[first..bytes.start].trim();
            let rest = text[bytes.end..].split('\n').next().unwrap_or("").trim();
            if !keywords.contains(&before) || !(rest.is_empty() || rest.starts_with("//")) {
                continue;
            }
            let last = text[bytes.end..]
                .find('\n')
                .map_or(text.len(), |n| bytes.end + n + 1);
            let edit = TextEdit {
                range: range(&sources, Span::new(id, first..last)),
                new_text: String::new(),
            };
            let fix = quick_fix(title, d, &params.text_document.uri, edit);
            actions.push(CodeActionOrCommand::CodeAction(fix));
        }
        actions
    }

    /// The import of a file that no import reaches, if this is one.
    fn import_action(&self, params: &CodeActionParams) -> Option<CodeActionOrCommand> {
        let path = file_path(&params.text_document.uri)?;
        let (root, fix) = project_root(&path).and_then(|r| self.imports.get_key_value(&r))?;
        let (Some(rel), Ok(entry)) = (
            path.strip_prefix(root).ok().and_then(Path::to_str),
            Url::from_file_path(&fix.entry),
        ) else {
            return None;
        };
        if !fix.unreached.contains(&path) {
            return None;
        }
        let entry_name = fix.entry.strip_prefix(root).unwrap_or(&fix.entry).display();
        let edit = TextEdit {
            range: Range::new(fix.at, fix.at),
            new_text: if fix.newline_first {
                format!("\nimport \"{}\"", rel.escape_debug())
            } else {
                format!("import \"{}\"\n", rel.escape_debug())
            },
        };
        let diagnostics: Vec<lsp_types::Diagnostic> = params
            .context
            .diagnostics
            .iter()
            .filter(|d| {
                d.code == Some(NumberOrString::String(Code::UnimportedFile.as_str().into()))
            })
            .cloned()
            .collect();
        Some(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("import `{}` from `{entry_name}`", rel.escape_debug()),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: (!diagnostics.is_empty()).then_some(diagnostics),
            edit: Some(WorkspaceEdit {
                changes: Some(std::iter::once((entry, vec![edit])).collect()),
                ..WorkspaceEdit::default()
            }),
            is_preferred: Some(true),
            ..CodeAction::default()
        }))
    }

    /// Checks the project in `root` and returns what to publish: every
    /// file with diagnostics, and an empty list for files that had some.
    fn check(&mut self, root: &Path) -> Vec<PublishDiagnosticsParams> {
        let overlay = Overlay {
            root,
            open: &self.open,
            listed: &self.listed,
        };
        let mut by_file: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        self.declared.remove(root);
        self.imports.remove(root);
        self.routes.remove(root);
        match driver::compile_whole_from(root, &overlay) {
            Ok(compilation) => {
                for d in &compilation.diagnostics {
                    collect(root, d, &compilation.project.sources, &mut by_file);
                }
                let declared = declared(root, &compilation.project);
                self.declared.insert(root.to_path_buf(), declared);
                let mut symbols = completion::Symbols::of(&compilation.project);
                let lost = compilation
                    .project
                    .files
                    .iter()
                    .any(|f| !f.ast.lost.is_empty());
                if let (true, Some(before)) = (lost, self.symbols.remove(root)) {
                    symbols.keep(before);
                }
                self.symbols.insert(root.to_path_buf(), symbols);
                if let Some(fix) = import_fix(root, &compilation) {
                    self.imports.insert(root.to_path_buf(), fix);
                }
                self.routes
                    .insert(root.to_path_buf(), route_notes(root, &compilation));
            }
            Err(LoadError::Manifest(sources, diags)) => {
                for d in &diags {
                    collect(root, d, &sources, &mut by_file);
                }
            }
            Err(LoadError::Io(_)) => {}
        }
        let previous = self
            .published
            .insert(root.to_path_buf(), by_file.keys().cloned().collect())
            .unwrap_or_default();
        for path in previous {
            by_file.entry(path).or_default();
        }
        by_file
            .into_iter()
            .filter_map(|(path, diagnostics)| {
                Some(PublishDiagnosticsParams {
                    uri: Url::from_file_path(&path).ok()?,
                    diagnostics,
                    version: None,
                })
            })
            .collect()
    }
}

/// The project's files, with the editor's buffers over the disk.
struct Overlay<'a> {
    root: &'a Path,
    open: &'a HashMap<PathBuf, String>,
    listed: &'a Listed,
}

impl Files for Overlay<'_> {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let full = self.root.join(path);
        match self.open.get(&full) {
            Some(text) => Ok(text.clone().into_bytes()),
            None => std::fs::read(full),
        }
    }

    /// The files on disk, and buffers of this project's `.hap` files not
    /// saved yet.
    fn list(&self, outputs: &str) -> Vec<String> {
        let mut listed = self
            .listed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut files = match listed.get(self.root) {
            // A file deleted since the walk is not reported.
            Some((out, files)) if out == outputs => files
                .iter()
                .filter(|f| self.root.join(f).is_file())
                .cloned()
                .collect(),
            _ => {
                let files = crate::project::hap_files(self.root, outputs);
                listed.insert(
                    self.root.to_path_buf(),
                    (outputs.to_string(), files.clone()),
                );
                files
            }
        };
        drop(listed);
        for path in self.open.keys() {
            if project_root(path).as_deref() != Some(self.root) {
                continue;
            }
            let Some(rel) = path.strip_prefix(self.root).ok().and_then(Path::to_str) else {
                continue;
            };
            let hidden = rel.split('/').any(|part| part.starts_with('.'));
            if crate::project::importable(rel) && !hidden && !files.iter().any(|f| f == rel) {
                files.push(rel.to_string());
            }
        }
        files.sort();
        files
    }
}

fn file_path(uri: &Url) -> Option<PathBuf> {
    uri.to_file_path().ok()
}

/// The fixes of misspellings among the diagnostics the client sends back:
/// the replacement each was published with (`data.replacement`) in place
/// of the misspelt text.
fn replacements(params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
    params
        .context
        .diagnostics
        .iter()
        .filter_map(|d| {
            let with = d.data.as_ref()?.get("replacement")?.as_str()?;
            let edit = TextEdit {
                range: d.range,
                new_text: with.to_string(),
            };
            let title = format!("replace with `{with}`");
            // The one an editor applies when asked to fix everything.
            let fix = quick_fix(title, d, &params.text_document.uri, edit);
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                is_preferred: Some(true),
                ..fix
            }))
        })
        .collect()
}

/// A quick fix of diagnostic `d` by one edit of document `uri`.
fn quick_fix(title: String, d: &lsp_types::Diagnostic, uri: &Url, edit: TextEdit) -> CodeAction {
    CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![d.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(std::iter::once((uri.clone(), vec![edit])).collect()),
            ..WorkspaceEdit::default()
        }),
        ..CodeAction::default()
    }
}

/// The `let` and `tls` items among `items`, `if` branches included: each
/// one's name, and its span from the name to the end of its value.
fn defined<'a>(items: &'a [Item], out: &mut Vec<(&'a crate::syntax::ast::Ident, Span)>) {
    for item in items {
        match item {
            Item::Let(l) => out.push((&l.name, l.name.span.to(l.value.span))),
            Item::Tls(t) => out.push((&t.name, t.name.span.to(t.value.span))),
            Item::If(branch) => {
                defined(&branch.then, out);
                defined(&branch.otherwise, out);
            }
            _ => {}
        }
    }
}

/// The servers among `items`: of backends, in `if` branches too.
fn servers_in<'a>(items: &'a [Item], out: &mut Vec<&'a crate::syntax::ast::Server>) {
    use crate::syntax::ast::BodyItem;
    fn body<'a>(items: &'a [BodyItem], out: &mut Vec<&'a crate::syntax::ast::Server>) {
        for item in items {
            match item {
                BodyItem::Server(s) => out.push(s),
                BodyItem::If(branch) => {
                    body(&branch.then, out);
                    body(&branch.otherwise, out);
                }
                _ => {}
            }
        }
    }
    for item in items {
        match item {
            Item::Backend(d) => body(&d.body, out),
            Item::If(branch) => {
                servers_in(&branch.then, out);
                servers_in(&branch.otherwise, out);
            }
            _ => {}
        }
    }
}

/// The request for the client to tell the server about `.hap` files and
/// manifests made, changed or deleted on disk
/// (`workspace/didChangeWatchedFiles`).
fn watch_files() -> lsp_server::Request {
    let watcher = |glob: &str| lsp_types::FileSystemWatcher {
        glob_pattern: lsp_types::GlobPattern::String(glob.to_string()),
        kind: None,
    };
    let options = lsp_types::DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![watcher("**/*.hap"), watcher("**/haptic.toml")],
    };
    let params = lsp_types::RegistrationParams {
        registrations: vec![lsp_types::Registration {
            id: "haptic-watched-files".to_string(),
            method: DidChangeWatchedFiles::METHOD.to_string(),
            register_options: serde_json::to_value(options).ok(),
        }],
    };
    lsp_server::Request::new(
        lsp_server::RequestId::from("haptic-watched-files".to_string()),
        lsp_types::request::RegisterCapability::METHOD.to_string(),
        params,
    )
}

/// The nearest directory at or above `file` that holds a `haptic.toml`.
fn project_root(file: &Path) -> Option<PathBuf> {
    file.ancestors()
        .skip(1)
        .find(|dir| dir.join("haptic.toml").is_file())
        .map(Path::to_path_buf)
}

fn collect(
    root: &Path,
    d: &Diagnostic,
    sources: &SourceMap,
    out: &mut BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>,
) {
    let Some(span) = d.span else { return };
    let file = &sources.locate(span).0.name;
    // The standard library is embedded, not a file the editor can open.
    if file.starts_with("std/") {
        return;
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter_map(|l| {
            Some(DiagnosticRelatedInformation {
                location: location(root, sources, l.span)?,
                message: l.message.clone(),
            })
        })
        .collect();
    let mut message = d.message.clone();
    for help in &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    out.entry(root.join(file))
        .or_default()
        .push(lsp_types::Diagnostic {
            range: range(sources, span),
            severity: Some(match d.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(d.code.as_str().to_string())),
            source: Some("haptic".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            // Editors fade what nothing uses or reaches.
            tags: matches!(
                d.code,
                Code::UnusedBackend | Code::UnusedDefinition | Code::ShadowedRoute
            )
            .then(|| vec![lsp_types::DiagnosticTag::UNNECESSARY]),
            // Sent back with a code action request: the quick fix.
            data: d
                .fix
                .as_ref()
                .map(|fix| serde_json::json!({ "replacement": fix.replacement })),
            ..lsp_types::Diagnostic::default()
        });
}

/// The byte offset of an LSP position (a column in UTF-16 code units).
fn offset_of(file: &crate::source::SourceFile, position: Position) -> Option<usize> {
    let start = file.start_of_line(position.line as usize);
    let line = file.text.get(start..)?;
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= position.character as usize || c == '\n' {
            return Some(start + i);
        }
        units += c.len_utf16();
    }
    Some(file.text.len())
}

/// The response to a request that may be refused with a reason, or whose
/// parameters could not be read (`None`).
fn refusable<T: serde::Serialize>(
    id: lsp_server::RequestId,
    answer: Option<Result<T, String>>,
) -> lsp_server::Response {
    match answer {
        Some(Ok(result)) => lsp_server::Response::new_ok(id, result),
        Some(Err(reason)) => {
            lsp_server::Response::new_err(id, lsp_server::ErrorCode::RequestFailed as i32, reason)
        }
        None => lsp_server::Response::new_err(
            id,
            lsp_server::ErrorCode::InvalidParams as i32,
            "the parameters are not those of the request".into(),
        ),
    }
}

/// How to import the files of a checked project that no import reaches;
/// `None` when there are none, or the entry file could not be read.
fn import_fix(root: &Path, compilation: &driver::Compilation) -> Option<ImportFix> {
    let project = &compilation.project;
    let sources = &project.sources;
    let unreached: HashSet<PathBuf> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::UnimportedFile)
        .filter_map(|d| Some(root.join(&sources.locate(d.span?).0.name)))
        .collect();
    if unreached.is_empty() {
        return None;
    }
    // The entry is the first file read.
    let entry = project.files.first()?;
    let file = sources.get(entry.id);
    let last_import = entry
        .ast
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Import(crate::syntax::ast::Import::File(path)) => Some(path.span),
            Item::Import(crate::syntax::ast::Import::Std(module)) => Some(module.span),
            _ => None,
        })
        .map(|span| sources.locate(span).1.end)
        .max();
    let (at, newline_first) = match last_import {
        Some(end) => {
            let (line, _) = file.line_utf16(end);
            match file.text[end..].find('\n') {
                Some(_) => (Position::new(line as u32 + 1, 0), false),
                None => {
                    let (line, column) = file.line_utf16(file.text.len());
                    (Position::new(line as u32, column as u32), true)
                }
            }
        }
        None => (Position::new(0, 0), false),
    };
    Some(ImportFix {
        entry: root.join(&file.name),
        at,
        newline_first,
        unreached,
    })
}

/// Where each name of the project's files is declared.
fn declared(root: &Path, project: &crate::project::Project) -> Declared {
    let sources = &project.sources;
    let mut out = Declared::default();
    for parsed in &project.files {
        declarations(&parsed.ast.items, &mut |namespace, name| {
            if let Some(at) = location(root, sources, name.span) {
                out.entry(name.name.to_string())
                    .or_default()
                    .push((namespace, at));
            }
        });
    }
    out
}

/// Each name declared among `items`, `if` branches included, with its
/// namespace.
fn declarations(items: &[Item], found: &mut impl FnMut(Namespace, &crate::syntax::ast::Ident)) {
    for item in items {
        match item {
            Item::Backend(d) => found(Namespace::Backend, &d.name),
            Item::Frontend(d) => found(Namespace::Frontend, &d.name),
            Item::Let(l) => found(Namespace::Value, &l.name),
            Item::Tls(t) => found(Namespace::Value, &t.name),
            Item::Env(e) => found(Namespace::Env, e),
            Item::If(branch) => {
                declarations(&branch.then, found);
                declarations(&branch.otherwise, found);
            }
            Item::Import(_) | Item::Defaults(_) | Item::Stats(_) | Item::Guard(_) => {}
        }
    }
}

/// A document's text as the one file of a source map, so that its spans
/// become editor positions as any file's do ([`range`]).
fn alone(text: String) -> Option<(SourceMap, crate::source::FileId)> {
    let mut sources = SourceMap::default();
    let id = sources.add(String::new(), text, crate::source::MAX_POSITIONS)?;
    Some((sources, id))
}

/// [`alone`], parsed: the buffer's items as it parses on its own (what a
/// syntax error loses left out).
fn parsed_alone(
    text: String,
) -> Option<(SourceMap, crate::source::FileId, crate::syntax::ast::File)> {
    let (sources, id) = alone(text)?;
    let (file, _) = crate::syntax::parse(id, &sources.get(id).text);
    Some((sources, id, file))
}

/// Where `span` is, as the editor names it: the file under `root`.
fn location(root: &Path, sources: &SourceMap, span: Span) -> Option<Location> {
    let file = &sources.locate(span).0.name;
    Some(Location {
        uri: Url::from_file_path(root.join(file)).ok()?,
        range: range(sources, span),
    })
}

/// LSP positions: 0-based lines, columns in UTF-16 code units.
fn range(sources: &SourceMap, span: Span) -> Range {
    let (file, span) = sources.locate(span);
    let position = |offset: usize| {
        let (line, column) = file.line_utf16(offset);
        Position::new(line as u32, column as u32)
    };
    Range::new(position(span.start), position(span.end))
}
