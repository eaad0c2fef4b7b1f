//! PINs, passcodes and SIP digest credentials: stored only as hashes.

use plenum_storage::{DigestAlgorithm, PinAttempts, Pool, SqlitePool, StorageError, compute_ha1};
use plenum_types::Secret;
use sha2::Digest as _;

use crate::common::*;

fn raw_text(path: &std::path::Path, sql: &str) -> Option<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn pins_verify_right_and_wrong_and_are_phc_argon2id() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    assert_eq!(pool.pin_set_at(ALICE).unwrap(), None);
    pool.set_pin(ALICE, &Secret::new("24680"), 1_234).unwrap();
    assert!(pool.verify_pin(ALICE, &Secret::new("24680")).unwrap());
    assert!(!pool.verify_pin(ALICE, &Secret::new("24681")).unwrap());
    assert!(!pool.verify_pin(ALICE, &Secret::new("")).unwrap());
    assert_eq!(pool.pin_set_at(ALICE).unwrap(), Some(1_234));
    // bob has no PIN: never verifies; nobody is no user at all.
    assert!(!pool.verify_pin(BOB, &Secret::new("24680")).unwrap());
    let err = pool
        .verify_pin("sip:nobody@contoso.example", &Secret::new("1"))
        .unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "user" }),
        "{err:?}"
    );
    let err = pool
        .set_pin("sip:nobody@contoso.example", &Secret::new("1"), 0)
        .unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { what: "user" }),
        "{err:?}"
    );

    let hash = raw_text(
        &d.path,
        "SELECT pin_hash FROM users WHERE sip_uri = 'sip:alice@contoso.example'",
    )
    .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
    // A new PIN replaces the old one, with a new salt.
    pool.set_pin(ALICE, &Secret::new("24680"), 1_235).unwrap();
    let again = raw_text(
        &d.path,
        "SELECT pin_hash FROM users WHERE sip_uri = 'sip:alice@contoso.example'",
    )
    .unwrap();
    assert_ne!(hash, again);
}

#[test]
fn default_parameters_are_the_owasp_minimum_and_old_hashes_keep_verifying() {
    let d = dir();
    let pool = SqlitePool::open(&d.path).unwrap();
    contoso(&pool);
    pool.set_pin(ALICE, &Secret::new("24680"), 0).unwrap();
    assert!(pool.verify_pin(ALICE, &Secret::new("24680")).unwrap());
    let hash = raw_text(
        &d.path,
        "SELECT pin_hash FROM users WHERE sip_uri = 'sip:alice@contoso.example'",
    )
    .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    drop(pool);
    // Re-opened with other parameters, the hash still verifies: the PHC string carries its own.
    let pool = open(&d.path);
    assert!(pool.verify_pin(ALICE, &Secret::new("24680")).unwrap());
    assert!(!pool.verify_pin(ALICE, &Secret::new("02468")).unwrap());
}

#[test]
fn passcodes_verify_and_can_be_changed_or_removed() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    let mut c = new_conference(ALICE, "abc", Some(pstn("7001")));
    c.passcode = Some(Secret::new("8642097531"));
    let id = pool.insert_conference(&c).unwrap();
    let stored = pool.conference_by_id(id).unwrap().unwrap();
    assert!(stored.has_passcode);
    assert!(
        pool.verify_passcode(id, &Secret::new("8642097531"))
            .unwrap()
    );
    assert!(
        !pool
            .verify_passcode(id, &Secret::new("8642097530"))
            .unwrap()
    );
    let hash = raw_text(&d.path, "SELECT passcode_hash FROM conferences").unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    pool.set_passcode(id, Some(&Secret::new("1111"))).unwrap();
    assert!(pool.verify_passcode(id, &Secret::new("1111")).unwrap());
    assert!(
        !pool
            .verify_passcode(id, &Secret::new("8642097531"))
            .unwrap()
    );
    assert_eq!(
        pool.conference_by_id(id).unwrap().unwrap().revision,
        1,
        "passcode is not a revision"
    );

    pool.set_passcode(id, None).unwrap();
    assert!(!pool.conference_by_id(id).unwrap().unwrap().has_passcode);
    assert!(!pool.verify_passcode(id, &Secret::new("1111")).unwrap());
    assert!(matches!(
        pool.verify_passcode(id + 1, &Secret::new("1")).unwrap_err(),
        StorageError::NotFound { .. }
    ));
    assert!(matches!(
        pool.set_passcode(id + 1, None).unwrap_err(),
        StorageError::NotFound { .. }
    ));
}

