//! Migrations, pragmas, durability and the PSTN sequence.

use std::collections::HashSet;
use std::sync::Arc;

use plenum_storage::{Pool, SCHEMA_VERSION, SqlitePool, StorageError};

use crate::common::*;

fn applied_versions(path: &std::path::Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn migrations_apply_once_and_reopen_works() {
    let d = dir();
    let pool = open(&d.path);
    assert_eq!(pool.schema_version().unwrap(), SCHEMA_VERSION);
    pool.create_tenant(&tenant("contoso", "contoso.example"))
        .unwrap();
    drop(pool);
    let want: Vec<i64> = (1..=i64::try_from(SCHEMA_VERSION).unwrap()).collect();
    assert_eq!(applied_versions(&d.path), want);

    let pool = open(&d.path);
    assert_eq!(pool.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(pool.tenants().unwrap().len(), 1, "re-open keeps the data");
    drop(pool);
    assert_eq!(
        applied_versions(&d.path),
        want,
        "re-open applies nothing again"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let d = dir();
    drop(open(&d.path));
    let conn = rusqlite::Connection::open(&d.path).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, 0)",
        [i64::try_from(SCHEMA_VERSION).unwrap() + 1],
    )
    .unwrap();
    drop(conn);
    let err = SqlitePool::open_with(&d.path, cheap()).unwrap_err();
    match err {
        StorageError::SchemaTooNew { found, supported } => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(err_text(&d.path).contains("newer than this build supports"));
}

fn err_text(path: &std::path::Path) -> String {
    SqlitePool::open_with(path, cheap())
        .unwrap_err()
        .to_string()
}

#[test]
fn the_file_is_in_wal_mode_with_foreign_keys_enforced() {
    let d = dir();
    let pool = open(&d.path);
    let conn = rusqlite::Connection::open(&d.path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // A user of a tenant that does not exist: the foreign key refuses it.
    let err = pool
        .add_user(&user(ALICE, "nobody", None, None))
        .unwrap_err();
    assert!(
        matches!(err, StorageError::MissingReference { .. }),
        "{err:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_new_database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir();
    drop(open(&d.path));
    let mode = std::fs::metadata(&d.path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn an_accepted_write_survives_closing_and_reopening() {
    let d = dir();
    let pool = open(&d.path);
    contoso(&pool);
    pool.set_pin(ALICE, &plenum_types::Secret::new("24680"), 5)
        .unwrap();
    drop(pool);

    let pool = open(&d.path);
    let alice = pool.user_by_uri(ALICE).unwrap().unwrap();
    assert_eq!(alice.extension.as_deref(), Some("1001"));
    assert!(
        pool.verify_pin(ALICE, &plenum_types::Secret::new("24680"))
            .unwrap()
    );
    assert_eq!(pool.pin_set_at(ALICE).unwrap(), Some(5));
}

#[test]
fn a_write_is_visible_to_another_connection_at_once() {
    let d = dir();
    let pool = open(&d.path);
    pool.create_tenant(&tenant("contoso", "contoso.example"))
        .unwrap();
    // Without closing the pool: a second reader sees the committed row (WAL, committed).
    let other = open(&d.path);
    assert!(other.tenant(&tid("contoso")).unwrap().is_some());
}

#[test]
fn the_pstn_sequence_only_goes_up_even_across_reopen() {
    let d = dir();
    let pool = open(&d.path);
    let a = pool.next_pstn_sequence().unwrap();
    let b = pool.next_pstn_sequence().unwrap();
    assert!(b > a);
    drop(pool);
    let pool = open(&d.path);
    let c = pool.next_pstn_sequence().unwrap();
    assert!(c > b, "{c} after {b}");
}

#[test]
fn the_pstn_sequence_never_repeats_under_concurrency() {
    let d = dir();
    let pool = Arc::new(open(&d.path));
    let second = Arc::new(open(&d.path)); // a second connection, as a second process would
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let p: Arc<dyn Pool> = if i % 2 == 0 {
                pool.clone()
            } else {
                second.clone()
            };
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| p.next_pstn_sequence().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for h in handles {
        for n in h.join().unwrap() {
            assert!(seen.insert(n), "{n} handed out twice");
        }
    }
    assert_eq!(seen.len(), 100);
}

#[test]
fn in_memory_pools_work_for_other_crates_tests() {
    let pool = SqlitePool::open_in_memory(cheap()).unwrap();
    assert!(pool.is_empty().unwrap());
    contoso(&pool);
    assert!(!pool.is_empty().unwrap());
}
