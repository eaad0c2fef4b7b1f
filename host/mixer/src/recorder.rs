//! The name recorder.
//!
//! Owns: collecting a caller's frames up to a maximum duration into a buffer allocated up front,
//! and trimming the leading and trailing silence when the recording is finished. Does not own:
//! prompting the caller, ending the recording on a key press or a timeout (the attendant driver
//! decides and calls [`Recorder::finish`]), or storing the result.

use std::sync::Arc;

use crate::{Frame, SAMPLES_PER_MS};

/// Tuning of a [`Recorder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderConfig {
    /// The longest recording kept, in milliseconds; frames beyond it are dropped. Default
    /// 5,000.
    pub max_ms: u32,
    /// A 10 ms block whose mean absolute sample value reaches this is voiced; trimming keeps
    /// everything from the first voiced block to the last. Default 256 (about −42 dBFS).
    pub threshold: u16,
    /// Kept on either side of the voiced part, so soft onsets and endings are not clipped, in
    /// milliseconds. Default 50.
    pub margin_ms: u32,
}

impl Default for RecorderConfig {
    fn default() -> RecorderConfig {
        RecorderConfig {
            max_ms: 5_000,
            threshold: 256,
            margin_ms: 50,
        }
    }
}

/// A finished, trimmed recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// 8 kHz samples; empty when nothing voiced was recorded.
    pub samples: Arc<[i16]>,
    /// Duration of `samples` in milliseconds (rounded down).
    pub duration_ms: u32,
}

/// Records one caller's name. [`Recorder::push`] allocates nothing.
///
/// ```
/// use plenum_mixer::{Recorder, RecorderConfig};
///
/// let mut rec = Recorder::new(RecorderConfig { max_ms: 1000, ..RecorderConfig::default() });
/// rec.push(&[0; 160]); // leading silence, trimmed
/// rec.push(&[3000; 160]); // "voice"
/// rec.push(&[0; 160]); // trailing silence, kept as margin
/// let name = rec.finish();
/// // The voice and the 20 ms recorded on either side (the margin would keep up to 50 ms).
/// assert_eq!(name.duration_ms, 20 + 2 * 20);
/// ```
#[derive(Debug, Clone)]
pub struct Recorder {
    config: RecorderConfig,
    samples: Vec<i16>,
    max: usize,
}

/// Samples per trimming block (10 ms).
const BLOCK: usize = 80;

impl Recorder {
    /// An empty recorder with room for [`RecorderConfig::max_ms`] of audio.
    pub fn new(config: RecorderConfig) -> Recorder {
        let max = (config.max_ms as usize).saturating_mul(SAMPLES_PER_MS as usize);
        Recorder {
            config,
            samples: Vec::with_capacity(max),
            max,
        }
    }

    /// Appends a frame, or as much of it as fits. Returns whether there is room for more.
    pub fn push(&mut self, frame: &Frame) -> bool {
        let room = self.max.saturating_sub(self.samples.len());
        self.samples
            .extend_from_slice(frame.get(..room.min(frame.len())).unwrap_or(frame));
        !self.is_full()
    }

    /// Whether the maximum duration has been recorded.
    pub fn is_full(&self) -> bool {
        self.samples.len() >= self.max
    }

    /// Ends the recording: trims the silence at both ends (keeping the margin) and returns it.
    pub fn finish(self) -> Recording {
        let voiced = voiced_range(&self.samples, self.config.threshold);
        let margin = (self.config.margin_ms as usize).saturating_mul(SAMPLES_PER_MS as usize);
        let kept = voiced
            .map(|(start, end)| {
                let from = start.saturating_sub(margin);
                let to = end.saturating_add(margin).min(self.samples.len());
                self.samples.get(from..to).unwrap_or(&[])
            })
            .unwrap_or(&[]);
        Recording {
            samples: Arc::from(kept),
            duration_ms: u32::try_from(kept.len() / SAMPLES_PER_MS as usize).unwrap_or(u32::MAX),
        }
    }
}

/// The sample range from the first voiced block to the end of the last one.
fn voiced_range(samples: &[i16], threshold: u16) -> Option<(usize, usize)> {
    let voiced = |block: &[i16]| {
        let sum: u64 = block.iter().map(|s| u64::from(s.unsigned_abs())).sum();
        sum >= u64::from(threshold) * block.len() as u64
    };
    let first = samples.chunks(BLOCK).position(voiced)?;
    let last = samples.chunks(BLOCK).rposition(voiced)?;
    Some((first * BLOCK, ((last + 1) * BLOCK).min(samples.len())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code

    use super::*;
    use crate::FRAME;

    fn config(max_ms: u32) -> RecorderConfig {
        RecorderConfig {
            max_ms,
            ..RecorderConfig::default()
        }
    }

    /// A 500 Hz square wave of amplitude `a`.
    fn voice(a: i16) -> Frame {
        std::array::from_fn(|i| if (i / 8) % 2 == 0 { a } else { -a })
    }

    #[test]
    fn trims_leading_and_trailing_silence_keeping_the_margin() {
        let mut rec = Recorder::new(config(5_000));
        for _ in 0..25 {
            rec.push(&[0; FRAME]); // 500 ms of silence
        }
        for _ in 0..10 {
            rec.push(&[40; FRAME]); // line noise below the threshold
        }
        for _ in 0..40 {
            rec.push(&voice(4000)); // 800 ms of voice
        }
        for _ in 0..50 {
            rec.push(&[-30; FRAME]); // 1 s of noise
        }
        let name = rec.finish();
        assert_eq!(name.duration_ms, 800 + 2 * 50);
        assert_eq!(name.samples.len(), 900 * 8);
        assert!(name.samples[..400].iter().all(|s| s.abs() < 100), "margin");
        assert_eq!(&name.samples[400..408], &[4000; 8]);
        assert_eq!(&name.samples[name.samples.len() - 400..][..4], &[-30; 4]);
    }

    #[test]
    fn stops_at_the_limit() {
        let mut rec = Recorder::new(config(50)); // 400 samples: 2.5 frames
        assert!(rec.push(&voice(4000)));
        assert!(rec.push(&voice(4000)));
        assert!(!rec.push(&voice(4000)));
        assert!(rec.is_full());
        assert!(!rec.push(&voice(9000)), "dropped");
        let name = rec.finish();
        assert_eq!(name.samples.len(), 400);
        assert_eq!(name.duration_ms, 50);
        assert!(name.samples.iter().all(|s| s.abs() == 4000));
    }

    #[test]
    fn all_silence_gives_an_empty_recording() {
        let mut rec = Recorder::new(config(1_000));
        while rec.push(&[10; FRAME]) {}
        let name = rec.finish();
        assert!(name.samples.is_empty());
        assert_eq!(name.duration_ms, 0);
        assert_eq!(Recorder::new(config(0)).finish().duration_ms, 0);
    }
}
