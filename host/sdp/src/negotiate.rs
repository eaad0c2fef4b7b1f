//! Offer/answer decisions (RFC 3264): which stream, codec, DTMF payload type, direction and keys.
//!
//! Owns: choosing from a peer's offer, building the media sections of our answer and of our own
//! offers, and checking a peer's answer against our offer. Does not own: `o=` versions and dialog
//! state (`session.rs`), reading and printing (`description.rs`, `writer.rs`).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::description::{
    Attribute, Direction, Fmtp, MediaDescription, MediaKind, Protocol, RtpMap, SessionDescription,
    SrtpSuite,
};
use crate::error::Rejection;
use crate::local::{CLOCK_RATE, Codec, CodecKind, LocalMedia, SrtpPolicy};
use crate::srtp::{self, KEY_LEN};

/// What was agreed for a call's audio: everything the media layer needs to run the leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Where to send RTP.
    pub remote_rtp: SocketAddr,
    /// Where to send RTCP: the `a=rtcp` port (and address) if given, else the RTP port plus one.
    pub remote_rtcp: SocketAddr,
    /// The codec and payload type both sides use.
    pub codec: Codec,
    /// The telephone-event payload type, if both sides take RFC 4733 events.
    pub telephone_event_pt: Option<u8>,
    /// The packet duration to send, in ms: the peer's `a=ptime` when it is a multiple of 10 from
    /// 10 to 120, else ours.
    pub ptime: u32,
    /// What we do: send, receive, both or neither. A peer's hold (`a=sendonly`, or `c=0.0.0.0`
    /// per RFC 2543) makes this [`Direction::RecvOnly`].
    pub direction: Direction,
    /// The SRTP keys, if the call is encrypted.
    pub srtp: Option<SrtpKeys>,
}

/// SDES keys for one call (RFC 4568): ours protects what we send, theirs what we receive.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    /// The crypto suite.
    pub suite: SrtpSuite,
    /// Our master key (16 bytes) followed by our master salt (14 bytes).
    pub ours: [u8; KEY_LEN],
    /// The peer's master key and salt.
    pub theirs: [u8; KEY_LEN],
}

impl fmt::Debug for SrtpKeys {
    /// Never prints key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpKeys")
            .field("suite", &self.suite)
            .field("ours", &"<redacted>")
            .field("theirs", &"<redacted>")
            .finish()
    }
}

/// Our answer's media sections and what they agree on.
pub(crate) struct Answered {
    pub(crate) sections: Vec<MediaDescription>,
    pub(crate) media: Negotiated,
    pub(crate) protocol: Protocol,
}

/// Answers `offer`: accepts the first usable audio section, disables every other one.
/// `previous` is the media agreed so far in this dialog (for a re-offer), whose key we keep unless
/// the peer changed its own.
pub(crate) fn answer(
    offer: &SessionDescription,
    local: &LocalMedia,
    previous: Option<&Negotiated>,
    keys: &mut dyn FnMut() -> [u8; KEY_LEN],
) -> Result<Answered, Rejection> {
    let (index, chosen) = first_usable_audio(offer, local)?;
    let srtp = chosen
        .crypto
        .map(|(tag, suite, theirs)| (tag, our_keys(previous, suite, theirs, keys)));
    let section = Section {
        port: local.rtp_port,
        protocol: chosen.protocol.clone(),
        codecs: vec![chosen.codec],
        telephone_event_pt: chosen.telephone_event_pt,
        ptime: local.ptime,
        direction: chosen.direction,
        crypto: srtp
            .iter()
            .map(|(tag, k)| (*tag, k.suite, k.ours))
            .collect(),
    }
    .build();
    let sections = offer
        .media
        .iter()
        .enumerate()
        .map(|(i, m)| {
            if i == index {
                section.clone()
            } else {
                m.rejected()
            }
        })
        .collect();
    let media = Negotiated {
        remote_rtp: chosen.remote.rtp,
        remote_rtcp: chosen.remote.rtcp,
        codec: chosen.codec,
        telephone_event_pt: chosen.telephone_event_pt,
        ptime: chosen.ptime,
        direction: chosen.direction,
        srtp: srtp.map(|(_, k)| k),
    };
    Ok(Answered {
        sections,
        media,
        protocol: chosen.protocol,
    })
}

