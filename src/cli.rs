//! The command line: argument parsing (clap) and the mapping of results to
//! exit codes. Everything else lives in the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{render, Code};
use crate::driver::{self, Compilation};
use crate::project::LoadError;

/// `print!` for standard output that another program may stop reading
/// (`haptic diff | head`): that is not an error, and not a panic. Any
/// other failure to write (a full disk) makes the command exit with
/// [`exit::USAGE`], the I/O error code.
macro_rules! out {
    ($($arg:tt)*) => {
        write_out(format_args!($($arg)*))
    };
}

static STDOUT_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn write_out(text: std::fmt::Arguments) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe
            && !STDOUT_FAILED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!("error: cannot write to standard output: {e}");
        }
    }
}

/// The exit codes, the same for every command (see the README).
pub mod exit {
    /// Success: sources valid, outputs written or up to date.
    pub const OK: i32 = 0;
    /// The sources have errors (diagnostics printed).
    pub const INVALID: i32 = 1;
    /// `compile --check`: committed outputs are stale (a diff is printed).
    pub const STALE: i32 = 2;
    /// Usage or I/O error: bad arguments, unreadable project, unwritable output.
    pub const USAGE: i32 = 3;
    /// `apply`: converged, but a reload is needed for the rest.
    pub const RELOAD_NEEDED: i32 = 4;
    /// `apply`: HAProxy refused a command, or did not converge.
    pub const FAILED: i32 = 5;
    /// `apply`: the Runtime API cannot be reached.
    pub const UNREACHABLE: i32 = 6;
}

/// haptic: a typed language and compiler for HAProxy deployments.
#[derive(Debug, Parser)]
#[command(name = "haptic", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check every environment; print all diagnostics.
    Check {
        /// The project directory (holding haptic.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Write haproxy.cfg and runtime.txt for each environment, atomically.
    Compile {
        /// The project directory (holding haptic.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Compile only this environment.
        #[arg(long)]
        env: Option<String>,
        /// Write under this directory instead of the manifest's `out`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write nothing; fail with a diff when the outputs on disk are stale.
        #[arg(long)]
        check: bool,
        /// An earlier version of the sources (a Git revision or a project
        /// directory): runtime.txt then holds the commands that move a
        /// HAProxy running the base's configuration to the new one.
        #[arg(long, value_name = "REV-or-DIR")]
        base: Option<String>,
    },
    /// The plan between an earlier version of the sources and these: what
    /// changes per environment, hitless or reload, and why.
    Diff {
        /// The project directory (holding haptic.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The earlier version: a Git revision or a project directory.
        #[arg(long, value_name = "REV-or-DIR")]
        base: String,
        /// Only this environment.
        #[arg(long)]
        env: Option<String>,
        /// How to print the plan.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// Also write the `{"create","update","delete"}` report that GitLab's
        /// merge-request widget reads (artifacts:reports:terraform).
        #[arg(long, value_name = "FILE")]
        gitlab_report: Option<PathBuf>,
        /// Exit with 2 when the plan has changes.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Converge a live HAProxy to an environment through its Runtime API.
    Apply {
        /// The project directory (holding haptic.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The environment HAProxy runs.
        #[arg(long)]
        env: String,
        /// The Runtime API: a Unix socket path or `host:port`.
        #[arg(long)]
        socket: String,
        /// Print the commands; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Seconds to wait for a connection or a reply.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
    },
    /// Rewrite the project's sources in the canonical layout.
    Fmt {
        /// The project directory (holding haptic.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Write nothing; fail with a diff when a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// A language server on standard input and output: the diagnostics of
    /// `check`, as you type.
    Lsp,
    /// Print the explanation of a diagnostic code, with an example.
    Explain {
        /// A code such as E0200, or its name such as `type-mismatch`;
        /// without one, every code is listed.
        code: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// For a terminal: colour only when standard output is one.
    Text,
    /// For a merge-request note, starting with `<!-- haptic:plan -->`.
    Markdown,
    /// For machines.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: source snippets, colour on a terminal.
    Human,
    /// The versioned JSON envelope, on standard output.
    Json,
    /// A GitLab Code Quality report, on standard output.
    Gitlab,
    /// A SARIF 2.1.0 log, on standard output.
    Sarif,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    // The workers start while the arguments are read and the sources loaded.
    crate::parallel::start();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::USAGE,
            };
            let _ = e.print();
            return code;
        }
    };
    let code = run(cli);
    if STDOUT_FAILED.load(std::sync::atomic::Ordering::Relaxed) && code == exit::OK {
        return exit::USAGE;
    }
    code
}

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check { dir, format } => check(&dir, format),
        Command::Compile {
            dir,
            env,
            out,
            check,
            base,
        } => compile(&dir, env.as_deref(), out.as_deref(), check, base.as_deref()),
        Command::Apply {
            dir,
            env,
            socket,
            dry_run,
            timeout,
        } => apply(
            &dir,
            &env,
            &socket,
            dry_run,
            std::time::Duration::from_secs(timeout.max(1)),
        ),
        Command::Diff {
            dir,
            base,
            env,
            format,
            gitlab_report,
            detailed_exitcode,
        } => diff(
            &dir,
            &base,
            env.as_deref(),
            format,
            gitlab_report.as_deref(),
            detailed_exitcode,
        ),
        Command::Fmt { dir, check } => fmt(&dir, check),
        Command::Lsp => match crate::lsp::run() {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("error: language server: {e}");
                exit::USAGE
            }
        },
        Command::Explain { code: Some(code) } => explain(&code),
        Command::Explain { code: None } => list_codes(),
    }
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Loads and checks; prints diagnostics. `Err` carries the exit code.
fn load(dir: &Path, format: Format) -> Result<Compilation, i32> {
    let compilation = match driver::compile(dir) {
        Ok(c) => c,
        Err(LoadError::Io(message)) => {
            eprintln!("error: {message}");
            eprintln!("help: run haptic in a project directory (one holding haptic.toml), or pass its path");
            return Err(exit::USAGE);
        }
        Err(LoadError::Manifest(sources, diags)) => {
            print_diagnostics(&diags, &sources, format, dir);
            return Err(exit::INVALID);
        }
    };
    print_diagnostics(
        &compilation.diagnostics,
        &compilation.project.sources,
        format,
        dir,
    );
    if compilation.has_errors() {
        return Err(exit::INVALID);
    }
    Ok(compilation)
}

