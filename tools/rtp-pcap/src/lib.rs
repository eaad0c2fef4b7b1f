//! pcap files of an RTP stream for SIPp's `play_pcap_audio`: G.711 µ-law audio (silence or a
//! tone) with RFC 4733 telephone-events for a digit string, timed like a phone's keypad.
//!
//! SIPp replays the UDP payloads of a pcap with the recorded timing to the media address it
//! negotiated, so only the RTP matters; the Ethernet, IPv4 and UDP headers are there to make a
//! well-formed capture (Wireshark reads it too).
//!
//! A [`Script`] is a list of [`Step`]s: audio for a while, a digit pressed for a while. Each
//! digit is sent the way RFC 4733 §2.5 describes and real phones do: a first packet with the
//! marker bit, updates every 50 ms with a growing duration, and the end packet three times, all
//! with the event's start timestamp; audio packets keep flowing around the events.

use plenum_media::g711;

/// Samples per 20 ms packet.
const FRAME: u32 = 160;
/// µ-law payload type.
pub const PT_PCMU: u8 = 0;
/// The telephone-event payload type the scenarios' SDP offers.
pub const PT_EVENT: u8 = 101;

/// One piece of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Silence for this many ms.
    Silence(u32),
    /// A sine tone (Hz, ms), at about -12 dBFS.
    Tone(f64, u32),
    /// A key (0-9, *, #, A-D) held for this many ms, then released.
    Digit(char, u32),
}

/// A stream to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The steps in order.
    pub steps: Vec<Step>,
    /// RTP SSRC.
    pub ssrc: u32,
}

impl Script {
    /// Lead-in silence, each digit held 120 ms with 120 ms between digits, and a tail of
    /// silence: what a person keying in `digits` quickly sends.
    pub fn keyed(digits: &str) -> Script {
        let mut steps = vec![Step::Silence(200)];
        for d in digits.chars() {
            steps.push(Step::Digit(d, 120));
            steps.push(Step::Silence(120));
        }
        steps.push(Step::Silence(200));
        Script {
            steps,
            ssrc: 0x504c_4e4d,
        }
    }
}

/// The RFC 4733 event code of a key.
pub fn event_code(key: char) -> Option<u8> {
    Some(match key {
        '0'..='9' => key as u8 - b'0',
        '*' => 10,
        '#' => 11,
        'A'..='D' => key as u8 - b'A' + 12,
        _ => return None,
    })
}

/// An RTP packet with its send time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Offset from the stream's start, in microseconds.
    pub at_us: u64,
    /// The RTP packet.
    pub rtp: Vec<u8>,
}

fn rtp(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + payload.len());
    p.push(0x80);
    p.push(pt | if marker { 0x80 } else { 0 });
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// The packets of `script`; a key no RFC 4733 event exists for is an error naming it.
pub fn packets(script: &Script) -> Result<Vec<Packet>, String> {
    let mut out = Vec::new();
    let mut seq: u16 = 1;
    let mut ts: u32 = 0;
    let mut at_us: u64 = 0;
    let mut phase = 0.0f64;
    let silence = [g711::linear_to_ulaw(0); FRAME as usize];
    let mut push = |out: &mut Vec<Packet>, pt, marker, ts, payload: &[u8], at_us| {
        out.push(Packet {
            at_us,
            rtp: rtp(pt, marker, seq, ts, script.ssrc, payload),
        });
        seq = seq.wrapping_add(1);
    };
    for step in &script.steps {
        match *step {
            Step::Silence(ms) => {
                for _ in 0..ms / 20 {
                    push(&mut out, PT_PCMU, false, ts, &silence, at_us);
                    ts = ts.wrapping_add(FRAME);
                    at_us += 20_000;
                }
            }
            Step::Tone(hz, ms) => {
                for _ in 0..ms / 20 {
                    let mut frame = [0u8; FRAME as usize];
                    for b in &mut frame {
                        let s = (phase.sin() * 8000.0) as i16;
                        phase += 2.0 * std::f64::consts::PI * hz / 8000.0;
                        *b = g711::linear_to_ulaw(s);
                    }
                    push(&mut out, PT_PCMU, false, ts, &frame, at_us);
                    ts = ts.wrapping_add(FRAME);
                    at_us += 20_000;
                }
            }
            Step::Digit(key, ms) => {
                let code =
                    event_code(key).ok_or_else(|| format!("no RFC 4733 event for {key:?}"))?;
                let start = ts;
                let packets = (ms / 20).max(1);
                for i in 0..packets {
                    let duration = ((i + 1) * FRAME).min(u32::from(u16::MAX)) as u16;
                    let end = i + 1 == packets;
                    let flags = if end { 0x80 } else { 0 } | 10; // E bit, volume -10 dBm0
                    let payload = [code, flags, (duration >> 8) as u8, duration as u8];
                    // The end packet goes out three times (RFC 4733 §2.5.1.4).
                    let copies = if end { 3 } else { 1 };
                    for _ in 0..copies {
                        push(&mut out, PT_EVENT, i == 0, start, &payload, at_us);
                    }
                    ts = ts.wrapping_add(FRAME);
                    at_us += 20_000;
                }
            }
        }
    }
    Ok(out)
}

