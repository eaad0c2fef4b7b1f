//! Logging and counters through the host's bounded `host` import.
//!
//! In a component these reach the host, which tags them with tenant, plugin and version and
//! drops what exceeds the per-call budget. In a native build (tests, the harness) they are kept
//! in a per-thread buffer that [`take_captured`] drains.

pub use crate::api::types::Level;

/// Write a log record.
pub fn log(level: Level, message: &str) {
    imp::log(level, message);
}

/// Add to a counter of this plugin.
pub fn counter_add(name: &str, delta: u64) {
    imp::counter_add(name, delta);
}

/// Log at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Log at info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Log at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// What a native build logged on this thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// Log records, in order.
    pub logs: Vec<(Level, String)>,
    /// Counter updates, in order.
    pub counters: Vec<(String, u64)>,
}

/// What a native build logged on this thread since the last call.
pub fn take_captured() -> Captured {
    imp::take()
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::Level;
    use crate::wasm::shared::plenum::plugin::host;
    use plenum_plugin_api::Conv;

    pub fn log(level: Level, message: &str) {
        let level: host::Level = level.conv();
        host::log(level, message);
    }

    pub fn counter_add(name: &str, delta: u64) {
        host::counter_add(name, delta);
    }

    pub fn take() -> super::Captured {
        super::Captured::default()
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::{Captured, Level};
    use std::cell::RefCell;

    thread_local! {
        static CAPTURED: RefCell<Captured> =
            const { RefCell::new(Captured { logs: Vec::new(), counters: Vec::new() }) };
    }

    pub fn log(level: Level, message: &str) {
        CAPTURED.with(|c| c.borrow_mut().logs.push((level, message.to_owned())));
    }

    pub fn counter_add(name: &str, delta: u64) {
        CAPTURED.with(|c| c.borrow_mut().counters.push((name.to_owned(), delta)));
    }

    pub fn take() -> Captured {
        CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()))
    }
}
