//! The media side of one dialog: every offer and answer we exchange, and the `o=` line across them.
//!
//! Owns: our session id and version (RFC 3264 §8: the id stays, the version goes up by one each
//! time what we send changes, and stays when we repeat ourselves, e.g. answering a session-timer
//! refresh), our SRTP key across re-offers, and the media agreed so far. Does not own: when to
//! send what (the SIP dialog does), or sockets.

use std::fmt;

use crate::SrtpSuite;
use crate::description::{
    Address, Connection, Direction, MediaDescription, Origin, Protocol, SessionDescription, Timing,
};
use crate::error::Rejection;
use crate::local::{Codec, LocalMedia, SrtpPolicy};
use crate::negotiate::{self, Negotiated, Plan, Section, SectionPlan};
use crate::srtp::KEY_LEN;

/// Our answer to an offer: the SDP body to send, and what it agrees on. `Debug` leaves out keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Answer {
    /// The SDP body (CRLF line ends) for the 200 OK (or the ACK, for a late offer).
    pub sdp: String,
    /// What the media layer is to do.
    pub media: Negotiated,
}

/// Our offer: the SDP body to send, and what is needed to read the answer to it. `Debug` leaves
/// out keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Offer {
    sdp: String,
    plan: Plan,
}

/// The media state of one dialog. Create it when the dialog starts, then feed it every offer
/// and answer in order. Pure: no sockets, no clock, no randomness (keys come from the `keys`
/// callback).
#[derive(Debug, Clone)]
pub struct Session {
    local: LocalMedia,
    /// The `o=` version of the last description we sent, and that description.
    sent: Option<(u64, SessionDescription)>,
    /// What was agreed last, and with which transport protocol.
    agreed: Option<(Negotiated, Protocol)>,
}

/// Answers an offer outside any dialog state: the same as
/// `Session::new(local.clone()).answer(offer, keys)`. For a call that may see re-offers, keep a
/// [`Session`] instead.
pub fn answer(
    offer: &[u8],
    local: &LocalMedia,
    keys: &mut dyn FnMut() -> [u8; KEY_LEN],
) -> Result<Answer, Rejection> {
    Session::new(local.clone()).answer(offer, keys)
}

/// Makes a first offer (late offer: an INVITE arrived without SDP, our offer goes in the 200 OK
/// and the answer comes in the ACK): `Session::new(local.clone()).offer(Direction::SendRecv, keys)`.
pub fn offer(local: &LocalMedia, keys: &mut dyn FnMut() -> [u8; KEY_LEN]) -> Offer {
    Session::new(local.clone()).offer(Direction::SendRecv, keys)
}

impl Session {
    /// A dialog that has exchanged nothing yet.
    pub fn new(local: LocalMedia) -> Self {
        Self {
            local,
            sent: None,
            agreed: None,
        }
    }

    /// Our side's capabilities.
    pub fn local(&self) -> &LocalMedia {
        &self.local
    }

    /// The media agreed last, if any.
    pub fn media(&self) -> Option<&Negotiated> {
        self.agreed.as_ref().map(|(media, _)| media)
    }

    /// The `o=` version of the last description we sent, if any.
    pub fn version(&self) -> Option<u64> {
        self.sent.as_ref().map(|(version, _)| *version)
    }

    /// Answers an offer: the INVITE's, or a re-INVITE's (hold, resume, new address, re-key).
    ///
    /// On a re-offer our session id stays, our version goes up if the answer differs from what we
    /// sent last, and our SRTP key stays unless the peer changed its own key or the suite. On a
    /// rejection nothing changes: the previous media goes on (the 488 ends only that transaction).
    pub fn answer(
        &mut self,
        offer: &[u8],
        keys: &mut dyn FnMut() -> [u8; KEY_LEN],
    ) -> Result<Answer, Rejection> {
        let answered = SessionDescription::parse(offer)
            .map_err(Rejection::from)
            .and_then(|offer| negotiate::answer(&offer, &self.local, self.media(), keys))
            .inspect_err(|e| tracing::debug!(reason = %e, "SDP offer rejected"))?;
        trace_agreed("answered SDP offer", &answered.media);
        let sdp = self.stamp(answered.sections);
        self.agreed = Some((answered.media.clone(), answered.protocol));
        Ok(Answer {
            sdp,
            media: answered.media,
        })
    }

    /// Makes an offer with our media in `direction`: the first one of a late-offer call, or a
    /// re-INVITE's (`SendOnly` to hold, `SendRecv` to resume; RFC 3264 §8.4).
    ///
    /// A first offer lists our codecs in order and telephone-events, and, unless SRTP is off, one
    /// fresh key per suite (AES_CM_128_HMAC_SHA1_80 as tag 1, _32 as tag 2): `RTP/SAVP` when SRTP
    /// is required, best-effort `RTP/AVP` when optional. A re-offer keeps what was agreed (codec,
    /// DTMF payload type, protocol, suite and our key). Read the answer with [`Session::accept`].
    pub fn offer(
        &mut self,
        direction: Direction,
        keys: &mut dyn FnMut() -> [u8; KEY_LEN],
    ) -> Offer {
        let section = match &self.agreed {
            Some((media, protocol)) => self.reoffer(media, protocol, direction),
            None => self.first_offer(direction, keys),
        };
        let sdp = self.stamp(vec![section.build()]);
        Offer {
            sdp,
            plan: Plan {
                local_address: self.local.address,
                local_ptime: self.local.ptime,
                policy: self.local.srtp,
                section: SectionPlan {
                    protocol: section.protocol,
                    codecs: section.codecs,
                    telephone_event_pt: section.telephone_event_pt,
                    direction: section.direction,
                    crypto: section.crypto,
                },
            },
        }
    }

