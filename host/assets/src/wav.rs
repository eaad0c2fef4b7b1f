//! The WAV reader (and a small writer) for prompt audio.
//!
//! Owns: parsing RIFF/WAVE bytes that hold what Plenum plays, 8 kHz mono audio as 16-bit PCM,
//! G.711 µ-law (format 7) or A-law (format 6), also inside `WAVE_FORMAT_EXTENSIBLE`, and
//! decoding it to linear 16-bit samples. Anything else is a [`WavError`] that says what is
//! wrong (stereo, 44.1 kHz, 24-bit, …), so an operator can fix a tenant's file. Does not own:
//! resampling, channel mixing or other codecs (convert with sox first), nor file names (the
//! caller adds them to its own error).
//!
//! The input is untrusted: the reader never panics, indexes or trusts a length it has not
//! checked against the bytes it holds. This file is also compiled into the crate's build
//! script, which validates every embedded asset with it, so it depends on nothing but `std`
//! and `thiserror`.

use std::fmt;

/// The only sample rate Plenum's media path uses.
pub const SAMPLE_RATE: u32 = 8_000;

/// How the samples of a WAV file are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// Linear PCM, 16-bit little-endian (format tag 1).
    Pcm16,
    /// G.711 µ-law, 8 bits a sample (format tag 7).
    MuLaw,
    /// G.711 A-law, 8 bits a sample (format tag 6).
    ALaw,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Pcm16 => "PCM",
            Encoding::MuLaw => "µ-law",
            Encoding::ALaw => "A-law",
        })
    }
}

/// What is wrong with a WAV file. Each variant says what the file has; the fix is always
/// "convert it to 8 kHz mono 16-bit PCM, µ-law or A-law WAV".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// The file does not start with `RIFF`: not a WAV file at all (MP3, raw audio, text …).
    #[error("not a WAV file (no RIFF header)")]
    NotRiff,
    /// A RIFF file of another kind (AVI, WebP …).
    #[error("a RIFF file but not WAVE")]
    NotWave,
    /// The file ends inside a header or chunk.
    #[error("truncated: the file ends inside the {what}")]
    Truncated {
        /// Which part was cut short.
        what: &'static str,
    },
    /// No `fmt ` chunk before the end of the file.
    #[error("no `fmt ` chunk")]
    MissingFormat,
    /// No `data` chunk before the end of the file.
    #[error("no `data` chunk")]
    MissingData,
    /// The `fmt ` chunk is shorter than the 16 bytes every format needs.
    #[error("`fmt ` chunk of {len} bytes is too short")]
    ShortFormat {
        /// Its length.
        len: u32,
    },
    /// A sample format other than PCM, µ-law or A-law (IEEE float, ADPCM, MP3 …).
    #[error("unsupported encoding (format tag {tag:#06x}); use 16-bit PCM, µ-law or A-law")]
    UnsupportedEncoding {
        /// The WAVE format tag.
        tag: u16,
    },
    /// More than one channel (or none).
    #[error("{channels} channels; prompts must be mono")]
    Channels {
        /// The channel count.
        channels: u16,
    },
    /// A sample rate other than 8 kHz.
    #[error("sample rate {rate} Hz; prompts must be 8000 Hz")]
    SampleRate {
        /// The rate.
        rate: u32,
    },
    /// A sample size the encoding does not allow here (8- or 24-bit PCM, 16-bit µ-law …).
    #[error("{bits}-bit {encoding}; PCM must be 16-bit, µ-law and A-law 8-bit")]
    BitsPerSample {
        /// The encoding.
        encoding: Encoding,
        /// The bits per sample.
        bits: u16,
    },
    /// The block alignment does not match one mono sample.
    #[error("block align {align} (expected {expected})")]
    BlockAlign {
        /// What the file says.
        align: u16,
        /// What one mono sample takes.
        expected: u16,
    },
    /// The data chunk ends in the middle of a sample.
    #[error("data chunk of {len} bytes is not a whole number of samples")]
    PartialSample {
        /// Its length in bytes.
        len: usize,
    },
    /// The data chunk holds no samples.
    #[error("no audio (empty data chunk)")]
    Empty,
}

