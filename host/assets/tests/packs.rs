//! Tenant prompt packs: loading, checking, and resolving over the catalogue.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::fs;
use std::path::Path;
use std::sync::Arc;

use plenum_assets::{Catalog, PackProblem, PackWarning, PromptPacks, Prompts, Tone, WavError, wav};
use plenum_types::TenantId;

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

/// `ms` of a constant, recognisable signal.
fn clip(ms: usize, value: i16) -> Vec<i16> {
    vec![value; ms * 8]
}

fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn put_clip(root: &Path, rel: &str, value: i16) {
    put(root, rel, &wav::encode_pcm16(&clip(500, value)));
}

/// A stereo 16-bit 8 kHz file.
fn stereo() -> Vec<u8> {
    let mut bytes = wav::encode_pcm16(&clip(100, 1));
    bytes[22] = 2; // channels
    bytes
}

/// Every sample of `c` is `value`.
fn is(c: Option<Arc<[i16]>>, value: i16) -> bool {
    c.is_some_and(|c| !c.is_empty() && c.iter().all(|&s| s == value))
}

fn from_catalog(c: Option<Arc<[i16]>>, lang: &str, name: &str) -> bool {
    let want = Catalog::embedded().clip(lang, name).unwrap();
    c.is_some_and(|c| Arc::ptr_eq(&c, &want))
}

#[test]
fn pack_overrides_per_language_then_catalogue_then_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put_clip(root, "acme/en-US/welcome.wav", 100);
    put_clip(root, "acme/en-gb/welcome.wav", 200); // tag case is normalised
    put_clip(root, "acme/it-IT/welcome.wav", 300); // a language only the tenant has
    put_clip(root, "acme/tones/hold-music.wav", 400);
    let packs = PromptPacks::load(root).unwrap();
    assert!(packs.warnings().is_empty(), "{:?}", packs.warnings());
    assert_eq!(packs.len(), 4);
    let prompts = Prompts::new(Catalog::embedded(), packs);
    let acme = tenant("acme");
    let acme = Some(&acme);

    assert!(is(prompts.clip_for(acme, "en-US", "welcome"), 100));
    assert!(is(prompts.clip_for(acme, "en-GB", "welcome"), 200));
    assert!(is(prompts.clip_for(acme, "en-AU", "welcome"), 200));
    assert!(is(prompts.clip_for(acme, "it-IT", "welcome"), 300));
    assert!(is(prompts.clip_for(acme, "it-CH", "welcome"), 300));
    // The catalogue's German beats the tenant's English for a German caller.
    assert!(from_catalog(
        prompts.clip_for(acme, "de-DE", "welcome"),
        "de-DE",
        "welcome"
    ));
    // What the pack lacks comes from the catalogue, with its fallback.
    assert!(from_catalog(
        prompts.clip_for(acme, "en-US", "goodbye"),
        "en-US",
        "goodbye"
    ));
    assert!(from_catalog(
        prompts.clip_for(acme, "it-IT", "goodbye"),
        "en-US",
        "goodbye"
    ));
    // Other tenants and no tenant hear the catalogue.
    let other = tenant("other");
    assert!(from_catalog(
        prompts.clip_for(Some(&other), "en-US", "welcome"),
        "en-US",
        "welcome"
    ));
    assert!(from_catalog(
        prompts.clip_for(None, "en-US", "welcome"),
        "en-US",
        "welcome"
    ));

    assert!(is(Some(prompts.tone_for(acme, Tone::HoldMusic)), 400));
    let beep = Catalog::embedded().beep();
    assert!(Arc::ptr_eq(&prompts.tone_for(acme, Tone::Beep), &beep));
    assert!(Arc::ptr_eq(&prompts.tone_for(None, Tone::Beep), &beep));

    assert!(prompts.languages_for(acme).contains(&"it-IT"));
    assert!(!prompts.languages_for(None).contains(&"it-IT"));
}

#[test]
fn digits_and_numbers_use_the_pack_too() {
    let dir = tempfile::tempdir().unwrap();
    put_clip(dir.path(), "acme/en-US/digit-7.wav", 7);
    put_clip(dir.path(), "acme/en-US/number-20.wav", 20);
    let prompts = Prompts::new(Catalog::embedded(), PromptPacks::load(dir.path()).unwrap());
    let acme = tenant("acme");
    let digits = prompts.digits_for(Some(&acme), "en-US", "77#");
    assert_eq!(digits.len(), 3);
    assert!(is(digits.first().cloned(), 7) && is(digits.get(1).cloned(), 7));
    assert!(from_catalog(digits.get(2).cloned(), "en-US", "pound"));
    let n = prompts.number_for(Some(&acme), "en-US", 23);
    assert_eq!(n.len(), 2);
    assert!(is(n.first().cloned(), 20));
    assert!(from_catalog(n.get(1).cloned(), "en-US", "number-3"));
}

