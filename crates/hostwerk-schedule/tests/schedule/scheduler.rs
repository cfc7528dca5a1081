//! Scheduler behaviour on constructed cases: priority, FIFO, caps, admission, queue position and ETA.
#![allow(clippy::unwrap_used)]

use hostwerk_schedule::*;

fn cfg(web: &[(u32, usize)], backup: &[(u32, usize)]) -> SchedulerConfig {
    SchedulerConfig {
        webservers: web.iter().map(|&(id, cap)| ServerCap { id: ServerId(id), cap }).collect(),
        backup_servers: backup.iter().map(|&(id, cap)| ServerCap { id: ServerId(id), cap }).collect(),
        policy: AdmissionPolicy::default(),
    }
}

fn job(id: u64, kind: JobKind, w: u32, b: u32, est: Secs, submitted: Time, deadline: Time) -> Job {
    Job {
        id: JobId(id),
        kind,
        webserver: ServerId(w),
        backup_server: ServerId(b),
        estimated: est,
        submitted,
        deadline: (kind == JobKind::Nightly).then_some(deadline),
    }
}

fn ids(starts: &[Start]) -> Vec<u64> {
    starts.iter().map(|s| s.job.0).collect()
}

#[test]
fn priority_restore_then_nightly_then_on_demand_and_fifo_within_kind() {
    let mut s = Scheduler::new(&cfg(&[(0, 1)], &[(0, 1)])).unwrap();
    // submitted out of order on purpose; deadlines far away so admission never interferes
    s.submit(job(1, JobKind::OnDemand, 0, 0, 10, 5, 0)).unwrap();
    s.submit(job(2, JobKind::Nightly, 0, 0, 10, 3, 10_000)).unwrap();
    s.submit(job(3, JobKind::OnDemand, 0, 0, 10, 2, 0)).unwrap();
    s.submit(job(4, JobKind::Restore, 0, 0, 10, 9, 0)).unwrap();
    s.submit(job(5, JobKind::Nightly, 0, 0, 10, 1, 10_000)).unwrap();
    s.submit(job(6, JobKind::Nightly, 0, 0, 10, 1, 10_000)).unwrap(); // same time as 5: submission order
    let mut order = Vec::new();
    let mut now = 10;
    let mut started = s.tick(now);
    while let Some(st) = started.first().cloned() {
        assert_eq!(started.len(), 1, "cap 1 means one job at a time");
        order.push(st.job.0);
        now += 10;
        s.finished(st.job, now).unwrap();
        started = s.tick(now);
    }
    assert_eq!(order, vec![4, 5, 6, 2, 3, 1]);
}

#[test]
fn caps_of_webserver_and_backup_server_both_bind() {
    let mut s = Scheduler::new(&cfg(&[(0, 2), (1, 2)], &[(0, 3)])).unwrap();
    for i in 0..8 {
        s.submit(job(i, JobKind::Nightly, (i / 4) as u32, 0, 100, 0, 10_000)).unwrap();
    }
    assert_eq!(ids(&s.tick(0)), vec![0, 1, 4]);
    assert_eq!(s.busy_webserver(ServerId(0)), 2);
    assert_eq!(s.busy_backup_server(ServerId(0)), 3);
    assert!(s.tick(50).is_empty());
    for j in [0, 1, 4] {
        s.finished(JobId(j), 100).unwrap();
    }
    assert_eq!(ids(&s.tick(100)), vec![2, 3, 5]);
}

#[test]
fn errors_are_reported() {
    assert_eq!(Scheduler::new(&cfg(&[(0, 0)], &[(0, 1)])).unwrap_err(), ScheduleError::ZeroCap(ServerId(0)));
    assert_eq!(
        Scheduler::new(&cfg(&[(0, 1), (0, 1)], &[(0, 1)])).unwrap_err(),
        ScheduleError::DuplicateServer(ServerId(0))
    );
    let mut s = Scheduler::new(&cfg(&[(0, 1)], &[(0, 1)])).unwrap();
    assert_eq!(s.submit(job(1, JobKind::OnDemand, 7, 0, 1, 0, 0)), Err(ScheduleError::UnknownWebserver(ServerId(7))));
    assert_eq!(
        s.submit(job(1, JobKind::OnDemand, 0, 7, 1, 0, 0)),
        Err(ScheduleError::UnknownBackupServer(ServerId(7)))
    );
    let mut n = job(1, JobKind::Nightly, 0, 0, 1, 0, 0);
    n.deadline = None;
    assert_eq!(s.submit(n), Err(ScheduleError::NightlyWithoutDeadline(JobId(1))));
    s.submit(job(1, JobKind::OnDemand, 0, 0, 1, 0, 0)).unwrap();
    assert_eq!(s.submit(job(1, JobKind::OnDemand, 0, 0, 1, 0, 0)), Err(ScheduleError::DuplicateJob(JobId(1))));
    assert_eq!(s.finished(JobId(1), 5), Err(ScheduleError::NotRunning(JobId(1))));
    assert_eq!(ids(&s.tick(10)), vec![1]);
    assert_eq!(s.finished(JobId(1), 9), Err(ScheduleError::FinishedBeforeStart(JobId(1))));
    assert_eq!(s.finished(JobId(1), 11).unwrap().actual, 1);
}

