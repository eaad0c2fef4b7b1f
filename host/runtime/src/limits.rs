//! The limits every plugin call runs under.

use std::time::Duration;

/// Limits of the plugin runtime. One set per process; every call of every tenant gets them.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Linear memory a call may use, in bytes (all memories of the instance together).
    pub memory_bytes: usize,
    /// CPU time a call may use (measured on the calling thread).
    pub cpu: Duration,
    /// Wall-clock time a call may take, instantiation included.
    pub wall: Duration,
    /// Largest input (estimated canonical-ABI size) the host passes in.
    pub max_input_bytes: usize,
    /// Largest output the host accepts.
    pub max_output_bytes: usize,
    /// Log records a call may write; the rest are dropped and counted.
    pub max_log_records: u32,
    /// Bytes per log record; longer ones are truncated.
    pub max_log_bytes: usize,
    /// Counter updates a call may make.
    pub max_counter_updates: u32,
    /// Largest component the registry accepts.
    pub max_component_bytes: usize,
    /// Instances that may run at once (the pool size).
    pub max_concurrent: u32,
    /// How often the epoch ticks (the precision of the deadlines).
    pub epoch_tick: Duration,
    /// Map linear memory from copy-on-write images instead of copying the data segments in at
    /// instantiation. Off by default: with small plugins and calls on several threads, the
    /// copy-on-write faults' TLB shootdowns cost more than the copy (see benches/latency.rs).
    pub copy_on_write: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 32 << 20,
            cpu: Duration::from_millis(50),
            wall: Duration::from_millis(250),
            max_input_bytes: 256 << 10,
            max_output_bytes: 256 << 10,
            max_log_records: 32,
            max_log_bytes: 1024,
            max_counter_updates: 64,
            max_component_bytes: 16 << 20,
            max_concurrent: 64,
            epoch_tick: Duration::from_millis(1),
            copy_on_write: false,
        }
    }
}
