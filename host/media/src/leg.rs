//! The media leg: one call's RTP/RTCP session, sans-IO.
//!
//! Owns: the receive path (classify, unprotect, parse, check source, SSRC and sequence, then
//! audio to the jitter buffer and telephone-events to the digit reader), the send path (G.711
//! packetization, RFC 4733 digits, SRTP protection, the transmit queue), RTCP reports, the
//! timers of all of these, and the counters.
//!
//! Inputs: [`Leg::handle_datagram`] (bytes, source address, `now`), [`Leg::send_audio`],
//! [`Leg::send_digit`], [`Leg::handle_timeout`]. Outputs: [`Leg::poll_transmit`],
//! [`Leg::poll_event`], [`Leg::pull_frame`], [`Leg::poll_timeout`], [`Leg::stats`].
//!
//! The rules for what a leg accepts are documented on [`Leg`].
//!
//! Does not own: sockets, the clock, SDP, mixing.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tracing::{debug, trace};
use webrtc_util::marshal::Marshal;

use crate::dtmf::{self, DigitEvent, EventSender, TelephoneEventReader};
use crate::error::Error;
use crate::g711;
use crate::jitter::{Frame, FrameKind, Insert, JitterBuffer, JitterConfig};
use crate::packet::{self, Kind, MAX_DATAGRAM};
use crate::rtcp::{
    JitterEstimator, REPORT_INTERVAL, Received, RemoteStream, RtcpState, SenderCounts, SeqTracker,
    SeqVerdict,
};
use crate::srtp::{Reject, SrtpSession};
use crate::stats::LegStats;
use crate::{FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE};

/// Silence of the latched source after which another source may take over.
pub const RELATCH_AFTER: Duration = Duration::from_secs(2);
/// Silence of the current SSRC after which another SSRC takes over at its first packet.
pub const SSRC_QUIET: Duration = Duration::from_millis(200);
/// Transmits that may wait in the queue.
const TRANSMIT_QUEUE: usize = 64;
/// The static payload type of comfort noise (RFC 3389, RFC 3551).
const COMFORT_NOISE_PT: u8 = 13;
/// Largest packet time supported, in samples (60 ms).
const MAX_PACKET_SAMPLES: usize = 480;
/// Size of the buffer the transmits' bytes are cut from (about 90 SRTP packets).
const TX_ARENA: usize = 16 * 1024;

/// The audio codec and its negotiated payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// G.711 μ-law.
    Pcmu {
        /// Payload type (static 0).
        payload_type: u8,
    },
    /// G.711 A-law.
    Pcma {
        /// Payload type (static 8).
        payload_type: u8,
    },
}

impl Codec {
    /// PCMU with its static payload type 0.
    pub const PCMU: Codec = Codec::Pcmu { payload_type: 0 };
    /// PCMA with its static payload type 8.
    pub const PCMA: Codec = Codec::Pcma { payload_type: 8 };

    /// The negotiated payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu { payload_type } | Codec::Pcma { payload_type } => payload_type,
        }
    }

    fn decode(self, payload: &[u8], out: &mut [i16]) -> usize {
        match self {
            Codec::Pcmu { .. } => g711::ulaw_decode_into(payload, out),
            Codec::Pcma { .. } => g711::alaw_decode_into(payload, out),
        }
    }

    fn encode(self, pcm: &[i16], out: &mut [u8]) -> usize {
        match self {
            Codec::Pcmu { .. } => g711::ulaw_encode_into(pcm, out),
            Codec::Pcma { .. } => g711::alaw_encode_into(pcm, out),
        }
    }
}

