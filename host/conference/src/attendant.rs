//! The attendant driver, sans-IO: the host side of the attendant plugin's step loop for one
//! dial-in call.
//!
//! The tenant's attendant plugin is a step function (`plenum_plugin_api::attendant`): the host
//! calls `step(call, state, event)` and runs the [`Action`]s it returns. [`AttendantDriver`] is
//! that host side as a plain value: inputs (`step_done`, `digit`, `play_finished`, the answers of
//! the pool and the focus, `hangup`, `handle_timeout`) each carry `now`; outputs come from
//! [`AttendantDriver::poll_output`] and the next deadline from
//! [`AttendantDriver::poll_timeout`]. The plugin call itself is an output ([`Output::Step`]) the
//! shell performs (keeping the opaque plugin state with its plugin session) and feeds back with
//! [`AttendantDriver::step_done`]. The driver reads no clock, does no I/O and knows no plugin
//! runtime, prompt audio or database: it owns the order of actions, digit collection and its
//! timers, the plugin's timers, the caller's language and the security checks that decide
//! whether the caller may reach a meeting. The shell owns everything else.
//!
//! # Rules
//!
//! **Sequencing.** Actions run in order. The first action that waits (`Collect`,
//! `LookupConference`, `VerifyPasscode`, `VerifyPin`, `RecordName`, `RequestAdmission`, `Hold`)
//! ends the list: the actions after it are dropped (counted in
//! [`DriverStats::ignored_actions`]) and the answer is the next step's event — the rule of the
//! SDK's script harness, so a plugin behaves on the host as in its author's tests. A play
//! without barge-in blocks the list until [`AttendantDriver::play_finished`] reports it; a
//! barge-in play does not block (the collect after it listens while it plays), but a later play
//! without barge-in waits for it to end. Plays are emitted in order; the shell queues them. A
//! list that runs out after a play is answered with `PromptFinished` once its plays are over; a
//! list that runs out without a play leaves the driver idle, which is only allowed while a timer
//! is armed or an admission change is expected (else the call fails, see below). `Join` and
//! `HangUp` end the driver's part of the call: the plays without barge-in before them are heard
//! out first, the barge-in ones are cut by the shell.
//!
//! **Digits.** Keys `0`–`9`, `*`, `#`, `A`–`D` count (anything else is ignored and counted).
//! - A key stops every running barge-in play ([`Output::StopPlay`]) and goes to the pending
//!   collect if there is one, else to the type-ahead buffer. Keys never stop a play without
//!   barge-in: callers who know the flow type the conference ID during a welcome they cannot
//!   interrupt, and the keys are kept for the next collect (OCS lets callers type ahead).
//! - The type-ahead buffer holds at most [`Limits::type_ahead`] keys; keys beyond are dropped
//!   and counted. A collect starts by taking keys from the buffer; what it does not use stays
//!   for the next one (so `1234#` typed at a one-key prompt answers it with `1` and the next
//!   collect with `234` and `#`).
//! - A barge-in play is skipped while the buffer holds keys: keys typed ahead interrupt it
//!   before it starts.
//! - While a name is being recorded, `#` ends the recording ([`Output::StopRecord`]); other keys
//!   go to the buffer.
//!
//! **Collection** follows the [`CollectSpec`]: the terminator ends it and is not part of the
//! digits; `max_digits` (at least 1) ends it; the first-digit and overall timers start when the
//! collect is reached and no barge-in play runs (or at the first key, if earlier); the
//! inter-digit timer restarts at every key. A timeout with no digits gives `NoInput`.
//!
//! **Timers.** `StartTimer((id, ms))` arms timer `id` (re-arming an armed id moves it); at most
//! [`Limits::max_timers`] are armed at once, further ones are ignored and counted. A due timer
//! fires as `Event::Timer(id)` only at a quiet moment: no step in flight, no play running, and
//! the driver idle, on hold, or collecting with no key pressed yet. It interrupts that wait (the
//! plugin re-issues `Hold` or `Collect` to keep waiting; no key is lost). Otherwise it fires at
//! the next quiet moment, earliest first.
//!
//! **Admission.** After `RequestAdmission` the driver takes every admission change the focus
//! reports: the answer to the request goes to the plugin at once; later changes (a leader
//! joined, admitted from the lobby) are delivered when the plugin waits on `Hold` or is idle,
//! the latest one winning, so a change that arrives while a prompt plays is never lost. An
//! `Admitted` that arrives while a play without barge-in blocks a list whose next action is
//! `Hold` cuts that play ([`Output::StopPlay`]): the prompt ("waiting for the leader", "you are
//! in the lobby") has become moot, and the caller is let in without hearing it out.
//!
//! **Language.** Plays use the access number's first language until `SetLanguage` picks another
//! of the number's languages; a language the number does not offer is ignored and counted.
//!
//! **Security.** The conference a caller may enter is the one the host last found
//! ([`AttendantDriver::lookup_done`] with `Found`); a new `LookupConference` forgets it, with its
//! passcode and admission. `RequestAdmission` and `Join` need that conference and one of: the
//! caller is an authenticated SIP user ([`DriverConfig::caller`]), a PIN sign-in was accepted
//! (the latest PIN answer), the passcode was accepted for this conference, or the conference
//! needs no passcode. `Join` also needs the focus's latest admission answer to be `Admitted`.
//! `VerifyPasscode` before a conference was found is a protocol violation. The outputs carry the
//! conference the host found ([`Access`]), never one the plugin names. What the caller typed is
//! passed through untouched: passcodes and PINs as [`Secret`], conference IDs and extensions or
//! numbers as [`Keys`], whose `Debug` shows only their length; `Debug` of [`Output`] and of the
//! driver redacts collected digits and read-back digits too. The driver logs none of them.
//!
//! **Failure.** The plugin failing ([`StepFailed`]), returning more than
//! [`Limits::max_actions_per_step`] actions, needing more than [`Limits::max_steps`] steps,
//! leaving the call with nothing to wait for, or breaking a security rule makes the driver give
//! up: it emits [`Output::Failed`], plays "technical-difficulty, goodbye" and hangs up; the
//! plugin is not called again. An input that answers nothing pending (a `passcode_done` with no
//! verify pending, say) is ignored and counted in [`DriverStats::ignored_inputs`].
//!
//! **Hang-up.** After the caller hangs up the plugin gets exactly one `Event::Hangup` step (once
//! a step in flight has returned), whose actions are ignored; the driver is then done and emits
//! nothing more. A driver that already gave up, joined or hung up makes no further step.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use plenum_plugin_api::attendant::{
    Action, AdmissionState, Caller, CollectEnd, CollectSpec, Collected, ConferenceLookup,
    ConferenceSummary, Event, HoldKind, PasscodeResult, PinResult, PromptItem, StepResult,
    UserInfo,
};
use plenum_types::Secret;

