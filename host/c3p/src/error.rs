//! Errors and their wire forms: why a document does not parse ([`ParseError`]), why a C3P
//! request cannot be served ([`RequestError`]), the C3P failure reasons ([`FailureReason`]) and
//! the SIP-level `ms-diagnostics` codes ([`Diagnostic`]).
//!
//! The one table that maps a [`RequestError`] to its answer is [`RequestError::answer`].

use std::fmt;
use std::str::FromStr;

use crate::command::CommandName;
use crate::envelope::{Envelope, Response};

/// Why bytes are not a usable C3P or conference-info document. Every variant is the sender's
/// fault; none carries the document's text beyond a bounded excerpt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The body is empty or holds no element.
    #[error("empty document")]
    Empty,
    /// The body is larger than the reader accepts.
    #[error("document larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not UTF-8 (C3P and RFC 4575 bodies are UTF-8).
    #[error("document is not UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// The XML is not well-formed.
    #[error("XML syntax error at byte {offset}: {detail}")]
    Syntax {
        /// Byte offset where the reader stopped.
        offset: u64,
        /// What the XML reader reported, cut to a few hundred characters.
        detail: String,
    },
    /// The document ends inside an element.
    #[error("document ends inside an element")]
    Truncated,
    /// Elements nest deeper than the reader accepts.
    #[error("elements nest deeper than {limit}")]
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
    /// The document has more elements than the reader accepts.
    #[error("more than {limit} elements")]
    TooManyElements {
        /// The element limit.
        limit: usize,
    },
    /// An attribute value or an element's text is longer than the reader accepts.
    #[error("attribute value or text longer than {limit} bytes")]
    ValueTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// A character XML 1.0 cannot carry (a control character), raw or as a reference.
    #[error("character U+{code_point:04X} not allowed in XML")]
    IllegalCharacter {
        /// The character's code point.
        code_point: u32,
    },
    /// An entity reference other than the five predefined ones and character references.
    #[error("unsupported entity reference")]
    UnsupportedEntity,
    /// The root element is not the one the document type needs.
    #[error("root element is `{found}`, expected `{expected}`")]
    WrongRoot {
        /// The expected root (local name in its namespace).
        expected: &'static str,
        /// The local name found (cut to 64 characters).
        found: String,
    },
    /// A mandatory attribute is missing or empty.
    #[error("missing attribute `{name}`")]
    MissingAttribute {
        /// The attribute's name.
        name: &'static str,
    },
    /// An attribute has a value of the wrong form.
    #[error("invalid value of attribute `{name}`")]
    InvalidAttribute {
        /// The attribute's name.
        name: &'static str,
    },
    /// The root has no command element.
    #[error("no command element")]
    NoCommand,
    /// The root has more than one command element.
    #[error("more than one command element")]
    MultipleCommands,
    /// The command element is not one this codec knows.
    #[error("unknown command `{0}`")]
    UnknownCommand(String),
    /// A mandatory element is missing or has a value of the wrong form.
    #[error("missing or invalid `{what}`")]
    InvalidValue {
        /// The element or attribute, as a path such as `conference-info/@version`.
        what: &'static str,
    },
}

/// Why a C3P request cannot be served. Each variant maps to exactly one answer (see
/// [`RequestError::answer`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Not a C3P request at all (or no usable envelope): answered at the SIP level, usually with
    /// `ms-diagnostics: 3006` (3000/3001 when `from`/`to` is missing).
    #[error("malformed C3P request: {0}")]
    Malformed(#[source] ParseError),
    /// A well-formed request whose command this codec does not implement (for example a focus
    /// command such as `addUser` sent to the Focus Factory): `ms-diagnostics-public: 3004`.
    #[error("C3P command `{name}` not implemented")]
    UnknownCommand {
        /// The request's envelope.
        envelope: Envelope,
        /// The command element's local name (cut to 64 characters).
        name: String,
    },
    /// A known command whose content is unusable: answered with a C3P failure response.
    #[error("invalid `{what}` in C3P {command} request ({reason})")]
    Invalid {
        /// The request's envelope.
        envelope: Envelope,
        /// The command.
        command: CommandName,
        /// The failure reason to answer with.
        reason: FailureReason,
        /// The offending element or attribute, as a path.
        what: &'static str,
    },
}

