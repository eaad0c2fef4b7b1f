//! Scripted calls for attendants: what a caller does, line by line, and the transcript of what
//! the plugin did about it.
//!
//! ```text
//! # An anonymous caller joins meeting 70012349 with passcode 2468
//! call to=+14255550100 from=+14255551234
//! meeting 70012349 passcode=2468 leader-present
//! press 1            # language menu: English
//! press 70012349#
//! press 2468#
//! say 1200           # records a name of 1.2 s
//! ```
//!
//! Lines (`# ` — a `#` and a space, at the start or after whitespace — begins a comment):
//! - `call [to=E164] [from=NUMBER] [languages=a,b] [user=SIP-URI] [name=NAME]
//!   [name-recording=BOOL] [attempts=N] [pin-auth=everyone|organizer-only]`: the call (default:
//!   an anonymous gateway call to the demo Redmond number, OCS options); `user=` makes it an
//!   authenticated SIP phone. Must come before any caller action.
//! - `meeting ID [passcode=DIGITS] [leader-present] [locked] [subject=WORD]`: a meeting the
//!   fake directory knows (ID with its check digit).
//! - `user EXTENSION pin=DIGITS uri=SIP-URI [number=E164] [name=NAME] [locked]`: a user the
//!   fake directory knows.
//! - `press KEYS`: the caller presses keys in one burst; keys stay buffered (type-ahead) until
//!   a `collect` takes them. A pause follows every burst.
//! - `silence`: the caller presses nothing (a `collect` ends with `no-input`, a recording is
//!   empty).
//! - `say MS`: the caller speaks for MS milliseconds (answers `record-name`).
//! - `leader-joins`, `admit`: a leader joins the meeting; a leader admits from the lobby.
//! - `wait MS`: time passes; timers that fall due fire.
//! - `hangup`: the caller hangs up. The end of the script is a hang-up too.
//!
//! The driver follows the host's rules for actions: they run in order; the first action that
//! waits (`collect`, `lookup-conference`, `verify-*`, `record-name`, `request-admission`,
//! `hold`) is answered with its event and the actions after it are ignored; a list that ends
//! with `play` is answered with `prompt-finished`; `join` and `hang-up` end the call. Security
//! checks are the host's, as in production: `request-admission` is denied unless a meeting was
//! found and its passcode verified (or a PIN or the phone's digest identified the caller).

use std::collections::VecDeque;
use std::fmt::Write as _;

use super::{AttendantTarget, demo};
use crate::api::attendant::{
    Action, AdmissionState, CallInfo, Caller, CollectEnd, CollectSpec, Collected, ConferenceLookup,
    ConferenceSummary, Event, HoldKind, PasscodeResult, PinResult, UserInfo,
};
use crate::api::pstn;

/// Most steps a scripted call may take before the driver calls it a loop.
const MAX_STEPS: usize = 500;

/// A parsed script.
#[derive(Debug, Clone)]
pub struct Script {
    call: CallInfo,
    meetings: Vec<Meeting>,
    users: Vec<User>,
    caller: Vec<CallerLine>,
}

#[derive(Debug, Clone)]
struct Meeting {
    id: String,
    passcode: Option<String>,
    leader_present: bool,
    locked: bool,
    subject: String,
}

#[derive(Debug, Clone)]
struct User {
    extension: String,
    number: Option<String>,
    pin: String,
    uri: String,
    name: String,
    locked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum CallerLine {
    Press(String),
    Silence,
    Say(u32),
    LeaderJoins,
    Admit,
    Wait(u32),
    Hangup,
}

/// A line the parser could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "script line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

impl Script {
    /// Parse a script.
    pub fn parse(text: &str) -> Result<Script, ScriptError> {
        let mut script = Script {
            call: demo::call(demo::redmond_number()),
            meetings: Vec::new(),
            users: Vec::new(),
            caller: Vec::new(),
        };
        for (i, raw) in text.lines().enumerate() {
            let line = strip_comment(raw);
            let mut words = line.split_whitespace();
            let Some(verb) = words.next() else { continue };
            let args: Vec<&str> = words.collect();
            script
                .parse_line(verb, &args)
                .map_err(|message| ScriptError {
                    line: i + 1,
                    message,
                })?;
        }
        Ok(script)
    }

    /// The call facts the script sets up.
    pub fn call(&self) -> &CallInfo {
        &self.call
    }

