//! SIP for Plenum, sans-IO (the str0m / quinn shape): messages, transactions and dialogs as
//! plain values fed with bytes and `now`, emitting bytes, timers and events. No sockets, no
//! tokio, no clock reads; the binary's I/O shell drives it.

pub mod auth;
pub mod compose;
pub mod dialog;
pub mod endpoint;
pub mod error;
pub mod headers;
pub mod message;
pub mod stream;
pub mod transaction;

pub use message::{
    Framing, HeaderName, Headers, Message, Method, ParseError, Request, Response, Uri,
};
