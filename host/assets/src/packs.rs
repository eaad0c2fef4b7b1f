//! Tenant prompt packs: a tenant's own recordings, loaded from a directory at startup.
//!
//! Owns: reading `<dir>/<tenant-id>/<lang>/<name>.wav` and `<dir>/<tenant-id>/tones/<tone>.wav`,
//! checking every file (format, at most [`MAX_PACK_CLIP_MS`]), and reporting what is wrong:
//! a file that cannot be used is an error naming it (all of them at once, so the operator
//! fixes them in one go); a file or directory that is merely unexpected (an unknown prompt
//! name, a stray file) is a [`PackWarning`], logged and kept in [`PromptPacks::warnings`].
//! Does not own: falling back to the catalogue ([`crate::Prompts`]).
//!
//! Files are decoded once, at load.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use plenum_types::TenantId;

use crate::catalog::{Catalog, Tone};
use crate::resolve::Source;
use crate::wav::{self, WavError};

/// Longest clip a pack may hold, in milliseconds.
pub const MAX_PACK_CLIP_MS: u64 = 60_000;

/// Largest file a pack may hold, in bytes (60 s of 16-bit PCM plus room for other chunks).
pub const MAX_PACK_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// The directory of a tenant's tones (in place of a language).
const TONES_DIR: &str = "tones";

/// Every tenant's prompt pack.
#[derive(Debug, Default)]
pub struct PromptPacks {
    tenants: BTreeMap<TenantId, Pack>,
    warnings: Vec<PackWarning>,
}

/// One tenant's pack.
#[derive(Debug, Default)]
pub(crate) struct Pack {
    /// language → name → samples.
    clips: BTreeMap<String, BTreeMap<String, Arc<[i16]>>>,
    tones: BTreeMap<Tone, Arc<[i16]>>,
}

/// Packs could not be loaded: every problem found, in path order.
#[derive(Debug, thiserror::Error)]
#[error("prompt packs: {}", list(.problems))]
pub struct PackError {
    problems: Vec<PackProblem>,
}

impl PackError {
    /// Every problem found, in path order.
    pub fn problems(&self) -> &[PackProblem] {
        &self.problems
    }
}

/// One thing that stops the packs from loading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackProblem {
    /// A directory or file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file is not a WAV file Plenum can play.
    #[error("{}: {source}", path.display())]
    Wav {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: WavError,
    },
    /// A clip is longer than [`MAX_PACK_CLIP_MS`].
    #[error("{}: {ms} ms long; at most {MAX_PACK_CLIP_MS} ms", path.display())]
    TooLong {
        /// The file.
        path: PathBuf,
        /// Its duration.
        ms: u64,
    },
    /// A file is larger than [`MAX_PACK_FILE_BYTES`].
    #[error("{}: {bytes} bytes; at most {MAX_PACK_FILE_BYTES}", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
}

impl PackProblem {
    /// The file or directory concerned.
    pub fn path(&self) -> &Path {
        match self {
            PackProblem::Io { path, .. }
            | PackProblem::Wav { path, .. }
            | PackProblem::TooLong { path, .. }
            | PackProblem::TooLarge { path, .. } => path,
        }
    }
}

/// Something in a pack directory that was skipped or may be a mistake; loading goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackWarning {
    /// A clip whose name is not in the catalogue (a typo, or a prompt only the tenant's own
    /// attendant plays). It is loaded.
    #[error("{}: `{name}` is not a prompt of the catalogue (loaded anyway)", path.display())]
    UnknownName {
        /// The file.
        path: PathBuf,
        /// Its name.
        name: String,
    },
    /// A file in `tones/` that is not a tone. Skipped.
    #[error("{}: not a tone (entry, exit, beep, hold-music); skipped", path.display())]
    UnknownTone {
        /// The file.
        path: PathBuf,
    },
    /// A tone in a language directory. Skipped: tones are language-neutral.
    #[error("{}: tones are language-neutral, put it in <tenant>/tones/; skipped", path.display())]
    ToneInLanguage {
        /// The file.
        path: PathBuf,
    },
    /// A directory whose name is not a tenant id. Skipped.
    #[error("{}: not a tenant id; skipped", path.display())]
    NotATenant {
        /// The directory.
        path: PathBuf,
    },
    /// A directory in a tenant's pack whose name is not a language tag nor `tones`. Skipped.
    #[error("{}: not a language tag nor `tones`; skipped", path.display())]
    NotALanguage {
        /// The directory.
        path: PathBuf,
    },
    /// A file that is not `<name>.wav` where a clip was expected, or a file where a
    /// directory was expected. Skipped.
    #[error("{}: not <name>.wav; skipped", path.display())]
    Stray {
        /// The file.
        path: PathBuf,
    },
}

