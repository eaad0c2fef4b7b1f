//! SIP digest authentication for a UAS (RFC 3261 §22 over RFC 2617 / RFC 7616, with RFC 8760
//! for SHA-256): challenges, and verification of credentials against stored HA1 values.
//!
//! Nonces are stateless — a timestamp and an HMAC of it under a per-process secret — so any
//! nonce we issued can be checked without a table, and an expired one is answered with
//! `stale=true` (the client retries with the same password and a fresh nonce). Nonce counts are
//! remembered (bounded) so a replayed response is refused.

use std::collections::HashMap;
use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest as _, Sha256};

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// MD5 (RFC 2617).
    Md5,
    /// SHA-256 (RFC 7616, RFC 8760).
    Sha256,
}

impl Algorithm {
    /// The `algorithm=` token.
    pub fn token(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Why credentials are not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No credentials for our realm: challenge.
    #[error("no credentials")]
    Missing,
    /// The credentials cannot be read.
    #[error("malformed credentials")]
    Malformed,
    /// Not our nonce (or tampered with).
    #[error("unknown nonce")]
    BadNonce,
    /// Our nonce, expired: challenge again with `stale=true`.
    #[error("stale nonce")]
    Stale,
    /// An algorithm or qop we do not offer.
    #[error("unsupported algorithm or qop")]
    Unsupported,
    /// No such user, or the response does not match the password.
    #[error("wrong credentials")]
    Wrong,
    /// A nonce count seen before.
    #[error("replayed credentials")]
    Replay,
}

/// Credentials that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The digest username.
    pub username: String,
    /// The realm.
    pub realm: String,
    /// The algorithm used.
    pub algorithm: Algorithm,
}

/// Issues and checks digest challenges for one realm or many.
pub struct Authenticator {
    secret: [u8; 32],
    issued: std::sync::atomic::AtomicU64,
    algorithms: Vec<Algorithm>,
    nonce_ttl_secs: u64,
    seen: HashMap<String, (u32, u64)>,
    max_seen: usize,
}

type HmacSha256 = Hmac<Sha256>;

impl Authenticator {
    /// An authenticator with a random `secret` (per process), nonces valid for
    /// `nonce_ttl_secs`, offering `algorithms` in that order of preference (one challenge
    /// each; an empty list offers MD5).
    pub fn new(secret: [u8; 32], nonce_ttl_secs: u64, algorithms: Vec<Algorithm>) -> Authenticator {
        let algorithms = if algorithms.is_empty() {
            vec![Algorithm::Md5]
        } else {
            algorithms
        };
        Authenticator {
            secret,
            issued: std::sync::atomic::AtomicU64::new(0),
            algorithms,
            nonce_ttl_secs,
            seen: HashMap::new(),
            max_seen: 100_000,
        }
    }

    fn mac(&self, realm: &str, issued: u64, serial: u64) -> String {
        // HMAC accepts keys of any length: `new_from_slice` cannot fail here.
        let Ok(mut m) = HmacSha256::new_from_slice(&self.secret) else {
            return String::new();
        };
        m.update(realm.as_bytes());
        m.update(&issued.to_be_bytes());
        m.update(&serial.to_be_bytes());
        let tag = m.finalize().into_bytes();
        hex(tag.get(..16).unwrap_or_default())
    }

    /// A fresh nonce for `realm` at `now` (seconds): unique per challenge (a serial number),
    /// so that two challenges in the same second never share a nonce and its counts.
    pub fn nonce(&self, realm: &str, now: u64) -> String {
        let serial = self
            .issued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{now:x}.{serial:x}.{}", self.mac(realm, now, serial))
    }

    /// The challenge header values, one per offered algorithm in order of preference
    /// (RFC 8760 §2.4).
    pub fn challenges(&self, realm: &str, now: u64, stale: bool) -> Vec<String> {
        let nonce = self.nonce(realm, now);
        self.algorithms
            .iter()
            .map(|a| {
                let mut v = format!(
                    "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\", opaque=\"{}\"",
                    a.token(),
                    &nonce[..nonce.len().min(8)]
                );
                if stale {
                    v.push_str(", stale=true");
                }
                v
            })
            .collect()
    }

