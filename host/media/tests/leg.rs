//! Deterministic simulations of legs: two legs on an in-memory network with a virtual clock,
//! hand-made packets for the RTP edge cases, SRTP with SDES keys, RFC 4733 digits as SIPp and
//! baresip send them (the SIPp pcaps themselves when `sip-tester` is installed), and RTCP.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use plenum_media::g711;
use plenum_media::{
    Codec, FRAME_SAMPLES, FrameKind, Leg, LegConfig, SrtpConfig, SrtpSuite, Transmit, TransmitKind,
};

const MS: Duration = Duration::from_millis(1);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn alice() -> SocketAddr {
    addr("192.0.2.1:40000")
}

fn bob() -> SocketAddr {
    addr("192.0.2.2:50000")
}

fn config(ssrc: u32, remote: SocketAddr) -> LegConfig {
    LegConfig {
        telephone_event_pt: Some(101),
        remote: Some(remote),
        ..LegConfig::new(ssrc, Codec::PCMU)
    }
}

/// Two legs facing each other; with SRTP, one side's local key is the other's remote key.
fn pair(suite: Option<SrtpSuite>, t0: Instant) -> (Leg, Leg) {
    let (ka, kb) = ([0x11u8; 30], [0x22u8; 30]);
    let mut a = config(0xA11CE, bob());
    let mut b = config(0xB0B, alice());
    if let Some(suite) = suite {
        a.srtp = Some(SrtpConfig {
            suite,
            local_key_salt: ka,
            remote_key_salt: kb,
        });
        b.srtp = Some(SrtpConfig {
            suite,
            local_key_salt: kb,
            remote_key_salt: ka,
        });
    }
    (Leg::new(a, t0).unwrap(), Leg::new(b, t0).unwrap())
}

fn drain(leg: &mut Leg) -> Vec<Transmit> {
    std::iter::from_fn(|| leg.poll_transmit()).collect()
}