/// SRTP crypto suites of SDES (RFC 4568 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrtpSuite {
    /// `AES_CM_128_HMAC_SHA1_80`: 80-bit tags.
    Aes128CmHmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`: 32-bit SRTP tags (SRTCP keeps 80 bits).
    Aes128CmHmacSha1_32,
}

/// SDES keys of one leg: the base64-decoded `inline:` key parameters of the two `a=crypto`
/// lines (16-byte master key followed by the 14-byte master salt).
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpConfig {
    /// The negotiated suite.
    pub suite: SrtpSuite,
    /// Our key: we protect what we send with it (the one in our SDP).
    pub local_key_salt: [u8; 30],
    /// The peer's key: we verify and decrypt what we receive with it.
    pub remote_key_salt: [u8; 30],
}

impl std::fmt::Debug for SrtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpConfig")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

/// The negotiated facts a leg is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegConfig {
    /// Our SSRC; the caller picks it at random (RFC 3550 §8.1). Our initial sequence number
    /// and timestamp are derived from it.
    pub local_ssrc: u32,
    /// The audio codec.
    pub codec: Codec,
    /// The telephone-event payload type, if the peer offered RFC 4733.
    pub telephone_event_pt: Option<u8>,
    /// Packet time of what we send: 10–60 ms in steps of 10 (usually 20).
    pub ptime_ms: u16,
    /// The peer's RTP address from SDP, if it gave a usable one.
    pub remote: Option<SocketAddr>,
    /// The peer's RTCP address from `a=rtcp` (RFC 3605), if given.
    pub remote_rtcp: Option<SocketAddr>,
    /// RTP and RTCP share the port (`a=rtcp-mux`, RFC 5761). Otherwise RTCP goes to
    /// `remote_rtcp`, or to the RTP port + 1.
    pub rtcp_mux: bool,
    /// SRTP keys when the media is `RTP/SAVP`.
    pub srtp: Option<SrtpConfig>,
    /// Jitter buffer tuning.
    pub jitter: JitterConfig,
}

impl LegConfig {
    /// A plain RTP leg with 20 ms packets and no telephone-event, address or SRTP.
    pub fn new(local_ssrc: u32, codec: Codec) -> Self {
        Self {
            local_ssrc,
            codec,
            telephone_event_pt: None,
            ptime_ms: 20,
            remote: None,
            remote_rtcp: None,
            rtcp_mux: false,
            srtp: None,
            jitter: JitterConfig::default(),
        }
    }
}

/// Which of the leg's sockets a transmit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransmitKind {
    /// Send from the RTP socket.
    Rtp,
    /// Send from the RTCP socket (the RTP socket when RTCP is multiplexed).
    Rtcp,
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Destination address.
    pub to: SocketAddr,
    /// The datagram.
    pub bytes: Bytes,
    /// The socket to send it from.
    pub kind: TransmitKind,
}

/// One call's media session, sans-IO.
///
/// Inputs: [`Leg::handle_datagram`] (bytes, source address, `now`), [`Leg::send_audio`],
/// [`Leg::send_digit`], [`Leg::handle_timeout`]. Outputs: [`Leg::poll_transmit`],
/// [`Leg::poll_event`], [`Leg::pull_frame`], [`Leg::poll_timeout`], [`Leg::stats`].
///
/// Rules for what the leg accepts:
/// - **Valid packet**: RTP version 2 with in-bounds header and padding, authenticated when SRTP
///   is on, of the audio, telephone-event or comfort-noise (13) payload type.
/// - **Symmetric RTP** (RFC 4961): we send to the address the peer sends from. Until the first
///   valid packet we send to the SDP address and accept valid packets from anywhere; the first
///   valid packet *latches* its source. After that, packets from other addresses are dropped
///   (`wrong_source`) unless the latched source has sent no valid packet for
///   [`RELATCH_AFTER`]; then the next valid packet from a new address re-latches (a NAT
///   rebinding, a media server switch-over). Under SRTP an attacker without the key cannot
///   latch or re-latch: unauthenticated packets never count. RTCP latches separately, by the
///   same rule.
/// - **SSRC**: the first valid packet's SSRC is the stream. Another SSRC takes over (new stream:
///   sequence, jitter and jitter-buffer state reset, counted in `ssrc_changes`) when the
///   current one has been silent for [`SSRC_QUIET`], or when two consecutive sequence numbers
///   of the new SSRC arrive in a row. Otherwise its packets are dropped (`wrong_ssrc`), so a
///   stray or interleaved SSRC cannot flap the stream.
/// - **Sequence** (RFC 3550 A.1): duplicates are dropped; a jump of more than 3000 ahead or
///   100 behind is dropped until the next packet confirms it (`out_of_sequence`).
///
/// # Driving it
///
/// ```
/// use std::time::{Duration, Instant};
/// use plenum_media::{Codec, FrameKind, Leg, LegConfig};
///
/// let t0 = Instant::now();
/// let mut config = LegConfig::new(0x1234_5678, Codec::PCMU);
/// config.remote = Some("192.0.2.7:40000".parse()?);
/// config.telephone_event_pt = Some(101);
/// let mut leg = Leg::new(config, t0)?;
///
/// // The I/O shell, on every datagram: `leg.handle_datagram(&buf[..n], from, Instant::now())`.
/// // The mixer, on every 20 ms tick:
/// let now = t0 + Duration::from_millis(20);
/// let heard = leg.pull_frame(now);
/// assert_eq!(heard.kind, FrameKind::Silence); // nothing received yet
/// leg.send_audio(&[0; 160], now)?;
/// while let Some(t) = leg.poll_transmit() {
///     assert_eq!(t.to, "192.0.2.7:40000".parse()?); // socket.send_to(&t.bytes, t.to)
/// }
/// // Digits for the attendant, and the timer to sleep on.
/// while let Some(digit) = leg.poll_event() {
///     println!("{} pressed for {} ms", digit.digit, digit.duration_ms);
/// }
/// if let Some(at) = leg.poll_timeout() {
///     leg.handle_timeout(at); // after sleeping until `at`
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Leg {
    ssrc: u32,
    codec: Codec,
    te_pt: Option<u8>,
    packet_samples: usize,
    packet_period: Duration,
    remote: Option<SocketAddr>,
    remote_rtcp: Option<SocketAddr>,
    rtcp_mux: bool,
    srtp: Option<SrtpSession>,
    epoch: Instant,
    closed: bool,
    rtp_source: Latch,
    rtcp_source: Latch,
    remote_ssrc: Option<u32>,
    ssrc_candidate: Option<(u32, u16)>,
    last_rtp_at: Option<Instant>,
    seq: SeqTracker,
    arrival_jitter: JitterEstimator,
    jitter_buffer: JitterBuffer,
    digits_in: TelephoneEventReader,
    decoded: Box<[i16]>,
    /// Decrypted SRTP/SRTCP, reused.
    rx_plain: Vec<u8>,
    tx: TxState,
    digits_out: EventSender,
    sent: SenderCounts,
    rtcp: RtcpState,
    transmits: VecDeque<Transmit>,
    stats: LegStats,
}

