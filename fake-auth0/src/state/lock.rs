//! Locking a mutex of the state, recovering from poisoning.
//!
//! Every critical section in the state is one map operation or one swap, so a panic in
//! another request cannot leave the data half-updated: carrying on is safe, and failing
//! every later request because one panicked would not be.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, ignoring poisoning (see the module documentation).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
