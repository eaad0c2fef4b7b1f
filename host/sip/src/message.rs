//! SIP messages: a lenient reader and an exact writer.
//!
//! The reader takes what real devices send: compact header names (`v`, `f`, `t`, `i`, `m`,
//! `l`, `c`, `k`, `o`, `s`, …), any header-name case, folded header lines, several values in one
//! header line or the same header repeated, LF or CRLF line ends, extension methods such as
//! `SERVICE`, URI parameters whose values hold colons (`opaque=app:conf:focus:id:…`), `tel:`
//! Request-URIs, and on UDP a body without `Content-Length`. It refuses, with a typed
//! [`ParseError`], what cannot be a message: no request or status line, a broken header line,
//! a `Content-Length` that disagrees with the datagram, or anything over the size limits.
//!
//! The writer prints one canonical form: long header names, one header per line in the order
//! they were added, CRLF, and a `Content-Length` computed from the body.
//!
//! **Library choice.** The design card names rsip 0.4, which rejects `SERVICE`, breaks on
//! `opaque=app:conf:…` and ignores compact headers (toolchain.md §3, §7). This crate uses
//! `ezk-sip-types` 0.6 to read what it reads well — SIP URIs with their parameters, name-addr,
//! `Via` and digest credentials — and reads the message frame, methods, `CSeq` and `tel:` URIs
//! itself: ezk's method reader matches by prefix (`INFORM` would read as `INFO`, and methods
//! are case-sensitive), and it has no `tel:` URI. No message is rewritten before it is read.

use std::fmt::{self, Write as _};

use bytes::Bytes;

pub use ezk_sip_types::uri::SipUri;

/// Largest message the reader accepts (a UDP datagram cannot be larger; TCP messages are
/// capped the same way).
pub const MAX_MESSAGE: usize = 65_535;
/// Most header lines in one message.
pub const MAX_HEADERS: usize = 256;
/// Longest header line (after unfolding).
pub const MAX_HEADER_LINE: usize = 8192;

/// Why bytes are not a SIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The bytes end before the header block does.
    #[error("incomplete message: no end of the header block")]
    Incomplete,
    /// The first line is neither `METHOD URI SIP/2.0` nor `SIP/2.0 CODE REASON`.
    #[error("bad start line")]
    StartLine,
    /// A method that is not a token.
    #[error("bad method")]
    Method,
    /// The Request-URI is not a SIP, SIPS or tel URI.
    #[error("bad Request-URI")]
    RequestUri,
    /// A status code outside 100-699.
    #[error("bad status code")]
    StatusCode,
    /// A header line without `name:`.
    #[error("malformed header line")]
    HeaderLine,
    /// A header the message cannot do without is missing or unreadable.
    #[error("missing or malformed {0} header")]
    Header(&'static str),
    /// `Content-Length` is not a number, or says more than there is.
    #[error("bad Content-Length")]
    ContentLength,
    /// Over a size limit.
    #[error("message too large")]
    TooLarge,
    /// Not UTF-8 where text is required.
    #[error("message head is not UTF-8")]
    NotUtf8,
}

/// A SIP method. Methods are case-sensitive (RFC 3261 §7.1); anything else is an extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE.
    Invite,
    /// ACK.
    Ack,
    /// BYE.
    Bye,
    /// CANCEL.
    Cancel,
    /// OPTIONS.
    Options,
    /// INFO.
    Info,
    /// SUBSCRIBE.
    Subscribe,
    /// NOTIFY.
    Notify,
    /// UPDATE.
    Update,
    /// PRACK.
    Prack,
    /// MESSAGE.
    Message,
    /// REFER.
    Refer,
    /// REGISTER.
    Register,
    /// PUBLISH.
    Publish,
    /// SERVICE (Microsoft C3P).
    Service,
    /// BENOTIFY (Microsoft: a NOTIFY that expects no response).
    Benotify,
    /// Any other token.
    Extension(String),
}

const METHODS: &[(&str, Method)] = &[
    ("INVITE", Method::Invite),
    ("ACK", Method::Ack),
    ("BYE", Method::Bye),
    ("CANCEL", Method::Cancel),
    ("OPTIONS", Method::Options),
    ("INFO", Method::Info),
    ("SUBSCRIBE", Method::Subscribe),
    ("NOTIFY", Method::Notify),
    ("UPDATE", Method::Update),
    ("PRACK", Method::Prack),
    ("MESSAGE", Method::Message),
    ("REFER", Method::Refer),
    ("REGISTER", Method::Register),
    ("PUBLISH", Method::Publish),
    ("SERVICE", Method::Service),
    ("BENOTIFY", Method::Benotify),
];

