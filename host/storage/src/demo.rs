//! The demo world the binary seeds into an empty data directory on first start.
//!
//! Two tenants: `contoso` (Redmond and London, users alice and bob, gateway `demo-gateway` on
//! 127.0.0.2) and `fabrikam` (Berlin, user carol, gateway `fabrikam-gateway` on 127.0.0.3).
//! Each user's SIP digest password is random and returned once in [`DemoCredentials`]; the pool
//! keeps only its HA1s. PINs are fixed, so a demo can be followed from the docs.

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::{
    AccessNumberRecord, GatewayRecord, GatewayTransport, Pool, ProfileRecord, RuleRecord,
    StorageError, TenantRecord, UserRecord,
};
use plenum_types::{E164, Secret, TenantId, UnixTime};

/// Length of the generated SIP digest passwords (alphanumeric, about 95 bits).
const PASSWORD_LEN: usize = 16;

/// The secrets of the demo users, to show the operator once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCredentials {
    /// One entry per demo user, in seeding order.
    pub users: Vec<DemoUser>,
}

/// One demo user's way in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    /// SIP URI (its user part is the digest username).
    pub sip_uri: String,
    /// The digest realm: the tenant's SIP domain.
    pub realm: String,
    /// Extension for the dial-in PIN path.
    pub extension: String,
    /// The PIN.
    pub pin: Secret,
    /// The SIP digest password (random).
    pub sip_password: Secret,
}

struct TenantSeed {
    id: &'static str,
    name: &'static str,
    domain: &'static str,
    default_profile: &'static str,
    profiles: &'static [ProfileSeed],
    numbers: &'static [NumberSeed],
    users: &'static [UserSeed],
    gateway: (&'static str, &'static str),
}

struct ProfileSeed {
    name: &'static str,
    rules: &'static [(&'static str, &'static str, &'static str)],
}

struct NumberSeed {
    number: &'static str,
    display: &'static str,
    region: &'static str,
    languages: &'static [&'static str],
}

struct UserSeed {
    user: &'static str,
    display: &'static str,
    extension: &'static str,
    line: &'static str,
    organizer: bool,
    pin: &'static str,
}

const WORLD: &[TenantSeed] = &[
    TenantSeed {
        id: "contoso",
        name: "Contoso",
        domain: "contoso.example",
        default_profile: "Redmond",
        profiles: &[
            ProfileSeed {
                name: "Redmond",
                rules: &[
                    ("extension", r"^(\d{4})$", "+1425555$1"),
                    ("local-7-digit", r"^(\d{7})$", "+1425$1"),
                    ("national-10-digit", r"^(\d{10})$", "+1$1"),
                    // Captures the leading 1 on purpose: 14255550100 -> +14255550100.
                    ("national-11-digit", r"^(1\d{10})$", "+$1"),
                    ("international", r"^011(\d+)$", "+$1"),
                ],
            },
            ProfileSeed {
                name: "London",
                rules: &[
                    ("extension", r"^(\d{4})$", "+44207555$1"),
                    ("national", r"^0(\d{10})$", "+44$1"),
                    ("international", r"^00(\d+)$", "+$1"),
                ],
            },
        ],
        numbers: &[
            NumberSeed {
                number: "+14255550100",
                display: "+1 (425) 555-0100",
                region: "Redmond",
                languages: &["en-US", "de-DE", "fr-FR"],
            },
            NumberSeed {
                number: "+442075550100",
                display: "+44 20 7555 0100",
                region: "London",
                languages: &["en-GB"],
            },
        ],
        users: &[
            UserSeed {
                user: "alice",
                display: "Alice Smith",
                extension: "1001",
                line: "+14255551001",
                organizer: true,
                pin: "24680",
            },
            UserSeed {
                user: "bob",
                display: "Bob Jones",
                extension: "1002",
                line: "+14255551002",
                organizer: false,
                pin: "13579",
            },
        ],
        gateway: ("demo-gateway", "127.0.0.2"),
    },
    TenantSeed {
        id: "fabrikam",
        name: "Fabrikam",
        domain: "fabrikam.example",
        default_profile: "Berlin",
        profiles: &[ProfileSeed {
            name: "Berlin",
            rules: &[
                ("extension", r"^(\d{4})$", "+49305555$1"),
                ("national", r"^0(\d+)$", "+49$1"),
                ("international", r"^00(\d+)$", "+$1"),
            ],
        }],
        numbers: &[NumberSeed {
            number: "+493055550100",
            display: "+49 30 5555 0100",
            region: "Berlin",
            languages: &["de-DE", "en-US"],
        }],
        users: &[UserSeed {
            user: "carol",
            display: "Carol Weber",
            extension: "2001",
            line: "+493055552001",
            organizer: true,
            pin: "97531",
        }],
        gateway: ("fabrikam-gateway", "127.0.0.3"),
    },
];