/// A 440 Hz tone, frame `k`.
fn tone(k: u32) -> [i16; FRAME_SAMPLES] {
    let mut f = [0i16; FRAME_SAMPLES];
    for (i, s) in f.iter_mut().enumerate() {
        let t = (k as usize * FRAME_SAMPLES + i) as f64 / 8000.0;
        *s = (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16;
    }
    f
}

fn through_ulaw(frame: &[i16; FRAME_SAMPLES]) -> [i16; FRAME_SAMPLES] {
    frame.map(|s| g711::ulaw_to_linear(g711::linear_to_ulaw(s)))
}

/// A plain RTP packet.
fn rtp(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80, pt | if marker { 0x80 } else { 0 }];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&ts.to_be_bytes());
    v.extend_from_slice(&ssrc.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn pcmu(seq: u16, ts: u32, ssrc: u32) -> Vec<u8> {
    rtp(0, false, seq, ts, ssrc, &[0x5A; 160])
}

/// Runs a one-way call: `a` sends `frames` frames every 20 ms, the network delivers each
/// packet after `delay` (or drops it for `None`), `b` pulls every 20 ms (7 ms out of phase).
/// Returns the frames `b` played.
fn call(
    a: &mut Leg,
    b: &mut Leg,
    t0: Instant,
    frames: u32,
    mut network: impl FnMut(u32, Vec<u8>) -> Vec<(Duration, Vec<u8>)>,
) -> Vec<(FrameKind, [i16; FRAME_SAMPLES])> {
    let mut in_flight: Vec<(Instant, Vec<u8>)> = Vec::new();
    let mut played = Vec::new();
    for k in 0..frames + 10 {
        let now = t0 + 20 * MS * k;
        if k < frames {
            a.send_audio(&tone(k), now).unwrap();
        }
        for t in drain(a) {
            if t.kind == TransmitKind::Rtp {
                assert_eq!(t.to, bob());
                for (d, bytes) in network(k, t.bytes.to_vec()) {
                    in_flight.push((now + d, bytes));
                }
            }
        }
        let pull_at = now + 7 * MS;
        in_flight.sort_by_key(|p| p.0);
        while in_flight.first().is_some_and(|p| p.0 <= pull_at) {
            let (at, bytes) = in_flight.remove(0);
            b.handle_datagram(&bytes, alice(), at);
        }
        let f = b.pull_frame(pull_at);
        played.push((f.kind, f.samples));
    }
    played
}

fn assert_plays_the_tone(played: &[(FrameKind, [i16; FRAME_SAMPLES])], frames: u32) {
    let speech: Vec<_> = played.iter().filter(|f| f.0 == FrameKind::Speech).collect();
    assert_eq!(speech.len(), frames as usize);
    for (k, f) in speech.iter().enumerate() {
        assert_eq!(f.1, through_ulaw(&tone(k as u32)), "frame {k}");
    }
}

#[test]
fn plain_call_carries_audio_exactly() {
    let t0 = Instant::now();
    let (mut a, mut b) = pair(None, t0);
    let played = call(&mut a, &mut b, t0, 100, |_, p| vec![(30 * MS, p)]);
    assert_plays_the_tone(&played, 100);
    let s = b.stats();
    assert_eq!(
        (s.received, s.decoded, s.lost, s.late, s.garbage),
        (100, 100, 0, 0, 0)
    );
    assert_eq!(b.remote_ssrc(), Some(0xA11CE));
    assert_eq!(b.rtp_destination(), Some(alice()));
    assert_eq!(a.stats().sent_packets, 100);
    assert_eq!(a.stats().sent_octets, 16000);
}

#[test]
fn srtp_call_carries_audio_with_both_suites() {
    for (suite, tag) in [
        (SrtpSuite::Aes128CmHmacSha1_80, 10),
        (SrtpSuite::Aes128CmHmacSha1_32, 4),
    ] {
        let t0 = Instant::now();
        let (mut a, mut b) = pair(Some(suite), t0);
        let mut sizes = Vec::new();
        let played = call(&mut a, &mut b, t0, 50, |_, p| {
            sizes.push(p.len());
            vec![(30 * MS, p)]
        });
        assert!(sizes.iter().all(|&n| n == 172 + tag), "{sizes:?}");
        assert_plays_the_tone(&played, 50);
        assert_eq!(b.stats().received, 50);
        assert_eq!(b.stats().srtp_auth_failures, 0);
    }
}

#[test]
fn srtp_tampered_and_replayed_packets_are_counted_and_the_leg_goes_on() {
    let t0 = Instant::now();
    let (mut a, mut b) = pair(Some(SrtpSuite::Aes128CmHmacSha1_80), t0);
    let mut kept = Vec::new();
    let played = call(&mut a, &mut b, t0, 60, |k, p| {
        let mut out = vec![(30 * MS, p.clone())];
        if k == 10 {
            // A tampered copy: one payload bit flipped.
            let mut bad = p.clone();
            bad[40] ^= 1;
            out.insert(0, (25 * MS, bad));
        }
        if k == 20 {
            kept = p.clone();
        }
        if k == 30 {
            // The packet of frame 20, replayed.
            out.push((31 * MS, kept.clone()));
        }
        out
    });
    let s = b.stats();
    assert_eq!(s.srtp_auth_failures, 1);
    assert_eq!(s.replays, 1);
    assert_eq!(s.received, 60);
    assert_plays_the_tone(&played, 60);
}

/// A leg against `webrtc-srtp` (the library the leg used before its own SRTP) as the peer, both
/// suites, RTP and RTCP both ways, our sequence numbers and the peer's wrapping mid-call.
#[test]
fn srtp_leg_interoperates_with_webrtc_srtp_across_sequence_wraps() {
    use webrtc_srtp::context::Context;
    use webrtc_srtp::protection_profile::ProtectionProfile;

    for (suite, profile) in [
        (
            SrtpSuite::Aes128CmHmacSha1_80,
            ProtectionProfile::Aes128CmHmacSha1_80,
        ),
        (
            SrtpSuite::Aes128CmHmacSha1_32,
            ProtectionProfile::Aes128CmHmacSha1_32,
        ),
    ] {
        let t0 = Instant::now();
        let (ours, theirs) = ([0x31u8; 30], [0x42u8; 30]);
        let leg_for = |ssrc: u32| {
            let mut c = config(ssrc, alice());
            c.rtcp_mux = true;
            c.srtp = Some(SrtpConfig {
                suite,
                local_key_salt: ours,
                remote_key_salt: theirs,
            });
            Leg::new(c, t0).unwrap()
        };
        // An SSRC whose first sequence number is close enough to 65535 to wrap in the call.
        let (mut leg, first_seq) = (1..)
            .map(|ssrc| {
                let mut leg = leg_for(ssrc);
                leg.send_audio(&tone(0), t0).unwrap();
                let t = leg.poll_transmit().unwrap();
                (leg, u16::from_be_bytes([t.bytes[2], t.bytes[3]]))
            })
            .find(|(_, seq)| *seq > 65_535 - 300)
            .unwrap();
        let context = |key: &[u8; 30]| Context::new(&key[..16], &key[16..], profile, None, None);
        let (mut peer_tx, mut peer_rx) = (context(&theirs).unwrap(), context(&ours).unwrap());
        let mut sent_seqs = vec![first_seq];
        let mut peer_rtcp = 0;
        for k in 1..500u32 {
            let now = t0 + 20 * MS * k;
            leg.send_audio(&tone(k), now).unwrap();
            if leg.poll_timeout().is_some_and(|t| t <= now) {
                leg.handle_timeout(now);
            }
            let seq = 65_300u16.wrapping_add(k as u16);
            let packet = peer_tx.encrypt_rtp(&pcmu(seq, 160 * k, 0xFEED)).unwrap();
            leg.handle_datagram(&packet, alice(), now);
            for t in drain(&mut leg) {
                if t.kind == TransmitKind::Rtp {
                    let plain = peer_rx.decrypt_rtp(&t.bytes).unwrap();
                    sent_seqs.push(u16::from_be_bytes([plain[2], plain[3]]));
                    assert_eq!(plain.len(), 12 + 160);
                } else {
                    let plain = peer_rx.decrypt_rtcp(&t.bytes).unwrap();
                    assert_eq!(plain[1], 200, "an SR");
                    peer_rtcp += 1;
                }
            }
            if k % 100 == 0 {
                let rr = [0x80, 201, 0, 1, 0, 0, 0xFE, 0xED];
                let packet = peer_tx.encrypt_rtcp(&rr).unwrap();
                leg.handle_datagram(&packet, alice(), now);
            }
        }
        assert!(sent_seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
        assert!(sent_seqs.contains(&0), "our sequence wrapped");
        let s = leg.stats();
        assert_eq!(
            (s.received, s.srtp_auth_failures, s.replays, s.garbage),
            (499, 0, 0, 0)
        );
        assert_eq!(s.rtcp_rr_received, 4);
        assert!(peer_rtcp >= 2, "{peer_rtcp}");
    }
}

#[test]
fn srtp_with_the_wrong_key_never_latches() {
    let t0 = Instant::now();
    let (mut a, _) = pair(Some(SrtpSuite::Aes128CmHmacSha1_80), t0);
    let mut b_config = config(0xB0B, alice());
    b_config.srtp = Some(SrtpConfig {
        suite: SrtpSuite::Aes128CmHmacSha1_80,
        local_key_salt: [1; 30],
        remote_key_salt: [2; 30],
    });
    let mut b = Leg::new(b_config, t0).unwrap();
    a.send_audio(&tone(0), t0).unwrap();
    for t in drain(&mut a) {
        b.handle_datagram(&t.bytes, addr("198.51.100.9:1234"), t0);
    }
    assert_eq!(b.stats().srtp_auth_failures, 1);
    assert_eq!(b.stats().received, 0);
    assert_eq!(b.rtp_destination(), Some(alice()), "still the SDP address");
}

#[test]
fn sequence_wraps_at_65535() {
    let t0 = Instant::now();
    let mut b = Leg::new(config(1, alice()), t0).unwrap();
    for i in 0..20u16 {
        let seq = 65530u16.wrapping_add(i);
        b.handle_datagram(
            &pcmu(seq, 160 * u32::from(i), 7),
            alice(),
            t0 + 20 * MS * u32::from(i),
        );
        b.pull_frame(t0 + 20 * MS * u32::from(i) + 5 * MS);
    }
    let s = b.stats();
    assert_eq!(
        (s.received, s.lost, s.duplicate, s.out_of_sequence),
        (20, 0, 0, 0)
    );
}

#[test]
fn duplicates_and_reordering_within_the_window() {
    let t0 = Instant::now();
    let mut b = Leg::new(config(1, alice()), t0).unwrap();
    // Per 20 ms slot, the packets that arrive in it.
    let mut slots: Vec<Vec<u16>> = (0..50).map(|i| vec![i]).collect();
    slots.swap(10, 11);
    slots.swap(20, 21);
    slots[30].push(29); // a duplicate of 29
    slots[40].push(12); // a duplicate of an old one
    let mut kinds = Vec::new();
    for (k, seqs) in slots.iter().enumerate() {
        let now = t0 + 20 * MS * k as u32;
        for seq in seqs {
            b.handle_datagram(&pcmu(*seq, 160 * u32::from(*seq), 7), alice(), now);
        }
        kinds.push(b.pull_frame(now + 10 * MS).kind);
    }
    let s = b.stats();
    assert_eq!(s.duplicate, 2);
    assert_eq!(s.received, 50);
    assert_eq!(s.late, 0);
    assert_eq!(s.lost, 0);
    assert_eq!(s.concealed_frames, 0, "{kinds:?}");
}

#[test]
fn ssrc_change_mid_call_starts_a_new_stream() {
    let t0 = Instant::now();
    let mut b = Leg::new(config(1, alice()), t0).unwrap();
    let mut now = t0;
    for i in 0..20u16 {
        b.handle_datagram(
            &pcmu(100 + i, 1000 + 160 * u32::from(i), 0xAAAA),
            alice(),
            now,
        );
        b.pull_frame(now);
        now += 20 * MS;
    }
    // A stray packet of another SSRC while the stream runs is dropped.
    b.handle_datagram(&pcmu(9, 9, 0xCCCC), alice(), now);
    assert_eq!(b.stats().wrong_ssrc, 1);
    // The source switches SSRC (re-INVITE, transfer): new numbering, new timestamps.
    let mut kinds = Vec::new();
    for i in 0..30u16 {
        b.handle_datagram(
            &pcmu(40000 + i, 777_777 + 160 * u32::from(i), 0xBBBB),
            alice(),
            now,
        );
        kinds.push(b.pull_frame(now + 5 * MS).kind);
        now += 20 * MS;
    }
    let s = b.stats();
    assert_eq!(b.remote_ssrc(), Some(0xBBBB));
    assert_eq!(s.ssrc_changes, 1);
    assert_eq!(
        s.wrong_ssrc, 2,
        "the first packet of the new SSRC waits for confirmation"
    );
    assert_eq!(s.received, 49);
    assert_eq!(s.lost, 0);
    assert!(
        kinds[5..].iter().all(|k| *k == FrameKind::Speech),
        "{kinds:?}"
    );
    // After a pause longer than SSRC_QUIET, a new SSRC takes over at its first packet.
    now += 300 * MS;
    b.handle_datagram(&pcmu(5, 5, 0xDDDD), alice(), now);
    assert_eq!(b.remote_ssrc(), Some(0xDDDD));
}

#[test]
fn timestamp_jump_with_continuous_sequence_resyncs() {
    let t0 = Instant::now();
    let mut b = Leg::new(config(1, alice()), t0).unwrap();
    let mut kinds = Vec::new();
    for i in 0..80u32 {
        let ts = if i < 40 {
            160 * i
        } else {
            160 * i + 10 * 8000 * 60
        };
        let now = t0 + 20 * MS * i;
        b.handle_datagram(&pcmu(i as u16, ts, 7), alice(), now);
        kinds.push(b.pull_frame(now + 5 * MS).kind);
    }
    let s = b.stats();
    assert_eq!(s.resyncs, 1);
    assert_eq!(s.received, 80);
    let speech = kinds.iter().filter(|k| **k == FrameKind::Speech).count();
    assert!(speech >= 75, "{kinds:?}");
}

#[test]
fn symmetric_rtp_latches_and_relatches_only_after_silence() {
    let t0 = Instant::now();
    let nat = addr("203.0.113.7:61000");
    let intruder = addr("198.51.100.66:4444");
    let mut b = Leg::new(config(1, alice()), t0).unwrap();
    assert_eq!(b.rtp_destination(), Some(alice()));
    // Before latching: a valid packet from a NATed address latches it.
    b.handle_datagram(&pcmu(1, 160, 7), nat, t0);
    assert_eq!(b.rtp_destination(), Some(nat));
    b.send_audio(&tone(0), t0).unwrap();
    assert_eq!(drain(&mut b)[0].to, nat);
    // Garbage or a wrong payload type from elsewhere does not latch.
    let mut b2 = Leg::new(config(2, alice()), t0).unwrap();
    b2.handle_datagram(&rtp(34, false, 1, 1, 7, &[0; 20]), intruder, t0);
    b2.handle_datagram(&[0x80, 0, 1], intruder, t0);
    assert_eq!(b2.rtp_destination(), Some(alice()));
    // After latching: another source is dropped while the latched one is alive...
    for i in 2..50u16 {
        let now = t0 + 20 * MS * u32::from(i);
        b.handle_datagram(&pcmu(i, 160 * u32::from(i), 7), nat, now);
        b.handle_datagram(&pcmu(i + 1000, 160 * u32::from(i), 7), intruder, now);
    }
    assert_eq!(b.stats().wrong_source, 48);
    assert_eq!(b.rtp_destination(), Some(nat));
    // ...and takes over after the latched source has been quiet for 2 s.
    let later = t0 + 20 * MS * 49 + Duration::from_secs(2);
    b.handle_datagram(&pcmu(50, 160 * 50, 7), intruder, later - MS);
    assert_eq!(b.rtp_destination(), Some(nat));
    b.handle_datagram(&pcmu(51, 160 * 51, 7), intruder, later);
    assert_eq!(b.rtp_destination(), Some(intruder));
}

#[test]
fn garbage_is_counted_and_never_panics() {
    let t0 = Instant::now();
    for srtp in [None, Some(SrtpSuite::Aes128CmHmacSha1_80)] {
        let (_, mut b) = pair(srtp, t0);
        let junk: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x80],
            vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42], // STUN
            vec![0x80, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0],          // 11-byte RTP
            vec![0x8F, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],       // CSRCs missing
            vec![
                0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 1, 0x1F, 0, 0, 0,
            ],
            vec![0xA0, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 200], // padding > payload
            vec![0x80, 200, 0, 6, 0, 0, 0, 1],                            // truncated SR
            vec![0x80, 201, 0, 0, 0, 0],                                  // short RTCP
            vec![0x80; 2000],
        ];
        for j in &junk {
            b.handle_datagram(j, alice(), t0);
        }
        let s = b.stats();
        let dropped = s.garbage + s.srtp_auth_failures;
        assert_eq!(dropped, junk.len() as u64, "{s:?}");
        assert_eq!(s.received + s.rtcp_received, 0);
        // A telephone-event payload shorter than 4 octets is garbage too.
        if srtp.is_none() {
            b.handle_datagram(&rtp(101, true, 1, 1, 7, &[1, 2]), alice(), t0);
            assert_eq!(b.stats().garbage, junk.len() as u64 + 1);
        }
    }
}

