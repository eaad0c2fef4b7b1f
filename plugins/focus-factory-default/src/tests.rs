//! Native tests through the SDK harness.

use plenum_sdk::harness::{self, FocusTarget, Native, demo};
use plenum_sdk::prelude::*;

use crate::DefaultFocusFactory;
use crate::canaries::{NOW, context, dial_in, generated_plan};

fn add(ctx: &ScheduleContext, req: ConferenceRequest) -> Result<ConferencePlan, Refusal> {
    Native::<DefaultFocusFactory>::new()
        .complete_add(ctx, &req)
        .expect("no fault")
}

fn modify(
    ctx: &ScheduleContext,
    current: &ConferencePlan,
    req: ConferenceRequest,
) -> Result<ConferencePlan, Refusal> {
    Native::<DefaultFocusFactory>::new()
        .complete_modify(ctx, current, &req)
        .expect("no fault")
}

fn reason<T: std::fmt::Debug>(r: Result<T, Refusal>) -> RefusalReason {
    r.expect_err("a refusal").reason
}

#[test]
fn own_canaries_pass() {
    let n = crate::canaries::all().len();
    assert_eq!(
        harness::check_focus(&mut Native::<DefaultFocusFactory>::new()),
        Ok(n)
    );
}

#[test]
fn capabilities_group_numbers_by_region() {
    let mut ctx = context();
    let mut second = demo::redmond_number();
    second.number = "+14255550199".into();
    second.priority = 1;
    let mut first = demo::redmond_number();
    first.priority = 0;
    ctx.access_numbers = vec![second.clone(), demo::london_number(), first.clone()];
    let caps = Native::<DefaultFocusFactory>::new()
        .get_capabilities(&ctx)
        .expect("no fault")
        .expect("ok");
    let names: Vec<&str> = caps.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["London", "Redmond"]);
    assert_eq!(caps.regions[1].numbers, vec![first, second]);
    assert_eq!(caps.default_region.as_deref(), Some("Redmond"));
    assert_eq!(caps.mcu_types, ["audio-video"]);
    assert!(caps.pstn_bridging && caps.anonymous_scheduling && caps.lobby_bypass_allowed);
    assert!(!caps.passcode_optional);
    assert_eq!(
        (caps.passcode_min_length, caps.passcode_max_length),
        (4, 16)
    );
    assert_eq!(caps.admission_policies.len(), 3);
}

#[test]
fn capabilities_without_dial_in_offer_no_numbers() {
    let ctx = ScheduleContext {
        pstn_enabled: false,
        ..context()
    };
    let caps = Native::<DefaultFocusFactory>::new()
        .get_capabilities(&ctx)
        .expect("no fault")
        .expect("ok");
    assert!(!caps.pstn_bridging);
    assert!(caps.regions.is_empty() && caps.default_region.is_none());
}

#[test]
fn meeting_id_validation() {
    let cases = [
        ("TPDD8VYG", true),
        ("8386E6AEAAA41E4AA6627BA76D43B6D1", true),
        ("abc12345", true),
        ("TPDD8VY", false),
        ("8386E6AEAAA41E4AA6627BA76D43B6D1X", false),
        ("TPDD-8VYG", false),
        ("TPDD 8VYG", false),
        ("TPDDÉ8VYG", false),
        ("", false),
    ];
    for (id, ok) in cases {
        let got = add(
            &context(),
            ConferenceRequest {
                conference_id: Some(id.into()),
                ..dial_in()
            },
        );
        match (ok, got) {
            (true, Ok(plan)) => assert_eq!(plan.conference_id, id),
            (false, Err(r)) => assert_eq!(r.reason, RefusalReason::InvalidConferenceId, "{id}"),
            (_, other) => panic!("{id}: {other:?}"),
        }
    }
}

