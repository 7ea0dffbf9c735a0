//! Failed sign-ins, counted in memory (per process) so that guessing is
//! slow and nobody can lock out someone else's account for long:
//! - an attempt is counted **before** its password is checked (and before
//!   it waits for one of the two hashing slots), as a failure until it
//!   succeeds: a flood of attempts that hang up still spends its budget.
//! - per (user name, client address): [`FREE_PER_PAIR`] failures are free,
//!   then each further failure doubles the wait (1 s, 2 s, 4 s … up to the
//!   window). A success clears the pair.
//! - per client address: [`FREE_PER_ADDR`] failures are free (any names),
//!   then the same doubling. A success takes back only its own count (one
//!   valid account would otherwise reset an attacker's budget).
//! - per account (whatever the address): [`FREE_PER_ACCOUNT`] failures are
//!   free, then the waits double up to [`ACCOUNT_MAX_WAIT`] only, so one
//!   account guessed from many addresses is slowed to about one guess a
//!   minute, while its owner waits a minute at most. An address from
//!   which this user signed in during the last [`KNOWN_FOR`] is not held
//!   by the account limit at all (the pair limit still holds): an attacker
//!   cannot lock a user out of the places they use.
//! - IPv6 addresses count by their /64 (one host usually holds a whole
//!   /64, so single addresses cost an attacker nothing).
//!
//! - across replicas: an attempt these limits admit, from an address the
//!   user is not known at, also takes one from a count kept in the store
//!   ([`SHARED_PER_ACCOUNT`] per [`SHARED_WINDOW`], per bucket of a keyed
//!   hash of the typed name: `ff_board_app::api::session`), so N replicas
//!   do not give an attacker N times the guesses.
//!
//! Counters are forgotten a window after their last failure. The maps hold
//! at most [`MAX_KEYS`] keys each: past that, expired keys go first, then
//! the key idle longest, so memory stays bounded under a flood of random
//! names and addresses. The client address must be trustworthy: see
//! `ff_board_app::api::session` (`FF_BOARD_TRUSTED_PROXIES`).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// Failures of one (user, address) pair before waits start.
pub const FREE_PER_PAIR: u32 = 3;
/// Failures of one address (any user names) before waits start.
pub const FREE_PER_ADDR: u32 = 20;
/// Failures of one account (any addresses) before waits start.
pub const FREE_PER_ACCOUNT: u32 = 10;
/// The longest wait the account limit imposes.
pub const ACCOUNT_MAX_WAIT: Duration = Duration::from_secs(60);
/// How long an address where a user signed in stays exempt from their
/// account limit.
pub const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Sign-in attempts one account may make across every replica in
/// [`SHARED_WINDOW`] (from addresses it is not known at): the store-kept
/// limit beside this process's own (`ff_board_app::api::session`). One
/// replica's own limits let about 17 through in that window; N replicas
/// would let 17 × N without it.
pub const SHARED_PER_ACCOUNT: u64 = 15;
/// The shared limit's window.
pub const SHARED_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Buckets typed user names are counted in (a keyed hash of the name):
/// the store holds at most this many counters however many names an
/// attacker types, and a name that is no account counts like one that is.
pub const SHARED_BUCKETS: u32 = 4096;
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
    accounts: HashMap<String, Entry>,
    /// (user, address) pairs that signed in, with when (last success).
    known: HashMap<(String, String), Entry>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(Duration::from_secs(5 * 60))
    }
}