/// The prompts played when the driver gives up.
pub const APOLOGY: [&str; 2] = ["technical-difficulty", "goodbye"];

/// Bounds on what one call's plugin may ask of the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most steps per call (the final `Hangup` step is not counted against it).
    pub max_steps: u32,
    /// Most actions one step may return.
    pub max_actions_per_step: usize,
    /// Most plugin timers armed at once.
    pub max_timers: usize,
    /// Most keys kept in the type-ahead buffer.
    pub type_ahead: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 200,
            max_actions_per_step: 16,
            max_timers: 8,
            type_ahead: 32,
        }
    }
}

/// What the driver knows about the call before the first step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverConfig {
    /// The access number's languages, primary first. Plays start in the first; `SetLanguage`
    /// may pick any of them (any language at all when the list is empty, which also leaves the
    /// initial language empty: the shell's default).
    pub languages: Vec<String>,
    /// Who the caller is: [`Caller::User`] for a SIP phone that authenticated with digest.
    pub caller: Caller,
    /// Bounds.
    pub limits: Limits,
}

impl DriverConfig {
    /// A configuration with the default [`Limits`].
    pub fn new(languages: Vec<String>, caller: Caller) -> Self {
        DriverConfig {
            languages,
            caller,
            limits: Limits::default(),
        }
    }
}

/// One play the driver asked for; [`AttendantDriver::play_finished`] reports its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlayId(pub u64);

/// The plugin call failed (trap, deadline, memory, error); the shell's failure policy has
/// already had its chance (e.g. a restart on the bundled attendant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepFailed;

/// Keys the caller typed that are not secrets but may identify someone (a conference ID, an
/// extension or a phone number), passed through untouched. `Debug` shows only how many there
/// are: they never reach a log.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Keys(String);

impl Keys {
    /// Wrap typed keys.
    pub fn new(keys: impl Into<String>) -> Self {
        Keys(keys.into())
    }

    /// The keys, for the check they are meant for. Do not log them.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keys(<{} redacted>)", self.len())
    }
}

/// Why the caller may enter the conference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessVia {
    /// The SIP phone authenticated with digest.
    AuthenticatedUser(UserInfo),
    /// A PIN sign-in was accepted.
    Pin(UserInfo),
    /// The conference's passcode was accepted.
    Passcode,
    /// The conference needs no passcode.
    NoPasscodeRequired,
}

/// The conference the host found and why the caller may enter it: what admission and joining
/// act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The PSTN conference ID the host found (with its check digit).
    pub pstn_id: String,
    /// Why the caller may enter.
    pub via: AccessVia,
}

/// Why the driver gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Failure {
    /// The plugin call failed.
    PluginFailed,
    /// More than [`Limits::max_steps`] steps.
    StepLimit,
    /// A step returned more than [`Limits::max_actions_per_step`] actions.
    TooManyActions,
    /// The plugin left the call with nothing to wait for (no wait, play, timer or expected
    /// admission change).
    NothingToWaitFor,
    /// `VerifyPasscode` before a conference was found.
    PasscodeBeforeLookup,
    /// `RequestAdmission` or `Join` without a found conference and verified access.
    NoVerifiedAccess,
    /// `Join` before the focus admitted the caller.
    NotAdmitted,
}

