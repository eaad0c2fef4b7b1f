//! Golden documents: every command's request and response, and roster documents, as files in
//! tests/golden/. Each file must equal the writer's output for its value byte for byte, and
//! must read back to the same value.
//!
//! To rewrite the files after a deliberate format change: `BLESS=1 cargo test -p plenum-c3p
//! --test golden`, then review the diff against reference/c3p.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::path::PathBuf;

use plenum_c3p::roster::{
    self, ConferenceInfo, ConferenceState, Description, DisconnectionMethod, ElementState,
    Endpoint, EndpointStatus, JoiningMethod, Media, MediaStatus, User,
};
use plenum_c3p::{
    AccessNumber, AdmissionPolicy, Capabilities, Command, CommandName, ConfUri, Conference,
    ConferenceKey, Envelope, FailureReason, McuType, Passcode, PstnAccess, PstnBridging, Region,
    Request, Response, ResponseCommand, SchedulingOptions,
};

const ORGANIZER: &str = "sip:alice@example.com";
const FACTORY: &str = "sip:alice@example.com;gruu;opaque=app:conf:focusfactory";
const FOCUS: &str = "sip:alice@example.com;gruu;opaque=app:conf:focus:id:TPDD8VYG";
const AV_MCU: &str = "sip:alice@example.com;gruu;opaque=app:conf:audio-video:id:TPDD8VYG";
const EXPIRY: i64 = 1_795_543_200; // 2026-11-24T18:00:00Z
const UPDATED: i64 = 1_795_510_800; // 2026-11-24T09:00:00Z

fn envelope(request_id: u64) -> Envelope {
    Envelope {
        request_id,
        from: ORGANIZER.into(),
        to: FACTORY.into(),
        c3p_version: Some("1".into()),
    }
}

fn request(request_id: u64, command: Command) -> Request {
    Request::new(envelope(request_id), command)
}

/// The addConference of a dial-in meeting, as our scheduling client sends it.
fn new_meeting() -> Conference {
    Conference {
        entity: String::new(),
        subject: Some("Weekly sync & planning".into()),
        conference_id: Some("TPDD8VYG".into()),
        expiry_time: Some(EXPIRY),
        admission_policy: Some(AdmissionPolicy::Anonymous),
        pstn_access: Some(PstnAccess {
            id: None,
            passcode: Some(Passcode::new("86420")),
        }),
        pstn_lobby_bypass: Some(true),
        autopromote: Some(2_147_483_648),
        locked: Some(false),
        entity_views: vec!["audio-video".into(), "chat".into()],
        ..Conference::default()
    }
}

/// The meeting as stored, as getConference returns it.
fn stored_meeting() -> Conference {
    Conference {
        entity: FOCUS.into(),
        version: Some(1),
        conf_uris: vec![ConfUri {
            uri: AV_MCU.into(),
            display_text: Some("Audio and video".into()),
            purpose: Some("audio-video".into()),
        }],
        pstn_access: Some(PstnAccess {
            id: Some("71234569".into()),
            passcode: None,
        }),
        last_update: Some(UPDATED),
        entity_views: vec![AV_MCU.into()],
        ..new_meeting()
    }
}

fn capabilities() -> Capabilities {
    Capabilities {
        capability_version: 0,
        mcu_types: vec![McuType::AudioVideo, McuType::Chat],
        anonymous_scheduling: true,
        pstn_bridging: PstnBridging {
            enabled: true,
            default_region: Some("Redmond".into()),
            regions: vec![
                Region {
                    name: "Redmond".into(),
                    access_numbers: vec![
                        AccessNumber {
                            number: "+14255550100".into(),
                            languages: vec!["en-US".into(), "es-US".into()],
                        },
                        AccessNumber {
                            number: "+18005550199".into(),
                            languages: vec!["en-US".into()],
                        },
                    ],
                },
                Region {
                    name: "Berlin".into(),
                    access_numbers: vec![AccessNumber {
                        number: "+4930555010".into(),
                        languages: vec!["de-DE".into(), "en-US".into()],
                    }],
                },
            ],
        },
        scheduling: Some(SchedulingOptions {
            passcode_min_length: 5,
            internal_dial_in_page: Some("https://meet.example.com/dialin".into()),
            ..SchedulingOptions::default()
        }),
    }
}

fn requests() -> Vec<(&'static str, Request)> {
    let modified = Conference {
        entity: FOCUS.into(),
        version: Some(1),
        subject: Some("Weekly sync (moved)".into()),
        expiry_time: Some(EXPIRY + 7 * 86_400),
        pstn_lobby_bypass: Some(false),
        ..Conference::default()
    };
    vec![
        (
            "get_conferencing_capabilities.request.xml",
            request(17, Command::GetConferencingCapabilities),
        ),
        (
            "get_available_mcu_types.request.xml",
            request(18, Command::GetAvailableMcuTypes),
        ),
        (
            "add_conference.request.xml",
            request(19, Command::AddConference(new_meeting())),
        ),
        (
            "get_conference_by_id.request.xml",
            request(
                20,
                Command::GetConference(ConferenceKey::ConferenceId("TPDD8VYG".into())),
            ),
        ),
        (
            "get_conference_by_entity.request.xml",
            request(
                21,
                Command::GetConference(ConferenceKey::Entity(FOCUS.into())),
            ),
        ),
        (
            "modify_conference.request.xml",
            request(22, Command::ModifyConference(modified)),
        ),
        (
            "delete_conference.request.xml",
            request(
                23,
                Command::DeleteConference(ConferenceKey::Entity(FOCUS.into())),
            ),
        ),
        (
            "get_conferences.request.xml",
            request(
                24,
                Command::GetConferences {
                    static_only: Some(true),
                },
            ),
        ),
    ]
}

