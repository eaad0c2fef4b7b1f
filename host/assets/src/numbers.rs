//! Saying numbers: which clips, in which order, make up "twenty-one" in each language.
//!
//! Owns: the number grammar of the shipped languages, from the clips every language has
//! (`number-0` … `number-20`, the tens `number-30` … `number-90`, `hundred`) plus the few a
//! language needs besides (listed in `assets/prompts.tsv`): `and` ("and" in British English,
//! "und", "et", "y"), German `number-1-compound` ("ein"), French `number-80-compound`
//! ("quatre-vingt"), Spanish `number-21` … `number-29`, `number-100-compound` ("ciento") and
//! `number-200` … `number-900`. Numbers from 1000 up are not composed: the caller reads
//! their digits. Does not own: finding the clips (the resolvers do, with fallback).
//!
//! A language other than English, German, French or Spanish (a tenant may add one) is said
//! the English way, from that language's clips.

/// The most a number may be to be said as a number rather than digit by digit.
pub const MAX_SAID: u32 = 999;

/// The clip names that say `n` in `lang` (a canonical tag), or `None` above [`MAX_SAID`].
pub fn clip_names(lang: &str, n: u32) -> Option<Vec<String>> {
    if n > MAX_SAID {
        return None;
    }
    let mut out = Vec::with_capacity(4);
    match crate::lang::primary(lang) {
        "de" => german(n, &mut out),
        "fr" => french(n, &mut out),
        "es" => spanish(n, &mut out),
        _ => english(n, lang == "en-GB", &mut out),
    }
    Some(out)
}

fn num(n: u32) -> String {
    format!("number-{n}")
}

/// 21 = twenty one; 101 = one hundred (and) one.
fn english(n: u32, british: bool, out: &mut Vec<String>) {
    let (hundreds, rest) = (n / 100, n % 100);
    if hundreds > 0 {
        out.extend([num(hundreds), "hundred".to_owned()]);
        if rest == 0 {
            return;
        }
        if british {
            out.push("and".to_owned());
        }
    }
    let (tens, ones) = (rest / 10 * 10, rest % 10);
    if rest <= 20 {
        out.push(num(rest));
    } else {
        out.push(num(tens));
        if ones > 0 {
            out.push(num(ones));
        }
    }
}

/// 21 = ein und zwanzig; 100 = ein hundert; 101 = ein hundert eins.
fn german(n: u32, out: &mut Vec<String>) {
    let (hundreds, rest) = (n / 100, n % 100);
    if hundreds > 0 {
        out.extend([german_prefix(hundreds), "hundred".to_owned()]);
        if rest == 0 {
            return;
        }
    }
    let (tens, ones) = (rest / 10 * 10, rest % 10);
    if rest <= 20 || ones == 0 {
        out.push(num(rest));
    } else {
        out.extend([german_prefix(ones), "and".to_owned(), num(tens)]);
    }
}

/// "ein" before a multiplier or "und", otherwise the digit's number.
fn german_prefix(n: u32) -> String {
    if n == 1 {
        "number-1-compound".to_owned()
    } else {
        num(n)
    }
}

/// 21 = vingt et un; 71 = soixante et onze; 77 = soixante dix-sept; 81 = quatre-vingt un;
/// 99 = quatre-vingt dix-neuf; 100 = cent; 200 = deux cent.
fn french(n: u32, out: &mut Vec<String>) {
    let (hundreds, rest) = (n / 100, n % 100);
    if hundreds > 0 {
        if hundreds > 1 {
            out.push(num(hundreds));
        }
        out.push("hundred".to_owned());
        if rest == 0 {
            return;
        }
    }
    let (tens, ones) = (rest / 10 * 10, rest % 10);
    match rest {
        0..=20 | 30 | 40 | 50 | 60 | 70 | 80 | 90 => out.push(num(rest)),
        21..=69 if ones == 1 => out.extend([num(tens), "and".to_owned(), num(1)]),
        21..=69 => out.extend([num(tens), num(ones)]),
        71 => out.extend([num(60), "and".to_owned(), num(11)]),
        72..=79 => out.extend([num(60), num(rest - 60)]),
        81..=89 => out.extend(["number-80-compound".to_owned(), num(ones)]),
        _ => out.extend(["number-80-compound".to_owned(), num(rest - 80)]),
    }
}

/// 21 = veintiuno; 35 = treinta y cinco; 100 = cien; 101 = ciento uno; 500 = quinientos.
fn spanish(n: u32, out: &mut Vec<String>) {
    let (hundreds, rest) = (n / 100, n % 100);
    if hundreds > 0 {
        out.push(match (hundreds, rest) {
            (1, 0) => "hundred".to_owned(),
            (1, _) => "number-100-compound".to_owned(),
            (h, _) => num(h * 100),
        });
        if rest == 0 {
            return;
        }
    }
    let (tens, ones) = (rest / 10 * 10, rest % 10);
    if rest < 30 || ones == 0 {
        out.push(num(rest));
    } else {
        out.extend([num(tens), "and".to_owned(), num(ones)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(lang: &str, n: u32) -> String {
        clip_names(lang, n)
            .unwrap()
            .iter()
            .map(|s| s.strip_prefix("number-").unwrap_or(s))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn english() {
        let cases = [
            (0, "0"),
            (7, "7"),
            (13, "13"),
            (20, "20"),
            (21, "20 1"),
            (40, "40"),
            (99, "90 9"),
            (100, "1 hundred"),
            (105, "1 hundred 5"),
            (342, "3 hundred 40 2"),
            (999, "9 hundred 90 9"),
        ];
        for (n, words) in cases {
            assert_eq!(said("en-US", n), words, "{n}");
        }
        assert_eq!(said("en-GB", 105), "1 hundred and 5");
        assert_eq!(said("en-GB", 300), "3 hundred");
        assert_eq!(said("nl-NL", 21), "20 1");
    }

    #[test]
    fn german() {
        let cases = [
            (1, "1"),
            (17, "17"),
            (21, "1-compound and 20"),
            (35, "5 and 30"),
            (60, "60"),
            (100, "1-compound hundred"),
            (101, "1-compound hundred 1"),
            (231, "2 hundred 1-compound and 30"),
        ];
        for (n, words) in cases {
            assert_eq!(said("de-DE", n), words, "{n}");
        }
    }

    #[test]
    fn french() {
        let cases = [
            (16, "16"),
            (21, "20 and 1"),
            (22, "20 2"),
            (61, "60 and 1"),
            (70, "70"),
            (71, "60 and 11"),
            (77, "60 17"),
            (80, "80"),
            (81, "80-compound 1"),
            (90, "90"),
            (91, "80-compound 11"),
            (99, "80-compound 19"),
            (100, "hundred"),
            (200, "2 hundred"),
            (321, "3 hundred 20 and 1"),
        ];
        for (n, words) in cases {
            assert_eq!(said("fr-FR", n), words, "{n}");
        }
    }

    #[test]
    fn spanish() {
        let cases = [
            (16, "16"),
            (21, "21"),
            (29, "29"),
            (30, "30"),
            (35, "30 and 5"),
            (100, "hundred"),
            (101, "100-compound 1"),
            (125, "100-compound 25"),
            (135, "100-compound 30 and 5"),
            (500, "500"),
            (721, "700 21"),
        ];
        for (n, words) in cases {
            assert_eq!(said("es-ES", n), words, "{n}");
        }
    }

    #[test]
    fn large_numbers_are_not_composed() {
        assert_eq!(clip_names("en-US", 1000), None);
        assert_eq!(clip_names("de-DE", u32::MAX), None);
    }
}
