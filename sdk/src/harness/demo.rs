//! The demo world's facts, as the host seeds them on first start: tenant `contoso`, location
//! profile `Redmond`, two access numbers, users alice and bob. Plugins use them in their canaries
//! and tests; the host's tests use the same values.

use crate::api::attendant::{CallInfo, CallOptions, Caller};
use crate::api::policy::{
    AnnouncementMode, KeypadBinding, KeypadCommand, LastLeaderAction, LockoutRule, MeetingSettings,
    PasscodeRule, PinAuthScope, PinRule,
};
use crate::api::types::{AccessNumber, LocationProfile, Tenant};

/// Tenant `contoso`.
pub fn tenant() -> Tenant {
    Tenant::new("contoso", "contoso.example")
}

/// The `Redmond` location profile's rules, in order.
pub const REDMOND_RULES: &[(&str, &str)] = &[
    (r"^(\d{4})$", "+1425555$1"),
    (r"^(\d{7})$", "+1425$1"),
    (r"^(\d{10})$", "+1$1"),
    // The R2 sample rule `^1(\d{10})$ -> +$1` would drop the country code (14255550100 -> +4255550100);
    // capturing the 1 keeps it, which is what a user dialling 1 + ten digits means.
    (r"^(1\d{10})$", "+$1"),
    (r"^011(\d+)$", "+$1"),
];

/// Location profile `Redmond` (region Redmond).
pub fn redmond() -> LocationProfile {
    super::profile("Redmond", "Redmond", REDMOND_RULES)
}

/// The Redmond access number `+14255550100` (en-US, de-DE, fr-FR).
pub fn redmond_number() -> AccessNumber {
    AccessNumber {
        number: "+14255550100".into(),
        display: "+1 (425) 555-0100".into(),
        region: "Redmond".into(),
        languages: vec!["en-US".into(), "de-DE".into(), "fr-FR".into()],
        priority: 0,
    }
}

/// The London access number `+442075550100` (en-GB).
pub fn london_number() -> AccessNumber {
    AccessNumber {
        number: "+442075550100".into(),
        display: "+44 20 7555 0100".into(),
        region: "London".into(),
        languages: vec!["en-GB".into()],
        priority: 0,
    }
}

/// Attempt limits as OCS ships them: three tries each, name recording on.
pub fn call_options() -> CallOptions {
    CallOptions {
        conference_id_attempts: 3,
        passcode_attempts: 3,
        pin_attempts: 3,
        pin_auth: PinAuthScope::Everyone,
        name_recording: true,
    }
}

/// An anonymous call from a gateway to `number`.
pub fn call(number: AccessNumber) -> CallInfo {
    CallInfo {
        call_id: "demo-call".into(),
        tenant: tenant(),
        access_number: number,
        calling: Some("+14255551234".into()),
        caller: Caller::Anonymous,
        options: call_options(),
        now: 1_790_000_000,
    }
}

/// The in-meeting keypad of Lync/SfB's defaults: `*1` help, `*3` roll call, `*6` mute self,
/// and for leaders `*4` mute audience, `*7` lock, `*8` admit all, `*9` announcements.
pub fn keypad() -> Vec<KeypadBinding> {
    let b = |digit, command, leaders_only| KeypadBinding {
        digit,
        command,
        leaders_only,
    };
    vec![
        b('1', KeypadCommand::Help, false),
        b('3', KeypadCommand::RollCall, false),
        b('6', KeypadCommand::MuteSelf, false),
        b('4', KeypadCommand::MuteAudience, true),
        b('7', KeypadCommand::Lock, true),
        b('8', KeypadCommand::AdmitAll, true),
        b('9', KeypadCommand::Announcements, true),
    ]
}

/// Settings like the bundled default policy's for an empty document.
pub fn settings() -> MeetingSettings {
    MeetingSettings {
        passcode: PasscodeRule {
            required: true,
            min_length: 4,
            max_length: 16,
        },
        pin: PinRule {
            min_length: 5,
            max_length: 24,
            allow_common_patterns: false,
        },
        lockout: LockoutRule {
            window_secs: 1800,
            local_limit: 25,
            lock_secs: 3600,
            global_limit: 1000,
        },
        conference_id_attempts: 3,
        passcode_attempts: 3,
        pin_attempts: 3,
        pin_auth: PinAuthScope::Everyone,
        name_recording: true,
        announcements: AnnouncementMode::Names,
        keypad_prefix: '*',
        keypad: keypad(),
        max_meeting_size: 250,
        hold_timeout_secs: 1800,
        lobby_timeout_secs: 900,
        dead_leg_secs: 60,
        on_last_leader_leave: LastLeaderAction::ContinueMeeting,
        default_expiry_secs: 8 * 3600,
        max_expiry_secs: 365 * 24 * 3600,
        max_meetings_per_organizer: 1000,
        lobby_bypass_allowed: true,
    }
}

/// The demo organizer, alice, in region Redmond.
pub fn organizer() -> crate::api::focus::Organizer {
    crate::api::focus::Organizer {
        uri: "sip:alice@contoso.example".into(),
        display_name: "Alice Smith".into(),
        region: Some("Redmond".into()),
    }
}

/// A scheduling context for alice on contoso, with fixed entropy and sequence.
pub fn schedule_context() -> crate::api::focus::ScheduleContext {
    crate::api::focus::ScheduleContext {
        tenant: tenant(),
        organizer: organizer(),
        now: 1_790_000_000,
        pstn_enabled: true,
        access_numbers: vec![redmond_number(), london_number()],
        settings: settings(),
        organizer_meetings: 0,
        entropy: (0u8..32).collect(),
        pstn_sequence: 4711,
    }
}

/// A policy context for contoso with `document`.
pub fn policy_context(
    document: crate::api::types::PolicyDocument,
) -> crate::api::policy::PolicyContext {
    crate::api::policy::PolicyContext {
        tenant: tenant(),
        document,
    }
}
