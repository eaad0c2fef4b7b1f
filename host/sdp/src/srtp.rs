//! SDES (RFC 4568): which `a=crypto` lines we can honour, and writing ours.
//!
//! A line is usable when its suite is AES_CM_128_HMAC_SHA1_80 or _32, it carries exactly one
//! `inline:` key that decodes to 30 bytes (16-byte master key, 14-byte salt), it has no MKI (the
//! media layer does not parse MKI fields out of packets), its lifetime is absent or at least 2^31
//! packets, and its only session parameter, if any, is `WSH=` (a hint). A lifetime of 2^31 is no
//! stricter than SRTCP's own 31-bit index limit (RFC 3711 §9.2), so honouring it needs no re-keying;
//! a shorter one would, and we do not re-key, so such a line is skipped (RFC 4568 §6.1: an answerer
//! that cannot support a lifetime rejects that attribute). Unusable lines are skipped, not fatal:
//! Office Communicator and Lync offer the same key twice, with MKI (`|2^31|1:1`) and without.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::description::{Attribute, Crypto, CryptoSuite, KeyParams, MediaDescription, SrtpSuite};

/// Master key plus salt for the suites we support.
pub(crate) const KEY_LEN: usize = 30;

/// The shortest key lifetime (in packets) we honour without re-keying.
const MIN_LIFETIME: u64 = 1 << 31;

/// The first usable `a=crypto` line of `media`: its tag, suite and the peer's key.
pub(crate) fn choose(media: &MediaDescription) -> Option<(u32, SrtpSuite, [u8; KEY_LEN])> {
    media
        .crypto()
        .find_map(|c| usable(c).map(|(suite, key)| (c.tag, suite, key)))
}

/// The suite and key of `crypto` if we can honour it.
pub(crate) fn usable(crypto: &Crypto) -> Option<(SrtpSuite, [u8; KEY_LEN])> {
    let CryptoSuite::Supported(suite) = crypto.suite else {
        return None;
    };
    let [key] = crypto.keys.as_slice() else {
        return None;
    };
    let lifetime_ok = key.lifetime.is_none_or(|l| u64::from(l) >= MIN_LIFETIME);
    let params_ok = crypto.params.iter().all(|p| p.starts_with("WSH="));
    if key.mki.is_some() || !lifetime_ok || !params_ok {
        return None;
    }
    decode_key(&key.key_salt).map(|k| (suite, k))
}

/// Whether `media` has any `a=crypto` line, readable or not.
pub(crate) fn mentioned(media: &MediaDescription) -> bool {
    media.attributes.iter().any(|a| match a {
        Attribute::Crypto(_) => true,
        Attribute::Other { name, .. } => name == "crypto",
        _ => false,
    })
}

/// Our `a=crypto` line.
pub(crate) fn attribute(tag: u32, suite: SrtpSuite, key: &[u8; KEY_LEN]) -> Attribute {
    Attribute::Crypto(Crypto {
        tag,
        suite: CryptoSuite::Supported(suite),
        keys: vec![KeyParams {
            key_salt: STANDARD.encode(key),
            lifetime: None,
            mki: None,
        }],
        params: Vec::new(),
    })
}

fn decode_key(text: &str) -> Option<[u8; KEY_LEN]> {
    STANDARD.decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crypto(
        suite: SrtpSuite,
        key: &str,
        lifetime: Option<u32>,
        mki: Option<(u32, u32)>,
    ) -> Crypto {
        Crypto {
            tag: 1,
            suite: CryptoSuite::Supported(suite),
            keys: vec![KeyParams {
                key_salt: key.to_owned(),
                lifetime,
                mki,
            }],
            params: Vec::new(),
        }
    }

    const KEY: &str = "+TiXbBWWPXW/AfPfG1SG+KEHqGsZLTajJfYsgKQg";
    const SUITE: SrtpSuite = SrtpSuite::AesCm128HmacSha1_80;

    #[test]
    fn lifetime_and_mki_rules() {
        assert!(usable(&crypto(SUITE, KEY, None, None)).is_some());
        assert!(usable(&crypto(SUITE, KEY, Some(1 << 31), None)).is_some());
        assert!(usable(&crypto(SUITE, KEY, Some(1 << 20), None)).is_none());
        assert!(usable(&crypto(SUITE, KEY, Some(1 << 31), Some((1, 1)))).is_none());
    }

    #[test]
    fn key_must_be_30_bytes() {
        assert!(usable(&crypto(SUITE, "c2hvcnQ=", None, None)).is_none());
        assert!(usable(&crypto(SUITE, "not base64!", None, None)).is_none());
    }

    #[test]
    fn only_wsh_is_tolerated() {
        let mut c = crypto(SUITE, KEY, None, None);
        c.params = vec!["WSH=64".to_owned()];
        assert!(usable(&c).is_some());
        c.params = vec!["UNENCRYPTED_SRTP".to_owned()];
        assert!(usable(&c).is_none());
    }

    #[test]
    fn our_key_round_trips() {
        let key = [7u8; KEY_LEN];
        let Attribute::Crypto(c) = attribute(3, SUITE, &key) else {
            panic!("not a crypto attribute");
        };
        assert_eq!(usable(&c), Some((SUITE, key)));
    }
}
