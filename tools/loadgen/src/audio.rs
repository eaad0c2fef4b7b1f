//! What a load call says and how it listens.
//!
//! Owns: the audio a call sends (one tone per call, in talk-spurts, or the meeting leader's
//! steady pilot tone), and the two tests run on every received frame: digital silence, and the
//! pilot detector that tells a caller it hears the meeting's mix.
//!
//! Every frequency used is a multiple of 50 Hz, so a 20 ms frame (160 samples at 8 kHz) holds a
//! whole number of cycles: a tone is one precomputed frame sent again and again (no per-sample
//! work per call), and the tones of different calls are orthogonal over any 160-sample window,
//! whatever their phase, so the pilot's share of a frame's energy is not disturbed by the
//! guests' tones.
//!
//! Does not own: RTP (the [`plenum_media::Leg`] does that) or timing.

use plenum_media::FRAME_SAMPLES;

/// The leader's pilot tone, in Hz: above the guests' tones, below the G.711 band edge. The
/// tests below check that neither the prompts (every language) nor the hold music trip the
/// detector at it: at 2650 Hz a French prompt did for two frames; at 2850 Hz none does once.
pub const PILOT_HZ: u32 = 2850;
/// Amplitude of the pilot (about −11 dBFS): ducked to half under an announcement it is still
/// above anything a prompt has at its frequency.
pub const PILOT_AMPLITUDE: f64 = 9000.0;
/// Amplitude of a guest's tone (about −30 dBFS): a hundred talkers at once still sum far
/// below clipping, and the pilot keeps a large share of the energy.
pub const GUEST_AMPLITUDE: f64 = 1000.0;
/// A frame whose samples all lie within ± this is silence (the server sends exact zeros
/// between prompts and as the mix of silent participants).
pub const SILENCE_PEAK: i16 = 64;
/// The pilot is heard when its bin holds at least this share of the frame's energy (low: an
/// entry tone or a name announced over the ducked meeting audio carries far more energy)...
pub const PILOT_SHARE: f64 = 0.01;
/// ...and its amplitude is at least this: a third of the pilot's, below its ducked level (the
/// mixer halves the meeting's audio under announcements), and no prompt reaches it at the
/// pilot's frequency for two frames in a row (the tests below).
pub const PILOT_MIN_AMPLITUDE: f64 = 3000.0;

/// One frame of a tone of `hz` (a multiple of 50) at `amplitude`.
pub fn tone_frame(hz: u32, amplitude: f64) -> [i16; FRAME_SAMPLES] {
    let mut frame = [0i16; FRAME_SAMPLES];
    for (i, s) in frame.iter_mut().enumerate() {
        let phase = 2.0 * std::f64::consts::PI * f64::from(hz) * i as f64 / 8000.0;
        *s = (amplitude * phase.sin()).round() as i16;
    }
    frame
}

/// A guest's tone frequency: 300–1450 Hz in 50 Hz steps, by call number.
pub fn guest_hz(call: usize) -> u32 {
    300 + 50 * (call % 24) as u32
}

/// Whether a frame is digital silence.
pub fn is_silent(frame: &[i16]) -> bool {
    frame
        .iter()
        .all(|s| s.unsigned_abs() <= SILENCE_PEAK.unsigned_abs())
}

