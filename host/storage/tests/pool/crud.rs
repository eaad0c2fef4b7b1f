//! Tenants, profiles, access numbers, users and gateways: every path, every uniqueness rule.

use plenum_storage::{AccessNumberRecord, GatewayRecord, GatewayTransport, Pool, StorageError};

use crate::common::*;

fn conflict(e: StorageError) -> &'static str {
    match e {
        StorageError::Conflict { what } => what,
        other => panic!("expected Conflict, got {other:?}"),
    }
}

#[test]
fn tenants_create_get_list_update() {
    let d = dir();
    let pool = open(&d.path);
    assert!(pool.is_empty().unwrap());
    let mut c = tenant("contoso", "contoso.example");
    c.policy_document = "[pin]\nmin_length = 5\n".to_owned();
    pool.create_tenant(&c).unwrap();
    pool.create_tenant(&tenant("fabrikam", "fabrikam.example"))
        .unwrap();
    assert!(!pool.is_empty().unwrap());

    assert_eq!(pool.tenant(&tid("contoso")).unwrap(), Some(c.clone()));
    assert_eq!(pool.tenant(&tid("nobody")).unwrap(), None);
    assert_eq!(
        pool.tenant_by_domain("CONTOSO.example").unwrap(),
        Some(c.clone())
    );
    assert_eq!(pool.tenant_by_domain("nowhere.example").unwrap(), None);
    let ids: Vec<_> = pool.tenants().unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(ids, [tid("contoso"), tid("fabrikam")]);

    let mut changed = c.clone();
    changed.name = "Contoso Ltd".to_owned();
    changed.pstn_enabled = false;
    changed.default_profile = None;
    changed.created_at = 99; // not updatable
    pool.update_tenant(&changed).unwrap();
    let got = pool.tenant(&tid("contoso")).unwrap().unwrap();
    assert_eq!(
        (got.name.as_str(), got.pstn_enabled, got.default_profile),
        ("Contoso Ltd", false, None)
    );
    assert_eq!(got.created_at, c.created_at);

    let err = pool
        .update_tenant(&tenant("nobody", "nobody.example"))
        .unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "tenant" }),
        "{err:?}"
    );
}

#[test]
fn tenant_ids_and_domains_are_unique() {
    let d = dir();
    let pool = open(&d.path);
    pool.create_tenant(&tenant("contoso", "contoso.example"))
        .unwrap();
    assert_eq!(
        conflict(
            pool.create_tenant(&tenant("contoso", "other.example"))
                .unwrap_err()
        ),
        "tenant id"
    );
    assert_eq!(
        conflict(
            pool.create_tenant(&tenant("other", "Contoso.Example"))
                .unwrap_err()
        ),
        "sip domain"
    );
    pool.create_tenant(&tenant("fabrikam", "fabrikam.example"))
        .unwrap();
    let stolen = tenant("fabrikam", "contoso.example");
    assert_eq!(
        conflict(pool.update_tenant(&stolen).unwrap_err()),
        "sip domain"
    );
    let err = pool
        .create_tenant(&tenant("bad", "user@bad.example"))
        .unwrap_err();
    assert!(
        matches!(err, StorageError::Invalid { what: "sip domain" }),
        "{err:?}"
    );
}

