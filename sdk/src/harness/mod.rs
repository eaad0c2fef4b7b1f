//! Run a plugin against scripted input, natively or as Wasm, and see what it does.
//!
//! A *target* is a plugin behind one object-safe trait per kind. [`Native`] makes a target of
//! any type that implements a plugin trait (its panics become [`Fault`]s); the host's runtime
//! makes one of a loaded `.wasm` component, so the same scripts, tables and canary checks run
//! against both builds (`plenum plugin try` is this harness over the runtime).
//!
//! - [`check_normalizer`], [`check_attendant`], [`check_policy`], [`check_focus`]: run a
//!   plugin's own canary vectors, as the host does at upload.
//! - [`script::Script`] and [`script::run`]: a caller's call, step by step, as a transcript.
//! - [`demo`]: the facts of the demo world (tenant `contoso`, profile `Redmond`, ...).

pub mod demo;
pub mod script;

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::api::attendant::{AttendantCanary, CallInfo, Event, StepResult};
use crate::api::focus::{
    Capabilities, ConferencePlan, ConferenceRequest, FocusCanary, Refusal, ScheduleContext,
};
use crate::api::normalizer::{
    NormalizeOutcome, NormalizeRequest, NormalizerCanary, NumberKind, is_e164,
};
use crate::api::policy::{
    AdmissionDecision, AdmissionRequest, AttemptOutcome, MeetingSettings, PasscodeCheck,
    PinAttempts, PinCheck, PolicyCanary, PolicyContext,
};
use crate::api::types::{
    LocationProfile, NormalizationRule, PluginError, PluginInfo, Tenant, Timestamp, Verdict,
};
use crate::{Attendant, FocusFactory, MeetingPolicy, Normalizer};

/// A call that did not return normally: a trap, a limit, a panic, or output the host refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault(pub String);

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fault {}

/// The result of one call through a target: a fault, or what the plugin returned.
pub type Called<T, E = PluginError> = Result<Result<T, E>, Fault>;

/// A normalizer.
pub trait NormalizerTarget {
    /// `info`.
    fn info(&mut self) -> Result<PluginInfo, Fault>;
    /// `canaries`.
    fn canaries(&mut self) -> Result<Vec<NormalizerCanary>, Fault>;
    /// `normalize`.
    fn normalize(&mut self, request: &NormalizeRequest) -> Called<NormalizeOutcome>;
}

/// An attendant.
pub trait AttendantTarget {
    /// `info`.
    fn info(&mut self) -> Result<PluginInfo, Fault>;
    /// `canaries`.
    fn canaries(&mut self) -> Result<Vec<AttendantCanary>, Fault>;
    /// `step`.
    fn step(&mut self, call: &CallInfo, state: &[u8], event: &Event) -> Called<StepResult>;
}

/// A meeting policy.
pub trait PolicyTarget {
    /// `info`.
    fn info(&mut self) -> Result<PluginInfo, Fault>;
    /// `canaries`.
    fn canaries(&mut self) -> Result<Vec<PolicyCanary>, Fault>;
    /// `settings`.
    fn settings(&mut self, context: &PolicyContext) -> Called<MeetingSettings>;
    /// `check-passcode`.
    fn check_passcode(&mut self, context: &PolicyContext, check: &PasscodeCheck)
    -> Called<Verdict>;
    /// `check-pin`.
    fn check_pin(&mut self, context: &PolicyContext, check: &PinCheck) -> Called<Verdict>;
    /// `record-attempt`.
    fn record_attempt(
        &mut self,
        context: &PolicyContext,
        pin_length: u8,
        attempts: &PinAttempts,
        outcome: AttemptOutcome,
        now: Timestamp,
    ) -> Called<PinAttempts>;
    /// `admit`.
    fn admit(
        &mut self,
        context: &PolicyContext,
        request: &AdmissionRequest,
    ) -> Called<AdmissionDecision>;
}

