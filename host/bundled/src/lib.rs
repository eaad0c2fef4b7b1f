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

/// The rule-based normalizer.
pub const NORMALIZER_RULES: Bundled =
    Bundled { name: "normalizer-rules", kind: PluginKind::Normalizer, bytes: built::NORMALIZER_RULES };

/// Every bundled plugin.
pub const ALL: &[Bundled] = &[NORMALIZER_RULES];

/// The bundled default of a kind (what a new tenant gets).
pub fn default_for(kind: PluginKind) -> Option<Bundled> {
    ALL.iter().copied().find(|b| b.kind == kind)
}

/// The path of a built component by crate name (e.g. `fixture-loop`), for tests.
pub fn artifact_path(crate_name: &str) -> PathBuf {
    PathBuf::from(ARTIFACT_DIR).join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// The bytes of a built component by crate name, for tests.
pub fn artifact(crate_name: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(artifact_path(crate_name))
}
