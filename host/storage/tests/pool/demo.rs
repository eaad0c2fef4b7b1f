//! The demo world, exactly.

use plenum_storage::{
    AccessNumberRecord, GatewayTransport, Pool, RuleRecord, StorageError, seed_demo,
};
use plenum_types::Secret;

use crate::common::*;

fn rules(profile: &plenum_storage::ProfileRecord) -> Vec<(&str, &str)> {
    profile
        .rules
        .iter()
        .map(
            |RuleRecord {
                 pattern,
                 translation,
                 ..
             }| (pattern.as_str(), translation.as_str()),
        )
        .collect()
}

fn number(n: &AccessNumberRecord) -> (&str, &str, &str, Vec<&str>, u32) {
    (
        n.number.as_str(),
        n.display.as_str(),
        n.region.as_str(),
        n.languages.iter().map(String::as_str).collect(),
        n.priority,
    )
}

#[test]
fn seed_demo_builds_exactly_the_demo_world() {
    let d = dir();
    let pool = open(&d.path);
    assert!(pool.is_empty().unwrap());
    let creds = seed_demo(&pool, 1_700_000_000).unwrap();
    assert!(!pool.is_empty().unwrap());

    // Tenants.
    let tenants = pool.tenants().unwrap();
    let summary: Vec<_> = tenants
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.name.as_str(),
                t.sip_domain.as_str(),
                t.pstn_enabled,
                t.policy_document.as_str(),
                t.default_profile.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "contoso",
                "Contoso",
                "contoso.example",
                true,
                "",
                Some("Redmond")
            ),
            (
                "fabrikam",
                "Fabrikam",
                "fabrikam.example",
                true,
                "",
                Some("Berlin")
            ),
        ]
    );
    assert!(tenants.iter().all(|t| t.created_at == 1_700_000_000));

    // Profiles and rules, in order.
    let contoso = tid("contoso");
    let fabrikam = tid("fabrikam");
    let redmond = pool.profile(&contoso, "Redmond").unwrap().unwrap();
    assert_eq!(redmond.region, "Redmond");
    assert_eq!(
        rules(&redmond),
        [
            (r"^(\d{4})$", "+1425555$1"),
            (r"^(\d{7})$", "+1425$1"),
            (r"^(\d{10})$", "+1$1"),
            (r"^(1\d{10})$", "+$1"),
            (r"^011(\d+)$", "+$1"),
        ]
    );
    let london = pool.profile(&contoso, "London").unwrap().unwrap();
    assert_eq!(london.region, "London");
    assert_eq!(
        rules(&london),
        [
            (r"^(\d{4})$", "+44207555$1"),
            (r"^0(\d{10})$", "+44$1"),
            (r"^00(\d+)$", "+$1")
        ]
    );
    assert_eq!(pool.profiles(&contoso).unwrap().len(), 2);
    let berlin = pool.profile(&fabrikam, "Berlin").unwrap().unwrap();
    assert_eq!(berlin.region, "Berlin");
    assert_eq!(
        rules(&berlin),
        [
            (r"^(\d{4})$", "+49305555$1"),
            (r"^0(\d+)$", "+49$1"),
            (r"^00(\d+)$", "+$1")
        ]
    );
    assert_eq!(pool.profiles(&fabrikam).unwrap().len(), 1);

    // Access numbers.
    let contoso_numbers = pool.access_numbers(&contoso).unwrap();
    let got: Vec<_> = contoso_numbers.iter().map(number).collect();
    assert_eq!(
        got,
        [
            (
                "+442075550100",
                "+44 20 7555 0100",
                "London",
                vec!["en-GB"],
                0
            ),
            (
                "+14255550100",
                "+1 (425) 555-0100",
                "Redmond",
                vec!["en-US", "de-DE", "fr-FR"],
                0
            ),
        ]
    );
    let fabrikam_numbers = pool.access_numbers(&fabrikam).unwrap();
    let got: Vec<_> = fabrikam_numbers.iter().map(number).collect();
    assert_eq!(
        got,
        [(
            "+493055550100",
            "+49 30 5555 0100",
            "Berlin",
            vec!["de-DE", "en-US"],
            0
        )]
    );
    assert_eq!(
        pool.access_number(&e164("+14255550100"))
            .unwrap()
            .unwrap()
            .tenant,
        contoso
    );

    // Users.
    let users: Vec<_> = [
        pool.users(&contoso).unwrap(),
        pool.users(&fabrikam).unwrap(),
    ]
    .concat();
    let got: Vec<_> = users
        .iter()
        .map(|u| {
            (
                u.sip_uri.as_str(),
                u.tenant.as_str(),
                u.display_name.as_str(),
                u.extension.as_deref(),
                u.line.as_ref().map(|l| l.as_str()),
                u.location_profile.as_deref(),
                u.is_organizer,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "sip:alice@contoso.example",
                "contoso",
                "Alice Smith",
                Some("1001"),
                Some("+14255551001"),
                Some("Redmond"),
                true
            ),
            (
                "sip:bob@contoso.example",
                "contoso",
                "Bob Jones",
                Some("1002"),
                Some("+14255551002"),
                Some("Redmond"),
                false
            ),
            (
                "sip:carol@fabrikam.example",
                "fabrikam",
                "Carol Weber",
                Some("2001"),
                Some("+493055552001"),
                Some("Berlin"),
                true
            ),
        ]
    );
    assert!(
        pool.verify_pin("sip:alice@contoso.example", &Secret::new("24680"))
            .unwrap()
    );
    assert!(
        pool.verify_pin("sip:bob@contoso.example", &Secret::new("13579"))
            .unwrap()
    );
    assert!(
        pool.verify_pin("sip:carol@fabrikam.example", &Secret::new("97531"))
            .unwrap()
    );
    assert!(
        !pool
            .verify_pin("sip:alice@contoso.example", &Secret::new("13579"))
            .unwrap()
    );

    // Gateways.
    let gateways = pool.gateways().unwrap();
    let got: Vec<_> = gateways
        .iter()
        .map(|g| {
            (
                g.name.as_str(),
                g.tenant.as_str(),
                g.address.ip.to_string(),
                g.transport,
                g.srtp,
                g.location_profile.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "demo-gateway",
                "contoso",
                "127.0.0.2".to_owned(),
                GatewayTransport::Udp,
                false,
                "Redmond"
            ),
            (
                "fabrikam-gateway",
                "fabrikam",
                "127.0.0.3".to_owned(),
                GatewayTransport::Udp,
                false,
                "Berlin"
            ),
        ]
    );

    // Credentials: random digest passwords, stored only as HA1s.
    let uris: Vec<_> = creds.users.iter().map(|u| u.sip_uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "sip:alice@contoso.example",
            "sip:bob@contoso.example",
            "sip:carol@fabrikam.example"
        ]
    );
    for u in &creds.users {
        let password = u.sip_password.expose();
        assert_eq!(password.len(), 16);
        assert!(password.bytes().all(|b| b.is_ascii_alphanumeric()));
        let user = u
            .sip_uri
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap();
        let want = plenum_storage::compute_ha1(
            plenum_storage::DigestAlgorithm::Md5,
            user,
            &u.realm,
            &u.sip_password,
        );
        assert_eq!(
            pool.digest_ha1(&u.sip_uri, plenum_storage::DigestAlgorithm::Md5)
                .unwrap(),
            Some(want)
        );
        assert!(
            pool.digest_ha1(&u.sip_uri, plenum_storage::DigestAlgorithm::Sha256)
                .unwrap()
                .is_some()
        );
    }
    assert_ne!(creds.users[0].sip_password, creds.users[1].sip_password);
    assert_eq!(creds.users[0].pin.expose(), "24680");
    assert!(!format!("{creds:?}").contains(creds.users[0].sip_password.expose()));
    drop(pool);
    let bytes = all_bytes(d.dir.path());
    for u in &creds.users {
        assert!(!contains(&bytes, u.sip_password.expose().as_bytes()));
    }
}

#[test]
fn seed_demo_refuses_a_pool_that_is_not_empty() {
    let d = dir();
    let pool = open(&d.path);
    seed_demo(&pool, 0).unwrap();
    let err = seed_demo(&pool, 0).unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err:?}");
    assert_eq!(pool.tenants().unwrap().len(), 2);
}