fn responses() -> Vec<(&'static str, Response)> {
    let created = Conference {
        entity: FOCUS.into(),
        conference_id: Some("TPDD8VYG".into()),
        pstn_access: Some(PstnAccess {
            id: Some("71234569".into()),
            passcode: Some(Passcode::new("86420")),
        }),
        ..Conference::default()
    };
    let modified = Conference {
        entity: FOCUS.into(),
        version: Some(2),
        ..Conference::default()
    };
    let other = Conference {
        entity: "sip:alice@example.com;gruu;opaque=app:conf:focus:id:MYMEETING1".into(),
        version: Some(4),
        subject: Some("My Meeting".into()),
        conference_id: Some("MYMEETING1".into()),
        admission_policy: Some(AdmissionPolicy::OpenAuthenticated),
        ..Conference::default()
    };
    let ok = |id, command| Response::success(&envelope(id), command);
    vec![
        (
            "get_conferencing_capabilities.response.xml",
            ok(
                17,
                ResponseCommand::GetConferencingCapabilities(capabilities()),
            ),
        ),
        (
            "get_conferencing_capabilities.failure.response.xml",
            Response::failure(
                &envelope(17),
                CommandName::GetConferencingCapabilities,
                FailureReason::OtherFailure,
            ),
        ),
        (
            "get_available_mcu_types.response.xml",
            ok(
                18,
                ResponseCommand::GetAvailableMcuTypes(vec![
                    McuType::AudioVideo,
                    McuType::Chat,
                    McuType::Meeting,
                    McuType::PhoneConf,
                ]),
            ),
        ),
        (
            "add_conference.response.xml",
            ok(19, ResponseCommand::AddConference(created)),
        ),
        (
            "add_conference.failure.response.xml",
            Response::failure(
                &envelope(19),
                CommandName::AddConference,
                FailureReason::InvalidPasscode,
            ),
        ),
        (
            "get_conference.response.xml",
            ok(20, ResponseCommand::GetConference(stored_meeting())),
        ),
        (
            "get_conference.failure.response.xml",
            Response::failure(
                &envelope(20),
                CommandName::GetConference,
                FailureReason::ConferenceDoesNotExist,
            ),
        ),
        (
            "modify_conference.response.xml",
            ok(22, ResponseCommand::ModifyConference(modified)),
        ),
        (
            "modify_conference.failure.response.xml",
            Response::failure(
                &envelope(22),
                CommandName::ModifyConference,
                FailureReason::InvalidVersion,
            ),
        ),
        (
            "delete_conference.response.xml",
            ok(
                23,
                ResponseCommand::DeleteConference {
                    entity: FOCUS.into(),
                },
            ),
        ),
        (
            "get_conferences.response.xml",
            ok(
                24,
                ResponseCommand::GetConferences(vec![stored_meeting(), other]),
            ),
        ),
    ]
}

/// The roster at version 1: the organizer on a SIP client.
fn roster_v1() -> ConferenceInfo {
    let mut alice = User::new(ORGANIZER);
    alice.display_text = Some("Alice Example".into());
    alice.roles = vec!["presenter".into()];
    alice.endpoints = vec![Endpoint {
        display_text: Some("Alice's PC".into()),
        status: Some(EndpointStatus::Connected),
        joining_method: Some(JoiningMethod::DialedIn),
        media: vec![Media {
            id: "1".into(),
            media_type: Some("audio".into()),
            label: Some("main-audio".into()),
            status: Some(MediaStatus::SendRecv),
        }],
        ..Endpoint::new("{8F9B5D61-2E0A-4C3B-9D7E-1A2B3C4D5E6F}")
    }];
    ConferenceInfo {
        description: Some(Description {
            display_text: Some("Alice's meeting".into()),
            subject: Some("Weekly sync & planning".into()),
            conf_uris: vec![ConfUri {
                uri: AV_MCU.into(),
                display_text: None,
                purpose: Some("audio-video".into()),
            }],
            conference_id: Some("TPDD8VYG".into()),
            pstn_id: Some("71234569".into()),
        }),
        conference_state: Some(ConferenceState {
            user_count: Some(1),
            active: Some(true),
            locked: Some(false),
        }),
        users: vec![alice],
        ..ConferenceInfo::new(FOCUS, 1)
    }
}