#[test]
fn talk_spurts_are_marked_and_timestamps_follow_the_clock() {
    let t0 = Instant::now();
    let mut a = Leg::new(config(5, bob()), t0).unwrap();
    let mut headers = Vec::new();
    for k in (0..5u32).chain(20..23) {
        a.send_audio(&tone(k), t0 + 20 * MS * k).unwrap();
        for t in drain(&mut a) {
            let b = &t.bytes;
            let seq = u16::from_be_bytes([b[2], b[3]]);
            let ts = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            headers.push((b[1] & 0x80 != 0, seq, ts));
        }
    }
    let markers: Vec<bool> = headers.iter().map(|h| h.0).collect();
    assert_eq!(
        markers,
        [true, false, false, false, false, true, false, false]
    );
    for w in headers.windows(2) {
        assert_eq!(
            w[1].1,
            w[0].1.wrapping_add(1),
            "sequence numbers are consecutive"
        );
    }
    assert_eq!(headers[1].2.wrapping_sub(headers[0].2), 160);
    // 15 frames of pause: the timestamp jumps by 16 frames.
    assert_eq!(headers[5].2.wrapping_sub(headers[4].2), 16 * 160);
}

#[test]
fn ptime_30_packs_one_and_a_half_frames() {
    let t0 = Instant::now();
    let mut cfg = config(5, bob());
    cfg.ptime_ms = 30;
    cfg.codec = Codec::PCMA;
    let mut a = Leg::new(cfg, t0).unwrap();
    let mut sizes = Vec::new();
    for k in 0..6u32 {
        a.send_audio(&tone(k), t0 + 20 * MS * k).unwrap();
        sizes.extend(drain(&mut a).iter().map(|t| t.bytes.len()));
    }
    assert_eq!(sizes, [252, 252, 252, 252]);
    assert!(
        Leg::new(
            LegConfig {
                ptime_ms: 25,
                ..config(1, bob())
            },
            t0
        )
        .is_err()
    );
    assert!(
        Leg::new(
            LegConfig {
                telephone_event_pt: Some(72),
                ..config(1, bob())
            },
            t0
        )
        .is_err()
    );
    assert!(
        Leg::new(
            LegConfig {
                telephone_event_pt: Some(0),
                ..config(1, bob())
            },
            t0
        )
        .is_err()
    );
}

