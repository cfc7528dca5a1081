//! The discrete-event fleet simulator: the real [`Scheduler`] against simulated time and servers.
//!
//! # What is simulated
//!
//! - At the window start, one nightly job per contract is submitted (webserver by webserver, contract by
//!   contract), deadline = window end. Contract sizes are the per-webserver totals split evenly, each scaled
//!   by a seeded factor in `[1 − size_spread, 1 + size_spread]`; changed bytes = bytes × `change_rate`.
//! - During the window, on-demand backups and restores arrive as two Poisson processes (fleet-wide rates per
//!   hour), each for a uniformly drawn contract. An on-demand backup has the same work as that contract's
//!   nightly job, a restore reads all its bytes back.
//! - Estimates come from the [`Estimator`] of the job's webserver/backup-server pair; the actual duration is
//!   the estimate × a seeded factor in `[1 − duration_noise, 1 + duration_noise]`, rounded to seconds (with
//!   `duration_noise = 0` the estimates are exact).
//! - Events are processed in time order; at each instant all completions are reported first, then arrivals
//!   are submitted, then [`Scheduler::tick`] is asked what starts. The run ends when every job has finished.
//!
//! All randomness comes from one SplitMix64 stream seeded with `seed`, so a seed determines the report.

use crate::estimate::{Estimator, WorkStats, ZeroRate};
use crate::job::{AdmissionPolicy, Job, JobId, JobKind, Secs, ServerId, Time, Window};
use crate::report::{NightlyMiss, ServerUsage, SimReport, WaitStats};
use crate::rng::SplitMix64;
use crate::scheduler::{ScheduleError, Scheduler, SchedulerConfig, ServerCap};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use thiserror::Error;

/// A simulated webserver (its agent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimWebserver {
    /// Its id.
    pub id: ServerId,
    /// Concurrent jobs.
    pub cap: usize,
    /// The backup server it is assigned to.
    pub backup_server: ServerId,
    /// Scan rate for unchanged bytes.
    pub scan_bytes_per_sec: u64,
}

/// A simulated backup server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimBackupServer {
    /// Its id.
    pub id: ServerId,
    /// Concurrent jobs.
    pub cap: usize,
    /// Write rate per job for changed bytes.
    pub write_bytes_per_sec: u64,
    /// Read rate per job for restores.
    pub restore_bytes_per_sec: u64,
}

/// The servers, their assignment and the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fleet {
    /// Webservers.
    pub webservers: Vec<SimWebserver>,
    /// Backup servers.
    pub backup_servers: Vec<SimBackupServer>,
    /// Cost per file in microseconds (all servers).
    pub per_file_micros: u64,
    /// Fixed cost per job in seconds.
    pub overhead_secs: Secs,
    /// The nightly window.
    pub window: Window,
    /// Admission policy for restores.
    pub policy: AdmissionPolicy,
}

impl Fleet {
    /// `webservers` webservers (ids 0…, cap 2, scan 200 MB/s) assigned round-robin to `backup_servers` backup
    /// servers (ids 0…, cap 4, write 50 MB/s, restore 100 MB/s); 50 µs per file, 10 s per job.
    #[must_use]
    pub fn uniform(webservers: u32, backup_servers: u32, window: Window) -> Self {
        let m = backup_servers.max(1);
        Self {
            webservers: (0..webservers)
                .map(|i| SimWebserver {
                    id: ServerId(i),
                    cap: 2,
                    backup_server: ServerId(i % m),
                    scan_bytes_per_sec: 200_000_000,
                })
                .collect(),
            backup_servers: (0..backup_servers)
                .map(|i| SimBackupServer {
                    id: ServerId(i),
                    cap: 4,
                    write_bytes_per_sec: 50_000_000,
                    restore_bytes_per_sec: 100_000_000,
                })
                .collect(),
            per_file_micros: 50,
            overhead_secs: 10,
            window,
            policy: AdmissionPolicy::default(),
        }
    }

