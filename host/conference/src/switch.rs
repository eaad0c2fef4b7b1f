//! The switch: the SIP transaction user of the pool, sans-IO. It owns the SIP endpoint and
//! every call's signalling state, and decides what each request gets:
//!
//! - `OPTIONS` (gateways and SIPp use it as a keep-alive): 200 with what we allow;
//! - a dialog-creating `INVITE`: who is calling (a configured gateway, by source address; or a
//!   user of a tenant, by SIP digest against the pool — unknown peers get 403), where it goes
//!   (the called number normalized with the gateway's or the user's location profile, then the
//!   reverse lookup: an access number, else 404), the media offer answered (488 when it cannot
//!   be), then 200 and a dialog; `CANCEL` → 487; no ACK → BYE;
//! - in-dialog requests: BYE, re-INVITE (hold, resume, new address; glare 491, overlap 500),
//!   UPDATE and session-timer refreshes, INFO, with RFC 4028 timers kept;
//! - `SERVICE` to an organizer's Focus Factory (`…;gruu;opaque=app:conf:focusfactory`): the
//!   sender authenticates by digest like any user, then the C3P body goes to the shell as
//!   [`Work::Service`] (the [`crate::focus_factory`] service runs off this core, next to the pool
//!   and the plugins) and its answer goes back as `200` + `application/cccp+xml` or a SIP error
//!   with `ms-diagnostics`;
//! - anything else: the error table's answer (405, 481, 501, …).
//!
//! Facts that live in the pool — stored digest credentials, numbers, location profiles — and
//! media ports are [`Work`] the I/O shell does off this core and hands back with
//! [`Switch::work_done`]. Time comes in as `now`; the switch never reads a clock or a socket.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use plenum_sdp::{LocalMedia, Offer, Session, SrtpPolicy};
use plenum_sip::auth::{self, Algorithm, AuthError, Authenticator};
use plenum_sip::compose;
use plenum_sip::dialog::{Dialog, DialogId, SessionTimer, TimerAction, session_timer_headers};
use plenum_sip::endpoint::{
    ClientTxId, Endpoint, Event, Flow, Output, ServerTxId, Transmit, Transport,
};
use plenum_sip::error::SipError;
use plenum_sip::headers::SipHeaders;
use plenum_sip::message::{HeaderName, Method, Request, Response, Uri};
use plenum_types::{E164, TenantId};

use crate::attendant::{AttendantDriver, Keys, StepFailed};
use crate::directory::Directory;
use crate::focus::{Focus, MeetingRef};
use crate::focus_factory::{FOCUS_FACTORY, ServiceAnswer};
pub use crate::media::{Announcement, Listeners, MediaInput, MediaOrder};
use plenum_plugin_api::attendant::{
    CallInfo, ConferenceLookup, Event as AttendantEvent, PasscodeResult, PinResult, StepResult,
};
use plenum_plugin_api::policy::{AdmissionDecision, AdmissionRequest, MeetingSettings};
use plenum_plugin_api::types::AccessNumber;
use plenum_types::Secret;

/// Methods we take, for `Allow`.
pub const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, SERVICE, SUBSCRIBE, NOTIFY";

/// A call's id inside the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// A piece of work for the I/O shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkId(pub u64);

/// What the shell must find out or do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// The stored HA1 of a digest username in a realm (tenant domain).
    Ha1 {
        /// Digest username (the user part of the SIP URI).
        username: String,
        /// Realm.
        realm: String,
        /// Algorithm.
        algorithm: Algorithm,
    },
    /// Normalize `number` with a location profile of `tenant` (the gateway's, or, when `None`,
    /// the tenant's default) through the tenant's normalizer, and find who owns the result.
    Route {
        /// The caller's tenant.
        tenant: TenantId,
        /// The profile.
        profile: Option<String>,
        /// The number as dialled.
        number: String,
        /// The caller's number as sent (the From user part).
        calling: Option<String>,
    },
    /// Reserve a media port for a call.
    OpenMedia {
        /// The call.
        call: CallId,
    },
    /// Run a C3P request through the Focus Factory service
    /// ([`crate::focus_factory::handle`]).
    Service {
        /// Who authenticated, `sip:user@domain`.
        requester: String,
        /// Their tenant.
        tenant: TenantId,
        /// The organizer the Request-URI names, `sip:user@domain`.
        target: String,
        /// The C3P body.
        body: Bytes,
    },
    /// One step of the call's attendant plugin (the shell keeps the plugin session and fills
    /// in `info.now`).
    Attendant {
        /// The call.
        call: CallId,
        /// What to tell the plugin.
        event: AttendantEvent,
        /// The call's facts.
        info: Box<CallInfo>,
    },
    /// Find a meeting of `tenant` by PSTN conference ID (check digit first).
    Lookup {
        /// The tenant of the access number called.
        tenant: TenantId,
        /// What the caller typed.
        pstn_id: Keys,
    },
    /// Check a meeting's passcode (audited when wrong).
    VerifyPasscode {
        /// The meeting.
        meeting: i64,
        /// Its tenant.
        tenant: TenantId,
        /// What the caller typed.
        passcode: Secret,
    },
    /// Sign a caller in with extension (or number) and PIN, with the policy's lockout.
    VerifyPin {
        /// The tenant.
        tenant: TenantId,
        /// The location profile numbers are normalized with.
        profile: Option<String>,
        /// Extension or number typed.
        who: Keys,
        /// PIN typed.
        pin: Secret,
        /// The meeting found, for an organizer-only PIN policy.
        meeting: Option<i64>,
    },
    /// Ask the tenant's meeting policy for admission.
    Admit {
        /// The tenant.
        tenant: TenantId,
        /// The question.
        request: Box<AdmissionRequest>,
    },
    /// Find a meeting by organizer and conference ID (a SIP client calling or subscribing to
    /// its focus URI).
    FindMeeting {
        /// Organizer URI.
        organizer: String,
        /// Conference ID.
        conference_id: String,
    },
    /// Write an audit record.
    Audit {
        /// The tenant.
        tenant: TenantId,
        /// The event name (`join`, `leave`, `admission-denied`, ...).
        event: &'static str,
        /// The meeting.
        meeting: Option<i64>,
        /// Who (a URI, or the caller's number).
        subject: String,
        /// More.
        detail: String,
    },
    /// Release a call's media port.
    CloseMedia {
        /// The call.
        call: CallId,
        /// The port.
        port: u16,
    },
}

