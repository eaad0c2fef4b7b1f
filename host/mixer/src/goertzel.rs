//! A single-frequency detector (the Goertzel algorithm): a test and diagnostic utility.
//!
//! Owns: estimating how strongly one frequency is present in a block of 8 kHz samples, which
//! the tests use to check which tones a listener hears. Not used on the mixing path, and not a
//! DTMF detector (digits arrive as RFC 4733 events or SIP INFO; see plenum-media).

use std::f64::consts::PI;

use crate::SAMPLE_RATE;

/// The amplitude of the `freq_hz` component of `samples` (8 kHz), in sample units: a sine of
/// amplitude `A` at `freq_hz` gives about `A`; its energy per sample is `A² / 2`.
///
/// The block is Hann-windowed, so a tone more than a few bins away (a bin is
/// `8000 / samples.len()` Hz) leaks under 1 % of its amplitude. Returns 0 for an empty block.
///
/// ```
/// use plenum_mixer::goertzel;
///
/// let tone: Vec<i16> = (0..1600)
///     .map(|n| (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 8000.0).sin()) as i16)
///     .collect();
/// assert!((goertzel::amplitude(&tone, 440.0) - 8000.0).abs() < 80.0);
/// assert!(goertzel::amplitude(&tone, 697.0) < 80.0);
/// ```
pub fn amplitude(samples: &[i16], freq_hz: f64) -> f64 {
    let n = samples.len();
    if n == 0 {
        return 0.0;
    }
    let coeff = 2.0 * (2.0 * PI * freq_hz / f64::from(SAMPLE_RATE)).cos();
    let (mut s1, mut s2, mut window_sum) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &x) in samples.iter().enumerate() {
        let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos();
        window_sum += w;
        let s0 = f64::from(x) * w + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0);
    if window_sum > 0.0 {
        2.0 * power.sqrt() / window_sum
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, amp: f64, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / 8000.0).sin()) as i16)
            .collect()
    }

    #[test]
    fn measures_the_amplitude_of_a_tone_and_ignores_others() {
        let mix: Vec<i16> = sine(440.0, 6000.0, 1600)
            .iter()
            .zip(sine(1209.0, 3000.0, 1600))
            .map(|(a, b)| a + b)
            .collect();
        assert!((amplitude(&mix, 440.0) - 6000.0).abs() < 60.0);
        assert!((amplitude(&mix, 1209.0) - 3000.0).abs() < 30.0);
        assert!(amplitude(&mix, 697.0) < 30.0);
        assert!(amplitude(&[0; 160], 440.0) < 1e-9);
        assert_eq!(amplitude(&[], 440.0), 0.0);
    }

    #[test]
    fn works_on_a_single_frame() {
        let frame = sine(1000.0, 10000.0, 160);
        assert!((amplitude(&frame, 1000.0) - 10000.0).abs() < 200.0);
        assert!(amplitude(&frame, 2000.0) < 200.0);
    }
}
