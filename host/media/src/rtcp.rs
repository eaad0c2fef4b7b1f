//! RTP receive statistics and RTCP reports (RFC 3550 basics).
//!
//! Owns: the sequence tracker of the remote stream (RFC 3550 A.1: extended sequence numbers
//! across wraps, restart after a confirmed jump, plus a 128-packet window that spots
//! duplicates), the interarrival jitter estimator (A.8), loss accounting (A.3), and the RTCP
//! side of a leg: building a compound SR or RR + SDES CNAME every [`REPORT_INTERVAL`], and
//! reading the SR/RR the peer sends.
//!
//! Timing: reports go out on a fixed 5 s interval (the first after 2.5 s) instead of RFC 3550's
//! randomized interval: a leg is a two-party session and the library has no randomness. The
//! NTP timestamp in our SRs counts from the leg's creation (RFC 3550 §6.4.1 allows a relative
//! clock); only its echo (LSR/DLSR) matters for the round-trip time, and that is consistent.
//!
//! Does not own: protection and transmission of the reports ([`crate::leg`]).

use std::time::{Duration, Instant};

use bytes::Bytes;
use rtcp::reception_report::ReceptionReport;
use rtcp::source_description::{
    SdesType, SourceDescription, SourceDescriptionChunk, SourceDescriptionItem,
};
use webrtc_util::marshal::{Marshal, Unmarshal};

use crate::packet::RtcpPart;
use crate::stats::RemoteReport;

/// Interval between our RTCP reports.
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// Delay of the first report after the leg starts.
pub(crate) const FIRST_REPORT: Duration = Duration::from_millis(2500);

const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;

/// What the sequence tracker says about one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqVerdict {
    /// New packet: in order, after a gap, or reordered within the window.
    Accept,
    /// Already received.
    Duplicate,
    /// A jump of more than [`MAX_DROPOUT`] ahead or [`MAX_MISORDER`] behind, not yet confirmed
    /// by a following packet (RFC 3550 A.1 `bad_seq`); dropped.
    Jump,
}

/// Sequence state of the remote stream (RFC 3550 A.1).
#[derive(Debug, Clone, Default)]
pub(crate) struct SeqTracker {
    started: bool,
    max_seq: u16,
    cycles: u64,
    base_seq: u64,
    bad_seq: Option<u16>,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Bit i set: extended sequence number `max - i` was received.
    window: u128,
    /// Loss counted by earlier incarnations (before a restart or SSRC change).
    lost_carried: u64,
}

impl SeqTracker {
    /// Judges `seq` and, when accepted, records it.
    pub(crate) fn update(&mut self, seq: u16) -> SeqVerdict {
        if !self.started {
            self.restart(seq);
            return SeqVerdict::Accept;
        }
        let ahead = seq.wrapping_sub(self.max_seq);
        let behind = self.max_seq.wrapping_sub(seq);
        if ahead == 0 {
            return SeqVerdict::Duplicate;
        }
        if ahead < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.window = self.window.checked_shl(u32::from(ahead)).unwrap_or(0) | 1;
            self.max_seq = seq;
            self.received += 1;
            self.bad_seq = None;
            return SeqVerdict::Accept;
        }
        if behind < MAX_MISORDER {
            let bit = 1u128 << behind;
            if self.window & bit != 0 {
                return SeqVerdict::Duplicate;
            }
            self.window |= bit;
            self.received += 1;
            return SeqVerdict::Accept;
        }
        if self.bad_seq == Some(seq) {
            // Two sequential packets after the jump: the source restarted its numbering.
            self.restart(seq);
            return SeqVerdict::Accept;
        }
        self.bad_seq = Some(seq.wrapping_add(1));
        SeqVerdict::Jump
    }

    /// Starts a new numbering at `seq` (first packet, confirmed jump, new SSRC).
    pub(crate) fn restart(&mut self, seq: u16) {
        let carried = self.lost_carried + self.lost_now();
        *self = Self {
            started: true,
            max_seq: seq,
            base_seq: u64::from(seq),
            received: 1,
            window: 1,
            lost_carried: carried,
            ..Self::default()
        };
    }

    /// Forgets the stream (before a new SSRC's first packet), keeping the loss total.
    pub(crate) fn reset(&mut self) {
        let carried = self.lost_carried + self.lost_now();
        *self = Self {
            lost_carried: carried,
            ..Self::default()
        };
    }

    /// Highest extended sequence number received.
    pub(crate) fn extended_max(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    fn expected(&self) -> u64 {
        if self.started {
            self.extended_max() + 1 - self.base_seq
        } else {
            0
        }
    }

    fn lost_now(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    /// Cumulative loss over the leg's life.
    pub(crate) fn lost(&self) -> u64 {
        self.lost_carried + self.lost_now()
    }

    /// Fraction lost since the previous call, out of 256 (RFC 3550 A.3), and the cumulative
    /// loss of the current numbering.
    fn interval_report(&mut self) -> (u8, u32) {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        (fraction, self.lost_now().min(0x7F_FFFF) as u32)
    }
}

/// Interarrival jitter estimator (RFC 3550 A.8), in timestamp units scaled by 16.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JitterEstimator {
    last_transit: Option<u32>,
    jitter_q4: u32,
}

