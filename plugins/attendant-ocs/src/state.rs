//! The attendant's state between steps, and its byte encoding.
//!
//! The host keeps the bytes; they start with a magic byte and a format version so that a
//! state from another plugin (or another version of this one) does not decode and the call
//! starts over instead of being misread.

use plenum_sdk::state::{Decoder, Encoder, StateError};

/// First byte of every state.
const MAGIC: u8 = 0xA7;
/// Format version of the encoding.
const FORMAT: u8 = 1;

/// Where the call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Collecting the language digit.
    Language,
    /// Collecting the conference ID.
    ConferenceId,
    /// Waiting for `lookup-conference`.
    Lookup,
    /// Leader prompt: collecting `*` or the first digit of the passcode.
    Leader,
    /// Collecting the rest of the passcode after its first digit.
    PasscodeRest,
    /// Collecting the passcode (no leader option).
    Passcode,
    /// Waiting for `verify-passcode`.
    VerifyPasscode,
    /// Collecting the extension or phone number.
    Extension,
    /// Collecting the PIN.
    Pin,
    /// Waiting for `verify-pin`.
    VerifyPin,
    /// Waiting for `record-name`.
    RecordName,
    /// Waiting for `request-admission`.
    Admission,
    /// On hold music or in the lobby, waiting for admission to change.
    Holding,
    /// Joined or hung up; nothing more to do.
    Done,
}

impl Phase {
    const ALL: [Phase; 14] = [
        Phase::Language,
        Phase::ConferenceId,
        Phase::Lookup,
        Phase::Leader,
        Phase::PasscodeRest,
        Phase::Passcode,
        Phase::VerifyPasscode,
        Phase::Extension,
        Phase::Pin,
        Phase::VerifyPin,
        Phase::RecordName,
        Phase::Admission,
        Phase::Holding,
        Phase::Done,
    ];

    /// Whether the phase collects digits (and can ask again).
    pub fn collects(self) -> bool {
        matches!(
            self,
            Phase::Language
                | Phase::ConferenceId
                | Phase::Leader
                | Phase::PasscodeRest
                | Phase::Passcode
                | Phase::Extension
                | Phase::Pin
        )
    }

    fn code(self) -> u8 {
        Phase::ALL
            .iter()
            .position(|p| *p == self)
            .and_then(|i| u8::try_from(i).ok())
            .unwrap_or(u8::MAX)
    }

    fn from_code(code: u8) -> Option<Phase> {
        Phase::ALL.get(usize::from(code)).copied()
    }
}

/// The state of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Where the call is.
    pub phase: Phase,
    /// Failed tries in the current stage (language, ID, passcode or PIN).
    pub tries: u8,
    /// The found meeting asks anonymous callers for a passcode.
    pub passcode_required: bool,
    /// The passcode prompt still offers `*` for the leader (PIN) path.
    pub leader_offered: bool,
    /// The extension while the PIN is collected, or the passcode's first digit.
    pub pending: String,
}

impl Call {
    /// A call in `phase` with nothing else known.
    pub fn new(phase: Phase) -> Call {
        Call {
            phase,
            tries: 0,
            passcode_required: false,
            leader_offered: false,
            pending: String::new(),
        }
    }

    /// The same call in another phase.
    pub fn to(self, phase: Phase) -> Call {
        Call { phase, ..self }
    }

    /// The same call in another phase, at the start of a new stage (no tries yet).
    pub fn stage(self, phase: Phase) -> Call {
        Call {
            phase,
            tries: 0,
            pending: String::new(),
            ..self
        }
    }

    /// The bytes for the host.
    pub fn encode(&self) -> Vec<u8> {
        Encoder::new()
            .u8(MAGIC)
            .u8(FORMAT)
            .u8(self.phase.code())
            .u8(self.tries)
            .bool(self.passcode_required)
            .bool(self.leader_offered)
            .str(&self.pending)
            .finish()
    }

    /// Read bytes written by [`Call::encode`]; anything else is an error.
    pub fn decode(bytes: &[u8]) -> Result<Call, StateError> {
        let mut d = Decoder::new(bytes);
        if d.u8()? != MAGIC || d.u8()? != FORMAT {
            return Err(StateError);
        }
        let call = Call {
            phase: Phase::from_code(d.u8()?).ok_or(StateError)?,
            tries: d.u8()?,
            passcode_required: d.bool()?,
            leader_offered: d.bool()?,
            pending: d.str()?,
        };
        if d.is_empty() {
            Ok(call)
        } else {
            Err(StateError)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_phase() {
        for phase in Phase::ALL {
            let call = Call {
                phase,
                tries: 2,
                passcode_required: true,
                leader_offered: true,
                pending: "0100".into(),
            };
            assert_eq!(Call::decode(&call.encode()), Ok(call));
        }
    }

    #[test]
    fn foreign_bytes_do_not_decode() {
        let good = Call::new(Phase::Pin).encode();
        let mut trailing = good.clone();
        trailing.push(0);
        let mut bad_phase = good.clone();
        bad_phase[2] = 200;
        for bytes in [
            &[][..],
            &[1, 2, 3],
            &good[..good.len() - 1],
            &trailing,
            &bad_phase,
            b"garbage!",
        ] {
            assert_eq!(Call::decode(bytes), Err(StateError), "{bytes:?}");
        }
    }
}
