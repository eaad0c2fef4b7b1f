//! The failure policy of each plugin kind: what the host does when a tenant's plugin traps,
//! times out, runs out of memory, returns an error or an answer the host refuses.
//!
//! | kind | on failure |
//! |---|---|
//! | normalizer | pass-through: a `+` number stays as it is, anything else is no match |
//! | attendant | the call restarts on the bundled attendant; if that fails too, a polite "technical difficulty" goodbye |
//! | meeting policy | fail closed on security decisions: passcodes and PINs rejected, the organizer admitted as leader and everyone else sent to the lobby, conservative built-in settings and lockout |
//! | focus factory | a C3P failure (`otherFailure`) |
//!
//! Every failure is counted (per tenant, kind and version) by the call that failed; this module
//! only decides what happens next. A tenant with no version of a kind uses the bundled default.

use std::collections::HashMap;
use std::sync::Arc;

use plenum_plugin_api::attendant::{Action, CallInfo, Event, PlaySpec, PromptItem};
use plenum_plugin_api::focus::{
    Capabilities, ConferencePlan, ConferenceRequest, Refusal, RefusalReason, ScheduleContext,
};
use plenum_plugin_api::normalizer::{NormalizeOutcome, NormalizeRequest, is_e164};
use plenum_plugin_api::policy::{
    AdmissionDecision, AdmissionRequest, AnnouncementMode, AttemptOutcome, KeypadBinding,
    KeypadCommand, LastLeaderAction, LockoutRule, MeetingSettings, PasscodeCheck, PasscodeRule,
    PinAttempts, PinAuthScope, PinCheck, PinRule, PolicyContext, Role,
};
use plenum_plugin_api::types::{Timestamp, Verdict};
use plenum_types::{Digest, PluginKind, TenantId};

use crate::registry::Registry;
use crate::{Called, Fault, FaultKind, Plugin};

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The tenant's plugin (or the bundled default) answered.
    Plugin(Digest),
    /// The plugin failed; this is the kind's fallback. The reason is for logs.
    Fallback(String),
}

/// An answer and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<T> {
    /// The answer to act on.
    pub value: T,
    /// Its source.
    pub source: Source,
}

impl<T> Decision<T> {
    /// Whether the fallback produced it.
    pub fn fell_back(&self) -> bool {
        matches!(self.source, Source::Fallback(_))
    }
}

/// The plugins of every tenant, with each kind's failure policy applied.
pub struct Plugins {
    registry: Arc<Registry>,
    bundled: HashMap<PluginKind, Arc<Plugin>>,
}

