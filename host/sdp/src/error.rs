//! Why an SDP body cannot be read or accepted, and how that is said in SIP.
//!
//! Owns the crate's one error enum, [`Rejection`], and the one table mapping it to a SIP status and
//! a `Warning` (RFC 3261 §20.43). Does not own building the SIP response.

use crate::description::Protocol;

/// Why an offer (or the answer to our offer) cannot be accepted.
///
/// Every variant maps to `488 Not Acceptable Here` ([`Rejection::status`]) plus a `Warning` code
/// ([`Rejection::warning`]). That includes an unreadable body: common practice (and RFC 3261
/// §21.4.26's "the session description ... is not acceptable") answers 488 rather than 400, since
/// the SIP message itself was fine. When the rejected body was an answer (ours was the offer: late
/// offer in the ACK, or our re-INVITE's 200), there is no response to send: the caller ends the
/// call with BYE (initial) or keeps the previous media (re-INVITE) and logs the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The body is not SDP this crate can read.
    #[error("unreadable SDP: {0}")]
    Malformed(#[from] SyntaxError),
    /// No audio stream: none offered, or every one disabled (port 0).
    #[error("no audio stream")]
    NoAudio,
    /// Audio is offered, but in no codec we have (PCMU, PCMA at 8 kHz).
    #[error("no common audio codec")]
    NoCommonCodec,
    /// Our policy requires SRTP, and the offer is plain RTP with no `a=crypto` line.
    #[error("SRTP is required here and the offer is plain RTP")]
    SrtpRequired,
    /// The offer is `RTP/SAVP`, and SRTP is turned off here.
    #[error("SRTP is offered and turned off here")]
    SrtpDisabled,
    /// SRTP is to be used, and no `a=crypto` line is one we can honour: suite, MKI, lifetime
    /// under 2^31, key length, or session parameters.
    #[error("no usable SRTP crypto attribute")]
    NoUsableCrypto,
    /// The audio transport is neither `RTP/AVP` nor `RTP/SAVP`.
    #[error("unsupported transport {}", protocol.as_str())]
    UnsupportedTransport {
        /// The protocol offered.
        protocol: Protocol,
    },
    /// The audio stream has no connection address (`c=`), neither its own nor the session's.
    #[error("no connection address for the audio stream")]
    MissingConnection,
    /// The connection address is a host name; this crate does not resolve names.
    #[error("connection address is a host name")]
    HostName,
    /// The connection address is IPv4 where ours is IPv6, or the other way round.
    #[error("connection address family differs from ours")]
    AddressFamily,
    /// The connection address is a multicast one.
    #[error("multicast connection address")]
    Multicast,
    /// The answer does not fit our offer (number or kind of media sections).
    #[error("the answer does not match the offer")]
    AnswerMismatch,
}

/// Where and why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct SyntaxError {
    /// The 1-based line number (counting LFs).
    pub line: usize,
    /// What was wrong.
    pub kind: SyntaxErrorKind,
}

/// What made a body unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// The body is not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// The body does not start with `v=`.
    #[error("missing v= line")]
    MissingVersion,
    /// `v=` is not 0.
    #[error("unsupported SDP version")]
    UnsupportedVersion,
    /// A line is not `<letter>=<value>`.
    #[error("not an SDP field")]
    NotAField,
    /// A field that may appear once appears again at the same level.
    #[error("duplicate {field}= line")]
    Duplicate {
        /// The field's type letter.
        field: char,
    },
    /// There is no `o=` line.
    #[error("missing o= line")]
    MissingOrigin,
    /// The `o=` line does not read.
    #[error("malformed o= line")]
    BadOrigin,
    /// A `c=` line does not read.
    #[error("malformed c= line")]
    BadConnection,
    /// A `t=` line does not read.
    #[error("malformed t= line")]
    BadTiming,
    /// An `m=` line does not read.
    #[error("malformed m= line")]
    BadMedia,
}

/// A SIP `Warning` header value (RFC 3261 §20.43) without its agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The three-digit warning code (3xx: session description problems).
    pub code: u16,
    /// The warning text, unquoted.
    pub text: String,
}

/// `488 Not Acceptable Here`.
pub const NOT_ACCEPTABLE_HERE: u16 = 488;

impl Rejection {
    /// The SIP status for a response rejecting the offer: always 488 (see the type's doc).
    pub fn status(&self) -> u16 {
        NOT_ACCEPTABLE_HERE
    }

    /// The `Warning` to send with the 488.
    pub fn warning(&self) -> Warning {
        let (code, text) = match self {
            Self::Malformed(e) => return Warning::new(399, format!("Malformed SDP: {e}")),
            Self::NoAudio => (304, "Media type not available"),
            Self::NoCommonCodec => (305, "Incompatible media format"),
            Self::SrtpRequired => (302, "Incompatible transport protocol: SRTP required"),
            Self::SrtpDisabled => (302, "Incompatible transport protocol: SRTP not supported"),
            Self::NoUsableCrypto => (306, "Attribute not understood: no usable crypto suite"),
            Self::UnsupportedTransport { .. } => (302, "Incompatible transport protocol"),
            Self::MissingConnection => (399, "No connection address"),
            Self::HostName | Self::AddressFamily => (301, "Incompatible network address formats"),
            Self::Multicast => (330, "Multicast not available"),
            Self::AnswerMismatch => (399, "Answer does not match offer"),
        };
        Warning::new(code, text.to_owned())
    }
}

impl Warning {
    fn new(code: u16, text: String) -> Self {
        Self { code, text }
    }

    /// The full header value, `<code> <agent> "<text>"`, with the text quoted and escaped.
    pub fn header_value(&self, agent: &str) -> String {
        let mut quoted = String::with_capacity(self.text.len() + 2);
        for c in self.text.chars() {
            if matches!(c, '"' | '\\') {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        format!("{} {agent} \"{quoted}\"", self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_warning_table() {
        let syntax = SyntaxError {
            line: 3,
            kind: SyntaxErrorKind::BadConnection,
        };
        let table: [(Rejection, u16); 12] = [
            (Rejection::Malformed(syntax), 399),
            (Rejection::NoAudio, 304),
            (Rejection::NoCommonCodec, 305),
            (Rejection::SrtpRequired, 302),
            (Rejection::SrtpDisabled, 302),
            (Rejection::NoUsableCrypto, 306),
            (
                Rejection::UnsupportedTransport {
                    protocol: Protocol::UdpTlsRtpSavpf,
                },
                302,
            ),
            (Rejection::MissingConnection, 399),
            (Rejection::HostName, 301),
            (Rejection::AddressFamily, 301),
            (Rejection::Multicast, 330),
            (Rejection::AnswerMismatch, 399),
        ];
        for (rejection, code) in table {
            assert_eq!(rejection.status(), 488, "{rejection:?}");
            assert_eq!(rejection.warning().code, code, "{rejection:?}");
            assert!(!rejection.warning().text.is_empty());
        }
        assert_eq!(
            Rejection::Malformed(syntax).warning().text,
            "Malformed SDP: line 3: malformed c= line"
        );
    }

    #[test]
    fn header_value_quotes_and_escapes() {
        let w = Warning::new(399, r#"say "hi" \o/"#.to_owned());
        assert_eq!(
            w.header_value("plenum.example"),
            r#"399 plenum.example "say \"hi\" \\o/""#
        );
    }
}
