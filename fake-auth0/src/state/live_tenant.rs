//! The tenant being served, which can change at run time (the Management API, a control
//! reset).
//!
//! It sits behind an [`ArcSwap`]: a request takes one [`TenantSnapshot`] and sees a
//! consistent tenant for its whole life, while a writer swaps in a new one without
//! blocking readers. Writers are serialised, so two concurrent changes cannot lose one
//! another.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use super::lock::lock;
use crate::model::{Client, Tenant};

/// One version of the tenant with its client index; it dereferences to [`Tenant`].
#[derive(Debug)]
pub(crate) struct TenantSnapshot {
    tenant: Tenant,
    /// The tenant's clients by id, for O(1) lookup on every token request.
    clients: HashMap<String, Arc<Client>>,
}

impl TenantSnapshot {
    fn new(tenant: Tenant) -> TenantSnapshot {
        let clients = tenant
            .clients
            .iter()
            .map(|client| (client.client_id.clone(), Arc::new(client.clone())))
            .collect();
        TenantSnapshot { tenant, clients }
    }

    /// The tenant client with this id.
    pub(crate) fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        self.clients.get(client_id).cloned()
    }
}

impl Deref for TenantSnapshot {
    type Target = Tenant;

    fn deref(&self) -> &Tenant {
        &self.tenant
    }
}

/// The current tenant, replaced whole on every change.
#[derive(Debug)]
pub(crate) struct LiveTenant {
    current: ArcSwap<TenantSnapshot>,
    /// Serialises writers so that two concurrent changes cannot lose one another.
    writer: Mutex<()>,
}

impl LiveTenant {
    pub(crate) fn new(tenant: Tenant) -> LiveTenant {
        LiveTenant {
            current: ArcSwap::from_pointee(TenantSnapshot::new(tenant)),
            writer: Mutex::new(()),
        }
    }

    /// The current tenant. Take it once per request: later changes do not affect a snapshot.
    pub(crate) fn load(&self) -> Arc<TenantSnapshot> {
        self.current.load_full()
    }

    /// The tenant client with this id, without taking a whole snapshot.
    pub(crate) fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        self.current.load().client(client_id)
    }

    /// Replaces the whole tenant.
    pub(crate) fn replace(&self, tenant: Tenant) {
        let _writer = lock(&self.writer);
        self.current.store(Arc::new(TenantSnapshot::new(tenant)));
    }

    /// Applies one change atomically: `change` edits a copy, and the copy replaces the
    /// tenant only if `change` succeeds. Readers never wait.
    pub(crate) fn update<T, E>(
        &self,
        change: impl FnOnce(&mut Tenant) -> Result<T, E>,
    ) -> Result<T, E> {
        let _writer = lock(&self.writer);
        let mut tenant = self.current.load().tenant.clone();
        let result = change(&mut tenant)?;
        self.current.store(Arc::new(TenantSnapshot::new(tenant)));
        Ok(result)
    }
}
