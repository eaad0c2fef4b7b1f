//! The session description model: one owned value per SDP body, and the accessors negotiation
//! reads. Owns the types; reading is in `reader.rs`, printing in `writer.rs`.

use std::net::IpAddr;

use crate::error::SyntaxError;

/// A parsed SDP body (RFC 4566): what a peer offered or answered, or what we are about to send.
///
/// Read with [`SessionDescription::parse`], printed with [`std::fmt::Display`] (CRLF line ends, fields
/// in RFC 4566 order). Printing and reading back gives an equal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// The `o=` line.
    pub origin: Origin,
    /// The `s=` line, if present (lenient: a missing `s=` is accepted).
    pub name: Option<String>,
    /// The session-level `c=` line.
    pub connection: Option<Connection>,
    /// The `t=` lines, in order.
    pub timing: Vec<Timing>,
    /// Session-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// Other session-level lines (`i=`, `u=`, `e=`, `p=`, `b=`, `r=`, `z=`, `k=` and unknown
    /// letters), verbatim, grouped in the order RFC 4566 prints them.
    pub other: Vec<Field>,
    /// The media descriptions (`m=` sections), in order.
    pub media: Vec<MediaDescription>,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// The media type (`audio`, `video`, ...).
    pub kind: MediaKind,
    /// The transport port; 0 marks a disabled or rejected stream.
    pub port: u16,
    /// The optional `/<number of ports>` after the port.
    pub port_count: Option<u16>,
    /// The transport protocol (`RTP/AVP`, `RTP/SAVP`, ...).
    pub protocol: Protocol,
    /// The format list: RTP payload types for RTP profiles, anything for others (`t38`, `*`).
    pub formats: Vec<String>,
    /// The media-level `c=` line.
    pub connection: Option<Connection>,
    /// Media-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
    /// Other media-level lines (`i=`, `b=`, `k=` and unknown letters), verbatim.
    pub other: Vec<Field>,
}

/// The `o=` line: who made the description, and which version of it this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The user name, `-` when none.
    pub username: String,
    /// The session id, kept as sent (RFC 4566 allows more digits than a `u64` holds).
    pub session_id: String,
    /// The session version, kept as sent.
    pub session_version: String,
    /// The originator's address.
    pub address: Address,
}

/// A network address as SDP writes it (`IN IP4 ...` / `IN IP6 ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A literal IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A host name; this crate never resolves names.
    Name {
        /// Whether the line said `IP6` (otherwise `IP4`).
        ipv6: bool,
        /// The name as sent.
        name: String,
    },
}

/// A `c=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The connection address.
    pub address: Address,
    /// The multicast TTL (`IP4` only); its presence marks a multicast address.
    pub ttl: Option<u32>,
    /// The number of multicast addresses.
    pub count: Option<u32>,
}

/// A `t=` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Start time (NTP seconds; 0 for unbounded).
    pub start: u64,
    /// Stop time (NTP seconds; 0 for unbounded).
    pub stop: u64,
}

/// A line kept verbatim: its type letter and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The type letter (ASCII).
    pub letter: char,
    /// Everything after `=`, trailing whitespace removed.
    pub value: String,
}

/// The media type of an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaKind {
    /// `audio`.
    Audio,
    /// `video`.
    Video,
    /// `text`.
    Text,
    /// `application`.
    Application,
    /// `image` (T.38 fax).
    Image,
    /// `message` (MSRP).
    Message,
    /// Anything else, as sent.
    Other(String),
}

/// The transport protocol of an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// `RTP/AVP`: plain RTP.
    RtpAvp,
    /// `RTP/SAVP`: SRTP (keys by SDES `a=crypto` here).
    RtpSavp,
    /// `RTP/AVPF`.
    RtpAvpf,
    /// `RTP/SAVPF`.
    RtpSavpf,
    /// `UDP/TLS/RTP/SAVP` (DTLS-SRTP).
    UdpTlsRtpSavp,
    /// `UDP/TLS/RTP/SAVPF` (DTLS-SRTP, WebRTC).
    UdpTlsRtpSavpf,
    /// Anything else (`udptl`, `TCP/MSRP`, ...), as sent.
    Other(String),
}

