//! What the provider tests share: quick retries, the `tracing` events a test causes, and a
//! probe of an emulator's throttle.

#![allow(dead_code)]

use std::cell::RefCell;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use tracing_subscriber::layer::SubscriberExt;
use zonectl_providers::http::RetryPolicy;

/// Retries quick enough for tests, many enough to ride out injected faults. Every test
/// builds its providers with these, so this is also where the process's one subscriber
/// is installed, before any event is sent.
pub fn fast_retries() -> RetryPolicy {
    install();
    RetryPolicy {
        attempts: 8,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(10),
        budget: Duration::from_secs(30),
    }
}

thread_local! {
    static SINK: RefCell<Option<Arc<Mutex<Vec<String>>>>> = const { RefCell::new(None) };
}

/// One global subscriber for the test process, sending each event to the sink of the
/// thread it happens on. (A subscriber set per test with `set_default` misses events when
/// tests run in parallel: `tracing` caches callsite interest across threads.)
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Collect));
    });
}

/// Stops capturing on this thread when dropped.
pub struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        SINK.with(|sink| sink.borrow_mut().take());
    }
}

/// The messages of every `zonectl` event on this thread while the guard lives (tests run
/// on a current-thread runtime, so their events are on the test's thread).
pub fn capture() -> (Capturing, Arc<Mutex<Vec<String>>>) {
    install();
    let lines = Arc::new(Mutex::new(Vec::new()));
    SINK.with(|sink| *sink.borrow_mut() = Some(lines.clone()));
    (Capturing, lines)
}

struct Collect;

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Collect {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target().starts_with("zonectl") {
            let mut message = Message(String::new());
            event.record(&mut message);
            SINK.with(|sink| {
                if let Some(lines) = &*sink.borrow() {
                    lines.lock().unwrap().push(message.0);
                }
            });
        }
    }
}

/// Another client spends `spend` requests of the emulator's budget under the reading
/// `throttle`, then `probe` is sent: whether its 429 carried `Retry-After`. Tried three
/// times, as the service's window may turn between the spend and the probe; `None` when
/// no probe met a 429.
pub async fn throttled_probe(
    emulator: &zonectl_emulator::Emulator,
    spend: u32,
    throttle: &str,
    probe: impl Fn() -> reqwest::RequestBuilder,
) -> Option<bool> {
    let readings: std::collections::BTreeMap<String, String> = [("throttle".to_owned(), throttle.to_owned())].into();
    for _ in 0..3 {
        emulator.set_faults(zonectl_emulator::Faults {
            spend_budget: spend,
            readings: readings.clone(),
            ..Default::default()
        });
        let answer = probe().send().await.unwrap();
        if answer.status() == 429 {
            return Some(answer.headers().contains_key("retry-after"));
        }
    }
    None
}
