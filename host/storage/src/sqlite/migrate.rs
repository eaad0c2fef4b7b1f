//! Versioned schema migrations: an ordered list of SQL scripts, each applied once, in its own
//! transaction, and recorded in `schema_migrations`.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::StorageError;

/// The migrations, oldest first; migration `i` brings the schema to version `i + 1`.
/// Published entries never change: a schema change is a new entry.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/0001_initial.sql")];

/// The schema version this build writes (the number of migrations it knows).
pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    applied_at INTEGER NOT NULL
) STRICT";

/// Bring the database to [`SCHEMA_VERSION`], one migration per transaction. Each step re-reads
/// the version under a write lock, so two processes opening the same file apply a step once.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    conn.execute_batch(CREATE_TABLE)?;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = current_version(&tx)?;
        if current > SCHEMA_VERSION {
            return Err(StorageError::SchemaTooNew {
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        let Some(sql) = usize::try_from(current)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
        else {
            return Ok(()); // up to date; the empty transaction rolls back on drop
        };
        let next = current + 1;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            (
                super::map::signed(next, "schema version")?,
                plenum_types::unix_now(),
            ),
        )?;
        tx.commit()?;
        tracing::info!(version = next, "pool database: applied schema migration");
    }
}

/// The highest applied migration, 0 for a new database.
pub(crate) fn current_version(conn: &Connection) -> Result<u64, StorageError> {
    let v: Option<i64> = conn
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    u64::try_from(v.unwrap_or(0)).map_err(|_| StorageError::Corrupt {
        what: "schema version",
    })
}
