//! Benchmarks of the media hot paths: SRTP, the leg's receive and send paths, the jitter
//! buffer's pull, G.711. Run with `cargo bench -p plenum-media`.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // bench code

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use plenum_media::jitter::JitterBuffer;
use plenum_media::srtp::SrtpSession;
use plenum_media::{Codec, Leg, LegConfig, SrtpConfig, SrtpSuite, g711};
use webrtc_srtp::context::Context;
use webrtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use webrtc_srtp::protection_profile::ProtectionProfile;

const MS: Duration = Duration::from_millis(1);

fn from() -> SocketAddr {
    "192.0.2.1:4000".parse().unwrap()
}

fn plain_packet(seq: u16, ts: u32) -> Vec<u8> {
    let mut v = vec![0x80, 0];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&ts.to_be_bytes());
    v.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    v.extend((0..160).map(|i| i as u8));
    v
}

fn tone(k: u32) -> [i16; 160] {
    let mut f = [0i16; 160];
    for (i, s) in f.iter_mut().enumerate() {
        *s = (((k as usize * 160 + i) % 40) as i16 - 20) * 400;
    }
    f
}

fn srtp_config(local: u8, remote: u8) -> SrtpConfig {
    SrtpConfig {
        suite: SrtpSuite::Aes128CmHmacSha1_80,
        local_key_salt: [local; 30],
        remote_key_salt: [remote; 30],
    }
}

/// `n` SRTP packets of one stream, protected by a sending leg.
fn srtp_packets(n: u64) -> Vec<bytes::Bytes> {
    let t0 = Instant::now();
    let mut cfg = LegConfig::new(0x1234_5678, Codec::PCMU);
    cfg.remote = Some(from());
    cfg.srtp = Some(srtp_config(1, 2));
    let mut tx = Leg::new(cfg, t0).unwrap();
    (0..n)
        .map(|k| {
            tx.send_audio(&tone(k as u32), t0 + 20 * MS * k as u32)
                .unwrap();
            tx.poll_transmit().unwrap().bytes
        })
        .collect()
}

fn srtp(c: &mut Criterion) {
    let mut tx = SrtpSession::new(SrtpSuite::Aes128CmHmacSha1_80, &[7; 30], &[8; 30]).unwrap();
    let mut rx = SrtpSession::new(SrtpSuite::Aes128CmHmacSha1_80, &[8; 30], &[7; 30]).unwrap();
    let plain = plain_packet(0, 0);
    let mut packet = Vec::with_capacity(1500);
    let mut back = Vec::with_capacity(1500);
    let mut seq: u16 = 0;
    c.bench_function("srtp protect+unprotect 172 B (replay window 64)", |b| {
        b.iter(|| {
            seq = seq.wrapping_add(1);
            packet.clear();
            packet.extend_from_slice(black_box(&plain));
            packet[2..4].copy_from_slice(&seq.to_be_bytes());
            tx.protect_rtp(&mut packet).unwrap();
            rx.unprotect_rtp(&packet, &mut back).unwrap();
            black_box(&back);
        })
    });
    srtp_reference(c);
}

/// The same with `webrtc-srtp`, used before (it allocates per packet and expands the AES key
/// per packet).
fn srtp_reference(c: &mut Criterion) {
    let key = [7u8; 16];
    let salt = [9u8; 14];
    let profile = ProtectionProfile::Aes128CmHmacSha1_80;
    let mut tx = Context::new(&key, &salt, profile, None, None).unwrap();
    let mut rx = Context::new(
        &key,
        &salt,
        profile,
        Some(srtp_replay_protection(64)),
        Some(srtcp_replay_protection(64)),
    )
    .unwrap();
    let mut packet = plain_packet(0, 0);
    let mut seq: u16 = 0;
    c.bench_function(
        "srtp protect+unprotect 172 B (webrtc-srtp reference, replay window 64)",
        |b| {
            b.iter(|| {
                seq = seq.wrapping_add(1);
                packet[2..4].copy_from_slice(&seq.to_be_bytes());
                let protected = tx.encrypt_rtp(black_box(&packet)).unwrap();
                black_box(rx.decrypt_rtp(&protected).unwrap());
            })
        },
    );
}

