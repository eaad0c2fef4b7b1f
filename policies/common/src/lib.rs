//! The engine behind the bundled meeting policies (`meeting-policy-default` and
//! `meeting-policy-strict`).
//!
//! A policy is a [`Profile`] (its built-in values, and whether a tenant's document may loosen
//! them) plus the tenant's policy document, read through [`plenum_sdk::document::Document`].
//! Every call parses the document afresh (it is small) and decides:
//!
//! - [`keys`]: the document's keys, bounds and the resulting [`Policy`] / `meeting-settings`;
//! - [`patterns`]: passcode and PIN rules (length, characters, common patterns);
//! - [`lockout`]: the PIN lockout state machine;
//! - [`admission`]: admit, hold, lobby or deny.
//!
//! The functions at the top level are what a policy's `MeetingPolicy` impl calls; [`canary`]
//! builds the facts its canaries and tests use. This crate builds no component itself.

pub mod admission;
pub mod canary;
pub mod keys;
pub mod lockout;
pub mod patterns;
pub mod profile;

#[cfg(test)]
mod tests;

use plenum_sdk::prelude::*;

pub use keys::{KEYS, Policy};
pub use profile::{ByLength, DEFAULT, Mode, Profile, STRICT};

/// `settings`: the profile with the tenant's document applied.
pub fn settings(
    profile: &Profile,
    context: &PolicyContext,
) -> Result<MeetingSettings, PluginError> {
    Policy::parse(profile, &context.document).map(|p| p.settings)
}

/// `check-passcode`.
pub fn check_passcode(
    profile: &Profile,
    context: &PolicyContext,
    check: &PasscodeCheck,
) -> Result<Verdict, PluginError> {
    let policy = Policy::parse(profile, &context.document)?;
    Ok(patterns::check_passcode(&policy, check))
}

/// `check-pin`.
pub fn check_pin(
    profile: &Profile,
    context: &PolicyContext,
    check: &PinCheck,
) -> Result<Verdict, PluginError> {
    let policy = Policy::parse(profile, &context.document)?;
    Ok(patterns::check_pin(&policy, check))
}

/// `record-attempt`.
pub fn record_attempt(
    profile: &Profile,
    context: &PolicyContext,
    pin_length: u8,
    attempts: PinAttempts,
    outcome: AttemptOutcome,
    now: Timestamp,
) -> Result<PinAttempts, PluginError> {
    let policy = Policy::parse(profile, &context.document)?;
    Ok(lockout::record_attempt(
        &policy, pin_length, attempts, outcome, now,
    ))
}

/// `admit`.
pub fn admit(
    profile: &Profile,
    context: &PolicyContext,
    request: &AdmissionRequest,
) -> Result<AdmissionDecision, PluginError> {
    let policy = Policy::parse(profile, &context.document)?;
    Ok(admission::admit(&policy, request))
}
