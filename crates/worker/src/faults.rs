//! A fault-injection hook for the crash matrix (crates/cli/tests/crash_matrix.rs): with
//! `CODINGWORKER_FAULT_PAUSE=<event>=<seconds>` the worker holds still for that long right after recording that
//! event, so a test can SIGKILL it at exactly that stage. Unset (always, outside tests) it costs one check of a
//! value read once.

use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable of the hook.
pub const FAULT_PAUSE_VAR: &str = "CODINGWORKER_FAULT_PAUSE";

fn configured() -> Option<&'static (String, Duration)> {
    static PAUSE: OnceLock<Option<(String, Duration)>> = OnceLock::new();
    PAUSE
        .get_or_init(|| {
            let value = std::env::var(FAULT_PAUSE_VAR).ok()?;
            let (event, secs) = value.split_once('=')?;
            Some((event.to_owned(), Duration::from_secs(secs.parse().ok()?)))
        })
        .as_ref()
}

/// Called right after an event is recorded.
pub fn pause_after(event: &str) {
    let Some((wanted, duration)) = configured() else { return };
    if wanted != event {
        return;
    }
    tracing::warn!("{FAULT_PAUSE_VAR}: holding still for {}s after `{event}`", duration.as_secs());
    let hold = || std::thread::sleep(*duration);
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(hold),
        _ => hold(),
    }
}
