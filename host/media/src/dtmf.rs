//! DTMF digits: RFC 4733 telephone-events and SIP INFO bodies.
//!
//! Owns:
//! - [`TelephoneEventReader`]: turns the RFC 4733 packets of a stream into one [`DigitEvent`]
//!   per key press, with its start time and duration.
//! - [`TelephoneEvent`]: the 4-octet payload, read and written.
//! - `EventSender` (crate-internal): the packets of the digits a leg sends.
//! - [`parse_dtmf_relay`], [`parse_dtmf`] and [`parse_info_body`]: the SIP INFO bodies
//!   `application/dtmf-relay` (Cisco) and `application/dtmf`.
//! - [`DigitDeduplicator`]: one digit per key press when a trunk reports it both in RTP and in
//!   SIP INFO.
//!
//! Reader rules (RFC 4733 §2.5.2):
//! - An event is identified by its SSRC and RTP timestamp; all its packets (start, updates,
//!   the end packet and its retransmissions) carry the same timestamp. The digit is reported
//!   once, when the event ends; its duration is the largest duration field seen.
//! - The event ends at the first packet with the E bit. Later packets of the same event (the
//!   redundant end packets, late updates) are ignored, as are packets of the last few finished
//!   events.
//! - If the end packets are lost, the event ends when a packet with another timestamp arrives
//!   (the next digit) or when no packet arrived for [`EVENT_TIMEOUT`].
//! - A press longer than the 16-bit duration field (8.19 s) continues in a new segment: a new
//!   timestamp equal to the old one plus its duration, the same event code, no marker bit
//!   (§2.5.1.3). Such a segment extends the current press instead of starting a new one.
//! - Event codes 0–15 are the keys `0-9 * # A-D`; other events (flash, tones) are ignored.
//!
//! Does not own: which RTP packets are telephone-events (the payload type, [`crate::Leg`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::SAMPLE_RATE;

/// A key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigitEvent {
    /// `0-9`, `*`, `#` or `A-D`.
    pub digit: char,
    /// When the key went down: the arrival of the event's first packet, moved back by the
    /// duration that packet already reported.
    pub started: Instant,
    /// How long the key was held, from the event's duration field.
    pub duration_ms: u32,
}

/// No packet of an unfinished event for this long ends it.
pub const EVENT_TIMEOUT: Duration = Duration::from_millis(500);
/// Finished events remembered to ignore their stragglers.
const RECENT: usize = 4;
/// Digits kept for [`TelephoneEventReader::poll_event`] before the oldest is dropped.
const QUEUE: usize = 32;

/// The RFC 4733 §2.3 payload: event, end bit, volume, duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0–15 are DTMF keys).
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in −dBm0 (0–63).
    pub volume: u8,
    /// Duration so far, in timestamp units (1/8000 s).
    pub duration: u16,
}

impl TelephoneEvent {
    /// Reads the first event of a payload; `None` if shorter than 4 octets.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let [event, flags, d0, d1] = *payload.first_chunk::<4>()?;
        Some(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// The 4-octet payload.
    pub fn to_bytes(self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        let flags = if self.end { 0x80 } else { 0 } | (self.volume & 0x3F);
        [self.event, flags, d0, d1]
    }
}

/// The key of an event code: 0–9, 10 `*`, 11 `#`, 12–15 `A-D`.
pub fn event_to_digit(event: u8) -> Option<char> {
    b"0123456789*#ABCD"
        .get(usize::from(event))
        .map(|&b| char::from(b))
}

/// The event code of a key (`a-d` accepted as `A-D`).
pub fn digit_to_event(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// How the reader classified one telephone-event packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventPacket {
    /// The first packet of a new event.
    Start,
    /// A packet of the event in progress (including a long-press continuation segment).
    Update,
    /// The packet that ended an event (its digit is now queued).
    End,
    /// A packet of an event already finished (redundant end packet, straggler).
    Redundant,
    /// An event that is not a DTMF key; ignored.
    Unsupported,
    /// Shorter than 4 octets.
    Malformed,
}

/// Reads RFC 4733 telephone-events into digits; see the module doc for the rules.
#[derive(Debug)]
pub struct TelephoneEventReader {
    active: Option<Active>,
    recent: [Option<(u32, u32)>; RECENT],
    recent_next: usize,
    digits: VecDeque<DigitEvent>,
    detected: u64,
    dropped: u64,
}

#[derive(Debug, Clone, Copy)]
struct Active {
    ssrc: u32,
    ts: u32,
    event: u8,
    started: Instant,
    last_seen: Instant,
    /// Duration of earlier segments of a long press.
    earlier: u32,
    /// Largest duration seen in the current segment.
    segment: u16,
}

impl Default for TelephoneEventReader {
    fn default() -> Self {
        Self::new()
    }
}

impl TelephoneEventReader {
    /// A reader with nothing in progress.
    pub fn new() -> Self {
        Self {
            active: None,
            recent: [None; RECENT],
            recent_next: 0,
            digits: VecDeque::with_capacity(QUEUE),
            detected: 0,
            dropped: 0,
        }
    }