/// The share of the frame's energy in the `hz` bin, and the amplitude of that component
/// (Goertzel over the frame).
pub fn bin_share(frame: &[i16], hz: u32) -> (f64, f64) {
    let n = frame.len() as f64;
    if frame.is_empty() {
        return (0.0, 0.0);
    }
    let w = 2.0 * std::f64::consts::PI * f64::from(hz) / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut energy = 0.0f64;
    for &x in frame {
        let x = f64::from(x);
        energy += x * x;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if energy <= 0.0 {
        return (0.0, 0.0);
    }
    let share = 2.0 * power / (n * energy);
    let amplitude = 2.0 * power.max(0.0).sqrt() / n;
    (share, amplitude)
}

/// Whether the pilot is in this frame.
pub fn has_pilot(frame: &[i16]) -> bool {
    let (share, amplitude) = bin_share(frame, PILOT_HZ);
    share >= PILOT_SHARE && amplitude >= PILOT_MIN_AMPLITUDE
}

/// Talk-spurts: a deterministic on/off pattern per call (on 1–2.5 s, off 1.5–6 s, about a
/// third of the time talking), as a small xorshift generator.
#[derive(Debug, Clone)]
pub struct Spurts {
    state: u64,
    talking: bool,
    left: u32,
}

impl Spurts {
    /// The pattern of call number `call`; it starts in a pause of random length.
    pub fn new(call: usize) -> Spurts {
        let mut s = Spurts {
            state: (call as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            talking: false,
            left: 0,
        };
        s.left = s.between(10, 150);
        s
    }

    /// Advance one frame; whether the call talks in it.
    pub fn next_frame(&mut self) -> bool {
        if self.left == 0 {
            self.talking = !self.talking;
            self.left = if self.talking {
                self.between(50, 125)
            } else {
                self.between(75, 300)
            };
        }
        self.left -= 1;
        self.talking
    }

    fn between(&mut self, lo: u32, hi: u32) -> u32 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        lo + (self.state % u64::from(hi - lo + 1)) as u32
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_pilot_is_heard_alone_and_under_a_hundred_talkers() {
        let pilot = tone_frame(PILOT_HZ, PILOT_AMPLITUDE);
        assert!(has_pilot(&pilot));
        // Forty guests talking at once (a busy 100-person meeting), summed as the mixer does.
        let mut mix = [0i32; FRAME_SAMPLES];
        for (i, s) in pilot.iter().enumerate() {
            mix[i] = i32::from(*s);
        }
        for call in 0..40 {
            let t = tone_frame(guest_hz(call), GUEST_AMPLITUDE);
            for (i, s) in t.iter().enumerate() {
                mix[i] += i32::from(*s);
            }
        }
        let mix: Vec<i16> = mix
            .iter()
            .map(|s| (*s).clamp(-32768, 32767) as i16)
            .collect();
        assert!(has_pilot(&mix), "{:?}", bin_share(&mix, PILOT_HZ));
        // A window across two frames (another phase) too.
        let mut shifted = pilot[37..].to_vec();
        shifted.extend_from_slice(&pilot[..37]);
        assert!(has_pilot(&shifted));
        for call in 0..24 {
            assert!(!has_pilot(&tone_frame(guest_hz(call), 20_000.0)));
        }
    }

    /// Under an entry tone the mixer ducks the meeting (the pilot) to half and adds the tone:
    /// still heard.
    #[test]
    fn the_ducked_pilot_is_heard_under_the_entry_tone() {
        let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
        let tone = read_ulaw_wav(&assets.join("tones/entry.wav"));
        let pilot = tone_frame(PILOT_HZ, PILOT_AMPLITUDE);
        let mut frames = 0;
        for chunk in tone.chunks_exact(FRAME_SAMPLES) {
            let mix: Vec<i16> = chunk
                .iter()
                .zip(pilot.iter())
                .map(|(t, p)| t.saturating_add(p / 2))
                .collect();
            assert!(has_pilot(&mix), "{:?}", bin_share(&mix, PILOT_HZ));
            frames += 1;
        }
        assert!(frames >= 10);
    }

    #[test]
    fn silence_and_spurts() {
        assert!(is_silent(&[0; FRAME_SAMPLES]));
        assert!(!is_silent(&tone_frame(1000, 1000.0)));
        let mut s = Spurts::new(7);
        let talking = (0..50_000).filter(|_| s.next_frame()).count();
        assert!((10_000..25_000).contains(&talking), "{talking}");
    }

    /// µ-law WAV (format 7) samples, as `assets/` holds them.
    fn read_ulaw_wav(path: &std::path::Path) -> Vec<i16> {
        let bytes = std::fs::read(path).unwrap();
        let data = bytes
            .windows(4)
            .position(|w| w == b"data")
            .expect("data chunk");
        let body = &bytes[data + 8..];
        let mut out = vec![0i16; body.len()];
        let n = plenum_media::g711::ulaw_decode_into(body, &mut out);
        out.truncate(n);
        out
    }

    /// No prompt (any language), tone or the hold music trips the pilot detector twice in a row:
    /// the loadgen cannot take an attendant prompt for the meeting.
    #[test]
    fn prompts_and_hold_music_never_look_like_the_pilot() {
        let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets");
        let mut files = Vec::new();
        let mut dirs = vec![assets.join("tones")];
        for lang in std::fs::read_dir(assets.join("prompts")).unwrap() {
            dirs.push(lang.unwrap().path());
        }
        for dir in dirs {
            for e in std::fs::read_dir(dir).unwrap() {
                files.push(e.unwrap().path());
            }
        }
        assert!(files.len() > 20);
        for f in files {
            let pcm = read_ulaw_wav(&f);
            let mut run = 0;
            for frame in pcm.chunks_exact(FRAME_SAMPLES) {
                run = if has_pilot(frame) { run + 1 } else { 0 };
                assert!(run < 2, "{} looks like the pilot", f.display());
            }
        }
    }
}
