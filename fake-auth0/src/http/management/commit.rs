//! Changing the tenant through the Management API: one change at a time, checked as a
//! tenant file is checked, and committed to the data dir before the route answers.

use super::error::ManagementError;
use crate::model::Tenant;
use crate::state::AppState;

/// Applies one change to the tenant, checks the result as a tenant file is checked, and
/// persists it before the caller answers. The change sees a private copy; if it or the
/// check fails, the tenant is left as it was.
pub(super) async fn commit<T>(
    state: &AppState,
    change: impl FnOnce(&mut Tenant) -> Result<T, ManagementError>,
) -> Result<T, ManagementError> {
    let result = state.update_tenant(|tenant| {
        let result = change(tenant)?;
        tenant.validate().map_err(ManagementError::invalid_body)?;
        Ok::<T, ManagementError>(result)
    })?;
    state.persist_tenant().await.map_err(|error| {
        tracing::error!(%error, "management API: the tenant could not be persisted");
        ManagementError::internal()
    })?;
    Ok(result)
}
