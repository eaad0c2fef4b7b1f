//! The reader on recorded bodies: round trips, what is typed and what is kept, and arbitrary
//! bytes that must never panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::net::IpAddr;

use common::{FIXTURES, fixture, local};
use plenum_sdp::{
    Address, Attribute, CryptoSuite, Direction, MediaKind, Protocol, SessionDescription,
    SrtpPolicy, SrtpSuite, answer,
};

#[test]
fn every_fixture_round_trips() {
    for name in FIXTURES {
        let first =
            SessionDescription::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let printed = first.to_string();
        let second = SessionDescription::parse(printed.as_bytes()).unwrap();
        assert_eq!(first, second, "{name}");
        assert_eq!(printed, second.to_string(), "{name}: printing is stable");
        assert!(printed.ends_with("\r\n") && !printed.replace("\r\n", "").contains('\n'));
    }
}

#[test]
fn sipp_body_prints_back_byte_for_byte() {
    let body = fixture("sipp_uac.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    assert_eq!(sdp.to_string().as_bytes(), body.as_slice());
}

#[test]
fn baresip_body_is_read_in_full() {
    let sdp = SessionDescription::parse(&fixture("baresip_srtp.sdp")).unwrap();
    assert_eq!(sdp.origin.session_id, "2920850526");
    assert_eq!(sdp.origin.session_version, "547572488");
    assert_eq!(
        sdp.attributes,
        [Attribute::Other {
            name: "tool".into(),
            value: Some("baresip 1.0.0".into())
        }]
    );
    let m = &sdp.media[0];
    assert_eq!(
        (m.kind.clone(), m.port, m.protocol.clone()),
        (MediaKind::Audio, 10010, Protocol::RtpSavp)
    );
    assert_eq!(m.formats, ["0", "8", "101"]);
    assert_eq!(m.rtpmap(101).unwrap().encoding, "telephone-event");
    assert_eq!(m.direction(), Some(Direction::SendRecv));
    assert_eq!(m.ptime(), Some(20));
    let crypto: Vec<_> = m.crypto().collect();
    assert_eq!(crypto.len(), 1);
    assert_eq!(
        crypto[0].suite,
        CryptoSuite::Supported(SrtpSuite::AesCm128HmacSha1_80)
    );
    assert_eq!(
        crypto[0].keys[0].key_salt,
        "+TiXbBWWPXW/AfPfG1SG+KEHqGsZLTajJfYsgKQg"
    );
    let ip: IpAddr = "192.0.2.2".parse().unwrap();
    assert_eq!(sdp.connection.unwrap().address, Address::Ip(ip));
}

#[test]
fn lync_body_keeps_what_ezk_would_cut() {
    let sdp = SessionDescription::parse(&fixture("lync2013.sdp")).unwrap();
    let m = &sdp.media[0];
    let crypto: Vec<_> = m.crypto().collect();
    assert_eq!(crypto.len(), 2);
    assert_eq!(crypto[0].keys[0].lifetime, Some(1 << 31));
    assert_eq!(crypto[0].keys[0].mki, Some((1, 1)));
    assert_eq!(crypto[1].keys[0].mki, None);
    assert_eq!(m.rtcp().unwrap().port, 31621);
    assert!(m.attributes.contains(&Attribute::Other {
        name: "rtcp-fb".into(),
        value: Some("* x-message app send:dsh recv:dsh".into()),
    }));
    assert!(
        sdp.to_string()
            .contains("a=rtcp-fb:* x-message app send:dsh recv:dsh\r\n")
    );
    assert!(
        sdp.other
            .iter()
            .any(|f| f.letter == 'b' && f.value == "CT:99980")
    );
}

#[test]
fn ocs2007_draft_candidates_do_not_spoil_the_body() {
    let sdp = SessionDescription::parse(&fixture("ocs2007r2.sdp")).unwrap();
    let candidates = sdp.media[0]
        .attributes
        .iter()
        .filter(|a| matches!(a, Attribute::Other { name, .. } if name == "candidate"))
        .count();
    assert_eq!(candidates, 4);
}

#[test]
fn t38_image_section_is_read() {
    let sdp = SessionDescription::parse(&fixture("t38_reinvite.sdp")).unwrap();
    let m = &sdp.media[0];
    assert_eq!(m.kind, MediaKind::Image);
    assert_eq!(m.protocol, Protocol::Other("udptl".into()));
    assert_eq!(m.formats, ["t38"]);
    assert_eq!(m.payload_types().count(), 0);
}

#[test]
fn line_end_variants_read_alike() {
    let crlf = fixture("asterisk.sdp");
    let text = String::from_utf8(crlf.clone()).unwrap();
    let reference = SessionDescription::parse(&crlf).unwrap();
    let lf = text.replace("\r\n", "\n");
    let cr = text.replace("\r\n", "\r");
    let trailing = text.replace("\r\n", " \t\r\n");
    for variant in [lf, cr, trailing] {
        assert_eq!(
            SessionDescription::parse(variant.as_bytes()).unwrap(),
            reference
        );
    }
}

/// SplitMix64: a small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Tokens that steer mutations toward the reader's and negotiator's interesting paths.
const TOKENS: &[&str] = &[
    "\r\n",
    "\n",
    "\r",
    " ",
    "=",
    ":",
    "/",
    "|",
    "^",
    "2^",
    "2^48",
    "|2^32",
    "0",
    "65535",
    "65536",
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:",
    "inline:",
    "m=audio ",
    "c=IN IP4 ",
    "IN IP6 ::",
    "a=rtpmap:",
    "a=fmtp:",
    "a=rtcp:",
    "a=ptime:",
    "RTP/SAVP",
    "a=sendonly",
    "0.0.0.0",
    "\u{fffd}",
    "\u{0}",
    "é",
    "v=0\r\n",
    "o=- 1 1 IN IP4 x\r\n",
    "99999999999999999999",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(8) {
        let at = if out.is_empty() {
            0
        } else {
            rng.below(out.len() + 1)
        };
        match rng.below(4) {
            0 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            1 if at < out.len() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            2 if at < out.len() => out[at] = rng.next() as u8,
            _ => out.insert(at.min(out.len()), rng.next() as u8),
        }
    }
    out
}

/// Arbitrary bytes and mutated real bodies never panic the reader or the negotiator, and
/// whatever reads also prints and reads back equal.
#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0x5eed_5eed);
    let seeds: Vec<Vec<u8>> = FIXTURES.iter().map(|n| fixture(n)).collect();
    let ours = local(SrtpPolicy::Optional);
    let our_offer = plenum_sdp::offer(&ours, &mut || [1; 30]);
    for round in 0..20_000 {
        let input = if round % 4 == 0 {
            (0..rng.below(300)).map(|_| rng.next() as u8).collect()
        } else {
            let seed = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, seed)
        };
        if let Ok(sdp) = SessionDescription::parse(&input) {
            let again = SessionDescription::parse(sdp.to_string().as_bytes())
                .unwrap_or_else(|e| panic!("printed body does not read ({e}): {input:?}"));
            assert_eq!(sdp, again, "round trip of {input:?}");
        }
        let _ = answer(&input, &ours, &mut || [2; 30]);
        let _ = our_offer.accept(&input);
    }
}