#[test]
fn generated_values_are_well_formed_and_depend_on_entropy() {
    let a = add(&context(), dial_in()).expect("ok");
    let mut other = context();
    other.entropy = (100..132).collect();
    let b = add(&other, dial_in()).expect("ok");
    assert_eq!(a, generated_plan());
    assert!(crate::plan::is_valid_id(&b.conference_id) && b.conference_id.len() == 16);
    assert_ne!(a.conference_id, b.conference_id);
    assert_ne!(a.passcode, b.passcode);
    let base = b.pstn_base.expect("dial-in");
    assert!(base.starts_with("11234") && base.len() == 6, "{base}");
    // The host appends the check digit; the result is a valid PSTN ID.
    assert!(pstn::is_valid(
        &pstn::with_check_digit(&base).expect("digits")
    ));
}

#[test]
fn generated_passcode_follows_the_policy_length() {
    let mut ctx = context();
    ctx.settings.passcode.min_length = 7;
    let p = add(&ctx, dial_in())
        .expect("ok")
        .passcode
        .expect("required");
    assert_eq!(p.len(), 7);
    assert!(p.bytes().all(|b| b.is_ascii_digit()));
    ctx.settings.passcode.required = false;
    assert_eq!(add(&ctx, dial_in()).expect("ok").passcode, None);
}

#[test]
fn passcode_rules() {
    let ctx = context();
    let with = |p: &str, pstn| {
        add(
            &ctx,
            ConferenceRequest {
                passcode: Some(p.into()),
                pstn_access: pstn,
                ..ConferenceRequest::default()
            },
        )
    };
    assert_eq!(
        with("2468", true).expect("ok").passcode.as_deref(),
        Some("2468")
    );
    assert_eq!(reason(with("246", true)), RefusalReason::InvalidPasscode);
    assert_eq!(
        reason(with("12345678901234567", true)),
        RefusalReason::InvalidPasscode
    );
    assert_eq!(reason(with("24a8", true)), RefusalReason::InvalidPasscode);
    assert_eq!(
        with("ab12", false).expect("ok").passcode.as_deref(),
        Some("ab12")
    );
    assert_eq!(reason(with("ab-12", false)), RefusalReason::InvalidPasscode);
}

#[test]
fn expiry_bounds() {
    let ctx = context();
    let max = i64::from(ctx.settings.max_expiry_secs);
    let at = |t| {
        add(
            &ctx,
            ConferenceRequest {
                expiry: Some(t),
                ..dial_in()
            },
        )
    };
    assert_eq!(at(NOW).expect("now is fine").expiry, NOW);
    assert_eq!(
        at(NOW + max).expect("the maximum is fine").expiry,
        NOW + max
    );
    assert_eq!(reason(at(NOW - 1)), RefusalReason::InvalidExpiryTime);
    assert_eq!(reason(at(NOW + max + 1)), RefusalReason::InvalidExpiryTime);
    assert_eq!(add(&ctx, dial_in()).expect("ok").expiry, NOW + 8 * 3600);
}

#[test]
fn meetings_without_dial_in() {
    let plan = add(&context(), ConferenceRequest::default()).expect("ok");
    assert_eq!(plan.admission, AdmissionPolicy::OpenAuthenticated);
    assert_eq!((plan.pstn_base, plan.passcode), (None, None));
    assert_eq!(plan.subject, "Meeting");
}

#[test]
fn refusals() {
    let full = ScheduleContext {
        organizer_meetings: 1000,
        ..context()
    };
    assert_eq!(
        reason(add(&full, ConferenceRequest::default())),
        RefusalReason::MaximumConferencesExceeded
    );
    let no_pstn = ScheduleContext {
        pstn_enabled: false,
        ..context()
    };
    assert_eq!(
        reason(add(&no_pstn, dial_in())),
        RefusalReason::NotSupported
    );
    assert!(add(&no_pstn, ConferenceRequest::default()).is_ok());
    let mut no_bypass = context();
    no_bypass.settings.lobby_bypass_allowed = false;
    let bypass = ConferenceRequest {
        lobby_bypass: Some(true),
        ..dial_in()
    };
    assert_eq!(
        reason(add(&no_bypass, bypass)),
        RefusalReason::PstnLobbyBypassNotAllowed
    );
    assert!(
        add(
            &no_bypass,
            ConferenceRequest {
                lobby_bypass: Some(false),
                ..dial_in()
            }
        )
        .is_ok()
    );
    let short = ScheduleContext {
        entropy: vec![1, 2, 3],
        ..context()
    };
    assert_eq!(reason(add(&short, dial_in())), RefusalReason::OtherFailure);
}

