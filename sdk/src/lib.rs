//! Write Plenum plugins in plain Rust.
//!
//! A plugin is a type that implements one of four traits — [`Normalizer`], [`Attendant`],
//! [`MeetingPolicy`], [`FocusFactory`] — plus one export macro. The same crate builds natively
//! (so its tests run with `cargo test` and the [`harness`]) and for `wasm32-wasip2` (the
//! component the host loads). Plugins are pure decisions: everything they need is an argument,
//! and what they return is data.
//!
//! ```
//! use plenum_sdk::prelude::*;
//!
//! /// Adds a `+` to ten-digit North American numbers; leaves the rest alone.
//! struct Nanp;
//!
//! impl Normalizer for Nanp {
//!     fn info() -> PluginInfo {
//!         plenum_sdk::plugin_info!("NANP ten-digit normalizer")
//!     }
//!     fn normalize(req: NormalizeRequest) -> Result<NormalizeOutcome, PluginError> {
//!         let n = req.number;
//!         Ok(if n.starts_with('+') {
//!             NormalizeOutcome::E164(n)
//!         } else if n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()) {
//!             NormalizeOutcome::E164(format!("+1{n}"))
//!         } else {
//!             NormalizeOutcome::NoMatch
//!         })
//!     }
//! }
//! plenum_sdk::export_normalizer!(Nanp);
//!
//! # fn main() {
//! use plenum_sdk::harness::{Native, NormalizerTarget};
//! let mut target = Native::<Nanp>::new();
//! let out = target.normalize(&plenum_sdk::harness::request("4255550100")).unwrap();
//! assert_eq!(out, Ok(NormalizeOutcome::E164("+14255550100".into())));
//! # }
//! ```
//!
//! Build for the host with `cargo build --target wasm32-wasip2 --release`, then deploy the
//! `.wasm` with `plenum plugin deploy`. Try it first with `plenum plugin try`.

extern crate self as plenum_sdk;

pub mod document;
pub mod harness;
pub mod log;
pub mod state;
#[cfg(not(target_arch = "wasm32"))]
pub mod toml_document;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wasm;

pub use plenum_plugin_api as api;

use api::attendant::{AttendantCanary, CallInfo, Event, StepResult};
use api::focus::{
    Capabilities, ConferencePlan, ConferenceRequest, FocusCanary, Refusal, ScheduleContext,
};
use api::normalizer::{NormalizeOutcome, NormalizeRequest, NormalizerCanary};
use api::policy::{
    AdmissionDecision, AdmissionRequest, AttemptOutcome, MeetingSettings, PasscodeCheck,
    PinAttempts, PinCheck, PolicyCanary, PolicyContext,
};
use api::types::{PluginError, PluginInfo, Timestamp, Verdict};

/// Everything a plugin author needs in scope.
pub mod prelude {
    pub use crate::api::attendant::*;
    pub use crate::api::focus::*;
    pub use crate::api::normalizer::*;
    pub use crate::api::policy::*;
    pub use crate::api::pstn;
    pub use crate::api::types::*;
    pub use crate::document::Document;
    pub use crate::state::{Decoder, Encoder};
    pub use crate::{Attendant, FocusFactory, MeetingPolicy, Normalizer};
}

/// World `normalizer`: dialled digits to E.164.
pub trait Normalizer {
    /// Who the plugin is; usually `plenum_sdk::plugin_info!("…")`.
    fn info() -> PluginInfo;
    /// Vectors the host runs at upload; a plugin that fails its own is refused.
    fn canaries() -> Vec<NormalizerCanary> {
        Vec::new()
    }
    /// Normalize one number.
    fn normalize(request: NormalizeRequest) -> Result<NormalizeOutcome, PluginError>;
}

/// World `attendant`: the dial-in IVR as a step function over opaque state.
pub trait Attendant {
    /// Who the plugin is.
    fn info() -> PluginInfo;
    /// Scripted calls the host runs at upload.
    fn canaries() -> Vec<AttendantCanary> {
        Vec::new()
    }
    /// One step: the state from the previous step (empty at `call-started`) and an event in;
    /// the new state and the actions out.
    fn step(call: CallInfo, state: Vec<u8>, event: Event) -> Result<StepResult, PluginError>;
}

