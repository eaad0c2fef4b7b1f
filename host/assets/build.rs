//! Embeds the default catalogue: walks `assets/prompts/<lang>/<name>.wav` and
//! `assets/tones/<tone>.wav` at the workspace root, checks every file with the crate's own WAV
//! reader (a broken asset fails the build, naming the file), and writes
//! `$OUT_DIR/embedded.rs`: two sorted tables of `include_bytes!`.

#![forbid(unsafe_code)]

#[allow(dead_code)]
#[path = "src/wav.rs"]
mod wav;

use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The tones every build must have.
const TONES: &[&str] = &["entry", "exit", "beep", "hold-music"];

/// Longest embedded clip, in ms (hold music is ~30 s).
const MAX_MS: u64 = 60_000;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let assets = manifest.join("../../assets").canonicalize()?;
    for dir in ["prompts", "tones", "prompts.tsv"] {
        println!("cargo:rerun-if-changed={}", assets.join(dir).display());
    }
    println!("cargo:rerun-if-changed=src/wav.rs");

    let prompts = prompt_files(&assets.join("prompts"))?;
    let tones = tone_files(&assets.join("tones"))?;
    let mut code = String::new();
    code.push_str("/// `(language, name, WAV bytes)` of every embedded prompt, sorted.\n");
    code.push_str("pub(crate) static PROMPTS: &[(&str, &str, &[u8])] = &[\n");
    for (lang, name, path) in &prompts {
        writeln!(
            code,
            "    ({lang:?}, {name:?}, include_bytes!({:?})),",
            path_str(path)?
        )?;
    }
    code.push_str("];\n\n/// `(name, WAV bytes)` of every embedded tone, sorted.\n");
    code.push_str("pub(crate) static TONES: &[(&str, &[u8])] = &[\n");
    for (name, path) in &tones {
        writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path_str(path)?
        )?;
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("embedded.rs");
    fs::write(out, code)?;
    Ok(())
}

/// `(lang, name, path)` of every prompt, sorted, each checked.
fn prompt_files(root: &Path) -> Result<Vec<(String, String, PathBuf)>> {
    let mut out = Vec::new();
    for lang_dir in sorted_entries(root)? {
        let lang = file_name(&lang_dir)?;
        if !lang_dir.is_dir() || !is_lang_tag(&lang) {
            return Err(format!("{}: expected a language directory", lang_dir.display()).into());
        }
        for file in sorted_entries(&lang_dir)? {
            let name = wav_stem(&file)?;
            check(&file)?;
            out.push((lang.clone(), name, file));
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no prompts; run assets/generate.sh", root.display()).into());
    }
    Ok(out)
}

/// `(name, path)` of every tone, sorted, each checked; all of [`TONES`] must be there.
fn tone_files(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for file in sorted_entries(root)? {
        let name = wav_stem(&file)?;
        if !TONES.contains(&name.as_str()) {
            return Err(format!("{}: not a tone ({TONES:?})", file.display()).into());
        }
        check(&file)?;
        out.push((name, file));
    }
    for tone in TONES {
        if !out.iter().any(|(n, _)| n == tone) {
            return Err(format!("{}: missing {tone}.wav", root.display()).into());
        }
    }
    Ok(out)
}

/// Decode `file` with the crate's reader: a broken asset fails the build.
fn check(file: &Path) -> Result<()> {
    let bytes = fs::read(file)?;
    let wav = wav::parse(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    if wav.duration_ms() > MAX_MS {
        return Err(format!("{}: longer than {MAX_MS} ms", file.display()).into());
    }
    Ok(())
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry?.path();
        if !file_name(&path)?.starts_with('.') {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: not a UTF-8 file name", path.display()).into())
}

/// The name of `<name>.wav`, checked to be lower-case words joined by `-`.
fn wav_stem(file: &Path) -> Result<String> {
    let name = file_name(file)?;
    let stem = name.strip_suffix(".wav").unwrap_or_default();
    let ok = !stem.is_empty()
        && stem.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if ok && file.is_file() {
        Ok(stem.to_owned())
    } else {
        Err(format!("{}: expected <name>.wav", file.display()).into())
    }
}

/// `xx-YY` (or `xxx-YY`): the canonical tags the generator writes.
fn is_lang_tag(s: &str) -> bool {
    match s.split_once('-') {
        Some((p, r)) => {
            (2..=3).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_lowercase())
                && r.len() == 2
                && r.bytes().all(|b| b.is_ascii_uppercase())
        }
        None => false,
    }
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| format!("{}: not a UTF-8 path", path.display()).into())
}
