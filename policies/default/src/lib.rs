//! The bundled meeting policy: OCS 2007 R2 / Lync defaults (c3p.md §3, §4), each adjustable
//! by the tenant's policy document (keys in `policies/README.md`).
//!
//! - Passcodes: required for dial-in meetings, 4–16 digits, no common patterns.
//! - PINs: 5–24 digits, no common patterns, not the user's extension or line number.
//! - Lockout: failures counted in a 30-minute window; 25 failures (10 for 4-digit PINs) lock
//!   PIN sign-in for an hour; 1000 in all (100 for 4-digit, 5000 for 6+ digit PINs) lock it
//!   until an administrator unlocks it.
//! - Admission: organizer as leader, the tenant's users straight in, anonymous callers on hold
//!   until a leader or authenticated user is present, the lobby for locked and
//!   non-anonymous meetings (PSTN lobby bypass honoured).
//! - Lync's keypad: `*1` help, `*3` roll call, `*6` mute self; leaders `*4`, `*7`, `*8`, `*9`.

use meeting_policy_common::canary::{
    anonymous_caller, meeting, meeting_with_leader, organizer_by_pin, passcode, pin, reject,
    sip_user,
};
use meeting_policy_common::{DEFAULT, Profile};
use plenum_sdk::prelude::*;

/// The policy.
pub struct DefaultPolicy;

/// Its profile.
const PROFILE: &Profile = &DEFAULT;

impl MeetingPolicy for DefaultPolicy {
    fn info() -> PluginInfo {
        plenum_sdk::plugin_info!(
            "Meeting policy with OCS 2007 R2 / Lync defaults, adjustable per tenant"
        )
    }

    fn canaries() -> Vec<PolicyCanary> {
        canaries()
    }

    fn settings(context: PolicyContext) -> Result<MeetingSettings, PluginError> {
        meeting_policy_common::settings(PROFILE, &context)
    }

    fn check_passcode(
        context: PolicyContext,
        check: PasscodeCheck,
    ) -> Result<Verdict, PluginError> {
        meeting_policy_common::check_passcode(PROFILE, &context, &check)
    }

    fn check_pin(context: PolicyContext, check: PinCheck) -> Result<Verdict, PluginError> {
        meeting_policy_common::check_pin(PROFILE, &context, &check)
    }

    fn record_attempt(
        context: PolicyContext,
        pin_length: u8,
        attempts: PinAttempts,
        outcome: AttemptOutcome,
        now: Timestamp,
    ) -> Result<PinAttempts, PluginError> {
        meeting_policy_common::record_attempt(PROFILE, &context, pin_length, attempts, outcome, now)
    }

    fn admit(
        context: PolicyContext,
        request: AdmissionRequest,
    ) -> Result<AdmissionDecision, PluginError> {
        meeting_policy_common::admit(PROFILE, &context, &request)
    }
}

plenum_sdk::export_meeting_policy!(DefaultPolicy);

/// The canaries: what the host checks at upload, with an empty document.
fn canaries() -> Vec<PolicyCanary> {
    let locked = MeetingFacts {
        locked: true,
        ..meeting_with_leader()
    };
    vec![
        PolicyCanary::Admit((
            organizer_by_pin(meeting()),
            AdmissionDecision::Admit(Role::Leader),
        )),
        PolicyCanary::Admit((
            sip_user(meeting(), "sip:bob@contoso.example"),
            AdmissionDecision::Admit(Role::Attendee),
        )),
        PolicyCanary::Admit((
            anonymous_caller(meeting()),
            AdmissionDecision::HoldUntilLeader,
        )),
        PolicyCanary::Admit((
            anonymous_caller(meeting_with_leader()),
            AdmissionDecision::Admit(Role::Attendee),
        )),
        PolicyCanary::Admit((anonymous_caller(locked), AdmissionDecision::Lobby)),
        PolicyCanary::Passcode((passcode("2468"), Verdict::Accept)),
        PolicyCanary::Passcode((
            passcode("1234"),
            reject("passcode must not be consecutive digits"),
        )),
        PolicyCanary::Passcode((
            passcode("246"),
            reject("passcode must have at least 4 digits"),
        )),
        PolicyCanary::Pin((pin("13579"), Verdict::Accept)),
        PolicyCanary::Pin((pin("1357"), reject("PIN must have at least 5 digits"))),
        PolicyCanary::Pin((pin("77777"), reject("PIN must not be a repeated digit"))),
        PolicyCanary::Pin((
            pin("50100"),
            reject("PIN must not be the end of the user's phone number"),
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_sdk::harness::{self, Native, PolicyTarget, demo};

    fn context(entries: &[(&str, &str)]) -> PolicyContext {
        let mut ctx = harness::canary_policy_context();
        ctx.document = entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ctx
    }

    #[test]
    fn own_canaries_pass() {
        assert_eq!(
            harness::check_policy(&mut Native::<DefaultPolicy>::new()),
            Ok(canaries().len())
        );
    }

    #[test]
    fn empty_document_gives_the_demo_settings() {
        let got = Native::<DefaultPolicy>::new()
            .settings(&context(&[]))
            .expect("no fault");
        assert_eq!(got, Ok(demo::settings()));
    }

    #[test]
    fn document_errors_are_invalid_input_naming_the_key() {
        let mut t = Native::<DefaultPolicy>::new();
        let ctx = context(&[("pin.min-length", "five")]);
        for got in [
            t.settings(&ctx).expect("no fault").map(|_| ()),
            t.check_pin(&ctx, &pin("13579"))
                .expect("no fault")
                .map(|_| ()),
            t.admit(&ctx, &anonymous_caller(meeting()))
                .expect("no fault")
                .map(|_| ()),
        ] {
            assert!(
                matches!(got, Err(PluginError::InvalidInput(m)) if m.contains("`pin.min-length`"))
            );
        }
    }

    #[test]
    fn common_patterns_can_be_allowed() {
        let mut t = Native::<DefaultPolicy>::new();
        let ctx = context(&[
            ("passcode.allow-common-patterns", "true"),
            ("pin.allow-common-patterns", "true"),
        ]);
        assert_eq!(
            t.check_passcode(&ctx, &passcode("1234")),
            Ok(Ok(Verdict::Accept))
        );
        assert_eq!(t.check_pin(&ctx, &pin("12345")), Ok(Ok(Verdict::Accept)));
    }

    #[test]
    fn record_attempt_through_the_harness() {
        let mut t = Native::<DefaultPolicy>::new();
        let ctx = context(&[("lockout.local-limit", "2")]);
        let mut a = PinAttempts::default();
        for now in [100, 101] {
            a = t
                .record_attempt(&ctx, 5, &a, AttemptOutcome::Failure, now)
                .expect("no fault")
                .expect("valid document");
        }
        assert_eq!(a.locked_until, Some(101 + 3600));
        assert!(a.is_locked(200));
    }
}
