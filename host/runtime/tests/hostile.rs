//! Hostile components: every one is contained, classified, counted, and the host (and the next
//! call) goes on. Each fixture passes its canaries and misbehaves only when asked to, so it is
//! uploaded like any plugin and then triggered at run time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use plenum_plugin_api::attendant::{Action, CollectEnd, Collected, Event};
use plenum_plugin_api::focus::RefusalReason;
use plenum_plugin_api::normalizer::NormalizeOutcome;
use plenum_plugin_api::policy::{
    AdmissionDecision, AdmissionRequest, JoiningMethod, MeetingFacts, ParticipantIdentity,
    PinCheck, Role,
};
use plenum_plugin_api::types::{AdmissionPolicy, Verdict};
use plenum_runtime::fallback::Plugins;
use plenum_runtime::registry::{MemoryRepository, Registry, RegistryError};
use plenum_runtime::{FaultKind, Limits, LoadError, Plugin, Runtime};
use plenum_sdk::harness::{self, demo};
use plenum_types::{PluginKind, TenantId};

fn runtime(limits: Limits) -> Runtime {
    Runtime::new(limits, None).expect("runtime")
}

fn fixture(rt: &Runtime, name: &str) -> Arc<Plugin> {
    let bytes = plenum_bundled::artifact(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    rt.load(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Trigger `name`'s misbehaviour and return the fault class; then check a benign call works.
fn trigger(rt: &Runtime, name: &str) -> FaultKind {
    let p = fixture(rt, name);
    assert_eq!(p.kind(), PluginKind::Normalizer);
    let started = Instant::now();
    let fault = p
        .normalize("contoso", &harness::request("0000"))
        .expect_err("must fault");
    // Deadlines are a budget of tens of milliseconds; a fault must never take seconds.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{name} took {:?}",
        started.elapsed()
    );
    assert!(
        p.normalize("contoso", &harness::request("1234")).is_ok(),
        "{name}: next call must work"
    );
    let key = p.counter_key("contoso");
    assert_eq!(
        rt.counters().faults_of(&key, fault.kind),
        1,
        "{name}: fault counted"
    );
    assert_eq!(rt.counters().calls_of(&key), 2);
    fault.kind
}

#[test]
fn infinite_loop_hits_the_cpu_deadline() {
    let rt = runtime(Limits::default());
    assert_eq!(trigger(&rt, "fixture-loop"), FaultKind::CpuDeadline);
}

#[test]
fn wall_deadline_is_separate_from_cpu() {
    let rt = runtime(Limits {
        cpu: Duration::from_secs(10),
        wall: Duration::from_millis(30),
        ..Limits::default()
    });
    assert_eq!(trigger(&rt, "fixture-loop"), FaultKind::WallDeadline);
}

#[test]
fn memory_bomb_hits_the_memory_cap() {
    let rt = runtime(Limits::default());
    assert_eq!(trigger(&rt, "fixture-memory-bomb"), FaultKind::MemoryLimit);
}

#[test]
fn panic_is_classified_with_its_message() {
    let rt = runtime(Limits::default());
    let p = fixture(&rt, "fixture-panic");
    let fault = p
        .normalize("contoso", &harness::request("0000"))
        .unwrap_err();
    assert_eq!(fault.kind, FaultKind::Panic);
    assert!(fault.detail.contains("panicked"), "{fault}");
}

#[test]
fn stack_overflow_is_classified() {
    let rt = runtime(Limits::default());
    assert_eq!(
        trigger(&rt, "fixture-stack-overflow"),
        FaultKind::StackOverflow
    );
}

#[test]
fn oversized_output_is_refused() {
    let rt = runtime(Limits::default());
    assert_eq!(
        trigger(&rt, "fixture-big-output"),
        FaultKind::OutputTooLarge
    );
}

#[test]
fn oversized_input_is_refused_before_the_call() {
    let rt = runtime(Limits {
        max_input_bytes: 1024,
        ..Limits::default()
    });
    let p = fixture(&rt, "fixture-panic");
    let mut req = harness::request("1234");
    req.profile.rules = (0..100)
        .map(|i| demo::redmond().rules[i % 5].clone())
        .collect();
    let fault = p.normalize("contoso", &req).unwrap_err();
    assert_eq!(fault.kind, FaultKind::InputTooLarge);
}

#[test]
fn log_and_counter_floods_are_capped_not_fatal() {
    let limits = Limits::default();
    let cap = u64::from(limits.max_counter_updates);
    let rt = runtime(limits);
    let p = fixture(&rt, "fixture-log-flood");
    let out = p
        .normalize("contoso", &harness::request("0000"))
        .expect("no fault");
    assert_eq!(out, Ok(NormalizeOutcome::E164("+10000".into())));
    let key = p.counter_key("contoso");
    let total: u64 = rt
        .counters()
        .snapshot()
        .plugin
        .iter()
        .filter(|(k, _, _)| *k == key)
        .map(|(_, _, v)| v)
        .sum();
    assert!(total <= cap, "{total} counter increments kept, cap {cap}");
    assert_eq!(rt.counters().total_faults_of(&key), 0);
}

#[test]
fn refused_at_load_with_a_clear_reason() {
    let rt = runtime(Limits::default());
    let load = |name: &str| {
        rt.load(&plenum_bundled::artifact(name).unwrap())
            .map(|_| ())
            .unwrap_err()
    };
    let wrong = load("fixture-wrong-world");
    assert!(matches!(wrong, LoadError::WrongWorld { .. }), "{wrong}");
    assert!(
        wrong.to_string().contains("plenum:fixture"),
        "names what it exports: {wrong}"
    );
    let future = load("fixture-future-wit");
    assert!(
        matches!(&future, LoadError::UnsupportedVersion { found } if found == "0.2.0"),
        "{future}"
    );
}

fn registry(rt: &Runtime) -> Registry {
    Registry::new(rt.clone(), Arc::new(MemoryRepository::default()))
}

#[test]
fn failing_canaries_refuse_the_upload_and_change_nothing() {
    let rt = runtime(Limits::default());
    let reg = registry(&rt);
    let t = TenantId::new("contoso").unwrap();
    reg.deploy(&t, None, plenum_bundled::NORMALIZER_RULES.bytes, 1)
        .unwrap();
    let before = reg.binding(&t, PluginKind::Normalizer);

    let bad = reg
        .upload(
            &t,
            None,
            &plenum_bundled::artifact("fixture-bad-canary").unwrap(),
            2,
        )
        .unwrap_err();
    assert!(matches!(bad, RegistryError::Canary(_)), "{bad}");
    assert!(
        bad.to_string().contains("+14255550100"),
        "says what was expected: {bad}"
    );

    let started = Instant::now();
    let slow = reg
        .upload(
            &t,
            None,
            &plenum_bundled::artifact("fixture-slow-start").unwrap(),
            3,
        )
        .unwrap_err();
    assert!(matches!(slow, RegistryError::Canary(_)), "{slow}");
    assert!(
        slow.to_string().contains("cpu-deadline") || slow.to_string().contains("wall-deadline"),
        "{slow}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let kind = reg
        .upload(
            &t,
            Some(PluginKind::Attendant),
            plenum_bundled::NORMALIZER_RULES.bytes,
            4,
        )
        .unwrap_err();
    assert!(
        matches!(kind, RegistryError::Load(LoadError::KindMismatch { .. })),
        "{kind}"
    );

    assert_eq!(reg.binding(&t, PluginKind::Normalizer), before);
    let listed = reg.list(&t).unwrap();
    assert_eq!(listed.len(), 1, "only the good version is stored");
}

fn plugins_with(rt: &Runtime, tenant: &TenantId, kind: PluginKind, fixture: &str) -> Plugins {
    let reg = Arc::new(registry(rt));
    reg.deploy(
        tenant,
        Some(kind),
        &plenum_bundled::artifact(fixture).unwrap(),
        1,
    )
    .unwrap();
    let mut bundled = HashMap::new();
    for b in plenum_bundled::DEFAULTS {
        bundled.insert(b.kind, rt.load(b.bytes).unwrap());
    }
    Plugins::new(reg, bundled)
}

#[test]
fn a_broken_normalizer_falls_back_to_pass_through() {
    let rt = runtime(Limits::default());
    let t = TenantId::new("contoso").unwrap();
    let plugins = plugins_with(&rt, &t, PluginKind::Normalizer, "fixture-panic");
    let d = plugins.normalize(&t, &harness::request("0000"));
    assert!(d.fell_back());
    assert_eq!(d.value, NormalizeOutcome::NoMatch);
    let d = plugins.normalize(&t, &harness::request("+14255550100"));
    assert_eq!(d.value, NormalizeOutcome::E164("+14255550100".into()));
}

fn admission(is_organizer: bool) -> AdmissionRequest {
    AdmissionRequest {
        meeting: MeetingFacts {
            organizer: "sip:alice@contoso.example".into(),
            admission: AdmissionPolicy::Anonymous,
            lobby_bypass: false,
            has_passcode: true,
            locked: false,
            admit_all: false,
            leaders_present: 1,
            authenticated_present: 1,
            participants: 1,
        },
        identity: if is_organizer {
            ParticipantIdentity::SipUser("sip:alice@contoso.example".into())
        } else {
            ParticipantIdentity::Anonymous
        },
        is_organizer,
        same_tenant: is_organizer,
        method: if is_organizer {
            JoiningMethod::SipClient
        } else {
            JoiningMethod::DialedIn
        },
    }
}

#[test]
fn a_broken_policy_fails_closed() {
    let rt = runtime(Limits::default());
    let t = TenantId::new("contoso").unwrap();
    let plugins = plugins_with(&rt, &t, PluginKind::MeetingPolicy, "fixture-policy-hostile");
    let ctx = demo::policy_context(Vec::new());
    // admit loops forever: the organizer still gets in as leader, everyone else waits in the lobby.
    let d = plugins.admit(&t, &ctx, &admission(false));
    assert!(d.fell_back());
    assert_eq!(d.value, AdmissionDecision::Lobby);
    assert_eq!(
        plugins.admit(&t, &ctx, &admission(true)).value,
        AdmissionDecision::Admit(Role::Leader)
    );
    // check-pin panics: the PIN is rejected.
    let pin = PinCheck {
        pin: "24680".into(),
        extension: Some("1001".into()),
        line: None,
    };
    assert!(matches!(
        plugins.check_pin(&t, &ctx, &pin).value,
        Verdict::Reject(_)
    ));
    // settings still come from the plugin (it works).
    assert!(!plugins.settings(&t, &ctx).fell_back());
}

#[test]
fn a_broken_focus_factory_answers_a_c3p_failure() {
    let rt = runtime(Limits::default());
    let t = TenantId::new("contoso").unwrap();
    let plugins = plugins_with(&rt, &t, PluginKind::FocusFactory, "fixture-focus-hostile");
    let ctx = demo::schedule_context();
    let d = plugins.complete_add(&t, &ctx, &Default::default());
    assert!(d.fell_back());
    assert!(matches!(d.value, Err(r) if r.reason == RefusalReason::OtherFailure));
    assert!(!plugins.get_capabilities(&t, &ctx).fell_back());
}

#[test]
fn a_broken_attendant_restarts_the_call_on_the_bundled_one() {
    let rt = runtime(Limits::default());
    let t = TenantId::new("contoso").unwrap();
    let plugins = plugins_with(&rt, &t, PluginKind::Attendant, "fixture-attendant-hostile");
    let call = demo::call(demo::redmond_number());
    let mut session = plugins.attendant(&t).unwrap();
    let first = session.step(&call, &Event::CallStarted);
    assert!(!session.fell_back());
    assert!(
        first.iter().any(|a| matches!(a, Action::Collect(_))),
        "{first:?}"
    );
    // "666" makes the hostile attendant panic: the call restarts on attendant-ocs (welcome).
    let digits = Event::Digits(Collected {
        digits: "666".into(),
        end: CollectEnd::Terminator,
    });
    let next = session.step(&call, &digits);
    assert!(session.fell_back());
    assert_eq!(session.plugin().info().name, "attendant-ocs");
    let rendered: Vec<String> = next.iter().map(ToString::to_string).collect();
    assert!(
        rendered.iter().any(|a| a.contains("welcome")),
        "{rendered:?}"
    );
}

#[test]
fn without_a_fallback_the_caller_hears_technical_difficulty() {
    let rt = runtime(Limits::default());
    let t = TenantId::new("contoso").unwrap();
    let reg = Arc::new(registry(&rt));
    reg.deploy(
        &t,
        None,
        &plenum_bundled::artifact("fixture-attendant-hostile").unwrap(),
        1,
    )
    .unwrap();
    let plugins = Plugins::new(reg, HashMap::new());
    let call = demo::call(demo::redmond_number());
    let mut session = plugins.attendant(&t).unwrap();
    session.step(&call, &Event::CallStarted);
    let out = session.step(
        &call,
        &Event::Digits(Collected {
            digits: "888".into(),
            end: CollectEnd::Terminator,
        }),
    );
    assert_eq!(out, plenum_runtime::fallback::technical_difficulty());
}
