//! Tests of the engine: document keys, patterns, lockout, admission.

use plenum_sdk::harness::demo;
use plenum_sdk::prelude::*;

use crate::canary::{self, anonymous_caller, meeting, meeting_with_leader};
use crate::{DEFAULT, Policy, STRICT, admission, lockout, patterns};

fn doc(entries: &[(&str, &str)]) -> PolicyDocument {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn policy(entries: &[(&str, &str)]) -> Policy {
    Policy::parse(&DEFAULT, &doc(entries)).expect("valid document")
}

fn error(profile: &crate::Profile, entries: &[(&str, &str)]) -> String {
    match Policy::parse(profile, &doc(entries)) {
        Err(PluginError::InvalidInput(m)) => m,
        other => panic!("expected invalid-input for {entries:?}, got {other:?}"),
    }
}

#[test]
fn empty_document_gives_the_demo_settings() {
    assert_eq!(policy(&[]).settings, demo::settings());
}

#[test]
fn document_values_apply() {
    let p = policy(&[
        ("passcode.min-length", "6"),
        ("passcode.required", "false"),
        ("pin.min-length", "4"),
        ("announcements.mode", "tones"),
        ("keypad.prefix", "#"),
        ("keypad.help", "0"),
        ("keypad.lock", "off"),
        ("meeting.on-last-leader-leave", "end"),
        ("pin.auth", "organizer-only"),
    ]);
    let s = &p.settings;
    assert_eq!(
        s.passcode,
        PasscodeRule {
            required: false,
            min_length: 6,
            max_length: 16
        }
    );
    assert_eq!(s.pin.min_length, 4);
    // 4-digit PINs get Lync's 4-digit limits.
    assert_eq!((s.lockout.local_limit, s.lockout.global_limit), (10, 100));
    assert_eq!(s.announcements, AnnouncementMode::Tones);
    assert_eq!(s.keypad_prefix, '#');
    assert!(
        s.keypad
            .iter()
            .any(|b| b.command == KeypadCommand::Help && b.digit == '0')
    );
    assert!(!s.keypad.iter().any(|b| b.command == KeypadCommand::Lock));
    assert_eq!(s.on_last_leader_leave, LastLeaderAction::EndMeeting);
    assert_eq!(s.pin_auth, PinAuthScope::OrganizerOnly);
}

#[test]
fn document_errors_name_the_key() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("passcode.min-length", "six")], "passcode.min-length"),
        (&[("passcode.min-length", "3")], "passcode.min-length"),
        (
            &[("passcode.min-length", "10"), ("passcode.max-length", "8")],
            "passcode.max-length",
        ),
        (&[("pin.min-length", "25")], "pin.min-length"),
        (&[("lockout.local-limit", "0")], "lockout.local-limit"),
        (&[("passcode.required", "yes")], "passcode.required"),
        (&[("announcements.mode", "loud")], "announcements.mode"),
        (&[("keypad.help", "12")], "keypad.help"),
        (&[("keypad.help", "3")], "keypad.help"),
        (&[("keypad.prefix", "0")], "keypad.prefix"),
        (
            &[
                ("meeting.default-expiry-secs", "90000"),
                ("meeting.max-expiry-secs", "80000"),
            ],
            "meeting.max-expiry-secs",
        ),
        (&[("passcode.min-lenght", "8")], "passcode.min-lenght"),
    ];
    for (entries, key) in cases {
        let m = error(&DEFAULT, entries);
        assert!(m.contains(&format!("`{key}`")), "{entries:?}: {m}");
    }
}

#[test]
fn strict_cannot_be_loosened() {
    let loosen: &[(&str, &str)] = &[
        ("passcode.required", "false"),
        ("passcode.min-length", "4"),
        ("passcode.allow-common-patterns", "true"),
        ("pin.min-length", "5"),
        ("pin.allow-common-patterns", "true"),
        ("lockout.local-limit", "6"),
        ("lockout.global-limit", "1000"),
        ("lockout.window-secs", "600"),
        ("lockout.lock-secs", "60"),
        ("attendant.passcode-attempts", "5"),
        ("attendant.name-recording", "false"),
        ("announcements.mode", "tones"),
        ("admission.anonymous-waits-for-leader", "false"),
        ("admission.lobby-bypass-allowed", "true"),
        ("meeting.max-size", "1000"),
        ("meeting.max-expiry-secs", "31536000"),
    ];
    for (key, value) in loosen {
        let m = error(&STRICT, &[(key, value)]);
        assert!(
            m.contains(&format!("`{key}`")) && m.contains("strict"),
            "{key}: {m}"
        );
    }
}

