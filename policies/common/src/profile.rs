//! A policy's built-in values (its *profile*) and how far a tenant's document may move them.
//!
//! The default policy lets the document set anything within the absolute bounds of
//! [`crate::keys`]; the strict policy's values are floors the document may only tighten.

use plenum_sdk::prelude::*;

/// How the document may change a profile's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Any value within the key's absolute bounds.
    Free,
    /// Only values at least as strict as the profile's (the profile's values are floors).
    TightenOnly,
}

/// A limit that depends on the PIN's length, as Lync's `CsPinPolicy` defaults do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByLength {
    /// For PINs of four digits or fewer.
    pub four: u32,
    /// For five-digit PINs.
    pub five: u32,
    /// For PINs of six digits or more.
    pub six_plus: u32,
}

impl ByLength {
    /// The same limit for every length.
    pub const fn flat(v: u32) -> ByLength {
        ByLength {
            four: v,
            five: v,
            six_plus: v,
        }
    }

    /// The limit for a PIN of `len` digits.
    pub fn for_length(self, len: u8) -> u32 {
        match len {
            0..=4 => self.four,
            5 => self.five,
            _ => self.six_plus,
        }
    }

    /// The smallest limit of the three (the strictest).
    pub fn min(self) -> u32 {
        self.four.min(self.five).min(self.six_plus)
    }
}

/// The built-in values of a policy; with [`Mode::TightenOnly`] they are also its floors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The policy's name, used in error messages (`strict`).
    pub name: &'static str,
    /// How the document may change the values.
    pub mode: Mode,
    /// Dial-in meetings must have a passcode.
    pub passcode_required: bool,
    /// Shortest passcode.
    pub passcode_min_length: u8,
    /// Longest passcode.
    pub passcode_max_length: u8,
    /// Passcodes like `1111` or `1234` are allowed.
    pub passcode_common_patterns: bool,
    /// Shortest PIN.
    pub pin_min_length: u8,
    /// Longest PIN.
    pub pin_max_length: u8,
    /// PINs like `11111`, `12345` or the user's extension are allowed.
    pub pin_common_patterns: bool,
    /// Who may sign in with extension + PIN.
    pub pin_auth: PinAuthScope,
    /// PIN failure window.
    pub lockout_window_secs: u32,
    /// Failures in the window that lock PIN sign-in for `lockout_lock_secs`.
    pub lockout_local_limit: ByLength,
    /// How long the temporary lock lasts.
    pub lockout_lock_secs: u32,
    /// Failures in all that lock PIN sign-in until an administrator unlocks it.
    pub lockout_global_limit: ByLength,
    /// Attendant tries for the conference ID.
    pub conference_id_attempts: u8,
    /// Attendant tries for the passcode.
    pub passcode_attempts: u8,
    /// Attendant tries for extension + PIN.
    pub pin_attempts: u8,
    /// Anonymous callers record their name.
    pub name_recording: bool,
    /// Entry and exit announcements.
    pub announcements: AnnouncementMode,
    /// Keypad command prefix.
    pub keypad_prefix: char,
    /// Keypad digits by command; `None` turns a command off.
    pub keypad: [(KeypadCommand, Option<char>); 7],
    /// Most participants in a meeting.
    pub max_meeting_size: u32,
    /// Longest wait on hold music for a leader.
    pub hold_timeout_secs: u32,
    /// Longest wait in the lobby.
    pub lobby_timeout_secs: u32,
    /// A leg without media for this long is dropped.
    pub dead_leg_secs: u32,
    /// What happens when the last leader leaves.
    pub on_last_leader_leave: LastLeaderAction,
    /// Default meeting lifetime.
    pub default_expiry_secs: u32,
    /// Longest meeting lifetime.
    pub max_expiry_secs: u32,
    /// Most meetings per organizer.
    pub max_meetings_per_organizer: u32,
    /// Organizers may let PSTN callers bypass the lobby.
    pub lobby_bypass_allowed: bool,
    /// Anonymous callers hold until a leader or authenticated user is present.
    pub anonymous_waits_for_leader: bool,
    /// Anonymous participants always wait in the lobby until a leader admits them (fixed by
    /// the profile; the document has no key for it).
    pub anonymous_always_lobby: bool,
}

