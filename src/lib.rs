//! haptic: a typed language and compiler for HAProxy deployments.
//!
//! ```text
//!  haptic.toml + *.hap ──► project ──► syntax ──► check ──────► lower ──────► emit
//!                          (files,     (bytes →   (names,        (model →      haproxy_cfg,
//!                           imports)    AST)       types,          HAProxy       runtime
//!                                                  guards, lints)  config tree)
//! ```
//!
//! | stage            | input                     | output                          |
//! |------------------|---------------------------|---------------------------------|
//! | [`project`]      | a directory (or [`project::Files`]) | [`source::SourceMap`], one [`syntax::ast::File`] per file |
//! | [`syntax`]       | source text               | [`syntax::ast::File`]           |
//! | [`check`]        | the parsed project        | one [`model::Env`] per environment, [`diag::Diagnostic`]s |
//! | [`lower`]        | [`model::Env`]            | [`lower::Config`] (sections of words) |
//! | [`emit`]         | [`lower::Config`], [`model::Env`] | `haproxy.cfg`, `runtime.txt` text |
//! | [`driver`]       | a directory               | all of the above, and atomic writes |
//! | [`cli`]          | arguments                 | an exit code                    |
//!
//! [`runtime_api`] talks to a live HAProxy's Runtime API socket.

pub mod apply;
pub mod check;
pub mod cli;
pub mod diag;
pub mod driver;
pub mod emit;
pub mod fmt;
pub mod lower;
pub mod lsp;
pub mod model;
pub mod plan;
pub mod project;
pub mod runtime_api;
pub mod source;
pub mod syntax;

/// How many threads a stage may use for one large project: the machine's
/// cores, or `HAPTIC_THREADS` where set (`HAPTIC_THREADS=1` runs every stage
/// on one thread). Results do not depend on it.
pub fn threads() -> usize {
    std::env::var("HAPTIC_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