#[test]
fn strict_can_be_tightened() {
    let p = Policy::parse(
        &STRICT,
        &doc(&[
            ("passcode.min-length", "8"),
            ("pin.min-length", "8"),
            ("lockout.local-limit", "3"),
            ("lockout.window-secs", "3600"),
            ("pin.auth", "organizer-only"),
            ("attendant.pin-attempts", "2"),
            ("keypad.help", "0"),
        ]),
    )
    .expect("tighter values are fine");
    assert_eq!(p.settings.passcode.min_length, 8);
    assert_eq!(p.settings.lockout.local_limit, 3);
    assert_eq!(p.settings.pin_attempts, 2);
}

#[test]
fn strict_floors() {
    let p = Policy::parse(&STRICT, &Vec::new()).expect("empty document");
    let s = &p.settings;
    assert!(s.passcode.required);
    assert_eq!((s.passcode.min_length, s.pin.min_length), (6, 6));
    assert_eq!(
        s.lockout,
        LockoutRule {
            window_secs: 1800,
            local_limit: 5,
            lock_secs: 3600,
            global_limit: 100
        }
    );
    assert!(s.name_recording && !s.lobby_bypass_allowed);
    assert_eq!(s.announcements, AnnouncementMode::Names);
}

#[test]
fn passcode_table() {
    let default = policy(&[]);
    let lax = policy(&[("passcode.allow-common-patterns", "true")]);
    let cases: &[(&str, bool, bool, bool)] = &[
        // passcode, pstn, accepted by default, accepted with common patterns allowed
        ("2468", true, true, true),
        ("13579", true, true, true),
        ("8901", true, true, true),
        ("123", true, false, false),
        ("12345678901234567", true, false, false),
        ("12a4", true, false, false),
        ("ab12", false, true, true),
        ("ab-12", false, false, false),
        ("1111", true, false, true),
        ("501111", true, false, true),
        ("1234", true, false, true),
        ("98765", true, false, true),
        ("31234", true, false, true),
        ("1123", true, true, true),
    ];
    for (code, pstn, want_default, want_lax) in cases {
        let check = PasscodeCheck {
            passcode: (*code).into(),
            pstn: *pstn,
        };
        let got = patterns::check_passcode(&default, &check) == Verdict::Accept;
        assert_eq!(got, *want_default, "default {code}");
        let got = patterns::check_passcode(&lax, &check) == Verdict::Accept;
        assert_eq!(got, *want_lax, "lax {code}");
    }
}

#[test]
fn pin_table() {
    let default = policy(&[]);
    let lax = policy(&[("pin.allow-common-patterns", "true")]);
    let check = |pin: &str, ext: Option<&str>, line: Option<&str>| PinCheck {
        pin: pin.into(),
        extension: ext.map(Into::into),
        line: line.map(Into::into),
    };
    let cases: &[(PinCheck, bool, bool)] = &[
        (check("13579", None, None), true, true),
        (check("1357", None, None), false, false),
        (check("1357a", None, None), false, false),
        (check("11111", None, None), false, true),
        (check("12345", None, None), false, true),
        (check("54321", None, None), false, true),
        (check("90123", None, None), false, true),
        (check("24680", Some("24680"), None), false, true),
        (check("50100", None, Some("+14255550100")), false, true),
        (check("50100", None, Some("tel:+14255550100")), false, true),
        (
            check("50101", Some("0100"), Some("+14255550100")),
            true,
            true,
        ),
    ];
    for (c, want_default, want_lax) in cases {
        assert_eq!(
            patterns::check_pin(&default, c) == Verdict::Accept,
            *want_default,
            "default {c:?}"
        );
        assert_eq!(
            patterns::check_pin(&lax, c) == Verdict::Accept,
            *want_lax,
            "lax {c:?}"
        );
    }
}

#[test]
fn verdicts_never_repeat_the_value() {
    let p = policy(&[]);
    for pin in ["12345", "0100", "50100", "999", "1x"] {
        if let Verdict::Reject(text) = patterns::check_pin(&p, &canary::pin(pin)) {
            assert!(!text.contains(pin), "{text}");
        }
    }
}

const T0: Timestamp = 1_790_000_000;

