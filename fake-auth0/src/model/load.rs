//! Loading a tenant file: YAML (`.yaml`, `.yml`) or JSON (`.json`), parsed with the path of
//! every mistake (`clients[0].grant_types[0]`), then checked for consistency. Every error
//! names the file, so a typo stops the server at start with one line that says where.

use std::path::{Path, PathBuf};

use super::tenant::Tenant;

/// Why a tenant could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("tenant file {file}: cannot read it: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("tenant file {file}: unknown extension; use .yaml, .yml or .json")]
    Extension { file: PathBuf },
    #[error("tenant file {file}: at `{path}`: {message}")]
    Parse {
        file: PathBuf,
        path: String,
        message: String,
    },
    #[error("tenant file {file}: {message}")]
    Invalid { file: PathBuf, message: String },
}

/// The file format of a tenant file.
#[derive(Debug, Clone, Copy)]
enum Format {
    Yaml,
    Json,
}

impl Tenant {
    /// Loads a tenant from a YAML (`.yaml`, `.yml`) or JSON (`.json`) file. The error names
    /// the file, the path inside it and what is wrong.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Tenant, TenantError> {
        let file = path.as_ref().to_path_buf();
        let format = match file.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            _ => return Err(TenantError::Extension { file }),
        };
        let text = std::fs::read_to_string(&file).map_err(|source| TenantError::Read {
            file: file.clone(),
            source,
        })?;
        Self::parse(&text, format, &file)
    }

    /// Parses a tenant from YAML text; `name` is used in error messages.
    pub fn from_yaml_str(text: &str, name: impl AsRef<Path>) -> Result<Tenant, TenantError> {
        Self::parse(text, Format::Yaml, name.as_ref())
    }

    fn parse(text: &str, format: Format, file: &Path) -> Result<Tenant, TenantError> {
        let parse_error = |path: String, message: String| {
            // serde_yaml_ng already starts its messages with the path; say it once.
            let message = message
                .strip_prefix(&format!("{path}: "))
                .map_or(message.clone(), str::to_owned);
            TenantError::Parse {
                file: file.to_path_buf(),
                path,
                message,
            }
        };
        let tenant: Tenant = match format {
            Format::Yaml => {
                let deserializer = serde_yaml_ng::Deserializer::from_str(text);
                serde_path_to_error::deserialize(deserializer)
                    .map_err(|e| parse_error(e.path().to_string(), e.inner().to_string()))?
            }
            Format::Json => {
                let mut deserializer = serde_json::Deserializer::from_str(text);
                serde_path_to_error::deserialize(&mut deserializer)
                    .map_err(|e| parse_error(e.path().to_string(), e.inner().to_string()))?
            }
        };
        tenant.validate().map_err(|message| TenantError::Invalid {
            file: file.to_path_buf(),
            message,
        })?;
        Ok(tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_tenant_file_names_the_file_and_the_path() {
        let yaml = "clients:\n  - client_id: x\n    name: X\n    grant_types: [implicit]\n";
        let error = Tenant::from_yaml_str(yaml, "tenant.yaml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("tenant.yaml"), "{error}");
        assert!(error.contains("clients[0].grant_types[0]"), "{error}");
        assert!(error.contains("implicit"), "{error}");
        assert_eq!(
            error.matches("clients[0].grant_types[0]").count(),
            1,
            "{error}"
        );
    }

    #[test]
    fn tenant_files_load_by_extension_and_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("fake-auth0-tenant-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("tenant.json");
        std::fs::write(
            &json,
            serde_json::to_string(&Tenant::demo())
                .unwrap()
                .replace("demo-cli", "json-cli"),
        )
        .unwrap();
        let tenant = Tenant::from_file(&json).unwrap();
        assert!(tenant.clients.iter().any(|c| c.client_id == "json-cli"));

        let bad = dir.join("bad.json");
        std::fs::write(
            &bad,
            r#"{"resource_servers": [{"name": "x", "identifier": 3}]}"#,
        )
        .unwrap();
        let error = Tenant::from_file(&bad).unwrap_err().to_string();
        assert!(error.contains("bad.json"), "{error}");
        assert!(error.contains("resource_servers[0].identifier"), "{error}");

        let error = Tenant::from_file(dir.join("tenant.toml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown extension"), "{error}");
        let error = Tenant::from_file(dir.join("missing.yaml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing.yaml"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