#[test]
fn modify_keeps_unspecified_fields() {
    let ctx = context();
    let current = add(
        &ctx,
        ConferenceRequest {
            subject: Some("Budget".into()),
            ..dial_in()
        },
    )
    .expect("ok");
    let mut later = context();
    later.entropy = (50..82).collect();
    later.pstn_sequence = 9999;
    let changed = modify(
        &later,
        &current,
        ConferenceRequest {
            subject: Some("Budget v2".into()),
            ..ConferenceRequest::default()
        },
    )
    .expect("ok");
    assert_eq!(
        changed,
        ConferencePlan {
            subject: "Budget v2".into(),
            ..current.clone()
        }
    );
    let same = modify(&later, &current, ConferenceRequest::default()).expect("ok");
    assert_eq!(same, current);
}

#[test]
fn modify_validates_the_merged_meeting() {
    let ctx = context();
    let current = add(&ctx, dial_in()).expect("ok");
    let id = ConferenceRequest {
        conference_id: Some("OTHER12345".into()),
        ..ConferenceRequest::default()
    };
    assert_eq!(
        reason(modify(&ctx, &current, id)),
        RefusalReason::InvalidConferenceId
    );
    let same_id = ConferenceRequest {
        conference_id: Some(current.conference_id.clone()),
        ..ConferenceRequest::default()
    };
    assert!(modify(&ctx, &current, same_id).is_ok());
    let bad = ConferenceRequest {
        passcode: Some("12".into()),
        ..ConferenceRequest::default()
    };
    assert_eq!(
        reason(modify(&ctx, &current, bad)),
        RefusalReason::InvalidPasscode
    );
    // A stored expiry that has passed must be replaced.
    let mut later = context();
    later.now = current.expiry + 1;
    assert_eq!(
        reason(modify(&later, &current, ConferenceRequest::default())),
        RefusalReason::InvalidExpiryTime
    );
    let renewed = ConferenceRequest {
        expiry: Some(later.now + 60),
        ..ConferenceRequest::default()
    };
    assert_eq!(
        modify(&later, &current, renewed).expect("ok").expiry,
        later.now + 60
    );
    // Dial-in disabled since: the merged meeting is refused.
    let off = ScheduleContext {
        pstn_enabled: false,
        ..context()
    };
    assert_eq!(
        reason(modify(&off, &current, ConferenceRequest::default())),
        RefusalReason::NotSupported
    );
}

#[test]
fn modify_can_add_dial_in_and_regenerate_a_cleared_passcode() {
    let ctx = context();
    let plain = add(&ctx, ConferenceRequest::default()).expect("ok");
    let with_pstn = modify(&ctx, &plain, dial_in()).expect("ok");
    assert!(with_pstn.pstn_access && with_pstn.pstn_base.is_some() && with_pstn.passcode.is_some());
    // Admission keeps the stored value (openAuthenticated), as the request gave none.
    assert_eq!(with_pstn.admission, AdmissionPolicy::OpenAuthenticated);
    let cleared = modify(
        &ctx,
        &with_pstn,
        ConferenceRequest {
            passcode: Some(String::new()),
            ..ConferenceRequest::default()
        },
    )
    .expect("ok");
    assert_eq!(
        cleared.passcode.as_deref(),
        Some(crate::canaries::GENERATED_PASSCODE)
    );
    assert_eq!(cleared.pstn_base, with_pstn.pstn_base);
}
