//! Typed views of the headers the transaction and dialog layers need: `Via`, `CSeq`,
//! `Call-ID`, `From`/`To` (name-addr with tag), `Contact`, `Route`/`Record-Route`,
//! `Max-Forwards`. Each reads a header value as received, leniently, and prints exactly.

use std::fmt;
use std::net::IpAddr;

use crate::message::{HeaderName, Headers, Method, ParseError, Uri, split_list};

/// One `Via` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport (`UDP`, `TCP`, `TLS`, ...), upper-cased.
    pub transport: String,
    /// The sent-by host (an IPv6 address without brackets).
    pub host: String,
    /// The sent-by port.
    pub port: Option<u16>,
    /// Parameters in order (`branch`, `received`, `rport`, ...).
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    /// Read one Via value.
    pub fn parse(value: &str) -> Result<Via, ParseError> {
        let bad = ParseError::Header("Via");
        let value = value.trim();
        let (proto, rest) = value.split_once(char::is_whitespace).ok_or(bad.clone())?;
        let mut p = proto.split('/').map(str::trim);
        let (Some(name), Some(version), Some(transport), None) =
            (p.next(), p.next(), p.next(), p.next())
        else {
            return Err(bad);
        };
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" || transport.is_empty() {
            return Err(bad);
        }
        let mut parts = rest.trim().split(';');
        let sent_by = parts
            .next()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(bad.clone())?;
        let (host, port) = split_host_port(sent_by).ok_or(bad)?;
        let params = parts.map(parse_param).collect();
        Ok(Via {
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            params,
        })
    }

    /// A parameter's value (`Some(None)` for a flag).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// The `branch`.
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    /// Set or add a parameter.
    pub fn set_param(&mut self, name: &str, value: Option<String>) {
        match self
            .params
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(p) => p.1 = value,
            None => self.params.push((name.to_owned(), value)),
        }
    }

    /// The sent-by as `host[:port]`, IPv6 in brackets.
    pub fn sent_by(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.sent_by())?;
        write_params(f, &self.params)
    }
}

fn write_params(f: &mut fmt::Formatter<'_>, params: &[(String, Option<String>)]) -> fmt::Result {
    for (k, v) in params {
        match v {
            Some(v) => write!(f, ";{k}={v}")?,
            None => write!(f, ";{k}")?,
        }
    }
    Ok(())
}

fn parse_param(p: &str) -> (String, Option<String>) {
    match p.split_once('=') {
        Some((k, v)) => (
            k.trim().to_owned(),
            Some(v.trim().trim_matches('"').to_owned()),
        ),
        None => (p.trim().to_owned(), None),
    }
}

/// `host[:port]` (IPv6 in brackets) → (host, port).
pub fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_owned(), Some(p.parse().ok()?))),
        Some(_) => None,
        None => Some((s.to_owned(), None)),
    }
    .filter(|(h, _)| !h.is_empty())
}

/// `CSeq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number.
    pub number: u32,
    /// The method.
    pub method: Method,
}

impl CSeq {
    /// Read a CSeq value.
    pub fn parse(value: &str) -> Result<CSeq, ParseError> {
        let mut parts = value.split_whitespace();
        let (Some(n), Some(m), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ParseError::Header("CSeq"));
        };
        let number = n.parse().map_err(|_| ParseError::Header("CSeq"))?;
        Ok(CSeq {
            number,
            method: Method::parse(m).map_err(|_| ParseError::Header("CSeq"))?,
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.number, self.method)
    }
}

/// A name-addr or addr-spec with header parameters: `From`, `To`, `Contact`, `Route`, ...
#[derive(Debug, Clone)]
pub struct NameAddr {
    /// Display name, unquoted.
    pub display: Option<String>,
    /// The URI.
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `+sip.instance`, ...).
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// Read a name-addr / addr-spec with parameters.
    pub fn parse(value: &str, header: &'static str) -> Result<NameAddr, ParseError> {
        let bad = || ParseError::Header(header);
        let v = value.trim();
        let (display, uri_text, rest) = if let Some(lt) = find_unquoted(v, b'<') {
            let display = v
                .get(..lt)
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(unquote);
            let after = v.get(lt + 1..).ok_or_else(bad)?;
            let gt = after.find('>').ok_or_else(bad)?;
            (
                display,
                after.get(..gt).ok_or_else(bad)?,
                after.get(gt + 1..).unwrap_or_default(),
            )
        } else {
            // addr-spec: the URI ends at the first `;` (what follows are header parameters).
            match v.find(';') {
                Some(i) => (
                    None,
                    v.get(..i).ok_or_else(bad)?,
                    v.get(i..).unwrap_or_default(),
                ),
                None => (None, v, ""),
            }
        };
        let uri = Uri::parse(uri_text.trim()).ok_or_else(bad)?;
        let params = rest
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(parse_param)
            .collect();
        Ok(NameAddr {
            display,
            uri,
            params,
        })
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// The `tag`.
    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    /// A name-addr for `uri` with no display name or parameters.
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display: None,
            uri,
            params: Vec::new(),
        }
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "\"{}\" ", d.replace('\\', "\\\\").replace('"', "\\\""))?;
        }
        write!(f, "<{}>", self.uri)?;
        write_params(f, &self.params)
    }
}

fn find_unquoted(s: &str, needle: u8) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if b == needle && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    match s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => s.to_owned(),
    }
}

/// Typed access to the headers every SIP message must have.
pub trait SipHeaders {
    /// The headers.
    fn sip_headers(&self) -> &Headers;

    /// The topmost Via.
    fn top_via(&self) -> Result<Via, ParseError> {
        let v = self
            .sip_headers()
            .values(&HeaderName::VIA)
            .next()
            .ok_or(ParseError::Header("Via"))?;
        Via::parse(v)
    }

