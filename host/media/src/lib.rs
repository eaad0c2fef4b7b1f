//! plenum-media: the sans-IO media leg of one call.
//!
//! Owns everything about one call's RTP stream except the sockets and the mixing:
//! - [`Leg`]: the RTP/RTCP session of one call, fed datagrams with their source address and
//!   `now`, drained with [`Leg::poll_transmit`], [`Leg::poll_event`], [`Leg::pull_frame`] and
//!   [`Leg::poll_timeout`]. It does SRTP (SDES keys), symmetric RTP, sequence and SSRC tracking,
//!   RTCP reports, RFC 4733 digits in both directions, and keeps the counters.
//! - [`g711`]: μ-law and A-law.
//! - [`jitter`]: the adaptive jitter buffer with packet loss concealment.
//! - [`dtmf`]: the RFC 4733 telephone-event reader, the SIP INFO digit parsers and the helper
//!   that merges digits reported both ways.
//!
//! Does not own: sockets and timers (the I/O shell feeds `now` and sleeps until
//! [`Leg::poll_timeout`]), SDP negotiation (a [`LegConfig`] holds its outcome), the mixer, and
//! any clock or randomness: the library never reads the clock, and the sequence number and
//! timestamp origins are derived from the caller's (random) SSRC.
//!
//! Nothing reachable from the network panics: a datagram that cannot be used is dropped and
//! counted in [`LegStats`].

pub mod dtmf;
mod error;
pub mod g711;
pub mod jitter;
mod leg;
mod packet;
mod rtcp;
pub mod srtp;
mod stats;

pub use dtmf::DigitEvent;
pub use error::Error;
pub use jitter::{Frame, FrameKind};
pub use leg::{
    Codec, Leg, LegConfig, RELATCH_AFTER, SSRC_QUIET, SrtpConfig, SrtpSuite, Transmit, TransmitKind,
};
pub use stats::{LegStats, RemoteReport};

/// The sampling rate of G.711 and of Plenum's internal audio, in Hz.
pub const SAMPLE_RATE: u32 = 8000;
/// Samples in one 20 ms frame at [`SAMPLE_RATE`]: the unit the mixer works in.
pub const FRAME_SAMPLES: usize = 160;
/// Duration of one frame in milliseconds.
pub const FRAME_MS: u32 = 20;
