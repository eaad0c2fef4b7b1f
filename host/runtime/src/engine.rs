//! The one wasmtime engine of the process: configuration (pooling allocator with copy-on-write
//! memory images, epoch interruption), the linker every plugin is instantiated through, the
//! epoch ticker thread, and the slots that bound concurrent instances.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::shared::Shared;
use crate::limits::Limits;
use crate::sandbox::HostState;

/// How instances are allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// The pooling allocator: memory slots reserved up front, copy-on-write images.
    Pooling,
    /// On-demand allocation (the fallback where the pool's address space cannot be reserved).
    OnDemand,
}

/// Build the engine: pooling if the address space can be reserved, on-demand otherwise.
pub(crate) fn build_engine(limits: &Limits) -> wasmtime::Result<(Engine, Allocation)> {
    match Engine::new(&config(limits, true)) {
        Ok(engine) => Ok((engine, Allocation::Pooling)),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "pooling allocator unavailable; allocating instances on demand");
            Ok((Engine::new(&config(limits, false))?, Allocation::OnDemand))
        }
    }
}

fn config(limits: &Limits, pooling: bool) -> Config {
    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .epoch_interruption(true)
        .memory_init_cow(limits.copy_on_write)
        .max_wasm_stack(512 << 10)
        .memory_reservation(reservation(limits))
        .memory_guard_size(64 << 10);
    if pooling {
        let n = limits.max_concurrent.max(1);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(8))
            .total_memories(n.saturating_mul(4))
            .total_tables(n.saturating_mul(8))
            .max_memory_size(limits.memory_bytes)
            .max_core_instances_per_component(16)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .table_elements(20_000)
            // Measured (benches/latency.rs): for plugins this small, resetting memory with
            // memset costs more than it saves, and batching the madvise calls cuts the TLB
            // shootdowns that otherwise make concurrent calls slow each other down.
            .linear_memory_keep_resident(0)
            .table_keep_resident(64 << 10)
            .decommit_batch_size(32);
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    cfg
}

/// Address space reserved per linear memory: the memory cap rounded up to 64 KiB pages.
fn reservation(limits: &Limits) -> u64 {
    let page = 64u64 << 10;
    (limits.memory_bytes as u64).div_ceil(page).max(1) * page
}

/// The linker every plugin is instantiated through: WASI p2 (deny-by-default, see
/// [`crate::sandbox`]) and the contract's shared interfaces.
pub(crate) fn build_linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    Shared::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    Ok(linker)
}

/// Increments the engine's epoch every tick, until dropped.
pub(crate) struct Ticker {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    pub(crate) fn start(engine: &Engine, tick: Duration) -> std::io::Result<Ticker> {
        let weak = engine.weak();
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("plenum-epoch".into())
            .spawn(move || {
                let (lock, cvar) = &*stop2;
                let mut stopped = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                while !*stopped {
                    let (guard, _) = cvar
                        .wait_timeout(stopped, tick)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    stopped = guard;
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        Ok(Ticker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A counting semaphore in front of instantiation: a full pool makes instantiation fail rather
/// than wait, so callers wait here (up to their wall budget) instead.
pub(crate) struct Slots {
    free: Mutex<u32>,
    cvar: Condvar,
}

/// One held slot; released on drop.
pub(crate) struct Slot<'a>(&'a Slots);

impl Slots {
    pub(crate) fn new(n: u32) -> Slots {
        Slots {
            free: Mutex::new(n.max(1)),
            cvar: Condvar::new(),
        }
    }

    /// Take a slot, waiting at most `wait`.
    pub(crate) fn acquire(&self, wait: Duration) -> Option<Slot<'_>> {
        let deadline = Instant::now() + wait;
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *free == 0 {
            let left = deadline.checked_duration_since(Instant::now())?;
            let (guard, _) = self
                .cvar
                .wait_timeout(free, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            free = guard;
        }
        *free -= 1;
        Some(Slot(self))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut free = self
            .0
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *free += 1;
        self.0.cvar.notify_one();
    }
}