#[test]
fn digits_sent_by_one_leg_are_read_by_the_other() {
    let t0 = Instant::now();
    for suite in [None, Some(SrtpSuite::Aes128CmHmacSha1_80)] {
        let (mut a, mut b) = pair(suite, t0);
        let mut now = t0;
        a.send_digit('1', 100 * MS, now).unwrap();
        a.send_digit('#', 160 * MS, now).unwrap();
        a.send_digit('#', 100 * MS, now).unwrap();
        assert_eq!(
            a.send_digit('x', 100 * MS, now),
            Err(plenum_media::Error::InvalidDigit { digit: 'x' })
        );
        let mut event_packets = 0;
        while let Some(deadline) = a
            .poll_timeout()
            .filter(|d| *d < t0 + Duration::from_secs(2))
        {
            now = deadline;
            a.handle_timeout(now);
            // Audio is held back while digits go out.
            a.send_audio(&tone(0), now).unwrap();
            for t in drain(&mut a) {
                if t.kind == TransmitKind::Rtp {
                    event_packets += 1;
                    b.handle_datagram(&t.bytes, alice(), now + 10 * MS);
                }
            }
        }
        let digits: Vec<_> = std::iter::from_fn(|| b.poll_event()).collect();
        let keys: String = digits.iter().map(|d| d.digit).collect();
        assert_eq!(keys, "1##");
        assert_eq!(
            digits.iter().map(|d| d.duration_ms).collect::<Vec<_>>(),
            [100, 160, 100]
        );
        // 5 + 8 + 5 packets with duration, plus three end packets each.
        assert_eq!(event_packets, 27);
        assert_eq!(b.stats().digits, 3);
        assert_eq!(b.stats().duplicate + b.stats().replays, 0);
        assert!(a.stats().audio_suppressed > 0);
    }
}