/// The key an address counts under: itself, or its /64 for IPv6 (an
/// IPv4-mapped IPv6 address counts as the IPv4 address). Text that is no
/// address (e.g. "unknown") is its own key.
pub fn addr_key(addr: &str) -> String {
    match addr.trim().parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(ip) => ip.to_string(),
        Err(_) => addr.to_owned(),
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

    /// Admit one sign-in attempt of `user` from `addr` at `now_ms`, counting
    /// it as a failure until [`LoginLimiter::succeed`] says otherwise; or,
    /// when a limit holds, how long to wait (the refused attempt is not
    /// counted).
    pub fn attempt(&self, user: &str, addr: &str, now_ms: i64) -> Result<(), Duration> {
        let addr = addr_key(addr);
        let pair = (user.to_owned(), addr.clone());
        let window = self.window_ms;
        let mut state = self.state();
        let known = state.known.get(&pair).is_some_and(|e| now_ms - e.last_ms < known_ms());
        let by_pair = state.pairs.get(&pair).map_or(0, |e| wait(e, FREE_PER_PAIR, window, now_ms));
        let by_addr = state.addrs.get(&addr).map_or(0, |e| wait(e, FREE_PER_ADDR, window, now_ms));
        let account_cap = window.min(ACCOUNT_MAX_WAIT.as_millis() as i64);
        let by_account =
            if known { 0 } else { state.accounts.get(user).map_or(0, |e| wait(e, FREE_PER_ACCOUNT, account_cap, now_ms)) };
        match by_pair.max(by_addr).max(by_account) {
            0 => {
                bump(&mut state.pairs, pair, window, now_ms);
                bump(&mut state.addrs, addr, window, now_ms);
                if !known {
                    bump(&mut state.accounts, user.to_owned(), window, now_ms);
                }
                Ok(())
            }
            ms => Err(Duration::from_millis(ms as u64)),
        }
    }

    /// The attempt admitted for `user` from `addr` succeeded: the pair is
    /// cleared, the address and account get their count back, and the
    /// address becomes one this user is known at.
    pub fn succeed(&self, user: &str, addr: &str, now_ms: i64) {
        let addr = addr_key(addr);
        let pair = (user.to_owned(), addr.clone());
        let mut state = self.state();
        state.pairs.remove(&pair);
        if let Some(e) = state.addrs.get_mut(&addr) {
            e.failures = e.failures.saturating_sub(1);
        }
        if let Some(e) = state.accounts.get_mut(user) {
            e.failures = e.failures.saturating_sub(1);
        }
        let known = known_ms();
        bump(&mut state.known, pair, known, now_ms);
    }

    /// Whether `user` signed in from `addr` within [`KNOWN_FOR`] (on this replica).
    pub fn known(&self, user: &str, addr: &str, now_ms: i64) -> bool {
        let pair = (user.to_owned(), addr_key(addr));
        self.state().known.get(&pair).is_some_and(|e| now_ms - e.last_ms < known_ms())
    }

    /// Keys held (pairs, addresses, accounts).
    pub fn len(&self) -> (usize, usize, usize) {
        let s = self.state();
        (s.pairs.len(), s.addrs.len(), s.accounts.len())
    }
}

fn known_ms() -> i64 {
    KNOWN_FOR.as_millis() as i64
}

