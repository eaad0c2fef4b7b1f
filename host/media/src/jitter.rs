//! The adaptive jitter buffer and packet loss concealment of one leg.
//!
//! Owns: turning decoded audio that arrives at irregular times, out of order or not at all into
//! exactly one 20 ms frame per [`JitterBuffer::pull_frame`] call, which the mixer makes on its
//! fixed tick and never waits on.
//!
//! How it works:
//! - **Storage** is a ring of [`CAPACITY`] samples indexed by RTP timestamp, with a presence
//!   flag per sample, allocated once. Any packet size (10, 20, 30 ms) and any alignment to the
//!   mixer's frames works; a packet that does not fit evicts the oldest samples (counted in
//!   [`JitterStats::overflow_samples`]).
//! - **Delay.** For every packet the buffer records its transit time (arrival, from `now`,
//!   minus RTP timestamp, in samples). `base` is the smallest transit over the last 4–8 s: the
//!   fastest packets. The playout delay `D` is how far behind those fastest packets the playout
//!   point runs. The jitter `P` is a peak detector over `transit - base`: it jumps up to each
//!   new maximum and decays by 1/256 per packet (about 5 s at 50 packets/s). The target is
//!   `D* = P + one frame` (a frame may straddle two packets), clamped to
//!   [`JitterConfig::min_delay_ms`]..=[`JitterConfig::max_delay_ms`]; it starts at
//!   [`JitterConfig::initial_delay_ms`].
//! - **Adapting.** When `D < D* - 5 ms` a pull *holds*: it returns a concealment frame without
//!   advancing, which grows `D` by a frame (at most every other pull). When `D >= D* + 20 ms`
//!   the buffer *drops* a frame: at once when nothing is buffered (a silence gap); after 25
//!   consecutive pulls (0.5 s) over the threshold if the frame is a pause (below −30 dBFS);
//!   after 100 pulls (2 s) in any case; at every pull while it exceeds the bound (the fastest
//!   packets got faster). So the delay follows the jitter up quickly and comes
//!   down slowly, and never exceeds the bound.
//! - **Concealment.** A frame with no samples repeats the last real frame with a gain that
//!   falls linearly to zero over [`JitterConfig::conceal_frames`] frames (ramped within each
//!   frame, so no clicks), then gives silence. Partly received frames are completed the same
//!   way. [`FrameKind`] says which of speech, concealment or silence a frame is.
//! - **Late and jumps.** A packet entirely behind the playout point is dropped and counted; ten
//!   late packets in a row, or a timestamp more than a second behind or far ahead, restart the
//!   buffer on the new timeline (a "resync", counted).
//!
//! Does not own: decoding, sequence numbers (duplicates are filtered by [`crate::Leg`] before
//! they get here), mixing.

use std::time::Instant;

use crate::{FRAME_SAMPLES, SAMPLE_RATE};

/// Ring size in samples (512 ms): the memory bound of one buffer.
pub const CAPACITY: usize = 4096;

const FRAME: i64 = FRAME_SAMPLES as i64;
const CAP: i64 = CAPACITY as i64;
/// Dead band below the target before the buffer grows (5 ms).
const SLACK: i64 = 40;
/// Pulls over the threshold before a frame is dropped while audio is buffered.
const SHRINK_PULLS: u32 = 25;
/// Sample magnitude under which a frame counts as a pause (about −30 dBFS).
const QUIET: u16 = 1000;
/// Consecutive late packets that mean the sender's timeline moved.
const LATE_RESYNC: u32 = 10;
/// A packet this far behind the playout point is a timeline jump, not a late packet (1 s).
const JUMP_BEHIND: i64 = SAMPLE_RATE as i64;
/// A packet this far ahead of the playout point is a timeline jump, not a burst (2 ring sizes).
const JUMP_AHEAD: i64 = 2 * CAP;
/// Window over which the fastest transit is taken (4 s; the minimum spans two windows).
const BASE_WINDOW: i64 = 4 * SAMPLE_RATE as i64;
/// Where the ring starts relative to the first packet, so slightly reordered packets before it
/// still fit.
const LEAD_IN: i64 = 2 * FRAME;

/// What a pulled frame contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// Received audio (possibly with a few missing samples filled in).
    Speech,
    /// No audio arrived for this frame: the last frame repeated with decaying gain.
    Concealed,
    /// Nothing to play: all zeros. The mixer can skip this leg.
    Silence,
}

