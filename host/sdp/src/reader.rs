//! The lenient reader: bytes to a [`SessionDescription`].
//!
//! Owns line framing, field dispatch, and deciding which attributes are typed and which are kept
//! verbatim. Does not own printing (`writer.rs`) or any offer/answer decision (`negotiate.rs`).
//!
//! Framing is ours, values are ezk's: each line is split off here and its value handed to the
//! matching `ezk-sdp-types` parser (`Origin`, `Connection`, `Time`, `RtpMap`, `Fmtp`, `SrtpCrypto`,
//! `Rtcp`). ezk's whole-document parser is not used because it fails the entire body on the first
//! attribute it cannot read (Office Communicator 2007 R2's ICE draft-6 `a=candidate` lines), on an
//! `m=image` line (a T.38 re-INVITE), and it drops or reorders what it does not model. Here an
//! attribute ezk cannot read, or reads only in part, is kept as [`Attribute::Other`] and ignored by
//! negotiation; only a broken `v=`, `o=`, `c=`, `t=` or `m=` line makes the body unreadable.

use std::net::IpAddr;

use bytes::Bytes;
use ezk_sdp_types as ezk;

use crate::description::{
    Address, Attribute, Connection, Crypto, CryptoSuite, Direction, Field, Fmtp, KeyParams,
    MediaDescription, MediaKind, Origin, Protocol, Rtcp, RtpMap, SessionDescription, SrtpSuite,
    Timing, field_rank,
};
use crate::error::{SyntaxError, SyntaxErrorKind};

/// Reads an SDP body (see [`SessionDescription::parse`]).
pub(crate) fn parse(input: &[u8]) -> Result<SessionDescription, SyntaxError> {
    let src = Bytes::copy_from_slice(input);
    let text = std::str::from_utf8(&src).map_err(|e| SyntaxError {
        line: line_of_offset(input, e.valid_up_to()),
        kind: SyntaxErrorKind::NotUtf8,
    })?;
    let mut reader = Reader::new(&src);
    for (number, line) in lines(text) {
        reader
            .line(line)
            .map_err(|kind| SyntaxError { line: number, kind })?;
    }
    reader.finish()
}

/// Splits `text` into numbered, right-trimmed, non-blank lines. A line ends at LF, CR or CRLF
/// (as ezk's own parser does); numbers count LFs, so they match what an editor shows.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n').enumerate().flat_map(|(index, physical)| {
        physical
            .split('\r')
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(move |l| (index + 1, l))
    })
}

fn line_of_offset(input: &[u8], offset: usize) -> usize {
    let before = input.get(..offset).unwrap_or(input);
    before.iter().filter(|b| **b == b'\n').count() + 1
}

/// Accumulates lines into a description.
struct Reader<'s> {
    src: &'s Bytes,
    seen_version: bool,
    origin: Option<Origin>,
    name: Option<String>,
    connection: Option<Connection>,
    timing: Vec<Timing>,
    attributes: Vec<Attribute>,
    other: Vec<Field>,
    media: Vec<MediaDescription>,
}

type LineResult = Result<(), SyntaxErrorKind>;

impl<'s> Reader<'s> {
    fn new(src: &'s Bytes) -> Self {
        Self {
            src,
            seen_version: false,
            origin: None,
            name: None,
            connection: None,
            timing: Vec::new(),
            attributes: Vec::new(),
            other: Vec::new(),
            media: Vec::new(),
        }
    }

    fn line(&mut self, line: &str) -> LineResult {
        let (letter, value) = split_field(line)?;
        if !self.seen_version {
            return self.version(letter, value);
        }
        if letter == 'm' {
            self.media.push(parse_media(value)?);
            return Ok(());
        }
        if let Some(media) = self.media.last_mut() {
            return media_line(self.src, media, letter, value);
        }
        self.session_line(letter, value)
    }

    fn version(&mut self, letter: char, value: &str) -> LineResult {
        match (letter, value.trim()) {
            ('v', "0") => {
                self.seen_version = true;
                Ok(())
            }
            ('v', _) => Err(SyntaxErrorKind::UnsupportedVersion),
            _ => Err(SyntaxErrorKind::MissingVersion),
        }
    }

