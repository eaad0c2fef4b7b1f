//! Conferences (with their passcode hash and revision) and the PSTN ID sequence.

use rusqlite::{Connection, Row};

use super::map::{Constraints, all, col, optional, parse, signed, touched, unsigned};
use crate::{AdmissionPolicy, ConferenceRecord, NewConference, StorageError};
use plenum_types::{PstnId, TenantId, UnixTime};

const CONFERENCES: Constraints = Constraints {
    unique: &[
        ("conferences.pstn_id", "pstn id"),
        (
            "conferences.organizer, conferences.conference_id",
            "conference id",
        ),
    ],
    reference: "organizer (a user of the tenant)",
};

macro_rules! select_conference {
    ($tail:literal) => {
        concat!(
            "SELECT id, tenant, organizer, conference_id, subject, pstn_id, ",
            "passcode_hash IS NOT NULL, admission_policy, lobby_bypass, expires_at, revision, ",
            "created_at, updated_at FROM conferences ",
            $tail
        )
    };
}

pub(crate) fn insert(
    conn: &Connection,
    c: &NewConference,
    passcode_hash: Option<&str>,
) -> Result<i64, StorageError> {
    if c.conference_id.is_empty() {
        return Err(StorageError::Invalid {
            what: "conference id",
        });
    }
    conn.prepare_cached(
        "INSERT INTO conferences (tenant, organizer, conference_id, subject, pstn_id, \
         passcode_hash, admission_policy, lobby_bypass, expires_at, revision, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
    )?
    .execute((
        c.tenant.as_str(),
        &c.organizer,
        &c.conference_id,
        &c.subject,
        c.pstn_id.as_ref().map(PstnId::as_str),
        passcode_hash,
        c.admission_policy.c3p_name(),
        c.lobby_bypass,
        c.expires_at,
        c.created_at,
    ))
    .map_err(|e| CONFERENCES.map(e))?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn by_id(conn: &Connection, id: i64) -> Result<Option<ConferenceRecord>, StorageError> {
    optional(
        conn,
        select_conference!("WHERE id = ?1"),
        [id],
        conference_row,
    )
}

pub(crate) fn by_pstn(
    conn: &Connection,
    pstn_id: &PstnId,
) -> Result<Option<ConferenceRecord>, StorageError> {
    optional(
        conn,
        select_conference!("WHERE pstn_id = ?1"),
        [pstn_id.as_str()],
        conference_row,
    )
}

pub(crate) fn by_organizer(
    conn: &Connection,
    organizer: &str,
    conference_id: &str,
) -> Result<Option<ConferenceRecord>, StorageError> {
    optional(
        conn,
        select_conference!("WHERE organizer = ?1 AND conference_id = ?2"),
        (organizer, conference_id),
        conference_row,
    )
}

pub(crate) fn of_organizer(
    conn: &Connection,
    organizer: &str,
    now: UnixTime,
) -> Result<Vec<ConferenceRecord>, StorageError> {
    all(
        conn,
        select_conference!("WHERE organizer = ?1 AND expires_at > ?2 ORDER BY created_at, id"),
        (organizer, now),
        conference_row,
    )
}

/// Compare-and-set on the revision: write the mutable fields only if the row is still at
/// `expected`, and bump the revision.
pub(crate) fn update(
    conn: &Connection,
    c: &ConferenceRecord,
    expected: u64,
) -> Result<u64, StorageError> {
    let new = optional(
        conn,
        "UPDATE conferences SET subject = ?3, pstn_id = ?4, admission_policy = ?5, \
         lobby_bypass = ?6, expires_at = ?7, updated_at = ?8, revision = revision + 1 \
         WHERE id = ?1 AND revision = ?2 RETURNING revision",
        (
            c.id,
            signed(expected, "revision")?,
            &c.subject,
            c.pstn_id.as_ref().map(PstnId::as_str),
            c.admission_policy.c3p_name(),
            c.lobby_bypass,
            c.expires_at,
            c.updated_at,
        ),
        |r| unsigned(col(r, 0, "revision")?, "revision"),
    )
    .map_err(|e| match e {
        StorageError::Sqlite(e) => CONFERENCES.map(e),
        other => other,
    })?;
    if let Some(revision) = new {
        return Ok(revision);
    }
    let current = optional(
        conn,
        "SELECT revision FROM conferences WHERE id = ?1",
        [c.id],
        |r| unsigned(col(r, 0, "revision")?, "revision"),
    )?;
    match current {
        Some(current) => Err(StorageError::StaleRevision { current }),
        None => Err(StorageError::NotFound { what: "conference" }),
    }
}

pub(crate) fn delete(conn: &Connection, id: i64) -> Result<(), StorageError> {
    let changed = conn
        .prepare_cached("DELETE FROM conferences WHERE id = ?1")?
        .execute([id])?;
    touched(changed, "conference")
}

pub(crate) fn delete_expired(conn: &Connection, now: UnixTime) -> Result<u64, StorageError> {
    let n = conn
        .prepare_cached("DELETE FROM conferences WHERE expires_at <= ?1")?
        .execute([now])?;
    Ok(n as u64)
}

pub(crate) fn set_passcode_hash(
    conn: &Connection,
    id: i64,
    hash: Option<&str>,
) -> Result<(), StorageError> {
    let changed = conn
        .prepare_cached("UPDATE conferences SET passcode_hash = ?2 WHERE id = ?1")?
        .execute((id, hash))?;
    touched(changed, "conference")
}

/// The conference's passcode hash; `None` when it has none; `NotFound` for no conference.
pub(crate) fn passcode_hash(conn: &Connection, id: i64) -> Result<Option<String>, StorageError> {
    optional(
        conn,
        "SELECT passcode_hash FROM conferences WHERE id = ?1",
        [id],
        |r| col::<Option<String>>(r, 0, "passcode hash"),
    )?
    .ok_or(StorageError::NotFound { what: "conference" })
}

pub(crate) fn next_pstn_sequence(conn: &Connection) -> Result<u64, StorageError> {
    let n = optional(
        conn,
        "UPDATE pstn_sequence SET next = next + 1 WHERE id = 1 RETURNING next - 1",
        [],
        |r| unsigned(col(r, 0, "pstn sequence")?, "pstn sequence"),
    )?;
    n.ok_or(StorageError::Corrupt {
        what: "pstn sequence",
    })
}

fn conference_row(row: &Row<'_>) -> Result<ConferenceRecord, StorageError> {
    let pstn_id: Option<String> = col(row, 5, "pstn id")?;
    Ok(ConferenceRecord {
        id: col(row, 0, "conference row id")?,
        tenant: parse(
            &col::<String>(row, 1, "tenant id")?,
            "tenant id",
            TenantId::new,
        )?,
        organizer: col(row, 2, "organizer")?,
        conference_id: col(row, 3, "conference id")?,
        subject: col(row, 4, "subject")?,
        pstn_id: pstn_id
            .map(|p| parse(&p, "pstn id", PstnId::new))
            .transpose()?,
        has_passcode: col(row, 6, "passcode flag")?,
        admission_policy: parse(
            &col::<String>(row, 7, "admission policy")?,
            "admission policy",
            |s| AdmissionPolicy::from_c3p(s).ok_or(()),
        )?,
        lobby_bypass: col(row, 8, "lobby bypass flag")?,
        expires_at: col(row, 9, "expires_at")?,
        revision: unsigned(col(row, 10, "revision")?, "revision")?,
        created_at: col(row, 11, "created_at")?,
        updated_at: col(row, 12, "updated_at")?,
    })
}
