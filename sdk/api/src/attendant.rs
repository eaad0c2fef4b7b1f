//! WIT interfaces `attendant-types` and `attendant-api`: the IVR as a step function.
//!
//! The host calls `step(call, state, event)`; the plugin answers with a new opaque state and a
//! list of [`Action`]s. The host runs the actions in order and answers the one that waits
//! (`collect`, `lookup-conference`, `verify-*`, `record-name`, `request-admission`, `hold`) with
//! the matching [`Event`]. Security stays in the host: the conference a caller joins is the one
//! the host last found for `lookup-conference`, the passcode and PIN are checked by the host, and
//! `request-admission` is refused unless those checks passed.

use crate::policy::PinAuthScope;
use crate::types::{AccessNumber, Tenant, Timestamp, contract};

contract! {
    /// A user of the tenant.
    pub struct UserInfo {
        /// SIP URI.
        pub uri: String,
        /// Display name.
        pub display_name: String,
    }

    /// Who the caller is before the attendant asks.
    pub enum Caller {
        /// From a gateway or trunk.
        Anonymous,
        /// A SIP phone that authenticated with digest.
        User(UserInfo),
    }

    /// Attempt limits and options from the meeting policy.
    #[derive(Copy)]
    pub struct CallOptions {
        /// Tries for the conference ID.
        pub conference_id_attempts: u8,
        /// Tries for the passcode.
        pub passcode_attempts: u8,
        /// Tries for extension + PIN.
        pub pin_attempts: u8,
        /// Who may use the PIN path.
        pub pin_auth: PinAuthScope,
        /// Anonymous callers record their name.
        pub name_recording: bool,
    }

    /// Facts about the call, given with every step.
    pub struct CallInfo {
        /// Host call id.
        pub call_id: String,
        /// Tenant.
        pub tenant: Tenant,
        /// The access number called.
        pub access_number: AccessNumber,
        /// Caller's normalized number.
        pub calling: Option<String>,
        /// Who the caller is.
        pub caller: Caller,
        /// Policy options.
        pub options: CallOptions,
        /// Now.
        pub now: Timestamp,
    }

    /// Why digit collection ended.
    #[derive(Copy, Hash)]
    pub enum CollectEnd {
        /// Terminator pressed.
        Terminator,
        /// Maximum digits reached.
        MaxDigits,
        /// Nothing pressed in time.
        NoInput,
        /// Pause between digits too long.
        InterDigitTimeout,
        /// Whole entry took too long.
        OverallTimeout,
    }

    /// Digits the caller pressed.
    pub struct Collected {
        /// The digits (terminator excluded).
        pub digits: String,
        /// Why collection ended.
        pub end: CollectEnd,
    }

    /// A meeting found by conference ID.
    pub struct ConferenceSummary {
        /// PSTN conference ID with check digit.
        pub pstn_id: String,
        /// Subject.
        pub subject: String,
        /// Organizer's display name.
        pub organizer_name: String,
        /// Anonymous callers need a passcode.
        pub passcode_required: bool,
    }

    /// Answer to `lookup-conference`.
    pub enum ConferenceLookup {
        /// The check digit is wrong.
        BadCheckDigit,
        /// No such meeting.
        NotFound,
        /// Found.
        Found(ConferenceSummary),
    }

    /// Answer to `verify-passcode`.
    #[derive(Copy, Hash)]
    pub enum PasscodeResult {
        /// Right.
        Accepted,
        /// Wrong.
        Rejected,
    }

    /// Answer to `verify-pin`.
    pub enum PinResult {
        /// Wrong PIN or unknown user.
        Rejected,
        /// PIN sign-in locked.
        Locked,
        /// Policy forbids the PIN path for this user.
        NotAllowed,
        /// Signed in.
        Accepted(UserInfo),
    }

    /// Admission changes.
    #[derive(Copy, Hash)]
    pub enum AdmissionState {
        /// In: `join`.
        Admitted,
        /// Waiting for a leader.
        WaitingForLeader,
        /// In the lobby.
        InLobby,
        /// Refused.
        Denied,
        /// Waited too long.
        TimedOut,
    }

    /// Something that happened on the call.
    pub enum Event {
        /// Answered; the first step.
        CallStarted,
        /// Prompts finished.
        PromptFinished,
        /// The caller hung up; the last step.
        Hangup,
        /// Digits collected.
        Digits(Collected),
        /// Result of `lookup-conference`.
        Conference(ConferenceLookup),
        /// Result of `verify-passcode`.
        Passcode(PasscodeResult),
        /// Result of `verify-pin`.
        Pin(PinResult),
        /// Name recorded (ms of audio).
        NameRecorded(u32),
        /// Admission changed.
        Admission(AdmissionState),
        /// A timer fired.
        Timer(u32),
    }

    /// One item of a prompt list.
    pub enum PromptItem {
        /// The caller's recorded name.
        RecordedName,
        /// A catalogue prompt by name.
        Prompt(String),
        /// Digits read back.
        Digits(String),
        /// A number said.
        Number(u32),
        /// Silence in ms.
        Silence(u32),
        /// A catalogue prompt in a given language: `(language, name)`.
        Localized((String, String)),
    }

    /// Play prompts.
    pub struct PlaySpec {
        /// The prompts.
        pub items: Vec<PromptItem>,
        /// A key stops playback.
        pub barge_in: bool,
    }

    /// Collect digits.
    #[derive(Copy)]
    pub struct CollectSpec {
        /// Most digits.
        pub max_digits: u8,
        /// Ending key.
        pub terminator: Option<char>,
        /// Before the first digit.
        pub first_digit_timeout_ms: u32,
        /// Between digits.
        pub inter_digit_timeout_ms: u32,
        /// Whole entry.
        pub overall_timeout_ms: u32,
    }

    /// Where a waiting caller waits.
    #[derive(Copy, Hash)]
    pub enum HoldKind {
        /// Hold music.
        Music,
        /// Lobby.
        Lobby,
    }

    /// What the host should do.
    pub enum Action {
        /// Ask the focus to admit the caller; answered with `admission`.
        RequestAdmission,
        /// Hand the caller to the meeting; the attendant's part ends.
        Join,
        /// End the call.
        HangUp,
        /// Play prompts.
        Play(PlaySpec),
        /// Collect digits; answered with `digits`.
        Collect(CollectSpec),
        /// Use this language from now on.
        SetLanguage(String),
        /// Find a meeting by PSTN ID; answered with `conference`.
        LookupConference(String),
        /// Check the passcode; answered with `passcode`.
        VerifyPasscode(String),
        /// Sign in with (extension or number, PIN); answered with `pin`.
        VerifyPin((String, String)),
        /// Record the name for up to this many ms; answered with `name-recorded`.
        RecordName(u32),
        /// Wait until admission changes.
        Hold(HoldKind),
        /// Fire `timer(id)` after ms: `(id, ms)`.
        StartTimer((u32, u32)),
    }

    /// What a step returns.
    pub struct StepResult {
        /// New opaque state.
        pub state: Vec<u8>,
        /// Actions in order.
        pub actions: Vec<Action>,
    }

    /// One step of a canary script.
    pub struct CanaryStep {
        /// The event fed.
        pub event: Event,
        /// The actions expected.
        pub expect: Vec<Action>,
    }

    /// A scripted call the plugin ships with itself.
    pub struct AttendantCanary {
        /// Name.
        pub name: String,
        /// Call facts.
        pub call: CallInfo,
        /// Steps from an empty state.
        pub steps: Vec<CanaryStep>,
    }
}

