//! Which users' processes are limited, and how: per uid a user name and a limit, plus the grace period.

use std::collections::HashMap;
use std::time::Duration;

use hostwerk_domain::process_limit::ProcessLimit;

/// How long SIGKILL waits after SIGTERM unless configured otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The limit the enforcer applies: off, or a wall-clock duration.
///
/// In production it comes from a [`ProcessLimit`] (off or 180–43200 s) through `From`. Tests need limits of
/// a few seconds; [`EnforcedLimit::for_tests`] is the one explicit way to get a limit below the policy's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnforcedLimit(Option<Duration>);

impl EnforcedLimit {
    /// No limit: the user's processes are never touched.
    pub const OFF: Self = Self(None);

    /// **For tests only**: any duration, bypassing the 180 s minimum of [`ProcessLimit`].
    pub fn for_tests(limit: Duration) -> Self {
        Self(Some(limit))
    }

    /// The wall-clock limit, `None` when off.
    pub fn duration(self) -> Option<Duration> {
        self.0
    }
}

impl From<ProcessLimit> for EnforcedLimit {
    fn from(limit: ProcessLimit) -> Self {
        match limit {
            ProcessLimit::Off => Self(None),
            ProcessLimit::Seconds(s) => Self(Some(Duration::from_secs(u64::from(s)))),
        }
    }
}

/// The limit of one system user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLimit {
    /// The user name, for reports.
    pub name: String,
    pub limit: EnforcedLimit,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("user {name:?} is root (uid 0); root's processes are never limited")]
    Root { name: String },
    #[error("no such user: {0:?}")]
    UnknownUser(String),
    #[error("looking up user {name:?} failed: {source}")]
    Lookup { name: String, source: nix::Error },
    #[error("users {first:?} and {second:?} are the same uid {uid}")]
    DuplicateUid { uid: u32, first: String, second: String },
}

/// The complete set of limits; a uid that is not in it is never touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    limits: HashMap<u32, UserLimit>,
    grace: Duration,
}

impl Policy {
    /// Checks and builds a policy. Root (uid 0) is rejected even with the limit off.
    pub fn new(limits: HashMap<u32, UserLimit>, grace: Duration) -> Result<Self, PolicyError> {
        if let Some(root) = limits.get(&0) {
            return Err(PolicyError::Root { name: root.name.clone() });
        }
        Ok(Self { limits, grace })
    }

    /// Builds a policy from user names, resolving each to its uid.
    pub fn from_names<N: Into<String>>(
        users: impl IntoIterator<Item = (N, EnforcedLimit)>,
        grace: Duration,
    ) -> Result<Self, PolicyError> {
        let mut limits = HashMap::new();
        for (name, limit) in users {
            let name = name.into();
            let uid = resolve_user(&name)?;
            if uid == 0 {
                return Err(PolicyError::Root { name });
            }
            if let Some(other) = limits.get(&uid) {
                let UserLimit { name: first, .. } = other;
                return Err(PolicyError::DuplicateUid { uid, first: first.clone(), second: name });
            }
            limits.insert(uid, UserLimit { name, limit });
        }
        Self::new(limits, grace)
    }

    /// The empty policy: nothing is limited.
    pub fn empty() -> Self {
        Self { limits: HashMap::new(), grace: DEFAULT_GRACE }
    }

    /// The user and limit for a uid, if listed.
    pub fn user(&self, uid: u32) -> Option<&UserLimit> {
        self.limits.get(&uid)
    }

    /// The limit in force for a uid: `None` when the uid is unlisted, root or off.
    pub fn limit(&self, uid: u32) -> Option<Duration> {
        if uid == 0 {
            return None;
        }
        self.limits.get(&uid).and_then(|u| u.limit.duration())
    }

    /// Time between SIGTERM and SIGKILL.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// The shortest limit in force, if any.
    pub fn shortest_limit(&self) -> Option<Duration> {
        self.limits.values().filter_map(|u| u.limit.duration()).min()
    }
}

/// The uid of a user name (`getpwnam_r`, so NSS sources such as LDAP count too).
pub fn resolve_user(name: &str) -> Result<u32, PolicyError> {
    match nix::unistd::User::from_name(name) {
        Ok(Some(user)) => Ok(user.uid.as_raw()),
        Ok(None) => Err(PolicyError::UnknownUser(name.to_owned())),
        Err(source) => Err(PolicyError::Lookup { name: name.to_owned(), source }),
    }
}

/// The uid and primary gid of a user name (restored files are given to the contract's system user).
pub fn resolve_owner(name: &str) -> Result<(u32, u32), PolicyError> {
    match nix::unistd::User::from_name(name) {
        Ok(Some(user)) => Ok((user.uid.as_raw(), user.gid.as_raw())),
        Ok(None) => Err(PolicyError::UnknownUser(name.to_owned())),
        Err(source) => Err(PolicyError::Lookup { name: name.to_owned(), source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, limit: EnforcedLimit) -> UserLimit {
        UserLimit { name: name.into(), limit }
    }

    #[test]
    fn limits_come_from_the_domain_type() {
        assert_eq!(EnforcedLimit::from(ProcessLimit::Off), EnforcedLimit::OFF);
        assert_eq!(EnforcedLimit::from(ProcessLimit::seconds(180).unwrap()).duration(), Some(Duration::from_secs(180)));
        assert_eq!(EnforcedLimit::for_tests(Duration::from_secs(2)).duration(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn root_is_rejected() {
        let limits = HashMap::from([(0, user("root", EnforcedLimit::OFF))]);
        assert!(matches!(Policy::new(limits, DEFAULT_GRACE), Err(PolicyError::Root { .. })));
        let err = Policy::from_names([("root", EnforcedLimit::from(ProcessLimit::Off))], DEFAULT_GRACE).unwrap_err();
        assert!(matches!(err, PolicyError::Root { .. }), "{err}");
    }

    #[test]
    fn names_resolve() {
        assert_eq!(resolve_user("root").unwrap(), 0);
        assert!(matches!(resolve_user("no-such-user-hw"), Err(PolicyError::UnknownUser(_))));
        assert!(matches!(
            Policy::from_names([("no-such-user-hw", EnforcedLimit::OFF)], DEFAULT_GRACE),
            Err(PolicyError::UnknownUser(_))
        ));
    }

    #[test]
    fn lookups() {
        let minute = EnforcedLimit::for_tests(Duration::from_secs(60));
        let limits = HashMap::from([(1000, user("a", minute)), (1001, user("b", EnforcedLimit::OFF))]);
        let p = Policy::new(limits, Duration::from_secs(1)).unwrap();
        assert_eq!(p.limit(1000), Some(Duration::from_secs(60)));
        assert_eq!(p.limit(1001), None);
        assert_eq!(p.limit(1002), None);
        assert_eq!(p.limit(0), None);
        assert_eq!(p.user(1001).unwrap().name, "b");
        assert_eq!(p.grace(), Duration::from_secs(1));
        assert_eq!(p.shortest_limit(), Some(Duration::from_secs(60)));
        assert_eq!(Policy::empty().shortest_limit(), None);
    }
}
