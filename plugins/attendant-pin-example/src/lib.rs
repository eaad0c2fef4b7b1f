//! # A custom dial-in IVR, written against the Plenum SDK
//!
//! This crate is a tutorial: a complete attendant plugin, small enough to read in one sitting.
//! It is a *PIN-only* attendant for a tenant that does not want anonymous callers:
//!
//! 1. Welcome, and a language menu when the access number has several languages.
//! 2. The conference ID, ended with `#`.
//! 3. The caller's extension (or full phone number) and PIN, each ended with `#`. There is no
//!    passcode path and no name recording: whoever cannot sign in cannot join.
//! 4. Admission: join, or wait on hold / in the lobby until the host admits the caller.
//!
//! Callers on authenticated SIP phones skip step 3: the phone already said who they are.
//!
//! ## How an attendant works
//!
//! The host owns the call (audio, keys, timers); the plugin only decides. Each time something
//! happens the host calls [`Attendant::step`] with
//! - the facts of the call ([`CallInfo`]: access number, languages, caller, try limits),
//! - the bytes this plugin returned last time (empty on the first step), and
//! - the [`Event`] (the call started, digits were collected, a lookup answered, ...).
//!
//! The plugin returns new bytes and a list of [`Action`]s. The host runs them in order and
//! answers the first one that waits (`collect`, `lookup-conference`, `verify-pin`,
//! `request-admission`, `hold`) with the next event. So the plugin is a plain state machine:
//! `(state, event) -> (state, actions)`, with the state written to bytes in between. Because
//! the state is bytes kept by the host, a call survives the plugin being swapped for a new
//! version between two steps; a state the new version cannot read should start the call over.
//!
//! Security stays with the host: it checks the PIN, remembers which meeting was found, and
//! refuses `request-admission` unless the caller signed in. A plugin cannot talk its way in.
//!
//! ## Testing
//!
//! The tests at the bottom run the plugin natively with the SDK's harness: its own canaries
//! (the scripted calls the host replays at upload), then whole calls written as scripts
//! (`press 70012349#`, `silence`, `hangup`, ...). See README.md for building and deploying.

use plenum_sdk::prelude::*;

// ---------------------------------------------------------------------------------------------
// The plugin type and its entry points.
// ---------------------------------------------------------------------------------------------

/// The plugin: a type that implements [`Attendant`], exported with one macro.
pub struct PinAttendant;

impl Attendant for PinAttendant {
    /// Name and version come from Cargo.toml; the description is ours.
    fn info() -> PluginInfo {
        plenum_sdk::plugin_info!("Example IVR: conference ID, then extension + PIN only")
    }

    /// Scripted calls the host replays when the plugin is uploaded; a plugin that fails its own
    /// canaries is refused, so a broken build never reaches a caller.
    fn canaries() -> Vec<AttendantCanary> {
        canaries()
    }

    /// One step. We never fail on purpose: anything unexpected ends the call politely.
    fn step(call: CallInfo, state: Vec<u8>, event: Event) -> Result<StepResult, PluginError> {
        let (next, actions) = step(&call, &state, event);
        Ok(StepResult {
            state: next.encode(),
            actions,
        })
    }
}

// Makes `PinAttendant` the component's `attendant` world when built for wasm32-wasip2
// (and does nothing in native builds, where the tests call it directly).
plenum_sdk::export_attendant!(PinAttendant);

// ---------------------------------------------------------------------------------------------
// The state kept between steps.
// ---------------------------------------------------------------------------------------------

/// Where the call is. Every variant is a question we asked and await an answer to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    /// The language menu was played; waiting for one key.
    Language,
    /// Waiting for the conference ID.
    ConferenceId,
    /// Waiting for the host to look the ID up.
    Lookup,
    /// Waiting for the extension.
    Extension,
    /// Waiting for the PIN; we remember the extension typed before it.
    Pin(String),
    /// Waiting for the host to check extension + PIN.
    VerifyPin,
    /// Waiting for admission (or on hold / in the lobby).
    Admission,
    /// The call is over (joined or hung up).
    Done,
}