#[test]
fn digits_without_telephone_event_are_refused() {
    let t0 = Instant::now();
    let mut a = Leg::new(LegConfig::new(1, Codec::PCMU), t0).unwrap();
    assert_eq!(
        a.send_digit('1', 100 * MS, t0),
        Err(plenum_media::Error::NoTelephoneEvent)
    );
    // And received telephone-events are then just another payload type.
    a.handle_datagram(&rtp(101, true, 1, 1, 7, &[1, 0, 0, 160]), alice(), t0);
    assert_eq!(a.stats().wrong_payload_type, 1);
}

/// SIPp's dtmf_2833_1.pcap as captured (byte for byte): the end packet is sent three times with
/// the *same* sequence number, so the leg sees two duplicates per digit.
#[test]
fn sipp_shaped_digits_through_a_leg() {
    let t0 = Instant::now();
    let mut b = Leg::new(config(1, alice()), t0).unwrap();
    for (d, (event, seq0, ts)) in [(1u8, 0x1f30u16, 0x33e0u32), (11, 0x20f4, 0x169e0)]
        .into_iter()
        .enumerate()
    {
        let start = t0 + Duration::from_secs(d as u64);
        for i in 0..10u16 {
            let n = i.min(7);
            let (end, dur) = if i >= 7 {
                (0x80, 2240u16)
            } else {
                (0, 320 * i)
            };
            let [d0, d1] = dur.to_be_bytes();
            let p = rtp(
                101,
                i == 0,
                seq0 + n,
                ts,
                0x0e05384e,
                &[event, end | 10, d0, d1],
            );
            b.handle_datagram(&p, alice(), start + 20 * MS * u32::from(n));
        }
    }
    let keys: String = std::iter::from_fn(|| b.poll_event())
        .map(|d| d.digit)
        .collect();
    assert_eq!(keys, "1#");
    assert_eq!(b.stats().duplicate, 4);
}

