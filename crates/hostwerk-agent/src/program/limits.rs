//! From the panel's list of limits to an enforceable [`Policy`]: names resolved to uids, root and unknown
//! users skipped (each problem logged once while it lasts), and the test-only short limits applied.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use hostwerk_protocol::limits::AgentLimits;
use tracing::{error, info, warn};

use crate::{resolve_user, EnforcedLimit, Policy, PolicyError, UserLimit, DEFAULT_GRACE};

/// Bounds of the panel's poll interval; the upper one is the promise that a change applies within 10 s.
pub const MIN_POLL: Duration = Duration::from_secs(1);
pub const MAX_POLL: Duration = Duration::from_secs(10);
pub const DEFAULT_POLL: Duration = Duration::from_secs(5);

/// How often to ask the panel again, as the document says (bounded).
pub fn poll_interval(doc: &AgentLimits) -> Duration {
    doc.poll_seconds.map_or(DEFAULT_POLL, |s| Duration::from_secs(s).clamp(MIN_POLL, MAX_POLL))
}

/// A policy and, per user name, its uid and limit (for the log).
#[derive(Debug, Clone)]
pub struct Built {
    pub policy: Policy,
    pub users: BTreeMap<String, (u32, EnforcedLimit)>,
}

impl Built {
    pub fn empty() -> Built {
        Built { policy: Policy::empty(), users: BTreeMap::new() }
    }
}

#[derive(Debug)]
pub struct PolicyBuilder {
    grace: Option<Duration>,
    test_limit: Option<u64>,
    /// Problems already logged (user names, or "limit:<user>:<text>"), so each is logged once while it lasts.
    logged: HashSet<String>,
}

impl PolicyBuilder {
    pub fn new(grace: Option<Duration>, test_limit: Option<u64>) -> PolicyBuilder {
        PolicyBuilder { grace, test_limit, logged: HashSet::new() }
    }

    pub fn build(&mut self, doc: &AgentLimits) -> Built {
        let grace = self.grace.or(doc.grace_seconds.map(|s| Duration::from_secs(s.min(3600)))).unwrap_or(DEFAULT_GRACE);
        let mut by_uid: BTreeMap<u32, UserLimit> = BTreeMap::new();
        let mut users = BTreeMap::new();
        let mut problems = HashSet::new();
        for entry in &doc.users {
            let name = entry.system_user.as_str();
            let limit = match entry.limit() {
                Ok(l) => l,
                Err(e) => {
                    let key = format!("limit:{name}:{}", entry.limit);
                    if !self.logged.contains(&key) {
                        warn!("the panel's limit {:?} for {name} is not valid ({e}); user skipped", entry.limit);
                    }
                    problems.insert(key);
                    continue;
                }
            };
            let uid = match resolve_user(name) {
                Ok(0) => Err(format!("system user {name} is root; root's processes are never limited")),
                Ok(uid) => Ok(uid),
                Err(PolicyError::UnknownUser(_)) => {
                    Err(format!("system user {name} does not exist on this machine; skipped until it does"))
                }
                Err(e) => Err(format!("{e}; user skipped")),
            };
            let uid = match uid {
                Ok(uid) => uid,
                Err(message) => {
                    if !self.logged.contains(name) {
                        warn!("{message}");
                    }
                    problems.insert(name.to_owned());
                    continue;
                }
            };
            if let Some(first) = by_uid.get(&uid) {
                let key = format!("dup:{name}");
                if !self.logged.contains(&key) {
                    warn!("system users {} and {name} are the same uid {uid}; {name} skipped", first.name);
                }
                problems.insert(key);
                continue;
            }
            let limit = match (EnforcedLimit::from(limit), self.test_limit) {
                // Test-only override (see --test-limit-seconds); off stays off.
                (l, Some(secs)) if l.duration().is_some() => EnforcedLimit::for_tests(Duration::from_secs(secs)),
                (l, _) => l,
            };
            by_uid.insert(uid, UserLimit { name: name.to_owned(), limit });
            users.insert(name.to_owned(), (uid, limit));
        }
        self.logged = problems;
        match Policy::new(by_uid.into_iter().collect(), grace) {
            Ok(policy) => Built { policy, users },
            // Unreachable (root is filtered above), but never enforce a half-checked policy.
            Err(e) => {
                error!("the limits from the panel make no valid policy: {e}");
                Built::empty()
            }
        }
    }

    /// Logs each user whose limit changed between two policies.
    pub fn log_changes(&self, old: &Built, new: &Built) {
        for (name, (uid, limit)) in &new.users {
            if old.users.get(name) != Some(&(*uid, *limit)) {
                match limit.duration() {
                    Some(d) => info!("limit for {name} (uid {uid}) is now {} s", d.as_secs()),
                    None => info!("limit for {name} (uid {uid}) is now off"),
                }
            }
        }
        for name in old.users.keys().filter(|n| !new.users.contains_key(*n)) {
            info!("limit for {name} lifted: no longer listed by the panel");
        }
        if old.policy.grace() != new.policy.grace() || old.users.is_empty() && !new.users.is_empty() {
            info!("grace between SIGTERM and SIGKILL: {} s", new.policy.grace().as_secs());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hostwerk_protocol::limits::AgentUser;

    fn doc(users: &[(&str, &str)]) -> AgentLimits {
        AgentLimits {
            node: "web001".into(),
            poll_seconds: Some(5),
            grace_seconds: Some(5),
            users: users.iter().map(|(u, l)| AgentUser { system_user: (*u).into(), limit: (*l).into() }).collect(),
        }
    }

    #[test]
    fn the_poll_interval_is_bounded() {
        assert_eq!(poll_interval(&doc(&[])), Duration::from_secs(5));
        let mut d = doc(&[]);
        d.poll_seconds = Some(60);
        assert_eq!(poll_interval(&d), MAX_POLL);
        d.poll_seconds = Some(0);
        assert_eq!(poll_interval(&d), MIN_POLL);
        d.poll_seconds = None;
        assert_eq!(poll_interval(&d), DEFAULT_POLL);
    }

    #[test]
    fn policies_skip_what_cannot_be_enforced() {
        // "daemon" exists on every Debian system; root and unknown users are skipped, bad limits too.
        let d = doc(&[("daemon", "180"), ("root", "180"), ("no-such-user-hw", "180"), ("bin", "soon")]);
        let mut b = PolicyBuilder::new(None, None);
        let built = b.build(&d);
        let uid = resolve_user("daemon").unwrap();
        assert_eq!(built.policy.limit(uid), Some(Duration::from_secs(180)));
        assert_eq!(built.policy.limit(0), None);
        assert_eq!(built.users.len(), 1);
        assert_eq!(built.policy.grace(), Duration::from_secs(5));
        assert_eq!(b.logged.len(), 3);

        let mut t = PolicyBuilder::new(Some(Duration::from_secs(1)), Some(2));
        let built = t.build(&doc(&[("daemon", "3600"), ("bin", "off")]));
        assert_eq!(built.policy.limit(uid), Some(Duration::from_secs(2)));
        assert_eq!(built.policy.limit(resolve_user("bin").unwrap()), None);
        assert!(built.policy.user(resolve_user("bin").unwrap()).is_some());
        assert_eq!(built.policy.grace(), Duration::from_secs(1));
    }
}