/// The whole state: the stage and the failed tries of the current question.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    stage: Stage,
    tries: u8,
}

/// A version byte first, so that bytes written by another plugin (or a future layout of this
/// one) are recognised as foreign instead of being misread.
const STATE_VERSION: u8 = 1;

impl State {
    fn new(stage: Stage) -> State {
        State { stage, tries: 0 }
    }

    /// Write the state with the SDK's small codec.
    fn encode(&self) -> Vec<u8> {
        let (tag, extension) = match &self.stage {
            Stage::Language => (0, None),
            Stage::ConferenceId => (1, None),
            Stage::Lookup => (2, None),
            Stage::Extension => (3, None),
            Stage::Pin(ext) => (4, Some(ext.as_str())),
            Stage::VerifyPin => (5, None),
            Stage::Admission => (6, None),
            Stage::Done => (7, None),
        };
        Encoder::new()
            .u8(STATE_VERSION)
            .u8(tag)
            .u8(self.tries)
            .opt_str(extension)
            .finish()
    }

    /// Read it back. `None` for anything we did not write: the caller then starts over.
    fn decode(bytes: &[u8]) -> Option<State> {
        let mut d = Decoder::new(bytes);
        if d.u8().ok()? != STATE_VERSION {
            return None;
        }
        let (tag, tries, extension) = (d.u8().ok()?, d.u8().ok()?, d.opt_str().ok()?);
        let stage = match (tag, extension) {
            (0, None) => Stage::Language,
            (1, None) => Stage::ConferenceId,
            (2, None) => Stage::Lookup,
            (3, None) => Stage::Extension,
            (4, Some(ext)) => Stage::Pin(ext),
            (5, None) => Stage::VerifyPin,
            (6, None) => Stage::Admission,
            (7, None) => Stage::Done,
            _ => return None,
        };
        d.is_empty().then_some(State { stage, tries })
    }
}

// ---------------------------------------------------------------------------------------------
// The flow.
// ---------------------------------------------------------------------------------------------

/// What a step returns before encoding: the next state and the actions.
type Next = (State, Vec<Action>);

/// Route an event to the handler of the current stage.
fn step(call: &CallInfo, bytes: &[u8], event: Event) -> Next {
    // The caller hung up: the host ignores actions now, so return none.
    if event == Event::Hangup {
        return (State::new(Stage::Done), Vec::new());
    }
    // The first step (or a state we cannot read): welcome the caller.
    let state = match (&event, State::decode(bytes)) {
        (Event::CallStarted, _) | (_, None) => return welcome(call),
        (_, Some(state)) => state,
    };
    match (state.stage.clone(), event) {
        (Stage::Language, Event::Digits(keys)) => language(call, state, &keys),
        (Stage::ConferenceId, Event::Digits(keys)) => conference_id(call, state, keys),
        (Stage::Lookup, Event::Conference(found)) => looked_up(call, state, &found),
        (Stage::Extension, Event::Digits(keys)) => extension(call, state, keys),
        (Stage::Pin(ext), Event::Digits(keys)) => pin(call, state, ext, keys),
        (Stage::VerifyPin, Event::Pin(result)) => pin_checked(call, state, &result),
        (Stage::Admission, Event::Admission(admission)) => admitted(admission),
        // A caller who joined or waits for admission is left alone whatever else arrives.
        (Stage::Admission | Stage::Done, _) => (state, Vec::new()),
        // Nothing else should arrive; if it does, apologise and end the call.
        _ => finish(&["technical-difficulty", "goodbye"]),
    }
}

