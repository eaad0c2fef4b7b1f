//! plenum-mixer: the pure audio side of Plenum's meetings.
//!
//! Audio is 8 kHz mono linear PCM (`i16`) in 20 ms frames of [`FRAME`] samples. A media worker
//! drives everything here on its fixed tick; nothing in this crate reads a clock, spawns a
//! thread, touches a socket or allocates per frame.
//!
//! Owns:
//! - [`Mixer`]: many meetings at once. Each tick it sums every *talker* of a meeting once (a
//!   non-muted participant whose frame is audible) and gives each listener the sum minus its own
//!   contribution, saturated to `i16`. Muted and silent legs cost no mix work. It also plays the
//!   announcer's *overlays* ([`Mixer::announce`]): clips mixed over the meeting audio for the
//!   whole meeting, for the dial-in participants only, for all but one, or privately for one leg,
//!   and reports when each one finished ([`Mixer::poll_event`]).
//! - [`Player`]: the prompt player for a leg that is not in a meeting (attendant, lobby, hold
//!   music): clips and silences in order, optionally looping.
//! - [`Recorder`]: records a caller's name, bounded in length, trimmed of leading and trailing
//!   silence.
//! - [`goertzel`]: a single-frequency detector, a test and diagnostic utility.
//!
//! Does not own: codecs, jitter buffers and RTP (plenum-media), the schedule of the tick (the
//! media worker), which clip to play when and in which language (the conference core and the
//! prompt pack), voice activity detection beyond a peak-level check, and resampling: every clip
//! handed in must already be 8 kHz mono.

#![forbid(unsafe_code)]

mod error;
pub mod goertzel;
mod mixer;
mod overlay;
mod player;
mod recorder;
mod slab;

pub use error::Error;
pub use mixer::{
    Audience, Event, InputKind, MeetingId, Mixer, MixerConfig, OverlayId, ParticipantId, Settings,
    TickStats,
};
pub use player::{Player, Segment};
pub use recorder::{Recorder, RecorderConfig, Recording};

/// The sampling rate of all audio in this crate, in Hz.
pub const SAMPLE_RATE: u32 = 8000;
/// Samples in one 20 ms frame at [`SAMPLE_RATE`]: the unit everything here works in.
pub const FRAME: usize = 160;
/// Duration of one frame in milliseconds.
pub const FRAME_MS: u32 = 20;
/// Samples per millisecond at [`SAMPLE_RATE`].
pub const SAMPLES_PER_MS: u32 = SAMPLE_RATE / 1000;

/// One 20 ms frame of audio.
pub type Frame = [i16; FRAME];

/// A linear gain in steps of 1/256 (Q8.8): 256 is unity, 128 is −6 dB, 512 is +6 dB.
///
/// Applying a gain saturates to `i16`; it never wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gain(u16);

impl Gain {
    /// No change.
    pub const UNITY: Gain = Gain(256);
    /// Half the amplitude (−6 dB).
    pub const HALF: Gain = Gain(128);
    /// Silence.
    pub const ZERO: Gain = Gain(0);

    /// A gain of `q8 / 256`.
    pub const fn from_q8(q8: u16) -> Gain {
        Gain(q8)
    }

    /// The gain in 1/256 steps.
    pub const fn q8(self) -> u16 {
        self.0
    }

    /// The gain closest to `db` decibels, clamped to the representable range (−48 dB to about
    /// +48 dB; anything below −48 dB, and NaN, is [`Gain::ZERO`]).
    pub fn from_db(db: f32) -> Gain {
        let q8 = (10f32.powf(db / 20.0) * 256.0).round();
        // `as` saturates and maps NaN to 0, which is the clamping wanted here.
        Gain(q8 as u16)
    }

    /// `sample` times this gain, saturated.
    #[inline]
    pub fn apply(self, sample: i16) -> i16 {
        saturate((i32::from(sample) * i32::from(self.0)) >> 8)
    }
}

impl Default for Gain {
    fn default() -> Gain {
        Gain::UNITY
    }
}

/// `v` clamped to the `i16` range.
#[inline]
pub(crate) fn saturate(v: i32) -> i16 {
    // The clamp makes the cast lossless.
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// The largest absolute value in `samples`.
#[inline]
pub(crate) fn peak(samples: &[i16]) -> u16 {
    samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gain_from_db() {
        assert_eq!(Gain::from_db(0.0), Gain::UNITY);
        assert_eq!(Gain::from_db(-6.0206), Gain::HALF);
        assert_eq!(Gain::from_db(6.0206), Gain::from_q8(512));
        assert_eq!(Gain::from_db(-200.0), Gain::ZERO);
        assert_eq!(Gain::from_db(f32::NAN), Gain::ZERO);
        assert_eq!(Gain::from_db(200.0), Gain::from_q8(u16::MAX));
    }

    #[test]
    fn gain_saturates() {
        let g = Gain::from_q8(u16::MAX);
        assert_eq!(g.apply(i16::MAX), i16::MAX);
        assert_eq!(g.apply(i16::MIN), i16::MIN);
        assert_eq!(g.apply(-1000), i16::MIN);
        assert_eq!(Gain::HALF.apply(1000), 500);
        assert_eq!(Gain::UNITY.apply(i16::MIN), i16::MIN);
    }

    #[test]
    fn peak_of_min_does_not_overflow() {
        assert_eq!(peak(&[0, i16::MIN, 5]), 32768);
        assert_eq!(peak(&[]), 0);
    }
}
