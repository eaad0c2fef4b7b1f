//! Fixtures shared by the pool tests.

use std::path::{Path, PathBuf};

use plenum_storage::{
    AdmissionPolicy, Hasher, NewConference, Pool, ProfileRecord, RuleRecord, SqlitePool,
    TenantRecord, UserRecord,
};
use plenum_types::{E164, PstnId, TenantId};
use tempfile::TempDir;

/// A temporary data directory and the database path inside it.
pub struct Dir {
    pub dir: TempDir,
    pub path: PathBuf,
}

pub fn dir() -> Dir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pool.db");
    Dir { dir, path }
}

/// Argon2 parameters cheap enough for tests (the default ones get one test of their own).
pub fn cheap() -> Hasher {
    Hasher::new(64, 1, 1).unwrap()
}

pub fn open(path: &Path) -> SqlitePool {
    SqlitePool::open_with(path, cheap()).unwrap()
}

pub fn tid(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

pub fn e164(s: &str) -> E164 {
    E164::new(s).unwrap()
}

pub fn pstn(base: &str) -> PstnId {
    PstnId::from_base(base).unwrap()
}

pub fn tenant(id: &str, domain: &str) -> TenantRecord {
    TenantRecord {
        id: tid(id),
        name: id.to_uppercase(),
        sip_domain: domain.to_owned(),
        pstn_enabled: true,
        policy_document: String::new(),
        default_profile: Some("Home".to_owned()),
        created_at: 1_000,
    }
}

pub fn profile(name: &str, rules: &[(&str, &str, &str)]) -> ProfileRecord {
    ProfileRecord {
        name: name.to_owned(),
        region: format!("{name} region"),
        external_access_prefix: None,
        rules: rules
            .iter()
            .map(|(n, p, t)| RuleRecord {
                name: (*n).to_owned(),
                pattern: (*p).to_owned(),
                translation: (*t).to_owned(),
            })
            .collect(),
    }
}

pub fn user(uri: &str, tenant: &str, ext: Option<&str>, line: Option<&str>) -> UserRecord {
    UserRecord {
        sip_uri: uri.to_owned(),
        tenant: tid(tenant),
        display_name: format!("User {uri}"),
        line: line.map(e164),
        extension: ext.map(str::to_owned),
        location_profile: Some("Home".to_owned()),
        is_organizer: true,
    }
}

pub const ALICE: &str = "sip:alice@contoso.example";
pub const BOB: &str = "sip:bob@contoso.example";

/// Tenant `contoso` with profile `Home`, alice (ext 1001) and bob (ext 1002).
pub fn contoso(pool: &dyn Pool) {
    pool.create_tenant(&tenant("contoso", "contoso.example"))
        .unwrap();
    pool.put_profile(
        &tid("contoso"),
        &profile("Home", &[("ext", r"^(\d{4})$", "+1425555$1")]),
    )
    .unwrap();
    pool.add_user(&user(ALICE, "contoso", Some("1001"), Some("+14255551001")))
        .unwrap();
    pool.add_user(&user(BOB, "contoso", Some("1002"), Some("+14255551002")))
        .unwrap();
}

pub fn new_conference(
    organizer: &str,
    conference_id: &str,
    pstn_id: Option<PstnId>,
) -> NewConference {
    NewConference {
        tenant: tid("contoso"),
        organizer: organizer.to_owned(),
        conference_id: conference_id.to_owned(),
        subject: format!("Meeting {conference_id}"),
        pstn_id,
        passcode: None,
        admission_policy: AdmissionPolicy::Anonymous,
        lobby_bypass: false,
        expires_at: 10_000,
        created_at: 1_000,
    }
}

/// Every byte of every file in the data directory (database, WAL, shared memory).
pub fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        out.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
