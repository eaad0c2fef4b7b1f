//! The message reader and writer on recorded and reconstructed real messages, and on broken
//! input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use plenum_sip::headers::SipHeaders;
use plenum_sip::message::{self, Framing, HeaderName, Message, Method, ParseError, Uri};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn request(bytes: &[u8]) -> plenum_sip::Request {
    match message::parse(bytes, Framing::Datagram).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => panic!("not a request"),
    }
}

/// parse → print → parse keeps everything; print is stable after one round.
fn round_trip(bytes: &[u8]) {
    let first = message::parse(bytes, Framing::Datagram).unwrap();
    let printed = first.to_bytes();
    let second = message::parse(&printed, Framing::Stream).unwrap();
    assert_eq!(second.to_bytes(), printed, "writer is stable");
    assert_eq!(first.body(), second.body());
    let names = |m: &Message| {
        m.headers()
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&first), names(&second));
}

#[test]
fn sipp_gateway_invite() {
    let bytes = fixture("sipp-uac-invite.sip");
    let r = request(&bytes);
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri.user().as_deref(), Some("4255550100"));
    assert_eq!(r.top_via().unwrap().branch(), Some("z9hG4bK-15047-1-0"));
    assert_eq!(r.cseq().unwrap().number, 1);
    assert_eq!(r.field_from().unwrap().tag(), Some("15047SIPpTag001"));
    assert_eq!(r.field_to().unwrap().tag(), None);
    assert_eq!(r.content_type().as_deref(), Some("application/sdp"));
    assert_eq!(r.body.len(), 129);
    round_trip(&bytes);
}

#[test]
fn baresip_srtp_invite() {
    let bytes = fixture("baresip-srtp-invite.sip");
    let r = request(&bytes);
    assert_eq!(r.uri.user().as_deref(), Some("+14255550100"));
    assert_eq!(r.uri.param("transport"), Some(Some("udp".into())));
    assert_eq!(r.top_via().unwrap().param("rport"), Some(None));
    assert_eq!(
        r.option_tags(&HeaderName::SUPPORTED),
        Vec::<String>::new(),
        "empty Supported"
    );
    assert_eq!(r.routes(&HeaderName::ROUTE).unwrap().len(), 1);
    assert!(
        std::str::from_utf8(&r.body)
            .unwrap()
            .contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80")
    );
    round_trip(&bytes);
}

#[test]
fn pbx_invite_with_compact_headers() {
    let bytes = fixture("pbx-asterisk-invite-compact.sip");
    let r = request(&bytes);
    assert_eq!(r.uri.user().as_deref(), Some("5550100"));
    assert_eq!(r.uri.param("user"), Some(Some("phone".into())));
    assert_eq!(r.call_id().unwrap(), "3c2a1f0e7b@127.0.0.2");
    assert_eq!(r.field_from().unwrap().display.as_deref(), Some("CALLER"));
    assert_eq!(
        r.option_tags(&HeaderName::SUPPORTED),
        vec!["replaces", "timer"]
    );
    assert_eq!(
        r.headers.get(&HeaderName::SESSION_EXPIRES),
        Some("1800;refresher=uac")
    );
    // Printed with long names.
    let printed = String::from_utf8(Message::Request(r).to_bytes()).unwrap();
    assert!(
        printed.contains("\r\nVia: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK0a1b2c3d;rport\r\n")
    );
    assert!(printed.contains("\r\nContent-Type: application/sdp\r\n"));
    assert!(!printed.contains("\r\nv: "));
    round_trip(&bytes);
}

#[test]
fn microsoft_service_to_the_focus_factory() {
    let bytes = fixture("ms-service-getconferencingcapabilities.sip");
    let r = request(&bytes);
    assert_eq!(r.method, Method::Service);
    let Uri::Sip(_) = &r.uri else {
        panic!("sip uri")
    };
    assert_eq!(
        r.uri.param("opaque"),
        Some(Some("app:conf:focusfactory".into()))
    );
    assert_eq!(r.uri.param("gruu"), Some(None));
    assert_eq!(r.cseq().unwrap().method, Method::Service);
    assert_eq!(
        r.option_tags(&HeaderName::SUPPORTED),
        vec!["ms-dialog-route-set-update", "ms-sender"]
    );
    assert_eq!(
        r.field_from().unwrap().param("epid"),
        Some(Some("9f4b4ed7c2"))
    );
    assert_eq!(r.content_type().as_deref(), Some("application/cccp+xml"));
    assert!(r.body.starts_with(b"<?xml"));
    let printed = String::from_utf8(Message::Request(r).to_bytes()).unwrap();
    assert!(
        printed.starts_with(
            "SERVICE sip:alice@contoso.example;gruu;opaque=app:conf:focusfactory SIP/2.0\r\n"
        ),
        "{printed}"
    );
    round_trip(&bytes);
}

#[test]
fn folded_and_repeated_headers_and_several_vias() {
    let raw = "OPTIONS sip:plenum@127.0.0.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1,\r\n SIP/2.0/TCP 10.0.0.2:5061;branch=z9hG4bK2\r\n\
        Via: SIP/2.0/UDP [2001:db8::9];branch=z9hG4bK3\r\n\
        From: <sip:a@b>;tag=1\r\nTo: <sip:plenum@127.0.0.1>\r\nCall-ID: x\r\nCSeq: 7 OPTIONS\r\n\
        Subject: first part\r\n\tsecond part\r\n\r\n";
    let r = request(raw.as_bytes());
    let vias = r.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[1].port, Some(5061));
    assert_eq!(vias[2].host, "2001:db8::9");
    assert_eq!(
        r.headers.get(&HeaderName::parse("subject")),
        Some("first part second part")
    );
}

