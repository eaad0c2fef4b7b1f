//! Plenum's audio assets: what callers hear besides each other.
//!
//! - [`Catalog`]: the default catalogue, embedded in the binary (built from `assets/` at the
//!   workspace root, which `assets/generate.sh` renders with espeak-ng and sox): every
//!   attendant prompt (`plenum_plugin_api::attendant::PROMPTS`) plus digits and numbers in
//!   en-US, en-GB, de-DE, fr-FR and es-ES, and the language-neutral [`Tone`]s.
//! - [`PromptPacks`]: tenants' own recordings, loaded from a directory at startup.
//! - [`Prompts`]: a tenant's pack over the catalogue, with language fallback ([`lang`]).
//! - [`wav`]: the WAV reader both use (8 kHz mono 16-bit PCM, µ-law or A-law).
//!
//! All audio is 8 kHz mono linear 16-bit samples, decoded once and shared as `Arc<[i16]>`.
//! Pure: no async runtime, no network; only [`PromptPacks::load`] touches the file system.

#![forbid(unsafe_code)]

mod catalog;
pub mod lang;
mod numbers;
mod packs;
mod prompts;
mod resolve;
pub mod wav;

pub use catalog::{Catalog, Tone};
pub use lang::DEFAULT_LANGUAGE;
pub use numbers::MAX_SAID;
pub use packs::{
    MAX_PACK_CLIP_MS, MAX_PACK_FILE_BYTES, PackError, PackProblem, PackWarning, PromptPacks,
};
pub use prompts::Prompts;
pub use wav::{SAMPLE_RATE, WavError};