/// Where one kind of packet comes from (symmetric RTP).
#[derive(Debug, Clone, Copy, Default)]
struct Latch {
    addr: Option<SocketAddr>,
    last_valid: Option<Instant>,
}

impl Latch {
    fn admits(&self, from: SocketAddr, now: Instant) -> bool {
        match (self.addr, self.last_valid) {
            (Some(addr), Some(at)) if addr != from => {
                now.saturating_duration_since(at) >= RELATCH_AFTER
            }
            _ => true,
        }
    }

    fn confirm(&mut self, from: SocketAddr, now: Instant, what: &str) {
        if self.addr != Some(from) {
            debug!(%from, previous = ?self.addr, "{what} source latched");
            self.addr = Some(from);
        }
        self.last_valid = Some(now);
    }
}

/// Sending state: sequence numbers, the media clock, packetization.
struct TxState {
    seq: u16,
    /// Start of the media clock: `(time, timestamp)`.
    origin: (Instant, u32),
    /// Timestamp right after the last media sent (audio or event).
    next_ts: u32,
    last_audio_at: Option<Instant>,
    pending: [i16; MAX_PACKET_SAMPLES + FRAME_SAMPLES],
    pending_len: usize,
    buf: Vec<u8>,
    /// The transmits' bytes are split off this buffer; once they have been dropped, it is
    /// reclaimed in place, so a leg whose transmits are sent promptly does not allocate.
    arena: BytesMut,
}

impl std::fmt::Debug for Leg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leg")
            .field("ssrc", &self.ssrc)
            .field("codec", &self.codec)
            .field("remote_ssrc", &self.remote_ssrc)
            .field("rtp_source", &self.rtp_source.addr)
            .field("srtp", &self.srtp.is_some())
            .field("closed", &self.closed)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl TxState {
    /// The packet in `buf`, as the bytes of a transmit.
    fn datagram(&mut self) -> Bytes {
        // Reclaims the arena without allocating when the earlier transmits are gone.
        self.arena.reserve(self.buf.len());
        self.arena.extend_from_slice(&self.buf);
        self.arena.split().freeze()
    }
}

impl std::fmt::Debug for TxState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxState")
            .field("seq", &self.seq)
            .field("next_ts", &self.next_ts)
            .field("pending_len", &self.pending_len)
            .finish_non_exhaustive()
    }
}

