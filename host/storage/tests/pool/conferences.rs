//! Conferences: lookups, uniqueness, expiry and the optimistic revision.

use plenum_storage::{AdmissionPolicy, Pool, StorageError};

use crate::common::*;

#[test]
fn insert_and_look_up_three_ways() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let mut c = new_conference(ALICE, "F00D", Some(pstn("7001234")));
    c.lobby_bypass = true;
    c.admission_policy = AdmissionPolicy::ClosedAuthenticated;
    let id = pool.insert_conference(&c).unwrap();

    let got = pool.conference_by_id(id).unwrap().unwrap();
    assert_eq!(got.id, id);
    assert_eq!(got.tenant, tid("contoso"));
    assert_eq!(got.organizer, ALICE);
    assert_eq!(got.conference_id, "F00D");
    assert_eq!(got.subject, "Meeting F00D");
    assert_eq!(got.pstn_id, Some(pstn("7001234")));
    assert!(!got.has_passcode);
    assert_eq!(got.admission_policy, AdmissionPolicy::ClosedAuthenticated);
    assert!(got.lobby_bypass);
    assert_eq!(
        (got.expires_at, got.revision, got.created_at, got.updated_at),
        (10_000, 1, 1_000, 1_000)
    );

    assert_eq!(
        pool.conference_by_pstn(&pstn("7001234")).unwrap(),
        Some(got.clone())
    );
    assert_eq!(pool.conference(ALICE, "F00D").unwrap(), Some(got.clone()));
    assert_eq!(pool.conference(BOB, "F00D").unwrap(), None);
    assert_eq!(pool.conference_by_pstn(&pstn("7001235")).unwrap(), None);
    assert_eq!(pool.conference_by_id(id + 100).unwrap(), None);
}

#[test]
fn pstn_ids_and_conference_ids_per_organizer_are_unique() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    pool.insert_conference(&new_conference(ALICE, "a", Some(pstn("11"))))
        .unwrap();

    let same_pstn = new_conference(BOB, "b", Some(pstn("11")));
    let err = pool.insert_conference(&same_pstn).unwrap_err();
    assert!(
        matches!(err, StorageError::Conflict { what: "pstn id" }),
        "{err:?}"
    );
    let same_id = new_conference(ALICE, "a", Some(pstn("12")));
    let err = pool.insert_conference(&same_id).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Conflict {
                what: "conference id"
            }
        ),
        "{err:?}"
    );

    // Another organizer may use the same conference ID; many may have no PSTN ID.
    pool.insert_conference(&new_conference(BOB, "a", None))
        .unwrap();
    pool.insert_conference(&new_conference(BOB, "c", None))
        .unwrap();
}

#[test]
fn the_organizer_must_be_a_user_of_the_tenant() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    pool.create_tenant(&tenant("fabrikam", "fabrikam.example"))
        .unwrap();
    let stranger = new_conference("sip:eve@contoso.example", "x", None);
    assert!(matches!(
        pool.insert_conference(&stranger).unwrap_err(),
        StorageError::MissingReference { .. }
    ));
    let mut wrong_tenant = new_conference(ALICE, "x", None);
    wrong_tenant.tenant = tid("fabrikam");
    assert!(matches!(
        pool.insert_conference(&wrong_tenant).unwrap_err(),
        StorageError::MissingReference { .. }
    ));
    let empty_id = new_conference(ALICE, "", None);
    assert!(matches!(
        pool.insert_conference(&empty_id).unwrap_err(),
        StorageError::Invalid { .. }
    ));
}

#[test]
fn conferences_of_lists_only_the_unexpired_ones_of_that_organizer() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let mut old = new_conference(ALICE, "old", None);
    old.expires_at = 500;
    let mut first = new_conference(ALICE, "first", None);
    first.created_at = 10;
    let second = new_conference(ALICE, "second", None);
    pool.insert_conference(&old).unwrap();
    pool.insert_conference(&second).unwrap();
    pool.insert_conference(&first).unwrap();
    pool.insert_conference(&new_conference(BOB, "bobs", None))
        .unwrap();

    let ids: Vec<_> = pool
        .conferences_of(ALICE, 1_000)
        .unwrap()
        .into_iter()
        .map(|c| c.conference_id)
        .collect();
    assert_eq!(ids, ["first", "second"]);
    assert_eq!(pool.conferences_of(ALICE, 400).unwrap().len(), 3);
    assert_eq!(
        pool.conferences_of(ALICE, 10_000).unwrap().len(),
        0,
        "expiry is exclusive"
    );

    assert_eq!(pool.delete_expired_conferences(1_000).unwrap(), 1);
    assert_eq!(pool.conference(ALICE, "old").unwrap(), None);
    assert_eq!(pool.delete_expired_conferences(1_000).unwrap(), 0);
}

