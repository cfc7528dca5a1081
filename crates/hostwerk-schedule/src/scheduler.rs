//! The deterministic scheduler: a priority queue, per-server concurrency caps and admission control.
//!
//! The caller drives it with events: [`Scheduler::submit`] when a job becomes due, [`Scheduler::finished`]
//! when the agent reports the end of a job, and [`Scheduler::tick`] after each batch of events (or
//! periodically) to learn which queued jobs to start now. The scheduler never reads a clock; the same code
//! runs the panel and the fleet simulator ([`crate::sim`]).
//!
//! # Order
//!
//! Queued jobs are ordered by kind (restores, then nightly, then on-demand), then by `submitted`, then by
//! submission order (FIFO within a kind). [`Scheduler::tick`] walks the queue in that order and starts every
//! job whose webserver and backup server both have a free slot; a restore or on-demand job must additionally
//! pass admission control ([`crate::admission`]). A job that cannot start does not block the jobs behind it
//! (they may use other servers, or be a nightly job behind a refused restore).
//!
//! A job's `submitted` time only orders and measures; it is not a release time. Submit a job when it may run.

use crate::admission::{Occupant, Pending, Snapshot};
use crate::job::{AdmissionPolicy, Job, JobId, JobKind, Secs, ServerId, Time};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use thiserror::Error;

/// A server and the number of jobs it may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServerCap {
    /// The server.
    pub id: ServerId,
    /// Concurrent jobs allowed (at least 1).
    pub cap: usize,
}

/// Which servers exist, their caps, and the admission policy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SchedulerConfig {
    /// Webservers (agents) and their caps.
    pub webservers: Vec<ServerCap>,
    /// Backup servers and their caps.
    pub backup_servers: Vec<ServerCap>,
    /// Whether restores skip admission control (default: no).
    pub policy: AdmissionPolicy,
}

/// Why the scheduler refused a request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    /// A configured cap is zero.
    #[error("server {0} has a concurrency cap of 0")]
    ZeroCap(ServerId),
    /// A server appears twice in the configuration.
    #[error("server {0} is configured twice")]
    DuplicateServer(ServerId),
    /// The job names a webserver that is not configured.
    #[error("unknown webserver {0}")]
    UnknownWebserver(ServerId),
    /// The job names a backup server that is not configured.
    #[error("unknown backup server {0}")]
    UnknownBackupServer(ServerId),
    /// A job with this id is already queued or running.
    #[error("job {0} is already queued or running")]
    DuplicateJob(JobId),
    /// A nightly job was submitted without a deadline.
    #[error("nightly job {0} has no deadline")]
    NightlyWithoutDeadline(JobId),
    /// `finished` for a job that is not running.
    #[error("job {0} is not running")]
    NotRunning(JobId),
    /// `finished` with a time before the job's start.
    #[error("job {0} cannot finish before it started")]
    FinishedBeforeStart(JobId),
}

/// A job to start now, as decided by [`Scheduler::tick`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Start {
    /// The job.
    pub job: JobId,
    /// Its kind.
    pub kind: JobKind,
    /// Where it runs.
    pub webserver: ServerId,
    /// Where it stores (or restores from).
    pub backup_server: ServerId,
    /// Now.
    pub at: Time,
    /// `at` + the estimate.
    pub expected_end: Time,
}

/// What [`Scheduler::finished`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finished {
    /// The job as submitted.
    pub job: Job,
    /// When it started.
    pub started: Time,
    /// When it ended.
    pub ended: Time,
    /// `ended − started`.
    pub actual: Secs,
}

/// Where a queued job stands, for the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueuePosition {
    /// 1 + the number of queued jobs ahead of it in priority order that compete for its webserver or its
    /// backup server.
    pub position: usize,
    /// Estimated start: when this scheduler would start the job if every job took exactly its estimate and
    /// nothing else were submitted (a clone of the scheduler is run forward with its own admission rule).
    /// Jobs submitted later with higher priority, and estimates that are off, move it; with exact estimates
    /// and no such submissions it is the actual start. `Time::MAX` if it would never start.
    pub eta_start: Time,
    /// `eta_start` + the job's estimate.
    pub eta_finish: Time,
}

