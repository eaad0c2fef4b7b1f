//! Language tags and the fallback rule.
//!
//! Owns: the canonical form of a language tag (`en-us`, `EN_US` → `en-US`) and the order in
//! which languages are tried when a prompt is missing in the one asked for. Does not own:
//! which languages exist (the catalogue and the packs say) or logging the fallback (the
//! resolvers do, once per tenant, language and name).
//!
//! The rule, for a requested language `L` (say `en-AU`):
//! 1. `L` itself;
//! 2. its closest sibling, where one is defined: `en-AU`, `en-NZ`, `en-IE`, `en-IN`, `en-ZA`
//!    and `en-SG` → `en-GB` (Commonwealth spelling and vocabulary: "hash key", not "pound");
//! 3. the main variant of its primary language: `en` → `en-US`, `de` → `de-DE`,
//!    `fr` → `fr-FR`, `es` → `es-ES`, `pt` → `pt-PT`, `it` → `it-IT`, `nl` → `nl-NL`;
//! 4. every other available language with the same primary subtag, alphabetically;
//! 5. the catalogue's default language, [`DEFAULT_LANGUAGE`] (`en-US`).
//!
//! A tag that is not a well-formed language tag skips straight to step 5.

/// The catalogue's default language: the last resort of every lookup.
pub const DEFAULT_LANGUAGE: &str = "en-US";

/// English variants that are closer to British than to American English.
const BRITISH_LIKE: &[&str] = &["en-AU", "en-NZ", "en-IE", "en-IN", "en-ZA", "en-SG"];

/// The main variant of each primary language.
const MAIN_VARIANT: &[(&str, &str)] = &[
    ("en", "en-US"),
    ("de", "de-DE"),
    ("fr", "fr-FR"),
    ("es", "es-ES"),
    ("pt", "pt-PT"),
    ("it", "it-IT"),
    ("nl", "nl-NL"),
];

/// The canonical form of a language tag: primary subtag lower case, a two-letter region upper
/// case, a four-letter script title case, other subtags lower case; `_` is read as `-`.
/// `None` if `tag` is not a well-formed tag (primary subtag of 2–3 letters, then subtags of
/// 1–8 letters or digits, at most 35 characters).
pub fn normalize(tag: &str) -> Option<String> {
    if tag.is_empty() || tag.len() > 35 {
        return None;
    }
    let mut out = String::with_capacity(tag.len());
    for (i, sub) in tag.split(['-', '_']).enumerate() {
        let ok = if i == 0 {
            (2..=3).contains(&sub.len()) && sub.bytes().all(|b| b.is_ascii_alphabetic())
        } else {
            (1..=8).contains(&sub.len()) && sub.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        if !ok {
            return None;
        }
        if i > 0 {
            out.push('-');
        }
        push_subtag(&mut out, i, sub);
    }
    Some(out)
}

/// The primary subtag of a canonical tag (`en` of `en-GB`).
pub fn primary(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

/// The languages to try for `requested`, best first (see the module doc), among `available`
/// (canonical tags, any order). Always ends with [`DEFAULT_LANGUAGE`].
pub fn candidates(requested: &str, available: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(4);
    let mut push = |tag: &str| {
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_owned());
        }
    };
    if let Some(tag) = normalize(requested) {
        push(&tag);
        if BRITISH_LIKE.contains(&tag.as_str()) {
            push("en-GB");
        }
        let p = primary(&tag);
        if let Some((_, main)) = MAIN_VARIANT.iter().find(|(q, _)| *q == p) {
            push(main);
        }
        let mut siblings: Vec<&str> = available
            .iter()
            .copied()
            .filter(|a| primary(a) == p)
            .collect();
        siblings.sort_unstable();
        siblings.into_iter().for_each(&mut push);
    }
    push(DEFAULT_LANGUAGE);
    out
}

fn push_subtag(out: &mut String, index: usize, sub: &str) {
    let mut chars = sub.chars();
    match (index, sub.len()) {
        (0, _) => out.push_str(&sub.to_ascii_lowercase()),
        (_, 2) if sub.bytes().all(|b| b.is_ascii_alphabetic()) => {
            out.push_str(&sub.to_ascii_uppercase());
        }
        (_, 4) if sub.bytes().all(|b| b.is_ascii_alphabetic()) => {
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
            }
            out.push_str(&chars.as_str().to_ascii_lowercase());
        }
        _ => out.push_str(&sub.to_ascii_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_separators() {
        assert_eq!(normalize("en-us").as_deref(), Some("en-US"));
        assert_eq!(normalize("EN_gb").as_deref(), Some("en-GB"));
        assert_eq!(normalize("de").as_deref(), Some("de"));
        assert_eq!(normalize("zh-hant-tw").as_deref(), Some("zh-Hant-TW"));
        assert_eq!(normalize("es-419").as_deref(), Some("es-419"));
        for bad in [
            "",
            "e",
            "english",
            "en--US",
            "en-",
            "../en",
            "en US",
            "en-toolongtag",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    #[test]
    fn fallback_order() {
        let all = ["de-DE", "en-GB", "en-US", "es-ES", "fr-FR"];
        assert_eq!(candidates("en-AU", &all), ["en-AU", "en-GB", "en-US"]);
        assert_eq!(candidates("en-CA", &all), ["en-CA", "en-US", "en-GB"]);
        assert_eq!(candidates("en-GB", &all), ["en-GB", "en-US"]);
        assert_eq!(candidates("de-AT", &all), ["de-AT", "de-DE", "en-US"]);
        assert_eq!(candidates("fr-ca", &all), ["fr-CA", "fr-FR", "en-US"]);
        assert_eq!(candidates("es-MX", &all), ["es-MX", "es-ES", "en-US"]);
        assert_eq!(candidates("it-IT", &all), ["it-IT", "en-US"]);
        assert_eq!(candidates("not a tag", &all), ["en-US"]);
        // Languages only a tenant has take part in step 4.
        let with_pt = ["en-US", "pt-BR"];
        assert_eq!(
            candidates("pt-AO", &with_pt),
            ["pt-AO", "pt-PT", "pt-BR", "en-US"]
        );
        assert_eq!(
            candidates("pt", &with_pt),
            ["pt", "pt-PT", "pt-BR", "en-US"]
        );
    }
}
