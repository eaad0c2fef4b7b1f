//! Answering recorded offers: every field of what is agreed, and the answer's text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use common::{Keys, b64_of, decode, fixture, local};
use plenum_sdp::{
    Codec, CodecKind, Direction, MediaKind, Protocol, Rejection, SessionDescription, SrtpPolicy,
    SrtpSuite, answer,
};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn sipp_uac_plain_pcmu() {
    let mut keys = Keys::default();
    let a = answer(
        &fixture("sipp_uac.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || keys.next(),
    )
    .unwrap();
    assert_eq!(a.media.remote_rtp, addr("127.0.0.1:6004"));
    assert_eq!(a.media.remote_rtcp, addr("127.0.0.1:6005"));
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 0,
            kind: CodecKind::Pcmu
        }
    );
    assert_eq!(a.media.telephone_event_pt, None);
    assert_eq!(a.media.ptime, 20);
    assert_eq!(a.media.direction, Direction::SendRecv);
    assert_eq!(a.media.srtp, None);
    assert_eq!(keys.drawn, 0, "no key drawn for plain RTP");
    assert_eq!(
        a.sdp,
        "v=0\r\n\
         o=plenum 42 42 IN IP4 192.0.2.1\r\n\
         s=-\r\n\
         c=IN IP4 192.0.2.1\r\n\
         t=0 0\r\n\
         m=audio 40000 RTP/AVP 0\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    );
}

#[test]
fn sipp_uac_with_srtp_required_is_rejected() {
    let e = answer(
        &fixture("sipp_uac.sdp"),
        &local(SrtpPolicy::Required),
        &mut || [0; 30],
    )
    .unwrap_err();
    assert_eq!(e, Rejection::SrtpRequired);
    assert_eq!(e.status(), 488);
    assert_eq!(e.warning().code, 302);
}

#[test]
fn baresip_srtp() {
    let mut keys = Keys::default();
    let a = answer(
        &fixture("baresip_srtp.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || keys.next(),
    )
    .unwrap();
    assert_eq!(a.media.remote_rtp, addr("192.0.2.2:10010"));
    assert_eq!(a.media.remote_rtcp, addr("192.0.2.2:10011"));
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 0,
            kind: CodecKind::Pcmu
        }
    );
    assert_eq!(a.media.telephone_event_pt, Some(101));
    assert_eq!(a.media.ptime, 20);
    assert_eq!(a.media.direction, Direction::SendRecv);
    let srtp = a.media.srtp.as_ref().unwrap();
    assert_eq!(srtp.suite, SrtpSuite::AesCm128HmacSha1_80);
    assert_eq!(srtp.ours, [1; 30]);
    assert_eq!(
        srtp.theirs,
        decode("+TiXbBWWPXW/AfPfG1SG+KEHqGsZLTajJfYsgKQg")
    );
    assert_eq!(keys.drawn, 1);
    assert_eq!(
        a.sdp,
        format!(
            "v=0\r\n\
             o=plenum 42 42 IN IP4 192.0.2.1\r\n\
             s=-\r\n\
             c=IN IP4 192.0.2.1\r\n\
             t=0 0\r\n\
             m=audio 40000 RTP/SAVP 0 101\r\n\
             a=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\n\
             a=fmtp:101 0-15\r\n\
             a=ptime:20\r\n\
             a=sendrecv\r\n\
             a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n",
            b64_of(1)
        )
    );
    assert!(
        !format!("{a:?}").contains(&b64_of(1)),
        "Debug must not show keys"
    );
}

#[test]
fn baresip_srtp_with_srtp_off_is_rejected() {
    let e = answer(
        &fixture("baresip_srtp.sdp"),
        &local(SrtpPolicy::Off),
        &mut || [0; 30],
    )
    .unwrap_err();
    assert_eq!(e, Rejection::SrtpDisabled);
    assert_eq!(e.warning().code, 302);
}

