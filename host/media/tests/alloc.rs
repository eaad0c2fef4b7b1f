//! The hot paths allocate nothing: a counting global allocator watches the plain receive path
//! (datagram to jitter buffer), `pull_frame`, and the G.711 slice functions after warm-up.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use plenum_media::{Codec, Leg, LegConfig, g711};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
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
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for (i, p) in packets.iter().enumerate().skip(10) {
        let now = t0 + 20 * ms * i as u32;
        leg.handle_datagram(p, from, now);
        leg.pull_into(&mut out, now + 5 * ms);
        g711::ulaw_encode_into(&out, &mut codes);
        g711::alaw_decode_into(&codes, &mut out);
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "allocations on the hot path");
    assert_eq!(leg.stats().received, 1000);
}