impl Action {
    /// Whether the host waits for an event after this action. The first waiting action ends
    /// the list: the actions after it are dropped (and counted), exactly as the SDK harness
    /// runs a script; the event that answers it starts the next step.
    pub fn waits(&self) -> bool {
        matches!(
            self,
            Action::Collect(_)
                | Action::LookupConference(_)
                | Action::VerifyPasscode(_)
                | Action::VerifyPin(_)
                | Action::RecordName(_)
                | Action::RequestAdmission
                | Action::Hold(_)
        )
    }

    /// A play of catalogue prompts.
    pub fn play(names: &[&str], barge_in: bool) -> Action {
        Action::Play(PlaySpec {
            items: names
                .iter()
                .map(|n| PromptItem::Prompt((*n).to_owned()))
                .collect(),
            barge_in,
        })
    }
}

impl CollectSpec {
    /// Collect up to `max` digits ended by `#`, with the usual OCS timeouts (10 s to start,
    /// 5 s between digits, 60 s in all).
    pub fn hash_terminated(max: u8) -> CollectSpec {
        CollectSpec {
            max_digits: max,
            terminator: Some('#'),
            first_digit_timeout_ms: 10_000,
            inter_digit_timeout_ms: 5_000,
            overall_timeout_ms: 60_000,
        }
    }
}

/// The host's prompt catalogue: every name an attendant may `play`. The host has audio for each
/// in every language it ships; tenants may override them with a prompt pack.
pub const PROMPTS: &[&str] = &[
    "welcome",
    "language-menu",
    "enter-conference-id",
    "invalid-conference-id",
    "enter-passcode",
    "invalid-passcode",
    "leader-prompt",
    "enter-extension",
    "enter-pin",
    "invalid-pin",
    "pin-locked",
    "record-name",
    "name-recorded",
    "joining",
    "waiting-for-leader",
    "in-lobby",
    "admitted",
    "denied",
    "invalid-entry",
    "no-input",
    "too-many-attempts",
    "goodbye",
    "technical-difficulty",
    "muted",
    "unmuted",
    "help",
    "roll-call",
    "meeting-locked",
    "meeting-unlocked",
    "has-joined",
    "has-left",
    "audience-muted",
    "audience-unmuted",
    "announcements-on",
    "announcements-off",
    "lobby-waiting",
    "all-admitted",
    "meeting-ended",
    "language-option",
];
