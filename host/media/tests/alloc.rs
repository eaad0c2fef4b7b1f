//! The hot paths allocate nothing: a counting global allocator watches, after warm-up, the plain
//! receive path (datagram to jitter buffer), `pull_frame`, the G.711 slice functions, and the
//! steady 20 ms tick of two SRTP legs facing each other (send, protect, transmit, receive,
//! unprotect, pull). Not covered: RTCP reports (built every 5 s, they allocate).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use plenum_media::{Codec, FRAME_SAMPLES, Leg, LegConfig, SrtpConfig, SrtpSuite, g711};

struct Counting;

thread_local! {
    /// Allocations of this thread: the tests run in parallel.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: the thread's slot may be gone while it exits.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn packet(seq: u16, ts: u32) -> Vec<u8> {
    let mut v = vec![0x80, 0];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&ts.to_be_bytes());
    v.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    v.extend_from_slice(&[0x55; 160]);
    v
}

#[test]
fn the_counter_counts_this_threads_allocations() {
    let before = allocations();
    drop(std::hint::black_box(Box::new(7u64)));
    assert_eq!(allocations() - before, 1);
}

#[test]
fn receive_path_and_pull_frame_do_not_allocate() {
    let t0 = Instant::now();
    let from: SocketAddr = "192.0.2.1:4000".parse().unwrap();
    let mut leg = Leg::new(LegConfig::new(1, Codec::PCMU), t0).unwrap();
    let packets: Vec<Vec<u8>> = (0..1000u16)
        .map(|i| packet(i, 160 * u32::from(i)))
        .collect();
    let ms = Duration::from_millis(1);
    // Warm-up: the first packet latches, the stream starts.
    for (i, p) in packets.iter().take(10).enumerate() {
        let now = t0 + 20 * ms * i as u32;
        leg.handle_datagram(p, from, now);
        leg.pull_frame(now + 5 * ms);
    }
    let mut out = [0i16; 160];
    let mut codes = [0u8; 160];
    let before = allocations();
    for (i, p) in packets.iter().enumerate().skip(10) {
        let now = t0 + 20 * ms * i as u32;
        leg.handle_datagram(p, from, now);
        leg.pull_into(&mut out, now + 5 * ms);
        g711::ulaw_encode_into(&out, &mut codes);
        g711::alaw_decode_into(&codes, &mut out);
    }
    let after = allocations();
    assert_eq!(after - before, 0, "allocations on the hot path");
    assert_eq!(leg.stats().received, 1000);
}

fn srtp_leg(
    ssrc: u32,
    suite: SrtpSuite,
    local: u8,
    remote: u8,
    peer: SocketAddr,
    t0: Instant,
) -> Leg {
    let mut cfg = LegConfig::new(ssrc, Codec::PCMU);
    cfg.remote = Some(peer);
    cfg.srtp = Some(SrtpConfig {
        suite,
        local_key_salt: [local; 30],
        remote_key_salt: [remote; 30],
    });
    Leg::new(cfg, t0).unwrap()
}

#[test]
fn srtp_legs_steady_tick_does_not_allocate() {
    for suite in [
        SrtpSuite::Aes128CmHmacSha1_80,
        SrtpSuite::Aes128CmHmacSha1_32,
    ] {
        let t0 = Instant::now();
        let (addr_a, addr_b): (SocketAddr, SocketAddr) = (
            "192.0.2.1:4000".parse().unwrap(),
            "192.0.2.2:5000".parse().unwrap(),
        );
        let mut a = srtp_leg(0x0A, suite, 1, 2, addr_b, t0);
        let mut b = srtp_leg(0x0B, suite, 2, 1, addr_a, t0);
        let mut frame = [0i16; FRAME_SAMPLES];
        let mut out = [0i16; FRAME_SAMPLES];
        let ms = Duration::from_millis(1);
        let mut tick = |k: u32, a: &mut Leg, b: &mut Leg| {
            let now = t0 + 20 * ms * k;
            frame.fill((k % 64) as i16 * 100);
            a.send_audio(&frame, now).unwrap();
            b.send_audio(&frame, now).unwrap();
            while let Some(t) = a.poll_transmit() {
                b.handle_datagram(&t.bytes, addr_a, now + ms);
            }
            while let Some(t) = b.poll_transmit() {
                a.handle_datagram(&t.bytes, addr_b, now + ms);
            }
            a.pull_into(&mut out, now + 5 * ms);
            b.pull_into(&mut out, now + 5 * ms);
        };
        for k in 0..20 {
            tick(k, &mut a, &mut b);
        }
        let before = allocations();
        // Over 1000 packets each way: several reclaims of the transmit buffer.
        for k in 20..1020 {
            tick(k, &mut a, &mut b);
        }
        let after = allocations();
        assert_eq!(
            after - before,
            0,
            "allocations on the SRTP tick ({suite:?})"
        );
        for leg in [&a, &b] {
            let s = leg.stats();
            assert_eq!((s.received, s.sent_packets), (1020, 1020), "{suite:?}");
            assert_eq!((s.srtp_auth_failures, s.replays), (0, 0));
        }
    }
}
