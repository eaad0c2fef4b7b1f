//! WIT interfaces `focus-types` and `focus-factory-api`.

use crate::policy::MeetingSettings;
use crate::types::{AccessNumber, AdmissionPolicy, Tenant, Timestamp, contract};

contract! {
    /// The organizer asking.
    pub struct Organizer {
        /// SIP URI.
        pub uri: String,
        /// Display name.
        pub display_name: String,
        /// Dial-in region of the organizer's location profile.
        pub region: Option<String>,
    }

    /// Everything a scheduling decision may use.
    pub struct ScheduleContext {
        /// The tenant.
        pub tenant: Tenant,
        /// The organizer.
        pub organizer: Organizer,
        /// Now.
        pub now: Timestamp,
        /// The tenant offers dial-in.
        pub pstn_enabled: bool,
        /// The tenant's access numbers.
        pub access_numbers: Vec<AccessNumber>,
        /// The tenant's meeting policy settings.
        pub settings: MeetingSettings,
        /// Meetings the organizer owns now.
        pub organizer_meetings: u32,
        /// 32 bytes of randomness from the host.
        pub entropy: Vec<u8>,
        /// Host-reserved number for the PSTN conference ID.
        pub pstn_sequence: u64,
    }

    /// Access numbers of one region.
    pub struct RegionNumbers {
        /// Region name.
        pub name: String,
        /// Numbers in priority order.
        pub numbers: Vec<AccessNumber>,
    }

    /// The answer to getConferencingCapabilities.
    pub struct Capabilities {
        /// MCU types offered.
        pub mcu_types: Vec<String>,
        /// Anonymous participants may be scheduled.
        pub anonymous_scheduling: bool,
        /// Dial-in offered.
        pub pstn_bridging: bool,
        /// The organizer's region.
        pub default_region: Option<String>,
        /// Access numbers by region.
        pub regions: Vec<RegionNumbers>,
        /// Admission policies the organizer may choose.
        pub admission_policies: Vec<AdmissionPolicy>,
        /// PSTN lobby bypass may be asked for.
        pub lobby_bypass_allowed: bool,
        /// A dial-in meeting may have no passcode.
        pub passcode_optional: bool,
        /// Passcode length bounds.
        pub passcode_min_length: u8,
        /// Passcode length bounds.
        pub passcode_max_length: u8,
        /// Default lifetime.
        pub default_expiry_secs: u32,
        /// Longest lifetime.
        pub max_expiry_secs: u32,
    }

    /// An addConference or modifyConference request as sent.
    #[derive(Default)]
    pub struct ConferenceRequest {
        /// `msci:conference-id`.
        pub conference_id: Option<String>,
        /// Subject.
        pub subject: Option<String>,
        /// Dial-in wanted.
        pub pstn_access: bool,
        /// Passcode.
        pub passcode: Option<String>,
        /// Expiry.
        pub expiry: Option<Timestamp>,
        /// Admission policy.
        pub admission: Option<AdmissionPolicy>,
        /// Lobby bypass.
        pub lobby_bypass: Option<bool>,
    }

    /// A completed meeting; the host stores exactly this.
    pub struct ConferencePlan {
        /// Meeting ID (8–32 ASCII alphanumerics).
        pub conference_id: String,
        /// Subject.
        pub subject: String,
        /// Dial-in.
        pub pstn_access: bool,
        /// PSTN conference ID without the check digit.
        pub pstn_base: Option<String>,
        /// Passcode digits.
        pub passcode: Option<String>,
        /// Expiry.
        pub expiry: Timestamp,
        /// Admission policy.
        pub admission: AdmissionPolicy,
        /// Lobby bypass for PSTN callers.
        pub lobby_bypass: bool,
    }

    /// Why a request is refused (C3P `reason`).
    #[derive(Copy, Hash)]
    pub enum RefusalReason {
        /// `invalidConferenceId`.
        InvalidConferenceId,
        /// `invalidPasscode`.
        InvalidPasscode,
        /// `invalidExpiryTime`.
        InvalidExpiryTime,
        /// `invalidAdmissionPolicy`.
        InvalidAdmissionPolicy,
        /// `pstnLobbyBypassNotAllowed`.
        PstnLobbyBypassNotAllowed,
        /// `maximumConferencesExceeded`.
        MaximumConferencesExceeded,
        /// `unauthorized`.
        Unauthorized,
        /// `notSupported`.
        NotSupported,
        /// `otherFailure`.
        OtherFailure,
    }

    /// A refusal.
    pub struct Refusal {
        /// The reason.
        pub reason: RefusalReason,
        /// Detail (never a passcode).
        pub detail: String,
    }

    /// A vector the plugin ships with itself.
    pub enum FocusCanary {
        /// `capabilities` must succeed with this `pstn-bridging`.
        Capabilities((ScheduleContext, bool)),
        /// `complete-add` must produce this plan or refuse for this reason.
        Add((ScheduleContext, ConferenceRequest, Result<ConferencePlan, RefusalReason>)),
    }
}

impl RefusalReason {
    /// The C3P wire name (lowerCamelCase, as `otherFailure`).
    pub fn c3p_name(self) -> &'static str {
        match self {
            RefusalReason::InvalidConferenceId => "invalidConferenceId",
            RefusalReason::InvalidPasscode => "invalidPasscode",
            RefusalReason::InvalidExpiryTime => "invalidExpiryTime",
            RefusalReason::InvalidAdmissionPolicy => "invalidAdmissionPolicy",
            RefusalReason::PstnLobbyBypassNotAllowed => "pstnLobbyBypassNotAllowed",
            RefusalReason::MaximumConferencesExceeded => "maximumConferencesExceeded",
            RefusalReason::Unauthorized => "unauthorized",
            RefusalReason::NotSupported => "notSupported",
            RefusalReason::OtherFailure => "otherFailure",
        }
    }
}

impl Refusal {
    /// A refusal with a detail.
    pub fn new(reason: RefusalReason, detail: impl Into<String>) -> Refusal {
        Refusal {
            reason,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason.c3p_name(), self.detail)
    }
}
