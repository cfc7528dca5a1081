//! Rate limits per client address (login, order, password reminder), per account (reminder) and per staff
//! member (phone checks).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The keyed rate limiters of the application.
pub(crate) struct Throttles {
    pub login_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    pub order_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    pub reminder_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    pub reminder_per_account: DefaultKeyedRateLimiter<i64>,
    /// Phone checks per staff member (by staff id).
    pub phone_checks_per_staff: SlidingWindow,
    /// Mail-client autoconfiguration requests (Thunderbird, Outlook) per client address.
    pub autoconfig_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Blog comments per client address.
    pub comments_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Failed logins of names that belong to no account, locked out on the same schedule as real accounts
    /// (whose failures the database keeps), so that the answers do not tell the two apart.
    pub unknown_logins: UnknownLogins,
}

/// Failures and lock-outs of login names without an account, in memory (at most [`UnknownLogins::CAP`]
/// names; a name that does not fit is never locked, like a first failure).
pub(crate) struct UnknownLogins {
    names: Mutex<HashMap<String, (i64, i64)>>,
}

impl UnknownLogins {
    pub const CAP: usize = 100_000;
    /// A name's failures are forgotten this long after its lock-out ended.
    const FORGET_SECS: i64 = 86_400;

    fn new() -> Self {
        Self { names: Mutex::new(HashMap::new()) }
    }

    /// (failures so far, locked until as a Unix time) of `name`.
    pub fn get(&self, name: &str) -> (i64, i64) {
        let names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        names.get(name).copied().unwrap_or((0, 0))
    }

    /// Records a failure of `name` at `now` with the lock-out `lockout(failures)` seconds.
    pub fn failed(&self, name: &str, now: i64, lockout: impl Fn(i64) -> i64) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.len() >= Self::CAP && !names.contains_key(name) {
            names.retain(|_, (_, until)| *until + Self::FORGET_SECS > now);
            if names.len() >= Self::CAP {
                return;
            }
        }
        let entry = names.entry(name.to_owned()).or_insert((0, 0));
        entry.0 += 1;
        entry.1 = now + lockout(entry.0);
    }

    fn tidy(&self, now: i64) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        names.retain(|_, (_, until)| *until + Self::FORGET_SECS > now);
    }
}

/// At most `limit` events per key within any `window`: an exact sliding window (a token bucket would let a
/// burst plus its refill through within one window).
pub(crate) struct SlidingWindow {
    limit: usize,
    window: Duration,
    hits: Mutex<HashMap<i64, VecDeque<Instant>>>,
}

impl SlidingWindow {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self { limit: limit.max(1) as usize, window, hits: Mutex::new(HashMap::new()) }
    }

    /// Counts an event for `key`; `Err(seconds to wait)` when the key already had `limit` within the window.
    pub fn check(&self, key: i64) -> Result<(), i64> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let list = hits.entry(key).or_default();
        while list.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            list.pop_front();
        }
        if list.len() >= self.limit {
            let oldest = list.front().copied().unwrap_or(now);
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(i64::try_from(wait.as_secs()).unwrap_or(i64::MAX).max(1));
        }
        list.push_back(now);
        Ok(())
    }

    fn tidy(&self) {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        hits.retain(|_, list| list.back().is_some_and(|t| now.duration_since(*t) < self.window));
    }
}

impl std::fmt::Debug for Throttles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Throttles")
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Throttles {
    /// The limits, with `phone_checks_per_10min` checks per staff member in any ten minutes and
    /// `comments_per_minute` blog comments per client address.
    pub fn new(phone_checks_per_10min: u32, comments_per_minute: u32) -> Self {
        Self {
            login_per_ip: RateLimiter::keyed(per_minute(30)),
            order_per_ip: RateLimiter::keyed(per_minute(10)),
            reminder_per_ip: RateLimiter::keyed(per_minute(5)),
            reminder_per_account: RateLimiter::keyed(Quota::per_hour(NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN))),
            phone_checks_per_staff: SlidingWindow::new(phone_checks_per_10min, Duration::from_secs(600)),
            autoconfig_per_ip: RateLimiter::keyed(per_minute(60)),
            comments_per_ip: RateLimiter::keyed(per_minute(comments_per_minute)),
            unknown_logins: UnknownLogins::new(),
        }
    }

    /// Forgets keys whose limits have fully recovered (called now and then).
    pub fn tidy(&self) {
        self.login_per_ip.retain_recent();
        self.order_per_ip.retain_recent();
        self.reminder_per_ip.retain_recent();
        self.reminder_per_account.retain_recent();
        self.autoconfig_per_ip.retain_recent();
        self.comments_per_ip.retain_recent();
        self.phone_checks_per_staff.tidy();
        self.unknown_logins.tidy(chrono::Utc::now().timestamp());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_allows_exactly_the_limit() {
        let w = SlidingWindow::new(3, Duration::from_millis(200));
        assert!((0..3).all(|_| w.check(7).is_ok()));
        assert!(w.check(7).is_err(), "the fourth within the window");
        assert!(w.check(8).is_ok(), "keys are apart");
        std::thread::sleep(Duration::from_millis(220));
        assert!(w.check(7).is_ok(), "the window slid on");
    }
}
