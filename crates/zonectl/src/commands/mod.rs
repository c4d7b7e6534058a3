//! One module per command.

mod check;
mod fmt;

use std::process::ExitCode;

use anyhow::Context;
use zonectl_core::Name;

use crate::cli::{Cli, Command};

/// Runs the command; the exit code is the command's own verdict, an error is printed by
/// `main`.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { files, origin, strict } => check::run(&files, parse_origin(origin)?, strict, cli.output),
        Command::Fmt { file, origin, write, drop_comments } => {
            fmt::run(&file, parse_origin(origin)?, write, drop_comments)
        }
    }
}

fn parse_origin(origin: Option<String>) -> anyhow::Result<Option<Name>> {
    origin.map(|o| Name::parse(&o).with_context(|| format!("--origin {o}"))).transpose()
}