impl Failure {
    /// A short label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::PluginFailed => "plugin failure",
            Failure::StepLimit => "step limit",
            Failure::TooManyActions => "too many actions",
            Failure::NothingToWaitFor => "nothing to wait for",
            Failure::PasscodeBeforeLookup => "passcode before lookup",
            Failure::NoVerifiedAccess => "join without verified access",
            Failure::NotAdmitted => "join without admission",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the driver wants the shell to do, in order.
#[derive(Clone, PartialEq, Eq)]
pub enum Output {
    /// Call the plugin with this event and report with [`AttendantDriver::step_done`].
    Step(Event),
    /// Play prompts (queued after earlier plays); report the end with
    /// [`AttendantDriver::play_finished`] (not needed for plays stopped by [`Output::StopPlay`]).
    Play {
        /// Which play.
        id: PlayId,
        /// The prompts.
        items: Vec<PromptItem>,
        /// The language of catalogue prompts.
        language: String,
        /// A key interrupts it.
        barge_in: bool,
    },
    /// Stop the call's running plays: the barge-in plays when the caller pressed a key, or the
    /// blocking play an admission has made moot (see the module doc).
    StopPlay,
    /// Record the caller's name for up to `max_ms`; report with [`AttendantDriver::recorded`].
    Record {
        /// Longest recording.
        max_ms: u32,
    },
    /// The caller pressed `#`: end the recording now (and report it as usual).
    StopRecord,
    /// Find the meeting with this PSTN ID; report with [`AttendantDriver::lookup_done`].
    Lookup(Keys),
    /// Check a passcode for the conference the host found; report with
    /// [`AttendantDriver::passcode_done`].
    VerifyPasscode {
        /// The PSTN ID of the conference found.
        pstn_id: String,
        /// The passcode typed.
        passcode: Secret,
    },
    /// Sign in with extension (or number) and PIN; report with [`AttendantDriver::pin_done`].
    VerifyPin {
        /// The conference found, if any (for policies such as organizer-only PIN sign-in).
        pstn_id: Option<String>,
        /// Extension or phone number typed.
        who: Keys,
        /// PIN typed.
        pin: Secret,
    },
    /// Ask the focus to admit the caller; report with [`AttendantDriver::admission`], now and
    /// whenever it changes.
    RequestAdmission(Access),
    /// Keep the caller on hold audio until the next play, join or hang-up.
    Hold(HoldKind),
    /// Hand the caller to the meeting; the driver is done.
    Join(Access),
    /// End the call; the driver is done.
    HangUp,
    /// The driver gave up (for logs and metrics); the apology and `HangUp` follow.
    Failed(Failure),
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Step(event) => f.debug_tuple("Step").field(&Redacted(event)).finish(),
            Output::Play {
                id,
                items,
                language,
                barge_in,
            } => f
                .debug_struct("Play")
                .field("id", id)
                .field("items", &RedactedItems(items))
                .field("language", language)
                .field("barge_in", barge_in)
                .finish(),
            Output::StopPlay => f.write_str("StopPlay"),
            Output::Record { max_ms } => f.debug_struct("Record").field("max_ms", max_ms).finish(),
            Output::StopRecord => f.write_str("StopRecord"),
            Output::Lookup(keys) => f.debug_tuple("Lookup").field(keys).finish(),
            Output::VerifyPasscode { pstn_id, passcode } => f
                .debug_struct("VerifyPasscode")
                .field("pstn_id", pstn_id)
                .field("passcode", passcode)
                .finish(),
            Output::VerifyPin { pstn_id, who, pin } => f
                .debug_struct("VerifyPin")
                .field("pstn_id", pstn_id)
                .field("who", who)
                .field("pin", pin)
                .finish(),
            Output::RequestAdmission(a) => f.debug_tuple("RequestAdmission").field(a).finish(),
            Output::Hold(kind) => f.debug_tuple("Hold").field(kind).finish(),
            Output::Join(a) => f.debug_tuple("Join").field(a).finish(),
            Output::HangUp => f.write_str("HangUp"),
            Output::Failed(why) => f.debug_tuple("Failed").field(why).finish(),
        }
    }
}

/// An event with collected digits redacted.
struct Redacted<'a>(&'a Event);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Event::Digits(c) => {
                write!(f, "Digits({:?}, {:?})", Keys::new(c.digits.as_str()), c.end)
            }
            other => write!(f, "{other:?}"),
        }
    }
}

/// Prompt items with read-back digits redacted.
struct RedactedItems<'a>(&'a [PromptItem]);

impl fmt::Debug for RedactedItems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for item in self.0 {
            match item {
                PromptItem::Digits(d) => {
                    list.entry(&format_args!("Digits({:?})", Keys::new(d.as_str())))
                }
                other => list.entry(other),
            };
        }
        list.finish()
    }
}

