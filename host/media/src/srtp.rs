//! SRTP/SRTCP protection of one leg with SDES keys (RFC 3711, RFC 4568), on `webrtc-srtp`.
//!
//! Owns: the outbound context (our key) and the inbound contexts (the peer's key), replay
//! protection (on: a 64-packet window for SRTP and SRTCP; the library's default is off), the
//! length and E-bit checks the library does not make, and the classification of failures into
//! authentication failure, replay and malformed.
//!
//! Why two inbound contexts: `webrtc_srtp::context::Context` creates per-SSRC state (a hash map
//! entry and a replay window) for every SSRC it is asked to decrypt, *before* it checks the
//! authentication tag. Fed forged packets with random SSRCs, one context would grow without
//! bound. So packets of an SSRC that has already authenticated go to the `primary` context;
//! packets of any other SSRC go to a `probe` context, which is thrown away and rebuilt after
//! [`PROBE_LIMIT`] unknown-SSRC attempts. When a probe decryption authenticates, the SSRC is
//! admitted: the same packet is decrypted again by `primary`, which thereby starts that SSRC's
//! rollover and replay state. `primary` only ever holds SSRCs that authenticated, and at most
//! [`MAX_KNOWN`] of them (past that it is rebuilt around the newest).
//!
//! Does not own: which SSRC or source address the leg accepts ([`crate::leg`]).

use bytes::Bytes;
use webrtc_srtp::context::Context;
use webrtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use webrtc_srtp::protection_profile::ProtectionProfile;

use crate::error::Error;

/// Replay window for SRTP and SRTCP, in packets.
const REPLAY_WINDOW: usize = 64;
/// Unknown-SSRC attempts after which the probe context is rebuilt.
const PROBE_LIMIT: u32 = 16;
/// SSRCs the primary context may hold.
const MAX_KNOWN: usize = 8;
/// SRTCP trailer: E flag + 31-bit index.
const SRTCP_INDEX_LEN: usize = 4;
/// RTCP header + sender SSRC.
const RTCP_FIXED_LEN: usize = 8;

/// Why an inbound packet was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    /// The authentication tag did not verify (or SRTCP claimed to be unauthenticated).
    Auth,
    /// The packet index was already seen or is older than the replay window.
    Replay,
    /// Too short or otherwise not SRTP/SRTCP.
    Malformed,
}

/// The two directions of one leg's SRTP.
pub(crate) struct SrtpSession {
    profile: ProtectionProfile,
    outbound: Context,
    rtp_in: Inbound,
    rtcp_in: Inbound,
}

impl std::fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys never reach a log.
        f.debug_struct("SrtpSession")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl SrtpSession {
    /// Contexts from SDES key-and-salt (16-byte key followed by the 14-byte salt).
    pub(crate) fn new(
        profile: ProtectionProfile,
        local: &[u8; 30],
        remote: &[u8; 30],
    ) -> Result<Self, Error> {
        Ok(Self {
            profile,
            outbound: context(profile, local)?,
            rtp_in: Inbound::new(profile, *remote)?,
            rtcp_in: Inbound::new(profile, *remote)?,
        })
    }

    /// Protects a marshalled RTP packet whose header is `header`.
    pub(crate) fn protect_rtp(
        &mut self,
        packet: &[u8],
        header: &rtp::header::Header,
    ) -> Result<Bytes, Error> {
        self.outbound
            .encrypt_rtp_with_header(packet, header)
            .map_err(|_| Error::SrtpProtect)
    }

    /// Protects a marshalled RTCP compound packet.
    pub(crate) fn protect_rtcp(&mut self, packet: &[u8]) -> Result<Bytes, Error> {
        self.outbound
            .encrypt_rtcp(packet)
            .map_err(|_| Error::SrtpProtect)
    }

    /// Verifies and decrypts an SRTP packet whose (bounds-checked) header is `header`.
    pub(crate) fn unprotect_rtp(
        &mut self,
        packet: &[u8],
        header: &rtp::header::Header,
    ) -> Result<Bytes, Reject> {
        if packet.len() < 12 + self.profile.rtp_auth_tag_len() {
            return Err(Reject::Malformed);
        }
        self.rtp_in.unprotect(header.ssrc, |ctx| {
            ctx.decrypt_rtp_with_header(packet, header)
        })
    }

    /// Verifies and decrypts an SRTCP packet.
    pub(crate) fn unprotect_rtcp(&mut self, packet: &[u8]) -> Result<Bytes, Reject> {
        let tag = self.profile.rtcp_auth_tag_len();
        let Some(trailer_at) = packet.len().checked_sub(tag + SRTCP_INDEX_LEN) else {
            return Err(Reject::Malformed);
        };
        // The library indexes the SSRC and the trailer without checking the length.
        if trailer_at < RTCP_FIXED_LEN {
            return Err(Reject::Malformed);
        }
        // With E=0 the library returns the packet without verifying its tag (RFC 3711 §3.4
        // makes authentication mandatory for SRTCP): refuse it as unauthenticated.
        if packet.get(trailer_at).is_none_or(|b| b & 0x80 == 0) {
            return Err(Reject::Auth);
        }
        let ssrc = packet
            .get(4..8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_be_bytes);
        self.rtcp_in.unprotect(ssrc, |ctx| ctx.decrypt_rtcp(packet))
    }
}

