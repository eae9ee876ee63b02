//! Loading a project: `haptic.toml`, the entry file and everything it
//! imports, and the embedded standard library. Produces parsed files and
//! the diagnostics of reading and parsing them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::diag::{Code, Diagnostic, Severity};
use crate::source::{FileId, SourceMap, Span, MAX_POSITIONS};
use crate::syntax::{self, ast};

/// The standard library, embedded in the binary: module name → source.
pub const STD_MODULES: &[(&str, &str)] = &[
    ("tls", include_str!("../stdlib/tls.hap")),
    ("checks", include_str!("../stdlib/checks.hap")),
    ("defaults", include_str!("../stdlib/defaults.hap")),
];

/// The positions project files may take: the rest is kept for the
/// standard library, which is read after them.
const PROJECT_POSITIONS: u64 = MAX_POSITIONS - STD_ROOM as u64;
const STD_ROOM: usize = 1 << 20;
const _: () = {
    let (mut total, mut i) = (0, 0);
    while i < STD_MODULES.len() {
        total += STD_MODULES[i].1.len() + 1;
        i += 1;
    }
    assert!(total <= STD_ROOM, "the standard library outgrew its room");
};

/// The module loaded into every project: its `defaults { ... }` block is the
/// base that a project's own `defaults` overrides field by field.
pub const PRELUDE: &str = "defaults";

/// `haptic.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub project: ProjectSection,
    #[serde(default)]
    pub lints: BTreeMap<String, LintLevel>,
}

impl Manifest {
    /// The HAProxy version the project targets.
    pub fn target(&self) -> crate::model::Haproxy {
        crate::model::Haproxy::from_name(&self.project.haproxy)
            .expect("the version is checked when the manifest is read")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    pub name: String,
    /// Target HAProxy version, `"2.6"`.
    pub haproxy: String,
    /// The file that is read first (others are reached by `import`), as
    /// written: see [`ProjectSection::entry`].
    #[serde(default)]
    entry: Option<toml::Spanned<String>>,
    /// Where `compile` writes, as written: see [`ProjectSection::out`].
    #[serde(default)]
    out: Option<toml::Spanned<String>>,
    /// Environments that count as production for lints and guards, as
    /// written: see [`ProjectSection::production`].
    #[serde(default)]
    production: Option<Vec<toml::Spanned<String>>>,
}

impl ProjectSection {
    /// The file that is read first: `main.hap` unless the manifest says.
    pub fn entry(&self) -> &str {
        self.entry.as_ref().map_or("main.hap", |e| e.get_ref())
    }

    /// Where the manifest writes `entry` (a byte range), if it does.
    pub fn entry_at(&self) -> Option<std::ops::Range<usize>> {
        self.entry.as_ref().map(toml::Spanned::span)
    }

    /// Where `compile` writes, relative to the project directory: `out`
    /// unless the manifest says.
    pub fn out(&self) -> &str {
        self.out.as_ref().map_or("out", |o| o.get_ref())
    }

    /// Where the manifest writes `out` (a byte range), if it does.
    pub fn out_at(&self) -> Option<std::ops::Range<usize>> {
        self.out.as_ref().map(toml::Spanned::span)
    }

    /// Moves the places of what is written (`entry`, `out`, `production`)
    /// by `original`: from the text serde read to the text as written.
    fn respan(&mut self, original: impl Fn(usize) -> usize) {
        let respan = |s: &mut toml::Spanned<String>| {
            let at = s.span();
            *s = toml::Spanned::new(original(at.start)..original(at.end), s.get_ref().clone());
        };
        self.entry.iter_mut().for_each(respan);
        self.out.iter_mut().for_each(respan);
        self.production.iter_mut().flatten().for_each(respan);
    }

    /// The environments that count as production: `production` unless the
    /// manifest says otherwise.
    pub fn production(&self) -> impl Iterator<Item = &str> {
        let written = self
            .production
            .as_deref()
            .map(|p| p.iter().map(|e| e.get_ref().as_str()));
        let default = self.production.is_none().then_some("production");
        written.into_iter().flatten().chain(default)
    }

    /// The environments of `production` with where each is written;
    /// `None` where the manifest leaves the list to its default.
    pub fn production_written(&self) -> Option<&[toml::Spanned<String>]> {
        self.production.as_deref()
    }
}

/// The keys of a table that `T` is read from, as serde's derive lists them
/// (with their renames): asked of `T` itself, so a list written by hand
/// cannot fall behind the struct. Empty for a type that is not read as a
/// struct.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};

    /// Answers the one question, then stops the deserialization.
    struct Fields(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("field names found")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Stop {
            Stop
        }
    }
    impl<'de> de::Deserializer<'de> for &mut Fields {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Fields(None);
    let _ = T::deserialize(&mut fields);
    fields.0.unwrap_or(&[])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LintLevel {
    Allow,
    Warn,
    Deny,
}

#[derive(Debug)]
pub struct ParsedFile {
    pub id: FileId,
    pub ast: ast::File,
}

/// How [`load_from`] parses the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// A large file's unconditional backends keep their bodies for the
    /// checker to parse where it builds them (see `check::bodies`).
    Deferred,
    /// Every file whole.
    Whole,
}

/// A loaded project: everything the checker needs, nothing it must read.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub manifest: Manifest,
    pub sources: SourceMap,
    /// Project files in the order they were reached (entry first, then
    /// imports depth-first): the source order of declarations.
    pub files: Vec<ParsedFile>,
    /// Standard modules by name (all of them; `imported` says which the
    /// project named).
    pub std: BTreeMap<String, ParsedFile>,
    pub imported_std: Vec<String>,
    /// `sha256:` of the manifest and project sources.
    pub source_hash: String,
}

