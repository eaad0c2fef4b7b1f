//! The Focus Factory service over an in-memory backend: what the host enforces whatever the
//! plugins say, and how each bad request is answered. The real pool and the real Wasm plugins
//! are exercised end to end in host/plenum/tests/meeting.rs; here the backend is a plain value so
//! that every refusal path can be reached on purpose (a plugin that lies, a lost race).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::cell::{Cell, RefCell};

use plenum_c3p::{
    Command, CommandName, Conference, ConferenceKey, Diagnostic, Envelope, FailureReason, Outcome,
    Passcode, PstnAccess, Request, Response, ResponseCommand,
};
use plenum_conference::focus_factory::{
    Backend, Meeting, OrganizerFacts, Requester, ServiceAnswer, StoreError, TenantFacts, handle,
};
use plenum_plugin_api::focus::{
    Capabilities, ConferencePlan, ConferenceRequest, Refusal, RefusalReason, RegionNumbers,
    ScheduleContext,
};
use plenum_plugin_api::policy::MeetingSettings;
use plenum_plugin_api::types::{AccessNumber, AdmissionPolicy, Verdict};
use plenum_sdk::harness::demo;
use plenum_sip::error::SipError;
use plenum_types::{PstnId, Secret, TenantId};

const NOW: i64 = 1_800_000_000;
const ALICE: &str = "sip:alice@contoso.example";
const BOB: &str = "sip:bob@contoso.example";
const CAROL: &str = "sip:carol@fabrikam.example";

/// How the fake focus-factory plugin behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PluginMood {
    Honest,
    /// Returns a passcode with letters for a dial-in meeting.
    LettersInPasscode,
    /// Returns a meeting ID that is not 8–32 alphanumerics.
    BadConferenceId,
    /// Returns an expiry far beyond the policy's maximum.
    EndlessExpiry,
}

struct Fake {
    meetings: RefCell<Vec<Meeting>>,
    passcodes: RefCell<Vec<(i64, String)>>,
    seq: Cell<u64>,
    next_row: Cell<i64>,
    mood: Cell<PluginMood>,
    /// PSTN IDs already taken by a concurrent writer (insert reports a conflict once).
    taken_pstn: RefCell<Vec<String>>,
    audit: RefCell<Vec<&'static str>>,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            meetings: RefCell::new(Vec::new()),
            passcodes: RefCell::new(Vec::new()),
            seq: Cell::new(1000),
            next_row: Cell::new(1),
            mood: Cell::new(PluginMood::Honest),
            taken_pstn: RefCell::new(Vec::new()),
            audit: RefCell::new(Vec::new()),
        }
    }

    fn tenant_of(uri: &str) -> TenantId {
        if uri.ends_with("fabrikam.example") {
            TenantId::new("fabrikam").unwrap()
        } else {
            TenantId::new("contoso").unwrap()
        }
    }
}

fn numbers() -> Vec<AccessNumber> {
    vec![demo::redmond_number(), demo::london_number()]
}

impl Backend for Fake {
    fn organizer(&self, uri: &str) -> Option<OrganizerFacts> {
        [ALICE, BOB, CAROL].contains(&uri).then(|| OrganizerFacts {
            uri: uri.to_owned(),
            tenant: Fake::tenant_of(uri),
            display_name: uri.into(),
            // bob is a user, not an organizer.
            is_organizer: uri != BOB,
            region: Some("Redmond".into()),
        })
    }

    fn tenant(&self, id: &TenantId) -> Option<TenantFacts> {
        Some(TenantFacts {
            id: id.clone(),
            domain: format!("{}.example", id.as_str()),
            pstn_enabled: true,
        })
    }

    fn access_numbers(&self, tenant: &TenantId) -> Vec<AccessNumber> {
        if tenant.as_str() == "contoso" {
            numbers()
        } else {
            Vec::new()
        }
    }

    fn settings(&self, _tenant: &TenantId) -> MeetingSettings {
        demo::settings()
    }

    fn check_passcode(&self, _tenant: &TenantId, passcode: &str, _pstn: bool) -> Verdict {
        let s = demo::settings().passcode;
        let len = passcode.len();
        if len < usize::from(s.min_length) || len > usize::from(s.max_length) {
            Verdict::Reject("passcode length".into())
        } else {
            Verdict::Accept
        }
    }

