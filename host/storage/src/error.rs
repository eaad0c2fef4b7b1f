//! The one error type of the storage boundary.

/// Why a storage operation failed.
///
/// Variants name the thing involved (`what`), never a value: no secret, number or URI ends up
/// in an error message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The row an operation is about does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for (`"user"`, `"conference"`, ...).
        what: &'static str,
    },
    /// The write would break a uniqueness rule.
    #[error("{what} is already taken")]
    Conflict {
        /// Which unique key collided (`"pstn id"`, `"extension"`, ...).
        what: &'static str,
    },
    /// The write refers to a row that does not exist (a foreign key).
    #[error("{what} does not exist")]
    MissingReference {
        /// What the write referred to (`"tenant"`, `"location profile"`, ...).
        what: &'static str,
    },
    /// Optimistic locking: the record changed since it was read.
    #[error("stale revision: the record is now at revision {current}")]
    StaleRevision {
        /// The revision stored now.
        current: u64,
    },
    /// A value handed to storage is not acceptable (caller error).
    #[error("invalid {what}")]
    Invalid {
        /// Which value (`"sip uri"`, `"plugin digest"`, ...).
        what: &'static str,
    },
    /// The database holds a value this build cannot read back.
    #[error("corrupt {what} in the pool database")]
    Corrupt {
        /// Which value.
        what: &'static str,
    },
    /// The database was written by a newer Plenum whose schema this build does not know.
    #[error(
        "the pool database has schema version {found}, newer than this build supports \
         ({supported}); upgrade Plenum or use another data directory"
    )]
    SchemaTooNew {
        /// The schema version in the file.
        found: u64,
        /// The newest version this build knows.
        supported: u64,
    },
    /// Argon2 hashing failed (bad parameters, or a stored hash that does not parse).
    #[error("password hashing failed: {0}")]
    Hash(#[from] argon2::password_hash::Error),
    /// Creating the database file failed.
    #[error("cannot create the pool database file: {0}")]
    Io(#[from] std::io::Error),
    /// SQLite failed (I/O, locking, a constraint not mapped above, ...).
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