/// One 20 ms frame of 8 kHz audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What the samples are.
    pub kind: FrameKind,
    /// 160 linear PCM samples.
    pub samples: [i16; FRAME_SAMPLES],
}

/// Tuning of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Smallest target delay (default 20 ms: one frame).
    pub min_delay_ms: u32,
    /// Target delay before any jitter is measured (default 40 ms: two frames).
    pub initial_delay_ms: u32,
    /// Largest target delay (default 200 ms). Capped at the ring size minus two frames.
    pub max_delay_ms: u32,
    /// Frames concealed after the last received one before silence (default 5, 100 ms).
    pub conceal_frames: u32,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            min_delay_ms: 20,
            initial_delay_ms: 40,
            max_delay_ms: 200,
            conceal_frames: 5,
        }
    }
}

/// What happened to an inserted packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Stored for playout.
    Stored,
    /// Entirely behind the playout point: dropped.
    Late,
    /// On a new timeline: the buffer restarted and stored it.
    Resynced,
}

/// Counters of one buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JitterStats {
    /// Packets dropped as late.
    pub late: u64,
    /// Samples evicted because the ring was full.
    pub overflow_samples: u64,
    /// Frames concealed.
    pub concealed: u64,
    /// Silent frames pulled.
    pub silent: u64,
    /// Restarts on a new timeline.
    pub resyncs: u64,
    /// Frames the delay grew by.
    pub grown: u64,
    /// Frames the delay shrank by.
    pub shrunk: u64,
}

/// An adaptive jitter buffer with loss concealment; see the module doc.
pub struct JitterBuffer {
    min_delay: i64,
    max_delay: i64,
    conceal_frames: u32,
    initial_peak_q4: i64,
    samples: Box<[i16]>,
    valid: Box<[bool]>,
    epoch: Option<Instant>,
    /// Something has been stored on the current timeline.
    have_data: bool,
    /// Playout has started on the current timeline.
    playing: bool,
    /// Lowest timestamp the ring holds; the playout point once playing.
    floor: i64,
    /// One past the highest timestamp stored.
    newest_end: i64,
    /// Reference for extending 32-bit timestamps.
    ext_ref: i64,
    /// Timestamp of the timeline's first packet: playout frames are aligned to it, so 20 ms
    /// packets map onto whole frames.
    grid: i64,
    est: Estimator,
    shrink_streak: u32,
    late_streak: u32,
    held_last_pull: bool,
    last_delay: i64,
    last: [i16; FRAME_SAMPLES],
    have_last: bool,
    conceal_run: u32,
    stats: JitterStats,
}

impl std::fmt::Debug for JitterBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitterBuffer")
            .field("playing", &self.playing)
            .field("floor", &self.floor)
            .field("newest_end", &self.newest_end)
            .field("target", &self.target())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Default for JitterBuffer {
    fn default() -> Self {
        Self::new(JitterConfig::default())
    }
}

impl JitterBuffer {
    /// An empty buffer; all memory is allocated here.
    pub fn new(config: JitterConfig) -> Self {
        let ms = |v: u32| i64::from(v) * i64::from(SAMPLE_RATE) / 1000;
        let max_delay = ms(config.max_delay_ms).clamp(FRAME, CAP - 2 * FRAME);
        let min_delay = ms(config.min_delay_ms).clamp(FRAME, max_delay);
        let initial = ms(config.initial_delay_ms).clamp(min_delay, max_delay);
        Self {
            min_delay,
            max_delay,
            conceal_frames: config.conceal_frames,
            initial_peak_q4: (initial - FRAME).max(0) * 16,
            samples: vec![0; CAPACITY].into_boxed_slice(),
            valid: vec![false; CAPACITY].into_boxed_slice(),
            epoch: None,
            have_data: false,
            playing: false,
            floor: 0,
            newest_end: 0,
            ext_ref: 0,
            grid: 0,
            est: Estimator::new((initial - FRAME).max(0) * 16),
            shrink_streak: 0,
            late_streak: 0,
            held_last_pull: false,
            last_delay: 0,
            last: [0; FRAME_SAMPLES],
            have_last: false,
            conceal_run: 0,
            stats: JitterStats::default(),
        }
    }

