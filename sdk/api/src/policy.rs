//! WIT interfaces `policy-types` and `meeting-policy-api`.

use crate::types::{AdmissionPolicy, PolicyDocument, Tenant, Timestamp, Verdict, contract};

contract! {
    /// What every policy call is given.
    pub struct PolicyContext {
        /// The tenant.
        pub tenant: Tenant,
        /// The tenant's flattened policy document.
        pub document: PolicyDocument,
    }

    /// Passcode rules.
    #[derive(Copy)]
    pub struct PasscodeRule {
        /// Dial-in meetings must have one.
        pub required: bool,
        /// Minimum digits.
        pub min_length: u8,
        /// Maximum digits.
        pub max_length: u8,
    }

    /// PIN rules.
    #[derive(Copy)]
    pub struct PinRule {
        /// Minimum digits.
        pub min_length: u8,
        /// Maximum digits.
        pub max_length: u8,
        /// Repeated/consecutive digits and own extension allowed.
        pub allow_common_patterns: bool,
    }

    /// PIN lockout.
    #[derive(Copy)]
    pub struct LockoutRule {
        /// Failure window.
        pub window_secs: u32,
        /// Failures in the window that lock temporarily.
        pub local_limit: u32,
        /// Length of the temporary lock.
        pub lock_secs: u32,
        /// Failures in total that lock until an admin unlocks.
        pub global_limit: u32,
    }

    /// Entry/exit announcements.
    #[derive(Copy, Hash)]
    pub enum AnnouncementMode {
        /// Names.
        Names,
        /// Tones.
        Tones,
        /// Nothing.
        Off,
    }

    /// An in-meeting keypad command.
    #[derive(Copy, Hash)]
    pub enum KeypadCommand {
        /// Private help.
        Help,
        /// Private roll call.
        RollCall,
        /// Mute or unmute oneself.
        MuteSelf,
        /// Mute or unmute everyone but leaders.
        MuteAudience,
        /// Lock or unlock the meeting.
        Lock,
        /// Admit everyone from the lobby.
        AdmitAll,
        /// Announcements on or off.
        Announcements,
    }

    /// One key of the keypad map.
    #[derive(Copy)]
    pub struct KeypadBinding {
        /// The digit after the prefix.
        pub digit: char,
        /// The command.
        pub command: KeypadCommand,
        /// Leaders only.
        pub leaders_only: bool,
    }

    /// Who may use the PIN path.
    #[derive(Copy, Hash)]
    pub enum PinAuthScope {
        /// Every user.
        Everyone,
        /// Only organizers.
        OrganizerOnly,
    }

    /// What happens when the last leader leaves.
    #[derive(Copy, Hash)]
    pub enum LastLeaderAction {
        /// The meeting goes on.
        ContinueMeeting,
        /// The meeting ends.
        EndMeeting,
    }

    /// The declarative part of a tenant's meeting policy.
    pub struct MeetingSettings {
        /// Passcode rules.
        pub passcode: PasscodeRule,
        /// PIN rules.
        pub pin: PinRule,
        /// PIN lockout.
        pub lockout: LockoutRule,
        /// Tries for a conference ID.
        pub conference_id_attempts: u8,
        /// Tries for a passcode.
        pub passcode_attempts: u8,
        /// Tries for extension + PIN.
        pub pin_attempts: u8,
        /// Who may use the PIN path.
        pub pin_auth: PinAuthScope,
        /// Anonymous callers record their name.
        pub name_recording: bool,
        /// Entry/exit announcements.
        pub announcements: AnnouncementMode,
        /// Keypad command prefix.
        pub keypad_prefix: char,
        /// Keypad bindings.
        pub keypad: Vec<KeypadBinding>,
        /// Most participants.
        pub max_meeting_size: u32,
        /// Wait for a leader before disconnect.
        pub hold_timeout_secs: u32,
        /// Wait in the lobby before disconnect.
        pub lobby_timeout_secs: u32,
        /// No media for this long drops a leg.
        pub dead_leg_secs: u32,
        /// When the last leader leaves.
        pub on_last_leader_leave: LastLeaderAction,
        /// Default meeting lifetime.
        pub default_expiry_secs: u32,
        /// Longest lifetime.
        pub max_expiry_secs: u32,
        /// Most meetings per organizer.
        pub max_meetings_per_organizer: u32,
        /// PSTN callers may bypass the lobby when the organizer asks.
        pub lobby_bypass_allowed: bool,
    }

    /// The meeting an admission decision is about.
    pub struct MeetingFacts {
        /// Organizer's SIP URI.
        pub organizer: String,
        /// Admission policy.
        pub admission: AdmissionPolicy,
        /// PSTN callers skip the lobby.
        pub lobby_bypass: bool,
        /// The meeting has a passcode.
        pub has_passcode: bool,
        /// Locked now.
        pub locked: bool,
        /// A leader said "admit all".
        pub admit_all: bool,
        /// Leaders present.
        pub leaders_present: u32,
        /// Authenticated users present (leaders included).
        pub authenticated_present: u32,
        /// Participants present.
        pub participants: u32,
    }

    /// How a participant proved who they are.
    pub enum ParticipantIdentity {
        /// Conference ID (and passcode) only.
        Anonymous,
        /// Extension + PIN; the SIP URI.
        PinUser(String),
        /// SIP digest; the SIP URI.
        SipUser(String),
    }

    /// How the participant arrives.
    #[derive(Copy, Hash)]
    pub enum JoiningMethod {
        /// By phone.
        DialedIn,
        /// From a SIP client.
        SipClient,
    }

    /// The admission question.
    pub struct AdmissionRequest {
        /// The meeting.
        pub meeting: MeetingFacts,
        /// The participant.
        pub identity: ParticipantIdentity,
        /// Is the organizer.
        pub is_organizer: bool,
        /// Is a user of the meeting's tenant.
        pub same_tenant: bool,
        /// How they arrive.
        pub method: JoiningMethod,
    }

    /// Role in the meeting.
    #[derive(Copy, Hash)]
    pub enum Role {
        /// Leader (presenter).
        Leader,
        /// Attendee.
        Attendee,
    }

    /// The admission answer.
    pub enum AdmissionDecision {
        /// Hold music until a leader comes.
        HoldUntilLeader,
        /// The lobby.
        Lobby,
        /// Straight in.
        Admit(Role),
        /// Refused.
        Deny(String),
    }

    /// A passcode to judge.
    pub struct PasscodeCheck {
        /// The candidate.
        pub passcode: String,
        /// Dial-in enabled meeting.
        pub pstn: bool,
    }

    /// A PIN to judge.
    pub struct PinCheck {
        /// The candidate.
        pub pin: String,
        /// The user's extension.
        pub extension: Option<String>,
        /// The user's E.164 line.
        pub line: Option<String>,
    }

    /// PIN sign-in counters of one user.
    #[derive(Default)]
    pub struct PinAttempts {
        /// Failures in the current window.
        pub local_failures: u32,
        /// Start of the current window.
        pub window_start: Option<Timestamp>,
        /// Failures since the last admin unlock.
        pub global_failures: u32,
        /// Locked until then.
        pub locked_until: Option<Timestamp>,
        /// Locked until an admin unlocks.
        pub locked: bool,
    }

    /// Result of one PIN attempt.
    #[derive(Copy, Hash)]
    pub enum AttemptOutcome {
        /// Right PIN.
        Success,
        /// Wrong PIN.
        Failure,
    }

    /// A vector the plugin ships with itself.
    pub enum PolicyCanary {
        /// `admit` must answer the decision.
        Admit((AdmissionRequest, AdmissionDecision)),
        /// `check-passcode` must answer the verdict.
        Passcode((PasscodeCheck, Verdict)),
        /// `check-pin` must answer the verdict.
        Pin((PinCheck, Verdict)),
    }
}

impl PinAttempts {
    /// Whether PIN sign-in is locked at `now`.
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked || self.locked_until.is_some_and(|t| t > now)
    }
}

impl KeypadCommand {
    /// A stable name (`help`, `roll-call`, ...), for documents and logs.
    pub fn name(self) -> &'static str {
        match self {
            KeypadCommand::Help => "help",
            KeypadCommand::RollCall => "roll-call",
            KeypadCommand::MuteSelf => "mute-self",
            KeypadCommand::MuteAudience => "mute-audience",
            KeypadCommand::Lock => "lock",
            KeypadCommand::AdmitAll => "admit-all",
            KeypadCommand::Announcements => "announcements",
        }
    }

    /// Parse [`KeypadCommand::name`].
    pub fn from_name(s: &str) -> Option<KeypadCommand> {
        use KeypadCommand::*;
        [
            Help,
            RollCall,
            MuteSelf,
            MuteAudience,
            Lock,
            AdmitAll,
            Announcements,
        ]
        .into_iter()
        .find(|c| c.name() == s)
    }
}
