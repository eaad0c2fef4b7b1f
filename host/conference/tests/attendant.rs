//! The attendant driver against scripted plugins and a virtual clock: the dial-in flow of the
//! bundled OCS attendant (modelled on `plugins/attendant-ocs/src/flow.rs`), digit collection,
//! barge-in and type-ahead, timers, language, the security rules, a misbehaving plugin and
//! hang-up races. No plugin runtime: the "plugin" is a closure, the shell is the test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::time::{Duration, Instant};

use plenum_conference::attendant::{
    APOLOGY, Access, AccessVia, AttendantDriver, DriverConfig, Failure, Keys, Limits, Output,
    PlayId, StepFailed,
};
use plenum_plugin_api::attendant::{
    Action, AdmissionState, Caller, CollectEnd, CollectSpec, Collected, ConferenceLookup,
    ConferenceSummary, Event, HoldKind, PasscodeResult, PinResult, PromptItem, StepResult,
    UserInfo,
};

const MEETING: &str = "70012349";
const PASSCODE: &str = "2468";

// ---- the rig: a shell that answers steps at once and records everything else ----

type Plugin = Box<dyn FnMut(&Event) -> Vec<Action>>;

struct Rig {
    d: AttendantDriver,
    plugin: Plugin,
    t0: Instant,
    now: Instant,
    /// Events the plugin was stepped with, in order.
    events: Vec<Event>,
    /// Every other output, in order.
    out: Vec<Output>,
    /// Plays emitted and not yet finished or stopped: (id, barge-in).
    open_plays: Vec<(PlayId, bool)>,
}

impl Rig {
    fn new(config: DriverConfig, plugin: impl FnMut(&Event) -> Vec<Action> + 'static) -> Rig {
        Rig::at(Instant::now(), config, plugin)
    }

    fn at(
        t0: Instant,
        config: DriverConfig,
        plugin: impl FnMut(&Event) -> Vec<Action> + 'static,
    ) -> Rig {
        let mut rig = Rig {
            d: AttendantDriver::new(config, t0),
            plugin: Box::new(plugin),
            t0,
            now: t0,
            events: Vec::new(),
            out: Vec::new(),
            open_plays: Vec::new(),
        };
        rig.pump();
        rig
    }

    fn pump(&mut self) {
        while let Some(o) = self.d.poll_output() {
            match o {
                Output::Step(e) => {
                    self.events.push(e.clone());
                    let actions = (self.plugin)(&e);
                    let result = StepResult {
                        state: Vec::new(),
                        actions,
                    };
                    self.d.step_done(Ok(result), self.now);
                }
                o => {
                    match &o {
                        Output::Play { id, barge_in, .. } => self.open_plays.push((*id, *barge_in)),
                        // The shell stops every play of the call.
                        Output::StopPlay => self.open_plays.clear(),
                        _ => {}
                    }
                    self.out.push(o);
                }
            }
        }
    }

    /// Outputs since the last call.
    fn take(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    fn press(&mut self, keys: &str) {
        for k in keys.chars() {
            self.d.digit(k, self.now);
            self.pump();
        }
    }

    /// Let `ms` of virtual time pass, firing every deadline on time.
    fn wait(&mut self, ms: u64) {
        let until = self.now + Duration::from_millis(ms);
        let mut rounds = 0;
        while let Some(at) = self.d.poll_timeout().filter(|at| *at <= until) {
            rounds += 1;
            assert!(rounds < 10_000, "a deadline that never goes away");
            self.now = self.now.max(at);
            self.d.handle_timeout(self.now);
            self.pump();
        }
        self.now = until;
    }

    /// The oldest open play ends.
    fn finish_play(&mut self) {
        let (id, _) = self.open_plays.remove(0);
        self.d.play_finished(id, self.now);
        self.pump();
    }

    /// Every play, including those the ends start, runs to its end.
    fn finish_plays(&mut self) {
        while !self.open_plays.is_empty() {
            self.finish_play();
        }
    }

    fn lookup(&mut self, r: ConferenceLookup) {
        self.d.lookup_done(r, self.now);
        self.pump();
    }

    fn passcode(&mut self, r: PasscodeResult) {
        self.d.passcode_done(r, self.now);
        self.pump();
    }

    fn pin(&mut self, r: PinResult) {
        self.d.pin_done(r, self.now);
        self.pump();
    }

    fn admission(&mut self, s: AdmissionState) {
        self.d.admission(s, self.now);
        self.pump();
    }

    fn hangup(&mut self) {
        self.d.hangup(self.now);
        self.pump();
    }

    fn last_event(&self) -> &Event {
        self.events.last().unwrap()
    }

    fn elapsed_ms(&self) -> u128 {
        (self.now - self.t0).as_millis()
    }
}

fn anonymous() -> DriverConfig {
    DriverConfig::new(vec!["en-US".into(), "fr-FR".into()], Caller::Anonymous)
}

fn user(name: &str) -> UserInfo {
    UserInfo {
        uri: format!("sip:{name}@contoso.example"),
        display_name: name.into(),
    }
}

fn found(passcode_required: bool) -> ConferenceLookup {
    ConferenceLookup::Found(ConferenceSummary {
        pstn_id: MEETING.into(),
        subject: "Budget".into(),
        organizer_name: "Alice".into(),
        passcode_required,
    })
}

fn names(items: &[PromptItem]) -> Vec<&str> {
    items
        .iter()
        .map(|i| match i {
            PromptItem::Prompt(n) => n.as_str(),
            _ => "?",
        })
        .collect()
}

/// The prompt names and barge-in flags of the plays among `out`.
fn plays(out: &[Output]) -> Vec<(Vec<&str>, bool)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Play {
                items, barge_in, ..
            } => Some((names(items), *barge_in)),
            _ => None,
        })
        .collect()
}

