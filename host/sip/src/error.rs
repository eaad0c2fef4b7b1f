//! The one table from errors to SIP answers. Every refusal Plenum sends — from the
//! transaction layer, the dialog layer, authentication, media negotiation or the application
//! — is a [`SipError`], and [`SipError::status`] / [`SipError::response`] are the only place
//! that decides the status code and the headers that go with it.

use std::time::Duration;

use crate::compose;
use crate::dialog::DialogError;
use crate::message::{HeaderName, ParseError, Request, Response};

/// A reason to refuse a request, classified by who is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SipError {
    /// The request cannot be read (the peer's fault): 400.
    #[error("bad request: {0}")]
    Malformed(ParseError),
    /// Credentials are needed (a UAS challenges with 401; a proxy role with 407).
    #[error("authentication required")]
    AuthRequired {
        /// Answer as a proxy (407, `Proxy-Authenticate`) rather than a UAS (401).
        proxy: bool,
        /// The challenge header values.
        challenges: Vec<String>,
    },
    /// Refused whoever asks (unknown peer, a user of another tenant, failed authentication
    /// after a challenge): 403.
    #[error("forbidden")]
    Forbidden,
    /// Nobody by that number or address: 404.
    #[error("not found")]
    NotFound,
    /// A method we do not take at this address: 405 with `Allow`.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// What is allowed.
        allow: &'static str,
    },
    /// A body type we do not read: 415 with `Accept`.
    #[error("unsupported media type")]
    UnsupportedMediaType {
        /// What we read.
        accept: &'static str,
    },
    /// `Require` names extensions we do not support: 420 with `Unsupported`.
    #[error("bad extension")]
    BadExtension {
        /// The option tags we do not support.
        unsupported: Vec<String>,
    },
    /// A session interval below our minimum: 422 with `Min-SE`.
    #[error("session interval too small")]
    IntervalTooSmall {
        /// Our minimum.
        min: Duration,
    },
    /// No such transaction or dialog: 481.
    #[error("call or transaction does not exist")]
    NoSuchCall,
    /// A loop or a merged request: 482.
    #[error("loop detected")]
    Loop,
    /// `Max-Forwards` reached 0: 483.
    #[error("too many hops")]
    TooManyHops,
    /// Busy: 486.
    #[error("busy here")]
    Busy,
    /// The session description cannot be accepted: 488 with a `Warning`.
    #[error("not acceptable here: {warning}")]
    NotAcceptable {
        /// The `Warning` value (e.g. `305 plenum "no common codec"`).
        warning: String,
    },
    /// A SUBSCRIBE for an event package we do not serve: 489 with `Allow-Events`.
    #[error("bad event")]
    BadEvent {
        /// The packages we serve.
        allow: &'static str,
    },
    /// A re-INVITE crossed ours (glare): 491.
    #[error("request pending")]
    RequestPending,
    /// Our fault, or a request out of order: 500 (with `Retry-After` when retrying helps).
    #[error("server internal error")]
    Internal {
        /// Seconds after which a retry may work.
        retry_after: Option<u32>,
    },
    /// A method we do not implement at all: 501.
    #[error("not implemented")]
    NotImplemented,
    /// Overloaded: 503 with `Retry-After`.
    #[error("service unavailable")]
    Overloaded {
        /// Seconds to wait.
        retry_after: u32,
    },
}

impl SipError {
    /// The status code.
    pub fn status(&self) -> u16 {
        match self {
            SipError::Malformed(_) => 400,
            SipError::AuthRequired { proxy: false, .. } => 401,
            SipError::AuthRequired { proxy: true, .. } => 407,
            SipError::Forbidden => 403,
            SipError::NotFound => 404,
            SipError::MethodNotAllowed { .. } => 405,
            SipError::UnsupportedMediaType { .. } => 415,
            SipError::BadExtension { .. } => 420,
            SipError::IntervalTooSmall { .. } => 422,
            SipError::NoSuchCall => 481,
            SipError::Loop => 482,
            SipError::TooManyHops => 483,
            SipError::Busy => 486,
            SipError::NotAcceptable { .. } => 488,
            SipError::BadEvent { .. } => 489,
            SipError::RequestPending => 491,
            SipError::Internal { .. } => 500,
            SipError::NotImplemented => 501,
            SipError::Overloaded { .. } => 503,
        }
    }

    /// The response to `request`, with the headers this error carries.
    pub fn response(&self, request: &Request, to_tag: Option<&str>) -> Response {
        let mut r = compose::response(request, self.status(), to_tag);
        let h = &mut r.headers;
        match self {
            SipError::Malformed(e) => r.reason = format!("Bad Request ({e})"),
            SipError::AuthRequired { proxy, challenges } => {
                let name = if *proxy {
                    HeaderName::PROXY_AUTHENTICATE
                } else {
                    HeaderName::WWW_AUTHENTICATE
                };
                for c in challenges {
                    h.push(name.clone(), c.clone());
                }
            }
            SipError::MethodNotAllowed { allow } => h.push(HeaderName::ALLOW, *allow),
            SipError::UnsupportedMediaType { accept } => h.push(HeaderName::ACCEPT, *accept),
            SipError::BadExtension { unsupported } => {
                h.push(HeaderName::UNSUPPORTED, unsupported.join(", "))
            }
            SipError::IntervalTooSmall { min } => {
                h.push(HeaderName::MIN_SE, min.as_secs().to_string())
            }
            SipError::NotAcceptable { warning } => h.push(HeaderName::WARNING, warning.clone()),
            SipError::BadEvent { allow } => h.push(HeaderName::ALLOW_EVENTS, *allow),
            SipError::Internal {
                retry_after: Some(s),
            }
            | SipError::Overloaded { retry_after: s } => {
                h.push(HeaderName::RETRY_AFTER, s.to_string())
            }
            _ => {}
        }
        r
    }
}

