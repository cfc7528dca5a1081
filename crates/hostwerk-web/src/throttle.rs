//! Rate limits per client address (login, order, password reminder) and per account (reminder).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The keyed rate limiters of the application.
pub(crate) struct Throttles {
    pub login_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    pub order_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    pub reminder_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    pub reminder_per_account: DefaultKeyedRateLimiter<i64>,
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
    pub fn new() -> Self {
        Self {
            login_per_ip: RateLimiter::keyed(per_minute(30)),
            order_per_ip: RateLimiter::keyed(per_minute(10)),
            reminder_per_ip: RateLimiter::keyed(per_minute(5)),
            reminder_per_account: RateLimiter::keyed(Quota::per_hour(NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN))),
        }
    }

    /// Forgets keys whose limits have fully recovered (called now and then).
    pub fn tidy(&self) {
        self.login_per_ip.retain_recent();
        self.order_per_ip.retain_recent();
        self.reminder_per_ip.retain_recent();
        self.reminder_per_account.retain_recent();
    }
}