    /// Check the credentials in `header` (an `Authorization` value) for a request with
    /// `method` and our `realm`. `ha1` looks up the stored HA1 of a username for an algorithm.
    pub fn verify(
        &mut self,
        header: &str,
        method: &str,
        realm: &str,
        now: u64,
        ha1: impl FnOnce(&str, Algorithm) -> Option<String>,
    ) -> Result<Authenticated, AuthError> {
        let params = parse_credentials(header).ok_or(AuthError::Malformed)?;
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        if get("realm") != Some(realm) {
            return Err(AuthError::Missing);
        }
        let (Some(username), Some(nonce), Some(uri), Some(response)) =
            (get("username"), get("nonce"), get("uri"), get("response"))
        else {
            return Err(AuthError::Malformed);
        };
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) if a.eq_ignore_ascii_case("MD5") => Algorithm::Md5,
            Some(a) if a.eq_ignore_ascii_case("SHA-256") => Algorithm::Sha256,
            Some(_) => return Err(AuthError::Unsupported),
        };
        if !self.algorithms.contains(&algorithm) {
            return Err(AuthError::Unsupported);
        }
        let issued = self.check_nonce(nonce, realm)?;
        let qop = get("qop");
        let expected_for = |ha1: &str| {
            let ha2 = algorithm.hash(&format!("{method}:{uri}"));
            match qop {
                Some(q) if q.eq_ignore_ascii_case("auth") => {
                    let (nc, cnonce) = (
                        get("nc").unwrap_or_default(),
                        get("cnonce").unwrap_or_default(),
                    );
                    Some(algorithm.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")))
                }
                Some(_) => None,
                None => Some(algorithm.hash(&format!("{ha1}:{nonce}:{ha2}"))),
            }
        };
        let stored = ha1(username, algorithm).ok_or(AuthError::Wrong)?;
        let expected = expected_for(&stored).ok_or(AuthError::Unsupported)?;
        if !constant_time_eq(
            expected.as_bytes(),
            response.to_ascii_lowercase().as_bytes(),
        ) {
            return Err(AuthError::Wrong);
        }
        if now.saturating_sub(issued) > self.nonce_ttl_secs {
            return Err(AuthError::Stale);
        }
        if qop.is_some() {
            let nc = u32::from_str_radix(get("nc").unwrap_or("0"), 16)
                .map_err(|_| AuthError::Malformed)?;
            self.note_count(nonce, nc, issued)?;
        }
        Ok(Authenticated {
            username: username.to_owned(),
            realm: realm.to_owned(),
            algorithm,
        })
    }

    fn check_nonce(&self, nonce: &str, realm: &str) -> Result<u64, AuthError> {
        let mut parts = nonce.split('.');
        let (Some(ts), Some(serial), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::BadNonce);
        };
        let issued = u64::from_str_radix(ts, 16).map_err(|_| AuthError::BadNonce)?;
        let serial = u64::from_str_radix(serial, 16).map_err(|_| AuthError::BadNonce)?;
        if !constant_time_eq(self.mac(realm, issued, serial).as_bytes(), mac.as_bytes()) {
            return Err(AuthError::BadNonce);
        }
        Ok(issued)
    }

    fn note_count(&mut self, nonce: &str, nc: u32, issued: u64) -> Result<(), AuthError> {
        if let Some((last, _)) = self.seen.get(nonce)
            && nc <= *last
        {
            return Err(AuthError::Replay);
        }
        if self.seen.len() >= self.max_seen {
            let horizon = issued.saturating_sub(self.nonce_ttl_secs);
            self.seen.retain(|_, (_, at)| *at >= horizon);
            if self.seen.len() >= self.max_seen {
                self.seen.clear();
            }
        }
        self.seen.insert(nonce.to_owned(), (nc, issued));
        Ok(())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The username, realm and algorithm named in credentials (before they are checked), so the
/// caller can fetch the stored HA1 to check them with.
pub fn credentials_subject(header: &str) -> Option<(String, String, Algorithm)> {
    let params = parse_credentials(header)?;
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let algorithm = match get("algorithm") {
        None => Algorithm::Md5,
        Some(a) if a.eq_ignore_ascii_case("SHA-256") => Algorithm::Sha256,
        Some(a) if a.eq_ignore_ascii_case("MD5") => Algorithm::Md5,
        Some(_) => return None,
    };
    Some((get("username")?, get("realm")?, algorithm))
}

/// HA1 = H(username:realm:password), what the pool stores instead of a password.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hash(&format!("{username}:{realm}:{password}"))
}