    fn estimator(&self, w: &SimWebserver, b: &SimBackupServer) -> Result<Estimator, ZeroRate> {
        Estimator::new(
            w.scan_bytes_per_sec,
            b.write_bytes_per_sec,
            b.restore_bytes_per_sec,
            self.per_file_micros,
            self.overhead_secs,
        )
    }
}

/// What the fleet has to do in one night (the same for every webserver).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Contracts (webspaces) per webserver: one nightly job each.
    pub contracts_per_webserver: u32,
    /// Files per webserver, split among its contracts.
    pub files_per_webserver: u64,
    /// Bytes per webserver, split among its contracts.
    pub bytes_per_webserver: u64,
    /// Contract sizes vary by a factor in `[1 − spread, 1 + spread]` (0 = all equal; clamped to [0, 1]).
    pub size_spread: f64,
    /// Fraction of bytes changed since the last backup, in [0, 1].
    pub change_rate: f64,
    /// On-demand backups per hour, fleet-wide, arriving during the window.
    pub on_demand_per_hour: f64,
    /// Restores per hour, fleet-wide, arriving during the window.
    pub restores_per_hour: f64,
    /// Actual duration = estimate × a factor in `[1 − noise, 1 + noise]` (0 = exact estimates).
    pub duration_noise: f64,
}

