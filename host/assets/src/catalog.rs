//! The default catalogue, embedded in the binary.
//!
//! Owns: the prompts of every shipped language and the language-neutral tones, as built from
//! `assets/` by the build script (µ-law WAV bytes in the executable), decoded on first use and
//! cached; lookups with language fallback. Does not own: tenant packs ([`crate::PromptPacks`])
//! or choosing between a pack and the catalogue ([`crate::Prompts`]).
//!
//! Decoding is lazy: a clip is decoded the first time it is asked for and kept (as an
//! `Arc<[i16]>`, shared by every caller). Measured: indexing takes ~0.2 ms; decoding the whole
//! catalogue (6.5 M samples) ~10 ms in a release build (~80 ms in debug) and 13 MB of memory,
//! most of it for languages a deployment never uses, hence lazy. [`Catalog::preload`] decodes
//! everything at once, for a server that wants no first-call cost.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use crate::resolve::{Lookup, Source, WarnOnce};
use crate::wav;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// A language-neutral sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tone {
    /// Someone joined: a short rising chime.
    Entry,
    /// Someone left: a short falling chime.
    Exit,
    /// Record after the beep.
    Beep,
    /// Waiting music, ~30 s, loops without a click.
    HoldMusic,
}

impl Tone {
    /// Every tone.
    pub const ALL: [Tone; 4] = [Tone::Entry, Tone::Exit, Tone::Beep, Tone::HoldMusic];

    /// The file name without `.wav` (`entry`, `exit`, `beep`, `hold-music`).
    pub fn name(self) -> &'static str {
        match self {
            Tone::Entry => "entry",
            Tone::Exit => "exit",
            Tone::Beep => "beep",
            Tone::HoldMusic => "hold-music",
        }
    }

    /// The tone called `name`, if any.
    pub fn from_name(name: &str) -> Option<Tone> {
        Tone::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The default prompt catalogue: every prompt in every shipped language, and the tones.
///
/// Cheap to clone (the clips and their decoded cache are shared).
#[derive(Debug, Clone)]
pub struct Catalog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// language → name → clip.
    clips: BTreeMap<&'static str, BTreeMap<&'static str, Lazy>>,
    /// tone → clip.
    tones: BTreeMap<Tone, Lazy>,
    warned: WarnOnce,
}

/// An embedded WAV file, decoded on first use.
#[derive(Debug)]
struct Lazy {
    what: &'static str,
    bytes: &'static [u8],
    decoded: OnceLock<Arc<[i16]>>,
}

impl Lazy {
    fn new(what: &'static str, bytes: &'static [u8]) -> Lazy {
        Lazy {
            what,
            bytes,
            decoded: OnceLock::new(),
        }
    }

    fn get(&self) -> Arc<[i16]> {
        self.decoded
            .get_or_init(|| match wav::decode(self.bytes) {
                Ok(samples) => samples.into(),
                // The build script decoded every embedded file with this same reader, so
                // this cannot happen; an empty clip is the harmless answer if it did.
                Err(error) => {
                    tracing::error!(clip = self.what, %error, "embedded clip does not decode");
                    Arc::from([])
                }
            })
            .clone()
    }
}

impl Catalog {
    /// The catalogue built into this binary. The first call indexes it (no decoding); later
    /// calls return the same catalogue, sharing its cache.
    pub fn embedded() -> Catalog {
        static EMBEDDED: OnceLock<Catalog> = OnceLock::new();
        EMBEDDED.get_or_init(Catalog::index_embedded).clone()
    }

    fn index_embedded() -> Catalog {
        let mut clips: BTreeMap<_, BTreeMap<_, _>> = BTreeMap::new();
        for &(lang, name, bytes) in embedded::PROMPTS {
            clips
                .entry(lang)
                .or_default()
                .insert(name, Lazy::new(name, bytes));
        }
        let tones = Tone::ALL
            .into_iter()
            .map(|tone| {
                let bytes = embedded::TONES
                    .iter()
                    .find(|(name, _)| *name == tone.name())
                    .map_or(&[][..], |(_, bytes)| bytes);
                (tone, Lazy::new(tone.name(), bytes))
            })
            .collect();
        Catalog {
            inner: Arc::new(Inner {
                clips,
                tones,
                warned: WarnOnce::default(),
            }),
        }
    }

