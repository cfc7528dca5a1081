//! Admission control: greedy list scheduling forward from "now" with the estimates, and the rule that decides
//! whether a restore or on-demand backup may start.
//!
//! # The forward simulation
//!
//! `list_schedule` replays exactly what [`crate::Scheduler::tick`] does for nightly jobs, assuming every job
//! takes its estimate: at time `now` and then at every predicted completion, walk the pending jobs in priority
//! order and start each one whose webserver and backup server both have a free slot. A running job is assumed
//! to end at `max(start + estimate, now)` (a job that overran its estimate is assumed to be about to finish).
//!
//! # The admission rule
//!
//! Let `B` be the forward simulation of the current state — running jobs plus queued *nightly* jobs (queued
//! restores and on-demand jobs are left out: they start only when admitted, so they never delay a nightly job
//! that the prediction already counts on). Let `C` be the same simulation with the candidate started now on
//! its two servers. The candidate is admitted iff for every queued nightly job `n`
//!
//! ```text
//! finish_C(n) <= max(deadline(n), finish_B(n))
//! ```
//!
//! When every nightly job fits (`finish_B(n) <= deadline(n)` for all `n`), this is exactly "every nightly job
//! still finishes inside its window". When the nightly load alone already overruns, a candidate is admitted
//! only if it makes no nightly job late that was on time and no late job later; nightly jobs themselves are
//! never refused.
//!
//! With exact estimates this gives a guarantee (tested in `tests/schedule/properties.rs`): if the nightly jobs are all
//! submitted before any other job and the nightly load alone fits, no nightly job ever misses its deadline,
//! however many restores and on-demand backups arrive. Without admissions the state evolves exactly as the
//! prediction says, and every admission keeps the prediction inside the deadlines.

use crate::job::{Secs, Time};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

/// A job that holds one slot on webserver `w` and one on backup server `b` until `end` (dense indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Occupant {
    pub end: Time,
    pub w: usize,
    pub b: usize,
}

/// A queued job for the forward simulation (dense indices); its position in the slice is its priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending {
    pub w: usize,
    pub b: usize,
    pub dur: Secs,
}

/// Greedy list scheduling (see the module docs): the predicted start time of every pending job, in slice
/// order. Runs in O((jobs + events) · log) using one FIFO per server pair: within a pair, a later job can only
/// start once the earlier ones have, so the walk only has to look at the head of each pair.
///
/// A job that can never start (a cap of zero) gets `Time::MAX`.
pub(crate) fn list_schedule(
    now: Time,
    web_caps: &[usize],
    backup_caps: &[usize],
    running: &[Occupant],
    pending: &[Pending],
) -> Vec<Time> {
    let mut free_w: Vec<usize> = web_caps.to_vec();
    let mut free_b: Vec<usize> = backup_caps.to_vec();
    let mut ends: BinaryHeap<Reverse<(Time, usize, usize)>> = BinaryHeap::new();
    for o in running {
        take(&mut free_w, o.w);
        take(&mut free_b, o.b);
        ends.push(Reverse((o.end.max(now), o.w, o.b)));
    }
    let mut by_pair: BTreeMap<(usize, usize), VecDeque<usize>> = BTreeMap::new();
    for (i, p) in pending.iter().enumerate() {
        by_pair.entry((p.w, p.b)).or_default().push_back(i);
    }
    let mut groups: Vec<VecDeque<usize>> = by_pair.into_values().collect();
    let mut starts = vec![Time::MAX; pending.len()];
    let mut remaining = pending.len();
    let mut t = now;
    while remaining > 0 {
        while let Some(&Reverse((end, w, b))) = ends.peek() {
            if end > t {
                break;
            }
            ends.pop();
            free_w[w] += 1;
            free_b[b] += 1;
        }
        let mut heads: BinaryHeap<Reverse<(usize, usize)>> =
            groups.iter().enumerate().filter_map(|(g, q)| q.front().map(|&i| Reverse((i, g)))).collect();
        while let Some(Reverse((i, g))) = heads.pop() {
            let p = pending[i];
            if free_w.get(p.w).copied().unwrap_or(0) == 0 || free_b.get(p.b).copied().unwrap_or(0) == 0 {
                continue; // the pair is full for the rest of this instant
            }
            free_w[p.w] -= 1;
            free_b[p.b] -= 1;
            starts[i] = t;
            ends.push(Reverse((t.saturating_add(p.dur), p.w, p.b)));
            remaining -= 1;
            groups[g].pop_front();
            if let Some(&next) = groups[g].front() {
                heads.push(Reverse((next, g)));
            }
        }
        match ends.peek() {
            Some(&Reverse((end, _, _))) if remaining > 0 => t = end.max(t),
            _ => break,
        }
    }
    starts
}

