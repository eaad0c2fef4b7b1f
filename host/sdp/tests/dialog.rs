//! Offers and answers across a dialog: re-offers, `o=` versions, keys kept or changed, late
//! offers, our own hold and resume.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{Keys, b64_of, fixture, local};
use plenum_sdp::{
    Codec, CodecKind, Direction, LocalMedia, Rejection, Session, SessionDescription, SrtpPolicy,
    SrtpSuite, offer,
};

fn origin_of(sdp: &str) -> (String, String) {
    let o = SessionDescription::parse(sdp.as_bytes()).unwrap().origin;
    (o.session_id, o.session_version)
}

#[test]
fn baresip_hold_reoffer_bumps_version_and_keeps_keys() {
    let mut keys = Keys::default();
    let mut session = Session::new(local(SrtpPolicy::Optional));
    let first = session
        .answer(&fixture("baresip_srtp.sdp"), &mut || keys.next())
        .unwrap();
    assert_eq!(origin_of(&first.sdp), ("42".into(), "42".into()));

    let hold = session
        .answer(&fixture("baresip_hold.sdp"), &mut || keys.next())
        .unwrap();
    assert_eq!(origin_of(&hold.sdp), ("42".into(), "43".into()));
    assert_eq!(hold.media.direction, Direction::RecvOnly);
    assert_eq!(
        hold.media.srtp, first.media.srtp,
        "peer kept its key, so we keep ours"
    );
    assert_eq!(keys.drawn, 1);
    assert!(hold.sdp.contains(&format!("inline:{}", b64_of(1))));
    assert_eq!(session.version(), Some(43));
    assert_eq!(session.media(), Some(&hold.media));

    // Resume: the same offer as the first again. The answer differs from the last one we sent
    // (sendrecv, not recvonly), so the version goes on up.
    let resume = session
        .answer(&fixture("baresip_srtp.sdp"), &mut || keys.next())
        .unwrap();
    assert_eq!(origin_of(&resume.sdp), ("42".into(), "44".into()));
    assert_eq!(resume.media.direction, Direction::SendRecv);
}

#[test]
fn unchanged_reoffer_keeps_version() {
    let mut session = Session::new(local(SrtpPolicy::Optional));
    let first = session
        .answer(&fixture("asterisk.sdp"), &mut || [0; 30])
        .unwrap();
    let refresh = session
        .answer(&fixture("asterisk.sdp"), &mut || [0; 30])
        .unwrap();
    assert_eq!(
        first.sdp, refresh.sdp,
        "session-timer refresh: same body, same version"
    );
}

#[test]
fn peer_rekey_gets_a_fresh_key_of_ours() {
    let mut keys = Keys::default();
    let mut session = Session::new(local(SrtpPolicy::Optional));
    let first = session
        .answer(&fixture("baresip_srtp.sdp"), &mut || keys.next())
        .unwrap();
    let rekeyed = String::from_utf8(fixture("baresip_srtp.sdp"))
        .unwrap()
        .replace("+TiXbBWWPXW/AfPfG1SG+KEHqGsZLTajJfYsgKQg", &b64_of(0xAB))
        .replace("547572488", "547572489");
    let second = session
        .answer(rekeyed.as_bytes(), &mut || keys.next())
        .unwrap();
    let (a, b) = (first.media.srtp.unwrap(), second.media.srtp.unwrap());
    assert_eq!(b.theirs, [0xAB; 30]);
    assert_eq!(a.ours, [1; 30]);
    assert_eq!(b.ours, [2; 30]);
    assert_eq!(origin_of(&second.sdp).1, "43");
}

#[test]
fn address_change_is_reported() {
    let mut session = Session::new(local(SrtpPolicy::Optional));
    session
        .answer(&fixture("asterisk.sdp"), &mut || [0; 30])
        .unwrap();
    let moved = String::from_utf8(fixture("asterisk.sdp"))
        .unwrap()
        .replace("198.51.100.7", "198.51.100.8")
        .replace("17442", "17500");
    let a = session.answer(moved.as_bytes(), &mut || [0; 30]).unwrap();
    assert_eq!(a.media.remote_rtp, "198.51.100.8:17500".parse().unwrap());
    assert_eq!(origin_of(&a.sdp).1, "42", "our answer text did not change");
}

#[test]
fn rejected_reoffer_leaves_the_session_alone() {
    let mut session = Session::new(local(SrtpPolicy::Optional));
    let first = session
        .answer(&fixture("asterisk.sdp"), &mut || [0; 30])
        .unwrap();
    let e = session
        .answer(&fixture("t38_reinvite.sdp"), &mut || [0; 30])
        .unwrap_err();
    assert_eq!(e, Rejection::NoAudio);
    assert_eq!(session.media(), Some(&first.media));
    assert_eq!(session.version(), Some(42));
}

#[test]
fn late_offer_text_and_keys() {
    let mut keys = Keys::default();
    let o = offer(&local(SrtpPolicy::Optional), &mut || keys.next());
    assert_eq!(keys.drawn, 2);
    assert_eq!(
        o.sdp(),
        format!(
            "v=0\r\n\
             o=plenum 42 42 IN IP4 192.0.2.1\r\n\
             s=-\r\n\
             c=IN IP4 192.0.2.1\r\n\
             t=0 0\r\n\
             m=audio 40000 RTP/AVP 0 8 101\r\n\
             a=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\n\
             a=fmtp:101 0-15\r\n\
             a=ptime:20\r\n\
             a=sendrecv\r\n\
             a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n\
             a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{}\r\n",
            b64_of(1),
            b64_of(2)
        )
    );
    assert!(
        !format!("{o:?}").contains(&b64_of(1)),
        "Debug must not show keys"
    );

    let required = offer(&local(SrtpPolicy::Required), &mut || [3; 30]);
    assert!(
        required
            .sdp()
            .contains("m=audio 40000 RTP/SAVP 0 8 101\r\n")
    );
    let off = offer(&local(SrtpPolicy::Off), &mut || {
        panic!("no key when SRTP is off")
    });
    assert!(!off.sdp().contains("a=crypto"));
}