fn fail(p: &Policy, len: u8, a: PinAttempts, now: Timestamp) -> PinAttempts {
    lockout::record_attempt(p, len, a, AttemptOutcome::Failure, now)
}

#[test]
fn lockout_window_resets_after_window_secs() {
    let p = policy(&[]);
    let mut a = PinAttempts::default();
    for i in 0..24 {
        a = fail(&p, 5, a, T0 + i);
    }
    assert_eq!((a.local_failures, a.window_start), (24, Some(T0)));
    // The window (30 min) has passed: the next failure opens a new one.
    a = fail(&p, 5, a, T0 + 1800);
    assert_eq!(
        (a.local_failures, a.window_start, a.global_failures),
        (1, Some(T0 + 1800), 25)
    );
    assert!(!a.is_locked(T0 + 1800));
}

#[test]
fn lockout_local_limit_locks_for_lock_secs() {
    let p = policy(&[]);
    let mut a = PinAttempts::default();
    for i in 0..25 {
        a = fail(&p, 5, a, T0 + i);
    }
    assert_eq!(a.locked_until, Some(T0 + 24 + 3600));
    assert_eq!(
        (
            a.local_failures,
            a.window_start,
            a.global_failures,
            a.locked
        ),
        (0, None, 25, false)
    );
    assert!(a.is_locked(T0 + 100) && !a.is_locked(T0 + 24 + 3600));
    // Four-digit PINs lock after 10.
    let mut b = PinAttempts::default();
    for i in 0..10 {
        b = fail(&p, 4, b, T0 + i);
    }
    assert!(b.is_locked(T0 + 10));
}

#[test]
fn lockout_global_limit_locks_until_unlocked() {
    let p = policy(&[("lockout.global-limit", "30")]);
    let mut a = PinAttempts::default();
    for i in 0..30 {
        a = fail(&p, 5, a, T0 + i * 3600);
    }
    assert!(a.locked);
    assert!(a.is_locked(T0 + 1_000_000_000));
    // Success does not clear the admin lock or the global count.
    let a = lockout::record_attempt(&p, 5, a, AttemptOutcome::Success, T0 + 200_000);
    assert!(a.locked);
    assert_eq!(a.global_failures, 30);
}

#[test]
fn lockout_success_resets_local_not_global() {
    let p = policy(&[]);
    let mut a = PinAttempts::default();
    for i in 0..5 {
        a = fail(&p, 5, a, T0 + i);
    }
    let a = lockout::record_attempt(&p, 5, a, AttemptOutcome::Success, T0 + 10);
    assert_eq!(
        (a.local_failures, a.window_start, a.global_failures),
        (0, None, 5)
    );
}

#[test]
fn lockout_document_limits_apply_to_every_length() {
    let p = policy(&[("lockout.local-limit", "3"), ("lockout.lock-secs", "600")]);
    let mut a = PinAttempts::default();
    for i in 0..3 {
        a = fail(&p, 8, a, T0 + i);
    }
    assert_eq!(a.locked_until, Some(T0 + 2 + 600));
}

#[test]
fn admit_matrix() {
    use AdmissionDecision::*;
    let p = policy(&[]);
    let locked = MeetingFacts {
        locked: true,
        ..meeting_with_leader()
    };
    let closed = MeetingFacts {
        admission: AdmissionPolicy::ClosedAuthenticated,
        ..meeting_with_leader()
    };
    let bypass = MeetingFacts {
        lobby_bypass: true,
        ..locked.clone()
    };
    let all = MeetingFacts {
        admit_all: true,
        ..locked.clone()
    };
    let full = MeetingFacts {
        participants: 250,
        ..meeting_with_leader()
    };
    let mut external = canary::sip_user(meeting_with_leader(), "sip:eve@fabrikam.example");
    external.same_tenant = false;
    let mut external_locked = external.clone();
    external_locked.meeting = locked.clone();
    let mut sip_anonymous = anonymous_caller(bypass.clone());
    sip_anonymous.method = JoiningMethod::SipClient;
    let cases: Vec<(&str, AdmissionRequest, AdmissionDecision)> = vec![
        (
            "organizer",
            canary::organizer_by_pin(meeting()),
            Admit(Role::Leader),
        ),
        (
            "organizer of a full meeting",
            canary::organizer_by_pin(full.clone()),
            Admit(Role::Leader),
        ),
        (
            "sip user",
            canary::sip_user(meeting(), "sip:bob@contoso.example"),
            Admit(Role::Attendee),
        ),
        (
            "sip user, locked",
            canary::sip_user(locked.clone(), "sip:bob@contoso.example"),
            Admit(Role::Attendee),
        ),
        ("external user", external, Admit(Role::Attendee)),
        ("external user, locked", external_locked, Lobby),
        (
            "anonymous, nobody in",
            anonymous_caller(meeting()),
            HoldUntilLeader,
        ),
        (
            "anonymous, leader in",
            anonymous_caller(meeting_with_leader()),
            Admit(Role::Attendee),
        ),
        ("anonymous, locked", anonymous_caller(locked), Lobby),
        ("anonymous, closed", anonymous_caller(closed), Lobby),
        (
            "anonymous, locked, bypass",
            anonymous_caller(bypass),
            Admit(Role::Attendee),
        ),
        ("anonymous SIP client, locked, bypass", sip_anonymous, Lobby),
        (
            "anonymous, locked, admit-all",
            anonymous_caller(all),
            Admit(Role::Attendee),
        ),
        (
            "anonymous, full",
            anonymous_caller(full),
            Deny("the meeting is full".into()),
        ),
    ];
    for (name, req, want) in cases {
        assert_eq!(admission::admit(&p, &req), want, "{name}");
    }
}