/// Milliseconds `e` still has to wait at `now_ms`: none for the first
/// `free` failures, then 1 s doubling per failure up to `cap_ms`.
fn wait(e: &Entry, free: u32, cap_ms: i64, now_ms: i64) -> i64 {
    if e.failures < free {
        return 0;
    }
    let doublings = (e.failures - free).min(30);
    let wait = (FIRST_WAIT_MS << doublings).min(cap_ms);
    (e.last_ms + wait - now_ms).max(0)
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

    /// `n` admitted attempts of `user` from `addr`, starting at `t`, 1 ms apart.
    fn fail_n(l: &LoginLimiter, user: &str, addr: &str, t: i64, n: i64) {
        for i in 0..n {
            assert_eq!(l.attempt(user, addr, t + i), Ok(()), "attempt {i} of {user} from {addr}");
        }
    }

    #[test]
    fn waits_grow_per_pair_and_nobody_else_is_locked_out() {
        let l = LoginLimiter::default();
        let t = 1_000_000;
        fail_n(&l, "alice", "10.0.0.1", t, FREE_PER_PAIR as i64);
        let last = t + FREE_PER_PAIR as i64 - 1;
        assert_eq!(l.attempt("alice", "10.0.0.1", last), Err(Duration::from_millis(1_000)));
        // alice from her own address, and bob from the attacker's, are free.
        assert_eq!(l.attempt("alice", "10.0.0.2", last), Ok(()));
        assert_eq!(l.attempt("bob", "10.0.0.1", last), Ok(()));
        // A refused attempt is not counted; each admitted one doubles the wait.
        assert_eq!(l.attempt("alice", "10.0.0.1", last + 1_000), Ok(()));
        assert_eq!(l.attempt("alice", "10.0.0.1", last + 1_000), Err(Duration::from_millis(2_000)));
        assert_eq!(l.attempt("alice", "10.0.0.1", last + 3_000), Ok(()));
        assert_eq!(l.attempt("alice", "10.0.0.1", last + 3_000), Err(Duration::from_millis(4_000)));
        // A success clears the pair.
        l.succeed("alice", "10.0.0.1", last + 3_000);
        assert_eq!(l.attempt("alice", "10.0.0.1", last + 3_001), Ok(()));
    }

    #[test]
    fn per_address_budget_across_names() {
        let l = LoginLimiter::default();
        for i in 0..FREE_PER_ADDR as i64 {
            assert_eq!(l.attempt(&format!("user{i}"), "10.0.0.9", i), Ok(()));
        }
        let now = FREE_PER_ADDR as i64;
        assert!(l.attempt("someone", "10.0.0.9", now).is_err());
        assert_eq!(l.attempt("someone", "10.0.0.8", now), Ok(()));
        // A success takes back its own count only: the address still waits.
        l.succeed("someone", "10.0.0.8", now);
        assert!(l.attempt("someone", "10.0.0.9", now).is_err());
        assert_eq!(l.attempt("someone", "10.0.0.9", MIN5 + now), Ok(()), "forgotten a window later");
    }

    #[test]
    fn one_account_from_many_addresses_is_slowed_but_never_locked_for_long() {
        let l = LoginLimiter::default();
        let t = 5_000_000;
        for i in 0..FREE_PER_ACCOUNT as i64 {
            assert_eq!(l.attempt("ada", &format!("10.1.0.{i}"), t + i), Ok(()));
        }
        let last = t + FREE_PER_ACCOUNT as i64 - 1;
        // A fresh address gets no free guesses at ada once the account is hot.
        assert_eq!(l.attempt("ada", "10.1.1.1", last), Err(Duration::from_millis(1_000)));
        // Other accounts from those addresses are untouched.
        assert_eq!(l.attempt("bob", "10.1.1.1", last), Ok(()));
        // The wait doubles per admitted guess, but never past ACCOUNT_MAX_WAIT.
        let mut now = last;
        for i in 0..20 {
            let wait = match l.attempt("ada", &format!("10.1.2.{i}"), now) {
                Ok(()) => continue,
                Err(w) => w,
            };
            assert!(wait <= ACCOUNT_MAX_WAIT, "{wait:?}");
            now += wait.as_millis() as i64;
        }
        assert_eq!(l.attempt("ada", "10.1.3.3", now), Err(ACCOUNT_MAX_WAIT), "saturated at the cap");
        assert_eq!(l.attempt("ada", "10.1.3.3", now + ACCOUNT_MAX_WAIT.as_millis() as i64), Ok(()), "then free again");
    }

    #[test]
    fn a_known_address_is_not_held_by_the_account_limit() {
        let l = LoginLimiter::default();
        assert_eq!(l.attempt("ada", "192.0.2.7", 0), Ok(()));
        l.succeed("ada", "192.0.2.7", 0);
        for i in 0..FREE_PER_ACCOUNT as i64 + 5 {
            let _ = l.attempt("ada", &format!("10.2.0.{i}"), 10 + i);
        }
        assert!(l.attempt("ada", "10.2.9.9", 100).is_err(), "strangers wait");
        assert_eq!(l.attempt("ada", "192.0.2.7", 100), Ok(()), "ada where she signed in before does not");
        // Until KNOWN_FOR has passed.
        let later = KNOWN_FOR.as_millis() as i64 + 1;
        for i in 0..FREE_PER_ACCOUNT as i64 + 5 {
            let _ = l.attempt("ada", &format!("10.3.0.{i}"), later + i);
        }
        assert!(l.attempt("ada", "192.0.2.7", later + 20).is_err());
    }

    #[test]
    fn ipv6_counts_by_its_64() {
        assert_eq!(addr_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(addr_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_eq!(addr_key("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(addr_key("10.0.0.1"), "10.0.0.1");
        assert_eq!(addr_key("unknown"), "unknown");
        let l = LoginLimiter::default();
        for i in 0..FREE_PER_ADDR as i64 {
            assert_eq!(l.attempt(&format!("u{i}"), &format!("2001:db8:1:2::{i:x}"), i), Ok(()));
        }
        assert!(l.attempt("next", "2001:db8:1:2:9::9", 30).is_err(), "a /64 is one address");
        assert_eq!(l.attempt("next", "2001:db8:1:3::1", 30), Ok(()), "the next /64 is another");
    }

    #[test]
    fn bounded_under_a_flood_of_random_keys() {
        let l = LoginLimiter::default();
        for i in 0..MAX_KEYS as i64 + 500 {
            let _ = l.attempt(&format!("u{i}"), &format!("a{i}"), 1_000 + i);
        }
        let (pairs, addrs, accounts) = l.len();
        assert!(pairs <= MAX_KEYS && addrs <= MAX_KEYS && accounts <= MAX_KEYS, "{pairs} {addrs} {accounts}");
        // The newest keys are kept.
        let n = MAX_KEYS as i64 + 499;
        let _ = l.attempt(&format!("u{n}"), &format!("a{n}"), 1_000 + n);
        let _ = l.attempt(&format!("u{n}"), &format!("a{n}"), 1_000 + n);
        assert!(l.attempt(&format!("u{n}"), &format!("a{n}"), 1_000 + n).is_err());
    }
}
