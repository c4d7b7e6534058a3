//! Exclusive locks that hold across the tasks of this process and across processes: an
//! in-process queue per lock file, then an advisory lock (`flock`) on the file itself.
//!
//! Used wherever two zonectl runs could otherwise interleave read-modify-write cycles: the
//! `zonefile` provider's directory, mydomain.lu's one-order-at-a-time account, and every
//! zone edited through [`crate::provider::Provider::lock`].

use std::collections::HashMap;
use std::io::{self, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long a lock is waited for before giving up, unless set (`[locks] wait`).
pub const DEFAULT_WAIT_LIMIT: Duration = Duration::from_secs(300);

static WAIT_LIMIT_MS: AtomicU64 = AtomicU64::new(DEFAULT_WAIT_LIMIT.as_millis() as u64);

/// Sets how long every lock of this process is waited for before giving up with an error
/// that names the holder.
pub fn set_wait_limit(limit: Duration) {
    WAIT_LIMIT_MS.store(limit.as_millis().min(u64::MAX as u128) as u64, Ordering::Relaxed);
}

/// How long a lock is waited for.
pub fn wait_limit() -> Duration {
    Duration::from_millis(WAIT_LIMIT_MS.load(Ordering::Relaxed))
}

/// A lock held by the tasks of this process only, in turn: for callers with nowhere to put
/// a lock file.
#[derive(Debug)]
pub struct ProcessLock {
    _queue: tokio::sync::OwnedMutexGuard<()>,
}

impl ProcessLock {
    /// Waits (within [`wait_limit`]) for and takes the lock called `key`; `waiting` is
    /// called once if another task holds it.
    pub async fn acquire(key: &str, waiting: impl FnOnce(&str)) -> io::Result<ProcessLock> {
        let key = PathBuf::from(format!("\0process:{key}"));
        Ok(ProcessLock { _queue: take_turn(&key, waiting).await? })
    }
}

/// A held lock; dropping it releases the lock (the file stays, naming its last holder, for
/// the next taker).
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
    // The order of the fields is the order of release: the file lock first, then the
    // in-process queue, so that a task of this process never finds the file still locked.
    _file: std::fs::File,
    _queue: tokio::sync::OwnedMutexGuard<()>,
}

impl FileLock {
    /// Waits for and takes the lock on `path`, creating the file (and its directory) if
    /// needed. When another task or process holds it, `waiting` is called once with whom
    /// (`another zonectl (pid 4242 on build-7 since 2026-12-06T12:01:02Z)`, as the file
    /// says), so the caller can say why nothing happens; after [`wait_limit`] the wait ends
    /// in an error naming the holder: no wait is silent or endless.
    pub async fn acquire(path: &Path, waiting: impl FnOnce(&str)) -> io::Result<FileLock> {
        let key = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        let mut waiting = Some(waiting);
        let queue = take_turn(&key, |who| {
            if let Some(say) = waiting.take() {
                say(who);
            }
        })
        .await?;
        let taken = async {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
            let limit = wait_limit();
            let started = tokio::time::Instant::now();
            let mut pause = Duration::from_millis(20);
            loop {
                match file.try_lock() {
                    Ok(()) => return Ok(file),
                    Err(std::fs::TryLockError::Error(e)) => return Err(e),
                    Err(std::fs::TryLockError::WouldBlock) => {}
                }
                let holder = holder_of(path);
                if let Some(say) = waiting.take() {
                    say(&holder
                        .as_ref()
                        .map_or_else(|| "another zonectl".to_owned(), |h| format!("another zonectl ({h})")));
                    tracing::debug!(target: "zonectl::lock", "waiting for {}", path.display());
                }
                if started.elapsed() >= limit {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "locked by {} for longer than {} ([locks] wait); nothing was changed",
                            holder.as_deref().unwrap_or("another process"),
                            crate::duration::show(limit)
                        ),
                    ));
                }
                // Polled, not blocked on: the wait stays bounded, and the runtime's other
                // tasks (a server's other requests) go on meanwhile.
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
        }
        .await;
        let mut file = taken?;
        // Who holds it, for whoever waits next: written over the last holder's line in one
        // write, then the rest cut, so that a waiter reading meanwhile sees a whole line.
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
        let line = format!("pid {} on {} since {now}\n", std::process::id(), host_name());
        let _ = file
            .seek(io::SeekFrom::Start(0))
            .and_then(|_| file.write_all(line.as_bytes()))
            .and_then(|()| file.set_len(line.len() as u64));
        Ok(FileLock { path: path.to_owned(), _file: file, _queue: queue })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What the lock file says of its holder.
