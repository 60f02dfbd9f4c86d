//! The numbers pixelway keeps about its own traffic: per minute, for the last hour, in total and
//! per account — requests, cache hits, origin failures and transformation time. The dashboard's
//! overview draws them; they live in memory (a restart starts them again).
//!
//! A request is a *hit* when it was answered without asking a remote origin and without running
//! a transformation: from the caches or the Media Library.

use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Duration;

/// Minutes kept.
pub const MINUTES: usize = 60;
/// Accounts whose own series are kept (least recently active ones are dropped beyond this).
const MAX_ACCOUNTS: usize = 10_000;

/// What one delivery request contributes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSample {
    pub hit: bool,
    pub origin_failures: u32,
    /// Time spent waiting for a transformation that was not in the result cache.
    pub transform: Option<Duration>,
}

/// One minute's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Minute {
    /// Minutes since the Unix epoch.
    pub minute: u64,
    pub requests: u64,
    pub hits: u64,
    pub origin_failures: u64,
    pub transforms: u64,
    pub transform_micros: u64,
}

impl Minute {
    fn add(&mut self, sample: &RequestSample) {
        self.requests += 1;
        self.hits += u64::from(sample.hit);
        self.origin_failures += u64::from(sample.origin_failures);
        if let Some(time) = sample.transform {
            self.transforms += 1;
            self.transform_micros += time.as_micros() as u64;
        }
    }
}

/// The last hour, one slot a minute.
#[derive(Debug, Clone)]
struct Ring {
    slots: [Minute; MINUTES],
}

impl Default for Ring {
    fn default() -> Self {
        Self {
            slots: [Minute::default(); MINUTES],
        }
    }
}

impl Ring {
    fn record(&mut self, minute: u64, sample: &RequestSample) {
        let slot = &mut self.slots[minute as usize % MINUTES];
        if slot.minute != minute {
            *slot = Minute {
                minute,
                ..Minute::default()
            };
        }
        slot.add(sample);
    }

    /// The hour ending at `now` (minute), oldest first; minutes without traffic are zeros.
    fn hour(&self, now: u64) -> Vec<Minute> {
        (0..MINUTES as u64)
            .rev()
            .map(|ago| {
                let minute = now.saturating_sub(ago);
                let slot = self.slots[minute as usize % MINUTES];
                if slot.minute == minute {
                    slot
                } else {
                    Minute {
                        minute,
                        ..Minute::default()
                    }
                }
            })
            .collect()
    }
}

/// The server's traffic numbers.
#[derive(Debug)]
pub struct Metrics {
    total: Mutex<Ring>,
    accounts: Mutex<LruCache<String, Ring>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            total: Mutex::default(),
            accounts: Mutex::new(LruCache::new(
                NonZeroUsize::new(MAX_ACCOUNTS).expect("non-zero"),
            )),
        }
    }
}

fn current_minute() -> u64 {
    pixelway_control::now_unix().max(0) as u64 / 60
}

impl Metrics {
    /// Counts one delivery request (for `account` when it was routed to one).
    pub fn record(&self, account: Option<&str>, sample: RequestSample) {
        self.record_at(current_minute(), account, sample);
    }

    fn record_at(&self, minute: u64, account: Option<&str>, sample: RequestSample) {
        self.total
            .lock()
            .expect("metrics lock")
            .record(minute, &sample);
        if let Some(account) = account {
            let mut accounts = self
                .accounts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match accounts.get_mut(account) {
                Some(ring) => ring.record(minute, &sample),
                None => {
                    let mut ring = Ring::default();
                    ring.record(minute, &sample);
                    accounts.put(account.to_string(), ring);
                }
            }
        }
    }

    /// The last hour for `account`, or for the whole server (`None`).
    pub fn last_hour(&self, account: Option<&str>) -> Vec<Minute> {
        self.hour_at(current_minute(), account)
    }

    fn hour_at(&self, now: u64, account: Option<&str>) -> Vec<Minute> {
        match account {
            None => self
                .total
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .hour(now),
            Some(id) => {
                let accounts = self
                    .accounts
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                accounts.peek(id).cloned().unwrap_or_default().hour(now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_counted_apart_and_forgotten_after_an_hour() {
        let metrics = Metrics::default();
        let hit = RequestSample {
            hit: true,
            ..Default::default()
        };
        let transformed = RequestSample {
            transform: Some(Duration::from_millis(8)),
            origin_failures: 1,
            ..Default::default()
        };
        metrics.record_at(1000, Some("a"), hit);
        metrics.record_at(1000, Some("a"), transformed);
        metrics.record_at(1001, Some("b"), hit);
        let hour = metrics.hour_at(1001, Some("a"));
        assert_eq!(hour.len(), MINUTES);
        let minute = hour[MINUTES - 2];
        assert_eq!(
            (minute.requests, minute.hits, minute.origin_failures),
            (2, 1, 1)
        );
        assert_eq!((minute.transforms, minute.transform_micros), (1, 8000));
        assert_eq!(hour[MINUTES - 1].requests, 0, "b's request is not a's");
        assert_eq!(metrics.hour_at(1001, None)[MINUTES - 1].requests, 1);
        // An hour later the slot is reused, not added to.
        metrics.record_at(1060, Some("a"), hit);
        let later = metrics.hour_at(1060, Some("a"));
        assert_eq!(later[MINUTES - 1].requests, 1);
        assert!(later.iter().all(|m| m.minute > 1000));
    }
}
