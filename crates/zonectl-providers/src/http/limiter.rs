//! The client-side rate limiter: one budget per account (or per client address, where the
//! service counts by address), shared by every task of the process and — through a small
//! file in the state directory — by every zonectl on the machine.

use std::collections::{HashMap, VecDeque};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use zonectl_core::Error;

/// Whom a service's budget is counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateScope {
    /// The account (LuaDNS: 1200 requests per 5 minutes per account).
    Account,
    /// The client's address (ZoneID: 60 a minute per address): every account used from
    /// this machine shares it, and so does every other client on the address.
    Address,
}

/// A request budget: at most `requests` in any window of `per`.
///
/// The limiter remembers when the last `requests` requests were sent and holds a new one
/// until the oldest of them is a window (and a margin for the network) old: a sliding
/// window, so that no window of the server's — fixed or sliding, wherever it starts — sees
/// more than the budget, while an idle client may still send a burst of `requests` at once.
/// What the server says of other clients (`X-Ratelimit-Remaining` below what we sent, a
/// 429) enters the same window as requests of theirs, so we slow down for them too.
#[derive(Debug)]
pub struct RateLimiter {
    requests: usize,
    per: Duration,
    clock: Clock,
    store: Store,
}

/// What every sharer of a budget knows: when the requests of the window were sent
/// (milliseconds since the Unix epoch, oldest first), and until when the server said the
/// budget is spent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Window {
    sent: VecDeque<u64>,
    paused_until: Option<u64>,
}

/// Where the window lives: in this process, or in a file every process on the machine
/// shares (locked while it is read and written; the in-process mutex keeps this process's
/// threads, which share one open file, in turn).
#[derive(Debug)]
enum Store {
    Memory(Mutex<Window>),
    File { path: PathBuf, turn: Arc<Mutex<()>> },
}

/// Milliseconds since the Unix epoch, advancing with tokio's clock (so a test with paused
/// time controls it), anchored to the system clock (so processes agree).
#[derive(Debug, Clone, Copy)]
struct Clock {
    anchor: Instant,
    anchor_ms: u64,
}

impl Clock {
    fn new() -> Clock {
        let anchor_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        Clock { anchor: Instant::now(), anchor_ms }
    }

    fn now_ms(&self) -> u64 {
        self.anchor_ms + self.anchor.elapsed().as_millis() as u64
    }
}

/// What [`RateLimiter::acquire`] did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Acquired {
    /// How long it held the request.
    pub waited: Duration,
    /// Whether the wait was the server's word (a 429, a spent budget), not our own count.
    pub server_said: bool,
}

impl RateLimiter {
    /// At most `requests` in any window of `per`, counted in this process only.
    pub fn new(requests: u32, per: Duration) -> RateLimiter {
        RateLimiter {
            requests: requests.max(1) as usize,
            per,
            clock: Clock::new(),
            store: Store::Memory(Mutex::new(Window::default())),
        }
    }

    /// At most `requests` in any window of `per`, counted in `file` with every other
    /// process that uses it.
    pub fn in_file(file: PathBuf, requests: u32, per: Duration) -> RateLimiter {
        RateLimiter {
            requests: requests.max(1) as usize,
            per,
            clock: Clock::new(),
            store: Store::File { path: file, turn: Arc::default() },
        }
    }

    /// The limiter of the budget called `key`, shared process-wide (so concurrent tasks and
    /// providers on one account draw on one budget) and, with a directory, machine-wide
    /// through a file in it.
    pub fn shared(key: &str, dir: Option<&Path>, requests: u32, per: Duration) -> Arc<RateLimiter> {
        static LIMITERS: OnceLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = OnceLock::new();
        let file = dir.map(|d| d.join(format!("{:016x}.budget", super::digest(key.as_bytes()))));
        let mut all = LIMITERS.get_or_init(Default::default).lock().expect("not poisoned");
        all.entry(format!("{key} {requests}/{} {file:?}", per.as_millis()))
            .or_insert_with(|| {
                Arc::new(match file {
                    Some(file) => RateLimiter::in_file(file, requests, per),
                    None => RateLimiter::new(requests, per),
                })
            })
            .clone()
    }

    /// The budget in words: `60 requests per 1m`.
    pub fn describe(&self) -> String {
        format!("{} requests per {}", self.requests, zonectl_core::duration::show(self.per))
    }

