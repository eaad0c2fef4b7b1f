//! The Focus Factory service: C3P requests (SIP SERVICE to an organizer's
//! `;gruu;opaque=app:conf:focusfactory`) in, C3P responses or SIP errors out.
//!
//! The tenant's focus-factory plugin decides capabilities and validates and completes meetings;
//! its meeting-policy plugin gives the rules and judges passcodes; this service checks what the
//! plugins return (a plugin can be wrong, never the stored data), assigns the PSTN conference
//! ID (the plugin's base plus our Luhn check digit, unique in the pool), hashes the passcode,
//! stores, and answers. It reaches the pool and the plugins only through [`Backend`], so it is
//! the same code over SQLite and the Wasm runtime in production and over fakes in tests.

use plenum_c3p::{
    AccessNumber as C3pNumber, AdmissionPolicy as C3pAdmission, Answer,
    Capabilities as C3pCapabilities, Command, CommandName, ConfUri, Conference, ConferenceKey,
    Diagnostic, FailureReason, McuType, Passcode, PstnAccess, PstnBridging, Region,
    Request as C3pRequest, Response as C3pResponse, ResponseCommand, SchedulingOptions,
};
use plenum_plugin_api::focus::{
    Capabilities, ConferencePlan, ConferenceRequest, Organizer, Refusal, RefusalReason,
    ScheduleContext,
};
use plenum_plugin_api::policy::MeetingSettings;
use plenum_plugin_api::types::{AccessNumber, AdmissionPolicy, Tenant, Verdict};
use plenum_sip::error::SipError;
use plenum_types::{PstnId, Secret, TenantId};

/// Who sent the request (authenticated by SIP digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    /// SIP URI, e.g. `sip:alice@contoso.example`.
    pub uri: String,
    /// Tenant.
    pub tenant: TenantId,
}

/// A user who may organize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizerFacts {
    /// SIP URI.
    pub uri: String,
    /// Tenant.
    pub tenant: TenantId,
    /// Display name.
    pub display_name: String,
    /// Whether the user may schedule meetings.
    pub is_organizer: bool,
    /// The dial-in region of the user's location profile.
    pub region: Option<String>,
}

/// A tenant, as the service needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFacts {
    /// Id.
    pub id: TenantId,
    /// SIP domain.
    pub domain: String,
    /// Dial-in offered.
    pub pstn_enabled: bool,
}

/// A stored meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// Row id.
    pub id: i64,
    /// Tenant.
    pub tenant: TenantId,
    /// Organizer URI.
    pub organizer: String,
    /// `msci:conference-id`.
    pub conference_id: String,
    /// Subject.
    pub subject: String,
    /// PSTN conference ID (check digit included).
    pub pstn_id: Option<String>,
    /// Whether it has a passcode.
    pub has_passcode: bool,
    /// Admission policy.
    pub admission: AdmissionPolicy,
    /// Lobby bypass for PSTN callers.
    pub lobby_bypass: bool,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
    /// Revision (optimistic lock), from 1.
    pub revision: u64,
    /// Last change (Unix seconds).
    pub updated_at: i64,
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A unique value is taken (`"pstn id"` or `"conference id"`).
    Conflict(&'static str),
    /// The revision moved on.
    Stale,
    /// Anything else (logged, answered `otherFailure`).
    Other(String),
}