fn holder_of(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty() && line.len() < 256).then(|| line.to_owned())
}

/// This machine's name, for a lock file's holder line.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
        .unwrap_or_else(|| "this host".to_owned())
}

/// Takes this process's turn at the lock `key`, behind the other tasks (within
/// [`wait_limit`]); `waiting` is called once if it has to wait.
async fn take_turn(key: &Path, waiting: impl FnOnce(&str)) -> io::Result<tokio::sync::OwnedMutexGuard<()>> {
    let queue = queue_of(key);
    if let Ok(guard) = queue.clone().try_lock_owned() {
        return Ok(guard);
    }
    waiting("another task of this zonectl");
    tokio::time::timeout(wait_limit(), queue.lock_owned()).await.map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "held by another task of this zonectl for longer than {} ([locks] wait); nothing was changed",
                crate::duration::show(wait_limit())
            ),
        )
    })
}

/// The in-process queue of one lock: tasks of this process line up here, so that the file
/// lock (which a process would take again and again without blocking itself out on some
/// systems, and would deadlock against itself on others) is only asked for once.
fn queue_of(key: &Path) -> Arc<tokio::sync::Mutex<()>> {
    static QUEUES: OnceLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    QUEUES.get_or_init(Default::default).lock().expect("not poisoned").entry(key.to_owned()).or_default().clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn tasks_take_turns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/x.lock");
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (path, inside, most) = (path.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _lock = FileLock::acquire(&path, |_| {}).await.unwrap();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "two tasks held the lock at once");
    }

    /// The wait limit is the process's: the tests that set it take turns (they ran at once,
    /// and one failed with the other's limit in its message).
    static WAIT_LIMIT_SET: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    #[tokio::test]
    async fn a_wait_in_this_process_is_announced_and_bounded() {
        let _limit = WAIT_LIMIT_SET.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let _held = FileLock::acquire(&path, |_| panic!("free")).await.unwrap();
        set_wait_limit(Duration::from_millis(100));
        let mut said = String::new();
        // The same file, however it is written.
        let err = FileLock::acquire(&dir.path().join("./x.lock"), |who| said = who.to_owned()).await.unwrap_err();
        set_wait_limit(DEFAULT_WAIT_LIMIT);
        assert_eq!(said, "another task of this zonectl");
        assert!(err.to_string().starts_with("held by another task of this zonectl for longer than 100ms"), "{err}");
    }

    #[tokio::test]
    async fn a_wait_ends_naming_the_holder() {
        let _limit = WAIT_LIMIT_SET.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        std::fs::write(&path, "pid 7 on far since then\n").unwrap();
        let other = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        other.lock().unwrap();
        set_wait_limit(Duration::from_millis(200));
        let mut said = String::new();
        let err = FileLock::acquire(&path, |who| said = who.to_owned()).await.unwrap_err();
        set_wait_limit(DEFAULT_WAIT_LIMIT);
        assert_eq!(said, "another zonectl (pid 7 on far since then)");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(err.to_string().starts_with("locked by pid 7 on far since then for longer than 200ms"), "{err}");
    }

    #[tokio::test]
    async fn another_holder_of_the_file_makes_us_wait_and_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        // Another open file description, as another process would have.
        let other = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).unwrap();
        other.lock().unwrap();
        let said = Arc::new(AtomicUsize::new(0));
        let said2 = said.clone();
        let path2 = path.clone();
        let waiter = tokio::spawn(async move {
            FileLock::acquire(&path2, move |_| {
                said2.fetch_add(1, Ordering::SeqCst);
            })
            .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "the lock was taken while another holder had it");
        drop(other);
        let lock = waiter.await.unwrap().unwrap();
        assert_eq!(said.load(Ordering::SeqCst), 1);
        assert_eq!(lock.path(), path);
    }
}