    /// The window of the budget.
    pub fn per(&self) -> Duration {
        self.per
    }

    /// Waits until a request may be sent, and counts it.
    pub async fn acquire(&self) -> Result<Acquired, Error> {
        // Requests are counted when sent and by the server when received: a margin keeps
        // a window of ours from being a shade shorter than the server's.
        let window = (self.per + self.per / 50).as_millis() as u64;
        let requests = self.requests;
        let mut acquired = Acquired::default();
        let started = Instant::now();
        loop {
            let now = self.clock.now_ms();
            let (wait, server_said) = self
                .update(move |w| {
                    if let Some(until) = w.paused_until.filter(|&until| until > now) {
                        return (until - now, true);
                    }
                    w.paused_until = None;
                    while w.sent.front().is_some_and(|&at| now.saturating_sub(at) >= window) {
                        w.sent.pop_front();
                    }
                    if w.sent.len() < requests {
                        w.sent.push_back(now);
                        return (0, false);
                    }
                    ((w.sent[0] + window).saturating_sub(now).max(1), false)
                })
                .await?;
            if wait == 0 {
                acquired.waited = started.elapsed();
                return Ok(acquired);
            }
            acquired.server_said |= server_said;
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }

    /// Holds every request, of every sharer, until `wait` from now: the server said the
    /// budget is spent.
    ///
    /// Returns whether this is news: no sharer had paused the budget that long already
    /// (so that many tasks meeting one 429 say so once).
    pub async fn pause_for(&self, wait: Duration) -> Result<bool, Error> {
        let until = self.clock.now_ms().saturating_add(wait.as_millis().min(u64::MAX as u128) as u64);
        self.update(move |w| {
            let news = w.paused_until.is_none_or(|p| until > p + 1000);
            w.paused_until = Some(w.paused_until.map_or(until, |p| p.max(until)));
            news
        })
        .await
    }

    /// What the server says it has counted in its window (`X-Ratelimit-Remaining` of
    /// `X-Ratelimit-Limit`): requests of other clients on the account or address, which
    /// ours do not include, count as if sent now.
    pub async fn server_counted(&self, used_of_limit: (u64, u64)) -> Result<(), Error> {
        let (used, limit) = used_of_limit;
        if limit == 0 {
            return Ok(());
        }
        // In our budget's terms, where it differs from the server's (a scaled emulator).
        let used = ((used as f64 / limit as f64) * self.requests as f64).ceil() as usize;
        let window = (self.per + self.per / 50).as_millis() as u64;
        let now = self.clock.now_ms();
        let requests = self.requests;
        self.update(move |w| {
            let ours = w.sent.iter().filter(|&&at| now.saturating_sub(at) < window).count();
            for _ in ours..used.min(requests) {
                w.sent.push_back(now);
            }
        })
        .await
    }

    /// Runs `change` on the window, under the store's lock.
    async fn update<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Window) -> T + Send + 'static,
    ) -> Result<T, Error> {
        match &self.store {
            Store::Memory(window) => Ok(change(&mut window.lock().expect("not poisoned"))),
            Store::File { path, turn } => {
                // A short critical section, but a file lock may block: not on the runtime's
                // threads. The in-process turn is taken there too, so no task waits on it.
                let (owned, turn) = (path.clone(), turn.clone());
                tokio::task::spawn_blocking(move || {
                    let _turn = turn.lock().expect("not poisoned");
                    update_file(&owned, change)
                })
                .await
                .map_err(std::io::Error::other)
                .and_then(|r| r)
                .map_err(|e| Error::io(path, e))
            }
        }
    }
}

/// The window in `path`, changed by `change` under an exclusive lock of the file.
///
/// The file is text, one number per line: `paused <ms>` (or `paused 0`), then the send
/// times in milliseconds since the Unix epoch. A file that cannot be read as such (another
/// version, a crash mid-write on a filesystem without atomic small writes) counts as an
/// empty window: the server's 429s and headers still hold us back.
fn update_file<T>(path: &Path, change: impl FnOnce(&mut Window) -> T) -> std::io::Result<T> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(path)?;
    file.lock()?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let mut window = parse(&text).unwrap_or_default();
    let before = window.clone();
    let result = change(&mut window);
    if window != before {
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(render(&window).as_bytes())?;
    }
    Ok(result)
}