impl From<ParseError> for SipError {
    fn from(e: ParseError) -> SipError {
        SipError::Malformed(e)
    }
}

impl From<DialogError> for SipError {
    fn from(e: DialogError) -> SipError {
        match e {
            DialogError::CSeqOrder => SipError::Internal { retry_after: None },
            DialogError::Glare => SipError::RequestPending,
            // §14.2: a re-INVITE overlapping the peer's own gets 500 with a random Retry-After
            // of 0-10 s; 3 s is in range and keeps the core deterministic.
            DialogError::Overlap => SipError::Internal {
                retry_after: Some(3),
            },
            DialogError::Terminated => SipError::NoSuchCall,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Framing, Message, parse};

    fn request() -> Request {
        let raw = b"INVITE sip:p@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:p@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
        match parse(raw, Framing::Datagram) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    /// The table, row by row: status, reason, and the header each error must carry.
    #[test]
    fn the_error_table() {
        type Row = (
            SipError,
            u16,
            &'static str,
            Option<(HeaderName, &'static str)>,
        );
        let rows: Vec<Row> = vec![
            (
                SipError::Malformed(ParseError::Header("Call-ID")),
                400,
                "Bad Request (missing or malformed Call-ID header)",
                None,
            ),
            (
                SipError::AuthRequired {
                    proxy: false,
                    challenges: vec!["Digest realm=\"r\"".into()],
                },
                401,
                "Unauthorized",
                Some((HeaderName::WWW_AUTHENTICATE, "Digest realm=\"r\"")),
            ),
            (
                SipError::AuthRequired {
                    proxy: true,
                    challenges: vec!["Digest realm=\"r\"".into()],
                },
                407,
                "Proxy Authentication Required",
                Some((HeaderName::PROXY_AUTHENTICATE, "Digest realm=\"r\"")),
            ),
            (SipError::Forbidden, 403, "Forbidden", None),
            (SipError::NotFound, 404, "Not Found", None),
            (
                SipError::MethodNotAllowed {
                    allow: "INVITE, ACK",
                },
                405,
                "Method Not Allowed",
                Some((HeaderName::ALLOW, "INVITE, ACK")),
            ),
            (
                SipError::UnsupportedMediaType {
                    accept: "application/sdp",
                },
                415,
                "Unsupported Media Type",
                Some((HeaderName::ACCEPT, "application/sdp")),
            ),
            (
                SipError::BadExtension {
                    unsupported: vec!["100rel".into(), "foo".into()],
                },
                420,
                "Bad Extension",
                Some((HeaderName::UNSUPPORTED, "100rel, foo")),
            ),
            (
                SipError::IntervalTooSmall {
                    min: Duration::from_secs(90),
                },
                422,
                "Session Interval Too Small",
                Some((HeaderName::MIN_SE, "90")),
            ),
            (
                SipError::NoSuchCall,
                481,
                "Call/Transaction Does Not Exist",
                None,
            ),
            (SipError::Loop, 482, "Loop Detected", None),
            (SipError::TooManyHops, 483, "Too Many Hops", None),
            (SipError::Busy, 486, "Busy Here", None),
            (
                SipError::NotAcceptable {
                    warning: "305 plenum \"no common codec\"".into(),
                },
                488,
                "Not Acceptable Here",
                Some((HeaderName::WARNING, "305 plenum \"no common codec\"")),
            ),
            (
                SipError::BadEvent {
                    allow: "conference",
                },
                489,
                "Bad Event",
                Some((HeaderName::ALLOW_EVENTS, "conference")),
            ),
            (SipError::RequestPending, 491, "Request Pending", None),
            (
                SipError::Internal {
                    retry_after: Some(3),
                },
                500,
                "Server Internal Error",
                Some((HeaderName::RETRY_AFTER, "3")),
            ),
            (SipError::NotImplemented, 501, "Not Implemented", None),
            (
                SipError::Overloaded { retry_after: 5 },
                503,
                "Service Unavailable",
                Some((HeaderName::RETRY_AFTER, "5")),
            ),
        ];
        let req = request();
        for (err, code, reason, header) in rows {
            let r = err.response(&req, Some("t"));
            assert_eq!((r.code, r.reason.as_str()), (code, reason), "{err:?}");
            if let Some((name, value)) = header {
                assert_eq!(r.headers.get(&name), Some(value), "{err:?}");
            }
            assert!(
                r.headers
                    .get(&HeaderName::TO)
                    .is_some_and(|t| t.ends_with(";tag=t")),
                "{err:?}"
            );
        }
        assert_eq!(SipError::from(DialogError::Glare).status(), 491);
        assert_eq!(SipError::from(DialogError::Overlap).status(), 500);
        assert_eq!(SipError::from(DialogError::Terminated).status(), 481);
        assert_eq!(SipError::from(DialogError::CSeqOrder).status(), 500);
    }
}
