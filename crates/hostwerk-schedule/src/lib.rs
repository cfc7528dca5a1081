//! hostwerk-schedule: when nightly backups, on-demand backups and restores run, and a fleet simulator.
//!
//! Every contract's webspace is backed up every night inside a window (the panel's default: 22:00–06:00
//! Europe/Berlin) by the agent on its webserver into the webserver's assigned backup server. Customers may
//! also ask for backups now and for restores. This crate decides, without I/O, async or clocks:
//!
//! - [`job`]: jobs, servers, simulated [`Time`] (whole seconds from a caller-chosen epoch; time zones stay with
//!   the caller), the [`Window`];
//! - [`estimate`]: how long a backup or restore takes ([`Estimator`], a documented linear model);
//! - [`scheduler`]: the deterministic [`Scheduler`] — per-webserver and per-backup-server caps, priority
//!   restores > nightly > on-demand, FIFO within a kind, queue positions and ETAs;
//! - [`admission`]: the rule that lets a restore or on-demand backup start only if every nightly job still
//!   finishes inside its window (predicted by greedy list scheduling with the estimates);
//! - [`sim`]: [`simulate`] runs the same scheduler against a simulated fleet and night, for capacity planning
//!   (`hostwerk sim nightly`), and returns a [`SimReport`] ([`report`]).
//!
//! Everything is deterministic: the same inputs (and seed) give the same decisions and the same report.
//!
//! ```
//! use hostwerk_schedule::*;
//!
//! let config = SchedulerConfig {
//!     webservers: vec![ServerCap { id: ServerId(1), cap: 1 }],
//!     backup_servers: vec![ServerCap { id: ServerId(9), cap: 1 }],
//!     policy: AdmissionPolicy::default(),
//! };
//! let mut s = Scheduler::new(&config)?;
//! let job = |id, kind, estimated, deadline| Job {
//!     id: JobId(id), kind, webserver: ServerId(1), backup_server: ServerId(9),
//!     estimated, submitted: 0, deadline,
//! };
//! s.submit(job(1, JobKind::OnDemand, 600, None))?;
//! s.submit(job(2, JobKind::Nightly, 3_000, Some(28_800)))?;
//! let started = s.tick(0);
//! assert_eq!(started[0].job, JobId(2)); // nightly before on-demand
//! let p = s.queue_position(JobId(1), 0).expect("queued");
//! assert_eq!((p.position, p.eta_start), (1, 3_000));
//! s.finished(JobId(2), 2_900)?;
//! assert_eq!(s.tick(2_900)[0].job, JobId(1));
//! # Ok::<(), ScheduleError>(())
//! ```
//!
//! # A consequence of the priority order
//!
//! On-demand backups rank below nightly jobs, so while a webserver still has nightly jobs queued its slots go
//! to them, and an on-demand backup waits even when the window has plenty of slack (the simulator's on-demand
//! wait times show this). Admission control would allow more; letting admissible on-demand jobs overtake
//! nightly ones would be a policy change, not built here.

pub mod admission;
pub mod estimate;
pub mod job;
pub mod report;
mod rng;
pub mod scheduler;
pub mod sim;

pub use estimate::{Estimator, WorkStats, ZeroRate};
pub use job::{AdmissionPolicy, EmptyWindow, Job, JobId, JobKind, Secs, ServerId, Time, Window};
pub use report::{NightlyMiss, ServerUsage, SimReport, WaitStats};
pub use scheduler::{
    Finished, NightlyForecast, QueuePosition, ScheduleError, Scheduler, SchedulerConfig, ServerCap, Start,
};
pub use sim::{simulate, Fleet, SimBackupServer, SimError, SimWebserver, Workload};