fn parse(text: &str) -> Option<Window> {
    let mut lines = text.lines();
    let paused: u64 = lines.next()?.strip_prefix("paused ")?.parse().ok()?;
    let sent = lines.map(|l| l.parse().ok()).collect::<Option<VecDeque<u64>>>()?;
    Some(Window { sent, paused_until: (paused > 0).then_some(paused) })
}

fn render(window: &Window) -> String {
    let mut text = format!("paused {}\n", window.paused_until.unwrap_or(0));
    for at in &window.sent {
        text.push_str(&at.to_string());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every window of `per`, wherever it starts, holds at most `budget` of `sent`.
    fn assert_within(sent: &[Duration], budget: usize, per: Duration) {
        for (i, &at) in sent.iter().enumerate() {
            let in_window = sent[i..].iter().take_while(|&&t| t < at + per).count();
            assert!(in_window <= budget, "{in_window} requests in the {per:?} from {at:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_never_lets_more_than_its_budget_into_any_window() {
        let limiter = RateLimiter::new(10, Duration::from_secs(10));
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..35 {
            limiter.acquire().await.unwrap();
            sent.push(start.elapsed());
        }
        assert!(sent[..10].iter().all(|t| t.is_zero()), "an idle client sends its budget at once: {sent:?}");
        assert!(sent[10] >= Duration::from_secs(10), "the 11th waits for the window: {:?}", sent[10]);
        assert_within(&sent, 10, Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_requests() {
        let limiter = RateLimiter::new(100, Duration::from_secs(1));
        limiter.pause_for(Duration::from_secs(3)).await.unwrap();
        let start = Instant::now();
        let acquired = limiter.acquire().await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(2900), "{:?}", start.elapsed());
        assert!(acquired.server_said);
    }

    #[tokio::test(start_paused = true)]
    async fn what_the_server_counted_of_others_holds_us_back() {
        let limiter = RateLimiter::new(60, Duration::from_secs(60));
        limiter.acquire().await.unwrap();
        // The server counted 58 of 60: 57 are another client's.
        limiter.server_counted((58, 60)).await.unwrap();
        let start = Instant::now();
        limiter.acquire().await.unwrap();
        limiter.acquire().await.unwrap();
        assert!(start.elapsed().is_zero(), "two requests were left");
        limiter.acquire().await.unwrap();
        assert!(start.elapsed() >= Duration::from_secs(60), "the third waits for the window: {:?}", start.elapsed());
        // A server whose count is below ours changes nothing.
        limiter.server_counted((0, 60)).await.unwrap();
    }

    /// Two limiters on one file are two processes: together they keep the budget.
    #[tokio::test(start_paused = true)]
    async fn two_sharers_of_a_file_keep_one_budget() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("budgets/x.budget");
        let a = Arc::new(RateLimiter::in_file(file.clone(), 10, Duration::from_secs(10)));
        let b = Arc::new(RateLimiter::in_file(file.clone(), 10, Duration::from_secs(10)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for limiter in [a, b] {
            tasks.push(tokio::spawn(async move {
                let mut sent = Vec::new();
                for _ in 0..15 {
                    limiter.acquire().await.unwrap();
                    sent.push(start.elapsed());
                }
                sent
            }));
        }
        let mut sent = Vec::new();
        for task in tasks {
            sent.extend(task.await.unwrap());
        }
        sent.sort();
        assert_eq!(sent.iter().filter(|t| t.is_zero()).count(), 10, "the burst is shared: {sent:?}");
        assert_within(&sent, 10, Duration::from_secs(10));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("paused 0\n") && text.lines().count() <= 11, "{text}");
    }

    #[test]
    fn a_file_in_another_form_is_an_empty_window() {
        assert_eq!(parse("paused 0\n1\n2\n"), Some(Window { sent: VecDeque::from([1, 2]), paused_until: None }));
        assert_eq!(parse("paused 5\n"), Some(Window { sent: VecDeque::new(), paused_until: Some(5) }));
        assert_eq!(parse("{\"v\":2}"), None);
        assert_eq!(parse(""), None);
        let window = Window { sent: VecDeque::from([7, 9]), paused_until: Some(3) };
        assert_eq!(parse(&render(&window)), Some(window));
    }
}