/// Leaders-only commands: mute audience, lock, admit all, announcements.
pub fn leaders_only(command: KeypadCommand) -> bool {
    matches!(
        command,
        KeypadCommand::MuteAudience
            | KeypadCommand::Lock
            | KeypadCommand::AdmitAll
            | KeypadCommand::Announcements
    )
}

/// The Lync/SfB default keypad (`*1` help, `*3` roll call, `*6` mute self; leaders `*4` mute
/// audience, `*7` lock, `*8` admit all, `*9` announcements), in the demo's order.
pub const LYNC_KEYPAD: [(KeypadCommand, Option<char>); 7] = [
    (KeypadCommand::Help, Some('1')),
    (KeypadCommand::RollCall, Some('3')),
    (KeypadCommand::MuteSelf, Some('6')),
    (KeypadCommand::MuteAudience, Some('4')),
    (KeypadCommand::Lock, Some('7')),
    (KeypadCommand::AdmitAll, Some('8')),
    (KeypadCommand::Announcements, Some('9')),
];

const HOUR: u32 = 3600;
const DAY: u32 = 24 * HOUR;

/// The bundled default policy: OCS 2007 R2 / Lync defaults (c3p.md §3, §4).
pub const DEFAULT: Profile = Profile {
    name: "default",
    mode: Mode::Free,
    passcode_required: true,
    passcode_min_length: 4,
    passcode_max_length: 16,
    passcode_common_patterns: false,
    pin_min_length: 5,
    pin_max_length: 24,
    pin_common_patterns: false,
    pin_auth: PinAuthScope::Everyone,
    lockout_window_secs: 30 * 60,
    lockout_local_limit: ByLength {
        four: 10,
        five: 25,
        six_plus: 25,
    },
    lockout_lock_secs: HOUR,
    lockout_global_limit: ByLength {
        four: 100,
        five: 1000,
        six_plus: 5000,
    },
    conference_id_attempts: 3,
    passcode_attempts: 3,
    pin_attempts: 3,
    name_recording: true,
    announcements: AnnouncementMode::Names,
    keypad_prefix: '*',
    keypad: LYNC_KEYPAD,
    max_meeting_size: 250,
    hold_timeout_secs: 30 * 60,
    lobby_timeout_secs: 15 * 60,
    dead_leg_secs: 60,
    on_last_leader_leave: LastLeaderAction::ContinueMeeting,
    default_expiry_secs: 8 * HOUR,
    max_expiry_secs: 365 * DAY,
    max_meetings_per_organizer: 1000,
    lobby_bypass_allowed: true,
    anonymous_waits_for_leader: true,
    anonymous_always_lobby: false,
};

/// The strict policy: floors a tenant's document may only tighten.
pub const STRICT: Profile = Profile {
    name: "strict",
    mode: Mode::TightenOnly,
    passcode_required: true,
    passcode_min_length: 6,
    passcode_max_length: 16,
    passcode_common_patterns: false,
    pin_min_length: 6,
    pin_max_length: 24,
    pin_common_patterns: false,
    pin_auth: PinAuthScope::Everyone,
    lockout_window_secs: 30 * 60,
    lockout_local_limit: ByLength::flat(5),
    lockout_lock_secs: HOUR,
    lockout_global_limit: ByLength::flat(100),
    conference_id_attempts: 3,
    passcode_attempts: 3,
    pin_attempts: 3,
    name_recording: true,
    announcements: AnnouncementMode::Names,
    keypad_prefix: '*',
    keypad: LYNC_KEYPAD,
    max_meeting_size: 250,
    hold_timeout_secs: 30 * 60,
    lobby_timeout_secs: 15 * 60,
    dead_leg_secs: 60,
    on_last_leader_leave: LastLeaderAction::ContinueMeeting,
    default_expiry_secs: 8 * HOUR,
    max_expiry_secs: 30 * DAY,
    max_meetings_per_organizer: 100,
    lobby_bypass_allowed: false,
    anonymous_waits_for_leader: true,
    anonymous_always_lobby: true,
};
