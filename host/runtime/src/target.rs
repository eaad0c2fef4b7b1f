//! A loaded plugin as a harness target, so the SDK's canary checks, scripted calls and tables
//! run against the Wasm build exactly as they run natively (`plenum plugin try`, upload
//! canaries, the bundled plugins' host-side tests).

use plenum_plugin_api::attendant::{AttendantCanary, CallInfo, Event, StepResult};
use plenum_plugin_api::focus::{
    Capabilities, ConferencePlan, ConferenceRequest, FocusCanary, Refusal, ScheduleContext,
};
use plenum_plugin_api::normalizer::{NormalizeOutcome, NormalizeRequest, NormalizerCanary};
use plenum_plugin_api::policy::{
    AdmissionDecision, AdmissionRequest, AttemptOutcome, MeetingSettings, PasscodeCheck,
    PinAttempts, PinCheck, PolicyCanary, PolicyContext,
};
use plenum_plugin_api::types::{PluginInfo, Timestamp, Verdict};
use plenum_sdk::harness::{self, AttendantTarget, FocusTarget, NormalizerTarget, PolicyTarget};

use crate::Plugin;
use crate::fault::Fault;

/// A plugin, called for `tenant`.
pub struct WasmTarget<'a> {
    plugin: &'a Plugin,
    tenant: &'a str,
}

impl<'a> WasmTarget<'a> {
    /// Target `plugin`, tagging calls with `tenant`.
    pub fn new(plugin: &'a Plugin, tenant: &'a str) -> WasmTarget<'a> {
        WasmTarget { plugin, tenant }
    }
}

fn h<T>(r: Result<T, Fault>) -> Result<T, harness::Fault> {
    r.map_err(|f| harness::Fault(f.to_string()))
}

impl NormalizerTarget for WasmTarget<'_> {
    fn info(&mut self) -> Result<PluginInfo, harness::Fault> {
        Ok(self.plugin.info().clone())
    }
    fn canaries(&mut self) -> Result<Vec<NormalizerCanary>, harness::Fault> {
        h(self.plugin.normalizer_canaries(self.tenant))
    }
    fn normalize(&mut self, request: &NormalizeRequest) -> harness::Called<NormalizeOutcome> {
        h(self.plugin.normalize(self.tenant, request))
    }
}

impl AttendantTarget for WasmTarget<'_> {
    fn info(&mut self) -> Result<PluginInfo, harness::Fault> {
        Ok(self.plugin.info().clone())
    }
    fn canaries(&mut self) -> Result<Vec<AttendantCanary>, harness::Fault> {
        h(self.plugin.attendant_canaries(self.tenant))
    }
    fn step(
        &mut self,
        call: &CallInfo,
        state: &[u8],
        event: &Event,
    ) -> harness::Called<StepResult> {
        h(self.plugin.step(self.tenant, call, state, event))
    }
}

impl PolicyTarget for WasmTarget<'_> {
    fn info(&mut self) -> Result<PluginInfo, harness::Fault> {
        Ok(self.plugin.info().clone())
    }
    fn canaries(&mut self) -> Result<Vec<PolicyCanary>, harness::Fault> {
        h(self.plugin.policy_canaries(self.tenant))
    }
    fn settings(&mut self, context: &PolicyContext) -> harness::Called<MeetingSettings> {
        h(self.plugin.settings(self.tenant, context))
    }
    fn check_passcode(
        &mut self,
        context: &PolicyContext,
        check: &PasscodeCheck,
    ) -> harness::Called<Verdict> {
        h(self.plugin.check_passcode(self.tenant, context, check))
    }
    fn check_pin(&mut self, context: &PolicyContext, check: &PinCheck) -> harness::Called<Verdict> {
        h(self.plugin.check_pin(self.tenant, context, check))
    }
    fn record_attempt(
        &mut self,
        context: &PolicyContext,
        pin_length: u8,
        attempts: &PinAttempts,
        outcome: AttemptOutcome,
        now: Timestamp,
    ) -> harness::Called<PinAttempts> {
        h(self
            .plugin
            .record_attempt(self.tenant, context, pin_length, attempts, outcome, now))
    }
    fn admit(
        &mut self,
        context: &PolicyContext,
        request: &AdmissionRequest,
    ) -> harness::Called<AdmissionDecision> {
        h(self.plugin.admit(self.tenant, context, request))
    }
}

impl FocusTarget for WasmTarget<'_> {
    fn info(&mut self) -> Result<PluginInfo, harness::Fault> {
        Ok(self.plugin.info().clone())
    }
    fn canaries(&mut self) -> Result<Vec<FocusCanary>, harness::Fault> {
        h(self.plugin.focus_canaries(self.tenant))
    }
    fn get_capabilities(&mut self, context: &ScheduleContext) -> harness::Called<Capabilities> {
        h(self.plugin.get_capabilities(self.tenant, context))
    }
    fn complete_add(
        &mut self,
        context: &ScheduleContext,
        request: &ConferenceRequest,
    ) -> harness::Called<ConferencePlan, Refusal> {
        h(self.plugin.complete_add(self.tenant, context, request))
    }
    fn complete_modify(
        &mut self,
        context: &ScheduleContext,
        current: &ConferencePlan,
        request: &ConferenceRequest,
    ) -> harness::Called<ConferencePlan, Refusal> {
        h(self
            .plugin
            .complete_modify(self.tenant, context, current, request))
    }
}

/// Run a plugin's own canaries through the harness, whatever its kind.
pub fn check_canaries(plugin: &Plugin, tenant: &str) -> Result<usize, harness::CanaryFailure> {
    let mut t = WasmTarget::new(plugin, tenant);
    match plugin.kind() {
        plenum_types::PluginKind::Normalizer => harness::check_normalizer(&mut t),
        plenum_types::PluginKind::Attendant => harness::check_attendant(&mut t),
        plenum_types::PluginKind::MeetingPolicy => harness::check_policy(&mut t),
        plenum_types::PluginKind::FocusFactory => harness::check_focus(&mut t),
    }
}
