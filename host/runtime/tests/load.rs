//! Loading components: the real bundled normalizer, and files that must be refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use plenum_runtime::{Limits, LoadError, Runtime};
use plenum_sdk::harness::{self, demo};
use plenum_types::PluginKind;

fn runtime() -> Runtime {
    Runtime::new(Limits::default(), None).expect("runtime")
}

#[test]
fn loads_the_bundled_normalizer_and_runs_its_canaries() {
    let rt = runtime();
    let p = rt
        .load(plenum_bundled::NORMALIZER_RULES.bytes)
        .expect("load");
    assert_eq!(p.kind(), PluginKind::Normalizer);
    assert_eq!(p.info().name, "normalizer-rules");
    let n = plenum_runtime::target::check_canaries(&p, "contoso").expect("canaries");
    assert!(n >= 5);
    let out = p
        .normalize("contoso", &harness::request("5550100"))
        .unwrap();
    assert_eq!(
        out,
        Ok(plenum_plugin_api::normalizer::NormalizeOutcome::E164(
            "+14255550100".into()
        ))
    );
    let table = harness::normalize_table(
        &mut plenum_runtime::target::WasmTarget::new(&p, "contoso"),
        &demo::redmond(),
        &["0100", "011442075550100", "99"],
    );
    assert!(table.contains("+442075550100"), "{table}");
    assert!(table.contains("no match"), "{table}");
}

#[test]
fn refuses_what_is_not_a_component() {
    let rt = runtime();
    assert!(matches!(
        rt.load(b"definitely not wasm"),
        Err(LoadError::NotWasm)
    ));
    // The smallest core module: header only.
    assert!(matches!(
        rt.load(b"\0asm\x01\0\0\0"),
        Err(LoadError::CoreModule)
    ));
    // A component header followed by garbage.
    assert!(matches!(
        rt.load(b"\0asm\x0d\0\x01\0garbage"),
        Err(LoadError::Invalid(_))
    ));
    let limits = Limits {
        max_component_bytes: 1000,
        ..Limits::default()
    };
    let small = Runtime::new(limits, None).unwrap();
    let err = small
        .load(plenum_bundled::NORMALIZER_RULES.bytes)
        .unwrap_err();
    assert!(
        matches!(err, LoadError::TooLarge { max: 1000, .. }),
        "{err}"
    );
}

#[test]
fn the_artifact_cache_serves_the_second_load() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(Limits::default(), Some(dir.path())).unwrap();
    let (_, first) = rt
        .load_measured(plenum_bundled::NORMALIZER_RULES.bytes)
        .unwrap();
    let (p, second) = rt
        .load_measured(plenum_bundled::NORMALIZER_RULES.bytes)
        .unwrap();
    assert!(!first.cached);
    assert!(second.cached);
    // A fresh runtime (a restart) finds it too, and the plugin works.
    let rt2 = Runtime::new(Limits::default(), Some(dir.path())).unwrap();
    let (p2, third) = rt2
        .load_measured(plenum_bundled::NORMALIZER_RULES.bytes)
        .unwrap();
    assert!(third.cached);
    assert_eq!(p.digest(), p2.digest());
    assert!(
        p2.normalize("contoso", &harness::request("0100"))
            .unwrap()
            .is_ok()
    );
    // A corrupt cache entry is dropped and the component compiled again.
    for e in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::write(e.unwrap().path(), b"junk").unwrap();
    }
    let (_, fourth) = rt2
        .load_measured(plenum_bundled::NORMALIZER_RULES.bytes)
        .unwrap();
    assert!(!fourth.cached);
}
