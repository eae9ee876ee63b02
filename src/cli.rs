//! The command line: argument parsing (clap) and the mapping of results to
//! exit codes. Everything else lives in the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{render, Code};
use crate::driver::{self, Compilation};
use crate::project::LoadError;

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
    /// Print the explanation of a diagnostic code, with an example.
    Explain {
        /// A code such as E0200, or its name such as `type-mismatch`.
        code: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: source snippets, colour on a terminal.
    Human,
    /// The versioned JSON envelope, on standard output.
    Json,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
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
    run(cli)
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
        Command::Explain { code } => explain(&code),
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
        Err(LoadError::Manifest(sources, diag)) => {
            print_diagnostics(&[diag], &sources, format);
            return Err(exit::INVALID);
        }
    };
    print_diagnostics(
        &compilation.diagnostics,
        &compilation.project.sources,
        format,
    );
    if compilation.has_errors() {
        return Err(exit::INVALID);
    }
    Ok(compilation)
}

fn print_diagnostics(
    diags: &[crate::diag::Diagnostic],
    sources: &crate::source::SourceMap,
    format: Format,
) {
    match format {
        Format::Json => print!("{}", render::json(diags, sources)),
        Format::Human => {
            eprint!("{}", render::terminal(diags, sources, color()));
            if let Some(summary) = render::summary(diags) {
                eprintln!("{summary}");
            }
        }
    }
}

fn check(dir: &Path, format: Format) -> i32 {
    match load(dir, format) {
        Ok(_) => exit::OK,
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
            None => {
                eprintln!("error: unknown environment `{name}`");
                eprintln!(
                    "help: the environments are {}",
                    crate::check::types::list_values(&compilation.env_names())
                );
                return exit::USAGE;
            }
        },
    };
    let out_dir = out.map_or_else(|| compilation.default_out_dir(), Path::to_path_buf);
    let mut stale = 0;
    for env in envs {
        let output = compilation.output_against(env, base.as_ref());
        for (name, content) in output.files() {
            let path = out_dir.join(&output.env).join(name);
            if check_only {
                let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
                if on_disk != content {
                    stale += 1;
                    print_stale(&path, &on_disk, content);
                }
            } else if let Err(e) = driver::write_atomic(&path, content) {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return exit::USAGE;
            } else {
                eprintln!("wrote {}", path.display());
            }
        }
    }
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

/// Loads the base version; its errors are reported as the base's.
fn load_base(dir: &Path, spec: &str) -> Result<driver::Base, i32> {
    match driver::Base::load(dir, spec) {
        Ok(base) if base.compilation.has_errors() => {
            eprintln!("error: the base version `{spec}` does not compile:");
            print_diagnostics(
                &base.compilation.diagnostics,
                &base.compilation.project.sources,
                Format::Human,
            );
            Err(exit::INVALID)
        }
        Ok(base) => Ok(base),
        Err(LoadError::Io(message)) => {
            eprintln!("error: cannot read the base version `{spec}`: {message}");
            Err(exit::USAGE)
        }
        Err(LoadError::Manifest(sources, diag)) => {
            eprintln!("error: the base version `{spec}` has an invalid manifest:");
            print_diagnostics(&[diag], &sources, Format::Human);
            Err(exit::INVALID)
        }
    }
}

fn print_stale(path: &Path, old: &str, new: &str) {
    let shown = path.display().to_string();
    let diff = similar::TextDiff::from_lines(old, new);
    print!(
        "{}",
        diff.unified_diff().context_radius(3).header(
            &format!("{shown} (on disk)"),
            &format!("{shown} (compiled)")
        )
    );
}

fn explain(code: &str) -> i32 {
    match Code::parse(code) {
        Some(code) => {
            println!(
                "{} ({}, {})\n",
                code,
                code.name(),
                code.default_severity().as_str()
            );
            println!("{}", code.explanation());
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
