//! PSTN conference IDs: digits with a Luhn check digit at the end, so that a mistyped ID is
//! caught before any lookup (one wrong digit or two swapped neighbours always are).

/// The Luhn check digit for `base` (digits only), or `None` if `base` is empty or not digits.
pub fn check_digit(base: &str) -> Option<char> {
    if base.is_empty() || !base.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = base
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10)
}

/// `base` followed by its check digit.
pub fn with_check_digit(base: &str) -> Option<String> {
    check_digit(base).map(|c| format!("{base}{c}"))
}

/// Whether `id` (base + check digit) is well formed and its check digit right.
pub fn is_valid(id: &str) -> bool {
    match id
        .len()
        .checked_sub(1)
        .and_then(|n| id.get(..n).zip(id.get(n..)))
    {
        Some((base, last)) => check_digit(base).is_some_and(|c| last.starts_with(c)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_luhn_values() {
        // 7992739871 has check digit 3 (the textbook Luhn example).
        assert_eq!(check_digit("7992739871"), Some('3'));
        assert!(is_valid("79927398713"));
        assert!(!is_valid("79927398710"));
        assert_eq!(with_check_digit("1000").as_deref(), Some("10009"));
    }

    #[test]
    fn catches_single_errors_and_swaps() {
        let id = with_check_digit("5723901").unwrap();
        assert!(is_valid(&id));
        for i in 0..id.len() {
            for d in b'0'..=b'9' {
                let mut b = id.clone().into_bytes();
                if b[i] == d {
                    continue;
                }
                b[i] = d;
                assert!(!is_valid(std::str::from_utf8(&b).unwrap()), "{i} {d}");
            }
        }
        for i in 0..id.len() - 1 {
            let mut b = id.clone().into_bytes();
            if b[i] == b[i + 1]
                || (b[i] == b'0' && b[i + 1] == b'9')
                || (b[i] == b'9' && b[i + 1] == b'0')
            {
                continue; // Luhn's known blind spot: 09 <-> 90
            }
            b.swap(i, i + 1);
            assert!(!is_valid(std::str::from_utf8(&b).unwrap()), "swap {i}");
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(!is_valid(""));
        assert!(!is_valid("5"));
        assert!(!is_valid("12a4"));
        assert_eq!(check_digit(""), None);
    }
}
