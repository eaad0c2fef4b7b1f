//! Plugin versions, bindings and the audit log.

use plenum_storage::{
    AuditEvent, AuditRecord, BindingRecord, PluginVersionRecord, Pool, StorageError,
};
use plenum_types::{Digest, PluginKind};
use sha2::Digest as _;

use crate::common::*;

fn version(tenant: &str, kind: PluginKind, bytes: &[u8], at: i64) -> PluginVersionRecord {
    PluginVersionRecord {
        tenant: tid(tenant),
        kind,
        digest: Digest(sha2::Sha256::digest(bytes).into()),
        name: "contoso-ivr".to_owned(),
        version: format!("1.0.{at}"),
        description: "An IVR".to_owned(),
        size: bytes.len() as u64,
        uploaded_at: at,
    }
}

#[test]
fn plugin_versions_are_stored_once_and_listed_newest_first() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let t = tid("contoso");
    let v1 = version("contoso", PluginKind::Attendant, b"\0asm one", 100);
    let v2 = version("contoso", PluginKind::Attendant, b"\0asm two", 200);
    assert!(pool.put_plugin_version(&v1, b"\0asm one").unwrap());
    assert!(pool.put_plugin_version(&v2, b"\0asm two").unwrap());
    // The same (tenant, kind, digest) again: accepted, nothing changes.
    let mut v1_again = v1.clone();
    v1_again.name = "renamed".to_owned();
    assert!(!pool.put_plugin_version(&v1_again, b"\0asm one").unwrap());
    assert_eq!(
        pool.plugin_version(&t, PluginKind::Attendant, &v1.digest)
            .unwrap(),
        Some(v1.clone())
    );

    assert_eq!(
        pool.plugin_versions(&t, PluginKind::Attendant).unwrap(),
        [v2.clone(), v1.clone()]
    );
    assert_eq!(
        pool.plugin_versions(&t, PluginKind::Normalizer).unwrap(),
        []
    );
    assert_eq!(
        pool.plugin_bytes(&t, PluginKind::Attendant, &v2.digest)
            .unwrap()
            .as_deref(),
        Some(&b"\0asm two"[..])
    );
    assert_eq!(
        pool.plugin_bytes(&t, PluginKind::Normalizer, &v2.digest)
            .unwrap(),
        None
    );
    assert_eq!(
        pool.plugin_version(&t, PluginKind::Normalizer, &v2.digest)
            .unwrap(),
        None
    );

    // The same bytes as another kind are another version.
    let as_policy = version("contoso", PluginKind::MeetingPolicy, b"\0asm one", 300);
    assert!(pool.put_plugin_version(&as_policy, b"\0asm one").unwrap());
}

#[test]
fn plugin_versions_must_describe_their_bytes() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let v = version("contoso", PluginKind::Normalizer, b"real", 1);
    let err = pool.put_plugin_version(&v, b"fake").unwrap_err();
    assert!(matches!(err, StorageError::Invalid { .. }), "{err:?}");
    let mut wrong_size = v.clone();
    wrong_size.size = 5;
    assert!(matches!(
        pool.put_plugin_version(&wrong_size, b"real").unwrap_err(),
        StorageError::Invalid { .. }
    ));
    let orphan = version("nobody", PluginKind::Normalizer, b"real", 1);
    let err = pool.put_plugin_version(&orphan, b"real").unwrap_err();
    assert!(
        matches!(err, StorageError::MissingReference { what: "tenant" }),
        "{err:?}"
    );
}

#[test]
fn versions_and_bindings_survive_reopen() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    pool.create_tenant(&tenant("fabrikam", "fabrikam.example"))
        .unwrap();
    let v1 = version("contoso", PluginKind::Attendant, b"one", 1);
    let v2 = version("contoso", PluginKind::Attendant, b"two", 2);
    pool.put_plugin_version(&v1, b"one").unwrap();
    pool.put_plugin_version(&v2, b"two").unwrap();
    let t = tid("contoso");
    assert_eq!(pool.binding(&t, PluginKind::Attendant).unwrap(), None);

    let first = BindingRecord {
        tenant: t.clone(),
        kind: PluginKind::Attendant,
        active: v1.digest,
        previous: None,
        updated_at: 10,
    };
    pool.set_binding(&first).unwrap();
    let swapped = BindingRecord {
        active: v2.digest,
        previous: Some(v1.digest),
        updated_at: 20,
        ..first.clone()
    };
    pool.set_binding(&swapped).unwrap();
    // A binding may name a bundled plugin that is not stored.
    let bundled = BindingRecord {
        tenant: tid("fabrikam"),
        kind: PluginKind::Normalizer,
        active: Digest([7; 32]),
        previous: None,
        updated_at: 30,
    };
    pool.set_binding(&bundled).unwrap();
    let orphan = BindingRecord {
        tenant: tid("nobody"),
        ..bundled.clone()
    };
    assert!(matches!(
        pool.set_binding(&orphan).unwrap_err(),
        StorageError::MissingReference { .. }
    ));
    drop(pool);

    let pool = open(&d.path);
    assert_eq!(
        pool.binding(&t, PluginKind::Attendant).unwrap(),
        Some(swapped.clone())
    );
    assert_eq!(pool.bindings().unwrap(), [swapped, bundled]);
    assert_eq!(
        pool.plugin_bytes(&t, PluginKind::Attendant, &v2.digest)
            .unwrap()
            .as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(
        pool.plugin_versions(&t, PluginKind::Attendant).unwrap(),
        [v2, v1]
    );
}

fn entry(at: i64, tenant: Option<&str>, event: AuditEvent, subject: &str) -> AuditRecord {
    AuditRecord {
        id: 0,
        at,
        tenant: tenant.map(tid),
        event,
        conference: Some(7),
        subject: subject.to_owned(),
        detail: format!("detail {at}"),
    }
}

#[test]
fn the_audit_log_lists_a_tenants_events_newest_first() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let t = tid("contoso");
    let mut ids = Vec::new();
    for (at, event) in [
        (1, AuditEvent::Join),
        (2, AuditEvent::FailedPin),
        (3, AuditEvent::PinLocked),
        (3, AuditEvent::Leave),
    ] {
        ids.push(
            pool.audit(&entry(at, Some("contoso"), event, ALICE))
                .unwrap(),
        );
    }
    pool.audit(&entry(
        4,
        Some("fabrikam"),
        AuditEvent::Join,
        "sip:carol@fabrikam.example",
    ))
    .unwrap();
    pool.audit(&entry(
        5,
        None,
        AuditEvent::FailedConferenceId,
        "+1425555****",
    ))
    .unwrap();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    drop(pool);

    let pool = open(&d.path);
    let events = pool.audit_events(&t, 10).unwrap();
    let seen: Vec<_> = events.iter().map(|e| (e.at, e.event)).collect();
    assert_eq!(
        seen,
        [
            (3, AuditEvent::Leave),
            (3, AuditEvent::PinLocked),
            (2, AuditEvent::FailedPin),
            (1, AuditEvent::Join)
        ]
    );
    assert_eq!(events[0].id, ids[3]);
    assert_eq!(events[0].tenant, Some(t.clone()));
    assert_eq!(events[0].conference, Some(7));
    assert_eq!(events[0].subject, ALICE);
    assert_eq!(events[0].detail, "detail 3");
    assert_eq!(pool.audit_events(&t, 2).unwrap().len(), 2);
    assert_eq!(pool.audit_events(&t, 0).unwrap().len(), 0);
    assert_eq!(pool.audit_events(&tid("fabrikam"), 10).unwrap().len(), 1);
}