    /// Every Via, top first.
    fn vias(&self) -> Result<Vec<Via>, ParseError> {
        self.sip_headers()
            .values(&HeaderName::VIA)
            .map(Via::parse)
            .collect()
    }

    /// `Call-ID`.
    fn call_id(&self) -> Result<&str, ParseError> {
        self.sip_headers()
            .get(&HeaderName::CALL_ID)
            .filter(|c| !c.is_empty())
            .ok_or(ParseError::Header("Call-ID"))
    }

    /// `CSeq`.
    fn cseq(&self) -> Result<CSeq, ParseError> {
        CSeq::parse(
            self.sip_headers()
                .get(&HeaderName::CSEQ)
                .ok_or(ParseError::Header("CSeq"))?,
        )
    }

    /// `From`.
    fn field_from(&self) -> Result<NameAddr, ParseError> {
        NameAddr::parse(
            self.sip_headers()
                .get(&HeaderName::FROM)
                .ok_or(ParseError::Header("From"))?,
            "From",
        )
    }

    /// `To`.
    fn field_to(&self) -> Result<NameAddr, ParseError> {
        NameAddr::parse(
            self.sip_headers()
                .get(&HeaderName::TO)
                .ok_or(ParseError::Header("To"))?,
            "To",
        )
    }

    /// The first `Contact`.
    fn contact(&self) -> Option<Result<NameAddr, ParseError>> {
        self.sip_headers()
            .values(&HeaderName::CONTACT)
            .next()
            .map(|v| NameAddr::parse(v, "Contact"))
    }

    /// `Max-Forwards` (absent: `None`).
    fn max_forwards(&self) -> Result<Option<u32>, ParseError> {
        self.sip_headers()
            .get(&HeaderName::MAX_FORWARDS)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| ParseError::Header("Max-Forwards"))
            })
            .transpose()
    }

    /// Route set from `Record-Route` (or `Route`), in order.
    fn routes(&self, name: &HeaderName) -> Result<Vec<NameAddr>, ParseError> {
        self.sip_headers()
            .values(name)
            .map(|v| NameAddr::parse(v, "Route"))
            .collect()
    }

    /// Option tags of a `Supported` / `Require` style header.
    fn option_tags(&self, name: &HeaderName) -> Vec<String> {
        self.sip_headers()
            .values(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .collect()
    }

    /// The `Content-Type` media type, lower-cased, without parameters.
    fn content_type(&self) -> Option<String> {
        let v = self.sip_headers().get(&HeaderName::CONTENT_TYPE)?;
        Some(v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
    }
}

impl SipHeaders for crate::Request {
    fn sip_headers(&self) -> &Headers {
        &self.headers
    }
}

impl SipHeaders for crate::Response {
    fn sip_headers(&self) -> &Headers {
        &self.headers
    }
}

impl SipHeaders for crate::Message {
    fn sip_headers(&self) -> &Headers {
        self.headers()
    }
}

/// The received address, for `received=`: the IP the message came from.
pub fn received_param(ip: IpAddr) -> String {
    ip.to_string()
}

/// Split a list header value (exposed for callers that read other list headers).
pub fn list_values(v: &str) -> Vec<&str> {
    split_list(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_values() {
        let v = Via::parse("SIP/2.0/udp 127.0.0.1:5070;branch=z9hG4bK-1;rport;received=10.0.0.1")
            .unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!((v.host.as_str(), v.port), ("127.0.0.1", Some(5070)));
        assert_eq!(v.branch(), Some("z9hG4bK-1"));
        assert_eq!(v.param("rport"), Some(None));
        let v6 = Via::parse("SIP/2.0/TCP [2001:db8::1]:5061 ;branch=x").unwrap();
        assert_eq!(v6.host, "2001:db8::1");
        assert_eq!(v6.to_string(), "SIP/2.0/TCP [2001:db8::1]:5061;branch=x");
        for bad in [
            "",
            "SIP/2.0/UDP",
            "HTTP/1.1/TCP a",
            "SIP/2.0/UDP host:port",
            "SIP/3.0/UDP a",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn name_addrs() {
        let f = NameAddr::parse(
            r#""Alice \"A\" Smith" <sip:alice@contoso.example;transport=tcp>;tag=abc;x"#,
            "From",
        )
        .unwrap();
        assert_eq!(f.display.as_deref(), Some("Alice \"A\" Smith"));
        assert_eq!(f.tag(), Some("abc"));
        assert_eq!(f.uri.user().as_deref(), Some("alice"));
        let t = NameAddr::parse("sip:bob@example.com;tag=9", "To").unwrap();
        assert_eq!(t.tag(), Some("9"));
        let tel = NameAddr::parse("<tel:+14255550100>", "To").unwrap();
        assert_eq!(tel.uri.user().as_deref(), Some("+14255550100"));
        let focus = NameAddr::parse(
            "<sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:7ECB5F9B>",
            "To",
        )
        .unwrap();
        assert_eq!(
            focus.uri.param("opaque"),
            Some(Some("app:conf:focus:id:7ECB5F9B".into()))
        );
        assert!(NameAddr::parse("<sip:alice@x", "To").is_err());
        assert!(NameAddr::parse("nonsense", "To").is_err());
    }

    #[test]
    fn cseq_and_host_ports() {
        assert_eq!(CSeq::parse("1 SERVICE").unwrap().method, Method::Service);
        assert!(CSeq::parse("x INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
        assert_eq!(split_host_port("[::1]"), Some(("::1".into(), None)));
        assert_eq!(split_host_port("a:99999"), None);
        assert_eq!(split_host_port(":5060"), None);
    }
}
