//! The append-only audit log.

use rusqlite::{Connection, Row};

use super::map::{all, col, optional, parse};
use crate::{AuditEvent, AuditRecord, StorageError};
use plenum_types::TenantId;

pub(crate) fn append(conn: &Connection, r: &AuditRecord) -> Result<i64, StorageError> {
    let id = optional(
        conn,
        "INSERT INTO audit (at, tenant, event, conference, subject, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        (
            r.at,
            r.tenant.as_ref().map(TenantId::as_str),
            r.event.as_str(),
            r.conference,
            &r.subject,
            &r.detail,
        ),
        |row| col(row, 0, "audit id"),
    )?;
    id.ok_or(StorageError::Corrupt { what: "audit id" })
}

pub(crate) fn events(
    conn: &Connection,
    tenant: &TenantId,
    limit: u32,
) -> Result<Vec<AuditRecord>, StorageError> {
    all(
        conn,
        "SELECT id, at, tenant, event, conference, subject, detail FROM audit \
         WHERE tenant = ?1 ORDER BY id DESC LIMIT ?2",
        (tenant.as_str(), limit),
        audit_row,
    )
}

fn audit_row(row: &Row<'_>) -> Result<AuditRecord, StorageError> {
    let tenant: Option<String> = col(row, 2, "tenant id")?;
    Ok(AuditRecord {
        id: col(row, 0, "audit id")?,
        at: col(row, 1, "audit time")?,
        tenant: tenant
            .map(|t| parse(&t, "tenant id", TenantId::new))
            .transpose()?,
        event: parse(&col::<String>(row, 3, "audit event")?, "audit event", |s| {
            AuditEvent::from_name(s).ok_or(())
        })?,
        conference: col(row, 4, "audit conference")?,
        subject: col(row, 5, "audit subject")?,
        detail: col(row, 6, "audit detail")?,
    })
}