/// Reads the UDP payloads of a classic pcap file with Ethernet framing.
fn pcap_payloads(path: &str) -> Option<Vec<(Duration, Vec<u8>)>> {
    let d = std::fs::read(path).ok()?;
    let mut out = Vec::new();
    let mut off = 24;
    let mut first = None;
    while off + 16 <= d.len() {
        let word = |o: usize| u32::from_le_bytes(d[o..o + 4].try_into().unwrap());
        let (sec, usec, incl) = (word(off), word(off + 4), word(off + 8) as usize);
        let pkt = &d[off + 16..off + 16 + incl];
        off += 16 + incl;
        let ihl = usize::from(pkt[14] & 0x0F) * 4;
        let udp = &pkt[14 + ihl..];
        let t = Duration::from_secs(u64::from(sec)) + Duration::from_micros(u64::from(usec));
        let t0 = *first.get_or_insert(t);
        out.push((t - t0, udp[8..].to_vec()));
    }
    Some(out)
}

/// The SIPp captures themselves, played as SIPp's `play_pcap_audio` does: PCMA with a 30 ms
/// ptime, then three digits, with the SSRC, sequence numbers and timestamps of the captures.
#[test]
fn sipp_pcaps() {
    // Installed by tests/run with SIPp (Debian sip-tester); missing means a broken setup.
    let dir = "/usr/share/sip-tester";
    let audio = pcap_payloads(&format!("{dir}/g711a.pcap"))
        .expect("SIPp's pcaps in /usr/share/sip-tester (Debian sip-tester; tests/run installs it)");
    let t0 = Instant::now();
    let mut cfg = config(1, alice());
    cfg.codec = Codec::PCMA;
    let mut b = Leg::new(cfg, t0).unwrap();
    let mut now = t0;
    let mut kinds = Vec::new();
    let mut next_pull = t0;
    for (at, p) in &audio {
        now = t0 + *at;
        while next_pull <= now {
            kinds.push(b.pull_frame(next_pull).kind);
            next_pull += 20 * MS;
        }
        b.handle_datagram(p, alice(), now);
    }
    for name in ["dtmf_2833_1", "dtmf_2833_2", "dtmf_2833_pound"] {
        let digit = pcap_payloads(&format!("{dir}/{name}.pcap")).unwrap();
        now += Duration::from_millis(500);
        for (at, p) in &digit {
            b.handle_datagram(p, alice(), now + *at);
        }
    }
    let keys: String = std::iter::from_fn(|| b.poll_event())
        .map(|d| d.digit)
        .collect();
    assert_eq!(keys, "12#");
    let s = b.stats();
    assert_eq!(s.decoded, audio.len() as u64);
    assert_eq!(s.garbage + s.wrong_payload_type + s.late, 0, "{s:?}");
    assert_eq!(s.ssrc_changes, 1);
    let speech = kinds.iter().filter(|k| **k == FrameKind::Speech).count();
    assert!(speech >= 340, "{speech} of {} frames", kinds.len());
}

