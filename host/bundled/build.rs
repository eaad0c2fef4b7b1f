//! Builds the plugin workspace (`plugins/Cargo.toml`: bundled plugins, policies, fixtures) for
//! wasm32-wasip2 with a nested cargo in its own target directory (toolchain.md P7/P8: guests
//! never join the native build), then writes `bundled.rs` naming the artifacts.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("../..");
    let plugins = root.join("plugins");
    let target = root.join("target/plenum-plugins");
    watch(&root);

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--workspace",
            "--manifest-path",
        ])
        .arg(plugins.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_LLVM_COV")
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!(
            "building the Wasm plugins failed ({s}); see the errors above"
        )),
        Err(e) => fail(&format!("cannot run cargo to build the Wasm plugins: {e}")),
    }

    let out_dir = target.join("wasm32-wasip2/release");
    let mut src = String::new();
    src.push_str(&format!(
        "/// Where the built components are.\npub const ARTIFACT_DIR: &str = {:?};\n",
        out_dir.display().to_string()
    ));
    for (konst, file) in EMBEDDED {
        let path = out_dir.join(format!("{file}.wasm"));
        if !path.exists() {
            fail(&format!(
                "expected {} after the plugin build",
                path.display()
            ));
        }
        src.push_str(&format!(
            "/// `{file}.wasm`.\npub const {konst}: &[u8] = include_bytes!({:?});\n",
            path.display().to_string()
        ));
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("bundled.rs");
    if let Err(e) = std::fs::write(&out, src) {
        fail(&format!("cannot write {}: {e}", out.display()));
    }
}

/// The components the `plenum` binary carries.
const EMBEDDED: &[(&str, &str)] = &[
    ("NORMALIZER_RULES", "normalizer_rules"),
    ("ATTENDANT_OCS", "attendant_ocs"),
    ("FOCUS_FACTORY_DEFAULT", "focus_factory_default"),
    ("MEETING_POLICY_DEFAULT", "meeting_policy_default"),
    ("MEETING_POLICY_STRICT", "meeting_policy_strict"),
];

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

/// Rebuild when the contract, the SDK or any plugin source changes (never scan target dirs).
fn watch(root: &Path) {
    for p in [
        "wit",
        "sdk/src",
        "sdk/Cargo.toml",
        "sdk/api/src",
        "sdk/api/Cargo.toml",
        "plugins/Cargo.toml",
        "plugins/Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    for dir in ["plugins", "policies"] {
        watch_tree(&root.join(dir));
    }
}

fn watch_tree(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            watch_tree(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
