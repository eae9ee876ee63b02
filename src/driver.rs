//! The pipeline as one call: load → check → lower → emit, for every
//! environment (or one).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::emit::{self, Out, Provenance};
use crate::hash::Map;
use crate::project::{self, Files, LoadError, Parse, Project};
use crate::{check, model, parallel, plan};

/// The text outputs of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub env: String,
    pub haproxy_cfg: String,
    pub runtime_txt: String,
    /// The routes map, for an environment that has one.
    pub routes_map: Option<String>,
}

impl Output {
    /// File name → content, in the order they are written.
    pub fn files(&self) -> Vec<(&'static str, &str)> {
        let mut files = vec![
            (OutputFile::HaproxyCfg.name(), self.haproxy_cfg.as_str()),
            (OutputFile::RuntimeTxt.name(), self.runtime_txt.as_str()),
        ];
        if let Some(map) = &self.routes_map {
            files.push((OutputFile::RoutesMap.name(), map));
        }
        files
    }
}

/// The files `compile` writes for each environment (`routes.map` only for
/// one with a routes map).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFile {
    HaproxyCfg,
    RuntimeTxt,
    RoutesMap,
}

impl OutputFile {
    pub const ALL: [OutputFile; 3] = [
        OutputFile::HaproxyCfg,
        OutputFile::RuntimeTxt,
        OutputFile::RoutesMap,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OutputFile::HaproxyCfg => "haproxy.cfg",
            OutputFile::RuntimeTxt => "runtime.txt",
            OutputFile::RoutesMap => "routes.map",
        }
    }
}

/// The result of checking (and, without errors, compiling) a project.
#[derive(Debug)]
pub struct Compilation {
    pub project: Project,
    pub diagnostics: Vec<Diagnostic>,
    pub envs: Vec<model::Env>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The names of all declared environments, in declaration order.
    pub fn env_names(&self) -> Vec<&str> {
        self.envs.iter().map(|e| e.name.as_str()).collect()
    }

    /// Lowers and emits each environment; empty when there are errors.
    pub fn outputs(&self) -> Vec<Output> {
        self.envs.iter().map(|env| self.output(env)).collect()
    }

    pub fn output(&self, env: &model::Env) -> Output {
        self.output_against(env, None)
    }

    /// The outputs of `env`; with a base, `runtime.txt` holds the hitless
    /// changes from the base's environment of the same name. The two are
    /// made side by side.
    pub fn output_against(&self, env: &model::Env, base: Option<&Base>) -> Output {
        let (runtime_txt, haproxy_cfg) = parallel::join(
            || self.text(env, base, OutputFile::RuntimeTxt),
            || self.text(env, base, OutputFile::HaproxyCfg),
        );
        Output {
            env: env.name.clone(),
            haproxy_cfg,
            runtime_txt,
            routes_map: self.routes_map(env),
        }
    }

    /// The routes map of `env`, for an environment that has one.
    pub fn routes_map(&self, env: &model::Env) -> Option<String> {
        let map = crate::lower::RouteMap::of(env)?;
        Some(emit::routes_map::emit(&map, &self.provenance(env)))
    }

    /// One output file of `env`, whole.
    pub fn text(&self, env: &model::Env, base: Option<&Base>, file: OutputFile) -> String {
        let mut out = Out::string();
        self.emit_file(env, base, file, &mut out);
        out.finish()
            .expect("text kept in memory cannot fail to be written")
    }

    /// Makes one output file of `env` into `out`.
    pub fn emit_file(
        &self,
        env: &model::Env,
        base: Option<&Base>,
        file: OutputFile,
        out: &mut Out,
    ) {
        let provenance = self.provenance(env);
        match (file, base) {
            (OutputFile::RoutesMap, _) => {
                if let Some(map) = self.routes_map(env) {
                    out.text().push_str(&map);
                }
            }
            (OutputFile::HaproxyCfg, _) => emit::haproxy_cfg::emit(env, &provenance, out),
            (OutputFile::RuntimeTxt, None) => emit::runtime::emit(env, &provenance, out),
            (OutputFile::RuntimeTxt, Some(base)) => {
                let plan = base.plan(env);
                let text = emit::runtime::emit_plan(&plan, &base.label, &provenance);
                out.text().push_str(&text);
            }
        }
    }