/// Counters of one call, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriverStats {
    /// Steps asked of the plugin (the final `Hangup` step included).
    pub steps: u32,
    /// Inputs that answered nothing pending (or were not keys) and were ignored.
    pub ignored_inputs: u32,
    /// Plugin actions ignored: after a wait or an end, a language not offered, a timer over the
    /// limit.
    pub ignored_actions: u32,
    /// Keys dropped because the type-ahead buffer was full.
    pub dropped_keys: u32,
    /// Plays without barge-in cut because the caller was admitted while they played.
    pub cut_plays: u32,
}

/// The host side of the attendant step loop for one call. See the module documentation for the
/// rules it follows.
pub struct AttendantDriver {
    limits: Limits,
    languages: Vec<String>,
    caller: Caller,
    language: String,
    phase: Phase,
    /// A step was emitted and its answer has not come back.
    in_flight: bool,
    /// The rest of the current action list.
    list: VecDeque<Action>,
    /// A list is being run (its end is still to be handled).
    list_active: bool,
    /// The current list had a play.
    played: bool,
    /// A play without barge-in the list waits for.
    blocked_on: Option<PlayId>,
    /// Running barge-in plays.
    barge: Vec<PlayId>,
    wait: Option<Wait>,
    type_ahead: VecDeque<char>,
    timers: Vec<PluginTimer>,
    timer_seq: u64,
    access: AccessState,
    next_play: u64,
    outputs: VecDeque<Output>,
    stats: DriverStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// The caller hung up while a step was in flight: its answer brings the `Hangup` step.
    HangingUp,
    /// Giving up: the apology plays, then `HangUp`.
    Failing(PlayId),
    Done,
}

/// What the driver waits for.
#[derive(Debug)]
enum Wait {
    Collect(Collecting),
    Lookup,
    Passcode,
    Pin,
    Record {
        stopping: bool,
    },
    Admission,
    Hold,
    /// Nothing but a timer or an admission change.
    Idle,
}

#[derive(Debug)]
struct Collecting {
    spec: CollectSpec,
    digits: Keys,
    /// When listening began (the first-digit and overall timers run from here).
    started: Option<Instant>,
    last_key: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct PluginTimer {
    id: u32,
    at: Instant,
    seq: u64,
}

/// What the security rules remember.
#[derive(Debug, Default)]
struct AccessState {
    conference: Option<ConferenceSummary>,
    passcode_ok: bool,
    pin_user: Option<UserInfo>,
    requested: bool,
    /// The focus's latest answer.
    admission: Option<AdmissionState>,
    /// A change not yet given to the plugin.
    pending: Option<AdmissionState>,
}

impl AttendantDriver {
    /// A driver for a call just answered; its first output is `Step(CallStarted)`. The driver
    /// keeps no clock: `now` only marks the start.
    pub fn new(config: DriverConfig, now: Instant) -> Self {
        let _ = now;
        let mut driver = AttendantDriver {
            limits: config.limits,
            language: config.languages.first().cloned().unwrap_or_default(),
            languages: config.languages,
            caller: config.caller,
            phase: Phase::Running,
            in_flight: false,
            list: VecDeque::new(),
            list_active: false,
            played: false,
            blocked_on: None,
            barge: Vec::new(),
            wait: None,
            type_ahead: VecDeque::new(),
            timers: Vec::new(),
            timer_seq: 0,
            access: AccessState::default(),
            next_play: 0,
            outputs: VecDeque::new(),
            stats: DriverStats::default(),
        };
        driver.step(Event::CallStarted);
        driver
    }

    /// The plugin answered the last [`Output::Step`] (or failed).
    pub fn step_done(&mut self, result: Result<StepResult, StepFailed>, now: Instant) {
        match self.phase {
            Phase::Running => {}
            Phase::HangingUp => return self.final_step(),
            Phase::Failing(_) | Phase::Done => return,
        }
        if !self.in_flight {
            return self.ignore_input("step answer with no step in flight");
        }
        self.in_flight = false;
        match result {
            Err(StepFailed) => self.fail(Failure::PluginFailed),
            Ok(r) if r.actions.len() > self.limits.max_actions_per_step => {
                self.fail(Failure::TooManyActions)
            }
            Ok(r) => {
                self.list = r.actions.into();
                self.list_active = true;
                self.played = false;
                self.progress(now);
            }
        }
    }

    /// The caller pressed a key (from RFC 4733 or INFO, already de-duplicated).
    pub fn digit(&mut self, digit: char, now: Instant) {
        if self.phase != Phase::Running {
            return;
        }
        if !is_key(digit) {
            return self.ignore_input("not a key");
        }
        if let Some(Wait::Record { stopping }) = &mut self.wait
            && digit == '#'
        {
            if !*stopping {
                *stopping = true;
                self.outputs.push_back(Output::StopRecord);
            }
            return;
        }
        self.stop_barge_in(now);
        match &mut self.wait {
            Some(Wait::Collect(c)) => {
                if let Some(end) = c.key(digit, now) {
                    self.end_collect(end);
                }
            }
            _ => self.buffer(digit),
        }
        self.progress(now);
    }

