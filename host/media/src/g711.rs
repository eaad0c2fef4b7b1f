//! G.711 μ-law (PCMU) and A-law (PCMA) companding, ITU-T G.711.
//!
//! Owns: the sample conversions between 16-bit linear PCM and 8-bit G.711 codes, as
//! allocation-free slice functions. Both directions are table lookups, all tables built at
//! compile time: decoding indexes 256 entries by the code; encoding indexes 16,384 (μ-law) or
//! 8,192 (A-law) entries by the bits of the sample that the law uses. The tables are computed
//! with the arithmetic of the ITU reference (the widely copied Sun Microsystems `g711.c`):
//! μ-law works on the 14 most significant bits with a bias of 33, A-law on the 13 most
//! significant bits, the segment found from the highest set bit; the tests check every one of
//! the 65,536 inputs against the reference.
//!
//! Does not own: packetization, payload types or sample-rate conversion (G.711 is 8 kHz; so is
//! Plenum's internal rate).

/// Decodes μ-law bytes into linear samples: `out[i] = decode(input[i])` for
/// `i < min(input.len(), out.len())`. Returns the number of samples written.
pub fn ulaw_decode_into(input: &[u8], out: &mut [i16]) -> usize {
    let n = input.len().min(out.len());
    for (o, &b) in out.iter_mut().zip(input) {
        *o = ulaw_to_linear(b);
    }
    n
}

/// Encodes linear samples into μ-law bytes: `out[i] = encode(input[i])` for
/// `i < min(input.len(), out.len())`. Returns the number of bytes written.
pub fn ulaw_encode_into(input: &[i16], out: &mut [u8]) -> usize {
    let n = input.len().min(out.len());
    for (o, &s) in out.iter_mut().zip(input) {
        *o = linear_to_ulaw(s);
    }
    n
}

/// Decodes A-law bytes into linear samples; see [`ulaw_decode_into`] for the length rule.
pub fn alaw_decode_into(input: &[u8], out: &mut [i16]) -> usize {
    let n = input.len().min(out.len());
    for (o, &b) in out.iter_mut().zip(input) {
        *o = alaw_to_linear(b);
    }
    n
}

/// Encodes linear samples into A-law bytes; see [`ulaw_encode_into`] for the length rule.
pub fn alaw_encode_into(input: &[i16], out: &mut [u8]) -> usize {
    let n = input.len().min(out.len());
    for (o, &s) in out.iter_mut().zip(input) {
        *o = linear_to_alaw(s);
    }
    n
}

/// Decodes one μ-law byte (table lookup).
#[inline]
// A `u8` index into a 256-entry table cannot be out of bounds.
#[allow(clippy::indexing_slicing)]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Decodes one A-law byte (table lookup).
#[inline]
// A `u8` index into a 256-entry table cannot be out of bounds.
#[allow(clippy::indexing_slicing)]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

/// Encodes one linear sample as μ-law: a lookup on the 14 bits μ-law uses.
#[inline]
// The index is masked to the table's size.
#[allow(clippy::indexing_slicing)]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    ULAW_ENCODE[((i32::from(sample) >> 2) + 8192) as usize & 0x3FFF]
}

/// Encodes one linear sample as A-law: a lookup on the 13 bits A-law uses.
#[inline]
// The index is masked to the table's size.
#[allow(clippy::indexing_slicing)]
pub fn linear_to_alaw(sample: i16) -> u8 {
    ALAW_ENCODE[((i32::from(sample) >> 3) + 4096) as usize & 0x1FFF]
}

/// μ-law compression of a 14-bit sample (`sample >> 2`), as in the reference.
const fn ulaw_compress(v: i32) -> u8 {
    // Sign folded into the XOR mask (0xFF positive, 0x7F negative).
    let (mask, mag) = if v < 0 { (0x7F_u8, -v) } else { (0xFF_u8, v) };
    let clipped = if mag > ULAW_CLIP { ULAW_CLIP } else { mag };
    let biased = clipped + ULAW_BIAS;
    // Segment = bit length - 6, so 0x21..=0x3F is segment 0 and 0x1000..=0x1FFF segment 7.
    let bits = 32 - (biased as u32).leading_zeros();
    let seg = bits.saturating_sub(6);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let quant = ((biased >> (seg + 1)) & 0x0F) as u8;
    ((seg as u8) << 4 | quant) ^ mask
}

/// A-law compression of a 13-bit sample (`sample >> 3`), as in the reference.
const fn alaw_compress(v: i32) -> u8 {
    // Negative values are one's-complemented (-v - 1), as in the reference.
    let (mask, mag) = if v >= 0 {
        (0xD5_u8, v)
    } else {
        (0x55_u8, -v - 1)
    };
    // Segment = bit length - 5, so 0..=0x1F is segment 0 and 0x800..=0xFFF segment 7.
    let bits = 32 - (mag as u32).leading_zeros();
    let seg = bits.saturating_sub(5);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let quant = ((mag >> shift) & 0x0F) as u8;
    ((seg as u8) << 4 | quant) ^ mask
}

const ULAW_BIAS: i32 = 0x84 >> 2;
const ULAW_CLIP: i32 = 8159;