    /// Writes the files of `env` into `dir`, each atomically, the two
    /// large ones side by side: each is written as it is made, a chunk at
    /// a time, so neither is ever whole in memory. Returns each file's path
    /// and result, `haproxy.cfg` first. A `routes.map` that haptic wrote
    /// for this environment when it had a routes map is removed when it no
    /// longer has one.
    pub fn write_files(
        &self,
        env: &model::Env,
        base: Option<&Base>,
        dir: &Path,
    ) -> Vec<(PathBuf, std::io::Result<Written>)> {
        let write = |file: OutputFile| {
            let path = dir.join(file.name());
            let result = write_atomic_with(&path, |writer| {
                let mut out = Out::writer(writer);
                self.emit_file(env, base, file, &mut out);
                out.finish().map(drop)
            });
            (path, result)
        };
        let (runtime_txt, haproxy_cfg) = parallel::join(
            || write(OutputFile::RuntimeTxt),
            || write(OutputFile::HaproxyCfg),
        );
        let mut written = vec![haproxy_cfg, runtime_txt];
        if env.routes_map().is_some() {
            written.push(write(OutputFile::RoutesMap));
        }
        for path in self.unmade_outputs(env, dir) {
            let removed = std::fs::remove_file(&path).map(|()| Written::Removed);
            written.push((path, removed));
        }
        written
    }

    /// The outputs in `dir` of environment `env` that its sources no longer
    /// make: a `routes.map` haptic wrote for it, when it has no routes map
    /// any more.
    pub fn unmade_outputs(&self, env: &model::Env, dir: &Path) -> Vec<PathBuf> {
        let map = dir.join(OutputFile::RoutesMap.name());
        let project = &self.project.manifest.project.name;
        if env.routes_map().is_none()
            && written_for(&map, OutputFile::RoutesMap, project, &env.name)
        {
            vec![map]
        } else {
            Vec::new()
        }
    }

    /// Every environment's `haproxy.cfg` alone (what a plan compares), by
    /// environment name.
    pub fn haproxy_cfgs(&self) -> Vec<(String, String)> {
        self.envs
            .iter()
            .map(|env| {
                let text = self.text(env, None, OutputFile::HaproxyCfg);
                (env.name.clone(), text)
            })
            .collect()
    }

    fn provenance<'a>(&'a self, env: &'a model::Env) -> Provenance<'a> {
        Provenance {
            project: &self.project.manifest.project.name,
            env: &env.name,
            target: &self.project.manifest.project.haproxy,
            source_hash: &self.project.source_hash,
        }
    }

    /// The outputs in `out` of environments the sources no longer have:
    /// `<out>/<dir>/haproxy.cfg` and `runtime.txt`, in a directory named
    /// after no environment, whose header says haptic wrote them for this
    /// project and for environment `<dir>`. Nothing else is ever named: not
    /// a file a person wrote, nor one of another project sharing `out`.
    /// Sorted.
    pub fn orphaned_outputs(&self, out: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(out) else {
            return Vec::new();
        };
        let project = &self.project.manifest.project.name;
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(env) = name.to_str() else { continue };
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if !is_dir || self.envs.iter().any(|e| e.name == env) {
                continue;
            }
            for file in OutputFile::ALL {
                let path = entry.path().join(file.name());
                if written_for(&path, file, project, env) {
                    found.push(path);
                }
            }
        }
        found.sort();
        found
    }

    /// Where `compile` writes by default: the manifest's `out`, relative to
    /// the project directory.
    pub fn default_out_dir(&self) -> PathBuf {
        self.project.root.join(self.project.manifest.project.out())
    }
}

/// The prefix of the temporary files that outputs are written to.
const TEMPORARY: &str = ".haptic-";

/// How old a temporary file of haptic's must be before it is taken for one
/// that a write which never finished left behind (a killed process, a lost
/// machine). A write takes well under a second even for 20,000 backends,
/// so a file that a compile running beside this one still writes is never
/// this old.
const ABANDONED: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes from `dir` the temporary files that unfinished writes left:
/// regular files named `.haptic-*` last modified over ten minutes ago.
/// Otherwise they would stay beside the outputs, and be committed with
/// them. Returns what it removed; a file it cannot remove is left.
pub fn remove_abandoned(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let now = std::time::SystemTime::now();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMPORARY));
        let old = entry.metadata().is_ok_and(|m| {
            m.is_file()
                && m.modified()
                    .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > ABANDONED))
        });
        if ours && old && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed.sort();
    removed
}

