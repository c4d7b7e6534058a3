//! The client-side rate limiter: one budget per account, shared by every task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

/// A request budget: at most `requests` in any window of `per`, shared by every client of
/// one account.
///
/// The limiter remembers when its last `requests` requests were sent and holds a new one
/// until the oldest of them is a window (and a margin for the network) old: a sliding
/// window, so that no window of the server's — fixed or sliding, wherever it starts — sees
/// more than the budget, while an idle client may still send a burst of `requests` at once.
#[derive(Debug)]
pub struct RateLimiter {
    requests: usize,
    per: Duration,
    state: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    /// When the requests of the current window were sent, oldest first.
    sent: std::collections::VecDeque<Instant>,
    /// The server said the budget is spent until then.
    paused_until: Option<Instant>,
}

impl RateLimiter {
    /// At most `requests` in any window of `per`.
    pub fn new(requests: u32, per: Duration) -> RateLimiter {
        let requests = requests.max(1) as usize;
        RateLimiter {
            requests,
            per,
            state: Mutex::new(Window { sent: std::collections::VecDeque::with_capacity(requests), paused_until: None }),
        }
    }

    /// The limiter of `account` at `endpoint`, shared process-wide, so concurrent tasks
    /// and providers on one account draw on one budget.
    pub fn shared(endpoint: &str, account: &str, requests: u32, per: Duration) -> Arc<RateLimiter> {
        static LIMITERS: OnceLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = OnceLock::new();
        let mut all = LIMITERS.get_or_init(Default::default).lock().expect("not poisoned");
        all.entry(format!("{endpoint} {account} {requests}/{}", per.as_millis()))
            .or_insert_with(|| Arc::new(RateLimiter::new(requests, per)))
            .clone()
    }

    /// The budget in words: `60 requests per 1m`.
    pub fn describe(&self) -> String {
        format!("{} requests per {}", self.requests, zonectl_core::duration::show(self.per))
    }

    /// Waits until a request may be sent, and counts it. Returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        // Requests are counted when sent and by the server when received: a margin keeps
        // a window of ours from being a shade shorter than the server's.
        let window = self.per + self.per / 50;
        let started = Instant::now();
        loop {
            let wait = {
                let mut w = self.state.lock().expect("not poisoned");
                let now = Instant::now();
                match w.paused_until {
                    Some(until) if until > now => until - now,
                    _ => {
                        w.paused_until = None;
                        while w.sent.front().is_some_and(|&at| now.saturating_duration_since(at) >= window) {
                            w.sent.pop_front();
                        }
                        if w.sent.len() < self.requests {
                            w.sent.push_back(now);
                            return started.elapsed();
                        }
                        (w.sent[0] + window).saturating_duration_since(now)
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Holds every request back until `until`: the server's count says the budget is spent.
    pub fn pause_until(&self, until: Instant) {
        let mut w = self.state.lock().expect("not poisoned");
        w.paused_until = Some(w.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_limiter_never_lets_more_than_its_budget_into_any_window() {
        let limiter = RateLimiter::new(10, Duration::from_secs(10));
        let start = tokio::time::Instant::now();
        let mut sent = Vec::new();
        for _ in 0..35 {
            limiter.acquire().await;
            sent.push(start.elapsed());
        }
        assert!(sent[..10].iter().all(|t| t.is_zero()), "an idle client sends its budget at once: {sent:?}");
        assert!(sent[10] >= Duration::from_secs(10), "the 11th waits for the window: {:?}", sent[10]);
        // Every window of 10 seconds, wherever it starts, holds at most 10.
        for (i, &at) in sent.iter().enumerate() {
            let in_window = sent[i..].iter().take_while(|&&t| t < at + Duration::from_secs(10)).count();
            assert!(in_window <= 10, "{in_window} requests in the 10 s from {at:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_requests() {
        let limiter = RateLimiter::new(100, Duration::from_secs(1));
        limiter.pause_until(Instant::now() + Duration::from_secs(3));
        let start = tokio::time::Instant::now();
        limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_millis(2900), "{:?}", start.elapsed());
    }
}
