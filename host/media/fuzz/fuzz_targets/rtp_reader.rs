//! Arbitrary datagrams into a plain leg and an SRTP leg.
//!
//! The input is a little program: each step picks an operation (a raw datagram, an RTP or
//! RTCP packet built from fuzzed fields, a tampered or replayed SRTP packet, a pull, a timer,
//! a send), a source address and a clock advance. Packets built from fields are also
//! protected with the SRTP leg's remote key, so the fuzzer explores everything after
//! authentication (SSRC and sequence logic, the jitter buffer, the digit reader, RTCP) under
//! SRTP as well as in plain RTP.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use plenum_media::{Codec, FRAME_SAMPLES, Leg, LegConfig, SrtpConfig, SrtpSuite};
use webrtc_srtp::context::Context;
use webrtc_srtp::protection_profile::ProtectionProfile;
use webrtc_util::marshal::Marshal;

const REMOTE_KEY: [u8; 30] = [0x42; 30];

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fn legs(flags: u8, t0: Instant) -> (Leg, Leg) {
    let codec = if flags & 1 == 0 {
        Codec::PCMU
    } else {
        Codec::PCMA
    };
    let mut cfg = LegConfig::new(0x1000, codec);
    cfg.telephone_event_pt = (flags & 2 == 0).then_some(101);
    cfg.ptime_ms = [20, 10, 30, 60][usize::from(flags >> 2 & 3)];
    cfg.rtcp_mux = flags & 16 != 0;
    cfg.remote = (flags & 32 == 0).then(|| "192.0.2.9:5000".parse().expect("literal"));
    let plain = Leg::new(cfg.clone(), t0).expect("valid config");
    let suite = if flags & 64 == 0 {
        SrtpSuite::Aes128CmHmacSha1_80
    } else {
        SrtpSuite::Aes128CmHmacSha1_32
    };
    cfg.srtp = Some(SrtpConfig {
        suite,
        local_key_salt: [7; 30],
        remote_key_salt: REMOTE_KEY,
    });
    let srtp = Leg::new(cfg, t0).expect("valid config");
    (plain, srtp)
}

fn sender(flags: u8) -> Context {
    let profile = if flags & 64 == 0 {
        ProtectionProfile::Aes128CmHmacSha1_80
    } else {
        ProtectionProfile::Aes128CmHmacSha1_32
    };
    Context::new(&REMOTE_KEY[..16], &REMOTE_KEY[16..], profile, None, None).expect("valid key")
}

fn drain(leg: &mut Leg) {
    while leg.poll_transmit().is_some() {}
    while let Some(d) = leg.poll_event() {
        assert!("0123456789*#ABCD".contains(d.digit));
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(flags) = input.byte() else { return };
    let t0 = Instant::now();
    let (mut plain, mut srtp) = legs(flags, t0);
    let mut tx = sender(flags);
    let sources: [SocketAddr; 4] = [
        "192.0.2.9:5000",
        "192.0.2.9:5001",
        "198.51.100.1:7000",
        "[2001:db8::1]:9",
    ]
    .map(|s| s.parse().expect("literal"));
    let mut now = t0;
    let mut last_protected: Vec<u8> = Vec::new();
    let (mut fed_plain, mut fed_srtp) = (0u64, 0u64);
    while let (Some(op), Some(dt), Some(src)) = (input.byte(), input.byte(), input.byte()) {
        now += Duration::from_millis(u64::from(dt) * if dt > 200 { 50 } else { 1 });
        let from = sources[usize::from(src & 3)];
        match op % 8 {
            0 => {
                let len = usize::from(input.u16().unwrap_or(0) % 1600);
                let raw = input.bytes(len).to_vec();
                plain.handle_datagram(&raw, from, now);
                srtp.handle_datagram(&raw, from, now);
                fed_plain += 1;
                fed_srtp += 1;
            }
            1 | 2 => {
                let (Some(b), Some(seq), Some(ts), Some(s)) =
                    (input.byte(), input.u16(), input.u32(), input.byte())
                else {
                    break;
                };
                let ssrc = [0xAAAA, 0xBBBB, 0xCCCC, u32::from(s) << 24][usize::from(s & 3)];
                let pt = [0, 8, 101, b & 0x7F][usize::from(b >> 5 & 3)];
                let len = usize::from(input.byte().unwrap_or(0));
                let header = rtp::header::Header {
                    version: 2,
                    padding: false,
                    marker: b & 0x80 != 0,
                    payload_type: pt,
                    sequence_number: seq,
                    timestamp: ts,
                    ssrc,
                    ..Default::default()
                };
                let mut packet = header.marshal().expect("plain header").to_vec();
                packet.extend_from_slice(input.bytes(len));
                plain.handle_datagram(&packet, from, now);
                fed_plain += 1;
                if let Ok(mut protected) = tx
                    .encrypt_rtp_with_header(&packet, &header)
                    .map(|b| b.to_vec())
                {
                    if op % 8 == 2 {
                        let at = usize::from(b) % protected.len();
                        protected[at] ^= 1 << (seq % 8);
                    }
                    srtp.handle_datagram(&protected, from, now);
                    fed_srtp += 1;
                    last_protected = protected;
                }
            }
            3 => {
                srtp.handle_datagram(&last_protected, from, now);
                plain.handle_datagram(&last_protected, from, now);
                fed_plain += 1;
                fed_srtp += 1;
            }
            4 => {
                let len = usize::from(input.byte().unwrap_or(0));
                let mut rtcp = vec![0x80 | (op >> 3 & 0x1F), 200 + (op >> 3 & 7)];
                rtcp.extend_from_slice(&((len / 4) as u16).to_be_bytes());
                rtcp.extend_from_slice(input.bytes(len));
                plain.handle_datagram(&rtcp, from, now);
                fed_plain += 1;
                if let Ok(p) = tx.encrypt_rtcp(&rtcp) {
                    srtp.handle_datagram(&p, from, now);
                    fed_srtp += 1;
                }
            }
            5 => {
                for leg in [&mut plain, &mut srtp] {
                    let f = leg.pull_frame(now);
                    assert_eq!(f.samples.len(), FRAME_SAMPLES);
                }
            }
            6 => {
                for leg in [&mut plain, &mut srtp] {
                    if let Some(t) = leg.poll_timeout() {
                        now = now.max(t);
                        leg.handle_timeout(now);
                    }
                }
            }
            _ => {
                let b = input.byte().unwrap_or(0);
                for leg in [&mut plain, &mut srtp] {
                    if b & 1 == 0 {
                        let _ = leg.send_audio(&[i16::from(b) * 100; FRAME_SAMPLES], now);
                    } else {
                        let digit = char::from(b >> 1);
                        let _ =
                            leg.send_digit(digit, Duration::from_millis(u64::from(b) * 10), now);
                    }
                }
            }
        }
        drain(&mut plain);
        drain(&mut srtp);
    }
    for (leg, fed) in [(&plain, fed_plain), (&srtp, fed_srtp)] {
        let s = leg.stats();
        assert_eq!(s.datagrams, fed, "{s:?}");
        assert_eq!(s.unaccounted(), 0, "{s:?}");
        assert!(s.decoded + s.digits <= s.received, "{s:?}");
        assert!(s.late <= s.decoded, "{s:?}");
    }
});