fn digits(s: &str, end: CollectEnd) -> Event {
    Event::Digits(Collected {
        digits: s.into(),
        end,
    })
}

fn ask(names: &[&str]) -> Action {
    Action::play(names, true)
}

fn say(names: &[&str]) -> Action {
    Action::play(names, false)
}

fn failed_with(out: &[Output], why: Failure) -> bool {
    out.contains(&Output::Failed(why))
}

// ---- a scripted OCS attendant ----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    ConferenceId,
    Lookup,
    Passcode,
    Verify,
    Admission,
    Holding,
    Done,
}

/// The bundled attendant's flow, cut down: welcome → conference ID (#) → passcode (#) →
/// admission → join; three wrong IDs → too many attempts, goodbye, hang-up.
struct FakeOcs {
    phase: Phase,
    tries: u8,
    authenticated: bool,
}

impl FakeOcs {
    fn plugin(authenticated: bool) -> impl FnMut(&Event) -> Vec<Action> {
        let mut f = FakeOcs {
            phase: Phase::ConferenceId,
            tries: 0,
            authenticated,
        };
        move |e| f.step(e)
    }

    fn step(&mut self, e: &Event) -> Vec<Action> {
        match (self.phase, e) {
            (_, Event::CallStarted) => vec![
                ask(&["welcome", "enter-conference-id"]),
                Action::Collect(CollectSpec::hash_terminated(20)),
            ],
            (_, Event::Hangup) => {
                self.phase = Phase::Done;
                vec![say(&["goodbye"]), Action::HangUp]
            }
            (Phase::ConferenceId, Event::Digits(c)) if c.end == CollectEnd::NoInput => {
                self.retry_id("no-input")
            }
            (Phase::ConferenceId, Event::Digits(c)) => {
                self.phase = Phase::Lookup;
                vec![Action::LookupConference(c.digits.clone())]
            }
            (Phase::Lookup, Event::Conference(ConferenceLookup::Found(m))) => {
                if self.authenticated || !m.passcode_required {
                    self.phase = Phase::Admission;
                    return vec![Action::RequestAdmission];
                }
                self.phase = Phase::Passcode;
                self.tries = 0;
                vec![
                    ask(&["enter-passcode"]),
                    Action::Collect(CollectSpec::hash_terminated(16)),
                ]
            }
            (Phase::Lookup, Event::Conference(_)) => self.retry_id("invalid-conference-id"),
            (Phase::Passcode, Event::Digits(c)) => {
                self.phase = Phase::Verify;
                vec![Action::VerifyPasscode(c.digits.clone())]
            }
            (Phase::Verify, Event::Passcode(PasscodeResult::Accepted)) => {
                self.phase = Phase::Admission;
                vec![Action::RequestAdmission]
            }
            (Phase::Verify, Event::Passcode(PasscodeResult::Rejected)) => {
                self.phase = Phase::Passcode;
                vec![
                    ask(&["invalid-passcode", "enter-passcode"]),
                    Action::Collect(CollectSpec::hash_terminated(16)),
                ]
            }
            (Phase::Admission | Phase::Holding, Event::Admission(a)) => self.admission(*a),
            _ => Vec::new(),
        }
    }

    fn retry_id(&mut self, note: &str) -> Vec<Action> {
        self.tries += 1;
        if self.tries >= 3 {
            self.phase = Phase::Done;
            return vec![say(&[note, "too-many-attempts", "goodbye"]), Action::HangUp];
        }
        self.phase = Phase::ConferenceId;
        vec![
            ask(&[note, "enter-conference-id"]),
            Action::Collect(CollectSpec::hash_terminated(20)),
        ]
    }

    fn admission(&mut self, a: AdmissionState) -> Vec<Action> {
        match a {
            AdmissionState::Admitted => {
                let prompt = if self.phase == Phase::Holding {
                    "admitted"
                } else {
                    "joining"
                };
                self.phase = Phase::Done;
                vec![say(&[prompt]), Action::Join]
            }
            AdmissionState::WaitingForLeader => {
                self.phase = Phase::Holding;
                vec![say(&["waiting-for-leader"]), Action::Hold(HoldKind::Music)]
            }
            AdmissionState::InLobby => {
                self.phase = Phase::Holding;
                vec![say(&["in-lobby"]), Action::Hold(HoldKind::Lobby)]
            }
            AdmissionState::Denied | AdmissionState::TimedOut => {
                self.phase = Phase::Done;
                vec![say(&["denied", "goodbye"]), Action::HangUp]
            }
        }
    }
}

fn ocs() -> Rig {
    Rig::new(anonymous(), FakeOcs::plugin(false))
}

/// A plugin that answers the first step with `first` and every later one with nothing.
fn once(first: Vec<Action>) -> impl FnMut(&Event) -> Vec<Action> {
    let mut first = Some(first);
    move |_| first.take().unwrap_or_default()
}

