//! Uploaded plugin versions and the active binding per tenant and kind.

use rusqlite::{Connection, Row};
use sha2::Digest as _;

use super::map::{Constraints, all, col, optional, parse, signed, unsigned};
use crate::{BindingRecord, PluginVersionRecord, StorageError};
use plenum_types::{Digest, PluginKind, TenantId};

const VERSIONS: Constraints = Constraints {
    unique: &[],
    reference: "tenant",
};

macro_rules! select_version {
    ($tail:literal) => {
        concat!(
            "SELECT tenant, kind, digest, name, version, description, size, uploaded_at ",
            "FROM plugin_versions ",
            $tail
        )
    };
}

macro_rules! select_binding {
    ($tail:literal) => {
        concat!(
            "SELECT tenant, kind, active_digest, previous_digest, updated_at FROM plugin_bindings ",
            $tail
        )
    };
}

/// The metadata must describe the bytes: the digest is their sha256, the size their length.
pub(crate) fn check_content(meta: &PluginVersionRecord, bytes: &[u8]) -> Result<(), StorageError> {
    if Digest(sha2::Sha256::digest(bytes).into()) != meta.digest {
        return Err(StorageError::Invalid {
            what: "plugin digest (not the sha256 of the bytes)",
        });
    }
    if u64::try_from(bytes.len()).ok() != Some(meta.size) {
        return Err(StorageError::Invalid {
            what: "plugin size (not the length of the bytes)",
        });
    }
    Ok(())
}

pub(crate) fn put_version(
    conn: &Connection,
    m: &PluginVersionRecord,
    bytes: &[u8],
) -> Result<bool, StorageError> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO plugin_versions (tenant, kind, digest, name, version, description, \
             size, bytes, uploaded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (tenant, kind, digest) DO NOTHING",
        )?
        .execute((
            m.tenant.as_str(),
            m.kind.world(),
            m.digest.to_hex(),
            &m.name,
            &m.version,
            &m.description,
            signed(m.size, "plugin size")?,
            bytes,
            m.uploaded_at,
        ))
        .map_err(|e| VERSIONS.map(e))?;
    Ok(changed == 1)
}

pub(crate) fn version(
    conn: &Connection,
    tenant: &TenantId,
    kind: PluginKind,
    digest: &Digest,
) -> Result<Option<PluginVersionRecord>, StorageError> {
    optional(
        conn,
        select_version!("WHERE tenant = ?1 AND kind = ?2 AND digest = ?3"),
        (tenant.as_str(), kind.world(), digest.to_hex()),
        version_row,
    )
}

pub(crate) fn bytes(
    conn: &Connection,
    tenant: &TenantId,
    kind: PluginKind,
    digest: &Digest,
) -> Result<Option<Vec<u8>>, StorageError> {
    optional(
        conn,
        "SELECT bytes FROM plugin_versions WHERE tenant = ?1 AND kind = ?2 AND digest = ?3",
        (tenant.as_str(), kind.world(), digest.to_hex()),
        |r| col(r, 0, "plugin bytes"),
    )
}

pub(crate) fn versions(
    conn: &Connection,
    tenant: &TenantId,
    kind: PluginKind,
) -> Result<Vec<PluginVersionRecord>, StorageError> {
    all(
        conn,
        select_version!("WHERE tenant = ?1 AND kind = ?2 ORDER BY uploaded_at DESC, digest"),
        (tenant.as_str(), kind.world()),
        version_row,
    )
}

fn version_row(row: &Row<'_>) -> Result<PluginVersionRecord, StorageError> {
    Ok(PluginVersionRecord {
        tenant: tenant_col(row, 0)?,
        kind: kind_col(row, 1)?,
        digest: digest_col(row, 2)?,
        name: col(row, 3, "plugin name")?,
        version: col(row, 4, "plugin version")?,
        description: col(row, 5, "plugin description")?,
        size: unsigned(col(row, 6, "plugin size")?, "plugin size")?,
        uploaded_at: col(row, 7, "plugin uploaded_at")?,
    })
}

// ---- bindings ----

pub(crate) fn binding(
    conn: &Connection,
    tenant: &TenantId,
    kind: PluginKind,
) -> Result<Option<BindingRecord>, StorageError> {
    optional(
        conn,
        select_binding!("WHERE tenant = ?1 AND kind = ?2"),
        (tenant.as_str(), kind.world()),
        binding_row,
    )
}

pub(crate) fn set_binding(conn: &Connection, b: &BindingRecord) -> Result<(), StorageError> {
    conn.prepare_cached(
        "INSERT INTO plugin_bindings (tenant, kind, active_digest, previous_digest, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant, kind) DO UPDATE SET \
         active_digest = excluded.active_digest, previous_digest = excluded.previous_digest, \
         updated_at = excluded.updated_at",
    )?
    .execute((
        b.tenant.as_str(),
        b.kind.world(),
        b.active.to_hex(),
        b.previous.as_ref().map(Digest::to_hex),
        b.updated_at,
    ))
    .map_err(|e| VERSIONS.map(e))?;
    Ok(())
}

pub(crate) fn bindings(conn: &Connection) -> Result<Vec<BindingRecord>, StorageError> {
    all(
        conn,
        select_binding!("ORDER BY tenant, kind"),
        [],
        binding_row,
    )
}

fn binding_row(row: &Row<'_>) -> Result<BindingRecord, StorageError> {
    let previous: Option<String> = col(row, 3, "plugin digest")?;
    Ok(BindingRecord {
        tenant: tenant_col(row, 0)?,
        kind: kind_col(row, 1)?,
        active: digest_col(row, 2)?,
        previous: previous
            .map(|d| parse(&d, "plugin digest", Digest::from_hex))
            .transpose()?,
        updated_at: col(row, 4, "binding updated_at")?,
    })
}

fn tenant_col(row: &Row<'_>, idx: usize) -> Result<TenantId, StorageError> {
    parse(
        &col::<String>(row, idx, "tenant id")?,
        "tenant id",
        TenantId::new,
    )
}

fn kind_col(row: &Row<'_>, idx: usize) -> Result<PluginKind, StorageError> {
    parse(
        &col::<String>(row, idx, "plugin kind")?,
        "plugin kind",
        |s| PluginKind::from_world(s).ok_or(()),
    )
}

fn digest_col(row: &Row<'_>, idx: usize) -> Result<Digest, StorageError> {
    parse(
        &col::<String>(row, idx, "plugin digest")?,
        "plugin digest",
        Digest::from_hex,
    )
}
