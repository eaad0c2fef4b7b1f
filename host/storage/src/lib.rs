//! The Plenum pool database: everything the pool keeps across restarts.
//!
//! This crate owns the durable state of a pool: tenants, location profiles and their
//! normalization rules, dial-in access numbers, users (with their PIN hash, PIN attempt
//! counters and SIP digest HA1s), media gateways, scheduled conferences (with their passcode
//! hash and optimistic-lock revision), the PSTN ID sequence, uploaded plugin versions and the
//! active binding per tenant and kind, and the audit log.
//!
//! The storage layer is the [`Pool`] trait, so that a shared SQL server can replace SQLite for
//! multi-node pools; [`SqlitePool`] is the embedded implementation. Secrets (PINs, passcodes,
//! SIP passwords) go in as [`Secret`]s and are stored only as salted
//! argon2id hashes (PIN, passcode) or digest HA1s (SIP password); no record type carries a hash
//! and no error or log line carries a secret.
//!
//! It does not own policy: it does not decide when a PIN locks, what a valid passcode is, or
//! redact numbers in the audit log (callers pass what they want stored). It never reads the clock
//! for the data it stores (times are arguments); only the schema migration log is stamped with
//! the wall clock.

mod error;
mod hash;
mod records;
mod sqlite;

pub mod demo;

pub use demo::{DemoCredentials, DemoUser, seed_demo};

pub use error::StorageError;
pub use hash::{Hasher, compute_ha1};
pub use plenum_plugin_api::policy::PinAttempts;
pub use plenum_plugin_api::types::AdmissionPolicy;
pub use records::{
    AccessNumberRecord, AddressParseError, AuditEvent, AuditRecord, BindingRecord,
    ConferenceRecord, DigestAlgorithm, GatewayAddress, GatewayRecord, GatewayTransport,
    NewConference, PluginVersionRecord, ProfileRecord, RuleRecord, TenantRecord, UserRecord,
};
pub use sqlite::{SCHEMA_VERSION, SqlitePool};

use plenum_types::{Digest, E164, PluginKind, PstnId, Secret, TenantId, UnixTime};

/// The pool database.
///
/// Every method is one atomic, durable operation: when it returns `Ok`, the change is on disk.
/// Lookups that may find nothing return `Ok(None)`; writes that name a missing row return
/// [`StorageError::NotFound`].
pub trait Pool: Send + Sync {
    /// Whether the pool holds no tenant at all (a fresh database, ready for seeding).
    fn is_empty(&self) -> Result<bool, StorageError>;

    // ---- tenants ----

    /// Add a tenant. A taken id or SIP domain is a [`StorageError::Conflict`].
    fn create_tenant(&self, tenant: &TenantRecord) -> Result<(), StorageError>;
    /// Replace a tenant's name, domain, PSTN flag, policy document and default profile
    /// (`created_at` is kept).
    fn update_tenant(&self, tenant: &TenantRecord) -> Result<(), StorageError>;
    /// The tenant with this id.
    fn tenant(&self, id: &TenantId) -> Result<Option<TenantRecord>, StorageError>;
    /// The tenant that owns this SIP domain (compared case-insensitively).
    fn tenant_by_domain(&self, sip_domain: &str) -> Result<Option<TenantRecord>, StorageError>;
    /// Every tenant, by id.
    fn tenants(&self) -> Result<Vec<TenantRecord>, StorageError>;

    // ---- location profiles ----

    /// Create or replace a location profile; its rule list is replaced atomically.
    fn put_profile(&self, tenant: &TenantId, profile: &ProfileRecord) -> Result<(), StorageError>;
    /// One profile with its rules in order.
    fn profile(&self, tenant: &TenantId, name: &str)
    -> Result<Option<ProfileRecord>, StorageError>;
    /// Every profile of a tenant, by name, each with its rules in order.
    fn profiles(&self, tenant: &TenantId) -> Result<Vec<ProfileRecord>, StorageError>;

    // ---- access numbers ----

    /// Add a dial-in access number; a number is unique in the pool.
    fn add_access_number(&self, number: &AccessNumberRecord) -> Result<(), StorageError>;
    /// Reverse number lookup: the access number record for a called number.
    fn access_number(&self, number: &E164) -> Result<Option<AccessNumberRecord>, StorageError>;
    /// A tenant's access numbers, ordered by region, then priority, then number.
    fn access_numbers(&self, tenant: &TenantId) -> Result<Vec<AccessNumberRecord>, StorageError>;

    // ---- users ----

    /// Add a user (without PIN or SIP password; set those separately).
    fn add_user(&self, user: &UserRecord) -> Result<(), StorageError>;
    /// The user with this SIP URI.
    fn user_by_uri(&self, sip_uri: &str) -> Result<Option<UserRecord>, StorageError>;
    /// The tenant's user with this extension.
    fn user_by_extension(
        &self,
        tenant: &TenantId,
        extension: &str,
    ) -> Result<Option<UserRecord>, StorageError>;
    /// The user whose line is this number.
    fn user_by_line(&self, line: &E164) -> Result<Option<UserRecord>, StorageError>;
    /// A tenant's users, by SIP URI.
    fn users(&self, tenant: &TenantId) -> Result<Vec<UserRecord>, StorageError>;
    /// Set a user's PIN (stored as an argon2id hash) and when it was set. Attempt counters are
    /// left alone: unlocking is [`Pool::set_pin_attempts`].
    fn set_pin(&self, sip_uri: &str, pin: &Secret, now: UnixTime) -> Result<(), StorageError>;
    /// When the user's PIN was set; `None` when the user has no PIN.
    fn pin_set_at(&self, sip_uri: &str) -> Result<Option<UnixTime>, StorageError>;
    /// Whether `pin` is the user's PIN. `false` for a user without a PIN; `NotFound` for no user.
    fn verify_pin(&self, sip_uri: &str, pin: &Secret) -> Result<bool, StorageError>;
    /// The user's PIN attempt counters.
    fn pin_attempts(&self, sip_uri: &str) -> Result<PinAttempts, StorageError>;
    /// Replace the user's PIN attempt counters.
    fn set_pin_attempts(&self, sip_uri: &str, attempts: &PinAttempts) -> Result<(), StorageError>;
    /// Set the user's SIP digest password: stores the MD5 and SHA-256 HA1s for the realm of the
    /// user's tenant (its SIP domain), never the password. The HA1s are bound to that realm:
    /// after the tenant's domain changes, passwords must be set again.
    fn set_sip_password(&self, sip_uri: &str, password: &Secret) -> Result<(), StorageError>;
    /// The user's HA1 (lowercase hex) for an algorithm; `None` when no password is set.
    fn digest_ha1(
        &self,
        sip_uri: &str,
        algorithm: DigestAlgorithm,
    ) -> Result<Option<String>, StorageError>;

