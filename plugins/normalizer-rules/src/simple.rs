//! A fast path for the pattern shapes location profiles nearly always use — literal digits and
//! `\d` runs, optionally captured: `^(\d{4})$`, `^1(\d{10})$`, `^011(\d+)$`, `^(1\d{10})$`,
//! `^6222(\d{4})$`. Such a pattern is matched directly, without compiling a regular
//! expression for every call (a plugin instance lives for one call). Anything else — classes,
//! alternation, optional parts, more than one variable-length run — is left to `regex-lite`,
//! and the tests check that both agree wherever the fast path applies.

/// One element of a simple pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Literal characters (digits or `+`).
    Literal(String),
    /// `\d` repeated between `min` and `max` times (`max` = `None`: unbounded).
    Digits { min: usize, max: Option<usize> },
    /// `(`: a capture group opens.
    Open,
    /// `)`: it closes.
    Close,
}

/// A parsed simple pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simple {
    pieces: Vec<Piece>,
    /// Bounds of the matched length.
    min_len: usize,
    /// `None` when one run is unbounded.
    max_len: Option<usize>,
    groups: usize,
}

impl Simple {
    /// Parse `pattern` if it has a simple shape (whole-string anchoring is implied either way).
    pub fn parse(pattern: &str) -> Option<Simple> {
        let body = pattern.strip_prefix('^').unwrap_or(pattern);
        let body = body
            .strip_suffix('$')
            .filter(|b| !b.ends_with('\\'))
            .unwrap_or(body);
        let pieces = pieces(body)?;
        let mut depth = 0usize;
        let (mut min_len, mut max_len, mut variable, mut groups) = (0usize, Some(0usize), 0, 0);
        for p in &pieces {
            match p {
                Piece::Literal(s) => {
                    min_len += s.len();
                    max_len = max_len.map(|m| m + s.len());
                }
                Piece::Digits { min, max } => {
                    min_len += min;
                    if max != &Some(*min) {
                        variable += 1;
                    }
                    max_len = max_len.zip(*max).map(|(a, b)| a + b);
                }
                Piece::Open => {
                    depth += 1;
                    groups += 1;
                }
                Piece::Close => depth = depth.checked_sub(1)?,
            }
            if depth > 1 {
                return None;
            }
        }
        (depth == 0 && variable <= 1).then_some(Simple {
            pieces,
            min_len,
            max_len,
            groups,
        })
    }

    /// Match the whole of `number`; the capture groups (index 0 is the whole match).
    pub fn captures<'h>(&self, number: &'h str) -> Option<Vec<Option<&'h str>>> {
        let len = number.len();
        if len < self.min_len || self.max_len.is_some_and(|m| len > m) {
            return None;
        }
        // With at most one variable run, its length is whatever the rest leaves.
        let slack = len - self.min_len;
        let mut caps: Vec<Option<&str>> = vec![None; self.groups + 1];
        caps[0] = Some(number);
        let (mut pos, mut group, mut open_at) = (0usize, 0usize, 0usize);
        for p in &self.pieces {
            match p {
                Piece::Literal(s) => {
                    if number.get(pos..pos + s.len())? != s {
                        return None;
                    }
                    pos += s.len();
                }
                Piece::Digits { min, max } => {
                    let n = if max == &Some(*min) {
                        *min
                    } else {
                        min + slack
                    };
                    let run = number.get(pos..pos + n)?;
                    if !run.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    pos += n;
                }
                Piece::Open => {
                    group += 1;
                    open_at = pos;
                }
                Piece::Close => caps[group] = number.get(open_at..pos),
            }
        }
        (pos == len).then_some(caps)
    }
}

/// Split a pattern body into pieces, or `None` if it uses anything beyond the simple shapes.
fn pieces(body: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => push_literal(&mut out, c),
            '\\' if chars.peek() == Some(&'+') => {
                chars.next();
                push_literal(&mut out, '+');
            }
            '\\' if chars.peek() == Some(&'d') => {
                chars.next();
                let (min, max) = quantifier(&mut chars)?;
                out.push(Piece::Digits { min, max });
            }
            '(' if chars.peek() != Some(&'?') => out.push(Piece::Open),
            ')' => out.push(Piece::Close),
            _ => return None,
        }
    }
    Some(out)
}