    fn parse_line(&mut self, verb: &str, args: &[&str]) -> Result<(), String> {
        let caller = |line| -> Result<Option<CallerLine>, String> { Ok(Some(line)) };
        let line = match verb {
            "call" => {
                if !self.caller.is_empty() {
                    return Err("`call` must come before the caller's actions".into());
                }
                self.parse_call(args)?;
                None
            }
            "meeting" => {
                self.meetings.push(parse_meeting(args)?);
                None
            }
            "user" => {
                self.users.push(parse_user(args)?);
                None
            }
            "press" => {
                let keys = args.concat();
                if keys.is_empty() || !keys.chars().all(is_key) {
                    return Err(format!("`press` takes keys 0-9 * #, got `{keys}`"));
                }
                caller(CallerLine::Press(keys))?
            }
            "silence" => caller(CallerLine::Silence)?,
            "say" => caller(CallerLine::Say(number_arg(args)?))?,
            "wait" => caller(CallerLine::Wait(number_arg(args)?))?,
            "leader-joins" => caller(CallerLine::LeaderJoins)?,
            "admit" => caller(CallerLine::Admit)?,
            "hangup" => caller(CallerLine::Hangup)?,
            other => return Err(format!("unknown verb `{other}`")),
        };
        self.caller.extend(line);
        Ok(())
    }

    fn parse_call(&mut self, args: &[&str]) -> Result<(), String> {
        let mut user_uri = None;
        let mut name = None;
        for arg in args {
            let (key, value) = arg
                .split_once('=')
                .ok_or(format!("expected key=value, got `{arg}`"))?;
            match key {
                "to" => {
                    let mut n = if value == demo::london_number().number {
                        demo::london_number()
                    } else {
                        demo::redmond_number()
                    };
                    n.number = value.to_owned();
                    self.call.access_number = n;
                }
                "from" => self.call.calling = Some(value.to_owned()),
                "languages" => {
                    self.call.access_number.languages =
                        value.split(',').map(str::to_owned).collect();
                }
                "user" => user_uri = Some(value.to_owned()),
                "name-recording" => self.call.options.name_recording = parse_bool(value)?,
                "attempts" => {
                    let n: u8 = value
                        .parse()
                        .map_err(|_| format!("attempts: expected 1-255, got `{value}`"))?;
                    let o = &mut self.call.options;
                    (
                        o.conference_id_attempts,
                        o.passcode_attempts,
                        o.pin_attempts,
                    ) = (n, n, n);
                }
                "pin-auth" => {
                    self.call.options.pin_auth = match value {
                        "everyone" => crate::api::policy::PinAuthScope::Everyone,
                        "organizer-only" => crate::api::policy::PinAuthScope::OrganizerOnly,
                        other => {
                            return Err(format!(
                                "pin-auth: expected everyone or organizer-only, got `{other}`"
                            ));
                        }
                    }
                }
                "name" => name = Some(value.to_owned()),
                other => return Err(format!("unknown `call` key `{other}`")),
            }
        }
        if let Some(uri) = user_uri {
            let display_name = name.unwrap_or_else(|| uri.clone());
            self.call.caller = Caller::User(UserInfo { uri, display_name });
        }
        Ok(())
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("expected true or false, got `{other}`")),
    }
}

fn is_key(c: char) -> bool {
    c.is_ascii_digit() || c == '*' || c == '#'
}

fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let starts_comment = i == 0 || bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace);
        if b == b'#' && starts_comment && bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace) {
            return line.get(..i).unwrap_or(line);
        }
    }
    line
}

fn number_arg(args: &[&str]) -> Result<u32, String> {
    match args {
        [n] => n
            .parse()
            .map_err(|_| format!("expected a number, got `{n}`")),
        _ => Err("expected one number".into()),
    }
}

fn parse_meeting(args: &[&str]) -> Result<Meeting, String> {
    let (id, rest) = args.split_first().ok_or("`meeting` needs an ID")?;
    let mut m = Meeting {
        id: (*id).to_owned(),
        passcode: None,
        leader_present: false,
        locked: false,
        subject: "Meeting".into(),
    };
    for arg in rest {
        match arg.split_once('=') {
            Some(("passcode", v)) => m.passcode = Some(v.to_owned()),
            Some(("subject", v)) => m.subject = v.to_owned(),
            None if *arg == "leader-present" => m.leader_present = true,
            None if *arg == "locked" => m.locked = true,
            _ => return Err(format!("unknown `meeting` argument `{arg}`")),
        }
    }
    Ok(m)
}