/// The answer to a [`Work`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkResult {
    /// For [`Work::Ha1`].
    Ha1(Option<String>),
    /// For [`Work::Route`].
    Route(Route),
    /// For [`Work::OpenMedia`]: the port, or none free.
    Media(Option<u16>),
    /// For [`Work::Service`].
    Service(ServiceAnswer),
    /// For [`Work::Attendant`].
    Attendant(Result<StepResult, StepFailed>),
    /// For [`Work::Lookup`]: the answer for the plugin, and the meeting when found.
    Lookup(ConferenceLookup, Option<Box<MeetingRef>>),
    /// For [`Work::VerifyPasscode`].
    Passcode(PasscodeResult),
    /// For [`Work::VerifyPin`]: the answer, and the user's tenant and organizer status when
    /// signed in.
    Pin(PinResult),
    /// For [`Work::Admit`].
    Admit(AdmissionDecision),
    /// For [`Work::FindMeeting`]: the meeting and its tenant's settings.
    Meeting(Option<Box<(MeetingRef, MeetingSettings)>>),
    /// For work that answers nothing.
    Done,
}

/// Where a called number leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A dial-in access number of a tenant.
    AccessNumber(Box<Routed>),
    /// Nothing in the pool.
    NotFound,
}

/// A call routed to an access number: what its attendant needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The access number's tenant.
    pub tenant: TenantId,
    /// The number.
    pub number: E164,
    /// The access number (languages, region).
    pub access: AccessNumber,
    /// The location profile of that region (numbers typed at the attendant are normalized
    /// with it).
    pub profile: Option<String>,
    /// The tenant's meeting settings (attempts, keypad, announcements, timeouts).
    pub settings: MeetingSettings,
    /// The caller's number, normalized when it could be.
    pub calling: Option<String>,
}

/// What the switch wants done.
#[derive(Debug)]
pub enum SwitchOutput {
    /// Send bytes.
    Transmit(Transmit),
    /// Do work and report with [`Switch::work_done`].
    Work(WorkId, Work),
    /// Something an operator should know about a call (connected, ended), for logs and tests.
    Note(CallNote),
    /// Something for the media engine.
    Media(MediaOrder),
}

/// A call event worth a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallNote {
    /// A call was answered.
    Answered {
        /// The call.
        call: CallId,
        /// The access number it reached.
        number: String,
        /// Who called: the gateway's name or the user's URI.
        caller: String,
    },
    /// A call ended.
    Ended {
        /// The call.
        call: CallId,
        /// Why.
        reason: &'static str,
    },
}

/// Configuration of the switch.
#[derive(Debug, Clone)]
pub struct SwitchConfig {
    /// SIP endpoint settings.
    pub endpoint: plenum_sip::endpoint::Config,
    /// Secret for digest nonces (random per process).
    pub auth_secret: [u8; 32],
    /// Digest nonce lifetime.
    pub nonce_ttl: Duration,
    /// Session interval we ask for when a peer offers none (0: none).
    pub session_interval: Duration,
    /// Digest algorithms offered, in order of preference.
    pub digest_algorithms: Vec<Algorithm>,
}