    /// Stores decoded samples whose first sample has RTP timestamp `ts`, arrived at `now`.
    pub fn insert(&mut self, ts: u32, samples: &[i16], now: Instant) -> Insert {
        let len = samples.len().min(CAPACITY - FRAME_SAMPLES) as i64;
        if len == 0 {
            return Insert::Stored;
        }
        let arrival = self.units(now);
        let ext = self.extend(ts);
        let mut outcome = Insert::Stored;
        if self.have_data {
            let rel = ext - self.floor;
            if rel > JUMP_AHEAD || rel + len < -JUMP_BEHIND {
                self.resync();
                outcome = Insert::Resynced;
            } else if ext + len <= self.floor {
                // A late packet is the jitter signal: it must raise the estimate.
                self.est.update(arrival - ext, arrival, self.max_delay);
                self.stats.late += 1;
                self.late_streak += 1;
                if !self.playing || self.late_streak < LATE_RESYNC {
                    return Insert::Late;
                }
                self.resync();
                outcome = Insert::Resynced;
            }
        }
        if !self.have_data {
            self.have_data = true;
            self.floor = ext - LEAD_IN;
            self.newest_end = ext;
            self.grid = ext;
            self.est.restart();
        }
        self.est.update(arrival - ext, arrival, self.max_delay);
        self.store(ext, samples.get(..len as usize).unwrap_or(samples));
        self.late_streak = 0;
        self.ext_ref = ext;
        outcome
    }

    /// Returns the next 20 ms frame: received audio, concealment or silence. Call once per
    /// mixer tick with the tick's time.
    pub fn pull_frame(&mut self, now: Instant) -> Frame {
        let mut samples = [0; FRAME_SAMPLES];
        let kind = self.pull_into(&mut samples, now);
        Frame { kind, samples }
    }

    /// [`Self::pull_frame`] into a caller's buffer.
    pub fn pull_into(&mut self, out: &mut [i16; FRAME_SAMPLES], now: Instant) -> FrameKind {
        let now_units = self.units(now);
        if !self.have_data {
            return self.conceal_or_silence(out);
        }
        if !self.playing {
            self.start_playing(now_units);
        } else if self.adapt(now_units) {
            return self.conceal_or_silence(out);
        }
        self.read_frame(out)
    }

    /// Forgets the stream (a new SSRC): the next packet starts a new timeline with the initial
    /// delay. Concealment of the last frame continues across the change.
    pub fn reset(&mut self) {
        self.clear_ring();
        self.have_data = false;
        self.playing = false;
        self.est = Estimator::new(self.initial_peak_q4);
        self.shrink_streak = 0;
        self.late_streak = 0;
    }

    /// The current target delay in milliseconds.
    pub fn target_delay_ms(&self) -> u32 {
        to_ms(self.target())
    }

    /// The playout delay behind the fastest packets at the last pull, in milliseconds; `None`
    /// before playout starts.
    pub fn delay_ms(&self) -> Option<u32> {
        self.playing.then(|| to_ms(self.last_delay))
    }

    /// Samples buffered ahead of the playout point (including gaps), in milliseconds.
    pub fn buffered_ms(&self) -> u32 {
        to_ms(if self.have_data {
            self.newest_end - self.floor
        } else {
            0
        })
    }

