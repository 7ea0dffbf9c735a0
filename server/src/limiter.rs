//! Failed sign-ins, counted in memory (per process) so that guessing is
//! slow and nobody can lock out someone else's account:
//! - per (user name, client address): [`FREE_PER_PAIR`] failures are free,
//!   then each further failure doubles the wait (1 s, 2 s, 4 s … up to the
//!   window). Failures from other addresses never block this pair, so a
//!   stranger cannot lock alice out; a success clears the pair.
//! - per client address: [`FREE_PER_ADDR`] failures are free (any names),
//!   then the same doubling. A success does not clear it (one valid account
//!   would otherwise reset an attacker's budget).
//!
//! Counters are forgotten a window after their last failure. The maps hold
//! at most [`MAX_KEYS`] keys each: past that, expired keys go first, then
//! the key idle longest, so memory stays bounded under a flood of random
//! names and addresses. The client address must be trustworthy: see
//! `ff_board_app::api::session` (`FF_BOARD_TRUSTED_PROXIES`).
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Failures of one (user, address) pair before waits start.
pub const FREE_PER_PAIR: u32 = 3;
/// Failures of one address (any user names) before waits start.
pub const FREE_PER_ADDR: u32 = 20;
/// Keys kept per map.
pub const MAX_KEYS: usize = 10_000;
/// The first wait; each further failure doubles it.
const FIRST_WAIT_MS: i64 = 1_000;

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last_ms: i64,
}

pub struct LoginLimiter {
    window_ms: i64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    pairs: HashMap<(String, String), Entry>,
    addrs: HashMap<String, Entry>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(Duration::from_secs(5 * 60))
    }
}