/// Welcome; the language menu if the number has several languages, else the first question.
fn welcome(call: &CallInfo) -> Next {
    let languages = &call.access_number.languages;
    if languages.len() < 2 {
        return ask(
            State::new(Stage::ConferenceId),
            &["welcome", "enter-conference-id"],
            id_keys(),
        );
    }
    // "For English press 1", "Für Deutsch drücken Sie 2", ...: each option in its own language.
    let mut items = vec![PromptItem::Prompt("welcome".into())];
    for (i, lang) in languages.iter().take(9).enumerate() {
        items.push(PromptItem::Localized((
            lang.clone(),
            "language-option".into(),
        )));
        items.push(PromptItem::Digits((i + 1).to_string()));
    }
    let play = Action::Play(PlaySpec {
        items,
        barge_in: true,
    });
    let one_key = CollectSpec {
        terminator: None,
        ..CollectSpec::hash_terminated(1)
    };
    (
        State::new(Stage::Language),
        vec![play, Action::Collect(one_key)],
    )
}

/// The language key: set the language, then ask for the conference ID. A wrong key or
/// silence keeps the primary language rather than losing the caller.
fn language(call: &CallInfo, _state: State, keys: &Collected) -> Next {
    let languages = &call.access_number.languages;
    let index = keys
        .digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1));
    let chosen = index.and_then(|i| languages.get(i)).or(languages.first());
    let mut actions: Vec<Action> = chosen
        .map(|l| Action::SetLanguage(l.clone()))
        .into_iter()
        .collect();
    let (state, asked) = ask(
        State::new(Stage::ConferenceId),
        &["enter-conference-id"],
        id_keys(),
    );
    actions.extend(asked);
    (state, actions)
}

/// The conference ID: let the host look it up (it checks the check digit too).
fn conference_id(call: &CallInfo, state: State, keys: Collected) -> Next {
    if !is_digits(&keys.digits) {
        return retry_id(call, state);
    }
    (
        State::new(Stage::Lookup),
        vec![Action::LookupConference(keys.digits)],
    )
}

/// The lookup's answer: found → sign in (or, for a SIP phone, straight to admission).
fn looked_up(call: &CallInfo, state: State, found: &ConferenceLookup) -> Next {
    if !matches!(found, ConferenceLookup::Found(_)) {
        return retry_id(call, state);
    }
    match call.caller {
        Caller::User(_) => (State::new(Stage::Admission), vec![Action::RequestAdmission]),
        Caller::Anonymous => ask(
            State::new(Stage::Extension),
            &["enter-extension"],
            pin_keys(),
        ),
    }
}

/// A wrong or missing conference ID: try again, up to the policy's limit.
fn retry_id(call: &CallInfo, state: State) -> Next {
    let tries = state.tries.saturating_add(1);
    if tries >= call.options.conference_id_attempts.max(1) {
        return finish(&["invalid-conference-id", "too-many-attempts", "goodbye"]);
    }
    let state = State {
        stage: Stage::ConferenceId,
        tries,
    };
    ask(
        state,
        &["invalid-conference-id", "enter-conference-id"],
        id_keys(),
    )
}

/// The extension (or full number): remember it and ask for the PIN.
fn extension(call: &CallInfo, state: State, keys: Collected) -> Next {
    if !is_digits(&keys.digits) {
        return retry_pin(call, state);
    }
    let state = State {
        stage: Stage::Pin(keys.digits),
        tries: state.tries,
    };
    ask(state, &["enter-pin"], pin_keys())
}

/// The PIN: let the host check extension + PIN (and count failures for lockout).
fn pin(call: &CallInfo, state: State, extension: String, keys: Collected) -> Next {
    if !is_digits(&keys.digits) {
        return retry_pin(call, state);
    }
    let state = State {
        stage: Stage::VerifyPin,
        tries: state.tries,
    };
    (state, vec![Action::VerifyPin((extension, keys.digits))])
}

/// The host's verdict on extension + PIN.
fn pin_checked(call: &CallInfo, state: State, result: &PinResult) -> Next {
    match result {
        PinResult::Accepted(_) => (State::new(Stage::Admission), vec![Action::RequestAdmission]),
        PinResult::Rejected => retry_pin(call, state),
        // No passcode path in this IVR: a locked or barred user cannot join by phone.
        PinResult::Locked => finish(&["pin-locked", "goodbye"]),
        PinResult::NotAllowed => finish(&["denied", "goodbye"]),
    }
}

