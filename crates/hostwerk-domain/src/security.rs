//! Security policies without I/O: how long a login is refused after consecutive failures.

/// Seconds during which no further login attempt is evaluated after `failures` consecutive failures:
/// none for the first three, then 1 s, doubling, capped at 60 s.
pub fn login_lockout_secs(failures: i64) -> i64 {
    if failures < 3 {
        0
    } else {
        let exp = (failures - 3).min(6) as u32;
        (1i64 << exp).min(60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps() {
        let delays: Vec<i64> = (0..12).map(login_lockout_secs).collect();
        assert_eq!(delays, vec![0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(login_lockout_secs(i64::MAX), 60);
    }
}