/// W0 (cap 1) is busy with a restore to backup server B1 until 50. Nightly N (W0 → B0, 50 s, deadline 100)
/// waits for W0. An on-demand job O (W1 → B0) could take B0's only slot right now; if it runs longer than
/// 50 s, N can start only after O, and misses its deadline.
fn blocked_scenario(on_demand_est: Secs, policy: AdmissionPolicy, kind: JobKind) -> Scheduler {
    let mut c = cfg(&[(0, 1), (1, 1)], &[(0, 1), (1, 1)]);
    c.policy = policy;
    let mut s = Scheduler::new(&c).unwrap();
    s.submit(job(1, JobKind::Restore, 0, 1, 50, 0, 0)).unwrap();
    assert_eq!(ids(&s.tick(0)), vec![1]);
    s.submit(job(2, JobKind::Nightly, 0, 0, 50, 0, 100)).unwrap();
    s.submit(job(3, kind, 1, 0, on_demand_est, 0, 0)).unwrap();
    s
}

#[test]
fn admission_refuses_a_job_that_would_push_a_nightly_job_past_its_deadline_then_starts_it_when_it_fits() {
    let mut s = blocked_scenario(60, AdmissionPolicy::default(), JobKind::OnDemand);
    assert!(s.tick(0).is_empty(), "O must wait although W1 and B0 are free");
    assert!(s.nightly_forecast(0).iter().all(|f| !f.misses()));
    let p0 = s.queue_position(JobId(3), 0).unwrap();
    assert_eq!((p0.position, p0.eta_start, p0.eta_finish), (2, 100, 160));
    assert!(s.tick(30).is_empty());
    s.finished(JobId(1), 50).unwrap();
    assert_eq!(ids(&s.tick(50)), vec![2], "the nightly job gets B0");
    let p1 = s.queue_position(JobId(3), 50).unwrap();
    assert_eq!((p1.position, p1.eta_start), (1, 100));
    s.finished(JobId(2), 100).unwrap();
    let started = s.tick(100);
    assert_eq!(ids(&started), vec![3]);
    assert_eq!(started[0].expected_end, 160);
    assert_eq!(s.queue_position(JobId(3), 100), None, "running jobs have no queue position");
}

#[test]
fn admission_lets_a_job_through_that_fits() {
    // 50 s: O ends at 50, exactly when W0 frees up, so N still runs 50–100.
    let mut s = blocked_scenario(50, AdmissionPolicy::default(), JobKind::OnDemand);
    assert_eq!(ids(&s.tick(0)), vec![3]);
    s.finished(JobId(1), 50).unwrap();
    s.finished(JobId(3), 50).unwrap();
    assert_eq!(ids(&s.tick(50)), vec![2]);
}

#[test]
fn restores_are_admitted_like_on_demand_jobs_unless_the_policy_says_otherwise() {
    let mut strict = blocked_scenario(60, AdmissionPolicy::default(), JobKind::Restore);
    assert!(strict.tick(0).is_empty());
    let bypass = AdmissionPolicy { restores_bypass_admission: true };
    let mut lax = blocked_scenario(60, bypass, JobKind::Restore);
    assert_eq!(ids(&lax.tick(0)), vec![3]);
    let forecast = lax.nightly_forecast(0);
    let n = forecast.iter().find(|f| f.job == JobId(2)).unwrap();
    assert_eq!((n.predicted_finish, n.deadline, n.misses()), (110, 100, true));
}

#[test]
fn nightly_jobs_are_never_refused_even_if_they_cannot_fit() {
    let mut s = Scheduler::new(&cfg(&[(0, 1)], &[(0, 1)])).unwrap();
    s.submit(job(1, JobKind::Nightly, 0, 0, 80, 0, 100)).unwrap();
    s.submit(job(2, JobKind::Nightly, 0, 0, 80, 0, 100)).unwrap();
    assert_eq!(ids(&s.tick(0)), vec![1]);
    let misses: Vec<_> = s.nightly_forecast(0).into_iter().filter(|f| f.misses()).map(|f| f.job).collect();
    assert_eq!(misses, vec![JobId(2)]);
    s.finished(JobId(1), 80).unwrap();
    assert_eq!(ids(&s.tick(80)), vec![2]);
}