/// The response a client computes (for tests and for our own UAC).
#[allow(clippy::too_many_arguments)]
pub fn client_response(
    algorithm: Algorithm,
    ha1: &str,
    nonce: &str,
    nc: u32,
    cnonce: &str,
    method: &str,
    uri: &str,
) -> String {
    let ha2 = algorithm.hash(&format!("{method}:{uri}"));
    algorithm.hash(&format!("{ha1}:{nonce}:{nc:08x}:{cnonce}:auth:{ha2}"))
}

/// One digest challenge, read from a `WWW-Authenticate` or `Proxy-Authenticate` value: what a
/// client (our UAC) needs to answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `algorithm` (MD5 when absent, RFC 2617 §3.2.1).
    pub algorithm: Algorithm,
    /// Whether `qop` offers `auth`. When the challenge has no `qop` at all the answer takes the
    /// RFC 2069 form (no `qop`, `nc` or `cnonce`).
    pub qop_auth: bool,
    /// `opaque`, echoed back unchanged.
    pub opaque: Option<String>,
    /// `stale=true`: the previous credentials were right but their nonce expired; answer this
    /// challenge with the same password.
    pub stale: bool,
}

/// What a client answers a [`Challenge`] with: who, the request, and the nonce count and client
/// nonce to use.
#[derive(Clone, Copy)]
pub struct ClientAnswer<'a> {
    /// The digest username (the user part of the SIP URI, for Plenum's pool).
    pub username: &'a str,
    /// The password (never printed: this type has no `Debug`).
    pub password: &'a str,
    /// The request's method, e.g. `SERVICE`.
    pub method: &'a str,
    /// The Request-URI, as sent.
    pub uri: &'a str,
    /// The nonce count (1 for the first use of a nonce).
    pub nc: u32,
    /// A client nonce (random, unquoted token characters).
    pub cnonce: &'a str,
}