impl Method {
    /// Read a method token (exact, case-sensitive).
    pub fn parse(token: &str) -> Result<Method, ParseError> {
        if token.is_empty() || !token.bytes().all(is_token) {
            return Err(ParseError::Method);
        }
        Ok(METHODS
            .iter()
            .find(|(name, _)| *name == token)
            .map_or_else(|| Method::Extension(token.to_owned()), |(_, m)| m.clone()))
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Extension(s) => s,
            known => METHODS
                .iter()
                .find(|(_, m)| m == known)
                .map_or("", |(name, _)| name),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 3261 `token` characters.
pub(crate) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// A `tel:` URI (RFC 3966): the number and its parameters, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri {
    /// The number, e.g. `+14255550100` or `5550100`.
    pub number: String,
    /// `;name=value` parameters after the number (e.g. `phone-context=…`).
    pub params: Vec<(String, Option<String>)>,
}

impl fmt::Display for TelUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tel:{}", self.number)?;
        for (k, v) in &self.params {
            match v {
                Some(v) => write!(f, ";{k}={v}")?,
                None => write!(f, ";{k}")?,
            }
        }
        Ok(())
    }
}

impl TelUri {
    /// Read `tel:NUMBER[;params]`.
    pub fn parse(s: &str) -> Option<TelUri> {
        let rest = s
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("tel:"))
            .and(s.get(4..))?;
        let mut parts = rest.split(';');
        let number = parts.next().filter(|n| !n.is_empty())?;
        let ok = |c: char| c.is_ascii_digit() || "+-.()*#ABCDabcdpw".contains(c);
        if !number.chars().all(ok) {
            return None;
        }
        let params = parts
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (p.to_owned(), None),
            })
            .collect();
        Some(TelUri {
            number: number.to_owned(),
            params,
        })
    }
}

/// A Request-URI: SIP, SIPS or tel.
#[derive(Debug, Clone)]
pub enum Uri {
    /// `sip:` or `sips:`.
    Sip(SipUri),
    /// `tel:`.
    Tel(TelUri),
}

impl Uri {
    /// Read a URI.
    pub fn parse(s: &str) -> Option<Uri> {
        if let Some(t) = TelUri::parse(s) {
            return Some(Uri::Tel(t));
        }
        let uri: SipUri = s.parse().ok()?;
        Some(Uri::Sip(uri))
    }

    /// The user part of a SIP URI, or the number of a tel URI.
    pub fn user(&self) -> Option<String> {
        match self {
            Uri::Tel(t) => Some(t.number.clone()),
            Uri::Sip(s) => match &s.user_part {
                ezk_sip_types::uri::SipUriUserPart::Empty => None,
                // ezk-sip-types has decoded the `%xx` escapes already.
                ezk_sip_types::uri::SipUriUserPart::User(u) => {
                    Some(AsRef::<str>::as_ref(u).to_owned())
                }
                ezk_sip_types::uri::SipUriUserPart::UserPw(up) => {
                    Some(AsRef::<str>::as_ref(&up.user).to_owned())
                }
            },
        }
    }

    /// A URI parameter (`;name=value` of a SIP URI, or of a tel URI).
    pub fn param(&self, name: &str) -> Option<Option<String>> {
        match self {
            Uri::Tel(t) => t
                .params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone()),
            Uri::Sip(s) => s
                .uri_params
                .get(name)
                .map(|p| p.value.as_ref().map(|v| v.to_string())),
        }
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(s) => print_sip_uri(s, f),
            Uri::Tel(t) => t.fmt(f),
        }
    }
}

/// RFC 3261 `user` characters that print unescaped (`unreserved` and `user-unreserved`).
const USER_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'&')
    .remove(b'=')
    .remove(b'+')
    .remove(b'$')
    .remove(b',')
    .remove(b';')
    .remove(b'?')
    .remove(b'/');

