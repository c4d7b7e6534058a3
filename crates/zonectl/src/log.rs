//! What the library says through `tracing`, as the command line shows it: notices (a lock
//! waited for, a secret in a readable file) always, as `zonectl: …` lines on stderr; with
//! `--debug`, every HTTP request and retry as `debug: …` lines. The library never puts a
//! credential in an event, so neither can these lines.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Installs the subscriber for the process.
pub fn init(debug: bool) {
    let _ = tracing::subscriber::set_global_default(Registry::default().with(Stderr { debug }));
}

/// Writes zonectl's events to stderr, one line each.
struct Stderr {
    debug: bool,
}

/// The `message` of an event.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

impl<S: Subscriber> Layer<S> for Stderr {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target().starts_with("zonectl") && (self.debug || *metadata.level() <= Level::INFO)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        let notice = metadata.target().starts_with("zonectl::notice");
        if !(notice || self.debug) {
            return;
        }
        let mut message = Message::default();
        event.record(&mut message);
        let prefix = if notice { "zonectl" } else { "debug" };
        crate::status::eprintln(&format!("{prefix}: {}", message.0));
    }
}
