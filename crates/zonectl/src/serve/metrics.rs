//! `/metrics` in Prometheus' text format: requests per listener, provider calls, errors,
//! changes applied and rate-limit waits. Provider calls and waits are counted from the
//! `tracing` events the HTTP layer sends for each request, so the providers need no
//! knowledge of the server.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tracing::field::{Field, Visit};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub listener: String,
    pub method: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    pub provider: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub provider: String,
    pub status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabels {
    pub listener: String,
}

/// The counters, shared by the listeners and the tracing layer.
#[derive(Default)]
pub struct Metrics {
    pub requests: Family<RequestLabels, Counter>,
    pub errors: Family<ListenerLabels, Counter>,
    pub provider_calls: Family<CallLabels, Counter>,
    pub changes_applied: Family<ProviderLabels, Counter>,
    pub rate_limit_waits: Family<ProviderLabels, Counter>,
}

impl Metrics {
    /// The text exposition of every counter.
    pub fn encode(&self) -> String {
        let mut registry = Registry::with_prefix("zonectl");
        registry.register("requests", "HTTP requests answered, by listener and status", self.requests.clone());
        registry.register("errors", "Requests answered with an error", self.errors.clone());
        registry.register("provider_calls", "Requests sent to provider APIs", self.provider_calls.clone());
        registry.register("changes_applied", "Record changes made at providers", self.changes_applied.clone());
        registry.register(
            "rate_limit_waits",
            "Waits of a second or more for a provider's rate limit",
            self.rate_limit_waits.clone(),
        );
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).expect("writing to a String");
        out
    }
}

/// Counts the HTTP layer's events: one per provider request (`status`), one per wait for
/// the rate limit (`waited_ms`).
pub struct Layer(pub Arc<Metrics>);

#[derive(Default)]
struct Fields {
    provider: Option<String>,
    status: Option<String>,
    waited: bool,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, _: u64) {
        if field.name() == "waited_ms" {
            self.waited = true;
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record(field, format!("{value:?}"));
    }
}

impl Fields {
    fn record(&mut self, field: &Field, value: String) {
        match field.name() {
            "provider" => self.provider = Some(value),
            "status" => self.status = Some(value),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Layer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "zonectl::http" {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let Some(provider) = fields.provider else { return };
        if fields.waited {
            self.0.rate_limit_waits.get_or_create(&ProviderLabels { provider }).inc();
        } else if let Some(status) = fields.status {
            self.0.provider_calls.get_or_create(&CallLabels { provider, status }).inc();
        }
    }
}