#[test]
fn updates_use_the_revision_as_an_optimistic_lock() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let id = pool
        .insert_conference(&new_conference(ALICE, "m", Some(pstn("21"))))
        .unwrap();
    let read_by_a = pool.conference_by_id(id).unwrap().unwrap();
    let read_by_b = read_by_a.clone();

    let mut a = read_by_a.clone();
    a.subject = "Renamed".to_owned();
    a.pstn_id = Some(pstn("22"));
    a.admission_policy = AdmissionPolicy::OpenAuthenticated;
    a.lobby_bypass = true;
    a.expires_at = 20_000;
    a.updated_at = 2_000;
    assert_eq!(pool.update_conference(&a, read_by_a.revision).unwrap(), 2);

    // B read revision 1 too: its write is refused and told the current revision.
    let mut b = read_by_b.clone();
    b.subject = "Lost update".to_owned();
    let err = pool.update_conference(&b, read_by_b.revision).unwrap_err();
    assert!(
        matches!(err, StorageError::StaleRevision { current: 2 }),
        "{err:?}"
    );

    let now = pool.conference_by_id(id).unwrap().unwrap();
    assert_eq!(now.subject, "Renamed");
    assert_eq!(now.pstn_id, Some(pstn("22")));
    assert_eq!(now.admission_policy, AdmissionPolicy::OpenAuthenticated);
    assert!(now.lobby_bypass);
    assert_eq!(
        (now.expires_at, now.updated_at, now.created_at, now.revision),
        (20_000, 2_000, 1_000, 2)
    );
    assert_eq!(
        pool.conference_by_pstn(&pstn("21")).unwrap(),
        None,
        "the old PSTN ID is free"
    );

    // B re-reads and retries with the fresh revision: accepted, and the revision goes on.
    b.subject = "Second".to_owned();
    assert_eq!(pool.update_conference(&b, now.revision).unwrap(), 3);
    assert_eq!(pool.conference_by_id(id).unwrap().unwrap().revision, 3);
}

#[test]
fn updates_respect_uniqueness_and_existence() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    pool.insert_conference(&new_conference(ALICE, "one", Some(pstn("31"))))
        .unwrap();
    let id = pool
        .insert_conference(&new_conference(ALICE, "two", Some(pstn("32"))))
        .unwrap();
    let mut two = pool.conference_by_id(id).unwrap().unwrap();
    two.pstn_id = Some(pstn("31"));
    let err = pool.update_conference(&two, 1).unwrap_err();
    assert!(
        matches!(err, StorageError::Conflict { what: "pstn id" }),
        "{err:?}"
    );
    assert_eq!(
        pool.conference_by_id(id).unwrap().unwrap().revision,
        1,
        "nothing changed"
    );

    two.id = id + 100;
    let err = pool.update_conference(&two, 1).unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "conference" }),
        "{err:?}"
    );
}

#[test]
fn deleted_conferences_are_gone_and_their_ids_never_come_back() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let id = pool
        .insert_conference(&new_conference(ALICE, "x", Some(pstn("41"))))
        .unwrap();
    pool.delete_conference(id).unwrap();
    assert_eq!(pool.conference_by_id(id).unwrap(), None);
    assert_eq!(pool.conference_by_pstn(&pstn("41")).unwrap(), None);
    assert!(matches!(
        pool.delete_conference(id).unwrap_err(),
        StorageError::NotFound { .. }
    ));
    let again = pool
        .insert_conference(&new_conference(ALICE, "x", Some(pstn("41"))))
        .unwrap();
    assert!(
        again > id,
        "row ids are not reused (the audit log names them)"
    );
}
