//! The counters of one leg.
//!
//! Owns: [`LegStats`], a plain snapshot returned by [`crate::Leg::stats`], and
//! [`RemoteReport`], what the peer last said about our stream in RTCP.
//!
//! Does not own: exporting them (the binary maps them to Prometheus).

use std::time::Duration;

/// Counters and gauges of one leg since it was created.
///
/// Every datagram the leg is given (`datagrams`) is counted in exactly one of `received`
/// (RTP), `rtcp_received` or the drop counters `garbage`, `wrong_source`, `wrong_ssrc`,
/// `wrong_payload_type`, `duplicate`, `out_of_sequence`, `srtp_auth_failures` and `replays`
/// ([`LegStats::unaccounted`] is zero). `late` is a part of `received`: audio that was valid
/// but arrived behind the playout point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegStats {
    /// Datagrams given to [`crate::Leg::handle_datagram`].
    pub datagrams: u64,
    /// RTP packets accepted: authenticated, well-formed, of the current stream, not duplicate.
    pub received: u64,
    /// Audio packets decoded into the jitter buffer.
    pub decoded: u64,
    /// Audio packets the jitter buffer dropped for arriving behind the playout point (a part of
    /// `received`).
    pub late: u64,
    /// Packets dropped because their sequence number was already received.
    pub duplicate: u64,
    /// Packets lost, from sequence gaps (RFC 3550 A.3 cumulative loss: expected − received).
    pub lost: u64,
    /// Datagrams that are not RTP/RTCP or do not parse (bad version, truncated headers,
    /// extension or padding lengths out of bounds, malformed RTCP or telephone-event payload).
    pub garbage: u64,
    /// Packets dropped because they belong to another SSRC than the current stream.
    pub wrong_ssrc: u64,
    /// Packets with a payload type that is neither the audio codec, telephone-event nor comfort
    /// noise.
    pub wrong_payload_type: u64,
    /// Packets from an address other than the latched source (symmetric RTP).
    pub wrong_source: u64,
    /// Packets dropped after a sequence jump, until the jump is confirmed (RFC 3550 A.1).
    pub out_of_sequence: u64,
    /// SRTP/SRTCP packets whose authentication tag did not verify.
    pub srtp_auth_failures: u64,
    /// SRTP/SRTCP packets rejected by the replay window (replays, network duplicates, or
    /// packets more than 64 behind).
    pub replays: u64,
    /// Frames the jitter buffer filled by repeating the last frame (loss concealment).
    pub concealed_frames: u64,
    /// Frames pulled with nothing to play (no stream, or concealment exhausted).
    pub silent_frames: u64,
    /// Samples the jitter buffer dropped because it was full (oldest first).
    pub overflow_samples: u64,
    /// Times the jitter buffer restarted on a timestamp jump.
    pub resyncs: u64,
    /// Times the remote stream changed SSRC.
    pub ssrc_changes: u64,
    /// Comfort-noise packets (payload type 13) received: accepted, not played.
    pub comfort_noise: u64,
    /// Digits detected from RFC 4733 telephone-events.
    pub digits: u64,
    /// RTCP packets accepted.
    pub rtcp_received: u64,
    /// Sender reports among them.
    pub rtcp_sr_received: u64,
    /// Receiver reports among them.
    pub rtcp_rr_received: u64,
    /// RTP packets queued for sending.
    pub sent_packets: u64,
    /// Payload octets in them (as RTCP's sender octet count).
    pub sent_octets: u64,
    /// RTCP packets queued for sending.
    pub sent_rtcp: u64,
    /// Packets not queued because the transmit queue was full (timer-driven digit packets and
    /// RTCP; audio gets [`crate::Error::TransmitQueueFull`] instead).
    pub transmit_overflow: u64,
    /// Packets not sent because no destination is known yet.
    pub unsent_no_destination: u64,
    /// Audio frames not sent because a digit was being sent.
    pub audio_suppressed: u64,
    /// Interarrival jitter of the remote stream (RFC 3550 A.8), in milliseconds.
    pub jitter_ms: u32,
    /// The jitter buffer's current target delay, in milliseconds.
    pub jitter_buffer_target_ms: u32,
    /// What the peer last reported about our stream.
    pub remote_report: Option<RemoteReport>,
}

impl LegStats {
    /// Datagrams not counted in any outcome; always zero (a check for tests and fuzzing).
    pub fn unaccounted(&self) -> i128 {
        let outcomes = [
            self.received,
            self.rtcp_received,
            self.garbage,
            self.wrong_source,
            self.wrong_ssrc,
            self.wrong_payload_type,
            self.duplicate,
            self.out_of_sequence,
            self.srtp_auth_failures,
            self.replays,
        ];
        i128::from(self.datagrams) - outcomes.iter().map(|&n| i128::from(n)).sum::<i128>()
    }
}

/// A reception report block the peer sent about our stream (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteReport {
    /// Fraction of our packets lost since its previous report, out of 256.
    pub fraction_lost: u8,
    /// Our packets it counts as lost in total.
    pub cumulative_lost: u32,
    /// The highest extended sequence number it received from us.
    pub highest_seq: u32,
    /// Its interarrival jitter for our stream, in timestamp units (1/8000 s).
    pub jitter: u32,
    /// Round-trip time, when the report echoes one of our sender reports.
    pub round_trip: Option<Duration>,
}