impl JitterEstimator {
    /// Updates with a packet of RTP timestamp `ts` that arrived at `arrival` (same units).
    pub(crate) fn update(&mut self, arrival: u32, ts: u32) {
        let transit = arrival.wrapping_sub(ts);
        if let Some(last) = self.last_transit {
            // Cap one step at 1 s so a timestamp jump cannot blow the estimate up.
            let d = (transit.wrapping_sub(last) as i32).unsigned_abs().min(8000);
            self.jitter_q4 = self.jitter_q4 + d - ((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    /// Forgets the previous transit time (new stream, timestamp jump), keeping the estimate.
    pub(crate) fn restart(&mut self) {
        self.last_transit = None;
    }

    /// Current jitter in timestamp units.
    pub(crate) fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }
}

/// What we have sent, for the sender report.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SenderCounts {
    pub packets: u32,
    pub octets: u32,
    /// RTP timestamp of the last packet sent and when it was sent.
    pub last: Option<(u32, Instant)>,
}

/// RTCP state of one leg.
#[derive(Debug)]
pub(crate) struct RtcpState {
    epoch: Instant,
    cname: Bytes,
    pub next_report: Instant,
    /// Middle 32 bits of the last SR's NTP time, and when it arrived.
    last_sr: Option<(u32, Instant)>,
    /// Whether we sent RTP since the previous report (then we send an SR).
    pub sent_since_report: bool,
}

/// The remote stream, as seen for a reception report.
pub(crate) struct RemoteStream<'a> {
    pub ssrc: u32,
    pub seq: &'a mut SeqTracker,
    pub jitter: u32,
}

impl RtcpState {
    pub(crate) fn new(local_ssrc: u32, now: Instant) -> Self {
        Self {
            epoch: now,
            cname: Bytes::from(format!("{local_ssrc:08x}@plenum")),
            next_report: now + FIRST_REPORT,
            last_sr: None,
            sent_since_report: false,
        }
    }

    /// NTP-format time since the leg started (32.32 fixed point).
    fn ntp(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.epoch);
        (d.as_secs() << 32) | ((u64::from(d.subsec_nanos()) << 32) / 1_000_000_000)
    }

    /// Builds the compound report due at `now`: an SR if we sent since the last report, an RR
    /// otherwise, with a report block about the remote stream if there is one, then SDES CNAME.
    pub(crate) fn build_report(
        &mut self,
        now: Instant,
        local_ssrc: u32,
        sent: &SenderCounts,
        remote: Option<RemoteStream<'_>>,
    ) -> Option<Vec<u8>> {
        let reports: Vec<ReceptionReport> =
            remote.map(|r| self.block(now, r)).into_iter().collect();
        let first: Bytes = if self.sent_since_report {
            let ntp = self.ntp(now);
            let rtp_time = sent.last.map_or(0, |(ts, at)| {
                let since = now.saturating_duration_since(at).as_micros() * 8 / 1000;
                ts.wrapping_add(since as u32)
            });
            rtcp::sender_report::SenderReport {
                ssrc: local_ssrc,
                ntp_time: ntp,
                rtp_time,
                packet_count: sent.packets,
                octet_count: sent.octets,
                reports,
                profile_extensions: Bytes::new(),
            }
            .marshal()
            .ok()?
        } else {
            rtcp::receiver_report::ReceiverReport {
                ssrc: local_ssrc,
                reports,
                profile_extensions: Bytes::new(),
            }
            .marshal()
            .ok()?
        };
        let sdes = SourceDescription {
            chunks: vec![SourceDescriptionChunk {
                source: local_ssrc,
                items: vec![SourceDescriptionItem {
                    sdes_type: SdesType::SdesCname,
                    text: self.cname.clone(),
                }],
            }],
        }
        .marshal()
        .ok()?;
        self.sent_since_report = false;
        let mut out = Vec::with_capacity(first.len() + sdes.len());
        out.extend_from_slice(&first);
        out.extend_from_slice(&sdes);
        Some(out)
    }