fn take(free: &mut [usize], i: usize) {
    if let Some(f) = free.get_mut(i) {
        *f = f.saturating_sub(1);
    }
}

/// The state the admission rule looks at: caps, running jobs and the queued nightly jobs in priority order.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot<'a> {
    pub now: Time,
    pub web_caps: &'a [usize],
    pub backup_caps: &'a [usize],
    pub running: Vec<Occupant>,
    pub nightly: Vec<Pending>,
    pub deadlines: Vec<Time>,
}

impl Snapshot<'_> {
    /// Predicted finishes of the queued nightly jobs if nothing else is admitted.
    pub fn baseline(&self) -> Vec<Time> {
        predicted_finishes(self.now, self.web_caps, self.backup_caps, &self.running, &self.nightly)
    }

    /// The admission rule of the module docs; `baseline` comes from [`Snapshot::baseline`].
    pub fn admits(&self, baseline: &[Time], candidate: Occupant) -> bool {
        let mut with: Vec<Occupant> = Vec::with_capacity(self.running.len() + 1);
        with.extend_from_slice(&self.running);
        with.push(candidate);
        let finishes = predicted_finishes(self.now, self.web_caps, self.backup_caps, &with, &self.nightly);
        finishes.iter().zip(self.deadlines.iter().zip(baseline)).all(|(&f, (&d, &base))| f <= d.max(base))
    }
}

/// Predicted finish times of `pending` (start + duration; `Time::MAX` if it never starts).
pub(crate) fn predicted_finishes(
    now: Time,
    web_caps: &[usize],
    backup_caps: &[usize],
    running: &[Occupant],
    pending: &[Pending],
) -> Vec<Time> {
    list_schedule(now, web_caps, backup_caps, running, pending)
        .iter()
        .zip(pending)
        .map(|(&s, p)| s.saturating_add(p.dur))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(w: usize, b: usize, dur: Secs) -> Pending {
        Pending { w, b, dur }
    }

    #[test]
    fn list_schedule_respects_both_caps_and_order() {
        // two webservers (cap 2 each), one backup server (cap 3), four 100 s jobs each
        let mut pending = Vec::new();
        for w in 0..2 {
            for _ in 0..4 {
                pending.push(p(w, 0, 100));
            }
        }
        let s = list_schedule(0, &[2, 2], &[3], &[], &pending);
        assert_eq!(s, vec![0, 0, 100, 100, 0, 100, 200, 200]);
    }

    #[test]
    fn running_jobs_hold_their_slots() {
        let running = [Occupant { end: 50, w: 0, b: 0 }];
        let s = list_schedule(10, &[1], &[1], &running, &[p(0, 0, 5), p(0, 0, 5)]);
        assert_eq!(s, vec![50, 55]);
    }

    #[test]
    fn overrun_running_job_is_assumed_to_end_now() {
        let running = [Occupant { end: 5, w: 0, b: 0 }];
        assert_eq!(list_schedule(10, &[1], &[1], &running, &[p(0, 0, 5)]), vec![10]);
    }

    #[test]
    fn later_job_of_another_pair_may_overtake() {
        // pair (0,0) is busy; a job on pair (1,0) behind it starts at once
        let running = [Occupant { end: 100, w: 0, b: 0 }];
        let s = list_schedule(0, &[1, 1], &[2], &running, &[p(0, 0, 10), p(1, 0, 10)]);
        assert_eq!(s, vec![100, 0]);
    }

    #[test]
    fn zero_cap_never_starts() {
        assert_eq!(list_schedule(0, &[0], &[1], &[], &[p(0, 0, 1)]), vec![Time::MAX]);
    }
}
