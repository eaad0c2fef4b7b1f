//! A strict meeting policy, for tenants that want dial-in locked down. Its values are floors:
//! a tenant's policy document may tighten them, never loosen them (a looser value is an
//! `invalid-input` error naming the key, so the policy fails closed).
//!
//! - Passcodes always required, at least 6 digits, no common patterns.
//! - PINs at least 6 digits, no common patterns.
//! - Lockout: 5 failures in a 30-minute window lock PIN sign-in for an hour; 100 in all lock
//!   it until an administrator unlocks it.
//! - Anonymous callers always wait in the lobby until a leader admits them, whatever the
//!   meeting's lobby bypass or "admit all"; PSTN lobby bypass is not offered.
//! - Name recording on, entry/exit announcements by name.
//! - Meetings live at most 30 days; at most 100 per organizer.

use meeting_policy_common::canary::{
    anonymous_caller, meeting, meeting_with_leader, organizer_by_pin, passcode, pin, reject,
    sip_user,
};
use meeting_policy_common::{Profile, STRICT};
use plenum_sdk::prelude::*;

/// The policy.
pub struct StrictPolicy;

/// Its profile.
const PROFILE: &Profile = &STRICT;

impl MeetingPolicy for StrictPolicy {
    fn info() -> PluginInfo {
        plenum_sdk::plugin_info!("Strict meeting policy: the tenant's document may only tighten it")
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

plenum_sdk::export_meeting_policy!(StrictPolicy);

/// The canaries: what the host checks at upload, with an empty document.
fn canaries() -> Vec<PolicyCanary> {
    let open_door = MeetingFacts {
        admit_all: true,
        lobby_bypass: true,
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
            anonymous_caller(meeting_with_leader()),
            AdmissionDecision::Lobby,
        )),
        PolicyCanary::Admit((anonymous_caller(open_door), AdmissionDecision::Lobby)),
        PolicyCanary::Passcode((passcode("246813"), Verdict::Accept)),
        PolicyCanary::Passcode((
            passcode("2468"),
            reject("passcode must have at least 6 digits"),
        )),
        PolicyCanary::Passcode((
            passcode("123456"),
            reject("passcode must not be consecutive digits"),
        )),
        PolicyCanary::Pin((pin("135792"), Verdict::Accept)),
        PolicyCanary::Pin((pin("13579"), reject("PIN must have at least 6 digits"))),
        PolicyCanary::Pin((pin("555555"), reject("PIN must not be a repeated digit"))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_sdk::harness::{self, Native, PolicyTarget};

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
            harness::check_policy(&mut Native::<StrictPolicy>::new()),
            Ok(canaries().len())
        );
    }

    #[test]
    fn cannot_be_loosened() {
        let mut t = Native::<StrictPolicy>::new();
        for (key, value) in [
            ("passcode.required", "false"),
            ("passcode.min-length", "4"),
            ("pin.min-length", "5"),
            ("lockout.local-limit", "25"),
            ("attendant.name-recording", "false"),
            ("announcements.mode", "off"),
            ("admission.lobby-bypass-allowed", "true"),
        ] {
            let got = t.settings(&context(&[(key, value)])).expect("no fault");
            assert!(
                matches!(&got, Err(PluginError::InvalidInput(m)) if m.contains(key)),
                "{key}={value}: {got:?}"
            );
        }
    }

    #[test]
    fn a_loosening_document_fails_closed_on_every_call() {
        let mut t = Native::<StrictPolicy>::new();
        let ctx = context(&[("passcode.min-length", "4")]);
        assert!(matches!(
            t.check_passcode(&ctx, &passcode("2468")),
            Ok(Err(PluginError::InvalidInput(_)))
        ));
        assert!(matches!(
            t.admit(&ctx, &anonymous_caller(meeting())),
            Ok(Err(PluginError::InvalidInput(_)))
        ));
    }

    #[test]
    fn can_be_tightened() {
        let mut t = Native::<StrictPolicy>::new();
        let ctx = context(&[("passcode.min-length", "8"), ("lockout.local-limit", "3")]);
        let s = t
            .settings(&ctx)
            .expect("no fault")
            .expect("tighter values are fine");
        assert_eq!((s.passcode.min_length, s.lockout.local_limit), (8, 3));
        assert_eq!(
            t.check_passcode(&ctx, &passcode("246813")),
            Ok(Ok(reject("passcode must have at least 8 digits")))
        );
    }

    #[test]
    fn strict_lockout_locks_after_five() {
        let mut t = Native::<StrictPolicy>::new();
        let ctx = context(&[]);
        let mut a = PinAttempts::default();
        for now in 0..5 {
            a = t
                .record_attempt(&ctx, 6, &a, AttemptOutcome::Failure, 1000 + now)
                .expect("no fault")
                .expect("ok");
        }
        assert_eq!(a.locked_until, Some(1004 + 3600));
    }
}