/// The first enabled audio section we can accept, or why the first one tried could not be.
fn first_usable_audio(
    offer: &SessionDescription,
    local: &LocalMedia,
) -> Result<(usize, Candidate), Rejection> {
    let mut first_error = None;
    let audio = offer
        .media
        .iter()
        .enumerate()
        .filter(|(_, m)| m.kind == MediaKind::Audio && m.port != 0);
    for (index, media) in audio {
        match candidate(offer, media, local) {
            Ok(c) => return Ok((index, c)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(Rejection::NoAudio))
}

/// Our key for a (re-)answer: the one agreed before if the peer kept its suite and key, else a
/// fresh one.
fn our_keys(
    previous: Option<&Negotiated>,
    suite: SrtpSuite,
    theirs: [u8; KEY_LEN],
    keys: &mut dyn FnMut() -> [u8; KEY_LEN],
) -> SrtpKeys {
    let kept = previous
        .and_then(|p| p.srtp.as_ref())
        .filter(|p| p.suite == suite && p.theirs == theirs);
    SrtpKeys {
        suite,
        ours: kept.map_or_else(keys, |p| p.ours),
        theirs,
    }
}

/// An offered audio section we can accept, before our key is drawn.
struct Candidate {
    remote: Remote,
    protocol: Protocol,
    codec: Codec,
    telephone_event_pt: Option<u8>,
    ptime: u32,
    direction: Direction,
    crypto: Option<(u32, SrtpSuite, [u8; KEY_LEN])>,
}

fn candidate(
    offer: &SessionDescription,
    media: &MediaDescription,
    local: &LocalMedia,
) -> Result<Candidate, Rejection> {
    let wants_srtp = offered_srtp(media, local.srtp)?;
    let remote = remote(offer, media, local.address)?;
    let codec = media
        .payload_types()
        .filter_map(|pt| codec_of(media, pt))
        .find(|c| local.codecs.contains(&c.kind))
        .ok_or(Rejection::NoCommonCodec)?;
    let crypto = match (wants_srtp, srtp::choose(media)) {
        (Srtp::No, _) | (Srtp::IfUsable, None) => None,
        (_, Some(chosen)) => Some(chosen),
        (Srtp::Must, None) => return Err(Rejection::NoUsableCrypto),
    };
    let offered = held(offer.direction_of(media), remote.hold);
    Ok(Candidate {
        remote,
        protocol: media.protocol.clone(),
        codec,
        telephone_event_pt: local
            .telephone_event
            .then(|| telephone_event_pt(media))
            .flatten(),
        ptime: ptime(media, local),
        direction: offered.reversed(),
        crypto,
    })
}

/// Whether an offered section is to be answered with SRTP.
enum Srtp {
    /// Plain RTP.
    No,
    /// SRTP if a crypto line is usable, plain otherwise (best-effort `RTP/AVP` with `a=crypto`).
    IfUsable,
    /// SRTP or nothing.
    Must,
}

fn offered_srtp(media: &MediaDescription, policy: SrtpPolicy) -> Result<Srtp, Rejection> {
    let mentioned = srtp::mentioned(media);
    match (&media.protocol, policy) {
        (Protocol::RtpSavp, SrtpPolicy::Off) => Err(Rejection::SrtpDisabled),
        (Protocol::RtpSavp, _) => Ok(Srtp::Must),
        (Protocol::RtpAvp, SrtpPolicy::Off) => Ok(Srtp::No),
        (Protocol::RtpAvp, SrtpPolicy::Optional) if mentioned => Ok(Srtp::IfUsable),
        (Protocol::RtpAvp, SrtpPolicy::Optional) => Ok(Srtp::No),
        (Protocol::RtpAvp, SrtpPolicy::Required) if mentioned => Ok(Srtp::Must),
        (Protocol::RtpAvp, SrtpPolicy::Required) => Err(Rejection::SrtpRequired),
        (protocol, _) => Err(Rejection::UnsupportedTransport {
            protocol: protocol.clone(),
        }),
    }
}

/// The peer's media addresses, and whether it is an RFC 2543 hold (`c=0.0.0.0`).
struct Remote {
    rtp: SocketAddr,
    rtcp: SocketAddr,
    hold: bool,
}

fn remote(
    sdp: &SessionDescription,
    media: &MediaDescription,
    ours: IpAddr,
) -> Result<Remote, Rejection> {
    let connection = sdp
        .connection_of(media)
        .ok_or(Rejection::MissingConnection)?;
    let ip = match &connection.address {
        crate::Address::Ip(ip) => *ip,
        crate::Address::Name { .. } => return Err(Rejection::HostName),
    };
    if ip.is_ipv4() != ours.is_ipv4() {
        return Err(Rejection::AddressFamily);
    }
    if ip.is_multicast() || connection.ttl.is_some() {
        return Err(Rejection::Multicast);
    }
    let rtcp = match media.rtcp() {
        Some(r) => match &r.address {
            Some(crate::Address::Ip(rtcp_ip)) => SocketAddr::new(*rtcp_ip, r.port),
            _ => SocketAddr::new(ip, r.port),
        },
        None => SocketAddr::new(ip, media.port.checked_add(1).unwrap_or(media.port)),
    };
    Ok(Remote {
        rtp: SocketAddr::new(ip, media.port),
        rtcp,
        hold: ip.is_unspecified(),
    })
}

/// An RFC 2543 hold (`c=0.0.0.0`) means the sender does not want to receive.
fn held(direction: Direction, hold: bool) -> Direction {
    if hold {
        Direction::from_flags(direction.sends(), false)
    } else {
        direction
    }
}

/// The codec carried by payload type `pt` in `media`: by its `a=rtpmap` (8 kHz, mono), or by
/// the static assignment when there is none.
fn codec_of(media: &MediaDescription, pt: u8) -> Option<Codec> {
    let kind = match media.rtpmap(pt) {
        Some(map) if is_mono_8k(map) => CodecKind::from_encoding(&map.encoding),
        Some(_) => None,
        None => CodecKind::from_static_pt(pt),
    }?;
    Some(Codec { pt, kind })
}

fn is_mono_8k(map: &RtpMap) -> bool {
    map.clock_rate == CLOCK_RATE && map.params.as_deref().is_none_or(|p| p.trim() == "1")
}

fn telephone_event_pt(media: &MediaDescription) -> Option<u8> {
    media.payload_types().find(|pt| {
        media.rtpmap(*pt).is_some_and(|m| {
            m.encoding.eq_ignore_ascii_case("telephone-event") && m.clock_rate == CLOCK_RATE
        })
    })
}

fn ptime(media: &MediaDescription, local: &LocalMedia) -> u32 {
    media
        .ptime()
        .filter(|p| (10..=120).contains(p) && p % 10 == 0)
        .unwrap_or(local.ptime)
}

/// An audio section we write, in an answer or an offer.
pub(crate) struct Section {
    pub(crate) port: u16,
    pub(crate) protocol: Protocol,
    pub(crate) codecs: Vec<Codec>,
    pub(crate) telephone_event_pt: Option<u8>,
    pub(crate) ptime: u32,
    pub(crate) direction: Direction,
    pub(crate) crypto: Vec<(u32, SrtpSuite, [u8; KEY_LEN])>,
}

/// The DTMF events we take: digits, `*`, `#` and A–D (RFC 4733 §3.2).
const TELEPHONE_EVENTS: &str = "0-15";

impl Section {
    pub(crate) fn build(&self) -> MediaDescription {
        let mut formats: Vec<String> = self.codecs.iter().map(|c| c.pt.to_string()).collect();
        let mut attributes: Vec<Attribute> = self
            .codecs
            .iter()
            .map(|c| rtpmap(c.pt, c.kind.encoding()))
            .collect();
        if let Some(pt) = self.telephone_event_pt {
            formats.push(pt.to_string());
            attributes.push(rtpmap(pt, "telephone-event"));
            attributes.push(Attribute::Fmtp(Fmtp {
                format: pt,
                params: TELEPHONE_EVENTS.to_owned(),
            }));
        }
        attributes.push(Attribute::Ptime(self.ptime));
        attributes.push(Attribute::Direction(self.direction));
        attributes.extend(
            self.crypto
                .iter()
                .map(|(tag, suite, key)| srtp::attribute(*tag, *suite, key)),
        );
        MediaDescription {
            kind: MediaKind::Audio,
            port: self.port,
            port_count: None,
            protocol: self.protocol.clone(),
            formats,
            connection: None,
            attributes,
            other: Vec::new(),
        }
    }
}

fn rtpmap(pt: u8, encoding: &str) -> Attribute {
    Attribute::RtpMap(RtpMap {
        payload: pt,
        encoding: encoding.to_owned(),
        clock_rate: CLOCK_RATE,
        params: None,
    })
}

/// What we offered, kept to read the answer.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) local_address: IpAddr,
    pub(crate) local_ptime: u32,
    pub(crate) policy: SrtpPolicy,
    pub(crate) section: SectionPlan,
}

/// The parts of our offered audio section that the answer is checked against.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SectionPlan {
    pub(crate) protocol: Protocol,
    pub(crate) codecs: Vec<Codec>,
    pub(crate) telephone_event_pt: Option<u8>,
    pub(crate) direction: Direction,
    pub(crate) crypto: Vec<(u32, SrtpSuite, [u8; KEY_LEN])>,
}

