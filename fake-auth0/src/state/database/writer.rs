//! The handle to the database and the one thread that writes it.
//!
//! SQLite calls block, so one dedicated thread owns the connection; requests hand it their
//! changes over a channel and await the reply. The thread commits whatever has queued up
//! in one transaction (group commit), so concurrent writers share one fsync.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rusqlite::{Connection, OptionalExtension as _, params};

use super::error::{CommitError, DataDirError, classify};
use super::rows::{Change, Loaded, StoredKey, StoredRefresh};
use super::schema;

/// The database file inside the data dir.
pub(crate) const DATABASE_FILE: &str = "fake-auth0.sqlite3";

/// The most changes one transaction commits; the rest wait for the next one.
const MAX_BATCH: usize = 256;

type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

struct Job {
    change: Change,
    reply: Reply,
}

/// The handle to the writer thread. Cheap to clone; the thread ends when every handle is
/// dropped.
#[derive(Clone)]
pub(crate) struct Database {
    sender: mpsc::Sender<Job>,
    path: PathBuf,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish()
    }
}

impl Database {
    /// Opens (or creates) the database in `dir`, migrates it, prunes refresh tokens expired
    /// by `now`, loads everything and starts the writer thread.
    pub(crate) fn open(dir: &Path, now: u64) -> Result<(Database, Loaded), DataDirError> {
        private_dir(dir).map_err(|source| DataDirError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(DATABASE_FILE);
        private_database_files(&path).map_err(|error| DataDirError::Open {
            path: path.clone(),
            detail: format!("cannot make it private to its owner: {error}"),
        })?;
        let mut conn = schema::open(&path)?;
        let loaded = load(&mut conn, now).map_err(|error| classify(&path, &error))?;
        let (sender, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("fake-auth0-store".to_owned())
            .spawn(move || run(conn, &receiver))
            .map_err(|error| DataDirError::Open {
                path: path.clone(),
                detail: format!("cannot start the writer thread: {error}"),
            })?;
        Ok((Database { sender, path }, loaded))
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Queues `change` at once (writes commit in the order they are queued) and returns a
    /// future that resolves once it is durable.
    pub(crate) fn commit(
        &self,
        change: Change,
    ) -> impl Future<Output = Result<(), CommitError>> + Send + 'static {
        let (done, result) = tokio::sync::oneshot::channel();
        let queued = self.send(change, Box::new(move |outcome| drop(done.send(outcome))));
        async move {
            queued?;
            result
                .await
                .map_err(|_| CommitError("the writer thread stopped".to_owned()))?
                .map_err(CommitError)
        }
    }

    /// Commits `change` from outside the async runtime (start-up); blocks until durable.
    pub(crate) fn commit_blocking(&self, change: Change) -> Result<(), CommitError> {
        let (done, result) = mpsc::sync_channel(1);
        self.send(change, Box::new(move |outcome| drop(done.send(outcome))))?;
        result
            .recv()
            .map_err(|_| CommitError("the writer thread stopped".to_owned()))?
            .map_err(CommitError)
    }

    fn send(&self, change: Change, reply: Reply) -> Result<(), CommitError> {
        self.sender
            .send(Job { change, reply })
            .map_err(|_| CommitError("the writer thread stopped".to_owned()))
    }
}

/// The data dir holds private keys: it is the owner's only (0700), created so or
/// restricted when it already exists.
#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Every file SQLite writes is the owner's only from its first byte. SQLite creates the
/// `-wal`, `-shm` and `-journal` files with the database file's mode, so the database file
/// is created 0600 before SQLite opens it (a umask would be process-wide); files of an
/// older data dir are restricted too, before anything is read or written.
#[cfg(unix)]
fn private_database_files(database: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(database)?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600)) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_database_files(_database: &Path) -> std::io::Result<()> {
    Ok(())
}

fn load(conn: &mut Connection, now: u64) -> rusqlite::Result<Loaded> {
    let tx = conn.transaction()?;
    // Expired refresh tokens are useless; revocations of families with no token left too.
    tx.execute(
        "DELETE FROM refresh_tokens WHERE expires_at <= ?1",
        params![now],
    )?;
    tx.execute(
        "DELETE FROM revoked_families WHERE family NOT IN (SELECT family FROM refresh_tokens)",
        [],
    )?;
    let keys = tx
        .prepare(
            "SELECT kid, pkcs8, role, created_at, current_since, current_until, retire_at \
             FROM signing_keys",
        )?
        .query_map([], |row| {
            Ok(StoredKey {
                kid: row.get(0)?,
                pkcs8: row.get(1)?,
                role: row.get(2)?,
                created_at: row.get(3)?,
                current_since: row.get(4)?,
                current_until: row.get(5)?,
                retire_at: row.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let clients = tx
        .prepare("SELECT client FROM clients ORDER BY created_at")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let refresh_tokens = tx
        .prepare("SELECT token_hash, family, grant_json, expires_at, used FROM refresh_tokens")?
        .query_map([], |row| {
            Ok(StoredRefresh {
                token_hash: row.get(0)?,
                family: row.get(1)?,
                grant: row.get(2)?,
                expires_at: row.get(3)?,
                used: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let revoked_families = tx
        .prepare("SELECT family FROM revoked_families")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let tenant = tx
        .query_row(
            "SELECT tenant FROM tenant_snapshot WHERE id = 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    tx.commit()?;
    Ok(Loaded {
        keys,
        clients,
        refresh_tokens,
        revoked_families,
        tenant,
    })
}

/// The writer thread: takes what has queued up, commits it in one transaction, replies.
fn run(mut conn: Connection, receiver: &mpsc::Receiver<Job>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcomes = commit_batch(&mut conn, &batch);
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            if let Err(error) = &outcome {
                tracing::error!(%error, "a change to the data dir's database failed");
            }
            (job.reply)(outcome);
        }
    }
}

/// Applies each change under its own savepoint (one failing change does not undo the
/// others), then commits once. A failed commit fails every change of the batch.
fn commit_batch(conn: &mut Connection, batch: &[Job]) -> Vec<Result<(), String>> {
    let result = (|| -> rusqlite::Result<Vec<Result<(), String>>> {
        let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for job in batch {
            let savepoint = tx.savepoint()?;
            match apply(&savepoint, &job.change) {
                Ok(()) => {
                    savepoint.commit()?;
                    outcomes.push(Ok(()));
                }
                // Dropping the savepoint rolls it back.
                Err(error) => outcomes.push(Err(error.to_string())),
            }
        }
        tx.commit()?;
        Ok(outcomes)
    })();
    result.unwrap_or_else(|error| vec![Err(error.to_string()); batch.len()])
}

fn apply(conn: &Connection, change: &Change) -> rusqlite::Result<()> {
    match change {
        Change::Keys(keys) => {
            conn.execute("DELETE FROM signing_keys", [])?;
            let mut insert = conn.prepare_cached(
                "INSERT INTO signing_keys \
                 (kid, pkcs8, role, created_at, current_since, current_until, retire_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for key in keys {
                insert.execute(params![
                    key.kid,
                    key.pkcs8,
                    key.role,
                    key.created_at,
                    key.current_since,
                    key.current_until,
                    key.retire_at,
                ])?;
            }
        }
        Change::Client {
            client_id,
            client,
            created_at,
        } => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO clients (client_id, client, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![client_id, client, created_at])?;
        }
        Change::Refresh { token, spent } => {
            if let Some(spent) = spent {
                conn.prepare_cached("UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?1")?
                    .execute(params![spent])?;
            }
            conn.prepare_cached(
                "INSERT INTO refresh_tokens (token_hash, family, grant_json, expires_at, used) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                token.token_hash,
                token.family,
                token.grant,
                token.expires_at,
                token.used,
            ])?;
        }
        Change::RevokeFamily { family, at } => {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO revoked_families (family, revoked_at) VALUES (?1, ?2)",
            )?
            .execute(params![family, at])?;
        }
        Change::Tenant { tenant, at } => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO tenant_snapshot (id, tenant, updated_at) VALUES (1, ?1, ?2)",
            )?
            .execute(params![tenant, at])?;
        }
        Change::Reset => {
            conn.execute_batch(
                "DELETE FROM clients; DELETE FROM refresh_tokens; \
                 DELETE FROM revoked_families; DELETE FROM tenant_snapshot;",
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "fake-auth0-persist-{name}-{}-{}",
            std::process::id(),
            crate::oauth::random_token(6)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn refresh(hash: &str, expires_at: u64) -> StoredRefresh {
        StoredRefresh {
            token_hash: hash.to_owned(),
            family: "family".to_owned(),
            grant: "{}".to_owned(),
            expires_at,
            used: false,
        }
    }

    #[test]
    fn committed_writes_are_there_after_reopening() {
        let dir = temp_dir("reopen");
        {
            let (store, loaded) = Database::open(&dir, 0).unwrap();
            assert!(loaded.keys.is_empty());
            store
                .commit_blocking(Change::Client {
                    client_id: "c1".to_owned(),
                    client: "{\"client_id\":\"c1\"}".to_owned(),
                    created_at: 1,
                })
                .unwrap();
            store
                .commit_blocking(Change::Refresh {
                    token: refresh("h1", 100),
                    spent: None,
                })
                .unwrap();
            store
                .commit_blocking(Change::Refresh {
                    token: refresh("h2", 100),
                    spent: Some("h1".to_owned()),
                })
                .unwrap();
            store
                .commit_blocking(Change::RevokeFamily {
                    family: "family".to_owned(),
                    at: 2,
                })
                .unwrap();
        }
        // The writer thread ends with the last handle; the lock is released once it has.
        let (_store, loaded) = (0..50)
            .find_map(|_| match Database::open(&dir, 10) {
                Ok(opened) => Some(opened),
                Err(DataDirError::Locked { .. }) => {
                    std::thread::yield_now();
                    None
                }
                Err(error) => panic!("{error}"),
            })
            .expect("the database reopens");
        assert_eq!(loaded.clients, ["{\"client_id\":\"c1\"}"]);
        let used: Vec<(String, bool)> = loaded
            .refresh_tokens
            .iter()
            .map(|r| (r.token_hash.clone(), r.used))
            .collect();
        assert!(used.contains(&("h1".to_owned(), true)));
        assert!(used.contains(&("h2".to_owned(), false)));
        assert_eq!(loaded.revoked_families, ["family"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_tenant_snapshot_reads_back_as_the_same_tenant() {
        // The snapshot is the tenant as JSON, read back with the tenant-file loader (JSON is
        // YAML), so it is validated like a tenant file; nothing may be lost on the way.
        let tenant = crate::model::Tenant::demo();
        let json = serde_json::to_string(&tenant).unwrap();
        let back = crate::model::Tenant::from_yaml_str(&json, "snapshot").unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&tenant).unwrap()
        );
    }

    #[test]
    fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
        let dir = temp_dir("corrupt");
        std::fs::write(dir.join(DATABASE_FILE), vec![0x5a; 8192]).unwrap();
        let error = Database::open(&dir, 0).unwrap_err();
        assert!(matches!(error, DataDirError::Corrupt { .. }), "{error}");
        assert!(error.to_string().contains("corrupt"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = temp_dir("newer");
        {
            let conn = Connection::open(dir.join(DATABASE_FILE)).unwrap();
            conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
                .unwrap();
            conn.pragma_update(None, "user_version", schema::SCHEMA_VERSION + 1)
                .unwrap();
        }
        let error = Database::open(&dir, 0).unwrap_err();
        assert!(
            matches!(error, DataDirError::NewerSchema { found, .. } if found == schema::SCHEMA_VERSION + 1),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