/// What the service needs from the pool and the plugins.
pub trait Backend {
    /// A user by SIP URI.
    fn organizer(&self, uri: &str) -> Option<OrganizerFacts>;
    /// A tenant.
    fn tenant(&self, id: &TenantId) -> Option<TenantFacts>;
    /// The tenant's access numbers.
    fn access_numbers(&self, tenant: &TenantId) -> Vec<AccessNumber>;
    /// The tenant's meeting settings (policy plugin, with its failure policy).
    fn settings(&self, tenant: &TenantId) -> MeetingSettings;
    /// Judge a passcode (policy plugin).
    fn check_passcode(&self, tenant: &TenantId, passcode: &str, pstn: bool) -> Verdict;
    /// getConferencingCapabilities (focus-factory plugin).
    fn get_capabilities(
        &self,
        tenant: &TenantId,
        ctx: &ScheduleContext,
    ) -> Result<Capabilities, Refusal>;
    /// addConference (focus-factory plugin).
    fn complete_add(
        &self,
        tenant: &TenantId,
        ctx: &ScheduleContext,
        req: &ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal>;
    /// modifyConference (focus-factory plugin).
    fn complete_modify(
        &self,
        tenant: &TenantId,
        ctx: &ScheduleContext,
        current: &ConferencePlan,
        req: &ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal>;
    /// The organizer's meetings that have not expired.
    fn meetings_of(&self, organizer: &str, now: i64) -> Vec<Meeting>;
    /// One meeting of an organizer.
    fn meeting(&self, organizer: &str, conference_id: &str) -> Option<Meeting>;
    /// A fresh number for a PSTN conference ID.
    fn next_pstn_sequence(&self) -> Option<u64>;
    /// Store a new meeting (the passcode hashed); its row id.
    fn insert(&self, meeting: &Meeting, passcode: Option<&Secret>) -> Result<i64, StoreError>;
    /// Store a change (`meeting.revision` is the expected one); the new revision. A passcode
    /// of `Some(..)` replaces the stored one.
    fn update(&self, meeting: &Meeting, passcode: Option<&Secret>) -> Result<u64, StoreError>;
    /// Delete a meeting.
    fn delete(&self, meeting: &Meeting) -> Result<(), StoreError>;
    /// 32 random bytes.
    fn entropy(&self) -> [u8; 32];
    /// Now, Unix seconds.
    fn now(&self) -> i64;
    /// Record an event in the audit log.
    fn audit(
        &self,
        tenant: &TenantId,
        event: &'static str,
        meeting: Option<i64>,
        subject: &str,
        detail: &str,
    );
}

/// What the SIP layer sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAnswer {
    /// 200 OK with this C3P response (success or failure).
    C3p(Box<C3pResponse>),
    /// A SIP error, with an ms-diagnostics header when there is one.
    Sip(SipError, Option<Diagnostic>),
}

/// The opaque parameter of a Focus Factory URI.
pub const FOCUS_FACTORY: &str = "app:conf:focusfactory";
/// The opaque prefix of a focus (conference) URI.
pub const FOCUS_PREFIX: &str = "app:conf:focus:id:";

/// The focus URI of a meeting.
pub fn focus_uri(organizer: &str, conference_id: &str) -> String {
    format!("{organizer};gruu;opaque={FOCUS_PREFIX}{conference_id}")
}

/// The audio-video MCU URI of a meeting (c3p.md §1.2).
pub fn mcu_uri(organizer: &str, conference_id: &str) -> String {
    format!("{organizer};gruu;opaque=app:conf:audio-video:id:{conference_id}")
}

/// Answer one SERVICE. `target_user` is the organizer named by the Request-URI (the Focus
/// Factory is the organizer's GRUU); `requester` is who authenticated.
pub fn handle(
    backend: &dyn Backend,
    requester: &Requester,
    target_user: &str,
    body: &[u8],
) -> ServiceAnswer {
    let request = match C3pRequest::parse(body) {
        Ok(r) => r,
        Err(e) => {
            return match e.answer() {
                Answer::Sip(d) => ServiceAnswer::Sip(diagnostic_status(d), Some(d)),
                Answer::C3p(r) => ServiceAnswer::C3p(r),
                _ => ServiceAnswer::Sip(
                    diagnostic_status(Diagnostic::ParseFailure),
                    Some(Diagnostic::ParseFailure),
                ),
            };
        }
    };
    let env = request.envelope();
    // The Focus Factory is the organizer's own: nobody schedules for someone else, and the C3P
    // `from` is who authenticated.
    if !same_uri(&requester.uri, target_user) {
        return ServiceAnswer::Sip(SipError::Forbidden, Some(Diagnostic::AuthorizationFailed));
    }
    if !same_uri(&env.from, &requester.uri) {
        return ServiceAnswer::Sip(SipError::Forbidden, Some(Diagnostic::BadFrom));
    }
    let Some(org) = backend
        .organizer(&requester.uri)
        .filter(|o| o.tenant == requester.tenant)
    else {
        return ServiceAnswer::Sip(SipError::Forbidden, Some(Diagnostic::InvalidTargetUser));
    };
    let Some(tenant) = backend.tenant(&org.tenant) else {
        return ServiceAnswer::Sip(SipError::Forbidden, Some(Diagnostic::InvalidTargetUser));
    };
    let s = Service {
        backend,
        org: &org,
        tenant: &tenant,
    };
    let name = request.command.name();
    match s.run(request.command) {
        Ok(cmd) => ServiceAnswer::C3p(Box::new(C3pResponse::success(&env, cmd))),
        Err(reason) => ServiceAnswer::C3p(Box::new(C3pResponse::failure(&env, name, reason))),
    }
}

/// The SIP status for a diagnostic of a request we cannot take.
fn diagnostic_status(d: Diagnostic) -> SipError {
    match d {
        Diagnostic::CommandNotImplemented => SipError::NotImplemented,
        Diagnostic::AuthorizationFailed => SipError::Forbidden,
        _ => SipError::Malformed(plenum_sip::ParseError::Header("C3P body")),
    }
}

fn same_uri(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split(';')
            .next()
            .unwrap_or(s)
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_ascii_lowercase()
    };
    norm(a) == norm(b)
}

