//! The one integration test binary.

mod apply;
mod cases;
mod cli;
mod examples;
mod fmt;
mod hitless;
mod hostile;
mod judged;
mod large;
mod live;
mod lsp;
mod plans;
mod support;
mod syntax;
