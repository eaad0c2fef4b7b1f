//! The plugin runtime: tenant plugins as sandboxed WebAssembly components on wasmtime 48.
//!
//! - [`Runtime`]: one engine per process (pooling allocator with copy-on-write memory images,
//!   epoch interruption), the linker, the limits, the fault counters, the precompiled-artifact
//!   cache. [`Runtime::load`] turns bytes into a [`Plugin`]: header check, compile (or load the
//!   cached artifact), world and contract-version check, import check, pre-instantiation.
//! - [`Plugin`]: one loaded version; each call gets a fresh store and instance under a memory
//!   cap, a CPU deadline, a wall deadline and caps on input, output and logs. Faults are
//!   classified ([`FaultKind`]) and counted per tenant, kind and version.
//! - [`registry::Registry`]: per-tenant versions — upload (with the plugin's canaries run under
//!   production limits), activate (atomic swap), roll back, list, restore at start-up.
//! - [`fallback`]: the failure policy of each kind, applied on top of a call.
//!
//! The runtime owns no network, no clock beyond deadlines, and no SQL: versions are persisted
//! through the [`registry::Repository`] trait, implemented over the pool database by the binary.

pub mod bindings;
mod component;
mod engine;
pub mod fallback;
mod fault;
mod limits;
mod plugin;
pub mod registry;
mod sandbox;
pub mod target;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use plenum_plugin_api::types::PluginInfo;
use plenum_types::{Digest, PluginKind};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use crate::bindings::{attendant, focus_factory, meeting_policy, normalizer};
use crate::component::ArtifactCache;
use crate::sandbox::HostState;

pub use component::{SUPPORTED_VERSIONS, digest_of};
pub use engine::Allocation;
pub use fault::{CounterKey, CounterSnapshot, Counters, Fault, FaultKind};
pub use limits::Limits;
pub use plugin::{Called, MAX_ACTIONS, Plugin};

/// Why a component cannot be loaded. Nothing changes when loading fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file is larger than the limit.
    #[error("component is {size} bytes; the limit is {max} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not a WebAssembly binary.
    #[error("not a WebAssembly file (no \\0asm header)")]
    NotWasm,
    /// A core module rather than a component.
    #[error("a core WebAssembly module, not a component: build the plugin for wasm32-wasip2")]
    CoreModule,
    /// The binary does not validate or compile.
    #[error("invalid component: {0}")]
    Invalid(String),
    /// The component exports none of the plugin worlds, or more than one.
    #[error("component exports no single Plenum plugin world (found: {})", if exports.is_empty() { "nothing".to_owned() } else { exports.join(", ") })]
    WrongWorld {
        /// What it exports.
        exports: Vec<String>,
    },
    /// Built against a contract version this host does not link.
    #[error(
        "built against plenum:plugin@{found}; this host supports {}",
        SUPPORTED_VERSIONS
    )]
    UnsupportedVersion {
        /// The version it was built against.
        found: String,
    },
    /// It imports something the host does not grant plugins.
    #[error(
        "imports `{0}`, which plugins are not granted (no files, sockets or other capabilities)"
    )]
    ForbiddenImport(String),
    /// Uploaded as one kind but implements another.
    #[error("uploaded as {declared} but the component implements {found}")]
    KindMismatch {
        /// The kind it was uploaded as.
        declared: PluginKind,
        /// The kind it implements.
        found: PluginKind,
    },
    /// Linking failed.
    #[error("cannot link: {0}")]
    Link(String),
    /// `info()` faulted.
    #[error("info() failed: {0}")]
    Info(Fault),
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The engine or linker could not be built.
    #[error("wasm engine: {0}")]
    Engine(String),
    /// The artifact cache directory is unusable.
    #[error("artifact cache: {0}")]
    Cache(#[from] std::io::Error),
}

/// Shared internals; plugins keep them alive.
pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) limits: Limits,
    pub(crate) counters: Counters,
    pub(crate) slots: engine::Slots,
    allocation: Allocation,
    cache: Option<ArtifactCache>,
    _ticker: engine::Ticker,
}

/// The plugin runtime. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

