//! The C3P envelope: `<request>` and `<response>` roots with `requestId`, `from`, `to`,
//! `C3PVersion` and, on responses, `code` (reference/c3p.md §1.3–§1.4).
//!
//! Reading is strict only about what a command needs: the root element in the C3P namespace,
//! `requestId` (a non-negative integer), non-empty `from` and `to`, and exactly one child in the
//! C3P namespace (children in other namespaces are extensions and are ignored). Writing always
//! gives the same bytes for the same value: our declaration, the default namespace plus the
//! `mscp`, `msci` and `ci` prefixes on the root, attributes in a fixed order.

use crate::command::{Command, CommandName, ResponseCommand};
use crate::error::{FailureReason, ParseError, RequestError, excerpt};
use crate::ns::{self, Ns, Vocab};
use crate::xml::{self, Element, Writer};

/// The MIME type of a C3P body.
pub const CONTENT_TYPE: &str = "application/cccp+xml";

/// The C3P version this codec speaks and writes on responses.
pub const C3P_VERSION: &str = "1";

/// The envelope of a request, without its command: what a response needs to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `requestId`.
    pub request_id: u64,
    /// `from`: the organizer URI.
    pub from: String,
    /// `to`: the Focus Factory (or focus) URI.
    pub to: String,
    /// `C3PVersion`, as sent.
    pub c3p_version: Option<String>,
}

/// A C3P request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `requestId`: unique among the sender's requests.
    pub request_id: u64,
    /// `from`: for Focus Factory commands, the organizer URI.
    pub from: String,
    /// `to`: the Focus Factory URI (`…;gruu;opaque=app:conf:focusfactory`) or a focus URI.
    pub to: String,
    /// `C3PVersion`: `"1"` when present.
    pub c3p_version: Option<String>,
    /// The command.
    pub command: Command,
}

impl Request {
    /// Read a request body. See [`RequestError::answer`] for what to send back on error.
    pub fn parse(body: &[u8]) -> Result<Request, RequestError> {
        let root = xml::parse(body).map_err(RequestError::Malformed)?;
        let envelope = read_envelope(&root, "request").map_err(RequestError::Malformed)?;
        let el = command_element(&root).map_err(RequestError::Malformed)?;
        let Some(name) = CommandName::from_wire(&el.name) else {
            return Err(RequestError::UnknownCommand {
                envelope,
                name: excerpt(&el.name, 64),
            });
        };
        match Command::read(name, el) {
            Ok(command) => Ok(Request::new(envelope, command)),
            Err(invalid) => Err(RequestError::Invalid {
                envelope,
                command: name,
                reason: invalid.reason,
                what: invalid.what,
            }),
        }
    }

    /// A request with this envelope and command.
    pub fn new(envelope: Envelope, command: Command) -> Request {
        Request {
            request_id: envelope.request_id,
            from: envelope.from,
            to: envelope.to,
            c3p_version: envelope.c3p_version,
            command,
        }
    }

    /// The envelope, to build a response with [`Response::success`] or [`Response::failure`].
    pub fn envelope(&self) -> Envelope {
        Envelope {
            request_id: self.request_id,
            from: self.from.clone(),
            to: self.to.clone(),
            c3p_version: self.c3p_version.clone(),
        }
    }

    /// The canonical XML.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new();
        open_root(
            &mut w,
            "request",
            self.c3p_version.as_deref(),
            self.request_id,
            &self.from,
            &self.to,
            None,
        );
        self.command.write(&mut w);
        w.close("request");
        w.finish()
    }
}

/// The `code` of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `success`.
    Success,
    /// `failure`.
    Failure,
}

impl Code {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Success => "success",
            Code::Failure => "failure",
        }
    }
}

/// What a response says: the command's result, or why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per response, never stored in bulk
pub enum Outcome {
    /// `code="success"` with the command's body.
    Success(ResponseCommand),
    /// `code="failure"`: `<command reason="…"/>`.
    Failure {
        /// The command that failed.
        command: CommandName,
        /// Why (the `reason` attribute on the command element).
        reason: FailureReason,
    },
}

/// A C3P response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `requestId`: the request's.
    pub request_id: u64,
    /// `from`: the request's `to`.
    pub from: String,
    /// `to`: the request's `from`.
    pub to: String,
    /// `C3PVersion`.
    pub c3p_version: Option<String>,
    /// Success with a body, or failure with a reason.
    pub outcome: Outcome,
}

impl Response {
    /// The success response to the request with `envelope` (`from` and `to` swapped).
    pub fn success(envelope: &Envelope, command: ResponseCommand) -> Response {
        Response::answer(envelope, Outcome::Success(command))
    }