impl Leg {
    /// A leg from the negotiated facts; `now` starts its clocks (RTCP, the media clock).
    pub fn new(config: LegConfig, now: Instant) -> Result<Self, Error> {
        let packet_samples = packet_samples(config.ptime_ms)?;
        check_payload_type(config.codec.payload_type())?;
        if let Some(pt) = config.telephone_event_pt {
            check_payload_type(pt)?;
            if pt == config.codec.payload_type() {
                return Err(Error::PayloadTypeClash { payload_type: pt });
            }
        }
        let srtp = match &config.srtp {
            Some(s) => Some(SrtpSession::new(
                s.suite,
                &s.local_key_salt,
                &s.remote_key_salt,
            )?),
            None => None,
        };
        let (seq, ts) = initial_seq_ts(config.local_ssrc);
        Ok(Self {
            ssrc: config.local_ssrc,
            codec: config.codec,
            te_pt: config.telephone_event_pt,
            packet_samples,
            packet_period: Duration::from_millis(u64::from(config.ptime_ms)),
            remote: config.remote,
            remote_rtcp: config.remote_rtcp,
            rtcp_mux: config.rtcp_mux,
            srtp,
            epoch: now,
            closed: false,
            rtp_source: Latch::default(),
            rtcp_source: Latch::default(),
            remote_ssrc: None,
            ssrc_candidate: None,
            last_rtp_at: None,
            seq: SeqTracker::default(),
            arrival_jitter: JitterEstimator::default(),
            jitter_buffer: JitterBuffer::new(config.jitter),
            digits_in: TelephoneEventReader::new(),
            decoded: vec![0; MAX_DATAGRAM].into_boxed_slice(),
            rx_plain: Vec::with_capacity(MAX_DATAGRAM),
            tx: TxState {
                seq,
                origin: (now, ts),
                next_ts: ts,
                last_audio_at: None,
                pending: [0; MAX_PACKET_SAMPLES + FRAME_SAMPLES],
                pending_len: 0,
                buf: Vec::with_capacity(MAX_DATAGRAM),
                arena: BytesMut::with_capacity(TX_ARENA),
            },
            digits_out: EventSender::new(),
            sent: SenderCounts::default(),
            rtcp: RtcpState::new(config.local_ssrc, now),
            transmits: VecDeque::with_capacity(TRANSMIT_QUEUE),
            stats: LegStats::default(),
        })
    }

    /// Feeds one received datagram (RTP or RTCP, plain or protected) from `from` at `now`.
    /// Anything unusable is dropped and counted; this never fails or panics.
    pub fn handle_datagram(&mut self, datagram: &[u8], from: SocketAddr, now: Instant) {
        self.stats.datagrams += 1;
        match packet::classify(datagram) {
            Some(Kind::Rtp) => self.handle_rtp(datagram, from, now),
            Some(Kind::Rtcp) => self.handle_rtcp(datagram, from, now),
            None => {
                trace!(len = datagram.len(), "not RTP/RTCP");
                self.stats.garbage += 1;
            }
        }
    }

    /// Encodes one 20 ms frame and queues its packet(s); marks the first packet after a pause
    /// of two frames or more as a talk-spurt start (marker bit, timestamp following the clock).
    /// While a digit is being sent the frame is dropped (counted in `audio_suppressed`).
    pub fn send_audio(&mut self, frame: &[i16; FRAME_SAMPLES], now: Instant) -> Result<(), Error> {
        if self.digits_out.busy() {
            self.stats.audio_suppressed += 1;
            return Ok(());
        }
        if self.transmits.len() >= TRANSMIT_QUEUE {
            return Err(Error::TransmitQueueFull);
        }
        let spurt = self.tx.last_audio_at.is_none_or(|t| {
            now.saturating_duration_since(t) >= 2 * Duration::from_millis(u64::from(FRAME_MS))
        });
        self.tx.last_audio_at = Some(now);
        if spurt {
            self.tx.pending_len = 0;
        }
        let start = self.tx.pending_len;
        if let Some(dst) = self.tx.pending.get_mut(start..start + FRAME_SAMPLES) {
            dst.copy_from_slice(frame);
            self.tx.pending_len += FRAME_SAMPLES;
        }
        let mut marker = spurt;
        while self.tx.pending_len >= self.packet_samples {
            self.send_audio_packet(marker, now)?;
            marker = false;
        }
        Ok(())
    }