impl Default for SwitchConfig {
    fn default() -> SwitchConfig {
        SwitchConfig {
            endpoint: plenum_sip::endpoint::Config::default(),
            auth_secret: [0; 32],
            nonce_ttl: Duration::from_secs(300),
            session_interval: Duration::ZERO,
            digest_algorithms: vec![Algorithm::Md5, Algorithm::Sha256],
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    Gateway {
        name: String,
        tenant: TenantId,
        profile: String,
        srtp: bool,
    },
    User {
        uri: String,
        tenant: TenantId,
    },
}

impl Caller {
    fn label(&self) -> String {
        match self {
            Caller::Gateway { name, .. } => format!("gateway {name}"),
            Caller::User { uri, .. } => uri.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Authenticating,
    Routing,
    OpeningMedia,
    Answered,
    Confirmed,
}

struct Call {
    tx: Option<ServerTxId>,
    invite: Request,
    flow: Flow,
    caller: Option<Caller>,
    stage: Stage,
    number: Option<E164>,
    port: Option<u16>,
    session: Option<Session>,
    late_offer: Option<Offer>,
    dialog: Option<Dialog>,
    local_tag: String,
    realm: String,
    /// Our re-INVITE (session refresh) in flight.
    refresh: Option<ClientTxId>,
    /// Where the call was routed (access number calls).
    pub(crate) routed: Option<Box<Routed>>,
    /// The attendant, from the ACK until the caller joins or leaves.
    pub(crate) attendant: Option<AttendantDriver>,
    /// The meeting the attendant's lookup found (or the focus URI named).
    pub(crate) meeting: Option<MeetingRef>,
    /// The meeting the call is in or waiting for (its Focus has the call as a member).
    pub(crate) focus: Option<i64>,
    /// `*` was pressed in the meeting: the next key is a keypad command.
    pub(crate) keypad_armed: bool,
    /// The caller's recorded name is kept by the shell.
    pub(crate) has_name: bool,
    /// The media leg was opened.
    pub(crate) media_open: bool,
    /// Waiting on hold or in the lobby until then.
    pub(crate) wait_until: Option<Instant>,
    /// The tenant's meeting settings (keypad, announcements, timeouts).
    pub(crate) settings: Option<Box<MeetingSettings>>,
}

/// A SERVICE being authenticated or run.
struct PendingService {
    tx: ServerTxId,
    request: Request,
    realm: String,
    tenant: TenantId,
    /// `sip:user@host` of the Request-URI.
    target: String,
}

/// Who waits for a piece of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiter {
    Call(CallId),
    Service(u64),
    Subscribe(u64),
}

/// The switch.
#[allow(clippy::struct_field_names)]
pub struct Switch {
    ep: Endpoint,
    auth: Authenticator,
    directory: Directory,
    config: SwitchConfig,
    created: Instant,
    calls: HashMap<CallId, Call>,
    by_tx: HashMap<ServerTxId, CallId>,
    by_dialog: HashMap<DialogId, CallId>,
    by_client_tx: HashMap<ClientTxId, CallId>,
    work: HashMap<WorkId, Waiter>,
    services: HashMap<u64, PendingService>,
    /// Active meetings by row id.
    pub(crate) focuses: HashMap<i64, Focus>,
    /// Meetings' expiry times (and, once a meeting has ended, when its last callers go).
    pub(crate) expiries: BinaryHeap<Reverse<(Instant, i64)>>,
    /// Meetings that have expired and are saying goodbye, and when their callers go.
    pub(crate) ending: HashMap<i64, Instant>,
    /// The "meeting ended" announcements playing, by id: to which meeting and call.
    pub(crate) goodbyes: HashMap<u64, (i64, CallId)>,
    /// Attendant timers and other per-call deadlines.
    pub(crate) call_timers: BinaryHeap<Reverse<(Instant, CallId)>>,
    /// Roster subscriptions (the conference event package).
    subs: HashMap<u64, roster::Subscription>,
    sub_by_dialog: HashMap<DialogId, u64>,
    notify_tx: HashMap<ClientTxId, u64>,
    sub_timers: BinaryHeap<Reverse<(Instant, u64)>>,
    subscribes: HashMap<u64, roster::PendingSubscribe>,
    /// The latest `now` seen (for clean-ups that happen where no `now` is at hand).
    clock: Instant,
    /// Announcement ids.
    next_announcement: u64,
    timers: BinaryHeap<Reverse<(Instant, CallId)>>,
    out: VecDeque<SwitchOutput>,
    next: u64,
}

impl Switch {
    /// A switch with a directory snapshot.
    pub fn new(config: SwitchConfig, directory: Directory, now: Instant) -> Switch {
        Switch {
            ep: Endpoint::new(config.endpoint.clone()),
            auth: Authenticator::new(
                config.auth_secret,
                config.nonce_ttl.as_secs(),
                config.digest_algorithms.clone(),
            ),
            directory,
            config,
            created: now,
            calls: HashMap::new(),
            by_tx: HashMap::new(),
            by_dialog: HashMap::new(),
            by_client_tx: HashMap::new(),
            work: HashMap::new(),
            services: HashMap::new(),
            focuses: HashMap::new(),
            expiries: BinaryHeap::new(),
            ending: HashMap::new(),
            goodbyes: HashMap::new(),
            call_timers: BinaryHeap::new(),
            subs: HashMap::new(),
            sub_by_dialog: HashMap::new(),
            notify_tx: HashMap::new(),
            sub_timers: BinaryHeap::new(),
            subscribes: HashMap::new(),
            clock: now,
            next_announcement: 0,
            timers: BinaryHeap::new(),
            out: VecDeque::new(),
            next: 0,
        }
    }

    /// Replace the directory (gateways, tenants) with a fresh snapshot.
    pub fn set_directory(&mut self, directory: Directory) {
        self.directory = directory;
    }

    /// The SIP endpoint's counters.
    pub fn sip_stats(&self) -> plenum_sip::endpoint::Stats {
        self.ep.stats()
    }

    /// Calls the switch holds (pending or established).
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Bytes arrived on `flow`.
    pub fn handle_bytes(&mut self, flow: Flow, bytes: &[u8], now: Instant) {
        self.clock = now;
        self.ep.handle_bytes(flow, bytes, now);
        self.drain(now);
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.clock = now;
        self.ep.handle_timeout(now);
        while let Some(Reverse((at, call))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            self.session_timer(call, at, now);
        }
        while let Some(Reverse((at, call))) = self.call_timers.peek().copied() {
            if at > now {
                break;
            }
            self.call_timers.pop();
            self.call_timer(call, now);
        }
        while let Some(Reverse((at, sub))) = self.sub_timers.peek().copied() {
            if at > now {
                break;
            }
            self.sub_timers.pop();
            self.subscription_timer(sub, now);
        }
        while let Some(Reverse((at, meeting))) = self.expiries.peek().copied() {
            if at > now {
                break;
            }
            self.expiries.pop();
            self.meeting_expired(meeting, now);
        }
        self.drain(now);
    }

    /// The media engine reports.
    pub fn media_input(&mut self, input: MediaInput, now: Instant) {
        self.clock = now;
        self.media_event(input, now);
        self.drain(now);
    }

    /// When the switch next wants [`Switch::handle_timeout`].
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let sip = self.ep.poll_timeout();
        let own = self.timers.peek().map(|Reverse((at, _))| *at);
        let calls = self.call_timers.peek().map(|Reverse((at, _))| *at);
        let subs = self.sub_timers.peek().map(|Reverse((at, _))| *at);
        let meetings = self.expiries.peek().map(|Reverse((at, _))| *at);
        [sip, own, calls, subs, meetings]
            .into_iter()
            .flatten()
            .min()
    }

    /// The active meetings (a Focus with someone in it), by meeting row id.
    pub fn live_meetings(&self) -> Vec<crate::focus::LiveMeeting> {
        let mut out: Vec<_> = self
            .focuses
            .values()
            .filter(|f| !f.is_empty())
            .map(Focus::live)
            .collect();
        out.sort_by_key(|m| m.meeting.id);
        out
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<SwitchOutput> {
        self.out.pop_front()
    }

    /// The shell finished a piece of work.
    pub fn work_done(&mut self, id: WorkId, result: WorkResult, now: Instant) {
        self.clock = now;
        match (self.work.remove(&id), result) {
            (Some(Waiter::Call(call)), WorkResult::Ha1(ha1)) => self.authenticated(call, ha1, now),
            (Some(Waiter::Call(call)), WorkResult::Route(route)) => self.routed(call, route, now),
            (Some(Waiter::Call(call)), WorkResult::Media(port)) => {
                self.media_opened(call, port, now)
            }
            (Some(Waiter::Service(s)), WorkResult::Ha1(ha1)) => {
                self.service_authenticated(s, ha1, now)
            }
            (Some(Waiter::Service(s)), WorkResult::Service(answer)) => {
                self.service_answered(s, answer, now)
            }
            (Some(Waiter::Call(call)), WorkResult::Attendant(r)) => self.stepped(call, r, now),
            (Some(Waiter::Call(call)), WorkResult::Lookup(r, meeting)) => {
                self.looked_up(call, r, meeting, now)
            }
            (Some(Waiter::Call(call)), WorkResult::Passcode(r)) => {
                self.passcode_checked(call, r, now)
            }
            (Some(Waiter::Call(call)), WorkResult::Pin(r)) => self.pin_checked(call, r, now),
            (Some(Waiter::Call(call)), WorkResult::Admit(d)) => self.admitted(call, d, now),
            (Some(Waiter::Call(call)), WorkResult::Meeting(m)) => self.meeting_found(call, m, now),
            (Some(Waiter::Subscribe(s)), WorkResult::Ha1(ha1)) => {
                self.subscribe_authenticated(s, ha1, now)
            }
            (Some(Waiter::Subscribe(s)), WorkResult::Meeting(m)) => self.subscribe_found(s, m, now),
            _ => {}
        }
        self.drain(now);
    }

    fn drain(&mut self, now: Instant) {
        while let Some(o) = self.ep.poll_output() {
            match o {
                Output::Transmit(t) => self.out.push_back(SwitchOutput::Transmit(t)),
                Output::Event(e) => self.event(*e, now),
            }
        }
    }

    fn id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn srtp_key(&mut self) -> [u8; plenum_sdp::SRTP_KEY_LEN] {
        let n = self.id();
        derive_key(&self.config.auth_secret, n)
    }

    fn request_work(&mut self, call: CallId, work: Work) {
        self.request_work_for(Waiter::Call(call), work);
    }

    fn request_work_for(&mut self, waiter: Waiter, work: Work) {
        let id = WorkId(self.id());
        self.work.insert(id, waiter);
        self.out.push_back(SwitchOutput::Work(id, work));
    }

    fn event(&mut self, e: Event, now: Instant) {
        match e {
            Event::Request { tx, request, flow } => self.request(tx, request, flow, now),
            Event::Ack { tx, request, .. } => self.ack(tx, &request, now),
            Event::Cancelled { tx } => self.cancelled(tx, now),
            Event::NoAck { tx } => {
                if let Some(call) = self.by_tx.get(&tx).copied() {
                    self.hang_up(call, "no ACK", now);
                }
            }
            Event::Response { tx, response } => {
                if self.notify_tx.contains_key(&tx) {
                    self.notify_answered(tx, response.code, now);
                } else {
                    self.response(tx, &response, now);
                }
            }
            Event::Timeout { tx } => {
                if self.notify_tx.contains_key(&tx) {
                    self.notify_answered(tx, 408, now);
                } else if let Some(call) = self.by_client_tx.remove(&tx) {
                    self.hang_up(call, "session refresh timed out", now);
                }
            }
        }
    }

    fn refuse(&mut self, tx: ServerTxId, request: &Request, error: &SipError, now: Instant) {
        let tag = self.ep.new_tag();
        let r = error.response(request, Some(&tag));
        self.ep.respond(tx, r, now);
    }

    fn request(&mut self, tx: ServerTxId, request: Request, flow: Flow, now: Instant) {
        let in_dialog = request.field_to().ok().is_some_and(|t| t.tag().is_some());
        if in_dialog {
            self.in_dialog(tx, request, now);
            return;
        }
        match request.method {
            Method::Options => {
                let mut ok = compose::response(&request, 200, Some(&self.ep.new_tag()));
                ok.headers.push(HeaderName::ALLOW, ALLOW);
                ok.headers
                    .push(HeaderName::ACCEPT, "application/sdp, application/cccp+xml");
                ok.headers.push(HeaderName::SUPPORTED, "timer");
                self.ep.respond(tx, ok, now);
            }
            Method::Invite => self.invite(tx, request, flow, now),
            Method::Service => self.service(tx, request, now),
            Method::Subscribe => self.subscribe(tx, request, flow, now),
            Method::Bye | Method::Info | Method::Update | Method::Notify | Method::Prack => {
                self.refuse(tx, &request, &SipError::NoSuchCall, now)
            }
            Method::Message | Method::Register | Method::Publish | Method::Refer => self.refuse(
                tx,
                &request,
                &SipError::MethodNotAllowed { allow: ALLOW },
                now,
            ),
            _ => self.refuse(tx, &request, &SipError::NotImplemented, now),
        }
    }

    // ---- a new call ----

    fn invite(&mut self, tx: ServerTxId, invite: Request, flow: Flow, now: Instant) {
        let unsupported: Vec<String> = invite
            .option_tags(&HeaderName::REQUIRE)
            .into_iter()
            .filter(|t| t != "timer")
            .collect();
        if !unsupported.is_empty() {
            self.refuse(tx, &invite, &SipError::BadExtension { unsupported }, now);
            return;
        }
        if let Err(min) = SessionTimer::negotiate_uas(&invite, now) {
            self.refuse(tx, &invite, &SipError::IntervalTooSmall { min }, now);
            return;
        }
        let id = CallId(self.id());
        let local_tag = self.ep.new_tag();
        let call = Call {
            tx: Some(tx),
            invite,
            flow,
            caller: None,
            stage: Stage::Authenticating,
            number: None,
            port: None,
            session: None,
            late_offer: None,
            dialog: None,
            local_tag,
            realm: String::new(),
            refresh: None,
            routed: None,
            attendant: None,
            meeting: None,
            focus: None,
            keypad_armed: false,
            has_name: false,
            media_open: false,
            wait_until: None,
            settings: None,
        };
        self.calls.insert(id, call);
        self.by_tx.insert(tx, id);
        self.classify(id, now);
    }

    /// A gateway by address, else a user who must authenticate.
    fn classify(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(g) = self.directory.gateway(&call.flow) {
            call.caller = Some(Caller::Gateway {
                name: g.name.clone(),
                tenant: g.tenant.clone(),
                profile: g.profile.clone(),
                srtp: g.srtp,
            });
            self.route(id);
            return;
        }
        let Some(tenant) = sender_tenant(&self.directory, &call.invite) else {
            // Neither a gateway nor a user of any tenant: an unknown peer.
            self.fail(id, &SipError::Forbidden, "unknown peer", now);
            return;
        };
        call.realm = tenant.domain.clone();
        match digest_subject(&call.invite, &tenant.domain) {
            Some(work) => self.request_work(id, work),
            None => {
                let challenge = self.challenge(&tenant.domain, false, now);
                self.fail(id, &challenge, "challenged", now);
            }
        }
    }

    fn challenge(&self, realm: &str, stale: bool, now: Instant) -> SipError {
        SipError::AuthRequired {
            proxy: false,
            challenges: self.auth.challenges(realm, self.secs(now), stale),
        }
    }

    /// Check a request's credentials against the stored HA1: the user's URI and tenant, or
    /// what to answer (a fresh challenge for a stale nonce, else 403).
    fn verify_digest(
        &mut self,
        request: &Request,
        realm: &str,
        ha1: Option<String>,
        now: Instant,
    ) -> Result<(String, TenantId), (SipError, &'static str)> {
        let header = request
            .headers
            .get(&HeaderName::AUTHORIZATION)
            .unwrap_or_default();
        let method = request.method.to_string();
        let secs = self.secs(now);
        match self.auth.verify(header, &method, realm, secs, |_, _| ha1) {
            Ok(who) => {
                let tenant = self
                    .directory
                    .tenant_by_domain(realm)
                    .map(|t| t.id.clone())
                    .ok_or((SipError::Forbidden, "tenant vanished"))?;
                Ok((format!("sip:{}@{}", who.username, who.realm), tenant))
            }
            Err(AuthError::Stale) => Err((self.challenge(realm, true, now), "stale nonce")),
            Err(_) => Err((SipError::Forbidden, "authentication failed")),
        }
    }

    fn secs(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.created).as_secs() + 1
    }

    fn authenticated(&mut self, id: CallId, ha1: Option<String>, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let (invite, realm) = (call.invite.clone(), call.realm.clone());
        match self.verify_digest(&invite, &realm, ha1, now) {
            Ok((uri, tenant)) => {
                if let Some(call) = self.calls.get_mut(&id) {
                    call.caller = Some(Caller::User { uri, tenant });
                }
                self.route(id);
            }
            Err((error, reason)) => self.fail(id, &error, reason, now),
        }
    }

    // ---- SERVICE: the Focus Factory ----

    fn service(&mut self, tx: ServerTxId, request: Request, now: Instant) {
        let Some(target) = focus_factory_owner(&request.uri) else {
            // SERVICE goes to a Focus Factory; nothing else here takes it.
            self.refuse(tx, &request, &SipError::NotFound, now);
            return;
        };
        let c3p = request
            .content_type()
            .is_some_and(|t| t.eq_ignore_ascii_case(plenum_c3p::CONTENT_TYPE));
        if !c3p {
            let error = SipError::UnsupportedMediaType {
                accept: plenum_c3p::CONTENT_TYPE,
            };
            self.refuse(tx, &request, &error, now);
            return;
        }
        let Some(tenant) = sender_tenant(&self.directory, &request) else {
            self.refuse(tx, &request, &SipError::Forbidden, now);
            return;
        };
        let Some(work) = digest_subject(&request, &tenant.domain) else {
            let challenge = self.challenge(&tenant.domain, false, now);
            self.refuse(tx, &request, &challenge, now);
            return;
        };
        let id = self.id();
        self.services.insert(
            id,
            PendingService {
                tx,
                request,
                realm: tenant.domain,
                tenant: tenant.id,
                target,
            },
        );
        self.request_work_for(Waiter::Service(id), work);
    }

    fn service_authenticated(&mut self, id: u64, ha1: Option<String>, now: Instant) {
        let Some(pending) = self.services.get(&id) else {
            return;
        };
        let (request, realm) = (pending.request.clone(), pending.realm.clone());
        let (expected, target) = (pending.tenant.clone(), pending.target.clone());
        match self.verify_digest(&request, &realm, ha1, now) {
            Ok((requester, tenant)) if tenant == expected => {
                let work = Work::Service {
                    requester,
                    tenant,
                    target,
                    body: request.body.clone(),
                };
                self.request_work_for(Waiter::Service(id), work);
            }
            Ok(_) => self.service_refused(id, &SipError::Forbidden, now),
            Err((error, reason)) => {
                tracing::debug!(reason, "SERVICE refused");
                self.service_refused(id, &error, now);
            }
        }
    }

    fn service_refused(&mut self, id: u64, error: &SipError, now: Instant) {
        if let Some(p) = self.services.remove(&id) {
            self.refuse(p.tx, &p.request, error, now);
        }
    }

    fn service_answered(&mut self, id: u64, answer: ServiceAnswer, now: Instant) {
        let Some(p) = self.services.remove(&id) else {
            return;
        };
        let tag = self.ep.new_tag();
        let response = match answer {
            ServiceAnswer::C3p(c3p) => {
                let mut ok = compose::response(&p.request, 200, Some(&tag));
                ok.headers
                    .push(HeaderName::CONTENT_TYPE, plenum_c3p::CONTENT_TYPE);
                ok.body = Bytes::from(c3p.to_xml());
                ok
            }
            ServiceAnswer::Sip(error, diagnostic) => {
                let mut r = error.response(&p.request, Some(&tag));
                if let Some(d) = diagnostic {
                    r.headers
                        .push(HeaderName::parse(d.header_name()), d.header_value());
                }
                r
            }
        };
        self.ep.respond(p.tx, response, now);
    }

    fn route(&mut self, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.stage = Stage::Routing;
        // A SIP client calling a meeting's focus URI: no attendant, straight to admission.
        if let Some((organizer, conference_id)) = focus_of(&call.invite.uri) {
            if matches!(call.caller, Some(Caller::User { .. })) {
                self.request_work(
                    id,
                    Work::FindMeeting {
                        organizer,
                        conference_id,
                    },
                );
            } else {
                self.fail(
                    id,
                    &SipError::Forbidden,
                    "focus called by a gateway",
                    self.clock,
                );
            }
            return;
        }
        let number = call.invite.uri.user().unwrap_or_default();
        let calling = call.invite.field_from().ok().and_then(|f| f.uri.user());
        let work = match call.caller.clone() {
            Some(Caller::Gateway {
                tenant, profile, ..
            }) => Work::Route {
                tenant,
                profile: Some(profile),
                number,
                calling,
            },
            Some(Caller::User { tenant, .. }) => Work::Route {
                tenant,
                profile: None,
                number,
                calling,
            },
            None => return,
        };
        self.request_work(id, work);
    }

    fn routed(&mut self, id: CallId, route: Route, now: Instant) {
        match route {
            Route::NotFound => self.fail(id, &SipError::NotFound, "no such number", now),
            Route::AccessNumber(routed) => {
                if let Some(call) = self.calls.get_mut(&id) {
                    call.number = Some(routed.number.clone());
                    call.settings = Some(Box::new(routed.settings.clone()));
                    call.routed = Some(routed);
                    call.stage = Stage::OpeningMedia;
                }
                self.request_work(id, Work::OpenMedia { call: id });
            }
        }
    }

    fn media_opened(&mut self, id: CallId, port: Option<u16>, now: Instant) {
        let Some(port) = port else {
            self.fail(
                id,
                &SipError::Overloaded { retry_after: 10 },
                "no media port",
                now,
            );
            return;
        };
        let key = self.srtp_key();
        let Some(call) = self.calls.get_mut(&id) else {
            // The call ended while the port was being opened.
            self.out.push_back(SwitchOutput::Work(
                WorkId(0),
                Work::CloseMedia { call: id, port },
            ));
            return;
        };
        call.port = Some(port);
        let srtp = match &call.caller {
            Some(Caller::Gateway { srtp: true, .. }) => SrtpPolicy::Required,
            Some(Caller::Gateway { srtp: false, .. }) => SrtpPolicy::Off,
            _ => SrtpPolicy::Optional,
        };
        let mut local = LocalMedia::new(media_ip(call.flow), port, id.0 ^ 0x5eed_0000);
        local.srtp = srtp;
        let mut session = Session::new(local);
        let mut keys = move || key;
        let (body, late) = if call.invite.body.is_empty() {
            let offer = session.offer(plenum_sdp::Direction::SendRecv, &mut keys);
            (offer.sdp().to_owned(), Some(offer))
        } else {
            match session.answer(&call.invite.body, &mut keys) {
                Ok(a) => (a.sdp, None),
                Err(rejection) => {
                    let w = rejection.warning();
                    let warning = format!("{} plenum \"{}\"", w.code, w.text);
                    self.fail(
                        id,
                        &SipError::NotAcceptable { warning },
                        "media refused",
                        now,
                    );
                    return;
                }
            }
        };
        self.answer(id, session, body, late, now);
    }

    fn answer(
        &mut self,
        id: CallId,
        session: Session,
        body: String,
        late: Option<Offer>,
        now: Instant,
    ) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(tx) = call.tx else { return };
        let contact = contact_uri(call.flow);
        let mut ok = compose::response(&call.invite, 200, Some(&call.local_tag));
        ok.headers
            .push(HeaderName::CONTACT, format!("<{contact}>;isfocus"));
        ok.headers.push(HeaderName::ALLOW, ALLOW);
        ok.headers.push(HeaderName::SUPPORTED, "timer");
        ok.headers.push(HeaderName::CONTENT_TYPE, "application/sdp");
        ok.body = Bytes::from(body);
        let Ok(mut dialog) = Dialog::uas(&call.invite, &call.local_tag, &contact, call.flow) else {
            self.fail(
                id,
                &SipError::Malformed(plenum_sip::ParseError::Header("From")),
                "bad dialog",
                now,
            );
            return;
        };
        if let Ok(Some(timer)) = SessionTimer::negotiate_uas(&call.invite, now) {
            session_timer_headers(&call.invite, &timer, &mut ok);
            dialog.session_timer = Some(timer);
            self.timers.push(Reverse((timer.deadline(), id)));
        }
        self.by_dialog.insert(dialog.id.clone(), id);
        call.dialog = Some(dialog);
        call.session = Some(session);
        call.late_offer = late;
        call.stage = Stage::Answered;
        let note = CallNote::Answered {
            call: id,
            number: call.number.as_ref().map(E164::redacted).unwrap_or_default(),
            caller: call.caller.as_ref().map(Caller::label).unwrap_or_default(),
        };
        self.ep.respond(tx, ok, now);
        self.out.push_back(SwitchOutput::Note(note));
        self.open_media(id);
    }

    /// Refuse a pending call and forget it.
    fn fail(&mut self, id: CallId, error: &SipError, reason: &'static str, now: Instant) {
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        if let Some(tx) = call.tx {
            self.by_tx.remove(&tx);
            let r = error.response(&call.invite, Some(&call.local_tag));
            self.ep.respond(tx, r, now);
        }
        if let Some(port) = call.port {
            self.out.push_back(SwitchOutput::Work(
                WorkId(0),
                Work::CloseMedia { call: id, port },
            ));
        }
        tracing::debug!(call = id.0, status = error.status(), reason, "call refused");
    }

    fn cancelled(&mut self, tx: ServerTxId, now: Instant) {
        let Some(id) = self.by_tx.get(&tx).copied() else {
            if let Some(invite) = self.ep.invite_request(tx).cloned() {
                let r = compose::response(&invite, 487, Some(&self.ep.new_tag()));
                self.ep.respond(tx, r, now);
            }
            return;
        };
        let pending = self
            .calls
            .get(&id)
            .is_some_and(|c| c.stage < Stage::Answered);
        if pending {
            let Some(call) = self.calls.get(&id) else {
                return;
            };
            let r = compose::response(&call.invite, 487, Some(&call.local_tag));
            self.ep.respond(tx, r, now);
            self.forget(id, "cancelled");
        }
    }

    fn ack(&mut self, tx: Option<ServerTxId>, ack: &Request, now: Instant) {
        let id = tx.and_then(|t| self.by_tx.get(&t).copied()).or_else(|| {
            DialogId::of_request(ack)
                .ok()
                .and_then(|d| self.by_dialog.get(&d).copied())
        });
        let Some(id) = id else { return };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.stage != Stage::Answered {
            return;
        }
        call.stage = Stage::Confirmed;
        if let Some(t) = call.tx.take() {
            self.by_tx.remove(&t);
        }
        if let (Some(offer), Some(session)) = (call.late_offer.take(), call.session.as_mut()) {
            if session.accept(&offer, &ack.body).is_err() {
                self.hang_up(id, "late-offer answer refused", now);
                return;
            }
            self.open_media(id);
        }
        self.confirmed(id, now);
    }

    // ---- established calls ----

    fn in_dialog(&mut self, tx: ServerTxId, request: Request, now: Instant) {
        if let Some(sub) = DialogId::of_request(&request)
            .ok()
            .and_then(|d| self.sub_by_dialog.get(&d).copied())
        {
            self.subscription_request(sub, tx, &request, now);
            return;
        }
        let id = DialogId::of_request(&request)
            .ok()
            .and_then(|d| self.by_dialog.get(&d).copied());
        let Some(id) = id else {
            self.refuse(tx, &request, &SipError::NoSuchCall, now);
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(dialog) = call.dialog.as_mut() else {
            return;
        };
        if let Err(e) = dialog.on_request(&request) {
            self.refuse(tx, &request, &SipError::from(e), now);
            return;
        }
        match request.method {
            Method::Bye => {
                let ok = compose::response(&request, 200, None);
                self.ep.respond(tx, ok, now);
                self.forget(id, "hung up by the peer");
            }
            Method::Invite => self.reinvite(id, tx, &request, now),
            Method::Update => {
                dialog.session_refreshed(now);
                self.rearm(id);
                let ok = compose::response(&request, 200, None);
                self.ep.respond(tx, ok, now);
            }
            Method::Info => {
                // DTMF in INFO (many PBXs): the media engine reads it and merges it with the
                // RFC 4733 copy of the same press.
                if let Some(t) = request.content_type()
                    && call.media_open
                    && !request.body.is_empty()
                {
                    self.out.push_back(SwitchOutput::Media(MediaOrder::Info {
                        call: id,
                        content_type: t.to_owned(),
                        body: request.body.clone(),
                    }));
                }
                let ok = compose::response(&request, 200, None);
                self.ep.respond(tx, ok, now);
            }
            Method::Options | Method::Notify => {
                let ok = compose::response(&request, 200, None);
                self.ep.respond(tx, ok, now);
            }
            _ => self.refuse(
                tx,
                &request,
                &SipError::MethodNotAllowed { allow: ALLOW },
                now,
            ),
        }
    }

    fn reinvite(&mut self, id: CallId, tx: ServerTxId, request: &Request, now: Instant) {
        let key = self.srtp_key();
        let mut keys = move || key;
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let (Some(dialog), Some(session)) = (call.dialog.as_mut(), call.session.as_mut()) else {
            return;
        };
        dialog.refresh_target(request);
        let result = if request.body.is_empty() {
            // An offerless re-INVITE: we offer (our current direction) and read the answer in
            // the ACK. Keep it simple: repeat our last description.
            Ok(session
                .offer(plenum_sdp::Direction::SendRecv, &mut keys)
                .sdp()
                .to_owned())
        } else {
            session.answer(&request.body, &mut keys).map(|a| a.sdp)
        };
        dialog.answered_reinvite();
        dialog.session_refreshed(now);
        match result {
            Ok(sdp) => {
                let mut ok = compose::response(request, 200, None);
                ok.headers.push(
                    HeaderName::CONTACT,
                    format!("<{}>;isfocus", dialog.contact()),
                );
                if let Some(t) = &dialog.session_timer {
                    ok.headers.push(HeaderName::SESSION_EXPIRES, t.header());
                }
                ok.headers.push(HeaderName::CONTENT_TYPE, "application/sdp");
                ok.body = Bytes::from(sdp);
                let media = session.media().cloned();
                self.ep.respond(tx, ok, now);
                self.rearm(id);
                if let Some(media) = media {
                    self.out.push_back(SwitchOutput::Media(MediaOrder::Update {
                        call: id,
                        media: Box::new(media),
                    }));
                }
            }
            Err(rejection) => {
                let w = rejection.warning();
                let warning = format!("{} plenum \"{}\"", w.code, w.text);
                self.refuse(tx, request, &SipError::NotAcceptable { warning }, now);
            }
        }
    }

    fn rearm(&mut self, id: CallId) {
        if let Some(t) = self
            .calls
            .get(&id)
            .and_then(|c| c.dialog.as_ref())
            .and_then(|d| d.session_timer)
        {
            self.timers.push(Reverse((t.deadline(), id)));
        }
    }

    fn session_timer(&mut self, id: CallId, at: Instant, now: Instant) {
        let key = self.srtp_key();
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(dialog) = call.dialog.as_mut() else {
            return;
        };
        let Some(timer) = dialog.session_timer else {
            return;
        };
        if timer.deadline() != at {
            return; // refreshed since this entry was queued
        }
        match timer.poll(now) {
            Some(TimerAction::Expire) => self.hang_up(id, "session timer expired", now),
            Some(TimerAction::Refresh) => {
                let Some(session) = call.session.as_mut() else {
                    return;
                };
                let mut keys = move || key;
                let offer = session.offer(plenum_sdp::Direction::SendRecv, &mut keys);
                let req = dialog.request(
                    Method::Invite,
                    Some(("application/sdp", Bytes::from(offer.sdp().to_owned()))),
                );
                let mut req = req;
                req.headers
                    .push(HeaderName::SESSION_EXPIRES, timer.header());
                call.late_offer = Some(offer);
                let flow = dialog.flow;
                let ctx = self.ep.send_request(req, flow, now);
                call.refresh = Some(ctx);
                self.by_client_tx.insert(ctx, id);
            }
            None => self.rearm(id),
        }
    }

    fn response(&mut self, tx: ClientTxId, response: &Response, now: Instant) {
        let Some(id) = self.by_client_tx.get(&tx).copied() else {
            return;
        };
        if response.code < 200 {
            return;
        }
        self.by_client_tx.remove(&tx);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.refresh != Some(tx) {
            return;
        }
        call.refresh = None;
        let Some(dialog) = call.dialog.as_mut() else {
            return;
        };
        dialog.reinvite_done();
        if (200..300).contains(&response.code) {
            let cseq = response.cseq().map(|c| c.number).unwrap_or_default();
            let ack = dialog.ack(cseq);
            dialog.session_refreshed(now);
            let flow = dialog.flow;
            if let (Some(offer), Some(session)) = (call.late_offer.take(), call.session.as_mut()) {
                let _ = session.accept(&offer, &response.body);
            }
            self.ep.send_request(ack, flow, now);
            self.rearm(id);
        } else if response.code == 491 {
            // Glare on our refresh: try again after a moment (§14.1: 2.1–4 s for the owner).
            self.timers
                .push(Reverse((now + Duration::from_secs(3), id)));
        } else {
            self.hang_up(id, "session refresh refused", now);
        }
    }

    /// End an established call from our side (BYE) and forget it.
    fn hang_up(&mut self, id: CallId, reason: &'static str, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(dialog) = call.dialog.as_mut() {
            let bye = dialog.request(Method::Bye, None);
            let flow = dialog.flow;
            self.ep.send_request(bye, flow, now);
        }
        self.forget(id, reason);
    }

    fn forget(&mut self, id: CallId, reason: &'static str) {
        self.leave_conference(id, reason);
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        if call.media_open {
            self.out
                .push_back(SwitchOutput::Media(MediaOrder::Close { call: id }));
        }
        if let Some(tx) = call.tx {
            self.by_tx.remove(&tx);
        }
        if let Some(d) = &call.dialog {
            self.by_dialog.remove(&d.id);
        }
        if let Some(port) = call.port {
            self.out.push_back(SwitchOutput::Work(
                WorkId(0),
                Work::CloseMedia { call: id, port },
            ));
        }
        self.work.retain(|_, w| *w != Waiter::Call(id));
        self.out
            .push_back(SwitchOutput::Note(CallNote::Ended { call: id, reason }));
    }
}

mod dialin;
mod roster;

/// Our Contact URI on a flow.
fn contact_uri(flow: Flow) -> String {
    let transport = match flow.transport {
        Transport::Udp => "",
        Transport::Tcp => ";transport=tcp",
    };
    format!("sip:plenum@{}{transport}", flow.local)
}

/// The address media is offered on: the one the call's signalling arrived at.
fn media_ip(flow: Flow) -> IpAddr {
    flow.local.ip()
}

/// An SRTP master key and salt: derived from the process secret and a counter with SHA-256,
/// so that it is unpredictable without the secret (which comes from the OS random source) while
/// the core stays free of I/O.
fn derive_key(secret: &[u8; 32], counter: u64) -> [u8; plenum_sdp::SRTP_KEY_LEN] {
    use sha2::{Digest, Sha256};
    let a = Sha256::new()
        .chain_update(secret)
        .chain_update(b"srtp-a")
        .chain_update(counter.to_be_bytes())
        .finalize();
    let b = Sha256::new()
        .chain_update(secret)
        .chain_update(b"srtp-b")
        .chain_update(counter.to_be_bytes())
        .finalize();
    let mut out = [0u8; plenum_sdp::SRTP_KEY_LEN];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = if i < 16 {
            a.get(i).copied().unwrap_or(0)
        } else {
            b.get(i - 16).copied().unwrap_or(0)
        };
    }
    out
}

