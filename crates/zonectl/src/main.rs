//! The `zonectl` command: a thin layer over `zonectl-core` that parses arguments, runs one
//! command, prints its result and turns it into an exit code.

mod cli;
mod commands;
mod config;
mod log;
mod registry;
mod serve;
mod status;

use std::process::ExitCode;

use clap::Parser;

/// A zone is a million small allocations (names, record data); mimalloc makes and frees
/// them in about half the time of the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What a shell shows for a program that wrote into a closed pipe (128 + SIGPIPE), as
/// `cat` or `grep` exit when their reader goes away.
const BROKEN_PIPE: u8 = 141;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // `serve` logs as --log-format says, its last words included.
    let serve_logs = match &cli.command {
        cli::Command::Serve(args) => {
            serve::init_logging(args.log_format, cli.debug);
            true
        }
        _ => {
            log::init(cli.debug);
            false
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::from(BROKEN_PIPE),
        Err(err) if serve_logs => {
            tracing::error!(target: "zonectl::serve", "{}", one_line(&err));
            ExitCode::FAILURE
        }
        Err(err) => {
            // One line, context first, as ripgrep prints its errors.
            eprintln!("zonectl: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// Whether the error is our reader having gone (`zonectl fmt big.zone | head`).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().filter_map(|e| e.downcast_ref::<std::io::Error>()).any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The error and its causes on one line, each cause once: a cause whose text the line
/// already holds (a message that quotes its source) is not repeated, and the causes
/// below one of zonectl's own errors (which says in words what its source was: `cannot
/// connect: connection refused`) are not added.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        if cause.downcast_ref::<zonectl_core::Error>().is_some() {
            break;
        }
    }
    line.replace('\n', " ")
}