/// Print a SIP URI. ezk-sip-types decodes `%xx` in the user part when it reads but prints a
/// literal `%` unescaped, so `sip:%2554@h` would print as `sip:%54@h` and read back as
/// `sip:T@h` (found by the `message` fuzz target). When the user part holds a `%`, we print it
/// ourselves with `%` escaped.
fn print_sip_uri(s: &SipUri, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use ezk_sip_types::print::AppendCtx;
    use ezk_sip_types::uri::SipUriUserPart;
    let user = match &s.user_part {
        SipUriUserPart::User(u) => Some((AsRef::<str>::as_ref(u), None)),
        SipUriUserPart::UserPw(up) => Some((
            AsRef::<str>::as_ref(&up.user),
            Some(AsRef::<str>::as_ref(&up.password)),
        )),
        SipUriUserPart::Empty => None,
    };
    let Some((user, password)) = user.filter(|(u, _)| u.contains('%')) else {
        return write!(f, "{}", s.default_print_ctx());
    };
    let mut bare = s.clone();
    bare.user_part = SipUriUserPart::Empty;
    let printed = bare.default_print_ctx().to_string();
    let (scheme, rest) = printed.split_once(':').unwrap_or(("sip", &printed));
    write!(
        f,
        "{scheme}:{}",
        percent_encoding::utf8_percent_encode(user, USER_ESCAPES)
    )?;
    if let Some(pw) = password {
        write!(f, ":{pw}")?;
    }
    write!(f, "@{rest}")
}

/// A header name in canonical form. Compact forms and any case map to the long form; an
/// unknown name keeps its spelling.
#[derive(Debug, Clone)]
pub struct HeaderName(HeaderNameRepr);

#[derive(Debug, Clone)]
enum HeaderNameRepr {
    Known(&'static str),
    Other(String),
}

/// (canonical name, compact form)
const KNOWN_HEADERS: &[(&str, Option<&str>)] = &[
    ("Via", Some("v")),
    ("From", Some("f")),
    ("To", Some("t")),
    ("Call-ID", Some("i")),
    ("CSeq", None),
    ("Contact", Some("m")),
    ("Content-Length", Some("l")),
    ("Content-Type", Some("c")),
    ("Content-Encoding", Some("e")),
    ("Supported", Some("k")),
    ("Subject", Some("s")),
    ("Event", Some("o")),
    ("Allow-Events", Some("u")),
    ("Refer-To", Some("r")),
    ("Referred-By", Some("b")),
    ("Session-Expires", Some("x")),
    ("Accept-Contact", Some("a")),
    ("Max-Forwards", None),
    ("Route", None),
    ("Record-Route", None),
    ("Require", None),
    ("Proxy-Require", None),
    ("Unsupported", None),
    ("Allow", None),
    ("Accept", None),
    ("User-Agent", None),
    ("Server", None),
    ("Expires", None),
    ("Min-SE", None),
    ("Retry-After", None),
    ("Warning", None),
    ("Authorization", None),
    ("Proxy-Authorization", None),
    ("WWW-Authenticate", None),
    ("Proxy-Authenticate", None),
    ("Authentication-Info", None),
    ("Subscription-State", None),
    ("Reason", None),
    ("P-Asserted-Identity", None),
    ("Timestamp", None),
    ("Date", None),
    ("ms-diagnostics", None),
    ("ms-diagnostics-public", None),
];

impl HeaderName {
    /// A known header by its canonical name (must be in the table; used for constants).
    const fn known(name: &'static str) -> HeaderName {
        HeaderName(HeaderNameRepr::Known(name))
    }

    /// Read a header name as written (compact, any case).
    pub fn parse(s: &str) -> HeaderName {
        for (long, compact) in KNOWN_HEADERS {
            if long.eq_ignore_ascii_case(s) || compact.is_some_and(|c| c.eq_ignore_ascii_case(s)) {
                return HeaderName(HeaderNameRepr::Known(long));
            }
        }
        HeaderName(HeaderNameRepr::Other(s.to_owned()))
    }