    /// Reads one telephone-event packet of stream `ssrc` with RTP timestamp `ts`.
    pub fn handle_packet(
        &mut self,
        ssrc: u32,
        ts: u32,
        marker: bool,
        payload: &[u8],
        now: Instant,
    ) -> EventPacket {
        let Some(ev) = TelephoneEvent::parse(payload) else {
            return EventPacket::Malformed;
        };
        if event_to_digit(ev.event).is_none() {
            return EventPacket::Unsupported;
        }
        if let Some(a) = self
            .active
            .as_mut()
            .filter(|a| a.ssrc == ssrc && a.ts == ts)
        {
            a.last_seen = now;
            a.segment = a.segment.max(ev.duration);
            if ev.end {
                self.finish();
                return EventPacket::End;
            }
            return EventPacket::Update;
        }
        if self.recent.contains(&Some((ssrc, ts))) {
            return EventPacket::Redundant;
        }
        if let Some(a) = self
            .active
            .as_mut()
            .filter(|a| a.continues_with(ssrc, ts, ev, marker))
        {
            a.earlier += u32::from(a.segment);
            a.ts = ts;
            a.segment = ev.duration;
            a.last_seen = now;
            if ev.end {
                self.finish();
                return EventPacket::End;
            }
            return EventPacket::Update;
        }
        // A new event: whatever was in progress lost its end packets.
        self.finish();
        let already =
            Duration::from_micros(u64::from(ev.duration) * 1_000_000 / u64::from(SAMPLE_RATE));
        self.active = Some(Active {
            ssrc,
            ts,
            event: ev.event,
            started: now.checked_sub(already).unwrap_or(now),
            last_seen: now,
            earlier: 0,
            segment: ev.duration,
        });
        if ev.end {
            self.finish();
            return EventPacket::End;
        }
        EventPacket::Start
    }

    /// Ends an event whose packets stopped coming.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|t| t <= now) {
            self.finish();
        }
    }

    /// When an unfinished event will time out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.active.map(|a| a.last_seen + EVENT_TIMEOUT)
    }

    /// The next detected digit.
    pub fn poll_event(&mut self) -> Option<DigitEvent> {
        self.digits.pop_front()
    }

    /// Digits detected so far.
    pub fn detected(&self) -> u64 {
        self.detected
    }

    /// Digits dropped because nobody polled them (the queue holds 32).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn finish(&mut self) {
        let Some(a) = self.active.take() else {
            return;
        };
        if let Some(slot) = self.recent.get_mut(self.recent_next) {
            *slot = Some((a.ssrc, a.ts));
        }
        self.recent_next = (self.recent_next + 1) % RECENT;
        let Some(digit) = event_to_digit(a.event) else {
            return;
        };
        if self.digits.len() >= QUEUE {
            self.digits.pop_front();
            self.dropped += 1;
        }
        self.detected += 1;
        let samples = a.earlier + u32::from(a.segment);
        self.digits.push_back(DigitEvent {
            digit,
            started: a.started,
            duration_ms: samples * 1000 / SAMPLE_RATE,
        });
    }
}

impl Active {
    /// Whether a packet with a new timestamp is the next segment of this long press.
    fn continues_with(&self, ssrc: u32, ts: u32, ev: TelephoneEvent, marker: bool) -> bool {
        // Within 200 ms of the field's limit, and the new segment starts where this one ends.
        const NEAR_LIMIT: u32 = 1600;
        let seen = u32::from(self.segment);
        let gap = ts.wrapping_sub(self.ts);
        ssrc == self.ssrc
            && ev.event == self.event
            && !marker
            && seen + NEAR_LIMIT >= u32::from(u16::MAX)
            && (seen..=u32::from(u16::MAX) + NEAR_LIMIT).contains(&gap)
    }
}