    /// Sends a DTMF key as RFC 4733 telephone-events: the first packet now, the rest paced by
    /// [`Leg::handle_timeout`]. `duration` is clamped to 40 ms..=8 s. Digits queue up (up to
    /// 32) and go out one after the other.
    pub fn send_digit(
        &mut self,
        digit: char,
        duration: Duration,
        now: Instant,
    ) -> Result<(), Error> {
        if self.te_pt.is_none() {
            return Err(Error::NoTelephoneEvent);
        }
        let event = dtmf::digit_to_event(digit).ok_or(Error::InvalidDigit { digit })?;
        let ms = duration.as_millis().clamp(40, 8000) as u32;
        if !self.digits_out.push(event, ms * SAMPLE_RATE / 1000, now) {
            return Err(Error::DigitQueueFull);
        }
        self.drive_digits(now);
        Ok(())
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next digit received (RFC 4733).
    pub fn poll_event(&mut self) -> Option<DigitEvent> {
        self.digits_in.poll_event()
    }

    /// The next 20 ms of received audio; call on every mixer tick. Never waits.
    pub fn pull_frame(&mut self, now: Instant) -> Frame {
        self.jitter_buffer.pull_frame(now)
    }

    /// [`Leg::pull_frame`] into the caller's buffer.
    pub fn pull_into(&mut self, out: &mut [i16; FRAME_SAMPLES], now: Instant) -> FrameKind {
        self.jitter_buffer.pull_into(out, now)
    }

    /// When the leg next needs [`Leg::handle_timeout`]: the next RTCP report, digit packet or
    /// digit timeout. `None` once closed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        [
            Some(self.rtcp.next_report),
            self.digits_in.poll_timeout(),
            self.digits_out.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs what is due at `now`: digit packets, digit timeouts, the RTCP report.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.digits_in.handle_timeout(now);
        self.drive_digits(now);
        if now >= self.rtcp.next_report {
            self.send_report(now);
            self.rtcp.next_report = now + REPORT_INTERVAL;
        }
    }