/// A plugin that collects with `spec` at the start and after every collection.
fn collector(spec: CollectSpec) -> impl FnMut(&Event) -> Vec<Action> {
    move |e| match e {
        Event::CallStarted | Event::Digits(_) => vec![Action::Collect(spec)],
        _ => Vec::new(),
    }
}

fn spec(max: u8, terminator: Option<char>) -> CollectSpec {
    CollectSpec {
        max_digits: max,
        terminator,
        first_digit_timeout_ms: 10_000,
        inter_digit_timeout_ms: 5_000,
        overall_timeout_ms: 60_000,
    }
}

// ---- the OCS flow ----

#[test]
fn anonymous_caller_joins_with_conference_id_and_passcode() {
    let mut r = ocs();
    assert_eq!(r.events, vec![Event::CallStarted]);
    let out = r.take();
    assert_eq!(
        plays(&out),
        vec![(vec!["welcome", "enter-conference-id"], true)]
    );

    // The caller types the ID over the welcome: the first key stops it.
    r.press(&format!("{MEETING}#"));
    let out = r.take();
    assert_eq!(out.first(), Some(&Output::StopPlay));
    assert_eq!(out.get(1), Some(&Output::Lookup(Keys::new(MEETING))));
    assert_eq!(out.len(), 2);
    assert_eq!(r.last_event(), &digits(MEETING, CollectEnd::Terminator));

    r.lookup(found(true));
    assert_eq!(plays(&r.take()), vec![(vec!["enter-passcode"], true)]);
    r.finish_play();
    r.press(&format!("{PASSCODE}#"));
    let out = r.take();
    let Some(Output::VerifyPasscode { pstn_id, passcode }) = out.first() else {
        panic!("{out:?}");
    };
    assert_eq!((pstn_id.as_str(), passcode.expose()), (MEETING, PASSCODE));

    r.passcode(PasscodeResult::Accepted);
    let access = Access {
        pstn_id: MEETING.into(),
        via: AccessVia::Passcode,
    };
    assert_eq!(r.take(), vec![Output::RequestAdmission(access.clone())]);
    r.admission(AdmissionState::Admitted);
    let out = r.take();
    assert_eq!(plays(&out), vec![(vec!["joining"], false)]);
    assert_eq!(out.len(), 1, "join waits for `joining` to be heard");
    assert!(!r.d.is_done());
    r.finish_play();
    assert_eq!(r.take(), vec![Output::Join(access)]);
    assert!(r.d.is_done());
    assert_eq!(r.d.stats().ignored_inputs, 0);
    assert_eq!(r.d.stats().ignored_actions, 0);
}

#[test]
fn three_wrong_conference_ids_end_with_goodbye_then_hang_up() {
    let mut r = ocs();
    for _ in 0..3 {
        r.press("12345#");
        assert!(r.take().contains(&Output::Lookup(Keys::new("12345"))));
        r.lookup(ConferenceLookup::NotFound);
    }
    let out = r.take();
    assert_eq!(
        plays(&out),
        vec![(
            vec!["invalid-conference-id", "too-many-attempts", "goodbye"],
            false
        )]
    );
    assert!(!out.contains(&Output::HangUp), "goodbye is heard first");
    r.finish_play();
    assert_eq!(r.take(), vec![Output::HangUp]);
    assert!(r.d.is_done());
    r.press("1");
    r.hangup();
    assert!(r.take().is_empty(), "nothing after the end");
    assert_ne!(r.last_event(), &Event::Hangup);
}

#[test]
fn waiting_caller_is_admitted_when_the_change_arrives_during_a_prompt() {
    let mut r = ocs();
    r.press(&format!("{MEETING}#"));
    r.lookup(found(false));
    r.take();
    r.admission(AdmissionState::WaitingForLeader);
    assert_eq!(plays(&r.take()), vec![(vec!["waiting-for-leader"], false)]);
    // A leader joins while "waiting for leader" still plays: the prompt is cut, the hold
    // comes and the admission with it, without waiting for the prompt's end.
    r.admission(AdmissionState::Admitted);
    let out = r.take();
    assert_eq!(out.first(), Some(&Output::StopPlay));
    assert_eq!(out.get(1), Some(&Output::Hold(HoldKind::Music)));
    assert_eq!(plays(&out), vec![(vec!["admitted"], false)]);
    assert_eq!(r.d.stats().cut_plays, 1);
    r.finish_play();
    let access = Access {
        pstn_id: MEETING.into(),
        via: AccessVia::NoPasscodeRequired,
    };
    assert_eq!(r.take(), vec![Output::Join(access)]);
}

/// Only being let in makes a blocking prompt moot: a move to the lobby during "waiting for the
/// leader" is heard out, then the lobby prompt is cut when the caller is admitted from it.
#[test]
fn only_an_admission_cuts_a_blocking_prompt() {
    let mut r = ocs();
    r.press(&format!("{MEETING}#"));
    r.lookup(found(false));
    r.admission(AdmissionState::WaitingForLeader);
    r.take();
    r.admission(AdmissionState::InLobby);
    assert!(r.take().is_empty(), "the prompt plays on");
    r.finish_play();
    let out = r.take();
    assert_eq!(out.first(), Some(&Output::Hold(HoldKind::Music)));
    assert_eq!(plays(&out), vec![(vec!["in-lobby"], false)]);
    assert_eq!(r.d.stats().cut_plays, 0);
    r.admission(AdmissionState::Admitted);
    let out = r.take();
    assert_eq!(out.first(), Some(&Output::StopPlay));
    assert_eq!(out.get(1), Some(&Output::Hold(HoldKind::Lobby)));
    assert_eq!(plays(&out), vec![(vec!["admitted"], false)]);
    r.finish_plays();
    assert!(matches!(r.take().last(), Some(Output::Join(_))));
    assert_eq!(r.d.stats().cut_plays, 1);
}

