//! Property-style tests with a small seeded generator (deterministic, no extra crates):
//! arbitrary and mutated bytes never panic a reader; random values survive write → read; a
//! subscriber that merges `diff` deltas ends at the publisher's state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use plenum_c3p::roster::{
    self, ConferenceInfo, ConferenceState, Description, DisconnectionMethod, ElementState,
    Endpoint, EndpointStatus, JoiningMethod, Media, MediaStatus, User,
};
use plenum_c3p::{
    AccessNumber, AdmissionPolicy, Capabilities, Command, ConfUri, Conference, ConferenceKey,
    Envelope, FailureReason, McuType, Passcode, PstnAccess, PstnBridging, Region, Request,
    Response, ResponseCommand, SchedulingOptions,
};

/// xorshift64*: enough randomness for test inputs, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A non-empty string without surrounding whitespace, with XML-special and non-ASCII
    /// characters.
    fn text(&mut self) -> String {
        const ALPHABET: &[char] = &[
            'a', 'Z', '7', ' ', '&', '<', '>', '"', '\'', ';', ':', '=', '@', '+', '\t', '\n', 'é',
            '中', '😀', ']', '%',
        ];
        let len = 1 + self.below(12);
        let s: String = (0..len).map(|_| *self.pick(ALPHABET)).collect();
        let s = s.trim().to_owned();
        if s.is_empty() { "x".into() } else { s }
    }

    fn opt<T>(&mut self, f: impl FnOnce(&mut Rng) -> T) -> Option<T> {
        if self.chance(60) { Some(f(self)) } else { None }
    }

    fn list<T>(&mut self, max: usize, mut f: impl FnMut(&mut Rng) -> T) -> Vec<T> {
        let n = self.below(max + 1);
        (0..n).map(|_| f(self)).collect()
    }
}

fn conference(rng: &mut Rng) -> Conference {
    Conference {
        entity: if rng.chance(30) {
            String::new()
        } else {
            rng.text()
        },
        version: rng.opt(|r| r.next() as u32),
        subject: rng.opt(Rng::text),
        conf_uris: rng.list(2, |r| ConfUri {
            uri: r.text(),
            display_text: r.opt(Rng::text),
            purpose: r.opt(Rng::text),
        }),
        conference_id: rng.opt(Rng::text),
        expiry_time: rng.opt(|r| (r.next() as i64) >> 28),
        admission_policy: rng.opt(|r| *r.pick(&AdmissionPolicy::ALL)),
        pstn_access: rng.opt(|r| PstnAccess {
            id: r.opt(Rng::text),
            passcode: r.opt(|r| Passcode::new(r.text())),
        }),
        pstn_lobby_bypass: rng.opt(|r| r.chance(50)),
        autopromote: rng.opt(Rng::next),
        last_update: rng.opt(|r| (r.next() as i64) >> 30),
        locked: rng.opt(|r| r.chance(50)),
        entity_views: rng.list(3, Rng::text),
    }
}

fn key(rng: &mut Rng) -> ConferenceKey {
    if rng.chance(50) {
        ConferenceKey::Entity(rng.text())
    } else {
        ConferenceKey::ConferenceId(rng.text())
    }
}

fn command(rng: &mut Rng) -> Command {
    match rng.below(7) {
        0 => Command::GetConferencingCapabilities,
        1 => Command::GetAvailableMcuTypes,
        2 => Command::AddConference(conference(rng)),
        3 => Command::GetConference(key(rng)),
        4 => {
            let mut c = conference(rng);
            if c.entity.is_empty() {
                c.entity = "sip:focus".into();
            }
            Command::ModifyConference(c)
        }
        5 => Command::DeleteConference(key(rng)),
        _ => Command::GetConferences {
            static_only: rng.opt(|r| r.chance(50)),
        },
    }
}

fn envelope(rng: &mut Rng) -> Envelope {
    Envelope {
        request_id: rng.next(),
        from: rng.text(),
        to: rng.text(),
        c3p_version: rng.opt(Rng::text),
    }
}

