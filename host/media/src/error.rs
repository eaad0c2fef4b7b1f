//! The crate's error type.
//!
//! Owns: the errors a caller of [`crate::Leg`] can get back, classified the rustls way by who is
//! at fault: local configuration (a [`crate::LegConfig`] that cannot work) or API misuse (a
//! digit that is not a key, a transmit queue nobody drains). Problems with what the network sent
//! are never errors: the leg drops such input and counts it in [`crate::LegStats`].
//!
//! Does not own: the SIP INFO body parse errors, which live beside their parser
//! ([`crate::dtmf::InfoDtmfError`]).

/// What went wrong when configuring or driving a [`crate::Leg`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Local configuration: the SDES key material could not be expanded into session keys. With
    /// the fixed 30-byte key-and-salt of the supported suites this does not happen in practice;
    /// it is kept so a change in the crypto crates surfaces as an error rather than a panic.
    #[error("SRTP context could not be created from the configured key")]
    SrtpKey,
    /// Local configuration: the packet time is not a multiple of 10 ms between 10 and 60 ms.
    #[error("unsupported ptime {ptime_ms} ms (10, 20, 30, 40, 50 or 60 are supported)")]
    UnsupportedPtime {
        /// The configured packet time.
        ptime_ms: u16,
    },
    /// Local configuration: a payload type above 127, or in 64..=95, the range that collides
    /// with RTCP packet types when RTP and RTCP share a port (RFC 5761 §4).
    #[error("payload type {payload_type} cannot be used (RFC 5761 §4)")]
    InvalidPayloadType {
        /// The rejected payload type.
        payload_type: u8,
    },
    /// Local configuration: the audio codec and telephone-event use the same payload type.
    #[error("telephone-event uses the audio payload type {payload_type}")]
    PayloadTypeClash {
        /// The payload type configured twice.
        payload_type: u8,
    },
    /// API misuse: the character is not a DTMF key (`0-9 * # A-D`).
    #[error("{digit:?} is not a DTMF key")]
    InvalidDigit {
        /// The rejected character.
        digit: char,
    },
    /// API misuse: digits cannot be sent because the peer did not offer telephone-event.
    #[error("the peer did not negotiate telephone-event")]
    NoTelephoneEvent,
    /// API misuse: too many digits are waiting to be sent.
    #[error("too many digits queued")]
    DigitQueueFull,
    /// API misuse: the transmit queue is full because [`crate::Leg::poll_transmit`] was not
    /// drained; the packet was not queued.
    #[error("transmit queue full: drain poll_transmit")]
    TransmitQueueFull,
    /// A packet could not be protected: the key is used up (2^48 SRTP or 2^31 SRTCP packets,
    /// RFC 3711 §9.2), or the packet is not one the leg builds (a second SSRC, a short header).
    #[error("SRTP protect failed")]
    SrtpProtect,
}
