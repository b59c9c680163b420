//! A map whose entries expire, for what lives seconds to minutes between two requests
//! (pending `/authorize` requests and login transactions, authorization codes). Expired
//! entries are pruned on insert and never returned; `take` makes an entry single use.
//!
//! Anyone can start an authorization request, so an unauthenticated loop inserts here: the
//! entries are indexed by expiry too, and an insert prunes only what has expired, from the
//! front of that index, in O(log n) per entry pruned (amortised O(log n) per insert) instead
//! of scanning every entry.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use super::lock::lock;

/// A map whose entries expire; expired entries are pruned on insert.
#[derive(Debug)]
pub(crate) struct ExpiringMap<V> {
    inner: Mutex<Entries<V>>,
}

/// The entries and the same keys ordered by expiry, always in step.
#[derive(Debug)]
struct Entries<V> {
    by_key: HashMap<String, (u64, V)>,
    by_expiry: BTreeSet<(u64, String)>,
}

impl<V> Entries<V> {
    fn remove(&mut self, key: &str) -> Option<(u64, V)> {
        let (expiry, value) = self.by_key.remove(key)?;
        self.by_expiry.remove(&(expiry, key.to_owned()));
        Some((expiry, value))
    }

    /// Drops every entry whose expiry is `now` or earlier.
    fn prune(&mut self, now: u64) {
        while let Some((expiry, _)) = self.by_expiry.first()
            && *expiry <= now
        {
            if let Some((_, key)) = self.by_expiry.pop_first() {
                self.by_key.remove(&key);
            }
        }
    }
}

impl<V> ExpiringMap<V> {
    /// Forgets every entry.
    pub(crate) fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.by_key.clear();
        inner.by_expiry.clear();
    }

    /// How many entries are held, expired or not (pruning is lazy).
    #[cfg(test)]
    fn held(&self) -> usize {
        lock(&self.inner).by_key.len()
    }
}

impl<V> Default for ExpiringMap<V> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Entries {
                by_key: HashMap::new(),
                by_expiry: BTreeSet::new(),
            }),
        }
    }
}

impl<V: Clone> ExpiringMap<V> {
    /// Stores `value` under `key` until `expires_at` (Unix seconds).
    pub(crate) fn insert(&self, key: String, value: V, expires_at: u64, now: u64) {
        let mut inner = lock(&self.inner);
        inner.prune(now);
        inner.remove(&key);
        inner.by_expiry.insert((expires_at, key.clone()));
        inner.by_key.insert(key, (expires_at, value));
    }

    /// Removes and returns the value, or `None` if absent or expired (single use).
    pub(crate) fn take(&self, key: &str, now: u64) -> Option<V> {
        let (expiry, value) = lock(&self.inner).remove(key)?;
        (expiry > now).then_some(value)
    }

    /// A copy of the value, if present and not expired.
    pub(crate) fn get(&self, key: &str, now: u64) -> Option<V> {
        let inner = lock(&self.inner);
        let (expiry, value) = inner.by_key.get(key)?;
        (*expiry > now).then(|| value.clone())
    }

    /// Replaces the value of a live entry, keeping its expiry.
    pub(crate) fn update(&self, key: &str, value: V, now: u64) -> bool {
        let mut inner = lock(&self.inner);
        match inner.by_key.get_mut(key) {
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

    #[test]
    fn an_insert_prunes_what_has_expired_and_keeps_the_rest() {
        let map = ExpiringMap::default();
        for i in 0..1_000_u64 {
            // Entries of a long-running loop: each lives 10 s, one inserted per second.
            map.insert(format!("request-{i}"), i, i + 10, i);
        }
        // At t = 999 the ten inserted in the last ten seconds are live; the rest are gone.
        assert_eq!(map.held(), 10);
        assert_eq!(map.get("request-999", 999), Some(999));
        assert_eq!(map.get("request-990", 999), Some(990));
        assert_eq!(map.get("request-989", 999), None);
    }

    #[test]
    fn replacing_a_key_keeps_one_entry_with_the_new_expiry() {
        let map = ExpiringMap::default();
        map.insert("a".to_owned(), 1, 5, 0);
        map.insert("a".to_owned(), 2, 50, 0);
        map.insert("b".to_owned(), 3, 60, 10);
        assert_eq!(map.held(), 2);
        assert_eq!(map.get("a", 10), Some(2));
    }
}
