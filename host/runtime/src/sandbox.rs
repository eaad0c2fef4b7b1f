//! The per-call sandbox: the store data every call gets, its memory limiter, CPU and wall
//! deadlines, bounded logging and counters, and the classification of what went wrong.
//!
//! WASI p2 is linked because Rust's `std` on wasm32-wasip2 imports it (panics write to stderr,
//! read `RUST_BACKTRACE`), but the context is empty and deny-by-default: no files, no
//! environment, no sockets, bounded in-memory stdio, fixed clocks, deterministic randomness.

use std::time::{Duration, Instant};

use plenum_plugin_api::Conv;
use plenum_types::{Digest, PluginKind};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::bindings::shared::plenum::plugin as wit;
use crate::fault::{Fault, FaultKind};
use crate::limits::Limits;

/// Bytes of stdout/stderr a plugin may write (std's panic message goes there).
const STDIO_CAPTURE: usize = 4096;

/// What one call's store holds.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) budget: Budget,
    pub(crate) sink: Sink,
    stderr: MemoryOutputPipe,
}

/// Who a call is for; used to tag logs and counters.
#[derive(Debug, Clone)]
pub(crate) struct CallTag {
    pub(crate) tenant: String,
    pub(crate) kind: PluginKind,
    pub(crate) digest: Digest,
}

impl HostState {
    pub(crate) fn new(limits: &Limits, tag: CallTag) -> HostState {
        let stderr = MemoryOutputPipe::new(STDIO_CAPTURE);
        let mut b = WasiCtx::builder();
        b.stdout(MemoryOutputPipe::new(STDIO_CAPTURE))
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(FixedWallClock)
            .monotonic_clock(FixedMonotonicClock)
            .secure_random(wasmtime_wasi::Deterministic::new(vec![0x5a]))
            .insecure_random(wasmtime_wasi::Deterministic::new(vec![0xa5]))
            .insecure_random_seed(0);
        HostState {
            wasi: b.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                max: limits.memory_bytes,
                used: 0,
                denied: false,
            },
            budget: Budget::start(limits.cpu, limits.wall),
            sink: Sink::new(limits, tag),
            stderr,
        }
    }

    /// The first line std wrote to stderr (a panic message), for the fault detail.
    pub(crate) fn panic_message(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let line = text.lines().find(|l| !l.trim().is_empty())?;
        Some(line.chars().take(200).collect())
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A wall clock stuck at the Unix epoch: plugins get time as an argument.
struct FixedWallClock;

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// A monotonic clock that never advances.
struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Caps linear memory (all memories of the instance together) and table growth.
pub(crate) struct MemoryLimiter {
    max: usize,
    used: usize,
    pub(crate) denied: bool,
}

/// The error a denied memory growth traps with.
#[derive(Debug)]
pub(crate) struct MemoryDenied {
    wanted: usize,
    max: usize,
}

impl std::fmt::Display for MemoryDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "memory limit: wanted {} KiB of {} KiB",
            self.wanted >> 10,
            self.max >> 10
        )
    }
}

impl std::error::Error for MemoryDenied {}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used.saturating_sub(current).saturating_add(desired);
        if total > self.max {
            self.denied = true;
            return Err(wasmtime::Error::new(MemoryDenied {
                wanted: total,
                max: self.max,
            }));
        }
        self.used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        32
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        8
    }
}

/// CPU and wall deadlines, checked at every epoch tick.
pub(crate) struct Budget {
    started: Instant,
    wall: Duration,
    cpu_start: Duration,
    cpu: Duration,
    pub(crate) hit: Option<FaultKind>,
}

impl Budget {
    fn start(cpu: Duration, wall: Duration) -> Budget {
        Budget {
            started: Instant::now(),
            wall,
            cpu_start: thread_cpu_time(),
            cpu,
            hit: None,
        }
    }

    /// Whether a deadline has passed; records which.
    fn check(&mut self) -> Option<FaultKind> {
        if self.started.elapsed() >= self.wall {
            self.hit = Some(FaultKind::WallDeadline);
        } else if thread_cpu_time().saturating_sub(self.cpu_start) >= self.cpu {
            self.hit = Some(FaultKind::CpuDeadline);
        }
        self.hit
    }

    /// Time since the call started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// CPU time consumed by the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is supported on every
    // Linux the host runs on. On failure the struct stays zeroed and we report zero.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// Where the `host` import's logs and counters go, within the per-call budget.
pub(crate) struct Sink {
    tag: CallTag,
    max_records: u32,
    max_bytes: usize,
    max_counter_updates: u32,
    records: u32,
    pub(crate) dropped: u32,
    pub(crate) counters: Vec<(String, u64)>,
    counter_updates: u32,
}

impl Sink {
    fn new(limits: &Limits, tag: CallTag) -> Sink {
        Sink {
            tag,
            max_records: limits.max_log_records,
            max_bytes: limits.max_log_bytes,
            max_counter_updates: limits.max_counter_updates,
            records: 0,
            dropped: 0,
            counters: Vec::new(),
            counter_updates: 0,
        }
    }