#[test]
fn hold_lasts_until_the_focus_admits_from_the_lobby() {
    let mut r = ocs();
    r.press(&format!("{MEETING}#"));
    r.lookup(found(false));
    r.admission(AdmissionState::InLobby);
    r.finish_plays();
    assert!(r.take().contains(&Output::Hold(HoldKind::Lobby)));
    r.wait(3_600_000);
    assert!(r.take().is_empty());
    assert_eq!(r.d.poll_timeout(), None);
    r.admission(AdmissionState::Admitted);
    r.finish_plays();
    assert!(matches!(r.take().last(), Some(Output::Join(_))));
}

// ---- sequencing ----

#[test]
fn plays_without_barge_in_block_the_list_and_plays_queue_in_order() {
    let mut r = Rig::new(
        anonymous(),
        once(vec![
            say(&["a"]),
            say(&["b"]),
            ask(&["c"]),
            ask(&["d"]),
            say(&["e"]),
            Action::Collect(spec(4, Some('#'))),
        ]),
    );
    assert_eq!(plays(&r.take()), vec![(vec!["a"], false)]);
    r.finish_play();
    assert_eq!(plays(&r.take()), vec![(vec!["b"], false)]);
    r.finish_play();
    // Two barge-in plays go out together; `e` waits for them.
    assert_eq!(plays(&r.take()), vec![(vec!["c"], true), (vec!["d"], true)]);
    r.finish_play();
    assert!(r.take().is_empty());
    r.finish_play();
    assert_eq!(plays(&r.take()), vec![(vec!["e"], false)]);
    r.finish_play();
    r.press("12#");
    assert_eq!(r.last_event(), &digits("12", CollectEnd::Terminator));
}

#[test]
fn a_list_that_ends_with_plays_is_answered_when_they_are_over() {
    let mut r = Rig::new(anonymous(), once(vec![ask(&["help"]), say(&["muted"])]));
    assert_eq!(r.events, vec![Event::CallStarted]);
    r.finish_play();
    assert_eq!(r.events, vec![Event::CallStarted]);
    r.finish_play();
    assert_eq!(r.last_event(), &Event::PromptFinished);
}

#[test]
fn a_waiting_action_ends_the_list() {
    let mut r = Rig::new(
        anonymous(),
        once(vec![
            Action::LookupConference(MEETING.into()),
            say(&["never"]),
            Action::HangUp,
        ]),
    );
    assert_eq!(r.take(), vec![Output::Lookup(Keys::new(MEETING))]);
    assert_eq!(r.d.stats().ignored_actions, 2);
    r.lookup(ConferenceLookup::NotFound);
    assert_eq!(
        r.last_event(),
        &Event::Conference(ConferenceLookup::NotFound)
    );
}

#[test]
fn hang_up_after_a_barge_in_play_does_not_wait_for_it() {
    let mut r = Rig::new(anonymous(), once(vec![ask(&["goodbye"]), Action::HangUp]));
    let out = r.take();
    assert_eq!(plays(&out).len(), 1);
    assert_eq!(out.last(), Some(&Output::HangUp));
    assert!(r.d.is_done());
}

#[test]
fn record_name_ends_with_pound() {
    let mut r = Rig::new(anonymous(), once(vec![Action::RecordName(5_000)]));
    assert_eq!(r.take(), vec![Output::Record { max_ms: 5_000 }]);
    r.press("#");
    r.press("#");
    assert_eq!(r.take(), vec![Output::StopRecord]);
    r.d.recorded(1_200, r.now);
    r.pump();
    assert_eq!(r.last_event(), &Event::NameRecorded(1_200));
}

// ---- digit collection ----

#[test]
fn terminator_ends_collection_and_is_not_part_of_the_digits() {
    let mut r = Rig::new(anonymous(), collector(spec(10, Some('#'))));
    r.press("4*2#");
    assert_eq!(r.last_event(), &digits("4*2", CollectEnd::Terminator));
    r.press("#");
    assert_eq!(r.last_event(), &digits("", CollectEnd::Terminator));
}

#[test]
fn max_digits_ends_collection() {
    let mut r = Rig::new(anonymous(), collector(spec(3, Some('#'))));
    r.press("1234");
    assert_eq!(
        r.events[1..],
        [digits("123", CollectEnd::MaxDigits)],
        "the fourth key waits for the next collect"
    );
    r.press("56");
    assert_eq!(r.last_event(), &digits("456", CollectEnd::MaxDigits));
}

#[test]
fn no_key_before_the_first_digit_timeout_is_no_input() {
    let mut r = Rig::new(anonymous(), collector(spec(4, Some('#'))));
    r.wait(9_999);
    assert_eq!(r.events.len(), 1);
    r.wait(1);
    assert_eq!(r.last_event(), &digits("", CollectEnd::NoInput));
    assert_eq!(r.elapsed_ms(), 10_000);
}