impl Plugins {
    /// Over `registry`, with the bundled default of each kind for tenants that have none and
    /// for the attendant's fallback.
    pub fn new(registry: Arc<Registry>, bundled: HashMap<PluginKind, Arc<Plugin>>) -> Plugins {
        Plugins { registry, bundled }
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The tenant's version of `kind` (or the bundled default). Callers that need one version
    /// for a whole call (the attendant) keep the `Arc`.
    pub fn plugin(&self, tenant: &TenantId, kind: PluginKind) -> Option<Arc<Plugin>> {
        self.registry
            .current(tenant, kind)
            .or_else(|| self.bundled.get(&kind).cloned())
    }

    /// The bundled default of `kind`.
    pub fn bundled(&self, kind: PluginKind) -> Option<&Arc<Plugin>> {
        self.bundled.get(&kind)
    }

    fn decide<T, E: std::fmt::Display>(
        &self,
        tenant: &TenantId,
        kind: PluginKind,
        call: impl FnOnce(&Plugin) -> Called<T, E>,
        fallback: impl FnOnce() -> T,
    ) -> Decision<T> {
        let Some(plugin) = self.plugin(tenant, kind) else {
            return Decision {
                value: fallback(),
                source: Source::Fallback(format!("no {kind} plugin")),
            };
        };
        match call(&plugin) {
            Ok(Ok(value)) => Decision {
                value,
                source: Source::Plugin(plugin.digest()),
            },
            Ok(Err(e)) => {
                let fault = plugin.fault(
                    tenant.as_str(),
                    Fault::new(FaultKind::PluginError, e.to_string()),
                );
                Decision {
                    value: fallback(),
                    source: Source::Fallback(fault.to_string()),
                }
            }
            Err(fault) => Decision {
                value: fallback(),
                source: Source::Fallback(fault.to_string()),
            },
        }
    }

    /// Normalize; pass-through on failure.
    pub fn normalize(
        &self,
        tenant: &TenantId,
        request: &NormalizeRequest,
    ) -> Decision<NormalizeOutcome> {
        self.decide(
            tenant,
            PluginKind::Normalizer,
            |p| p.normalize(tenant.as_str(), request),
            || pass_through(&request.number),
        )
    }

    /// The tenant's meeting settings; conservative built-ins on failure.
    pub fn settings(
        &self,
        tenant: &TenantId,
        context: &PolicyContext,
    ) -> Decision<MeetingSettings> {
        self.decide(
            tenant,
            PluginKind::MeetingPolicy,
            |p| p.settings(tenant.as_str(), context),
            conservative_settings,
        )
    }

    /// Judge a passcode; rejected on failure.
    pub fn check_passcode(
        &self,
        tenant: &TenantId,
        context: &PolicyContext,
        check: &PasscodeCheck,
    ) -> Decision<Verdict> {
        self.decide(
            tenant,
            PluginKind::MeetingPolicy,
            |p| p.check_passcode(tenant.as_str(), context, check),
            || Verdict::Reject("the meeting policy is unavailable".into()),
        )
    }

    /// Judge a PIN; rejected on failure.
    pub fn check_pin(
        &self,
        tenant: &TenantId,
        context: &PolicyContext,
        check: &PinCheck,
    ) -> Decision<Verdict> {
        self.decide(
            tenant,
            PluginKind::MeetingPolicy,
            |p| p.check_pin(tenant.as_str(), context, check),
            || Verdict::Reject("the meeting policy is unavailable".into()),
        )
    }

    /// New PIN counters; the conservative built-in lockout on failure.
    pub fn record_attempt(
        &self,
        tenant: &TenantId,
        context: &PolicyContext,
        pin_length: u8,
        attempts: &PinAttempts,
        outcome: AttemptOutcome,
        now: Timestamp,
    ) -> Decision<PinAttempts> {
        self.decide(
            tenant,
            PluginKind::MeetingPolicy,
            |p| p.record_attempt(tenant.as_str(), context, pin_length, attempts, outcome, now),
            || conservative_attempt(&conservative_settings().lockout, attempts, outcome, now),
        )
    }

    /// Admission; on failure the organizer is admitted as leader and everyone else waits in the
    /// lobby (a leader can still let them in).
    pub fn admit(
        &self,
        tenant: &TenantId,
        context: &PolicyContext,
        request: &AdmissionRequest,
    ) -> Decision<AdmissionDecision> {
        self.decide(
            tenant,
            PluginKind::MeetingPolicy,
            |p| p.admit(tenant.as_str(), context, request),
            || {
                if request.is_organizer {
                    AdmissionDecision::Admit(Role::Leader)
                } else {
                    AdmissionDecision::Lobby
                }
            },
        )
    }

    /// getConferencingCapabilities; a C3P failure on failure.
    pub fn get_capabilities(
        &self,
        tenant: &TenantId,
        context: &ScheduleContext,
    ) -> Decision<Result<Capabilities, Refusal>> {
        self.decide(
            tenant,
            PluginKind::FocusFactory,
            |p| {
                p.get_capabilities(tenant.as_str(), context)
                    .map(|r| r.map(Ok))
            },
            || Err(unavailable()),
        )
    }

    /// addConference; a C3P failure on failure. A refusal is the plugin's answer, not a failure.
    pub fn complete_add(
        &self,
        tenant: &TenantId,
        context: &ScheduleContext,
        request: &ConferenceRequest,
    ) -> Decision<Result<ConferencePlan, Refusal>> {
        self.decide(
            tenant,
            PluginKind::FocusFactory,
            |p| {
                p.complete_add(tenant.as_str(), context, request)
                    .map(answer)
            },
            || Err(unavailable()),
        )
    }

    /// modifyConference; a C3P failure on failure.
    pub fn complete_modify(
        &self,
        tenant: &TenantId,
        context: &ScheduleContext,
        current: &ConferencePlan,
        request: &ConferenceRequest,
    ) -> Decision<Result<ConferencePlan, Refusal>> {
        self.decide(
            tenant,
            PluginKind::FocusFactory,
            |p| {
                p.complete_modify(tenant.as_str(), context, current, request)
                    .map(answer)
            },
            || Err(unavailable()),
        )
    }

    /// Start an attendant session for a call: it keeps the tenant's current attendant version
    /// for the whole call.
    pub fn attendant(&self, tenant: &TenantId) -> Option<AttendantSession> {
        let plugin = self.plugin(tenant, PluginKind::Attendant)?;
        Some(AttendantSession {
            tenant: tenant.clone(),
            plugin,
            fallback: self.bundled.get(&PluginKind::Attendant).cloned(),
            state: Vec::new(),
            fell_back: false,
        })
    }
}

/// A focus-factory plugin's refusal is an answer (`Ok(Err(refusal))` stays an answer).
fn answer<T>(r: Result<T, Refusal>) -> Result<Result<T, Refusal>, Refusal> {
    Ok(r)
}

fn unavailable() -> Refusal {
    Refusal::new(
        RefusalReason::OtherFailure,
        "the focus factory is unavailable",
    )
}

/// The normalizer's fallback.
pub fn pass_through(number: &str) -> NormalizeOutcome {
    if is_e164(number) {
        NormalizeOutcome::E164(number.to_owned())
    } else {
        NormalizeOutcome::NoMatch
    }
}

/// The meeting settings the host falls back to: strict, so that a broken policy never loosens
/// anything.
pub fn conservative_settings() -> MeetingSettings {
    use KeypadCommand::*;
    let key = |digit, command, leaders_only| KeypadBinding {
        digit,
        command,
        leaders_only,
    };
    MeetingSettings {
        passcode: PasscodeRule {
            required: true,
            min_length: 6,
            max_length: 16,
        },
        pin: PinRule {
            min_length: 6,
            max_length: 24,
            allow_common_patterns: false,
        },
        lockout: LockoutRule {
            window_secs: 1800,
            local_limit: 5,
            lock_secs: 3600,
            global_limit: 100,
        },
        conference_id_attempts: 3,
        passcode_attempts: 3,
        pin_attempts: 3,
        pin_auth: PinAuthScope::Everyone,
        name_recording: true,
        announcements: AnnouncementMode::Tones,
        keypad_prefix: '*',
        keypad: vec![
            key('1', Help, false),
            key('3', RollCall, false),
            key('6', MuteSelf, false),
            key('4', MuteAudience, true),
            key('7', Lock, true),
            key('8', AdmitAll, true),
            key('9', Announcements, true),
        ],
        max_meeting_size: 250,
        hold_timeout_secs: 1800,
        lobby_timeout_secs: 900,
        dead_leg_secs: 60,
        on_last_leader_leave: LastLeaderAction::ContinueMeeting,
        default_expiry_secs: 8 * 3600,
        max_expiry_secs: 30 * 24 * 3600,
        max_meetings_per_organizer: 100,
        lobby_bypass_allowed: false,
    }
}

/// The built-in lockout rule (window, local limit and lock, global limit).
pub fn conservative_attempt(
    rule: &LockoutRule,
    attempts: &PinAttempts,
    outcome: AttemptOutcome,
    now: Timestamp,
) -> PinAttempts {
    let mut a = attempts.clone();
    if a.window_start
        .is_none_or(|s| now - s >= i64::from(rule.window_secs))
    {
        a.window_start = Some(now);
        a.local_failures = 0;
    }
    match outcome {
        AttemptOutcome::Success => {
            a.local_failures = 0;
            a.window_start = None;
        }
        AttemptOutcome::Failure => {
            a.local_failures = a.local_failures.saturating_add(1);
            a.global_failures = a.global_failures.saturating_add(1);
            if a.local_failures >= rule.local_limit {
                a.locked_until = Some(now + i64::from(rule.lock_secs));
                a.local_failures = 0;
            }
            if a.global_failures >= rule.global_limit {
                a.locked = true;
            }
        }
    }
    a
}

/// One call's attendant: the version it started with, its opaque state, and the fallback.
pub struct AttendantSession {
    tenant: TenantId,
    plugin: Arc<Plugin>,
    fallback: Option<Arc<Plugin>>,
    state: Vec<u8>,
    fell_back: bool,
}

impl AttendantSession {
    /// The version this call runs on.
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// Whether the call has moved to the bundled attendant.
    pub fn fell_back(&self) -> bool {
        self.fell_back
    }