    /// Ends the session: queues an RTCP BYE; the leg then has no more timeouts.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.closed = true;
        if let Some(bye) = self.rtcp.build_bye(now, self.ssrc, &self.sent) {
            self.queue_rtcp(bye);
        }
    }

    /// Changes the peer's SDP address (re-INVITE): the latches are released and the next valid
    /// packet from anywhere latches again.
    pub fn set_remote(&mut self, remote: Option<SocketAddr>, remote_rtcp: Option<SocketAddr>) {
        self.remote = remote;
        self.remote_rtcp = remote_rtcp;
        self.rtp_source = Latch::default();
        self.rtcp_source = Latch::default();
    }

    /// The counters.
    pub fn stats(&self) -> LegStats {
        let jb = self.jitter_buffer.stats();
        LegStats {
            late: self.stats.late + jb.late,
            lost: self.seq.lost(),
            concealed_frames: jb.concealed,
            silent_frames: jb.silent,
            overflow_samples: jb.overflow_samples,
            resyncs: jb.resyncs,
            digits: self.digits_in.detected(),
            jitter_ms: self.arrival_jitter.jitter() * 1000 / SAMPLE_RATE,
            jitter_buffer_target_ms: self.jitter_buffer.target_delay_ms(),
            ..self.stats
        }
    }

    /// The SSRC of the stream being received.
    pub fn remote_ssrc(&self) -> Option<u32> {
        self.remote_ssrc
    }

    /// Where RTP is sent: the latched source, else the SDP address.
    pub fn rtp_destination(&self) -> Option<SocketAddr> {
        self.rtp_source.addr.or(self.remote)
    }

    /// When the last valid RTP packet arrived (for a media timeout).
    pub fn last_received(&self) -> Option<Instant> {
        self.last_rtp_at
    }

    /// The jitter buffer, read-only (delay and counters).
    pub fn jitter_buffer(&self) -> &JitterBuffer {
        &self.jitter_buffer
    }

    fn handle_rtp(&mut self, datagram: &[u8], from: SocketAddr, now: Instant) {
        let mut rx_plain = std::mem::take(&mut self.rx_plain);
        if let Err(discard) = self.receive_rtp(datagram, &mut rx_plain, from, now) {
            trace!(?discard, %from, "RTP dropped");
            discard.count(&mut self.stats);
        }
        self.rx_plain = rx_plain;
    }

    fn receive_rtp(
        &mut self,
        datagram: &[u8],
        rx_plain: &mut Vec<u8>,
        from: SocketAddr,
        now: Instant,
    ) -> Result<(), Discard> {
        let parsed = packet::parse_rtp(datagram).ok_or(Discard::Garbage)?;
        if !self.rtp_source.admits(from, now) {
            return Err(Discard::WrongSource);
        }
        let header = &parsed.header;
        let plain = match self.srtp.as_mut() {
            None => datagram,
            Some(srtp) => {
                srtp.unprotect_rtp(datagram, rx_plain)?;
                &rx_plain[..]
            }
        };
        let payload =
            packet::rtp_payload(plain, parsed.len, header.padding).ok_or(Discard::Garbage)?;
        let kind = self.payload_kind(header.payload_type, payload)?;
        self.check_stream(header.ssrc, header.sequence_number, now)?;
        self.rtp_source.confirm(from, now, "RTP");
        self.stats.received += 1;
        self.last_rtp_at = Some(now);
        match kind {
            Payload::Audio => self.receive_audio(header.timestamp, payload, now),
            Payload::Event => {
                let (ssrc, ts, marker) = (header.ssrc, header.timestamp, header.marker);
                self.digits_in.handle_packet(ssrc, ts, marker, payload, now);
            }
            Payload::ComfortNoise => self.stats.comfort_noise += 1,
        }
        Ok(())
    }

    fn payload_kind(&self, pt: u8, payload: &[u8]) -> Result<Payload, Discard> {
        if pt == self.codec.payload_type() {
            Ok(Payload::Audio)
        } else if Some(pt) == self.te_pt {
            if payload.len() < 4 {
                return Err(Discard::Garbage);
            }
            Ok(Payload::Event)
        } else if pt == COMFORT_NOISE_PT {
            Ok(Payload::ComfortNoise)
        } else {
            Err(Discard::WrongPayloadType)
        }
    }

    /// The SSRC rule, then the sequence rule, of the module doc.
    fn check_stream(&mut self, ssrc: u32, seq: u16, now: Instant) -> Result<(), Discard> {
        if !self.select_stream(ssrc, seq, now) {
            return Err(Discard::WrongSsrc);
        }
        match self.seq.update(seq) {
            SeqVerdict::Accept => Ok(()),
            SeqVerdict::Duplicate => Err(Discard::Duplicate),
            SeqVerdict::Jump => Err(Discard::OutOfSequence),
        }
    }

    fn receive_audio(&mut self, ts: u32, payload: &[u8], now: Instant) {
        let arrival = units_since(self.epoch, now);
        self.arrival_jitter.update(arrival, ts);
        let n = self.codec.decode(payload, &mut self.decoded);
        let samples = self.decoded.get(..n).unwrap_or(&[]);
        match self.jitter_buffer.insert(ts, samples, now) {
            Insert::Stored => {}
            Insert::Late => trace!(ts, "late packet"),
            Insert::Resynced => {
                debug!(ts, "timestamp jump: jitter buffer restarted");
                self.arrival_jitter.restart();
            }
        }
        self.stats.decoded += 1;
    }

    /// Applies the SSRC rule of the module doc; `true` if the packet belongs to the stream.
    fn select_stream(&mut self, ssrc: u32, seq: u16, now: Instant) -> bool {
        match self.remote_ssrc {
            Some(current) if current == ssrc => {
                self.ssrc_candidate = None;
                true
            }
            Some(current) => {
                let quiet = self
                    .last_rtp_at
                    .is_none_or(|t| now.saturating_duration_since(t) >= SSRC_QUIET);
                let confirmed = self.ssrc_candidate == Some((ssrc, seq.wrapping_sub(1)));
                if !quiet && !confirmed {
                    self.ssrc_candidate = Some((ssrc, seq));
                    return false;
                }
                debug!(from = current, to = ssrc, "remote SSRC changed");
                self.stats.ssrc_changes += 1;
                self.adopt_stream(ssrc);
                true
            }
            None => {
                debug!(ssrc, "remote SSRC");
                self.adopt_stream(ssrc);
                true
            }
        }
    }

    fn adopt_stream(&mut self, ssrc: u32) {
        self.remote_ssrc = Some(ssrc);
        self.ssrc_candidate = None;
        self.seq.reset();
        self.arrival_jitter.restart();
        self.jitter_buffer.reset();
    }

    fn handle_rtcp(&mut self, datagram: &[u8], from: SocketAddr, now: Instant) {
        let mut rx_plain = std::mem::take(&mut self.rx_plain);
        if let Err(discard) = self.receive_rtcp(datagram, &mut rx_plain, from, now) {
            trace!(?discard, %from, "RTCP dropped");
            discard.count(&mut self.stats);
        }
        self.rx_plain = rx_plain;
    }

    fn receive_rtcp(
        &mut self,
        datagram: &[u8],
        rx_plain: &mut Vec<u8>,
        from: SocketAddr,
        now: Instant,
    ) -> Result<(), Discard> {
        if !self.rtcp_source.admits(from, now) {
            return Err(Discard::WrongSource);
        }
        let plain = match self.srtp.as_mut() {
            None => datagram,
            Some(srtp) => {
                srtp.unprotect_rtcp(datagram, rx_plain)?;
                &rx_plain[..]
            }
        };
        let parts = packet::split_rtcp(plain).ok_or(Discard::Garbage)?;
        let mut results = Vec::with_capacity(parts.len());
        for part in parts {
            results.push(
                self.rtcp
                    .read_part(part, self.ssrc, now)
                    .ok_or(Discard::Garbage)?,
            );
        }
        for r in results {
            match r {
                Received::SenderReport(report) => {
                    self.stats.rtcp_sr_received += 1;
                    self.stats.remote_report = report.or(self.stats.remote_report);
                }
                Received::ReceiverReport(report) => {
                    self.stats.rtcp_rr_received += 1;
                    self.stats.remote_report = report.or(self.stats.remote_report);
                }
                Received::Other => {}
            }
        }
        self.stats.rtcp_received += 1;
        self.rtcp_source.confirm(from, now, "RTCP");
        Ok(())
    }

    fn send_audio_packet(&mut self, marker: bool, now: Instant) -> Result<(), Error> {
        let n = self.packet_samples;
        let ts = if marker {
            self.spurt_timestamp(now)
        } else {
            self.tx.next_ts
        };
        self.tx.next_ts = ts.wrapping_add(n as u32);
        let codec = self.codec;
        let pcm = self.tx.pending.get(..n).unwrap_or(&[]);
        let mut payload = [0u8; MAX_PACKET_SAMPLES];
        let len = codec.encode(pcm, &mut payload);
        self.tx
            .pending
            .copy_within(n..self.tx.pending_len.max(n), 0);
        self.tx.pending_len -= n.min(self.tx.pending_len);
        self.send_rtp(
            codec.payload_type(),
            marker,
            ts,
            payload.get(..len).unwrap_or(&[]),
            now,
        )
    }

    /// Timestamp of a talk-spurt's first packet: the media clock, but never before the end of
    /// what was already sent.
    fn spurt_timestamp(&self, now: Instant) -> u32 {
        let (t0, ts0) = self.tx.origin;
        let clock = ts0.wrapping_add(units_since(t0, now));
        if (clock.wrapping_sub(self.tx.next_ts) as i32) > 0 {
            clock
        } else {
            self.tx.next_ts
        }
    }

    fn drive_digits(&mut self, now: Instant) {
        let Some(pt) = self.te_pt else {
            return;
        };
        let interval = self.packet_samples as u32;
        while let Some(out) = self.digits_out.poll(now, interval, self.packet_period) {
            let ts = match out.ts {
                Some(ts) => ts,
                None => {
                    let ts = self.spurt_timestamp(now);
                    self.digits_out.set_timestamp(ts);
                    ts
                }
            };
            let [_, _, d0, d1] = out.payload;
            let end = ts.wrapping_add(u32::from(u16::from_be_bytes([d0, d1])));
            if (end.wrapping_sub(self.tx.next_ts) as i32) > 0 {
                self.tx.next_ts = end;
            }
            if self.transmits.len() >= TRANSMIT_QUEUE
                || self
                    .send_rtp(pt, out.marker, ts, &out.payload, now)
                    .is_err()
            {
                self.stats.transmit_overflow += 1;
            }
        }
    }

    fn send_rtp(
        &mut self,
        pt: u8,
        marker: bool,
        ts: u32,
        payload: &[u8],
        now: Instant,
    ) -> Result<(), Error> {
        let header = rtp::header::Header {
            version: 2,
            marker,
            payload_type: pt,
            sequence_number: self.tx.seq,
            timestamp: ts,
            ssrc: self.ssrc,
            ..Default::default()
        };
        self.tx.seq = self.tx.seq.wrapping_add(1);
        self.tx.buf.clear();
        self.tx.buf.resize(12, 0);
        header
            .marshal_to(&mut self.tx.buf)
            .map_err(|_| Error::SrtpProtect)?;
        self.tx.buf.extend_from_slice(payload);
        if let Some(srtp) = self.srtp.as_mut() {
            srtp.protect_rtp(&mut self.tx.buf)?;
        }
        let bytes = self.tx.datagram();
        self.sent.packets = self.sent.packets.wrapping_add(1);
        self.sent.octets = self.sent.octets.wrapping_add(payload.len() as u32);
        self.sent.last = Some((ts, now));
        self.rtcp.sent_since_report = true;
        self.stats.sent_packets += 1;
        self.stats.sent_octets += payload.len() as u64;
        match self.rtp_destination() {
            Some(to) => self.transmits.push_back(Transmit {
                to,
                bytes,
                kind: TransmitKind::Rtp,
            }),
            None => self.stats.unsent_no_destination += 1,
        }
        Ok(())
    }

    fn send_report(&mut self, now: Instant) {
        let remote = match self.remote_ssrc {
            Some(ssrc) => Some(RemoteStream {
                ssrc,
                seq: &mut self.seq,
                jitter: self.arrival_jitter.jitter(),
            }),
            None => None,
        };
        if let Some(report) = self.rtcp.build_report(now, self.ssrc, &self.sent, remote) {
            self.queue_rtcp(report);
        }
    }

    fn queue_rtcp(&mut self, mut compound: Vec<u8>) {
        if let Some(srtp) = self.srtp.as_mut()
            && srtp.protect_rtcp(&mut compound).is_err()
        {
            return;
        }
        let bytes = Bytes::from(compound);
        let Some(to) = self.rtcp_destination() else {
            self.stats.unsent_no_destination += 1;
            return;
        };
        if self.transmits.len() >= TRANSMIT_QUEUE {
            self.stats.transmit_overflow += 1;
            return;
        }
        self.stats.sent_rtcp += 1;
        self.transmits.push_back(Transmit {
            to,
            bytes,
            kind: TransmitKind::Rtcp,
        });
    }

    fn rtcp_destination(&self) -> Option<SocketAddr> {
        if let Some(addr) = self.rtcp_source.addr {
            return Some(addr);
        }
        if self.rtcp_mux {
            return self.rtp_destination();
        }
        self.remote_rtcp.or_else(|| {
            self.rtp_destination().map(|mut a| {
                a.set_port(a.port().wrapping_add(1));
                a
            })
        })
    }
}