/// Media direction (RFC 3264 §5.1). In a description it is what that side does; in
/// [`Negotiated`](crate::Negotiated) it is what we do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Send and receive (the default when no direction attribute is present).
    #[default]
    SendRecv,
    /// Send only.
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither.
    Inactive,
}

/// An `a=` line. The attributes negotiation reads are typed; every other one, and any of these
/// whose value could not be read in full, is [`Attribute::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `a=rtpmap`.
    RtpMap(RtpMap),
    /// `a=fmtp`.
    Fmtp(Fmtp),
    /// `a=crypto` (RFC 4568).
    Crypto(Crypto),
    /// `a=rtcp` (RFC 3605).
    Rtcp(Rtcp),
    /// `a=ptime`, in milliseconds.
    Ptime(u32),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`.
    Direction(Direction),
    /// Any other attribute, verbatim.
    Other {
        /// The name, before the first `:`.
        name: String,
        /// The value after the first `:`, if there was one.
        value: Option<String>,
    },
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<params>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// The RTP payload type.
    pub payload: u8,
    /// The encoding name as sent (compare case-insensitively).
    pub encoding: String,
    /// The clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters (the channel count for audio).
    pub params: Option<String>,
}

/// `a=fmtp:<format> <params>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// The payload type the parameters are for.
    pub format: u8,
    /// The parameters, verbatim.
    pub params: String,
}

/// `a=rtcp:<port> [<address>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtcp {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when not the stream's connection address.
    pub address: Option<Address>,
}

/// `a=crypto:<tag> <suite> <key params> [<session params>]` (RFC 4568 SDES).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    /// The tag the answer echoes.
    pub tag: u32,
    /// The crypto suite.
    pub suite: CryptoSuite,
    /// One or more `inline:` keys.
    pub keys: Vec<KeyParams>,
    /// Session parameters (`KDR=`, `UNENCRYPTED_SRTP`, `WSH=`, ...) in their printed form.
    pub params: Vec<String>,
}

/// A crypto suite name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoSuite {
    /// A suite this crate negotiates.
    Supported(SrtpSuite),
    /// Any other suite, as sent.
    Other(String),
}

/// The SRTP crypto suites this crate negotiates (RFC 4568 §6.2), both with a 128-bit AES key and
/// a 112-bit salt: 30 bytes of key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpSuite {
    /// `AES_CM_128_HMAC_SHA1_80`: 80-bit authentication tag.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`: 32-bit authentication tag on SRTP (80 on SRTCP).
    AesCm128HmacSha1_32,
}

/// One `inline:` key of an `a=crypto` line. `Debug` does not print the key.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyParams {
    /// Master key and salt, base64 as sent.
    pub key_salt: String,
    /// Master key lifetime in packets (`|2^31` is 2147483648).
    pub lifetime: Option<u32>,
    /// Master key identifier: `(value, length in bytes)`.
    pub mki: Option<(u32, u32)>,
}

impl std::fmt::Debug for KeyParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyParams")
            .field("key_salt", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .field("mki", &self.mki)
            .finish()
    }
}

impl SessionDescription {
    /// Reads an SDP body.
    ///
    /// Lenient where real devices differ: CRLF, LF or lone CR line ends, trailing whitespace,
    /// blank lines, a missing `s=` or `t=`, unknown lines and attributes (kept verbatim), typed
    /// attributes that do not read (kept verbatim). Strict where it matters: the body must be UTF-8
    /// and start with `v=0`, and `o=`, `c=`, `t=` and `m=` lines must read. Never panics.
    pub fn parse(input: &[u8]) -> Result<Self, SyntaxError> {
        crate::reader::parse(input)
    }

    /// The direction of `media`: its own direction attribute, else the session's, else
    /// [`Direction::SendRecv`]. Does not apply the RFC 2543 `c=0.0.0.0` hold convention.
    pub fn direction_of(&self, media: &MediaDescription) -> Direction {
        media
            .direction()
            .or_else(|| find_direction(&self.attributes))
            .unwrap_or_default()
    }

    /// The connection that applies to `media`: its own `c=`, else the session's.
    pub fn connection_of<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a Connection> {
        media.connection.as_ref().or(self.connection.as_ref())
    }
}

