//! The prompt player for a leg that is not in a meeting.
//!
//! Owns: playing a programme of clips and silences in order, frame by frame, gaplessly, once
//! or in a loop (hold music). Does not own: choosing the prompts (the attendant driver) or
//! reacting to digits (the caller calls [`Player::stop`] when a key interrupts a prompt).

use std::sync::Arc;

use crate::{FRAME, Frame, SAMPLES_PER_MS};

/// One item of a [`Player`]'s programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// 8 kHz samples.
    Clip(Arc<[i16]>),
    /// This many milliseconds of silence.
    Silence {
        /// Duration in milliseconds.
        ms: u32,
    },
}

impl Segment {
    fn len(&self) -> usize {
        match self {
            Segment::Clip(clip) => clip.len(),
            Segment::Silence { ms } => (*ms as usize).saturating_mul(SAMPLES_PER_MS as usize),
        }
    }
}

/// Plays a list of [`Segment`]s in order, one 20 ms frame per call; allocation-free per frame.
///
/// ```
/// use std::sync::Arc;
/// use plenum_mixer::{Player, Segment};
///
/// let beep: Arc<[i16]> = Arc::from(vec![1000i16; 200]);
/// let mut player = Player::new(vec![Segment::Clip(beep), Segment::Silence { ms: 20 }]);
/// let mut frame = [0i16; 160];
/// assert!(player.next_frame(&mut frame)); // 160 samples of beep
/// assert!(player.next_frame(&mut frame)); // 40 of beep, 120 of silence
/// assert!(player.next_frame(&mut frame)); // the last 40 of silence
/// assert!(!player.next_frame(&mut frame)); // finished
/// ```
#[derive(Debug, Clone)]
pub struct Player {
    segments: Vec<Segment>,
    looping: bool,
    /// Current segment and position in it.
    index: usize,
    pos: usize,
    finished: bool,
}

impl Player {
    /// Plays `segments` once.
    pub fn new(segments: Vec<Segment>) -> Player {
        let finished = segments.iter().all(|s| s.len() == 0);
        Player {
            segments,
            looping: false,
            index: 0,
            pos: 0,
            finished,
        }
    }

    /// Plays `segments` over and over until [`Player::stop`] (hold music). A programme of no
    /// samples at all finishes at once.
    pub fn looping(segments: Vec<Segment>) -> Player {
        Player {
            looping: true,
            ..Player::new(segments)
        }
    }

    /// Writes the next frame into `out`. Returns `false`, with `out` silent, once the programme
    /// is over or stopped; the last frame of a programme is zero-padded and returns `true`.
    pub fn next_frame(&mut self, out: &mut Frame) -> bool {
        let mut filled = 0;
        while filled < FRAME && !self.finished {
            filled += self.fill(out.get_mut(filled..).unwrap_or(&mut []));
        }
        if let Some(tail) = out.get_mut(filled..) {
            tail.fill(0);
        }
        filled > 0
    }

    /// Ends the programme at once: every later frame is silent.
    pub fn stop(&mut self) {
        self.finished = true;
    }

    /// Whether the programme is over (or stopped).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Fills the start of `out` from the current segment and advances; returns the samples
    /// written (0 when only moving to the next segment).
    fn fill(&mut self, out: &mut [i16]) -> usize {
        let Some(segment) = self.segments.get(self.index) else {
            if self.looping {
                self.index = 0;
            } else {
                self.finished = true;
            }
            return 0;
        };
        let n = segment.len().saturating_sub(self.pos).min(out.len());
        if let Some(dst) = out.get_mut(..n) {
            match segment {
                Segment::Clip(clip) => match clip.get(self.pos..self.pos + n) {
                    Some(src) => dst.copy_from_slice(src),
                    None => dst.fill(0),
                },
                Segment::Silence { .. } => dst.fill(0),
            }
        }
        self.pos += n;
        if self.pos >= segment.len() {
            self.index += 1;
            self.pos = 0;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code

    use super::*;

    fn clip(value: i16, len: usize) -> Segment {
        Segment::Clip(Arc::from(vec![value; len]))
    }

    /// Plays until finished (at most `limit` frames) and returns every sample.
    fn drain(player: &mut Player, limit: usize) -> Vec<i16> {
        let mut all = Vec::new();
        let mut frame = [7i16; FRAME];
        for _ in 0..limit {
            if !player.next_frame(&mut frame) {
                assert_eq!(frame, [0; FRAME], "a finished player is silent");
                break;
            }
            all.extend_from_slice(&frame);
        }
        all
    }

    #[test]
    fn plays_clips_and_silences_in_order_gaplessly() {
        let mut p = Player::new(vec![
            clip(1, 100),
            Segment::Silence { ms: 10 },
            clip(2, 0),
            clip(3, 150),
        ]);
        let all = drain(&mut p, 10);
        assert_eq!(all.len(), 3 * FRAME); // 330 samples, zero-padded
        assert!(all[..100].iter().all(|&s| s == 1));
        assert!(all[100..180].iter().all(|&s| s == 0));
        assert!(all[180..330].iter().all(|&s| s == 3));
        assert!(all[330..].iter().all(|&s| s == 0));
        assert!(p.is_finished());
    }

    #[test]
    fn a_programme_ending_on_a_frame_boundary_reports_the_end_on_the_next_call() {
        let mut p = Player::new(vec![clip(5, FRAME)]);
        let mut frame = [0; FRAME];
        assert!(p.next_frame(&mut frame));
        assert_eq!(frame, [5; FRAME]);
        assert!(!p.next_frame(&mut frame));
        assert_eq!(frame, [0; FRAME]);
    }

    #[test]
    fn stop_silences_at_once() {
        let mut p = Player::new(vec![clip(9, 10 * FRAME)]);
        let mut frame = [0; FRAME];
        assert!(p.next_frame(&mut frame));
        p.stop();
        assert!(!p.next_frame(&mut frame));
        assert_eq!(frame, [0; FRAME]);
        assert!(p.is_finished());
    }

    #[test]
    fn looping_repeats_until_stopped() {
        let mut p = Player::looping(vec![clip(1, 100), Segment::Silence { ms: 5 }, clip(2, 30)]);
        let all = drain(&mut p, 5);
        assert_eq!(all.len(), 5 * FRAME, "still playing");
        for (i, s) in all.iter().enumerate() {
            let expected = match i % 170 {
                0..100 => 1,
                100..140 => 0,
                _ => 2,
            };
            assert_eq!(*s, expected, "sample {i}");
        }
        p.stop();
        assert!(drain(&mut p, 5).is_empty());
    }

    #[test]
    fn empty_programmes_finish_at_once_even_looping() {
        for mut p in [
            Player::new(vec![]),
            Player::looping(vec![]),
            Player::looping(vec![clip(1, 0), Segment::Silence { ms: 0 }]),
        ] {
            assert!(p.is_finished());
            assert!(drain(&mut p, 3).is_empty());
        }
    }
}