/// Packets of the digits a leg sends (RFC 4733 §2.5.1), paced by the leg's timer.
///
/// Shape: a start packet with the marker bit and one packet interval of duration, an update
/// every packet interval, then the end packet sent three times, one interval apart, all with
/// the same timestamp and final duration; the next digit starts after a gap of
/// [`INTER_DIGIT_GAP`].
#[derive(Debug)]
pub(crate) struct EventSender {
    queue: VecDeque<(u8, u32)>,
    current: Option<Sending>,
    next_at: Option<Instant>,
}

/// Pause between two digits sent back to back.
pub(crate) const INTER_DIGIT_GAP: Duration = Duration::from_millis(60);
/// Digits that may wait to be sent.
pub(crate) const SEND_QUEUE: usize = 32;
const SEND_VOLUME: u8 = 10;
const END_PACKETS: u8 = 3;

#[derive(Debug, Clone, Copy)]
struct Sending {
    event: u8,
    /// Timestamp of the event, assigned by the leg at its first packet.
    ts: Option<u32>,
    total: u32,
    duration: u32,
    ends_sent: u8,
}

/// One telephone-event packet to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventOut {
    pub payload: [u8; 4],
    pub marker: bool,
    /// `None` for the first packet: the leg assigns the timestamp and reports it back with
    /// [`EventSender::set_timestamp`].
    pub ts: Option<u32>,
}

impl EventSender {
    pub(crate) fn new() -> Self {
        Self {
            queue: VecDeque::with_capacity(SEND_QUEUE),
            current: None,
            next_at: None,
        }
    }

    /// Queues a digit of `duration` samples; `false` if the queue is full.
    pub(crate) fn push(&mut self, event: u8, duration: u32, now: Instant) -> bool {
        if self.queue.len() >= SEND_QUEUE {
            return false;
        }
        self.queue.push_back((event, duration));
        if self.current.is_none() && self.next_at.is_none() {
            self.next_at = Some(now);
        }
        true
    }

    /// Whether a digit is being sent (the leg then holds back audio).
    pub(crate) fn busy(&self) -> bool {
        self.current.is_some()
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.next_at
    }

    pub(crate) fn set_timestamp(&mut self, ts: u32) {
        if let Some(c) = self.current.as_mut() {
            c.ts = Some(ts);
        }
    }

    /// The packet due at `now`, if any; `interval` is the packet time in samples.
    pub(crate) fn poll(
        &mut self,
        now: Instant,
        interval: u32,
        period: Duration,
    ) -> Option<EventOut> {
        if self.next_at.is_none_or(|t| t > now) {
            return None;
        }
        let Some(mut c) = self.current.take() else {
            let (event, total) = self.queue.pop_front()?;
            let duration = interval.min(total);
            self.current = Some(Sending {
                event,
                ts: None,
                total,
                duration,
                ends_sent: 0,
            });
            self.next_at = Some(now + period);
            return Some(self.packet(event, false, duration, true, None));
        };
        if c.duration < c.total {
            c.duration = (c.duration + interval).min(c.total);
        }
        let end = c.duration >= c.total;
        if end {
            c.ends_sent += 1;
        }
        let out = self.packet(c.event, end, c.duration, false, c.ts);
        if c.ends_sent >= END_PACKETS {
            self.next_at = (!self.queue.is_empty()).then_some(now + INTER_DIGIT_GAP);
        } else {
            self.current = Some(c);
            self.next_at = Some(now + period);
        }
        Some(out)
    }

    fn packet(
        &self,
        event: u8,
        end: bool,
        duration: u32,
        marker: bool,
        ts: Option<u32>,
    ) -> EventOut {
        let payload = TelephoneEvent {
            event,
            end,
            volume: SEND_VOLUME,
            duration: duration.min(u32::from(u16::MAX)) as u16,
        }
        .to_bytes();
        EventOut {
            payload,
            marker,
            ts,
        }
    }
}

/// A digit from a SIP INFO body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoDigit {
    /// `0-9`, `*`, `#` or `A-D`.
    pub digit: char,
    /// The `Duration` line of a dtmf-relay body, in milliseconds, when present and numeric.
    pub duration_ms: Option<u32>,
}

/// Why a SIP INFO body gave no digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InfoDtmfError {
    /// Malformed input: a dtmf-relay body without a `Signal` line, or an empty body.
    #[error("no Signal in the DTMF body")]
    MissingSignal,
    /// Unsupported: the signal is not a DTMF key (for example `!`, hook flash, or `16`).
    #[error("the DTMF signal is not a key")]
    UnknownSignal,
    /// Unsupported: the content type is neither application/dtmf-relay nor application/dtmf.
    #[error("not a DTMF content type")]
    UnsupportedContentType,
}

