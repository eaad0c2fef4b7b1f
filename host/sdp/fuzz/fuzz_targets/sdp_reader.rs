//! Arbitrary bytes as an SDP body: the reader, the writer and both sides of offer/answer must
//! never panic, and whatever reads must print and read back equal.

#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use plenum_sdp::{LocalMedia, SessionDescription, SrtpPolicy, answer, offer};

fuzz_target!(|data: &[u8]| {
    if let Ok(sdp) = SessionDescription::parse(data) {
        let printed = sdp.to_string();
        let again = SessionDescription::parse(printed.as_bytes())
            .unwrap_or_else(|e| panic!("printed body does not read back ({e}):\n{printed}"));
        assert_eq!(sdp, again, "round trip changed the description:\n{printed}");
    }
    for srtp in [SrtpPolicy::Off, SrtpPolicy::Optional, SrtpPolicy::Required] {
        let local = LocalMedia {
            srtp,
            ..LocalMedia::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 40000, 42)
        };
        if let Ok(a) = answer(data, &local, &mut || [7; 30]) {
            // Our own answer must always read back.
            SessionDescription::parse(a.sdp.as_bytes()).expect("our answer reads");
        }
        let _ = offer(&local, &mut || [9; 30]).accept(data);
    }
});
