//! Reading an uploaded component before it runs: is it a component at all, which world does it
//! export, which contract version was it built against, does it import only what the host
//! grants; and compiling it, through the precompiled-artifact cache.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use plenum_plugin_api::{PluginKind, WIT_PACKAGE};
use plenum_types::Digest;
use sha2::Digest as _;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::LoadError;

/// The contract versions this host links: `0.1.x`.
pub const SUPPORTED_VERSIONS: &str = "0.1.x";

/// WASI interfaces a std guest imports and the host links (empty, deny-by-default).
const GRANTED_WASI: &[&str] = &[
    "wasi:io/",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-",
    "wasi:clocks/",
    "wasi:random/",
];

/// The sha256 of a component's bytes.
pub fn digest_of(bytes: &[u8]) -> Digest {
    Digest(sha2::Sha256::digest(bytes).into())
}

/// Check the binary header: a component, not a core module or something else.
pub(crate) fn check_header(bytes: &[u8]) -> Result<(), LoadError> {
    match (bytes.get(..4), bytes.get(4..8)) {
        (Some(b"\0asm"), Some([0x0d, 0x00, 0x01, 0x00])) => Ok(()),
        (Some(b"\0asm"), Some([0x01, 0x00, 0x00, 0x00])) => Err(LoadError::CoreModule),
        (Some(b"\0asm"), _) => Err(LoadError::Invalid(
            "unknown WebAssembly binary version".into(),
        )),
        _ => Err(LoadError::NotWasm),
    }
}

/// Decide a compiled component's kind from its exports and check its imports.
pub(crate) fn inspect(engine: &Engine, component: &Component) -> Result<PluginKind, LoadError> {
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        check_import(name)?;
    }
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let mut found = Vec::new();
    for name in &exports {
        let Some((iface, version)) = contract_interface(name) else {
            continue;
        };
        let Some(kind) = PluginKind::ALL
            .into_iter()
            .find(|k| k.export_interface() == iface)
        else {
            continue;
        };
        if !supported(version) {
            return Err(LoadError::UnsupportedVersion {
                found: version.to_owned(),
            });
        }
        found.push(kind);
    }
    match found.as_slice() {
        [kind] => Ok(*kind),
        _ => Err(LoadError::WrongWorld { exports }),
    }
}

fn check_import(name: &str) -> Result<(), LoadError> {
    if let Some((_, version)) = contract_interface(name) {
        return if supported(version) {
            Ok(())
        } else {
            Err(LoadError::UnsupportedVersion {
                found: version.to_owned(),
            })
        };
    }
    if GRANTED_WASI.iter().any(|p| name.starts_with(p)) {
        return Ok(());
    }
    Err(LoadError::ForbiddenImport(name.to_owned()))
}

/// `plenum:plugin/<iface>@<version>` → `(iface, version)`.
fn contract_interface(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix(WIT_PACKAGE)?.strip_prefix('/')?;
    rest.split_once('@')
}

fn supported(version: &str) -> bool {
    version.starts_with("0.1.")
}

/// Precompiled components on disk, keyed by content digest and engine compatibility, so a
/// restart or a rollback does not compile again.
#[derive(Debug, Clone)]
pub(crate) struct ArtifactCache {
    dir: PathBuf,
    engine_key: String,
}

impl ArtifactCache {
    pub(crate) fn new(dir: &Path, engine: &Engine) -> std::io::Result<ArtifactCache> {
        std::fs::create_dir_all(dir)?;
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Ok(ArtifactCache {
            dir: dir.to_owned(),
            engine_key: format!("{:016x}", h.finish()),
        })
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join(format!("{}-{}.cwasm", digest.to_hex(), self.engine_key))
    }

    /// A cached artifact, if one is there and loads. The file is read into memory rather than
    /// mapped, so that whatever later happens to the file cannot fault a running plugin.
    pub(crate) fn load(&self, engine: &Engine, digest: &Digest) -> Option<Component> {
        let path = self.path(digest);
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: the cache directory is the host's own; every file in it was written by
        // `store` below from a component this engine compiled, and its name binds it to the
        // content digest and to this engine's compatibility hash. wasmtime still checks the
        // header and the engine configuration and refuses a file that does not match.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %format!("{e:#}"), "dropping unusable cached artifact");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Write an artifact (atomically: temp file, then rename).
    pub(crate) fn store(&self, digest: &Digest, component: &Component) {
        let result = component
            .serialize()
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                let path = self.path(digest);
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                std::fs::write(&tmp, bytes)
                    .and_then(|()| std::fs::rename(&tmp, &path))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = result {
            tracing::warn!(digest = %digest.short(), error = %e, "could not cache compiled plugin");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert!(matches!(
            check_header(b"hello world"),
            Err(LoadError::NotWasm)
        ));
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0"),
            Err(LoadError::CoreModule)
        ));
        assert!(check_header(b"\0asm\x0d\0\x01\0").is_ok());
        assert!(matches!(check_header(b""), Err(LoadError::NotWasm)));
    }

    #[test]
    fn imports() {
        assert!(check_import("wasi:io/streams@0.2.6").is_ok());
        assert!(check_import("wasi:cli/stderr@0.2.6").is_ok());
        assert!(check_import("plenum:plugin/host@0.1.0").is_ok());
        assert!(matches!(
            check_import("plenum:plugin/host@0.2.0"),
            Err(LoadError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            check_import("wasi:sockets/tcp@0.2.6"),
            Err(LoadError::ForbiddenImport(_))
        ));
        assert!(matches!(
            check_import("wasi:filesystem/types@0.2.6"),
            Err(LoadError::ForbiddenImport(_))
        ));
    }
}
