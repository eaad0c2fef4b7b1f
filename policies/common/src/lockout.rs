//! PIN lockout, after Lync's `CsPinPolicy` (c3p.md §3).
//!
//! - Failures are counted in a window that opens with the first failure and lasts
//!   `window-secs`; a failure after the window has passed opens a new one (local count 1).
//! - When the local count reaches the local limit, PIN sign-in locks until now + `lock-secs`;
//!   the local count and the window start over.
//! - Every failure also counts globally; the window and the temporary lock never reset that
//!   count. When it reaches the global limit, PIN sign-in locks until an administrator unlocks it.
//! - A success resets the local count and the window, not the global count.
//! - The limits depend on the PIN's length (the defaults of [`crate::profile::DEFAULT`]) unless
//!   the document sets them.

use plenum_sdk::prelude::*;

use crate::Policy;

/// The user's counters after one PIN sign-in attempt at `now`.
pub fn record_attempt(
    policy: &Policy,
    pin_length: u8,
    attempts: PinAttempts,
    outcome: AttemptOutcome,
    now: Timestamp,
) -> PinAttempts {
    match outcome {
        AttemptOutcome::Success => success(attempts, now),
        AttemptOutcome::Failure => failure(policy, pin_length, attempts, now),
    }
}

fn success(mut a: PinAttempts, now: Timestamp) -> PinAttempts {
    a.local_failures = 0;
    a.window_start = None;
    if a.locked_until.is_some_and(|t| t <= now) {
        a.locked_until = None;
    }
    a
}

fn failure(policy: &Policy, pin_length: u8, mut a: PinAttempts, now: Timestamp) -> PinAttempts {
    let window = i64::from(policy.settings.lockout.window_secs);
    let expired = match a.window_start {
        None => true,
        // A window that starts in the future (a clock step back) is treated as over.
        Some(start) => now < start || now.saturating_sub(start) >= window,
    };
    if expired {
        a.window_start = Some(now);
        a.local_failures = 0;
    }
    a.local_failures = a.local_failures.saturating_add(1);
    a.global_failures = a.global_failures.saturating_add(1);
    if a.local_failures >= policy.local_limit.for_length(pin_length) {
        let lock = i64::from(policy.settings.lockout.lock_secs);
        a.locked_until = Some(now.saturating_add(lock));
        a.local_failures = 0;
        a.window_start = None;
    }
    if a.global_failures >= policy.global_limit.for_length(pin_length) {
        a.locked = true;
    }
    a
}
