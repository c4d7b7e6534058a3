//! `/metrics` in Prometheus' text format: requests per listener, provider calls, errors,
//! changes applied and rate-limit waits. Provider calls and waits are fed explicitly from
//! what the work cost ([`zonectl_core::meter::Counts`], the change reports' and the
//! listings'), changes from the change reports: nothing is read back out of log lines.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use zonectl_core::meter::Counts;
use zonectl_core::report::ChangeReport;

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

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusedLabels {
    pub listener: String,
    /// `busy` (the listener's in-flight bound), `rate` (the client's per-address rate),
    /// `connections` (the connection cap), `replay` (a signed request seen before).
    pub reason: String,
}

/// The counters the listeners feed.
#[derive(Default)]
pub struct Metrics {
    pub requests: Family<RequestLabels, Counter>,
    pub errors: Family<ListenerLabels, Counter>,
    pub provider_calls: Family<CallLabels, Counter>,
    pub changes_applied: Family<ProviderLabels, Counter>,
    pub rate_limit_waits: Family<ProviderLabels, Counter>,
    /// Messages and connections turned away because a listener was full or a client past
    /// its rate.
    pub refused: Family<RefusedLabels, Counter>,
}

impl Metrics {
    /// Counts a message or connection `listener` turned away, and why.
    pub fn turned_away(&self, listener: &str, reason: &str) {
        self.refused.get_or_create(&RefusedLabels { listener: listener.into(), reason: reason.into() }).inc();
    }

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
        registry.register(
            "refused",
            "Requests, messages and connections turned away by a listener's bounds",
            self.refused.clone(),
        );
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).expect("writing to a String");
        out
    }

    /// Counts the provider requests and waits of some work (a listing, a cache refresh).
    pub fn cost(&self, counts: &Counts) {
        for ((provider, status), n) in &counts.requests {
            self.provider_calls
                .get_or_create(&CallLabels { provider: provider.clone(), status: status.clone() })
                .inc_by(*n);
        }
        for wait in &counts.waits {
            self.rate_limit_waits.get_or_create(&ProviderLabels { provider: wait.provider.clone() }).inc();
        }
    }

    /// Counts what a change did: its requests, waits and the changes made at each target.
    pub fn changed(&self, report: &ChangeReport) {
        for target in &report.targets {
            self.cost(&target.counts);
            let done = target.done() as u64;
            if done > 0 {
                self.changes_applied.get_or_create(&ProviderLabels { provider: target.provider.clone() }).inc_by(done);
            }
        }
    }
}