/// μ-law decode table, built at compile time from the reference expansion.
static ULAW_DECODE: [i16; 256] = build_ulaw_table();
/// A-law decode table, built at compile time from the reference expansion.
static ALAW_DECODE: [i16; 256] = build_alaw_table();
/// μ-law encode table over the 14-bit input (16 KiB), built at compile time.
static ULAW_ENCODE: [u8; 16384] = build_ulaw_encode();
/// A-law encode table over the 13-bit input (8 KiB), built at compile time.
static ALAW_ENCODE: [u8; 8192] = build_alaw_encode();

const fn ulaw_expand(code: u8) -> i16 {
    let u = !code;
    let mut t = (((u & 0x0F) as i32) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    if u & 0x80 != 0 {
        (0x84 - t) as i16
    } else {
        (t - 0x84) as i16
    }
}

const fn alaw_expand(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & 0x80 != 0 { t as i16 } else { -t as i16 }
}

// Evaluated at compile time: an out-of-bounds index would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const fn build_ulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = ulaw_expand(i as u8);
        i += 1;
    }
    table
}

// Evaluated at compile time: an out-of-bounds index would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const fn build_alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alaw_expand(i as u8);
        i += 1;
    }
    table
}

// Evaluated at compile time: an out-of-bounds index would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const fn build_ulaw_encode() -> [u8; 16384] {
    let mut table = [0u8; 16384];
    let mut i = 0;
    while i < 16384 {
        table[i] = ulaw_compress(i as i32 - 8192);
        i += 1;
    }
    table
}