    /// The counters.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    fn target(&self) -> i64 {
        (FRAME + self.est.peak_q4 / 16).clamp(self.min_delay, self.max_delay)
    }

    fn units(&mut self, now: Instant) -> i64 {
        let epoch = *self.epoch.get_or_insert(now);
        units_since(epoch, now)
    }

    fn extend(&self, ts: u32) -> i64 {
        if !self.have_data {
            // Keep the numbers positive and away from i64's ends.
            return i64::from(ts) + (1 << 32);
        }
        let reference = if self.playing {
            self.floor
        } else {
            self.ext_ref
        };
        reference + i64::from(ts.wrapping_sub(reference as u32) as i32)
    }

    fn store(&mut self, ext: i64, samples: &[i16]) {
        let end = ext + samples.len() as i64;
        if end > self.floor + CAP {
            let to = self.align_up(end - CAP);
            self.stats.overflow_samples += self.clear_range(self.floor, to);
            self.floor = to;
        }
        for (t, &s) in (ext..).zip(samples) {
            if t < self.floor {
                continue;
            }
            let i = slot(t);
            if let (Some(dst), Some(flag)) = (self.samples.get_mut(i), self.valid.get_mut(i)) {
                *dst = s;
                *flag = true;
            }
        }
        self.newest_end = self.newest_end.max(end);
    }

    /// The frame boundary at or before `t`.
    fn align_down(&self, t: i64) -> i64 {
        t - (t - self.grid).rem_euclid(FRAME)
    }

    /// The frame boundary at or after `t`.
    fn align_up(&self, t: i64) -> i64 {
        self.align_down(t + FRAME - 1)
    }

    fn start_playing(&mut self, now_units: i64) {
        // Rounded down to a frame boundary: the delay starts between target and target + 1
        // frame.
        let wanted = self.align_down(now_units - self.est.base - self.target());
        let start = wanted.max(self.align_up(self.newest_end - CAP));
        if start > self.floor {
            self.clear_range(self.floor, start);
        }
        self.floor = start;
        self.playing = true;
        self.shrink_streak = 0;
        self.last_delay = now_units - self.floor - self.est.base;
    }

    /// Moves the playout point towards the target; `true` means hold this pull.
    fn adapt(&mut self, now_units: i64) -> bool {
        let delay = now_units - self.floor - self.est.base;
        self.last_delay = delay;
        let target = self.target();
        if delay > target + self.max_delay {
            // Far behind (the mixer stopped pulling for a while): jump to the target.
            let start = self.align_down(now_units - self.est.base - target);
            self.clear_range(self.floor, start);
            self.floor = start;
            self.shrink_streak = 0;
            return false;
        }
        if delay < target - SLACK && !self.held_last_pull {
            self.held_last_pull = true;
            self.stats.grown += 1;
            return true;
        }
        self.held_last_pull = false;
        if delay >= target + FRAME {
            self.shrink_streak += 1;
            let due = delay > self.max_delay + FRAME
                || self.shrink_streak >= 4 * SHRINK_PULLS
                || (self.shrink_streak >= SHRINK_PULLS && self.next_frame_is_quiet());
            if self.newest_end <= self.floor || due {
                self.clear_range(self.floor, self.floor + FRAME);
                self.floor += FRAME;
                self.shrink_streak = 0;
                self.stats.shrunk += 1;
            }
        } else {
            self.shrink_streak = 0;
        }
        false
    }

    /// Whether the frame at the playout point is a pause (every sample below −30 dBFS), where
    /// dropping it is not heard.
    fn next_frame_is_quiet(&self) -> bool {
        (self.floor..self.floor + FRAME).all(|t| {
            let i = slot(t);
            !self.valid.get(i).copied().unwrap_or(false)
                || self.samples.get(i).is_none_or(|s| s.unsigned_abs() < QUIET)
        })
    }

    fn read_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> FrameKind {
        let mut present = 0usize;
        for (t, o) in (self.floor..).zip(out.iter_mut()) {
            let i = slot(t);
            if self.valid.get(i).copied().unwrap_or(false) {
                present += 1;
                *o = self.samples.get(i).copied().unwrap_or(0);
            }
        }
        let kind = match present {
            0 => self.conceal_or_silence(out),
            FRAME_SAMPLES => FrameKind::Speech,
            _ => {
                self.fill_gaps(out);
                FrameKind::Speech
            }
        };
        self.clear_range(self.floor, self.floor + FRAME);
        self.floor += FRAME;
        if kind == FrameKind::Speech {
            self.last = *out;
            self.have_last = true;
            self.conceal_run = 0;
        }
        kind
    }

    /// Completes a partly received frame from the last frame at the current concealment gain.
    fn fill_gaps(&self, out: &mut [i16; FRAME_SAMPLES]) {
        let gain = self.gain(self.conceal_run);
        for ((t, o), &l) in (self.floor..).zip(out.iter_mut()).zip(&self.last) {
            if !self.valid.get(slot(t)).copied().unwrap_or(false) {
                *o = if self.have_last { scale(l, gain) } else { 0 };
            }
        }
    }

    fn conceal_or_silence(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> FrameKind {
        if !self.have_last || self.conceal_run >= self.conceal_frames {
            out.fill(0);
            self.stats.silent += 1;
            return FrameKind::Silence;
        }
        let (g0, g1) = (self.gain(self.conceal_run), self.gain(self.conceal_run + 1));
        for (i, (o, &l)) in out.iter_mut().zip(&self.last).enumerate() {
            let g = g0 + (g1 - g0) * i as i32 / FRAME_SAMPLES as i32;
            *o = scale(l, g);
        }
        self.conceal_run += 1;
        self.stats.concealed += 1;
        FrameKind::Concealed
    }

    /// Q15 gain of the `k`-th concealed frame boundary: 1 at 0, 0 at `conceal_frames`.
    fn gain(&self, k: u32) -> i32 {
        let n = self.conceal_frames.max(1);
        (32768 * (n.saturating_sub(k)) / n) as i32
    }

    fn resync(&mut self) {
        self.stats.resyncs += 1;
        let peak = self.est.peak_q4;
        self.reset();
        self.est.peak_q4 = peak;
    }

    fn clear_ring(&mut self) {
        self.valid.fill(false);
    }

    /// Clears the presence flags of `[from, to)`; returns how many were set.
    fn clear_range(&mut self, from: i64, to: i64) -> u64 {
        if to - from >= CAP {
            let n = self.valid.iter().filter(|v| **v).count() as u64;
            self.clear_ring();
            return n;
        }
        let mut cleared = 0;
        for t in from..to {
            if let Some(v) = self.valid.get_mut(slot(t)) {
                cleared += u64::from(*v);
                *v = false;
            }
        }
        cleared
    }
}

