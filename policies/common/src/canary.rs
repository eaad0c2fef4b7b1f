//! Builders for the facts policy canaries and tests use: the demo organizer's meeting, callers,
//! candidate passcodes and PINs.

use plenum_sdk::prelude::*;

/// The demo organizer.
pub const ORGANIZER: &str = "sip:alice@contoso.example";

/// An unlocked `anonymous` meeting with a passcode and nobody in it yet.
pub fn meeting() -> MeetingFacts {
    MeetingFacts {
        organizer: ORGANIZER.into(),
        admission: AdmissionPolicy::Anonymous,
        lobby_bypass: false,
        has_passcode: true,
        locked: false,
        admit_all: false,
        leaders_present: 0,
        authenticated_present: 0,
        participants: 0,
    }
}

/// `meeting()` with its organizer present.
pub fn meeting_with_leader() -> MeetingFacts {
    MeetingFacts {
        leaders_present: 1,
        authenticated_present: 1,
        participants: 1,
        ..meeting()
    }
}

/// An anonymous caller dialling in to `meeting`.
pub fn anonymous_caller(meeting: MeetingFacts) -> AdmissionRequest {
    AdmissionRequest {
        meeting,
        identity: ParticipantIdentity::Anonymous,
        is_organizer: false,
        same_tenant: false,
        method: JoiningMethod::DialedIn,
    }
}

/// The organizer dialling in with extension + PIN.
pub fn organizer_by_pin(meeting: MeetingFacts) -> AdmissionRequest {
    AdmissionRequest {
        meeting,
        identity: ParticipantIdentity::PinUser(ORGANIZER.into()),
        is_organizer: true,
        same_tenant: true,
        method: JoiningMethod::DialedIn,
    }
}

/// A user of the tenant joining from a SIP client.
pub fn sip_user(meeting: MeetingFacts, uri: &str) -> AdmissionRequest {
    AdmissionRequest {
        meeting,
        identity: ParticipantIdentity::SipUser(uri.into()),
        is_organizer: false,
        same_tenant: true,
        method: JoiningMethod::SipClient,
    }
}

/// A passcode for a dial-in meeting.
pub fn passcode(code: &str) -> PasscodeCheck {
    PasscodeCheck {
        passcode: code.into(),
        pstn: true,
    }
}

/// A PIN of a user with extension `0100` and line `+14255550100`.
pub fn pin(pin: &str) -> PinCheck {
    PinCheck {
        pin: pin.into(),
        extension: Some("0100".into()),
        line: Some("+14255550100".into()),
    }
}

/// A rejection verdict with exactly this text.
pub fn reject(text: &str) -> Verdict {
    Verdict::Reject(text.into())
}