#[test]
fn a_long_pause_between_keys_is_an_inter_digit_timeout() {
    let mut r = Rig::new(anonymous(), collector(spec(8, Some('#'))));
    r.wait(2_000);
    r.press("12");
    r.wait(4_999);
    assert_eq!(r.events.len(), 1);
    r.press("3");
    r.wait(5_000);
    assert_eq!(
        r.last_event(),
        &digits("123", CollectEnd::InterDigitTimeout)
    );
}

#[test]
fn a_slow_entry_is_an_overall_timeout() {
    let mut r = Rig::new(
        anonymous(),
        collector(CollectSpec {
            overall_timeout_ms: 12_000,
            ..spec(20, Some('#'))
        }),
    );
    for _ in 0..5 {
        r.press("7");
        r.wait(3_000);
    }
    assert_eq!(r.last_event(), &digits("7777", CollectEnd::OverallTimeout));
    assert_eq!(r.elapsed_ms(), 15_000);
    assert_eq!(r.events.len(), 2);
}

#[test]
fn collection_timers_start_when_the_barge_in_prompt_is_over() {
    let mut r = Rig::new(
        anonymous(),
        once(vec![
            ask(&["enter-conference-id"]),
            Action::Collect(spec(8, Some('#'))),
        ]),
    );
    r.wait(30_000);
    assert_eq!(r.events.len(), 1, "the prompt still plays");
    r.finish_play();
    r.wait(10_000);
    assert_eq!(r.last_event(), &digits("", CollectEnd::NoInput));
}

#[test]
fn a_key_during_a_barge_in_play_stops_it_and_counts() {
    let mut r = Rig::new(
        anonymous(),
        once(vec![
            ask(&["welcome"]),
            ask(&["enter-pin"]),
            Action::Collect(spec(4, None)),
        ]),
    );
    r.take();
    r.press("9");
    assert_eq!(r.take(), vec![Output::StopPlay]);
    r.press("876");
    assert_eq!(r.last_event(), &digits("9876", CollectEnd::MaxDigits));
}

#[test]
fn type_ahead_keys_wait_for_the_next_collect_and_skip_its_prompt() {
    // The one-key leader prompt takes the first key; the rest answers the next collect.
    let mut step = 0;
    let mut r = Rig::new(anonymous(), move |_e: &Event| {
        step += 1;
        match step {
            1 => vec![say(&["welcome"])],
            2 => vec![ask(&["leader-prompt"]), Action::Collect(spec(1, Some('#')))],
            3 => vec![
                ask(&["enter-passcode"]),
                Action::Collect(spec(16, Some('#'))),
            ],
            _ => vec![Action::HangUp],
        }
    });
    // Keys during a play without barge-in do not stop it and are kept.
    r.press("1234#");
    assert_eq!(plays(&r.take()), vec![(vec!["welcome"], false)]);
    r.finish_play();
    assert_eq!(r.events[1], Event::PromptFinished);
    assert_eq!(r.events[2], digits("1", CollectEnd::MaxDigits));
    assert_eq!(r.events[3], digits("234", CollectEnd::Terminator));
    assert!(
        plays(&r.take()).is_empty(),
        "typed-ahead keys skip the barge-in prompts"
    );
}

#[test]
fn keys_pressed_while_the_host_looks_up_are_kept() {
    let mut r = ocs();
    r.press(&format!("{MEETING}#"));
    r.press(PASSCODE);
    r.lookup(found(true));
    r.press("#");
    let out = r.take();
    assert!(plays(&out).iter().all(|(n, _)| n != &["enter-passcode"]));
    assert!(matches!(out.last(), Some(Output::VerifyPasscode { .. })));
    assert_eq!(r.last_event(), &digits(PASSCODE, CollectEnd::Terminator));
}

#[test]
fn the_type_ahead_buffer_is_bounded() {
    let mut r = Rig::new(anonymous(), once(vec![say(&["welcome"])]));
    r.press(&"5".repeat(40));
    assert_eq!(r.d.stats().dropped_keys, 8);
    r.press("x");
    assert_eq!(r.d.stats().ignored_inputs, 1, "not a key");
}

// ---- timers ----

#[test]
fn a_timer_fires_after_its_delay() {
    let mut r = Rig::new(
        anonymous(),
        once(vec![
            Action::StartTimer((7, 2_500)),
            Action::StartTimer((8, 1_000)),
        ]),
    );
    r.wait(999);
    assert_eq!(r.events.len(), 1);
    r.wait(1);
    assert_eq!(r.last_event(), &Event::Timer(8));
    // The plugin answered with nothing: it stays idle while timer 7 is armed.
    r.wait(1_500);
    assert_eq!(r.last_event(), &Event::Timer(7));
    assert_eq!(r.elapsed_ms(), 2_500);
    // Nothing armed, nothing to wait for: the plugin left the call stuck.
    assert!(failed_with(&r.take(), Failure::NothingToWaitFor));
}

