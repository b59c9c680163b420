//! A map whose entries expire, for what lives seconds to minutes between two requests
//! (login transactions, authorization codes). Expired entries are pruned on insert and
//! never returned; `take` makes an entry single use.

use std::collections::HashMap;
use std::sync::Mutex;

use super::lock::lock;

/// A map whose entries expire; expired entries are pruned on insert.
#[derive(Debug)]
pub(crate) struct ExpiringMap<V> {
    entries: Mutex<HashMap<String, (u64, V)>>,
}

impl<V> ExpiringMap<V> {
    /// Forgets every entry.
    pub(crate) fn clear(&self) {
        lock(&self.entries).clear();
    }
}

impl<V> Default for ExpiringMap<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> ExpiringMap<V> {
    /// Stores `value` under `key` until `expires_at` (Unix seconds).
    pub(crate) fn insert(&self, key: String, value: V, expires_at: u64, now: u64) {
        let mut entries = lock(&self.entries);
        entries.retain(|_, (expiry, _)| *expiry > now);
        entries.insert(key, (expires_at, value));
    }

    /// Removes and returns the value, or `None` if absent or expired (single use).
    pub(crate) fn take(&self, key: &str, now: u64) -> Option<V> {
        let (expiry, value) = lock(&self.entries).remove(key)?;
        (expiry > now).then_some(value)
    }

    /// A copy of the value, if present and not expired.
    pub(crate) fn get(&self, key: &str, now: u64) -> Option<V> {
        let entries = lock(&self.entries);
        let (expiry, value) = entries.get(key)?;
        (*expiry > now).then(|| value.clone())
    }

    /// Replaces the value of a live entry, keeping its expiry.
    pub(crate) fn update(&self, key: &str, value: V, now: u64) -> bool {
        let mut entries = lock(&self.entries);
        match entries.get_mut(key) {
            Some((expiry, slot)) if *expiry > now => {
                *slot = value;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_single_use_and_expire() {
        let map = ExpiringMap::default();
        map.insert("a".to_owned(), 1, 10, 0);
        map.insert("b".to_owned(), 2, 10, 0);
        assert_eq!(map.take("a", 5), Some(1));
        assert_eq!(map.take("a", 5), None);
        assert_eq!(map.take("b", 10), None);
    }
}