/// Prints diagnostics of the project in `dir` (report paths are made
/// relative to its Git repository).
fn print_diagnostics(
    diags: &[crate::diag::Diagnostic],
    sources: &crate::source::SourceMap,
    format: Format,
    dir: &Path,
) {
    match format {
        Format::Json => out!("{}", render::json(diags, sources)),
        Format::Gitlab => out!("{}", render::gitlab(diags, sources, &repo_prefix(dir))),
        Format::Sarif => out!("{}", render::sarif(diags, sources, &repo_prefix(dir))),
        Format::Human => {
            eprint!("{}", render::terminal(diags, sources, color()));
            if let Some(summary) = render::summary(diags) {
                eprintln!("{summary}");
            }
        }
    }
}

/// The project directory relative to its Git repository's top (`lb/`), so
/// that report paths are repository paths; empty outside a repository.
fn repo_prefix(dir: &Path) -> String {
    std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-prefix"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Leaves a compilation to the end of the process: the command exits right
/// after, and freeing its millions of small allocations one by one takes
/// longer than the operating system takes to reclaim the pages.
fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

fn check(dir: &Path, format: Format) -> i32 {
    match load(dir, format) {
        Ok(compilation) => {
            leave_to_exit(compilation);
            exit::OK
        }
        Err(code) => code,
    }
}

fn compile(
    dir: &Path,
    env: Option<&str>,
    out: Option<&Path>,
    check_only: bool,
    base: Option<&str>,
) -> i32 {
    let compilation = match load(dir, Format::Human) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let base = match base.map(|spec| load_base(dir, spec)).transpose() {
        Ok(base) => base,
        Err(code) => return code,
    };
    let envs: Vec<&crate::model::Env> = match env {
        None => compilation.envs.iter().collect(),
        Some(name) => match compilation.envs.iter().find(|e| e.name == name) {
            Some(e) => vec![e],
            None => return unknown_env(name, &compilation.env_names()),
        },
    };
    let out_dir = out.map_or_else(|| compilation.default_out_dir(), Path::to_path_buf);
    // The outputs of an environment that left the sources would otherwise
    // stay, committed and deployable. Only a compile of every environment
    // looks for them.
    let orphaned = match env {
        None => compilation.orphaned_outputs(&out_dir),
        Some(_) => Vec::new(),
    };
    // Environments are made side by side: each waits on the disk (its
    // `fsync`s) for much of its time. Messages are printed afterwards, in
    // the environments' order.
    let mut stale = 0;
    if check_only {
        // What is kept of a stale file until it is printed is its diff,
        // not its text: a version bump makes every output stale.
        let diffs = crate::parallel::map(&envs, |env| {
            let output = compilation.output_against(env, base.as_ref());
            let mut diffs = Vec::new();
            for (name, content) in output.files() {
                let path = out_dir.join(&output.env).join(name);
                let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
                if on_disk != content {
                    diffs.push(stale_diff(&path, &on_disk, content, "compiled"));
                }
            }
            for path in compilation.unmade_outputs(env, &out_dir.join(&env.name)) {
                diffs.push(format!(
                    "{}: the environment no longer has a routes map; `haptic compile` removes it\n",
                    path.display()
                ));
            }
            diffs
        });
        for diff in diffs.iter().flatten() {
            stale += 1;
            out!("{diff}");
        }
        for path in &orphaned {
            stale += 1;
            out!(
                "{}: of an environment that is no longer in the sources; `haptic compile` removes it\n",
                path.display()
            );
        }
    } else {
        let written = crate::parallel::map(&envs, |env| {
            let dir = out_dir.join(&env.name);
            let abandoned = driver::remove_abandoned(&dir);
            (abandoned, compilation.write_files(env, base.as_ref(), &dir))
        });
        let mut failed = false;
        let (abandoned, written): (Vec<_>, Vec<_>) = written.into_iter().unzip();
        for path in abandoned.iter().flatten() {
            eprintln!(
                "removed {} (left by a write that did not finish)",
                path.display()
            );
        }
        for (path, result) in written.into_iter().flatten() {
            match result {
                Ok(driver::Written::Replaced) => eprintln!("wrote {}", path.display()),
                Ok(driver::Written::Unchanged) => eprintln!("unchanged {}", path.display()),
                Ok(driver::Written::Removed) => eprintln!("removed {}", path.display()),
                Err(e) => {
                    eprintln!("error: cannot write `{}`: {e}", path.display());
                    failed = true;
                }
            }
        }
        for path in &orphaned {
            match std::fs::remove_file(path) {
                Ok(()) => eprintln!("removed {}", path.display()),
                Err(e) => {
                    eprintln!("error: cannot remove `{}`: {e}", path.display());
                    failed = true;
                }
            }
            // The environment's directory goes too, when nothing else is in it.
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
        if failed {
            return exit::USAGE;
        }
    }
    leave_to_exit(compilation);
    leave_to_exit(base);
    if stale > 0 {
        eprintln!(
            "error: {stale} output file(s) are stale; run `haptic compile` and commit the result"
        );
        return exit::STALE;
    }
    if check_only {
        eprintln!("outputs are up to date");
    }
    exit::OK
}

/// Reports an `--env` that names no environment; returns the exit code.
fn unknown_env(name: &str, envs: &[&str]) -> i32 {
    eprintln!("error: unknown environment `{name}`");
    if let Some(near) = crate::diag::nearest_or_expansion(name, envs.iter().copied()) {
        eprintln!("help: did you mean `{near}`?");
    }
    eprintln!(
        "help: the environments are {}",
        crate::check::types::list_values(envs)
    );
    exit::USAGE
}

/// Loads the base version; its errors are reported as the base's.
fn load_base(dir: &Path, spec: &str) -> Result<driver::Base, i32> {
    match driver::Base::load(dir, spec) {
        Ok(driver::Base {
            compilation: Some(c),
            ..
        }) if c.has_errors() => {
            eprintln!("error: the base version `{spec}` does not compile:");
            print_diagnostics(&c.diagnostics, &c.project.sources, Format::Human, dir);
            Err(exit::INVALID)
        }
        Ok(base) => Ok(base),
        Err(LoadError::Io(message)) => {
            eprintln!("error: cannot read the base version `{spec}`: {message}");
            Err(exit::USAGE)
        }
        Err(LoadError::Manifest(sources, diags)) => {
            eprintln!("error: the base version `{spec}` has an invalid manifest:");
            print_diagnostics(&diags, &sources, Format::Human, dir);
            Err(exit::INVALID)
        }
    }
}

fn print_stale(path: &Path, old: &str, new: &str, what: &str) {
    out!("{}", stale_diff(path, old, new, what));
}

/// The unified diff of a stale file: on disk against what it should be
/// (`what`: "compiled", "formatted").
fn stale_diff(path: &Path, old: &str, new: &str, what: &str) -> String {
    let shown = path.display().to_string();
    // The diff `haptic diff` uses: section by section, and bounded where
    // much changed (a whole-file Myers diff took 51 s when every server of
    // 2,000 backends had changed).
    crate::plan::cfg_diff::unified(
        old,
        new,
        &format!("{shown} (on disk)"),
        &format!("{shown} ({what})"),
    )
}

fn apply(dir: &Path, env: &str, socket: &str, dry_run: bool, timeout: std::time::Duration) -> i32 {
    use crate::apply::{self, Outcome};
    let compilation = match load(dir, Format::Human) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(env) = compilation.envs.iter().find(|e| e.name == env) else {
        return unknown_env(env, &compilation.env_names());
    };
    let endpoint = crate::runtime_api::Endpoint::parse(socket);
    let live = match apply::read(&endpoint, env, timeout) {
        Ok(live) => live,
        Err(e) => {
            eprintln!("error: cannot reach the Runtime API at `{endpoint}`: {e}");
            eprintln!(
                "help: HAProxy must be running with a socket at that place, at admin level \
                 (`defaults {{ socket = \"...\" }}` writes its `stats socket ... level admin`)"
            );
            return exit::UNREACHABLE;
        }
    };
    if let Some(note) = apply::version_note(env, &live) {
        eprintln!("note: {note}");
    }
    let plan = apply::converge(env, &live);
    // A change of the sources being deployed, or drift made by hand:
    // HAProxy reports no difference between the two.
    if !plan.drift.is_empty() {
        eprintln!("live -> declared ({}):", env.name);
    }
    for d in &plan.drift {
        eprintln!("  ~ {}: {} {} -> {}", d.object, d.field, d.live, d.declared);
    }
    let reload = |reasons: &[String]| {
        for reason in reasons {
            eprintln!("reload needed: {reason}");
        }
        if reasons.is_empty() {
            exit::OK
        } else {
            exit::RELOAD_NEEDED
        }
    };
    if dry_run {
        for command in &plan.commands {
            out!("{}\n", command.line());
        }
        eprintln!(
            "dry run: {} command(s) would be sent to `{endpoint}`",
            plan.commands.len()
        );
        return reload(&plan.reload_reasons);
    }
    let outcome = match apply::run(env, &endpoint, plan.commands, timeout) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("error: lost the Runtime API at `{endpoint}` while verifying: {e}");
            return exit::UNREACHABLE;
        }
    };
    let report_sent = |sent: &[crate::emit::runtime::Command]| {
        for command in sent {
            eprintln!("applied: {}", command.line());
        }
    };
    match outcome {
        Outcome::Converged { sent } => {
            report_sent(&sent);
            if sent.is_empty() {
                eprintln!("converged: nothing to change, no command sent");
            } else {
                eprintln!("converged: {} command(s) applied and verified", sent.len());
            }
            reload(&plan.reload_reasons)
        }
        Outcome::Failed {
            sent,
            failed,
            reply,
            not_sent,
        } => {
            report_sent(&sent);
            eprintln!(
                "error: HAProxy refused `{}`: {}",
                failed.line(),
                if reply.is_empty() {
                    "(empty reply)"
                } else {
                    &reply
                }
            );
            for command in &not_sent {
                eprintln!("not applied: {}", command.line());
            }
            eprintln!(
                "{} command(s) applied, 1 refused, {} not sent",
                sent.len(),
                not_sent.len()
            );
            exit::FAILED
        }
        Outcome::NotConverged { sent, remaining } => {
            report_sent(&sent);
            for d in &remaining.drift {
                eprintln!(
                    "still differs: {}: {} {} -> {}",
                    d.object, d.field, d.live, d.declared
                );
            }
            eprintln!(
                "error: every command was accepted, but HAProxy did not reach the declared state"
            );
            exit::FAILED
        }
    }
}