    /// The canonical (long) name.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            HeaderNameRepr::Known(s) => s,
            HeaderNameRepr::Other(s) => s,
        }
    }

    /// `Via`.
    pub const VIA: HeaderName = HeaderName::known("Via");
    /// `From`.
    pub const FROM: HeaderName = HeaderName::known("From");
    /// `To`.
    pub const TO: HeaderName = HeaderName::known("To");
    /// `Call-ID`.
    pub const CALL_ID: HeaderName = HeaderName::known("Call-ID");
    /// `CSeq`.
    pub const CSEQ: HeaderName = HeaderName::known("CSeq");
    /// `Contact`.
    pub const CONTACT: HeaderName = HeaderName::known("Contact");
    /// `Content-Length`.
    pub const CONTENT_LENGTH: HeaderName = HeaderName::known("Content-Length");
    /// `Content-Type`.
    pub const CONTENT_TYPE: HeaderName = HeaderName::known("Content-Type");
    /// `Max-Forwards`.
    pub const MAX_FORWARDS: HeaderName = HeaderName::known("Max-Forwards");
    /// `Route`.
    pub const ROUTE: HeaderName = HeaderName::known("Route");
    /// `Record-Route`.
    pub const RECORD_ROUTE: HeaderName = HeaderName::known("Record-Route");
    /// `Supported`.
    pub const SUPPORTED: HeaderName = HeaderName::known("Supported");
    /// `Require`.
    pub const REQUIRE: HeaderName = HeaderName::known("Require");
    /// `Unsupported`.
    pub const UNSUPPORTED: HeaderName = HeaderName::known("Unsupported");
    /// `Allow`.
    pub const ALLOW: HeaderName = HeaderName::known("Allow");
    /// `Accept`.
    pub const ACCEPT: HeaderName = HeaderName::known("Accept");
    /// `Server`.
    pub const SERVER: HeaderName = HeaderName::known("Server");
    /// `User-Agent`.
    pub const USER_AGENT: HeaderName = HeaderName::known("User-Agent");
    /// `Expires`.
    pub const EXPIRES: HeaderName = HeaderName::known("Expires");
    /// `Session-Expires`.
    pub const SESSION_EXPIRES: HeaderName = HeaderName::known("Session-Expires");
    /// `Min-SE`.
    pub const MIN_SE: HeaderName = HeaderName::known("Min-SE");
    /// `Retry-After`.
    pub const RETRY_AFTER: HeaderName = HeaderName::known("Retry-After");
    /// `Warning`.
    pub const WARNING: HeaderName = HeaderName::known("Warning");
    /// `Authorization`.
    pub const AUTHORIZATION: HeaderName = HeaderName::known("Authorization");
    /// `Proxy-Authorization`.
    pub const PROXY_AUTHORIZATION: HeaderName = HeaderName::known("Proxy-Authorization");
    /// `WWW-Authenticate`.
    pub const WWW_AUTHENTICATE: HeaderName = HeaderName::known("WWW-Authenticate");
    /// `Proxy-Authenticate`.
    pub const PROXY_AUTHENTICATE: HeaderName = HeaderName::known("Proxy-Authenticate");
    /// `Event`.
    pub const EVENT: HeaderName = HeaderName::known("Event");
    /// `Allow-Events`.
    pub const ALLOW_EVENTS: HeaderName = HeaderName::known("Allow-Events");
    /// `Subscription-State`.
    pub const SUBSCRIPTION_STATE: HeaderName = HeaderName::known("Subscription-State");
    /// `Reason`.
    pub const REASON: HeaderName = HeaderName::known("Reason");
    /// `P-Asserted-Identity`.
    pub const P_ASSERTED_IDENTITY: HeaderName = HeaderName::known("P-Asserted-Identity");
    /// `ms-diagnostics`.
    pub const MS_DIAGNOSTICS: HeaderName = HeaderName::known("ms-diagnostics");
    /// `ms-diagnostics-public`.
    pub const MS_DIAGNOSTICS_PUBLIC: HeaderName = HeaderName::known("ms-diagnostics-public");
    /// `Timestamp`.
    pub const TIMESTAMP: HeaderName = HeaderName::known("Timestamp");
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &HeaderName) -> bool {
        match (&self.0, &other.0) {
            (HeaderNameRepr::Known(a), HeaderNameRepr::Known(b)) => std::ptr::eq(*a, *b) || a == b,
            _ => self.as_str().eq_ignore_ascii_case(other.as_str()),
        }
    }
}

impl Eq for HeaderName {}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Headers in the order they came (or were added). Repeated headers stay separate entries; a
/// line holding several comma-separated values of a list header stays one entry, and
/// [`Headers::values`] splits it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(HeaderName, String)>,
}