/// World `meeting-policy`.
pub trait MeetingPolicy {
    /// Who the plugin is.
    fn info() -> PluginInfo;
    /// Vectors the host runs at upload, with an empty policy document.
    fn canaries() -> Vec<PolicyCanary> {
        Vec::new()
    }
    /// The declarative settings for the tenant's document.
    fn settings(context: PolicyContext) -> Result<MeetingSettings, PluginError>;
    /// Judge a passcode.
    fn check_passcode(context: PolicyContext, check: PasscodeCheck)
    -> Result<Verdict, PluginError>;
    /// Judge a PIN.
    fn check_pin(context: PolicyContext, check: PinCheck) -> Result<Verdict, PluginError>;
    /// New PIN counters after an attempt.
    fn record_attempt(
        context: PolicyContext,
        pin_length: u8,
        attempts: PinAttempts,
        outcome: AttemptOutcome,
        now: Timestamp,
    ) -> Result<PinAttempts, PluginError>;
    /// Admit, hold, lobby or deny.
    fn admit(
        context: PolicyContext,
        request: AdmissionRequest,
    ) -> Result<AdmissionDecision, PluginError>;
}

/// World `focus-factory`.
pub trait FocusFactory {
    /// Who the plugin is.
    fn info() -> PluginInfo;
    /// Vectors the host runs at upload.
    fn canaries() -> Vec<FocusCanary> {
        Vec::new()
    }
    /// getConferencingCapabilities.
    fn get_capabilities(context: ScheduleContext) -> Result<Capabilities, PluginError>;
    /// Validate and complete addConference.
    fn complete_add(
        context: ScheduleContext,
        request: ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal>;
    /// Validate and complete modifyConference.
    fn complete_modify(
        context: ScheduleContext,
        current: ConferencePlan,
        request: ConferenceRequest,
    ) -> Result<ConferencePlan, Refusal>;
}

/// `PluginInfo` from the calling crate's Cargo metadata: name and version from `Cargo.toml`,
/// and the given description.
#[macro_export]
macro_rules! plugin_info {
    ($description:expr) => {
        $crate::api::types::PluginInfo {
            name: ::core::env!("CARGO_PKG_NAME").to_owned(),
            version: ::core::env!("CARGO_PKG_VERSION").to_owned(),
            description: ::std::string::String::from($description),
        }
    };
}

/// Export a [`Normalizer`] as the component's `normalizer` world (no-op on native builds).
#[macro_export]
macro_rules! export_normalizer {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::wasm::normalizer::exports::plenum::plugin::normalizer_api as api;
            struct PlenumExport;
            impl api::Guest for PlenumExport {
                fn info() -> api::PluginInfo {
                    $crate::wasm::glue::conv(<$t as $crate::Normalizer>::info())
                }
                fn canaries() -> ::std::vec::Vec<api::NormalizerCanary> {
                    $crate::wasm::glue::conv(<$t as $crate::Normalizer>::canaries())
                }
                fn normalize(request: api::NormalizeRequest) -> ::core::result::Result<api::NormalizeOutcome, api::PluginError> {
                    $crate::wasm::glue::conv(<$t as $crate::Normalizer>::normalize($crate::wasm::glue::conv(request)))
                }
            }
            $crate::wasm::normalizer::__export_normalizer!(PlenumExport with_types_in $crate::wasm::normalizer);
        };
    };
}

/// Export an [`Attendant`] as the component's `attendant` world (no-op on native builds).
#[macro_export]
macro_rules! export_attendant {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::wasm::attendant::exports::plenum::plugin::attendant_api as api;
            struct PlenumExport;
            impl api::Guest for PlenumExport {
                fn info() -> api::PluginInfo {
                    $crate::wasm::glue::conv(<$t as $crate::Attendant>::info())
                }
                fn canaries() -> ::std::vec::Vec<api::AttendantCanary> {
                    $crate::wasm::glue::conv(<$t as $crate::Attendant>::canaries())
                }
                fn step(call: api::CallInfo, state: ::std::vec::Vec<u8>, event: api::Event) -> ::core::result::Result<api::StepResult, api::PluginError> {
                    use $crate::wasm::glue::conv;
                    conv(<$t as $crate::Attendant>::step(conv(call), state, conv(event)))
                }
            }
            $crate::wasm::attendant::__export_attendant!(PlenumExport with_types_in $crate::wasm::attendant);
        };
    };
}