/// A focus factory.
pub trait FocusTarget {
    /// `info`.
    fn info(&mut self) -> Result<PluginInfo, Fault>;
    /// `canaries`.
    fn canaries(&mut self) -> Result<Vec<FocusCanary>, Fault>;
    /// `capabilities`.
    fn get_capabilities(&mut self, context: &ScheduleContext) -> Called<Capabilities>;
    /// `complete-add`.
    fn complete_add(
        &mut self,
        context: &ScheduleContext,
        request: &ConferenceRequest,
    ) -> Called<ConferencePlan, Refusal>;
    /// `complete-modify`.
    fn complete_modify(
        &mut self,
        context: &ScheduleContext,
        current: &ConferencePlan,
        request: &ConferenceRequest,
    ) -> Called<ConferencePlan, Refusal>;
}

/// A plugin compiled natively, as a target. Panics are caught and reported as faults.
pub struct Native<T>(PhantomData<fn() -> T>);

impl<T> Native<T> {
    /// The target.
    pub fn new() -> Native<T> {
        Native(PhantomData)
    }
}

impl<T> Default for Native<T> {
    fn default() -> Self {
        Native::new()
    }
}

fn guard<R>(f: impl FnOnce() -> R) -> Result<R, Fault> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic".to_owned());
        Fault(format!("panicked: {msg}"))
    })
}

impl<T: Normalizer> NormalizerTarget for Native<T> {
    fn info(&mut self) -> Result<PluginInfo, Fault> {
        guard(T::info)
    }
    fn canaries(&mut self) -> Result<Vec<NormalizerCanary>, Fault> {
        guard(T::canaries)
    }
    fn normalize(&mut self, request: &NormalizeRequest) -> Called<NormalizeOutcome> {
        guard(|| T::normalize(request.clone()))
    }
}

impl<T: Attendant> AttendantTarget for Native<T> {
    fn info(&mut self) -> Result<PluginInfo, Fault> {
        guard(T::info)
    }
    fn canaries(&mut self) -> Result<Vec<AttendantCanary>, Fault> {
        guard(T::canaries)
    }
    fn step(&mut self, call: &CallInfo, state: &[u8], event: &Event) -> Called<StepResult> {
        guard(|| T::step(call.clone(), state.to_vec(), event.clone()))
    }
}

impl<T: MeetingPolicy> PolicyTarget for Native<T> {
    fn info(&mut self) -> Result<PluginInfo, Fault> {
        guard(T::info)
    }
    fn canaries(&mut self) -> Result<Vec<PolicyCanary>, Fault> {
        guard(T::canaries)
    }
    fn settings(&mut self, context: &PolicyContext) -> Called<MeetingSettings> {
        guard(|| T::settings(context.clone()))
    }
    fn check_passcode(
        &mut self,
        context: &PolicyContext,
        check: &PasscodeCheck,
    ) -> Called<Verdict> {
        guard(|| T::check_passcode(context.clone(), check.clone()))
    }
    fn check_pin(&mut self, context: &PolicyContext, check: &PinCheck) -> Called<Verdict> {
        guard(|| T::check_pin(context.clone(), check.clone()))
    }
    fn record_attempt(
        &mut self,
        context: &PolicyContext,
        pin_length: u8,
        attempts: &PinAttempts,
        outcome: AttemptOutcome,
        now: Timestamp,
    ) -> Called<PinAttempts> {
        guard(|| T::record_attempt(context.clone(), pin_length, attempts.clone(), outcome, now))
    }
    fn admit(
        &mut self,
        context: &PolicyContext,
        request: &AdmissionRequest,
    ) -> Called<AdmissionDecision> {
        guard(|| T::admit(context.clone(), request.clone()))
    }
}