/// What a received RTP packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    Audio,
    Event,
    /// Comfort noise (RFC 3389) marks silence; it goes through the sequence check so its
    /// sequence numbers do not count as lost, and is otherwise ignored.
    ComfortNoise,
}

/// Why a received datagram was dropped; each maps to one counter of [`LegStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discard {
    Garbage,
    WrongSource,
    WrongPayloadType,
    WrongSsrc,
    Duplicate,
    OutOfSequence,
    AuthFailure,
    Replay,
}

impl Discard {
    fn count(self, stats: &mut LegStats) {
        let counter = match self {
            Discard::Garbage => &mut stats.garbage,
            Discard::WrongSource => &mut stats.wrong_source,
            Discard::WrongPayloadType => &mut stats.wrong_payload_type,
            Discard::WrongSsrc => &mut stats.wrong_ssrc,
            Discard::Duplicate => &mut stats.duplicate,
            Discard::OutOfSequence => &mut stats.out_of_sequence,
            Discard::AuthFailure => &mut stats.srtp_auth_failures,
            Discard::Replay => &mut stats.replays,
        };
        *counter += 1;
    }
}

impl From<Reject> for Discard {
    fn from(reject: Reject) -> Self {
        match reject {
            Reject::Auth => Discard::AuthFailure,
            Reject::Replay => Discard::Replay,
            Reject::Malformed => Discard::Garbage,
        }
    }
}

