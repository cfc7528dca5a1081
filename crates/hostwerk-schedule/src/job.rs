//! Jobs, servers, simulated time and the nightly window: the vocabulary every other module uses.

use serde::Serialize;
use thiserror::Error;

/// A point in (real or simulated) time: whole seconds since an epoch the caller chooses.
///
/// The crate never looks at a clock and knows nothing of time zones: the caller converts "22:00 Europe/Berlin
/// tonight" into a `Time` (e.g. Unix seconds) and back.
pub type Time = u64;

/// A length of time in whole seconds.
pub type Secs = u64;

/// Identifies a job; unique among the jobs a [`crate::Scheduler`] currently holds (queued or running).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct JobId(pub u64);

/// Identifies a webserver or a backup server (the two kinds have separate id spaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ServerId(pub u32);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl std::fmt::Display for ServerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a job does. The derived order is the priority order: `Restore < Nightly < OnDemand`, i.e. restores
/// are considered first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A customer restores (part of) a webspace from the backup server. Subject to admission control.
    Restore,
    /// The guaranteed nightly backup of one contract's webspace. Never refused; has a deadline.
    Nightly,
    /// A backup the customer asked for now. Subject to admission control.
    OnDemand,
}

impl JobKind {
    /// Whether a job of this kind must pass admission control (see [`crate::admission`]) to start.
    #[must_use]
    pub fn needs_admission(self, policy: AdmissionPolicy) -> bool {
        match self {
            JobKind::Nightly => false,
            JobKind::OnDemand => true,
            JobKind::Restore => !policy.restores_bypass_admission,
        }
    }
}

/// How strictly restores are admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AdmissionPolicy {
    /// `false` (the default, as the issue requires): a restore starts only if every nightly job stays inside
    /// its window, exactly like an on-demand backup. `true`: restores start whenever a slot is free, even if
    /// that pushes a nightly job past its deadline (a host may prefer this during an incident).
    pub restores_bypass_admission: bool,
}

/// One unit of work: one contract's webspace, read by the agent on `webserver`, stored on (or restored from)
/// `backup_server`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    /// Unique among queued and running jobs.
    pub id: JobId,
    /// Restore, nightly or on-demand.
    pub kind: JobKind,
    /// The webserver whose agent runs the job; occupies one of its slots.
    pub webserver: ServerId,
    /// The backup server the job writes to (or reads from); occupies one of its slots.
    pub backup_server: ServerId,
    /// Estimated duration (see [`crate::Estimator`]); admission control and ETAs rely on it.
    pub estimated: Secs,
    /// When the job was submitted; orders jobs of one kind (FIFO) and measures waiting time.
    pub submitted: Time,
    /// Latest acceptable finish; required for nightly jobs (the window end), ignored for the others.
    pub deadline: Option<Time>,
}

/// The nightly backup window as two offsets on the caller's time line (default in the panel:
/// 22:00–06:00 Europe/Berlin, converted by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    start: Time,
    end: Time,
}

/// A window whose end is not after its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the backup window must end after it starts (start {start}, end {end})")]
pub struct EmptyWindow {
    /// The offending start.
    pub start: Time,
    /// The offending end.
    pub end: Time,
}

impl Window {
    /// A window from `start` (inclusive) to `end` (exclusive).
    ///
    /// # Errors
    /// [`EmptyWindow`] if `end <= start`.
    pub fn new(start: Time, end: Time) -> Result<Self, EmptyWindow> {
        if end <= start {
            return Err(EmptyWindow { start, end });
        }
        Ok(Self { start, end })
    }

    /// When the window opens.
    #[must_use]
    pub fn start(&self) -> Time {
        self.start
    }

    /// When the window closes: the deadline of every nightly job.
    #[must_use]
    pub fn end(&self) -> Time {
        self.end
    }

    /// Its length in seconds (always positive).
    #[must_use]
    pub fn len_secs(&self) -> Secs {
        self.end - self.start
    }
}
