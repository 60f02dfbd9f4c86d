//! The limit on failed dashboard sign-ins. Two rules, both about where the guesses come from, so
//! that nobody can lock the real owner out by guessing wrong on purpose:
//! - **per client network and account**: after [`PAIR_FAILURES`] wrong keys for one account
//!   from one network (an IPv4 address, or an IPv6 /64), that network may not try that account
//!   again until [`PAIR_WINDOW`] has passed;
//! - **per client network**: after [`FREE_FAILURES`] wrong keys for any accounts, each further
//!   attempt from that network waits twice as long as the one before (from [`BASE_DELAY`] up to
//!   [`MAX_DELAY`]), so spraying guesses over many account ids is slowed too.
//!
//! On a shared store (many nodes) every failure is also written to the store, and the same two
//! rules are read from there as well ([`shared_wait`]), so guesses spread over the nodes count
//! as one. The in-process tables stay in front: they answer without a query and survive the
//! database being away.
//!
//! A correct key from a network with no failures always signs in. Memory is bounded: at most
//! [`MAX_ENTRIES`] networks and as many pairs are remembered, and an entry is only forgotten once
//! its rule no longer holds it, never to make room: a flood of failures from fresh addresses
//! cannot wash out what is blocked (when both tables are full of live entries, further fresh
//! networks' failures go unrecorded, and a warning is logged).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong keys for one account from one network before that pair is refused.
pub const PAIR_FAILURES: u32 = 5;
/// How long a refused pair stays refused (from its first failure).
pub const PAIR_WINDOW: Duration = Duration::from_secs(300);
/// Wrong keys from one network before each further attempt has to wait.
pub const FREE_FAILURES: u32 = 3;
/// The first wait; each further failure doubles it.
pub const BASE_DELAY: Duration = Duration::from_secs(1);
/// The longest wait; a network with no failure for this long is forgotten.
pub const MAX_DELAY: Duration = Duration::from_secs(900);
/// Networks (and, separately, network-account pairs) remembered at most.
pub const MAX_ENTRIES: usize = 100_000;
/// Expired entries are swept at most this often when a table is full.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Where sign-ins come from: an IPv4 address or an IPv6 /64 (one host's usual allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    V4(u32),
    V6(u64),
    /// No client address was known.
    Unknown,
}

impl Network {
    /// The network of `ip`; IPv4-mapped IPv6 addresses count as their IPv4 address.
    pub fn of(ip: Option<IpAddr>) -> Self {
        match ip {
            Some(IpAddr::V4(v4)) => Network::V4(v4.into()),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => Network::V4(v4.into()),
                None => Network::V6((u128::from(v6) >> 64) as u64),
            },
            None => Network::Unknown,
        }
    }
}

impl Network {
    /// The network as the store keeps it (`v4:…`, `v6:…`, `unknown`).
    pub fn key(self) -> String {
        match self {
            Network::V4(v4) => format!("v4:{}", std::net::Ipv4Addr::from(v4)),
            Network::V6(prefix) => format!("v6:{prefix:016x}"),
            Network::Unknown => "unknown".to_string(),
        }
    }
}

/// How long a network must wait before it may try an account, by the failures the store
/// holds (the same two rules as the in-process tables; `now` in unix seconds).
pub fn shared_wait(failures: &pixelway_store::SignInFailures, now: i64) -> Option<Duration> {
    let pair = failures
        .pair_first
        .filter(|_| failures.pair >= PAIR_FAILURES)
        .map(|first| PAIR_WINDOW.as_secs() as i64 - (now - first))
        .filter(|left| *left > 0)
        .map(|left| Duration::from_secs(left as u64));
    let backoff = Backoff {
        failures: failures.network,
        last: Instant::now(),
    };
    let network = failures
        .network_last
        .map(|last| backoff.delay().as_secs() as i64 - (now - last))
        .filter(|left| *left > 0)
        .map(|left| Duration::from_secs(left as u64));
    pair.max(network)
}

/// Failed sign-ins, by network and by network and account.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    tables: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    networks: HashMap<Network, Backoff>,
    pairs: HashMap<(Network, String), Window>,
    last_sweep: Option<Instant>,
}