/// The header facts of a valid file: its encoding and its audio bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavData<'a> {
    /// How the samples are stored.
    pub encoding: Encoding,
    /// The raw bytes of the `data` chunk.
    pub data: &'a [u8],
}

impl WavData<'_> {
    /// The number of samples.
    pub fn samples(&self) -> usize {
        match self.encoding {
            Encoding::Pcm16 => self.data.len() / 2,
            Encoding::MuLaw | Encoding::ALaw => self.data.len(),
        }
    }

    /// The duration in milliseconds (rounded down).
    pub fn duration_ms(&self) -> u64 {
        // usize → u64 never truncates on the platforms Rust supports.
        (self.samples() as u64).saturating_mul(1000) / u64::from(SAMPLE_RATE)
    }

    /// The samples as linear 16-bit PCM.
    pub fn decode(&self) -> Vec<i16> {
        match self.encoding {
            Encoding::Pcm16 => self
                .data
                .chunks_exact(2)
                .map(|c| match *c {
                    [lo, hi] => i16::from_le_bytes([lo, hi]),
                    _ => 0,
                })
                .collect(),
            Encoding::MuLaw => self.data.iter().map(|&b| ulaw_to_linear(b)).collect(),
            Encoding::ALaw => self.data.iter().map(|&b| alaw_to_linear(b)).collect(),
        }
    }
}

/// Parse and check a WAV file without decoding it.
pub fn parse(bytes: &[u8]) -> Result<WavData<'_>, WavError> {
    let mut body = riff_body(bytes)?;
    let mut format = None;
    let mut data = None;
    while format.is_none() || data.is_none() {
        let Some((id, rest)) = body.split_first_chunk::<4>() else {
            break;
        };
        let Some((len, rest)) = rest.split_first_chunk::<4>() else {
            return Err(WavError::Truncated {
                what: "chunk header",
            });
        };
        let len = u32::from_le_bytes(*len);
        let content = rest.get(..len as usize);
        match (id, content) {
            (b"fmt ", Some(c)) => format = Some(parse_format(c, len)?),
            (b"data", Some(c)) => data = Some(c),
            (b"fmt ", None) => return Err(WavError::Truncated { what: "fmt chunk" }),
            (b"data", None) => return Err(WavError::Truncated { what: "data chunk" }),
            (_, None) => return Err(WavError::Truncated { what: "a chunk" }),
            (_, Some(_)) => {}
        }
        // Chunks are padded to an even length; a missing pad byte at the very end is
        // tolerated (some writers leave it out).
        let padded = (len as usize).saturating_add((len & 1) as usize);
        body = rest.get(padded..).unwrap_or_default();
    }
    let encoding = format.ok_or(WavError::MissingFormat)?;
    let data = data.ok_or(WavError::MissingData)?;
    check_data(encoding, data)?;
    Ok(WavData { encoding, data })
}

/// Parse, check and decode a WAV file to linear 16-bit samples.
pub fn decode(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    parse(bytes).map(|w| w.decode())
}