    fn log(&mut self, level: plenum_plugin_api::types::Level, message: &str) {
        if self.records >= self.max_records {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.records += 1;
        let mut end = message.len().min(self.max_bytes);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let msg = message.get(..end).unwrap_or_default();
        let (tenant, kind, version) = (&self.tag.tenant, self.tag.kind, self.tag.digest.short());
        use plenum_plugin_api::types::Level;
        match level {
            Level::Trace => {
                tracing::trace!(target: "plenum::plugin", %tenant, %kind, %version, "{msg}")
            }
            Level::Debug => {
                tracing::debug!(target: "plenum::plugin", %tenant, %kind, %version, "{msg}")
            }
            Level::Info => {
                tracing::info!(target: "plenum::plugin", %tenant, %kind, %version, "{msg}")
            }
            Level::Warn => {
                tracing::warn!(target: "plenum::plugin", %tenant, %kind, %version, "{msg}")
            }
            Level::Error => {
                tracing::error!(target: "plenum::plugin", %tenant, %kind, %version, "{msg}")
            }
        }
    }

    fn counter_add(&mut self, name: String, delta: u64) {
        if self.counter_updates >= self.max_counter_updates || name.len() > 64 || name.is_empty() {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.counter_updates += 1;
        match self.counters.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v = v.saturating_add(delta),
            None => self.counters.push((name, delta)),
        }
    }
}

impl wit::host::Host for HostState {
    fn log(&mut self, level: wit::host::Level, message: String) {
        self.sink.log(level.conv(), &message);
    }

    fn counter_add(&mut self, name: String, delta: u64) {
        self.sink.counter_add(name, delta);
    }
}

impl wit::types::Host for HostState {}
impl wit::normalizer_types::Host for HostState {}
impl wit::policy_types::Host for HostState {}
impl wit::focus_types::Host for HostState {}
impl wit::attendant_types::Host for HostState {}

/// Arm a fresh store: memory limiter, epoch-driven deadlines, and the cap on data the guest
/// hands the host (wasmtime's hostcall fuel, which also bounds an export's results while they
/// are lifted, before the host allocates them).
pub(crate) fn arm(store: &mut Store<HostState>, limits: &Limits) {
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx| match cx.data_mut().budget.check() {
        Some(_) => Ok(UpdateDeadline::Interrupt),
        None => Ok(UpdateDeadline::Continue(1)),
    });
    store.set_hostcall_fuel(limits.max_output_bytes);
    store.set_max_component_handles(1024);
}

/// Turn a wasmtime error from a call into a fault.
pub(crate) fn classify(err: &wasmtime::Error, state: &HostState) -> Fault {
    if state.limiter.denied || err.downcast_ref::<MemoryDenied>().is_some() {
        return Fault::new(FaultKind::MemoryLimit, root_cause(err));
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => {
            let kind = state.budget.hit.unwrap_or(FaultKind::WallDeadline);
            let elapsed = state.budget.elapsed().as_millis();
            Fault::new(kind, format!("stopped after {elapsed} ms"))
        }
        Some(Trap::StackOverflow) => Fault::new(FaultKind::StackOverflow, "stack overflow"),
        Some(Trap::UnreachableCodeReached) => {
            let msg = state
                .panic_message()
                .unwrap_or_else(|| "unreachable executed".to_owned());
            Fault::new(FaultKind::Panic, msg)
        }
        Some(other) => Fault::new(FaultKind::Trap, other.to_string()),
        None if hostcall_fuel_exhausted(err) => Fault::new(
            FaultKind::OutputTooLarge,
            "more data than the output cap crossed to the host",
        ),
        None => Fault::new(FaultKind::Trap, root_cause(err)),
    }
}

/// wasmtime 48 reports exhausted hostcall fuel with a private error type; its message is the
/// only handle (`component/func/options.rs`). The hostile `fixture-big-output` test pins it.
fn hostcall_fuel_exhausted(err: &wasmtime::Error) -> bool {
    err.chain().any(|e| {
        e.to_string()
            .contains("fuel allocated for hostcalls has been exhausted")
    })
}

fn root_cause(err: &wasmtime::Error) -> String {
    let text = format!("{:#}", err.root_cause());
    text.chars().take(300).collect()
}
