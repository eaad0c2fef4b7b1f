//! [`SqlitePool`]: the [`Pool`] on one embedded SQLite file.
//!
//! One connection behind a mutex; WAL journal with `synchronous=FULL`, so a write that returned
//! `Ok` survives a crash or power loss; foreign keys on. Slow hashes (argon2) run outside the
//! mutex so a PIN check never stalls other queries.

mod audit;
mod conferences;
mod map;
mod migrate;
mod plugins;
mod tenants;
mod users;

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::{
    AccessNumberRecord, AuditRecord, BindingRecord, ConferenceRecord, DigestAlgorithm,
    GatewayRecord, Hasher, NewConference, PinAttempts, PluginVersionRecord, Pool, ProfileRecord,
    StorageError, TenantRecord, UserRecord,
};
use plenum_types::{Digest, E164, PluginKind, PstnId, Secret, TenantId, UnixTime};

pub use migrate::SCHEMA_VERSION;

/// How long a statement waits for another process's lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The pool database on an SQLite file.
pub struct SqlitePool {
    conn: Mutex<Connection>,
    hasher: Hasher,
}

impl std::fmt::Debug for SqlitePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlitePool")
            .field("hasher", &self.hasher)
            .finish_non_exhaustive()
    }
}

impl SqlitePool {
    /// Open (or create) the database at `path` with the default [`Hasher`], applying any
    /// pending schema migrations. A database from a newer schema is
    /// [`StorageError::SchemaTooNew`].
    pub fn open(path: &Path) -> Result<SqlitePool, StorageError> {
        SqlitePool::open_with(path, Hasher::default())
    }

    /// [`SqlitePool::open`] with argon2 parameters of one's own for new hashes.
    ///
    /// A new file is created readable by its owner only (it holds secret hashes).
    pub fn open_with(path: &Path, hasher: Hasher) -> Result<SqlitePool, StorageError> {
        create_private(path)?;
        let conn = Connection::open(path)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "pool database: WAL journal not available");
        }
        SqlitePool::start(conn, hasher)
    }

    /// A private database in memory, for tests of other crates (not durable, no WAL).
    pub fn open_in_memory(hasher: Hasher) -> Result<SqlitePool, StorageError> {
        SqlitePool::start(Connection::open_in_memory()?, hasher)
    }

    /// The parameters new PIN and passcode hashes are made with.
    pub fn hasher(&self) -> Hasher {
        self.hasher
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u64, StorageError> {
        migrate::current_version(&self.lock())
    }

    fn start(mut conn: Connection, hasher: Hasher) -> Result<SqlitePool, StorageError> {
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        migrate::migrate(&mut conn)?;
        Ok(SqlitePool {
            conn: Mutex::new(conn),
            hasher,
        })
    }

    /// The connection. A panic while it was held cannot have left a half-done write behind
    /// (every write is one transaction, rolled back on drop), so a poisoned lock is taken as is.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `f` in one write transaction (taken at once, so it never fails half-way on a lock
    /// upgrade) and commit it.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Run read-only `f` on the connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        f(&self.lock())
    }
}

/// Create the file with mode 0600 if it does not exist yet (SQLite would use the umask).
fn create_private(path: &Path) -> Result<(), StorageError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    Ok(())
}

impl Pool for SqlitePool {
    fn is_empty(&self) -> Result<bool, StorageError> {
        self.read(tenants::is_empty)
    }

    fn create_tenant(&self, tenant: &TenantRecord) -> Result<(), StorageError> {
        self.write(|tx| tenants::create(tx, tenant))
    }

    fn update_tenant(&self, tenant: &TenantRecord) -> Result<(), StorageError> {
        self.write(|tx| tenants::update(tx, tenant))
    }

    fn tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError> {
        self.read(|c| tenants::by_id(c, id))
    }

    fn tenant_by_domain(&self, sip_domain: &str) -> Result<Option<TenantRecord>, StorageError> {
        self.read(|c| tenants::by_domain(c, sip_domain))
    }

