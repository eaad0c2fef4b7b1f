//! Slow salted hashes for PINs and passcodes (argon2id, PHC strings) and SIP digest HA1s.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use plenum_types::Secret;
use rand::RngCore;
use sha2::Digest as _;

use crate::{DigestAlgorithm, StorageError};

/// Argon2id parameters for new PIN and passcode hashes.
///
/// Each hash is a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) that carries its own
/// parameters, so hashes made with older parameters keep verifying after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hasher {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl Default for Hasher {
    /// The OWASP minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Hasher::OWASP
    }
}

impl Hasher {
    /// The OWASP minimum for argon2id: m = 19456 KiB, t = 2, p = 1.
    pub const OWASP: Hasher = Hasher {
        memory_kib: Params::DEFAULT_M_COST,
        iterations: Params::DEFAULT_T_COST,
        parallelism: Params::DEFAULT_P_COST,
    };

    /// Parameters of one's own: memory in KiB, iterations, lanes. Argon2's limits apply
    /// (memory at least 8 KiB per lane, at least one iteration and one lane).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Hasher, StorageError> {
        let hasher = Hasher {
            memory_kib,
            iterations,
            parallelism,
        };
        hasher.params()?;
        Ok(hasher)
    }

    /// Memory cost in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Time cost (passes).
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Lanes.
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    /// Hash a secret with a fresh random salt; returns the PHC string.
    pub fn hash(&self, secret: &Secret) -> Result<String, StorageError> {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params()?);
        Ok(argon
            .hash_password(secret.expose().as_bytes(), &salt)?
            .to_string())
    }

    /// Whether `secret` matches a PHC hash made by any argon2 parameters (constant-time compare).
    /// A stored string that is not a PHC argon2 hash is [`StorageError::Corrupt`].
    pub fn verify(phc: &str, secret: &Secret) -> Result<bool, StorageError> {
        let parsed = PasswordHash::new(phc).map_err(|_| StorageError::Corrupt {
            what: "secret hash",
        })?;
        match Argon2::default().verify_password(secret.expose().as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::Password) => Ok(false),
            Err(e) => Err(StorageError::Hash(e)),
        }
    }

    fn params(&self) -> Result<Params, StorageError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None).map_err(|_| {
            StorageError::Invalid {
                what: "argon2 parameters",
            }
        })
    }
}

/// The SIP digest HA1 (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2): `H(username:realm:password)`,
/// lowercase hex, with `H` the algorithm's hash.
pub fn compute_ha1(
    algorithm: DigestAlgorithm,
    username: &str,
    realm: &str,
    password: &Secret,
) -> String {
    let input = format!("{username}:{realm}:{}", password.expose());
    match algorithm {
        DigestAlgorithm::Md5 => hex::encode(md5::Md5::digest(input.as_bytes())),
        DigestAlgorithm::Sha256 => hex::encode(sha2::Sha256::digest(input.as_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Hasher {
        Hasher::new(64, 1, 1).unwrap()
    }

    #[test]
    fn hashes_are_salted_phc_strings_that_verify() {
        let pin = Secret::new("24680");
        let a = cheap().hash(&pin).unwrap();
        let b = cheap().hash(&pin).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt per hash");
        assert!(Hasher::verify(&a, &pin).unwrap());
        assert!(!Hasher::verify(&a, &Secret::new("24681")).unwrap());
    }

    #[test]
    fn old_parameters_keep_verifying() {
        let pin = Secret::new("13579");
        let old = Hasher::new(32, 2, 1).unwrap().hash(&pin).unwrap();
        assert!(Hasher::verify(&old, &pin).unwrap());
    }

    #[test]
    fn garbage_hash_is_corrupt_not_a_panic() {
        assert!(matches!(
            Hasher::verify("not a hash", &Secret::new("1")),
            Err(StorageError::Corrupt { .. })
        ));
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Hasher::new(0, 0, 0).is_err());
        assert_eq!(Hasher::default(), Hasher::new(19456, 2, 1).unwrap());
    }

    #[test]
    fn rfc_2617_example_ha1() {
        // RFC 2617 §3.5: Mufasa / testrealm@host.com / Circle Of Life.
        let ha1 = compute_ha1(
            DigestAlgorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            &Secret::new("Circle Of Life"),
        );
        assert_eq!(ha1, "939e7578ed9e3c518a452acee763bce9");
    }
}