    /// A BYE for `local_ssrc`, preceded by the mandatory report (RFC 3550 §6.1).
    pub(crate) fn build_bye(
        &mut self,
        now: Instant,
        local_ssrc: u32,
        sent: &SenderCounts,
    ) -> Option<Vec<u8>> {
        let mut out = self.build_report(now, local_ssrc, sent, None)?;
        let bye = rtcp::goodbye::Goodbye {
            sources: vec![local_ssrc],
            reason: Bytes::new(),
        }
        .marshal()
        .ok()?;
        out.extend_from_slice(&bye);
        Some(out)
    }

    fn block(&self, now: Instant, remote: RemoteStream<'_>) -> ReceptionReport {
        let (fraction_lost, total_lost) = remote.seq.interval_report();
        let (last_sender_report, delay) = self.last_sr.map_or((0, 0), |(lsr, at)| {
            let d = now.saturating_duration_since(at);
            let dlsr = d.as_secs() * 65536 + u64::from(d.subsec_nanos()) * 65536 / 1_000_000_000;
            (lsr, dlsr.min(u64::from(u32::MAX)) as u32)
        });
        ReceptionReport {
            ssrc: remote.ssrc,
            fraction_lost,
            total_lost,
            last_sequence_number: remote.seq.extended_max() as u32,
            jitter: remote.jitter,
            last_sender_report,
            delay,
        }
    }

    /// Reads one part of a received compound packet. Returns what it was, or `None` if an SR
    /// or RR did not parse.
    pub(crate) fn read_part(
        &mut self,
        part: RtcpPart<'_>,
        local_ssrc: u32,
        now: Instant,
    ) -> Option<Received> {
        let mut bytes = part.bytes;
        match part.packet_type {
            200 => {
                let sr = rtcp::sender_report::SenderReport::unmarshal(&mut bytes).ok()?;
                self.last_sr = Some(((sr.ntp_time >> 16) as u32, now));
                Some(Received::SenderReport(self.remote_report(
                    &sr.reports,
                    local_ssrc,
                    now,
                )))
            }
            201 => {
                let rr = rtcp::receiver_report::ReceiverReport::unmarshal(&mut bytes).ok()?;
                Some(Received::ReceiverReport(self.remote_report(
                    &rr.reports,
                    local_ssrc,
                    now,
                )))
            }
            _ => Some(Received::Other),
        }
    }

    fn remote_report(
        &self,
        blocks: &[ReceptionReport],
        local_ssrc: u32,
        now: Instant,
    ) -> Option<RemoteReport> {
        let b = blocks.iter().find(|b| b.ssrc == local_ssrc)?;
        let round_trip = (b.last_sender_report != 0).then(|| {
            let a = (self.ntp(now) >> 16) as u32;
            let rtt = a.wrapping_sub(b.last_sender_report).wrapping_sub(b.delay);
            // Anything above a minute is a bogus echo rather than a round trip.
            (rtt < 60 * 65536).then(|| Duration::from_nanos(u64::from(rtt) * 1_000_000_000 / 65536))
        });
        Some(RemoteReport {
            fraction_lost: b.fraction_lost,
            cumulative_lost: b.total_lost,
            highest_seq: b.last_sequence_number,
            jitter: b.jitter,
            round_trip: round_trip.flatten(),
        })
    }
}

/// One part of a received RTCP compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Received {
    /// A sender report, with its block about our stream if it has one.
    SenderReport(Option<RemoteReport>),
    /// A receiver report, with its block about our stream if it has one.
    ReceiverReport(Option<RemoteReport>),
    /// SDES, BYE, APP or feedback: accepted, not interpreted.
    Other,
}

#[cfg(test)]
mod tests {
    use rtcp::packet::Packet;

    use super::*;

    fn packet_type_of(p: &(dyn Packet + Send + Sync)) -> rtcp::header::PacketType {
        p.header().packet_type
    }

    #[test]
    fn in_order_gap_reorder_duplicate() {
        let mut s = SeqTracker::default();
        assert_eq!(s.update(10), SeqVerdict::Accept);
        assert_eq!(s.update(11), SeqVerdict::Accept);
        assert_eq!(s.update(14), SeqVerdict::Accept);
        assert_eq!(s.lost(), 2);
        assert_eq!(s.update(12), SeqVerdict::Accept);
        assert_eq!(s.update(12), SeqVerdict::Duplicate);
        assert_eq!(s.update(14), SeqVerdict::Duplicate);
        assert_eq!(s.lost(), 1);
        assert_eq!(s.update(13), SeqVerdict::Accept);
        assert_eq!(s.lost(), 0);
        assert_eq!(s.extended_max(), 14);
    }