/// Inbound contexts of one packet kind (RTP or RTCP); see the module doc.
struct Inbound {
    profile: ProtectionProfile,
    key: [u8; 30],
    primary: Context,
    probe: Context,
    probe_attempts: u32,
    known: Vec<u32>,
}

impl Inbound {
    fn new(profile: ProtectionProfile, key: [u8; 30]) -> Result<Self, Error> {
        Ok(Self {
            profile,
            key,
            primary: context(profile, &key)?,
            probe: context(profile, &key)?,
            probe_attempts: 0,
            known: Vec::with_capacity(MAX_KNOWN),
        })
    }

    fn unprotect(
        &mut self,
        ssrc: u32,
        decrypt: impl Fn(&mut Context) -> Result<Bytes, webrtc_srtp::Error>,
    ) -> Result<Bytes, Reject> {
        if self.known.contains(&ssrc) {
            return decrypt(&mut self.primary).map_err(classify);
        }
        if self.probe_attempts >= PROBE_LIMIT {
            self.probe = context(self.profile, &self.key).map_err(|_| Reject::Malformed)?;
            self.probe_attempts = 0;
        }
        self.probe_attempts += 1;
        decrypt(&mut self.probe).map_err(classify)?;
        // Authenticated: admit the SSRC into the primary context.
        if self.known.len() >= MAX_KNOWN {
            self.primary = context(self.profile, &self.key).map_err(|_| Reject::Malformed)?;
            self.known.clear();
        }
        let plain = decrypt(&mut self.primary).map_err(classify)?;
        self.known.push(ssrc);
        Ok(plain)
    }
}

fn context(profile: ProtectionProfile, key_salt: &[u8; 30]) -> Result<Context, Error> {
    let (key, salt) = key_salt.split_at(16);
    Context::new(
        key,
        salt,
        profile,
        Some(srtp_replay_protection(REPLAY_WINDOW)),
        Some(srtcp_replay_protection(REPLAY_WINDOW)),
    )
    .map_err(|_| Error::SrtpKey)
}

