//! Latency distribution of a fresh instance plus one call, per bundled kind: p50, p90, p99 and
//! the worst of 20,000 calls after a warm-up, on one thread and with all cores busy, with and
//! without copy-on-write memory images
//! (`cargo bench -p plenum-runtime --bench latency`). Prints a table; asserts nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // bench code

mod common;

use std::time::{Duration, Instant};

use plenum_runtime::{Limits, Runtime};

const CALLS: usize = 20_000;

fn percentiles(mut samples: Vec<Duration>) -> [Duration; 4] {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    [at(0.5), at(0.9), at(0.99), at(1.0)]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    for copy_on_write in [false, true] {
        let rt = Runtime::new(
            Limits {
                copy_on_write,
                ..Limits::default()
            },
            None,
        )
        .unwrap();
        println!(
            "allocation: {:?}, copy-on-write memory images: {copy_on_write}",
            rt.allocation()
        );
        table(&rt);
    }
}

fn table(rt: &Runtime) {
    println!(
        "{:<15} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "kind", "threads", "p50 µs", "p90 µs", "p99 µs", "max µs"
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    for b in plenum_bundled::DEFAULTS {
        let p = rt.load(b.bytes).unwrap();
        for _ in 0..1000 {
            common::one_call(&p);
        }
        for n in [1, threads] {
            let per = CALLS / n;
            let samples: Vec<Duration> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..n)
                    .map(|_| {
                        let p = p.clone();
                        s.spawn(move || {
                            (0..per)
                                .map(|_| {
                                    let t = Instant::now();
                                    common::one_call(&p);
                                    t.elapsed()
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap())
                    .collect()
            });
            let [p50, p90, p99, max] = percentiles(samples);
            let us = |d: Duration| d.as_secs_f64() * 1e6;
            println!(
                "{:<15} {:>8} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
                b.kind.world(),
                n,
                us(p50),
                us(p90),
                us(p99),
                us(max)
            );
        }
    }
}
