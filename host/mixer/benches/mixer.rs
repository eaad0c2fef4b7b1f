//! Mixer cost per participant-frame: one meeting of 3, 10, 100 and 1,000 participants with all
//! of them talking, the realistic case of 3 talkers and everyone else silent, and 1,000
//! participants in meetings of 5. Each iteration marks the inputs (the frames stay in place, so
//! the copy from the jitter buffer is not counted) and runs one tick. Criterion's throughput
//! is in participant-frames: divide the time per iteration by the element count for ns per
//! participant-frame. Run with `cargo bench -p plenum-mixer`.

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)] // bench code

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use plenum_mixer::{InputKind, Mixer, MixerConfig, ParticipantId, Settings};

/// A mixer of `n` participants in meetings of `size`; the first `talkers` of each meeting have
/// a tone in their input.
fn setup(n: usize, size: usize, talkers: usize) -> (Mixer, Vec<(ParticipantId, InputKind)>) {
    let mut mixer = Mixer::with_capacity(MixerConfig::default(), n, n / size + 1);
    let mut legs = Vec::with_capacity(n);
    let mut meeting = mixer.add_meeting().unwrap();
    for i in 0..n {
        if i > 0 && i % size == 0 {
            meeting = mixer.add_meeting().unwrap();
        }
        let id = mixer
            .add_participant(Some(meeting), Settings::default())
            .unwrap();
        let talking = i % size < talkers;
        let frame = mixer.input_mut(id).unwrap();
        if talking {
            for (k, s) in frame.iter_mut().enumerate() {
                *s = (((k * (i % 7 + 3)) % 40) as i16 - 20) * 300;
            }
        }
        // Silent legs report speech-kind frames of zeros (the worst case: the energy check
        // runs); a jitter buffer reporting `Silence` costs even less.
        legs.push((id, InputKind::Speech));
    }
    (mixer, legs)
}

fn bench_case(c: &mut Criterion, group: &str, label: &str, n: usize, size: usize, talkers: usize) {
    let (mut mixer, legs) = setup(n, size, talkers);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::from_parameter(label), |b| {
        b.iter(|| {
            for &(id, kind) in &legs {
                mixer.set_input_kind(id, kind).unwrap();
            }
            mixer.tick();
            black_box(mixer.output(legs[0].0));
        })
    });
    g.finish();
}

fn mixer(c: &mut Criterion) {
    for n in [3, 10, 100, 1000] {
        bench_case(c, "one_meeting_all_talking", &n.to_string(), n, n, n);
    }
    for n in [10, 100, 1000] {
        bench_case(c, "one_meeting_3_talkers", &n.to_string(), n, n, 3);
    }
    bench_case(c, "meetings_of_5", "1000_all_talking", 1000, 5, 5);
    bench_case(c, "meetings_of_5", "1000_one_talker_each", 1000, 5, 1);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = mixer
}
criterion_main!(benches);