#[test]
fn when_nightly_already_overruns_a_job_that_does_not_make_it_worse_is_admitted() {
    // W0: two 80 s nightly jobs, deadline 100 — the second misses whatever happens. An on-demand job on
    // W1/B1 shares no server with them and is admitted although the nightly run is already late.
    let mut s = Scheduler::new(&cfg(&[(0, 1), (1, 1)], &[(0, 2), (1, 1)])).unwrap();
    s.submit(job(1, JobKind::Nightly, 0, 0, 80, 0, 100)).unwrap();
    s.submit(job(2, JobKind::Nightly, 0, 0, 80, 0, 100)).unwrap();
    s.submit(job(3, JobKind::OnDemand, 1, 1, 500, 0, 0)).unwrap();
    assert_eq!(ids(&s.tick(0)), vec![1, 3]);
    // W0 is busy with a restore (to B1) until 50; nightly N (W0 → B0, 95 s, deadline 100) is predicted to
    // end at 145 whatever happens. A 10 s on-demand job on W1 → B0 ends before N can start: admitted (the
    // strict rule would refuse it). A 60 s one would push N to 155: refused.
    for (est, admitted) in [(10, true), (60, false)] {
        let mut s = Scheduler::new(&cfg(&[(0, 1), (1, 1)], &[(0, 1), (1, 1)])).unwrap();
        s.submit(job(1, JobKind::Restore, 0, 1, 50, 0, 0)).unwrap();
        assert_eq!(ids(&s.tick(0)), vec![1]);
        s.submit(job(2, JobKind::Nightly, 0, 0, 95, 0, 100)).unwrap();
        s.submit(job(3, JobKind::OnDemand, 1, 0, est, 0, 0)).unwrap();
        let forecast = s.nightly_forecast(0);
        assert_eq!(forecast.iter().find(|f| f.job == JobId(2)).unwrap().predicted_finish, 145);
        assert_eq!(!s.tick(0).is_empty(), admitted, "on-demand job of {est} s");
    }
}

#[test]
fn cancelling_a_job_ahead_moves_the_queue_up() {
    let mut s = Scheduler::new(&cfg(&[(0, 1)], &[(0, 1)])).unwrap();
    s.submit(job(1, JobKind::Nightly, 0, 0, 100, 0, 10_000)).unwrap();
    s.submit(job(2, JobKind::OnDemand, 0, 0, 10, 0, 0)).unwrap();
    s.submit(job(3, JobKind::OnDemand, 0, 0, 10, 1, 0)).unwrap();
    assert_eq!(ids(&s.tick(0)), vec![1]);
    let before = s.queue_position(JobId(3), 0).unwrap();
    assert_eq!((before.position, before.eta_start), (2, 110));
    assert_eq!(s.cancel(JobId(2)).map(|j| j.id), Some(JobId(2)));
    let after = s.queue_position(JobId(3), 0).unwrap();
    assert_eq!((after.position, after.eta_start), (1, 100));
    assert_eq!(s.cancel(JobId(1)), None, "running jobs cannot be cancelled here");
}

#[test]
fn queue_position_and_eta_never_increase_as_jobs_finish() {
    // One pair, cap 2: six nightly jobs, then four on-demand jobs; exact durations.
    let mut s = Scheduler::new(&cfg(&[(0, 2)], &[(0, 2)])).unwrap();
    let nightly = [70, 30, 50, 20, 60, 40];
    for (i, &d) in nightly.iter().enumerate() {
        s.submit(job(i as u64, JobKind::Nightly, 0, 0, d, 0, 200)).unwrap();
    }
    for i in 0..4 {
        s.submit(job(10 + i, JobKind::OnDemand, 0, 0, 25, 1 + i, 0)).unwrap();
    }
    let mut running: Vec<(Time, JobId)> = Vec::new();
    let mut last: Option<(usize, Time)> = None;
    let mut now = 1;
    let mut watched_started = None;
    loop {
        for st in s.tick(now) {
            if st.job == JobId(13) {
                watched_started = Some(now);
            }
            running.push((st.expected_end, st.job));
        }
        if watched_started.is_none() {
            let p = s.queue_position(JobId(13), now).unwrap();
            if let Some((pos, eta)) = last {
                assert!(p.position <= pos && p.eta_start <= eta, "{p:?} after {last:?}");
            }
            assert!(p.eta_start >= now);
            last = Some((p.position, p.eta_start));
        }
        running.sort();
        if running.is_empty() {
            break;
        }
        let (end, id) = running.remove(0);
        now = end;
        s.finished(id, now).unwrap();
    }
    assert!(s.nightly_forecast(now).is_empty());
    let (_, final_eta) = last.unwrap();
    assert_eq!(watched_started, Some(final_eta), "the last ETA is the actual start");
}
