//! The per-frame paths allocate nothing: a counting global allocator watches steady-state
//! ticks of several meetings (talkers, muted, silent and parked legs, gains, meeting and
//! private overlays finishing and being polled, a detached participant), the prompt player
//! and the recorder.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use plenum_mixer::{
    Audience, FRAME, Gain, InputKind, Mixer, MixerConfig, Player, Recorder, RecorderConfig,
    Segment, Settings,
};

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

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn frame(seed: usize) -> [i16; FRAME] {
    std::array::from_fn(|i| ((((i + seed) * 37) % 200) as i16 - 100) * 60)
}

#[test]
fn steady_state_ticks_do_not_allocate() {
    let mut mx = Mixer::with_capacity(MixerConfig::default(), 64, 8);
    let meetings: Vec<_> = (0..4).map(|_| mx.add_meeting().unwrap()).collect();
    let mut legs = Vec::new();
    for i in 0..40 {
        let settings = Settings {
            muted: i % 7 == 3,
            gain: if i % 5 == 0 {
                Gain::from_db(3.0)
            } else {
                Gain::UNITY
            },
            hears: i % 11 != 4,
            dial_in: i % 2 == 0,
        };
        let m = meetings[i % 4];
        legs.push(mx.add_participant(Some(m), settings).unwrap());
    }
    let detached = mx.add_participant(None, Settings::default()).unwrap();
    let tone: Arc<[i16]> = Arc::from(vec![1000i16; 700]);
    let mut queued = 0;
    for (k, &m) in meetings.iter().enumerate() {
        for audience in [
            Audience::All,
            Audience::DialIn,
            Audience::AllExcept(legs[k]),
        ] {
            mx.announce(m, tone.clone(), audience).unwrap();
            queued += 1;
        }
        mx.announce(m, tone.clone(), Audience::Only(legs[k + 4]))
            .unwrap();
        queued += 1;
    }
    let mut player = Player::looping(vec![
        Segment::Clip(tone.clone()),
        Segment::Silence { ms: 30 },
    ]);
    let mut recorder = Recorder::new(RecorderConfig::default());
    let mut out = [0i16; FRAME];
    let frames: Vec<_> = (0..8).map(frame).collect();

    let mut step = |t: usize, mx: &mut Mixer| {
        for (i, &leg) in legs.iter().enumerate() {
            let kind = match (i + t) % 4 {
                0 => InputKind::Silence,
                1 => InputKind::Concealed,
                _ => InputKind::Speech,
            };
            if i % 2 == 0 {
                mx.push_input(leg, &frames[(i + t) % 8], kind).unwrap();
            } else {
                *mx.input_mut(leg).unwrap() = if i % 3 == 0 {
                    [0; FRAME]
                } else {
                    frames[i % 8]
                };
                mx.set_input_kind(leg, kind).unwrap();
            }
        }
        mx.tick();
        let mut sum = 0i64;
        for &leg in legs.iter().chain([&detached]) {
            sum += i64::from(mx.output(leg).unwrap()[0]);
        }
        let mut finished = 0;
        while mx.poll_event().is_some() {
            finished += 1;
        }
        player.next_frame(&mut out);
        recorder.push(&out);
        (sum, finished)
    };

    // Warm-up.
    let mut finished = 0;
    for t in 0..2 {
        finished += step(t, &mut mx).1;
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for t in 2..500 {
        finished += step(t, &mut mx).1;
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "allocations on the per-frame path");
    assert_eq!(
        finished, queued,
        "every overlay finished on the measured ticks"
    );
    assert!(mx.stats().talker_mixes > 0);
    assert!(!player.is_finished());
    assert!(recorder.is_full());
}