    /// Feed an event; the actions to run. On a failure the call restarts on the bundled
    /// attendant; if there is none, or it fails too, the caller hears "technical difficulty"
    /// and the call ends.
    pub fn step(&mut self, call: &CallInfo, event: &Event) -> Vec<Action> {
        match self
            .plugin
            .step(self.tenant.as_str(), call, &self.state, event)
        {
            Ok(Ok(out)) => {
                self.state = out.state;
                return out.actions;
            }
            Ok(Err(e)) => {
                self.plugin.fault(
                    self.tenant.as_str(),
                    Fault::new(FaultKind::PluginError, e.to_string()),
                );
            }
            Err(_) => {}
        }
        if *event == Event::Hangup {
            return Vec::new();
        }
        match self.fallback.take() {
            Some(bundled) if bundled.digest() != self.plugin.digest() => {
                tracing::warn!(tenant = %self.tenant, call = %call.call_id, "attendant failed; restarting the call on the bundled attendant");
                self.plugin = bundled;
                self.state.clear();
                self.fell_back = true;
                self.step(call, &Event::CallStarted)
            }
            _ => technical_difficulty(),
        }
    }
}

/// "We are experiencing technical difficulties. Goodbye." and hang up.
pub fn technical_difficulty() -> Vec<Action> {
    vec![
        Action::Play(PlaySpec {
            items: vec![
                PromptItem::Prompt("technical-difficulty".into()),
                PromptItem::Prompt("goodbye".into()),
            ],
            barge_in: false,
        }),
        Action::HangUp,
    ]
}