fn diff(
    dir: &Path,
    base: &str,
    env: Option<&str>,
    format: PlanFormat,
    gitlab_report: Option<&Path>,
    detailed_exitcode: bool,
) -> i32 {
    // The two versions are independent: load, check and emit them at once.
    let (new, base) = crate::parallel::join(
        || {
            load(dir, Format::Human).map(|c| {
                let cfgs = c.haproxy_cfgs();
                (c, cfgs)
            })
        },
        || {
            load_base(dir, base).map(|b| {
                let cfgs = b.haproxy_cfgs();
                (b, cfgs)
            })
        },
    );
    let ((new, new_cfgs), (base, base_cfgs)) = match (new, base) {
        (Ok(new), Ok(base)) => (new, base),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    if let Some(name) = env {
        let known = new.envs.iter().chain(base.envs()).any(|e| e.name == name);
        if !known {
            return unknown_env(name, &new.env_names());
        }
    }
    let reports = driver::plan_reports(&base, &base_cfgs, &new, &new_cfgs, env);
    let warnings: Vec<String> = new
        .diagnostics
        .iter()
        .map(|d| {
            let place = d.span.map(|s| {
                let loc = render::location(s, &new.project.sources);
                format!("{}:{}: ", loc.file, loc.line)
            });
            format!("{} {}{}", d.code, place.unwrap_or_default(), d.message)
        })
        .collect();
    let text = match format {
        PlanFormat::Text => {
            let color = std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
            crate::plan::render::text(&reports, color)
        }
        PlanFormat::Markdown => {
            crate::plan::render::markdown(&reports, base.label.as_str(), &warnings)
        }
        PlanFormat::Json => crate::plan::render::json(&reports, &base.label),
    };
    out!("{text}");
    if let Some(path) = gitlab_report {
        if let Err(e) = driver::write_atomic(path, &crate::plan::render::gitlab_widget(&reports)) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return exit::USAGE;
        }
    }
    let changed = reports.iter().any(|r| !r.plan.is_empty());
    leave_to_exit((new, base, new_cfgs, base_cfgs, reports));
    if detailed_exitcode && changed {
        exit::STALE
    } else {
        exit::OK
    }
}

