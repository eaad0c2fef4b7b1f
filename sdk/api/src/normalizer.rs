//! WIT interfaces `normalizer-types` and `normalizer-api`.

use crate::types::{LocationProfile, Tenant, contract};

contract! {
    /// Which number is being normalized.
    #[derive(Copy, Hash)]
    pub enum NumberKind {
        /// The called number of an inbound call.
        Called,
        /// The calling number of an inbound call.
        Calling,
        /// Digits a caller typed at the attendant.
        Dialed,
    }

    /// One number to normalize with one location profile.
    pub struct NormalizeRequest {
        /// The tenant.
        pub tenant: Tenant,
        /// The profile that applies.
        pub profile: LocationProfile,
        /// The number as received.
        pub number: String,
        /// What the number is.
        pub kind: NumberKind,
    }

    /// The result of normalization.
    pub enum NormalizeOutcome {
        /// No rule matched.
        NoMatch,
        /// The E.164 number, with a leading `+`.
        E164(String),
    }

    /// A vector the plugin ships with itself.
    pub struct NormalizerCanary {
        /// The request.
        pub request: NormalizeRequest,
        /// The outcome the plugin must produce.
        pub expect: NormalizeOutcome,
    }
}

/// Whether `s` is a plausible E.164 number: `+`, then 1 to 15 digits, the first not `0`.
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (1..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_shape() {
        assert!(is_e164("+14255550100"));
        assert!(!is_e164("14255550100"));
        assert!(!is_e164("+"));
        assert!(!is_e164("+0425"));
        assert!(!is_e164("+1425555010012345"));
        assert!(!is_e164("+1425x"));
    }
}
