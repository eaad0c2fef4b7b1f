//! The bundled normalizer: a location profile's ordered regex rules with `$n` translations, the
//! way OCS 2007 R2 location profiles (Lync dial plans) work.
//!
//! 1. Visual separators (space, `-`, `.`, `(`, `)`) are removed.
//! 2. A number that starts with `+` is already E.164 and passes through unchanged.
//! 3. If the profile has an external access prefix (e.g. `9`) and the number starts with it, the
//!    rules are tried on the number without the prefix first, then on the whole number (so that
//!    the 4-digit extension `9123` still works with prefix `9`).
//! 4. The first rule whose pattern matches the *whole* number wins; its translation replaces
//!    `$1`…`$9` (and `${n}`) with the capture groups and `$$` with `$`.
//! 5. The result must be E.164; a rule that produces anything else is a configuration error
//!    reported as `invalid-input` naming the rule (the host then falls back to pass-through).

use plenum_sdk::prelude::*;
use regex_lite::Regex;

mod simple;

use simple::Simple;

/// The plugin.
pub struct RuleNormalizer;

impl Normalizer for RuleNormalizer {
    fn info() -> PluginInfo {
        plenum_sdk::plugin_info!("Ordered regex rules per location profile (OCS location profiles)")
    }

    fn canaries() -> Vec<NormalizerCanary> {
        let redmond = plenum_sdk::harness::demo::redmond();
        let tenant = plenum_sdk::harness::demo::tenant();
        REDMOND_TABLE
            .iter()
            .map(|(number, expect)| NormalizerCanary {
                request: NormalizeRequest {
                    tenant: tenant.clone(),
                    profile: redmond.clone(),
                    number: (*number).to_owned(),
                    kind: NumberKind::Called,
                },
                expect: match expect {
                    Some(e) => NormalizeOutcome::E164((*e).to_owned()),
                    None => NormalizeOutcome::NoMatch,
                },
            })
            .collect()
    }

    fn normalize(request: NormalizeRequest) -> Result<NormalizeOutcome, PluginError> {
        let number: String = request
            .number
            .chars()
            .filter(|c| !is_separator(*c))
            .collect();
        if number.starts_with('+') {
            return Ok(if is_e164(&number) {
                NormalizeOutcome::E164(number)
            } else {
                NormalizeOutcome::NoMatch
            });
        }
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(NormalizeOutcome::NoMatch);
        }
        let stripped = request
            .profile
            .external_access_prefix
            .as_deref()
            .filter(|p| !p.is_empty())
            .and_then(|p| number.strip_prefix(p))
            .filter(|rest| !rest.is_empty());
        let mut rules = Rules::new(&request.profile);
        for candidate in stripped.into_iter().chain([number.as_str()]) {
            if let Some(out) = rules.apply(candidate)? {
                return Ok(NormalizeOutcome::E164(out));
            }
        }
        Ok(NormalizeOutcome::NoMatch)
    }
}

plenum_sdk::export_normalizer!(RuleNormalizer);

/// The demo `Redmond` profile's table: number in, E.164 out (or no match). Used as canaries and
/// in the tests, natively and (by the host's tests) as Wasm.
pub const REDMOND_TABLE: &[(&str, Option<&str>)] = &[
    ("0100", Some("+14255550100")),
    ("5550100", Some("+14255550100")),
    ("4255550100", Some("+14255550100")),
    ("14255550100", Some("+14255550100")),
    ("011442075550100", Some("+442075550100")),
    ("+442075550100", Some("+442075550100")),
    ("(425) 555-0100", Some("+14255550100")),
    ("12345", None),
    ("", None),
    ("42a5", None),
];

/// A profile's rules, each prepared the first time a number reaches it (a plugin instance
/// lives for one call, so nothing is prepared that the call does not need).
struct Rules<'a> {
    profile: &'a LocationProfile,
    prepared: Vec<Matcher>,
}

enum Matcher {
    Simple(Simple),
    Regex(Regex),
}

