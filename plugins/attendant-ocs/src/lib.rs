//! The bundled Conferencing Attendant, after OCS 2007 R2 dial-in conferencing (c3p.md §4.2).
//!
//! What a caller hears, as a step function over the attendant's own state ([`state::Call`]):
//!
//! 1. **Welcome** in the access number's primary language. If the number has several
//!    languages, a **language menu** follows ("for English press 1", each option in its own
//!    language); one key picks the language (`set-language`). A wrong key or silence asks again;
//!    after three tries the primary language is used.
//! 2. **Conference ID**, ended with `#`, looked up by the host (`lookup-conference`, which also
//!    checks the Luhn check digit). A bad check digit, an unknown ID, a non-digit entry or
//!    silence is a failed try: "invalid conference ID" (or "no input") and the question again;
//!    after `conference-id-attempts` tries: "too many attempts", "goodbye", hang up.
//! 3. An authenticated **SIP phone** (`caller = user`) is asked nothing more: admission (6).
//! 4. Anonymous callers hear the **leader prompt** ("if you are the leader press `*`, otherwise
//!    enter the passcode followed by `#`"):
//!    - `*` starts the **enterprise path**: extension or full number (`#`), PIN (`#`),
//!      `verify-pin`. Accepted: admission (6), no passcode, no name. Rejected: "invalid PIN" and
//!      the extension again, up to `pin-attempts` tries; then the passcode path if the meeting
//!      has a passcode, else goodbye. Locked: "PIN locked", then the passcode path. Not allowed
//!      (policy): the passcode path.
//!    - otherwise the keys are the **passcode** (when the meeting has one), checked with
//!      `verify-passcode`. Wrong or silent: "invalid passcode" (or "no input") and the leader
//!      prompt again, up to `passcode-attempts` tries; then goodbye. A meeting without passcode
//!      takes `#` (or anything, or silence) as "continue as a guest".
//!    - The passcode path after the PIN path asks "enter the passcode" without the leader option.
//! 5. Anonymous callers **record their name** when the policy asks (`name-recording`): "say your
//!    name after the tone", `record-name` (5 s); a recording is played back ("your name was
//!    recorded as …").
//! 6. **Admission** (`request-admission`): admitted → "joining", `join`; waiting for a leader →
//!    "waiting for leader" and hold music; lobby → "in lobby" and the lobby; a later admission →
//!    "admitted", `join`; denied or timed out → "denied", "goodbye", hang up.
//!
//! A hang-up ends the call with no actions. A state that does not decode (another plugin's or
//! version's, or garbage) starts the call over from the welcome. An event a phase does not
//! expect (the host never sends one) asks the current question again; while waiting for the
//! host it ends the call with "technical difficulty"; a joined or holding caller is left alone.

pub mod canaries;
pub mod flow;
pub mod prompts;
pub mod state;

use plenum_sdk::prelude::*;

use crate::flow::Flow;
use crate::state::Call;

/// The plugin.
pub struct OcsAttendant;

impl Attendant for OcsAttendant {
    fn info() -> PluginInfo {
        plenum_sdk::plugin_info!(
            "OCS 2007 R2-style Conferencing Attendant: conference ID, passcode or extension + PIN"
        )
    }

    fn canaries() -> Vec<AttendantCanary> {
        canaries::all()
    }

    fn step(call: CallInfo, state: Vec<u8>, event: Event) -> Result<StepResult, PluginError> {
        Ok(step(&call, &state, event))
    }
}

plenum_sdk::export_attendant!(OcsAttendant);

/// One step of the flow.
pub fn step(call: &CallInfo, state: &[u8], event: Event) -> StepResult {
    if event == Event::Hangup {
        return StepResult {
            state: Vec::new(),
            actions: Vec::new(),
        };
    }
    let flow = Flow::new(call);
    let (next, actions) = match (event, Call::decode(state)) {
        (Event::CallStarted, _) => flow.start(),
        (event, Ok(s)) => flow.on(s, event),
        (event, Err(_)) => {
            plenum_sdk::log::warn(&format!(
                "attendant-ocs: state does not decode at `{event}`; starting over"
            ));
            plenum_sdk::log::counter_add("state-restart", 1);
            flow.start()
        }
    };
    StepResult {
        state: next.encode(),
        actions,
    }
}

#[cfg(test)]
mod tests;