/// How the service answers a [`RequestError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// A SIP error response carrying this diagnostic (status code chosen by the SIP layer,
    /// normally 400 for 3000–3006 and 501 for 3004).
    Sip(Diagnostic),
    /// A SIP 200 OK whose body is this C3P failure response.
    C3p(Box<Response>),
}

impl RequestError {
    /// The one table of answers: malformed → SIP error with ms-diagnostics, unknown command →
    /// 3004, invalid content → C3P failure with the reason.
    pub fn answer(&self) -> Answer {
        match self {
            RequestError::Malformed(ParseError::MissingAttribute { name: "from" }) => {
                Answer::Sip(Diagnostic::BadFrom)
            }
            RequestError::Malformed(ParseError::MissingAttribute { name: "to" }) => {
                Answer::Sip(Diagnostic::BadTo)
            }
            RequestError::Malformed(_) => Answer::Sip(Diagnostic::ParseFailure),
            RequestError::UnknownCommand { .. } => Answer::Sip(Diagnostic::CommandNotImplemented),
            RequestError::Invalid {
                envelope,
                command,
                reason,
                ..
            } => Answer::C3p(Box::new(Response::failure(envelope, *command, *reason))),
        }
    }
}

macro_rules! failure_reasons {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)*) => {
        /// A C3P failure reason: the `reason` attribute on the command element of a
        /// `code="failure"` response. Names are the UCMA `CommandFailureReasons` members in
        /// lowerCamelCase (only `otherFailure` is confirmed on the wire; the casing of the rest
        /// follows it, reference/c3p.md §1.5).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum FailureReason {
            $($(#[$doc])* $variant,)*
        }

        impl FailureReason {
            /// Every reason, in wire-name order.
            pub const ALL: &'static [FailureReason] = &[$(FailureReason::$variant,)*];

            /// The lowerCamelCase wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FailureReason::$variant => $wire,)*
                }
            }
        }

        impl FromStr for FailureReason {
            type Err = UnknownReason;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok(FailureReason::$variant),)*
                    _ => Err(UnknownReason),
                }
            }
        }
    };
}

