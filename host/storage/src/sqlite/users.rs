//! Users (with their PIN hash, PIN attempt counters and digest HA1s) and gateways.

use rusqlite::{Connection, Row};

use super::map::{Constraints, all, col, optional, parse, touched};
use crate::records::uri_user_part;
use crate::{
    DigestAlgorithm, GatewayAddress, GatewayRecord, GatewayTransport, PinAttempts, StorageError,
    UserRecord, compute_ha1,
};
use plenum_types::{E164, Secret, TenantId, UnixTime};

const USERS: Constraints = Constraints {
    unique: &[
        ("users.sip_uri", "sip uri"),
        // The (sip_uri, tenant) key of the conference foreign key fires first when both do.
        ("users.sip_uri, users.tenant", "sip uri"),
        ("users.line", "line"),
        ("users.tenant, users.extension", "extension"),
    ],
    reference: "tenant or location profile",
};

const GATEWAYS: Constraints = Constraints {
    unique: &[
        ("gateways.name", "gateway name"),
        ("gateways.address", "gateway address"),
    ],
    reference: "tenant or location profile",
};

macro_rules! select_user {
    ($tail:literal) => {
        concat!(
            "SELECT sip_uri, tenant, display_name, line, extension, location_profile, ",
            "is_organizer FROM users ",
            $tail
        )
    };
}

pub(crate) fn add(conn: &Connection, u: &UserRecord) -> Result<(), StorageError> {
    if u.username().is_none() {
        return Err(StorageError::Invalid { what: "sip uri" });
    }
    let digits = |e: &String| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit());
    if !u.extension.as_ref().is_none_or(digits) {
        return Err(StorageError::Invalid { what: "extension" });
    }
    conn.prepare_cached(
        "INSERT INTO users (sip_uri, tenant, display_name, line, extension, location_profile, \
         is_organizer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute((
        &u.sip_uri,
        u.tenant.as_str(),
        &u.display_name,
        u.line.as_ref().map(E164::as_str),
        &u.extension,
        &u.location_profile,
        u.is_organizer,
    ))
    .map_err(|e| USERS.map(e))?;
    Ok(())
}

pub(crate) fn by_uri(conn: &Connection, uri: &str) -> Result<Option<UserRecord>, StorageError> {
    optional(conn, select_user!("WHERE sip_uri = ?1"), [uri], user_row)
}

pub(crate) fn by_extension(
    conn: &Connection,
    tenant: &TenantId,
    extension: &str,
) -> Result<Option<UserRecord>, StorageError> {
    optional(
        conn,
        select_user!("WHERE tenant = ?1 AND extension = ?2"),
        (tenant.as_str(), extension),
        user_row,
    )
}

pub(crate) fn by_line(conn: &Connection, line: &E164) -> Result<Option<UserRecord>, StorageError> {
    optional(
        conn,
        select_user!("WHERE line = ?1"),
        [line.as_str()],
        user_row,
    )
}

pub(crate) fn of_tenant(
    conn: &Connection,
    tenant: &TenantId,
) -> Result<Vec<UserRecord>, StorageError> {
    all(
        conn,
        select_user!("WHERE tenant = ?1 ORDER BY sip_uri"),
        [tenant.as_str()],
        user_row,
    )
}

fn user_row(row: &Row<'_>) -> Result<UserRecord, StorageError> {
    let line: Option<String> = col(row, 3, "user line")?;
    Ok(UserRecord {
        sip_uri: col(row, 0, "sip uri")?,
        tenant: parse(
            &col::<String>(row, 1, "tenant id")?,
            "tenant id",
            TenantId::new,
        )?,
        display_name: col(row, 2, "display name")?,
        line: line
            .map(|l| parse(&l, "user line", E164::new))
            .transpose()?,
        extension: col(row, 4, "extension")?,
        location_profile: col(row, 5, "location profile")?,
        is_organizer: col(row, 6, "organizer flag")?,
    })
}

// ---- PIN ----

pub(crate) fn set_pin_hash(
    conn: &Connection,
    uri: &str,
    hash: &str,
    now: UnixTime,
) -> Result<(), StorageError> {
    let changed = conn
        .prepare_cached("UPDATE users SET pin_hash = ?2, pin_set_at = ?3 WHERE sip_uri = ?1")?
        .execute((uri, hash, now))?;
    touched(changed, "user")
}

/// The user's PIN hash; `None` when no PIN is set; `NotFound` for no user.
pub(crate) fn pin_hash(conn: &Connection, uri: &str) -> Result<Option<String>, StorageError> {
    optional(
        conn,
        "SELECT pin_hash FROM users WHERE sip_uri = ?1",
        [uri],
        |r| col::<Option<String>>(r, 0, "pin hash"),
    )?
    .ok_or(StorageError::NotFound { what: "user" })
}

