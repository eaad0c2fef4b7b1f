//! Scripted calls the host runs at upload (and the tests run natively), built from the demo
//! facts: the Redmond number (en-US, de-DE, fr-FR), the London number (en-GB), OCS's three tries.

use plenum_sdk::harness::demo;
use plenum_sdk::prelude::*;

use crate::prompts::{self, ask, ask_items, items, say};

/// The demo meeting's PSTN ID base; [`meeting_id`] adds the check digit.
pub const MEETING_BASE: &str = "7001234";

/// The demo meeting's PSTN ID, check digit included.
pub fn meeting_id() -> String {
    pstn::with_check_digit(MEETING_BASE).unwrap_or_default()
}

/// Every canary.
pub fn all() -> Vec<AttendantCanary> {
    vec![
        anonymous_joins(),
        wrong_id_three_times(),
        leader_with_pin(),
        sip_phone(),
        pin_locked_then_lobby(),
    ]
}

fn step(event: Event, expect: Vec<Action>) -> CanaryStep {
    CanaryStep { event, expect }
}

fn digits(d: &str, end: CollectEnd) -> Event {
    Event::Digits(Collected {
        digits: d.into(),
        end,
    })
}

fn typed(d: &str) -> Event {
    digits(d, CollectEnd::Terminator)
}

fn found(passcode_required: bool) -> Event {
    Event::Conference(ConferenceLookup::Found(ConferenceSummary {
        pstn_id: meeting_id(),
        subject: "Meeting".into(),
        organizer_name: "Alice".into(),
        passcode_required,
    }))
}

fn collect(spec: CollectSpec) -> Action {
    Action::Collect(spec)
}

/// The London call's first steps: welcome, the ID, the leader prompt.
fn london_to_leader_prompt() -> Vec<CanaryStep> {
    vec![
        step(
            Event::CallStarted,
            vec![
                ask(&["welcome", "enter-conference-id"]),
                collect(prompts::conference_id()),
            ],
        ),
        step(
            typed(&meeting_id()),
            vec![Action::LookupConference(meeting_id())],
        ),
        step(
            found(true),
            vec![ask(&["leader-prompt"]), collect(prompts::leader_key())],
        ),
    ]
}

/// An anonymous caller on the Redmond number: language menu, ID, passcode, name, admitted.
fn anonymous_joins() -> AttendantCanary {
    let call = demo::call(demo::redmond_number());
    let mut menu = items(&["welcome"]);
    menu.extend(prompts::language_menu(&call.access_number.languages));
    let named = Action::Play(PlaySpec {
        items: vec![
            PromptItem::Prompt("name-recorded".into()),
            PromptItem::RecordedName,
        ],
        barge_in: false,
    });
    AttendantCanary {
        name: "anonymous caller joins".into(),
        call,
        steps: vec![
            step(
                Event::CallStarted,
                vec![ask_items(menu), collect(prompts::one_key())],
            ),
            step(
                digits("1", CollectEnd::MaxDigits),
                vec![
                    Action::SetLanguage("en-US".into()),
                    ask(&["enter-conference-id"]),
                    collect(prompts::conference_id()),
                ],
            ),
            step(
                typed(&meeting_id()),
                vec![Action::LookupConference(meeting_id())],
            ),
            step(
                found(true),
                vec![ask(&["leader-prompt"]), collect(prompts::leader_key())],
            ),
            step(
                digits("2", CollectEnd::MaxDigits),
                vec![collect(prompts::passcode_rest())],
            ),
            step(typed("468"), vec![Action::VerifyPasscode("2468".into())]),
            step(
                Event::Passcode(PasscodeResult::Accepted),
                vec![
                    say(&["record-name"]),
                    Action::RecordName(prompts::NAME_RECORDING_MS),
                ],
            ),
            step(
                Event::NameRecorded(1200),
                vec![named, Action::RequestAdmission],
            ),
            step(
                Event::Admission(AdmissionState::Admitted),
                vec![say(&["joining"]), Action::Join],
            ),
        ],
    }
}