/// Headers whose values are comma-separated lists (so a line may carry several).
fn is_list_header(name: &HeaderName) -> bool {
    [
        HeaderName::VIA,
        HeaderName::CONTACT,
        HeaderName::ROUTE,
        HeaderName::RECORD_ROUTE,
        HeaderName::SUPPORTED,
        HeaderName::REQUIRE,
        HeaderName::UNSUPPORTED,
        HeaderName::ALLOW,
        HeaderName::ACCEPT,
        HeaderName::known("Proxy-Require"),
        HeaderName::known("Allow-Events"),
    ]
    .contains(name)
}

impl Headers {
    /// No headers.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Add a header at the end.
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.entries.push((name, value.into()));
    }

    /// Add a header before all others of any name.
    pub fn push_front(&mut self, name: HeaderName, value: impl Into<String>) {
        self.entries.insert(0, (name, value.into()));
    }

    /// The first value line of a header.
    pub fn get(&self, name: &HeaderName) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order; list headers split at top-level commas.
    pub fn values(&self, name: &HeaderName) -> impl Iterator<Item = &str> + '_ {
        let list = is_list_header(name);
        let name = name.clone();
        self.entries
            .iter()
            .filter(move |(n, _)| *n == name)
            .flat_map(move |(_, v)| {
                let parts: Vec<&str> = if list {
                    split_list(v)
                } else {
                    vec![v.as_str()]
                };
                parts.into_iter()
            })
    }

    /// Remove every line of a header.
    pub fn remove(&mut self, name: &HeaderName) {
        self.entries.retain(|(n, _)| n != name);
    }

    /// Replace every line of a header by one value.
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        match self.entries.iter().position(|(n, _)| *n == name) {
            Some(i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    e.1 = value.into();
                }
                let mut seen = 0;
                self.entries.retain(|(n, _)| {
                    let same = *n == name;
                    seen += usize::from(same);
                    !same || seen == 1
                });
            }
            None => self.push(name, value),
        }
    }

    /// Replace the first value of a (list) header, keeping the rest of its line.
    pub fn replace_first_value(&mut self, name: &HeaderName, value: &str) {
        let Some(entry) = self.entries.iter_mut().find(|(n, _)| n == name) else {
            return;
        };
        let rest: Vec<String> = split_list(&entry.1)
            .into_iter()
            .skip(1)
            .map(str::to_owned)
            .collect();
        let mut line = value.to_owned();
        for r in rest {
            line.push_str(", ");
            line.push_str(&r);
        }
        entry.1 = line;
    }

    /// Every (name, value line) in order.
    pub fn iter(&self) -> impl Iterator<Item = (&HeaderName, &str)> {
        self.entries.iter().map(|(n, v)| (n, v.as_str()))
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No header lines.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Split a list header value at commas that are not inside quotes or angle brackets.
pub(crate) fn split_list(v: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth_angle, mut quoted, mut escaped, mut start) = (0u32, false, false, 0);
    for (i, b) in v.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'<' if !quoted => depth_angle += 1,
            b'>' if !quoted => depth_angle = depth_angle.saturating_sub(1),
            b',' if !quoted && depth_angle == 0 => {
                out.extend(v.get(start..i).map(str::trim).filter(|s| !s.is_empty()));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.extend(v.get(start..).map(str::trim).filter(|s| !s.is_empty()));
    out
}

/// A SIP request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Request-URI.
    pub uri: Uri,
    /// Headers (Content-Length is recomputed when printing).
    pub headers: Headers,
    /// Body.
    pub body: Bytes,
}

/// A SIP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code, 100-699.
    pub code: u16,
    /// Reason phrase.
    pub reason: String,
    /// Headers (Content-Length is recomputed when printing).
    pub headers: Headers,
    /// Body.
    pub body: Bytes,
}

/// A request or a response.
#[derive(Debug, Clone)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// The headers.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    /// Print (the exact writer).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

/// How a body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A datagram: the body is the rest of it; `Content-Length`, when present, must not say
    /// more than there is and trims what follows (RFC 3261 §18.3).
    Datagram,
    /// A stream: `Content-Length` is required and says where the message ends.
    Stream,
}