/// Seed the demo world into an empty pool; returns the demo users' secrets.
///
/// Refuses ([`StorageError::Conflict`]) when the pool already has a tenant, so it never mixes
/// demo data into a real pool. `now` stamps creation times.
pub fn seed_demo(pool: &dyn Pool, now: UnixTime) -> Result<DemoCredentials, StorageError> {
    if !pool.is_empty()? {
        return Err(StorageError::Conflict {
            what: "demo world (the pool already has tenants)",
        });
    }
    let mut users = Vec::new();
    for seed in WORLD {
        users.extend(seed_tenant(pool, seed, now)?);
    }
    tracing::info!(users = users.len(), "pool database: seeded the demo world");
    Ok(DemoCredentials { users })
}

fn seed_tenant(
    pool: &dyn Pool,
    seed: &TenantSeed,
    now: UnixTime,
) -> Result<Vec<DemoUser>, StorageError> {
    let tenant = tenant_id(seed.id)?;
    pool.create_tenant(&TenantRecord {
        id: tenant.clone(),
        name: seed.name.to_owned(),
        sip_domain: seed.domain.to_owned(),
        pstn_enabled: true,
        policy_document: String::new(),
        default_profile: Some(seed.default_profile.to_owned()),
        created_at: now,
    })?;
    for profile in seed.profiles {
        pool.put_profile(&tenant, &profile_record(profile))?;
    }
    for number in seed.numbers {
        pool.add_access_number(&number_record(&tenant, number)?)?;
    }
    let (gateway, address) = seed.gateway;
    pool.add_gateway(&GatewayRecord {
        name: gateway.to_owned(),
        tenant: tenant.clone(),
        address: address.parse().map_err(|_| StorageError::Invalid {
            what: "gateway address",
        })?,
        transport: GatewayTransport::Udp,
        srtp: false,
        location_profile: seed.default_profile.to_owned(),
    })?;
    seed.users
        .iter()
        .map(|u| seed_user(pool, &tenant, seed, u, now))
        .collect()
}

fn seed_user(
    pool: &dyn Pool,
    tenant: &TenantId,
    seed: &TenantSeed,
    u: &UserSeed,
    now: UnixTime,
) -> Result<DemoUser, StorageError> {
    let sip_uri = format!("sip:{}@{}", u.user, seed.domain);
    pool.add_user(&UserRecord {
        sip_uri: sip_uri.clone(),
        tenant: tenant.clone(),
        display_name: u.display.to_owned(),
        line: Some(E164::new(u.line).map_err(|_| StorageError::Invalid { what: "line" })?),
        extension: Some(u.extension.to_owned()),
        location_profile: Some(seed.default_profile.to_owned()),
        is_organizer: u.organizer,
    })?;
    let pin = Secret::new(u.pin);
    pool.set_pin(&sip_uri, &pin, now)?;
    let sip_password = random_password();
    pool.set_sip_password(&sip_uri, &sip_password)?;
    Ok(DemoUser {
        sip_uri,
        realm: seed.domain.to_owned(),
        extension: u.extension.to_owned(),
        pin,
        sip_password,
    })
}

fn profile_record(p: &ProfileSeed) -> ProfileRecord {
    ProfileRecord {
        name: p.name.to_owned(),
        region: p.name.to_owned(),
        external_access_prefix: None,
        rules: p
            .rules
            .iter()
            .map(|(name, pattern, translation)| RuleRecord {
                name: (*name).to_owned(),
                pattern: (*pattern).to_owned(),
                translation: (*translation).to_owned(),
            })
            .collect(),
    }
}

fn number_record(tenant: &TenantId, n: &NumberSeed) -> Result<AccessNumberRecord, StorageError> {
    Ok(AccessNumberRecord {
        number: E164::new(n.number).map_err(|_| StorageError::Invalid {
            what: "access number",
        })?,
        tenant: tenant.clone(),
        display: n.display.to_owned(),
        region: n.region.to_owned(),
        languages: n.languages.iter().map(|l| (*l).to_owned()).collect(),
        priority: 0,
    })
}

fn tenant_id(s: &str) -> Result<TenantId, StorageError> {
    TenantId::new(s).map_err(|_| StorageError::Invalid { what: "tenant id" })
}

/// A fresh random SIP password from a URL-safe alphabet.
fn random_password() -> Secret {
    let s: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(PASSWORD_LEN)
        .map(char::from)
        .collect();
    Secret::new(s)
}