impl<'a> Rules<'a> {
    fn new(profile: &'a LocationProfile) -> Rules<'a> {
        Rules {
            profile,
            prepared: Vec::with_capacity(profile.rules.len()),
        }
    }

    fn matcher(&mut self, i: usize) -> Result<&Matcher, PluginError> {
        while self.prepared.len() <= i {
            let rule = &self.profile.rules[self.prepared.len()];
            let m = match Simple::parse(&rule.pattern) {
                Some(s) => Matcher::Simple(s),
                None => {
                    Matcher::Regex(Regex::new(&format!("^(?:{})$", rule.pattern)).map_err(|e| {
                        PluginError::InvalidInput(format!(
                            "profile {}: rule `{}` has an invalid pattern: {e}",
                            self.profile.name, rule.name
                        ))
                    })?)
                }
            };
            self.prepared.push(m);
        }
        Ok(&self.prepared[i])
    }

    /// The first rule that matches the whole number, translated.
    fn apply(&mut self, number: &str) -> Result<Option<String>, PluginError> {
        for (i, rule) in self.profile.rules.iter().enumerate() {
            let out = match self.matcher(i)? {
                Matcher::Simple(s) => s
                    .captures(number)
                    .map(|caps| expand(&rule.translation, |n| caps.get(n).copied().flatten())),
                Matcher::Regex(re) => re
                    .captures(number)
                    .map(|caps| expand(&rule.translation, |n| caps.get(n).map(|m| m.as_str()))),
            };
            let Some(out) = out else { continue };
            if !is_e164(&out) {
                return Err(PluginError::InvalidInput(format!(
                    "rule `{}` translated a number to something that is not E.164",
                    rule.name
                )));
            }
            return Ok(Some(out));
        }
        Ok(None)
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')')
}

/// Replace `$n` / `${n}` with capture group `n` and `$$` with `$`.
fn expand<'h>(translation: &str, group: impl Fn(usize) -> Option<&'h str>) -> String {
    let mut out = String::with_capacity(translation.len() + 8);
    let mut chars = translation.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some('{') => {
                chars.next();
                let digits: String = chars.by_ref().take_while(|c| *c != '}').collect();
                if let Ok(n) = digits.parse() {
                    out.push_str(group(n).unwrap_or(""));
                }
            }
            Some(d) if d.is_ascii_digit() => {
                let n = d.to_digit(10).unwrap_or(0) as usize;
                chars.next();
                out.push_str(group(n).unwrap_or(""));
            }
            _ => out.push('$'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_sdk::harness::{self, Native, NormalizerTarget};

    fn norm(profile: &LocationProfile, number: &str) -> Result<NormalizeOutcome, PluginError> {
        let mut req = harness::request(number);
        req.profile = profile.clone();
        Native::<RuleNormalizer>::new().normalize(&req).unwrap()
    }

    #[test]
    fn own_canaries_pass() {
        assert_eq!(
            harness::check_normalizer(&mut Native::<RuleNormalizer>::new()),
            Ok(REDMOND_TABLE.len())
        );
    }

    #[test]
    fn redmond_table() {
        let mut t = Native::<RuleNormalizer>::new();
        let numbers: Vec<&str> = REDMOND_TABLE.iter().map(|(n, _)| *n).collect();
        let table = harness::normalize_table(&mut t, &harness::demo::redmond(), &numbers);
        for (n, want) in REDMOND_TABLE {
            let line = table
                .lines()
                .find(|l| l.starts_with(&format!("{n:<16} ->")))
                .unwrap();
            assert!(line.ends_with(want.unwrap_or("no match")), "{line}");
        }
    }

    #[test]
    fn first_matching_rule_wins() {
        let p = harness::profile(
            "P",
            "R",
            &[(r"(\d{4})", "+1425555$1"), (r"(\d{4})", "+1972555$1")],
        );
        assert_eq!(
            norm(&p, "0100"),
            Ok(NormalizeOutcome::E164("+14255550100".into()))
        );
    }

    #[test]
    fn patterns_must_match_the_whole_number() {
        // Unanchored pattern: must still match all of it, not a substring.
        let p = harness::profile("P", "R", &[(r"(\d{4})", "+1425555$1")]);
        assert_eq!(norm(&p, "01001"), Ok(NormalizeOutcome::NoMatch));
    }

    #[test]
    fn external_access_prefix_is_stripped_first_then_not() {
        let mut p = harness::demo::redmond();
        p.external_access_prefix = Some("9".into());
        assert_eq!(
            norm(&p, "94255550100"),
            Ok(NormalizeOutcome::E164("+14255550100".into()))
        );
        assert_eq!(
            norm(&p, "9123"),
            Ok(NormalizeOutcome::E164("+14255559123".into()))
        );
        assert_eq!(norm(&p, "9"), Ok(NormalizeOutcome::NoMatch));
    }

    #[test]
    fn translations() {
        let g = |n: usize| ["all", "12", "34"].get(n).copied();
        assert_eq!(expand("+1$1$2", g), "+11234");
        assert_eq!(expand("+${1}0$$", g), "+120$");
        assert_eq!(expand("+$9x$", g), "+x$");
    }

    #[test]
    fn misconfigured_rules_are_reported_not_panicked() {
        let bad = harness::profile("P", "R", &[(r"(\d{4}", "+1$1")]);
        assert!(
            matches!(norm(&bad, "0100"), Err(PluginError::InvalidInput(m)) if m.contains("rule-0"))
        );
        let not_e164 = harness::profile("P", "R", &[(r"(\d{4})", "$1")]);
        assert!(matches!(
            norm(&not_e164, "0100"),
            Err(PluginError::InvalidInput(_))
        ));
    }

    #[test]
    fn plus_numbers_pass_through_untouched_by_rules() {
        let p = harness::profile("P", "R", &[(r"\+(\d+)", "+999$1")]);
        assert_eq!(
            norm(&p, "+14255550100"),
            Ok(NormalizeOutcome::E164("+14255550100".into()))
        );
        assert_eq!(norm(&p, "+1425x"), Ok(NormalizeOutcome::NoMatch));
    }
}