struct Service<'a> {
    backend: &'a dyn Backend,
    org: &'a OrganizerFacts,
    tenant: &'a TenantFacts,
}

type Step<T> = Result<T, FailureReason>;

impl Service<'_> {
    fn run(&self, command: Command) -> Step<ResponseCommand> {
        match command {
            Command::GetConferencingCapabilities => self.capabilities(),
            Command::GetAvailableMcuTypes => Ok(ResponseCommand::GetAvailableMcuTypes(vec![
                McuType::AudioVideo,
            ])),
            Command::AddConference(c) => self.add(&c),
            Command::GetConference(key) => self
                .get(&key)
                .map(|m| ResponseCommand::GetConference(self.view(&m, None))),
            Command::ModifyConference(c) => self.modify(&c),
            Command::DeleteConference(key) => self.delete(&key),
            Command::GetConferences { .. } => {
                let now = self.backend.now();
                let list = self
                    .backend
                    .meetings_of(&self.org.uri, now)
                    .iter()
                    .map(|m| self.view(m, None))
                    .collect();
                Ok(ResponseCommand::GetConferences(list))
            }
        }
    }

    fn context(&self, settings: MeetingSettings, pstn_sequence: u64) -> ScheduleContext {
        let now = self.backend.now();
        ScheduleContext {
            tenant: Tenant::new(self.tenant.id.as_str(), &self.tenant.domain),
            organizer: Organizer {
                uri: self.org.uri.clone(),
                display_name: self.org.display_name.clone(),
                region: self.org.region.clone(),
            },
            now,
            pstn_enabled: self.tenant.pstn_enabled,
            access_numbers: self.backend.access_numbers(&self.tenant.id),
            organizer_meetings: u32::try_from(self.backend.meetings_of(&self.org.uri, now).len())
                .unwrap_or(u32::MAX),
            settings,
            entropy: self.backend.entropy().to_vec(),
            pstn_sequence,
        }
    }

    fn capabilities(&self) -> Step<ResponseCommand> {
        let settings = self.backend.settings(&self.tenant.id);
        let ctx = self.context(settings, 0);
        let caps = self
            .backend
            .get_capabilities(&self.tenant.id, &ctx)
            .map_err(|r| reason(r.reason))?;
        Ok(ResponseCommand::GetConferencingCapabilities(
            c3p_capabilities(caps),
        ))
    }

    fn add(&self, c: &Conference) -> Step<ResponseCommand> {
        if !self.org.is_organizer {
            return Err(FailureReason::Unauthorized);
        }
        let settings = self.backend.settings(&self.tenant.id);
        let request = conference_request(c);
        for _ in 0..4 {
            let seq = self
                .backend
                .next_pstn_sequence()
                .ok_or(FailureReason::OtherFailure)?;
            let ctx = self.context(settings.clone(), seq);
            let plan = self
                .backend
                .complete_add(&self.tenant.id, &ctx, &request)
                .map_err(|r| reason(r.reason))?;
            let (meeting, passcode) = self.checked(&plan, &settings, ctx.now, None)?;
            match self.backend.insert(&meeting, passcode.as_ref()) {
                Ok(id) => {
                    let meeting = Meeting { id, ..meeting };
                    self.backend.audit(
                        &self.tenant.id,
                        "conference-created",
                        Some(id),
                        &self.org.uri,
                        &meeting.conference_id,
                    );
                    let view = self.view(&meeting, plan.passcode.as_deref());
                    return Ok(ResponseCommand::AddConference(view));
                }
                // Another meeting took that PSTN ID first: take the next number.
                Err(StoreError::Conflict("pstn id")) => continue,
                Err(StoreError::Conflict(_)) => return Err(FailureReason::ConferenceExists),
                Err(_) => return Err(FailureReason::OtherFailure),
            }
        }
        Err(FailureReason::OtherFailure)
    }

    /// What the host enforces whatever the plugin said: the meeting ID's shape, a PSTN base of
    /// digits (we add the check digit), a passcode of digits within the policy for dial-in
    /// meetings, an expiry in the future and within the policy.
    fn checked(
        &self,
        plan: &ConferencePlan,
        settings: &MeetingSettings,
        now: i64,
        current: Option<&Meeting>,
    ) -> Step<(Meeting, Option<Secret>)> {
        let id_ok = (8..=32).contains(&plan.conference_id.len())
            && plan
                .conference_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric());
        if !id_ok {
            return Err(FailureReason::InvalidConferenceId);
        }
        let pstn_id = match (
            current.and_then(|m| m.pstn_id.clone()),
            plan.pstn_access,
            &plan.pstn_base,
        ) {
            (Some(existing), true, _) => Some(existing),
            (None, true, Some(base)) if (1..=15).contains(&base.len()) => Some(
                PstnId::from_base(base)
                    .map_err(|_| FailureReason::OtherFailure)?
                    .to_string(),
            ),
            (_, true, _) => return Err(FailureReason::OtherFailure),
            (_, false, _) => None,
        };
        if plan.pstn_access && !self.tenant.pstn_enabled {
            return Err(FailureReason::NotSupported);
        }
        if let Some(p) = &plan.passcode {
            if plan.pstn_access && !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FailureReason::InvalidPasscode);
            }
            if let Verdict::Reject(_) =
                self.backend
                    .check_passcode(&self.tenant.id, p, plan.pstn_access)
            {
                return Err(FailureReason::InvalidPasscode);
            }
        } else if plan.pstn_access
            && settings.passcode.required
            && !current.is_some_and(|m| m.has_passcode)
        {
            return Err(FailureReason::InvalidPasscode);
        }
        if plan.expiry <= now
            || plan.expiry > now.saturating_add(i64::from(settings.max_expiry_secs))
        {
            return Err(FailureReason::InvalidExpiryTime);
        }
        if plan.lobby_bypass && !settings.lobby_bypass_allowed {
            return Err(FailureReason::PstnLobbyBypassNotAllowed);
        }
        let meeting = Meeting {
            id: current.map_or(0, |m| m.id),
            tenant: self.tenant.id.clone(),
            organizer: self.org.uri.clone(),
            conference_id: plan.conference_id.clone(),
            subject: plan.subject.chars().take(256).collect(),
            pstn_id,
            has_passcode: plan.passcode.is_some() || current.is_some_and(|m| m.has_passcode),
            admission: plan.admission,
            lobby_bypass: plan.lobby_bypass,
            expires_at: plan.expiry,
            revision: current.map_or(1, |m| m.revision),
            updated_at: now,
        };
        Ok((meeting, plan.passcode.clone().map(Secret::new)))
    }

    fn find(&self, key: &ConferenceKey) -> Step<Meeting> {
        let id = match key {
            ConferenceKey::ConferenceId(id) => id.clone(),
            ConferenceKey::Entity(entity) => self.conference_id_of(entity)?,
        };
        self.backend
            .meeting(&self.org.uri, &id)
            .ok_or(FailureReason::ConferenceDoesNotExist)
    }

    /// The conference ID in a focus URI of this organizer's.
    fn conference_id_of(&self, entity: &str) -> Step<String> {
        let (base, id) = entity
            .split_once(";gruu;opaque=")
            .ok_or(FailureReason::ConferenceDoesNotExist)?;
        // Another organizer's conference: the URI names its owner, so saying so reveals nothing.
        if !same_uri(base, &self.org.uri) {
            return Err(FailureReason::Unauthorized);
        }
        id.strip_prefix(FOCUS_PREFIX)
            .map(str::to_owned)
            .ok_or(FailureReason::ConferenceDoesNotExist)
    }

    fn get(&self, key: &ConferenceKey) -> Step<Meeting> {
        let m = self.find(key)?;
        if m.expires_at <= self.backend.now() {
            return Err(FailureReason::ConferenceDoesNotExist);
        }
        Ok(m)
    }

    fn modify(&self, c: &Conference) -> Step<ResponseCommand> {
        let current = self.get(&ConferenceKey::Entity(c.entity.clone()))?;
        if c.version.map(u64::from) != Some(current.revision) {
            return Err(FailureReason::InvalidVersion);
        }
        let settings = self.backend.settings(&self.tenant.id);
        let ctx = self.context(settings.clone(), 0);
        let plan_now = plan_of(&current);
        let mut request = conference_request(c);
        // An absent msci:pstn-access in a modify keeps dial-in as it is.
        if c.pstn_access.is_none() {
            request.pstn_access = current.pstn_id.is_some();
        }
        let plan = self
            .backend
            .complete_modify(&self.tenant.id, &ctx, &plan_now, &request)
            .map_err(|r| reason(r.reason))?;
        if plan.conference_id != current.conference_id {
            return Err(FailureReason::InvalidConferenceId);
        }
        let (meeting, passcode) = self.checked(&plan, &settings, ctx.now, Some(&current))?;
        let revision = match self.backend.update(&meeting, passcode.as_ref()) {
            Ok(r) => r,
            Err(StoreError::Stale) => return Err(FailureReason::InvalidVersion),
            Err(_) => return Err(FailureReason::OtherFailure),
        };
        self.backend.audit(
            &self.tenant.id,
            "conference-modified",
            Some(meeting.id),
            &self.org.uri,
            &meeting.conference_id,
        );
        let view = self.view(
            &Meeting {
                revision,
                ..meeting
            },
            plan.passcode.as_deref(),
        );
        Ok(ResponseCommand::ModifyConference(view))
    }

    fn delete(&self, key: &ConferenceKey) -> Step<ResponseCommand> {
        let m = self.find(key)?;
        self.backend
            .delete(&m)
            .map_err(|_| FailureReason::OtherFailure)?;
        self.backend.audit(
            &self.tenant.id,
            "conference-deleted",
            Some(m.id),
            &self.org.uri,
            &m.conference_id,
        );
        Ok(ResponseCommand::DeleteConference {
            entity: focus_uri(&m.organizer, &m.conference_id),
        })
    }

    /// A stored meeting as C3P conference-info; the passcode only when just chosen.
    fn view(&self, m: &Meeting, passcode: Option<&str>) -> Conference {
        let entity = focus_uri(&m.organizer, &m.conference_id);
        Conference {
            entity: entity.clone(),
            version: u32::try_from(m.revision).ok(),
            subject: Some(m.subject.clone()),
            conf_uris: vec![
                ConfUri {
                    uri: entity,
                    display_text: None,
                    purpose: Some("focus".into()),
                },
                ConfUri {
                    uri: mcu_uri(&m.organizer, &m.conference_id),
                    display_text: Some("audio-video".into()),
                    purpose: Some("audio-video".into()),
                },
            ],
            conference_id: Some(m.conference_id.clone()),
            expiry_time: Some(m.expires_at),
            admission_policy: Some(c3p_admission(m.admission)),
            pstn_access: m.pstn_id.as_ref().map(|id| PstnAccess {
                id: Some(id.clone()),
                passcode: passcode.map(Passcode::new),
            }),
            pstn_lobby_bypass: Some(m.lobby_bypass),
            autopromote: None,
            last_update: Some(m.updated_at),
            locked: Some(false),
            entity_views: vec![mcu_uri(&m.organizer, &m.conference_id)],
        }
    }
}