#[test]
fn profiles_keep_rule_order_and_replace_rules_atomically() {
    let d = dir();
    let pool = open(&d.path);
    pool.create_tenant(&tenant("contoso", "contoso.example"))
        .unwrap();
    let t = tid("contoso");
    let mut p = profile(
        "Redmond",
        &[("b", "^2$", "+2"), ("a", "^1$", "+1"), ("c", "^3$", "+3")],
    );
    p.external_access_prefix = Some("9".to_owned());
    pool.put_profile(&t, &p).unwrap();
    assert_eq!(pool.profile(&t, "Redmond").unwrap(), Some(p.clone()));

    // Replace: fewer rules, new region.
    let q = profile("Redmond", &[("only", "^(\\d+)$", "+$1")]);
    pool.put_profile(&t, &q).unwrap();
    assert_eq!(pool.profile(&t, "Redmond").unwrap(), Some(q.clone()));

    // A replacement that fails half-way (duplicate rule name) leaves the old rules intact.
    let bad = profile("Redmond", &[("x", "^1$", "+1"), ("x", "^2$", "+2")]);
    assert_eq!(
        conflict(pool.put_profile(&t, &bad).unwrap_err()),
        "rule name"
    );
    assert_eq!(pool.profile(&t, "Redmond").unwrap(), Some(q.clone()));

    pool.put_profile(&t, &profile("London", &[])).unwrap();
    let names: Vec<_> = pool
        .profiles(&t)
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["London", "Redmond"]);
    assert_eq!(pool.profile(&t, "Paris").unwrap(), None);
    assert_eq!(pool.profile(&tid("fabrikam"), "Redmond").unwrap(), None);

    let err = pool
        .put_profile(&tid("nobody"), &profile("X", &[]))
        .unwrap_err();
    assert!(
        matches!(err, StorageError::MissingReference { what: "tenant" }),
        "{err:?}"
    );
}

fn number(n: &str, tenant: &str, region: &str, priority: u32) -> AccessNumberRecord {
    AccessNumberRecord {
        number: e164(n),
        tenant: tid(tenant),
        display: format!("display {n}"),
        region: region.to_owned(),
        languages: vec!["en-US".to_owned(), "de-DE".to_owned()],
        priority,
    }
}

#[test]
fn access_numbers_reverse_lookup_order_and_uniqueness() {
    let d = dir();
    let pool = open(&d.path);
    pool.create_tenant(&tenant("contoso", "contoso.example"))
        .unwrap();
    pool.create_tenant(&tenant("fabrikam", "fabrikam.example"))
        .unwrap();
    let a = number("+14255550102", "contoso", "Redmond", 1);
    let b = number("+14255550101", "contoso", "Redmond", 0);
    let c = number("+442075550100", "contoso", "London", 5);
    for n in [&a, &b, &c] {
        pool.add_access_number(n).unwrap();
    }
    pool.add_access_number(&number("+493055550100", "fabrikam", "Berlin", 0))
        .unwrap();

    assert_eq!(
        pool.access_number(&e164("+14255550102")).unwrap(),
        Some(a.clone())
    );
    assert_eq!(pool.access_number(&e164("+19999999999")).unwrap(), None);
    assert_eq!(pool.access_numbers(&tid("contoso")).unwrap(), [c, b, a]);

    let dup = number("+14255550101", "fabrikam", "Berlin", 0);
    assert_eq!(
        conflict(pool.add_access_number(&dup).unwrap_err()),
        "access number"
    );

    let mut bad = number("+14255550199", "contoso", "Redmond", 0);
    bad.languages = vec!["en-US,de-DE".to_owned()];
    assert!(matches!(
        pool.add_access_number(&bad).unwrap_err(),
        StorageError::Invalid { .. }
    ));
    let orphan = number("+14255550199", "nobody", "Redmond", 0);
    assert!(matches!(
        pool.add_access_number(&orphan).unwrap_err(),
        StorageError::MissingReference { what: "tenant" }
    ));
}

#[test]
fn users_by_uri_extension_line_and_tenant() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let alice = user(ALICE, "contoso", Some("1001"), Some("+14255551001"));
    assert_eq!(pool.user_by_uri(ALICE).unwrap(), Some(alice.clone()));
    assert_eq!(
        pool.user_by_extension(&tid("contoso"), "1001").unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        pool.user_by_line(&e164("+14255551001")).unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        pool.user_by_uri("sip:nobody@contoso.example").unwrap(),
        None
    );
    assert_eq!(
        pool.user_by_extension(&tid("contoso"), "9999").unwrap(),
        None
    );
    assert_eq!(
        pool.user_by_extension(&tid("fabrikam"), "1001").unwrap(),
        None
    );
    assert_eq!(pool.user_by_line(&e164("+14255559999")).unwrap(), None);
    let uris: Vec<_> = pool
        .users(&tid("contoso"))
        .unwrap()
        .into_iter()
        .map(|u| u.sip_uri)
        .collect();
    assert_eq!(uris, [ALICE, BOB]);

    // A user without extension, line or profile.
    let mut carl = user("sip:carl@contoso.example", "contoso", None, None);
    carl.location_profile = None;
    carl.is_organizer = false;
    pool.add_user(&carl).unwrap();
    assert_eq!(pool.user_by_uri(&carl.sip_uri).unwrap(), Some(carl));
}