    /// A play ended (not needed for plays stopped by [`Output::StopPlay`]).
    pub fn play_finished(&mut self, play: PlayId, now: Instant) {
        match self.phase {
            Phase::Failing(apology) if apology == play => return self.finish(Output::HangUp),
            Phase::Running => {}
            _ => return,
        }
        if self.blocked_on == Some(play) {
            self.blocked_on = None;
        } else if let Some(i) = self.barge.iter().position(|p| *p == play) {
            self.barge.remove(i);
            if self.barge.is_empty() {
                self.listen(now);
            }
        } else if play.0 >= self.next_play {
            return self.ignore_input("end of a play never asked for");
        }
        self.progress(now);
    }

    /// The name recording ended with `ms` of audio.
    pub fn recorded(&mut self, ms: u32, now: Instant) {
        if self.answers(|w| matches!(w, Wait::Record { .. })) {
            self.step(Event::NameRecorded(ms));
            self.progress(now);
        }
    }

    /// The pool answered [`Output::Lookup`].
    pub fn lookup_done(&mut self, result: ConferenceLookup, now: Instant) {
        if self.answers(|w| matches!(w, Wait::Lookup)) {
            if let ConferenceLookup::Found(summary) = &result {
                self.access.conference = Some(summary.clone());
            }
            self.step(Event::Conference(result));
            self.progress(now);
        }
    }

    /// The pool answered [`Output::VerifyPasscode`].
    pub fn passcode_done(&mut self, result: PasscodeResult, now: Instant) {
        if self.answers(|w| matches!(w, Wait::Passcode)) {
            self.access.passcode_ok = result == PasscodeResult::Accepted;
            self.step(Event::Passcode(result));
            self.progress(now);
        }
    }

    /// The pool answered [`Output::VerifyPin`].
    pub fn pin_done(&mut self, result: PinResult, now: Instant) {
        if self.answers(|w| matches!(w, Wait::Pin)) {
            self.access.pin_user = match &result {
                PinResult::Accepted(user) => Some(user.clone()),
                _ => None,
            };
            self.step(Event::Pin(result));
            self.progress(now);
        }
    }

    /// The focus answered [`Output::RequestAdmission`], or the caller's admission changed.
    pub fn admission(&mut self, state: AdmissionState, now: Instant) {
        if self.phase != Phase::Running {
            return;
        }
        if !self.access.requested {
            return self.ignore_input("admission never requested");
        }
        self.access.admission = Some(state);
        if matches!(self.wait, Some(Wait::Admission)) {
            self.access.pending = None;
            self.step(Event::Admission(state));
        } else {
            self.access.pending = Some(state);
            if state == AdmissionState::Admitted {
                self.cut_moot_play();
            }
        }
        self.progress(now);
    }

    /// The caller is let in while a play without barge-in blocks a list that would next hold
    /// for admission: stop the play, so the hold (and with it the admission) comes now.
    fn cut_moot_play(&mut self) {
        if self.blocked_on.is_some()
            && !self.in_flight
            && self.barge.is_empty()
            && matches!(self.list.front(), Some(Action::Hold(_)))
        {
            self.blocked_on = None;
            self.outputs.push_back(Output::StopPlay);
            self.stats.cut_plays = self.stats.cut_plays.saturating_add(1);
        }
    }

