//! Shared value types of the Plenum host: identifiers and units that cross crate boundaries,
//! each parsed once at the edge (config, wire, database) and trusted afterwards.
//!
//! This crate owns small, pure types only; no I/O, no async, no heavy dependencies.

use std::fmt;
use std::str::FromStr;

pub use plenum_plugin_api::PluginKind;

/// Why a value does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A tenant id must be 1–32 characters of `a-z`, `0-9` and `-`, starting with a letter.
    #[error("invalid tenant id `{0}`: use 1-32 of a-z, 0-9 and -, starting with a letter")]
    TenantId(String),
    /// An E.164 number is `+` and 1–15 digits, the first not 0.
    #[error("invalid E.164 number (expected + and up to 15 digits)")]
    E164,
    /// A digest is 64 lowercase hex characters.
    #[error("invalid digest `{0}`: expected 64 hex characters (sha256)")]
    Digest(String),
    /// A PSTN conference ID is digits ending in a valid check digit.
    #[error("invalid PSTN conference ID (digits with a check digit)")]
    PstnId,
}

/// A tenant identifier, e.g. `contoso`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Parse a tenant id.
    pub fn new(s: &str) -> Result<TenantId, ParseError> {
        let ok = (1..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(TenantId(s.to_owned()))
        } else {
            Err(ParseError::TenantId(s.to_owned()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TenantId::new(s)
    }
}

/// An E.164 telephone number with its leading `+`.
///
/// `Display` shows it whole (it is data); [`E164::redacted`] is what logs show.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    /// Parse `+` and digits; a `tel:` prefix is accepted and dropped.
    pub fn new(s: &str) -> Result<E164, ParseError> {
        let s = s.strip_prefix("tel:").unwrap_or(s);
        if plenum_plugin_api::normalizer::is_e164(s) {
            Ok(E164(s.to_owned()))
        } else {
            Err(ParseError::E164)
        }
    }

    /// The number, `+` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `tel:` URI form.
    pub fn tel_uri(&self) -> String {
        format!("tel:{}", self.0)
    }

    /// The number for logs: country code and the first digits, the last four masked.
    pub fn redacted(&self) -> String {
        redact_number(&self.0)
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for E164 {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        E164::new(s)
    }
}

/// Mask the last four digits of any phone-number-like text, for logs.
pub fn redact_number(s: &str) -> String {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let keep = digits.saturating_sub(4);
    let mut seen = 0;
    s.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen > keep { '*' } else { c }
            } else {
                c
            }
        })
        .collect()
}

/// The sha256 digest of a plugin component's bytes: its identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// Parse 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Digest, ParseError> {
        let err = || ParseError::Digest(s.chars().take(80).collect());
        if s.len() != 64 {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            let pair = s.get(2 * i..2 * i + 2).ok_or_else(err)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| err())?;
        }
        Ok(Digest(out))
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The first 12 hex characters, for display.
    pub fn short(&self) -> String {
        let mut h = self.to_hex();
        h.truncate(12);
        h
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.short())
    }
}

impl FromStr for Digest {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::from_hex(s)
    }
}

/// A numeric PSTN conference ID, check digit included.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PstnId(String);

impl PstnId {
    /// Parse digits whose last digit is the Luhn check digit of the rest.
    pub fn new(s: &str) -> Result<PstnId, ParseError> {
        if plenum_plugin_api::pstn::is_valid(s) {
            Ok(PstnId(s.to_owned()))
        } else {
            Err(ParseError::PstnId)
        }
    }

    /// The ID for `base` digits: `base` plus its check digit.
    pub fn from_base(base: &str) -> Result<PstnId, ParseError> {
        plenum_plugin_api::pstn::with_check_digit(base)
            .map(PstnId)
            .ok_or(ParseError::PstnId)
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PstnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret the host must never log or store in clear: a PIN, a passcode, a password.
///
/// `Debug` and `Display` print `<redacted>`; the value is reachable only through
/// [`Secret::expose`], which makes every use visible in review.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Seconds since the Unix epoch, UTC.
pub type UnixTime = i64;

/// Now, as [`UnixTime`].
pub fn unix_now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids() {
        assert!(TenantId::new("contoso").is_ok());
        assert!(TenantId::new("fab-2").is_ok());
        for bad in ["", "Contoso", "2fab", "a b", "x".repeat(33).as_str()] {
            assert!(TenantId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn e164_and_redaction() {
        let n = E164::new("tel:+14255550100").unwrap();
        assert_eq!(n.as_str(), "+14255550100");
        assert_eq!(n.redacted(), "+1425555****");
        assert_eq!(n.tel_uri(), "tel:+14255550100");
        assert!(E164::new("4255550100").is_err());
        assert_eq!(redact_number("12"), "**");
    }

    #[test]
    fn digests_round_trip() {
        let d = Digest([0xab; 32]);
        assert_eq!(Digest::from_hex(&d.to_hex()), Ok(d));
        assert!(Digest::from_hex("zz").is_err());
        assert!(Digest::from_hex(&"g".repeat(64)).is_err());
        assert_eq!(d.short(), "abababababab");
    }

    #[test]
    fn pstn_ids_need_their_check_digit() {
        let id = PstnId::from_base("7001234").unwrap();
        assert!(PstnId::new(id.as_str()).is_ok());
        let last = id.as_str().chars().last().unwrap().to_digit(10).unwrap();
        let wrong = format!("7001234{}", (last + 1) % 10);
        assert!(PstnId::new(&wrong).is_err());
        assert!(PstnId::new("abc").is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("24680");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), "24680");
    }
}
