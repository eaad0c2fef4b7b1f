//! The per-tenant registry: hot swap under concurrent calls, in-flight calls on their version,
//! rollback, restore after a restart, tenant isolation.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use plenum_plugin_api::attendant::Event;
use plenum_plugin_api::normalizer::NormalizeOutcome;
use plenum_runtime::fallback::Plugins;
use plenum_runtime::registry::{MemoryRepository, Registry, RegistryError, VersionState};
use plenum_runtime::{Limits, Runtime};
use plenum_sdk::harness::{self, demo};
use plenum_types::{PluginKind, TenantId};

fn setup() -> (Runtime, Arc<MemoryRepository>, Registry) {
    let rt = Runtime::new(Limits::default(), None).unwrap();
    let repo = Arc::new(MemoryRepository::default());
    let reg = Registry::new(rt.clone(), repo.clone());
    (rt, repo, reg)
}

fn tenant(id: &str) -> TenantId {
    TenantId::new(id).unwrap()
}

fn bytes(name: &str) -> Vec<u8> {
    plenum_bundled::artifact(name).unwrap()
}

/// Which fixture version answered ("a" or "b"), from its answer's prefix.
fn version_of(out: &NormalizeOutcome) -> &'static str {
    match out {
        NormalizeOutcome::E164(n) if n.starts_with("+1111") => "a",
        NormalizeOutcome::E164(n) if n.starts_with("+2222") => "b",
        other => panic!("unexpected answer {other:?}"),
    }
}