impl<T: FocusFactory> FocusTarget for Native<T> {
    fn info(&mut self) -> Result<PluginInfo, Fault> {
        guard(T::info)
    }
    fn canaries(&mut self) -> Result<Vec<FocusCanary>, Fault> {
        guard(T::canaries)
    }
    fn get_capabilities(&mut self, context: &ScheduleContext) -> Called<Capabilities> {
        guard(|| T::get_capabilities(context.clone()))
    }
    fn complete_add(
        &mut self,
        context: &ScheduleContext,
        request: &ConferenceRequest,
    ) -> Called<ConferencePlan, Refusal> {
        guard(|| T::complete_add(context.clone(), request.clone()))
    }
    fn complete_modify(
        &mut self,
        context: &ScheduleContext,
        current: &ConferencePlan,
        request: &ConferenceRequest,
    ) -> Called<ConferencePlan, Refusal> {
        guard(|| T::complete_modify(context.clone(), current.clone(), request.clone()))
    }
}

/// A canary that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryFailure {
    /// Which canary (its name or index).
    pub canary: String,
    /// What went wrong.
    pub detail: String,
}

impl std::fmt::Display for CanaryFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "canary {}: {}", self.canary, self.detail)
    }
}

impl std::error::Error for CanaryFailure {}

fn fail(canary: impl Into<String>, detail: impl Into<String>) -> CanaryFailure {
    CanaryFailure {
        canary: canary.into(),
        detail: detail.into(),
    }
}

fn fetch<T>(r: Result<T, Fault>) -> Result<T, CanaryFailure> {
    r.map_err(|f| fail("(list)", format!("canaries() faulted: {f}")))
}

/// Run a normalizer's canaries; the number that passed, or the first failure.
pub fn check_normalizer(target: &mut dyn NormalizerTarget) -> Result<usize, CanaryFailure> {
    let canaries = fetch(target.canaries())?;
    for (i, c) in canaries.iter().enumerate() {
        let name = format!("#{i} ({})", c.request.number);
        let got = target
            .normalize(&c.request)
            .map_err(|f| fail(&name, f.to_string()))?;
        match &got {
            Ok(NormalizeOutcome::E164(n)) if !is_e164(n) => {
                return Err(fail(&name, format!("returned `{n}`, which is not E.164")));
            }
            Ok(o) if *o == c.expect => {}
            other => {
                return Err(fail(
                    &name,
                    format!("expected {:?}, got {other:?}", c.expect),
                ));
            }
        }
    }
    Ok(canaries.len())
}