    /// The languages of the catalogue (canonical tags, sorted).
    pub fn languages(&self) -> Vec<&str> {
        self.inner.clips.keys().copied().collect()
    }

    /// The default language, the last fallback of every lookup: `en-US`.
    pub fn default_language(&self) -> &'static str {
        crate::DEFAULT_LANGUAGE
    }

    /// The prompt `name` in `lang`, falling back to a related language and then to the
    /// default language (see [`crate::lang`]); each distinct fallback is logged once. `None`
    /// only if no language has `name`.
    pub fn clip(&self, lang: &str, name: &str) -> Option<Arc<[i16]>> {
        self.lookup().clip(lang, name)
    }

    /// Whether the catalogue has `name` in exactly `lang` (a canonical tag), without fallback.
    pub fn contains(&self, lang: &str, name: &str) -> bool {
        self.lazy(lang, name).is_some()
    }

    /// Whether `name` is a prompt of the catalogue in any language.
    pub fn is_known_name(&self, name: &str) -> bool {
        self.inner.clips.values().any(|c| c.contains_key(name))
    }

    /// The names of the prompts in exactly `lang` (sorted; empty for an unknown language).
    pub fn names(&self, lang: &str) -> Vec<&str> {
        self.inner
            .clips
            .get(lang)
            .map(|c| c.keys().copied().collect())
            .unwrap_or_default()
    }

    /// A tone (never empty: the build checks that every tone is there).
    pub fn tone(&self, tone: Tone) -> Arc<[i16]> {
        self.inner
            .tones
            .get(&tone)
            .map_or_else(|| Arc::from([]), Lazy::get)
    }

    /// The entry chime.
    pub fn entry(&self) -> Arc<[i16]> {
        self.tone(Tone::Entry)
    }

    /// The exit chime.
    pub fn exit(&self) -> Arc<[i16]> {
        self.tone(Tone::Exit)
    }

    /// The record-after-the-beep beep.
    pub fn beep(&self) -> Arc<[i16]> {
        self.tone(Tone::Beep)
    }

    /// The hold music (loop it).
    pub fn hold_music(&self) -> Arc<[i16]> {
        self.tone(Tone::HoldMusic)
    }

    /// The clips that read `keys` aloud in `lang`: `0`–`9`, `*` ("star") and `#` ("pound");
    /// other characters are skipped.
    pub fn digits(&self, lang: &str, keys: &str) -> Vec<Arc<[i16]>> {
        self.lookup().digits(lang, keys)
    }

    /// The clips that say `n` in `lang` (e.g. "twenty" "one"), composed by the language's
    /// number grammar; from 1000 up, its digits.
    pub fn number(&self, lang: &str, n: u32) -> Vec<Arc<[i16]>> {
        self.lookup().number(lang, n)
    }

    /// Decode every clip and tone now rather than on first use; returns the total number of
    /// samples.
    pub fn preload(&self) -> usize {
        let clips = self.inner.clips.values().flat_map(|c| c.values());
        clips
            .chain(self.inner.tones.values())
            .map(|lazy| lazy.get().len())
            .sum()
    }

    fn lazy(&self, lang: &str, name: &str) -> Option<&Lazy> {
        self.inner.clips.get(lang)?.get(name)
    }

    fn lookup(&self) -> Lookup<'_> {
        Lookup {
            pack: None,
            catalog: self,
            tenant: "-",
            warned: &self.inner.warned,
        }
    }
}

impl Source for Catalog {
    fn clip(&self, lang: &str, name: &str) -> Option<Arc<[i16]>> {
        self.lazy(lang, name).map(Lazy::get)
    }