#[test]
fn at_most_eight_timers_are_armed_and_rearming_moves_one() {
    let mut actions: Vec<Action> = (0..10).map(|id| Action::StartTimer((id, 1_000))).collect();
    actions.push(Action::StartTimer((0, 500)));
    let mut r = Rig::new(anonymous(), move |e: &Event| match e {
        Event::CallStarted => std::mem::take(&mut actions),
        _ => Vec::new(),
    });
    assert_eq!(r.d.stats().ignored_actions, 2);
    r.wait(500);
    assert_eq!(r.events[1..], [Event::Timer(0)]);
    r.wait(500);
    let fired: Vec<_> = r.events[2..].to_vec();
    assert_eq!(fired, (1..8).map(Event::Timer).collect::<Vec<_>>());
}

#[test]
fn a_timer_waits_for_the_play_to_end_and_interrupts_a_hold() {
    let mut r = Rig::new(anonymous(), {
        let mut n = 0;
        move |_e: &Event| {
            n += 1;
            match n {
                1 => vec![Action::StartTimer((1, 1_000)), say(&["long"])],
                // PromptFinished: hold music while the timer runs.
                2 => vec![
                    Action::StartTimer((2, 30_000)),
                    Action::Hold(HoldKind::Music),
                ],
                _ => vec![say(&["goodbye"]), Action::HangUp],
            }
        }
    });
    r.wait(5_000);
    assert_eq!(r.events.len(), 1, "no timer during a play");
    r.finish_play();
    assert_eq!(r.events[1], Event::PromptFinished);
    assert_eq!(
        r.events[2],
        Event::Timer(1),
        "the overdue timer fires at once"
    );
    assert!(r.take().contains(&Output::Hold(HoldKind::Music)));
    r.finish_plays();
    assert_eq!(r.take(), vec![Output::HangUp]);
}

// ---- language ----

#[test]
fn plays_use_the_first_language_until_the_plugin_sets_another() {
    let mut r = Rig::new(
        anonymous(),
        once(vec![
            ask(&["welcome"]),
            Action::SetLanguage("fr-FR".into()),
            ask(&["enter-conference-id"]),
            Action::SetLanguage("de-DE".into()),
            ask(&["enter-passcode"]),
        ]),
    );
    let langs: Vec<String> = r
        .take()
        .into_iter()
        .filter_map(|o| match o {
            Output::Play { language, .. } => Some(language),
            _ => None,
        })
        .collect();
    assert_eq!(langs, ["en-US", "fr-FR", "fr-FR"]);
    assert_eq!(r.d.language(), "fr-FR");
    assert_eq!(r.d.stats().ignored_actions, 1, "de-DE is not offered");
}

// ---- security ----

/// A plugin that runs `actions` after the conference ID and, from then on, answers every
/// step by popping the next list.
fn scripted(lists: Vec<Vec<Action>>) -> impl FnMut(&Event) -> Vec<Action> {
    let mut lists = lists.into_iter();
    move |_| lists.next().unwrap_or_default()
}

fn refused(out: &[Output], why: Failure) {
    assert!(failed_with(out, why), "{out:?}");
    assert!(
        !out.iter()
            .any(|o| matches!(o, Output::Join(_) | Output::RequestAdmission(_)))
    );
    assert_eq!(plays(out).last(), Some(&(APOLOGY.to_vec(), false)));
}

fn finish_refusal(r: &mut Rig) {
    r.finish_plays();
    assert_eq!(r.take(), vec![Output::HangUp]);
    assert!(r.d.is_done());
}

#[test]
fn join_without_a_found_conference_is_refused() {
    let mut r = Rig::new(anonymous(), scripted(vec![vec![Action::RequestAdmission]]));
    refused(&r.take(), Failure::NoVerifiedAccess);
    assert_eq!(
        Failure::NoVerifiedAccess.as_str(),
        "join without verified access"
    );
    finish_refusal(&mut r);

    let mut r = Rig::new(anonymous(), scripted(vec![vec![Action::Join]]));
    refused(&r.take(), Failure::NoVerifiedAccess);
}

#[test]
fn admission_needs_the_passcode_when_the_conference_requires_one() {
    let mut r = Rig::new(
        anonymous(),
        scripted(vec![
            vec![Action::LookupConference(MEETING.into())],
            vec![Action::RequestAdmission],
        ]),
    );
    r.lookup(found(true));
    refused(&r.take(), Failure::NoVerifiedAccess);
    finish_refusal(&mut r);
}

#[test]
fn a_rejected_passcode_or_an_unknown_conference_gives_no_access() {
    let mut r = Rig::new(
        anonymous(),
        scripted(vec![
            vec![Action::LookupConference(MEETING.into())],
            vec![Action::VerifyPasscode("1111".into())],
            vec![Action::RequestAdmission],
        ]),
    );
    r.lookup(found(true));
    r.passcode(PasscodeResult::Rejected);
    refused(&r.take(), Failure::NoVerifiedAccess);

    let mut r = Rig::new(
        anonymous(),
        scripted(vec![
            vec![Action::LookupConference(MEETING.into())],
            vec![Action::RequestAdmission],
        ]),
    );
    r.lookup(ConferenceLookup::NotFound);
    refused(&r.take(), Failure::NoVerifiedAccess);
}

#[test]
fn a_new_lookup_forgets_the_passcode() {
    let mut r = Rig::new(
        anonymous(),
        scripted(vec![
            vec![Action::LookupConference(MEETING.into())],
            vec![Action::VerifyPasscode(PASSCODE.into())],
            vec![Action::LookupConference("80012348".into())],
            vec![Action::RequestAdmission],
        ]),
    );
    r.lookup(found(true));
    r.passcode(PasscodeResult::Accepted);
    r.lookup(ConferenceLookup::Found(ConferenceSummary {
        pstn_id: "80012348".into(),
        subject: "Other".into(),
        organizer_name: "Bob".into(),
        passcode_required: true,
    }));
    refused(&r.take(), Failure::NoVerifiedAccess);
}

