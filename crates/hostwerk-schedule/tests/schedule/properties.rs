//! Property tests: caps are never exceeded, and with exact estimates admitted work never makes a nightly job
//! miss a window that the nightly load alone fits.
#![allow(clippy::unwrap_used)]

use hostwerk_schedule::*;
use proptest::prelude::*;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

#[derive(Debug, Clone)]
struct Setup {
    web_caps: Vec<usize>,
    backup_caps: Vec<usize>,
    /// (webserver, backup server, duration)
    nightly: Vec<(u32, u32, Secs)>,
    /// (arrival, kind is restore, webserver, backup server, duration)
    others: Vec<(Time, bool, u32, u32, Secs)>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (1usize..5, 1usize..4)
        .prop_flat_map(|(nw, nb)| {
            (
                prop::collection::vec(1usize..4, nw),
                prop::collection::vec(1usize..4, nb),
                prop::collection::vec((0..nw as u32, 0..nb as u32, 1u64..120), 0..40),
                prop::collection::vec((0u64..600, any::<bool>(), 0..nw as u32, 0..nb as u32, 1u64..200), 0..30),
            )
        })
        .prop_map(|(web_caps, backup_caps, nightly, others)| Setup { web_caps, backup_caps, nightly, others })
}

fn config(s: &Setup) -> SchedulerConfig {
    SchedulerConfig {
        webservers: s.web_caps.iter().enumerate().map(|(i, &cap)| ServerCap { id: ServerId(i as u32), cap }).collect(),
        backup_servers: s
            .backup_caps
            .iter()
            .enumerate()
            .map(|(i, &cap)| ServerCap { id: ServerId(i as u32), cap })
            .collect(),
        policy: AdmissionPolicy::default(),
    }
}