fn response_command(rng: &mut Rng) -> ResponseCommand {
    match rng.below(7) {
        6 => ResponseCommand::GetConferencingCapabilities(capabilities(rng)),
        0 => ResponseCommand::GetAvailableMcuTypes(rng.list(4, |r| {
            if r.chance(20) {
                McuType::Other("x-custom".into())
            } else {
                r.pick(&[McuType::AudioVideo, McuType::Chat, McuType::PhoneConf])
                    .clone()
            }
        })),
        1 => ResponseCommand::AddConference(conference(rng)),
        2 => ResponseCommand::GetConference(conference(rng)),
        3 => ResponseCommand::ModifyConference(conference(rng)),
        4 => ResponseCommand::DeleteConference { entity: rng.text() },
        _ => ResponseCommand::GetConferences(rng.list(3, conference)),
    }
}

fn capabilities(rng: &mut Rng) -> Capabilities {
    Capabilities {
        capability_version: rng.below(3) as u32,
        mcu_types: vec![McuType::AudioVideo],
        anonymous_scheduling: rng.chance(50),
        pstn_bridging: PstnBridging {
            enabled: rng.chance(50),
            default_region: rng.opt(Rng::text),
            regions: rng.list(3, |r| Region {
                name: r.text(),
                access_numbers: r.list(3, |r| AccessNumber {
                    number: r.text(),
                    languages: r.list(3, Rng::text),
                }),
            }),
        },
        scheduling: rng.opt(|r| {
            let policies: Vec<AdmissionPolicy> = AdmissionPolicy::ALL
                .into_iter()
                .filter(|_| r.chance(70))
                .collect();
            SchedulingOptions {
                default_admission_policy: policies.first().copied(),
                admission_policies: policies,
                lobby_bypass_allowed: r.chance(50),
                lobby_bypass_default: r.chance(50),
                passcode_optional: r.chance(50),
                passcode_min_length: r.below(10) as u8,
                passcode_max_length: r.below(30) as u8,
                default_expiry_seconds: r.next() as u32,
                internal_dial_in_page: r.opt(Rng::text),
                external_dial_in_page: r.opt(Rng::text),
            }
        }),
    }
}

#[test]
fn random_requests_round_trip() {
    let mut rng = Rng(0x5EED_C3F0);
    for _ in 0..3000 {
        let request = Request::new(envelope(&mut rng), command(&mut rng));
        let xml = request.to_xml();
        let back = Request::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert_eq!(back, request, "{xml}");
        assert_eq!(back.to_xml(), xml);
    }
}

#[test]
fn random_responses_round_trip() {
    let mut rng = Rng(0xFEED_BEEF);
    for _ in 0..3000 {
        let env = envelope(&mut rng);
        let response = if rng.chance(20) {
            let c = command(&mut rng).name();
            Response::failure(&env, c, *rng.pick(FailureReason::ALL))
        } else {
            let mut r = Response::success(&env, response_command(&mut rng));
            // An addConference/modifyConference/deleteConference response's entity must be
            // non-empty to name what was created (an empty one reads back the same anyway).
            r.c3p_version = rng.opt(Rng::text);
            r
        };
        let xml = response.to_xml();
        let back = Response::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert_eq!(back, response, "{xml}");
    }
}

fn endpoint(rng: &mut Rng, entity: String) -> Endpoint {
    Endpoint {
        display_text: rng.opt(Rng::text),
        status: rng.opt(|r| *r.pick(EndpointStatus::ALL)),
        joining_method: rng.opt(|r| *r.pick(JoiningMethod::ALL)),
        disconnection_method: rng.opt(|r| *r.pick(DisconnectionMethod::ALL)),
        media: (0..rng.below(3))
            .map(|i| Media {
                id: i.to_string(),
                media_type: rng.opt(|_| "audio".to_owned()),
                label: rng.opt(Rng::text),
                status: rng.opt(|r| *r.pick(MediaStatus::ALL)),
            })
            .collect(),
        ..Endpoint::new(entity)
    }
}

fn user(rng: &mut Rng, entity: String) -> User {
    User {
        display_text: rng.opt(Rng::text),
        roles: rng.list(2, |r| r.pick(&["presenter", "attendee"]).to_string()),
        endpoints: (0..rng.below(3))
            .map(|i| endpoint(rng, format!("{{E{i}}}")))
            .collect(),
        ..User::new(entity)
    }
}