/// Transit statistics: the fastest transit (`base`) and the jitter peak over it.
#[derive(Debug, Clone, Copy)]
struct Estimator {
    started: bool,
    base: i64,
    window_start: i64,
    window_min: i64,
    previous_min: i64,
    /// Jitter peak in samples, scaled by 16.
    peak_q4: i64,
}

impl Estimator {
    fn new(peak_q4: i64) -> Self {
        Self {
            started: false,
            base: 0,
            window_start: 0,
            window_min: 0,
            previous_min: 0,
            peak_q4,
        }
    }

    /// A new timeline: transit times are not comparable with the old ones.
    fn restart(&mut self) {
        self.started = false;
    }

    fn update(&mut self, transit: i64, arrival: i64, max_delay: i64) {
        if !self.started {
            *self = Self {
                started: true,
                base: transit,
                window_start: arrival,
                window_min: transit,
                previous_min: transit,
                peak_q4: self.peak_q4,
            };
        } else if arrival - self.window_start >= BASE_WINDOW {
            self.previous_min = self.window_min;
            self.window_min = transit;
            self.window_start = arrival;
        } else {
            self.window_min = self.window_min.min(transit);
        }
        self.base = self.window_min.min(self.previous_min);
        let excess_q4 = (transit - self.base).min(max_delay) * 16;
        if excess_q4 > self.peak_q4 {
            self.peak_q4 = excess_q4;
        } else if self.peak_q4 > 0 {
            self.peak_q4 -= (self.peak_q4 >> 8).max(1);
        }
    }
}

fn slot(t: i64) -> usize {
    t.rem_euclid(CAP) as usize
}

fn scale(sample: i16, gain_q15: i32) -> i16 {
    ((i32::from(sample) * gain_q15) >> 15) as i16
}

fn units_since(epoch: Instant, now: Instant) -> i64 {
    let micros = now.saturating_duration_since(epoch).as_micros();
    (micros * u128::from(SAMPLE_RATE) / 1_000_000).min(i64::MAX as u128) as i64
}