fn classify(err: webrtc_srtp::Error) -> Reject {
    use webrtc_srtp::Error as E;
    match err {
        E::RtpFailedToVerifyAuthTag
        | E::RtcpFailedToVerifyAuthTag
        | E::ErrFailedToVerifyAuthTag => Reject::Auth,
        E::SrtpSsrcDuplicated(..) | E::SrtcpSsrcDuplicated(..) | E::ErrDuplicated => Reject::Replay,
        _ => Reject::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use aes::cipher::{KeyIvInit, StreamCipher};
    use hmac::{Hmac, Mac};
    use sha1::Sha1;
    use webrtc_util::marshal::Marshal;

    use super::*;

    type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 3711 §4.1.1 AES-CM keystream: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16).
    fn keystream(key: &[u8], salt: &[u8], ssrc: u32, index: u64, len: usize) -> Vec<u8> {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(salt);
        for (i, b) in ssrc.to_be_bytes().iter().enumerate() {
            iv[4 + i] ^= b;
        }
        for (i, b) in index.to_be_bytes()[2..].iter().enumerate() {
            iv[8 + i] ^= b;
        }
        let mut out = vec![0u8; len];
        Aes128Ctr::new(key.into(), (&iv).into()).apply_keystream(&mut out);
        out
    }

    #[test]
    fn rfc3711_b2_aes_cm_keystream() {
        // Session key and salt given directly; SSRC, ROC and SEQ zero.
        let key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
        let salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
        let ks = keystream(&key, &salt, 0, 0, 0xFF02 * 16);
        assert_eq!(
            ks[..48],
            hex("E03EAD0935C95E80E166B16DD92B4EB4
                 D23513162B02D0F72A43A2FE4A5F97AB
                 41E95B3BB0A2E8DD477901E4FCA894C0")[..]
        );
        assert_eq!(
            ks[0xFEFF * 16..],
            hex("EC8CDF7398607CB0F2D21675EA9EA1E4
                 362B7C3C6773516318A077D7FC5073AE
                 6A2CC3787889374FBEB4C81B17BA6C44")[..]
        );
    }

    /// The context, keyed with the RFC 3711 B.3 master key, encrypts with exactly the B.3
    /// session keys, the B.2 keystream construction and the RFC 3711 §4.2 HMAC-SHA1 tag.
    #[test]
    fn context_uses_rfc3711_b3_session_keys_and_b2_keystream() {
        let mut master = [0u8; 30];
        master[..16].copy_from_slice(&hex("E1F97A0D3E018BE0D64FA32C06DE4139"));
        master[16..].copy_from_slice(&hex("0EC675AD498AFEEBB6960B3AABE6"));
        let cipher_key = hex("C61E7A93744F39EE10734AFE3FF7A087");
        let cipher_salt = hex("30CBBC08863D8C85D49DB34A9AE1");
        let auth_key = hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4");

        let mut session =
            SrtpSession::new(ProtectionProfile::Aes128CmHmacSha1_80, &master, &master).unwrap();
        let (ssrc, seq) = (0xCAFE_BABE_u32, 0x1234_u16);
        let header = rtp::header::Header {
            version: 2,
            payload_type: 0,
            sequence_number: seq,
            timestamp: 0x0102_0304,
            ssrc,
            ..Default::default()
        };
        let mut plain = header.marshal().unwrap().to_vec();
        plain.extend_from_slice(&[0u8; 160]);
        let srtp = session.protect_rtp(&plain, &header).unwrap();
        assert_eq!(srtp.len(), 12 + 160 + 10);
        assert_eq!(srtp[..12], plain[..12]);
        assert_eq!(
            srtp[12..172],
            keystream(&cipher_key, &cipher_salt, ssrc, u64::from(seq), 160)[..]
        );
        let mut mac = Hmac::<Sha1>::new_from_slice(&auth_key).unwrap();
        mac.update(&srtp[..172]);
        mac.update(&0u32.to_be_bytes()); // ROC
        assert_eq!(srtp[172..], mac.finalize().into_bytes()[..10]);

        // And the inbound side takes it back.
        let back = session.unprotect_rtp(&srtp, &header).unwrap();
        assert_eq!(back[..], plain[..]);
        assert_eq!(session.unprotect_rtp(&srtp, &header), Err(Reject::Replay));
    }

    #[test]
    fn forged_ssrcs_do_not_accumulate_and_known_ssrcs_still_work() {
        let key = [7u8; 30];
        let mut tx = SrtpSession::new(ProtectionProfile::Aes128CmHmacSha1_80, &key, &key).unwrap();
        let mut rx = SrtpSession::new(ProtectionProfile::Aes128CmHmacSha1_80, &key, &key).unwrap();
        let packet = |tx: &mut SrtpSession, ssrc: u32, seq: u16| {
            let header = rtp::header::Header {
                version: 2,
                sequence_number: seq,
                ssrc,
                ..Default::default()
            };
            let mut plain = header.marshal().unwrap().to_vec();
            plain.extend_from_slice(&[1u8; 20]);
            (tx.protect_rtp(&plain, &header).unwrap(), header)
        };
        let (p, h) = packet(&mut tx, 1, 10);
        assert!(rx.unprotect_rtp(&p, &h).is_ok());
        for forged in 0..1000u32 {
            let (p, mut h) = packet(&mut tx, 1000 + forged, 1);
            let mut p = p.to_vec();
            h.ssrc = 5_000_000 + forged;
            p[8..12].copy_from_slice(&h.ssrc.to_be_bytes());
            assert_eq!(rx.unprotect_rtp(&p, &h), Err(Reject::Auth));
        }
        assert_eq!(rx.rtp_in.known, vec![1]);
        assert!(rx.rtp_in.probe_attempts <= PROBE_LIMIT);
        let (p, h) = packet(&mut tx, 1, 11);
        assert!(rx.unprotect_rtp(&p, &h).is_ok());
        // A second authenticated SSRC is admitted.
        let (p, h) = packet(&mut tx, 2, 500);
        assert!(rx.unprotect_rtp(&p, &h).is_ok());
        assert_eq!(rx.rtp_in.known, vec![1, 2]);
        assert_eq!(rx.unprotect_rtp(&p, &h), Err(Reject::Replay));
    }

    #[test]
    fn srtcp_without_the_e_flag_is_refused() {
        let key = [9u8; 30];
        let mut tx = SrtpSession::new(ProtectionProfile::Aes128CmHmacSha1_80, &key, &key).unwrap();
        let mut rx = SrtpSession::new(ProtectionProfile::Aes128CmHmacSha1_80, &key, &key).unwrap();
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 42];
        let protected = tx.protect_rtcp(&rr).unwrap();
        assert_eq!(rx.unprotect_rtcp(&protected).unwrap()[..], rr[..]);
        assert_eq!(rx.unprotect_rtcp(&protected), Err(Reject::Replay));
        // Unauthenticated "SRTCP": the plain RR, an index with E=0 and a junk tag.
        let mut forged = rr.to_vec();
        forged.extend_from_slice(&[0, 0, 0, 5]);
        forged.extend_from_slice(&[0; 10]);
        assert_eq!(rx.unprotect_rtcp(&forged), Err(Reject::Auth));
        for len in 0..22 {
            assert_eq!(rx.unprotect_rtcp(&protected[..len]), Err(Reject::Malformed));
        }
    }
}