/// The peer is this crate answering as another server: both ends must agree on everything.
#[test]
fn late_offer_flow_between_two_of_us() {
    let peer = LocalMedia {
        codecs: vec![CodecKind::Pcma],
        srtp: SrtpPolicy::Required,
        ..LocalMedia::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 99)), 50000, 7)
    };
    let mut our_keys = Keys::default();
    let mut session = Session::new(local(SrtpPolicy::Optional));
    let o = session.offer(Direction::SendRecv, &mut || our_keys.next());
    let their = plenum_sdp::answer(o.sdp().as_bytes(), &peer, &mut || [0xEE; 30]).unwrap();
    let ours = session.accept(&o, their.sdp.as_bytes()).unwrap();

    assert_eq!(ours.remote_rtp, "192.0.2.99:50000".parse().unwrap());
    assert_eq!(their.media.remote_rtp, "192.0.2.1:40000".parse().unwrap());
    assert_eq!(
        ours.codec,
        Codec {
            pt: 8,
            kind: CodecKind::Pcma
        }
    );
    assert_eq!(their.media.codec, ours.codec);
    assert_eq!(ours.telephone_event_pt, Some(101));
    assert_eq!(ours.direction, Direction::SendRecv);
    let (a, b) = (ours.srtp.clone().unwrap(), their.media.srtp.unwrap());
    assert_eq!(a.suite, SrtpSuite::AesCm128HmacSha1_80);
    assert_eq!((a.ours, a.theirs), (b.theirs, b.ours));
    assert_eq!(a.ours, [1; 30]);
    assert_eq!(session.media(), Some(&ours));
}

#[test]
fn late_offer_answered_by_sipp_uas() {
    // SIPp's built-in uas answers every INVITE with this body (plain PCMU).
    let o = offer(&local(SrtpPolicy::Optional), &mut || [5; 30]);
    let sipp_answer = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n\
                       c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n\
                       a=rtpmap:0 PCMU/8000\r\n\r\n";
    let media = o.accept(sipp_answer.as_bytes()).unwrap();
    assert_eq!(
        media.codec,
        Codec {
            pt: 0,
            kind: CodecKind::Pcmu
        }
    );
    assert_eq!(media.srtp, None);
    assert_eq!(media.telephone_event_pt, None);
    assert_eq!(media.remote_rtcp, "127.0.0.1:6001".parse().unwrap());

    let strict = offer(&local(SrtpPolicy::Required), &mut || [5; 30]);
    assert_eq!(
        strict.accept(sipp_answer.as_bytes()),
        Err(Rejection::SrtpRequired)
    );
}

#[test]
fn answers_that_do_not_fit_the_offer() {
    let o = offer(&local(SrtpPolicy::Optional), &mut || [5; 30]);
    let two = String::from_utf8(fixture("video_audio.sdp")).unwrap();
    assert_eq!(o.accept(two.as_bytes()), Err(Rejection::AnswerMismatch));
    let refused = "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
                   m=audio 0 RTP/AVP 0\r\n";
    assert_eq!(o.accept(refused.as_bytes()), Err(Rejection::NoAudio));
    let g729 = refused.replace("audio 0 RTP/AVP 0", "audio 5000 RTP/AVP 18");
    assert_eq!(o.accept(g729.as_bytes()), Err(Rejection::NoCommonCodec));
    let wrong_tag = refused.replace("audio 0 RTP/AVP 0", "audio 5000 RTP/SAVP 0")
        + &format!(
            "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n",
            b64_of(1)
        );
    assert_eq!(
        o.accept(wrong_tag.as_bytes()),
        Err(Rejection::NoUsableCrypto)
    );
    assert!(matches!(
        o.accept(b"\xff\xfe"),
        Err(Rejection::Malformed(_))
    ));
}

#[test]
fn our_hold_and_resume_reoffers() {
    let mut session = Session::new(local(SrtpPolicy::Optional));
    let first = session
        .answer(&fixture("baresip_srtp.sdp"), &mut || [1; 30])
        .unwrap();

    let hold = session.offer(Direction::SendOnly, &mut || panic!("key is kept"));
    assert_eq!(origin_of(hold.sdp()), ("42".into(), "43".into()));
    assert!(hold.sdp().contains("m=audio 40000 RTP/SAVP 0 101\r\n"));
    assert!(hold.sdp().contains("a=sendonly\r\n"));
    assert!(hold.sdp().contains(&format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n",
        b64_of(1)
    )));

    // baresip answering our hold: its own description, recvonly.
    let reply = String::from_utf8(fixture("baresip_srtp.sdp"))
        .unwrap()
        .replace("a=sendrecv", "a=recvonly");
    let held = session.accept(&hold, reply.as_bytes()).unwrap();
    assert_eq!(held.direction, Direction::SendOnly);
    assert_eq!(held.srtp, first.media.srtp);

    let resume = session.offer(Direction::SendRecv, &mut || panic!("key is kept"));
    assert_eq!(origin_of(resume.sdp()).1, "44");
    let resumed = session
        .accept(&resume, &fixture("baresip_srtp.sdp"))
        .unwrap();
    assert_eq!(resumed.direction, Direction::SendRecv);
}