#[test]
fn rtcp_reports_flow_both_ways() {
    let t0 = Instant::now();
    let (mut a, mut b) = pair(Some(SrtpSuite::Aes128CmHmacSha1_80), t0);
    let mut now = t0;
    let mut rtcp_sizes = Vec::new();
    for k in 0..600u32 {
        now = t0 + 20 * MS * k;
        a.send_audio(&tone(k), now).unwrap();
        if k % 2 == 0 {
            b.send_audio(&tone(k), now).unwrap();
        }
        for leg in [&mut a, &mut b] {
            if leg.poll_timeout().is_some_and(|t| t <= now) {
                leg.handle_timeout(now);
            }
        }
        for t in drain(&mut a) {
            if t.kind == TransmitKind::Rtcp {
                assert_eq!(
                    t.to,
                    addr("192.0.2.2:50001"),
                    "RTP port + 1 without rtcp-mux"
                );
                rtcp_sizes.push(t.bytes.len());
            }
            b.handle_datagram(
                &t.bytes,
                if t.kind == TransmitKind::Rtp {
                    alice()
                } else {
                    addr("192.0.2.1:40001")
                },
                now + 15 * MS,
            );
        }
        for t in drain(&mut b) {
            a.handle_datagram(
                &t.bytes,
                if t.kind == TransmitKind::Rtp {
                    bob()
                } else {
                    addr("192.0.2.2:50001")
                },
                now + 15 * MS,
            );
        }
    }
    let (sa, sb) = (a.stats(), b.stats());
    // 12 s: reports at 2.5, 7.5 and 12.5 s... two or three each.
    assert!(sa.sent_rtcp >= 2 && sb.sent_rtcp >= 2, "{sa:?} {sb:?}");
    assert_eq!(sb.rtcp_received, sa.sent_rtcp);
    assert_eq!(sb.rtcp_sr_received, sa.sent_rtcp);
    assert_eq!(sb.garbage + sa.garbage, 0);
    let report = sa.remote_report.expect("b reported on a's stream");
    assert_eq!(report.fraction_lost, 0);
    assert!(report.highest_seq > 100);
    let rtt = report.round_trip.expect("round trip from LSR/DLSR");
    assert!(rtt >= 25 * MS && rtt <= 35 * MS, "{rtt:?}");
    // SRTCP: SR (28 + 24) + SDES, plus index and tag.
    assert!(rtcp_sizes.iter().all(|&n| n > 52 + 14), "{rtcp_sizes:?}");
    let _ = now;
}