#[test]
fn swap_under_concurrent_calls_never_mixes_versions() {
    let (_rt, _repo, reg) = setup();
    let reg = Arc::new(reg);
    let t = tenant("contoso");
    let a = reg
        .upload(&t, None, &bytes("fixture-version-a"), 1)
        .unwrap()
        .digest;
    let b = reg
        .upload(&t, None, &bytes("fixture-version-b"), 1)
        .unwrap()
        .digest;
    reg.activate(&t, PluginKind::Normalizer, &a).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (reg, t, stop, seen) = (
                Arc::clone(&reg),
                t.clone(),
                Arc::clone(&stop),
                Arc::clone(&seen),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // One "call" = the version taken once, then several plugin invocations.
                    let plugin = reg.current(&t, PluginKind::Normalizer).unwrap();
                    let answers: Vec<_> = ["1", "22", "333"]
                        .iter()
                        .map(|n| {
                            version_of(
                                &plugin
                                    .normalize(t.as_str(), &harness::request(n))
                                    .unwrap()
                                    .unwrap(),
                            )
                        })
                        .collect();
                    assert!(
                        answers.iter().all(|v| *v == answers[0]),
                        "mixed versions in one call: {answers:?}"
                    );
                    seen[usize::from(answers[0] == "b")].fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for i in 0..20 {
        let d = if i % 2 == 0 { &b } else { &a };
        reg.activate(&t, PluginKind::Normalizer, d).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    assert!(
        seen[0].load(Ordering::Relaxed) > 0 && seen[1].load(Ordering::Relaxed) > 0,
        "both versions served"
    );
}

#[test]
fn an_in_flight_call_finishes_on_its_version() {
    let (_rt, _repo, reg) = setup();
    let t = tenant("contoso");
    reg.deploy(&t, None, &bytes("fixture-version-a"), 1)
        .unwrap();
    let held = reg.current(&t, PluginKind::Normalizer).unwrap();
    reg.deploy(&t, None, &bytes("fixture-version-b"), 2)
        .unwrap();
    assert_eq!(
        version_of(
            &held
                .normalize("contoso", &harness::request("5"))
                .unwrap()
                .unwrap()
        ),
        "a"
    );
    let now = reg.current(&t, PluginKind::Normalizer).unwrap();
    assert_eq!(
        version_of(
            &now.normalize("contoso", &harness::request("5"))
                .unwrap()
                .unwrap()
        ),
        "b"
    );
}

#[test]
fn an_attendant_call_keeps_its_version_across_a_swap() {
    let (rt, _repo, reg) = setup();
    let reg = Arc::new(reg);
    let t = tenant("contoso");
    reg.deploy(&t, None, plenum_bundled::ATTENDANT_OCS.bytes, 1)
        .unwrap();
    let plugins = Plugins::new(Arc::clone(&reg), Default::default());
    let call = demo::call(demo::redmond_number());
    let mut session = plugins.attendant(&t).unwrap();
    session.step(&call, &Event::CallStarted);
    // The tenant admin swaps the attendant while the caller is between prompts.
    reg.deploy(&t, None, &bytes("attendant-pin-example"), 2)
        .unwrap();
    let next = session.step(&call, &Event::PromptFinished);
    assert!(!next.is_empty(), "the call goes on");
    assert_eq!(session.plugin().info().name, "attendant-ocs");
    assert!(!session.fell_back());
    let fresh = plugins.attendant(&t).unwrap();
    assert_eq!(fresh.plugin().info().name, "attendant-pin-example");
    drop(rt);
}

#[test]
fn rollback_swaps_active_and_previous() {
    let (_rt, _repo, reg) = setup();
    let t = tenant("contoso");
    assert!(matches!(
        reg.rollback(&t, PluginKind::Normalizer),
        Err(RegistryError::NoPrevious { .. })
    ));
    let a = reg
        .deploy(&t, None, &bytes("fixture-version-a"), 1)
        .unwrap()
        .digest;
    assert!(matches!(
        reg.rollback(&t, PluginKind::Normalizer),
        Err(RegistryError::NoPrevious { .. })
    ));
    let b = reg
        .deploy(&t, None, &bytes("fixture-version-b"), 2)
        .unwrap()
        .digest;
    assert_eq!(reg.rollback(&t, PluginKind::Normalizer).unwrap(), a);
    let binding = reg.binding(&t, PluginKind::Normalizer).unwrap();
    assert_eq!((binding.active, binding.previous), (a, Some(b)));
    assert_eq!(reg.rollback(&t, PluginKind::Normalizer).unwrap(), b);
    let states: Vec<_> = reg
        .list(&t)
        .unwrap()
        .into_iter()
        .map(|v| (v.version.digest, v.state))
        .collect();
    assert!(states.contains(&(b, VersionState::Active)));
    assert!(states.contains(&(a, VersionState::Previous)));
}

#[test]
fn activating_what_was_never_uploaded_fails() {
    let (_rt, _repo, reg) = setup();
    let t = tenant("contoso");
    let other = tenant("fabrikam");
    let a = reg
        .upload(&other, None, &bytes("fixture-version-a"), 1)
        .unwrap()
        .digest;
    // Uploaded for fabrikam, not for contoso.
    assert!(matches!(
        reg.activate(&t, PluginKind::Normalizer, &a),
        Err(RegistryError::NotUploaded { .. })
    ));
}

#[test]
fn a_restart_restores_the_same_active_set() {
    let (rt, repo, reg) = setup();
    let (c, f) = (tenant("contoso"), tenant("fabrikam"));
    let a = reg
        .deploy(&c, None, &bytes("fixture-version-a"), 1)
        .unwrap()
        .digest;
    let b = reg
        .deploy(&c, None, &bytes("fixture-version-b"), 2)
        .unwrap()
        .digest;
    let att = reg
        .deploy(&f, None, plenum_bundled::ATTENDANT_OCS.bytes, 3)
        .unwrap()
        .digest;
    drop(reg);

    let restarted = Registry::new(rt, repo);
    assert!(
        restarted.current(&c, PluginKind::Normalizer).is_none(),
        "nothing before restore"
    );
    let report = restarted.restore().unwrap();
    assert_eq!((report.restored, report.failed.len()), (2, 0));
    let binding = restarted.binding(&c, PluginKind::Normalizer).unwrap();
    assert_eq!((binding.active, binding.previous), (b, Some(a)));
    assert_eq!(
        restarted
            .current(&f, PluginKind::Attendant)
            .unwrap()
            .digest(),
        att
    );
    // And the restored version works, rollback included.
    assert_eq!(restarted.rollback(&c, PluginKind::Normalizer).unwrap(), a);
}

#[test]
fn a_swap_for_one_tenant_never_touches_another() {
    let (_rt, _repo, reg) = setup();
    let (c, f) = (tenant("contoso"), tenant("fabrikam"));
    reg.deploy(&c, None, &bytes("fixture-version-a"), 1)
        .unwrap();
    reg.deploy(&f, None, &bytes("fixture-version-a"), 1)
        .unwrap();
    reg.deploy(&c, None, &bytes("fixture-version-b"), 2)
        .unwrap();
    let out = |t: &TenantId| {
        let p = reg.current(t, PluginKind::Normalizer).unwrap();
        version_of(
            &p.normalize(t.as_str(), &harness::request("7"))
                .unwrap()
                .unwrap(),
        )
    };
    assert_eq!((out(&c), out(&f)), ("b", "a"));
    reg.rollback(&c, PluginKind::Normalizer).unwrap();
    assert!(matches!(
        reg.rollback(&f, PluginKind::Normalizer),
        Err(RegistryError::NoPrevious { .. })
    ));
    assert_eq!(reg.list(&f).unwrap().len(), 1);
}