/// Parses an INFO body by its Content-Type (`application/dtmf-relay` or `application/dtmf`,
/// case-insensitive, parameters ignored).
pub fn parse_info_body(content_type: &str, body: &[u8]) -> Result<InfoDigit, InfoDtmfError> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/dtmf-relay") {
        parse_dtmf_relay(body)
    } else if media.eq_ignore_ascii_case("application/dtmf") {
        parse_dtmf(body).map(|digit| InfoDigit {
            digit,
            duration_ms: None,
        })
    } else {
        Err(InfoDtmfError::UnsupportedContentType)
    }
}

/// Parses an `application/dtmf-relay` body (Cisco style, also sent by Asterisk, FreeSWITCH,
/// most PBXs and gateways): lines `Signal=<key>` and `Duration=<ms>`, keys case-insensitive,
/// spaces around `=` allowed, CRLF or LF, other lines ignored, the first `Signal` wins. The
/// signal is a key character (`5`, `*`, `#`, `A`) or an event number, where `10` is `*`, `11`
/// is `#` and `12`–`15` are `A-D` (the RFC 4733 codes, accepted by Asterisk).
pub fn parse_dtmf_relay(body: &[u8]) -> Result<InfoDigit, InfoDtmfError> {
    let mut signal = None;
    let mut duration_ms = None;
    for line in body.split(|&b| b == b'\n' || b == b'\r') {
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (
            line.get(..eq).unwrap_or(&[]),
            line.get(eq + 1..).unwrap_or(&[]),
        );
        let (key, value) = (key.trim_ascii(), value.trim_ascii());
        if key.eq_ignore_ascii_case(b"signal") && signal.is_none() {
            signal = Some(value);
        } else if key.eq_ignore_ascii_case(b"duration") && duration_ms.is_none() {
            duration_ms = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        }
    }
    let digit = signal_digit(signal.ok_or(InfoDtmfError::MissingSignal)?)?;
    Ok(InfoDigit { digit, duration_ms })
}

/// Parses an `application/dtmf` body: the key alone (`5`, `#`), or its event number, with
/// surrounding whitespace allowed.
pub fn parse_dtmf(body: &[u8]) -> Result<char, InfoDtmfError> {
    signal_digit(body.trim_ascii())
}

fn signal_digit(value: &[u8]) -> Result<char, InfoDtmfError> {
    match value {
        [] => Err(InfoDtmfError::MissingSignal),
        [c] => digit_to_event(char::from(*c))
            .and_then(event_to_digit)
            .ok_or(InfoDtmfError::UnknownSignal),
        _ => std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.parse::<u8>().ok())
            .and_then(event_to_digit)
            .ok_or(InfoDtmfError::UnknownSignal),
    }
}

/// Where a digit was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitSource {
    /// An RFC 4733 telephone-event ([`DigitEvent`]).
    Rtp,
    /// A SIP INFO body.
    Info,
}

/// Merges digits reported both in RTP and in SIP INFO into one per key press.
///
/// Rule: a digit offered from one source is a duplicate when the same key was accepted from
/// the *other* source with a start time within the window (default 500 ms, either direction)
/// and that earlier digit has not already absorbed a duplicate. Each press can thus absorb
/// exactly one copy, so a key pressed twice quickly still gives two digits, and a trunk that
/// uses only one source is never deduplicated. Times to pass: [`DigitEvent::started`] for RTP
/// digits (the RTP digit is reported when the key is released, its start is when it was
/// pressed), and the INFO request's arrival for INFO digits (sent at key down).
#[derive(Debug)]
pub struct DigitDeduplicator {
    window: Duration,
    recent: [Option<Accepted>; 8],
    next: usize,
}

#[derive(Debug, Clone, Copy)]
struct Accepted {
    digit: char,
    source: DigitSource,
    at: Instant,
    absorbed: bool,
}

impl Default for DigitDeduplicator {
    fn default() -> Self {
        Self::new(Duration::from_millis(500))
    }
}

impl DigitDeduplicator {
    /// A deduplicator matching presses that started within `window` of each other.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            recent: [None; 8],
            next: 0,
        }
    }

    /// Offers a digit; `true` if it is a new press to act on, `false` for the other source's
    /// copy of a press already accepted.
    pub fn offer(&mut self, source: DigitSource, digit: char, at: Instant) -> bool {
        let window = self.window;
        let twin = self.recent.iter_mut().flatten().find(|a| {
            !a.absorbed && a.source != source && a.digit == digit && abs_diff(a.at, at) <= window
        });
        if let Some(twin) = twin {
            twin.absorbed = true;
            return false;
        }
        if let Some(slot) = self.recent.get_mut(self.next) {
            *slot = Some(Accepted {
                digit,
                source,
                at,
                absorbed: false,
            });
        }
        self.next = (self.next + 1) % self.recent.len();
        true
    }
}

