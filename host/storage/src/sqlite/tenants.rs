//! Tenants, location profiles with their normalization rules, and access numbers.

use rusqlite::{Connection, Row};

use super::map::{Constraints, all, col, optional, parse, touched};
use crate::{AccessNumberRecord, ProfileRecord, RuleRecord, StorageError, TenantRecord};
use plenum_types::{E164, TenantId};

const TENANTS: Constraints = Constraints {
    unique: &[
        ("tenants.id", "tenant id"),
        ("tenants.sip_domain", "sip domain"),
    ],
    reference: "tenant",
};

const PROFILES: Constraints = Constraints {
    unique: &[(
        "normalization_rules.tenant, normalization_rules.profile, normalization_rules.name",
        "rule name",
    )],
    reference: "tenant",
};

const ACCESS_NUMBERS: Constraints = Constraints {
    unique: &[("access_numbers.number", "access number")],
    reference: "tenant",
};

macro_rules! select_tenant {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, sip_domain, pstn_enabled, policy_document, default_profile, ",
            "created_at FROM tenants ",
            $tail
        )
    };
}

macro_rules! select_number {
    ($tail:literal) => {
        concat!(
            "SELECT number, tenant, display, region, languages, priority FROM access_numbers ",
            $tail
        )
    };
}

pub(crate) fn is_empty(conn: &Connection) -> Result<bool, StorageError> {
    Ok(
        !conn.query_row("SELECT EXISTS (SELECT 1 FROM tenants)", [], |r| {
            r.get::<_, bool>(0)
        })?,
    )
}

pub(crate) fn create(conn: &Connection, t: &TenantRecord) -> Result<(), StorageError> {
    check_domain(&t.sip_domain)?;
    conn.prepare_cached(
        "INSERT INTO tenants (id, name, sip_domain, pstn_enabled, policy_document, \
         default_profile, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute((
        t.id.as_str(),
        &t.name,
        &t.sip_domain,
        t.pstn_enabled,
        &t.policy_document,
        &t.default_profile,
        t.created_at,
    ))
    .map_err(|e| TENANTS.map(e))?;
    Ok(())
}

pub(crate) fn update(conn: &Connection, t: &TenantRecord) -> Result<(), StorageError> {
    check_domain(&t.sip_domain)?;
    let changed = conn
        .prepare_cached(
            "UPDATE tenants SET name = ?2, sip_domain = ?3, pstn_enabled = ?4, \
             policy_document = ?5, default_profile = ?6 WHERE id = ?1",
        )?
        .execute((
            t.id.as_str(),
            &t.name,
            &t.sip_domain,
            t.pstn_enabled,
            &t.policy_document,
            &t.default_profile,
        ))
        .map_err(|e| TENANTS.map(e))?;
    touched(changed, "tenant")
}

pub(crate) fn by_id(
    conn: &Connection,
    id: &TenantId,
) -> Result<Option<TenantRecord>, StorageError> {
    optional(
        conn,
        select_tenant!("WHERE id = ?1"),
        [id.as_str()],
        tenant_row,
    )
}

pub(crate) fn by_domain(
    conn: &Connection,
    domain: &str,
) -> Result<Option<TenantRecord>, StorageError> {
    // The column's NOCASE collation makes this comparison case-insensitive.
    optional(
        conn,
        select_tenant!("WHERE sip_domain = ?1"),
        [domain],
        tenant_row,
    )
}

pub(crate) fn all_tenants(conn: &Connection) -> Result<Vec<TenantRecord>, StorageError> {
    all(conn, select_tenant!("ORDER BY id"), [], tenant_row)
}

fn check_domain(domain: &str) -> Result<(), StorageError> {
    let ok = !domain.is_empty() && !domain.contains(['@', ':', ' ', '/']);
    if ok {
        Ok(())
    } else {
        Err(StorageError::Invalid { what: "sip domain" })
    }
}

fn tenant_row(row: &Row<'_>) -> Result<TenantRecord, StorageError> {
    Ok(TenantRecord {
        id: parse(
            &col::<String>(row, 0, "tenant id")?,
            "tenant id",
            TenantId::new,
        )?,
        name: col(row, 1, "tenant name")?,
        sip_domain: col(row, 2, "sip domain")?,
        pstn_enabled: col(row, 3, "pstn flag")?,
        policy_document: col(row, 4, "policy document")?,
        default_profile: col(row, 5, "default profile")?,
        created_at: col(row, 6, "tenant created_at")?,
    })
}

// ---- location profiles ----