#[test]
fn user_uniqueness_rules() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    pool.create_tenant(&tenant("fabrikam", "fabrikam.example"))
        .unwrap();
    pool.put_profile(&tid("fabrikam"), &profile("Home", &[]))
        .unwrap();

    let same_uri = user(ALICE, "contoso", Some("1003"), None);
    assert_eq!(conflict(pool.add_user(&same_uri).unwrap_err()), "sip uri");
    let same_ext = user("sip:x@contoso.example", "contoso", Some("1001"), None);
    assert_eq!(conflict(pool.add_user(&same_ext).unwrap_err()), "extension");
    let same_line = user(
        "sip:y@fabrikam.example",
        "fabrikam",
        None,
        Some("+14255551001"),
    );
    assert_eq!(conflict(pool.add_user(&same_line).unwrap_err()), "line");
    // The same extension in another tenant is fine; so are many users without one.
    pool.add_user(&user(
        "sip:z@fabrikam.example",
        "fabrikam",
        Some("1001"),
        None,
    ))
    .unwrap();
    pool.add_user(&user("sip:n1@contoso.example", "contoso", None, None))
        .unwrap();
    pool.add_user(&user("sip:n2@contoso.example", "contoso", None, None))
        .unwrap();
}

#[test]
fn users_are_validated() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let bad_uri = user("alice@contoso.example", "contoso", None, None);
    assert!(matches!(
        pool.add_user(&bad_uri).unwrap_err(),
        StorageError::Invalid { what: "sip uri" }
    ));
    let bad_ext = user("sip:e@contoso.example", "contoso", Some("12a"), None);
    assert!(matches!(
        pool.add_user(&bad_ext).unwrap_err(),
        StorageError::Invalid { what: "extension" }
    ));
    let mut no_profile = user("sip:p@contoso.example", "contoso", None, None);
    no_profile.location_profile = Some("Atlantis".to_owned());
    assert!(matches!(
        pool.add_user(&no_profile).unwrap_err(),
        StorageError::MissingReference { .. }
    ));
}

fn gateway(name: &str, address: &str) -> GatewayRecord {
    GatewayRecord {
        name: name.to_owned(),
        tenant: tid("contoso"),
        address: address.parse().unwrap(),
        transport: GatewayTransport::Tcp,
        srtp: true,
        location_profile: "Home".to_owned(),
    }
}

#[test]
fn gateways_add_list_and_uniqueness() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let b = gateway("b-gw", "192.0.2.10:5060");
    let mut a = gateway("a-gw", "2001:db8::1");
    a.transport = GatewayTransport::Udp;
    a.srtp = false;
    pool.add_gateway(&b).unwrap();
    pool.add_gateway(&a).unwrap();
    assert_eq!(pool.gateways().unwrap(), [a.clone(), b.clone()]);

    assert_eq!(
        conflict(
            pool.add_gateway(&gateway("a-gw", "192.0.2.99"))
                .unwrap_err()
        ),
        "gateway name"
    );
    assert_eq!(
        conflict(
            pool.add_gateway(&gateway("c-gw", "192.0.2.10:5060"))
                .unwrap_err()
        ),
        "gateway address"
    );
    let mut lost = gateway("d-gw", "192.0.2.11");
    lost.location_profile = "Atlantis".to_owned();
    assert!(matches!(
        pool.add_gateway(&lost).unwrap_err(),
        StorageError::MissingReference { .. }
    ));
}