failure_reasons! {
    /// An anonymous security association is already established.
    AnonymousSecurityAssociationAlreadyEstablished = "anonymousSecurityAssociationAlreadyEstablished",
    /// Anonymous users are not allowed.
    AnonymousUsersNotAllowed = "anonymousUsersNotAllowed",
    /// Another recording is in progress.
    AnotherRecordingInProgress = "anotherRecordingInProgress",
    /// No such conference (for this organizer).
    ConferenceDoesNotExist = "conferenceDoesNotExist",
    /// The conference already exists.
    ConferenceExists = "conferenceExists",
    /// No such endpoint.
    EndpointDoesNotExist = "endpointDoesNotExist",
    /// Entity settings are too large.
    EntitySettingsTooLarge = "entitySettingsTooLarge",
    /// Federated users are not allowed.
    FederatedUsersNotAllowed = "federatedUsersNotAllowed",
    /// Forbidden.
    Forbidden = "forbidden",
    /// The admission policy is unknown or not allowed.
    InvalidAdmissionPolicy = "invalidAdmissionPolicy",
    /// The auto-promote value is invalid.
    InvalidAutomaticPromoteValue = "invalidAutomaticPromoteValue",
    /// The conference ID is malformed or taken.
    InvalidConferenceId = "invalidConferenceId",
    /// The encryption key is invalid.
    InvalidEncryptionKey = "invalidEncryptionKey",
    /// An invalid encryption key was used.
    InvalidEncryptionKeyUsed = "invalidEncryptionKeyUsed",
    /// The expiry time is malformed or out of range.
    InvalidExpiryTime = "invalidExpiryTime",
    /// The passcode does not meet the policy.
    InvalidPasscode = "invalidPasscode",
    /// The role is invalid.
    InvalidRole = "invalidRole",
    /// The static-meeting request is invalid.
    InvalidStaticMeetingRequest = "invalidStaticMeetingRequest",
    /// The user entity is invalid.
    InvalidUserEntity = "invalidUserEntity",
    /// The version (revision) is stale: the optimistic lock of modifyConference failed.
    InvalidVersion = "invalidVersion",
    /// The organizer has too many conferences.
    MaximumConferencesExceeded = "maximumConferencesExceeded",
    /// The meeting is full.
    MaximumMeetingSizeExceeded = "maximumMeetingSizeExceeded",
    /// Too many static meetings.
    MaximumStaticMeetingsExceeded = "maximumStaticMeetingsExceeded",
    /// The MCU type is not available.
    McuTypeNotAvailable = "mcuTypeNotAvailable",
    /// No such media.
    MediaDoesNotExist = "mediaDoesNotExist",
    /// The media exists already.
    MediaExists = "mediaExists",
    /// The media is not supported.
    MediaNotSupported = "mediaNotSupported",
    /// Notification data too large.
    NotificationDataTooLarge = "notificationDataTooLarge",
    /// The request is understood but not supported here.
    NotSupported = "notSupported",
    /// Organizer roaming data too large.
    OrganizerRoamingDataTooLarge = "organizerRoamingDataTooLarge",
    /// Any other failure; not to be used when another reason fits.
    OtherFailure = "otherFailure",
    /// PSTN lobby bypass is not allowed by policy.
    PstnLobbyBypassNotAllowed = "pstnLobbyBypassNotAllowed",
    /// A recording is already paused.
    RecordingAlreadyPaused = "recordingAlreadyPaused",
    /// No such recording.
    RecordingDoesNotExist = "recordingDoesNotExist",
    /// The recording exists already.
    RecordingExists = "recordingExists",
    /// The recording is not paused.
    RecordingNotPaused = "recordingNotPaused",
    /// The request was cancelled.
    RequestCancelled = "requestCancelled",
    /// The command's content is malformed.
    RequestMalformed = "requestMalformed",
    /// The request is too large.
    RequestTooLarge = "requestTooLarge",
    /// The server is overloaded.
    ServerBusy = "serverBusy",
    /// No such sidebar.
    SidebarDoesNotExist = "sidebarDoesNotExist",
    /// The sidebar exists already.
    SidebarExists = "sidebarExists",
    /// No such source sidebar.
    SourceSidebarDoesNotExist = "sourceSidebarDoesNotExist",
    /// The encryption key is stale.
    StaleEncryptionKey = "staleEncryptionKey",
    /// The static flag does not match.
    StaticFlagDoesNotMatch = "staticFlagDoesNotMatch",
    /// No such target sidebar.
    TargetSidebarDoesNotExist = "targetSidebarDoesNotExist",
    /// Timed out.
    Timeout = "timeout",
    /// The sender may not do this.
    Unauthorized = "unauthorized",
    /// Unknown MCU type.
    UnknownMcuType = "unknownMcuType",
    /// Unknown recorded media type.
    UnknownRecordedMediaType = "unknownRecordedMediaType",
    /// The user is busy.
    UserBusy = "userBusy",
    /// The user declined.
    UserDeclined = "userDeclined",
    /// The user was denied.
    UserDenied = "userDenied",
    /// No such user.
    UserDoesNotExist = "userDoesNotExist",
    /// The user exists already.
    UserExists = "userExists",
    /// The user did not answer.
    UserNotAnswered = "userNotAnswered",
    /// The user is not in the source sidebar.
    UserNotInSourcesSidebar = "userNotInSourcesSidebar",
    /// The user was removed.
    UserRemoved = "userRemoved",
    /// The user is unknown.
    UserUnknown = "userUnknown",
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure reason name this codec does not know. Readers map it to
/// [`FailureReason::OtherFailure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown C3P failure reason")]
pub struct UnknownReason;

macro_rules! diagnostics {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $text:literal,)*) => {
        /// An `ms-diagnostics` error of the conferencing range (3000–3023), sent in a SIP error
        /// response when a C3P request cannot even be turned into a C3P response
        /// (MS-OCER §8.4, reference/c3p.md §1.5). The texts are ours, close to Microsoft's.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Diagnostic {
            $($(#[$doc])* $variant,)*
        }

        impl Diagnostic {
            /// Every diagnostic, by code.
            pub const ALL: &'static [Diagnostic] = &[$(Diagnostic::$variant,)*];

            /// The numeric ErrorId.
            pub fn code(self) -> u16 {
                match self {
                    $(Diagnostic::$variant => $code,)*
                }
            }

            /// The reason text for the header's `reason` parameter.
            pub fn text(self) -> &'static str {
                match self {
                    $(Diagnostic::$variant => $text,)*
                }
            }

            /// The diagnostic with this code, if it is one of ours.
            pub fn from_code(code: u16) -> Option<Diagnostic> {
                match code {
                    $($code => Some(Diagnostic::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

diagnostics! {
    /// The C3P `from` is missing or wrong.
    BadFrom = 3000, "Bad From in C3P request",
    /// The C3P `to` is missing or wrong.
    BadTo = 3001, "Bad To in C3P request",
    /// The target user is invalid.
    InvalidTargetUser = 3002, "Invalid target user",
    /// The conference entity of the request is invalid.
    InvalidConferenceEntity = 3003, "Conference entity in C3P request is invalid",
    /// The command is not implemented (sent as `ms-diagnostics-public`).
    CommandNotImplemented = 3004, "C3P command not implemented",
    /// The request cannot target an MCU.
    CannotTargetMcu = 3005, "Request cannot target an MCU",
    /// The body could not be parsed.
    ParseFailure = 3006, "Failed to parse C3P request",
    /// The addUser blob is invalid.
    AddUserBlobInvalid = 3007, "addUser C3P blob invalid",
    /// The access or authentication method is not acceptable.
    MethodNotAcceptable = 3008, "Access or auth method in C3P request not acceptable",
    /// The endpoint entity is malformed.
    MalformedEndpointEntity = 3009, "Malformed endpoint entity",
    /// The request lacks the Session-Timer extension.
    NoSessionTimer = 3010, "Request without Session-Timer extension",
    /// The Ms-Mcu-Contact header could not be processed.
    BadMcuContact = 3011, "Failed to process Ms-Mcu-Contact header",
    /// The conference URI is invalid.
    InvalidConferenceUri = 3012, "Invalid conference URI",
    /// The MCU URI is invalid.
    InvalidMcuUri = 3013, "Invalid MCU URI",
    /// Authorization failed.
    AuthorizationFailed = 3014, "Authorization failed",
    /// Attendees may not dial out to third parties in this meeting.
    DialOutNotAllowed = 3015, "Meeting does not allow dial-out by attendees",
    /// The role given is invalid.
    InvalidRole = 3016, "Supplied role is invalid",
    /// Attendees may not dial out to unknown presenters.
    UnknownPresenterDialOut = 3017, "Dial-out to unknown presenter not allowed",
    /// Not exactly one joining method.
    JoiningMethods = 3018, "Exactly one joining method must be given",
    /// Forbidden destination for an anonymous user.
    AnonymousForbiddenDestination = 3019, "Forbidden destination for anonymous user",
    /// Anonymous user targeting a URI that is neither focus nor MCU.
    AnonymousNotConferenceUri = 3020, "Anonymous user targeting non-focus or non-MCU URI",
    /// The destination is not a conference URI; anonymous users are not authorized.
    AnonymousNotAuthorized = 3021, "Destination not a conference URI; anonymous not authorized",
    /// Anonymous user targeting a server without focus.
    AnonymousNoFocus = 3022, "Anonymous user targeting server without focus",
    /// Anonymous user targeting another forbidden destination.
    AnonymousOther = 3023, "Anonymous user request not allowed",
}

impl Diagnostic {
    /// The header that carries it: `ms-diagnostics-public` for 3004 (clients outside the
    /// enterprise see it), `ms-diagnostics` otherwise.
    pub fn header_name(self) -> &'static str {
        match self {
            Diagnostic::CommandNotImplemented => "ms-diagnostics-public",
            _ => "ms-diagnostics",
        }
    }

    /// The header value, e.g. `3006;reason="Failed to parse C3P request"`.
    pub fn header_value(self) -> String {
        format!("{};reason=\"{}\"", self.code(), self.text())
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.text())
    }
}

/// Cut a wire string for an error message: at most `max` characters.
pub(crate) fn excerpt(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
