//! Passcode and PIN rules: characters, length, and the common patterns Lync's `CsPinPolicy`
//! rejects unless `AllowCommonPatterns` is set (c3p.md §3).
//!
//! Common patterns, for passcodes and PINs alike:
//! - four or more of the same character in a row (`1111`, `50000`);
//! - four or more consecutive ascending or descending digits in a row (`1234`, `98765`,
//!   `31234`); no wrap-around (`8901` is fine).
//!
//! A PIN is also rejected when it equals the user's extension or the end of their line number.
//! Verdicts name the rule broken, never the value.

use plenum_sdk::prelude::*;

use crate::Policy;

/// Shortest run that counts as a pattern.
const RUN: usize = 4;

/// Judge a passcode an organizer chose.
pub fn check_passcode(policy: &Policy, check: &PasscodeCheck) -> Verdict {
    let rule = policy.settings.passcode;
    let code = check.passcode.as_bytes();
    let chars_ok = if check.pstn {
        code.iter().all(u8::is_ascii_digit)
    } else {
        code.iter().all(u8::is_ascii_alphanumeric)
    };
    if !chars_ok {
        let what = if check.pstn {
            "digits only for a dial-in meeting"
        } else {
            "letters and digits only"
        };
        return reject(&format!("passcode must be {what}"));
    }
    let unit = if check.pstn { "digits" } else { "characters" };
    if let Some(v) = length_verdict(
        "passcode",
        unit,
        code.len(),
        rule.min_length,
        rule.max_length,
    ) {
        return v;
    }
    if !policy.passcode_common_patterns
        && let Some(p) = common_pattern(code)
    {
        return reject(&format!("passcode must not be {p}"));
    }
    Verdict::Accept
}

/// Judge a PIN a user chose.
pub fn check_pin(policy: &Policy, check: &PinCheck) -> Verdict {
    let rule = policy.settings.pin;
    let pin = check.pin.as_bytes();
    if !pin.iter().all(u8::is_ascii_digit) {
        return reject("PIN must be digits only");
    }
    if let Some(v) = length_verdict("PIN", "digits", pin.len(), rule.min_length, rule.max_length) {
        return v;
    }
    if rule.allow_common_patterns {
        return Verdict::Accept;
    }
    if let Some(p) = common_pattern(pin) {
        return reject(&format!("PIN must not be {p}"));
    }
    if check.extension.as_deref().is_some_and(|e| e == check.pin) {
        return reject("PIN must not be the user's extension");
    }
    if check
        .line
        .as_deref()
        .is_some_and(|line| ends_line(line, &check.pin))
    {
        return reject("PIN must not be the end of the user's phone number");
    }
    Verdict::Accept
}

/// The length rule, when `len` breaks it.
fn length_verdict(what: &str, unit: &str, len: usize, min: u8, max: u8) -> Option<Verdict> {
    if len < usize::from(min) {
        Some(reject(&format!("{what} must have at least {min} {unit}")))
    } else if len > usize::from(max) {
        Some(reject(&format!("{what} must have at most {max} {unit}")))
    } else {
        None
    }
}

/// Which common pattern `code` contains, if any.
pub fn common_pattern(code: &[u8]) -> Option<&'static str> {
    let runs = code.windows(RUN);
    for w in runs {
        if steps(w, 0) {
            return Some("a repeated digit");
        }
        if steps(w, 1) || steps(w, -1) {
            return Some("consecutive digits");
        }
    }
    None
}

/// Whether each byte of `w` is the previous one plus `step`.
fn steps(w: &[u8], step: i16) -> bool {
    w.windows(2).all(|p| match p {
        [a, b] => i16::from(*b) - i16::from(*a) == step,
        _ => false,
    })
}

/// Whether the digits of `line` (an E.164 number, maybe a `tel:` URI) end with `pin`.
fn ends_line(line: &str, pin: &str) -> bool {
    let digits: String = line.chars().filter(char::is_ascii_digit).collect();
    !pin.is_empty() && digits.ends_with(pin)
}

fn reject(text: &str) -> Verdict {
    Verdict::Reject(text.to_owned())
}