impl MediaDescription {
    /// The media-level direction attribute, if any (the last one wins).
    pub fn direction(&self) -> Option<Direction> {
        find_direction(&self.attributes)
    }

    /// The `a=rtpmap` for `payload`, if any.
    pub fn rtpmap(&self, payload: u8) -> Option<&RtpMap> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::RtpMap(m) if m.payload == payload => Some(m),
            _ => None,
        })
    }

    /// The `a=crypto` lines that read, in order.
    pub fn crypto(&self) -> impl Iterator<Item = &Crypto> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Crypto(c) => Some(c),
            _ => None,
        })
    }

    /// The `a=rtcp` attribute, if any.
    pub fn rtcp(&self) -> Option<&Rtcp> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtcp(r) => Some(r),
            _ => None,
        })
    }

    /// The `a=ptime` value, if any.
    pub fn ptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Ptime(p) => Some(*p),
            _ => None,
        })
    }

    /// The formats that are RTP payload types (0–127), in order; other tokens are skipped.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|pt| *pt <= 127)
    }

    /// A disabled copy of this section for an answer: same kind, protocol and formats, port 0,
    /// nothing else (RFC 3264 §6).
    pub fn rejected(&self) -> Self {
        Self {
            kind: self.kind.clone(),
            port: 0,
            port_count: None,
            protocol: self.protocol.clone(),
            formats: self.formats.clone(),
            connection: None,
            attributes: Vec::new(),
            other: Vec::new(),
        }
    }
}

impl Direction {
    /// The direction the other side takes in answer to this one (RFC 3264 §6.1).
    pub fn reversed(self) -> Self {
        match self {
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            other => other,
        }
    }

    /// Whether media is sent in this direction.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether media is received in this direction.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The direction that sends and receives as told.
    pub fn from_flags(sends: bool, receives: bool) -> Self {
        match (sends, receives) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// The attribute name (`sendrecv`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "sendrecv" => Some(Self::SendRecv),
            "sendonly" => Some(Self::SendOnly),
            "recvonly" => Some(Self::RecvOnly),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

impl SrtpSuite {
    /// The suite's name in SDP.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }
}

impl MediaKind {
    /// The media type as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Text => "text",
            Self::Application => "application",
            Self::Image => "image",
            Self::Message => "message",
            Self::Other(s) => s,
        }
    }

    pub(crate) fn from_token(token: &str) -> Self {
        match token {
            "audio" => Self::Audio,
            "video" => Self::Video,
            "text" => Self::Text,
            "application" => Self::Application,
            "image" => Self::Image,
            "message" => Self::Message,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Protocol {
    /// The protocol as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            Self::RtpAvp => "RTP/AVP",
            Self::RtpSavp => "RTP/SAVP",
            Self::RtpAvpf => "RTP/AVPF",
            Self::RtpSavpf => "RTP/SAVPF",
            Self::UdpTlsRtpSavp => "UDP/TLS/RTP/SAVP",
            Self::UdpTlsRtpSavpf => "UDP/TLS/RTP/SAVPF",
            Self::Other(s) => s,
        }
    }

    pub(crate) fn from_token(token: &str) -> Self {
        match token {
            "RTP/AVP" => Self::RtpAvp,
            "RTP/SAVP" => Self::RtpSavp,
            "RTP/AVPF" => Self::RtpAvpf,
            "RTP/SAVPF" => Self::RtpSavpf,
            "UDP/TLS/RTP/SAVP" => Self::UdpTlsRtpSavp,
            "UDP/TLS/RTP/SAVPF" => Self::UdpTlsRtpSavpf,
            other => Self::Other(other.to_owned()),
        }
    }
}

fn find_direction(attributes: &[Attribute]) -> Option<Direction> {
    attributes.iter().rev().find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}

/// Rank of a verbatim field in RFC 4566 order, for printing (lower first).
pub(crate) fn field_rank(letter: char) -> u8 {
    match letter {
        'i' | 'u' | 'e' | 'p' => 1,
        'b' => 2,
        'r' | 'z' => 3,
        'k' => 4,
        _ => 5,
    }
}
