//! SQLite errors to [`StorageError`]s, and row text back to typed values.

use rusqlite::{Connection, ErrorCode, Params, Row, ffi};

use crate::StorageError;

/// How one table's constraint failures read as errors.
pub(crate) struct Constraints {
    /// The column list SQLite names in `UNIQUE constraint failed: <columns>`, and what the
    /// error calls that key.
    pub unique: &'static [(&'static str, &'static str)],
    /// What a foreign key failure means for a write to this table.
    pub reference: &'static str,
}

impl Constraints {
    /// Turn a constraint violation into `Conflict`, `MissingReference` or `Invalid`; any other
    /// error stays a SQLite error.
    pub fn map(&self, e: rusqlite::Error) -> StorageError {
        let rusqlite::Error::SqliteFailure(err, message) = &e else {
            return StorageError::Sqlite(e);
        };
        if err.code != ErrorCode::ConstraintViolation {
            return StorageError::Sqlite(e);
        }
        match err.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                let columns = message
                    .as_deref()
                    .and_then(|m| m.split_once(": "))
                    .map(|(_, c)| c);
                let what = self.unique.iter().find(|(cols, _)| Some(*cols) == columns);
                StorageError::Conflict {
                    what: what.map_or("key", |(_, what)| what),
                }
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StorageError::MissingReference {
                what: self.reference,
            },
            ffi::SQLITE_CONSTRAINT_CHECK | ffi::SQLITE_CONSTRAINT_NOTNULL => {
                StorageError::Invalid {
                    what: "value (a database constraint refused it)",
                }
            }
            _ => StorageError::Sqlite(e),
        }
    }
}

/// The first row of a query, decoded.
pub(crate) fn optional<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    decode: impl Fn(&Row<'_>) -> Result<T, StorageError>,
) -> Result<Option<T>, StorageError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    rows.next()?.map(decode).transpose()
}

/// Every row of a query, decoded.
pub(crate) fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    decode: impl Fn(&Row<'_>) -> Result<T, StorageError>,
) -> Result<Vec<T>, StorageError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Fail with `NotFound` when an `UPDATE`/`DELETE` touched no row.
pub(crate) fn touched(changed: usize, what: &'static str) -> Result<(), StorageError> {
    if changed == 0 {
        Err(StorageError::NotFound { what })
    } else {
        Ok(())
    }
}

/// Parse stored text into a typed value, or report it corrupt.
pub(crate) fn parse<T, E>(
    text: &str,
    what: &'static str,
    f: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StorageError> {
    f(text).map_err(|_| StorageError::Corrupt { what })
}

/// Read column `idx` as `T`; a value SQLite cannot give as `T` is corrupt.
pub(crate) fn col<T: rusqlite::types::FromSql>(
    row: &Row<'_>,
    idx: usize,
    what: &'static str,
) -> Result<T, StorageError> {
    row.get(idx).map_err(|_| StorageError::Corrupt { what })
}

/// A stored count or revision as `u64`.
pub(crate) fn unsigned(v: i64, what: &'static str) -> Result<u64, StorageError> {
    u64::try_from(v).map_err(|_| StorageError::Corrupt { what })
}

/// A count or revision to store.
pub(crate) fn signed(v: u64, what: &'static str) -> Result<i64, StorageError> {
    i64::try_from(v).map_err(|_| StorageError::Invalid { what })
}