/// What loading measured.
#[derive(Debug, Clone, Copy)]
pub struct LoadStats {
    /// Whether the compiled artifact came from the cache.
    pub cached: bool,
    /// Time to compile or deserialize, type-check and pre-instantiate, in microseconds.
    pub micros: u128,
}

impl Runtime {
    /// A runtime with these limits; compiled artifacts are cached in `cache_dir` if given.
    pub fn new(limits: Limits, cache_dir: Option<&Path>) -> Result<Runtime, RuntimeError> {
        let (engine, allocation) =
            engine::build_engine(&limits).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let linker =
            engine::build_linker(&engine).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let cache = cache_dir
            .map(|d| ArtifactCache::new(d, &engine))
            .transpose()?;
        let ticker = engine::Ticker::start(&engine, limits.epoch_tick)?;
        let slots = engine::Slots::new(limits.max_concurrent);
        let inner = Inner {
            engine,
            linker,
            counters: Counters::default(),
            slots,
            allocation,
            cache,
            limits,
            _ticker: ticker,
        };
        Ok(Runtime {
            inner: Arc::new(inner),
        })
    }

    /// The limits calls run under.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Calls, faults and plugin counters.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// How instances are allocated.
    pub fn allocation(&self) -> Allocation {
        self.inner.allocation
    }

    /// Load a component: check, compile (or take the cached artifact), find its world, check
    /// its imports and contract version, pre-instantiate, and ask it who it is.
    pub fn load(&self, bytes: &[u8]) -> Result<Arc<Plugin>, LoadError> {
        self.load_measured(bytes).map(|(p, _)| p)
    }

    /// [`Runtime::load`], with how long it took and whether the cache served it.
    pub fn load_measured(&self, bytes: &[u8]) -> Result<(Arc<Plugin>, LoadStats), LoadError> {
        let started = Instant::now();
        let max = self.inner.limits.max_component_bytes;
        if bytes.len() > max {
            return Err(LoadError::TooLarge {
                size: bytes.len(),
                max,
            });
        }
        component::check_header(bytes)?;
        let digest = digest_of(bytes);
        let (component, cached) = self.compile(&digest, bytes)?;
        let kind = component::inspect(&self.inner.engine, &component)?;
        let pre = self.pre(kind, &component)?;
        let mut plugin = Plugin {
            rt: Arc::clone(&self.inner),
            kind,
            digest,
            size: bytes.len(),
            info: PluginInfo {
                name: String::new(),
                version: String::new(),
                description: String::new(),
            },
            pre,
        };
        plugin.info = plugin.call_info("(load)").map_err(LoadError::Info)?;
        let stats = LoadStats {
            cached,
            micros: started.elapsed().as_micros(),
        };
        Ok((Arc::new(plugin), stats))
    }

    fn compile(&self, digest: &Digest, bytes: &[u8]) -> Result<(Component, bool), LoadError> {
        let engine = &self.inner.engine;
        if let Some(c) = self
            .inner
            .cache
            .as_ref()
            .and_then(|cache| cache.load(engine, digest))
        {
            return Ok((c, true));
        }
        let component =
            Component::new(engine, bytes).map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        if let Some(cache) = &self.inner.cache {
            cache.store(digest, &component);
        }
        Ok((component, false))
    }

    fn pre(&self, kind: PluginKind, component: &Component) -> Result<plugin::Pre, LoadError> {
        let link = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
        let ip = self.inner.linker.instantiate_pre(component).map_err(link)?;
        Ok(match kind {
            PluginKind::Normalizer => {
                plugin::Pre::Normalizer(normalizer::NormalizerPre::new(ip).map_err(link)?)
            }
            PluginKind::Attendant => {
                plugin::Pre::Attendant(attendant::AttendantPre::new(ip).map_err(link)?)
            }
            PluginKind::MeetingPolicy => {
                plugin::Pre::MeetingPolicy(meeting_policy::MeetingPolicyPre::new(ip).map_err(link)?)
            }
            PluginKind::FocusFactory => {
                plugin::Pre::FocusFactory(focus_factory::FocusFactoryPre::new(ip).map_err(link)?)
            }
        })
    }
}
