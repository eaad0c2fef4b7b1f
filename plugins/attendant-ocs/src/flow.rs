//! The call flow: one function per phase, each taking the state and an event and giving the
//! next state and the actions. The crate documentation describes the flow as a caller hears it.

use plenum_sdk::prelude::*;

use crate::prompts::{self, all_digits, ask_items, goodbye_after, items, say};
use crate::state::{Call, Phase};

/// Tries the language menu allows before it settles on the primary language.
pub const LANGUAGE_ATTEMPTS: u8 = 3;

/// The next state and the actions to run.
pub type Step = (Call, Vec<Action>);

/// The flow for one call's facts.
pub struct Flow<'a> {
    call: &'a CallInfo,
}

impl<'a> Flow<'a> {
    /// The flow of `call`.
    pub fn new(call: &'a CallInfo) -> Flow<'a> {
        Flow { call }
    }

    /// The call was answered: welcome, then the language menu or the conference ID.
    pub fn start(&self) -> Step {
        let phase = if self.languages().len() > 1 {
            Phase::Language
        } else {
            Phase::ConferenceId
        };
        let call = Call::new(phase);
        let actions = self.prompt(&call, &["welcome"]);
        (call, actions)
    }

    /// Handle `event` in state `s`.
    pub fn on(&self, s: Call, event: Event) -> Step {
        match (s.phase, event) {
            (Phase::Language, Event::Digits(c)) => self.language(s, &c),
            (Phase::ConferenceId, Event::Digits(c)) => self.conference_id(s, c),
            (Phase::Lookup, Event::Conference(found)) => self.looked_up(s, found),
            (Phase::Leader, Event::Digits(c)) => self.leader(s, c),
            (Phase::PasscodeRest, Event::Digits(c)) => self.passcode_rest(s, &c),
            (Phase::Passcode, Event::Digits(c)) => self.passcode(s, c),
            (Phase::VerifyPasscode, Event::Passcode(r)) => self.passcode_checked(s, r),
            (Phase::Extension, Event::Digits(c)) => self.extension(s, c),
            (Phase::Pin, Event::Digits(c)) => self.pin(s, c),
            (Phase::VerifyPin, Event::Pin(r)) => self.pin_checked(s, r),
            (Phase::RecordName, Event::NameRecorded(ms)) => self.name_recorded(s, ms),
            (Phase::Admission | Phase::Holding, Event::Admission(a)) => self.admission(s, a),
            // A joined or waiting caller is left alone whatever else arrives.
            (Phase::Done | Phase::Holding, _) => (s, Vec::new()),
            (_, event) => self.unexpected(s, &event),
        }
    }

    /// The access number's languages, primary first.
    fn languages(&self) -> &[String] {
        &self.call.access_number.languages
    }

    fn options(&self) -> CallOptions {
        self.call.options
    }

    /// The prompt and collection of an input phase, after the `before` prompts.
    fn prompt(&self, s: &Call, before: &[&str]) -> Vec<Action> {
        let mut list = items(before);
        let spec = match s.phase {
            Phase::Language => {
                list.extend(prompts::language_menu(self.languages()));
                prompts::one_key()
            }
            Phase::ConferenceId => {
                list.extend(items(&["enter-conference-id"]));
                prompts::conference_id()
            }
            Phase::Leader => {
                list.extend(items(&["leader-prompt"]));
                prompts::leader_key()
            }
            Phase::Passcode => {
                list.extend(items(&["enter-passcode"]));
                prompts::passcode()
            }
            Phase::Extension => {
                list.extend(items(&["enter-extension"]));
                prompts::extension()
            }
            Phase::Pin => {
                list.extend(items(&["enter-pin"]));
                prompts::pin()
            }
            Phase::PasscodeRest => prompts::passcode_rest(),
            _ => return self.apologize(),
        };
        let mut actions = Vec::with_capacity(2);
        if !list.is_empty() {
            actions.push(ask_items(list));
        }
        actions.push(Action::Collect(spec));
        actions
    }

    /// A failed try in `phase`: say `note` and ask again, or, past `limit` tries, `exhausted`.
    fn retry(
        &self,
        s: Call,
        phase: Phase,
        note: &str,
        limit: u8,
        exhausted: impl FnOnce(Call, &str) -> Step,
    ) -> Step {
        let s = Call {
            tries: s.tries.saturating_add(1),
            ..s.to(phase)
        };
        if s.tries >= limit.max(1) {
            return exhausted(s, note);
        }
        let actions = self.prompt(&s, &[note]);
        (s, actions)
    }

    /// Too many tries: goodbye.
    fn hang_up(s: Call, note: &str) -> Step {
        (s.to(Phase::Done), goodbye_after(note))
    }

    fn language(&self, s: Call, c: &Collected) -> Step {
        let chosen = c
            .digits
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|i| *i < prompts::MAX_MENU_LANGUAGES)
            .and_then(|i| self.languages().get(i));
        if let Some(lang) = chosen {
            return self.in_language(s, lang.clone());
        }
        let note = if c.end == CollectEnd::NoInput {
            "no-input"
        } else {
            "invalid-entry"
        };
        self.retry(s, Phase::Language, note, LANGUAGE_ATTEMPTS, |s, _| {
            let primary = self.languages().first().cloned().unwrap_or_default();
            self.in_language(s, primary)
        })
    }

