//! The memory tier: hot objects held in RAM in front of the disk caches, bounded in bytes.
//!
//! Entries are weighed by their size (plus a fixed overhead per entry) and kept by
//! `quick_cache`'s S3-FIFO policy: a new entry lands in a small probation queue and only moves
//! to the main one when it is asked for again, so a one-off scan over many cold files does not
//! push the hot set out. Objects above a size cut-off are never admitted (they stay on disk).
//!
//! Invalidation is by *scope* (what callers name as "account + path"): every scope hashes to
//! one of a fixed number of generation counters, an entry remembers the counter's value read
//! before the work that produced it began ([`Stamp`]), and [`MemoryCache::invalidate`] bumps
//! the counter — every entry of that scope (and, rarely, of a scope that shares its counter)
//! is a miss from then on, in O(1) and with bounded memory. An entry made from bytes read before
//! an invalidation can therefore never be served after it, even when it is inserted later.

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Generation counters scopes are spread over (a power of two: 512 KiB of counters).
const BUCKETS: usize = 1 << 16;
/// Bytes counted per entry beyond its own size: the key, the map slot, the value's fields.
pub const ENTRY_OVERHEAD: u64 = 512;

/// What a value says of its own size (its bytes and precomputed headers).
pub trait Weighed {
    fn weight(&self) -> u64;
}

/// The generation of a scope, read before the work that produces an entry began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    bucket: usize,
    generation: u64,
}

/// An entry as held: the value and the stamp it was made under.
struct Held<V> {
    value: Arc<V>,
    stamp: Stamp,
    weight: u64,
}

impl<V> Clone for Held<V> {
    fn clone(&self) -> Self {
        Self {
            value: Arc::clone(&self.value),
            stamp: self.stamp,
            weight: self.weight,
        }
    }
}

#[derive(Clone)]
struct ByWeight;

impl<V> Weighter<String, Held<V>> for ByWeight {
    fn weight(&self, _key: &String, held: &Held<V>) -> u64 {
        held.weight
    }
}

/// What the memory tier holds and how it has been used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes held (entries' weights: sizes plus overhead).
    pub bytes: u64,
    /// The budget (`storage.memory_cache_bytes`).
    pub budget: u64,
    pub entries: u64,
    pub hits: u64,
    pub misses: u64,
    /// Objects not admitted because they are above the size cut-off.
    pub too_large: u64,
}

/// A bounded in-memory cache of hot objects.
pub struct MemoryCache<V> {
    /// `None` when the budget is 0 (the tier is off).
    entries: Option<Cache<String, Held<V>, ByWeight>>,
    generations: Box<[AtomicU64]>,
    hasher: RandomState,
    budget: u64,
    max_object: u64,
    hits: AtomicU64,
    misses: AtomicU64,
    too_large: AtomicU64,
}

impl<V: Weighed> std::fmt::Debug for MemoryCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("stats", &self.stats())
            .field("max_object", &self.max_object)
            .finish()
    }
}

impl<V: Weighed> MemoryCache<V> {
    /// A tier of `budget` bytes that admits objects up to `max_object` bytes; a budget of 0
    /// turns it off (every lookup misses, nothing is held).
    pub fn new(budget: u64, max_object: u64) -> Self {
        // quick_cache sizes its table from an estimate of the number of items.
        let estimated_items = (budget / (32 * 1024)).clamp(64, 1 << 20) as usize;
        Self {
            entries: (budget > 0).then(|| Cache::with_weighter(estimated_items, budget, ByWeight)),
            generations: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            hasher: RandomState::new(),
            budget,
            max_object: max_object.min(budget),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            too_large: AtomicU64::new(0),
        }
    }

    /// Whether the tier holds anything at all.
    pub fn is_on(&self) -> bool {
        self.entries.is_some()
    }

