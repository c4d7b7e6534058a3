//! What a piece of work cost at the providers: the requests sent (by provider and answer)
//! and the waits for a rate limit, counted where they happen and read by whoever ran the
//! work — the change report of an edit, `serve`'s metrics for a listing.
//!
//! The HTTP layer calls [`request`] and [`waited`] for every request and wait; they count
//! into the [`measured`] scope the calling task is in (and every scope around it), and
//! into nothing outside one. The counting is explicit, typed calls: no log line is parsed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Requests and waits, as counted in one [`measured`] scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests sent, by provider instance and answer (`"200"`, `"429"`, `"failed"` for one
    /// that got no answer).
    pub requests: BTreeMap<(String, String), u64>,
    /// Waits for a rate limit, in the order they happened.
    pub waits: Vec<Wait>,
}

/// One wait for a provider's rate limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// The provider instance.
    pub provider: String,
    /// How long.
    pub duration: Duration,
    /// Why, for people (`the service answered 429`, `60 requests per 1m`).
    pub reason: String,
}

impl Counts {
    /// Requests sent in all.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    /// Requests sent to `provider`.
    pub fn requests_to(&self, provider: &str) -> u64 {
        self.requests.iter().filter(|((p, _), _)| p == provider).map(|(_, n)| n).sum()
    }

    /// The waits at `provider`.
    pub fn waits_at<'a>(&'a self, provider: &'a str) -> impl Iterator<Item = &'a Wait> + 'a {
        self.waits.iter().filter(move |w| w.provider == provider)
    }

    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &Counts) {
        for (key, n) in &other.requests {
            *self.requests.entry(key.clone()).or_default() += n;
        }
        self.waits.extend(other.waits.iter().cloned());
    }
}

tokio::task_local! {
    static SCOPE: Arc<Mutex<Counts>>;
}

/// Counts one request to `provider` and its answer (`"200"`, `"failed"`).
pub fn request(provider: &str, answer: &str) {
    let _ = SCOPE.try_with(|counts| {
        *counts.lock().expect("not poisoned").requests.entry((provider.to_owned(), answer.to_owned())).or_default() +=
            1;
    });
}

/// Counts one wait for `provider`'s rate limit.
pub fn waited(provider: &str, duration: Duration, reason: &str) {
    let _ = SCOPE.try_with(|counts| {
        counts.lock().expect("not poisoned").waits.push(Wait {
            provider: provider.to_owned(),
            duration,
            reason: reason.to_owned(),
        });
    });
}

/// Runs `work` and returns what it cost. Scopes nest: what an inner one counts, the outer
/// one counts too.
pub async fn measured<F: Future>(work: F) -> (F::Output, Counts) {
    let outer = SCOPE.try_with(Arc::clone).ok();
    let counts = Arc::new(Mutex::new(Counts::default()));
    let output = SCOPE.scope(counts.clone(), work).await;
    let counts = counts.lock().expect("not poisoned").clone();
    if let Some(outer) = outer {
        outer.lock().expect("not poisoned").merge(&counts);
    }
    (output, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scopes_count_what_happens_inside_them_and_nest() {
        request("outside", "200");
        let (inner, outer) = measured(async {
            request("lua", "200");
            let ((), inner) = measured(async {
                request("lua", "429");
                waited("lua", Duration::from_secs(3), "the service answered 429");
            })
            .await;
            request("shop", "failed");
            inner
        })
        .await;
        assert_eq!(inner.total_requests(), 1);
        assert_eq!(inner.waits.len(), 1);
        assert_eq!(outer.total_requests(), 3, "the inner scope's request counts outside it too");
        assert_eq!(outer.requests_to("lua"), 2);
        assert_eq!(outer.requests[&("shop".to_owned(), "failed".to_owned())], 1);
        assert_eq!(outer.waits_at("lua").count(), 1);
        assert_eq!(outer.requests_to("outside"), 0, "nothing before the scope is counted");
    }
}