#[test]
fn verify_passcode_before_a_lookup_is_a_protocol_violation() {
    let mut r = Rig::new(
        anonymous(),
        scripted(vec![vec![Action::VerifyPasscode(PASSCODE.into())]]),
    );
    let out = r.take();
    assert!(failed_with(&out, Failure::PasscodeBeforeLookup));
    assert!(
        !out.iter()
            .any(|o| matches!(o, Output::VerifyPasscode { .. }))
    );
    finish_refusal(&mut r);
}

#[test]
fn a_pin_sign_in_or_an_authenticated_phone_gives_access() {
    let alice = user("alice");
    let mut r = Rig::new(
        anonymous(),
        scripted(vec![
            vec![Action::LookupConference(MEETING.into())],
            vec![Action::VerifyPin(("4321".into(), "9999".into()))],
            vec![Action::RequestAdmission],
        ]),
    );
    r.lookup(found(true));
    let out = r.take();
    let Some(Output::VerifyPin { pstn_id, who, pin }) = out.last() else {
        panic!("{out:?}");
    };
    assert_eq!(pstn_id.as_deref(), Some(MEETING));
    assert_eq!((who.expose(), pin.expose()), ("4321", "9999"));
    r.pin(PinResult::Accepted(alice.clone()));
    assert_eq!(
        r.take(),
        vec![Output::RequestAdmission(Access {
            pstn_id: MEETING.into(),
            via: AccessVia::Pin(alice.clone()),
        })]
    );

    let config = DriverConfig::new(vec!["en-US".into()], Caller::User(alice.clone()));
    let mut r = Rig::new(config, FakeOcs::plugin(true));
    r.press(&format!("{MEETING}#"));
    r.lookup(found(true));
    let out = r.take();
    assert_eq!(
        out.last(),
        Some(&Output::RequestAdmission(Access {
            pstn_id: MEETING.into(),
            via: AccessVia::AuthenticatedUser(alice),
        }))
    );
}

#[test]
fn join_needs_the_focus_to_have_admitted_the_caller() {
    let mut r = Rig::new(
        anonymous(),
        scripted(vec![
            vec![Action::LookupConference(MEETING.into())],
            vec![Action::RequestAdmission],
            vec![Action::Join],
        ]),
    );
    r.lookup(found(false));
    assert!(matches!(r.take().last(), Some(Output::RequestAdmission(_))));
    r.admission(AdmissionState::WaitingForLeader);
    refused(&r.take(), Failure::NotAdmitted);
}

#[test]
fn debug_output_never_shows_what_the_caller_typed() {
    let mut r = ocs();
    r.press(&format!("{MEETING}#"));
    r.lookup(found(true));
    r.press("97531#");
    let out = r.take();
    let events: Vec<Output> = r.events.iter().cloned().map(Output::Step).collect();
    let pin = Output::VerifyPin {
        pstn_id: None,
        who: Keys::new("4321"),
        pin: plenum_types::Secret::new("8642"),
    };
    let readback = Output::Play {
        id: PlayId(9),
        items: vec![PromptItem::Digits("55501".into())],
        language: "en-US".into(),
        barge_in: false,
    };
    let lookup = Output::Lookup(Keys::new("31415926"));
    let text = format!(
        "{out:?} {events:?} {pin:?} {readback:?} {lookup:?} {:?}",
        r.d
    );
    for secret in ["97531", "4321", "8642", "55501", "31415926"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("VerifyPasscode"));
}

// ---- a bad plugin ----

#[test]
fn a_step_with_nothing_to_do_hangs_up_politely() {
    let mut r = Rig::new(anonymous(), once(Vec::new()));
    let out = r.take();
    assert_eq!(
        out.first(),
        Some(&Output::Failed(Failure::NothingToWaitFor))
    );
    assert_eq!(plays(&out), vec![(APOLOGY.to_vec(), false)]);
    finish_refusal(&mut r);
}

#[test]
fn a_plugin_that_never_ends_is_stopped_at_the_step_limit() {
    let mut r = Rig::new(anonymous(), |_e: &Event| vec![say(&["help"])]);
    for _ in 0..250 {
        r.finish_play();
        if r.d.stats().steps >= 200 {
            break;
        }
    }
    r.finish_play();
    let out = r.take();
    assert!(failed_with(&out, Failure::StepLimit));
    assert_eq!(r.d.stats().steps, 200);
    finish_refusal(&mut r);
    assert_eq!(r.events.len(), 200);
}

#[test]
fn too_many_actions_in_one_step_are_refused() {
    let config = DriverConfig {
        limits: Limits {
            max_actions_per_step: 4,
            ..Limits::default()
        },
        ..anonymous()
    };
    let mut r = Rig::new(config, once(vec![say(&["a"]); 5]));
    let out = r.take();
    assert_eq!(out.first(), Some(&Output::Failed(Failure::TooManyActions)));
    assert_eq!(plays(&out).len(), 1, "only the apology plays");
}