impl Default for Workload {
    /// 200 contracts, 2 million files and 400 GB per webserver, 2 % changed, ±50 % contract sizes, ±20 %
    /// duration noise, 20 on-demand backups and 4 restores per hour.
    fn default() -> Self {
        Self {
            contracts_per_webserver: 200,
            files_per_webserver: 2_000_000,
            bytes_per_webserver: 400_000_000_000,
            size_spread: 0.5,
            change_rate: 0.02,
            on_demand_per_hour: 20.0,
            restores_per_hour: 4.0,
            duration_noise: 0.2,
        }
    }
}

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimError {
    /// The fleet does not make a valid scheduler configuration.
    #[error(transparent)]
    Config(#[from] ScheduleError),
    /// A webserver is assigned to a backup server that is not in the fleet.
    #[error("webserver {webserver} is assigned to unknown backup server {backup_server}")]
    UnassignedWebserver {
        /// The webserver.
        webserver: ServerId,
        /// Its (missing) backup server.
        backup_server: ServerId,
    },
    /// A throughput is zero.
    #[error(transparent)]
    Rate(#[from] ZeroRate),
    /// A workload figure is negative or not finite.
    #[error("workload figure {0} must be finite and not negative")]
    BadWorkload(&'static str),
    /// More arrivals than the simulator accepts (rates too high).
    #[error("more than {0} on-demand/restore arrivals; lower the rates")]
    TooManyArrivals(usize),
    /// Jobs are queued but nothing runs and nothing arrives (cannot happen with valid caps).
    #[error("simulation stalled at {0} with jobs queued")]
    Stalled(Time),
}

const MAX_ARRIVALS: usize = 200_000;

#[derive(Debug, Clone, Copy)]
struct Contract {
    webserver: usize,
    work: WorkStats,
}

#[derive(Debug, Clone, Copy, Default)]
struct Record {
    started: Option<Time>,
    ended: Option<Time>,
    actual: Secs,
}

/// Runs one night. See the module docs.
///
/// # Errors
/// [`SimError`] for an invalid fleet or workload.
pub fn simulate(fleet: &Fleet, workload: &Workload, seed: u64) -> Result<SimReport, SimError> {
    for (name, v) in [
        ("size_spread", workload.size_spread),
        ("change_rate", workload.change_rate),
        ("on_demand_per_hour", workload.on_demand_per_hour),
        ("restores_per_hour", workload.restores_per_hour),
        ("duration_noise", workload.duration_noise),
    ] {
        if !v.is_finite() || v < 0.0 {
            return Err(SimError::BadWorkload(name));
        }
    }
    let config = SchedulerConfig {
        webservers: fleet.webservers.iter().map(|w| ServerCap { id: w.id, cap: w.cap }).collect(),
        backup_servers: fleet.backup_servers.iter().map(|b| ServerCap { id: b.id, cap: b.cap }).collect(),
        policy: fleet.policy,
    };
    let mut sched = Scheduler::new(&config)?;
    let mut estimators = Vec::with_capacity(fleet.webservers.len());
    for w in &fleet.webservers {
        let b = fleet
            .backup_servers
            .iter()
            .find(|b| b.id == w.backup_server)
            .ok_or(SimError::UnassignedWebserver { webserver: w.id, backup_server: w.backup_server })?;
        estimators.push(fleet.estimator(w, b)?);
    }
    let window = fleet.window;
    let mut rng = SplitMix64::new(seed);

    // Contracts.
    let n = u64::from(workload.contracts_per_webserver.max(1));
    let change = workload.change_rate.min(1.0);
    let mut contracts = Vec::new();
    for wi in 0..fleet.webservers.len() {
        for _ in 0..workload.contracts_per_webserver {
            let f = rng.factor(workload.size_spread);
            let bytes = (workload.bytes_per_webserver / n) as f64 * f;
            let files = (workload.files_per_webserver / n) as f64 * f;
            contracts.push(Contract {
                webserver: wi,
                work: WorkStats {
                    files: files.round() as u64,
                    bytes: bytes.round() as u64,
                    changed_bytes: (bytes * change).round() as u64,
                },
            });
        }
    }

    let mut jobs: BTreeMap<JobId, (Job, Record)> = BTreeMap::new();
    let mut next_id = 0u64;
    let mut make_job = |kind: JobKind, c: &Contract, at: Time, rng: &mut SplitMix64| {
        let web = &fleet.webservers[c.webserver];
        let est = &estimators[c.webserver];
        let estimated = match kind {
            JobKind::Restore => est.restore_secs(c.work),
            JobKind::Nightly | JobKind::OnDemand => est.backup_secs(c.work),
        };
        let actual = (estimated as f64 * rng.factor(workload.duration_noise)).round() as Secs;
        let id = JobId(next_id);
        next_id += 1;
        let job = Job {
            id,
            kind,
            webserver: web.id,
            backup_server: web.backup_server,
            estimated,
            submitted: at,
            deadline: (kind == JobKind::Nightly).then_some(window.end()),
        };
        (job, Record { actual, ..Record::default() })
    };

    // Nightly jobs, then the arrivals (merged in time order; on-demand before restore at equal times).
    let mut nightly = Vec::with_capacity(contracts.len());
    for c in &contracts {
        nightly.push(make_job(JobKind::Nightly, c, window.start(), &mut rng));
    }
    let mut arrivals: Vec<(Time, u8, Job, Record)> = Vec::new();
    for (kind, per_hour) in
        [(JobKind::OnDemand, workload.on_demand_per_hour), (JobKind::Restore, workload.restores_per_hour)]
    {
        if per_hour <= 0.0 || contracts.is_empty() {
            continue;
        }
        let mean = 3600.0 / per_hour;
        let mut t = window.start() as f64;
        loop {
            t += rng.exponential(mean);
            if t >= window.end() as f64 {
                break;
            }
            if arrivals.len() >= MAX_ARRIVALS {
                return Err(SimError::TooManyArrivals(MAX_ARRIVALS));
            }
            let c = contracts[rng.below(contracts.len() as u64) as usize];
            let (job, rec) = make_job(kind, &c, t as Time, &mut rng);
            arrivals.push((t as Time, u8::from(kind == JobKind::Restore), job, rec));
        }
    }
    arrivals.sort_by_key(|a| (a.0, a.1, a.2.id));

    for (job, rec) in nightly {
        sched.submit(job.clone())?;
        jobs.insert(job.id, (job, rec));
    }
    let mut completions: BinaryHeap<Reverse<(Time, JobId)>> = BinaryHeap::new();
    let mut next_arrival = 0;
    let mut t = window.start();
    loop {
        while let Some(&Reverse((end, id))) = completions.peek() {
            if end > t {
                break;
            }
            completions.pop();
            sched.finished(id, end)?;
            if let Some((_, rec)) = jobs.get_mut(&id) {
                rec.ended = Some(end);
            }
        }
        while let Some((at, _, job, rec)) = arrivals.get(next_arrival) {
            if *at > t {
                break;
            }
            sched.submit(job.clone())?;
            jobs.insert(job.id, (job.clone(), *rec));
            next_arrival += 1;
        }
        for s in sched.tick(t) {
            if let Some((_, rec)) = jobs.get_mut(&s.job) {
                rec.started = Some(t);
                completions.push(Reverse((t.saturating_add(rec.actual), s.job)));
            }
        }
        let next_completion = completions.peek().map(|r| r.0 .0);
        let next_arr = arrivals.get(next_arrival).map(|a| a.0);
        t = match (next_completion, next_arr) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                if sched.queued().next().is_some() {
                    return Err(SimError::Stalled(t));
                }
                break;
            }
        };
    }

    Ok(build_report(fleet, seed, &jobs))
}

fn build_report(fleet: &Fleet, seed: u64, jobs: &BTreeMap<JobId, (Job, Record)>) -> SimReport {
    let window = fleet.window;
    let mut nightly_jobs = 0;
    let mut last_nightly = window.start();
    let mut last_end = window.start();
    let mut misses = Vec::new();
    let mut on_demand_waits = Vec::new();
    let mut restore_waits = Vec::new();
    let mut web_intervals: BTreeMap<ServerId, Vec<(Time, Time)>> = BTreeMap::new();
    let mut backup_intervals: BTreeMap<ServerId, Vec<(Time, Time)>> = BTreeMap::new();
    for (job, rec) in jobs.values() {
        let (Some(started), Some(ended)) = (rec.started, rec.ended) else {
            continue; // cannot happen: the loop runs until every job has finished
        };
        last_end = last_end.max(ended);
        web_intervals.entry(job.webserver).or_default().push((started, ended));
        backup_intervals.entry(job.backup_server).or_default().push((started, ended));
        match job.kind {
            JobKind::Nightly => {
                nightly_jobs += 1;
                last_nightly = last_nightly.max(ended);
                let deadline = job.deadline.unwrap_or(window.end());
                if ended > deadline {
                    misses.push(NightlyMiss {
                        job: job.id,
                        webserver: job.webserver,
                        backup_server: job.backup_server,
                        finished: ended,
                        deadline,
                        late_by: ended - deadline,
                    });
                }
            }
            JobKind::OnDemand => on_demand_waits.push(started - job.submitted),
            JobKind::Restore => restore_waits.push(started - job.submitted),
        }
    }
    let usage = |id: ServerId, cap: usize, intervals: Option<&Vec<(Time, Time)>>| {
        ServerUsage::from_intervals(id, cap, window, intervals.map_or(&[][..], |v| &v[..]))
    };
    SimReport {
        seed,
        window_start: window.start(),
        window_end: window.end(),
        nightly_jobs,
        nightly_met: nightly_jobs - misses.len(),
        all_nightly_met: misses.is_empty(),
        nightly_misses: misses,
        makespan: last_nightly - window.start(),
        last_job_end: last_end,
        webservers: fleet.webservers.iter().map(|w| usage(w.id, w.cap, web_intervals.get(&w.id))).collect(),
        backup_servers: fleet.backup_servers.iter().map(|b| usage(b.id, b.cap, backup_intervals.get(&b.id))).collect(),
        on_demand: WaitStats::from_waits(on_demand_waits),
        restores: WaitStats::from_waits(restore_waits),
    }
}