fn packet_samples(ptime_ms: u16) -> Result<usize, Error> {
    if ptime_ms == 0 || ptime_ms > 60 || !ptime_ms.is_multiple_of(10) {
        return Err(Error::UnsupportedPtime { ptime_ms });
    }
    Ok(usize::from(ptime_ms) * SAMPLE_RATE as usize / 1000)
}

fn check_payload_type(payload_type: u8) -> Result<(), Error> {
    if payload_type > 127 || (64..=95).contains(&payload_type) {
        return Err(Error::InvalidPayloadType { payload_type });
    }
    Ok(())
}

/// Initial sequence number and timestamp: unpredictable as long as the SSRC is (RFC 3550
/// §5.1 wants them random; the library has no randomness of its own).
fn initial_seq_ts(ssrc: u32) -> (u16, u32) {
    let h = u64::from(ssrc)
        .wrapping_add(0x9E37_79B9_7F4A_7C15)
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let h = (h ^ (h >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((h >> 48) as u16, (h >> 8) as u32)
}

/// Time since `epoch` in RTP timestamp units, wrapping like a timestamp.
fn units_since(epoch: Instant, now: Instant) -> u32 {
    let micros = now.saturating_duration_since(epoch).as_micros();
    (micros * u128::from(SAMPLE_RATE) / 1_000_000) as u32
}