#[test]
fn no_clear_secret_is_anywhere_in_the_database_files() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    pool.set_pin(ALICE, &Secret::new("24680"), 0).unwrap();
    pool.set_pin(BOB, &Secret::new("97531357"), 0).unwrap();
    pool.set_sip_password(ALICE, &Secret::new("correct-horse-battery"))
        .unwrap();
    let mut c = new_conference(ALICE, "abc", None);
    c.passcode = Some(Secret::new("8642097531"));
    pool.insert_conference(&c).unwrap();

    // While open (the WAL holds the writes) and after closing (checkpointed into the file).
    assert_no_secret_in(d.dir.path(), "open");
    drop(pool);
    assert_no_secret_in(d.dir.path(), "closed");
}

fn assert_no_secret_in(dir: &std::path::Path, when: &str) {
    let bytes = all_bytes(dir);
    assert!(
        contains(&bytes, b"$argon2id$"),
        "{when}: the search sees the hashes"
    );
    for secret in ["24680", "97531357", "correct-horse-battery", "8642097531"] {
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "{when}: `{secret}` is in the files"
        );
    }
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let mut c = new_conference(ALICE, "abc", None);
    c.passcode = Some(Secret::new("8642097531"));
    assert!(!format!("{c:?}").contains("8642097531"));
}

#[test]
fn pin_attempt_counters_round_trip_and_survive_reopen() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    assert_eq!(
        pool.pin_attempts(ALICE).unwrap(),
        PinAttempts {
            local_failures: 0,
            window_start: None,
            global_failures: 0,
            locked_until: None,
            locked: false,
        }
    );
    let a = PinAttempts {
        local_failures: 3,
        window_start: Some(1_700_000_000),
        global_failures: 7,
        locked_until: Some(1_700_000_600),
        locked: true,
    };
    pool.set_pin_attempts(ALICE, &a).unwrap();
    drop(pool);
    let pool = open(&d.path);
    assert_eq!(pool.pin_attempts(ALICE).unwrap(), a);
    assert_eq!(
        pool.pin_attempts(BOB).unwrap().global_failures,
        0,
        "per user"
    );
    let nobody = "sip:nobody@contoso.example";
    assert!(matches!(
        pool.pin_attempts(nobody).unwrap_err(),
        StorageError::NotFound { .. }
    ));
    assert!(matches!(
        pool.set_pin_attempts(nobody, &a).unwrap_err(),
        StorageError::NotFound { .. }
    ));
}

#[test]
fn digest_ha1s_follow_rfc_2617_and_7616() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    assert_eq!(pool.digest_ha1(ALICE, DigestAlgorithm::Md5).unwrap(), None);
    pool.set_sip_password(ALICE, &Secret::new("password"))
        .unwrap();

    // HA1 = H(username ":" realm ":" password), username the URI's user part, realm the domain.
    let input = b"alice:contoso.example:password";
    let md5 = hex::encode(md5::Md5::digest(input));
    let sha256 = hex::encode(sha2::Sha256::digest(input));
    assert_eq!(md5, "3d1de72b4af288f5671db00734b3f6be");
    assert_eq!(
        sha256,
        "83ff0f8da375967ef4c8ce4acaf072e9de2bdfb1b19ff58c40ae24dc28927ef7"
    );
    assert_eq!(
        pool.digest_ha1(ALICE, DigestAlgorithm::Md5).unwrap(),
        Some(md5)
    );
    assert_eq!(
        pool.digest_ha1(ALICE, DigestAlgorithm::Sha256).unwrap(),
        Some(sha256.clone())
    );
    assert_eq!(
        compute_ha1(
            DigestAlgorithm::Sha256,
            "alice",
            "contoso.example",
            &Secret::new("password")
        ),
        sha256
    );
    assert_eq!(pool.digest_ha1(BOB, DigestAlgorithm::Sha256).unwrap(), None);
    let nobody = "sip:nobody@contoso.example";
    assert!(matches!(
        pool.digest_ha1(nobody, DigestAlgorithm::Md5).unwrap_err(),
        StorageError::NotFound { .. }
    ));
    assert!(matches!(
        pool.set_sip_password(nobody, &Secret::new("x"))
            .unwrap_err(),
        StorageError::NotFound { .. }
    ));
    assert_eq!(DigestAlgorithm::Sha256.rfc_name(), "SHA-256");
}