    // ---- gateways ----

    /// Add a media gateway (or IP-PBX, or SIP trunk).
    fn add_gateway(&self, gateway: &GatewayRecord) -> Result<(), StorageError>;
    /// Every gateway of the pool, by name.
    fn gateways(&self) -> Result<Vec<GatewayRecord>, StorageError>;

    // ---- conferences ----

    /// Store a new conference at revision 1; returns its row id. A taken PSTN ID or
    /// (organizer, conference ID) pair is a [`StorageError::Conflict`] naming which.
    fn insert_conference(&self, conference: &NewConference) -> Result<i64, StorageError>;
    /// The conference with this row id.
    fn conference_by_id(&self, id: i64) -> Result<Option<ConferenceRecord>, StorageError>;
    /// The conference with this PSTN ID, expired or not (the caller checks `expires_at`).
    fn conference_by_pstn(
        &self,
        pstn_id: &PstnId,
    ) -> Result<Option<ConferenceRecord>, StorageError>;
    /// The organizer's conference with this C3P conference ID.
    fn conference(
        &self,
        organizer: &str,
        conference_id: &str,
    ) -> Result<Option<ConferenceRecord>, StorageError>;
    /// The organizer's conferences that have not expired at `now`, oldest first.
    fn conferences_of(
        &self,
        organizer: &str,
        now: UnixTime,
    ) -> Result<Vec<ConferenceRecord>, StorageError>;
    /// Write the mutable fields of `conference` (subject, PSTN ID, admission policy, lobby
    /// bypass, expiry, `updated_at`) to the row `conference.id` if it is still at
    /// `expected_revision`; returns the new revision. Otherwise
    /// [`StorageError::StaleRevision`] with the current one.
    fn update_conference(
        &self,
        conference: &ConferenceRecord,
        expected_revision: u64,
    ) -> Result<u64, StorageError>;
    /// Delete a conference.
    fn delete_conference(&self, id: i64) -> Result<(), StorageError>;
    /// Delete every conference that expired at or before `now`; returns how many.
    fn delete_expired_conferences(&self, now: UnixTime) -> Result<u64, StorageError>;
    /// Set (or with `None`, remove) a conference's passcode. Does not change its revision.
    fn set_passcode(&self, id: i64, passcode: Option<&Secret>) -> Result<(), StorageError>;
    /// Whether `passcode` is the conference's passcode; `false` when it has none.
    fn verify_passcode(&self, id: i64, passcode: &Secret) -> Result<bool, StorageError>;
    /// The conference's passcode hash (an argon2id PHC string); `None` when it has none.
    fn passcode_hash(&self, id: i64) -> Result<Option<String>, StorageError>;
    /// The next number of the pool's PSTN ID sequence: durable, strictly increasing, never
    /// handed out twice.
    fn next_pstn_sequence(&self) -> Result<u64, StorageError>;

    // ---- plugins ----

    /// Store an uploaded plugin version. The digest must be the sha256 of `bytes` and the size
    /// their length. Idempotent: returns `false` (and changes nothing) when the same
    /// (tenant, kind, digest) is already stored.
    fn put_plugin_version(
        &self,
        meta: &PluginVersionRecord,
        bytes: &[u8],
    ) -> Result<bool, StorageError>;
    /// A stored version's metadata.
    fn plugin_version(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        digest: &Digest,
    ) -> Result<Option<PluginVersionRecord>, StorageError>;
    /// A stored version's component bytes.
    fn plugin_bytes(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        digest: &Digest,
    ) -> Result<Option<Vec<u8>>, StorageError>;
    /// A tenant's stored versions of a kind, newest upload first.
    fn plugin_versions(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
    ) -> Result<Vec<PluginVersionRecord>, StorageError>;
    /// The active (and previous) version of a tenant's plugin of a kind.
    fn binding(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
    ) -> Result<Option<BindingRecord>, StorageError>;
    /// Create or replace the binding for (`binding.tenant`, `binding.kind`).
    fn set_binding(&self, binding: &BindingRecord) -> Result<(), StorageError>;
    /// Every binding of the pool (to restore the active set at start-up), by tenant and kind.
    fn bindings(&self) -> Result<Vec<BindingRecord>, StorageError>;

    // ---- audit ----

    /// Append an event to the audit log (`record.id` is ignored); returns its id.
    fn audit(&self, record: &AuditRecord) -> Result<i64, StorageError>;
    /// A tenant's most recent audit events, newest first, at most `limit`.
    fn audit_events(&self, tenant: &TenantId, limit: u32)
    -> Result<Vec<AuditRecord>, StorageError>;
}