/// Errors that stop loading before any source can be checked.
#[derive(Debug)]
pub enum LoadError {
    /// No `haptic.toml` (or it cannot be read): a usage or I/O problem.
    Io(String),
    /// The manifest is unusable; the diagnostics (at least one, in
    /// source order) point into it.
    Manifest(SourceMap, Vec<Diagnostic>),
}

/// Where project files come from: a directory, or (for tests, and for an
/// earlier version of the sources) anything else that maps a path relative
/// to the project root to bytes.
pub trait Files: Sync {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>>;

    /// Every `.hap` file of the project, relative to its root with `/`
    /// between parts, sorted, where the files can be listed (empty where
    /// they cannot, as for an earlier revision): those no import reaches
    /// are reported. `outputs` is a directory not to look into.
    fn list(&self, outputs: &str) -> Vec<String> {
        let _ = outputs;
        Vec::new()
    }
}

/// How large a file that no import reaches may be for W0007 to show its
/// start; a larger one is not read.
const SHOWN_UNIMPORTED: usize = 64 * 1024;

/// The files of a directory on disk.
pub struct Dir<'a>(pub &'a Path);

impl Files for Dir<'_> {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        read_file(&self.0.join(path))
    }

    fn list(&self, outputs: &str) -> Vec<String> {
        hap_files(self.0, outputs)
    }
}

/// The `.hap` files under `root`, relative to it, sorted. Left out, as a
/// user would expect of "the project's files": what the project's
/// `.gitignore` and `.ignore` files exclude (whether or not the directory
/// is a Git work tree), hidden files and directories (`.git`), `outputs`,
/// directories that hold their own `haptic.toml` (other projects), links
/// to directories, and names that are not UTF-8 or hold control characters
/// (they cannot be imported). Only ignore files that travel with the
/// sources count (not the user's global one, nor `.git/info/exclude`), so
/// every clone finds the same files.
pub fn hap_files(root: &Path, outputs: &str) -> Vec<String> {
    let outputs = normalize(outputs).map(|o| root.join(o));
    let mut walk = ignore::WalkBuilder::new(root);
    walk.git_global(false)
        .git_exclude(false)
        .require_git(false)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            entry.depth() == 0
                || !is_dir
                || (Some(entry.path()) != outputs.as_deref()
                    && !entry.path().join("haptic.toml").exists())
        });
    let mut found: Vec<String> = walk
        .build()
        .flatten()
        .filter(|entry| entry.file_type().is_some_and(|t| !t.is_dir()))
        .filter_map(|entry| {
            let rel = entry.path().strip_prefix(root).ok()?.to_str()?;
            importable(rel).then(|| rel.replace(std::path::MAIN_SEPARATOR, "/"))
        })
        .collect();
    found.sort();
    found
}

/// `import std.NAME`: the module is recorded once, or an unknown one
/// reported with the nearest name and the list of modules.
fn import_std(module: &ast::Ident, imported: &mut Vec<String>, diags: &mut Vec<Diagnostic>) {
    if STD_MODULES.iter().any(|(m, _)| *m == module.name) {
        if !imported.iter().any(|m| *m == module.name) {
            imported.push(module.name.to_string());
        }
        return;
    }
    let names: Vec<&str> = STD_MODULES.iter().map(|(m, _)| *m).collect();
    let mut d = Diagnostic::new(
        Code::ImportNotFound,
        module.span,
        format!("no standard module `std.{}`", module.name),
    );
    if let Some(near) = crate::diag::nearest(&module.name, names.iter().copied()) {
        d = d
            .help(format!("did you mean `std.{near}`?"))
            .replace_with(near);
    }
    diags.push(d.help(format!(
        "the standard modules are {}",
        crate::check::types::list_values(&names)
    )));
}

/// Whether a project file at `path` (relative to the project root) is one
/// an import can name: a `.hap` file whose name holds no control character.
pub(crate) fn importable(path: &str) -> bool {
    path.ends_with(".hap") && !path.chars().any(char::is_control)
}

/// A file's bytes. A large one is read in two halves side by side: most of
/// reading is the fresh memory the bytes land in, which two threads touch
/// twice as fast.
#[cfg(unix)]
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    const LARGE: usize = 1 << 20;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let len = usize::try_from(len).map_err(|_| std::io::ErrorKind::OutOfMemory)?;
    if len < LARGE || crate::parallel::threads() < 2 {
        let mut bytes = Vec::with_capacity(len);
        std::io::Read::read_to_end(&mut file, &mut bytes)?;
        return Ok(bytes);
    }
    // Zeroed by the system, untouched until read into.
    let mut bytes = vec![0u8; len];
    let (first, second) = bytes.split_at_mut(len / 2);
    let at = first.len() as u64;
    let (a, b) = crate::parallel::join(
        || file.read_exact_at(first, 0),
        || file.read_exact_at(second, at),
    );
    a?;
    b?;
    // Whatever was appended since the length was taken.
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(len as u64))?;
    std::io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(bytes)
}

