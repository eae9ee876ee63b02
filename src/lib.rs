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
//! | [`lower`]        | [`model::Env`]            | [`lower::Section`]s (lines of words), one at a time |
//! | [`emit`]         | [`lower::Section`]s, [`model::Env`] | `haproxy.cfg`, `runtime.txt` text, whole or a chunk at a time ([`emit::Out`]) |
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
pub mod hash;
pub mod lower;
pub mod lsp;
pub mod model;
pub mod parallel;
pub mod plan;
pub mod project;
pub mod runtime_api;
pub mod source;
pub mod syntax;