/// A network's failures, for its backoff.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    last: Instant,
}

impl Backoff {
    /// How long after `last` the next attempt must wait.
    fn delay(&self) -> Duration {
        let over = self.failures.saturating_sub(FREE_FAILURES);
        if over == 0 {
            return Duration::ZERO;
        }
        BASE_DELAY
            .saturating_mul(1u32 << (over - 1).min(20))
            .min(MAX_DELAY)
    }

    fn wait(&self, now: Instant) -> Option<Duration> {
        (self.last + self.delay())
            .checked_duration_since(now)
            .filter(|d| !d.is_zero())
    }

    fn forgotten(&self, now: Instant) -> bool {
        now.duration_since(self.last) >= MAX_DELAY
    }
}

/// A pair's failures in its window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Window {
    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.started) >= PAIR_WINDOW
    }

    fn wait(&self, now: Instant) -> Option<Duration> {
        (self.failures >= PAIR_FAILURES && !self.expired(now))
            .then(|| PAIR_WINDOW - now.duration_since(self.started))
    }
}

impl SignInLimiter {
    /// How long `network` must wait before it may try `account` (`None`: it may now).
    pub fn wait(&self, network: Network, account: &str) -> Option<Duration> {
        self.wait_at(network, account, Instant::now())
    }

    /// Counts a wrong key for `account` from `network`.
    /// Says whether it was recorded (not when both tables are full of live entries): only a
    /// recorded failure is shared through the store, so a flood of fresh addresses grows the
    /// store's table no more than this one.
    pub fn failed(&self, network: Network, account: &str) -> bool {
        self.failed_at(network, account, Instant::now())
    }

