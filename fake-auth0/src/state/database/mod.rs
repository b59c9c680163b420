//! Durable state under `--data-dir`: an embedded SQLite database holding the signing keys,
//! dynamically registered clients, refresh-token families, revocations and the tenant as
//! changed through the Management API.
//!
//! Every piece of state is also held in memory, loaded once at start; requests read only
//! memory. Changes go through [`Database::commit`], which returns once the change is
//! committed (WAL, `synchronous=FULL`: the commit is on disk, so it survives a crash of
//! the process *and* of the machine). Handlers answer only after that, so nothing
//! acknowledged is lost.
//!
//! - `schema`: opening, the checks that turn a wrong file into a clear message, migrations.
//! - `writer`: the handle and the writer thread (group commit), loading at start.
//! - `rows`: what is stored, and key sets as rows.
//! - `error`: why the data dir cannot be used, why a commit failed.

mod error;
mod rows;
mod schema;
mod writer;

pub use error::DataDirError;
pub(crate) use rows::{Change, StoredRefresh, key_rows, key_set};
pub(crate) use writer::Database;