fn leg_receive(c: &mut Criterion) {
    let mut group = c.benchmark_group("leg receive");
    group.bench_function("plain RTP datagram + pull_frame", |b| {
        b.iter_custom(|iters| {
            let t0 = Instant::now();
            let mut leg = Leg::new(LegConfig::new(1, Codec::PCMU), t0).unwrap();
            let packets: Vec<Vec<u8>> = (0..iters)
                .map(|i| plain_packet(i as u16, 160 * i as u32))
                .collect();
            let mut out = [0i16; 160];
            let start = Instant::now();
            for (i, p) in packets.iter().enumerate() {
                let now = t0 + 20 * MS * i as u32;
                leg.handle_datagram(black_box(p), from(), now);
                leg.pull_into(&mut out, now + 5 * MS);
            }
            black_box(out);
            start.elapsed()
        })
    });
    group.bench_function("SRTP datagram + pull_frame", |b| {
        b.iter_custom(|iters| {
            let t0 = Instant::now();
            let mut cfg = LegConfig::new(1, Codec::PCMU);
            cfg.srtp = Some(srtp_config(2, 1));
            let mut leg = Leg::new(cfg, t0).unwrap();
            let packets = srtp_packets(iters);
            let mut out = [0i16; 160];
            let start = Instant::now();
            for (i, p) in packets.iter().enumerate() {
                let now = t0 + 20 * MS * i as u32;
                leg.handle_datagram(black_box(p), from(), now);
                leg.pull_into(&mut out, now + 5 * MS);
            }
            assert_eq!(leg.stats().received, iters);
            start.elapsed()
        })
    });
    group.finish();
}

fn leg_send(c: &mut Criterion) {
    let mut group = c.benchmark_group("leg send");
    for (name, srtp) in [("plain", None), ("SRTP", Some(srtp_config(1, 2)))] {
        group.bench_function(format!("send_audio + poll_transmit, {name}"), |b| {
            let t0 = Instant::now();
            let mut cfg = LegConfig::new(1, Codec::PCMU);
            cfg.remote = Some(from());
            cfg.srtp = srtp.clone();
            let mut leg = Leg::new(cfg, t0).unwrap();
            let frame = tone(3);
            let mut k = 0u32;
            b.iter(|| {
                k += 1;
                leg.send_audio(black_box(&frame), t0 + 20 * MS * k).unwrap();
                black_box(leg.poll_transmit());
            })
        });
    }
    group.finish();
}

fn pull(c: &mut Criterion) {
    let mut group = c.benchmark_group("jitter buffer");
    group.bench_function("pull_frame with audio buffered (timed alone)", |b| {
        b.iter_custom(|iters| {
            let t0 = Instant::now();
            let mut jb = JitterBuffer::default();
            let samples = tone(1);
            let mut spent = Duration::ZERO;
            for i in 0..iters {
                let now = t0 + 20 * MS * i as u32;
                jb.insert(160 * i as u32, &samples, now);
                let start = Instant::now();
                black_box(jb.pull_frame(now + 5 * MS));
                spent += start.elapsed();
            }
            spent
        })
    });
    group.bench_function("pull_frame concealment/silence", |b| {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::default();
        jb.insert(0, &tone(1), t0);
        let mut k = 0u32;
        b.iter(|| {
            k += 1;
            black_box(jb.pull_frame(t0 + 20 * MS * k))
        })
    });
    group.finish();
}

fn g711_frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("g711 160 samples");
    let pcm = tone(5);
    let mut codes = [0u8; 160];
    let mut out = [0i16; 160];
    group.bench_function("ulaw encode", |b| {
        b.iter(|| g711::ulaw_encode_into(black_box(&pcm), &mut codes))
    });
    group.bench_function("ulaw decode", |b| {
        b.iter(|| g711::ulaw_decode_into(black_box(&codes), &mut out))
    });
    group.bench_function("alaw encode", |b| {
        b.iter(|| g711::alaw_encode_into(black_box(&pcm), &mut codes))
    });
    group.bench_function("alaw decode", |b| {
        b.iter(|| g711::alaw_decode_into(black_box(&codes), &mut out))
    });
    group.finish();
}

criterion_group!(benches, srtp, leg_receive, leg_send, pull, g711_frames);
criterion_main!(benches);
