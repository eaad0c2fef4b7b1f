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

/// What a native build logged on this thread since the last call: log lines, then counters.
pub fn take_captured() -> (Vec<(Level, String)>, Vec<(String, u64)>) {
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

    pub fn take() -> (Vec<(Level, String)>, Vec<(String, u64)>) {
        (Vec::new(), Vec::new())
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::Level;
    use std::cell::RefCell;

    type Captured = (Vec<(Level, String)>, Vec<(String, u64)>);

    thread_local! {
        static CAPTURED: RefCell<Captured> = const { RefCell::new((Vec::new(), Vec::new())) };
    }

    pub fn log(level: Level, message: &str) {
        CAPTURED.with(|c| c.borrow_mut().0.push((level, message.to_owned())));
    }

    pub fn counter_add(name: &str, delta: u64) {
        CAPTURED.with(|c| c.borrow_mut().1.push((name.to_owned(), delta)));
    }

    pub fn take() -> Captured {
        CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()))
    }
}