#[cfg(not(unix))]
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

/// The files of a Git revision, read with `git show REV:PATH`. `root` is
/// the project directory inside the work tree.
pub struct GitRev {
    pub root: PathBuf,
    pub rev: String,
    /// The project directory relative to the repository's top, with a
    /// trailing `/` (empty at the top).
    prefix: String,
}

impl GitRev {
    pub fn new(root: &Path, rev: &str) -> Result<GitRev, String> {
        if rev.starts_with('-') || rev.contains(['\n', '\0']) {
            return Err(format!("`{rev}` is not a revision"));
        }
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["rev-parse", "--show-prefix"])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`{}` is not in a Git work tree: {}",
                root.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let verify = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("{rev}^{{commit}}"))
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !verify.status.success() {
            return Err(format!("unknown revision `{rev}`"));
        }
        Ok(GitRev {
            root: root.to_path_buf(),
            rev: rev.to_string(),
            prefix: String::from_utf8_lossy(&output.stdout).trim().to_string(),
        })
    }
}

impl Files for GitRev {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .arg("show")
            .arg(format!("{}:{}{path}", self.rev, self.prefix))
            .output()?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("not in revision {}", self.rev),
            ))
        }
    }
}

/// Files held in memory: path → content.
impl Files for BTreeMap<String, Vec<u8>> {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        self.get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    }

    /// Every key of a `.hap` file.
    fn list(&self, _outputs: &str) -> Vec<String> {
        self.keys().filter(|p| importable(p)).cloned().collect()
    }
}

/// Reads a project from `root` (the directory of `haptic.toml`), every
/// file parsed whole.
pub fn load(root: &Path) -> Result<(Project, Vec<Diagnostic>), LoadError> {
    load_from(root, &Dir(root), Parse::Whole)
}

/// Reads a project through `files`; `root` is where outputs go by default.
pub fn load_from(
    root: &Path,
    files: &dyn Files,
    parse: Parse,
) -> Result<(Project, Vec<Diagnostic>), LoadError> {
    let manifest_bytes = files.read("haptic.toml").map_err(|e| {
        LoadError::Io(format!(
            "cannot read `{}`: {e}",
            root.join("haptic.toml").display()
        ))
    })?;
    let manifest_text = String::from_utf8(manifest_bytes).map_err(|_| {
        LoadError::Io(format!(
            "`{}` is not UTF-8",
            root.join("haptic.toml").display()
        ))
    })?;
    let mut sources = SourceMap::default();
    let manifest_id = sources
        .add(
            "haptic.toml".into(),
            manifest_text.clone(),
            PROJECT_POSITIONS,
        )
        .ok_or_else(|| LoadError::Io("`haptic.toml` is larger than 4 GiB".into()))?;
    // A manifest whose mistakes leave what the sources are read with as
    // the user wrote it is read on: the sources' errors come in the same
    // run. (Nothing is written while there is an error.)
    let (manifest, mut diags) = match parse_manifest(&manifest_text, manifest_id) {
        (Some(manifest), diags) => (manifest, diags),
        (None, diags) => return Err(LoadError::Manifest(sources.clone(), diags)),
    };

    let mut parsed = Vec::new();
    let mut imported_std = Vec::new();
    let mut hasher = Sha256::new();
    hash_text(&mut hasher, &manifest_text);

    // Depth-first over imports, each file once.
    // The entry is reported where `haptic.toml` names it, if it does.
    let entry_at = (manifest.project.entry_at()).map(|r| Span::new(manifest_id, r));
    let mut stack: Vec<(String, Option<Span>)> =
        vec![(manifest.project.entry().to_string(), entry_at)];
    let mut seen = std::collections::HashSet::new();
    // Imports that could not be read: their diagnostic's index, and the path.
    let mut missing: Vec<(usize, String)> = Vec::new();
    // The project's files are listed (for W0007) while the imports are
    // followed and the files parsed: neither needs the other.
    let (listed, ()) = crate::parallel::join(
        || files.list(manifest.project.out()),
        || {
            while let Some((name, from)) = stack.pop() {
                let Some(name) = normalize(&name) else {
                    diags.push(
                        Diagnostic::new(
                            Code::ImportNotFound,
                            from,
                            format!(
                                "`{}` is outside the project directory",
                                crate::check::value::shorten(&name)
                            ),
                        )
                        .help(if from == entry_at {
                            "the entry file is named relative to the directory of haptic.toml, inside it"
                        } else {
                            "import paths are relative to the directory of haptic.toml and stay inside it"
                        }),
                    );
                    continue;
                };
                if !seen.insert(name.clone()) {
                    continue;
                }
                let before = diags.len();
                let entry = from == entry_at;
                let Some(id) = read_source(files, &name, (from, entry), &mut sources, &mut diags)
                else {
                    if from.is_some() && diags.len() > before {
                        missing.push((before, name));
                    }
                    continue;
                };
                let text = &sources.get(id).text;
                let hash = |hasher: &mut Sha256| {
                    hasher.update(name.as_bytes());
                    hasher.update([0]);
                    hash_text(hasher, text);
                    hasher.update([0]);
                };
                // The hash is only needed for the outputs' headers: a large file's
                // is made beside the pre-scan of its parse.
                let (ast, parse_diags) = if text.len() < 256 * 1024 {
                    hash(&mut hasher);
                    syntax::parse(id, text)
                } else {
                    syntax::parse_beside(id, text, parse == Parse::Deferred, || hash(&mut hasher))
                };
                diags.extend(parse_diags);
                let mut imports = Vec::new();
                collect_imports(&ast.items, &mut imports);
                for import in imports.into_iter().rev() {
                    match import {
                        ast::Import::File(path) => {
                            stack.push((path.value.to_string(), Some(path.span)))
                        }
                        ast::Import::Std(module) => {
                            import_std(&module, &mut imported_std, &mut diags)
                        }
                    }
                }
                parsed.push(ParsedFile { id, ast });
            }
        },
    );

    // A file that no import reaches is compiled into nothing: said, in
    // case an import was forgotten (or misspelt: then the import's error
    // names the file, and that is enough). It gets a place in the sources,
    // outside the hash, so that the warning points at the file and shows
    // how it starts (a file too large or not UTF-8 is shown empty).
    let unreached: Vec<&str> = listed
        .iter()
        .map(String::as_str)
        .filter(|name| !seen.contains(*name))
        .collect();
    let mut suggested = Vec::new();
    for (index, name) in &missing {
        if let Some(near) = crate::diag::nearest(name, unreached.iter().copied()) {
            diags[*index]
                .help
                .insert(0, format!("did you mean `{}`?", near.escape_debug()));
            suggested.push(near);
        }
    }
    for &name in &unreached {
        if suggested.contains(&name) {
            continue;
        }
        let text = files
            .read(name)
            .ok()
            .filter(|bytes| bytes.len() <= SHOWN_UNIMPORTED)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default();
        let Some(id) = sources.add(name.to_string(), text, PROJECT_POSITIONS) else {
            break;
        };
        // Whole, not shortened: the help is an import to copy.
        let shown = name.escape_debug();
        diags.push(
            Diagnostic::new(
                Code::UnimportedFile,
                Span::new(id, 0..0),
                format!("`{shown}` is not imported, so nothing in it is compiled"),
            )
            .help(format!(
                "import it (`import \"{shown}\"`) from `{}` or from a file imported there; or delete it",
                manifest.project.entry().escape_debug()
            )),
        );
    }

    let mut std = BTreeMap::new();
    for (module, text) in STD_MODULES {
        let id = sources
            .add(
                format!("std/{module}.hap"),
                (*text).to_string(),
                MAX_POSITIONS,
            )
            .expect("project files leave room for the standard library");
        let (ast, parse_diags) = syntax::parse(id, text);
        debug_assert!(parse_diags.is_empty(), "stdlib {module} must parse");
        diags.extend(parse_diags);
        std.insert((*module).to_string(), ParsedFile { id, ast });
    }

    let source_hash = format!("sha256:{:x}", hasher.finalize());
    let project = Project {
        root: root.to_path_buf(),
        manifest,
        sources,
        files: parsed,
        std,
        imported_std,
        source_hash,
    };
    Ok((project, diags))
}

