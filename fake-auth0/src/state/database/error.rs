//! Why the data dir cannot be used at start ([`DataDirError`], exit status 2 in the binary)
//! and why a change was not committed while serving ([`CommitError`]).

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// Why the data dir cannot be used. The binary exits with status 2 on any of these.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot create the data dir {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the database {path} is corrupt or not a fake-auth0 database ({detail}); \
         move it aside or choose another --data-dir"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the database {path} has schema version {found}, newer than this fake-auth0 \
         understands ({supported}); run a newer fake-auth0 or choose another --data-dir"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "the database {path} is in use by another fake-auth0; stop it or choose another --data-dir"
    )]
    Locked { path: PathBuf },
    #[error("cannot open the database {path}: {detail}")]
    Open { path: PathBuf, detail: String },
}

/// Why a change was not committed; the caller answers `server_error` and logs it.
#[derive(Debug, thiserror::Error)]
#[error("the data dir's database did not commit: {0}")]
pub(crate) struct CommitError(pub(super) String);

/// Maps a SQLite error met while opening or loading to a [`DataDirError`].
pub(super) fn classify(path: &Path, error: &rusqlite::Error) -> DataDirError {
    let path = path.to_owned();
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => DataDirError::Corrupt {
            path,
            detail: error.to_string(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DataDirError::Locked { path },
        _ => DataDirError::Open {
            path,
            detail: error.to_string(),
        },
    }
}