    /// The failure response to the request with `envelope` (`from` and `to` swapped).
    pub fn failure(envelope: &Envelope, command: CommandName, reason: FailureReason) -> Response {
        Response::answer(envelope, Outcome::Failure { command, reason })
    }

    fn answer(envelope: &Envelope, outcome: Outcome) -> Response {
        Response {
            request_id: envelope.request_id,
            from: envelope.to.clone(),
            to: envelope.from.clone(),
            c3p_version: Some(C3P_VERSION.to_owned()),
            outcome,
        }
    }

    /// `success` or `failure`.
    pub fn code(&self) -> Code {
        match self.outcome {
            Outcome::Success(_) => Code::Success,
            Outcome::Failure { .. } => Code::Failure,
        }
    }

    /// The command answered.
    pub fn command_name(&self) -> CommandName {
        match &self.outcome {
            Outcome::Success(c) => c.name(),
            Outcome::Failure { command, .. } => *command,
        }
    }

    /// Read a response body (client side). An unknown `reason` reads as
    /// [`FailureReason::OtherFailure`].
    pub fn parse(body: &[u8]) -> Result<Response, ParseError> {
        let root = xml::parse(body)?;
        let envelope = read_envelope(&root, "response")?;
        let code = match root.attr("code").map(str::trim) {
            Some("success") => Code::Success,
            Some("failure") => Code::Failure,
            Some(_) => return Err(ParseError::InvalidAttribute { name: "code" }),
            None => return Err(ParseError::MissingAttribute { name: "code" }),
        };
        let el = command_element(&root)?;
        let command = CommandName::from_wire(&el.name)
            .ok_or_else(|| ParseError::UnknownCommand(excerpt(&el.name, 64)))?;
        let outcome = match code {
            Code::Failure => Outcome::Failure {
                command,
                reason: el
                    .attr("reason")
                    .and_then(|r| r.trim().parse().ok())
                    .unwrap_or(FailureReason::OtherFailure),
            },
            Code::Success => Outcome::Success(
                ResponseCommand::read(command, el)
                    .map_err(|invalid| ParseError::InvalidValue { what: invalid.what })?,
            ),
        };
        Ok(Response {
            request_id: envelope.request_id,
            from: envelope.from,
            to: envelope.to,
            c3p_version: envelope.c3p_version,
            outcome,
        })
    }

    /// The canonical XML.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new();
        open_root(
            &mut w,
            "response",
            self.c3p_version.as_deref(),
            self.request_id,
            &self.from,
            &self.to,
            Some(self.code()),
        );
        match &self.outcome {
            Outcome::Success(command) => command.write(&mut w),
            Outcome::Failure { command, reason } => {
                w.empty(command.as_str(), &[("reason", Some(reason.as_str()))]);
            }
        }
        w.close("response");
        w.finish()
    }
}

fn open_root(
    w: &mut Writer,
    name: &str,
    c3p_version: Option<&str>,
    request_id: u64,
    from: &str,
    to: &str,
    code: Option<Code>,
) {
    let request_id = request_id.to_string();
    w.open(
        name,
        &[
            ("xmlns", Some(ns::CCCP)),
            ("xmlns:mscp", Some(ns::MSCP)),
            ("xmlns:msci", Some(ns::MSCI)),
            ("xmlns:ci", Some(ns::CI)),
            ("C3PVersion", c3p_version),
            ("requestId", Some(&request_id)),
            ("from", Some(from)),
            ("to", Some(to)),
            ("code", code.map(Code::as_str)),
        ],
    );
}

fn read_envelope(root: &Element, expected: &'static str) -> Result<Envelope, ParseError> {
    if root.ns != Ns::Cccp || root.name != expected {
        return Err(ParseError::WrongRoot {
            expected,
            found: excerpt(&root.name, 64),
        });
    }
    let required = |name: &'static str| {
        root.attr(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or(ParseError::MissingAttribute { name })
    };
    let request_id = required("requestId")?
        .parse()
        .map_err(|_| ParseError::InvalidAttribute { name: "requestId" })?;
    Ok(Envelope {
        request_id,
        from: required("from")?.to_owned(),
        to: required("to")?.to_owned(),
        c3p_version: root.attr("C3PVersion").map(str::to_owned),
    })
}

/// The one child in the C3P namespace.
fn command_element(root: &Element) -> Result<&Element, ParseError> {
    let mut commands = root.children().filter(|c| Vocab::Cccp.admits(c.ns));
    let first = commands.next().ok_or(ParseError::NoCommand)?;
    match commands.next() {
        Some(_) => Err(ParseError::MultipleCommands),
        None => Ok(first),
    }
}