fn roster(rng: &mut Rng, version: u32, next_id: &mut u32) -> ConferenceInfo {
    let users = (0..rng.below(6))
        .map(|_| {
            *next_id += 1;
            user(rng, format!("sip:u{next_id}@x"))
        })
        .collect();
    ConferenceInfo {
        description: rng.opt(|r| Description {
            display_text: r.opt(Rng::text),
            subject: r.opt(Rng::text),
            conf_uris: vec![],
            conference_id: r.opt(Rng::text),
            pstn_id: r.opt(|r| r.next().to_string()),
        }),
        conference_state: rng.opt(|r| ConferenceState {
            user_count: r.opt(|r| r.below(300) as u32),
            active: r.opt(|r| r.chance(50)),
            locked: r.opt(|r| r.chance(50)),
        }),
        users,
        ..ConferenceInfo::new("sip:focus", version)
    }
}

/// The next full state: some users leave, some change, some join (at the end).
fn evolve(rng: &mut Rng, old: &ConferenceInfo, next_id: &mut u32) -> ConferenceInfo {
    let mut new = old.clone();
    new.version += 1;
    new.users.retain(|_| !rng.chance(25));
    for u in &mut new.users {
        if rng.chance(30) {
            *u = user(rng, u.entity.clone());
        }
    }
    for _ in 0..rng.below(3) {
        *next_id += 1;
        new.users.push(user(rng, format!("sip:u{next_id}@x")));
    }
    if rng.chance(30) {
        new.conference_state = Some(ConferenceState {
            user_count: Some(new.users.len() as u32),
            active: Some(true),
            locked: Some(rng.chance(50)),
        });
    }
    new
}

#[test]
fn subscriber_follows_publisher_through_diffs() {
    let mut rng = Rng(0x0DD_F00D);
    for _ in 0..300 {
        let mut next_id = 0;
        let mut published = roster(&mut rng, 1, &mut next_id);
        let full = published.to_xml();
        let mut subscriber = ConferenceInfo::parse(full.as_bytes()).unwrap();
        assert_eq!(subscriber, published);
        for _ in 0..10 {
            let next = evolve(&mut rng, &published, &mut next_id);
            let delta = roster::diff(&published, &next, next.version);
            assert_eq!(delta.state, ElementState::Partial);
            let xml = delta.to_xml();
            let read = ConferenceInfo::parse(xml.as_bytes()).unwrap();
            assert_eq!(read, delta, "{xml}");
            subscriber.apply(&read).unwrap();
            assert_eq!(subscriber, next, "{xml}");
            published = next;
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0xB17E5);
    for _ in 0..20_000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = Request::parse(&bytes);
        let _ = Response::parse(&bytes);
        let _ = ConferenceInfo::parse(&bytes);
    }
}

#[test]
fn mutated_golden_files_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    const TOKENS: &[&[u8]] = &[
        b"<",
        b">",
        b"/>",
        b"</",
        b"&",
        b"&amp;",
        b"&#0;",
        b"&#x110000;",
        b"\"",
        b"'",
        b"=",
        b"<![CDATA[",
        b"]]>",
        b"<!--",
        b"-->",
        b"xmlns:ci=\"\"",
        b"xmlns=\"urn:x\"",
        b"\xff",
        b"\xc3",
        b"<?x?>",
        b"<!DOCTYPE a>",
        b"version=\"-1\"",
        b"requestId=\"1\"",
    ];
    let mut rng = Rng(0xC0FFEE);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let mut doc = rng.pick(&seeds).clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(doc.len() + 1);
            match rng.below(4) {
                0 if at < doc.len() => {
                    doc.remove(at);
                }
                1 if at < doc.len() => doc[at] = rng.next() as u8,
                2 => {
                    let end = (at + rng.below(40)).min(doc.len());
                    let chunk = doc[at..end].to_vec();
                    let to = rng.below(doc.len() + 1);
                    doc.splice(to..to, chunk);
                }
                _ => {
                    let token = *rng.pick(TOKENS);
                    doc.splice(at..at, token.iter().copied());
                }
            }
        }
        parsed += usize::from(Request::parse(&doc).is_ok());
        parsed += usize::from(Response::parse(&doc).is_ok());
        parsed += usize::from(ConferenceInfo::parse(&doc).is_ok());
    }
    assert!(parsed > 0, "some mutations stay valid");
}