    fn tenants(&self) -> Result<Vec<TenantRecord>, StorageError> {
        self.read(tenants::all_tenants)
    }

    fn put_profile(&self, tenant: &TenantId, profile: &ProfileRecord) -> Result<(), StorageError> {
        self.write(|tx| tenants::put_profile(tx, tenant, profile))
    }

    fn profile(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Option<ProfileRecord>, StorageError> {
        self.read(|c| tenants::profile(c, tenant, name))
    }

    fn profiles(&self, tenant: &TenantId) -> Result<Vec<ProfileRecord>, StorageError> {
        self.read(|c| tenants::profiles(c, tenant))
    }

    fn add_access_number(&self, number: &AccessNumberRecord) -> Result<(), StorageError> {
        self.write(|tx| tenants::add_access_number(tx, number))
    }

    fn access_number(&self, number: &E164) -> Result<Option<AccessNumberRecord>, StorageError> {
        self.read(|c| tenants::access_number(c, number))
    }

    fn access_numbers(&self, tenant: &TenantId) -> Result<Vec<AccessNumberRecord>, StorageError> {
        self.read(|c| tenants::access_numbers(c, tenant))
    }

    fn add_user(&self, user: &UserRecord) -> Result<(), StorageError> {
        self.write(|tx| users::add(tx, user))
    }

    fn user_by_uri(&self, sip_uri: &str) -> Result<Option<UserRecord>, StorageError> {
        self.read(|c| users::by_uri(c, sip_uri))
    }

    fn user_by_extension(
        &self,
        tenant: &TenantId,
        extension: &str,
    ) -> Result<Option<UserRecord>, StorageError> {
        self.read(|c| users::by_extension(c, tenant, extension))
    }

    fn user_by_line(&self, line: &E164) -> Result<Option<UserRecord>, StorageError> {
        self.read(|c| users::by_line(c, line))
    }

    fn users(&self, tenant: &TenantId) -> Result<Vec<UserRecord>, StorageError> {
        self.read(|c| users::of_tenant(c, tenant))
    }

    fn set_pin(&self, sip_uri: &str, pin: &Secret, now: UnixTime) -> Result<(), StorageError> {
        let hash = self.hasher.hash(pin)?;
        self.write(|tx| users::set_pin_hash(tx, sip_uri, &hash, now))
    }

    fn pin_set_at(&self, sip_uri: &str) -> Result<Option<UnixTime>, StorageError> {
        self.read(|c| users::pin_set_at(c, sip_uri))
    }

    fn verify_pin(&self, sip_uri: &str, pin: &Secret) -> Result<bool, StorageError> {
        match self.read(|c| users::pin_hash(c, sip_uri))? {
            Some(hash) => Hasher::verify(&hash, pin),
            None => Ok(false),
        }
    }

    fn pin_attempts(&self, sip_uri: &str) -> Result<PinAttempts, StorageError> {
        self.read(|c| users::pin_attempts(c, sip_uri))
    }

    fn set_pin_attempts(&self, sip_uri: &str, attempts: &PinAttempts) -> Result<(), StorageError> {
        self.write(|tx| users::set_pin_attempts(tx, sip_uri, attempts))
    }

    fn set_sip_password(&self, sip_uri: &str, password: &Secret) -> Result<(), StorageError> {
        self.write(|tx| users::set_sip_password(tx, sip_uri, password))
    }

    fn digest_ha1(
        &self,
        sip_uri: &str,
        algorithm: DigestAlgorithm,
    ) -> Result<Option<String>, StorageError> {
        self.read(|c| users::ha1(c, sip_uri, algorithm))
    }

    fn add_gateway(&self, gateway: &GatewayRecord) -> Result<(), StorageError> {
        self.write(|tx| users::add_gateway(tx, gateway))
    }

    fn gateways(&self) -> Result<Vec<GatewayRecord>, StorageError> {
        self.read(users::gateways)
    }

    fn insert_conference(&self, conference: &NewConference) -> Result<i64, StorageError> {
        let hash = conference
            .passcode
            .as_ref()
            .map(|p| self.hasher.hash(p))
            .transpose()?;
        self.write(|tx| conferences::insert(tx, conference, hash.as_deref()))
    }

    fn conference_by_id(&self, id: i64) -> Result<Option<ConferenceRecord>, StorageError> {
        self.read(|c| conferences::by_id(c, id))
    }

    fn conference_by_pstn(
        &self,
        pstn_id: &PstnId,
    ) -> Result<Option<ConferenceRecord>, StorageError> {
        self.read(|c| conferences::by_pstn(c, pstn_id))
    }

    fn conference(
        &self,
        organizer: &str,
        conference_id: &str,
    ) -> Result<Option<ConferenceRecord>, StorageError> {
        self.read(|c| conferences::by_organizer(c, organizer, conference_id))
    }

    fn conferences_of(
        &self,
        organizer: &str,
        now: UnixTime,
    ) -> Result<Vec<ConferenceRecord>, StorageError> {
        self.read(|c| conferences::of_organizer(c, organizer, now))
    }

    fn update_conference(
        &self,
        conference: &ConferenceRecord,
        expected_revision: u64,
    ) -> Result<u64, StorageError> {
        self.write(|tx| conferences::update(tx, conference, expected_revision))
    }

    fn delete_conference(&self, id: i64) -> Result<(), StorageError> {
        self.write(|tx| conferences::delete(tx, id))
    }

    fn delete_expired_conferences(&self, now: UnixTime) -> Result<u64, StorageError> {
        self.write(|tx| conferences::delete_expired(tx, now))
    }

    fn set_passcode(&self, id: i64, passcode: Option<&Secret>) -> Result<(), StorageError> {
        let hash = passcode.map(|p| self.hasher.hash(p)).transpose()?;
        self.write(|tx| conferences::set_passcode_hash(tx, id, hash.as_deref()))
    }

    fn verify_passcode(&self, id: i64, passcode: &Secret) -> Result<bool, StorageError> {
        match self.read(|c| conferences::passcode_hash(c, id))? {
            Some(hash) => Hasher::verify(&hash, passcode),
            None => Ok(false),
        }
    }

    fn passcode_hash(&self, id: i64) -> Result<Option<String>, StorageError> {
        self.read(|c| conferences::passcode_hash(c, id))
    }

    fn next_pstn_sequence(&self) -> Result<u64, StorageError> {
        self.write(|tx| conferences::next_pstn_sequence(tx))
    }

    fn put_plugin_version(
        &self,
        meta: &PluginVersionRecord,
        bytes: &[u8],
    ) -> Result<bool, StorageError> {
        plugins::check_content(meta, bytes)?;
        self.write(|tx| plugins::put_version(tx, meta, bytes))
    }

    fn plugin_version(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        digest: &Digest,
    ) -> Result<Option<PluginVersionRecord>, StorageError> {
        self.read(|c| plugins::version(c, tenant, kind, digest))
    }

    fn plugin_bytes(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        digest: &Digest,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(|c| plugins::bytes(c, tenant, kind, digest))
    }

    fn plugin_versions(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
    ) -> Result<Vec<PluginVersionRecord>, StorageError> {
        self.read(|c| plugins::versions(c, tenant, kind))
    }

    fn binding(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
    ) -> Result<Option<BindingRecord>, StorageError> {
        self.read(|c| plugins::binding(c, tenant, kind))
    }

    fn set_binding(&self, binding: &BindingRecord) -> Result<(), StorageError> {
        self.write(|tx| plugins::set_binding(tx, binding))
    }

    fn bindings(&self) -> Result<Vec<BindingRecord>, StorageError> {
        self.read(plugins::bindings)
    }

    fn audit(&self, record: &AuditRecord) -> Result<i64, StorageError> {
        self.write(|tx| audit::append(tx, record))
    }

    fn audit_events(
        &self,
        tenant: &TenantId,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StorageError> {
        self.read(|c| audit::events(c, tenant, limit))
    }
}