/// The Ha1 work for a request's credentials, when they are for `realm`.
fn digest_subject(request: &Request, realm: &str) -> Option<Work> {
    let header = request.headers.get(&HeaderName::AUTHORIZATION)?;
    let (username, r, algorithm) = auth::credentials_subject(header)?;
    (r == realm).then_some(Work::Ha1 {
        username,
        realm: r,
        algorithm,
    })
}

/// `sip:user@host` of a Focus Factory URI (`sip:user@host;gruu;opaque=app:conf:focusfactory`).
fn focus_factory_owner(uri: &Uri) -> Option<String> {
    let text = uri.to_string();
    let mut parts = text.split(';');
    let base = parts.next()?;
    let opaque = parts.find_map(|p| p.strip_prefix("opaque="))?;
    (opaque == FOCUS_FACTORY && base.starts_with("sip:") && base.contains('@'))
        .then(|| base.to_owned())
}

/// The tenant whose SIP domain the From URI names.
fn sender_tenant(
    directory: &Directory,
    request: &Request,
) -> Option<crate::directory::TenantEntry> {
    let domain = request.field_from().ok().and_then(|f| match &f.uri {
        Uri::Sip(s) => Some(s.host_port.host.to_string()),
        Uri::Tel(_) => None,
    })?;
    directory.tenant_by_domain(&domain).cloned()
}

/// The organizer (`sip:user@host`) and conference ID of a focus URI
/// (`sip:user@host;gruu;opaque=app:conf:focus:id:ID`).
pub(crate) fn focus_of(uri: &Uri) -> Option<(String, String)> {
    let text = uri.to_string();
    let mut parts = text.split(';');
    let base = parts.next()?;
    let id = parts
        .find_map(|p| p.strip_prefix("opaque="))?
        .strip_prefix(crate::focus_factory::FOCUS_PREFIX)?;
    (base.starts_with("sip:") && base.contains('@') && !id.is_empty())
        .then(|| (base.to_owned(), id.to_owned()))
}