    /// The caller hung up: one last `Step(Hangup)` (after a step in flight returns), then done.
    pub fn hangup(&mut self, now: Instant) {
        let _ = now;
        match self.phase {
            Phase::Running => {}
            Phase::Failing(_) => {
                self.outputs.clear();
                self.phase = Phase::Done;
                return;
            }
            Phase::HangingUp | Phase::Done => return,
        }
        let unsent_step = self.outputs.iter().any(|o| matches!(o, Output::Step(_)));
        let step_out = self.in_flight && !unsent_step;
        self.outputs.clear();
        self.reset_call_state();
        if step_out {
            self.phase = Phase::HangingUp;
        } else {
            self.final_step();
        }
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the driver next wants [`AttendantDriver::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase != Phase::Running {
            return None;
        }
        let collect = self.collect_deadline().map(|(at, _)| at);
        let timer = self
            .next_timer()
            .filter(|_| self.quiet() && self.interruptible());
        match (collect, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time passed: collection timeouts and plugin timers that fall due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase != Phase::Running {
            return;
        }
        if let Some((at, end)) = self.collect_deadline().filter(|(at, _)| *at <= now) {
            let timer_first = self
                .next_timer()
                .is_some_and(|t| t < at && self.quiet() && self.interruptible());
            if !timer_first {
                self.end_collect(end);
            }
        }
        self.progress(now);
    }

    /// Whether the driver is done: it joined, hung up, gave up and hung up, or made the final
    /// `Hangup` step. Outputs already queued are still to be polled.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The language plays use now.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// This call's counters.
    pub fn stats(&self) -> DriverStats {
        self.stats
    }

    // ---- running the action list ----

    /// Run what can run, then deliver a due timer or admission change if the moment is quiet.
    fn progress(&mut self, now: Instant) {
        self.advance(now);
        self.wake(now);
    }

    fn advance(&mut self, now: Instant) {
        while self.phase == Phase::Running
            && self.list_active
            && !self.in_flight
            && self.wait.is_none()
            && self.blocked_on.is_none()
        {
            let barge_running = !self.barge.is_empty();
            match self.list.front() {
                Some(Action::Play(p)) if !p.barge_in && barge_running => return,
                None if self.played && barge_running => return,
                None => {
                    self.list_active = false;
                    return self.list_ended();
                }
                Some(_) => {
                    if let Some(action) = self.list.pop_front() {
                        self.run(action, now);
                    }
                }
            }
        }
    }

    fn run(&mut self, action: Action, now: Instant) {
        match action {
            Action::Play(spec) => self.play(spec.items, spec.barge_in),
            Action::SetLanguage(lang) => self.set_language(lang),
            Action::StartTimer((id, ms)) => self.start_timer(id, ms, now),
            Action::Collect(spec) => self.collect(spec, now),
            Action::LookupConference(id) => {
                self.access = AccessState {
                    pin_user: self.access.pin_user.take(),
                    ..AccessState::default()
                };
                self.wait_on(Wait::Lookup, Output::Lookup(Keys(id)));
            }
            Action::VerifyPasscode(code) => match &self.access.conference {
                Some(c) => {
                    let out = Output::VerifyPasscode {
                        pstn_id: c.pstn_id.clone(),
                        passcode: Secret::new(code),
                    };
                    self.wait_on(Wait::Passcode, out);
                }
                None => self.fail(Failure::PasscodeBeforeLookup),
            },
            Action::VerifyPin((who, pin)) => {
                let out = Output::VerifyPin {
                    pstn_id: self.access.conference.as_ref().map(|c| c.pstn_id.clone()),
                    who: Keys(who),
                    pin: Secret::new(pin),
                };
                self.wait_on(Wait::Pin, out);
            }
            Action::RecordName(max_ms) => {
                self.wait_on(Wait::Record { stopping: false }, Output::Record { max_ms })
            }
            Action::RequestAdmission => self.request_admission(),
            Action::Hold(kind) => self.hold(kind),
            Action::Join => self.join(),
            Action::HangUp => self.finish(Output::HangUp),
        }
    }

    fn play(&mut self, items: Vec<PromptItem>, barge_in: bool) {
        self.played = true;
        if items.is_empty() || (barge_in && !self.type_ahead.is_empty()) {
            return;
        }
        let id = self.new_play(items, barge_in);
        if barge_in {
            self.barge.push(id);
        } else {
            self.blocked_on = Some(id);
        }
    }

    fn new_play(&mut self, items: Vec<PromptItem>, barge_in: bool) -> PlayId {
        let id = PlayId(self.next_play);
        self.next_play = self.next_play.saturating_add(1);
        self.outputs.push_back(Output::Play {
            id,
            items,
            language: self.language.clone(),
            barge_in,
        });
        id
    }

    fn set_language(&mut self, lang: String) {
        if self.languages.is_empty() || self.languages.contains(&lang) {
            self.language = lang;
        } else {
            self.ignore_action("language not offered on this number");
        }
    }

    fn start_timer(&mut self, id: u32, ms: u32, now: Instant) {
        let Some(at) = after(now, ms) else {
            return self.ignore_action("timer beyond the clock");
        };
        let seq = self.timer_seq;
        self.timer_seq = self.timer_seq.saturating_add(1);
        if let Some(t) = self.timers.iter_mut().find(|t| t.id == id) {
            *t = PluginTimer { id, at, seq };
        } else if self.timers.len() < self.limits.max_timers {
            self.timers.push(PluginTimer { id, at, seq });
        } else {
            self.ignore_action("too many timers");
        }
    }

    fn collect(&mut self, spec: CollectSpec, now: Instant) {
        self.drop_rest();
        let mut c = Collecting {
            spec,
            digits: Keys::default(),
            started: None,
            last_key: None,
        };
        if self.barge.is_empty() {
            c.started = Some(now);
        }
        if !self.type_ahead.is_empty() {
            self.stop_barge_in(now);
        }
        while let Some(key) = self.type_ahead.pop_front() {
            if let Some(end) = c.key(key, now) {
                return self.step(collected(c.digits, end));
            }
        }
        self.wait = Some(Wait::Collect(c));
    }

    fn request_admission(&mut self) {
        let Some(access) = self.verified_access() else {
            return self.fail(Failure::NoVerifiedAccess);
        };
        self.access.requested = true;
        self.access.admission = None;
        self.access.pending = None;
        self.wait_on(Wait::Admission, Output::RequestAdmission(access));
    }

    fn hold(&mut self, kind: HoldKind) {
        if !self.can_wake() {
            return self.fail(Failure::NothingToWaitFor);
        }
        self.wait_on(Wait::Hold, Output::Hold(kind));
    }

    fn join(&mut self) {
        let Some(access) = self.verified_access() else {
            return self.fail(Failure::NoVerifiedAccess);
        };
        if self.access.admission != Some(AdmissionState::Admitted) {
            return self.fail(Failure::NotAdmitted);
        }
        self.finish(Output::Join(access));
    }

    /// The list ran out without a wait or an end.
    fn list_ended(&mut self) {
        if self.played {
            self.step(Event::PromptFinished);
        } else if self.can_wake() {
            self.wait = Some(Wait::Idle);
        } else {
            self.fail(Failure::NothingToWaitFor);
        }
    }

    /// Wait for the answer to `out`; the rest of the list is dropped.
    fn wait_on(&mut self, wait: Wait, out: Output) {
        self.drop_rest();
        self.outputs.push_back(out);
        self.wait = Some(wait);
    }

    fn drop_rest(&mut self) {
        let rest = self.list.len();
        if rest > 0 {
            tracing::debug!(rest, "attendant: actions after a wait or an end ignored");
            self.stats.ignored_actions = self
                .stats
                .ignored_actions
                .saturating_add(u32::try_from(rest).unwrap_or(u32::MAX));
        }
        self.list.clear();
        self.list_active = false;
    }

    // ---- steps, waits, ends ----

    /// Ask the plugin about `event`; the current wait is answered.
    fn step(&mut self, event: Event) {
        if self.stats.steps >= self.limits.max_steps {
            return self.fail(Failure::StepLimit);
        }
        self.stats.steps = self.stats.steps.saturating_add(1);
        self.wait = None;
        self.in_flight = true;
        self.outputs.push_back(Output::Step(event));
    }

    /// The caller hung up: the last step, then done.
    fn final_step(&mut self) {
        self.stats.steps = self.stats.steps.saturating_add(1);
        self.in_flight = false;
        self.outputs.push_back(Output::Step(Event::Hangup));
        self.phase = Phase::Done;
    }

    /// Whether an input answers the current wait; if not, it is ignored and counted.
    fn answers(&mut self, is: impl Fn(&Wait) -> bool) -> bool {
        if self.phase != Phase::Running {
            return false;
        }
        let pending = !self.in_flight && self.wait.as_ref().is_some_and(is);
        if !pending {
            self.ignore_input("answer to nothing pending");
        }
        pending
    }

    /// End the call with `Join` or `HangUp`.
    fn finish(&mut self, out: Output) {
        self.drop_rest();
        self.reset_call_state();
        self.outputs.push_back(out);
        self.phase = Phase::Done;
    }

    /// Give up: apologise and hang up. The plugin is not called again.
    fn fail(&mut self, why: Failure) {
        tracing::debug!(reason = why.as_str(), "attendant driver gives up");
        if !self.barge.is_empty() {
            self.outputs.push_back(Output::StopPlay);
        }
        self.drop_rest();
        self.reset_call_state();
        self.outputs.push_back(Output::Failed(why));
        let items = APOLOGY
            .iter()
            .map(|p| PromptItem::Prompt((*p).to_owned()))
            .collect();
        let id = self.new_play(items, false);
        self.phase = Phase::Failing(id);
    }

    fn reset_call_state(&mut self) {
        self.list.clear();
        self.list_active = false;
        self.wait = None;
        self.blocked_on = None;
        self.barge.clear();
        self.timers.clear();
        self.in_flight = false;
    }

    fn ignore_input(&mut self, what: &'static str) {
        tracing::debug!(what, "attendant: input ignored");
        self.stats.ignored_inputs = self.stats.ignored_inputs.saturating_add(1);
    }

    fn ignore_action(&mut self, what: &'static str) {
        tracing::debug!(what, "attendant: action ignored");
        self.stats.ignored_actions = self.stats.ignored_actions.saturating_add(1);
    }

    // ---- keys and collection ----

    fn buffer(&mut self, key: char) {
        if self.type_ahead.len() < self.limits.type_ahead {
            self.type_ahead.push_back(key);
        } else {
            self.stats.dropped_keys = self.stats.dropped_keys.saturating_add(1);
        }
    }

    /// A key stops the barge-in plays; a pending collect starts listening.
    fn stop_barge_in(&mut self, now: Instant) {
        if !self.barge.is_empty() {
            self.barge.clear();
            self.outputs.push_back(Output::StopPlay);
            self.listen(now);
        }
    }

    /// No barge-in play runs any more: a pending collect's timers start.
    fn listen(&mut self, now: Instant) {
        if let Some(Wait::Collect(c)) = &mut self.wait {
            c.started.get_or_insert(now);
        }
    }

    fn end_collect(&mut self, end: CollectEnd) {
        if let Some(Wait::Collect(c)) = self.wait.take() {
            self.step(collected(c.digits, end));
        }
    }

    fn collect_deadline(&self) -> Option<(Instant, CollectEnd)> {
        match &self.wait {
            Some(Wait::Collect(c)) if !self.in_flight => c.deadline(),
            _ => None,
        }
    }

    // ---- timers and admission changes ----

    /// No step in flight and no play running.
    fn quiet(&self) -> bool {
        self.phase == Phase::Running
            && !self.in_flight
            && self.blocked_on.is_none()
            && self.barge.is_empty()
    }

    /// A plugin timer may interrupt the current wait.
    fn interruptible(&self) -> bool {
        match &self.wait {
            Some(Wait::Idle | Wait::Hold) => true,
            Some(Wait::Collect(c)) => c.digits.is_empty(),
            _ => false,
        }
    }

    /// Something can still end an idle wait or a hold.
    fn can_wake(&self) -> bool {
        let a = &self.access;
        let admission_open = a.requested
            && matches!(
                a.admission,
                None | Some(AdmissionState::WaitingForLeader | AdmissionState::InLobby)
            );
        !self.timers.is_empty() || a.pending.is_some() || admission_open
    }

    fn next_timer(&self) -> Option<Instant> {
        self.timers.iter().map(|t| t.at).min()
    }

    /// At a quiet moment, deliver a pending admission change or a due timer.
    fn wake(&mut self, now: Instant) {
        if !self.quiet() {
            return;
        }
        if matches!(self.wait, Some(Wait::Hold | Wait::Idle))
            && let Some(state) = self.access.pending.take()
        {
            return self.step(Event::Admission(state));
        }
        if !self.interruptible() {
            return;
        }
        let due = self
            .timers
            .iter()
            .enumerate()
            .filter(|(_, t)| t.at <= now)
            .min_by_key(|(_, t)| (t.at, t.seq))
            .map(|(i, _)| i);
        if let Some(i) = due {
            let timer = self.timers.remove(i);
            self.step(Event::Timer(timer.id));
        }
    }

    fn verified_access(&self) -> Option<Access> {
        let conference = self.access.conference.as_ref()?;
        let via = if let Caller::User(user) = &self.caller {
            AccessVia::AuthenticatedUser(user.clone())
        } else if let Some(user) = &self.access.pin_user {
            AccessVia::Pin(user.clone())
        } else if self.access.passcode_ok {
            AccessVia::Passcode
        } else if !conference.passcode_required {
            AccessVia::NoPasscodeRequired
        } else {
            return None;
        };
        Some(Access {
            pstn_id: conference.pstn_id.clone(),
            via,
        })
    }
}

impl fmt::Debug for AttendantDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttendantDriver")
            .field("phase", &self.phase)
            .field("language", &self.language)
            .field("in_flight", &self.in_flight)
            .field("actions_left", &self.list.len())
            .field("blocked_on", &self.blocked_on)
            .field("barge_in_plays", &self.barge)
            .field("wait", &self.wait)
            .field("type_ahead", &self.type_ahead.len())
            .field("timers", &self.timers.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Collecting {
    /// Take a key; `Some(end)` when collection is over.
    fn key(&mut self, key: char, now: Instant) -> Option<CollectEnd> {
        self.started.get_or_insert(now);
        if Some(key) == self.spec.terminator {
            return Some(CollectEnd::Terminator);
        }
        self.digits.0.push(key);
        self.last_key = Some(now);
        (self.digits.len() >= usize::from(self.spec.max_digits.max(1)))
            .then_some(CollectEnd::MaxDigits)
    }

    /// When the collect times out and how it ends then; none before it listens.
    fn deadline(&self) -> Option<(Instant, CollectEnd)> {
        let started = self.started?;
        let overall = after(started, self.spec.overall_timeout_ms);
        let (own, own_end) = match self.last_key {
            None => (
                after(started, self.spec.first_digit_timeout_ms),
                CollectEnd::NoInput,
            ),
            Some(last) => (
                after(last, self.spec.inter_digit_timeout_ms),
                CollectEnd::InterDigitTimeout,
            ),
        };
        let over_end = if self.digits.is_empty() {
            CollectEnd::NoInput
        } else {
            CollectEnd::OverallTimeout
        };
        match (own, overall) {
            (Some(a), Some(b)) if b <= a => Some((b, over_end)),
            (Some(a), _) => Some((a, own_end)),
            (None, Some(b)) => Some((b, over_end)),
            (None, None) => None,
        }
    }
}

fn collected(digits: Keys, end: CollectEnd) -> Event {
    Event::Digits(Collected {
        digits: digits.0,
        end,
    })
}

fn after(t: Instant, ms: u32) -> Option<Instant> {
    t.checked_add(Duration::from_millis(u64::from(ms)))
}

fn is_key(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')
}