#[test]
fn lync_picks_the_crypto_line_without_mki() {
    let mut keys = Keys::default();
    let a = answer(
        &fixture("lync2013.sdp"),
        &local(SrtpPolicy::Required),
        &mut || keys.next(),
    )
    .unwrap();
    assert_eq!(a.media.remote_rtp, addr("10.20.30.40:31620"));
    assert_eq!(a.media.remote_rtcp, addr("10.20.30.40:31621"));
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 0,
            kind: CodecKind::Pcmu
        }
    );
    assert_eq!(a.media.telephone_event_pt, Some(101));
    assert_eq!(a.media.ptime, 20);
    assert_eq!(a.media.direction, Direction::SendRecv);
    let srtp = a.media.srtp.unwrap();
    assert_eq!(srtp.suite, SrtpSuite::AesCm128HmacSha1_80);
    let offer = SessionDescription::parse(&fixture("lync2013.sdp")).unwrap();
    let tag3 = offer.media[0].crypto().find(|c| c.tag == 3).unwrap();
    assert_eq!(srtp.theirs, decode(&tag3.keys[0].key_salt));
    assert!(a.sdp.contains("m=audio 40000 RTP/SAVP 0 101\r\n"));
    assert!(a.sdp.contains(&format!(
        "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n",
        b64_of(1)
    )));
    assert_eq!(a.sdp.matches("a=crypto").count(), 1);
}

#[test]
fn ocs2007r2_with_draft_ice_candidates_gets_pcma() {
    let a = answer(
        &fixture("ocs2007r2.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [9; 30],
    )
    .unwrap();
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 8,
            kind: CodecKind::Pcma
        }
    );
    assert_eq!(a.media.remote_rtp, addr("192.168.10.21:17344"));
    assert_eq!(a.media.remote_rtcp, addr("192.168.10.21:17345"));
    assert_eq!(a.media.telephone_event_pt, Some(101));
    assert!(a.sdp.contains("a=crypto:3 AES_CM_128_HMAC_SHA1_80 "));
}

#[test]
fn asterisk_pcma_first() {
    let a = answer(
        &fixture("asterisk.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap();
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 8,
            kind: CodecKind::Pcma
        }
    );
    assert_eq!(a.media.telephone_event_pt, Some(101));
    assert_eq!(a.media.ptime, 20);
    assert_eq!(a.media.direction, Direction::SendRecv);
    assert_eq!(a.media.remote_rtp, addr("198.51.100.7:17442"));
    assert!(
        a.sdp
            .contains("m=audio 40000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n")
    );
}

#[test]
fn our_codec_list_limits_the_choice() {
    let mut ours = local(SrtpPolicy::Optional);
    ours.codecs = vec![CodecKind::Pcmu];
    let a = answer(&fixture("asterisk.sdp"), &ours, &mut || [0; 30]).unwrap();
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 0,
            kind: CodecKind::Pcmu
        }
    );
}

#[test]
fn freeswitch_skips_opus_and_reads_rtcp_attribute() {
    let a = answer(
        &fixture("freeswitch.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap();
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 0,
            kind: CodecKind::Pcmu
        }
    );
    assert_eq!(a.media.remote_rtp, addr("198.51.100.20:24566"));
    assert_eq!(a.media.remote_rtcp, addr("198.51.100.20:24567"));
}

#[test]
fn polycom_telephone_event_pt_is_followed() {
    let a = answer(
        &fixture("polycom.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap();
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 0,
            kind: CodecKind::Pcmu
        }
    );
    assert_eq!(a.media.telephone_event_pt, Some(127));
    assert!(a.sdp.contains("m=audio 40000 RTP/AVP 0 127\r\n"));
    assert!(
        a.sdp
            .contains("a=rtpmap:127 telephone-event/8000\r\na=fmtp:127 0-15\r\n")
    );
}

#[test]
fn telephone_event_off_leaves_it_out() {
    let mut ours = local(SrtpPolicy::Optional);
    ours.telephone_event = false;
    let a = answer(&fixture("polycom.sdp"), &ours, &mut || [0; 30]).unwrap();
    assert_eq!(a.media.telephone_event_pt, None);
    assert!(a.sdp.contains("m=audio 40000 RTP/AVP 0\r\n"));
    assert!(!a.sdp.contains("telephone-event"));
}

