//! A loaded plugin version and its typed calls. Every call gets a fresh store and instance from
//! the cached pre-instantiated component, runs under the limits, and is dropped afterwards; a
//! trapped instance is never reused. Calls return `Ok(plugin's answer)` or a [`Fault`], which is
//! counted here (per tenant, kind and version) before the caller applies its failure policy.

use std::sync::Arc;

use plenum_plugin_api::attendant::{AttendantCanary, CallInfo, Event, StepResult};
use plenum_plugin_api::focus::{
    Capabilities, ConferencePlan, ConferenceRequest, FocusCanary, Refusal, ScheduleContext,
};
use plenum_plugin_api::normalizer::{
    NormalizeOutcome, NormalizeRequest, NormalizerCanary, is_e164,
};
use plenum_plugin_api::policy::{
    AdmissionDecision, AdmissionRequest, AttemptOutcome, MeetingSettings, PasscodeCheck,
    PinAttempts, PinCheck, PolicyCanary, PolicyContext,
};
use plenum_plugin_api::types::{PluginError, PluginInfo, Timestamp, Verdict};
use plenum_plugin_api::{Conv, WireSize};
use plenum_types::{Digest, PluginKind};
use wasmtime::Store;

use crate::Inner;
use crate::bindings::{attendant, focus_factory, meeting_policy, normalizer};
use crate::fault::{CounterKey, Fault, FaultKind};
use crate::sandbox::{self, CallTag, HostState};

/// A plugin call's result: the plugin's answer, or a fault.
pub type Called<T, E = PluginError> = Result<Result<T, E>, Fault>;

/// The pre-instantiated component, typed by world.
pub(crate) enum Pre {
    Normalizer(normalizer::NormalizerPre<HostState>),
    Attendant(attendant::AttendantPre<HostState>),
    MeetingPolicy(meeting_policy::MeetingPolicyPre<HostState>),
    FocusFactory(focus_factory::FocusFactoryPre<HostState>),
}

enum Instance {
    Normalizer(normalizer::Normalizer),
    Attendant(attendant::Attendant),
    MeetingPolicy(meeting_policy::MeetingPolicy),
    FocusFactory(focus_factory::FocusFactory),
}

/// One compiled, type-checked plugin version. Cheap to share (`Arc`); a call in flight keeps
/// its version alive however the registry changes.
pub struct Plugin {
    pub(crate) rt: Arc<Inner>,
    pub(crate) kind: PluginKind,
    pub(crate) digest: Digest,
    pub(crate) size: usize,
    pub(crate) info: PluginInfo,
    pub(crate) pre: Pre,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("kind", &self.kind)
            .field("digest", &self.digest)
            .field("name", &self.info.name)
            .field("version", &self.info.version)
            .finish()
    }
}

fn wrong_kind() -> wasmtime::Error {
    wasmtime::Error::msg("plugin called through the wrong world")
}

impl Plugin {
    /// The world it implements.
    pub fn kind(&self) -> PluginKind {
        self.kind
    }

    /// Its content digest.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// What it says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Size of the component in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The counter key of this version for `tenant`.
    pub fn counter_key(&self, tenant: &str) -> CounterKey {
        CounterKey {
            tenant: tenant.to_owned(),
            kind: self.kind,
            digest: self.digest,
        }
    }

    /// Count a fault the caller found (e.g. an output the host refuses) and return it.
    pub fn fault(&self, tenant: &str, fault: Fault) -> Fault {
        self.rt
            .counters
            .fault(&self.counter_key(tenant), fault.kind);
        tracing::warn!(tenant, kind = %self.kind, version = %self.digest.short(), fault = %fault, "plugin fault");
        fault
    }

