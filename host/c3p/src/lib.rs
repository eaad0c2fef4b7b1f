//! The codec for C3P (`application/cccp+xml`, Microsoft's Centralized Conference Control
//! Protocol as used by OCS 2007 R2's Focus Factory) and for RFC 4575 roster documents
//! (`application/conference-info+xml`).
//!
//! Pure: bytes in, typed values out, and back. No I/O, no clock (times are Unix seconds passed
//! in), no SIP (the SIP layer carries the bodies), no policy (whether a passcode is long enough
//! or a conference exists is the service's business; the codec only says what was sent).
//!
//! * [`Request::parse`] / [`Request::to_xml`], [`Response::parse`] / [`Response::to_xml`]: the
//!   envelope ([`envelope`]) and the Focus Factory commands ([`Command`], [`ResponseCommand`]):
//!   getConferencingCapabilities, getAvailableMcuTypes, addConference, getConference,
//!   modifyConference, deleteConference, getConferences.
//! * [`RequestError::answer`]: the one table from a bad request to its answer: a SIP error with
//!   an `ms-diagnostics` code ([`Diagnostic`]) or a C3P failure with a [`FailureReason`].
//! * [`roster`]: RFC 4575 full and partial documents, [`roster::diff`] and
//!   [`roster::ConferenceInfo::apply`].
//! * [`parse_date_time`] / [`format_date_time`]: xs:dateTime ↔ Unix seconds.
//!
//! **Lenient reader, exact writer.** Readers match elements and attributes by namespace URI and
//! local name (any prefix, default namespace or not), ignore what they do not need (unknown
//! elements, attributes, extension namespaces, comments), accept a BOM, CRLF and a missing
//! declaration, and are strict only about what a command needs. Nothing in them panics; every
//! problem is a typed error, and documents are bounded ([`MAX_DOCUMENT_BYTES`], depth, element
//! count, value length). Writers give one canonical byte sequence per value (fixed prefixes,
//! attribute order, two-space indentation), so golden files compare byte for byte.
//!
//! **Why quick-xml.** It is the well-kept, fast Rust XML tokenizer; its `NsReader` resolves
//! prefixes to namespace URIs (what the lenient reader needs), borrows from the input, rejects
//! malformed markup, and bounds namespace bindings itself. We use its tokenizer only: the tree
//! (`src/xml.rs`) and the writer are ours, small and exact.
//!
//! **Unconfirmed wire forms.** `msci:passcode` inside `msci:pstn-access` is our subset, not
//! confirmed as Microsoft's format (the OCS R2 client sends the passcode encrypted, in a form we
//! have not seen). The scheduling options of getConferencingCapabilities travel in Plenum's own
//! namespace ([`ns::PLENUM`]). See reference/c3p.md for what is documented and what is inferred.

pub mod capabilities;
pub mod command;
pub mod conference;
pub mod envelope;
pub mod error;
pub mod ns;
pub mod roster;
pub mod time;
mod xml;

pub use capabilities::{AccessNumber, Capabilities, PstnBridging, Region, SchedulingOptions};
pub use command::{Command, CommandName, ConferenceKey, ResponseCommand};
pub use conference::{AdmissionPolicy, ConfUri, Conference, McuType, Passcode, PstnAccess};
pub use envelope::{C3P_VERSION, CONTENT_TYPE, Code, Envelope, Outcome, Request, Response};
pub use error::{Answer, Diagnostic, FailureReason, ParseError, RequestError, UnknownReason};
pub use time::{TimeError, format_date_time, parse_date_time};
pub use xml::{MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_ELEMENTS, MAX_VALUE_BYTES};