fn dial_in_caller() -> User {
    let mut bob = User::new("tel:+14255550123");
    bob.display_text = Some("+1 425 555 0123".into());
    bob.roles = vec!["attendee".into()];
    bob.endpoints = vec![Endpoint {
        status: Some(EndpointStatus::Connected),
        joining_method: Some(JoiningMethod::DialedIn),
        media: vec![Media {
            id: "2".into(),
            media_type: Some("audio".into()),
            label: None,
            status: Some(MediaStatus::SendRecv),
        }],
        ..Endpoint::new("sip:+14255550123@gw.example.com;user=phone")
    }];
    bob
}

/// v2: a dial-in caller joined. v3: the focus muted him. v4: he left.
fn roster_steps() -> [ConferenceInfo; 4] {
    let v1 = roster_v1();
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.users.push(dial_in_caller());
    v2.conference_state = Some(ConferenceState {
        user_count: Some(2),
        ..v1.conference_state.unwrap()
    });
    let mut v3 = v2.clone();
    v3.version = 3;
    let bob = &mut v3.users[1].endpoints[0];
    bob.status = Some(EndpointStatus::MutedViaFocus);
    bob.media[0].status = Some(MediaStatus::RecvOnly);
    let mut v4 = v1.clone();
    v4.version = 4;
    [v1, v2, v3, v4]
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check_bytes(name: &str, written: &str) -> Vec<u8> {
    let path = golden_path(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, written).unwrap();
    }
    let golden = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        written,
        String::from_utf8_lossy(&golden),
        "{name}: writer output differs from the golden file"
    );
    golden
}

#[test]
fn golden_requests() {
    for (name, value) in requests() {
        let golden = check_bytes(name, &value.to_xml());
        assert_eq!(Request::parse(&golden).unwrap(), value, "{name}");
    }
}

#[test]
fn golden_responses() {
    for (name, value) in responses() {
        let golden = check_bytes(name, &value.to_xml());
        assert_eq!(Response::parse(&golden).unwrap(), value, "{name}");
    }
}

#[test]
fn responses_answer_their_requests() {
    let requests = requests();
    for (name, response) in responses() {
        let (_, request) = requests
            .iter()
            .find(|(_, r)| r.request_id == response.request_id)
            .unwrap();
        assert_eq!(response.from, request.to, "{name}");
        assert_eq!(response.to, request.from, "{name}");
        assert_eq!(response.command_name(), request.command.name(), "{name}");
    }
}

#[test]
fn golden_roster_full() {
    let v1 = roster_v1();
    let golden = check_bytes("roster.full.xml", &v1.to_xml());
    assert_eq!(ConferenceInfo::parse(&golden).unwrap(), v1);
}

#[test]
fn golden_roster_deltas() {
    let steps = roster_steps();
    let names = [
        "roster.partial.joined.xml",
        "roster.partial.muted.xml",
        "roster.partial.left.xml",
    ];
    let mut subscriber = ConferenceInfo::parse(steps[0].to_xml().as_bytes()).unwrap();
    for (pair, name) in steps.windows(2).zip(names) {
        let (old, new) = (&pair[0], &pair[1]);
        let delta = roster::diff(old, new, new.version);
        assert_eq!(delta.state, ElementState::Partial);
        assert_eq!(delta.version, old.version + 1, "versions grow by one");
        let golden = check_bytes(name, &delta.to_xml());
        let read = ConferenceInfo::parse(&golden).unwrap();
        assert_eq!(read, delta, "{name}");
        subscriber.apply(&read).unwrap();
        assert_eq!(subscriber, *new, "{name}: subscriber state after merge");
    }
}

#[test]
fn roster_delta_contents() {
    let [v1, v2, v3, v4] = roster_steps();
    let joined = roster::diff(&v1, &v2, 2);
    assert_eq!(joined.users.len(), 1);
    assert_eq!(joined.users[0].entity, "tel:+14255550123");
    assert!(joined.description.is_none(), "description unchanged");
    assert_eq!(joined.conference_state.unwrap().user_count, Some(2));
    let muted = roster::diff(&v2, &v3, 3);
    assert!(muted.conference_state.is_none());
    assert_eq!(
        muted.users[0].endpoints[0].status,
        Some(EndpointStatus::MutedViaFocus)
    );
    let left = roster::diff(&v3, &v4, 4);
    assert_eq!(left.users, vec![User::deleted("tel:+14255550123")]);
    let _ = DisconnectionMethod::ALL;
}

#[test]
fn roster_versions_are_checked_by_the_subscriber() {
    let [v1, v2, v3, _] = roster_steps();
    let mut s = v1.clone();
    let d3 = roster::diff(&v2, &v3, 3);
    assert_eq!(
        s.apply(&d3),
        Err(roster::ApplyError::Gap { have: 1, got: 3 })
    );
    let d2 = roster::diff(&v1, &v2, 2);
    s.apply(&d2).unwrap();
    assert_eq!(
        s.apply(&d2),
        Err(roster::ApplyError::Stale { have: 2, got: 2 })
    );
    s.apply(&d3).unwrap();
    assert_eq!(s, v3);
    let mut other = ConferenceInfo::new("sip:other", 0);
    assert_eq!(other.apply(&d2), Err(roster::ApplyError::WrongEntity));
}