/// Read one message from `bytes` (a whole datagram, or exactly one framed stream message).
pub fn parse(bytes: &[u8], framing: Framing) -> Result<Message, ParseError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(ParseError::TooLarge);
    }
    let head_end = find_head_end(bytes).ok_or(ParseError::Incomplete)?;
    let head = bytes.get(..head_end.start).ok_or(ParseError::Incomplete)?;
    let head = std::str::from_utf8(head).map_err(|_| ParseError::NotUtf8)?;
    let rest = bytes.get(head_end.end..).unwrap_or_default();
    let mut lines = unfolded_lines(head)?.into_iter();
    let start = lines.next().ok_or(ParseError::StartLine)?;
    let mut headers = Headers::new();
    for line in lines {
        if headers.len() >= MAX_HEADERS {
            return Err(ParseError::TooLarge);
        }
        let (name, value) = line.split_once(':').ok_or(ParseError::HeaderLine)?;
        let name = name.trim_end();
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(ParseError::HeaderLine);
        }
        headers.push(HeaderName::parse(name), value.trim());
    }
    let body = body(&headers, rest, framing)?;
    if let Some(status) = start.strip_prefix("SIP/2.0 ") {
        let (code, reason) = status.split_once(' ').unwrap_or((status, ""));
        let code: u16 = code.trim().parse().map_err(|_| ParseError::StatusCode)?;
        if !(100..=699).contains(&code) {
            return Err(ParseError::StatusCode);
        }
        return Ok(Message::Response(Response {
            code,
            reason: reason.trim().to_owned(),
            headers,
            body,
        }));
    }
    let mut parts = start.split(' ').filter(|s| !s.is_empty());
    let (Some(method), Some(uri), Some("SIP/2.0"), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::StartLine);
    };
    let method = Method::parse(method)?;
    let uri = Uri::parse(uri).ok_or(ParseError::RequestUri)?;
    Ok(Message::Request(Request {
        method,
        uri,
        headers,
        body,
    }))
}

/// Where the header block ends: the range of the blank line's terminator.
pub(crate) fn find_head_end(bytes: &[u8]) -> Option<std::ops::Range<usize>> {
    let crlf = memchr::memmem::find(bytes, b"\r\n\r\n").map(|i| i..i + 4);
    let lf = memchr::memmem::find(bytes, b"\n\n").map(|i| i..i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.start <= b.start { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Split the head into lines, joining folded continuation lines with one space, and skipping
/// blank lines before the start line (RFC 3261 §7.5).
fn unfolded_lines(head: &str) -> Result<Vec<String>, ParseError> {
    let mut out: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with([' ', '\t']) && !out.is_empty() {
            let last = out.last_mut().ok_or(ParseError::HeaderLine)?;
            last.push(' ');
            last.push_str(line.trim());
        } else if !line.is_empty() || !out.is_empty() {
            out.push(line.to_owned());
        }
        if out.last().is_some_and(|l| l.len() > MAX_HEADER_LINE) {
            return Err(ParseError::TooLarge);
        }
    }
    Ok(out)
}

fn body(headers: &Headers, rest: &[u8], framing: Framing) -> Result<Bytes, ParseError> {
    let declared = match headers.get(&HeaderName::CONTENT_LENGTH) {
        Some(v) => Some(
            v.trim()
                .parse::<usize>()
                .map_err(|_| ParseError::ContentLength)?,
        ),
        None => None,
    };
    match (framing, declared) {
        (Framing::Stream, None) => Err(ParseError::Header("Content-Length")),
        (_, Some(n)) if n > rest.len() => Err(ParseError::ContentLength),
        (_, Some(n)) => Ok(Bytes::copy_from_slice(rest.get(..n).unwrap_or_default())),
        (Framing::Datagram, None) => Ok(Bytes::copy_from_slice(rest)),
    }
}

fn write_headers(out: &mut String, headers: &Headers, body_len: usize) {
    for (name, value) in headers.iter() {
        if *name == HeaderName::CONTENT_LENGTH {
            continue;
        }
        let _ = write!(out, "{name}: {value}\r\n");
    }
    let _ = write!(out, "Content-Length: {body_len}\r\n\r\n");
}

impl Request {
    /// Print (the exact writer).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(512);
        let _ = write!(head, "{} {} SIP/2.0\r\n", self.method, self.uri);
        write_headers(&mut head, &self.headers, self.body.len());
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

impl Response {
    /// Print (the exact writer).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(512);
        let _ = write!(head, "SIP/2.0 {} {}\r\n", self.code, self.reason);
        write_headers(&mut head, &self.headers, self.body.len());
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// The standard reason phrase of a status code.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        603 => "Decline",
        _ => "Unknown",
    }
}
