//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test file uses a subset

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use plenum_sdp::{LocalMedia, SRTP_KEY_LEN, SrtpPolicy};

/// Every fixture file name.
pub const FIXTURES: [&str; 14] = [
    "sipp_uac.sdp",
    "baresip_srtp.sdp",
    "baresip_hold.sdp",
    "lync2013.sdp",
    "ocs2007r2.sdp",
    "asterisk.sdp",
    "freeswitch.sdp",
    "polycom.sdp",
    "rfc2543_hold.sdp",
    "video_audio.sdp",
    "no_common_codec.sdp",
    "srtp_unsupported_suite.sdp",
    "t38_reinvite.sdp",
    "two_audio.sdp",
];

pub fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub const OUR_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

/// Our side at 192.0.2.1:40000, session id 42, with the given SRTP policy.
pub fn local(srtp: SrtpPolicy) -> LocalMedia {
    LocalMedia {
        srtp,
        ..LocalMedia::new(OUR_IP, 40000, 42)
    }
}

/// A deterministic key source: key n (from 1) is 30 bytes of n; counts its calls.
#[derive(Default)]
pub struct Keys {
    pub drawn: u8,
}

impl Keys {
    pub fn next(&mut self) -> [u8; SRTP_KEY_LEN] {
        self.drawn += 1;
        [self.drawn; SRTP_KEY_LEN]
    }
}

/// Base64 of a key of repeated byte `b`, as it appears in `inline:`.
pub fn b64_of(b: u8) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode([b; SRTP_KEY_LEN])
}

pub fn decode(text: &str) -> [u8; SRTP_KEY_LEN] {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
        .try_into()
        .unwrap()
}