    /// Whether an object of `size` bytes would be admitted (one above the cut-off is counted
    /// as refused).
    pub fn admits(&self, size: u64) -> bool {
        if !self.is_on() {
            return false;
        }
        if size > self.max_object {
            self.too_large.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// The stamp of `scope` now: take it before reading what an entry will be made from.
    pub fn stamp(&self, scope: impl Hash) -> Stamp {
        let bucket = self.bucket(scope);
        Stamp {
            bucket,
            generation: self.generations[bucket].load(Ordering::Acquire),
        }
    }

    /// The entry for `key`, unless it was invalidated since it was made or `usable` says no
    /// (the caller's own checks: freshness, the stamps of other files it depends on); counted
    /// as a hit or a miss accordingly.
    pub fn get(&self, key: &str, usable: impl Fn(&V) -> bool) -> Option<Arc<V>> {
        let entries = self.entries.as_ref()?;
        let found = entries
            .get(key)
            .filter(|held| self.is_current(held.stamp) && usable(&held.value));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found.map(|held| held.value)
    }

    /// Holds `value` under `key` when it fits and its stamp is still current; says whether it
    /// was taken.
    pub fn insert(&self, key: String, stamp: Stamp, value: V) -> bool {
        let Some(entries) = self.entries.as_ref() else {
            return false;
        };
        let weight = value.weight() + key.len() as u64 + ENTRY_OVERHEAD;
        if value.weight() > self.max_object || weight > self.budget {
            self.too_large.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if !self.is_current(stamp) {
            return false;
        }
        entries.insert(
            key,
            Held {
                value: Arc::new(value),
                stamp,
                weight,
            },
        );
        true
    }

    /// Every entry of `scope` made before now is a miss from now on.
    pub fn invalidate(&self, scope: impl Hash) {
        self.generations[self.bucket(scope)].fetch_add(1, Ordering::AcqRel);
    }

    pub fn stats(&self) -> MemoryStats {
        MemoryStats {
            bytes: self.entries.as_ref().map_or(0, |e| e.weight()),
            budget: self.budget,
            entries: self.entries.as_ref().map_or(0, |e| e.len() as u64),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            too_large: self.too_large.load(Ordering::Relaxed),
        }
    }

    /// Whether nothing invalidated `stamp`'s scope since it was taken (for answers that also
    /// depend on other files than their own, such as overlay layers).
    pub fn is_current(&self, stamp: Stamp) -> bool {
        stamp.generation == self.generations[stamp.bucket].load(Ordering::Acquire)
    }

    fn bucket(&self, scope: impl Hash) -> usize {
        self.hasher.hash_one(scope) as usize & (BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Blob(usize);
    impl Weighed for Blob {
        fn weight(&self) -> u64 {
            self.0 as u64
        }
    }

    #[test]
    fn never_holds_more_than_its_budget() {
        let cache = MemoryCache::new(1 << 20, 64 * 1024);
        for i in 0..1000 {
            let stamp = cache.stamp("scope");
            cache.insert(format!("k{i}"), stamp, Blob(10_000 + i));
            assert!(cache.stats().bytes <= 1 << 20, "{:?}", cache.stats());
        }
        assert!(cache.stats().entries > 10);
    }

    #[test]
    fn refuses_objects_above_the_cut_off_and_everything_when_off() {
        let cache = MemoryCache::new(1 << 20, 1000);
        assert!(!cache.insert("big".into(), cache.stamp("s"), Blob(1001)));
        assert!(cache.insert("small".into(), cache.stamp("s"), Blob(1000)));
        assert_eq!(cache.stats().too_large, 1);
        let off = MemoryCache::new(0, 1000);
        assert!(!off.insert("small".into(), off.stamp("s"), Blob(10)));
        assert!(off.get("small", |_| true).is_none());
    }

    #[test]
    fn an_invalidated_scope_is_never_served_again() {
        let cache = MemoryCache::new(1 << 20, 1 << 20);
        cache.insert("a-webp".into(), cache.stamp("acct/a.jpg"), Blob(10));
        cache.insert("b".into(), cache.stamp("acct/b.jpg"), Blob(10));
        assert!(cache.get("a-webp", |_| true).is_some());
        // Taken before the change, inserted after: still refused.
        let early = cache.stamp("acct/a.jpg");
        cache.invalidate("acct/a.jpg");
        assert!(cache.get("a-webp", |_| true).is_none());
        assert!(!cache.insert("a-avif".into(), early, Blob(10)));
        assert!(cache.get("b", |_| true).is_some(), "another scope stays");
        let fresh = cache.stamp("acct/a.jpg");
        assert!(cache.insert("a-webp".into(), fresh, Blob(10)));
        assert!(cache.get("a-webp", |_| true).is_some());
    }
}