#[test]
fn a_broken_file_is_an_error_naming_it_and_all_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put_clip(root, "acme/en-US/welcome.wav", 1);
    put(root, "acme/en-US/goodbye.wav", &stereo());
    put(root, "acme/de-DE/welcome.wav", b"ID3 this is an mp3");
    let mut truncated = wav::encode_pcm16(&clip(100, 1));
    truncated.truncate(100);
    put(root, "beta/fr-FR/welcome.wav", &truncated);
    put(
        root,
        "beta/fr-FR/joining.wav",
        &wav::encode_pcm16(&clip(61_000, 1)),
    );

    let err = PromptPacks::load(root).unwrap_err();
    let problems: Vec<(String, String)> = err
        .problems()
        .iter()
        .map(|p| {
            let rel = p.path().strip_prefix(root).unwrap().display().to_string();
            (rel, p.to_string())
        })
        .collect();
    assert_eq!(problems.len(), 4, "{problems:?}");
    let has = |rel: &str, text: &str| {
        problems
            .iter()
            .any(|(r, t)| r == rel && t.contains(text) && t.contains(rel))
    };
    assert!(
        has("acme/de-DE/welcome.wav", "not a WAV file"),
        "{problems:?}"
    );
    assert!(has(
        "acme/en-US/goodbye.wav",
        "2 channels; prompts must be mono"
    ));
    assert!(has("beta/fr-FR/joining.wav", "61000 ms long"));
    assert!(has("beta/fr-FR/welcome.wav", "truncated"));
    assert!(matches!(
        err.problems().get(1),
        Some(PackProblem::Wav {
            source: WavError::Channels { channels: 2 },
            ..
        })
    ));
    // One line for the operator, naming every file.
    let line = err.to_string();
    assert!(line.starts_with("prompt packs: ") && line.matches(".wav").count() == 4);
}

#[test]
fn oversized_files_are_refused_without_reading_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    let big = vec![0u8; (plenum_assets::MAX_PACK_FILE_BYTES + 10) as usize];
    put(dir.path(), "acme/en-US/welcome.wav", &big);
    let err = PromptPacks::load(dir.path()).unwrap_err();
    assert!(matches!(
        err.problems(),
        [PackProblem::TooLarge { bytes, .. }] if *bytes == plenum_assets::MAX_PACK_FILE_BYTES + 10
    ));
}

#[test]
fn unknown_and_stray_entries_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put_clip(root, "acme/en-US/welcom.wav", 1); // typo: loaded, warned
    put_clip(root, "acme/en-US/beep.wav", 1); // a tone in a language directory
    put_clip(root, "acme/tones/ring.wav", 1); // not a tone
    put(root, "acme/en-US/notes.txt", b"todo");
    put_clip(root, "acme/english/welcome.wav", 1); // not a language tag
    put_clip(root, "Not_A_Tenant/en-US/welcome.wav", 1);
    put(root, "README", b"packs");
    put(root, ".hidden/en-US/welcome.wav", b"ignored");
    let packs = PromptPacks::load(root).unwrap();
    let rel = |p: &Path| p.strip_prefix(root).unwrap().display().to_string();
    let mut got: Vec<String> = packs
        .warnings()
        .iter()
        .map(|w| match w {
            PackWarning::UnknownName { path, name } => format!("unknown {name} {}", rel(path)),
            PackWarning::UnknownTone { path } => format!("not-a-tone {}", rel(path)),
            PackWarning::ToneInLanguage { path } => format!("tone-in-language {}", rel(path)),
            PackWarning::NotATenant { path } => format!("not-a-tenant {}", rel(path)),
            PackWarning::NotALanguage { path } => format!("not-a-language {}", rel(path)),
            PackWarning::Stray { path } => format!("stray {}", rel(path)),
            other => format!("{other}"),
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "not-a-language acme/english",
            "not-a-tenant Not_A_Tenant",
            "not-a-tone acme/tones/ring.wav",
            "stray README",
            "stray acme/en-US/notes.txt",
            "tone-in-language acme/en-US/beep.wav",
            "unknown welcom acme/en-US/welcom.wav",
        ]
    );
    // The unknown name is loaded (a tenant's own attendant may play it).
    let acme = tenant("acme");
    assert!(is(packs.clip(&acme, "en-US", "welcom"), 1));
    assert_eq!(packs.len(), 1);
    assert!(
        packs
            .warnings()
            .iter()
            .all(|w| w.to_string().contains(root.to_str().unwrap()))
    );
}

#[test]
fn a_missing_directory_is_an_error_and_an_empty_one_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = PromptPacks::load(&missing).unwrap_err();
    assert!(matches!(err.problems(), [PackProblem::Io { path, .. }] if *path == missing));
    let packs = PromptPacks::load(dir.path()).unwrap();
    assert!(packs.is_empty() && packs.warnings().is_empty());
    assert_eq!(packs.tenants().count(), 0);
    assert!(PromptPacks::empty().is_empty());
}

#[test]
fn mu_law_and_a_law_packs_load() {
    let dir = tempfile::tempdir().unwrap();
    for (tag, lang, byte) in [(7u16, "en-US", 0xFFu8), (6, "de-DE", 0xD5)] {
        let mut bytes = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
        for v in [tag, 1] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(&8000u32.to_le_bytes());
        bytes.extend_from_slice(&8000u32.to_le_bytes());
        for v in [1u16, 8] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(b"data\x20\0\0\0");
        bytes.extend_from_slice(&[byte; 32]);
        put(dir.path(), &format!("acme/{lang}/welcome.wav"), &bytes);
    }
    let packs = PromptPacks::load(dir.path()).unwrap();
    let acme = tenant("acme");
    assert!(is(packs.clip(&acme, "en-US", "welcome"), 0));
    assert!(is(packs.clip(&acme, "de-DE", "welcome"), 8));
    assert_eq!(packs.languages(&acme), ["de-DE", "en-US"]);
}