/// Run an attendant's canary scripts.
pub fn check_attendant(target: &mut dyn AttendantTarget) -> Result<usize, CanaryFailure> {
    let canaries = fetch(target.canaries())?;
    for c in &canaries {
        let mut state = Vec::new();
        for (i, step) in c.steps.iter().enumerate() {
            let name = format!("{} step {i} ({})", c.name, step.event);
            let out = target
                .step(&c.call, &state, &step.event)
                .map_err(|f| fail(&name, f.to_string()))?
                .map_err(|e| fail(&name, format!("plugin error: {e}")))?;
            if out.actions != step.expect {
                return Err(fail(
                    &name,
                    format!(
                        "expected [{}], got [{}]",
                        join(&step.expect),
                        join(&out.actions)
                    ),
                ));
            }
            state = out.state;
        }
    }
    Ok(canaries.len())
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The context policy canaries run in: tenant `canary`, an empty document.
pub fn canary_policy_context() -> PolicyContext {
    PolicyContext {
        tenant: Tenant::new("canary", "canary.invalid"),
        document: Vec::new(),
    }
}

/// Run a meeting policy's canaries (with an empty policy document), after checking that
/// `settings` answers for an empty document.
pub fn check_policy(target: &mut dyn PolicyTarget) -> Result<usize, CanaryFailure> {
    let ctx = canary_policy_context();
    target
        .settings(&ctx)
        .map_err(|f| fail("settings", f.to_string()))?
        .map_err(|e| fail("settings", format!("plugin error: {e}")))?;
    let canaries = fetch(target.canaries())?;
    for (i, c) in canaries.iter().enumerate() {
        let name = format!("#{i}");
        match c {
            PolicyCanary::Admit((req, want)) => expect_eq(&name, target.admit(&ctx, req), want)?,
            PolicyCanary::Passcode((chk, want)) => {
                expect_eq(&name, target.check_passcode(&ctx, chk), want)?
            }
            PolicyCanary::Pin((chk, want)) => expect_eq(&name, target.check_pin(&ctx, chk), want)?,
        }
    }
    Ok(canaries.len())
}

fn expect_eq<T: PartialEq + std::fmt::Debug>(
    name: &str,
    got: Called<T>,
    want: &T,
) -> Result<(), CanaryFailure> {
    match got {
        Ok(Ok(v)) if v == *want => Ok(()),
        Ok(Ok(v)) => Err(fail(name, format!("expected {want:?}, got {v:?}"))),
        Ok(Err(e)) => Err(fail(name, format!("plugin error: {e}"))),
        Err(f) => Err(fail(name, f.to_string())),
    }
}

/// Run a focus factory's canaries.
pub fn check_focus(target: &mut dyn FocusTarget) -> Result<usize, CanaryFailure> {
    let canaries = fetch(target.canaries())?;
    for (i, c) in canaries.iter().enumerate() {
        let name = format!("#{i}");
        match c {
            FocusCanary::Capabilities((ctx, pstn)) => {
                let caps = target
                    .get_capabilities(ctx)
                    .map_err(|f| fail(&name, f.to_string()))?
                    .map_err(|e| fail(&name, format!("plugin error: {e}")))?;
                if caps.pstn_bridging != *pstn {
                    return Err(fail(
                        name,
                        format!("pstn-bridging {} expected {pstn}", caps.pstn_bridging),
                    ));
                }
            }
            FocusCanary::Add((ctx, req, want)) => {
                let got = target
                    .complete_add(ctx, req)
                    .map_err(|f| fail(&name, f.to_string()))?;
                let got = got.map_err(|r| r.reason);
                if &got != want {
                    return Err(fail(name, format!("expected {want:?}, got {got:?}")));
                }
            }
        }
    }
    Ok(canaries.len())
}

/// A location profile from `(pattern, translation)` pairs.
pub fn profile(name: &str, region: &str, rules: &[(&str, &str)]) -> LocationProfile {
    LocationProfile {
        name: name.to_owned(),
        region: region.to_owned(),
        external_access_prefix: None,
        rules: rules
            .iter()
            .enumerate()
            .map(|(i, (p, t))| NormalizationRule {
                name: format!("rule-{i}"),
                pattern: (*p).to_owned(),
                translation: (*t).to_owned(),
            })
            .collect(),
    }
}

/// A request to normalize `number` (a called number) with the demo `Redmond` profile.
pub fn request(number: &str) -> NormalizeRequest {
    NormalizeRequest {
        tenant: demo::tenant(),
        profile: demo::redmond(),
        number: number.to_owned(),
        kind: NumberKind::Called,
    }
}

/// Normalize each number and render a table, one `number -> outcome` line each.
pub fn normalize_table(
    target: &mut dyn NormalizerTarget,
    profile: &LocationProfile,
    numbers: &[&str],
) -> String {
    let mut out = String::new();
    for n in numbers {
        let req = NormalizeRequest {
            tenant: demo::tenant(),
            profile: profile.clone(),
            number: (*n).to_owned(),
            kind: NumberKind::Dialed,
        };
        let shown = match target.normalize(&req) {
            Ok(Ok(NormalizeOutcome::E164(e))) => e,
            Ok(Ok(NormalizeOutcome::NoMatch)) => "no match".to_owned(),
            Ok(Err(e)) => format!("error: {e}"),
            Err(f) => format!("fault: {f}"),
        };
        out.push_str(&format!("{n:<16} -> {shown}\n"));
    }
    out
}