/// Runs the scheduler event by event with exact durations (= estimates). Nightly jobs are submitted at 0 with
/// `deadline`; the others at their arrival. Checks the caps after every tick against an independent count.
/// Returns (finish per nightly job, start per other job).
fn run(s: &Setup, deadline: Time, with_others: bool) -> (Vec<Time>, Vec<Time>) {
    let mut sched = Scheduler::new(&config(s)).unwrap();
    let mut id = 0;
    for &(w, b, d) in &s.nightly {
        sched
            .submit(Job {
                id: JobId(id),
                kind: JobKind::Nightly,
                webserver: ServerId(w),
                backup_server: ServerId(b),
                estimated: d,
                submitted: 0,
                deadline: Some(deadline),
            })
            .unwrap();
        id += 1;
    }
    let mut arrivals: Vec<(Time, Job)> = Vec::new();
    if with_others {
        for &(at, restore, w, b, d) in &s.others {
            let kind = if restore { JobKind::Restore } else { JobKind::OnDemand };
            let job = Job {
                id: JobId(id),
                kind,
                webserver: ServerId(w),
                backup_server: ServerId(b),
                estimated: d,
                submitted: at,
                deadline: None,
            };
            arrivals.push((at, job));
            id += 1;
        }
    }
    arrivals.sort_by_key(|a| (a.0, a.1.id));
    let total = id as usize;
    let mut started: BTreeMap<JobId, Time> = BTreeMap::new();
    let mut finished: BTreeMap<JobId, Time> = BTreeMap::new();
    let mut ends: BinaryHeap<Reverse<(Time, JobId, u32, u32)>> = BinaryHeap::new();
    let mut web_busy = vec![0usize; s.web_caps.len()];
    let mut backup_busy = vec![0usize; s.backup_caps.len()];
    let mut next = 0;
    let mut t = 0;
    loop {
        while let Some(&Reverse((e, j, w, b))) = ends.peek() {
            if e > t {
                break;
            }
            ends.pop();
            sched.finished(j, e).unwrap();
            finished.insert(j, e);
            web_busy[w as usize] -= 1;
            backup_busy[b as usize] -= 1;
        }
        while next < arrivals.len() && arrivals[next].0 <= t {
            sched.submit(arrivals[next].1.clone()).unwrap();
            next += 1;
        }
        for st in sched.tick(t) {
            let (w, b) = (st.webserver.0, st.backup_server.0);
            web_busy[w as usize] += 1;
            backup_busy[b as usize] += 1;
            assert!(web_busy[w as usize] <= s.web_caps[w as usize], "webserver {w} over its cap at {t}");
            assert!(backup_busy[b as usize] <= s.backup_caps[b as usize], "backup {b} over its cap at {t}");
            started.insert(st.job, t);
            ends.push(Reverse((st.expected_end, st.job, w, b)));
        }
        let a = ends.peek().map(|r| r.0 .0);
        let b = arrivals.get(next).map(|x| x.0);
        t = match (a, b) {
            (Some(a), Some(b)) => a.min(b),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => break,
        };
    }
    assert_eq!(finished.len(), total, "every job ran");
    let n = s.nightly.len() as u64;
    let nightly = (0..n).map(|i| finished[&JobId(i)]).collect();
    let others = started.iter().filter(|(j, _)| j.0 >= n).map(|(_, &t)| t).collect();
    (nightly, others)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn on_demand_and_restores_never_make_a_fitting_nightly_run_miss(s in setup(), slack in 0u64..100) {
        // The nightly load alone, with a deadline it just fits (+ slack).
        let (alone, _) = run(&s, Time::MAX, false);
        let deadline = alone.iter().copied().max().unwrap_or(0) + slack;
        let (nightly, others) = run(&s, deadline, true);
        for f in nightly {
            prop_assert!(f <= deadline, "nightly finished at {f}, deadline {deadline}");
        }
        prop_assert_eq!(others.len(), s.others.len());
    }

    #[test]
    fn caps_hold_under_tight_deadlines_too(s in setup(), deadline in 0u64..300) {
        // run() asserts the caps at every instant; tight deadlines exercise the refusal paths.
        let _ = run(&s, deadline, true);
    }

    #[test]
    fn simulated_fleets_respect_caps_and_report_sane_figures(
        nw in 1u32..6, nb in 1u32..3, web_cap in 1usize..4, backup_cap in 1usize..5,
        contracts in 1u32..30, window_h in 1u64..9, od in 0.0f64..60.0, rs in 0.0f64..20.0,
        noise in 0.0f64..0.5, seed in any::<u64>(),
    ) {
        let mut fleet = Fleet::uniform(nw, nb, Window::new(1000, 1000 + window_h * 3600).unwrap());
        for w in &mut fleet.webservers { w.cap = web_cap; }
        for b in &mut fleet.backup_servers { b.cap = backup_cap; }
        let workload = Workload {
            contracts_per_webserver: contracts,
            files_per_webserver: 300_000,
            bytes_per_webserver: 100_000_000_000,
            on_demand_per_hour: od,
            restores_per_hour: rs,
            duration_noise: noise,
            ..Workload::default()
        };
        let r = simulate(&fleet, &workload, seed).unwrap();
        prop_assert_eq!(r.nightly_jobs, (nw * contracts) as usize);
        prop_assert_eq!(r.nightly_met + r.nightly_misses.len(), r.nightly_jobs);
        prop_assert_eq!(r.all_nightly_met, r.nightly_misses.is_empty());
        for u in r.webservers.iter().chain(&r.backup_servers) {
            prop_assert!(u.peak <= u.cap, "{:?}", u);
            prop_assert!((0.0..=1.0).contains(&u.utilisation), "{:?}", u);
        }
        for w in [r.on_demand, r.restores] {
            prop_assert!(w.median <= w.p95 && w.p95 <= w.max);
        }
    }

    #[test]
    fn simulated_on_demand_never_breaks_a_fitting_night_with_exact_estimates(
        nw in 1u32..5, nb in 1u32..3, contracts in 1u32..25, od in 0.0f64..120.0, rs in 0.0f64..30.0,
        slack in 0u64..600, seed in any::<u64>(),
    ) {
        let workload = Workload {
            contracts_per_webserver: contracts,
            files_per_webserver: 200_000,
            bytes_per_webserver: 200_000_000_000,
            duration_noise: 0.0,
            on_demand_per_hour: 0.0,
            restores_per_hour: 0.0,
            ..Workload::default()
        };
        let probe = Fleet::uniform(nw, nb, Window::new(0, 100 * 3600).unwrap());
        let alone = simulate(&probe, &workload, seed).unwrap();
        // The same contracts (drawn first from the seed) against a window that just fits.
        let fleet = Fleet::uniform(nw, nb, Window::new(0, alone.makespan + slack).unwrap());
        let busy = Workload { on_demand_per_hour: od, restores_per_hour: rs, ..workload };
        let r = simulate(&fleet, &busy, seed).unwrap();
        prop_assert!(r.all_nightly_met, "{}", r);
    }
}
