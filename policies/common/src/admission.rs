//! Admission (c3p.md §4.2 step 6): who enters, who waits, who is refused.
//!
//! In order:
//! 1. A full meeting (participants ≥ `meeting.max-size`) refuses everyone but its organizer.
//! 2. The organizer (identified by PIN or SIP digest) enters as leader.
//! 3. Authenticated users of the meeting's tenant (SIP digest or PIN) enter as attendees; they
//!    never wait (DESIGN §1.2 step 6).
//! 4. Authenticated users of another tenant enter an `anonymous` meeting, or one a leader opened
//!    with "admit all"; otherwise (locked, closed or open-authenticated) they wait in the lobby.
//! 5. Anonymous participants:
//!    - under a profile that always sends them to the lobby (strict): lobby;
//!    - a locked meeting, or one whose admission policy is not `anonymous` (both
//!      `closedAuthenticated` and `openAuthenticated`: OCS sends unauthenticated callers of closed
//!      meetings to the lobby rather than refusing them), sends them to the lobby unless a leader
//!      said "admit all" or, for dial-in callers, the meeting has PSTN lobby bypass and the
//!      policy allows it;
//!    - with `admission.anonymous-waits-for-leader` (default), they hold until a leader or an
//!      authenticated user is present;
//!    - otherwise they enter as attendees.

use plenum_sdk::prelude::*;

use crate::Policy;

/// Decide whether a participant enters, waits or is refused.
pub fn admit(policy: &Policy, req: &AdmissionRequest) -> AdmissionDecision {
    let authenticated = !matches!(req.identity, ParticipantIdentity::Anonymous);
    let organizer = req.is_organizer && authenticated;
    if req.meeting.participants >= policy.settings.max_meeting_size && !organizer {
        return AdmissionDecision::Deny("the meeting is full".into());
    }
    if organizer {
        return AdmissionDecision::Admit(Role::Leader);
    }
    match (authenticated, req.same_tenant) {
        (true, true) => AdmissionDecision::Admit(Role::Attendee),
        (true, false) => external(&req.meeting),
        (false, _) => anonymous(policy, req),
    }
}

/// An authenticated user of another tenant.
fn external(m: &MeetingFacts) -> AdmissionDecision {
    if m.admit_all || (!m.locked && m.admission == AdmissionPolicy::Anonymous) {
        AdmissionDecision::Admit(Role::Attendee)
    } else {
        AdmissionDecision::Lobby
    }
}

/// A participant who gave only the conference ID (and passcode), or an anonymous SIP client.
fn anonymous(policy: &Policy, req: &AdmissionRequest) -> AdmissionDecision {
    let m = &req.meeting;
    if policy.anonymous_always_lobby {
        return AdmissionDecision::Lobby;
    }
    let gated = m.locked || m.admission != AdmissionPolicy::Anonymous;
    let bypass = m.admit_all
        || (req.method == JoiningMethod::DialedIn
            && m.lobby_bypass
            && policy.settings.lobby_bypass_allowed);
    if gated && !bypass {
        return AdmissionDecision::Lobby;
    }
    if policy.anonymous_waits_for_leader && m.leaders_present == 0 && m.authenticated_present == 0 {
        return AdmissionDecision::HoldUntilLeader;
    }
    AdmissionDecision::Admit(Role::Attendee)
}