/// Checks the peer's answer against our offer and says what was agreed.
pub(crate) fn accept(plan: &Plan, answer: &SessionDescription) -> Result<Negotiated, Rejection> {
    let [media] = answer.media.as_slice() else {
        return Err(Rejection::AnswerMismatch);
    };
    if media.kind != MediaKind::Audio {
        return Err(Rejection::AnswerMismatch);
    }
    if media.port == 0 {
        return Err(Rejection::NoAudio);
    }
    let offered = &plan.section;
    let remote = remote(answer, media, plan.local_address)?;
    let srtp = answered_srtp(plan, media)?;
    let codec = media
        .payload_types()
        .filter_map(|pt| codec_of(media, pt))
        .find(|c| offered.codecs.iter().any(|o| o.kind == c.kind))
        .ok_or(Rejection::NoCommonCodec)?;
    let theirs = held(answer.direction_of(media), remote.hold);
    let direction = Direction::from_flags(
        offered.direction.sends() && theirs.receives(),
        offered.direction.receives() && theirs.sends(),
    );
    Ok(Negotiated {
        remote_rtp: remote.rtp,
        remote_rtcp: remote.rtcp,
        codec,
        telephone_event_pt: offered
            .telephone_event_pt
            .and_then(|_| telephone_event_pt(media)),
        ptime: media
            .ptime()
            .filter(|p| (10..=120).contains(p) && p % 10 == 0)
            .unwrap_or(plan.local_ptime),
        direction,
        srtp,
    })
}

fn answered_srtp(plan: &Plan, media: &MediaDescription) -> Result<Option<SrtpKeys>, Rejection> {
    match &media.protocol {
        Protocol::RtpAvp | Protocol::RtpSavp => {}
        protocol => {
            return Err(Rejection::UnsupportedTransport {
                protocol: protocol.clone(),
            });
        }
    }
    if plan.policy == SrtpPolicy::Off {
        return match media.protocol {
            Protocol::RtpSavp => Err(Rejection::SrtpDisabled),
            _ => Ok(None),
        };
    }
    let matched = media.crypto().find_map(|c| {
        let (suite, theirs) = srtp::usable(c)?;
        let (_, _, ours) = plan
            .section
            .crypto
            .iter()
            .find(|(tag, offered, _)| *tag == c.tag && *offered == suite)?;
        Some(SrtpKeys {
            suite,
            ours: *ours,
            theirs,
        })
    });
    match matched {
        Some(keys) => Ok(Some(keys)),
        None if srtp::mentioned(media) || media.protocol == Protocol::RtpSavp => {
            Err(Rejection::NoUsableCrypto)
        }
        None if plan.policy == SrtpPolicy::Required => Err(Rejection::SrtpRequired),
        None => Ok(None),
    }
}
