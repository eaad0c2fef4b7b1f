//! The plugins Plenum ships, built from `plugins/` and `policies/` for wasm32-wasip2 by this
//! crate's build script: the bytes the `plenum` binary embeds, and the paths of every built
//! component (bundled plugins, the SDK example, hostile fixtures) for tests and benchmarks.

use std::path::PathBuf;

use plenum_types::PluginKind;

mod built {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

pub use built::ARTIFACT_DIR;

/// A bundled plugin.
#[derive(Debug, Clone, Copy)]
pub struct Bundled {
    /// Its name (the crate name).
    pub name: &'static str,
    /// Its kind.
    pub kind: PluginKind,
    /// The component.
    pub bytes: &'static [u8],
}

/// The rule-based normalizer (ordered regex rules per location profile).
pub const NORMALIZER_RULES: Bundled = Bundled {
    name: "normalizer-rules",
    kind: PluginKind::Normalizer,
    bytes: built::NORMALIZER_RULES,
};

/// The OCS 2007 R2-style Conferencing Attendant.
pub const ATTENDANT_OCS: Bundled = Bundled {
    name: "attendant-ocs",
    kind: PluginKind::Attendant,
    bytes: built::ATTENDANT_OCS,
};

/// The default Focus Factory.
pub const FOCUS_FACTORY_DEFAULT: Bundled = Bundled {
    name: "focus-factory-default",
    kind: PluginKind::FocusFactory,
    bytes: built::FOCUS_FACTORY_DEFAULT,
};

/// The default meeting policy (OCS/Lync defaults, loosened or tightened by the document).
pub const MEETING_POLICY_DEFAULT: Bundled = Bundled {
    name: "meeting-policy-default",
    kind: PluginKind::MeetingPolicy,
    bytes: built::MEETING_POLICY_DEFAULT,
};

/// The strict meeting policy (floors a document can only tighten).
pub const MEETING_POLICY_STRICT: Bundled = Bundled {
    name: "meeting-policy-strict",
    kind: PluginKind::MeetingPolicy,
    bytes: built::MEETING_POLICY_STRICT,
};

/// The default of each kind: what a new tenant gets.
pub const DEFAULTS: &[Bundled] = &[
    NORMALIZER_RULES,
    ATTENDANT_OCS,
    MEETING_POLICY_DEFAULT,
    FOCUS_FACTORY_DEFAULT,
];

/// Every bundled plugin.
pub const ALL: &[Bundled] = &[
    NORMALIZER_RULES,
    ATTENDANT_OCS,
    MEETING_POLICY_DEFAULT,
    MEETING_POLICY_STRICT,
    FOCUS_FACTORY_DEFAULT,
];

/// The demo tenant contoso's policy document (`policies/documents/contoso.toml`).
pub const CONTOSO_POLICY: &str = include_str!("../../../policies/documents/contoso.toml");

/// The demo tenant fabrikam's policy document (`policies/documents/fabrikam.toml`).
pub const FABRIKAM_POLICY: &str = include_str!("../../../policies/documents/fabrikam.toml");

/// The bundled default of a kind (what a new tenant gets).
pub fn default_for(kind: PluginKind) -> Option<Bundled> {
    DEFAULTS.iter().copied().find(|b| b.kind == kind)
}

/// The path of a built component by crate name (e.g. `fixture-loop`), for tests.
pub fn artifact_path(crate_name: &str) -> PathBuf {
    PathBuf::from(ARTIFACT_DIR).join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// The bytes of a built component by crate name, for tests.
pub fn artifact(crate_name: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(artifact_path(crate_name))
}
