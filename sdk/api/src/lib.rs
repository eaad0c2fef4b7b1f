//! The plugin contract (`wit/plenum.wit`, package `plenum:plugin@0.1.0`) as plain Rust values.
//!
//! The host and the SDK both speak in these types: the host's plugin runtime converts them to and
//! from the wasmtime bindings, the SDK to and from the wit-bindgen bindings, and a plugin compiled
//! natively (for its own tests) uses them directly. The names follow the WIT one to one (records
//! become structs, variants and enums become enums, kebab-case becomes Rust case), so
//! [`bind_conversions!`] can write both directions of every conversion from one table.
//!
//! This crate owns the shapes only; it does no I/O and pulls in nothing but (optionally) serde.

pub mod attendant;
pub mod conv;
pub mod focus;
pub mod normalizer;
pub mod policy;
pub mod pstn;
pub mod transcript;
pub mod types;

pub use conv::{Conv, WireSize};

/// The WIT package version this crate mirrors.
pub const WIT_VERSION: &str = "0.1.0";

/// The WIT package name.
pub const WIT_PACKAGE: &str = "plenum:plugin";

/// The four kinds of plugin, one WIT world each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum PluginKind {
    /// World `normalizer`: dialled digits to E.164.
    Normalizer,
    /// World `attendant`: the dial-in IVR flow.
    Attendant,
    /// World `meeting-policy`: passcode/PIN rules, lockout, admission, keypad.
    MeetingPolicy,
    /// World `focus-factory`: capabilities and meeting validation.
    FocusFactory,
}

impl PluginKind {
    /// Every kind, in a fixed order.
    pub const ALL: [PluginKind; 4] = [
        PluginKind::Normalizer,
        PluginKind::Attendant,
        PluginKind::MeetingPolicy,
        PluginKind::FocusFactory,
    ];

    /// The WIT world name (`normalizer`, `attendant`, `meeting-policy`, `focus-factory`).
    pub fn world(self) -> &'static str {
        match self {
            PluginKind::Normalizer => "normalizer",
            PluginKind::Attendant => "attendant",
            PluginKind::MeetingPolicy => "meeting-policy",
            PluginKind::FocusFactory => "focus-factory",
        }
    }

    /// The interface the world exports, without package or version (`normalizer-api`, ...).
    pub fn export_interface(self) -> &'static str {
        match self {
            PluginKind::Normalizer => "normalizer-api",
            PluginKind::Attendant => "attendant-api",
            PluginKind::MeetingPolicy => "meeting-policy-api",
            PluginKind::FocusFactory => "focus-factory-api",
        }
    }

    /// Parse a world name.
    pub fn from_world(name: &str) -> Option<PluginKind> {
        PluginKind::ALL.into_iter().find(|k| k.world() == name)
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.world())
    }
}

impl std::str::FromStr for PluginKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PluginKind::from_world(s).ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// A string that names no plugin kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl std::fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown plugin kind `{}` (expected normalizer, attendant, meeting-policy or focus-factory)",
            self.0
        )
    }
}

impl std::error::Error for UnknownKind {}
