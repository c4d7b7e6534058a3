//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use zonectl_core::zonefile::ReadOptions;

/// Manage DNS zones at DNS hosting providers through one typed record model.
#[derive(Debug, Parser)]
#[command(name = "zonectl", version, about, max_term_width = 100)]
pub struct Cli {
    /// The configuration file [default: $ZONECTL_CONFIG, else ./zonectl.toml if present,
    /// else a `zonefile` provider over ./zones].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The provider instance to use (a name from the configuration).
    #[arg(long, short = 'p', global = true, value_name = "NAME")]
    pub provider: Option<String>,

    /// Print each HTTP request's line, status and timing, and each retry, to stderr (never
    /// a credential).
    #[arg(long, global = true)]
    pub debug: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed: `--output FORMAT` (`-o`) of every command that prints a
/// result, each taking the formats it can produce (the parser refuses the others, listing
/// those it takes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Output {
    /// For people (tables where there are rows).
    #[default]
    Text,
    /// For programs: one JSON document on stdout.
    Json,
    /// A zone file (record listings and export).
    Zone,
    /// Markdown (plans and listings, for pull-request comments).
    Markdown,
}

impl Output {
    fn named(name: &str) -> Output {
        match name {
            "json" => Output::Json,
            "zone" => Output::Zone,
            "markdown" => Output::Markdown,
            _ => Output::Text,
        }
    }
}

/// The parser of a command's `--output`: `allowed` formats only (`text` also as `table`).
fn formats(allowed: &'static [&'static str]) -> impl clap::builder::TypedValueParser<Value = Output> {
    let values = allowed.iter().map(|&name| {
        let value = clap::builder::PossibleValue::new(name);
        if name == "text" { value.alias("table") } else { value }
    });
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(values).map(|name| Output::named(&name))
}

