//! Fair shares of the worker's global concurrency limit across projects.
//!
//! Each project has its own loops (its per-project limit); a loop that has received a task asks for a slot here.
//! A freed slot goes to the next project in turn that has a task waiting, so a busy project cannot starve a
//! quieter one however many loops it has, and an idle project holds no slot while it long-polls its queue.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

pub struct FairScheduler {
    state: Mutex<State>,
}

struct State {
    free: usize,
    /// Per project, the loops waiting for a slot, oldest first.
    waiting: Vec<VecDeque<oneshot::Sender<()>>>,
    /// The project that gets the next freed slot if it is waiting: the one after the last served.
    next: usize,
}

/// A slot of the global limit; freed (and handed on) when dropped.
pub struct Slot {
    scheduler: Arc<FairScheduler>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.scheduler.release();
    }
}

/// A wait that may be abandoned (shutdown): a slot handed to it in the meantime is passed on, not lost.
struct Waiting {
    receiver: Option<oneshot::Receiver<()>>,
    scheduler: Arc<FairScheduler>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(mut receiver) = self.receiver.take() {
            receiver.close();
            if receiver.try_recv().is_ok() {
                self.scheduler.release();
            }
        }
    }
}

impl FairScheduler {
    /// `limit` tasks at once across `projects` projects.
    pub fn new(limit: usize, projects: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                free: limit.max(1),
                waiting: (0..projects.max(1)).map(|_| VecDeque::new()).collect(),
                next: 0,
            }),
        })
    }

    /// Waits for a slot for `project` (its index); slots are handed out round-robin among waiting projects.
    pub async fn acquire(self: &Arc<Self>, project: usize) -> Slot {
        let receiver = {
            let Ok(mut state) = self.state.lock() else {
                // A panic while holding the lock leaves no consistent count; run unthrottled rather than stop.
                return Slot { scheduler: Arc::clone(self) };
            };
            let queue = project.min(state.waiting.len() - 1);
            if state.free > 0 && state.waiting.iter().all(VecDeque::is_empty) {
                state.free -= 1;
                state.next = (queue + 1) % state.waiting.len();
                return Slot { scheduler: Arc::clone(self) };
            }
            let (sender, receiver) = oneshot::channel();
            state.waiting[queue].push_back(sender);
            receiver
        };
        let mut waiting = Waiting { receiver: Some(receiver), scheduler: Arc::clone(self) };
        if let Some(receiver) = waiting.receiver.as_mut() {
            // The sender lives in the state until it is used, so this resolves only when a slot is handed over.
            let _ = receiver.await;
        }
        waiting.receiver = None;
        Slot { scheduler: Arc::clone(self) }
    }

    fn release(&self) {
        let Ok(mut state) = self.state.lock() else { return };
        let projects = state.waiting.len();
        for offset in 0..projects {
            let project = (state.next + offset) % projects;
            while let Some(sender) = state.waiting[project].pop_front() {
                if sender.send(()).is_ok() {
                    state.next = (project + 1) % projects;
                    return;
                }
            }
        }
        state.free += 1;
    }

    /// Slots not in use.
    #[cfg(test)]
    fn free(&self) -> usize {
        self.state.lock().map_or(0, |s| s.free)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Project 0 has three loops waiting, project 1 one: with one slot they still take turns.
    #[tokio::test]
    async fn freed_slots_go_round_robin_across_waiting_projects() {
        let scheduler = FairScheduler::new(1, 2);
        let first = scheduler.acquire(0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for project in [0, 0, 0, 1] {
            let (scheduler, order) = (Arc::clone(&scheduler), Arc::clone(&order));
            handles.push(tokio::spawn(async move {
                let slot = scheduler.acquire(project).await;
                order.lock().unwrap().push(project);
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(slot);
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(first);
        for handle in handles {
            handle.await.unwrap();
        }
        // Project 0 was served last (the first slot), so project 1 goes first although it asked last.
        assert_eq!(*order.lock().unwrap(), vec![1, 0, 0, 0]);
        assert_eq!(scheduler.free(), 1);
    }

    #[tokio::test]
    async fn the_limit_holds_and_an_abandoned_wait_loses_no_slot() {
        let scheduler = FairScheduler::new(2, 2);
        let a = scheduler.acquire(0).await;
        let b = scheduler.acquire(1).await;
        assert_eq!(scheduler.free(), 0);
        let abandoned = tokio::time::timeout(Duration::from_millis(20), scheduler.acquire(0)).await;
        assert!(abandoned.is_err(), "no third slot");
        drop(a);
        drop(b);
        assert_eq!(scheduler.free(), 2, "the abandoned waiter's place was skipped");
        let _c = scheduler.acquire(1).await;
        assert_eq!(scheduler.free(), 1);
    }
}