fn abs_diff(a: Instant, b: Instant) -> Duration {
    a.saturating_duration_since(b)
        .max(b.saturating_duration_since(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Feeds `(ts, marker, payload, at_ms)` packets of SSRC 1 and collects the digits.
    fn read(packets: &[(u32, bool, [u8; 4], u64)]) -> (Vec<DigitEvent>, Vec<EventPacket>, Instant) {
        let t0 = Instant::now();
        let mut r = TelephoneEventReader::new();
        let mut kinds = Vec::new();
        for &(ts, marker, payload, at) in packets {
            kinds.push(r.handle_packet(1, ts, marker, &payload, t0 + MS * at as u32));
        }
        let mut digits = Vec::new();
        while let Some(d) = r.poll_event() {
            digits.push(d);
        }
        (digits, kinds, t0)
    }

    fn ev(event: u8, end: bool, duration: u16) -> [u8; 4] {
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .to_bytes()
    }

    /// SIPp's dtmf_2833_1.pcap, byte for byte: 7 packets 20 ms apart (durations 0, 320, ...,
    /// 1920; marker on the first), then three identical end packets (duration 2240).
    fn sipp_digit(event: u8, ts: u32, at: u64) -> Vec<(u32, bool, [u8; 4], u64)> {
        let mut v: Vec<_> = (0..7u16)
            .map(|i| {
                (
                    ts,
                    i == 0,
                    ev(event, false, 320 * i),
                    at + 20 * u64::from(i),
                )
            })
            .collect();
        v.extend((0..3).map(|_| (ts, false, ev(event, true, 2240), at + 140)));
        v
    }

    /// baresip (libre telev.c, 20 ms ptime): 9 packets with durations 160..=1440 (marker on
    /// the first), then three end packets with duration 1440, each 20 ms apart.
    fn baresip_digit(event: u8, ts: u32, at: u64) -> Vec<(u32, bool, [u8; 4], u64)> {
        let mut v: Vec<_> = (1..=9u16)
            .map(|i| {
                (
                    ts,
                    i == 1,
                    ev(event, false, 160 * i),
                    at + 20 * u64::from(i - 1),
                )
            })
            .collect();
        v.extend((0..3u64).map(|i| (ts, false, ev(event, true, 1440), at + 180 + 20 * i)));
        v
    }

    #[test]
    fn payload_round_trip() {
        let bytes = [0x01, 0x8a, 0x08, 0xc0];
        let e = TelephoneEvent::parse(&bytes).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                event: 1,
                end: true,
                volume: 10,
                duration: 2240
            }
        );
        assert_eq!(e.to_bytes(), bytes);
        assert_eq!(TelephoneEvent::parse(&bytes[..3]), None);
        // A longer payload (RFC 4733 §2.5.1.5 multiple events): the first one is read.
        assert_eq!(
            TelephoneEvent::parse(&[5, 0, 0, 160, 6, 0, 0, 0]).map(|e| e.event),
            Some(5)
        );
    }

    #[test]
    fn event_codes() {
        let keys: String = (0..16).filter_map(event_to_digit).collect();
        assert_eq!(keys, "0123456789*#ABCD");
        assert_eq!(event_to_digit(16), None);
        for (i, c) in keys.chars().enumerate() {
            assert_eq!(digit_to_event(c), Some(i as u8));
        }
        assert_eq!(digit_to_event('b'), Some(13));
        assert_eq!(digit_to_event('E'), None);
    }

    #[test]
    fn sipp_shape_gives_one_digit_with_its_duration() {
        let (digits, kinds, t0) = read(&sipp_digit(11, 0x169e0, 0));
        assert_eq!(digits.len(), 1);
        assert_eq!(digits[0].digit, '#');
        assert_eq!(digits[0].duration_ms, 280);
        assert_eq!(digits[0].started, t0);
        assert_eq!(kinds[0], EventPacket::Start);
        assert_eq!(kinds[7], EventPacket::End);
        assert_eq!(kinds[8..], [EventPacket::Redundant, EventPacket::Redundant]);
    }

    #[test]
    fn baresip_shape_gives_one_digit() {
        let mut packets = baresip_digit(1, 1000, 0);
        packets.extend(baresip_digit(2, 5000, 500));
        packets.extend(baresip_digit(11, 9000, 1000));
        let (digits, _, t0) = read(&packets);
        let keys: String = digits.iter().map(|d| d.digit).collect();
        assert_eq!(keys, "12#");
        assert!(digits.iter().all(|d| d.duration_ms == 180));
        // The first packet already carried 20 ms of duration: the press started 20 ms earlier.
        assert_eq!(digits[1].started, t0 + 480 * MS);
    }

    #[test]
    fn long_press_is_one_digit() {
        // 3 s of updates every 50 ms.
        let mut packets: Vec<_> = (0..60u16)
            .map(|i| (77, i == 0, ev(5, false, 400 * i + 400), 50 * u64::from(i)))
            .collect();
        packets.extend((0..3).map(|_| (77, false, ev(5, true, 24000), 3000)));
        let (digits, _, _) = read(&packets);
        assert_eq!(digits.len(), 1);
        assert_eq!(digits[0].duration_ms, 3000);
    }

    #[test]
    fn press_longer_than_the_duration_field_continues_in_segments() {
        // 10 s: segment 1 at ts 0 up to 65535, segment 2 at ts 65535 (no marker).
        let mut packets: Vec<_> = (1..=40u32)
            .map(|i| {
                (
                    0,
                    i == 1,
                    ev(9, false, (i * 1600).min(65535) as u16),
                    200 * u64::from(i),
                )
            })
            .collect();
        packets.extend((1..=10u32).map(|i| {
            (
                65535,
                false,
                ev(9, false, (i * 1600) as u16),
                8200 + 200 * u64::from(i),
            )
        }));
        packets.push((65535, false, ev(9, true, 14465), 10_200));
        let (digits, kinds, _) = read(&packets);
        assert_eq!(digits.len(), 1, "{kinds:?}");
        assert_eq!(digits[0].duration_ms, 10_000);
    }

    #[test]
    fn lost_end_packets_end_the_event_at_the_next_digit() {
        let mut packets: Vec<_> = sipp_digit(3, 1000, 0).into_iter().take(7).collect();
        packets.extend(sipp_digit(4, 5000, 300));
        let (digits, _, _) = read(&packets);
        let keys: String = digits.iter().map(|d| d.digit).collect();
        assert_eq!(keys, "34");
        assert_eq!(digits[0].duration_ms, 240, "largest duration seen");
    }

    #[test]
    fn lost_end_packets_end_the_event_on_timeout() {
        let t0 = Instant::now();
        let mut r = TelephoneEventReader::new();
        for (ts, marker, payload, at) in sipp_digit(7, 1000, 0).into_iter().take(5) {
            r.handle_packet(1, ts, marker, &payload, t0 + MS * at as u32);
        }
        assert_eq!(r.poll_event(), None);
        let deadline = r.poll_timeout().unwrap();
        assert_eq!(deadline, t0 + 80 * MS + EVENT_TIMEOUT);
        r.handle_timeout(deadline - MS);
        assert_eq!(r.poll_event(), None);
        r.handle_timeout(deadline);
        assert_eq!(r.poll_event().map(|d| d.digit), Some('7'));
        assert_eq!(r.poll_timeout(), None);
        // A straggler of the finished event does not bring it back.
        assert_eq!(
            r.handle_packet(1, 1000, false, &ev(7, true, 2240), deadline + MS),
            EventPacket::Redundant
        );
        assert_eq!(r.poll_event(), None);
    }

    #[test]
    fn lost_start_packet_still_gives_the_digit() {
        let packets: Vec<_> = sipp_digit(0, 1000, 0).into_iter().skip(1).collect();
        let (digits, _, _) = read(&packets);
        assert_eq!(digits.len(), 1);
        assert_eq!(digits[0].digit, '0');
    }

    #[test]
    fn only_an_end_packet_still_gives_the_digit() {
        let (digits, kinds, _) = read(&[
            (1000, false, ev(6, true, 800), 0),
            (1000, false, ev(6, true, 800), 20),
        ]);
        assert_eq!(digits.len(), 1);
        assert_eq!(kinds, [EventPacket::End, EventPacket::Redundant]);
    }

    #[test]
    fn same_digit_twice_gives_two_digits() {
        let mut packets = sipp_digit(5, 1000, 0);
        packets.extend(sipp_digit(5, 4000, 200));
        let (digits, _, _) = read(&packets);
        assert_eq!(digits.iter().map(|d| d.digit).collect::<String>(), "55");
    }

    #[test]
    fn reordered_update_after_the_end_is_redundant() {
        let mut packets = baresip_digit(8, 1000, 0);
        packets.swap(8, 9); // the first end packet overtakes the last update
        let (digits, kinds, _) = read(&packets);
        assert_eq!(digits.len(), 1);
        assert_eq!(kinds[8], EventPacket::End);
        assert_eq!(kinds[9], EventPacket::Redundant);
    }

    #[test]
    fn non_key_events_and_short_payloads_are_ignored() {
        let (digits, kinds, _) = read(&[
            (1, true, ev(16, false, 160), 0),
            (1, false, ev(16, true, 320), 20),
        ]);
        assert!(digits.is_empty());
        assert_eq!(kinds, [EventPacket::Unsupported, EventPacket::Unsupported]);
        let mut r = TelephoneEventReader::new();
        assert_eq!(
            r.handle_packet(1, 1, true, &[1, 2], Instant::now()),
            EventPacket::Malformed
        );
    }

    #[test]
    fn the_digit_queue_is_bounded() {
        let t0 = Instant::now();
        let mut r = TelephoneEventReader::new();
        for i in 0..100u32 {
            r.handle_packet(1, i * 1000, true, &ev(1, true, 400), t0);
        }
        assert_eq!(r.detected(), 100);
        assert_eq!(r.dropped(), 100 - QUEUE as u64);
    }

    #[test]
    fn sender_shape() {
        let t0 = Instant::now();
        let mut s = EventSender::new();
        assert!(s.push(11, 800, t0));
        let mut out = Vec::new();
        let mut now = t0;
        for _ in 0..20 {
            while let Some(p) = s.poll(now, 160, 20 * MS) {
                if p.ts.is_none() {
                    s.set_timestamp(4242);
                }
                out.push(p);
            }
            now += 20 * MS;
        }
        let parsed: Vec<TelephoneEvent> = out
            .iter()
            .map(|p| TelephoneEvent::parse(&p.payload).unwrap())
            .collect();
        let durations: Vec<u16> = parsed.iter().map(|e| e.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<bool> = parsed.iter().map(|e| e.end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        assert!(out[0].marker && out[1..].iter().all(|p| !p.marker));
        assert!(out[1..].iter().all(|p| p.ts == Some(4242)));
        assert!(parsed.iter().all(|e| e.event == 11));
        assert!(!s.busy());
        assert_eq!(s.poll_timeout(), None);
        // What it sends, the reader reads.
        let mut r = TelephoneEventReader::new();
        for p in &out {
            r.handle_packet(9, 4242, p.marker, &p.payload, t0);
        }
        assert_eq!(
            r.poll_event().map(|d| (d.digit, d.duration_ms)),
            Some(('#', 100))
        );
    }

    #[test]
    fn sender_paces_queued_digits() {
        let t0 = Instant::now();
        let mut s = EventSender::new();
        for e in [1, 2] {
            assert!(s.push(e, 160, t0));
        }
        let mut starts = Vec::new();
        let mut now = t0;
        for _ in 0..40 {
            while let Some(p) = s.poll(now, 160, 20 * MS) {
                if p.marker {
                    starts.push(now - t0);
                    s.set_timestamp(0);
                }
            }
            now += 10 * MS;
        }
        // Digit 1: start at 0, end packets at 20, 40, 60 ms; digit 2 after a 60 ms gap.
        assert_eq!(starts, [Duration::ZERO, 120 * MS]);
        for _ in 0..SEND_QUEUE {
            s.push(3, 160, now);
        }
        assert!(!s.push(3, 160, now));
    }

    #[test]
    fn dtmf_relay_bodies() {
        let ok = |body: &str, digit: char, duration: Option<u32>| {
            assert_eq!(
                parse_dtmf_relay(body.as_bytes()),
                Ok(InfoDigit {
                    digit,
                    duration_ms: duration
                }),
                "{body:?}"
            );
        };
        // Cisco IOS gateways and CUCM.
        ok("Signal=5\r\nDuration=160\r\n", '5', Some(160));
        ok("Signal= 1\r\nDuration= 250\r\n", '1', Some(250));
        // Asterisk and FreeSWITCH.
        ok("Signal=*\r\nDuration=100\r\n", '*', Some(100));
        ok("Signal=#\r\nDuration=100\r\n", '#', Some(100));
        ok("signal=a\nduration=80\n", 'A', Some(80));
        ok("SIGNAL = 9", '9', None);
        // Event numbers: 10 is *, 11 is #, 12-15 A-D.
        ok("Signal=10\r\nDuration=160\r\n", '*', Some(160));
        ok("Signal=11\r\n", '#', None);
        ok("Signal=15\r\n", 'D', None);
        ok("Duration=160\r\nSignal=3\r\n", '3', Some(160));
        ok("Signal=3\r\nDuration=lots\r\n", '3', None);
        ok("Signal=2\r\nSignal=7\r\n", '2', None);
        assert_eq!(
            parse_dtmf_relay(b"Signal=!\r\nDuration=250\r\n"),
            Err(InfoDtmfError::UnknownSignal)
        );
        assert_eq!(
            parse_dtmf_relay(b"Signal=16\r\n"),
            Err(InfoDtmfError::UnknownSignal)
        );
        assert_eq!(
            parse_dtmf_relay(b"Signal=12345678901234567890\r\n"),
            Err(InfoDtmfError::UnknownSignal)
        );
        assert_eq!(
            parse_dtmf_relay(b"Duration=250\r\n"),
            Err(InfoDtmfError::MissingSignal)
        );
        assert_eq!(
            parse_dtmf_relay(b"Signal=\r\n"),
            Err(InfoDtmfError::MissingSignal)
        );
        assert_eq!(parse_dtmf_relay(b""), Err(InfoDtmfError::MissingSignal));
        assert_eq!(
            parse_dtmf_relay(b"\xff\xfe=\x00"),
            Err(InfoDtmfError::MissingSignal)
        );
    }

    #[test]
    fn dtmf_bodies_and_content_types() {
        assert_eq!(parse_dtmf(b"5"), Ok('5'));
        assert_eq!(parse_dtmf(b"#\r\n"), Ok('#'));
        assert_eq!(parse_dtmf(b" 11 "), Ok('#'));
        assert_eq!(parse_dtmf(b"d"), Ok('D'));
        assert_eq!(parse_dtmf(b""), Err(InfoDtmfError::MissingSignal));
        assert_eq!(parse_dtmf(b"x"), Err(InfoDtmfError::UnknownSignal));
        let relay = parse_info_body(
            "Application/DTMF-Relay; charset=utf-8",
            b"Signal=4\r\nDuration=160\r\n",
        );
        assert_eq!(
            relay,
            Ok(InfoDigit {
                digit: '4',
                duration_ms: Some(160)
            })
        );
        assert_eq!(
            parse_info_body("application/dtmf", b"7").map(|d| d.digit),
            Ok('7')
        );
        assert_eq!(
            parse_info_body("application/sdp", b"7"),
            Err(InfoDtmfError::UnsupportedContentType)
        );
    }

    #[test]
    fn dedup_one_press_reported_both_ways() {
        let t0 = Instant::now();
        let mut d = DigitDeduplicator::default();
        // INFO at key down, RTP digit (reported at key up) started 30 ms earlier.
        assert!(d.offer(DigitSource::Info, '5', t0 + 30 * MS));
        assert!(!d.offer(DigitSource::Rtp, '5', t0));
        // RTP first this time.
        assert!(d.offer(DigitSource::Rtp, '6', t0 + 1000 * MS));
        assert!(!d.offer(DigitSource::Info, '6', t0 + 1100 * MS));
    }

    #[test]
    fn dedup_keeps_quick_repeats_and_single_source_streams() {
        let t0 = Instant::now();
        let mut d = DigitDeduplicator::default();
        // "11" pressed 200 ms apart, both sources.
        assert!(d.offer(DigitSource::Rtp, '1', t0));
        assert!(!d.offer(DigitSource::Info, '1', t0 + 20 * MS));
        assert!(d.offer(DigitSource::Rtp, '1', t0 + 200 * MS));
        assert!(!d.offer(DigitSource::Info, '1', t0 + 220 * MS));
        // Only RTP: "222" in quick succession is three presses.
        let mut d = DigitDeduplicator::default();
        for i in 0..3u32 {
            assert!(d.offer(DigitSource::Rtp, '2', t0 + 150 * MS * i));
        }
        // Another key, or the same key from the other source outside the window, is new.
        let mut d = DigitDeduplicator::default();
        assert!(d.offer(DigitSource::Rtp, '3', t0));
        assert!(d.offer(DigitSource::Info, '4', t0));
        assert!(d.offer(DigitSource::Info, '3', t0 + 600 * MS));
    }
}
