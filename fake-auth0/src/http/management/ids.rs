//! Ids of Management API objects: derived from a natural key for objects a tenant file
//! names by key (stable across restarts without storing them), random for objects created
//! at run time.

/// A stable id derived from an object's natural key, for objects that a tenant file names
/// by key rather than id (roles, connections, resource servers): the same tenant always
/// yields the same ids, across restarts and without storing them.
pub(super) fn derived_id(prefix: &str, kind: &str, key: &str, hex_len: usize) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{kind}\n{key}").as_bytes(),
    );
    let hex: String = digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{prefix}{}", &hex[..hex_len])
}

/// A fresh random id with an Auth0-style prefix (`tep_…`); alphanumeric, as Auth0's are.
pub(super) fn random_id(prefix: &str, len: usize) -> String {
    let mut id = String::from(prefix);
    while id.len() < prefix.len() + len {
        id.extend(
            crate::oauth::random_token(len)
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(prefix.len() + len - id.len()),
        );
    }
    id
}

#[cfg(test)]
mod tests {
    #[test]
    fn derived_ids_are_stable_and_prefixed() {
        let id = super::derived_id("rol_", "role", "Tool User", 16);
        assert_eq!(id, super::derived_id("rol_", "role", "Tool User", 16));
        assert_ne!(id, super::derived_id("rol_", "role", "Tool Users", 16));
        assert!(id.starts_with("rol_") && id.len() == 20, "{id}");
        let random = super::random_id("tep_", 16);
        assert!(random.starts_with("tep_") && random.len() == 20, "{random}");
        assert!(random[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