/// Whether `path` is a regular file that starts with the header haptic
/// writes on `file` for environment `env` of `project`.
fn written_for(path: &Path, file: OutputFile, project: &str, env: &str) -> bool {
    use std::io::Read;
    let Some(opened) = open_old(path) else {
        return false;
    };
    let mut head = Vec::new();
    if opened.take(1024).read_to_end(&mut head).is_err() {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.lines();
    let [generated, named] = crate::emit::header_starts(file.name(), project, env);
    lines.next().is_some_and(|l| l.starts_with(&generated))
        && lines.next().is_some_and(|l| l.starts_with(&named))
}

/// An earlier version of the sources, checked, to compare against.
#[derive(Debug)]
pub struct Base {
    /// How the user named it: a revision or a directory.
    pub label: String,
    /// `None` when the project did not exist yet in that revision: then
    /// every environment is new.
    pub compilation: Option<Compilation>,
    /// The index of each environment by name: every environment of the
    /// new version looks up its base.
    by_name: Map<String, usize>,
}

impl Base {
    /// The base `compilation`, named `label`.
    pub fn new(label: String, compilation: Option<Compilation>) -> Base {
        let by_name = compilation.as_ref().map_or_else(Map::default, |c| {
            c.envs
                .iter()
                .enumerate()
                .map(|(i, e)| (e.name.clone(), i))
                .collect()
        });
        Base {
            label,
            compilation,
            by_name,
        }
    }

    /// Loads the base named by `spec`: a directory holding `haptic.toml`,
    /// or else a Git revision of the work tree that holds `root`.
    pub fn load(root: &Path, spec: &str) -> Result<Base, LoadError> {
        let dir = Path::new(spec);
        let compilation = if dir.join("haptic.toml").is_file() {
            Some(compile(dir)?)
        } else {
            let rev = project::GitRev::new(root, spec).map_err(LoadError::Io)?;
            match rev.read("haptic.toml") {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                _ => Some(compile_from(root, &rev)?),
            }
        };
        Ok(Base::new(spec.to_string(), compilation))
    }

    /// The base's environments (none when the project is new).
    pub fn envs(&self) -> &[model::Env] {
        self.compilation.as_ref().map_or(&[], |c| &c.envs)
    }

    /// The base's `haproxy.cfg`s by environment (none when the project is
    /// new).
    pub fn haproxy_cfgs(&self) -> Vec<(String, String)> {
        self.compilation
            .as_ref()
            .map(Compilation::haproxy_cfgs)
            .unwrap_or_default()
    }

    /// The base's environment named `name`.
    pub fn env(&self, name: &str) -> Option<&model::Env> {
        self.by_name.get(name).map(|&i| &self.envs()[i])
    }

    /// The plan from this base's environment of the same name to `env`.
    pub fn plan(&self, env: &model::Env) -> plan::EnvPlan {
        match self.env(&env.name) {
            Some(old) => plan::classify(old, env),
            None => plan::new_env(env),
        }
    }
}

/// The plan of every environment (or one) from `base` to `new`, with the
/// unified diff of each `haproxy.cfg`. The configurations are those of
/// [`Compilation::haproxy_cfgs`] of each side.
pub fn plan_reports(
    base: &Base,
    base_cfgs: &[(String, String)],
    new: &Compilation,
    new_cfgs: &[(String, String)],
    env: Option<&str>,
) -> Vec<plan::render::EnvReport> {
    let wanted = |name: &str| env.is_none_or(|e| e == name);
    // Looked up by name for every environment.
    fn by_name(cfgs: &[(String, String)]) -> Map<&str, &str> {
        cfgs.iter()
            .map(|(env, cfg)| (env.as_str(), cfg.as_str()))
            .collect()
    }
    fn cfg<'c>(cfgs: &Map<&str, &'c str>, name: &str) -> &'c str {
        cfgs.get(name).copied().unwrap_or_default()
    }
    let (base_cfgs, new_cfgs) = (by_name(base_cfgs), by_name(new_cfgs));
    // An environment's routes map, in the base (when it is there) or new.
    let base_map = |name: &str| {
        let c = base.compilation.as_ref()?;
        c.routes_map(base.env(name)?)
    };
    let mut reports = Vec::new();
    for e in new.envs.iter().filter(|e| wanted(&e.name)) {
        // The plan and the text diff read the same two versions apart.
        let (plan, cfg_diff) = crate::parallel::join(
            || base.plan(e),
            || cfg_diff(&e.name, cfg(&base_cfgs, &e.name), cfg(&new_cfgs, &e.name)),
        );
        let (old_map, new_map) = (base_map(&e.name), new.routes_map(e));
        let map_diff = output_diff(
            &e.name,
            "routes.map",
            old_map.as_deref().unwrap_or_default(),
            new_map.as_deref().unwrap_or_default(),
        );
        reports.push(plan::render::EnvReport {
            plan,
            cfg_diff,
            map_diff,
        });
    }
    let new_names: crate::hash::Set<&str> = new.envs.iter().map(|e| e.name.as_str()).collect();
    for e in base.envs().iter().filter(|e| wanted(&e.name)) {
        if !new_names.contains(e.name.as_str()) {
            let old_map = base_map(&e.name);
            reports.push(plan::render::EnvReport {
                plan: plan::removed_env(&e.name),
                cfg_diff: cfg_diff(&e.name, cfg(&base_cfgs, &e.name), ""),
                map_diff: output_diff(
                    &e.name,
                    "routes.map",
                    old_map.as_deref().unwrap_or_default(),
                    "",
                ),
            });
        }
    }
    reports
}