#[test]
fn rfc2543_hold_counts_as_sendonly() {
    let a = answer(
        &fixture("rfc2543_hold.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap();
    assert_eq!(a.media.direction, Direction::RecvOnly);
    assert_eq!(a.media.remote_rtp, addr("0.0.0.0:18876"));
    assert!(a.sdp.contains("a=recvonly\r\n"));
}

#[test]
fn baresip_hold_is_answered_recvonly() {
    let a = answer(
        &fixture("baresip_hold.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap();
    assert_eq!(a.media.direction, Direction::RecvOnly);
    assert!(a.sdp.contains("a=recvonly\r\n"));
}

#[test]
fn direction_table() {
    let base = String::from_utf8(fixture("asterisk.sdp")).unwrap();
    for (offered, answered) in [
        ("sendrecv", Direction::SendRecv),
        ("sendonly", Direction::RecvOnly),
        ("recvonly", Direction::SendOnly),
        ("inactive", Direction::Inactive),
    ] {
        let offer = base.replace("a=sendrecv", &format!("a={offered}"));
        let a = answer(offer.as_bytes(), &local(SrtpPolicy::Off), &mut || [0; 30]).unwrap();
        assert_eq!(a.media.direction, answered, "{offered}");
        assert!(a.sdp.contains(&format!("a={}\r\n", answered.as_str())));
    }
}

#[test]
fn video_is_refused_and_audio_accepted() {
    let a = answer(
        &fixture("video_audio.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap();
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 0,
            kind: CodecKind::Pcmu
        }
    );
    assert_eq!(a.media.telephone_event_pt, Some(101));
    let sdp = SessionDescription::parse(a.sdp.as_bytes()).unwrap();
    assert_eq!(sdp.media.len(), 2);
    assert_eq!(sdp.media[0].kind, MediaKind::Video);
    assert_eq!(sdp.media[0].port, 0);
    assert_eq!(sdp.media[0].formats, ["96", "97"]);
    assert!(sdp.media[0].attributes.is_empty());
    assert_eq!(sdp.media[1].kind, MediaKind::Audio);
    assert_eq!(sdp.media[1].port, 40000);
    assert!(
        a.sdp
            .contains("m=video 0 RTP/AVP 96 97\r\nm=audio 40000 RTP/AVP 0 101\r\n")
    );
}

#[test]
fn two_audio_sections_take_the_first_usable() {
    let a = answer(
        &fixture("two_audio.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap();
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 8,
            kind: CodecKind::Pcma
        }
    );
    assert_eq!(a.media.remote_rtp, addr("192.0.2.60:5006"));
    assert_eq!(a.media.srtp, None);
    let sdp = SessionDescription::parse(a.sdp.as_bytes()).unwrap();
    assert_eq!(sdp.media[0].port, 0);
    assert_eq!(sdp.media[0].protocol, Protocol::RtpSavp);
    assert_eq!(sdp.media[1].port, 40000);
}

#[test]
fn two_audio_sections_with_srtp_required_report_the_first_reason() {
    let e = answer(
        &fixture("two_audio.sdp"),
        &local(SrtpPolicy::Required),
        &mut || [0; 30],
    )
    .unwrap_err();
    assert_eq!(e, Rejection::NoUsableCrypto);
}

#[test]
fn no_common_codec() {
    let e = answer(
        &fixture("no_common_codec.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap_err();
    assert_eq!(e, Rejection::NoCommonCodec);
    assert_eq!(e.warning().code, 305);
}

#[test]
fn unsupported_srtp_suites_only() {
    let mut keys = Keys::default();
    let e = answer(
        &fixture("srtp_unsupported_suite.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || keys.next(),
    )
    .unwrap_err();
    assert_eq!(e, Rejection::NoUsableCrypto);
    assert_eq!(e.warning().code, 306);
    assert_eq!(keys.drawn, 0);
}

#[test]
fn t38_reinvite_reads_and_is_refused_for_lack_of_audio() {
    let e = answer(
        &fixture("t38_reinvite.sdp"),
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap_err();
    assert_eq!(e, Rejection::NoAudio);
    assert_eq!(e.warning().code, 304);
}

#[test]
fn garbage_is_malformed_488_399() {
    let e = answer(
        b"INVITE sip:x SIP/2.0\r\n",
        &local(SrtpPolicy::Optional),
        &mut || [0; 30],
    )
    .unwrap_err();
    assert!(matches!(e, Rejection::Malformed(_)));
    assert_eq!(e.status(), 488);
    assert_eq!(e.warning().code, 399);
}

#[test]
fn best_effort_srtp_on_rtp_avp() {
    let base = String::from_utf8(fixture("baresip_srtp.sdp")).unwrap();
    let offer = base.replace("RTP/SAVP", "RTP/AVP");
    let mut keys = Keys::default();
    let a = answer(offer.as_bytes(), &local(SrtpPolicy::Optional), &mut || {
        keys.next()
    })
    .unwrap();
    assert!(a.media.srtp.is_some());
    assert!(a.sdp.contains("m=audio 40000 RTP/AVP 0 101\r\n"));
    assert!(a.sdp.contains("a=crypto:1 "));
    let plain = answer(offer.as_bytes(), &local(SrtpPolicy::Off), &mut || [0; 30]).unwrap();
    assert_eq!(plain.media.srtp, None);
    assert!(!plain.sdp.contains("a=crypto"));
}

#[test]
fn addresses_we_cannot_use() {
    let base = String::from_utf8(fixture("asterisk.sdp")).unwrap();
    let cases = [
        ("c=IN IP4 pbx.example.com", Rejection::HostName),
        ("c=IN IP6 2001:db8::7", Rejection::AddressFamily),
        ("c=IN IP4 233.252.0.1/127", Rejection::Multicast),
    ];
    for (line, expected) in cases {
        let offer = base.replace("c=IN IP4 198.51.100.7", line);
        let e = answer(offer.as_bytes(), &local(SrtpPolicy::Off), &mut || [0; 30]).unwrap_err();
        assert_eq!(e, expected, "{line}");
    }
    let offer = base.replace("c=IN IP4 198.51.100.7\r\n", "");
    let e = answer(offer.as_bytes(), &local(SrtpPolicy::Off), &mut || [0; 30]).unwrap_err();
    assert_eq!(e, Rejection::MissingConnection);
}

#[test]
fn ipv6_both_sides() {
    let offer = "v=0\r\no=- 1 1 IN IP6 2001:db8::7\r\ns=-\r\nc=IN IP6 2001:db8::7\r\nt=0 0\r\n\
                 m=audio 5000 RTP/AVP 8\r\n";
    let mut ours = local(SrtpPolicy::Off);
    ours.address = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    let a = answer(offer.as_bytes(), &ours, &mut || [0; 30]).unwrap();
    assert_eq!(a.media.remote_rtp, addr("[2001:db8::7]:5000"));
    assert!(a.sdp.contains("c=IN IP6 2001:db8::1\r\n"));
    assert!(a.sdp.contains("o=plenum 42 42 IN IP6 2001:db8::1\r\n"));
}

#[test]
fn dynamic_pt_for_pcmu_is_honoured() {
    let offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
                 m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 pcmu/8000/1\r\n";
    let a = answer(offer.as_bytes(), &local(SrtpPolicy::Off), &mut || [0; 30]).unwrap();
    assert_eq!(
        a.media.codec,
        Codec {
            pt: 96,
            kind: CodecKind::Pcmu
        }
    );
    assert!(
        a.sdp
            .contains("m=audio 40000 RTP/AVP 96\r\na=rtpmap:96 PCMU/8000\r\n")
    );
}

#[test]
fn odd_ptime_falls_back_to_ours() {
    let base = String::from_utf8(fixture("asterisk.sdp")).unwrap();
    let a = answer(
        base.replace("a=ptime:20", "a=ptime:30").as_bytes(),
        &local(SrtpPolicy::Off),
        &mut || [0; 30],
    )
    .unwrap();
    assert_eq!(a.media.ptime, 30);
    let a = answer(
        base.replace("a=ptime:20", "a=ptime:25").as_bytes(),
        &local(SrtpPolicy::Off),
        &mut || [0; 30],
    )
    .unwrap();
    assert_eq!(a.media.ptime, 20);
}
