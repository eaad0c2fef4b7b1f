//! The pool database against real SQLite files in temporary directories.

// Test code: a failed unwrap is a failed test (clippy.toml covers #[test] fns, not helpers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

mod conferences;
mod crud;
mod demo;
mod plugins;
mod schema;
mod secrets;
