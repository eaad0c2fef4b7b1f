//! The bundled Focus Factory: what an organizer may schedule (C3P getConferencingCapabilities)
//! and how addConference / modifyConference requests are validated and completed.
//!
//! - Capabilities: MCU type `audio-video`, anonymous scheduling, PSTN bridging when the tenant
//!   has dial-in, the organizer's region as default region, the tenant's access numbers grouped
//!   by region (regions by name, numbers by priority), every admission policy, lobby bypass,
//!   passcode bounds and expiry from the meeting policy's settings.
//! - Meetings: the rules of [`plan`]; generated values (meeting ID, passcode, PSTN ID base)
//!   from the host's entropy and sequence, as [`generate`] describes.

pub mod generate;
pub mod plan;

use plenum_sdk::prelude::*;

/// The plugin.
pub struct DefaultFocusFactory;

impl FocusFactory for DefaultFocusFactory {
    fn info() -> PluginInfo {
        plenum_sdk::plugin_info!(
            "Focus Factory with OCS 2007 R2 scheduling rules and Lync-layout PSTN IDs"
        )
    }

    fn canaries() -> Vec<FocusCanary> {
        canaries::all()
    }

    fn get_capabilities(context: ScheduleContext) -> Result<Capabilities, PluginError> {
        Ok(capabilities(&context))
    }

    fn complete_add(
        context: ScheduleContext,
        request: ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal> {
        plan::complete_add(&context, request)
    }

    fn complete_modify(
        context: ScheduleContext,
        current: ConferencePlan,
        request: ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal> {
        plan::complete_modify(&context, current, request)
    }
}

plenum_sdk::export_focus_factory!(DefaultFocusFactory);

/// The MCU types this pool offers.
pub const MCU_TYPES: &[&str] = &["audio-video"];

/// getConferencingCapabilities for the context's organizer.
pub fn capabilities(ctx: &ScheduleContext) -> Capabilities {
    let s = &ctx.settings;
    let pstn = ctx.pstn_enabled;
    Capabilities {
        mcu_types: MCU_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        anonymous_scheduling: true,
        pstn_bridging: pstn,
        default_region: ctx.organizer.region.clone().filter(|_| pstn),
        regions: if pstn {
            regions(&ctx.access_numbers)
        } else {
            Vec::new()
        },
        admission_policies: admission_policies(ctx),
        lobby_bypass_allowed: s.lobby_bypass_allowed,
        passcode_optional: !s.passcode.required,
        passcode_min_length: s.passcode.min_length,
        passcode_max_length: s.passcode.max_length,
        default_expiry_secs: s.default_expiry_secs,
        max_expiry_secs: s.max_expiry_secs,
    }
}

/// The admission policies an organizer may choose: all three (anonymous scheduling is on).
pub fn admission_policies(_ctx: &ScheduleContext) -> Vec<AdmissionPolicy> {
    vec![
        AdmissionPolicy::ClosedAuthenticated,
        AdmissionPolicy::OpenAuthenticated,
        AdmissionPolicy::Anonymous,
    ]
}

/// Access numbers grouped by region: regions sorted by name, numbers by priority (then number).
pub fn regions(numbers: &[AccessNumber]) -> Vec<RegionNumbers> {
    let mut sorted: Vec<&AccessNumber> = numbers.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.region, a.priority, &a.number).cmp(&(&b.region, b.priority, &b.number))
    });
    let mut out: Vec<RegionNumbers> = Vec::new();
    for n in sorted {
        match out.last_mut() {
            Some(r) if r.name == n.region => r.numbers.push(n.clone()),
            _ => out.push(RegionNumbers {
                name: n.region.clone(),
                numbers: vec![n.clone()],
            }),
        }
    }
    out
}

pub mod canaries {
    //! The canaries the host runs at upload: capabilities with and without dial-in, a generated
    //! and a chosen meeting, and one of each refusal the plugin can give.

    use plenum_sdk::harness::demo;
    use plenum_sdk::prelude::*;

    /// Now, in the canaries.
    pub const NOW: Timestamp = 1_790_000_000;