    /// Reads the peer's answer to `offer` (made by this session) and records what was agreed.
    /// On a rejection nothing changes (see [`Rejection`] for what the caller does then).
    pub fn accept(&mut self, offer: &Offer, answer: &[u8]) -> Result<Negotiated, Rejection> {
        let answer = SessionDescription::parse(answer)?;
        let media = negotiate::accept(&offer.plan, &answer)
            .inspect_err(|e| tracing::debug!(reason = %e, "SDP answer rejected"))?;
        trace_agreed("accepted SDP answer", &media);
        let protocol = answer
            .media
            .first()
            .map_or(Protocol::RtpAvp, |m| m.protocol.clone());
        self.agreed = Some((media.clone(), protocol));
        Ok(media)
    }

    fn first_offer(
        &self,
        direction: Direction,
        keys: &mut dyn FnMut() -> [u8; KEY_LEN],
    ) -> Section {
        let local = &self.local;
        let (protocol, crypto) = match local.srtp {
            SrtpPolicy::Off => (Protocol::RtpAvp, Vec::new()),
            SrtpPolicy::Optional => (Protocol::RtpAvp, fresh_keys(keys)),
            SrtpPolicy::Required => (Protocol::RtpSavp, fresh_keys(keys)),
        };
        Section {
            port: local.rtp_port,
            protocol,
            codecs: local
                .codecs
                .iter()
                .map(|&kind| Codec {
                    pt: kind.static_pt(),
                    kind,
                })
                .collect(),
            telephone_event_pt: local.telephone_event.then_some(local.telephone_event_pt),
            ptime: local.ptime,
            direction,
            crypto,
        }
    }

    fn reoffer(&self, media: &Negotiated, protocol: &Protocol, direction: Direction) -> Section {
        Section {
            port: self.local.rtp_port,
            protocol: protocol.clone(),
            codecs: vec![media.codec],
            telephone_event_pt: media.telephone_event_pt,
            ptime: self.local.ptime,
            direction,
            crypto: media.srtp.iter().map(|k| (1, k.suite, k.ours)).collect(),
        }
    }

    /// Wraps media sections in our session-level lines with the right `o=` version, records the
    /// description as sent, and prints it.
    fn stamp(&mut self, media: Vec<MediaDescription>) -> String {
        let (version, description) = match self.sent.take() {
            None => {
                let version = self.local.session_version;
                (version, self.describe(version, media))
            }
            Some((last_version, last)) => {
                let same = self.describe(last_version, media);
                if same == last {
                    (last_version, same)
                } else {
                    let next = last_version.wrapping_add(1);
                    let mut changed = same;
                    changed.origin.session_version = next.to_string();
                    (next, changed)
                }
            }
        };
        let text = description.to_string();
        self.sent = Some((version, description));
        text
    }

    fn describe(&self, version: u64, media: Vec<MediaDescription>) -> SessionDescription {
        let address = Address::Ip(self.local.address);
        SessionDescription {
            origin: Origin {
                username: self.local.username.clone(),
                session_id: self.local.session_id.to_string(),
                session_version: version.to_string(),
                address: address.clone(),
            },
            name: Some("-".to_owned()),
            connection: Some(Connection {
                address,
                ttl: None,
                count: None,
            }),
            timing: vec![Timing { start: 0, stop: 0 }],
            attributes: Vec::new(),
            other: Vec::new(),
            media,
        }
    }
}

/// One debug event per agreement: what the media layer is told, never the keys.
fn trace_agreed(message: &'static str, media: &Negotiated) {
    tracing::debug!(
        remote = %media.remote_rtp,
        codec = media.codec.kind.encoding(),
        pt = media.codec.pt,
        telephone_event_pt = ?media.telephone_event_pt,
        direction = media.direction.as_str(),
        srtp = media.srtp.as_ref().map(|k| k.suite.as_str()),
        "{message}"
    );
}

/// Tags and suites of our first offers: both supported suites, strongest tag first.
const OFFERED_SUITES: [(u32, SrtpSuite); 2] = [
    (1, SrtpSuite::AesCm128HmacSha1_80),
    (2, SrtpSuite::AesCm128HmacSha1_32),
];

fn fresh_keys(keys: &mut dyn FnMut() -> [u8; KEY_LEN]) -> Vec<(u32, SrtpSuite, [u8; KEY_LEN])> {
    OFFERED_SUITES
        .iter()
        .map(|&(tag, suite)| (tag, suite, keys()))
        .collect()
}

impl Offer {
    /// The SDP body (CRLF line ends) to send.
    pub fn sdp(&self) -> &str {
        &self.sdp
    }

    /// Reads the peer's answer to this offer and says what was agreed, without recording it
    /// anywhere (use [`Session::accept`] inside a dialog).
    pub fn accept(&self, answer: &[u8]) -> Result<Negotiated, Rejection> {
        let answer = SessionDescription::parse(answer)?;
        negotiate::accept(&self.plan, &answer)
    }
}

impl fmt::Debug for Offer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Offer")
            .field("sdp", &redacted(&self.sdp))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("sdp", &redacted(&self.sdp))
            .field("media", &self.media)
            .finish()
    }
}

/// The body's lines with `a=crypto` values hidden.
fn redacted(sdp: &str) -> Vec<&str> {
    sdp.lines()
        .map(|l| {
            if l.starts_with("a=crypto:") {
                "a=crypto:<redacted>"
            } else {
                l
            }
        })
        .collect()
}