fn conference_request(c: &Conference) -> ConferenceRequest {
    ConferenceRequest {
        conference_id: c.conference_id.clone(),
        subject: c.subject.clone(),
        pstn_access: c.pstn_access.is_some(),
        passcode: c
            .pstn_access
            .as_ref()
            .and_then(|p| p.passcode.as_ref())
            .map(|p| p.expose().to_owned()),
        expiry: c.expiry_time,
        admission: c.admission_policy.map(api_admission),
        lobby_bypass: c.pstn_lobby_bypass,
    }
}

fn plan_of(m: &Meeting) -> ConferencePlan {
    ConferencePlan {
        conference_id: m.conference_id.clone(),
        subject: m.subject.clone(),
        pstn_access: m.pstn_id.is_some(),
        pstn_base: m.pstn_id.as_ref().map(|id| {
            id.get(..id.len().saturating_sub(1))
                .unwrap_or_default()
                .to_owned()
        }),
        passcode: None,
        expiry: m.expires_at,
        admission: m.admission,
        lobby_bypass: m.lobby_bypass,
    }
}

fn reason(r: RefusalReason) -> FailureReason {
    match r {
        RefusalReason::InvalidConferenceId => FailureReason::InvalidConferenceId,
        RefusalReason::InvalidPasscode => FailureReason::InvalidPasscode,
        RefusalReason::InvalidExpiryTime => FailureReason::InvalidExpiryTime,
        RefusalReason::InvalidAdmissionPolicy => FailureReason::InvalidAdmissionPolicy,
        RefusalReason::PstnLobbyBypassNotAllowed => FailureReason::PstnLobbyBypassNotAllowed,
        RefusalReason::MaximumConferencesExceeded => FailureReason::MaximumConferencesExceeded,
        RefusalReason::Unauthorized => FailureReason::Unauthorized,
        RefusalReason::NotSupported => FailureReason::NotSupported,
        RefusalReason::OtherFailure => FailureReason::OtherFailure,
    }
}