/// The prediction for one queued or running nightly job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NightlyForecast {
    /// The job.
    pub job: JobId,
    /// Predicted finish with the estimates (a running job: start + estimate, at least now).
    pub predicted_finish: Time,
    /// Its deadline.
    pub deadline: Time,
}

impl NightlyForecast {
    /// Whether the job is predicted to miss its deadline.
    #[must_use]
    pub fn misses(&self) -> bool {
        self.predicted_finish > self.deadline
    }
}

#[derive(Debug, Clone)]
struct Entry {
    job: Job,
    w: usize,
    b: usize,
    seq: u64,
}

impl Entry {
    fn key(&self) -> (JobKind, Time, u64) {
        (self.job.kind, self.job.submitted, self.seq)
    }
}

#[derive(Debug, Clone)]
struct Running {
    entry: Entry,
    started: Time,
}

#[derive(Debug, Clone)]
struct Servers {
    ids: Vec<ServerId>,
    index: BTreeMap<ServerId, usize>,
    caps: Vec<usize>,
    busy: Vec<usize>,
    /// Servers with `busy == cap`.
    full: usize,
}

impl Servers {
    fn new(list: &[ServerCap]) -> Result<Self, ScheduleError> {
        let mut index = BTreeMap::new();
        for (i, s) in list.iter().enumerate() {
            if s.cap == 0 {
                return Err(ScheduleError::ZeroCap(s.id));
            }
            if index.insert(s.id, i).is_some() {
                return Err(ScheduleError::DuplicateServer(s.id));
            }
        }
        Ok(Self {
            ids: list.iter().map(|s| s.id).collect(),
            index,
            caps: list.iter().map(|s| s.cap).collect(),
            busy: vec![0; list.len()],
            full: 0,
        })
    }

    fn all_full(&self) -> bool {
        self.full == self.caps.len()
    }

    fn occupy(&mut self, i: usize) {
        self.busy[i] += 1;
        if self.busy[i] == self.caps[i] {
            self.full += 1;
        }
    }

    fn release(&mut self, i: usize) {
        if self.busy[i] == self.caps[i] {
            self.full -= 1;
        }
        self.busy[i] -= 1;
    }

    fn free(&self, i: usize) -> bool {
        self.busy[i] < self.caps[i]
    }
}

/// The scheduler. See the module docs.
#[derive(Debug, Clone)]
pub struct Scheduler {
    web: Servers,
    backup: Servers,
    policy: AdmissionPolicy,
    /// Sorted by [`Entry::key`].
    queue: Vec<Entry>,
    running: BTreeMap<JobId, Running>,
    next_seq: u64,
}

impl Scheduler {
    /// A scheduler with no jobs.
    ///
    /// # Errors
    /// [`ScheduleError::ZeroCap`] or [`ScheduleError::DuplicateServer`].
    pub fn new(config: &SchedulerConfig) -> Result<Self, ScheduleError> {
        Ok(Self {
            web: Servers::new(&config.webservers)?,
            backup: Servers::new(&config.backup_servers)?,
            policy: config.policy,
            queue: Vec::new(),
            running: BTreeMap::new(),
            next_seq: 0,
        })
    }

    /// Queues a job.
    ///
    /// # Errors
    /// Unknown servers, a duplicate id, or a nightly job without deadline.
    pub fn submit(&mut self, job: Job) -> Result<(), ScheduleError> {
        let w = *self.web.index.get(&job.webserver).ok_or(ScheduleError::UnknownWebserver(job.webserver))?;
        let b =
            *self.backup.index.get(&job.backup_server).ok_or(ScheduleError::UnknownBackupServer(job.backup_server))?;
        if self.running.contains_key(&job.id) || self.queue.iter().any(|e| e.job.id == job.id) {
            return Err(ScheduleError::DuplicateJob(job.id));
        }
        if job.kind == JobKind::Nightly && job.deadline.is_none() {
            return Err(ScheduleError::NightlyWithoutDeadline(job.id));
        }
        let entry = Entry { job, w, b, seq: self.next_seq };
        self.next_seq += 1;
        let at = self.queue.partition_point(|e| e.key() <= entry.key());
        self.queue.insert(at, entry);
        Ok(())
    }