// Evaluated at compile time: an out-of-bounds index would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const fn build_alaw_encode() -> [u8; 8192] {
    let mut table = [0u8; 8192];
    let mut i = 0;
    while i < 8192 {
        table[i] = alaw_compress(i as i32 - 4096);
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ulaw2lin` of every code, from Python's `audioop` (the reference implementation).
    const ULAW_REFERENCE: [i16; 256] = [
        -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956, -23932, -22908, -21884,
        -20860, -19836, -18812, -17788, -16764, -15996, -15484, -14972, -14460, -13948, -13436,
        -12924, -12412, -11900, -11388, -10876, -10364, -9852, -9340, -8828, -8316, -7932, -7676,
        -7420, -7164, -6908, -6652, -6396, -6140, -5884, -5628, -5372, -5116, -4860, -4604, -4348,
        -4092, -3900, -3772, -3644, -3516, -3388, -3260, -3132, -3004, -2876, -2748, -2620, -2492,
        -2364, -2236, -2108, -1980, -1884, -1820, -1756, -1692, -1628, -1564, -1500, -1436, -1372,
        -1308, -1244, -1180, -1116, -1052, -988, -924, -876, -844, -812, -780, -748, -716, -684,
        -652, -620, -588, -556, -524, -492, -460, -428, -396, -372, -356, -340, -324, -308, -292,
        -276, -260, -244, -228, -212, -196, -180, -164, -148, -132, -120, -112, -104, -96, -88,
        -80, -72, -64, -56, -48, -40, -32, -24, -16, -8, 0, 32124, 31100, 30076, 29052, 28028,
        27004, 25980, 24956, 23932, 22908, 21884, 20860, 19836, 18812, 17788, 16764, 15996, 15484,
        14972, 14460, 13948, 13436, 12924, 12412, 11900, 11388, 10876, 10364, 9852, 9340, 8828,
        8316, 7932, 7676, 7420, 7164, 6908, 6652, 6396, 6140, 5884, 5628, 5372, 5116, 4860, 4604,
        4348, 4092, 3900, 3772, 3644, 3516, 3388, 3260, 3132, 3004, 2876, 2748, 2620, 2492, 2364,
        2236, 2108, 1980, 1884, 1820, 1756, 1692, 1628, 1564, 1500, 1436, 1372, 1308, 1244, 1180,
        1116, 1052, 988, 924, 876, 844, 812, 780, 748, 716, 684, 652, 620, 588, 556, 524, 492, 460,
        428, 396, 372, 356, 340, 324, 308, 292, 276, 260, 244, 228, 212, 196, 180, 164, 148, 132,
        120, 112, 104, 96, 88, 80, 72, 64, 56, 48, 40, 32, 24, 16, 8, 0,
    ];

    /// `alaw2lin` of every code, from Python's `audioop` (the reference implementation).
    const ALAW_REFERENCE: [i16; 256] = [
        -5504, -5248, -6016, -5760, -4480, -4224, -4992, -4736, -7552, -7296, -8064, -7808, -6528,
        -6272, -7040, -6784, -2752, -2624, -3008, -2880, -2240, -2112, -2496, -2368, -3776, -3648,
        -4032, -3904, -3264, -3136, -3520, -3392, -22016, -20992, -24064, -23040, -17920, -16896,
        -19968, -18944, -30208, -29184, -32256, -31232, -26112, -25088, -28160, -27136, -11008,
        -10496, -12032, -11520, -8960, -8448, -9984, -9472, -15104, -14592, -16128, -15616, -13056,
        -12544, -14080, -13568, -344, -328, -376, -360, -280, -264, -312, -296, -472, -456, -504,
        -488, -408, -392, -440, -424, -88, -72, -120, -104, -24, -8, -56, -40, -216, -200, -248,
        -232, -152, -136, -184, -168, -1376, -1312, -1504, -1440, -1120, -1056, -1248, -1184,
        -1888, -1824, -2016, -1952, -1632, -1568, -1760, -1696, -688, -656, -752, -720, -560, -528,
        -624, -592, -944, -912, -1008, -976, -816, -784, -880, -848, 5504, 5248, 6016, 5760, 4480,
        4224, 4992, 4736, 7552, 7296, 8064, 7808, 6528, 6272, 7040, 6784, 2752, 2624, 3008, 2880,
        2240, 2112, 2496, 2368, 3776, 3648, 4032, 3904, 3264, 3136, 3520, 3392, 22016, 20992,
        24064, 23040, 17920, 16896, 19968, 18944, 30208, 29184, 32256, 31232, 26112, 25088, 28160,
        27136, 11008, 10496, 12032, 11520, 8960, 8448, 9984, 9472, 15104, 14592, 16128, 15616,
        13056, 12544, 14080, 13568, 344, 328, 376, 360, 280, 264, 312, 296, 472, 456, 504, 488,
        408, 392, 440, 424, 88, 72, 120, 104, 24, 8, 56, 40, 216, 200, 248, 232, 152, 136, 184,
        168, 1376, 1312, 1504, 1440, 1120, 1056, 1248, 1184, 1888, 1824, 2016, 1952, 1632, 1568,
        1760, 1696, 688, 656, 752, 720, 560, 528, 624, 592, 944, 912, 1008, 976, 816, 784, 880,
        848,
    ];

    /// For each μ-law code, the smallest 16-bit input that encodes to it, in increasing input
    /// order (the encoder is a monotonic step function, so this list defines it completely).
    /// Generated with `audioop.lin2ulaw` over all 65,536 inputs.
    const ULAW_STEPS: &[(i16, u8)] = &include!("../tests/data/ulaw_steps.in");
    /// The same for A-law, generated with `audioop.lin2alaw`.
    const ALAW_STEPS: &[(i16, u8)] = &include!("../tests/data/alaw_steps.in");

    #[test]
    fn known_values() {
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(-1), 0x7E);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn decode_tables_match_the_reference() {
        assert_eq!(ULAW_DECODE, ULAW_REFERENCE);
        assert_eq!(ALAW_DECODE, ALAW_REFERENCE);
    }

    fn check_steps(steps: &[(i16, u8)], encode: fn(i16) -> u8) {
        assert_eq!(steps.first().map(|s| s.0), Some(i16::MIN));
        let mut next = 0;
        for x in i16::MIN..=i16::MAX {
            if steps.get(next + 1).is_some_and(|s| s.0 == x) {
                next += 1;
            }
            assert_eq!(encode(x), steps[next].1, "input {x}");
        }
        assert_eq!(next + 1, steps.len());
    }

    #[test]
    fn encoders_match_the_reference_on_every_input() {
        check_steps(ULAW_STEPS, linear_to_ulaw);
        check_steps(ALAW_STEPS, linear_to_alaw);
    }

    #[test]
    fn every_code_round_trips_through_linear() {
        for code in 0..=255u8 {
            let back = linear_to_ulaw(ulaw_to_linear(code));
            // 0x7F is negative zero: it decodes to 0, which encodes as positive zero.
            let want = if code == 0x7F { 0xFF } else { code };
            assert_eq!(back, want, "ulaw {code:#04x}");
            assert_eq!(
                linear_to_alaw(alaw_to_linear(code)),
                code,
                "alaw {code:#04x}"
            );
        }
    }

    #[test]
    fn every_sample_round_trips_within_one_quantization_step() {
        for x in i16::MIN..=i16::MAX {
            let x32 = i32::from(x);
            let u = i32::from(ulaw_to_linear(linear_to_ulaw(x)));
            let a = i32::from(alaw_to_linear(linear_to_alaw(x)));
            // A segment's step is 1/16 of the segment's lower bound, and decoding returns the
            // middle of the step; the extremes are clipped (μ-law at ±32124, A-law ±32256).
            let tol = if x32.abs() > 32000 {
                700
            } else {
                x32.abs() / 16 + 16
            };
            assert!((u - x32).abs() <= tol, "ulaw {x} -> {u}");
            assert!((a - x32).abs() <= tol, "alaw {x} -> {a}");
        }
    }

    #[test]
    fn slice_apis_stop_at_the_shorter_slice() {
        let pcm = [0i16, 1000, -1000, 32767];
        let mut codes = [0u8; 3];
        assert_eq!(ulaw_encode_into(&pcm, &mut codes), 3);
        let mut back = [7i16; 5];
        assert_eq!(ulaw_decode_into(&codes, &mut back), 3);
        assert_eq!(back[3], 7);
        assert_eq!(alaw_encode_into(&pcm, &mut codes), 3);
        assert_eq!(alaw_decode_into(&codes, &mut back), 3);
        assert_eq!(back[0], 8);
    }
}
