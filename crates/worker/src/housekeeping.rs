//! Keeping an unattended worker healthy: a disk-space guard, retention of task logs, and the removal of what
//! finished or crashed attempts left behind. Running tasks are cancellable from the dashboard.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

/// Stops the worker from taking tasks while the data directory's disk is nearly full: a task needs room for a
/// worktree, logs and test output, and a full disk would fail it halfway (or corrupt the store).
pub struct DiskGuard {
    path: PathBuf,
    min_free_mb: u64,
    low: AtomicBool,
}

impl DiskGuard {
    pub fn new(path: PathBuf, min_free_mb: u64) -> Self {
        Self { path, min_free_mb, low: AtomicBool::new(false) }
    }

    /// Free space for unprivileged users, in MiB; `None` if it cannot be read.
    pub fn free_mb(&self) -> Option<u64> {
        free_mb(&self.path)
    }

    /// `Err(reason)` while free space is below the threshold. Logs once when it goes low and once when it recovers,
    /// not on every check.
    pub fn check(&self) -> Result<(), String> {
        let Some(free) = self.free_mb() else { return Ok(()) };
        if free < self.min_free_mb {
            let reason = format!(
                "only {free} MiB free under {} (worker.min_free_disk_mb = {}): not taking tasks until space is freed",
                self.path.display(),
                self.min_free_mb
            );
            if !self.low.swap(true, Ordering::Relaxed) {
                tracing::error!("{reason}");
            }
            Err(reason)
        } else {
            if self.low.swap(false, Ordering::Relaxed) {
                tracing::info!("{free} MiB free under {} again: taking tasks", self.path.display());
            }
            Ok(())
        }
    }
}

/// Free space under `path` for unprivileged users, in MiB; `None` if it cannot be read.
#[cfg(unix)]
pub fn free_mb(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c_path` is a valid NUL-terminated string and `stat` is a properly sized out-parameter that is only
    // read after statvfs(3) reports success.
    let stat = unsafe {
        if libc::statvfs(c_path.as_ptr(), stat.as_mut_ptr()) != 0 {
            return None;
        }
        stat.assume_init()
    };
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    let bytes = (stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64);
    Some(bytes / (1024 * 1024))
}

#[cfg(not(unix))]
pub fn free_mb(_path: &Path) -> Option<u64> {
    None
}

/// Deletes task logs (`*.log` in `logs`) last written more than `retention` ago. Returns how many.
pub fn expire_logs(logs: &Path, retention: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(logs) else { return 0 };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > retention);
        if old && path.extension().is_some_and(|e| e == "log") && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Removes everything under `dir` (worktrees, OpenHands scratch files) at start-up, when no attempt of this worker
/// can be running: what is there was left by a crash. Returns how many entries.
pub fn clear_leftovers(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let gone = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        if gone.is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Removes what an attempt of `task_id` left when its work was dropped mid-way (cancelled, or stopped at shutdown):
/// its sandbox containers and its worktree directories (git forgets them at the next `worktree prune`).
pub async fn remove_attempt_leftovers(services: &crate::Services, task_id: &str) {
    if let Some(docker) = &services.docker
        && let Err(e) = docker.remove_attempts_of(task_id).await
    {
        tracing::warn!("could not remove the containers of task {task_id}: {e}");
    }
    let Ok(entries) = std::fs::read_dir(services.logs_dir.with_file_name("worktrees")) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(task_id) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A dependency's state as seen by several worker loops: when it last answered, and how many checks in a row
/// failed since. Lets every loop skip the check while it is fine, and only the first failure log.
#[derive(Default)]
pub struct Outage {
    state: Mutex<(Option<std::time::Instant>, u32)>,
}

impl Outage {
    /// How long a success is trusted before the next check.
    const FRESH: Duration = Duration::from_secs(30);

    pub fn recently_fine(&self) -> bool {
        self.state.lock().is_ok_and(|s| s.1 == 0 && s.0.is_some_and(|at| at.elapsed() < Self::FRESH))
    }

    /// Records a success; returns the failures it ends, if it ends an outage.
    pub fn fine(&self) -> Option<u32> {
        let mut state = self.state.lock().ok()?;
        let ended = state.1;
        *state = (Some(std::time::Instant::now()), 0);
        (ended > 0).then_some(ended)
    }

    /// Records a failure; returns how many in a row.
    pub fn failed(&self) -> u32 {
        self.state.lock().map_or(1, |mut s| {
            s.1 += 1;
            s.1
        })
    }

    pub fn failures(&self) -> u32 {
        self.state.lock().map_or(0, |s| s.1)
    }
}

/// The running tasks, each with a switch that cancels it (the dashboard's "cancel").
#[derive(Default)]
pub struct Cancellations {
    running: Mutex<HashMap<String, watch::Sender<bool>>>,
}

/// Unregisters its task when dropped.
pub struct Registration<'a> {
    owner: &'a Cancellations,
    task_id: String,
    pub cancelled: watch::Receiver<bool>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if let Ok(mut running) = self.owner.running.lock() {
            running.remove(&self.task_id);
        }
    }
}

impl Cancellations {
    pub fn register(&self, task_id: &str) -> Registration<'_> {
        let (sender, receiver) = watch::channel(false);
        if let Ok(mut running) = self.running.lock() {
            running.insert(task_id.to_owned(), sender);
        }
        Registration { owner: self, task_id: task_id.to_owned(), cancelled: receiver }
    }

    /// Cancels `task_id` if it is running here; `false` if it is not.
    pub fn cancel(&self, task_id: &str) -> bool {
        let Ok(running) = self.running.lock() else { return false };
        running.get(task_id).is_some_and(|switch| switch.send(true).is_ok())
    }

    pub fn is_running(&self, task_id: &str) -> bool {
        self.running.lock().is_ok_and(|running| running.contains_key(task_id))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_guard_refuses_below_its_threshold_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_mb(dir.path()).unwrap();
        assert!(DiskGuard::new(dir.path().into(), 1).check().is_ok());
        let reason = DiskGuard::new(dir.path().into(), free + 1_000_000).check().unwrap_err();
        assert!(reason.contains("worker.min_free_disk_mb") && reason.contains("not taking tasks"), "{reason}");
    }

    #[test]
    fn old_logs_expire_and_leftovers_are_cleared() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t1.log"), "x").unwrap();
        std::fs::write(dir.path().join("keep.txt"), "x").unwrap();
        assert_eq!(expire_logs(dir.path(), Duration::from_secs(3600)), 0);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(expire_logs(dir.path(), Duration::from_millis(1)), 1);
        assert!(dir.path().join("keep.txt").exists());
        std::fs::create_dir_all(dir.path().join("w/a")).unwrap();
        assert_eq!(clear_leftovers(&dir.path().join("w")), 1);
    }

    #[test]
    fn a_registered_task_can_be_cancelled_until_it_ends() {
        let cancellations = Cancellations::default();
        let registration = cancellations.register("t1");
        assert!(cancellations.is_running("t1"));
        assert!(cancellations.cancel("t1"));
        assert!(*registration.cancelled.borrow());
        drop(registration);
        assert!(!cancellations.cancel("t1"));
    }
}