fn fmt(dir: &Path, check_only: bool) -> i32 {
    let compilation = match driver::compile(dir) {
        Ok(c) => c,
        Err(LoadError::Io(message)) => {
            eprintln!("error: {message}");
            return exit::USAGE;
        }
        Err(LoadError::Manifest(sources, diags)) => {
            print_diagnostics(&diags, &sources, Format::Human, dir);
            return exit::INVALID;
        }
    };
    // Only files that parse are formatted: the formatter trusts the tokens.
    let syntax: Vec<_> = compilation
        .diagnostics
        .iter()
        .filter(|d| crate::fmt::stops_formatting(d.code))
        .cloned()
        .collect();
    if !syntax.is_empty() {
        print_diagnostics(&syntax, &compilation.project.sources, Format::Human, dir);
        return exit::INVALID;
    }
    let mut changed = 0;
    for file in &compilation.project.files {
        let source = compilation.project.sources.get(file.id);
        let formatted = crate::fmt::format(&source.text);
        if formatted == source.text {
            continue;
        }
        changed += 1;
        let path = compilation.project.root.join(&source.name);
        if check_only {
            print_stale(&path, &source.text, &formatted, "formatted");
        } else if let Err(e) = driver::write_atomic(&path, &formatted) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return exit::USAGE;
        } else {
            eprintln!("formatted {}", path.display());
        }
    }
    if check_only && changed > 0 {
        eprintln!("error: {changed} file(s) are not formatted; run `haptic fmt`");
        return exit::STALE;
    }
    exit::OK
}