fn to_ms(samples: i64) -> u32 {
    (samples.max(0) * 1000 / i64::from(SAMPLE_RATE)).min(i64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Samples of the packet at `ts`: each sample is its own timestamp modulo 20000, so the
    /// output shows exactly which samples were played.
    fn packet(ts: u32, len: usize) -> Vec<i16> {
        (0..len as u32)
            .map(|i| ((ts + i) % 20000) as i16 + 1)
            .collect()
    }

    /// Deterministic pseudo-random numbers in `0..n`.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    /// A sender emitting a 20 ms packet every 20 ms from `t0`; `delay(i)` is packet i's network
    /// delay, `None` loses it. The mixer pulls every 20 ms, 7 ms out of phase. Returns the
    /// frames pulled and the buffer.
    fn run(
        packets: u32,
        pulls: u32,
        config: JitterConfig,
        mut delay: impl FnMut(u32) -> Option<Duration>,
    ) -> (Vec<Frame>, JitterBuffer, Vec<u32>) {
        let t0 = Instant::now();
        let ts0 = 1_000_000u32;
        let mut arrivals: Vec<(Duration, u32)> = (0..packets)
            .filter_map(|i| delay(i).map(|d| (20 * MS * i + d, ts0 + 160 * i)))
            .collect();
        arrivals.sort_by_key(|a| a.0);
        let mut jb = JitterBuffer::new(config);
        let mut frames = Vec::new();
        let mut delays = Vec::new();
        let mut next = arrivals.iter().peekable();
        for k in 0..pulls {
            let pull_at = 20 * MS * k + 7 * MS;
            while let Some(&&(at, ts)) = next.peek() {
                if at > pull_at {
                    break;
                }
                jb.insert(ts, &packet(ts, 160), t0 + at);
                next.next();
            }
            frames.push(jb.pull_frame(t0 + pull_at));
            delays.push(jb.delay_ms().unwrap_or(0));
        }
        (frames, jb, delays)
    }

    fn speech_samples(frames: &[Frame]) -> Vec<i16> {
        frames
            .iter()
            .filter(|f| f.kind == FrameKind::Speech)
            .flat_map(|f| f.samples)
            .collect()
    }

    /// Consecutive except for `skips` dropped frames.
    fn assert_consecutive_but(samples: &[i16], skips: usize) {
        let jumps = samples.windows(2).filter(|w| w[1] != w[0] + 1).count();
        assert_eq!(jumps, skips);
        for w in samples.windows(2) {
            assert!(
                w[1] == w[0] + 1 || w[1] == w[0] + 161,
                "gap {} -> {}",
                w[0],
                w[1]
            );
        }
    }

    fn assert_consecutive(samples: &[i16]) {
        for w in samples.windows(2) {
            assert!(
                w[1] == w[0] + 1 || (w[0] == 20000 && w[1] == 1),
                "gap {} -> {}",
                w[0],
                w[1]
            );
        }
    }

    #[test]
    fn nothing_received_is_silence() {
        let mut jb = JitterBuffer::default();
        let f = jb.pull_frame(Instant::now());
        assert_eq!(f.kind, FrameKind::Silence);
        assert_eq!(f.samples, [0; FRAME_SAMPLES]);
    }

    #[test]
    fn in_order_stream_plays_every_sample_after_the_initial_delay() {
        let (frames, jb, _) = run(100, 110, JitterConfig::default(), |_| Some(30 * MS));
        let kinds: Vec<FrameKind> = frames.iter().map(|f| f.kind).collect();
        let first_speech = kinds.iter().position(|k| *k == FrameKind::Speech).unwrap();
        // Packet 0 arrives at 30 ms; the target delay is 40 ms: playout starts 2-3 pulls later.
        assert!((1..=4).contains(&first_speech), "{kinds:?}");
        let speech = speech_samples(&frames);
        // Without jitter the target decays towards one frame and the buffer may drop a frame
        // to follow it; everything else is played, in order.
        let skipped = 100 - speech.len() / 160;
        assert!(skipped <= jb.stats().shrunk as usize && skipped <= 1);
        assert_eq!(speech[0], packet(1_000_000, 1)[0]);
        assert_consecutive_but(&speech, skipped);
        assert_eq!(jb.stats().late, 0);
        assert_eq!(jb.stats().concealed, 5, "the tail after the last packet");
    }

    #[test]
    fn reordered_packets_within_the_delay_are_played_in_order() {
        // Every odd packet overtakes the even one before it by 15 ms.
        let (frames, jb, _) = run(100, 110, JitterConfig::default(), |i| {
            Some(if i % 2 == 0 { 40 * MS } else { 25 * MS })
        });
        let speech = speech_samples(&frames);
        let skipped = 100 - speech.len() / 160;
        assert!(skipped <= jb.stats().shrunk as usize);
        assert_consecutive_but(&speech, skipped);
        assert_eq!(jb.stats().late, 0);
    }

    #[test]
    fn lost_packets_are_concealed_with_decay_then_silence() {
        let lost = |i: u32| i == 20 || (40..50).contains(&i);
        let (frames, jb, _) = run(60, 70, JitterConfig::default(), |i| {
            (!lost(i)).then_some(30 * MS)
        });
        let kinds: Vec<FrameKind> = frames.iter().map(|f| f.kind).collect();
        // One lost packet: frames straddling it are partly filled; at most one fully concealed.
        assert!(jb.stats().concealed >= 1);
        // Ten lost in a row: five concealed frames, then silence.
        let mut longest_conceal = 0;
        let mut current = 0;
        let mut silence_after_conceal = false;
        for w in kinds.windows(2) {
            if w[1] == FrameKind::Concealed {
                current += 1;
                longest_conceal = longest_conceal.max(current);
            } else {
                if w[0] == FrameKind::Concealed && w[1] == FrameKind::Silence {
                    silence_after_conceal = true;
                }
                current = 0;
            }
        }
        assert_eq!(longest_conceal, 5, "{kinds:?}");
        assert!(silence_after_conceal, "{kinds:?}");
        // The concealed frames decay: each one's energy is below the previous one's.
        let energies: Vec<i64> = frames
            .iter()
            .filter(|f| f.kind == FrameKind::Concealed)
            .map(|f| f.samples.iter().map(|&s| i64::from(s).abs()).sum())
            .collect();
        let last5 = &energies[energies.len() - 5..];
        for w in last5.windows(2) {
            assert!(w[1] < w[0], "{last5:?}");
        }
    }

    #[test]
    fn partly_received_frames_are_speech() {
        // 30 ms packets against 20 ms frames: every frame straddles packets.
        let t0 = Instant::now();
        let mut jb = JitterBuffer::default();
        let mut out = Vec::new();
        for k in 0..60u32 {
            let now = t0 + 20 * MS * k;
            if k % 3 != 2 {
                let i = k * 2 / 3;
                jb.insert(240 * i, &packet(240 * i, 240), now);
            }
            if k % 3 == 0 {
                let i = k * 2 / 3 + 1;
                jb.insert(240 * i, &packet(240 * i, 240), now + 10 * MS);
            }
            out.push(jb.pull_frame(now + 15 * MS));
        }
        let speech = speech_samples(&out);
        assert!(speech.len() >= 50 * 160);
        assert_consecutive(&speech);
    }

    #[test]
    fn late_packets_are_dropped_and_counted() {
        // Packet 30 is delayed by 300 ms: far behind the playout point when it arrives.
        let (frames, jb, _) = run(60, 70, JitterConfig::default(), |i| {
            Some(if i == 30 { 330 * MS } else { 30 * MS })
        });
        assert_eq!(jb.stats().late, 1);
        assert!(frames.iter().any(|f| f.kind == FrameKind::Concealed));
        // The jitter estimate took the late packet into account.
        assert!(jb.target_delay_ms() > 40);
    }

    #[test]
    fn bursty_arrivals_grow_the_delay_until_nothing_is_late() {
        // Packets are held and delivered in bursts of five every 100 ms.
        let burst = |i: u32| Some(MS * (20 + 20 * (4 - i % 5)));
        let (frames, jb, delays) = run(500, 520, JitterConfig::default(), burst);
        let (_, first_second, _) = run(50, 52, JitterConfig::default(), burst);
        assert!(jb.target_delay_ms() >= 90, "{}", jb.target_delay_ms());
        assert!(
            delays[100..500].iter().all(|d| (80..=140).contains(d)),
            "{:?}",
            &delays[100..500]
        );
        // Every late packet was in the first second; after it, only speech.
        assert_eq!(jb.stats().late, first_second.stats().late);
        assert!(frames[60..500].iter().all(|f| f.kind == FrameKind::Speech));
    }

    #[test]
    fn delay_grows_under_jitter_and_shrinks_back() {
        let mut rng = Lcg(7);
        // 20 s with up to 80 ms of random jitter, then 60 s of a clean network.
        let (frames, jb, delays) = run(4000, 4010, JitterConfig::default(), |i| {
            let jitter = if i < 1000 { rng.next(80) } else { 0 };
            Some(MS * (30 + jitter as u32))
        });
        let peak = delays[..1000].iter().max().copied().unwrap_or(0);
        assert!(peak >= 80, "peak delay {peak} ms");
        assert!(
            delays[500..1000].iter().all(|d| *d >= 70),
            "delay under jitter"
        );
        assert!(jb.stats().shrunk >= 3, "{:?}", jb.stats());
        assert!(jb.target_delay_ms() <= 40, "{}", jb.target_delay_ms());
        assert!(
            delays[3900..].iter().all(|d| *d <= 40),
            "{:?}",
            &delays[3900..]
        );
        // Under jitter a few packets were late before the delay caught up; the clean part is
        // all speech.
        assert!(jb.stats().late < 20, "{:?}", jb.stats());
        assert!(
            frames[1100..4000]
                .iter()
                .all(|f| f.kind == FrameKind::Speech)
        );
    }

    #[test]
    fn delay_never_exceeds_its_bound() {
        let mut rng = Lcg(11);
        let config = JitterConfig {
            max_delay_ms: 100,
            ..JitterConfig::default()
        };
        // Spikes of up to 400 ms on one packet in ten.
        let mut max_target = 0;
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(config);
        let mut arrivals: Vec<(Duration, u32)> = (0..1500u32)
            .map(|i| {
                let spike = if rng.next(10) == 0 {
                    rng.next(400)
                } else {
                    rng.next(10)
                };
                (20 * MS * i + MS * (30 + spike as u32), 160 * i)
            })
            .collect();
        arrivals.sort_by_key(|a| a.0);
        let mut next = arrivals.iter().peekable();
        for k in 0..1500u32 {
            let pull_at = 20 * MS * k + 7 * MS;
            while let Some(&&(at, ts)) = next.peek() {
                if at > pull_at {
                    break;
                }
                jb.insert(ts, &packet(ts, 160), t0 + at);
                next.next();
            }
            jb.pull_frame(t0 + pull_at);
            max_target = max_target.max(jb.target_delay_ms());
            if let Some(d) = jb.delay_ms() {
                // Measured before the pull's correction: at most one frame over.
                assert!(d <= 100 + 20, "delay {d} ms at pull {k}");
            }
        }
        assert_eq!(max_target, 100);
    }

    #[test]
    fn memory_is_bounded_when_nobody_pulls() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::default();
        for i in 0..200u32 {
            assert_eq!(
                jb.insert(160 * i, &packet(160 * i, 160), t0 + 20 * MS * i),
                Insert::Stored
            );
        }
        assert!(jb.buffered_ms() <= 512);
        assert!(jb.stats().overflow_samples >= 200 * 160 - CAPACITY as u64);
        // When the mixer starts pulling it plays the newest audio at the target delay.
        let now = t0 + 20 * MS * 200;
        let mut speech = 0;
        for k in 0..10u32 {
            if jb.pull_frame(now + 20 * MS * k).kind == FrameKind::Speech {
                speech += 1;
            }
        }
        assert!(speech <= 2, "stale audio replayed: {speech}");
    }

    #[test]
    fn timestamp_jump_restarts_the_buffer() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::default();
        let mut kinds = Vec::new();
        for k in 0..100u32 {
            let now = t0 + 20 * MS * k;
            // The sender's timestamps jump by 10 s (forward) at packet 40, back 5 s at 70.
            let ts = match k {
                0..40 => 160 * k,
                40..70 => 80_000 + 160 * k,
                _ => 40_000 + 160 * k,
            };
            assert_ne!(jb.insert(ts, &packet(ts, 160), now), Insert::Late);
            kinds.push(jb.pull_frame(now + 5 * MS).kind);
        }
        assert_eq!(jb.stats().resyncs, 2);
        assert_eq!(jb.stats().late, 0);
        let speech = kinds.iter().filter(|k| **k == FrameKind::Speech).count();
        assert!(speech >= 90, "{kinds:?}");
    }

    #[test]
    fn timestamps_wrap() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::default();
        let mut played = Vec::new();
        for k in 0..100u32 {
            let now = t0 + 20 * MS * k;
            let ts = (u32::MAX - 160 * 50).wrapping_add(160 * k);
            jb.insert(ts, &[k as i16 + 1; 160], now);
            let f = jb.pull_frame(now + 5 * MS);
            if f.kind == FrameKind::Speech {
                played.push(f.samples[0]);
            }
        }
        assert_eq!(jb.stats().resyncs, 0);
        assert!(played.len() >= 95);
        assert!(played.windows(2).all(|w| w[1] >= w[0]));
    }

    #[test]
    fn ten_late_packets_in_a_row_mean_the_timeline_moved() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::default();
        for k in 0..50u32 {
            let now = t0 + 20 * MS * k;
            // From packet 20 on, the timestamps step back by 500 ms.
            let ts = if k < 20 {
                160 * k + 100_000
            } else {
                160 * k + 96_000
            };
            jb.insert(ts, &packet(ts, 160), now);
            jb.pull_frame(now + 5 * MS);
        }
        assert_eq!(jb.stats().late, 10);
        assert_eq!(jb.stats().resyncs, 1);
    }
}