    fn languages(&self) -> Vec<&str> {
        Catalog::languages(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_plugin_api::attendant::PROMPTS;

    /// The languages every build ships.
    const SHIPPED: [&str; 5] = ["de-DE", "en-GB", "en-US", "es-ES", "fr-FR"];

    /// Clips every language has besides the attendant's prompts.
    fn common_clips() -> Vec<String> {
        let mut names: Vec<String> = (0..10).map(|d| format!("digit-{d}")).collect();
        names.extend(["star", "pound", "hundred"].map(String::from));
        names.extend((0..=20).map(|n| format!("number-{n}")));
        names.extend((3..=9).map(|t| format!("number-{}", t * 10)));
        names
    }

    /// RMS in dBFS.
    fn rms_db(samples: &[i16]) -> f64 {
        let sum: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        let rms = (sum / samples.len() as f64).sqrt() / 32768.0;
        20.0 * rms.log10()
    }

    #[test]
    fn ships_five_languages() {
        assert_eq!(Catalog::embedded().languages(), SHIPPED);
    }

    #[test]
    fn every_prompt_in_every_language() {
        let catalog = Catalog::embedded();
        let mut missing = Vec::new();
        for lang in SHIPPED {
            let names = PROMPTS.iter().map(|s| s.to_string()).chain(common_clips());
            for name in names {
                if !catalog.contains(lang, &name) {
                    missing.push(format!("{lang}/{name}"));
                }
            }
        }
        assert!(missing.is_empty(), "missing: {missing:?}");
    }

    #[test]
    fn every_clip_is_audible_and_bounded() {
        let catalog = Catalog::embedded();
        for lang in catalog.languages() {
            for name in catalog.names(lang) {
                let clip = Source::clip(&catalog, lang, name).unwrap();
                let ms = clip.len() * 1000 / wav::SAMPLE_RATE as usize;
                assert!((150..=45_000).contains(&ms), "{lang}/{name}: {ms} ms");
                let level = rms_db(&clip);
                // Prompts are levelled to about -16 dBFS RMS.
                assert!(
                    (-20.0..=-13.0).contains(&level),
                    "{lang}/{name}: {level:.1} dBFS"
                );
            }
        }
    }

    #[test]
    fn tones_are_there_and_audible() {
        let catalog = Catalog::embedded();
        for (tone, max_ms) in [
            (Tone::Entry, 1_000),
            (Tone::Exit, 1_000),
            (Tone::Beep, 1_000),
            (Tone::HoldMusic, 31_000),
        ] {
            let clip = catalog.tone(tone);
            let ms = clip.len() * 1000 / wav::SAMPLE_RATE as usize;
            assert!(ms > 100 && ms <= max_ms, "{tone:?}: {ms} ms");
            assert!(rms_db(&clip) > -25.0, "{tone:?}");
        }
        let hold = catalog.hold_music();
        assert!((29_000..=31_000).contains(&(hold.len() / 8)));
        // A seamless loop: the jump from the last sample to the first is no bigger than the
        // steps inside the music.
        let biggest_step = hold
            .windows(2)
            .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
            .max()
            .unwrap();
        let wrap = (i32::from(hold[0]) - i32::from(hold[hold.len() - 1])).abs();
        assert!(wrap <= biggest_step, "wrap step {wrap} > {biggest_step}");
        assert_eq!(Tone::from_name("hold-music"), Some(Tone::HoldMusic));
    }

    #[test]
    fn every_number_up_to_999_composes_from_the_language_s_own_clips() {
        let catalog = Catalog::embedded();
        for lang in SHIPPED {
            for n in 0..=crate::MAX_SAID {
                for name in crate::numbers::clip_names(lang, n).unwrap() {
                    assert!(catalog.contains(lang, &name), "{lang}: {n} needs {name}");
                }
            }
        }
    }

    #[test]
    fn clips_are_decoded_once_and_shared() {
        let catalog = Catalog::embedded();
        let a = catalog.clip("en-US", "welcome").unwrap();
        let b = Catalog::embedded().clip("en-US", "welcome").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn language_fallback() {
        let catalog = Catalog::embedded();
        let exact = |lang: &str, name: &str| Source::clip(&catalog, lang, name).unwrap();
        let same = |a: Option<Arc<[i16]>>, b: Arc<[i16]>| Arc::ptr_eq(&a.unwrap(), &b);
        // en-GB says "hash", en-US "pound": tell them apart.
        assert!(same(
            catalog.clip("en-AU", "pound"),
            exact("en-GB", "pound")
        ));
        assert!(same(
            catalog.clip("en-CA", "pound"),
            exact("en-US", "pound")
        ));
        assert!(same(catalog.clip("en", "pound"), exact("en-US", "pound")));
        assert!(same(
            catalog.clip("de-AT", "welcome"),
            exact("de-DE", "welcome")
        ));
        assert!(same(
            catalog.clip("fr-ca", "welcome"),
            exact("fr-FR", "welcome")
        ));
        assert!(same(
            catalog.clip("ja-JP", "welcome"),
            exact("en-US", "welcome")
        ));
        assert!(same(catalog.clip("", "welcome"), exact("en-US", "welcome")));
        // A clip only Spanish has: another language falls back to en-US, which lacks it.
        assert!(same(
            catalog.clip("es-MX", "number-21"),
            exact("es-ES", "number-21")
        ));
        assert!(catalog.clip("en-US", "number-21").is_none());
        assert!(catalog.clip("en-US", "no-such-prompt").is_none());
    }

    #[test]
    fn digits_read_keys_and_skip_the_rest() {
        let catalog = Catalog::embedded();
        let got = catalog.digits("de-DE", "1 2*#x");
        let want: Vec<_> = ["digit-1", "digit-2", "star", "pound"]
            .iter()
            .map(|n| Source::clip(&catalog, "de-DE", n).unwrap())
            .collect();
        assert_eq!(got.len(), want.len());
        assert!(got.iter().zip(&want).all(|(a, b)| Arc::ptr_eq(a, b)));
        assert!(catalog.digits("en-US", "").is_empty());
    }

    #[test]
    fn numbers_compose_and_large_ones_are_read_as_digits() {
        let catalog = Catalog::embedded();
        let clip = |lang: &str, n: &str| Source::clip(&catalog, lang, n).unwrap();
        let is = |got: Vec<Arc<[i16]>>, want: Vec<Arc<[i16]>>| {
            got.len() == want.len() && got.iter().zip(&want).all(|(a, b)| Arc::ptr_eq(a, b))
        };
        let en = |n: &str| clip("en-US", n);
        assert!(is(
            catalog.number("en-US", 21),
            vec![en("number-20"), en("number-1")]
        ));
        assert!(is(
            catalog.number("en-US", 1234),
            ["digit-1", "digit-2", "digit-3", "digit-4"]
                .map(en)
                .to_vec()
        ));
        let gb = |n: &str| clip("en-GB", n);
        assert!(is(
            catalog.number("en-AU", 105),
            ["number-1", "hundred", "and", "number-5"].map(gb).to_vec()
        ));
        let de = |n: &str| clip("de-DE", n);
        assert!(is(
            catalog.number("de-CH", 21),
            ["number-1-compound", "and", "number-20"].map(de).to_vec()
        ));
        let es = |n: &str| clip("es-ES", n);
        assert!(is(catalog.number("es-ES", 500), vec![es("number-500")]));
        // A language without clips says numbers the English way, in English.
        assert!(is(
            catalog.number("sv-SE", 21),
            vec![en("number-20"), en("number-1")]
        ));
    }

    #[test]
    fn preload_decodes_everything() {
        let catalog = Catalog::embedded();
        let samples = catalog.preload();
        assert!(samples > 8_000 * 60 * 5, "{samples}");
    }
}
