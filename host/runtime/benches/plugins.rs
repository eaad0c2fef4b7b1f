//! Criterion benchmarks of the plugin runtime (release build: `cargo bench -p plenum-runtime
//! --bench plugins`):
//! - `fresh_call/<kind>`: a fresh store and instance from the pre-instantiated component plus
//!   one typical call, for each bundled plugin (target ≤ 30 µs at p50; p99 is printed by the
//!   `latency` bench);
//! - `normalizer/{wasm,native}`: the bundled rule normalizer on the Redmond rules, as Wasm and
//!   compiled natively from the same crate (target ≤ 3×);
//! - `upload_to_first_call/<kind>`: upload a new version whose compiled artifact is cached
//!   (load, check, canaries under production limits, store, activate) and make its first call
//!   (target ≤ 50 ms).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // bench code

mod common;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use plenum_runtime::registry::{MemoryRepository, Registry};
use plenum_runtime::{Limits, Runtime};
use plenum_sdk::Normalizer;
use plenum_sdk::harness;
use plenum_types::TenantId;

fn fresh_call(c: &mut Criterion) {
    let rt = Runtime::new(Limits::default(), None).unwrap();
    let mut g = c.benchmark_group("fresh_call");
    for b in plenum_bundled::DEFAULTS {
        let p = rt.load(b.bytes).unwrap();
        g.bench_function(b.kind.world(), |bench| bench.iter(|| common::one_call(&p)));
    }
    g.finish();
}

fn normalizer(c: &mut Criterion) {
    let rt = Runtime::new(Limits::default(), None).unwrap();
    let p = rt.load(plenum_bundled::NORMALIZER_RULES.bytes).unwrap();
    let req = harness::request("4255550100");
    let mut g = c.benchmark_group("normalizer");
    g.bench_function("wasm", |b| {
        b.iter(|| p.normalize("bench", &req).unwrap().unwrap())
    });
    g.bench_function("native", |b| {
        b.iter(|| {
            normalizer_rules::RuleNormalizer::normalize(std::hint::black_box(req.clone())).unwrap()
        })
    });
    g.finish();
}

fn upload_to_first_call(c: &mut Criterion) {
    let cache = tempfile::tempdir().unwrap();
    let rt = Runtime::new(Limits::default(), Some(cache.path())).unwrap();
    let mut g = c.benchmark_group("upload_to_first_call");
    g.sample_size(20);
    for b in plenum_bundled::DEFAULTS {
        // Precompile once: the artifact is in the cache, as after an earlier upload or a restart.
        rt.load(b.bytes).unwrap();
        let tenant = TenantId::new("contoso").unwrap();
        g.bench_function(b.kind.world(), |bench| {
            bench.iter(|| {
                let reg = Registry::new(rt.clone(), Arc::new(MemoryRepository::default()));
                let report = reg.deploy(&tenant, Some(b.kind), b.bytes, 0).unwrap();
                assert!(report.cached);
                common::one_call(&reg.current(&tenant, b.kind).unwrap());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, fresh_call, normalizer, upload_to_first_call);
criterion_main!(benches);