fn parse_user(args: &[&str]) -> Result<User, String> {
    let (ext, rest) = args.split_first().ok_or("`user` needs an extension")?;
    let mut u = User {
        extension: (*ext).to_owned(),
        number: None,
        pin: String::new(),
        uri: String::new(),
        name: String::new(),
        locked: false,
    };
    for arg in rest {
        match arg.split_once('=') {
            Some(("pin", v)) => u.pin = v.to_owned(),
            Some(("uri", v)) => u.uri = v.to_owned(),
            Some(("number", v)) => u.number = Some(v.to_owned()),
            Some(("name", v)) => u.name = v.to_owned(),
            None if *arg == "locked" => u.locked = true,
            _ => return Err(format!("unknown `user` argument `{arg}`")),
        }
    }
    if u.pin.is_empty() || u.uri.is_empty() {
        return Err("`user` needs pin= and uri=".into());
    }
    if u.name.is_empty() {
        u.name = u.uri.clone();
    }
    Ok(u)
}

/// How a scripted call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The attendant handed the caller to a meeting.
    Joined {
        /// The meeting's PSTN ID.
        meeting: String,
        /// The signed-in user, if any.
        user: Option<String>,
    },
    /// The attendant hung up.
    HungUp,
    /// The caller hung up (or the script ended).
    CallerHungUp,
    /// The plugin left the call with nothing to wait for.
    Stuck,
    /// The plugin trapped, failed or looped.
    Fault(String),
}

/// What happened on a scripted call.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// One line per event (`>`), action (`<`), caller action (`.`) and host remark (`!`).
    pub lines: Vec<String>,
    /// How the call ended.
    pub outcome: Outcome,
}

impl std::fmt::Display for Transcript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for l in &self.lines {
            writeln!(f, "{l}")?;
        }
        write!(f, "= {:?}", self.outcome)
    }
}

impl Transcript {
    /// The actions the plugin returned, in order, rendered.
    pub fn actions(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|l| l.strip_prefix("< "))
            .collect()
    }
}

/// Run a script against an attendant.
pub fn run(target: &mut dyn AttendantTarget, script: &Script) -> Transcript {
    Driver::new(script).run(target)
}

struct Driver<'s> {
    script: &'s Script,
    caller: VecDeque<CallerLine>,
    keys: VecDeque<char>,
    lines: Vec<String>,
    now_ms: u64,
    timers: Vec<(u64, u32)>,
    meeting: Option<&'s Meeting>,
    passcode_ok: bool,
    user: Option<String>,
    leader_present: bool,
    admitted: bool,
}