/// Every code, its name, its severity and what it means, a line each.
fn list_codes() -> i32 {
    let width = Code::ALL.iter().map(|c| c.name().len()).max().unwrap_or(0);
    for code in Code::ALL {
        out!(
            "{code}  {:<width$}  {:<7}  {}\n",
            code.name(),
            code.default_severity().as_str(),
            code.summary()
        );
    }
    out!("\n`haptic explain CODE` tells more, with an example.\n");
    exit::OK
}

fn explain(code: &str) -> i32 {
    match Code::parse(code) {
        Some(code) => {
            out!(
                "{} ({}, {})\n\n",
                code,
                code.name(),
                code.default_severity().as_str()
            );
            out!("{}\n", code.explanation());
            if matches!(code, Code::Guardrail | Code::UnknownGuard) {
                let rules = crate::check::types::GUARDS;
                let width = rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
                out!("\nThe guard rules:\n\n");
                for rule in rules {
                    out!("    {:<width$}  {}\n", rule.name, rule.summary);
                }
            }
            exit::OK
        }
        None => {
            let names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            eprintln!("error: unknown diagnostic code `{code}`");
            if let Some(near) =
                crate::diag::nearest(&code.to_ascii_uppercase(), names.iter().copied())
            {
                eprintln!("help: did you mean `{near}`?");
            }
            eprintln!("help: the codes are {}", names.join(", "));
            exit::USAGE
        }
    }
}
