//! Values made from the host's entropy and sequence: meeting IDs, passcodes, PSTN ID bases.
//!
//! The plugin has no randomness of its own; `schedule-context.entropy` (32 bytes, fresh per
//! request) is split into four 8-byte lanes, one per use, so the values are independent:
//!
//! | lane | bytes | use |
//! |---|---|---|
//! | 0 | 0–7 | meeting ID: the 8 bytes as 16 uppercase hex digits |
//! | 1 | 8–15 | passcode digits (a SplitMix64 stream seeded with the lane) |
//! | 2 | 16–23 | the PSTN base's scramble digit |
//! | 3 | 24–31 | unused |

use plenum_sdk::prelude::*;

/// Bytes of entropy a lane takes.
const LANE: usize = 8;

/// Shortest run of repeated or consecutive digits a passcode must not contain (the bundled
/// policies' "common pattern").
const RUN: usize = 4;

/// A meeting ID: lane 0 as 16 uppercase hex digits.
pub fn conference_id(entropy: &[u8]) -> Result<String, Refusal> {
    let bytes = lane(entropy, 0)?;
    Ok(bytes.iter().map(|b| format!("{b:02X}")).collect())
}

/// A passcode of `len` digits from lane 1, avoiding runs of four repeated or consecutive digits
/// (`1111`, `1234`, `9876`) so that a generated passcode passes a policy that rejects them.
pub fn passcode(entropy: &[u8], len: usize) -> Result<String, Refusal> {
    let mut digits = Digits::new(lane(entropy, 1)?);
    let mut out: Vec<u8> = Vec::with_capacity(len);
    // At most 3 of 10 digits complete a pattern, so this ends after about 1.4 draws a digit;
    // the bound only makes termination obvious.
    for _ in 0..len.saturating_mul(64) {
        if out.len() == len {
            break;
        }
        out.push(digits.next_digit());
        if ends_in_pattern(&out) {
            out.pop();
        }
    }
    while out.len() < len {
        out.push(digits.next_digit());
    }
    Ok(out.into_iter().map(char::from).collect())
}

/// The PSTN conference ID base (without the check digit the host appends):
///
/// `1` `SSSS…` `R`
/// - `1`: the housekeeping digit (Lync's layout; `1` names this layout, version 1);
/// - `SSSS…`: the host's `pstn-sequence`, zero-padded to at least four digits (more as it
///   grows); unique per sequence, so the base is unique;
/// - `R`: one digit from lane 2, so consecutive meetings do not get consecutive IDs.
///
/// The base has at least 6 digits, the full ID at least 7 (e.g. sequence 42 → `100427` + check
/// digit). A 7-digit ID with a 4+ digit passcode leaves over 10^10 combinations to guess.
pub fn pstn_base(entropy: &[u8], sequence: u64) -> Result<String, Refusal> {
    let scramble = Digits::new(lane(entropy, 2)?).next_digit();
    Ok(format!("1{sequence:04}{}", char::from(scramble)))
}

/// Entropy lane `n` as 8 bytes.
fn lane(entropy: &[u8], n: usize) -> Result<[u8; LANE], Refusal> {
    entropy
        .get(n * LANE..(n + 1) * LANE)
        .and_then(|s| <[u8; LANE]>::try_from(s).ok())
        .ok_or_else(|| {
            Refusal::new(
                RefusalReason::OtherFailure,
                "the host gave too little entropy",
            )
        })
}

/// Whether the last [`RUN`] digits are all equal or consecutive (up or down).
fn ends_in_pattern(digits: &[u8]) -> bool {
    let Some(tail) = digits.len().checked_sub(RUN).and_then(|i| digits.get(i..)) else {
        return false;
    };
    [0i16, 1, -1].into_iter().any(|step| {
        tail.windows(2)
            .all(|p| matches!(p, [a, b] if i16::from(*b) - i16::from(*a) == step))
    })
}

/// ASCII digits from a SplitMix64 stream.
struct Digits {
    state: u64,
}

impl Digits {
    fn new(seed: [u8; LANE]) -> Digits {
        Digits {
            state: u64::from_le_bytes(seed),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// One ASCII digit (the modulo bias over 2^64 is below 10^-18).
    fn next_digit(&mut self) -> u8 {
        b'0' + (self.next_u64() % 10) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entropy(fill: u8) -> Vec<u8> {
        (0..32u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(fill))
            .collect()
    }

    #[test]
    fn ids_are_hex_and_depend_on_entropy() {
        let a = conference_id(&entropy(1)).expect("enough entropy");
        let b = conference_id(&entropy(2)).expect("enough entropy");
        assert_eq!(a.len(), 16);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
        );
        assert_ne!(a, b);
        assert_eq!(
            conference_id(&[0, 1, 2, 3, 4, 5, 6, 0xff]).as_deref(),
            Ok("00010203040506FF")
        );
    }

    #[test]
    fn passcodes_are_digits_without_patterns() {
        let mut seen = std::collections::HashSet::new();
        for fill in 0..=255u8 {
            for len in [4usize, 6, 16] {
                let p = passcode(&entropy(fill), len).expect("enough entropy");
                assert_eq!(p.len(), len);
                assert!(p.bytes().all(|b| b.is_ascii_digit()));
                for w in p.as_bytes().windows(RUN) {
                    assert!(!ends_in_pattern(w), "{p}");
                }
                seen.insert(p);
            }
        }
        assert!(seen.len() > 700, "passcodes should vary with entropy");
    }

    #[test]
    fn pstn_bases_follow_the_layout() {
        let b = pstn_base(&entropy(1), 42).expect("enough entropy");
        assert_eq!(b.len(), 6);
        assert!(b.starts_with("10042"));
        let long = pstn_base(&entropy(1), 1_234_567).expect("enough entropy");
        assert!(long.starts_with("11234567") && long.len() == 9);
    }

    #[test]
    fn short_entropy_is_a_refusal_not_a_panic() {
        assert!(conference_id(&[1, 2, 3]).is_err());
        assert!(passcode(&[0; 12], 4).is_err());
        assert!(pstn_base(&[0; 20], 1).is_err());
    }

    #[test]
    fn patterns() {
        assert!(ends_in_pattern(b"51111"));
        assert!(ends_in_pattern(b"1234"));
        assert!(ends_in_pattern(b"06543"));
        assert!(!ends_in_pattern(b"1235"));
        assert!(!ends_in_pattern(b"123"));
    }
}