fn collect_imports(items: &[ast::Item], out: &mut Vec<ast::Import>) {
    for item in items {
        match item {
            ast::Item::Import(i) => out.push(i.clone()),
            ast::Item::If(branch) => {
                collect_imports(&branch.then, out);
                collect_imports(&branch.otherwise, out);
            }
            _ => {}
        }
    }
}

/// `./a/../b.hap` → `b.hap`, so each file is read once. `None` for a path
/// that is absolute or leaves the project directory.
fn normalize(name: &str) -> Option<String> {
    if name.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Reads the file `name`, imported `from` there (or the entry, named
/// there if the manifest does).
fn read_source(
    files: &dyn Files,
    name: &str,
    (from, entry): (Option<Span>, bool),
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Option<FileId> {
    let mut bytes = match files.read(name) {
        Ok(b) => b,
        Err(e) => {
            let mut d = Diagnostic::new(
                Code::ImportNotFound,
                from,
                format!(
                    "cannot read `{}`: {}",
                    crate::check::value::shorten(name),
                    io_reason(&e)
                ),
            );
            d = d.help(if entry {
                "set `entry` in the [project] section of haptic.toml".to_string()
            } else {
                "import paths are relative to the directory of haptic.toml".to_string()
            });
            diags.push(d);
            return None;
        }
    };
    let too_large = |diags: &mut Vec<Diagnostic>| {
        diags.push(
            Diagnostic::new(
                Code::ImportNotFound,
                from,
                format!(
                    "cannot read `{}`: the project's sources would exceed 4 GiB",
                    crate::check::value::shorten(name)
                ),
            )
            .help("split the project: a compilation holds at most 4 GiB of sources"),
        );
        None
    };
    // A byte order mark, which some Windows editors write, is not part of
    // the text (as editors show it and count columns).
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(text) => match sources.add(name.to_string(), text, PROJECT_POSITIONS) {
            Some(id) => Some(id),
            None => too_large(diags),
        },
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // The lossy text has the same prefix, so the offset stays valid.
            let Some(id) = sources.add(name.to_string(), text, PROJECT_POSITIONS) else {
                return too_large(diags);
            };
            diags.push(
                Diagnostic::new(
                    Code::NotUtf8,
                    Span::new(id, offset..offset + 1),
                    format!("file is not valid UTF-8 (first invalid byte at offset {offset})"),
                )
                .help("save the file as UTF-8"),
            );
            None
        }
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        _ => e.to_string(),
    }
}

/// Reads `haptic.toml`, with every mistake in it: a TOML syntax error
/// stops the reading, but each key with a value of the wrong type, or
/// unknown, is reported. serde stops at the first such key, so the text is
/// read again with a value of the right type in place of the wrong one
/// (or without the unknown key), until it reads or what is left is a
/// consequence of those edits (a key taken out, now missing). The
/// manifest comes with the diagnostics where the sources can be read with
/// it: without a mistake, or where `entry`, `out` and `haproxy` are the
/// user's own and the version is one haptic knows.
fn parse_manifest(text: &str, id: FileId) -> (Option<Manifest>, Vec<Diagnostic>) {
    let table = match text.parse::<toml::Table>() {
        Ok(table) => table,
        Err(e) => {
            // The reader's syntax errors come in lines: `invalid array`,
            // `expected `]``.
            let lines: Vec<&str> = e
                .message()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            return (
                None,
                vec![manifest_error(text, id, e.span(), &lines.join(": "))],
            );
        }
    };
    let mut diags = Vec::new();
    let mut read = text.to_string();
    let mut edits = Edits::default();
    // Keys reported whose absence is no mistake of its own, and keys whose
    // value in `read` is a stand-in (no value of the user's to check).
    let mut reported: Vec<String> = Vec::new();
    let mut replaced: Vec<String> = Vec::new();
    // The keys `[project]` must have, each reported where the table
    // starts (serde reports the first alone), and read as if written.
    if let (Some(toml::Value::Table(project)), Some(header)) =
        (table.get("project"), table_header(text, "project"))
    {
        let mut stand_ins = String::new();
        for (key, example) in [("name", "\"shop\""), ("haproxy", "\"2.6\"")] {
            // A key written above the table is reported as misplaced.
            if !project.contains_key(key) && !table.contains_key(key) {
                diags.push(
                    Diagnostic::new(
                        Code::Manifest,
                        Span::new(id, header.clone()),
                        format!("missing field `{key}`"),
                    )
                    .help(format!("add `{key} = {example}` to `[project]`"))
                    .help("see the manifest section of the README"),
                );
                stand_ins.push_str(&format!("\n{key} = \"\""));
                reported.push(key.to_string());
                replaced.push(key.to_string());
            }
        }
        edits.add(header.end, stand_ins.len() as isize);
        read.insert_str(header.end, &stand_ins);
    }
    let manifest = loop {
        let e = match toml::from_str::<Manifest>(&read) {
            Ok(manifest) => break Some(manifest),
            Err(e) => e,
        };
        let message = e.message();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        if let Some(key) = missing.filter(|field| reported.iter().any(|key| key == field)) {
            // A key reported already (misplaced, of the wrong type, or
            // missing): read on as if it were written in `[project]`.
            let Some(header) =
                table_header(&read, "project").filter(|_| !replaced.iter().any(|s| s == key))
            else {
                break None;
            };
            let stand_in = format!("\n{key} = \"\"");
            edits.add(header.end, stand_in.len() as isize);
            read.insert_str(header.end, &stand_in);
            replaced.push(key.to_string());
            continue;
        }
        let span = e.span().map(|r| {
            edits.original(r.start).min(text.len())..edits.original(r.end).min(text.len())
        });
        diags.push(manifest_error(text, id, span, message));
        let Some(at) = e.span().filter(|_| diags.len() < 64) else {
            break None;
        };
        // A list and a lint level stand in as their defaults, so that the
        // sources, where they are checked in the same run, are checked as
        // without the line.
        let stand_in = if message.ends_with("expected a string") {
            Some("\"\"")
        } else if message.ends_with("expected a sequence") {
            Some("[\"production\"]")
        } else if message.starts_with("unknown variant") || message == "wanted string or table" {
            Some("\"warn\"")
        } else {
            None
        };
        // `haproxy = 2.6`: a supported version written as a number is read
        // as the user's own (the help says to quote it), so that the
        // sources are checked in the same run.
        let keyed = key_lines(&read, at.clone());
        let written = read.get(at.clone()).unwrap_or_default();
        let version = (stand_in == Some("\"\"")
            && crate::model::Haproxy::from_name(written).is_some()
            && keyed.as_ref().is_some_and(|(_, key)| key == "haproxy"))
        .then(|| format!("\"{written}\""));
        match version.as_deref().or(stand_in) {
            Some(value) => {
                if let Some((_, key)) = keyed.filter(|_| version.is_none()) {
                    replaced.push(key);
                }
                edits.add(at.start, value.len() as isize - at.len() as isize);
                read.replace_range(at, value);
            }
            None => {
                let Some((lines, key)) = keyed else {
                    break None;
                };
                // Every byte of whole lines becomes a space (but line
                // ends): the text stays UTF-8, and every place where it was.
                let mut bytes = std::mem::take(&mut read).into_bytes();
                for b in &mut bytes[lines.clone()] {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
                read = String::from_utf8(bytes).expect("whole lines blanked");
                reported.push(key);
            }
        }
        if read.parse::<toml::Table>().is_err() {
            break None;
        }
    };
    let is_replaced = |key: &str| replaced.iter().chain(&reported).any(|k| k == key);
    // What serde read carries the places of the edited text; a list of
    // production environments in a stand-in's place is the default's.
    let mut manifest = manifest;
    if let Some(m) = &mut manifest {
        m.project.respan(|at| edits.original(at).min(text.len()));
        if is_replaced("production") {
            m.project.production = None;
        }
    }
    if let Some(manifest) = &manifest {
        check_values(manifest, text, id, is_replaced, &mut diags);
    }
    if diags.is_empty() {
        return (manifest, diags);
    }
    diags.sort_by_key(|d| d.span.map(|s| s.start));
    // The sources are checked with the manifest where it finds them as the
    // user wrote it (`entry`, `out`). Where the target version is a
    // mistake, the oldest supported stands in: no check depends on it, and
    // nothing is written while the manifest has an error.
    let usable = manifest
        .filter(|_| ["entry", "out"].iter().all(|key| !is_replaced(key)))
        .map(|mut m| {
            if crate::model::Haproxy::from_name(&m.project.haproxy).is_none() {
                m.project.haproxy = crate::model::Haproxy::ALL[0].name().to_string();
            }
            m
        });
    (usable, diags)
}

/// What serde does not check of a manifest it read: a supported version,
/// known lints, a project name of one word. `is_replaced` says which keys
/// hold a stand-in, no value of the user's.
fn check_values(
    manifest: &Manifest,
    text: &str,
    id: FileId,
    is_replaced: impl Fn(&str) -> bool,
    diags: &mut Vec<Diagnostic>,
) {
    let whole = Span::new(id, 0..text.len().min(1));
    let version = &manifest.project.haproxy;
    if !is_replaced("haproxy") && crate::model::Haproxy::from_name(version).is_none() {
        let span = find_value_span(text, id, "haproxy").unwrap_or(whole);
        diags.push(
            Diagnostic::new(
                Code::Manifest,
                span,
                format!("unsupported HAProxy version `{}`", escape_controls(version)),
            )
            .help(format!(
                "expected one of {}",
                crate::check::types::list_values(&crate::model::Haproxy::ALL.map(|v| v.name()))
            )),
        );
    }
    let warnings: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| c.default_severity() == Severity::Warning)
        .map(|c| c.name())
        .collect();
    for name in manifest.lints.keys() {
        if !warnings.contains(&name.as_str()) {
            let span = find_value_span(text, id, name).unwrap_or(whole);
            let mut d = Diagnostic::new(
                Code::Manifest,
                span,
                format!("unknown lint `{}`", escape_controls(name)),
            );
            if let Some(near) = crate::diag::nearest(name, warnings.iter().copied()) {
                d = d.help(format!("did you mean `{near}`?"));
            }
            diags.push(d.help(format!(
                "lints are {}",
                crate::check::types::list_values(&warnings)
            )));
        }
    }
    // `compile` writes in the project: elsewhere only when told so on its
    // command line, not by a change of the manifest in a merge request.
    if let Some(at) = manifest.project.out_at().filter(|_| !is_replaced("out")) {
        let out = manifest.project.out();
        if normalize(out).is_none() {
            diags.push(
                Diagnostic::new(
                    Code::Manifest,
                    Span::new(id, at),
                    format!(
                        "`out` is outside the project directory: `{}`",
                        out.escape_debug()
                    ),
                )
                .help("write a directory relative to haptic.toml, inside it: `out = \"out\"`")
                .help("to write elsewhere, pass `--out DIR` to `haptic compile`"),
            );
        }
    }
    // The name is written into the header of every output: one word.
    let name = &manifest.project.name;
    if !is_replaced("name") && !is_project_name(name) {
        let span = find_value_span(text, id, "name").unwrap_or(whole);
        diags.push(
            Diagnostic::new(
                Code::Manifest,
                span,
                format!("invalid project name `{}`", name.escape_debug()),
            )
            .help(format!(
                "a project name is 1 to {MAX_PROJECT_NAME} letters, digits, `_`, `-` and `.`, \
                 as the outputs' headers name it"
            )),
        );
    }
}

/// The diagnostic of an error of the TOML reader (its place in `text`,
/// and its message), with what to write.
fn manifest_error(
    text: &str,
    id: FileId,
    at: Option<std::ops::Range<usize>>,
    message: &str,
) -> Diagnostic {
    let span = at.clone().map(|r| Span::new(id, r));
    let written = at.clone().and_then(|r| text.get(r)).unwrap_or("");
    let mut message = message.trim_end_matches('.').to_string();
    if message == "wanted string or table" {
        // The TOML reader's words for a lint level that is not a string.
        message = format!(
            "invalid type: `{}`, expected one of `allow`, `warn`, `deny`",
            written.trim()
        );
    }
    // The reader quotes what it found: a control character in it is shown
    // escaped (it would reach the terminal or the editor as is).
    let shown = escape_controls(&message);
    let mut diag = Diagnostic::new(Code::Manifest, span, shown);
    // `haproxy = 2.6`: a version (or another string) written bare.
    let bare = Some(written.trim()).filter(|v| {
        !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
    });
    let version_key = at
        .and_then(|at| key_lines(text, at))
        .is_some_and(|(_, key)| key == "haproxy");
    match (bare, message.ends_with("expected a string")) {
        // `haproxy = 2.4`: quoted, still not a version haptic supports.
        (Some(bare), true) if version_key && crate::model::Haproxy::from_name(bare).is_none() => {
            diag = diag.help(format!(
                "haptic supports {}, written in double quotes: `haproxy = \"2.6\"`",
                crate::check::types::list_values(&crate::model::Haproxy::ALL.map(|v| v.name()))
            ));
        }
        (Some(bare), true) => {
            diag = diag
                .help(format!("write it in double quotes: `\"{bare}\"`"))
                .replace_with(&format!("\"{bare}\""));
        }
        _ => {}
    }
    if let Some((help, fix)) = manifest_hint(&message, written) {
        diag = diag.help(help);
        if let Some(fix) = fix {
            diag = diag.replace_with(&fix);
        }
    }
    diag.help("see the manifest section of the README")
}

/// `s` with its control characters escaped (`\n`), the rest as it is.
fn escape_controls(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped = c.is_control().then(|| c.escape_debug());
            escaped
                .into_iter()
                .flatten()
                .chain((!c.is_control()).then_some(c))
        })
        .collect()
}

