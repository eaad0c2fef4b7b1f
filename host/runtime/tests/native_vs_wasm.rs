//! The bundled plugins give the same answers as Wasm components under the runtime as they give
//! compiled natively (what their own tests run): scripted calls produce identical transcripts,
//! number tables identical rows, policies and focus factory identical decisions. So the
//! native test suites speak for the shipped components, and the two builds cannot drift.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use plenum_plugin_api::attendant::Event;
use plenum_plugin_api::policy::{AttemptOutcome, PasscodeCheck, PinAttempts, PinCheck};
use plenum_runtime::target::WasmTarget;
use plenum_runtime::{Limits, Runtime};
use plenum_sdk::harness::{self, AttendantTarget, FocusTarget, Native, PolicyTarget, demo, script};

fn runtime() -> Runtime {
    Runtime::new(Limits::default(), None).unwrap()
}

/// Calls that walk every branch of the OCS attendant.
fn scripts() -> Vec<String> {
    let id = plenum_sdk::api::pstn::with_check_digit("7001234").unwrap();
    let mut bad = id.clone();
    bad.pop();
    bad.push(if id.ends_with('0') { '1' } else { '0' });
    [
        "meeting {id} passcode=2468 leader-present\npress 1\npress {id}#\npress 2468#\nsay 1500\n",
        "meeting {id} passcode=2468\npress 2\npress 999#\npress {bad}#\npress 1234#\n",
        "meeting {id} passcode=2468\npress 3\npress {id}#\npress 1111#\npress 2222#\npress 3333#\n",
        "meeting {id} passcode=2468\nuser 1001 pin=24680 uri=sip:alice@contoso.example name=Alice\npress 1\npress {id}#\npress *\npress 1001#\npress 24680#\n",
        "meeting {id} passcode=2468\nuser 1001 pin=24680 uri=sip:alice@contoso.example locked\npress 1\npress {id}#\npress *\npress 1001#\npress 11111#\npress 2468#\nsilence\n",
        "meeting {id} passcode=2468\npress 1\npress {id}#\npress 2468#\nsay 800\nwait 5000\nleader-joins\n",
        "meeting {id} passcode=2468 locked\npress 1\npress {id}#\npress 2468#\nsilence\nadmit\n",
        "call user=sip:bob@contoso.example name=Bob\nmeeting {id}\npress 1\npress {id}#\n",
        "call to=+442075550100\nmeeting {id}\npress {id}#\nsilence\nsilence\nsilence\n",
        "meeting {id} passcode=2468\nsilence\nsilence\nsilence\nsilence\nsilence\nsilence\n",
        "meeting {id} passcode=2468\npress 1\npress {id}#\nhangup\n",
    ]
    .iter()
    .map(|s| s.replace("{id}", &id).replace("{bad}", &bad))
    .collect()
}

#[test]
fn attendant_transcripts_match() {
    let rt = runtime();
    let wasm = rt.load(plenum_bundled::ATTENDANT_OCS.bytes).unwrap();
    for text in scripts() {
        let s = script::Script::parse(&text).unwrap();
        let native = script::run(&mut Native::<attendant_ocs::OcsAttendant>::new(), &s);
        let shipped = script::run(&mut WasmTarget::new(&wasm, "contoso"), &s);
        assert_eq!(native.to_string(), shipped.to_string(), "script:\n{text}");
        assert!(
            !matches!(shipped.outcome, script::Outcome::Fault(_)),
            "{shipped}"
        );
    }
}

#[test]
fn attendant_state_survives_garbage_the_same_way() {
    let rt = runtime();
    let wasm = rt.load(plenum_bundled::ATTENDANT_OCS.bytes).unwrap();
    let call = demo::call(demo::redmond_number());
    for state in [&b""[..], b"\xff\xfe", b"\x01\x02\x03\x04\x05\x06\x07\x08"] {
        let n =
            Native::<attendant_ocs::OcsAttendant>::new().step(&call, state, &Event::PromptFinished);
        let w = WasmTarget::new(&wasm, "contoso").step(&call, state, &Event::PromptFinished);
        assert_eq!(
            n.map(|r| r.map(|s| s.actions)),
            w.map(|r| r.map(|s| s.actions))
                .map_err(|f| harness::Fault(f.0))
        );
    }
}

