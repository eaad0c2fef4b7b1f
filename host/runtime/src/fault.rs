//! Plugin faults: what went wrong when a plugin call did not return normally, and the counters
//! that record every fault per tenant, kind and version.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use plenum_types::{Digest, PluginKind};

/// The class of a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FaultKind {
    /// The call used more CPU than its budget.
    CpuDeadline,
    /// The call took longer than its wall-clock budget.
    WallDeadline,
    /// The plugin tried to grow its memory past the cap.
    MemoryLimit,
    /// The plugin overflowed its stack.
    StackOverflow,
    /// The plugin panicked or aborted (`unreachable` executed).
    Panic,
    /// Any other trap (out-of-bounds access, bad conversion, ...).
    Trap,
    /// The input was larger than the cap; the plugin was not called.
    InputTooLarge,
    /// The output was larger than the cap.
    OutputTooLarge,
    /// The output broke a rule the host enforces (e.g. a normalizer result that is not E.164).
    InvalidOutput,
    /// Every instance slot was busy for the whole wall budget; the plugin was not called.
    Overloaded,
    /// The component could not be instantiated.
    Instantiate,
    /// The plugin returned a `plugin-error` where the kind does not allow one.
    PluginError,
}

impl FaultKind {
    /// A stable name for metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::CpuDeadline => "cpu-deadline",
            FaultKind::WallDeadline => "wall-deadline",
            FaultKind::MemoryLimit => "memory-limit",
            FaultKind::StackOverflow => "stack-overflow",
            FaultKind::Panic => "panic",
            FaultKind::Trap => "trap",
            FaultKind::InputTooLarge => "input-too-large",
            FaultKind::OutputTooLarge => "output-too-large",
            FaultKind::InvalidOutput => "invalid-output",
            FaultKind::Overloaded => "overloaded",
            FaultKind::Instantiate => "instantiate",
            FaultKind::PluginError => "plugin-error",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A plugin call that did not return normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The class.
    pub kind: FaultKind,
    /// A short description for operators (never a secret: inputs are not echoed).
    pub detail: String,
}

impl Fault {
    /// A fault.
    pub fn new(kind: FaultKind, detail: impl Into<String>) -> Fault {
        Fault {
            kind,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for Fault {}

/// Who a counter is about: tenant, kind, version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    /// Tenant id.
    pub tenant: String,
    /// Plugin kind.
    pub kind: PluginKind,
    /// Plugin version.
    pub digest: Digest,
}

/// Calls, faults and plugin-defined counters, per tenant, kind and version.
#[derive(Debug, Default)]
pub struct Counters {
    inner: Mutex<CounterMaps>,
}

#[derive(Debug, Default)]
struct CounterMaps {
    calls: HashMap<CounterKey, u64>,
    faults: HashMap<(CounterKey, FaultKind), u64>,
    plugin: HashMap<(CounterKey, String), u64>,
}

/// Most distinct plugin-defined counter names kept per version; more are dropped.
pub const MAX_PLUGIN_COUNTERS: usize = 64;

impl Counters {
    fn maps(&self) -> std::sync::MutexGuard<'_, CounterMaps> {
        // A panic while holding this lock cannot leave the maps inconsistent (each update is a
        // single insert), so a poisoned lock is still good to use.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Count one call.
    pub fn call(&self, key: &CounterKey) {
        *self.maps().calls.entry(key.clone()).or_default() += 1;
    }

    /// Count one fault.
    pub fn fault(&self, key: &CounterKey, kind: FaultKind) {
        *self.maps().faults.entry((key.clone(), kind)).or_default() += 1;
    }

    /// Add plugin-defined counter updates (names past [`MAX_PLUGIN_COUNTERS`] are dropped).
    pub fn plugin_counters(&self, key: &CounterKey, updates: &[(String, u64)]) {
        let mut maps = self.maps();
        for (name, delta) in updates {
            let k = (key.clone(), name.clone());
            if let Some(v) = maps.plugin.get_mut(&k) {
                *v = v.saturating_add(*delta);
                continue;
            }
            let names = maps.plugin.keys().filter(|(ck, _)| ck == key).count();
            if names < MAX_PLUGIN_COUNTERS {
                maps.plugin.insert(k, *delta);
            }
        }
    }

    /// Calls made to a version.
    pub fn calls_of(&self, key: &CounterKey) -> u64 {
        self.maps().calls.get(key).copied().unwrap_or(0)
    }

    /// Faults of one class for a version.
    pub fn faults_of(&self, key: &CounterKey, kind: FaultKind) -> u64 {
        self.maps()
            .faults
            .get(&(key.clone(), kind))
            .copied()
            .unwrap_or(0)
    }

    /// All faults of a version.
    pub fn total_faults_of(&self, key: &CounterKey) -> u64 {
        self.maps()
            .faults
            .iter()
            .filter(|((k, _), _)| k == key)
            .map(|(_, v)| v)
            .sum()
    }

    /// A plugin-defined counter.
    pub fn plugin_counter(&self, key: &CounterKey, name: &str) -> u64 {
        self.maps()
            .plugin
            .get(&(key.clone(), name.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Everything, sorted, for metrics: (key, calls), (key, fault, count), (key, name, value).
    pub fn snapshot(&self) -> CounterSnapshot {
        let maps = self.maps();
        let mut calls: Vec<_> = maps.calls.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let mut faults: Vec<_> = maps
            .faults
            .iter()
            .map(|((k, f), v)| (k.clone(), *f, *v))
            .collect();
        let mut plugin: Vec<_> = maps
            .plugin
            .iter()
            .map(|((k, n), v)| (k.clone(), n.clone(), *v))
            .collect();
        calls.sort();
        faults.sort();
        plugin.sort();
        CounterSnapshot {
            calls,
            faults,
            plugin,
        }
    }
}

/// A copy of every counter.
#[derive(Debug, Clone, Default)]
pub struct CounterSnapshot {
    /// Calls per version.
    pub calls: Vec<(CounterKey, u64)>,
    /// Faults per version and class.
    pub faults: Vec<(CounterKey, FaultKind, u64)>,
    /// Plugin-defined counters.
    pub plugin: Vec<(CounterKey, String, u64)>,
}