/// The longest project name.
const MAX_PROJECT_NAME: usize = 64;

/// Whether `name` may name a project: a word the outputs' headers can
/// carry (nothing that would end their comment line).
fn is_project_name(name: &str) -> bool {
    (1..=MAX_PROJECT_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The edits that [`parse_manifest`] made of the text it reads again, by
/// their places in the text as the user wrote it: where, and how many
/// bytes longer each made it.
#[derive(Default)]
struct Edits(Vec<(usize, isize)>);

impl Edits {
    /// The place in the written text of `at`, a place in the edited one.
    fn original(&self, at: usize) -> usize {
        let mut shift = 0;
        for &(place, longer) in &self.0 {
            if place.saturating_add_signed(shift) >= at {
                break;
            }
            shift += longer;
        }
        at.saturating_add_signed(-shift)
    }

    /// Notes an edit at `at`, a place in the edited text.
    fn add(&mut self, at: usize, longer: isize) {
        let place = self.original(at);
        let i = self.0.partition_point(|&(p, _)| p <= place);
        self.0.insert(i, (place, longer));
    }
}

/// Where `[name]`, the header of a table, is written.
fn table_header(text: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix('[') {
            if rest
                .trim_start()
                .strip_prefix(name)
                .is_some_and(|r| r.trim_start().starts_with(']'))
            {
                let start = offset + line.len() - trimmed.len();
                let end = start + trimmed.find(']').map_or(0, |n| n + 1);
                return Some(start..end);
            }
        }
        offset += line.len();
    }
    None
}

/// The lines of the `key = value` that `span` (an error's place) is in,
/// from the start of the key's line to the end of the line where `span`
/// ends, and the key: `None` where the first line is not a `key = ...`
/// (a table header, a value's later line), which cannot be taken out alone.
fn key_lines(text: &str, span: std::ops::Range<usize>) -> Option<(std::ops::Range<usize>, String)> {
    let start = text.get(..span.start)?.rfind('\n').map_or(0, |n| n + 1);
    let end = span.end.max(span.start + 1).min(text.len());
    let end = text.get(end..)?.find('\n').map_or(text.len(), |n| end + n);
    let line = text[start..].lines().next()?.trim_start();
    let key: String = line
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect();
    let after = line[key.len()..].trim_start();
    (!key.is_empty() && after.starts_with('=')).then_some((start..end, key))
}

/// What to write instead, for the TOML reader's `message` about what was
/// `written` at its place, and the text that replaces it where that is
/// sure: a misspelt key (`output` for `out`), a key of `[project]` above
/// it, another tool's word for a lint level (`error` for `deny`), one
/// environment where a list of them goes.
fn manifest_hint(message: &str, written: &str) -> Option<(String, Option<String>)> {
    // The names a message quotes in backticks, in order.
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let (found, expected) = match quoted.split_first() {
        Some((&found, expected)) => (found, expected),
        None => ("", &[][..]),
    };
    if message.starts_with("unknown field") {
        let project_key = field_names::<ProjectSection>().contains(&found);
        if project_key && expected.contains(&"project") {
            return Some((
                format!("`{found}` belongs in the `[project]` table: write `[project]` on a line above it"),
                None,
            ));
        }
        // `output` for `out`: a longer word for a key is too far to be
        // near.
        let near = crate::diag::nearest(found, expected.iter().copied()).or_else(|| {
            expected
                .iter()
                .copied()
                .find(|key| key.len() >= 3 && found.starts_with(key))
        })?;
        return Some((format!("did you mean `{near}`?"), Some(near.to_string())));
    }
    if message.starts_with("unknown variant") {
        let meant = match found {
            "error" | "errors" | "fail" => "deny",
            "warning" | "warnings" | "on" => "warn",
            "off" | "ignore" | "none" | "disable" | "disabled" => "allow",
            other => crate::diag::nearest(other, expected.iter().copied())?,
        };
        return expected.contains(&meant).then(|| {
            (
                format!("did you mean `{meant}`?"),
                Some(format!("\"{meant}\"")),
            )
        });
    }
    // `production = "production"`: one string where a list goes.
    let inner = written.strip_prefix('"')?.strip_suffix('"')?;
    let plain = !inner.is_empty()
        && inner.len() <= 64
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
    (message.ends_with("expected a sequence") && plain).then(|| {
        (
            format!("a list is written in brackets, even of one: `[\"{inner}\"]`"),
            Some(format!("[\"{inner}\"]")),
        )
    })
}

/// Feeds `text` to the sources' hash with each `\r\n` read as `\n`: a
/// checkout with Windows line endings (Git's `core.autocrlf`) hashes as
/// the one with Unix endings, so its outputs are byte for byte the same,
/// and `compile --check` agrees across machines.
fn hash_text(hasher: &mut Sha256, text: &str) {
    let bytes = text.as_bytes();
    let mut from = 0;
    for at in memchr::memchr_iter(b'\r', bytes) {
        if bytes.get(at + 1) == Some(&b'\n') {
            hasher.update(&bytes[from..at]);
            from = at + 1;
        }
    }
    hasher.update(&bytes[from..]);
}

/// The span of `key = ...` in the manifest, for diagnostics after parsing.
fn find_value_span(text: &str, id: FileId, key: &str) -> Option<Span> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                let start = offset + (line.len() - trimmed.len());
                return Some(Span::new(id, start..offset + line.trim_end().len()));
            }
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The manifest's hints know the `[project]` keys from serde's derive.
    #[test]
    fn the_project_keys_come_from_the_struct() {
        assert_eq!(
            field_names::<ProjectSection>(),
            ["name", "haproxy", "entry", "out", "production"]
        );
        assert_eq!(field_names::<Manifest>(), ["project", "lints"]);
        assert!(field_names::<String>().is_empty());
    }

    /// Lines of manifests, right and wrong, in any order: reading them
    /// ends, without a panic, with a manifest or diagnostics or both: the
    /// diagnostics at places of the text, in source order, the manifest's
    /// version always one haptic knows, and what it says is written where
    /// (`entry`, `out`, `production`, which diagnostics point at) written
    /// there.
    #[test]
    fn any_manifest_is_read_or_its_mistakes_reported() {
        use proptest::prelude::*;
        const LINES: &[&str] = &[
            "[project]",
            "[lints]",
            "[project]  # c",
            "[projct]",
            "name = \"x\"",
            "name = 5",
            "haproxy = \"2.6\"",
            "haproxy = 2.6",
            "haproxy = \"1.8\"",
            "haproxy = [\"2.6\"]",
            "out = \"build\"",
            "out = \"../build\"",
            "outs = \"b\"",
            "entry = \"e.hap\"",
            "production = [\"production\"]",
            "production = \"production\"",
            "production = [",
            "  \"é\",",
            "  3,",
            "]",
            "unused-backend = \"deny\"",
            "unused-backend = \"error\"",
            "weak-tls = 1",
            "foo = \"x\"",
            "entry = { a = 1 }",
            "project = { name = \"y\" }",
            // Escapes of control characters, which diagnostics never
            // repeat as they are.
            "weak-tls = \"de\\ny\"",
            "\"a\\tb\" = \"deny\"",
            "name = \"a\\nb\"",
            "haproxy = \"\\t.6\"",
            "",
            "# ü",
        ];
        let config = ProptestConfig {
            cases: 3000,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(config, |(picks in proptest::collection::vec(0..LINES.len(), 0..14))| {
            let text: String = picks.iter().map(|&i| format!("{}\n", LINES[i])).collect();
            let (manifest, diags) = parse_manifest(&text, FileId(0));
            if let Some(manifest) = &manifest {
                prop_assert!(crate::model::Haproxy::from_name(&manifest.project.haproxy).is_some());
                let p = &manifest.project;
                let written = [(p.entry(), p.entry_at()), (p.out(), p.out_at())]
                    .into_iter()
                    .chain(p.production_written().into_iter().flatten().map(|s| (s.get_ref().as_str(), Some(s.span()))));
                for (value, at) in written {
                    let Some(at) = at.filter(|_| !value.is_empty()) else { continue };
                    let quoted = format!("{value:?}");
                    prop_assert_eq!(text.get(at), Some(quoted.as_str()), "{}", text);
                }
            }
            prop_assert!(manifest.is_some() || !diags.is_empty(), "neither a manifest nor a mistake");
            let starts: Vec<u32> = diags.iter().map(|d| d.span.map_or(0, |s| s.start)).collect();
            prop_assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{:?}", starts);
            for d in &diags {
                if let Some(s) = d.span {
                    prop_assert!(
                        text.get(s.start as usize..s.end as usize).is_some(),
                        "{:?} outside or inside a character of:\n{}", d, text
                    );
                }
                for said in std::iter::once(&d.message).chain(&d.help) {
                    prop_assert!(!said.chars().any(char::is_control), "{:?}", said);
                }
            }
        });
    }

    #[test]
    fn a_large_file_reads_whole() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0, 10, (1 << 20) + 7, 3 << 20] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            std::fs::write(dir.path().join("f.hap"), &bytes).unwrap();
            let read = Dir(dir.path()).read("f.hap").unwrap();
            assert!(read == bytes, "{len} bytes read back differently");
        }
        assert!(Dir(dir.path()).read("missing.hap").is_err());
    }
}
