//! Kill reports on their way to the panel: a bounded queue that the enforcer fills and the main thread
//! empties whenever the panel answers, in batches.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use hostwerk_protocol::limits::{AgentKill, EndSignal};
use tracing::{debug, error, warn};

use super::panel::{Panel, PanelError};
use crate::{KillReport, KillSignal};

/// Kill reports waiting for the panel; the oldest are dropped beyond this.
pub const MAX_QUEUED_REPORTS: usize = 10_000;
/// Reports per POST.
const REPORTS_PER_REQUEST: usize = 500;

/// The wire form of a report (the uid stays on the node; the panel knows its users by name).
pub fn wire(r: &KillReport) -> AgentKill {
    AgentKill {
        time: r.time,
        user: r.user.clone(),
        pid: r.pid,
        comm: r.comm.clone(),
        runtime_seconds: r.runtime_seconds,
        signal: match r.signal {
            KillSignal::Term => EndSignal::Term,
            KillSignal::Kill => EndSignal::Kill,
        },
    }
}

/// Reports waiting for the panel, oldest first, at most [`MAX_QUEUED_REPORTS`].
#[derive(Debug, Default)]
pub struct ReportQueue {
    inner: Mutex<VecDeque<AgentKill>>,
}

impl ReportQueue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<AgentKill>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn push(&self, reports: &[KillReport]) {
        let mut q = self.lock();
        q.extend(reports.iter().map(wire));
        let excess = q.len().saturating_sub(MAX_QUEUED_REPORTS);
        if excess > 0 {
            q.drain(..excess);
            warn!("{excess} kill reports dropped: more than {MAX_QUEUED_REPORTS} are waiting for the panel");
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// A copy of the oldest reports, up to `n`.
    fn front(&self, n: usize) -> Vec<AgentKill> {
        self.lock().iter().take(n).cloned().collect()
    }

    /// Removes the oldest `n` reports (delivered).
    fn pop(&self, n: usize) {
        let mut q = self.lock();
        let n = n.min(q.len());
        q.drain(..n);
    }
}

/// Posts the queued reports; what the panel does not take stays queued for the next attempt.
pub fn flush(panel: &Panel, queue: &ReportQueue) {
    loop {
        let batch = queue.front(REPORTS_PER_REQUEST);
        if batch.is_empty() {
            return;
        }
        match panel.post_kills(&batch) {
            Ok(()) => {
                debug!("{} kill reports delivered", batch.len());
                queue.pop(batch.len());
            }
            // The panel refuses these reports for good (malformed, too large): retrying would block the queue.
            Err(PanelError::Status(code @ (400 | 413 | 422), body)) => {
                error!("the panel refused {} kill reports (HTTP {code}: {body}); dropped", batch.len());
                queue.pop(batch.len());
            }
            Err(e) => {
                warn!("cannot deliver {} kill reports, will retry: {e}", queue.len());
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded() {
        let q = ReportQueue::default();
        let r = KillReport {
            time: 1,
            uid: 1000,
            user: "a".into(),
            pid: 1,
            comm: "sleep".into(),
            runtime_seconds: 3,
            signal: KillSignal::Term,
        };
        q.push(&vec![r.clone(); MAX_QUEUED_REPORTS + 5]);
        assert_eq!(q.len(), MAX_QUEUED_REPORTS);
        assert_eq!(q.front(3).len(), 3);
        assert_eq!(q.front(1)[0].signal, EndSignal::Term);
        q.pop(MAX_QUEUED_REPORTS - 1);
        assert_eq!(q.len(), 1);
        q.pop(10);
        assert!(q.is_empty());
    }
}