    /// Use `lang` and ask for the conference ID.
    fn in_language(&self, s: Call, lang: String) -> Step {
        let s = s.stage(Phase::ConferenceId);
        let mut actions = vec![Action::SetLanguage(lang)];
        actions.extend(self.prompt(&s, &[]));
        (s, actions)
    }

    fn conference_id(&self, s: Call, c: Collected) -> Step {
        let limit = self.options().conference_id_attempts;
        if c.end == CollectEnd::NoInput {
            return self.retry(s, Phase::ConferenceId, "no-input", limit, Flow::hang_up);
        }
        if !all_digits(&c.digits) {
            return self.retry(
                s,
                Phase::ConferenceId,
                "invalid-conference-id",
                limit,
                Flow::hang_up,
            );
        }
        (
            s.to(Phase::Lookup),
            vec![Action::LookupConference(c.digits)],
        )
    }

    fn looked_up(&self, s: Call, found: ConferenceLookup) -> Step {
        let ConferenceLookup::Found(meeting) = found else {
            let limit = self.options().conference_id_attempts;
            return self.retry(
                s,
                Phase::ConferenceId,
                "invalid-conference-id",
                limit,
                Flow::hang_up,
            );
        };
        let s = Call {
            passcode_required: meeting.passcode_required,
            leader_offered: true,
            ..s.stage(Phase::Leader)
        };
        match self.call.caller {
            // An authenticated SIP phone is who it says: only the conference ID is asked.
            Caller::User(_) => request_admission(s, &[]),
            Caller::Anonymous => {
                let actions = self.prompt(&s, &[]);
                (s, actions)
            }
        }
    }

    /// The leader prompt's key: `*` for the PIN path, else the passcode's first digit (or, for a
    /// meeting without passcode, anything to continue as a guest).
    fn leader(&self, s: Call, c: Collected) -> Step {
        if c.digits == "*" {
            let s = s.stage(Phase::Extension);
            let actions = self.prompt(&s, &[]);
            return (s, actions);
        }
        if !s.passcode_required {
            return self.guest(s, &[]);
        }
        if c.end == CollectEnd::NoInput {
            return self.passcode_retry(s, "no-input");
        }
        if !all_digits(&c.digits) {
            return self.passcode_retry(s, "invalid-passcode");
        }
        let s = Call {
            pending: c.digits,
            ..s.to(Phase::PasscodeRest)
        };
        let actions = self.prompt(&s, &[]);
        (s, actions)
    }

    fn passcode_rest(&self, s: Call, c: &Collected) -> Step {
        let code = format!("{}{}", s.pending, c.digits);
        let s = Call {
            pending: String::new(),
            ..s
        };
        self.verify_passcode(s, code)
    }

    fn passcode(&self, s: Call, c: Collected) -> Step {
        if c.end == CollectEnd::NoInput {
            return self.passcode_retry(s, "no-input");
        }
        self.verify_passcode(s, c.digits)
    }

    fn verify_passcode(&self, s: Call, code: String) -> Step {
        if !all_digits(&code) {
            return self.passcode_retry(s, "invalid-passcode");
        }
        (
            s.to(Phase::VerifyPasscode),
            vec![Action::VerifyPasscode(code)],
        )
    }

    fn passcode_checked(&self, s: Call, r: PasscodeResult) -> Step {
        match r {
            PasscodeResult::Accepted => self.guest(s, &[]),
            PasscodeResult::Rejected => self.passcode_retry(s, "invalid-passcode"),
        }
    }

    /// A failed passcode try: ask again (with the leader option while it is offered).
    fn passcode_retry(&self, s: Call, note: &str) -> Step {
        let phase = if s.leader_offered {
            Phase::Leader
        } else {
            Phase::Passcode
        };
        self.retry(
            s,
            phase,
            note,
            self.options().passcode_attempts,
            Flow::hang_up,
        )
    }

    fn extension(&self, s: Call, c: Collected) -> Step {
        if c.end == CollectEnd::NoInput {
            return self.pin_retry(s, Phase::Extension, "no-input");
        }
        if !all_digits(&c.digits) {
            return self.pin_retry(s, Phase::Extension, "invalid-entry");
        }
        let s = Call {
            pending: c.digits,
            ..s.to(Phase::Pin)
        };
        let actions = self.prompt(&s, &[]);
        (s, actions)
    }

    fn pin(&self, s: Call, c: Collected) -> Step {
        if c.end == CollectEnd::NoInput {
            return self.pin_retry(s, Phase::Pin, "no-input");
        }
        if !all_digits(&c.digits) {
            return self.pin_retry(s, Phase::Pin, "invalid-pin");
        }
        let mut s = s.to(Phase::VerifyPin);
        let who = std::mem::take(&mut s.pending);
        (s, vec![Action::VerifyPin((who, c.digits))])
    }

