//! Opening the database: the checks that turn a wrong file into a clear message, the
//! connection settings that make a commit durable, and the versioned schema migrations.
//!
//! The schema version is SQLite's `PRAGMA user_version`; migration N takes a database at
//! version N-1 to N inside one transaction. A database newer than [`SCHEMA_VERSION`] is
//! refused rather than guessed at. `PRAGMA application_id` marks the file as fake-auth0's,
//! so pointing `--data-dir` at another program's database fails instead of altering it.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::error::{DataDirError, classify};

/// `PRAGMA application_id`: "FA0\x01" (fake-auth0, format 1).
pub(super) const APPLICATION_ID: i32 = 0x4641_3001;

/// The schema this build writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long start-up waits for a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 1] = [
    // 1: keys, registered clients, refresh tokens (by SHA-256), revocations, tenant snapshot.
    "CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        pkcs8 BLOB NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('current', 'next', 'previous')),
        created_at INTEGER NOT NULL,
        current_since INTEGER,
        current_until INTEGER,
        retire_at INTEGER
    ) STRICT;
    CREATE TABLE clients (
        client_id TEXT PRIMARY KEY,
        client TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        family TEXT NOT NULL,
        grant_json TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);
    CREATE TABLE revoked_families (
        family TEXT PRIMARY KEY,
        revoked_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE tenant_snapshot (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        tenant TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    ) STRICT;",
];

/// Opens the database at `path`, checks it is fake-auth0's and not newer than this build,
/// sets it up for durable commits and migrates it to [`SCHEMA_VERSION`].
pub(super) fn open(path: &Path) -> Result<Connection, DataDirError> {
    let fail = |error: rusqlite::Error| classify(path, &error);
    let mut conn = Connection::open(path).map_err(fail)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    // One process per data dir: the lock taken by the first write below is held until the
    // connection closes (a killed process releases it with its file descriptors).
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(fail)?;
    // Reading the header is the first thing that fails on a file that is not a database.
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(fail)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(fail)?;
    let has_tables: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table')",
            [],
            |row| row.get(0),
        )
        .map_err(fail)?;
    if application_id != APPLICATION_ID && (application_id != 0 || has_tables) {
        return Err(DataDirError::Corrupt {
            path: path.to_owned(),
            detail: format!("application_id is {application_id:#x}, not fake-auth0's"),
        });
    }
    if version > SCHEMA_VERSION {
        return Err(DataDirError::NewerSchema {
            path: path.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    // WAL: readers never block the writer, and a commit appends to the log. FULL: the log
    // is fsynced at every commit, so an acknowledged change survives a power cut, not only
    // a killed process (NORMAL would only guarantee the latter).
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(fail)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DataDirError::Open {
            path: path.to_owned(),
            detail: format!("the file system does not support WAL (journal mode {mode})"),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(fail)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(fail)?;
    let check: String = conn
        .pragma_query_value(None, "quick_check", |row| row.get(0))
        .map_err(fail)?;
    if check != "ok" {
        return Err(DataDirError::Corrupt {
            path: path.to_owned(),
            detail: check,
        });
    }
    migrate(&mut conn, version).map_err(fail)?;
    Ok(conn)
}

/// Applies the migrations after `from`, each in its own transaction with its version.
fn migrate(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    let from = usize::try_from(from).unwrap_or(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "data dir database migrated");
    }
    Ok(())
}
