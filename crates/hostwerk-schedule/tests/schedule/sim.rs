//! The fleet simulator: determinism, a hand-computed night, and the report's output formats.
#![allow(clippy::unwrap_used)]

use hostwerk_schedule::*;

/// Two webservers (cap 2) into one backup server (cap 3); four contracts each of exactly 100 s.
fn hand_fleet() -> (Fleet, Workload) {
    let fleet = Fleet {
        webservers: (0..2)
            .map(|i| SimWebserver { id: ServerId(i), cap: 2, backup_server: ServerId(0), scan_bytes_per_sec: 10_000 })
            .collect(),
        backup_servers: vec![SimBackupServer {
            id: ServerId(0),
            cap: 3,
            write_bytes_per_sec: 10_000,
            restore_bytes_per_sec: 10_000,
        }],
        per_file_micros: 0,
        overhead_secs: 0,
        window: Window::new(1_000, 2_000).unwrap(),
        policy: AdmissionPolicy::default(),
    };
    let workload = Workload {
        contracts_per_webserver: 4,
        files_per_webserver: 0,
        bytes_per_webserver: 4_000_000, // 1 MB per contract at 10 kB/s = 100 s
        size_spread: 0.0,
        change_rate: 0.0,
        on_demand_per_hour: 0.0,
        restores_per_hour: 0.0,
        duration_noise: 0.0,
    };
    (fleet, workload)
}

#[test]
fn hand_computed_night() {
    // t=0: web0 runs two jobs, web1 one (backup full at 3); t=100: web0 two more, web1 one;
    // t=200: web1 its last two. Makespan 300 s.
    let (fleet, workload) = hand_fleet();
    let r = simulate(&fleet, &workload, 1).unwrap();
    assert_eq!(r.nightly_jobs, 8);
    assert_eq!(r.makespan, 300);
    assert!(r.all_nightly_met);
    assert_eq!(r.last_job_end, 1_300);
    let web: Vec<_> = r.webservers.iter().map(|u| (u.jobs, u.busy_secs, u.peak)).collect();
    assert_eq!(web, vec![(4, 400, 2), (4, 400, 2)]);
    assert!((r.webservers[0].utilisation - 0.2).abs() < 1e-12);
    let b = &r.backup_servers[0];
    assert_eq!((b.jobs, b.busy_secs, b.peak), (8, 800, 3));
    assert!((b.utilisation - 800.0 / 3000.0).abs() < 1e-12);
    assert_eq!(r.on_demand, WaitStats::default());
}

#[test]
fn hand_computed_night_that_misses() {
    // Same fleet, window only 250 s: the last two jobs of web1 (200–300) miss by 50 s.
    let (mut fleet, workload) = hand_fleet();
    fleet.window = Window::new(1_000, 1_250).unwrap();
    let r = simulate(&fleet, &workload, 1).unwrap();
    assert!(!r.all_nightly_met);
    assert_eq!(r.nightly_met, 6);
    let late: Vec<_> = r.nightly_misses.iter().map(|m| (m.webserver, m.late_by)).collect();
    assert_eq!(late, vec![(ServerId(1), 50), (ServerId(1), 50)]);
    // busy time outside the window does not count: backup 800 − 2 × 50 = 700 of 3 × 250
    assert_eq!(r.backup_servers[0].busy_secs, 700);
    assert!(r.to_string().contains("2 MISSED"));
}

#[test]
fn same_seed_same_report_and_seeds_matter() {
    let fleet = Fleet::uniform(4, 2, Window::new(0, 8 * 3600).unwrap());
    let workload = Workload { contracts_per_webserver: 40, on_demand_per_hour: 30.0, ..Workload::default() };
    let a = simulate(&fleet, &workload, 42).unwrap();
    let b = simulate(&fleet, &workload, 42).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_string(), b.to_string());
    let c = simulate(&fleet, &workload, 43).unwrap();
    assert_ne!(a, c);
    assert!(a.on_demand.count > 0);
}

#[test]
fn report_serialises_and_displays() {
    let fleet = Fleet::uniform(3, 1, Window::new(0, 8 * 3600).unwrap());
    let workload = Workload { contracts_per_webserver: 20, ..Workload::default() };
    let r = simulate(&fleet, &workload, 7).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["nightly_jobs"], 60);
    assert!(json["webservers"][2]["utilisation"].is_f64());
    let text = r.to_string();
    for needle in ["makespan", "on-demand", "restore", "web 2", "backup 0", "60 of 60"] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
}

#[test]
fn invalid_inputs_are_errors() {
    let (mut fleet, workload) = hand_fleet();
    let bad = Workload { change_rate: f64::NAN, ..workload.clone() };
    assert_eq!(simulate(&fleet, &bad, 0), Err(SimError::BadWorkload("change_rate")));
    fleet.webservers[1].backup_server = ServerId(9);
    assert!(matches!(simulate(&fleet, &workload, 0), Err(SimError::UnassignedWebserver { .. })));
    let (mut fleet, workload) = hand_fleet();
    fleet.backup_servers[0].cap = 0;
    assert_eq!(simulate(&fleet, &workload, 0), Err(SimError::Config(ScheduleError::ZeroCap(ServerId(0)))));
}
