//! Rotating the signing keys, on demand (the Management API's `keys/signing/rotate`) or on
//! a schedule (`--rotate-every`).
//!
//! A rotation makes the published next key current, publishes a new next key, and keeps
//! the old current key in the JWK set until every token it signed has expired. It is
//! committed to the data dir before it takes effect, and the key after next is generated
//! in the background so that the next rotation does not wait for RSA key generation.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::app_state::AppState;
use crate::jwt::longest_token_lifetime;
use crate::keys::{KeySet, SigningKey};

impl AppState {
    /// Rotates the signing keys and returns the new key set.
    pub(crate) async fn rotate_keys(self: &Arc<Self>) -> anyhow::Result<Arc<KeySet>> {
        let mut spare = self.rotation.lock().await;
        let new_next = match spare.take() {
            Some(key) => key,
            None => tokio::task::spawn_blocking(SigningKey::generate).await??,
        };
        let keep_for = longest_token_lifetime(&self.tenant());
        let keys = Arc::new(self.tokens.keys().rotated(new_next, self.now(), keep_for));
        self.persist_keys(&keys).await?;
        self.tokens.swap_keys(Arc::clone(&keys));
        drop(spare);
        tracing::info!(
            kid = keys.current().kid(),
            next = keys.next().kid(),
            "signing keys rotated"
        );
        // Generate the key after next now, so the next rotation is instant.
        let state = Arc::clone(self);
        tokio::spawn(async move {
            if let Ok(Ok(key)) = tokio::task::spawn_blocking(SigningKey::generate).await {
                state.rotation.lock().await.get_or_insert(key);
            }
        });
        Ok(keys)
    }

    /// Rotates the keys every `every` (`--rotate-every`), for as long as the state lives.
    pub(crate) fn spawn_scheduled_rotation(self: &Arc<Self>, every: Duration) {
        let state: Weak<AppState> = Arc::downgrade(self);
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + every;
            let mut ticks = tokio::time::interval_at(start, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(state) = state.upgrade() else {
                    return;
                };
                if let Err(error) = state.rotate_keys().await {
                    tracing::error!(%error, "scheduled key rotation failed");
                }
            }
        });
    }
}