/// Write 8 kHz mono 16-bit PCM WAV bytes (what [`decode`] reads back).
pub fn encode_pcm16(samples: &[i16]) -> Vec<u8> {
    // A RIFF file holds at most 4 GiB: longer input is cut there.
    const MAX_SAMPLES: usize = (u32::MAX as usize - 36) / 2;
    let samples = samples.get(..MAX_SAMPLES).unwrap_or(samples);
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(0);
    let mut out = Vec::with_capacity(44usize.saturating_add(data_len as usize));
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Decode one G.711 µ-law byte (ITU-T G.711, as in the reference implementation).
pub fn ulaw_to_linear(code: u8) -> i16 {
    const BIAS: i16 = 0x84;
    let code = !code;
    let exponent = (code >> 4) & 0x07;
    let mantissa = i16::from(code & 0x0F);
    // At most ((15 << 3) + 0x84) << 7 = 32256: no overflow.
    let magnitude = ((mantissa << 3) + BIAS) << exponent;
    if code & 0x80 != 0 {
        BIAS - magnitude
    } else {
        magnitude - BIAS
    }
}

/// Decode one G.711 A-law byte (ITU-T G.711, as in the reference implementation).
pub fn alaw_to_linear(code: u8) -> i16 {
    let code = code ^ 0x55;
    let segment = (code & 0x70) >> 4;
    let mut magnitude = i16::from(code & 0x0F) << 4;
    match segment {
        0 => magnitude += 8,
        1 => magnitude += 0x108,
        // At most (0xF0 + 0x108) << 6 = 32256: no overflow.
        _ => magnitude = (magnitude + 0x108) << (segment - 1),
    }
    if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// The bytes after the `RIFF` size `WAVE` header.
fn riff_body(bytes: &[u8]) -> Result<&[u8], WavError> {
    let Some((head, body)) = bytes.split_first_chunk::<12>() else {
        return Err(if bytes.starts_with(b"RIFF") {
            WavError::Truncated {
                what: "RIFF header",
            }
        } else {
            WavError::NotRiff
        });
    };
    if !head.starts_with(b"RIFF") {
        return Err(WavError::NotRiff);
    }
    if !head.ends_with(b"WAVE") {
        return Err(WavError::NotWave);
    }
    Ok(body)
}

/// The little-endian `u16` at `at`, if the bytes reach that far.
fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..)?.first_chunk::<2>()?;
    Some(u16::from_le_bytes(*b))
}

/// The little-endian `u32` at `at`, if the bytes reach that far.
fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..)?.first_chunk::<4>()?;
    Some(u32::from_le_bytes(*b))
}

/// `WAVE_FORMAT_EXTENSIBLE`: the real format is the first two bytes of the sub-format GUID.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Check a `fmt ` chunk (`len` bytes long) and say how the samples are stored.
fn parse_format(chunk: &[u8], len: u32) -> Result<Encoding, WavError> {
    let short = WavError::ShortFormat { len };
    let mut tag = u16_at(chunk, 0).ok_or(short.clone())?;
    let channels = u16_at(chunk, 2).ok_or(short.clone())?;
    let rate = u32_at(chunk, 4).ok_or(short.clone())?;
    let align = u16_at(chunk, 12).ok_or(short.clone())?;
    let bits = u16_at(chunk, 14).ok_or(short.clone())?;
    if tag == FORMAT_EXTENSIBLE {
        // cbSize (16), valid bits (18), channel mask (20), sub-format GUID (24..40).
        tag = u16_at(chunk, 24).ok_or(short)?;
    }
    let encoding = match tag {
        1 => Encoding::Pcm16,
        7 => Encoding::MuLaw,
        6 => Encoding::ALaw,
        tag => return Err(WavError::UnsupportedEncoding { tag }),
    };
    if channels != 1 {
        return Err(WavError::Channels { channels });
    }
    if rate != SAMPLE_RATE {
        return Err(WavError::SampleRate { rate });
    }
    let expected_bits = if encoding == Encoding::Pcm16 { 16 } else { 8 };
    if bits != expected_bits {
        return Err(WavError::BitsPerSample { encoding, bits });
    }
    let expected = expected_bits / 8;
    if align != expected {
        return Err(WavError::BlockAlign { align, expected });
    }
    Ok(encoding)
}

