//! Our side's media capabilities: what the server can receive and how it wants it.

use std::net::IpAddr;

/// An audio codec the server can mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecKind {
    /// G.711 µ-law (`PCMU/8000`, static payload type 0).
    Pcmu,
    /// G.711 A-law (`PCMA/8000`, static payload type 8).
    Pcma,
}

/// A codec as agreed for a call: the kind and the RTP payload type that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Codec {
    /// The RTP payload type (the offerer's choice; static 0/8 in our own offers).
    pub pt: u8,
    /// Which codec.
    pub kind: CodecKind,
}

/// Whether calls use SRTP (SDES keys, RFC 4568).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SrtpPolicy {
    /// Plain RTP only; `RTP/SAVP` offers are rejected.
    Off,
    /// SRTP when the peer offers or accepts keys, plain RTP otherwise. Our own offers are
    /// `RTP/AVP` with `a=crypto` lines ("best-effort SRTP", as Snom, Asterisk and FreeSWITCH
    /// send), so that a peer without SRTP still connects.
    #[default]
    Optional,
    /// SRTP only; plain offers and answers are rejected. Our own offers are `RTP/SAVP`.
    Required,
}

/// What our side of a call offers: address, port, codecs, DTMF, SRTP, and the `o=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// The address the media socket is bound to, written in `c=` and `o=`.
    pub address: IpAddr,
    /// The RTP port; RTCP is on the next one (no `a=rtcp` is written).
    pub rtp_port: u16,
    /// The codecs we accept, in our order of preference (used in our own offers; when answering
    /// we take the offerer's first one that is in this list).
    pub codecs: Vec<CodecKind>,
    /// Whether we take RFC 4733 telephone-events (DTMF).
    pub telephone_event: bool,
    /// The telephone-event payload type of our own offers; in answers we follow the offerer's.
    pub telephone_event_pt: u8,
    /// SRTP policy.
    pub srtp: SrtpPolicy,
    /// Our packet duration in milliseconds, written as `a=ptime`.
    pub ptime: u32,
    /// The `o=` session id: stays for the whole dialog.
    pub session_id: u64,
    /// The `o=` session version of the first description we send.
    pub session_version: u64,
    /// The `o=` user name.
    pub username: String,
}

impl LocalMedia {
    /// Our defaults at `address`:`rtp_port`: PCMU then PCMA, telephone-event on PT 101, optional
    /// SRTP, 20 ms, user name `plenum`, session version equal to the session id (a common
    /// convention; pass a fresh random or time-derived id per call, below 2^62 as RFC 3264 §5
    /// asks so that the version has room to grow).
    pub fn new(address: IpAddr, rtp_port: u16, session_id: u64) -> Self {
        Self {
            address,
            rtp_port,
            codecs: vec![CodecKind::Pcmu, CodecKind::Pcma],
            telephone_event: true,
            telephone_event_pt: DEFAULT_TELEPHONE_EVENT_PT,
            srtp: SrtpPolicy::default(),
            ptime: DEFAULT_PTIME,
            session_id,
            session_version: session_id,
            username: "plenum".to_owned(),
        }
    }
}

/// The telephone-event payload type of our own offers unless configured otherwise.
pub const DEFAULT_TELEPHONE_EVENT_PT: u8 = 101;

/// Our packet duration in milliseconds unless configured otherwise.
pub const DEFAULT_PTIME: u32 = 20;

/// The clock rate of every codec here, and of the telephone-events we take.
pub const CLOCK_RATE: u32 = 8000;

impl CodecKind {
    /// The static RTP payload type (RFC 3551).
    pub fn static_pt(self) -> u8 {
        match self {
            Self::Pcmu => 0,
            Self::Pcma => 8,
        }
    }

    /// The encoding name in `a=rtpmap`.
    pub fn encoding(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
        }
    }

    /// The codec whose static payload type is `pt`, if any.
    pub fn from_static_pt(pt: u8) -> Option<Self> {
        match pt {
            0 => Some(Self::Pcmu),
            8 => Some(Self::Pcma),
            _ => None,
        }
    }

    /// The codec with this `a=rtpmap` encoding name (case-insensitive), if any.
    pub fn from_encoding(name: &str) -> Option<Self> {
        [Self::Pcmu, Self::Pcma]
            .into_iter()
            .find(|k| k.encoding().eq_ignore_ascii_case(name))
    }
}