fn api_admission(a: C3pAdmission) -> AdmissionPolicy {
    match a {
        C3pAdmission::ClosedAuthenticated => AdmissionPolicy::ClosedAuthenticated,
        C3pAdmission::OpenAuthenticated => AdmissionPolicy::OpenAuthenticated,
        C3pAdmission::Anonymous => AdmissionPolicy::Anonymous,
    }
}

fn c3p_admission(a: AdmissionPolicy) -> C3pAdmission {
    match a {
        AdmissionPolicy::ClosedAuthenticated => C3pAdmission::ClosedAuthenticated,
        AdmissionPolicy::OpenAuthenticated => C3pAdmission::OpenAuthenticated,
        AdmissionPolicy::Anonymous => C3pAdmission::Anonymous,
    }
}

fn c3p_capabilities(c: Capabilities) -> C3pCapabilities {
    let numbers = |ns: Vec<AccessNumber>| {
        ns.into_iter()
            .map(|n| C3pNumber {
                number: n.number,
                languages: n.languages,
            })
            .collect()
    };
    C3pCapabilities {
        capability_version: 0,
        mcu_types: c.mcu_types.iter().map(|t| McuType::from_wire(t)).collect(),
        anonymous_scheduling: c.anonymous_scheduling,
        pstn_bridging: PstnBridging {
            enabled: c.pstn_bridging,
            default_region: c.default_region,
            regions: c
                .regions
                .into_iter()
                .map(|r| Region {
                    name: r.name,
                    access_numbers: numbers(r.numbers),
                })
                .collect(),
        },
        scheduling: Some(SchedulingOptions {
            default_admission_policy: c.admission_policies.first().copied().map(c3p_admission),
            admission_policies: c
                .admission_policies
                .into_iter()
                .map(c3p_admission)
                .collect(),
            lobby_bypass_allowed: c.lobby_bypass_allowed,
            lobby_bypass_default: false,
            passcode_optional: c.passcode_optional,
            passcode_min_length: c.passcode_min_length,
            passcode_max_length: c.passcode_max_length,
            default_expiry_seconds: c.default_expiry_secs,
            ..SchedulingOptions::default()
        }),
    }
}

/// Command names for logs.
pub fn command_name(c: CommandName) -> &'static str {
    c.as_str()
}