    fn session_line(&mut self, letter: char, value: &str) -> LineResult {
        match letter {
            'v' => Err(SyntaxErrorKind::Duplicate { field: 'v' }),
            'o' if self.origin.is_some() => Err(SyntaxErrorKind::Duplicate { field: 'o' }),
            'o' => {
                self.origin = Some(parse_origin(self.src, value)?);
                Ok(())
            }
            's' if self.name.is_some() => Err(SyntaxErrorKind::Duplicate { field: 's' }),
            's' => {
                self.name = Some(value.to_owned());
                Ok(())
            }
            'c' if self.connection.is_some() => Err(SyntaxErrorKind::Duplicate { field: 'c' }),
            'c' => {
                self.connection = Some(parse_connection(self.src, value)?);
                Ok(())
            }
            't' => {
                self.timing.push(parse_timing(value)?);
                Ok(())
            }
            'a' => {
                self.attributes.push(parse_attribute(self.src, value));
                Ok(())
            }
            letter => {
                push_field(&mut self.other, letter, value);
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<SessionDescription, SyntaxError> {
        if !self.seen_version {
            return Err(SyntaxError {
                line: 1,
                kind: SyntaxErrorKind::MissingVersion,
            });
        }
        let origin = self.origin.ok_or(SyntaxError {
            line: 1,
            kind: SyntaxErrorKind::MissingOrigin,
        })?;
        Ok(SessionDescription {
            origin,
            name: self.name,
            connection: self.connection,
            timing: self.timing,
            attributes: self.attributes,
            other: self.other,
            media: self.media,
        })
    }
}

fn media_line(src: &Bytes, media: &mut MediaDescription, letter: char, value: &str) -> LineResult {
    match letter {
        'c' if media.connection.is_some() => Err(SyntaxErrorKind::Duplicate { field: 'c' }),
        'c' => {
            media.connection = Some(parse_connection(src, value)?);
            Ok(())
        }
        'a' => {
            media.attributes.push(parse_attribute(src, value));
            Ok(())
        }
        letter => {
            push_field(&mut media.other, letter, value);
            Ok(())
        }
    }
}

/// Keeps `fields` sorted by print rank (stable), so printing and reading back gives equal values.
fn push_field(fields: &mut Vec<Field>, letter: char, value: &str) {
    let rank = field_rank(letter);
    let at = fields
        .iter()
        .position(|f| field_rank(f.letter) > rank)
        .unwrap_or(fields.len());
    fields.insert(
        at,
        Field {
            letter,
            value: value.to_owned(),
        },
    );
}

fn split_field(line: &str) -> Result<(char, &str), SyntaxErrorKind> {
    let mut chars = line.chars();
    match (chars.next(), chars.next()) {
        (Some(letter), Some('=')) if letter.is_ascii_alphabetic() => {
            Ok((letter, line.get(2..).unwrap_or("")))
        }
        _ => Err(SyntaxErrorKind::NotAField),
    }
}

/// Runs an ezk value parser and accepts its result only if it used the whole value (trailing
/// whitespace aside): ezk parsers return the rest unread and its own document parser drops it.
fn whole<'i, T>(
    value: &'i str,
    parser: impl FnOnce(&'i str) -> nom::IResult<&'i str, T, nom::error::VerboseError<&'i str>>,
) -> Option<T> {
    match parser(value) {
        Ok((rest, parsed)) if rest.trim().is_empty() => Some(parsed),
        _ => None,
    }
}

fn parse_origin(src: &Bytes, value: &str) -> Result<Origin, SyntaxErrorKind> {
    let o = whole(value, |v| ezk::Origin::parse(src, v)).ok_or(SyntaxErrorKind::BadOrigin)?;
    let address = address_from_ezk(o.address).ok_or(SyntaxErrorKind::BadOrigin)?;
    let text = |s: bytesstr::BytesStr| s.as_str().to_owned();
    let (username, session_id, session_version) = (
        text(o.username),
        text(o.session_id),
        text(o.session_version),
    );
    if username.is_empty() || session_id.is_empty() || session_version.is_empty() {
        return Err(SyntaxErrorKind::BadOrigin);
    }
    Ok(Origin {
        username,
        session_id,
        session_version,
        address,
    })
}

fn parse_connection(src: &Bytes, value: &str) -> Result<Connection, SyntaxErrorKind> {
    let c =
        whole(value, |v| ezk::Connection::parse(src, v)).ok_or(SyntaxErrorKind::BadConnection)?;
    let address = address_from_ezk(c.address).ok_or(SyntaxErrorKind::BadConnection)?;
    Ok(Connection {
        address,
        ttl: c.ttl,
        count: c.num,
    })
}

fn parse_timing(value: &str) -> Result<Timing, SyntaxErrorKind> {
    let t = whole(value, ezk::Time::parse).ok_or(SyntaxErrorKind::BadTiming)?;
    Ok(Timing {
        start: t.start,
        stop: t.stop,
    })
}

/// `m=` is read here, not by ezk: ezk knows only four media types (so `m=image` for T.38 fails the
/// body) and reads formats as `u8`, stopping at the first that is not (`t38`, `*`).
fn parse_media(value: &str) -> Result<MediaDescription, SyntaxErrorKind> {
    let mut tokens = value.split_ascii_whitespace();
    let (Some(kind), Some(port), Some(protocol)) = (tokens.next(), tokens.next(), tokens.next())
    else {
        return Err(SyntaxErrorKind::BadMedia);
    };
    let (port, port_count) = match port.split_once('/') {
        Some((port, count)) => (port, Some(parse_digits::<u16>(count)?)),
        None => (port, None),
    };
    Ok(MediaDescription {
        kind: MediaKind::from_token(kind),
        port: parse_digits(port)?,
        port_count,
        protocol: Protocol::from_token(protocol),
        formats: tokens.map(str::to_owned).collect(),
        connection: None,
        attributes: Vec::new(),
        other: Vec::new(),
    })
}

fn parse_digits<T: std::str::FromStr>(s: &str) -> Result<T, SyntaxErrorKind> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SyntaxErrorKind::BadMedia);
    }
    s.parse().map_err(|_| SyntaxErrorKind::BadMedia)
}

