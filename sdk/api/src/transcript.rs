//! One-line renderings of attendant events and actions, for transcripts, canary reports and
//! logs. Digits a caller types are shown as typed: transcripts are a test tool, not a log of
//! production calls (the host redacts before it logs).

use std::fmt::{self, Display, Formatter};

use crate::attendant::{
    Action, AdmissionState, CollectEnd, ConferenceLookup, Event, HoldKind, PasscodeResult,
    PinResult, PromptItem,
};

impl Display for Event {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Event::CallStarted => f.write_str("call-started"),
            Event::PromptFinished => f.write_str("prompt-finished"),
            Event::Hangup => f.write_str("hangup"),
            Event::Digits(c) => write!(f, "digits \"{}\" ({})", c.digits, c.end),
            Event::Conference(ConferenceLookup::Found(s)) => {
                write!(
                    f,
                    "conference found {} passcode-required={}",
                    s.pstn_id, s.passcode_required
                )
            }
            Event::Conference(ConferenceLookup::NotFound) => f.write_str("conference not-found"),
            Event::Conference(ConferenceLookup::BadCheckDigit) => {
                f.write_str("conference bad-check-digit")
            }
            Event::Passcode(PasscodeResult::Accepted) => f.write_str("passcode accepted"),
            Event::Passcode(PasscodeResult::Rejected) => f.write_str("passcode rejected"),
            Event::Pin(PinResult::Accepted(u)) => write!(f, "pin accepted {}", u.uri),
            Event::Pin(PinResult::Rejected) => f.write_str("pin rejected"),
            Event::Pin(PinResult::Locked) => f.write_str("pin locked"),
            Event::Pin(PinResult::NotAllowed) => f.write_str("pin not-allowed"),
            Event::NameRecorded(ms) => write!(f, "name-recorded {ms}ms"),
            Event::Admission(a) => write!(f, "admission {a}"),
            Event::Timer(id) => write!(f, "timer {id}"),
        }
    }
}

impl Display for CollectEnd {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CollectEnd::Terminator => "terminator",
            CollectEnd::MaxDigits => "max-digits",
            CollectEnd::NoInput => "no-input",
            CollectEnd::InterDigitTimeout => "inter-digit-timeout",
            CollectEnd::OverallTimeout => "overall-timeout",
        })
    }
}

impl Display for AdmissionState {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AdmissionState::Admitted => "admitted",
            AdmissionState::WaitingForLeader => "waiting-for-leader",
            AdmissionState::InLobby => "in-lobby",
            AdmissionState::Denied => "denied",
            AdmissionState::TimedOut => "timed-out",
        })
    }
}

impl Display for PromptItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PromptItem::RecordedName => f.write_str("<recorded-name>"),
            PromptItem::Prompt(p) => f.write_str(p),
            PromptItem::Digits(d) => write!(f, "<digits {d}>"),
            PromptItem::Number(n) => write!(f, "<number {n}>"),
            PromptItem::Silence(ms) => write!(f, "<silence {ms}ms>"),
            PromptItem::Localized((lang, p)) => write!(f, "{p}@{lang}"),
        }
    }
}

impl Display for Action {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Action::RequestAdmission => f.write_str("request-admission"),
            Action::Join => f.write_str("join"),
            Action::HangUp => f.write_str("hang-up"),
            Action::Play(p) => {
                f.write_str("play [")?;
                for (i, item) in p.items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")?;
                if p.barge_in {
                    f.write_str(" barge-in")?;
                }
                Ok(())
            }
            Action::Collect(c) => {
                write!(f, "collect max={}", c.max_digits)?;
                if let Some(t) = c.terminator {
                    write!(f, " until '{t}'")?;
                }
                write!(
                    f,
                    " timeouts={}/{}/{}ms",
                    c.first_digit_timeout_ms, c.inter_digit_timeout_ms, c.overall_timeout_ms
                )
            }
            Action::SetLanguage(l) => write!(f, "set-language {l}"),
            Action::LookupConference(id) => write!(f, "lookup-conference {id}"),
            Action::VerifyPasscode(p) => write!(f, "verify-passcode {p}"),
            Action::VerifyPin((who, pin)) => write!(f, "verify-pin {who} {pin}"),
            Action::RecordName(ms) => write!(f, "record-name max={ms}ms"),
            Action::Hold(HoldKind::Music) => f.write_str("hold music"),
            Action::Hold(HoldKind::Lobby) => f.write_str("hold lobby"),
            Action::StartTimer((id, ms)) => write!(f, "start-timer {id} {ms}ms"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attendant::{CollectSpec, Collected};

    #[test]
    fn renders_actions_and_events() {
        let a = Action::play(&["welcome", "enter-conference-id"], true);
        assert_eq!(
            a.to_string(),
            "play [welcome, enter-conference-id] barge-in"
        );
        let c = Action::Collect(CollectSpec::hash_terminated(12));
        assert_eq!(
            c.to_string(),
            "collect max=12 until '#' timeouts=10000/5000/60000ms"
        );
        let e = Event::Digits(Collected {
            digits: "123".into(),
            end: CollectEnd::Terminator,
        });
        assert_eq!(e.to_string(), "digits \"123\" (terminator)");
    }
}