/// The unified diff of two `haproxy.cfg`s, without their header comments
/// (which differ whenever the sources do); empty when equal.
pub fn cfg_diff(env: &str, old: &str, new: &str) -> String {
    output_diff(env, "haproxy.cfg", old, new)
}

/// The unified diff of output `file` of environment `env` between two
/// versions, without their header comments; empty when they are equal.
fn output_diff(env: &str, file: &str, old: &str, new: &str) -> String {
    fn body(text: &str) -> &str {
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if !line.starts_with('#') {
                break;
            }
            offset += line.len();
        }
        &text[offset..]
    }
    let (old, new) = (body(old), body(new));
    if old == new {
        return String::new();
    }
    plan::cfg_diff::unified(
        old,
        new,
        &format!("a/{env}/{file}"),
        &format!("b/{env}/{file}"),
    )
}

/// Loads and checks the project in `root`.
pub fn compile(root: &Path) -> Result<Compilation, LoadError> {
    compile_from(root, &project::Dir(root))
}

/// Loads and checks a project read through `files`.
pub fn compile_from(root: &Path, files: &dyn project::Files) -> Result<Compilation, LoadError> {
    compile_parsed(root, files, Parse::Deferred)
}

/// [`compile_from`] with every file parsed whole, for the language server:
/// a body being typed often does not parse, and a deferred one that does
/// not makes the project load twice. The diagnostics are the same.
pub fn compile_whole_from(
    root: &Path,
    files: &dyn project::Files,
) -> Result<Compilation, LoadError> {
    compile_parsed(root, files, Parse::Whole)
}

fn compile_parsed(
    root: &Path,
    files: &dyn project::Files,
    parse: Parse,
) -> Result<Compilation, LoadError> {
    let (project, parse_diags) = project::load_from(root, files, parse)?;
    let (project, (envs, diagnostics)) = match check::check(&project, parse_diags) {
        Ok(checked) => (project, checked),
        Err(check::Reload) => {
            // A deferred backend body has a syntax error: reported as any
            // syntax error is, once the file is parsed whole.
            drop(project);
            let (project, parse_diags) = project::load_from(root, files, Parse::Whole)?;
            let checked =
                check::check(&project, parse_diags).expect("a project parsed whole defers nothing");
            (project, checked)
        }
    };
    Ok(Compilation {
        project,
        diagnostics,
        envs,
    })
}

/// What a write did to the file at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The file is new, or its content changed: it was replaced.
    Replaced,
    /// The file already held exactly this content: it was left as it was
    /// (its modification time too), and nothing was written.
    Unchanged,
    /// The sources no longer make this file: it was removed.
    Removed,
}

/// Writes `content` to `path` atomically: a reader sees the old file or the
/// new one, never a part. The temporary file lives in the same directory so
/// the final rename stays on one file system. The file gets the mode any
/// new file gets (0644 under the usual umask), not the temporary file's
/// private 0600, so that HAProxy and deploy tools running as other users
/// can read it. A file that already holds `content` is left untouched.
pub fn write_atomic(path: &Path, content: &str) -> std::io::Result<Written> {
    write_atomic_with(path, |file| file.write_all(content.as_bytes()))
}