impl PromptPacks {
    /// No packs: every tenant hears the default catalogue.
    pub fn empty() -> PromptPacks {
        PromptPacks::default()
    }

    /// Load every pack under `dir` (`<dir>/<tenant-id>/<lang>/<name>.wav`,
    /// `<dir>/<tenant-id>/tones/<tone>.wav`). Names are checked against the embedded
    /// catalogue. Hidden entries (`.name`) are ignored. Warnings are logged as they are found.
    pub fn load(dir: &Path) -> Result<PromptPacks, PackError> {
        let catalog = Catalog::embedded();
        let mut loader = Loader {
            catalog: &catalog,
            problems: Vec::new(),
            warnings: Vec::new(),
        };
        let mut tenants = BTreeMap::new();
        for path in loader.entries(dir) {
            if !path.is_dir() {
                loader.warn(PackWarning::Stray { path });
                continue;
            }
            match file_name(&path).map(TenantId::new) {
                Some(Ok(tenant)) => {
                    let pack = loader.pack(&path);
                    tenants.insert(tenant, pack);
                }
                _ => loader.warn(PackWarning::NotATenant { path }),
            }
        }
        if loader.problems.is_empty() {
            Ok(PromptPacks {
                tenants,
                warnings: loader.warnings,
            })
        } else {
            Err(PackError {
                problems: loader.problems,
            })
        }
    }

    /// What was skipped or looked wrong while loading.
    pub fn warnings(&self) -> &[PackWarning] {
        &self.warnings
    }

    /// The tenants that have a pack.
    pub fn tenants(&self) -> impl Iterator<Item = &TenantId> {
        self.tenants.keys()
    }

    /// The languages of `tenant`'s pack (sorted; empty without a pack).
    pub fn languages(&self, tenant: &TenantId) -> Vec<&str> {
        self.pack(tenant).map(Source::languages).unwrap_or_default()
    }

    /// The clip `name` in exactly `lang` (a canonical tag) from `tenant`'s pack, without
    /// fallback.
    pub fn clip(&self, tenant: &TenantId, lang: &str, name: &str) -> Option<Arc<[i16]>> {
        self.pack(tenant)?.clip(lang, name)
    }

    /// `tenant`'s own `tone`, if its pack has one.
    pub fn tone(&self, tenant: &TenantId, tone: Tone) -> Option<Arc<[i16]>> {
        self.pack(tenant)?.tones.get(&tone).cloned()
    }

    /// How many clips and tones all packs hold.
    pub fn len(&self) -> usize {
        self.tenants
            .values()
            .map(|p| p.tones.len() + p.clips.values().map(BTreeMap::len).sum::<usize>())
            .sum()
    }

    /// Whether no pack holds anything.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn pack(&self, tenant: &TenantId) -> Option<&Pack> {
        self.tenants.get(tenant)
    }
}

impl Source for Pack {
    fn clip(&self, lang: &str, name: &str) -> Option<Arc<[i16]>> {
        self.clips.get(lang)?.get(name).cloned()
    }

    fn languages(&self) -> Vec<&str> {
        self.clips.keys().map(String::as_str).collect()
    }
}

/// The state of one [`PromptPacks::load`].
struct Loader<'a> {
    catalog: &'a Catalog,
    problems: Vec<PackProblem>,
    warnings: Vec<PackWarning>,
}

