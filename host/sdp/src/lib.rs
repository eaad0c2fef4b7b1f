//! SDP offer/answer (RFC 4566, RFC 3264) for the server's side of SIP calls.
//!
//! # What this crate owns
//! - Reading SDP bodies leniently ([`SessionDescription::parse`]) and writing them exactly
//!   ([`std::fmt::Display`]: CRLF, RFC 4566 field order; reading back what was written gives an
//!   equal value).
//! - Deciding what a call's audio is: answering a peer's offer ([`answer`], [`Session::answer`]),
//!   making our own offer for late-offer INVITEs and for our re-INVITEs ([`offer`],
//!   [`Session::offer`]) and reading the answer to it ([`Offer::accept`], [`Session::accept`]). The
//!   outcome, [`Negotiated`], is what the media layer needs: remote RTP/RTCP addresses, codec,
//!   telephone-event payload type, ptime, direction and SRTP keys.
//! - Saying why an offer is refused: [`Rejection`], mapped in one place to `488` and a `Warning`
//!   code (RFC 3261 §20.43).
//!
//! # What it does not own
//! Sockets, RTP/SRTP processing, clocks and randomness. It is sans-IO and pure: SRTP master keys
//! come in through the `keys: &mut dyn FnMut() -> [u8; 30]` callback (key ‖ salt), so the caller
//! draws them from its CSPRNG and tests are deterministic. It never resolves host names.
//!
//! # Why `ezk-sdp-types`
//! SDP values are read and printed by `ezk-sdp-types`: it pairs with `ezk-sip-types` used by the
//! SIP crate, it types what negotiation needs (`a=crypto` as `SrtpCrypto` with lifetime and MKI,
//! `a=rtpmap`, `a=fmtp`, `a=rtcp`, direction, `o=`, `c=`, `t=`), and it is safe Rust on `nom`
//! with no `unsafe` of its own (it does not declare `forbid(unsafe_code)`, this crate does; the
//! only `unsafe` below it is `bytesstr`'s `from_utf8_unchecked` on already-checked UTF-8). It stays
//! behind this crate's own types: callers never see it. Line framing and the `m=` line are ours,
//! because of quirks met in ezk 0.6.1 with what real devices send (details in `reader.rs`):
//! - its whole-document parser fails the entire body on one attribute it cannot read (Office
//!   Communicator 2007 R2's ICE draft-6 `a=candidate` lines), on `m=image` (T.38 re-INVITEs), and
//!   on a missing `s=` or `t=`; it reads formats as `u8` and stops at the first that is not;
//! - `a=sendonly ` with trailing whitespace becomes an unknown attribute and the direction is
//!   lost; values with unread tails are silently cut (`a=rtcp-fb:* x-message app send:dsh
//!   recv:dsh` prints as `a=rtcp-fb:* x-message`), and it prints attributes it does not model
//!   after those it does, so the order changes;
//! - a `|2^n` SRTP lifetime with `n >= 32` (e.g. RFC 3711's maximum, `2^48`) overflows `u32`:
//!   a panic with overflow checks on, a lifetime of 0 without. Such lines are never given to ezk
//!   (kept verbatim, skipped by negotiation);
//! - `IN IP4 ` must be spelt with single spaces (inherited: `o=`/`c=` with double spaces do not
//!   read).
//!
//! The SDP text itself is never rewritten before it is read.

#![forbid(unsafe_code)]

mod description;
mod error;
mod local;
mod negotiate;
mod reader;
mod session;
mod srtp;
mod writer;

pub use description::{
    Address, Attribute, Connection, Crypto, CryptoSuite, Direction, Field, Fmtp, KeyParams,
    MediaDescription, MediaKind, Origin, Protocol, Rtcp, RtpMap, SessionDescription, SrtpSuite,
    Timing,
};
pub use error::{NOT_ACCEPTABLE_HERE, Rejection, SyntaxError, SyntaxErrorKind, Warning};
pub use local::{
    CLOCK_RATE, Codec, CodecKind, DEFAULT_PTIME, DEFAULT_TELEPHONE_EVENT_PT, LocalMedia, SrtpPolicy,
};
pub use negotiate::{Negotiated, SrtpKeys};
pub use session::{Answer, Offer, Session, answer, offer};

/// Length of an SRTP master key plus salt for the supported suites (16 + 14 bytes), the size of
/// what the `keys` callback returns.
pub const SRTP_KEY_LEN: usize = srtp::KEY_LEN;