#[test]
fn a_failed_plugin_call_apologises_and_hangs_up() {
    let now = Instant::now();
    let mut d = AttendantDriver::new(anonymous(), now);
    assert_eq!(d.poll_output(), Some(Output::Step(Event::CallStarted)));
    d.step_done(Err(StepFailed), now);
    assert_eq!(d.poll_output(), Some(Output::Failed(Failure::PluginFailed)));
    let Some(Output::Play { id, items, .. }) = d.poll_output() else {
        panic!()
    };
    assert_eq!(names(&items), APOLOGY);
    assert_eq!(d.poll_output(), None);
    // The caller hangs up during the apology: the failed plugin is not called again.
    d.hangup(now);
    assert_eq!(d.poll_output(), None);
    assert!(d.is_done());
    d.play_finished(id, now);
    assert_eq!(d.poll_output(), None);
}

#[test]
fn answers_to_nothing_pending_are_ignored_and_counted() {
    let mut r = ocs();
    r.take();
    r.passcode(PasscodeResult::Accepted);
    r.lookup(found(false));
    r.pin(PinResult::Accepted(user("mallory")));
    r.admission(AdmissionState::Admitted);
    r.d.recorded(100, r.now);
    r.d.play_finished(PlayId(99), r.now);
    r.d.step_done(
        Ok(StepResult {
            state: Vec::new(),
            actions: vec![Action::Join],
        }),
        r.now,
    );
    r.pump();
    assert!(r.take().is_empty());
    assert_eq!(r.events, vec![Event::CallStarted]);
    assert_eq!(r.d.stats().ignored_inputs, 7);
    // The flow goes on as if nothing happened, and the forged answers gave no access.
    r.press(&format!("{MEETING}#"));
    r.lookup(found(true));
    r.press("0000#");
    r.passcode(PasscodeResult::Rejected);
    assert!(
        !r.take()
            .iter()
            .any(|o| matches!(o, Output::RequestAdmission(_)))
    );
}

// ---- hang-up ----

#[test]
fn hangup_gives_the_plugin_one_last_step_and_ignores_its_actions() {
    let mut r = ocs();
    r.press("123");
    r.take();
    r.hangup();
    assert_eq!(r.last_event(), &Event::Hangup);
    assert_eq!(r.events.iter().filter(|e| **e == Event::Hangup).count(), 1);
    // FakeOcs answers the hang-up with a goodbye and HangUp: both ignored.
    assert!(r.take().is_empty());
    assert!(r.d.is_done());
    r.press("4");
    r.hangup();
    r.lookup(found(false));
    r.wait(120_000);
    assert!(r.take().is_empty());
    assert_eq!(r.events.iter().filter(|e| **e == Event::Hangup).count(), 1);
    assert_eq!(r.d.poll_timeout(), None);
}

#[test]
fn hangup_during_a_step_waits_for_it_before_the_last_step() {
    let now = Instant::now();
    let mut d = AttendantDriver::new(anonymous(), now);
    assert_eq!(d.poll_output(), Some(Output::Step(Event::CallStarted)));
    d.hangup(now);
    assert_eq!(d.poll_output(), None, "one plugin call at a time");
    d.step_done(
        Ok(StepResult {
            state: Vec::new(),
            actions: vec![ask(&["welcome"]), Action::Collect(spec(4, None))],
        }),
        now,
    );
    assert_eq!(d.poll_output(), Some(Output::Step(Event::Hangup)));
    assert_eq!(d.poll_output(), None);
    assert!(d.is_done());
    d.step_done(Err(StepFailed), now);
    assert_eq!(d.poll_output(), None);
}

#[test]
fn hangup_before_the_first_step_is_sent_replaces_it() {
    let now = Instant::now();
    let mut d = AttendantDriver::new(anonymous(), now);
    d.hangup(now);
    assert_eq!(d.poll_output(), Some(Output::Step(Event::Hangup)));
    assert_eq!(d.poll_output(), None);
    assert!(d.is_done());
}

// ---- determinism ----

/// One busy call: barge-in, type-ahead, a wrong passcode, a timeout, hold, join.
fn busy_call(t0: Instant) -> (Vec<Event>, Vec<Output>, u128) {
    let mut r = Rig::at(t0, anonymous(), FakeOcs::plugin(false));
    r.wait(1_200);
    r.press("7001");
    r.wait(2_000);
    r.press("2349#11");
    r.lookup(found(true));
    r.wait(6_000);
    r.press("#");
    r.passcode(PasscodeResult::Rejected);
    r.wait(10_000);
    r.finish_plays();
    r.wait(10_000);
    r.press(&format!("{PASSCODE}#"));
    r.passcode(PasscodeResult::Accepted);
    r.admission(AdmissionState::WaitingForLeader);
    r.wait(45_000);
    r.finish_plays();
    r.admission(AdmissionState::Admitted);
    r.finish_plays();
    assert!(r.d.is_done());
    let out = r.take();
    let ms = r.elapsed_ms();
    (r.events, out, ms)
}

#[test]
fn the_driver_is_deterministic() {
    let t0 = Instant::now();
    let a = busy_call(t0);
    let b = busy_call(t0 + Duration::from_secs(3_600));
    assert_eq!(a, b);
    assert!(a.0.contains(&Event::Passcode(PasscodeResult::Rejected)));
    assert!(a.1.iter().any(|o| matches!(o, Output::Join(_))));
}