impl Loader<'_> {
    /// One tenant's directory.
    fn pack(&mut self, dir: &Path) -> Pack {
        let mut pack = Pack::default();
        for path in self.entries(dir) {
            let name = file_name(&path).unwrap_or_default();
            if !path.is_dir() {
                self.warn(PackWarning::Stray { path });
            } else if name == TONES_DIR {
                pack.tones = self.tones(&path);
            } else if let Some(lang) = crate::lang::normalize(name) {
                let clips = self.language(&path);
                pack.clips.entry(lang).or_default().extend(clips);
            } else {
                self.warn(PackWarning::NotALanguage { path });
            }
        }
        pack
    }

    /// A tenant's `tones/` directory.
    fn tones(&mut self, dir: &Path) -> BTreeMap<Tone, Arc<[i16]>> {
        let mut tones = BTreeMap::new();
        for path in self.entries(dir) {
            match wav_stem(&path).map(Tone::from_name) {
                Some(Some(tone)) => {
                    if let Some(samples) = self.read(&path) {
                        tones.insert(tone, samples);
                    }
                }
                Some(None) => self.warn(PackWarning::UnknownTone { path }),
                None => self.warn(PackWarning::Stray { path }),
            }
        }
        tones
    }

    /// One language directory of a tenant.
    fn language(&mut self, dir: &Path) -> BTreeMap<String, Arc<[i16]>> {
        let mut clips = BTreeMap::new();
        for path in self.entries(dir) {
            let Some(name) = wav_stem(&path).map(str::to_owned) else {
                self.warn(PackWarning::Stray { path });
                continue;
            };
            if Tone::from_name(&name).is_some() {
                self.warn(PackWarning::ToneInLanguage { path });
                continue;
            }
            let Some(samples) = self.read(&path) else {
                continue;
            };
            if !self.catalog.is_known_name(&name) {
                self.warn(PackWarning::UnknownName {
                    path,
                    name: name.clone(),
                });
            }
            clips.insert(name, samples);
        }
        clips
    }

    /// Read and check one file; a problem is recorded and gives `None`.
    fn read(&mut self, path: &Path) -> Option<Arc<[i16]>> {
        match read_clip(path) {
            Ok(samples) => Some(samples),
            Err(problem) => {
                self.problems.push(problem);
                None
            }
        }
    }

    /// The entries of `dir`, sorted, hidden ones left out; an unreadable directory is a
    /// problem (and no entries).
    fn entries(&mut self, dir: &Path) -> Vec<PathBuf> {
        let listed = fs::read_dir(dir).and_then(|rd| {
            rd.map(|e| e.map(|e| e.path()))
                .collect::<io::Result<Vec<_>>>()
        });
        match listed {
            Ok(mut paths) => {
                paths.retain(|p| !file_name(p).is_some_and(|n| n.starts_with('.')));
                paths.sort();
                paths
            }
            Err(source) => {
                self.problems.push(PackProblem::Io {
                    path: dir.to_owned(),
                    source,
                });
                Vec::new()
            }
        }
    }

    fn warn(&mut self, warning: PackWarning) {
        tracing::warn!(%warning, "prompt pack");
        self.warnings.push(warning);
    }
}

/// Read, check and decode one clip.
fn read_clip(path: &Path) -> Result<Arc<[i16]>, PackProblem> {
    let io = |source| PackProblem::Io {
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    // Read one byte past the limit, so an oversized file is seen without reading it all.
    file.take(MAX_PACK_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let len = bytes.len() as u64;
    if len > MAX_PACK_FILE_BYTES {
        let bytes = fs::metadata(path).map_or(len, |m| m.len());
        return Err(PackProblem::TooLarge {
            path: path.to_owned(),
            bytes,
        });
    }
    let wav = wav::parse(&bytes).map_err(|source| PackProblem::Wav {
        path: path.to_owned(),
        source,
    })?;
    let ms = wav.duration_ms();
    if ms > MAX_PACK_CLIP_MS {
        return Err(PackProblem::TooLong {
            path: path.to_owned(),
            ms,
        });
    }
    Ok(wav.decode().into())
}

fn file_name(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()
}

/// `name` of a `name.wav` file (lower-case `.wav` only).
fn wav_stem(path: &Path) -> Option<&str> {
    let stem = file_name(path)?.strip_suffix(".wav")?;
    (!stem.is_empty() && path.is_file()).then_some(stem)
}

/// `a; b; c`.
fn list(problems: &[PackProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
