//! Which API a request names: `audience`, or RFC 8707 `resource` as the same thing (Auth0's
//! Resource Parameter Compatibility Profile: `audience` is checked first, so it wins when
//! both are sent, unless the tenant's `audience_resource_conflict` is `refuse`), else the
//! tenant's default audience.

use crate::model::{AudienceResourceConflict, ResourceServer, Tenant};
use crate::oauth::{FormParams, OAuthError};

/// `audience` and `resource` both sent, naming different APIs, on a tenant that refuses it.
#[derive(Debug)]
pub(crate) struct AudienceConflict;

/// The API identifier a request names, if any.
pub(crate) fn requested_audience(
    params: &FormParams,
    conflict: AudienceResourceConflict,
) -> Result<Option<&str>, AudienceConflict> {
    match (params.get("audience"), params.get("resource")) {
        (Some(audience), Some(resource))
            if audience != resource && conflict == AudienceResourceConflict::Refuse =>
        {
            Err(AudienceConflict)
        }
        (audience, resource) => Ok(audience.or(resource)),
    }
}
/// The API `identifier` names, else the tenant's default audience; `None` when neither is
/// set. An identifier the tenant does not know is `access_denied` "Service not found", as
/// Auth0 answers.
pub(crate) fn resolve_audience<'t>(
    tenant: &'t Tenant,
    identifier: Option<&str>,
) -> Result<Option<&'t ResourceServer>, OAuthError> {
    let Some(identifier) = identifier.or(tenant.settings.default_audience.as_deref()) else {
        return Ok(None);
    };
    tenant
        .resource_server(identifier)
        .map(Some)
        .ok_or_else(|| OAuthError::access_denied(format!("Service not found: {identifier}")))
}

/// The API a request of the authorization code, password or client_credentials grant
/// names (a refused `audience`/`resource` conflict is `invalid_target`).
pub(crate) fn resolve_api<'t>(
    tenant: &'t Tenant,
    params: &FormParams,
) -> Result<Option<&'t ResourceServer>, OAuthError> {
    let conflict = tenant.settings.audience_resource_conflict;
    let identifier = requested_audience(params, conflict).map_err(|AudienceConflict| {
        OAuthError::invalid_target("audience and resource name different APIs")
    })?;
    resolve_audience(tenant, identifier)
}