fn parse_attribute(src: &Bytes, line: &str) -> Attribute {
    let (name, value) = match line.split_once(':') {
        Some((name, value)) => (name, Some(value)),
        None => (line, None),
    };
    typed_attribute(src, name, value).unwrap_or_else(|| Attribute::Other {
        name: name.to_owned(),
        value: value.map(str::to_owned),
    })
}

fn typed_attribute(src: &Bytes, name: &str, value: Option<&str>) -> Option<Attribute> {
    let Some(value) = value else {
        return Direction::from_name(name).map(Attribute::Direction);
    };
    match name {
        "rtpmap" => whole(value, |v| ezk::RtpMap::parse(src, v)).map(|m| {
            Attribute::RtpMap(RtpMap {
                payload: m.payload,
                encoding: m.encoding.as_str().to_owned(),
                clock_rate: m.clock_rate,
                params: m.params.map(|p| p.as_str().to_owned()),
            })
        }),
        "fmtp" => whole(value, |v| ezk::Fmtp::parse(src, v)).map(|f| {
            Attribute::Fmtp(Fmtp {
                format: f.format,
                params: f.params.as_str().to_owned(),
            })
        }),
        "rtcp" => {
            let r = whole(value, |v| ezk::Rtcp::parse(src, v))?;
            let address = match r.address {
                Some(a) => Some(address_from_ezk(a)?),
                None => None,
            };
            Some(Attribute::Rtcp(Rtcp {
                port: r.port,
                address,
            }))
        }
        "crypto" => parse_crypto(src, value).map(Attribute::Crypto),
        "ptime" => parse_digits(value.trim()).ok().map(Attribute::Ptime),
        _ => None,
    }
}

fn parse_crypto(src: &Bytes, value: &str) -> Option<Crypto> {
    if lifetime_overflows_ezk(value) {
        return None;
    }
    let c = whole(value, |v| ezk::SrtpCrypto::parse(src, v))?;
    let suite = match c.suite {
        ezk::SrtpSuite::AES_CM_128_HMAC_SHA1_80 => {
            CryptoSuite::Supported(SrtpSuite::AesCm128HmacSha1_80)
        }
        ezk::SrtpSuite::AES_CM_128_HMAC_SHA1_32 => {
            CryptoSuite::Supported(SrtpSuite::AesCm128HmacSha1_32)
        }
        other => CryptoSuite::Other(other.as_str().to_owned()),
    };
    let keys = c
        .keys
        .into_iter()
        .map(|k| KeyParams {
            key_salt: k.key_and_salt.as_str().to_owned(),
            lifetime: k.lifetime,
            mki: k.mki,
        })
        .collect();
    Some(Crypto {
        tag: c.tag,
        suite,
        keys,
        params: c.params.iter().map(ToString::to_string).collect(),
    })
}

/// ezk computes a `|2^n` lifetime as `2u32.pow(n)`, which overflows for `n >= 32`: a panic in
/// builds with overflow checks, a silent 0 without. Such a line is not handed to ezk; it stays
/// verbatim and negotiation skips it (another `a=crypto` line may still be chosen).
fn lifetime_overflows_ezk(value: &str) -> bool {
    value.match_indices("|2^").any(|(at, marker)| {
        let digits: String = value
            .get(at + marker.len()..)
            .unwrap_or("")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<u32>().is_ok_and(|n| n >= 32)
    })
}

