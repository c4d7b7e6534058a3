//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Manage DNS zones at DNS hosting providers through one typed record model.
#[derive(Debug, Parser)]
#[command(name = "zonectl", version, about, max_term_width = 100)]
pub struct Cli {
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,

    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For programs: one JSON document on stdout.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check zone files, like named-checkzone.
    ///
    /// Prints each problem as `file:line: error|warning: message`. Exits 0 when every file
    /// is clean or has only warnings, 1 when any has an error.
    Check {
        /// Zone files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The zone's origin; by default the file's $ORIGIN, else its name without
        /// .zone, .db or .txt.
        #[arg(long)]
        origin: Option<String>,
        /// Treat a missing SOA or apex NS as an error, as named-checkzone does.
        #[arg(long)]
        strict: bool,
    },
    /// Print a zone file in canonical form, or rewrite it in place.
    Fmt {
        /// The zone file.
        file: PathBuf,
        /// The zone's origin (as for `check`).
        #[arg(long)]
        origin: Option<String>,
        /// Rewrite the file in place (atomically) instead of printing.
        #[arg(long, short = 'w')]
        write: bool,
        /// With --write: rewrite even a file with comments or $INCLUDE, which the
        /// canonical form does not keep.
        #[arg(long, requires = "write")]
        drop_comments: bool,
    },
}