/// A pcap file (Ethernet, IPv4, UDP from 10.0.0.1:6000 to 10.0.0.2:6000) of the packets.
pub fn pcap(packets: &[Packet]) -> Vec<u8> {
    let mut f = Vec::new();
    // Global header: magic, v2.4, GMT offset, accuracy, snaplen, Ethernet.
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&0i32.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&65_535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        let udp_len = 8 + p.rtp.len();
        let ip_len = 20 + udp_len;
        let frame_len = 14 + ip_len;
        let secs = 1_700_000_000 + p.at_us / 1_000_000;
        f.extend_from_slice(&(secs as u32).to_le_bytes());
        f.extend_from_slice(&((p.at_us % 1_000_000) as u32).to_le_bytes());
        f.extend_from_slice(&(frame_len as u32).to_le_bytes());
        f.extend_from_slice(&(frame_len as u32).to_le_bytes());
        // Ethernet.
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
        // IPv4.
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&(i as u16).to_be_bytes());
        ip[8] = 64;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
        ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
        let sum = checksum(&ip);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        f.extend_from_slice(&ip);
        // UDP (checksum 0: none, allowed over IPv4).
        f.extend_from_slice(&6000u16.to_be_bytes());
        f.extend_from_slice(&6000u16.to_be_bytes());
        f.extend_from_slice(&(udp_len as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&p.rtp);
    }
    f
}

fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| {
            u32::from(u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ]))
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use plenum_media::dtmf::TelephoneEventReader;

    #[test]
    fn keyed_digits_read_back_once_each_through_the_media_reader() {
        let script = Script::keyed("4255#");
        let pkts = packets(&script).unwrap();
        let mut reader = TelephoneEventReader::new();
        let mut got = String::new();
        let t0 = std::time::Instant::now();
        for p in &pkts {
            if p.rtp[1] & 0x7f == PT_EVENT {
                let ts = u32::from_be_bytes([p.rtp[4], p.rtp[5], p.rtp[6], p.rtp[7]]);
                let at = t0 + std::time::Duration::from_micros(p.at_us);
                reader.handle_packet(script.ssrc, ts, p.rtp[1] & 0x80 != 0, &p.rtp[12..], at);
                while let Some(d) = reader.poll_event() {
                    got.push(d.digit);
                }
            }
        }
        assert_eq!(got, "4255#");
        // 20 ms apart, increasing sequence numbers.
        for w in pkts.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            assert!(b.at_us >= a.at_us);
            let sa = u16::from_be_bytes([a.rtp[2], a.rtp[3]]);
            let sb = u16::from_be_bytes([b.rtp[2], b.rtp[3]]);
            assert_eq!(sb, sa.wrapping_add(1));
        }
    }

    #[test]
    fn the_pcap_is_well_formed() {
        let pkts = packets(&Script::keyed("1")).unwrap();
        let file = pcap(&pkts);
        assert_eq!(&file[..4], &0xa1b2_c3d4u32.to_le_bytes());
        // Walk the records: each length fits and the IPv4 checksum verifies.
        let mut off = 24;
        let mut n = 0;
        while off < file.len() {
            let len = u32::from_le_bytes(file[off + 8..off + 12].try_into().unwrap()) as usize;
            let rec = &file[off + 16..off + 16 + len];
            assert_eq!(checksum(&rec[14..34]), 0);
            assert_eq!(&rec[42..], &pkts[n].rtp[..]);
            off += 16 + len;
            n += 1;
        }
        assert_eq!(n, pkts.len());
    }

    #[test]
    fn unknown_keys_are_an_error() {
        assert!(packets(&Script::keyed("12x")).is_err());
    }
}