fn address_from_ezk(address: ezk::TaggedAddress) -> Option<Address> {
    let named = |ipv6: bool, name: bytesstr::BytesStr| {
        let name = name.as_str().to_owned();
        (!name.is_empty()).then_some(Address::Name { ipv6, name })
    };
    match address {
        ezk::TaggedAddress::IP4(ip) => Some(Address::Ip(IpAddr::V4(ip))),
        ezk::TaggedAddress::IP6(ip) => Some(Address::Ip(IpAddr::V6(ip))),
        ezk::TaggedAddress::IP4FQDN(name) => named(false, name),
        ezk::TaggedAddress::IP6FQDN(name) => named(true, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SessionDescription {
        SessionDescription::parse(text.as_bytes()).unwrap()
    }

    const MINIMAL: &str =
        "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";

    #[test]
    fn reads_minimal_body() {
        let sdp = parse(MINIMAL);
        assert_eq!(sdp.origin.session_id, "1");
        assert_eq!(sdp.origin.session_version, "2");
        assert_eq!(sdp.name.as_deref(), Some("-"));
        assert_eq!(sdp.timing, [Timing { start: 0, stop: 0 }]);
        assert!(sdp.media.is_empty());
    }

    #[test]
    fn trailing_whitespace_and_lf_only() {
        let text = "v=0 \no=- 1 2 IN IP4 192.0.2.1\t\nm=audio 4000 RTP/AVP 0  \na=sendonly \n\n";
        let sdp = parse(text);
        let m = &sdp.media[0];
        assert_eq!(m.formats, ["0"]);
        assert_eq!(m.direction(), Some(Direction::SendOnly));
    }

    #[test]
    fn missing_version_is_an_error() {
        let e = SessionDescription::parse(b"o=- 1 2 IN IP4 192.0.2.1\r\n").unwrap_err();
        assert_eq!(e.kind, SyntaxErrorKind::MissingVersion);
        assert_eq!(e.line, 1);
    }

    #[test]
    fn bad_connection_reports_its_line() {
        let e = SessionDescription::parse(b"v=0\r\no=- 1 2 IN IP4 h\r\nc=IN IPX 1.2.3.4\r\n")
            .unwrap_err();
        assert_eq!(
            e,
            SyntaxError {
                line: 3,
                kind: SyntaxErrorKind::BadConnection
            }
        );
    }

    #[test]
    fn unreadable_typed_attribute_is_kept_verbatim() {
        let sdp = parse(&format!(
            "{MINIMAL}m=audio 4000 RTP/AVP 0\r\na=rtpmap:x PCMU/8000\r\n"
        ));
        assert_eq!(
            sdp.media[0].attributes,
            [Attribute::Other {
                name: "rtpmap".into(),
                value: Some("x PCMU/8000".into())
            }]
        );
    }

    #[test]
    fn huge_lifetime_exponent_is_not_given_to_ezk() {
        let line = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^48";
        let sdp = parse(&format!("{MINIMAL}m=audio 4000 RTP/SAVP 0\r\n{line}\r\n"));
        assert!(
            matches!(&sdp.media[0].attributes[0], Attribute::Other { name, .. } if name == "crypto")
        );
    }

    /// Found by the fuzzer with the guard turned off: `2u32.pow(317)` inside ezk. The second
    /// line hides the exponent in a `FEC_KEY=` session parameter.
    #[test]
    fn fuzz_regression_lifetime_exponents() {
        let key = "JaA+xYgRgU/y9n5aZrUeMg6mA8/Fh1/47qjI9emI";
        for value in [
            format!("3 AES_CM_128_HMAC_SHA1_80 inline:{key}|2^317qjI9emI|2^31|1:1"),
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{key} FEC_KEY=inline:{key}|2^40"),
        ] {
            let sdp = parse(&format!(
                "{MINIMAL}m=audio 4000 RTP/SAVP 0\r\na=crypto:{value}\r\n"
            ));
            assert_eq!(sdp.media[0].crypto().count(), 0, "{value}");
        }
    }

    #[test]
    fn not_utf8_is_an_error_with_its_line() {
        let e = SessionDescription::parse(b"v=0\r\no=- 1 2 IN IP4 h\r\ns=\xff\r\n").unwrap_err();
        assert_eq!(
            e,
            SyntaxError {
                line: 3,
                kind: SyntaxErrorKind::NotUtf8
            }
        );
    }
}