    fn pin_checked(&self, s: Call, r: PinResult) -> Step {
        match r {
            PinResult::Accepted(_) => request_admission(s, &[]),
            PinResult::Rejected => self.pin_retry(s, Phase::Extension, "invalid-pin"),
            PinResult::Locked => self.passcode_path(s, &["pin-locked"]),
            PinResult::NotAllowed => self.passcode_path(s, &[]),
        }
    }

    /// A failed PIN try; past the limit, the passcode path if the meeting has a passcode,
    /// else goodbye.
    fn pin_retry(&self, s: Call, phase: Phase, note: &str) -> Step {
        self.retry(s, phase, note, self.options().pin_attempts, |s, note| {
            if s.passcode_required {
                self.passcode_path(s, &[note])
            } else {
                Flow::hang_up(s, note)
            }
        })
    }

    /// Continue as a guest: the passcode (without the leader option) when the meeting has one.
    fn passcode_path(&self, s: Call, before: &[&str]) -> Step {
        let s = Call {
            leader_offered: false,
            ..s.stage(Phase::Passcode)
        };
        if !s.passcode_required {
            return self.guest(s, before);
        }
        let actions = self.prompt(&s, before);
        (s, actions)
    }

    /// An anonymous caller past the passcode: record the name if the policy asks, then ask
    /// for admission.
    fn guest(&self, s: Call, before: &[&str]) -> Step {
        if !self.options().name_recording {
            return request_admission(s, before);
        }
        let mut names = before.to_vec();
        names.push("record-name");
        (
            s.stage(Phase::RecordName),
            vec![say(&names), Action::RecordName(prompts::NAME_RECORDING_MS)],
        )
    }

    fn name_recorded(&self, s: Call, ms: u32) -> Step {
        if ms == 0 {
            return request_admission(s, &[]);
        }
        let play = Action::Play(PlaySpec {
            items: vec![
                PromptItem::Prompt("name-recorded".into()),
                PromptItem::RecordedName,
            ],
            barge_in: false,
        });
        (
            s.stage(Phase::Admission),
            vec![play, Action::RequestAdmission],
        )
    }

    fn admission(&self, s: Call, a: AdmissionState) -> Step {
        match a {
            AdmissionState::Admitted => {
                let prompt = if s.phase == Phase::Holding {
                    "admitted"
                } else {
                    "joining"
                };
                (s.to(Phase::Done), vec![say(&[prompt]), Action::Join])
            }
            AdmissionState::WaitingForLeader => (
                s.to(Phase::Holding),
                vec![say(&["waiting-for-leader"]), Action::Hold(HoldKind::Music)],
            ),
            AdmissionState::InLobby => (
                s.to(Phase::Holding),
                vec![say(&["in-lobby"]), Action::Hold(HoldKind::Lobby)],
            ),
            AdmissionState::Denied | AdmissionState::TimedOut => (
                s.to(Phase::Done),
                vec![say(&["denied", "goodbye"]), Action::HangUp],
            ),
        }
    }

    /// An event the phase does not expect (the host never sends one): ask again in an input
    /// phase; otherwise end the call politely.
    fn unexpected(&self, s: Call, event: &Event) -> Step {
        plenum_sdk::log::warn(&format!(
            "attendant-ocs: unexpected `{event}` in {:?}",
            s.phase
        ));
        plenum_sdk::log::counter_add("unexpected-event", 1);
        if s.phase.collects() {
            let actions = self.prompt(&s, &[]);
            return (s, actions);
        }
        (s.to(Phase::Done), self.apologize())
    }

    /// "Technical difficulty, goodbye".
    fn apologize(&self) -> Vec<Action> {
        vec![say(&["technical-difficulty", "goodbye"]), Action::HangUp]
    }
}

/// Ask the focus to admit the caller, after the `before` prompts.
fn request_admission(s: Call, before: &[&str]) -> Step {
    let mut actions = Vec::with_capacity(2);
    if !before.is_empty() {
        actions.push(say(before));
    }
    actions.push(Action::RequestAdmission);
    (s.stage(Phase::Admission), actions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_sdk::harness::demo;

    #[test]
    fn unexpected_events_replay_input_prompts_and_end_waits_politely() {
        let call = demo::call(demo::london_number());
        let flow = Flow::new(&call);
        let (s, actions) = flow.on(Call::new(Phase::ConferenceId), Event::PromptFinished);
        assert_eq!(s.phase, Phase::ConferenceId);
        assert_eq!(
            actions.last(),
            Some(&Action::Collect(prompts::conference_id()))
        );
        let (_, actions) = flow.on(Call::new(Phase::Lookup), Event::Timer(7));
        assert_eq!(actions.last(), Some(&Action::HangUp));
        for phase in [Phase::Done, Phase::Holding] {
            let (s, actions) = flow.on(Call::new(phase), Event::PromptFinished);
            assert_eq!((s.phase, actions), (phase, Vec::new()));
        }
    }
}
