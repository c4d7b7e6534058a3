//! The one status line on stderr: the apply spinner, when one is shown, and every other
//! line zonectl writes to stderr meanwhile (notices, a provider's progress, a rate-limit
//! wait) printed above it rather than over it.

use std::sync::Mutex;

static SHOWN: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Shows `bar` as the status line until [`clear`].
pub fn show(bar: &indicatif::ProgressBar) {
    *SHOWN.lock().expect("not poisoned") = Some(bar.clone());
}

/// Takes the status line away.
pub fn clear() {
    if let Some(bar) = SHOWN.lock().expect("not poisoned").take() {
        bar.finish_and_clear();
    }
}

/// Writes `line` to stderr, above the status line if one is shown.
pub fn eprintln(line: &str) {
    let shown = SHOWN.lock().expect("not poisoned").clone();
    match shown {
        Some(bar) if !bar.is_hidden() => bar.suspend(|| eprintln!("{line}")),
        _ => eprintln!("{line}"),
    }
}