pub(crate) fn pin_set_at(conn: &Connection, uri: &str) -> Result<Option<UnixTime>, StorageError> {
    optional(
        conn,
        "SELECT pin_set_at FROM users WHERE sip_uri = ?1",
        [uri],
        |r| col::<Option<UnixTime>>(r, 0, "pin_set_at"),
    )?
    .ok_or(StorageError::NotFound { what: "user" })
}

pub(crate) fn pin_attempts(conn: &Connection, uri: &str) -> Result<PinAttempts, StorageError> {
    optional(
        conn,
        "SELECT pin_local_failures, pin_window_start, pin_global_failures, pin_locked_until, \
         pin_locked FROM users WHERE sip_uri = ?1",
        [uri],
        |r| {
            Ok(PinAttempts {
                local_failures: col(r, 0, "pin local failures")?,
                window_start: col(r, 1, "pin window start")?,
                global_failures: col(r, 2, "pin global failures")?,
                locked_until: col(r, 3, "pin locked_until")?,
                locked: col(r, 4, "pin locked flag")?,
            })
        },
    )?
    .ok_or(StorageError::NotFound { what: "user" })
}

pub(crate) fn set_pin_attempts(
    conn: &Connection,
    uri: &str,
    a: &PinAttempts,
) -> Result<(), StorageError> {
    let changed = conn
        .prepare_cached(
            "UPDATE users SET pin_local_failures = ?2, pin_window_start = ?3, \
             pin_global_failures = ?4, pin_locked_until = ?5, pin_locked = ?6 WHERE sip_uri = ?1",
        )?
        .execute((
            uri,
            a.local_failures,
            a.window_start,
            a.global_failures,
            a.locked_until,
            a.locked,
        ))?;
    touched(changed, "user")
}

// ---- SIP digest ----

pub(crate) fn set_sip_password(
    conn: &Connection,
    uri: &str,
    password: &Secret,
) -> Result<(), StorageError> {
    let realm = optional(
        conn,
        "SELECT t.sip_domain FROM users u JOIN tenants t ON t.id = u.tenant WHERE u.sip_uri = ?1",
        [uri],
        |r| col::<String>(r, 0, "sip domain"),
    )?
    .ok_or(StorageError::NotFound { what: "user" })?;
    let username = uri_user_part(uri).ok_or(StorageError::Corrupt { what: "sip uri" })?;
    let md5 = compute_ha1(DigestAlgorithm::Md5, username, &realm, password);
    let sha256 = compute_ha1(DigestAlgorithm::Sha256, username, &realm, password);
    conn.prepare_cached("UPDATE users SET ha1_md5 = ?2, ha1_sha256 = ?3 WHERE sip_uri = ?1")?
        .execute((uri, md5, sha256))?;
    Ok(())
}

pub(crate) fn ha1(
    conn: &Connection,
    uri: &str,
    algorithm: DigestAlgorithm,
) -> Result<Option<String>, StorageError> {
    let sql = match algorithm {
        DigestAlgorithm::Md5 => "SELECT ha1_md5 FROM users WHERE sip_uri = ?1",
        DigestAlgorithm::Sha256 => "SELECT ha1_sha256 FROM users WHERE sip_uri = ?1",
    };
    optional(conn, sql, [uri], |r| {
        col::<Option<String>>(r, 0, "digest ha1")
    })?
    .ok_or(StorageError::NotFound { what: "user" })
}

// ---- gateways ----

pub(crate) fn add_gateway(conn: &Connection, g: &GatewayRecord) -> Result<(), StorageError> {
    if g.name.is_empty() {
        return Err(StorageError::Invalid {
            what: "gateway name",
        });
    }
    conn.prepare_cached(
        "INSERT INTO gateways (name, tenant, address, transport, srtp, location_profile) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute((
        &g.name,
        g.tenant.as_str(),
        g.address.to_string(),
        g.transport.as_str(),
        g.srtp,
        &g.location_profile,
    ))
    .map_err(|e| GATEWAYS.map(e))?;
    Ok(())
}

pub(crate) fn gateways(conn: &Connection) -> Result<Vec<GatewayRecord>, StorageError> {
    all(
        conn,
        "SELECT name, tenant, address, transport, srtp, location_profile FROM gateways \
         ORDER BY name",
        [],
        |row| {
            Ok(GatewayRecord {
                name: col(row, 0, "gateway name")?,
                tenant: parse(
                    &col::<String>(row, 1, "tenant id")?,
                    "tenant id",
                    TenantId::new,
                )?,
                address: parse(
                    &col::<String>(row, 2, "gateway address")?,
                    "gateway address",
                    |s| s.parse::<GatewayAddress>(),
                )?,
                transport: parse(
                    &col::<String>(row, 3, "gateway transport")?,
                    "gateway transport",
                    |s| GatewayTransport::from_name(s).ok_or(()),
                )?,
                srtp: col(row, 4, "gateway srtp flag")?,
                location_profile: col(row, 5, "location profile")?,
            })
        },
    )
}