/// [`write_atomic`] of what `write` writes to the file.
///
/// What `write` writes is first compared with the file already at `path`,
/// as it comes. While it matches, nothing is written; at the first
/// difference (the sources' hash in the third line of an output, when the
/// sources changed) the temporary file is made, the part that matched is
/// copied into it from the old file, and the rest goes straight to it. So
/// an output that did not change costs a read, not a write, an `fsync` and
/// a rename, and one that did costs what it always did.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<Written> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let old = open_old(path);
    let mut sink = Sink {
        dir,
        old: old.map(|file| Old { file, matched: 0 }),
        new: None,
    };
    write(&mut sink)?;
    if let Some(old) = &mut sink.old {
        if old.at_end() {
            return Ok(Written::Unchanged);
        }
    }
    sink.diverge()?;
    let Some((tmp, _)) = sink.new else {
        unreachable!("`diverge` makes the temporary file")
    };
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(Written::Replaced)
}

/// The regular file at `path`, opened for reading (an old output, to
/// compare with or to recognise); `None` for anything else (nothing there,
/// a directory, a pipe, a file that cannot be read). Opened without
/// blocking: opening a named pipe for reading would otherwise wait for a
/// writer.
fn open_old(path: &Path) -> Option<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options
        .open(path)
        .ok()
        .filter(|f| f.metadata().is_ok_and(|m| m.is_file()))
}

/// Where [`write_atomic_with`] sends what is written: compared with the
/// old file while it matches, then into the temporary file.
struct Sink<'p> {
    dir: &'p Path,
    /// The old file, while everything written so far matches it.
    old: Option<Old>,
    /// The temporary file, once something differs (or there is no old
    /// file), and how much of it was written.
    new: Option<(tempfile::NamedTempFile, u64)>,
}

struct Old {
    file: std::fs::File,
    /// How many bytes from its start matched what was written.
    matched: u64,
}

impl Old {
    /// Whether the next bytes of the old file are `buf` (and reads past
    /// them). A read error counts as a difference: the file is rewritten.
    /// Read a piece at a time into the stack: when the sources changed,
    /// the first piece differs, and a buffer the size of `buf` (a chunk,
    /// 256 KiB) would be fresh memory, which costs more here than the
    /// read.
    fn matches(&mut self, buf: &[u8]) -> bool {
        use std::io::Read;
        let mut piece = [0u8; 16 * 1024];
        for part in buf.chunks(piece.len()) {
            let old = &mut piece[..part.len()];
            if self.file.read_exact(old).is_err() || old != part {
                return false;
            }
        }
        self.matched += buf.len() as u64;
        true
    }

    /// Whether the old file ends where what was written ended.
    fn at_end(&mut self) -> bool {
        use std::io::Read;
        matches!(self.file.read(&mut [0u8]), Ok(0))
    }
}

impl Sink<'_> {
    /// The temporary file and how much of it is written, made (with the
    /// part of the old file that matched) if it was not yet.
    fn diverge(&mut self) -> std::io::Result<(&mut std::fs::File, &mut u64)> {
        if self.new.is_none() {
            let mut builder = tempfile::Builder::new();
            builder.prefix(TEMPORARY);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                // Created with open(2)'s mode, so the umask applies as usual.
                builder.permissions(std::fs::Permissions::from_mode(0o666));
            }
            let mut tmp = builder.tempfile_in(self.dir)?;
            let mut written = 0;
            if let Some(mut old) = self.old.take() {
                use std::io::{Read, Seek};
                old.file.rewind()?;
                written = std::io::copy(&mut (&mut old.file).take(old.matched), tmp.as_file_mut())?;
                if written != old.matched {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the old file was cut short while it was read",
                    ));
                }
            }
            self.new = Some((tmp, written));
        }
        let (tmp, written) = self.new.as_mut().expect("made above");
        Ok((tmp.as_file_mut(), written))
    }
}

/// Once something differs, each write is sent on to the disk as the file
/// grows: the kernel is asked to start writing that range back, so the
/// disk works while the rest is still being made, and the `fsync` at the
/// end waits for the last chunk instead of the whole file.
impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.new.is_none() {
            if let Some(old) = &mut self.old {
                if old.matches(buf) {
                    return Ok(buf.len());
                }
            }
        }
        let (file, written) = self.diverge()?;
        let n = file.write(buf)?;
        start_writeback(file, *written, n);
        *written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.new {
            Some((tmp, _)) => tmp.as_file_mut().flush(),
            None => Ok(()),
        }
    }
}

/// Starts writing `len` bytes from `offset` back to the disk, without
/// waiting. A hint: durability still comes from the `fsync` after, so an
/// error here changes nothing and is ignored.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, len: usize) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: sync_file_range(2) takes a descriptor and three integers and
    // touches no memory of this process; the descriptor is open while
    // `file` is borrowed.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &std::fs::File, _: u64, _: usize) {}