fn push_literal(out: &mut Vec<Piece>, c: char) {
    match out.last_mut() {
        Some(Piece::Literal(s)) => s.push(c),
        _ => out.push(Piece::Literal(c.to_string())),
    }
}

/// `{n}`, `{m,n}`, `{m,}`, `+`, `*`, or nothing (exactly one).
fn quantifier(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Option<(usize, Option<usize>)> {
    match chars.peek() {
        Some('+') => {
            chars.next();
            Some((1, None))
        }
        Some('*') => {
            chars.next();
            Some((0, None))
        }
        Some('{') => {
            chars.next();
            let inner: String = chars.by_ref().take_while(|c| *c != '}').collect();
            let (min, max) = match inner.split_once(',') {
                None => {
                    let n = inner.parse().ok()?;
                    (n, Some(n))
                }
                Some((m, "")) => (m.parse().ok()?, None),
                Some((m, n)) => (m.parse().ok()?, Some(n.parse().ok()?)),
            };
            if max.is_some_and(|x| x < min) || matches!(chars.peek(), Some('?' | '+' | '*' | '{')) {
                return None;
            }
            Some((min, max))
        }
        Some('?') => None,
        _ => Some((1, Some(1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex_lite::Regex;

    #[test]
    fn recognizes_the_usual_shapes_and_refuses_the_rest() {
        for p in [
            r"^(\d{4})$",
            r"^1(\d{10})$",
            r"^011(\d+)$",
            r"^(1\d{10})$",
            r"(\d{7})",
            r"^6222(\d{4})$",
            r"^\+(\d*)$",
            r"^0$",
            r"^(\d{2,4})$",
        ] {
            assert!(Simple::parse(p).is_some(), "{p}");
        }
        for p in [
            r"^[0-9]{4}$",
            r"^(\d{4}|\d{5})$",
            r"^\d?$",
            r"^(\d+)(\d+)$",
            r"^(?:\d{4})$",
            r"^((\d))$",
            r"^.$",
            r"^\d{4,2}$",
            r"^\d{3}?$",
            r"^(\d{4}$",
        ] {
            assert!(Simple::parse(p).is_none(), "{p}");
        }
    }

    /// Everything the fast path accepts, it answers exactly as the regex does.
    #[test]
    fn agrees_with_the_regex() {
        let patterns = [
            r"^(\d{4})$",
            r"^(\d{7})$",
            r"^(\d{10})$",
            r"^(1\d{10})$",
            r"^1(\d{10})$",
            r"^011(\d+)$",
            r"^0$",
            r"^6222(\d{4})$",
            r"^\+(\d*)$",
            r"^(\d{2,4})$",
            r"^9(\d{3,})$",
            r"^(44)(\d{3})(\d+)$",
            r"^00(\d*)$",
        ];
        let mut inputs: Vec<String> = vec![
            String::new(),
            "0".into(),
            "+".into(),
            "+44".into(),
            "62220100".into(),
        ];
        let mut seed = 0x2545F4914F6CDD1Du64;
        for _ in 0..4000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 16) as usize;
            let mut s: String = (0..len)
                .map(|i| char::from(b'0' + ((seed >> (i * 3)) % 10) as u8))
                .collect();
            if seed.is_multiple_of(11) {
                s.insert(0, '+');
            }
            if seed.is_multiple_of(7) {
                s = format!("011{s}");
            }
            inputs.push(s);
        }
        for p in patterns {
            let simple = Simple::parse(p).expect(p);
            let re = Regex::new(&format!("^(?:{p})$")).unwrap();
            for input in &inputs {
                let want = re.captures(input).map(|c| {
                    (0..c.len())
                        .map(|i| c.get(i).map(|m| m.as_str()))
                        .collect::<Vec<_>>()
                });
                assert_eq!(simple.captures(input), want, "{p} on {input:?}");
            }
        }
    }
}
