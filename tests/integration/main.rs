//! The one integration test binary.

mod cases;
mod cli;
mod examples;
mod live;
mod support;
