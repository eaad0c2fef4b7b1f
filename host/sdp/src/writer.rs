//! The exact writer: [`SessionDescription`] to SDP text.
//!
//! Owns line order and line ends: CRLF everywhere, fields in RFC 4566 order (`v o s [i u e p] c
//! [b] t [r z] [k] a* m*`, and `m [i] c [b k] a*` per section), attributes in the order they are
//! held. Typed values are printed by `ezk-sdp-types` (origin, connection, timing, rtpmap, fmtp,
//! crypto, rtcp, direction); the `m=` line and verbatim fields are printed here, since ezk cannot
//! print media types or formats it does not model.

use std::fmt::{self, Display, Formatter};
use std::net::IpAddr;

use bytesstr::BytesStr;
use ezk_sdp_types as ezk;

use crate::description::{
    Address, Attribute, Connection, Crypto, CryptoSuite, Field, MediaDescription, Origin,
    SessionDescription, field_rank,
};

impl Display for SessionDescription {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("v=0\r\n")?;
        write!(f, "o={}\r\n", ezk_origin(&self.origin))?;
        if let Some(name) = &self.name {
            write!(f, "s={name}\r\n")?;
        }
        write_fields(f, &self.other, |rank| rank < field_rank('b'))?;
        if let Some(connection) = &self.connection {
            write!(f, "c={}\r\n", ezk_connection(connection))?;
        }
        write_fields(f, &self.other, |rank| rank == field_rank('b'))?;
        for t in &self.timing {
            let time = ezk::Time {
                start: t.start,
                stop: t.stop,
            };
            write!(f, "t={time}\r\n")?;
        }
        write_fields(f, &self.other, |rank| rank > field_rank('b'))?;
        write_attributes(f, &self.attributes)?;
        for media in &self.media {
            write!(f, "{media}")?;
        }
        Ok(())
    }
}

impl Display for MediaDescription {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.kind.as_str(), self.port)?;
        if let Some(count) = self.port_count {
            write!(f, "/{count}")?;
        }
        write!(f, " {}", self.protocol.as_str())?;
        for format in &self.formats {
            write!(f, " {format}")?;
        }
        f.write_str("\r\n")?;
        write_fields(f, &self.other, |rank| rank < field_rank('b'))?;
        if let Some(connection) = &self.connection {
            write!(f, "c={}\r\n", ezk_connection(connection))?;
        }
        write_fields(f, &self.other, |rank| rank >= field_rank('b'))?;
        write_attributes(f, &self.attributes)
    }
}

impl Display for Attribute {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::RtpMap(m) => {
                let m = ezk::RtpMap {
                    payload: m.payload,
                    encoding: BytesStr::from(m.encoding.as_str()),
                    clock_rate: m.clock_rate,
                    params: m.params.as_deref().map(BytesStr::from),
                };
                write!(f, "rtpmap:{m}")
            }
            Self::Fmtp(p) => {
                let p = ezk::Fmtp {
                    format: p.format,
                    params: BytesStr::from(p.params.as_str()),
                };
                write!(f, "fmtp:{p}")
            }
            Self::Crypto(c) => write!(f, "crypto:{}", ezk_crypto(c)),
            Self::Rtcp(r) => {
                let r = ezk::Rtcp {
                    port: r.port,
                    address: r.address.as_ref().map(ezk_address),
                };
                write!(f, "rtcp:{r}")
            }
            Self::Ptime(ms) => write!(f, "ptime:{ms}"),
            Self::Direction(d) => {
                let d = match d {
                    crate::Direction::SendRecv => ezk::Direction::SendRecv,
                    crate::Direction::SendOnly => ezk::Direction::SendOnly,
                    crate::Direction::RecvOnly => ezk::Direction::RecvOnly,
                    crate::Direction::Inactive => ezk::Direction::Inactive,
                };
                write!(f, "{d}")
            }
            Self::Other { name, value: None } => f.write_str(name),
            Self::Other {
                name,
                value: Some(value),
            } => write!(f, "{name}:{value}"),
        }
    }
}

fn write_fields(f: &mut Formatter<'_>, fields: &[Field], rank: impl Fn(u8) -> bool) -> fmt::Result {
    for field in fields.iter().filter(|x| rank(field_rank(x.letter))) {
        write!(f, "{}={}\r\n", field.letter, field.value)?;
    }
    Ok(())
}

fn write_attributes(f: &mut Formatter<'_>, attributes: &[Attribute]) -> fmt::Result {
    for attribute in attributes {
        write!(f, "a={attribute}\r\n")?;
    }
    Ok(())
}

fn ezk_origin(origin: &Origin) -> ezk::Origin {
    ezk::Origin {
        username: BytesStr::from(origin.username.as_str()),
        session_id: BytesStr::from(origin.session_id.as_str()),
        session_version: BytesStr::from(origin.session_version.as_str()),
        address: ezk_address(&origin.address),
    }
}

fn ezk_connection(connection: &Connection) -> ezk::Connection {
    ezk::Connection {
        address: ezk_address(&connection.address),
        ttl: connection.ttl,
        num: connection.count,
    }
}

fn ezk_address(address: &Address) -> ezk::TaggedAddress {
    match address {
        Address::Ip(IpAddr::V4(ip)) => ezk::TaggedAddress::IP4(*ip),
        Address::Ip(IpAddr::V6(ip)) => ezk::TaggedAddress::IP6(*ip),
        Address::Name { ipv6: false, name } => ezk::TaggedAddress::IP4FQDN(name.as_str().into()),
        Address::Name { ipv6: true, name } => ezk::TaggedAddress::IP6FQDN(name.as_str().into()),
    }
}

fn ezk_crypto(crypto: &Crypto) -> ezk::SrtpCrypto {
    let suite = match &crypto.suite {
        CryptoSuite::Supported(crate::SrtpSuite::AesCm128HmacSha1_80) => {
            ezk::SrtpSuite::AES_CM_128_HMAC_SHA1_80
        }
        CryptoSuite::Supported(crate::SrtpSuite::AesCm128HmacSha1_32) => {
            ezk::SrtpSuite::AES_CM_128_HMAC_SHA1_32
        }
        CryptoSuite::Other(name) => ezk::SrtpSuite::Ext(name.as_str().into()),
    };
    ezk::SrtpCrypto {
        tag: crypto.tag,
        suite,
        keys: crypto
            .keys
            .iter()
            .map(|k| ezk::SrtpKeyingMaterial {
                key_and_salt: k.key_salt.as_str().into(),
                lifetime: k.lifetime,
                mki: k.mki,
            })
            .collect(),
        params: crypto
            .params
            .iter()
            .map(|p| ezk::SrtpSessionParam::Ext(p.as_str().into()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use crate::SessionDescription;

    #[test]
    fn prints_crlf_in_rfc_order() {
        let text = "v=0\no=- 1 2 IN IP4 192.0.2.1\ns=x\nt=0 0\nb=AS:64\ni=info\nc=IN IP4 192.0.2.1\n\
                    m=audio 4000/2 RTP/AVP 0 8\nb=AS:64\nc=IN IP4 192.0.2.9\na=ptime:20\n";
        let sdp = SessionDescription::parse(text.as_bytes()).unwrap();
        assert_eq!(
            sdp.to_string(),
            "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=x\r\ni=info\r\nc=IN IP4 192.0.2.1\r\nb=AS:64\r\n\
             t=0 0\r\nm=audio 4000/2 RTP/AVP 0 8\r\nc=IN IP4 192.0.2.9\r\nb=AS:64\r\na=ptime:20\r\n"
        );
    }
}