    fn get_capabilities(
        &self,
        _tenant: &TenantId,
        ctx: &ScheduleContext,
    ) -> Result<Capabilities, Refusal> {
        let mut regions: Vec<RegionNumbers> = Vec::new();
        for n in &ctx.access_numbers {
            match regions.iter_mut().find(|r| r.name == n.region) {
                Some(r) => r.numbers.push(n.clone()),
                None => regions.push(RegionNumbers {
                    name: n.region.clone(),
                    numbers: vec![n.clone()],
                }),
            }
        }
        Ok(Capabilities {
            mcu_types: vec!["audio-video".into()],
            anonymous_scheduling: true,
            pstn_bridging: ctx.pstn_enabled,
            default_region: ctx.organizer.region.clone(),
            regions,
            admission_policies: vec![AdmissionPolicy::OpenAuthenticated],
            lobby_bypass_allowed: ctx.settings.lobby_bypass_allowed,
            passcode_optional: !ctx.settings.passcode.required,
            passcode_min_length: ctx.settings.passcode.min_length,
            passcode_max_length: ctx.settings.passcode.max_length,
            default_expiry_secs: ctx.settings.default_expiry_secs,
            max_expiry_secs: ctx.settings.max_expiry_secs,
        })
    }

    fn complete_add(
        &self,
        _tenant: &TenantId,
        ctx: &ScheduleContext,
        req: &ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal> {
        let mut plan = ConferencePlan {
            conference_id: req
                .conference_id
                .clone()
                .unwrap_or_else(|| format!("MEET{:08}", ctx.pstn_sequence)),
            subject: req.subject.clone().unwrap_or_default(),
            pstn_access: req.pstn_access,
            pstn_base: req.pstn_access.then(|| ctx.pstn_sequence.to_string()),
            passcode: req.passcode.clone(),
            expiry: req
                .expiry
                .unwrap_or(ctx.now + i64::from(ctx.settings.default_expiry_secs)),
            admission: req.admission.unwrap_or(AdmissionPolicy::OpenAuthenticated),
            lobby_bypass: req.lobby_bypass.unwrap_or(false),
        };
        match self.mood.get() {
            PluginMood::Honest => {}
            PluginMood::LettersInPasscode => plan.passcode = Some("12ab56".into()),
            PluginMood::BadConferenceId => plan.conference_id = "no spaces allowed".into(),
            PluginMood::EndlessExpiry => plan.expiry = ctx.now + 10 * 365 * 86_400,
        }
        Ok(plan)
    }

    fn complete_modify(
        &self,
        _tenant: &TenantId,
        _ctx: &ScheduleContext,
        current: &ConferencePlan,
        req: &ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal> {
        if req.passcode.as_deref() == Some("0000") {
            return Err(Refusal {
                reason: RefusalReason::InvalidPasscode,
                detail: "too simple".into(),
            });
        }
        Ok(ConferencePlan {
            subject: req.subject.clone().unwrap_or(current.subject.clone()),
            passcode: req.passcode.clone(),
            expiry: req.expiry.unwrap_or(current.expiry),
            pstn_access: req.pstn_access,
            ..current.clone()
        })
    }

    fn meetings_of(&self, organizer: &str, now: i64) -> Vec<Meeting> {
        self.meetings
            .borrow()
            .iter()
            .filter(|m| m.organizer == organizer && m.expires_at > now)
            .cloned()
            .collect()
    }

    fn meeting(&self, organizer: &str, conference_id: &str) -> Option<Meeting> {
        self.meetings
            .borrow()
            .iter()
            .find(|m| m.organizer == organizer && m.conference_id == conference_id)
            .cloned()
    }

    fn next_pstn_sequence(&self) -> Option<u64> {
        let n = self.seq.get();
        self.seq.set(n + 1);
        Some(n)
    }

    fn insert(&self, meeting: &Meeting, passcode: Option<&Secret>) -> Result<i64, StoreError> {
        let pstn = meeting.pstn_id.clone().unwrap_or_default();
        let mut taken = self.taken_pstn.borrow_mut();
        if let Some(i) = taken.iter().position(|t| *t == pstn) {
            taken.remove(i);
            return Err(StoreError::Conflict("pstn id"));
        }
        if self
            .meeting(&meeting.organizer, &meeting.conference_id)
            .is_some()
        {
            return Err(StoreError::Conflict("conference id"));
        }
        let id = self.next_row.get();
        self.next_row.set(id + 1);
        self.meetings.borrow_mut().push(Meeting {
            id,
            ..meeting.clone()
        });
        if let Some(p) = passcode {
            self.passcodes
                .borrow_mut()
                .push((id, p.expose().to_owned()));
        }
        Ok(id)
    }

    fn update(&self, meeting: &Meeting, passcode: Option<&Secret>) -> Result<u64, StoreError> {
        let mut all = self.meetings.borrow_mut();
        let row = all.iter_mut().find(|m| m.id == meeting.id).unwrap();
        if row.revision != meeting.revision {
            return Err(StoreError::Stale);
        }
        *row = Meeting {
            revision: meeting.revision + 1,
            ..meeting.clone()
        };
        if let Some(p) = passcode {
            self.passcodes
                .borrow_mut()
                .push((meeting.id, p.expose().to_owned()));
        }
        Ok(meeting.revision + 1)
    }

    fn delete(&self, meeting: &Meeting) -> Result<(), StoreError> {
        self.meetings.borrow_mut().retain(|m| m.id != meeting.id);
        Ok(())
    }

    fn entropy(&self) -> [u8; 32] {
        [7; 32]
    }

    fn now(&self) -> i64 {
        NOW
    }

    fn audit(&self, _t: &TenantId, event: &'static str, _m: Option<i64>, _s: &str, _d: &str) {
        self.audit.borrow_mut().push(event);
    }
}

fn ff(uri: &str) -> String {
    format!("{uri};gruu;opaque=app:conf:focusfactory")
}

fn request(from: &str, command: Command) -> Vec<u8> {
    let env = Envelope {
        request_id: 7,
        from: from.into(),
        to: ff(from),
        c3p_version: Some("1".into()),
    };
    Request::new(env, command).to_xml().into_bytes()
}

fn who(uri: &str) -> Requester {
    Requester {
        uri: uri.into(),
        tenant: Fake::tenant_of(uri),
    }
}

/// Send `command` as `uri` to its own Focus Factory.
fn send(b: &Fake, uri: &str, command: Command) -> ServiceAnswer {
    handle(b, &who(uri), uri, &request(uri, command))
}

fn success(a: ServiceAnswer) -> ResponseCommand {
    match a {
        ServiceAnswer::C3p(r) => match r.outcome {
            Outcome::Success(c) => c,
            other => panic!("not a success: {other:?}"),
        },
        other => panic!("not a C3P answer: {other:?}"),
    }
}

fn failure(a: ServiceAnswer) -> (CommandName, FailureReason) {
    match a {
        ServiceAnswer::C3p(r) => match r.outcome {
            Outcome::Failure { command, reason } => (command, reason),
            other => panic!("not a failure: {other:?}"),
        },
        other => panic!("not a C3P answer: {other:?}"),
    }
}

fn dial_in(passcode: Option<&str>) -> Conference {
    Conference {
        subject: Some("Weekly sync".into()),
        pstn_access: Some(PstnAccess {
            id: None,
            passcode: passcode.map(Passcode::new),
        }),
        expiry_time: Some(NOW + 3600),
        ..Conference::default()
    }
}

fn add(b: &Fake, uri: &str, c: Conference) -> Conference {
    match success(send(b, uri, Command::AddConference(c))) {
        ResponseCommand::AddConference(c) => c,
        other => panic!("{other:?}"),
    }
}

#[test]
fn capabilities_list_the_tenants_numbers_by_region_with_the_organizers_default() {
    let b = Fake::new();
    let ResponseCommand::GetConferencingCapabilities(caps) =
        success(send(&b, ALICE, Command::GetConferencingCapabilities))
    else {
        panic!()
    };
    assert!(caps.pstn_bridging.enabled);
    assert_eq!(
        caps.pstn_bridging.default_region.as_deref(),
        Some("Redmond")
    );
    let names: Vec<_> = caps
        .pstn_bridging
        .regions
        .iter()
        .map(|r| &r.name[..])
        .collect();
    assert_eq!(names, ["Redmond", "London"]);
    assert_eq!(
        caps.pstn_bridging.regions[0].access_numbers[0].languages,
        demo::redmond_number().languages
    );
    let opts = caps.scheduling.unwrap();
    assert_eq!(
        opts.passcode_min_length,
        demo::settings().passcode.min_length
    );
}

#[test]
fn add_assigns_a_checked_pstn_id_hashes_nothing_in_clear_and_returns_the_passcode_once() {
    let b = Fake::new();
    let added = add(&b, ALICE, dial_in(Some("246813")));
    let pstn = added.pstn_access.clone().unwrap();
    let id = pstn.id.unwrap();
    // The plugin's base (the sequence number) plus our Luhn check digit.
    assert!(PstnId::new(&id).is_ok(), "{id}");
    assert!(id.starts_with("1000"), "{id}");
    assert_eq!(pstn.passcode.unwrap().expose(), "246813");
    assert!(
        added
            .entity
            .starts_with(&format!("{ALICE};gruu;opaque=app:conf:focus:id:"))
    );
    assert_eq!(b.audit.borrow().as_slice(), ["conference-created"]);

    // getConference shows the meeting but never the passcode again.
    let key = ConferenceKey::Entity(added.entity.clone());
    let ResponseCommand::GetConference(got) = success(send(&b, ALICE, Command::GetConference(key)))
    else {
        panic!()
    };
    assert_eq!(
        got.pstn_access.as_ref().unwrap().id.as_deref(),
        Some(&id[..])
    );
    assert!(got.pstn_access.unwrap().passcode.is_none());
    assert_eq!(got.subject.as_deref(), Some("Weekly sync"));
    assert_eq!(got.version, Some(1));
}

#[test]
fn a_taken_pstn_id_is_retried_with_the_next_number() {
    let b = Fake::new();
    let first = PstnId::from_base("1000").unwrap().to_string();
    b.taken_pstn.borrow_mut().push(first.clone());
    let added = add(&b, ALICE, dial_in(Some("246813")));
    let id = added.pstn_access.unwrap().id.unwrap();
    assert_ne!(id, first);
    assert!(id.starts_with("1001"), "{id}");
}

#[test]
fn the_host_checks_what_the_plugin_returns() {
    let b = Fake::new();
    for (mood, reason) in [
        (
            PluginMood::LettersInPasscode,
            FailureReason::InvalidPasscode,
        ),
        (
            PluginMood::BadConferenceId,
            FailureReason::InvalidConferenceId,
        ),
        (PluginMood::EndlessExpiry, FailureReason::InvalidExpiryTime),
    ] {
        b.mood.set(mood);
        let (cmd, got) = failure(send(
            &b,
            ALICE,
            Command::AddConference(dial_in(Some("246813"))),
        ));
        assert_eq!((cmd, got), (CommandName::AddConference, reason));
    }
    // Nothing was stored.
    assert!(b.meetings.borrow().is_empty());
}

#[test]
fn policy_refusals_store_nothing() {
    let b = Fake::new();
    let short = "1"; // below the policy's minimum length
    let (_, reason) = failure(send(
        &b,
        ALICE,
        Command::AddConference(dial_in(Some(short))),
    ));
    assert_eq!(reason, FailureReason::InvalidPasscode);
    // A dial-in meeting without a passcode where the policy requires one.
    if demo::settings().passcode.required {
        let (_, reason) = failure(send(&b, ALICE, Command::AddConference(dial_in(None))));
        assert_eq!(reason, FailureReason::InvalidPasscode);
    }
    // An expiry in the past.
    let mut past = dial_in(Some("246813"));
    past.expiry_time = Some(NOW - 1);
    let (_, reason) = failure(send(&b, ALICE, Command::AddConference(past)));
    assert_eq!(reason, FailureReason::InvalidExpiryTime);
    assert!(b.meetings.borrow().is_empty());
    assert!(b.passcodes.borrow().is_empty());
}

#[test]
fn a_user_who_is_not_an_organizer_cannot_schedule() {
    let b = Fake::new();
    let (_, reason) = failure(send(
        &b,
        BOB,
        Command::AddConference(dial_in(Some("246813"))),
    ));
    assert_eq!(reason, FailureReason::Unauthorized);
}

#[test]
fn modify_uses_the_revision_as_an_optimistic_lock() {
    let b = Fake::new();
    let added = add(&b, ALICE, dial_in(Some("246813")));
    let change = |version: u32, subject: &str| Conference {
        entity: added.entity.clone(),
        version: Some(version),
        subject: Some(subject.into()),
        ..Conference::default()
    };
    let ResponseCommand::ModifyConference(m) = success(send(
        &b,
        ALICE,
        Command::ModifyConference(change(1, "Renamed")),
    )) else {
        panic!()
    };
    assert_eq!(m.version, Some(2));
    assert_eq!(m.subject.as_deref(), Some("Renamed"));
    // Dial-in stays when the modify does not mention it.
    assert_eq!(m.pstn_access.unwrap().id, added.pstn_access.unwrap().id);
    // Revision 1 is stale now.
    let (cmd, reason) = failure(send(
        &b,
        ALICE,
        Command::ModifyConference(change(1, "Again")),
    ));
    assert_eq!(
        (cmd, reason),
        (CommandName::ModifyConference, FailureReason::InvalidVersion)
    );
    assert_eq!(b.meetings.borrow()[0].subject, "Renamed");
    // A plugin refusal comes back as its reason.
    let mut weak = change(2, "Weak");
    weak.pstn_access = Some(PstnAccess {
        id: None,
        passcode: Some(Passcode::new("0000")),
    });
    let (_, reason) = failure(send(&b, ALICE, Command::ModifyConference(weak)));
    assert_eq!(reason, FailureReason::InvalidPasscode);
    assert_eq!(b.meetings.borrow()[0].revision, 2);
}

#[test]
fn organizers_cannot_reach_each_others_meetings() {
    let b = Fake::new();
    let added = add(&b, ALICE, dial_in(Some("246813")));
    let key = || ConferenceKey::Entity(added.entity.clone());
    // carol (another tenant) names alice's meeting: refused, and nothing changes.
    for command in [
        Command::GetConference(key()),
        Command::DeleteConference(key()),
        Command::ModifyConference(Conference {
            entity: added.entity.clone(),
            version: Some(1),
            subject: Some("mine now".into()),
            ..Conference::default()
        }),
    ] {
        let (_, reason) = failure(send(&b, CAROL, command));
        assert_eq!(reason, FailureReason::Unauthorized);
    }
    // By bare conference ID, carol only ever looks among her own.
    let id = added.conference_id.clone().unwrap();
    let (_, reason) = failure(send(
        &b,
        CAROL,
        Command::GetConference(ConferenceKey::ConferenceId(id)),
    ));
    assert_eq!(reason, FailureReason::ConferenceDoesNotExist);
    let ResponseCommand::GetConferences(list) = success(send(
        &b,
        CAROL,
        Command::GetConferences { static_only: None },
    )) else {
        panic!()
    };
    assert!(list.is_empty());
    assert_eq!(b.meetings.borrow().len(), 1);
    assert_eq!(b.meetings.borrow()[0].subject, "Weekly sync");
}

#[test]
fn delete_removes_and_a_second_delete_finds_nothing() {
    let b = Fake::new();
    let added = add(&b, ALICE, dial_in(Some("246813")));
    let key = || ConferenceKey::Entity(added.entity.clone());
    assert!(matches!(
        success(send(&b, ALICE, Command::DeleteConference(key()))),
        ResponseCommand::DeleteConference { .. }
    ));
    let (_, reason) = failure(send(&b, ALICE, Command::DeleteConference(key())));
    assert_eq!(reason, FailureReason::ConferenceDoesNotExist);
}

#[test]
fn someone_elses_focus_factory_or_c3p_from_is_forbidden() {
    let b = Fake::new();
    // alice authenticated, but the SERVICE goes to bob's Focus Factory.
    let body = request(BOB, Command::GetConferencingCapabilities);
    let a = handle(&b, &who(ALICE), BOB, &body);
    assert_eq!(
        a,
        ServiceAnswer::Sip(SipError::Forbidden, Some(Diagnostic::AuthorizationFailed))
    );
    // alice's Focus Factory, but the C3P `from` claims bob.
    let a = handle(&b, &who(ALICE), ALICE, &body);
    assert_eq!(
        a,
        ServiceAnswer::Sip(SipError::Forbidden, Some(Diagnostic::BadFrom))
    );
}

#[test]
fn malformed_and_unknown_requests_get_sip_errors_with_diagnostics() {
    let b = Fake::new();
    let a = handle(&b, &who(ALICE), ALICE, b"<request><not-closed");
    let ServiceAnswer::Sip(error, Some(d)) = a else {
        panic!("{a:?}")
    };
    assert_eq!((error.status(), d.code()), (400, 3006));

    let unknown = format!(
        r#"<request xmlns="urn:ietf:params:xml:ns:cccp" requestId="1" from="{ALICE}" to="{}"><launchRockets/></request>"#,
        ff(ALICE)
    );
    let a = handle(&b, &who(ALICE), ALICE, unknown.as_bytes());
    let ServiceAnswer::Sip(error, Some(d)) = a else {
        panic!("{a:?}")
    };
    assert_eq!((error.status(), d.code()), (501, 3004));
    assert_eq!(d.header_name(), "ms-diagnostics-public");
}

#[test]
fn responses_echo_the_envelope() {
    let b = Fake::new();
    let ServiceAnswer::C3p(r) = send(&b, ALICE, Command::GetConferences { static_only: None })
    else {
        panic!()
    };
    let r: Response = Response::parse(r.to_xml().as_bytes()).unwrap();
    assert_eq!(r.request_id, 7);
    assert_eq!(r.from, ff(ALICE));
    assert_eq!(r.to, ALICE);
}