/// Export a [`MeetingPolicy`] as the component's `meeting-policy` world (no-op on native builds).
#[macro_export]
macro_rules! export_meeting_policy {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::wasm::meeting_policy::exports::plenum::plugin::meeting_policy_api as api;
            use $crate::wasm::glue::conv;
            struct PlenumExport;
            impl api::Guest for PlenumExport {
                fn info() -> api::PluginInfo {
                    $crate::wasm::glue::conv(<$t as $crate::MeetingPolicy>::info())
                }
                fn canaries() -> ::std::vec::Vec<api::PolicyCanary> {
                    conv(<$t as $crate::MeetingPolicy>::canaries())
                }
                fn settings(context: api::PolicyContext) -> ::core::result::Result<api::MeetingSettings, api::PluginError> {
                    conv(<$t as $crate::MeetingPolicy>::settings(conv(context)))
                }
                fn check_passcode(context: api::PolicyContext, check: api::PasscodeCheck) -> ::core::result::Result<api::Verdict, api::PluginError> {
                    conv(<$t as $crate::MeetingPolicy>::check_passcode(conv(context), conv(check)))
                }
                fn check_pin(context: api::PolicyContext, check: api::PinCheck) -> ::core::result::Result<api::Verdict, api::PluginError> {
                    conv(<$t as $crate::MeetingPolicy>::check_pin(conv(context), conv(check)))
                }
                fn record_attempt(context: api::PolicyContext, pin_length: u8, attempts: api::PinAttempts, outcome: api::AttemptOutcome, now: i64) -> ::core::result::Result<api::PinAttempts, api::PluginError> {
                    conv(<$t as $crate::MeetingPolicy>::record_attempt(conv(context), pin_length, conv(attempts), conv(outcome), now))
                }
                fn admit(context: api::PolicyContext, request: api::AdmissionRequest) -> ::core::result::Result<api::AdmissionDecision, api::PluginError> {
                    conv(<$t as $crate::MeetingPolicy>::admit(conv(context), conv(request)))
                }
            }
            $crate::wasm::meeting_policy::__export_meeting_policy!(PlenumExport with_types_in $crate::wasm::meeting_policy);
        };
    };
}

/// Export a [`FocusFactory`] as the component's `focus-factory` world (no-op on native builds).
#[macro_export]
macro_rules! export_focus_factory {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::wasm::focus_factory::exports::plenum::plugin::focus_factory_api as api;
            use $crate::wasm::glue::conv;
            struct PlenumExport;
            impl api::Guest for PlenumExport {
                fn info() -> api::PluginInfo {
                    $crate::wasm::glue::conv(<$t as $crate::FocusFactory>::info())
                }
                fn canaries() -> ::std::vec::Vec<api::FocusCanary> {
                    conv(<$t as $crate::FocusFactory>::canaries())
                }
                fn get_capabilities(context: api::ScheduleContext) -> ::core::result::Result<api::Capabilities, api::PluginError> {
                    conv(<$t as $crate::FocusFactory>::get_capabilities(conv(context)))
                }
                fn complete_add(context: api::ScheduleContext, request: api::ConferenceRequest) -> ::core::result::Result<api::ConferencePlan, api::Refusal> {
                    conv(<$t as $crate::FocusFactory>::complete_add(conv(context), conv(request)))
                }
                fn complete_modify(context: api::ScheduleContext, current: api::ConferencePlan, request: api::ConferenceRequest) -> ::core::result::Result<api::ConferencePlan, api::Refusal> {
                    conv(<$t as $crate::FocusFactory>::complete_modify(conv(context), conv(current), conv(request)))
                }
            }
            $crate::wasm::focus_factory::__export_focus_factory!(PlenumExport with_types_in $crate::wasm::focus_factory);
        };
    };
}