impl Challenge {
    /// Read one challenge value (`Digest realm="…", nonce="…", algorithm=…, qop="auth", …`).
    /// [`AuthError::Malformed`] when it is not a digest challenge with a realm and a nonce,
    /// [`AuthError::Unsupported`] for an algorithm other than MD5 and SHA-256 or a `qop` that
    /// does not offer `auth`.
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        let params = parse_credentials(value).ok_or(AuthError::Malformed)?;
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        let (Some(realm), Some(nonce)) = (get("realm"), get("nonce")) else {
            return Err(AuthError::Malformed);
        };
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) if a.eq_ignore_ascii_case("MD5") => Algorithm::Md5,
            Some(a) if a.eq_ignore_ascii_case("SHA-256") => Algorithm::Sha256,
            Some(_) => return Err(AuthError::Unsupported),
        };
        let qop_auth = match get("qop") {
            None => false,
            Some(q) if q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")) => true,
            Some(_) => return Err(AuthError::Unsupported),
        };
        Ok(Challenge {
            realm,
            nonce,
            algorithm,
            qop_auth,
            opaque: get("opaque"),
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The strongest challenge a client can answer among `values` (one header value each):
    /// SHA-256 over MD5, the first of equals (the server's order of preference). Values it
    /// cannot read or answer are skipped.
    pub fn strongest<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
        let rank = |a: Algorithm| match a {
            Algorithm::Sha256 => 1,
            Algorithm::Md5 => 0,
        };
        values
            .into_iter()
            .filter_map(|v| Challenge::parse(v).ok())
            .fold(None, |best: Option<Challenge>, c| match best {
                Some(b) if rank(b.algorithm) >= rank(c.algorithm) => Some(b),
                _ => Some(c),
            })
    }

    /// The `Authorization` (or `Proxy-Authorization`) value that answers this challenge.
    pub fn authorization(&self, answer: &ClientAnswer<'_>) -> String {
        let ha1 = ha1(
            self.algorithm,
            answer.username,
            &self.realm,
            answer.password,
        );
        let mut v = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\"",
            quote(answer.username),
            quote(&self.realm),
            quote(&self.nonce),
            quote(answer.uri)
        );
        let response = if self.qop_auth {
            client_response(
                self.algorithm,
                &ha1,
                &self.nonce,
                answer.nc,
                answer.cnonce,
                answer.method,
                answer.uri,
            )
        } else {
            let ha2 = self
                .algorithm
                .hash(&format!("{}:{}", answer.method, answer.uri));
            self.algorithm.hash(&format!("{ha1}:{}:{ha2}", self.nonce))
        };
        let _ = write!(
            v,
            ", response=\"{response}\", algorithm={}",
            self.algorithm.token()
        );
        if self.qop_auth {
            let _ = write!(
                v,
                ", qop=auth, nc={:08x}, cnonce=\"{}\"",
                answer.nc,
                quote(answer.cnonce)
            );
        }
        if let Some(o) = &self.opaque {
            let _ = write!(v, ", opaque=\"{}\"", quote(o));
        }
        v
    }
}

/// Escape a value for a quoted-string (RFC 3261 §25.1).
fn quote(s: &str) -> String {
    s.chars()
        .fold(String::with_capacity(s.len()), |mut out, c| {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
            out
        })
}