impl<'s> Driver<'s> {
    fn new(script: &'s Script) -> Driver<'s> {
        let user = match &script.call.caller {
            Caller::User(u) => Some(u.uri.clone()),
            Caller::Anonymous => None,
        };
        Driver {
            script,
            caller: script.caller.iter().cloned().collect(),
            keys: VecDeque::new(),
            lines: Vec::new(),
            now_ms: 0,
            timers: Vec::new(),
            meeting: None,
            passcode_ok: false,
            user,
            leader_present: false,
            admitted: false,
        }
    }

    fn run(mut self, target: &mut dyn AttendantTarget) -> Transcript {
        let mut state = Vec::new();
        let mut event = Event::CallStarted;
        for _ in 0..MAX_STEPS {
            self.lines.push(format!("> {event}"));
            let last = event == Event::Hangup;
            let out = match target.step(&self.script.call, &state, &event) {
                Ok(Ok(out)) => out,
                Ok(Err(e)) => return self.end(Outcome::Fault(format!("plugin error: {e}"))),
                Err(f) => return self.end(Outcome::Fault(f.to_string())),
            };
            if last {
                return self.end(Outcome::CallerHungUp);
            }
            state = out.state;
            match self.perform(&out.actions) {
                Next::Event(e) => event = e,
                Next::End(o) => return self.end(o),
            }
        }
        self.end(Outcome::Fault(format!("no end after {MAX_STEPS} steps")))
    }

    fn end(self, outcome: Outcome) -> Transcript {
        Transcript {
            lines: self.lines,
            outcome,
        }
    }

    fn perform(&mut self, actions: &[Action]) -> Next {
        let mut played = false;
        for (i, action) in actions.iter().enumerate() {
            self.lines.push(format!("< {action}"));
            if action.waits() {
                if i + 1 < actions.len() {
                    self.lines.push(format!(
                        "! {} action(s) after a wait ignored",
                        actions.len() - i - 1
                    ));
                }
                return self.answer(action);
            }
            match action {
                Action::Play(_) => played = true,
                Action::SetLanguage(l) if !self.script.call.access_number.languages.contains(l) => {
                    self.lines.push(format!(
                        "! language {l} is not offered on this number; ignored"
                    ));
                }
                Action::StartTimer((id, ms)) => {
                    self.timers.push((self.now_ms + u64::from(*ms), *id))
                }
                Action::Join => return self.join(),
                Action::HangUp => return Next::End(Outcome::HungUp),
                _ => {}
            }
        }
        if played {
            return Next::Event(Event::PromptFinished);
        }
        if !self.timers.is_empty() {
            return self.idle();
        }
        Next::End(Outcome::Stuck)
    }

    fn join(&mut self) -> Next {
        match self.meeting {
            Some(m) if self.admissible() == AdmissionState::Admitted => {
                Next::End(Outcome::Joined {
                    meeting: m.id.clone(),
                    user: self.user.clone(),
                })
            }
            _ => {
                self.lines
                    .push("! join refused: the caller was not admitted".into());
                Next::End(Outcome::Stuck)
            }
        }
    }

    fn answer(&mut self, action: &Action) -> Next {
        match action {
            Action::Collect(spec) => self.collect(spec),
            Action::LookupConference(id) => Next::Event(Event::Conference(self.lookup(id))),
            Action::VerifyPasscode(p) => {
                let ok = self
                    .meeting
                    .is_some_and(|m| m.passcode.as_deref() == Some(p.as_str()));
                self.passcode_ok |= ok;
                let r = if ok {
                    PasscodeResult::Accepted
                } else {
                    PasscodeResult::Rejected
                };
                Next::Event(Event::Passcode(r))
            }
            Action::VerifyPin((who, pin)) => Next::Event(Event::Pin(self.verify_pin(who, pin))),
            Action::RecordName(max) => match self.next_caller() {
                Some(CallerLine::Say(ms)) => Next::Event(Event::NameRecorded((ms).min(*max))),
                Some(CallerLine::Silence) => Next::Event(Event::NameRecorded(0)),
                _ => Next::Event(Event::Hangup),
            },
            Action::RequestAdmission => Next::Event(Event::Admission(self.admissible())),
            Action::Hold(kind) => self.hold(*kind),
            _ => Next::End(Outcome::Stuck),
        }
    }

    fn lookup(&mut self, id: &str) -> ConferenceLookup {
        self.meeting = None;
        self.passcode_ok = false;
        if !pstn::is_valid(id) {
            return ConferenceLookup::BadCheckDigit;
        }
        match self.script.meetings.iter().find(|m| m.id == id) {
            Some(m) => {
                self.meeting = Some(m);
                self.leader_present = m.leader_present;
                ConferenceLookup::Found(ConferenceSummary {
                    pstn_id: m.id.clone(),
                    subject: m.subject.clone(),
                    organizer_name: "Organizer".into(),
                    passcode_required: m.passcode.is_some(),
                })
            }
            None => ConferenceLookup::NotFound,
        }
    }

    fn verify_pin(&mut self, who: &str, pin: &str) -> PinResult {
        let user = self
            .script
            .users
            .iter()
            .find(|u| u.extension == who || u.number.as_deref() == Some(who));
        match user {
            Some(u) if u.locked => PinResult::Locked,
            Some(u) if u.pin == pin => {
                self.user = Some(u.uri.clone());
                PinResult::Accepted(UserInfo {
                    uri: u.uri.clone(),
                    display_name: u.name.clone(),
                })
            }
            _ => PinResult::Rejected,
        }
    }

    fn admissible(&self) -> AdmissionState {
        let Some(m) = self.meeting else {
            return AdmissionState::Denied;
        };
        let identified = self.user.is_some();
        if m.passcode.is_some() && !self.passcode_ok && !identified {
            return AdmissionState::Denied;
        }
        if identified || self.admitted {
            AdmissionState::Admitted
        } else if m.locked {
            AdmissionState::InLobby
        } else if self.leader_present {
            AdmissionState::Admitted
        } else {
            AdmissionState::WaitingForLeader
        }
    }

    fn hold(&mut self, kind: HoldKind) -> Next {
        loop {
            match self.next_caller() {
                Some(CallerLine::LeaderJoins) => {
                    self.leader_present = true;
                    if kind == HoldKind::Music {
                        return Next::Event(Event::Admission(AdmissionState::Admitted));
                    }
                }
                Some(CallerLine::Admit) if kind == HoldKind::Lobby => {
                    self.admitted = true;
                    return Next::Event(Event::Admission(AdmissionState::Admitted));
                }
                Some(CallerLine::Wait(ms)) => {
                    self.now_ms += u64::from(ms);
                    if let Some(id) = self.due_timer() {
                        return Next::Event(Event::Timer(id));
                    }
                }
                None | Some(CallerLine::Hangup) => return Next::Event(Event::Hangup),
                Some(other) => self
                    .lines
                    .push(format!("! {other:?} ignored while on hold")),
            }
        }
    }

    fn idle(&mut self) -> Next {
        loop {
            match self.next_caller() {
                Some(CallerLine::Wait(ms)) => {
                    self.now_ms += u64::from(ms);
                    if let Some(id) = self.due_timer() {
                        return Next::Event(Event::Timer(id));
                    }
                }
                None | Some(CallerLine::Hangup) => return Next::Event(Event::Hangup),
                Some(other) => self
                    .lines
                    .push(format!("! {other:?} ignored (nothing to wait for)")),
            }
        }
    }

    fn due_timer(&mut self) -> Option<u32> {
        let (i, _) = self
            .timers
            .iter()
            .enumerate()
            .filter(|(_, (at, _))| *at <= self.now_ms)
            .min_by_key(|(_, (at, _))| *at)?;
        Some(self.timers.remove(i).1)
    }

    fn collect(&mut self, spec: &CollectSpec) -> Next {
        let mut digits = String::new();
        loop {
            if let Some(k) = self.keys.pop_front() {
                if Some(k) == spec.terminator {
                    return collected(digits, CollectEnd::Terminator);
                }
                digits.push(k);
                if digits.len() >= usize::from(spec.max_digits) {
                    return collected(digits, CollectEnd::MaxDigits);
                }
                continue;
            }
            if !digits.is_empty() {
                return collected(digits, CollectEnd::InterDigitTimeout);
            }
            match self.next_caller() {
                Some(CallerLine::Press(keys)) => self.keys.extend(keys.chars()),
                Some(CallerLine::Silence) => return collected(digits, CollectEnd::NoInput),
                Some(CallerLine::Wait(ms)) => {
                    self.now_ms += u64::from(ms);
                    if let Some(id) = self.due_timer() {
                        return Next::Event(Event::Timer(id));
                    }
                    if u64::from(ms) >= u64::from(spec.first_digit_timeout_ms) {
                        return collected(digits, CollectEnd::NoInput);
                    }
                }
                Some(CallerLine::LeaderJoins) => self.leader_present = true,
                None | Some(CallerLine::Hangup) => return Next::Event(Event::Hangup),
                Some(other) => self
                    .lines
                    .push(format!("! {other:?} ignored while collecting digits")),
            }
        }
    }

    fn next_caller(&mut self) -> Option<CallerLine> {
        let line = self.caller.pop_front();
        if let Some(l) = &line {
            let mut text = String::from(". caller ");
            let _ = match l {
                CallerLine::Press(k) => write!(text, "presses {k}"),
                CallerLine::Silence => write!(text, "is silent"),
                CallerLine::Say(ms) => write!(text, "speaks {ms}ms"),
                CallerLine::LeaderJoins => write!(text, "waits; a leader joins"),
                CallerLine::Admit => write!(text, "waits; a leader admits"),
                CallerLine::Wait(ms) => write!(text, "waits {ms}ms"),
                CallerLine::Hangup => write!(text, "hangs up"),
            };
            self.lines.push(text);
        }
        line
    }
}

fn collected(digits: String, end: CollectEnd) -> Next {
    Next::Event(Event::Digits(Collected { digits, end }))
}

enum Next {
    Event(Event),
    End(Outcome),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_errors_with_lines() {
        let s = Script::parse("call to=+442075550100\nmeeting 10009 passcode=1234 # c\npress 1#\n")
            .unwrap();
        assert_eq!(s.call.access_number.region, "London");
        assert_eq!(s.meetings.len(), 1);
        assert_eq!(s.caller, vec![CallerLine::Press("1#".into())]);
        let e = Script::parse("press 1\nfly away").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(Script::parse("press 12a").is_err());
        assert!(Script::parse("press 1\ncall to=+1").is_err());
    }

    #[test]
    fn comments_do_not_eat_the_pound_key() {
        assert_eq!(strip_comment("press 123# # done"), "press 123# ");
        assert_eq!(strip_comment("# all comment"), "");
        assert_eq!(strip_comment("press #"), "press #");
        assert_eq!(strip_comment("press ##"), "press ##");
    }
}