    #[test]
    fn wraps_at_65535() {
        let mut s = SeqTracker::default();
        for seq in (65530..=65535).chain(0..5) {
            assert_eq!(s.update(seq), SeqVerdict::Accept, "{seq}");
        }
        assert_eq!(s.extended_max(), 65536 + 4);
        assert_eq!(s.lost(), 0);
        assert_eq!(s.update(65534), SeqVerdict::Duplicate, "behind the wrap");
    }

    #[test]
    fn a_jump_needs_two_sequential_packets() {
        let mut s = SeqTracker::default();
        s.update(100);
        s.update(101);
        assert_eq!(s.update(40000), SeqVerdict::Jump);
        assert_eq!(s.update(40001), SeqVerdict::Accept);
        assert_eq!(s.update(40002), SeqVerdict::Accept);
        assert_eq!(s.extended_max(), 40002);
        // Backwards too (a replayed capture with the same SSRC).
        assert_eq!(s.update(5), SeqVerdict::Jump);
        assert_eq!(s.update(6), SeqVerdict::Accept);
    }

    #[test]
    fn fraction_lost_per_interval() {
        let mut s = SeqTracker::default();
        for seq in 0..100u16 {
            if seq % 4 != 0 {
                s.update(seq);
            }
        }
        // Packet 0 was not sent (the stream started at 1): 99 expected, 74 received.
        let (fraction, total) = s.interval_report();
        assert_eq!(total, 24);
        assert_eq!(fraction, (24 * 256 / 99) as u8);
        for seq in 100..200u16 {
            s.update(seq);
        }
        assert_eq!(s.interval_report(), (0, 24));
    }

    #[test]
    fn jitter_of_a_regular_stream_is_zero_and_grows_with_variation() {
        let mut j = JitterEstimator::default();
        for i in 0..50u32 {
            j.update(1000 + i * 160, i * 160);
        }
        assert_eq!(j.jitter(), 0);
        for i in 50..500u32 {
            let wobble = if i % 2 == 0 { 80 } else { 0 };
            j.update(1000 + i * 160 + wobble, i * 160);
        }
        // Alternating ±80 converges to 80.
        assert!((75..=80).contains(&j.jitter()), "{}", j.jitter());
    }

    #[test]
    fn reports_parse_back_with_round_trip() {
        let t0 = Instant::now();
        let mut ours = RtcpState::new(1, t0);
        let mut theirs = RtcpState::new(2, t0);
        let mut seq = SeqTracker::default();
        for s in 0..10 {
            seq.update(s);
        }
        ours.sent_since_report = true;
        let sent = SenderCounts {
            packets: 10,
            octets: 1600,
            last: Some((1600, t0)),
        };
        let sr = ours
            .build_report(
                t0 + Duration::from_secs(1),
                1,
                &sent,
                Some(RemoteStream {
                    ssrc: 2,
                    seq: &mut seq,
                    jitter: 3,
                }),
            )
            .unwrap();
        let parts = crate::packet::split_rtcp(&sr).unwrap();
        assert_eq!(parts.len(), 2);
        let parsed = rtcp::packet::unmarshal(&mut &sr[..]).unwrap();
        assert_eq!(
            packet_type_of(parsed[0].as_ref()),
            rtcp::header::PacketType::SenderReport
        );
        // The peer reads our SR, then answers 100 ms later with an RR about us.
        let got = theirs
            .read_part(parts[0], 2, t0 + Duration::from_millis(1020))
            .unwrap();
        assert!(
            matches!(got, Received::SenderReport(Some(r)) if r.highest_seq == 9 && r.jitter == 3)
        );
        let mut their_seq = SeqTracker::default();
        their_seq.update(0);
        let rr = theirs
            .build_report(
                t0 + Duration::from_millis(1120),
                2,
                &SenderCounts::default(),
                Some(RemoteStream {
                    ssrc: 1,
                    seq: &mut their_seq,
                    jitter: 0,
                }),
            )
            .unwrap();
        let parts = crate::packet::split_rtcp(&rr).unwrap();
        let got = ours
            .read_part(parts[0], 1, t0 + Duration::from_millis(1140))
            .unwrap();
        let Received::ReceiverReport(Some(report)) = got else {
            panic!("{got:?}")
        };
        // Sent at 1.000 s, echoed after a 100 ms hold, back at 1.140 s: 40 ms round trip.
        let rtt = report.round_trip.unwrap();
        assert!(
            rtt > Duration::from_millis(39) && rtt < Duration::from_millis(41),
            "{rtt:?}"
        );
    }
}
