//! Exclusive locks that hold across the tasks of this process and across processes: an
//! in-process queue per lock file, then an advisory lock (`flock`) on the file itself.
//!
//! Used wherever two zonectl runs could otherwise interleave read-modify-write cycles: the
//! `zonefile` provider's directory, mydomain.lu's one-order-at-a-time account, and every
//! zone edited through [`crate::provider::Provider::lock`].

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// A lock held by the tasks of this process only, in turn: for callers with nowhere to put
/// a lock file.
#[derive(Debug)]
pub struct ProcessLock {
    _queue: tokio::sync::OwnedMutexGuard<()>,
}

impl ProcessLock {
    /// Waits for and takes the lock called `key`.
    pub async fn acquire(key: &str) -> ProcessLock {
        ProcessLock { _queue: queue_of(Path::new(&format!("\0process:{key}"))).lock_owned().await }
    }
}

/// A held lock; dropping it releases the lock (the file stays, empty, for the next taker).
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
    /// needed. `waiting` is called once if another process holds the lock, so the caller
    /// can say why nothing happens.
    pub async fn acquire(path: &Path, waiting: impl FnOnce()) -> io::Result<FileLock> {
        let queue = queue_of(path).lock_owned().await;
        let owned = path.to_owned();
        let file = tokio::task::spawn_blocking(move || -> io::Result<(std::fs::File, bool)> {
            if let Some(dir) = owned.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&owned)?;
            match file.try_lock() {
                Ok(()) => Ok((file, false)),
                Err(std::fs::TryLockError::WouldBlock) => Ok((file, true)),
                Err(std::fs::TryLockError::Error(e)) => Err(e),
            }
        })
        .await
        .map_err(io::Error::other)??;
        let (file, contended) = file;
        let file = if contended {
            waiting();
            tracing::debug!(target: "zonectl::lock", "waiting for {}", path.display());
            tokio::task::spawn_blocking(move || file.lock().map(|()| file)).await.map_err(io::Error::other)??
        } else {
            file
        };
        Ok(FileLock { path: path.to_owned(), _file: file, _queue: queue })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The in-process queue of one lock file: tasks of this process line up here, so that the
/// file lock (which a process would take again and again without blocking itself out on
/// some systems, and would deadlock against itself on others) is only asked for once.
fn queue_of(path: &Path) -> Arc<tokio::sync::Mutex<()>> {
    static QUEUES: OnceLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let key = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    QUEUES.get_or_init(Default::default).lock().expect("not poisoned").entry(key).or_default().clone()
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
                let _lock = FileLock::acquire(&path, || {}).await.unwrap();
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
            FileLock::acquire(&path2, move || {
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
