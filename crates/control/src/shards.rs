//! [`Shards`]: a map split into a fixed number of shards, each behind its own `Arc`. A copy of
//! the map copies only the shard pointers, and a change after the copy copies only the shard it
//! touches (`Arc::make_mut`): the catalog changes one account in time that does not grow with
//! the number of accounts, while the catalog it replaces stays readable.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

/// Shards per map: with 100,000 accounts a change copies about 400 entries.
const SHARDS: usize = 256;

/// A copy-on-write map in [`SHARDS`] pieces.
#[derive(Debug)]
pub struct Shards<K, V> {
    shards: Vec<Arc<HashMap<K, V>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl<K, V> Clone for Shards<K, V> {
    fn clone(&self) -> Self {
        Self {
            shards: self.shards.clone(),
            hasher: self.hasher.clone(),
        }
    }
}

impl<K, V> Default for Shards<K, V> {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Arc::new(HashMap::new())).collect(),
            hasher: Default::default(),
        }
    }
}

impl<K, V> Shards<K, V> {
    /// An empty map with room for about `count` entries without growing.
    pub fn with_capacity(count: usize) -> Self {
        let per_shard = count.div_ceil(SHARDS) + count.div_ceil(SHARDS) / 4;
        Self {
            shards: (0..SHARDS)
                .map(|_| Arc::new(HashMap::with_capacity(per_shard)))
                .collect(),
            hasher: Default::default(),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Shards<K, V> {
    fn shard_of<Q: Hash + ?Sized>(&self, key: &Q) -> usize {
        self.hasher.hash_one(key) as usize % SHARDS
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shards[self.shard_of(key)].get(key)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Inserts, copying the key's shard first when another copy of the map shares it.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let shard = self.shard_of(&key);
        Arc::make_mut(&mut self.shards[shard]).insert(key, value)
    }

    /// Removes, copying the key's shard first when another copy of the map shares it (and
    /// holds the key).
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let shard = self.shard_of(key);
        if !self.shards[shard].contains_key(key) {
            return None;
        }
        Arc::make_mut(&mut self.shards[shard]).remove(key)
    }

    /// Keeps the entries `keep` accepts (visits every shard; copies only the ones it changes).
    #[cfg(test)]
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        for shard in &mut self.shards {
            if shard.iter().any(|(k, v)| !keep(k, v)) {
                Arc::make_mut(shard).retain(|k, v| keep(k, v));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len()).sum()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.shards.iter().flat_map(|s| s.values())
    }

    /// Shards this copy shares with `other` (for tests of the copy-on-write).
    #[cfg(test)]
    pub fn shared_with(&self, other: &Self) -> usize {
        self.shards
            .iter()
            .zip(&other.shards)
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_to_a_copy_copies_one_shard_and_leaves_the_original_as_it_was() {
        let mut map: Shards<String, u32> = Shards::default();
        for i in 0..10_000 {
            map.insert(format!("k{i}"), i);
        }
        let before = map.clone();
        map.insert("k5".to_string(), 99);
        map.remove("k6");
        assert!(map.remove("missing").is_none());
        assert_eq!(before.get("k5"), Some(&5));
        assert_eq!(before.get("k6"), Some(&6));
        assert_eq!(map.get("k5"), Some(&99));
        assert!(!map.contains_key("k6"));
        assert!(
            map.shared_with(&before) >= SHARDS - 2,
            "only the touched shards are copied"
        );
        assert_eq!((map.len(), before.len()), (9_999, 10_000));
        map.retain(|_, v| *v % 2 == 0);
        assert_eq!(map.len(), 4_999, "the evens but k6");
        assert_eq!(map.values().filter(|v| *v % 2 == 1).count(), 0);
        assert_eq!(before.len(), 10_000);
    }
}
