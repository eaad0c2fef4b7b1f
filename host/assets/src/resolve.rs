//! Looking a clip up across sources and languages, shared by [`Catalog`](crate::Catalog) and
//! [`Prompts`](crate::Prompts).
//!
//! Owns: the walk over the fallback languages (`lang::candidates`) and the sources (a tenant's
//! pack, then the default catalogue) for each; logging each distinct fallback once; digit and
//! number composition on top of single clips. Does not own: where clips come from or how they
//! are decoded.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use crate::lang;
use crate::numbers;

/// A set of clips by (canonical language, name), without fallback.
pub(crate) trait Source {
    /// The clip `name` in exactly `lang` (a canonical tag).
    fn clip(&self, lang: &str, name: &str) -> Option<Arc<[i16]>>;
    /// The languages this source has clips in.
    fn languages(&self) -> Vec<&str>;
}

/// The clip names of the keys `0`–`9`.
const DIGITS: [&str; 10] = [
    "digit-0", "digit-1", "digit-2", "digit-3", "digit-4", "digit-5", "digit-6", "digit-7",
    "digit-8", "digit-9",
];

/// The clip that says a keypad key: `digit-N`, `star` or `pound`.
pub(crate) fn key_clip_name(key: char) -> Option<&'static str> {
    match key {
        '*' => Some("star"),
        '#' => Some("pound"),
        _ => DIGITS.get(key.to_digit(10)? as usize).copied(),
    }
}

/// Most distinct (tenant, language, name) fallbacks remembered; past that none are logged, so
/// a plugin that asks for endless made-up languages cannot grow memory.
const MAX_WARNED: usize = 4_096;

/// Longest language or name kept in a log line or the warned set.
const MAX_LOGGED_LEN: usize = 64;

/// Remembers which fallbacks were already logged.
#[derive(Debug, Default)]
pub(crate) struct WarnOnce {
    seen: Mutex<HashSet<(String, String, String)>>,
}

impl WarnOnce {
    /// Whether this is the first time for `(tenant, lang, name)` (false once the set is full).
    pub(crate) fn first(&self, tenant: &str, lang: &str, name: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= MAX_WARNED {
            return false;
        }
        let inserted = seen.insert((tenant.to_owned(), clipped(lang), clipped(name)));
        if inserted && seen.len() == MAX_WARNED {
            tracing::warn!(
                limit = MAX_WARNED,
                "too many distinct prompt fallbacks; no more are logged"
            );
        }
        inserted
    }
}

/// `s`, cut to [`MAX_LOGGED_LEN`] bytes on a character boundary.
fn clipped(s: &str) -> String {
    let mut end = s.len().min(MAX_LOGGED_LEN);
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    s.get(..end).unwrap_or_default().to_owned()
}

/// One lookup context: the sources in order (a tenant's pack, then the catalogue), who asks
/// (for the log) and where fallbacks are remembered.
pub(crate) struct Lookup<'a> {
    /// The tenant's pack, tried first in each language.
    pub(crate) pack: Option<&'a dyn Source>,
    /// The default catalogue.
    pub(crate) catalog: &'a dyn Source,
    /// The tenant, for the log (`-` for none).
    pub(crate) tenant: &'a str,
    /// Fallbacks already logged.
    pub(crate) warned: &'a WarnOnce,
}

impl Lookup<'_> {
    /// The clip `name` in `lang`, with fallback; each distinct fallback is logged once.
    pub(crate) fn clip(&self, lang: &str, name: &str) -> Option<Arc<[i16]>> {
        match self.find(lang, name) {
            Some(Found::Exact(clip)) => Some(clip),
            Some(Found::Fallback(used, clip)) => {
                if self.warned.first(self.tenant, lang, name) {
                    tracing::warn!(
                        tenant = self.tenant,
                        requested = %clipped(lang),
                        name = %clipped(name),
                        used = %used,
                        "prompt missing in the requested language; using a fallback language"
                    );
                }
                Some(clip)
            }
            None => {
                if self.warned.first(self.tenant, lang, name) {
                    tracing::warn!(
                        tenant = self.tenant,
                        requested = %clipped(lang),
                        name = %clipped(name),
                        "prompt not found in any language"
                    );
                }
                None
            }
        }
    }

    /// The clips that read `keys` (`0`–`9`, `*`, `#`; anything else is skipped).
    pub(crate) fn digits(&self, lang: &str, keys: &str) -> Vec<Arc<[i16]>> {
        keys.chars()
            .filter_map(key_clip_name)
            .filter_map(|name| self.clip(lang, name))
            .collect()
    }

    /// The clips that say `n`: composed by the number grammar of the language the numbers
    /// come from, digit by digit above [`numbers::MAX_SAID`].
    pub(crate) fn number(&self, lang: &str, n: u32) -> Vec<Arc<[i16]>> {
        let grammar = match self.find(lang, "number-1") {
            Some(Found::Fallback(used, _)) => used,
            _ => lang::normalize(lang).unwrap_or_else(|| lang::DEFAULT_LANGUAGE.to_owned()),
        };
        match numbers::clip_names(&grammar, n) {
            Some(names) => names.iter().filter_map(|c| self.clip(lang, c)).collect(),
            None => self.digits(lang, &n.to_string()),
        }
    }

    /// The languages of all sources, sorted, without duplicates.
    pub(crate) fn languages(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.sources().flat_map(|s| s.languages()).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    fn sources(&self) -> impl Iterator<Item = &dyn Source> {
        self.pack.into_iter().chain(std::iter::once(self.catalog))
    }

    fn find(&self, lang: &str, name: &str) -> Option<Found> {
        // Fast path: a canonical tag that has the clip.
        if let Some(clip) = self.sources().find_map(|s| s.clip(lang, name)) {
            return Some(Found::Exact(clip));
        }
        let requested = lang::normalize(lang);
        for candidate in lang::candidates(lang, &self.languages()) {
            if let Some(clip) = self.sources().find_map(|s| s.clip(&candidate, name)) {
                return Some(if requested.as_deref() == Some(candidate.as_str()) {
                    Found::Exact(clip)
                } else {
                    Found::Fallback(candidate, clip)
                });
            }
        }
        None
    }
}

/// What [`Lookup::find`] found.
enum Found {
    /// In the requested language.
    Exact(Arc<[i16]>),
    /// In another language (named).
    Fallback(String, Arc<[i16]>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_once_per_key_and_stops_when_full() {
        let w = WarnOnce::default();
        assert!(w.first("acme", "en-AU", "welcome"));
        assert!(!w.first("acme", "en-AU", "welcome"));
        assert!(w.first("other", "en-AU", "welcome"));
        assert!(w.first("acme", "en-NZ", "welcome"));
        for i in 0..MAX_WARNED {
            w.first("acme", &format!("x{i}"), "welcome");
        }
        assert!(!w.first("acme", "brand-new", "welcome"));
        assert_eq!(w.seen.lock().unwrap().len(), MAX_WARNED);
    }

    #[test]
    fn long_strings_are_clipped_on_char_boundaries() {
        let long = "é".repeat(100);
        let c = clipped(&long);
        assert!(c.len() <= MAX_LOGGED_LEN && c.chars().all(|ch| ch == 'é'));
    }

    #[test]
    fn key_names() {
        let names: Vec<_> = "0129*#a ".chars().map(key_clip_name).collect();
        assert_eq!(
            names,
            [
                Some("digit-0"),
                Some("digit-1"),
                Some("digit-2"),
                Some("digit-9"),
                Some("star"),
                Some("pound"),
                None,
                None
            ]
        );
    }
}
