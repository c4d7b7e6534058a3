//! The `zonectl` command: a thin layer over `zonectl-core` that parses arguments, runs one
//! command, prints its result and turns it into an exit code.

mod cli;
mod commands;
mod config;

use std::process::ExitCode;

use clap::Parser;

/// A zone is a million small allocations (names, record data); mimalloc makes and frees
/// them in about half the time of the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // One line, context first, as ripgrep prints its errors.
            eprintln!("zonectl: {err:#}");
            ExitCode::FAILURE
        }
    }
}
