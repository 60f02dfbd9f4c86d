//! [`SortedMap`]: a small map kept as a vector sorted by key. An account has a few endpoints and
//! live origins; a hash map's spare room cost more than they do, and a binary search finds one
//! as fast.

/// A map from `String` keys, in a vector sorted by key.
#[derive(Debug, Clone)]
pub struct SortedMap<V>(Vec<(String, V)>);

impl<V> Default for SortedMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> SortedMap<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        let at = self.position(key).ok()?;
        Some(&self.0[at].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(key, _)| key)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, value)| value)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Inserts or replaces.
    pub fn insert(&mut self, key: String, value: V) {
        match self.position(&key) {
            Ok(at) => self.0[at] = (key, value),
            Err(at) => self.0.insert(at, (key, value)),
        }
    }

    /// Gives back the room a growing vector kept.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }
}

/// The last value of a key given twice wins, as for a hash map.
impl<V> FromIterator<(String, V)> for SortedMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(items: I) -> Self {
        let mut map = Self::default();
        for (key, value) in items {
            map.insert(key, value);
        }
        map.shrink_to_fit();
        map
    }
}