/// A wrong PIN (or nothing typed): extension and PIN again, up to the policy's limit.
fn retry_pin(call: &CallInfo, state: State) -> Next {
    let tries = state.tries.saturating_add(1);
    if tries >= call.options.pin_attempts.max(1) {
        return finish(&["invalid-pin", "too-many-attempts", "goodbye"]);
    }
    let state = State {
        stage: Stage::Extension,
        tries,
    };
    ask(state, &["invalid-pin", "enter-extension"], pin_keys())
}

/// Admission: join, wait, or goodbye. While waiting we stay in `Admission`; the host sends the
/// next change as another `admission` event.
fn admitted(admission: AdmissionState) -> Next {
    let waiting = State::new(Stage::Admission);
    match admission {
        AdmissionState::Admitted => (
            State::new(Stage::Done),
            vec![say(&["joining"]), Action::Join],
        ),
        AdmissionState::WaitingForLeader => (
            waiting,
            vec![say(&["waiting-for-leader"]), Action::Hold(HoldKind::Music)],
        ),
        AdmissionState::InLobby => (
            waiting,
            vec![say(&["in-lobby"]), Action::Hold(HoldKind::Lobby)],
        ),
        AdmissionState::Denied | AdmissionState::TimedOut => finish(&["denied", "goodbye"]),
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers. Every prompt name must be in the host's catalogue, `PROMPTS`.
// ---------------------------------------------------------------------------------------------

/// Play `prompts` (a key press interrupts them) and collect keys with `keys`.
fn ask(state: State, prompts: &[&str], keys: CollectSpec) -> Next {
    (
        state,
        vec![Action::play(prompts, true), Action::Collect(keys)],
    )
}

/// Prompts the caller hears out.
fn say(prompts: &[&str]) -> Action {
    Action::play(prompts, false)
}

/// Say `prompts` and hang up.
fn finish(prompts: &[&str]) -> Next {
    (State::new(Stage::Done), vec![say(prompts), Action::HangUp])
}

/// A conference ID: up to 20 digits, `#` ends, OCS's timeouts.
fn id_keys() -> CollectSpec {
    CollectSpec::hash_terminated(20)
}

/// An extension, number or PIN: up to 24 digits, `#` ends.
fn pin_keys() -> CollectSpec {
    CollectSpec::hash_terminated(24)
}

/// Non-empty and only `0`–`9` (a `*` or nothing typed is a failed try).
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Canaries: short scripted calls from the SDK's demo facts. Each step gives an event and the
// exact actions the plugin must answer with.
// ---------------------------------------------------------------------------------------------

fn canaries() -> Vec<AttendantCanary> {
    use plenum_sdk::harness::demo;
    let id = pstn::with_check_digit("7001234").unwrap_or_default();
    let typed = |d: &str| {
        Event::Digits(Collected {
            digits: d.into(),
            end: CollectEnd::Terminator,
        })
    };
    let found = Event::Conference(ConferenceLookup::Found(ConferenceSummary {
        pstn_id: id.clone(),
        subject: "Meeting".into(),
        organizer_name: "Alice".into(),
        passcode_required: true,
    }));
    let step = |event, expect| CanaryStep { event, expect };
    let ask = |p: &[&str], keys| vec![Action::play(p, true), Action::Collect(keys)];
    let signed_in = vec![
        step(
            Event::CallStarted,
            ask(&["welcome", "enter-conference-id"], id_keys()),
        ),
        step(typed(&id), vec![Action::LookupConference(id.clone())]),
        step(found, ask(&["enter-extension"], pin_keys())),
        step(typed("0100"), ask(&["enter-pin"], pin_keys())),
        step(
            typed("13579"),
            vec![Action::VerifyPin(("0100".into(), "13579".into()))],
        ),
    ];
    let mut joins = signed_in.clone();
    joins.extend([
        step(
            Event::Pin(PinResult::Accepted(UserInfo {
                uri: "sip:alice@contoso.example".into(),
                display_name: "Alice".into(),
            })),
            vec![Action::RequestAdmission],
        ),
        step(
            Event::Admission(AdmissionState::Admitted),
            vec![say(&["joining"]), Action::Join],
        ),
    ]);
    let mut locked = signed_in;
    locked.push(step(
        Event::Pin(PinResult::Locked),
        vec![say(&["pin-locked", "goodbye"]), Action::HangUp],
    ));
    vec![
        AttendantCanary {
            name: "user signs in and joins".into(),
            call: demo::call(demo::london_number()),
            steps: joins,
        },
        AttendantCanary {
            name: "locked PIN".into(),
            call: demo::call(demo::london_number()),
            steps: locked,
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Tests: run natively with `cargo test`.
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use plenum_sdk::harness::script::{Outcome, Script, Transcript, run};
    use plenum_sdk::harness::{self, Native};

    /// Run a script against the plugin; `{id}` stands for the demo meeting's ID.
    fn call(script: &str) -> Transcript {
        let id = pstn::with_check_digit("7001234").unwrap_or_default();
        let script = Script::parse(&script.replace("{id}", &id)).expect("the script parses");
        run(&mut Native::<PinAttendant>::new(), &script)
    }

    #[test]
    fn own_canaries_pass() {
        assert_eq!(
            harness::check_attendant(&mut Native::<PinAttendant>::new()),
            Ok(2)
        );
    }

    #[test]
    fn user_picks_a_language_signs_in_and_joins() {
        let t = call(
            "meeting {id} passcode=2468
             user 0100 pin=13579 uri=sip:alice@contoso.example
             press 2
             press {id}#
             press 0100#
             press 13579#",
        );
        assert_eq!(
            t.outcome,
            Outcome::Joined {
                meeting: "70012349".into(),
                user: Some("sip:alice@contoso.example".into())
            },
            "{t}"
        );
        assert!(t.actions().contains(&"set-language de-DE"), "{t}");
        // No passcode, no name recording in this IVR.
        assert!(
            !t.actions()
                .iter()
                .any(|a| a.starts_with("verify-passcode") || a.starts_with("record-name")),
            "{t}"
        );
    }

    #[test]
    fn three_wrong_pins_end_the_call() {
        let t = call(
            "call to=+442075550100
             meeting {id} passcode=2468
             user 0100 pin=13579 uri=sip:alice@contoso.example
             press {id}#
             press 0100#
             press 11111#
             press 0100#
             press 22222#
             press 0100#
             press 33333#",
        );
        assert_eq!(t.outcome, Outcome::HungUp, "{t}");
        assert_eq!(
            t.actions()
                .iter()
                .filter(|a| a.starts_with("verify-pin"))
                .count(),
            3,
            "{t}"
        );
    }

    #[test]
    fn sip_phone_only_gives_the_id() {
        let t =
            call("call to=+442075550100 user=sip:bob@contoso.example\nmeeting {id}\npress {id}#");
        assert_eq!(
            t.outcome,
            Outcome::Joined {
                meeting: "70012349".into(),
                user: Some("sip:bob@contoso.example".into())
            },
            "{t}"
        );
    }

    #[test]
    fn silence_is_a_failed_try() {
        let t = call("call to=+442075550100\nmeeting {id}\nsilence\nsilence\nsilence");
        assert_eq!(t.outcome, Outcome::HungUp, "{t}");
    }

    #[test]
    fn an_unreadable_state_starts_over() {
        let call = plenum_sdk::harness::demo::call(plenum_sdk::harness::demo::london_number());
        let keys = Event::Digits(Collected {
            digits: "1".into(),
            end: CollectEnd::MaxDigits,
        });
        assert_eq!(step(&call, b"not ours", keys), welcome(&call));
    }

    #[test]
    fn state_round_trips() {
        for stage in [Stage::Language, Stage::Pin("0100".into()), Stage::Done] {
            let s = State { stage, tries: 2 };
            assert_eq!(State::decode(&s.encode()), Some(s));
        }
    }
}
