//! The conference core, sans-IO: plain values fed with messages, work results and `now`, that
//! emit messages, work for the I/O shell and timers. No sockets, no tokio, no database, no
//! plugin runtime: facts from the pool and plugin decisions arrive as work results.
//!
//! - [`switch`]: the SIP transaction user — who is calling, where the call goes, media
//!   negotiation, dialogs and their timers.
//! - [`attendant`]: the host side of a call's attendant plugin (prompts, digits, timers).
//! - [`focus`]: one meeting's participants, admission questions and roster.
//! - [`media`]: the orders for the media engine and what it reports.
//! - [`focus_factory`]: the C3P Focus Factory service (meeting scheduling over SERVICE).
//! - [`directory`]: the pool facts the switch keeps at hand (gateways, tenant domains).

pub mod attendant;
pub mod directory;
pub mod focus;
pub mod focus_factory;
pub mod media;
pub mod switch;