/// Read `Digest k=v, k="v", …`.
fn parse_credentials(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim();
    let scheme_end = rest.find(char::is_whitespace)?;
    if !rest.get(..scheme_end)?.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let mut out = Vec::new();
    let mut s = rest.get(scheme_end..)?.trim_start();
    while !s.is_empty() {
        let eq = s.find('=')?;
        let key = s.get(..eq)?.trim().to_owned();
        s = s.get(eq + 1..)?.trim_start();
        let value;
        if let Some(q) = s.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => v.push(c),
                }
            }
            s = q.get(end? + 1..)?;
            value = v;
        } else {
            let end = s.find(',').unwrap_or(s.len());
            value = s.get(..end)?.trim().to_owned();
            s = s.get(end..)?;
        }
        out.push((key, value));
        s = s.trim_start().strip_prefix(',').unwrap_or(s).trim_start();
        if out.len() > 32 {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2617 §3.5's worked example (MD5, qop=auth).
    #[test]
    fn rfc2617_example() {
        let ha1 = ha1(
            Algorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
        );
        let r = client_response(
            Algorithm::Md5,
            &ha1,
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            1,
            "0a4f113b",
            "GET",
            "/dir/index.html",
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    /// RFC 7616 §3.9.1's example with SHA-256.
    #[test]
    fn rfc7616_sha256_example() {
        let ha1 = ha1(
            Algorithm::Sha256,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        let r = client_response(
            Algorithm::Sha256,
            &ha1,
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            1,
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            "GET",
            "/dir/index.html",
        );
        assert_eq!(
            r,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    fn header(
        user: &str,
        realm: &str,
        nonce: &str,
        alg: Algorithm,
        response: &str,
        nc: u32,
    ) -> String {
        format!(
            "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"sip:+14255550100@127.0.0.1\", \
             response=\"{response}\", algorithm={}, cnonce=\"c0ffee\", nc={nc:08x}, qop=auth",
            alg.token()
        )
    }

    #[test]
    fn verify_right_wrong_stale_replay() {
        let mut a = Authenticator::new([7; 32], 300, vec![Algorithm::Md5, Algorithm::Sha256]);
        let realm = "contoso.example";
        let stored_md5 = ha1(Algorithm::Md5, "alice", realm, "secret");
        let stored_sha = ha1(Algorithm::Sha256, "alice", realm, "secret");
        let lookup = |u: &str, alg: Algorithm| {
            (u == "alice").then(|| {
                if alg == Algorithm::Md5 {
                    stored_md5.clone()
                } else {
                    stored_sha.clone()
                }
            })
        };
        let nonce = a.nonce(realm, 1000);
        for (i, (alg, stored)) in [
            (Algorithm::Md5, &stored_md5),
            (Algorithm::Sha256, &stored_sha),
        ]
        .into_iter()
        .enumerate()
        {
            let nonce = a.nonce(realm, 990 + i as u64);
            let resp = client_response(
                alg,
                stored,
                &nonce,
                1,
                "c0ffee",
                "INVITE",
                "sip:+14255550100@127.0.0.1",
            );
            let ok = a.verify(
                &header("alice", realm, &nonce, alg, &resp, 1),
                "INVITE",
                realm,
                1010,
                lookup,
            );
            assert_eq!(ok.map(|x| x.algorithm), Ok(alg));
            // The same nc again is a replay.
            let again = a.verify(
                &header("alice", realm, &nonce, alg, &resp, 1),
                "INVITE",
                realm,
                1011,
                lookup,
            );
            assert_eq!(again, Err(AuthError::Replay));
        }
        let resp = client_response(
            Algorithm::Md5,
            &ha1(Algorithm::Md5, "alice", realm, "guess"),
            &nonce,
            2,
            "c0ffee",
            "INVITE",
            "sip:+14255550100@127.0.0.1",
        );
        assert_eq!(
            a.verify(
                &header("alice", realm, &nonce, Algorithm::Md5, &resp, 2),
                "INVITE",
                realm,
                1010,
                lookup
            ),
            Err(AuthError::Wrong)
        );
        assert_eq!(
            a.verify(
                &header("mallory", realm, &nonce, Algorithm::Md5, &resp, 3),
                "INVITE",
                realm,
                1010,
                lookup
            ),
            Err(AuthError::Wrong)
        );
        // Right password, old nonce: stale (so the client retries silently).
        let good = client_response(
            Algorithm::Md5,
            &stored_md5,
            &nonce,
            5,
            "c0ffee",
            "INVITE",
            "sip:+14255550100@127.0.0.1",
        );
        assert_eq!(
            a.verify(
                &header("alice", realm, &nonce, Algorithm::Md5, &good, 5),
                "INVITE",
                realm,
                2000,
                lookup
            ),
            Err(AuthError::Stale)
        );
        // A nonce we never issued, another realm, garbage.
        assert_eq!(
            a.verify(
                &header("alice", realm, "5.deadbeef", Algorithm::Md5, &good, 6),
                "INVITE",
                realm,
                1010,
                lookup
            ),
            Err(AuthError::BadNonce)
        );
        assert_eq!(
            a.verify(
                &header("alice", "other", &nonce, Algorithm::Md5, &good, 6),
                "INVITE",
                realm,
                1010,
                lookup
            ),
            Err(AuthError::Missing)
        );
        assert_eq!(
            a.verify("Basic YWxpY2U6c2VjcmV0", "INVITE", realm, 1010, lookup),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            a.verify("Digest username=\"alice", "INVITE", realm, 1010, lookup),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn challenges_in_the_configured_order_and_only_those() {
        let a = Authenticator::new([1; 32], 300, vec![Algorithm::Sha256, Algorithm::Md5]);
        let c = a.challenges("contoso.example", 5, true);
        assert!(c[0].contains("algorithm=SHA-256") && c[1].contains("algorithm=MD5"));
        assert!(
            c.iter()
                .all(|v| v.contains("stale=true") && v.contains("qop=\"auth\""))
        );
        // Two challenges in the same second still get different nonces.
        assert_ne!(a.nonce("r", 5), a.nonce("r", 5));
        let mut md5_only = Authenticator::new([1; 32], 300, vec![Algorithm::Md5]);
        assert_eq!(md5_only.challenges("r", 5, false).len(), 1);
        // A SHA-256 answer to an MD5-only server is refused, whatever its value.
        let nonce = md5_only.nonce("r", 5);
        let h = format!(
            "Digest username=\"u\", realm=\"r\", nonce=\"{nonce}\", uri=\"sip:x\", response=\"00\", algorithm=SHA-256, cnonce=\"c\", nc=00000001, qop=auth"
        );
        assert_eq!(
            md5_only.verify(&h, "INVITE", "r", 6, |_, _| Some("x".into())),
            Err(AuthError::Unsupported)
        );
    }

    // ---- client side ----

    #[test]
    fn challenge_parse_reads_every_field() {
        let c = Challenge::parse(
            "Digest realm=\"contoso.example\", nonce=\"5.1.abc\", algorithm=SHA-256, qop=\"auth,auth-int\", opaque=\"5.1.abc\", stale=TRUE",
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge {
                realm: "contoso.example".into(),
                nonce: "5.1.abc".into(),
                algorithm: Algorithm::Sha256,
                qop_auth: true,
                opaque: Some("5.1.abc".into()),
                stale: true,
            }
        );
        // No algorithm means MD5; no qop means the RFC 2069 form.
        let c = Challenge::parse("digest nonce=\"n\", realm=\"r\"").unwrap();
        assert_eq!(
            (c.algorithm, c.qop_auth, c.stale),
            (Algorithm::Md5, false, false)
        );
        assert_eq!(c.opaque, None);
    }

    #[test]
    fn challenge_parse_refuses_what_it_cannot_answer() {
        for (value, error) in [
            ("Basic realm=\"r\"", AuthError::Malformed),
            ("Digest nonce=\"n\"", AuthError::Malformed),
            ("Digest realm=\"r\"", AuthError::Malformed),
            ("Digest realm=\"r\", nonce=\"n", AuthError::Malformed),
            (
                "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
                AuthError::Unsupported,
            ),
            (
                "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
                AuthError::Unsupported,
            ),
        ] {
            assert_eq!(Challenge::parse(value), Err(error), "{value}");
        }
    }

    #[test]
    fn strongest_prefers_sha256_whatever_the_order() {
        let md5 = "Digest realm=\"r\", nonce=\"a\", algorithm=MD5, qop=\"auth\"";
        let sha = "Digest realm=\"r\", nonce=\"b\", algorithm=SHA-256, qop=\"auth\"";
        let odd = "Digest realm=\"r\", nonce=\"c\", algorithm=SHA-512-256, qop=\"auth\"";
        for values in [[md5, sha, odd], [sha, md5, odd], [odd, md5, sha]] {
            let c = Challenge::strongest(values).unwrap();
            assert_eq!((c.algorithm, c.nonce.as_str()), (Algorithm::Sha256, "b"));
        }
        // Only MD5 offered: MD5; the first of equals wins.
        let md5b = "Digest realm=\"r\", nonce=\"z\", algorithm=MD5";
        assert_eq!(Challenge::strongest([md5, md5b]).unwrap().nonce, "a");
        assert_eq!(Challenge::strongest([odd, "Basic x=1"]), None);
    }

    fn answer<'a>(password: &'a str, nc: u32) -> ClientAnswer<'a> {
        ClientAnswer {
            username: "alice",
            password,
            method: "SERVICE",
            uri: "sip:alice@contoso.example;gruu;opaque=app:conf:focusfactory",
            nc,
            cnonce: "0a4f113b",
        }
    }

    /// Our client's answer, checked by our server: both algorithms, a wrong password, a replay.
    #[test]
    fn client_answer_round_trips_through_the_authenticator() {
        let realm = "contoso.example";
        for offered in [
            vec![Algorithm::Md5, Algorithm::Sha256],
            vec![Algorithm::Sha256, Algorithm::Md5],
            vec![Algorithm::Md5],
        ] {
            let mut server = Authenticator::new([9; 32], 300, offered.clone());
            let values = server.challenges(realm, 100, false);
            let c = Challenge::strongest(values.iter().map(String::as_str)).unwrap();
            let want = if offered.contains(&Algorithm::Sha256) {
                Algorithm::Sha256
            } else {
                Algorithm::Md5
            };
            assert_eq!(c.algorithm, want);
            assert!(c.qop_auth && c.opaque.is_some());
            let stored = |u: &str, a: Algorithm| {
                (u == "alice").then(|| ha1(a, "alice", realm, "s3cret \"quoted\""))
            };
            let header = c.authorization(&answer("s3cret \"quoted\"", 1));
            assert!(header.contains(&format!("opaque=\"{}\"", c.opaque.clone().unwrap())));
            let who = server.verify(&header, "SERVICE", realm, 101, stored);
            assert_eq!(
                who,
                Ok(Authenticated {
                    username: "alice".into(),
                    realm: realm.into(),
                    algorithm: want,
                })
            );
            assert_eq!(
                server.verify(&header, "SERVICE", realm, 101, stored),
                Err(AuthError::Replay)
            );
            let next = c.authorization(&answer("s3cret \"quoted\"", 2));
            assert!(server.verify(&next, "SERVICE", realm, 102, stored).is_ok());
            let wrong = c.authorization(&answer("guess", 3));
            assert_eq!(
                server.verify(&wrong, "SERVICE", realm, 102, stored),
                Err(AuthError::Wrong)
            );
            // The same credentials for another method do not pass.
            let header = c.authorization(&answer("s3cret \"quoted\"", 4));
            assert_eq!(
                server.verify(&header, "INVITE", realm, 102, stored),
                Err(AuthError::Wrong)
            );
        }
    }

    #[test]
    fn client_answer_without_qop_is_the_rfc2069_form() {
        let realm = "r";
        let mut server = Authenticator::new([3; 32], 300, vec![Algorithm::Md5]);
        let c = Challenge {
            realm: realm.into(),
            nonce: server.nonce(realm, 10),
            algorithm: Algorithm::Md5,
            qop_auth: false,
            opaque: None,
            stale: false,
        };
        let header = c.authorization(&answer("pw", 1));
        assert!(
            !header.contains("qop=")
                && !header.contains("cnonce=")
                && !header.contains(", opaque=")
        );
        let stored = |_: &str, a: Algorithm| Some(ha1(a, "alice", realm, "pw"));
        assert!(server.verify(&header, "SERVICE", realm, 11, stored).is_ok());
    }

    /// RFC 2617 §3.5: the client's header carries the worked example's response.
    #[test]
    fn client_answer_matches_rfc2617() {
        let c = Challenge::parse(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        let header = c.authorization(&ClientAnswer {
            username: "Mufasa",
            password: "Circle Of Life",
            method: "GET",
            uri: "/dir/index.html",
            nc: 1,
            cnonce: "0a4f113b",
        });
        assert_eq!(
            header,
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
             response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, qop=auth, \
             nc=00000001, cnonce=\"0a4f113b\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
        );
        assert_eq!(
            credentials_subject(&header),
            Some(("Mufasa".into(), "testrealm@host.com".into(), Algorithm::Md5))
        );
    }
}