#[test]
fn normalizer_tables_match() {
    let rt = runtime();
    let wasm = rt.load(plenum_bundled::NORMALIZER_RULES.bytes).unwrap();
    let numbers = [
        "0100",
        "5550100",
        "4255550100",
        "14255550100",
        "011442075550100",
        "+442075550100",
        "",
        "+",
        "12345",
        "(425) 555-0100",
        "425.555.0100",
        "0000000000000000000000",
        "+0123",
        "9",
        "a1b2",
    ];
    for profile in [
        demo::redmond(),
        harness::profile(
            "London",
            "London",
            &[(r"^(\d{4})$", "+44207555$1"), (r"^0(\d{10})$", "+44$1")],
        ),
    ] {
        let native = harness::normalize_table(
            &mut Native::<normalizer_rules::RuleNormalizer>::new(),
            &profile,
            &numbers,
        );
        let shipped =
            harness::normalize_table(&mut WasmTarget::new(&wasm, "contoso"), &profile, &numbers);
        assert_eq!(native, shipped);
    }
}

#[test]
fn policy_decisions_match() {
    let rt = runtime();
    for (bytes, strict) in [
        (plenum_bundled::MEETING_POLICY_DEFAULT.bytes, false),
        (plenum_bundled::MEETING_POLICY_STRICT.bytes, true),
    ] {
        let wasm = rt.load(bytes).unwrap();
        let mut w = WasmTarget::new(&wasm, "contoso");
        let mut n: Box<dyn PolicyTarget> = if strict {
            Box::new(Native::<meeting_policy_strict::StrictPolicy>::new())
        } else {
            Box::new(Native::<meeting_policy_default::DefaultPolicy>::new())
        };
        let docs = [
            String::new(),
            plenum_bundled::CONTOSO_POLICY.to_owned(),
            plenum_bundled::FABRIKAM_POLICY.to_owned(),
            "[passcode]\nmin-length = 8\n".to_owned(),
            "[passcode]\nmin-length = \"many\"\n".to_owned(),
        ];
        for doc in &docs {
            let flat = plenum_sdk::toml_document::flatten(doc).unwrap_or_default();
            let ctx = demo::policy_context(flat);
            assert_eq!(n.settings(&ctx), w.settings(&ctx), "settings for {doc}");
            for code in ["1234", "2468", "13579", "111111", "86420975", "12a4"] {
                let chk = PasscodeCheck {
                    passcode: code.into(),
                    pstn: true,
                };
                assert_eq!(
                    n.check_passcode(&ctx, &chk),
                    w.check_passcode(&ctx, &chk),
                    "{code}"
                );
                let pin = PinCheck {
                    pin: code.into(),
                    extension: Some("1001".into()),
                    line: Some("+14255551001".into()),
                };
                assert_eq!(n.check_pin(&ctx, &pin), w.check_pin(&ctx, &pin), "{code}");
            }
            let mut a = PinAttempts::default();
            for i in 0..30 {
                let outcome = if i % 7 == 6 {
                    AttemptOutcome::Success
                } else {
                    AttemptOutcome::Failure
                };
                let na = n
                    .record_attempt(&ctx, 5, &a, outcome, 1_790_000_000 + i * 60)
                    .unwrap();
                let wa = w
                    .record_attempt(&ctx, 5, &a, outcome, 1_790_000_000 + i * 60)
                    .unwrap();
                assert_eq!(na, wa);
                if let Ok(next) = na {
                    a = next;
                }
            }
        }
    }
}

#[test]
fn focus_factory_answers_match() {
    let rt = runtime();
    let wasm = rt
        .load(plenum_bundled::FOCUS_FACTORY_DEFAULT.bytes)
        .unwrap();
    let mut w = WasmTarget::new(&wasm, "contoso");
    let mut n = Native::<focus_factory_default::DefaultFocusFactory>::new();
    let ctx = demo::schedule_context();
    assert_eq!(n.get_capabilities(&ctx), w.get_capabilities(&ctx));
    let requests = [
        Default::default(),
        plenum_plugin_api::focus::ConferenceRequest {
            pstn_access: true,
            ..Default::default()
        },
        plenum_plugin_api::focus::ConferenceRequest {
            pstn_access: true,
            passcode: Some("12".into()),
            ..Default::default()
        },
        plenum_plugin_api::focus::ConferenceRequest {
            conference_id: Some("bad id!".into()),
            ..Default::default()
        },
        plenum_plugin_api::focus::ConferenceRequest {
            expiry: Some(1),
            ..Default::default()
        },
    ];
    for req in &requests {
        assert_eq!(
            n.complete_add(&ctx, req),
            w.complete_add(&ctx, req),
            "{req:?}"
        );
    }
}