#[test]
fn close_sends_a_bye_and_stops_the_timers() {
    let t0 = Instant::now();
    let mut a = Leg::new(
        LegConfig {
            rtcp_mux: true,
            ..config(1, bob())
        },
        t0,
    )
    .unwrap();
    assert_eq!(a.poll_timeout(), Some(t0 + 2500 * MS));
    a.close(t0 + MS);
    let t = drain(&mut a);
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].kind, t[0].to), (TransmitKind::Rtcp, bob()));
    // The BYE (count 1, possibly padded) ends the compound packet.
    assert!(
        t[0].bytes
            .windows(2)
            .any(|w| w[0] & 0xDF == 0x81 && w[1] == 203),
        "BYE in {:02x?}",
        t[0].bytes
    );
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn a_full_transmit_queue_is_reported() {
    let t0 = Instant::now();
    let mut a = Leg::new(config(1, bob()), t0).unwrap();
    let mut result = Ok(());
    for k in 0..100u32 {
        result = a.send_audio(&tone(k), t0 + 20 * MS * k);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(plenum_media::Error::TransmitQueueFull));
    assert_eq!(drain(&mut a).len(), 64);
}

#[test]
fn every_datagram_is_accounted_for() {
    let t0 = Instant::now();
    let (mut a, mut b) = pair(Some(SrtpSuite::Aes128CmHmacSha1_80), t0);
    let mut replay = Vec::new();
    call(&mut a, &mut b, t0, 100, |k, p| match k % 10 {
        0 => vec![],
        1 => {
            replay = p.clone();
            vec![(30 * MS, p)]
        }
        2 => vec![
            (30 * MS, p),
            (31 * MS, replay.clone()),
            (32 * MS, vec![1, 2, 3]),
        ],
        3 => vec![(300 * MS, p)],
        _ => vec![(30 * MS, p)],
    });
    let s = b.stats();
    assert_eq!(s.datagrams, 90 + 10 + 10);
    assert_eq!(s.unaccounted(), 0, "{s:?}");
    assert_eq!((s.replays, s.garbage), (10, 10));
    assert!(s.late >= 9, "{s:?}");
    assert_eq!(
        s.lost, 9,
        "the first packet lost is before the stream starts"
    );
}

#[test]
fn comfort_noise_keeps_the_sequence_and_other_payload_types_are_counted() {
    let t0 = Instant::now();
    let mut b = Leg::new(config(1, alice()), t0).unwrap();
    for i in 0..30u16 {
        let pt = if (10..20).contains(&i) { 13 } else { 0 };
        let len = if pt == 13 { 1 } else { 160 };
        b.handle_datagram(
            &rtp(pt, false, i, 160 * u32::from(i), 7, &vec![0x40; len]),
            alice(),
            t0 + 20 * MS * u32::from(i),
        );
    }
    b.handle_datagram(
        &rtp(18, false, 30, 4800, 7, &[0; 20]),
        alice(),
        t0 + 600 * MS,
    );
    let s = b.stats();
    assert_eq!(
        (s.received, s.decoded, s.comfort_noise, s.lost),
        (30, 20, 10, 0)
    );
    assert_eq!(s.wrong_payload_type, 1);
}
