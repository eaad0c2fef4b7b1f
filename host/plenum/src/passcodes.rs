//! Checking passcodes and PINs against their argon2id hashes without letting the hashing decide
//! how many callers get in, or how much memory the server takes.
//!
//! Each argon2id check costs ~19 MiB and tens of milliseconds of CPU by design. Two things follow:
//! - At most one check per core runs at once ([`SlowHashes::run`]); the rest queue. Unbounded,
//!   a burst of entries ran one check per blocking thread, each with its own 19 MiB, and the
//!   allocator kept gigabytes.
//! - A meeting's guests all key the same passcode, so once a passcode has been checked the slow
//!   way, the next caller's is compared with a keyed SHA-256 of it kept in memory only (key
//!   random per process, entry bound to the stored hash, so a changed passcode is checked
//!   afresh). A wrong passcode always takes the slow path: guessing stays slow. An entry is
//!   forgotten [`REMEMBER_FOR`] after the last caller it let in (guests arrive in the first
//!   minutes of a meeting), so a process's memory holds the fast-to-guess form of a passcode
//!   only while its meeting is being entered, not for the life of the process.
//!
//! Owns: the cache and the bound. Does not own: the hashes (the pool) or what a failure means
//! (the caller audits).

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use plenum_types::Secret;
use sha2::{Digest as _, Sha256};

/// Most meetings remembered; beyond, the expired entries go, and if that is not enough the
/// cache starts again (each entry is ~100 bytes).
const MAX_ENTRIES: usize = 50_000;
/// How long a verified passcode is remembered after the last caller it let in.
pub const REMEMBER_FOR: Duration = Duration::from_secs(15 * 60);

/// The bound on slow hashing and the cache of verified passcodes.
pub struct SlowHashes {
    key: [u8; 32],
    verified: Mutex<HashMap<i64, Verified>>,
    running: Mutex<usize>,
    freed: Condvar,
    limit: usize,
}

/// A passcode verified against `phc`.
struct Verified {
    phc: String,
    mac: [u8; 32],
    /// When it last let a caller in.
    used: Instant,
}

impl Default for SlowHashes {
    fn default() -> Self {
        let limit = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        SlowHashes {
            key: rand::random(),
            verified: Mutex::new(HashMap::new()),
            running: Mutex::new(0),
            freed: Condvar::new(),
            limit,
        }
    }
}

impl SlowHashes {
    /// Run `f` (an argon2id check or hash) when fewer than one per core are running.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            while *running >= self.limit {
                running = self.freed.wait(running).unwrap_or_else(|e| e.into_inner());
            }
            *running += 1;
        }
        let out = f();
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        self.freed.notify_one();
        out
    }

    fn mac(&self, meeting: i64, passcode: &Secret) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(meeting.to_le_bytes());
        h.update(passcode.expose().as_bytes());
        h.finalize().into()
    }

    /// Whether `passcode` is meeting `meeting`'s, whose stored hash is `phc`: from the cache
    /// when this passcode was verified against this hash before, else by `slow` (under the
    /// bound), remembering a success.
    pub fn passcode(
        &self,
        meeting: i64,
        phc: &str,
        passcode: &Secret,
        slow: impl FnOnce() -> bool,
    ) -> bool {
        self.passcode_at(Instant::now(), meeting, phc, passcode, slow)
    }

    fn passcode_at(
        &self,
        now: Instant,
        meeting: i64,
        phc: &str,
        passcode: &Secret,
        slow: impl FnOnce() -> bool,
    ) -> bool {
        let mac = self.mac(meeting, passcode);
        {
            let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(v) = verified.get_mut(&meeting) {
                if now.saturating_duration_since(v.used) >= REMEMBER_FOR {
                    verified.remove(&meeting);
                } else if v.phc == phc && constant_time_eq(&v.mac, &mac) {
                    v.used = now;
                    return true;
                }
            }
        }
        let ok = self.run(slow);
        if ok {
            let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if verified.len() >= MAX_ENTRIES {
                verified.retain(|_, v| now.saturating_duration_since(v.used) < REMEMBER_FOR);
            }
            if verified.len() >= MAX_ENTRIES {
                verified.clear();
            }
            verified.insert(
                meeting,
                Verified {
                    phc: phc.to_owned(),
                    mac,
                    used: now,
                },
            );
        }
        ok
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_verified_passcode_is_not_hashed_again_a_wrong_one_always_is() {
        let h = SlowHashes::default();
        let slow = AtomicUsize::new(0);
        let check = |phc: &str, code: &str, right: bool| {
            h.passcode(7, phc, &Secret::new(code), || {
                slow.fetch_add(1, Ordering::Relaxed);
                right
            })
        };
        assert!(check("$h1", "135790", true));
        assert!(check("$h1", "135790", true));
        assert_eq!(
            slow.load(Ordering::Relaxed),
            1,
            "the second check came from the cache"
        );
        assert!(!check("$h1", "000000", false));
        assert!(!check("$h1", "000000", false));
        assert_eq!(
            slow.load(Ordering::Relaxed),
            3,
            "wrong passcodes are always hashed"
        );
        // The passcode changed (a new hash): the old one is checked afresh, and fails.
        assert!(!check("$h2", "135790", false));
        assert_eq!(slow.load(Ordering::Relaxed), 4);
        // Another meeting with the same digits is its own entry.
        let other = h.passcode(8, "$h1", &Secret::new("135790"), || false);
        assert!(!other);
    }

    #[test]
    fn a_verified_passcode_is_forgotten_a_while_after_its_last_use() {
        let h = SlowHashes::default();
        let slow = AtomicUsize::new(0);
        let t0 = Instant::now();
        let check = |at: Duration| {
            h.passcode_at(t0 + at, 7, "$h1", &Secret::new("135790"), || {
                slow.fetch_add(1, Ordering::Relaxed);
                true
            })
        };
        assert!(check(Duration::ZERO));
        // Each use keeps it: 14 minutes apart, twice.
        assert!(check(REMEMBER_FOR - Duration::from_secs(60)));
        assert!(check(2 * REMEMBER_FOR - Duration::from_secs(120)));
        assert_eq!(slow.load(Ordering::Relaxed), 1);
        // Unused for REMEMBER_FOR: hashed the slow way again.
        assert!(check(3 * REMEMBER_FOR));
        assert_eq!(slow.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn at_most_the_limit_runs_at_once() {
        let h = std::sync::Arc::new(SlowHashes::default());
        let now = std::sync::Arc::new(AtomicUsize::new(0));
        let most = std::sync::Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (h, now, most) = (h.clone(), now.clone(), most.clone());
                std::thread::spawn(move || {
                    h.run(|| {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    });
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= h.limit);
        assert!(most.load(Ordering::SeqCst) >= 1);
    }
}