pub(crate) fn put_profile(
    conn: &Connection,
    tenant: &TenantId,
    p: &ProfileRecord,
) -> Result<(), StorageError> {
    if p.name.is_empty() {
        return Err(StorageError::Invalid {
            what: "profile name",
        });
    }
    conn.prepare_cached(
        "INSERT INTO location_profiles (tenant, name, region, external_access_prefix) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tenant, name) DO UPDATE SET \
         region = excluded.region, external_access_prefix = excluded.external_access_prefix",
    )?
    .execute((
        tenant.as_str(),
        &p.name,
        &p.region,
        &p.external_access_prefix,
    ))
    .map_err(|e| PROFILES.map(e))?;
    conn.prepare_cached("DELETE FROM normalization_rules WHERE tenant = ?1 AND profile = ?2")?
        .execute((tenant.as_str(), &p.name))?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO normalization_rules (tenant, profile, position, name, pattern, translation) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (position, r) in (0_i64..).zip(&p.rules) {
        insert
            .execute((
                tenant.as_str(),
                &p.name,
                position,
                &r.name,
                &r.pattern,
                &r.translation,
            ))
            .map_err(|e| PROFILES.map(e))?;
    }
    Ok(())
}

pub(crate) fn profile(
    conn: &Connection,
    tenant: &TenantId,
    name: &str,
) -> Result<Option<ProfileRecord>, StorageError> {
    let head = optional(
        conn,
        "SELECT name, region, external_access_prefix FROM location_profiles \
         WHERE tenant = ?1 AND name = ?2",
        (tenant.as_str(), name),
        profile_row,
    )?;
    head.map(|p| with_rules(conn, tenant, p)).transpose()
}

pub(crate) fn profiles(
    conn: &Connection,
    tenant: &TenantId,
) -> Result<Vec<ProfileRecord>, StorageError> {
    let heads = all(
        conn,
        "SELECT name, region, external_access_prefix FROM location_profiles \
         WHERE tenant = ?1 ORDER BY name",
        [tenant.as_str()],
        profile_row,
    )?;
    heads
        .into_iter()
        .map(|p| with_rules(conn, tenant, p))
        .collect()
}

fn profile_row(row: &Row<'_>) -> Result<ProfileRecord, StorageError> {
    Ok(ProfileRecord {
        name: col(row, 0, "profile name")?,
        region: col(row, 1, "profile region")?,
        external_access_prefix: col(row, 2, "external access prefix")?,
        rules: Vec::new(),
    })
}

fn with_rules(
    conn: &Connection,
    tenant: &TenantId,
    mut p: ProfileRecord,
) -> Result<ProfileRecord, StorageError> {
    p.rules = all(
        conn,
        "SELECT name, pattern, translation FROM normalization_rules \
         WHERE tenant = ?1 AND profile = ?2 ORDER BY position",
        (tenant.as_str(), &p.name),
        |row| {
            Ok(RuleRecord {
                name: col(row, 0, "rule name")?,
                pattern: col(row, 1, "rule pattern")?,
                translation: col(row, 2, "rule translation")?,
            })
        },
    )?;
    Ok(p)
}

// ---- access numbers ----

pub(crate) fn add_access_number(
    conn: &Connection,
    n: &AccessNumberRecord,
) -> Result<(), StorageError> {
    let tag_ok =
        |t: &String| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !n.languages.iter().all(tag_ok) {
        return Err(StorageError::Invalid {
            what: "language tag",
        });
    }
    conn.prepare_cached(
        "INSERT INTO access_numbers (number, tenant, display, region, languages, priority) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute((
        n.number.as_str(),
        n.tenant.as_str(),
        &n.display,
        &n.region,
        n.languages.join(","),
        n.priority,
    ))
    .map_err(|e| ACCESS_NUMBERS.map(e))?;
    Ok(())
}

pub(crate) fn access_number(
    conn: &Connection,
    number: &E164,
) -> Result<Option<AccessNumberRecord>, StorageError> {
    optional(
        conn,
        select_number!("WHERE number = ?1"),
        [number.as_str()],
        number_row,
    )
}

pub(crate) fn access_numbers(
    conn: &Connection,
    tenant: &TenantId,
) -> Result<Vec<AccessNumberRecord>, StorageError> {
    all(
        conn,
        select_number!("WHERE tenant = ?1 ORDER BY region, priority, number"),
        [tenant.as_str()],
        number_row,
    )
}

fn number_row(row: &Row<'_>) -> Result<AccessNumberRecord, StorageError> {
    let languages: String = col(row, 4, "access number languages")?;
    Ok(AccessNumberRecord {
        number: parse(
            &col::<String>(row, 0, "access number")?,
            "access number",
            E164::new,
        )?,
        tenant: parse(
            &col::<String>(row, 1, "tenant id")?,
            "tenant id",
            TenantId::new,
        )?,
        display: col(row, 2, "access number display")?,
        region: col(row, 3, "access number region")?,
        languages: languages
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        priority: col(row, 5, "access number priority")?,
    })
}