    /// The demo organizer (alice, region Redmond) scheduling with dial-in enabled, the demo
    /// access numbers and settings, entropy bytes 0, 1, …, 31 and PSTN sequence 1234.
    pub fn context() -> ScheduleContext {
        ScheduleContext {
            tenant: demo::tenant(),
            organizer: Organizer {
                uri: "sip:alice@contoso.example".into(),
                display_name: "Alice".into(),
                region: Some("Redmond".into()),
            },
            now: NOW,
            pstn_enabled: true,
            access_numbers: vec![demo::redmond_number(), demo::london_number()],
            settings: demo::settings(),
            organizer_meetings: 0,
            entropy: (0..32).collect(),
            pstn_sequence: 1234,
        }
    }

    /// A dial-in request with nothing chosen.
    pub fn dial_in() -> ConferenceRequest {
        ConferenceRequest {
            pstn_access: true,
            ..ConferenceRequest::default()
        }
    }

    /// What [`context`] and [`dial_in`] must produce.
    pub fn generated_plan() -> ConferencePlan {
        ConferencePlan {
            conference_id: "0001020304050607".into(),
            subject: "Meeting".into(),
            pstn_access: true,
            pstn_base: Some(GENERATED_PSTN_BASE.into()),
            passcode: Some(GENERATED_PASSCODE.into()),
            expiry: NOW + 8 * 3600,
            admission: AdmissionPolicy::Anonymous,
            lobby_bypass: false,
        }
    }

    /// The passcode generated from entropy 0..32 with the demo settings (4 digits).
    pub const GENERATED_PASSCODE: &str = "9252";
    /// The PSTN base generated for sequence 1234 from entropy 0..32.
    pub const GENERATED_PSTN_BASE: &str = "112345";

    /// Every canary.
    pub fn all() -> Vec<FocusCanary> {
        let ctx = context();
        let no_pstn = ScheduleContext {
            pstn_enabled: false,
            ..context()
        };
        let full = ScheduleContext {
            organizer_meetings: 1000,
            ..context()
        };
        let mut no_bypass = context();
        no_bypass.settings.lobby_bypass_allowed = false;
        let chosen = ConferenceRequest {
            conference_id: Some("TPDD8VYG".into()),
            subject: Some("Budget review".into()),
            passcode: Some("2468".into()),
            expiry: Some(NOW + 3600),
            lobby_bypass: Some(true),
            ..dial_in()
        };
        let chosen_plan = ConferencePlan {
            conference_id: "TPDD8VYG".into(),
            subject: "Budget review".into(),
            passcode: Some("2468".into()),
            expiry: NOW + 3600,
            lobby_bypass: true,
            ..generated_plan()
        };
        let refused = |ctx: &ScheduleContext, req: ConferenceRequest, reason| {
            FocusCanary::Add((ctx.clone(), req, Err(reason)))
        };
        vec![
            FocusCanary::Capabilities((ctx.clone(), true)),
            FocusCanary::Capabilities((no_pstn.clone(), false)),
            FocusCanary::Add((ctx.clone(), dial_in(), Ok(generated_plan()))),
            FocusCanary::Add((ctx.clone(), chosen, Ok(chosen_plan))),
            refused(&no_pstn, dial_in(), RefusalReason::NotSupported),
            refused(&full, dial_in(), RefusalReason::MaximumConferencesExceeded),
            refused(
                &ctx,
                ConferenceRequest {
                    conference_id: Some("short".into()),
                    ..dial_in()
                },
                RefusalReason::InvalidConferenceId,
            ),
            refused(
                &ctx,
                ConferenceRequest {
                    expiry: Some(NOW - 1),
                    ..dial_in()
                },
                RefusalReason::InvalidExpiryTime,
            ),
            refused(
                &ctx,
                ConferenceRequest {
                    passcode: Some("12ab".into()),
                    ..dial_in()
                },
                RefusalReason::InvalidPasscode,
            ),
            refused(
                &no_bypass,
                ConferenceRequest {
                    lobby_bypass: Some(true),
                    ..dial_in()
                },
                RefusalReason::PstnLobbyBypassNotAllowed,
            ),
        ]
    }
}

#[cfg(test)]
mod tests;
