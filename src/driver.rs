//! The pipeline as one call: load → check → lower → emit, for every
//! environment (or one).

use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::emit::{self, Provenance};
use crate::project::{self, Files, LoadError, Project};
use crate::{check, lower, model, parallel, plan};

/// The text outputs of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub env: String,
    pub haproxy_cfg: String,
    pub runtime_txt: String,
}

impl Output {
    /// File name → content, in the order they are written.
    pub fn files(&self) -> [(&'static str, &str); 2] {
        [
            ("haproxy.cfg", &self.haproxy_cfg),
            ("runtime.txt", &self.runtime_txt),
        ]
    }
}

/// A file's text in the parts it was made in (one per thread for a large
/// output): written part after part, joined only when a `String` is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(Vec<String>);

impl Text {
    pub fn parts(&self) -> &[String] {
        &self.0
    }

    pub fn into_string(self) -> String {
        let mut parts = self.0.into_iter();
        let mut text = parts.next().unwrap_or_default();
        for part in parts {
            text.push_str(&part);
        }
        text
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text(vec![text])
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
    /// changes from the base's environment of the same name.
    pub fn output_against(&self, env: &model::Env, base: Option<&Base>) -> Output {
        let [haproxy_cfg, runtime_txt] = self.emit_files(env, base, |_, text| text.into_string());
        Output {
            env: env.name.clone(),
            haproxy_cfg,
            runtime_txt,
        }
    }

    /// Makes the two files of `env` (`haproxy.cfg`, then `runtime.txt`) on
    /// two threads and hands each to `sink` as soon as it is made, on the
    /// thread that made it: writing one file overlaps making the other.
    pub fn emit_files<T: Send>(
        &self,
        env: &model::Env,
        base: Option<&Base>,
        sink: impl Fn(&'static str, Text) -> T + Sync,
    ) -> [T; 2] {
        let provenance = self.provenance(env);
        let runs = parallel::runs(&env.backends, 500);
        let (runtime_txt, haproxy_cfg) = if base.is_none() && runs.len() > 1 {
            // Large outputs without a base version: both files in parts.
            let (haproxy_cfg, runtime_txt) = emit_in_shares(env, &provenance, &runs);
            parallel::join(
                || sink("runtime.txt", runtime_txt),
                || sink("haproxy.cfg", haproxy_cfg),
            )
        } else {
            parallel::join(
                || {
                    let text = match base {
                        None => emit::runtime::emit(env, &provenance),
                        Some(base) => {
                            let plan = base.plan(env);
                            emit::runtime::emit_plan(&plan, &base.label, &provenance)
                        }
                    };
                    sink("runtime.txt", text.into())
                },
                || {
                    let text = emit::haproxy_cfg::emit(&lower::lower(env), &provenance);
                    sink("haproxy.cfg", text.into())
                },
            )
        };
        [haproxy_cfg, runtime_txt]
    }

    /// Every environment's `haproxy.cfg` alone (what a plan compares), by
    /// environment name.
    pub fn haproxy_cfgs(&self) -> Vec<(String, String)> {
        self.envs
            .iter()
            .map(|env| {
                let text = emit::haproxy_cfg::emit(&lower::lower(env), &self.provenance(env));
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

    /// Where `compile` writes by default: the manifest's `out`, relative to
    /// the project directory.
    pub fn default_out_dir(&self) -> PathBuf {
        self.project.root.join(&self.project.manifest.project.out)
    }
}

/// `haproxy.cfg` and `runtime.txt` (without a base version) of a large
/// environment, its backends cut into `runs`: each run's sections and
/// commands are made on a thread of its own, then joined in order, which
/// gives the same text as one thread.
fn emit_in_shares(
    env: &model::Env,
    provenance: &Provenance,
    runs: &[&[model::Backend]],
) -> (Text, Text) {
    let parts = parallel::map(runs.iter().copied(), |backends| {
        let servers: usize = backends.iter().map(|be| be.servers.len()).sum();
        // One section at a time: its memory is reused by the next.
        // About 90 bytes a server line, 200 a backend's others.
        let mut haproxy_cfg = String::with_capacity(servers * 90 + backends.len() * 200);
        for be in backends {
            let section = lower::backend(be);
            emit::haproxy_cfg::write_sections(&mut haproxy_cfg, &[section]);
        }
        let mut runtime_txt = String::new();
        emit::runtime::write_declared(&mut runtime_txt, backends);
        (haproxy_cfg, runtime_txt)
    });
    let (before, after) = lower::frame(env);
    let mut head = emit::haproxy_cfg::header(provenance);
    emit::haproxy_cfg::write_sections(&mut head, &before);
    let mut tail = String::new();
    emit::haproxy_cfg::write_sections(&mut tail, &after);
    let mut haproxy_cfg = vec![head];
    let mut runtime_txt = vec![emit::runtime::preamble(provenance)];
    for (cfg, rt) in parts {
        haproxy_cfg.push(cfg);
        runtime_txt.push(rt);
    }
    haproxy_cfg.push(tail);
    (Text(haproxy_cfg), Text(runtime_txt))
}

/// An earlier version of the sources, checked, to compare against.
#[derive(Debug)]
pub struct Base {
    /// How the user named it: a revision or a directory.
    pub label: String,
    /// `None` when the project did not exist yet in that revision: then
    /// every environment is new.
    pub compilation: Option<Compilation>,
}

impl Base {
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
        Ok(Base {
            label: spec.to_string(),
            compilation,
        })
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

    /// The plan from this base's environment of the same name to `env`.
    pub fn plan(&self, env: &model::Env) -> plan::EnvPlan {
        // Environments are few; a scan per environment stays linear overall.
        match self.envs().iter().find(|e| e.name == env.name) {
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
    let cfg = |cfgs: &[(String, String)], name: &str| {
        cfgs.iter()
            .find(|(env, _)| env == name)
            .map(|(_, cfg)| cfg.clone())
            .unwrap_or_default()
    };
    let mut reports = Vec::new();
    for e in new.envs.iter().filter(|e| wanted(&e.name)) {
        reports.push(plan::render::EnvReport {
            plan: base.plan(e),
            cfg_diff: cfg_diff(&e.name, &cfg(base_cfgs, &e.name), &cfg(new_cfgs, &e.name)),
        });
    }
    for e in base.envs().iter().filter(|e| wanted(&e.name)) {
        if !new.envs.iter().any(|n| n.name == e.name) {
            reports.push(plan::render::EnvReport {
                plan: plan::removed_env(&e.name),
                cfg_diff: cfg_diff(&e.name, &cfg(base_cfgs, &e.name), ""),
            });
        }
    }
    reports
}

/// The unified diff of two `haproxy.cfg`s, without their header comments
/// (which differ whenever the sources do); empty when equal.
pub fn cfg_diff(env: &str, old: &str, new: &str) -> String {
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
        &format!("a/{env}/haproxy.cfg"),
        &format!("b/{env}/haproxy.cfg"),
    )
}

/// Loads and checks the project in `root`.
pub fn compile(root: &Path) -> Result<Compilation, LoadError> {
    compile_from(root, &project::Dir(root))
}

/// Loads and checks a project read through `files`.
pub fn compile_from(root: &Path, files: &dyn project::Files) -> Result<Compilation, LoadError> {
    let (project, parse_diags) = project::load_from(root, files)?;
    let (envs, diagnostics) = check::check(&project, parse_diags);
    Ok(Compilation {
        project,
        diagnostics,
        envs,
    })
}

/// Writes `content` to `path` atomically: a reader sees the old file or the
/// new one, never a part. The temporary file lives in the same directory so
/// the final rename stays on one file system. The file gets the mode any
/// new file gets (0644 under the usual umask), not the temporary file's
/// private 0600, so that HAProxy and deploy tools running as other users
/// can read it.
pub fn write_atomic(path: &Path, content: &str) -> std::io::Result<()> {
    write_atomic_parts(path, &[content])
}

/// [`write_atomic`] of the parts of a text, one after the other.
pub fn write_atomic_parts(path: &Path, parts: &[impl AsRef<str>]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".haptic-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Created with open(2)'s mode, so the umask applies as usual.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    for part in parts {
        tmp.write_all(part.as_ref().as_bytes())?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