#[test]
fn admit_respects_document_switches() {
    let p = policy(&[("admission.anonymous-waits-for-leader", "false")]);
    assert_eq!(
        admission::admit(&p, &anonymous_caller(meeting())),
        AdmissionDecision::Admit(Role::Attendee)
    );
    let p = policy(&[("admission.lobby-bypass-allowed", "false")]);
    let bypass = MeetingFacts {
        lobby_bypass: true,
        locked: true,
        ..meeting_with_leader()
    };
    assert_eq!(
        admission::admit(&p, &anonymous_caller(bypass)),
        AdmissionDecision::Lobby
    );
    let p = policy(&[("meeting.max-size", "2")]);
    let two = MeetingFacts {
        participants: 2,
        ..meeting_with_leader()
    };
    assert!(matches!(
        admission::admit(&p, &anonymous_caller(two)),
        AdmissionDecision::Deny(_)
    ));
}

#[test]
fn strict_sends_anonymous_callers_to_the_lobby() {
    let p = Policy::parse(&STRICT, &Vec::new()).expect("empty document");
    let all = MeetingFacts {
        admit_all: true,
        lobby_bypass: true,
        ..meeting_with_leader()
    };
    for m in [meeting(), meeting_with_leader(), all] {
        assert_eq!(
            admission::admit(&p, &anonymous_caller(m)),
            AdmissionDecision::Lobby
        );
    }
    assert_eq!(
        admission::admit(&p, &canary::organizer_by_pin(meeting())),
        AdmissionDecision::Admit(Role::Leader)
    );
}

#[test]
fn an_anonymous_caller_claiming_to_be_organizer_is_not_a_leader() {
    let p = policy(&[]);
    let mut req = anonymous_caller(meeting_with_leader());
    req.is_organizer = true;
    assert_eq!(
        admission::admit(&p, &req),
        AdmissionDecision::Admit(Role::Attendee)
    );
}

fn example(name: &str) -> PolicyDocument {
    let path = format!("{}/../documents/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("example document");
    // The host's own flattening, so the test reads the document exactly as production does.
    plenum_sdk::toml_document::flatten(&text).expect("valid policy document")
}

#[test]
fn example_documents_parse_with_their_policies() {
    let contoso = Policy::parse(&DEFAULT, &example("contoso")).expect("contoso is valid");
    assert_eq!(contoso.settings.passcode.min_length, 6);
    assert_eq!(contoso.settings.keypad, demo::settings().keypad);
    let fabrikam =
        Policy::parse(&STRICT, &example("fabrikam")).expect("fabrikam is valid for strict");
    assert_eq!(fabrikam.settings.passcode.min_length, 8);
    assert_eq!(fabrikam.settings.lockout.local_limit, 3);
    assert_eq!(fabrikam.settings.pin_auth, PinAuthScope::OrganizerOnly);
    assert!(
        !fabrikam
            .settings
            .keypad
            .iter()
            .any(|b| b.command == KeypadCommand::AdmitAll)
    );
    // contoso's document loosens the strict floors (a 1-year expiry, lobby bypass).
    assert!(Policy::parse(&STRICT, &example("contoso")).is_err());
}