    /// Records a job that is already running since `started` (a scheduler rebuilt from a persistent queue,
    /// as the panel does on every decision). It holds its slots like a job started by [`Scheduler::tick`],
    /// even if that exceeds a cap (a cap lowered while jobs ran).
    ///
    /// # Errors
    /// Unknown servers or a duplicate id.
    pub fn resume(&mut self, job: Job, started: Time) -> Result<(), ScheduleError> {
        let w = *self.web.index.get(&job.webserver).ok_or(ScheduleError::UnknownWebserver(job.webserver))?;
        let b =
            *self.backup.index.get(&job.backup_server).ok_or(ScheduleError::UnknownBackupServer(job.backup_server))?;
        if self.running.contains_key(&job.id) || self.queue.iter().any(|e| e.job.id == job.id) {
            return Err(ScheduleError::DuplicateJob(job.id));
        }
        let entry = Entry { job, w, b, seq: self.next_seq };
        self.next_seq += 1;
        self.web.occupy(entry.w);
        self.backup.occupy(entry.b);
        self.running.insert(entry.job.id, Running { entry, started });
        Ok(())
    }

    /// Which queued jobs start now. The returned jobs count as running from `now` until
    /// [`Scheduler::finished`].
    pub fn tick(&mut self, now: Time) -> Vec<Start> {
        let mut starts = Vec::new();
        let mut baseline: Option<Vec<Time>> = None;
        // (w, b, estimate) refused in this tick: a job on the same pair that is not shorter is refused too
        // without simulating (refusing more never endangers a nightly job).
        let mut refused: Vec<(usize, usize, Secs)> = Vec::new();
        let mut i = 0;
        while i < self.queue.len() {
            if self.web.all_full() || self.backup.all_full() {
                break; // nothing else can start at this instant
            }
            let e = &self.queue[i];
            if !self.web.free(e.w) || !self.backup.free(e.b) {
                i += 1;
                continue;
            }
            if e.job.kind.needs_admission(self.policy) {
                if refused.iter().any(|&(w, b, est)| w == e.w && b == e.b && est <= e.job.estimated) {
                    i += 1;
                    continue;
                }
                let snapshot = self.snapshot(now);
                let base = baseline.get_or_insert_with(|| snapshot.baseline());
                let candidate = Occupant { end: now.saturating_add(e.job.estimated), w: e.w, b: e.b };
                if !snapshot.admits(base, candidate) {
                    refused.push((e.w, e.b, e.job.estimated));
                    i += 1;
                    continue;
                }
            }
            let entry = self.queue.remove(i);
            self.web.occupy(entry.w);
            self.backup.occupy(entry.b);
            baseline = None;
            starts.push(Start {
                job: entry.job.id,
                kind: entry.job.kind,
                webserver: entry.job.webserver,
                backup_server: entry.job.backup_server,
                at: now,
                expected_end: now.saturating_add(entry.job.estimated),
            });
            self.running.insert(entry.job.id, Running { entry, started: now });
        }
        starts
    }

    /// Records the end of a running job and frees its slots.
    ///
    /// # Errors
    /// [`ScheduleError::NotRunning`], [`ScheduleError::FinishedBeforeStart`].
    pub fn finished(&mut self, job: JobId, now: Time) -> Result<Finished, ScheduleError> {
        let started = self.running.get(&job).ok_or(ScheduleError::NotRunning(job))?.started;
        if now < started {
            return Err(ScheduleError::FinishedBeforeStart(job));
        }
        let r = self.running.remove(&job).ok_or(ScheduleError::NotRunning(job))?;
        self.web.release(r.entry.w);
        self.backup.release(r.entry.b);
        Ok(Finished { job: r.entry.job, started, ended: now, actual: now - started })
    }

    /// Removes a queued job (the customer cancelled). Returns it, or `None` if it is not queued.
    pub fn cancel(&mut self, job: JobId) -> Option<Job> {
        let i = self.queue.iter().position(|e| e.job.id == job)?;
        Some(self.queue.remove(i).job)
    }

