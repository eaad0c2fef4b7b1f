//! Criterion benchmarks of the plugin runtime (release build: `cargo bench -p plenum-runtime
//! --bench plugins`):
//! - `fresh_call/<kind>`: a fresh store and instance from the pre-instantiated component plus
//!   one typical call, for each bundled plugin (target ≤ 30 µs at p50; p99 is printed by the
//!   `latency` bench);
//! - `normalizer/{wasm,wasm_warm_instance,native}`: the bundled rule normalizer on the Redmond
//!   rules: as the host calls it (fresh instance per call), as Wasm on an instance kept warm
//!   (the cost of the Wasm execution and the boundary alone), and compiled natively from the
//!   same crate (target: Wasm ≤ 3× native);
//! - `upload_to_first_call/<kind>`: upload a new version whose compiled artifact is cached
//!   (load, check, canaries under production limits, store, activate) and make its first call
//!   (target ≤ 50 ms).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // bench code

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
    let (mut store, warm) = warm_normalizer();
    let wreq = plenum_plugin_api::Conv::conv(req.clone());
    g.bench_function("wasm_warm_instance", |b| {
        b.iter(|| {
            let api = warm.plenum_plugin_normalizer_api();
            api.call_normalize(&mut store, &wreq).unwrap().unwrap()
        })
    });
    g.bench_function("native", |b| {
        b.iter(|| {
            normalizer_rules::RuleNormalizer::normalize(std::hint::black_box(req.clone())).unwrap()
        })
    });
    g.finish();
}

/// The bundled normalizer instantiated once, outside the runtime's per-call sandbox, to time
/// the Wasm execution alone.
fn warm_normalizer() -> (
    wasmtime::Store<Warm>,
    plenum_runtime::bindings::normalizer::Normalizer,
) {
    use wasmtime::component::{Component, HasSelf, Linker};
    let engine = wasmtime::Engine::default();
    let component = Component::new(&engine, plenum_bundled::NORMALIZER_RULES.bytes).unwrap();
    let mut linker = Linker::<Warm>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    plenum_runtime::bindings::shared::Shared::add_to_linker::<Warm, HasSelf<Warm>>(
        &mut linker,
        |s| s,
    )
    .unwrap();
    let mut store = wasmtime::Store::new(
        &engine,
        Warm {
            wasi: wasmtime_wasi::WasiCtx::builder().build(),
            table: wasmtime::component::ResourceTable::new(),
        },
    );
    let inst = plenum_runtime::bindings::normalizer::Normalizer::instantiate(
        &mut store, &component, &linker,
    )
    .unwrap();
    (store, inst)
}

struct Warm {
    wasi: wasmtime_wasi::WasiCtx,
    table: wasmtime::component::ResourceTable,
}

impl wasmtime_wasi::WasiView for Warm {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

mod host_impls {
    use plenum_runtime::bindings::shared::plenum::plugin as p;
    impl p::host::Host for super::Warm {
        fn log(&mut self, _: p::host::Level, _: String) {}
        fn counter_add(&mut self, _: String, _: u64) {}
    }
    impl p::types::Host for super::Warm {}
    impl p::normalizer_types::Host for super::Warm {}
    impl p::policy_types::Host for super::Warm {}
    impl p::focus_types::Host for super::Warm {}
    impl p::attendant_types::Host for super::Warm {}
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