impl LoginLimiter {
    /// Counters forgotten `window` after their last failure; `window` also
    /// caps each wait.
    pub fn new(window: Duration) -> LoginLimiter {
        LoginLimiter { window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX), state: Mutex::default() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Ok` if `user` from `addr` may try to sign in at `now_ms`, else how
    /// long to wait.
    pub fn check(&self, user: &str, addr: &str, now_ms: i64) -> Result<(), Duration> {
        let state = self.state();
        let pair = state.pairs.get(&(user.to_owned(), addr.to_owned())).map_or(0, |e| self.wait(e, FREE_PER_PAIR, now_ms));
        let by_addr = state.addrs.get(addr).map_or(0, |e| self.wait(e, FREE_PER_ADDR, now_ms));
        match pair.max(by_addr) {
            0 => Ok(()),
            ms => Err(Duration::from_millis(ms as u64)),
        }
    }

    /// Milliseconds `e` still has to wait at `now_ms`.
    fn wait(&self, e: &Entry, free: u32, now_ms: i64) -> i64 {
        if e.failures < free || now_ms - e.last_ms >= self.window_ms {
            return 0;
        }
        let doublings = (e.failures - free).min(30);
        let wait = (FIRST_WAIT_MS << doublings).min(self.window_ms);
        (e.last_ms + wait - now_ms).max(0)
    }

    /// Record a failed sign-in of `user` from `addr`.
    pub fn fail(&self, user: &str, addr: &str, now_ms: i64) {
        let window = self.window_ms;
        let mut state = self.state();
        bump(&mut state.pairs, (user.to_owned(), addr.to_owned()), window, now_ms);
        bump(&mut state.addrs, addr.to_owned(), window, now_ms);
    }

    /// A success clears the pair's failures (not the address's).
    pub fn succeed(&self, user: &str, addr: &str) {
        self.state().pairs.remove(&(user.to_owned(), addr.to_owned()));
    }

    /// Keys held (pairs, addresses).
    pub fn len(&self) -> (usize, usize) {
        let s = self.state();
        (s.pairs.len(), s.addrs.len())
    }
}

fn bump<K: std::hash::Hash + Eq + Clone>(map: &mut HashMap<K, Entry>, key: K, window_ms: i64, now_ms: i64) {
    if !map.contains_key(&key) && map.len() >= MAX_KEYS {
        map.retain(|_, e| now_ms - e.last_ms < window_ms);
        if map.len() >= MAX_KEYS {
            if let Some(idle) = map.iter().min_by_key(|(_, e)| e.last_ms).map(|(k, _)| k.clone()) {
                map.remove(&idle);
            }
        }
    }
    let e = map.entry(key).or_insert(Entry { failures: 0, last_ms: now_ms });
    if now_ms - e.last_ms >= window_ms {
        e.failures = 0;
    }
    e.failures += 1;
    e.last_ms = now_ms;
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN5: i64 = 5 * 60 * 1000;

    #[test]
    fn waits_grow_per_pair_and_nobody_else_is_locked_out() {
        let l = LoginLimiter::default();
        let t = 1_000_000;
        for i in 0..FREE_PER_PAIR as i64 {
            assert_eq!(l.check("alice", "10.0.0.1", t + i), Ok(()));
            l.fail("alice", "10.0.0.1", t + i);
        }
        let last = t + FREE_PER_PAIR as i64 - 1;
        assert_eq!(l.check("alice", "10.0.0.1", last), Err(Duration::from_millis(1_000)));
        // alice from her own address, and bob from the attacker's, are free.
        assert_eq!(l.check("alice", "10.0.0.2", last), Ok(()));
        assert_eq!(l.check("bob", "10.0.0.1", last), Ok(()));
        // Each further failure doubles the wait: 2 s, 4 s, 8 s …
        l.fail("alice", "10.0.0.1", last + 1_000);
        assert_eq!(l.check("alice", "10.0.0.1", last + 1_000), Err(Duration::from_millis(2_000)));
        l.fail("alice", "10.0.0.1", last + 3_000);
        assert_eq!(l.check("alice", "10.0.0.1", last + 3_000), Err(Duration::from_millis(4_000)));
        assert_eq!(l.check("alice", "10.0.0.1", last + 7_000), Ok(()));
        // … capped at the window.
        for i in 0..20 {
            l.fail("alice", "10.0.0.1", last + 10_000 + i);
        }
        assert_eq!(l.check("alice", "10.0.0.1", last + 10_019), Err(Duration::from_millis(MIN5 as u64)));
        // A success clears the pair, not the address (25 failures from it).
        l.succeed("alice", "10.0.0.1");
        assert!(l.check("alice", "10.0.0.1", last + 10_020).is_err(), "the address still waits");
        let fresh = LoginLimiter::default();
        for i in 0..5 {
            fresh.fail("alice", "10.0.0.3", t + i);
        }
        assert!(fresh.check("alice", "10.0.0.3", t + 5).is_err());
        fresh.succeed("alice", "10.0.0.3");
        assert_eq!(fresh.check("alice", "10.0.0.3", t + 5), Ok(()), "a success clears the pair");
    }

    #[test]
    fn per_address_budget_across_names() {
        let l = LoginLimiter::default();
        for i in 0..FREE_PER_ADDR as i64 {
            l.fail(&format!("user{i}"), "10.0.0.9", i);
        }
        let now = FREE_PER_ADDR as i64;
        assert!(l.check("someone", "10.0.0.9", now).is_err());
        assert_eq!(l.check("someone", "10.0.0.8", now), Ok(()));
        l.succeed("someone", "10.0.0.9");
        assert!(l.check("someone", "10.0.0.9", now).is_err(), "a success does not reset the address");
        assert_eq!(l.check("someone", "10.0.0.9", MIN5 + now), Ok(()), "forgotten a window later");
    }

    #[test]
    fn bounded_under_a_flood_of_random_keys() {
        let l = LoginLimiter::default();
        for i in 0..MAX_KEYS as i64 + 500 {
            l.fail(&format!("u{i}"), &format!("a{i}"), 1_000 + i);
        }
        let (pairs, addrs) = l.len();
        assert!(pairs <= MAX_KEYS && addrs <= MAX_KEYS, "{pairs} {addrs}");
        // The newest keys are kept.
        let n = MAX_KEYS as i64 + 499;
        l.fail(&format!("u{n}"), &format!("a{n}"), 1_000 + n);
        l.fail(&format!("u{n}"), &format!("a{n}"), 1_000 + n);
        assert!(l.check(&format!("u{n}"), &format!("a{n}"), 1_000 + n).is_err());
    }
}