    /// Run one call in a fresh sandbox.
    fn invoke<R>(
        &self,
        tenant: &str,
        input_size: usize,
        call: impl FnOnce(&Instance, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        let _span = tracing::debug_span!("plugin", tenant, kind = %self.kind, version = %self.digest.short()).entered();
        let key = self.counter_key(tenant);
        self.rt.counters.call(&key);
        let limits = &self.rt.limits;
        if input_size > limits.max_input_bytes {
            let f = Fault::new(FaultKind::InputTooLarge, format!("{input_size} bytes in"));
            return Err(self.fault(tenant, f));
        }
        let Some(_slot) = self.rt.slots.acquire(limits.wall) else {
            return Err(self.fault(
                tenant,
                Fault::new(FaultKind::Overloaded, "no free instance slot"),
            ));
        };
        let tag = CallTag {
            tenant: tenant.to_owned(),
            kind: self.kind,
            digest: self.digest,
        };
        let mut store = Store::new(&self.rt.engine, HostState::new(limits, tag));
        sandbox::arm(&mut store, limits);
        let result = self
            .instantiate(&mut store)
            .and_then(|inst| call(&inst, &mut store));
        let state = store.data();
        if !state.sink.counters.is_empty() {
            self.rt.counters.plugin_counters(&key, &state.sink.counters);
        }
        if state.sink.dropped > 0 {
            tracing::debug!(tenant, kind = %self.kind, dropped = state.sink.dropped, "plugin logs over budget dropped");
        }
        result.map_err(|e| {
            let fault = sandbox::classify(&e, store.data());
            self.fault(tenant, fault)
        })
    }

    fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Instance> {
        Ok(match &self.pre {
            Pre::Normalizer(p) => Instance::Normalizer(p.instantiate(store)?),
            Pre::Attendant(p) => Instance::Attendant(p.instantiate(store)?),
            Pre::MeetingPolicy(p) => Instance::MeetingPolicy(p.instantiate(store)?),
            Pre::FocusFactory(p) => Instance::FocusFactory(p.instantiate(store)?),
        })
    }

    /// Check an answer against the output cap.
    fn checked<T: WireSize>(&self, tenant: &str, out: T) -> Result<T, Fault> {
        let size = out.wire_size();
        if size > self.rt.limits.max_output_bytes {
            return Err(self.fault(
                tenant,
                Fault::new(FaultKind::OutputTooLarge, format!("{size} bytes out")),
            ));
        }
        Ok(out)
    }

    /// `info` (any kind).
    pub(crate) fn call_info(&self, tenant: &str) -> Result<PluginInfo, Fault> {
        let out = self.invoke(tenant, 0, |inst, store| match inst {
            Instance::Normalizer(i) => i.plenum_plugin_normalizer_api().call_info(store),
            Instance::Attendant(i) => i.plenum_plugin_attendant_api().call_info(store),
            Instance::MeetingPolicy(i) => i.plenum_plugin_meeting_policy_api().call_info(store),
            Instance::FocusFactory(i) => i.plenum_plugin_focus_factory_api().call_info(store),
        })?;
        self.checked(tenant, out.conv())
    }

    // ---- normalizer ----

    /// The plugin's normalizer canaries.
    pub fn normalizer_canaries(&self, tenant: &str) -> Result<Vec<NormalizerCanary>, Fault> {
        let out = self.invoke(tenant, 0, |inst, store| match inst {
            Instance::Normalizer(i) => i.plenum_plugin_normalizer_api().call_canaries(store),
            _ => Err(wrong_kind()),
        })?;
        self.checked(tenant, out.conv())
    }

    /// Normalize a number. An `e164` answer that is not E.164 is an [`FaultKind::InvalidOutput`].
    pub fn normalize(&self, tenant: &str, request: &NormalizeRequest) -> Called<NormalizeOutcome> {
        let req = request.clone().conv();
        let out = self.invoke(tenant, request.wire_size(), |inst, store| match inst {
            Instance::Normalizer(i) => i.plenum_plugin_normalizer_api().call_normalize(store, &req),
            _ => Err(wrong_kind()),
        })?;
        let out: Result<NormalizeOutcome, PluginError> = self.checked(tenant, out.conv())?;
        if let Ok(NormalizeOutcome::E164(n)) = &out
            && !is_e164(n)
        {
            return Err(self.fault(
                tenant,
                Fault::new(FaultKind::InvalidOutput, "normalized number is not E.164"),
            ));
        }
        Ok(out)
    }

    // ---- attendant ----

    /// The plugin's attendant canaries.
    pub fn attendant_canaries(&self, tenant: &str) -> Result<Vec<AttendantCanary>, Fault> {
        let out = self.invoke(tenant, 0, |inst, store| match inst {
            Instance::Attendant(i) => i.plenum_plugin_attendant_api().call_canaries(store),
            _ => Err(wrong_kind()),
        })?;
        self.checked(tenant, out.conv())
    }

    /// One attendant step.
    pub fn step(
        &self,
        tenant: &str,
        call: &CallInfo,
        state: &[u8],
        event: &Event,
    ) -> Called<StepResult> {
        let size = call.wire_size() + state.len() + event.wire_size();
        let (c, e) = (call.clone().conv(), event.clone().conv());
        let out = self.invoke(tenant, size, |inst, store| match inst {
            Instance::Attendant(i) => i
                .plenum_plugin_attendant_api()
                .call_step(store, &c, state, &e),
            _ => Err(wrong_kind()),
        })?;
        let out: Result<StepResult, PluginError> = self.checked(tenant, out.conv())?;
        if let Ok(step) = &out
            && step.actions.len() > MAX_ACTIONS
        {
            let f = Fault::new(
                FaultKind::InvalidOutput,
                format!("{} actions in one step", step.actions.len()),
            );
            return Err(self.fault(tenant, f));
        }
        Ok(out)
    }

    // ---- meeting policy ----

    /// The plugin's policy canaries.
    pub fn policy_canaries(&self, tenant: &str) -> Result<Vec<PolicyCanary>, Fault> {
        let out = self.invoke(tenant, 0, |inst, store| match inst {
            Instance::MeetingPolicy(i) => i.plenum_plugin_meeting_policy_api().call_canaries(store),
            _ => Err(wrong_kind()),
        })?;
        self.checked(tenant, out.conv())
    }

    /// The tenant's declarative settings.
    pub fn settings(&self, tenant: &str, context: &PolicyContext) -> Called<MeetingSettings> {
        let ctx = context.clone().conv();
        let out = self.invoke(tenant, context.wire_size(), |inst, store| match inst {
            Instance::MeetingPolicy(i) => i
                .plenum_plugin_meeting_policy_api()
                .call_settings(store, &ctx),
            _ => Err(wrong_kind()),
        })?;
        self.checked(tenant, out.conv())
    }

    /// Judge a passcode.
    pub fn check_passcode(
        &self,
        tenant: &str,
        context: &PolicyContext,
        check: &PasscodeCheck,
    ) -> Called<Verdict> {
        let (ctx, chk) = (context.clone().conv(), check.clone().conv());
        let out = self.invoke(
            tenant,
            context.wire_size() + check.wire_size(),
            |inst, store| match inst {
                Instance::MeetingPolicy(i) => i
                    .plenum_plugin_meeting_policy_api()
                    .call_check_passcode(store, &ctx, &chk),
                _ => Err(wrong_kind()),
            },
        )?;
        self.checked(tenant, out.conv())
    }

    /// Judge a PIN.
    pub fn check_pin(
        &self,
        tenant: &str,
        context: &PolicyContext,
        check: &PinCheck,
    ) -> Called<Verdict> {
        let (ctx, chk) = (context.clone().conv(), check.clone().conv());
        let out = self.invoke(
            tenant,
            context.wire_size() + check.wire_size(),
            |inst, store| match inst {
                Instance::MeetingPolicy(i) => i
                    .plenum_plugin_meeting_policy_api()
                    .call_check_pin(store, &ctx, &chk),
                _ => Err(wrong_kind()),
            },
        )?;
        self.checked(tenant, out.conv())
    }

    /// New PIN counters after an attempt.
    pub fn record_attempt(
        &self,
        tenant: &str,
        context: &PolicyContext,
        pin_length: u8,
        attempts: &PinAttempts,
        outcome: AttemptOutcome,
        now: Timestamp,
    ) -> Called<PinAttempts> {
        let (ctx, att, oc) = (
            context.clone().conv(),
            attempts.clone().conv(),
            outcome.conv(),
        );
        let out = self.invoke(
            tenant,
            context.wire_size() + attempts.wire_size(),
            |inst, store| match inst {
                Instance::MeetingPolicy(i) => i
                    .plenum_plugin_meeting_policy_api()
                    .call_record_attempt(store, &ctx, pin_length, att, oc, now),
                _ => Err(wrong_kind()),
            },
        )?;
        self.checked(tenant, out.conv())
    }

    /// Admit, hold, lobby or deny.
    pub fn admit(
        &self,
        tenant: &str,
        context: &PolicyContext,
        request: &AdmissionRequest,
    ) -> Called<AdmissionDecision> {
        let (ctx, req) = (context.clone().conv(), request.clone().conv());
        let out = self.invoke(
            tenant,
            context.wire_size() + request.wire_size(),
            |inst, store| match inst {
                Instance::MeetingPolicy(i) => i
                    .plenum_plugin_meeting_policy_api()
                    .call_admit(store, &ctx, &req),
                _ => Err(wrong_kind()),
            },
        )?;
        self.checked(tenant, out.conv())
    }

    // ---- focus factory ----

    /// The plugin's focus-factory canaries.
    pub fn focus_canaries(&self, tenant: &str) -> Result<Vec<FocusCanary>, Fault> {
        let out = self.invoke(tenant, 0, |inst, store| match inst {
            Instance::FocusFactory(i) => i.plenum_plugin_focus_factory_api().call_canaries(store),
            _ => Err(wrong_kind()),
        })?;
        self.checked(tenant, out.conv())
    }

    /// getConferencingCapabilities.
    pub fn get_capabilities(
        &self,
        tenant: &str,
        context: &ScheduleContext,
    ) -> Called<Capabilities> {
        let ctx = context.clone().conv();
        let out = self.invoke(tenant, context.wire_size(), |inst, store| match inst {
            Instance::FocusFactory(i) => i
                .plenum_plugin_focus_factory_api()
                .call_get_capabilities(store, &ctx),
            _ => Err(wrong_kind()),
        })?;
        self.checked(tenant, out.conv())
    }

    /// Validate and complete addConference.
    pub fn complete_add(
        &self,
        tenant: &str,
        context: &ScheduleContext,
        request: &ConferenceRequest,
    ) -> Called<ConferencePlan, Refusal> {
        let (ctx, req) = (context.clone().conv(), request.clone().conv());
        let out = self.invoke(
            tenant,
            context.wire_size() + request.wire_size(),
            |inst, store| match inst {
                Instance::FocusFactory(i) => i
                    .plenum_plugin_focus_factory_api()
                    .call_complete_add(store, &ctx, &req),
                _ => Err(wrong_kind()),
            },
        )?;
        self.checked(tenant, out.conv())
    }

    /// Validate and complete modifyConference.
    pub fn complete_modify(
        &self,
        tenant: &str,
        context: &ScheduleContext,
        current: &ConferencePlan,
        request: &ConferenceRequest,
    ) -> Called<ConferencePlan, Refusal> {
        let (ctx, cur, req) = (
            context.clone().conv(),
            current.clone().conv(),
            request.clone().conv(),
        );
        let size = context.wire_size() + current.wire_size() + request.wire_size();
        let out = self.invoke(tenant, size, |inst, store| match inst {
            Instance::FocusFactory(i) => i
                .plenum_plugin_focus_factory_api()
                .call_complete_modify(store, &ctx, &cur, &req),
            _ => Err(wrong_kind()),
        })?;
        self.checked(tenant, out.conv())
    }
}

/// Most actions one attendant step may return.
pub const MAX_ACTIONS: usize = 64;