    /// Position and ETA of a queued job; `None` if it is not queued (running, finished or unknown).
    #[must_use]
    pub fn queue_position(&self, job: JobId, now: Time) -> Option<QueuePosition> {
        let at = self.queue.iter().position(|e| e.job.id == job)?;
        let me = &self.queue[at];
        let position = 1 + self.queue[..at].iter().filter(|e| e.w == me.w || e.b == me.b).count();
        let eta_start = self.predict_start(job, now);
        Some(QueuePosition { position, eta_start, eta_finish: eta_start.saturating_add(me.job.estimated) })
    }

    /// The predicted finish of every queued and running nightly job if nothing else is admitted (use
    /// [`NightlyForecast::misses`] to report the jobs that cannot make their window).
    #[must_use]
    pub fn nightly_forecast(&self, now: Time) -> Vec<NightlyForecast> {
        let snapshot = self.snapshot(now);
        let mut out: Vec<NightlyForecast> = self
            .running
            .values()
            .filter(|r| r.entry.job.kind == JobKind::Nightly)
            .map(|r| NightlyForecast {
                job: r.entry.job.id,
                predicted_finish: r.started.saturating_add(r.entry.job.estimated).max(now),
                deadline: r.entry.job.deadline.unwrap_or(Time::MAX),
            })
            .collect();
        let queued = self.queue.iter().filter(|e| e.job.kind == JobKind::Nightly);
        out.extend(queued.zip(snapshot.baseline()).map(|(e, f)| NightlyForecast {
            job: e.job.id,
            predicted_finish: f,
            deadline: e.job.deadline.unwrap_or(Time::MAX),
        }));
        out
    }

    /// Jobs running now, in id order.
    pub fn running(&self) -> impl Iterator<Item = (&Job, Time)> {
        self.running.values().map(|r| (&r.entry.job, r.started))
    }

    /// Queued jobs in priority order.
    pub fn queued(&self) -> impl Iterator<Item = &Job> {
        self.queue.iter().map(|e| &e.job)
    }

    /// Running jobs on a webserver (0 for an unknown one).
    #[must_use]
    pub fn busy_webserver(&self, id: ServerId) -> usize {
        self.web.index.get(&id).map_or(0, |&i| self.web.busy[i])
    }

    /// Running jobs on a backup server (0 for an unknown one).
    #[must_use]
    pub fn busy_backup_server(&self, id: ServerId) -> usize {
        self.backup.index.get(&id).map_or(0, |&i| self.backup.busy[i])
    }

    /// The configured webservers in configuration order.
    #[must_use]
    pub fn webservers(&self) -> &[ServerId] {
        &self.web.ids
    }

    fn predict_start(&self, job: JobId, now: Time) -> Time {
        let mut sim = self.clone();
        let mut ends: BinaryHeap<Reverse<(Time, JobId)>> = self
            .running
            .values()
            .map(|r| Reverse((r.started.saturating_add(r.entry.job.estimated).max(now), r.entry.job.id)))
            .collect();
        let mut t = now;
        loop {
            for s in sim.tick(t) {
                if s.job == job {
                    return t;
                }
                ends.push(Reverse((s.expected_end, s.job)));
            }
            let Some(&Reverse((next, _))) = ends.peek() else {
                return Time::MAX;
            };
            t = next;
            while let Some(&Reverse((end, id))) = ends.peek() {
                if end > t {
                    break;
                }
                ends.pop();
                // Cannot fail: every id in `ends` is running in `sim` and ends after it started.
                let _ = sim.finished(id, end);
            }
        }
    }

    fn running_occupants(&self) -> Vec<Occupant> {
        self.running
            .values()
            .map(|r| Occupant { end: r.started.saturating_add(r.entry.job.estimated), w: r.entry.w, b: r.entry.b })
            .collect()
    }

    fn snapshot(&self, now: Time) -> Snapshot<'_> {
        let nightly: Vec<&Entry> = self.queue.iter().filter(|e| e.job.kind == JobKind::Nightly).collect();
        Snapshot {
            now,
            web_caps: &self.web.caps,
            backup_caps: &self.backup.caps,
            running: self.running_occupants(),
            nightly: nightly.iter().map(|e| Pending { w: e.w, b: e.b, dur: e.job.estimated }).collect(),
            deadlines: nightly.iter().map(|e| e.job.deadline.unwrap_or(Time::MAX)).collect(),
        }
    }
}