    /// A correct key: the pair's failures are forgotten (the network's backoff stays).
    pub fn succeeded(&self, network: Network, account: &str) {
        let mut tables = self.lock();
        tables.pairs.remove(&(network, account.to_string()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // Counting failures cannot leave the tables half-written: a poisoned lock is fine.
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_at(&self, network: Network, account: &str, now: Instant) -> Option<Duration> {
        let tables = self.lock();
        let pair = tables
            .pairs
            .get(&(network, account.to_string()))
            .and_then(|w| w.wait(now));
        let backoff = tables.networks.get(&network).and_then(|b| b.wait(now));
        pair.max(backoff)
    }

    fn failed_at(&self, network: Network, account: &str, now: Instant) -> bool {
        let mut tables = self.lock();
        tables.make_room(now);
        let network_room = tables.networks.len() < MAX_ENTRIES;
        let pair_room = tables.pairs.len() < MAX_ENTRIES;
        let mut unrecorded = false;
        match tables.networks.get_mut(&network) {
            Some(backoff) if backoff.forgotten(now) => {
                *backoff = Backoff {
                    failures: 1,
                    last: now,
                }
            }
            Some(backoff) => {
                backoff.failures = backoff.failures.saturating_add(1);
                backoff.last = now;
            }
            None if network_room => {
                let first = Backoff {
                    failures: 1,
                    last: now,
                };
                tables.networks.insert(network, first);
            }
            None => unrecorded = true,
        }
        let key = (network, account.to_string());
        match tables.pairs.get_mut(&key) {
            Some(window) if window.expired(now) => {
                *window = Window {
                    started: now,
                    failures: 1,
                }
            }
            Some(window) => window.failures = window.failures.saturating_add(1),
            None if pair_room => {
                let first = Window {
                    started: now,
                    failures: 1,
                };
                tables.pairs.insert(key, first);
            }
            None => unrecorded = true,
        }
        if unrecorded {
            tracing::warn!("dashboard sign-in limiter full: a failed sign-in was not recorded");
        }
        !unrecorded
    }
}

impl Tables {
    /// Drops entries whose rules no longer hold them, when a table is full (at most once per
    /// [`SWEEP_EVERY`], so a flood cannot make every failure sweep the tables).
    fn make_room(&mut self, now: Instant) {
        let full = self.networks.len() >= MAX_ENTRIES || self.pairs.len() >= MAX_ENTRIES;
        let recently = self
            .last_sweep
            .is_some_and(|at| now.duration_since(at) < SWEEP_EVERY);
        if !full || recently {
            return;
        }
        self.last_sweep = Some(now);
        self.networks.retain(|_, b| !b.forgotten(now));
        self.pairs.retain(|_, w| !w.expired(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn v4(last: u32) -> Network {
        Network::of(Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + last))))
    }

    #[test]
    fn a_pair_is_refused_after_its_failures_and_the_owner_elsewhere_is_not() {
        let limiter = SignInLimiter::default();
        let start = Instant::now();
        let step = Duration::from_secs(10); // past each backoff
        for i in 0..PAIR_FAILURES {
            limiter.failed_at(v4(1), "demo", start + step * i);
        }
        let now = start + step * PAIR_FAILURES;
        assert!(limiter.wait_at(v4(1), "demo", now).is_some());
        assert_eq!(
            limiter.wait_at(v4(2), "demo", now),
            None,
            "the owner elsewhere"
        );
        assert_eq!(
            limiter.wait_at(v4(1), "other", now),
            None,
            "another account"
        );
    }

    #[test]
    fn a_network_waits_twice_as_long_after_each_failure_past_the_free_ones() {
        let limiter = SignInLimiter::default();
        let start = Instant::now();
        let mut waits = Vec::new();
        for i in 0..FREE_FAILURES + 4 {
            limiter.failed_at(v4(1), &format!("account-{i}"), start);
            waits.push(limiter.wait_at(v4(1), "fresh", start));
        }
        let secs: Vec<u64> = waits.iter().map(|w| w.map_or(0, |d| d.as_secs())).collect();
        assert_eq!(secs, [0, 0, 0, 1, 2, 4, 8]);
        assert_eq!(limiter.wait_at(v4(2), "fresh", start), None);
    }

    #[test]
    fn the_store_s_counts_follow_the_same_rules() {
        use pixelway_store::SignInFailures;
        let now = 10_000;
        let quiet = SignInFailures::default();
        assert_eq!(shared_wait(&quiet, now), None);
        let pair = SignInFailures {
            pair: PAIR_FAILURES,
            pair_first: Some(now - 100),
            network: FREE_FAILURES,
            network_last: Some(now),
        };
        assert_eq!(
            shared_wait(&pair, now),
            Some(PAIR_WINDOW - Duration::from_secs(100))
        );
        let spraying = SignInFailures {
            pair: 1,
            pair_first: Some(now),
            network: FREE_FAILURES + 3,
            network_last: Some(now),
        };
        assert_eq!(shared_wait(&spraying, now), Some(BASE_DELAY * 4));
        assert_eq!(shared_wait(&spraying, now + 4), None, "waited out");
        assert_eq!(Network::of(Some([10, 0, 0, 1].into())).key(), "v4:10.0.0.1");
    }

    #[test]
    fn ipv6_clients_of_one_64_share_a_network() {
        let a: IpAddr = "2001:db8:1:2::10".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::10".parse().unwrap();
        assert_eq!(Network::of(Some(a)), Network::of(Some(b)));
        assert_ne!(Network::of(Some(a)), Network::of(Some(c)));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(Network::of(Some(mapped)), v4(1));
    }

    #[test]
    fn a_flood_of_fresh_networks_cannot_wash_out_a_blocked_pair() {
        let limiter = SignInLimiter::default();
        let start = Instant::now();
        for _ in 0..PAIR_FAILURES {
            limiter.failed_at(v4(0), "demo", start);
        }
        for i in 1..=(MAX_ENTRIES as u32 + 5_000) {
            limiter.failed_at(v4(i), &format!("random-{i}"), start);
        }
        let tables = limiter.lock();
        assert!(tables.networks.len() <= MAX_ENTRIES);
        assert!(tables.pairs.len() <= MAX_ENTRIES);
        drop(tables);
        assert!(
            limiter.wait_at(v4(0), "demo", start).is_some(),
            "still refused"
        );
        // Once its rule lets go, an entry may be swept to make room.
        let later = start + PAIR_WINDOW + MAX_DELAY;
        assert_eq!(limiter.wait_at(v4(0), "demo", later), None);
        limiter.failed_at(v4(9_999_999), "new", later);
        assert!(limiter.lock().networks.len() < MAX_ENTRIES);
    }
}