#[test]
fn lf_only_line_ends_and_leading_blank_lines() {
    let raw = "\r\n\r\nOPTIONS sip:x@y SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\nFrom: <sip:a@b>;tag=1\nTo: <sip:x@y>\nCall-ID: c\nCSeq: 1 OPTIONS\n\n";
    // Leading CRLFs before the start line are keep-alives (RFC 3261 §7.5).
    let r = request(raw.trim_start().as_bytes());
    assert_eq!(r.method, Method::Options);
}

#[test]
fn responses() {
    let raw = b"SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nProxy-Authenticate: Digest realm=\"contoso.example\", nonce=\"abc\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n";
    let Message::Response(r) = message::parse(raw, Framing::Datagram).unwrap() else {
        panic!()
    };
    assert_eq!(
        (r.code, r.reason.as_str()),
        (407, "Proxy Authentication Required")
    );
    assert_eq!(r.field_to().unwrap().tag(), Some("2"));
    assert!(matches!(
        message::parse(b"SIP/2.0 99 Too Low\r\n\r\n", Framing::Datagram),
        Err(ParseError::StatusCode)
    ));
    assert!(matches!(
        message::parse(b"SIP/2.0 abc\r\n\r\n", Framing::Datagram),
        Err(ParseError::StatusCode)
    ));
}

#[test]
fn methods_are_exact_and_extensions_kept() {
    assert_eq!(Method::parse("INFO").unwrap(), Method::Info);
    assert_eq!(
        Method::parse("INFORM").unwrap(),
        Method::Extension("INFORM".into())
    );
    assert_eq!(
        Method::parse("invite").unwrap(),
        Method::Extension("invite".into())
    );
    assert!(Method::parse("IN VITE").is_err());
    assert_eq!(Method::Service.to_string(), "SERVICE");
}

#[test]
fn bad_input_is_a_typed_error() {
    let cases: &[(&[u8], ParseError)] = &[
        (b"", ParseError::Incomplete),
        (
            b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n",
            ParseError::Incomplete,
        ),
        (b"HELLO WORLD\r\n\r\n", ParseError::StartLine),
        (b"INVITE sip:a@b SIP/3.0\r\n\r\n", ParseError::StartLine),
        (b"INVITE not-a-uri SIP/2.0\r\n\r\n", ParseError::RequestUri),
        (
            b"INVITE sip:a@b SIP/2.0\r\nno colon here\r\n\r\n",
            ParseError::HeaderLine,
        ),
        (
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nshort",
            ParseError::ContentLength,
        ),
        (
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n",
            ParseError::ContentLength,
        ),
        (
            b"INVITE sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n",
            ParseError::HeaderLine,
        ),
        (
            b"INVITE sip:a@b SIP/2.0\r\nX: \xff\xfe\r\n\r\n",
            ParseError::NotUtf8,
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            message::parse(bytes, Framing::Datagram).err().as_ref(),
            Some(want),
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    let huge = format!(
        "OPTIONS sip:a@b SIP/2.0\r\nX: {}\r\n\r\n",
        "a".repeat(10_000)
    );
    assert_eq!(
        message::parse(huge.as_bytes(), Framing::Datagram).err(),
        Some(ParseError::TooLarge)
    );
    let many = format!("OPTIONS sip:a@b SIP/2.0\r\n{}\r\n", "X: 1\r\n".repeat(300));
    assert_eq!(
        message::parse(many.as_bytes(), Framing::Datagram).err(),
        Some(ParseError::TooLarge)
    );
    // On a stream Content-Length is required.
    assert_eq!(
        message::parse(b"OPTIONS sip:a@b SIP/2.0\r\n\r\n", Framing::Stream).err(),
        Some(ParseError::Header("Content-Length"))
    );
}

#[test]
fn datagram_body_is_trimmed_to_content_length() {
    let raw = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhello, and garbage after";
    let m = message::parse(raw, Framing::Datagram).unwrap();
    assert_eq!(&m.body()[..], b"hello");
}

#[test]
fn arbitrary_bytes_never_panic() {
    let seeds = [
        fixture("sipp-uac-invite.sip"),
        fixture("ms-service-getconferencingcapabilities.sip"),
    ];
    let mut x = 0x9E3779B97F4A7C15u64;
    for seed in &seeds {
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut b = seed.clone();
            let n = (x % 8) as usize + 1;
            for k in 0..n {
                let i = ((x >> (k * 7)) as usize) % b.len();
                match (x >> (k * 3)) % 4 {
                    0 => b[i] = (x >> k) as u8,
                    1 => b.truncate(i),
                    2 => b.insert(i, b':'),
                    _ => b.insert(i, b'\n'),
                }
                if b.is_empty() {
                    break;
                }
            }
            let _ = message::parse(&b, Framing::Datagram);
            let _ = message::parse(&b, Framing::Stream);
        }
    }
}

#[test]
fn escaped_user_parts_read_once_and_print_back() {
    // Found by the message fuzz target: `%25` is a literal `%` in the user part.
    for (text, user) in [
        ("sip:%2554@127.0.0.1:5999", "%54"),
        ("sip:%2B14255550100@gw.example", "+14255550100"),
        ("sip:alice@contoso.example", "alice"),
    ] {
        let uri = plenum_sip::message::Uri::parse(text).unwrap();
        assert_eq!(uri.user().as_deref(), Some(user), "{text}");
        let printed = uri.to_string();
        let again = plenum_sip::message::Uri::parse(&printed).unwrap();
        assert_eq!(again.user().as_deref(), Some(user), "{text} -> {printed}");
        assert_eq!(again.to_string(), printed);
    }
}