/// Check that `data` holds whole samples, at least one.
fn check_data(encoding: Encoding, data: &[u8]) -> Result<(), WavError> {
    if data.is_empty() {
        return Err(WavError::Empty);
    }
    if encoding == Encoding::Pcm16 && !data.len().is_multiple_of(2) {
        return Err(WavError::PartialSample { len: data.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV file with the given `fmt ` fields and data.
    fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let align = channels * bits.div_ceil(8);
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&channels.to_le_bytes());
        fmt.extend_from_slice(&rate.to_le_bytes());
        fmt.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        fmt.extend_from_slice(&align.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        riff(&[(b"fmt ", &fmt), (b"data", data)])
    }

    /// A RIFF/WAVE file of the given chunks (padded to even lengths).
    fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        for (id, content) in chunks {
            body.extend_from_slice(*id);
            body.extend_from_slice(&(content.len() as u32).to_le_bytes());
            body.extend_from_slice(content);
            if content.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    fn pcm(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[test]
    fn reads_16_bit_pcm() {
        let file = wav(1, 1, 8000, 16, &pcm(&[0, 1, -1, i16::MAX, i16::MIN]));
        let w = parse(&file).unwrap();
        assert_eq!(w.encoding, Encoding::Pcm16);
        assert_eq!(w.samples(), 5);
        assert_eq!(w.decode(), [0, 1, -1, i16::MAX, i16::MIN]);
    }

    #[test]
    fn reads_mu_law_and_a_law() {
        let file = wav(7, 1, 8000, 8, &[0xFF, 0x7F, 0x80, 0x00]);
        assert_eq!(decode(&file).unwrap(), [0, 0, 32124, -32124]);
        let file = wav(6, 1, 8000, 8, &[0xD5, 0x55, 0xAA, 0x2A]);
        assert_eq!(decode(&file).unwrap(), [8, -8, 32256, -32256]);
    }

    #[test]
    fn g711_decoders_are_odd_symmetric_and_monotonic() {
        // µ-law: 0x80..=0x8F are the loudest positive codes, 0xFF the quietest.
        let positive: Vec<i16> = (0x80..=0xFFu8).rev().map(ulaw_to_linear).collect();
        assert!(positive.windows(2).all(|w| w[0] < w[1]));
        for code in 0..=0x7Fu8 {
            assert_eq!(ulaw_to_linear(code), -ulaw_to_linear(code | 0x80));
        }
        for code in 0..=0x7Fu8 {
            assert_eq!(alaw_to_linear(code), -alaw_to_linear(code | 0x80));
        }
    }

    #[test]
    fn reads_what_encode_pcm16_writes() {
        let samples: Vec<i16> = (0..800).map(|i| (i * 37 % 2000 - 1000) as i16).collect();
        assert_eq!(decode(&encode_pcm16(&samples)).unwrap(), samples);
        let file = encode_pcm16(&samples);
        assert_eq!(parse(&file).unwrap().duration_ms(), 100);
    }

    #[test]
    fn reads_extensible_format_and_skips_other_chunks() {
        let mut fmt = Vec::new();
        for v in [0xFFFEu16, 1] {
            fmt.extend_from_slice(&v.to_le_bytes());
        }
        fmt.extend_from_slice(&8000u32.to_le_bytes());
        fmt.extend_from_slice(&8000u32.to_le_bytes());
        for v in [1u16, 8, 22, 8] {
            fmt.extend_from_slice(&v.to_le_bytes());
        }
        fmt.extend_from_slice(&4u32.to_le_bytes()); // channel mask
        fmt.extend_from_slice(&7u16.to_le_bytes()); // µ-law sub-format
        fmt.extend_from_slice(&[0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]);
        let file = riff(&[
            (b"LIST", b"odd"),
            (b"fmt ", &fmt),
            (b"fact", &3u32.to_le_bytes()),
            (b"data", &[0xFF, 0xFF, 0xFF]),
        ]);
        assert_eq!(decode(&file).unwrap(), [0, 0, 0]);
    }

    #[test]
    fn tolerates_a_missing_pad_byte_at_the_end() {
        let mut file = wav(7, 1, 8000, 8, &[0xFF, 0xFF, 0xFF]);
        file.pop();
        assert_eq!(decode(&file).unwrap().len(), 3);
    }

    #[test]
    fn says_what_is_wrong() {
        let one = pcm(&[0, 0]);
        let cases: Vec<(Vec<u8>, WavError)> = vec![
            (
                wav(1, 2, 8000, 16, &one),
                WavError::Channels { channels: 2 },
            ),
            (
                wav(1, 0, 8000, 16, &one),
                WavError::Channels { channels: 0 },
            ),
            (
                wav(1, 1, 44100, 16, &one),
                WavError::SampleRate { rate: 44100 },
            ),
            (
                wav(1, 1, 8000, 24, &[0; 6]),
                WavError::BitsPerSample {
                    encoding: Encoding::Pcm16,
                    bits: 24,
                },
            ),
            (
                wav(1, 1, 8000, 8, &[0; 6]),
                WavError::BitsPerSample {
                    encoding: Encoding::Pcm16,
                    bits: 8,
                },
            ),
            (
                wav(7, 1, 8000, 16, &one),
                WavError::BitsPerSample {
                    encoding: Encoding::MuLaw,
                    bits: 16,
                },
            ),
            (
                wav(3, 1, 8000, 32, &[0; 8]),
                WavError::UnsupportedEncoding { tag: 3 },
            ),
            (
                wav(0x11, 1, 8000, 4, &[0; 8]),
                WavError::UnsupportedEncoding { tag: 0x11 },
            ),
            (
                wav(1, 1, 8000, 16, &[0; 3]),
                WavError::PartialSample { len: 3 },
            ),
            (wav(1, 1, 8000, 16, &[]), WavError::Empty),
            (b"ID3\x03\0\0\0\0\0\0\0\0\0\0".to_vec(), WavError::NotRiff),
            (b"RIFF\x04\0\0\0AVI LIST".to_vec(), WavError::NotWave),
            (
                b"RIFF\x04\0\0\0WA".to_vec(),
                WavError::Truncated {
                    what: "RIFF header",
                },
            ),
            (riff(&[(b"data", &one)]), WavError::MissingFormat),
            (
                riff(&[(b"fmt ", &wav(1, 1, 8000, 16, &one)[20..36])]),
                WavError::MissingData,
            ),
            (
                riff(&[(b"fmt ", &[1, 0, 1, 0])]),
                WavError::ShortFormat { len: 4 },
            ),
        ];
        for (file, expected) in cases {
            assert_eq!(parse(&file), Err(expected.clone()), "{expected}");
        }
        let mut block = wav(1, 1, 8000, 16, &one);
        block[32] = 4;
        assert_eq!(
            parse(&block),
            Err(WavError::BlockAlign {
                align: 4,
                expected: 2
            })
        );
    }

    #[test]
    fn truncated_files_are_errors_not_short_audio() {
        let file = wav(1, 1, 8000, 16, &pcm(&[1; 100]));
        // Every proper prefix fails (the last byte is audio, so even that cut is reported).
        for cut in 0..file.len() {
            assert!(parse(&file[..cut]).is_err(), "prefix of {cut} bytes");
        }
        assert_eq!(
            parse(&file[..file.len() - 2]),
            Err(WavError::Truncated { what: "data chunk" })
        );
    }

    #[test]
    fn error_messages_name_the_problem() {
        let e = parse(&wav(1, 2, 44100, 16, &[0; 4])).unwrap_err();
        assert_eq!(e.to_string(), "2 channels; prompts must be mono");
        let e = parse(&wav(1, 1, 44100, 16, &[0; 4])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sample rate 44100 Hz; prompts must be 8000 Hz"
        );
        let e = parse(&wav(1, 1, 8000, 24, &[0; 6])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "24-bit PCM; PCM must be 16-bit, µ-law and A-law 8-bit"
        );
    }

    /// xorshift64*: a small deterministic generator for the no-panic properties.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let len = rng.below(96);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Half of them get a valid RIFF/WAVE header so the chunk walk is exercised.
            if rng.below(2) == 0 && bytes.len() >= 12 {
                bytes[..4].copy_from_slice(b"RIFF");
                bytes[8..12].copy_from_slice(b"WAVE");
            }
            if let Ok(w) = parse(&bytes) {
                assert_eq!(w.decode().len(), w.samples());
            }
        }
    }

    #[test]
    fn mutated_valid_files_never_panic() {
        let mut rng = Rng(42);
        let good = [
            wav(1, 1, 8000, 16, &pcm(&[5; 20])),
            wav(7, 1, 8000, 8, &[0x55; 21]),
            encode_pcm16(&[1, 2, 3]),
        ];
        for _ in 0..20_000 {
            let mut bytes = good[rng.below(good.len())].clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(bytes.len());
                match rng.below(3) {
                    0 => bytes[at] = rng.next() as u8,
                    1 => bytes.truncate(at),
                    _ => bytes[at] = 0xFF,
                }
                if bytes.is_empty() {
                    break;
                }
            }
            if let Ok(w) = parse(&bytes) {
                assert_eq!(w.decode().len(), w.samples());
            }
        }
    }
}