/// Three wrong conference IDs (not found, bad check digit, nothing): goodbye.
fn wrong_id_three_times() -> AttendantCanary {
    let again = || {
        vec![
            ask(&["invalid-conference-id", "enter-conference-id"]),
            collect(prompts::conference_id()),
        ]
    };
    AttendantCanary {
        name: "wrong conference ID three times".into(),
        call: demo::call(demo::london_number()),
        steps: vec![
            step(
                Event::CallStarted,
                vec![
                    ask(&["welcome", "enter-conference-id"]),
                    collect(prompts::conference_id()),
                ],
            ),
            step(
                typed("70012340"),
                vec![Action::LookupConference("70012340".into())],
            ),
            step(Event::Conference(ConferenceLookup::BadCheckDigit), again()),
            step(
                typed("10009"),
                vec![Action::LookupConference("10009".into())],
            ),
            step(Event::Conference(ConferenceLookup::NotFound), again()),
            step(
                digits("", CollectEnd::NoInput),
                vec![
                    say(&["no-input", "too-many-attempts", "goodbye"]),
                    Action::HangUp,
                ],
            ),
        ],
    }
}

/// A leader presses `*`, signs in with extension and PIN, and joins.
fn leader_with_pin() -> AttendantCanary {
    let mut steps = london_to_leader_prompt();
    steps.extend([
        step(
            digits("*", CollectEnd::MaxDigits),
            vec![ask(&["enter-extension"]), collect(prompts::extension())],
        ),
        step(
            typed("0100"),
            vec![ask(&["enter-pin"]), collect(prompts::pin())],
        ),
        step(
            typed("13579"),
            vec![Action::VerifyPin(("0100".into(), "13579".into()))],
        ),
        step(
            Event::Pin(PinResult::Accepted(UserInfo {
                uri: "sip:alice@contoso.example".into(),
                display_name: "Alice".into(),
            })),
            vec![Action::RequestAdmission],
        ),
        step(
            Event::Admission(AdmissionState::Admitted),
            vec![say(&["joining"]), Action::Join],
        ),
    ]);
    AttendantCanary {
        name: "leader signs in with PIN".into(),
        call: demo::call(demo::london_number()),
        steps,
    }
}

/// An authenticated SIP phone gives only the conference ID.
fn sip_phone() -> AttendantCanary {
    let mut call = demo::call(demo::london_number());
    call.caller = Caller::User(UserInfo {
        uri: "sip:bob@contoso.example".into(),
        display_name: "Bob".into(),
    });
    AttendantCanary {
        name: "SIP phone gives only the ID".into(),
        call,
        steps: vec![
            step(
                Event::CallStarted,
                vec![
                    ask(&["welcome", "enter-conference-id"]),
                    collect(prompts::conference_id()),
                ],
            ),
            step(
                typed(&meeting_id()),
                vec![Action::LookupConference(meeting_id())],
            ),
            step(found(true), vec![Action::RequestAdmission]),
            step(
                Event::Admission(AdmissionState::Admitted),
                vec![say(&["joining"]), Action::Join],
            ),
        ],
    }
}

/// A locked PIN falls back to the passcode; the caller waits in the lobby until admitted.
fn pin_locked_then_lobby() -> AttendantCanary {
    let mut steps = london_to_leader_prompt();
    steps.extend([
        step(
            digits("*", CollectEnd::MaxDigits),
            vec![ask(&["enter-extension"]), collect(prompts::extension())],
        ),
        step(
            typed("0100"),
            vec![ask(&["enter-pin"]), collect(prompts::pin())],
        ),
        step(
            typed("24680"),
            vec![Action::VerifyPin(("0100".into(), "24680".into()))],
        ),
        step(
            Event::Pin(PinResult::Locked),
            vec![
                ask(&["pin-locked", "enter-passcode"]),
                collect(prompts::passcode()),
            ],
        ),
        step(typed("2468"), vec![Action::VerifyPasscode("2468".into())]),
        step(
            Event::Passcode(PasscodeResult::Accepted),
            vec![
                say(&["record-name"]),
                Action::RecordName(prompts::NAME_RECORDING_MS),
            ],
        ),
        step(Event::NameRecorded(0), vec![Action::RequestAdmission]),
        step(
            Event::Admission(AdmissionState::InLobby),
            vec![say(&["in-lobby"]), Action::Hold(HoldKind::Lobby)],
        ),
        step(
            Event::Admission(AdmissionState::Admitted),
            vec![say(&["admitted"]), Action::Join],
        ),
    ]);
    AttendantCanary {
        name: "locked PIN, passcode, lobby".into(),
        call: demo::call(demo::london_number()),
        steps,
    }
}