/// `--output text|json`.
#[derive(Debug, Clone, Copy, Args)]
pub struct TextOrJson {
    /// How to print the result.
    #[arg(long, short = 'o', value_name = "FORMAT", default_value = "text", value_parser = formats(&["text", "json"]))]
    pub output: Output,
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
        #[command(flatten)]
        reading: ReadingArgs,
        /// Treat a missing SOA or apex NS, and data outside the zone, as errors, as
        /// named-checkzone does.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        output: TextOrJson,
    },
    /// Print a zone file in canonical form, or rewrite it in place.
    Fmt {
        /// The zone file.
        file: PathBuf,
        #[command(flatten)]
        reading: ReadingArgs,
        /// Rewrite the file in place (atomically) instead of printing.
        #[arg(long, short = 'w')]
        write: bool,
        /// With --write: rewrite even a file with comments or $INCLUDE, which the
        /// canonical form does not keep.
        #[arg(long, requires = "write")]
        drop_comments: bool,
        /// With --write: rewrite a read-only file (its mode is kept).
        #[arg(long, requires = "write")]
        force: bool,
    },
    /// The provider kinds and what each can do.
    Providers {
        #[command(flatten)]
        output: TextOrJson,
    },
    /// Zones at a provider.
    #[command(subcommand)]
    Zone(ZoneCommand),
    /// Records of a zone at a provider.
    #[command(subcommand)]
    Record(RecordCommand),
    /// Write a provider's zone as a zone file in canonical form.
    Export {
        /// The zone.
        zone: String,
        /// Write here (atomically) instead of to stdout.
        #[arg(long = "out", alias = "out-file", value_name = "FILE")]
        file: Option<PathBuf>,
        /// A zone file (`zone`, also `text`), or the records as JSON.
        #[arg(long, short = 'o', value_name = "FORMAT", default_value = "zone", value_parser = formats(&["zone", "text", "json"]))]
        output: Output,
    },
    /// Show what `apply` would change for the configured zones.
    ///
    /// Exit status: 0 when nothing would change (or with changes, without
    /// --detailed-exitcode), 2 with --detailed-exitcode when something would change,
    /// 1 on an error.
    Plan {
        /// Only these zones (all configured zones by default).
        zones: Vec<String>,
        /// Exit 2 when the plan has changes.
        #[arg(long)]
        detailed_exitcode: bool,
        /// A TTL a target refuses: refuse the plan (the default), or round it to the
        /// nearest TTL the target allows [default: each zone's ttl_policy].
        #[arg(long, value_enum)]
        ttl_policy: Option<TtlPolicyArg>,
        /// How to print the plans.
        #[arg(long, short = 'o', value_name = "FORMAT", default_value = "text", value_parser = formats(&["text", "json", "markdown"]))]
        output: Output,
        /// Also save the plan here, for `zonectl apply FILE` (see `zonectl show`).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Make the configured zones at their targets match their source files, or apply a
    /// saved plan.
    ///
    /// `zonectl apply FILE` (or `--plan FILE`) applies exactly the changes of a plan saved
    /// by `zonectl plan --out FILE`, and only while every target zone still holds what was
    /// read when it was made.
    Apply {
        /// Only these zones (all configured zones by default); or one saved plan file.
        zones: Vec<String>,
        /// Apply the plan saved in this file, exactly.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["zones", "checksum", "ttl_policy"])]
        plan: Option<PathBuf>,
        /// Plan again, and apply only if the plan has this checksum (the one `zonectl plan`
        /// printed when it was reviewed).
        #[arg(long, value_name = "SUM")]
        checksum: Option<String>,
        /// A TTL a target refuses: refuse the plan (the default), or round it to the
        /// nearest TTL the target allows [default: each zone's ttl_policy].
        #[arg(long, value_enum)]
        ttl_policy: Option<TtlPolicyArg>,
        /// Apply even when a plan passes the safety thresholds or changes apex NS.
        #[arg(long)]
        force: bool,
        /// Do not ask for confirmation on a terminal.
        #[arg(long, short = 'y')]
        yes: bool,
        /// How to print the plans and what was done (json: the change report alone).
        #[command(flatten)]
        output: TextOrJson,
    },
    /// Show a plan saved by `zonectl plan --out`.
    Show {
        /// The plan file.
        file: PathBuf,
        /// How to print it (json: the file itself).
        #[arg(long, short = 'o', value_name = "FORMAT", default_value = "text", value_parser = formats(&["text", "json", "markdown"]))]
        output: Output,
    },
    /// Write the zones a provider holds as zone files and a zonectl.toml that keeps them
    /// as code: `zonectl plan` right after it is empty.
    Import {
        /// Only these zones (all the provider's by default).
        zones: Vec<String>,
        /// The directory to write the zone files and zonectl.toml in.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Overwrite files that exist.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        output: TextOrJson,
    },
    /// The backups written before every apply: list them, or put a zone back as one was.
    #[command(subcommand)]
    Backups(BackupsCommand),
    /// Keep a name's A and AAAA records at the given or discovered addresses.
    ///
    /// Nothing is sent when the records hold the addresses already. Without --ipv4 or
    /// --ipv6, the addresses are found with --from-interface or --from-url.
    Ddns {
        /// The zone.
        zone: String,
        /// The name, relative to the zone (`@` for the apex) or absolute with a dot.
        name: String,
        /// The IPv4 address for the A record.
        #[arg(long)]
        ipv4: Option<std::net::Ipv4Addr>,
        /// The IPv6 address for the AAAA record.
        #[arg(long)]
        ipv6: Option<std::net::Ipv6Addr>,
        /// Take the addresses of this network interface (link-local ones left out).
        #[arg(long, value_name = "IFACE")]
        from_interface: Option<String>,
        /// Ask this URL, which answers with the caller's address as text (repeat it for a
        /// service of each address family).
        #[arg(long, value_name = "URL")]
        from_url: Vec<String>,
        /// Use the provider's own dynamic DNS endpoint (Domeneshop) instead of its API.
        #[arg(long)]
        native: bool,
        /// The TTL [default: the records', else 300].
        #[arg(long)]
        ttl: Option<String>,
        #[command(flatten)]
        output: TextOrJson,
    },
    /// ACME DNS-01 hooks: put a challenge's TXT value in place and wait until every
    /// authoritative name server shows it, or take it away again.
    ///
    /// The zone is found among the configured providers' zones (only --provider's, if
    /// given), after following a CNAME at the challenge name. Settings come from `[acme]` in
    /// the configuration, ZONECTL_ACME_* variables, and these flags, each over the last.
    Acme {
        #[command(subcommand)]
        command: AcmeCommand,
        #[command(flatten)]
        args: AcmeArgs,
    },
    /// lego's exec provider: `present FQDN VALUE`, or `present -- DOMAIN TOKEN KEY_AUTH`
    /// with EXEC_MODE=RAW.
    #[command(hide = true)]
    Present {
        #[arg(num_args = 2..=3, allow_hyphen_values = true, trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// lego's exec provider: `cleanup FQDN VALUE`, or `cleanup -- DOMAIN TOKEN KEY_AUTH`.
    #[command(hide = true)]
    Cleanup {
        #[arg(num_args = 2..=3, allow_hyphen_values = true, trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Serve the configured providers to external-dns (webhook), lego (httpreq) and
    /// routers (dyndns2), with /healthz and /metrics on a listener of their own.
    ///
    /// Prints one JSON line per listener with its address, then serves until SIGTERM or
    /// SIGINT, after which what is under way finishes and the exit status is 0.
    Serve(ServeArgs),
    /// Plan (and with --apply, make) a migration of a zone from one provider to another.
    Copy {
        /// PROVIDER:ZONE to read.
        source: String,
        /// PROVIDER:ZONE to write.
        destination: String,
        /// A TTL the destination refuses: refuse the copy (the default), or round it to the
        /// nearest TTL the destination allows.
        #[arg(long, value_enum, default_value_t = TtlPolicyArg::Refuse)]
        ttl_policy: TtlPolicyArg,
        /// Apply the plan (asks for confirmation on a terminal unless --yes).
        #[arg(long)]
        apply: bool,
        /// Apply even past the safety thresholds.
        #[arg(long)]
        force: bool,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// How to print the plan (and, with --apply, what was done).
        #[arg(long, short = 'o', value_name = "FORMAT", default_value = "text", value_parser = formats(&["text", "json", "markdown"]))]
        output: Output,
    },
    /// Run provider emulators in the foreground, for zonectl, curl or any client.
    ///
    /// Prints one JSON line per emulator with its endpoint, credentials and zones, then
    /// serves until interrupted.
    #[cfg(feature = "emulators")]
    Emulate {
        /// The providers to emulate.
        #[arg(required = true, value_parser = clap::builder::PossibleValuesParser::new(crate::registry::emulated()))]
        providers: Vec<String>,
        /// Address to listen on; with several emulators, each takes the next port.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Run the services' clocks faster: 0.1 makes a 3-second order take 0.3 s and a
        /// 5-minute rate-limit window 30 s.
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// How long after a change the emulated name servers show it (on the service's
        /// clock: scaled by --time-scale).
        #[arg(long, default_value = "0s", value_name = "DURATION")]
        propagation_delay: String,
        /// The request budget per window of the services that count one (LuaDNS: 1200 per
        /// 5 minutes), to reach it in a test without thousands of requests.
        #[arg(long, value_name = "REQUESTS")]
        rate_limit: Option<u32>,
        /// Where the API document allows two readings, the one to play (`zone_list=bare`
        /// for VPS.org); README's Emulators section lists them. Repeatable.
        #[arg(long = "reading", value_name = "NAME=VALUE")]
        readings: Vec<String>,
        /// Serve HTTPS with this certificate chain (PEM), for a client that reaches only the
        /// vendor's host name (with a test CA and that name resolved here).
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's key (PEM).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Write a zonectl.toml pointing at the emulators (and, with one emulator, the
        /// ACME hooks at its name server).
        #[arg(long, value_name = "FILE")]
        write_config: Option<PathBuf>,
    },
    /// Show zonectl's main job against built-in emulators: plan a zone file, apply it to
    /// each provider over HTTP, and show that a second plan is empty.
    #[cfg(feature = "emulators")]
    Demo {
        /// The zone file [default: the shipped example, example.com].
        zone: Option<PathBuf>,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
}

/// `zonectl serve`'s listeners (each optional; port 0 picks one) and how it runs.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The external-dns webhook (loopback only: its protocol has no authentication)
    /// [env: WEBHOOK_HOST, WEBHOOK_PORT].
    #[arg(long, value_name = "ADDR")]
    pub external_dns: Option<std::net::SocketAddr>,
    /// lego's httpreq / Caddy's acmeproxy (`/present`, `/cleanup`).
    #[arg(long, value_name = "ADDR")]
    pub httpreq: Option<std::net::SocketAddr>,
    /// dyndns2 (`/nic/update`).
    #[arg(long, value_name = "ADDR")]
    pub dyndns: Option<std::net::SocketAddr>,
    /// The RFC 2136 gateway: DNS UPDATE with TSIG, queries and AXFR, on UDP and TCP.
    #[arg(long, value_name = "ADDR")]
    pub rfc2136: Option<std::net::SocketAddr>,
    /// /healthz and /metrics [env: METRICS_HOST, METRICS_PORT].
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
    /// The certificate chain (PEM) httpreq and dyndns answer HTTPS with.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Let httpreq and dyndns listen beyond loopback without TLS (behind a proxy that
    /// terminates it).
    #[arg(long)]
    pub insecure_listen: bool,
    /// One log line per request and per change, as text or JSON.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How `serve` writes its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `2026-11-23T01:02:03Z  INFO external-dns: POST /records 204 12ms`.
    Text,
    /// One JSON object per line.
    Json,
}

/// The ACME hooks, one per way a client calls them.
#[derive(Debug, Subcommand)]
pub enum AcmeCommand {
    /// Add VALUE to the TXT records at FQDN (`_acme-challenge.example.com.`) and wait
    /// until every authoritative name server shows it.
    Present {
        /// The challenge name.
        fqdn: String,
        /// The TXT value.
        value: String,
    },
    /// Remove VALUE from the TXT records at FQDN, and nothing else.
    Cleanup {
        /// The challenge name.
        fqdn: String,
        /// The TXT value.
        value: String,
    },
    /// certbot's --manual-auth-hook: CERTBOT_DOMAIN and CERTBOT_VALIDATION from the
    /// environment.
    CertbotAuth,
    /// certbot's --manual-cleanup-hook.
    CertbotCleanup,
    /// dehydrated's hook (`contrib/dehydrated/hook.sh`): deploy_challenge and
    /// clean_challenge, HOOK_CHAIN=yes included; any other handler does nothing.
    Dehydrated {
        /// The handler and its arguments, as dehydrated passes them.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        args: Vec<String>,
    },
}

/// How the ACME hooks check propagation.
#[derive(Debug, Default, Args)]
pub struct AcmeArgs {
    /// Check this server (ADDR[:PORT]; repeatable) instead of the zone's name servers
    /// [env: ZONECTL_ACME_NAMESERVERS, comma-separated].
    #[arg(long, global = true, value_name = "ADDR[:PORT]")]
    pub nameserver: Vec<String>,
    /// How long to wait for every server to show the value [default: 5m; env:
    /// ZONECTL_ACME_PROPAGATION_TIMEOUT].
    #[arg(long, global = true, value_name = "DURATION")]
    pub propagation_timeout: Option<String>,
    /// How long between two rounds of questions [default: 2s; env:
    /// ZONECTL_ACME_POLLING_INTERVAL].
    #[arg(long, global = true, value_name = "DURATION")]
    pub polling_interval: Option<String>,
    /// Return once the value is in place, without waiting for the name servers.
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// How to print what was done (json: the change report on stdout; the hooks print
    /// nothing there otherwise, as certbot hands stdout to its cleanup hook).
    #[arg(long, short = 'o', global = true, value_name = "FORMAT", default_value = "text", value_parser = formats(&["text", "json"]))]
    pub output: Output,
}

/// What to do with a TTL a provider refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TtlPolicyArg {
    /// Refuse the plan, naming each record.
    Refuse,
    /// Use the nearest TTL the provider allows.
    Round,
}

impl From<TtlPolicyArg> for zonectl_core::plan::TtlPolicy {
    fn from(arg: TtlPolicyArg) -> Self {
        match arg {
            TtlPolicyArg::Refuse => zonectl_core::plan::TtlPolicy::Refuse,
            TtlPolicyArg::Round => zonectl_core::plan::TtlPolicy::Round,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum BackupsCommand {
    /// The backups, oldest first: time, provider, zone, scope and records.
    List {
        /// Only this zone's.
        zone: Option<String>,
        #[command(flatten)]
        output: TextOrJson,
    },
    /// Plan the zone at its provider back to a backup, and apply it as `apply` does
    /// (thresholds, confirmation, a backup of the zone as it is now).
    Restore {
        /// The backup: its path, or its id as `backups list` shows it.
        backup: String,
        /// Apply even past the safety thresholds.
        #[arg(long)]
        force: bool,
        /// Do not ask for confirmation on a terminal.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        output: TextOrJson,
    },
}

#[derive(Debug, Subcommand)]
pub enum ZoneCommand {
    /// List the zones the providers hold (only --provider's, if given), each with the
    /// providers that hold it.
    List {
        #[command(flatten)]
        output: TextOrJson,
    },
    /// Create a zone, where the provider's API can (VPS.org).
    Create {
        /// The zone.
        zone: String,
        #[command(flatten)]
        output: TextOrJson,
    },
    /// Delete a zone and every record in it, where the provider's API can. Without
    /// --force, only says how many records would go.
    Delete {
        /// The zone.
        zone: String,
        /// Delete it.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        output: TextOrJson,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// List a zone's records.
    List {
        /// The zone.
        zone: String,
        /// Only records at this name (relative to the zone, `@` for the apex).
        #[arg(long)]
        name: Option<String>,
        /// Only records of this type.
        #[arg(long = "type", short = 't')]
        rtype: Option<String>,
        /// A table, JSON, a zone file, or a Markdown table.
        #[arg(long, short = 'o', value_name = "FORMAT", default_value = "text", value_parser = formats(&["text", "json", "zone", "markdown"]))]
        output: Output,
    },
    /// Add a record to its record set.
    Add {
        /// The zone.
        zone: String,
        /// The owner, relative to the zone (`@` for the apex) or absolute with a dot.
        name: String,
        /// The type (A, MX, TXT, …).
        #[arg(value_name = "TYPE")]
        rtype: String,
        /// The data in zone-file form (`10 mail`, `"some text"`).
        value: String,
        /// The TTL for the whole set [default: the set's, else the provider's default].
        #[arg(long)]
        ttl: Option<String>,
        #[command(flatten)]
        edit: EditArgs,
    },
    /// Replace a record set with the given values.
    Set {
        /// The zone.
        zone: String,
        /// The owner.
        name: String,
        /// The type.
        #[arg(value_name = "TYPE")]
        rtype: String,
        /// The values.
        #[arg(required = true)]
        values: Vec<String>,
        /// The TTL [default: the set's, else the provider's default].
        #[arg(long)]
        ttl: Option<String>,
        #[command(flatten)]
        edit: EditArgs,
    },
    /// Delete a record set, or one value of it.
    Delete {
        /// The zone.
        zone: String,
        /// The owner.
        name: String,
        /// The type.
        #[arg(value_name = "TYPE")]
        rtype: String,
        /// Only this value.
        value: Option<String>,
        /// Allow deleting apex NS records.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        output: TextOrJson,
    },
}

/// What `record add` and `record set` take beyond the record.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// A TTL a target refuses: refuse the change (the default), or round it to the nearest
    /// TTL the target allows.
    #[arg(long, value_enum, default_value_t = TtlPolicyArg::Refuse)]
    pub ttl_policy: TtlPolicyArg,
    #[command(flatten)]
    pub output: TextOrJson,
}

/// How `check` and `fmt` read a zone file.
#[derive(Debug, Args)]
pub struct ReadingArgs {
    /// The zone's origin; by default the file's $ORIGIN, else its name without .zone, .db
    /// or .txt.
    #[arg(long)]
    pub origin: Option<String>,
    /// Stop after this many errors.
    #[arg(long, default_value_t = ReadOptions::default().max_errors, value_name = "N")]
    pub max_errors: usize,
    /// Refuse a file (with its includes and `$GENERATE`s) of more records than this: an
    /// untrusted file's bound on memory and time.
    #[arg(long, default_value_t = ReadOptions::default().max_records, value_name = "N")]
    pub max_records: usize,
    /// Let $INCLUDE read files outside the including file's directory (off by default: a
    /// zone file from a pull request is untrusted input).
    #[arg(long)]
    pub allow_include_anywhere: bool,
}
