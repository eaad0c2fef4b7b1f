//! Deterministic simulation of the transaction layer: two endpoints on a lossy in-memory
//! network with a virtual clock. Retransmissions under loss, every timer at its time, CANCEL
//! races, merged requests, overload.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod dialogs;
mod net;

use std::time::Duration;

use bytes::Bytes;
use net::World;
use plenum_sip::compose;
use plenum_sip::endpoint::{
    ClientTxId, Config, Endpoint, Event, Flow, Output, ServerTxId, Transport,
};
use plenum_sip::headers::SipHeaders;
use plenum_sip::message::{self, Framing, HeaderName, Headers, Message, Method, Request, Uri};
use plenum_sip::transaction::TimerName;

const A: usize = 0;
const B: usize = 1;

fn request(w: &World, method: Method, call_id: &str, cseq: u32) -> Request {
    let to = format!("sip:plenum@{}", w.nodes[B].addr);
    let mut h = Headers::new();
    h.push(
        HeaderName::FROM,
        format!("<sip:caller@{}>;tag=caller-{call_id}", w.nodes[A].addr),
    );
    h.push(HeaderName::TO, format!("<{to}>"));
    h.push(HeaderName::CALL_ID, call_id);
    h.push(HeaderName::CSEQ, format!("{cseq} {method}"));
    h.push(HeaderName::MAX_FORWARDS, "70");
    Request {
        method,
        uri: Uri::parse(&to).unwrap(),
        headers: h,
        body: Bytes::new(),
    }
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// The times (seconds) at which `timer` fired on node `n`.
fn fired(w: &World, n: usize, timer: TimerName) -> Vec<f64> {
    w.nodes[n]
        .ep
        .timer_trace()
        .iter()
        .filter(|(_, t)| *t == timer)
        .map(|(at, _)| secs(*at - w.start))
        .collect()
}

/// A transaction user that answers every new request with `code` at once.
fn answer_all(code: u16) -> impl FnMut(&mut World) {
    move |w: &mut World| {
        let events = w.take_events(B);
        for (at, e) in events {
            if let Event::Request { tx, request, .. } = e {
                let r = compose::response(&request, code, Some("uas"));
                let now = w.now;
                w.nodes[B].ep.respond(tx, r, now);
            } else {
                w.nodes[B].seen.push((at, e));
            }
        }
    }
}

fn responses(w: &World, n: usize) -> Vec<u16> {
    w.nodes[n]
        .all_events()
        .filter_map(|(_, e)| match e {
            Event::Response { response, .. } => Some(response.code),
            _ => None,
        })
        .collect()
}

#[test]
fn non_invite_survives_30_percent_loss() {
    let mut retransmitted = 0;
    for seed in 0..40 {
        let mut w = World::new(Transport::Udp, seed);
        w.loss = 0.3;
        let r = request(&w, Method::Options, &format!("opt-{seed}"), 1);
        let (flow, now) = (w.flow(A, B), w.now);
        w.nodes[A].ep.send_request(r, flow, now);
        w.run(Duration::from_secs(40), answer_all(200));
        assert!(
            responses(&w, A).contains(&200),
            "seed {seed}: {:?}",
            w.nodes[A].sent
        );
        assert!(
            !w.nodes[A]
                .all_events()
                .any(|(_, e)| matches!(e, Event::Timeout { .. })),
            "seed {seed}"
        );
        retransmitted += w.nodes[A].ep.stats().retransmissions_out;
        assert_eq!(w.nodes[A].ep.transactions(), 0, "all transactions end");
        assert_eq!(w.nodes[B].ep.transactions(), 0, "all transactions end");
    }
    assert!(
        retransmitted > 20,
        "loss caused retransmissions ({retransmitted})"
    );
}

/// A UAC transaction user that ACKs every 2xx to its INVITE (the ACK is sent outside the
/// transaction, RFC 3261 §13.2.2.4).
fn ack_every_2xx(w: &mut World) {
    let events = w.take_events(A);
    for (at, e) in events {
        if let Event::Response { response, .. } = &e
            && response.code == 200
            && response.cseq().unwrap().method == Method::Invite
        {
            let mut ack = request(
                w,
                Method::Ack,
                response.call_id().unwrap(),
                response.cseq().unwrap().number,
            );
            ack.headers.set(
                HeaderName::TO,
                response.headers.get(&HeaderName::TO).unwrap(),
            );
            let (flow, now) = (w.flow(A, B), w.now);
            w.nodes[A].ep.send_request(ack, flow, now);
        }
        w.nodes[A].seen.push((at, e));
    }
}

#[test]
fn invite_2xx_is_retransmitted_until_the_ack_under_loss() {
    for seed in 0..40 {
        let mut w = World::new(Transport::Udp, 100 + seed);
        w.loss = 0.3;
        let r = request(&w, Method::Invite, &format!("inv-{seed}"), 1);
        let (flow, now) = (w.flow(A, B), w.now);
        w.nodes[A].ep.send_request(r, flow, now);
        let mut answer = answer_all(200);
        w.run(Duration::from_secs(80), |w| {
            answer(w);
            ack_every_2xx(w);
        });
        assert!(responses(&w, A).contains(&200), "seed {seed}");
        let acks = w.nodes[B]
            .all_events()
            .filter(|(_, e)| matches!(e, Event::Ack { .. }))
            .count();
        assert_eq!(acks, 1, "seed {seed}: the TU hears one ACK");
        assert!(
            !w.nodes[B]
                .all_events()
                .any(|(_, e)| matches!(e, Event::NoAck { .. })),
            "seed {seed}"
        );
        assert_eq!(
            (w.nodes[A].ep.transactions(), w.nodes[B].ep.transactions()),
            (0, 0),
            "seed {seed}"
        );
    }
}

#[test]
fn client_timers_a_b_e_f_fire_on_time() {
    let mut w = World::new(Transport::Udp, 1);
    w.blackhole.push((B, String::new())); // the server never gets a word out
    let (flow, now) = (w.flow(A, B), w.now);
    let inv = request(&w, Method::Invite, "t-inv", 1);
    w.nodes[A].ep.send_request(inv, flow, now);
    let opt = request(&w, Method::Options, "t-opt", 1);
    w.nodes[A].ep.send_request(opt, flow, now);
    w.run(Duration::from_secs(60), |_| {});
    assert_eq!(
        fired(&w, A, TimerName::A),
        vec![0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    );
    assert_eq!(fired(&w, A, TimerName::B), vec![32.0]);
    assert_eq!(
        fired(&w, A, TimerName::E),
        vec![0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    assert_eq!(fired(&w, A, TimerName::F), vec![32.0]);
    let timeouts: Vec<f64> = w.nodes[A]
        .all_events()
        .filter(|(_, e)| matches!(e, Event::Timeout { .. }))
        .map(|(at, _)| secs(*at))
        .collect();
    assert_eq!(timeouts, vec![32.0, 32.0]);
}

#[test]
fn server_timers_g_h_on_a_lost_ack() {
    let mut w = World::new(Transport::Udp, 2);
    w.blackhole.push((A, "ACK".into()));
    let (flow, now) = (w.flow(A, B), w.now);
    let inv = request(&w, Method::Invite, "t-g", 1);
    w.nodes[A].ep.send_request(inv, flow, now);
    w.run(Duration::from_secs(60), answer_all(486));
    // The 486 goes out when the INVITE arrives (20 ms); G doubles to T2, H at 64·T1.
    assert_eq!(
        fired(&w, B, TimerName::G),
        vec![
            0.52, 1.52, 3.52, 7.52, 11.52, 15.52, 19.52, 23.52, 27.52, 31.52
        ]
    );
    assert_eq!(fired(&w, B, TimerName::H), vec![32.02]);
    assert!(
        w.nodes[B]
            .all_events()
            .any(|(at, e)| matches!(e, Event::NoAck { .. }) && secs(*at) == 32.02)
    );
    // The client ACKs every copy of the final response (its ACKs are lost on the way).
    let acks = w.nodes[A]
        .sent
        .iter()
        .filter(|(_, l)| l.starts_with("ACK"))
        .count();
    assert_eq!(acks, 11);
    assert_eq!(fired(&w, A, TimerName::D), vec![32.04]);
}

#[test]
fn completion_timers_d_i_j_k() {
    let mut w = World::new(Transport::Udp, 3);
    let (flow, now) = (w.flow(A, B), w.now);
    let inv = request(&w, Method::Invite, "t-d", 1);
    w.nodes[A].ep.send_request(inv, flow, now);
    let opt = request(&w, Method::Options, "t-k", 1);
    w.nodes[A].ep.send_request(opt, flow, now);
    w.run(Duration::from_secs(60), answer_all(486));
    assert_eq!(
        fired(&w, A, TimerName::D),
        vec![32.04],
        "ICT waits 32 s for copies of the 486"
    );
    assert_eq!(fired(&w, A, TimerName::K), vec![5.04], "NICT waits T4");
    assert_eq!(
        fired(&w, B, TimerName::I),
        vec![5.06],
        "IST waits T4 after the ACK"
    );
    assert_eq!(fired(&w, B, TimerName::J), vec![32.02], "NIST waits 64·T1");
}

#[test]
fn reliable_transport_has_no_retransmissions_and_no_waits() {
    let mut w = World::new(Transport::Tcp, 4);
    let (flow, now) = (w.flow(A, B), w.now);
    let inv = request(&w, Method::Invite, "tcp-1", 1);
    w.nodes[A].ep.send_request(inv, flow, now);
    let opt = request(&w, Method::Options, "tcp-2", 1);
    w.nodes[A].ep.send_request(opt, flow, now);
    // Timers D, I, J and K are zero on a reliable transport: by the time the last message is
    // in (the ACK at 60 ms), every transaction is gone.
    w.run(Duration::from_millis(61), answer_all(486));
    assert_eq!(
        (w.nodes[A].ep.transactions(), w.nodes[B].ep.transactions()),
        (0, 0)
    );
    w.run(Duration::from_secs(60), answer_all(486));
    for t in [TimerName::A, TimerName::E, TimerName::G] {
        assert!(
            fired(&w, A, t).is_empty() && fired(&w, B, t).is_empty(),
            "{t:?}"
        );
    }
    assert_eq!(
        w.nodes[A].ep.stats().retransmissions_out + w.nodes[B].ep.stats().retransmissions_out,
        0
    );
    assert_eq!(
        responses(&w, A)
            .iter()
            .filter(|c| **c == 486 || **c == 200)
            .count(),
        2
    );
}

/// The server side of a CANCEL test: answers an INVITE with 487 once cancelled, or with 200 at
/// `answer_at` if still pending.
fn uas_cancelable(answer_at: Option<Duration>) -> impl FnMut(&mut World) {
    let mut pending: Option<ServerTxId> = None;
    move |w: &mut World| {
        let events = w.take_events(B);
        for (at, e) in events {
            match &e {
                Event::Request { tx, request, .. } if request.method == Method::Invite => {
                    pending = Some(*tx)
                }
                Event::Cancelled { tx } => {
                    let r = compose::response(
                        w.nodes[B].ep.invite_request(*tx).unwrap(),
                        487,
                        Some("uas"),
                    );
                    let now = w.now;
                    w.nodes[B].ep.respond(*tx, r, now);
                    pending = None;
                }
                _ => {}
            }
            w.nodes[B].seen.push((at, e));
        }
        if let (Some(tx), Some(t)) = (pending, answer_at)
            && w.elapsed() >= t
        {
            let r = compose::response(w.nodes[B].ep.invite_request(tx).unwrap(), 200, Some("uas"));
            let now = w.now;
            w.nodes[B].ep.respond(tx, r, now);
            pending = None;
        }
    }
}

fn start_invite(w: &mut World, call: &str) -> ClientTxId {
    let (flow, now) = (w.flow(A, B), w.now);
    let inv = request(w, Method::Invite, call, 1);
    w.nodes[A].ep.send_request(inv, flow, now)
}

#[test]
fn cancel_before_the_final_response() {
    let mut w = World::new(Transport::Udp, 5);
    let tx = start_invite(&mut w, "cancel-1");
    let mut uas = uas_cancelable(None);
    w.run(Duration::from_secs(1), &mut uas);
    let now = w.now;
    assert!(w.nodes[A].ep.cancel(tx, now).is_some());
    w.run(Duration::from_secs(60), |w| {
        uas(w);
        ack_every_2xx(w);
    });
    assert!(
        w.nodes[B]
            .all_events()
            .any(|(_, e)| matches!(e, Event::Cancelled { .. }))
    );
    let codes = responses(&w, A);
    assert!(
        codes.contains(&100) && codes.contains(&487) && codes.contains(&200),
        "{codes:?}"
    );
    assert!(
        w.nodes[A].sent.iter().any(|(_, l)| l.starts_with("ACK")),
        "the 487 is ACKed"
    );
    assert!(fired(&w, B, TimerName::I).len() == 1, "the IST saw its ACK");
}

#[test]
fn cancel_crossing_the_200_changes_nothing() {
    let mut w = World::new(Transport::Udp, 6);
    let tx = start_invite(&mut w, "cancel-2");
    let mut uas = uas_cancelable(Some(Duration::from_millis(1000)));
    w.run(Duration::from_millis(1000), &mut uas);
    // The 200 leaves B now; the CANCEL leaves A now: they cross on the wire.
    let now = w.now;
    w.nodes[A].ep.cancel(tx, now);
    w.run(Duration::from_secs(60), |w| {
        uas(w);
        ack_every_2xx(w);
    });
    assert!(
        !w.nodes[B]
            .all_events()
            .any(|(_, e)| matches!(e, Event::Cancelled { .. })),
        "too late to cancel"
    );
    assert!(
        w.nodes[B]
            .all_events()
            .any(|(_, e)| matches!(e, Event::Ack { .. }))
    );
    let codes = responses(&w, A);
    assert_eq!(
        codes.iter().filter(|c| **c == 200).count(),
        2,
        "200 for the INVITE and for the CANCEL: {codes:?}"
    );
}

/// Feed raw bytes to a lone endpoint and return what it sent back.
fn lone(ep: &mut Endpoint, bytes: &[u8]) -> Vec<String> {
    let flow = Flow {
        transport: Transport::Udp,
        local: "127.0.0.1:5060".parse().unwrap(),
        remote: "127.0.0.2:5070".parse().unwrap(),
        conn: None,
    };
    ep.handle_bytes(flow, bytes, std::time::Instant::now());
    let mut out = Vec::new();
    while let Some(o) = ep.poll_output() {
        if let Output::Transmit(t) = o {
            assert_eq!(t.flow.remote, flow.remote);
            out.push(String::from_utf8_lossy(&t.bytes).into_owned());
        }
    }
    out
}

fn raw(method: &str, branch: &str, call: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} sip:plenum@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch={branch}\r\n\
         From: <sip:a@127.0.0.2>;tag=f1\r\nTo: <sip:plenum@127.0.0.1>\r\nCall-ID: {call}\r\nCSeq: 1 {method}\r\n{extra}\r\n"
    )
    .into_bytes()
}

#[test]
fn refusals_the_endpoint_makes_itself() {
    let mut ep = Endpoint::new(Config::default());
    let out = lone(
        &mut ep,
        &raw("INVITE", "z9hG4bK1", "mf0", "Max-Forwards: 0\r\n"),
    );
    assert!(out[0].starts_with("SIP/2.0 483 "), "{out:?}");
    let out = lone(&mut ep, &raw("CANCEL", "z9hG4bKnone", "c0", ""));
    assert!(out[0].starts_with("SIP/2.0 481 "), "{out:?}");
    let out = lone(&mut ep, b"OPTIONS sip:plenum@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK9\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:p@q>\r\nCSeq: 1 OPTIONS\r\n\r\n");
    assert!(
        out[0].starts_with("SIP/2.0 400 Bad Request (missing or malformed Call-ID header)"),
        "{out:?}"
    );
    // No Via: nowhere to answer; dropped and counted.
    assert!(lone(&mut ep, b"OPTIONS sip:p@q SIP/2.0\r\nCall-ID: x\r\n\r\n").is_empty());
    assert!(lone(&mut ep, b"\x00\x01garbage").is_empty());
    assert_eq!(ep.stats().unreadable, 2);
    // A merged request: same Call-ID, From tag and CSeq, another branch (§8.2.2.2).
    let first = lone(&mut ep, &raw("INVITE", "z9hG4bKm1", "merge", ""));
    assert!(first[0].starts_with("SIP/2.0 100 "));
    let second = lone(&mut ep, &raw("INVITE", "z9hG4bKm2", "merge", ""));
    assert!(second[0].starts_with("SIP/2.0 482 "), "{second:?}");
    // A retransmission gets the last response again, and is not a new request.
    let again = lone(&mut ep, &raw("INVITE", "z9hG4bKm1", "merge", ""));
    assert!(again[0].starts_with("SIP/2.0 100 "));
    let requests = std::iter::from_fn(|| ep.poll_output()).count();
    assert_eq!(requests, 0);
}

#[test]
fn overload_is_shed_with_503_and_retry_after() {
    let mut ep = Endpoint::new(Config {
        max_server_transactions: 2,
        ..Config::default()
    });
    lone(&mut ep, &raw("INVITE", "z9hG4bKo1", "o1", ""));
    lone(&mut ep, &raw("INVITE", "z9hG4bKo2", "o2", ""));
    let out = lone(&mut ep, &raw("INVITE", "z9hG4bKo3", "o3", ""));
    assert!(
        out[0].starts_with("SIP/2.0 503 ") && out[0].contains("\r\nRetry-After: 5\r\n"),
        "{out:?}"
    );
    assert_eq!(ep.stats().shed, 1);
}

#[test]
fn answered_transactions_absorbing_retransmissions_do_not_count_as_load() {
    let mut ep = Endpoint::new(Config {
        max_server_transactions: 2,
        ..Config::default()
    });
    let now = std::time::Instant::now();
    // Ten OPTIONS, each answered at once: all held (Timer J), none pending.
    for i in 0..10 {
        let branch = format!("z9hG4bKa{i}");
        let call = format!("a{i}");
        let flow = Flow {
            transport: Transport::Udp,
            local: "127.0.0.1:5060".parse().unwrap(),
            remote: "127.0.0.2:5070".parse().unwrap(),
            conn: None,
        };
        ep.handle_bytes(flow, &raw("OPTIONS", &branch, &call, ""), now);
        let tx = std::iter::from_fn(|| ep.poll_output())
            .find_map(|o| match o {
                Output::Event(e) => match *e {
                    Event::Request { tx, request, .. } => Some((tx, request)),
                    _ => None,
                },
                _ => None,
            })
            .unwrap_or_else(|| panic!("request {i} was not delivered"));
        let ok = plenum_sip::compose::response(&tx.1, 200, Some("t"));
        ep.respond(tx.0, ok, now);
        while ep.poll_output().is_some() {}
    }
    assert_eq!(ep.stats().shed, 0);
    assert_eq!(ep.transactions(), 10);
    // Two unanswered INVITEs fill the work budget; the third is shed.
    lone(&mut ep, &raw("INVITE", "z9hG4bKp1", "p1", ""));
    lone(&mut ep, &raw("INVITE", "z9hG4bKp2", "p2", ""));
    let out = lone(&mut ep, &raw("INVITE", "z9hG4bKp3", "p3", ""));
    assert!(out[0].starts_with("SIP/2.0 503 "), "{out:?}");
}

#[test]
fn the_total_of_held_transactions_is_bounded() {
    let mut ep = Endpoint::new(Config {
        max_transactions: 3,
        ..Config::default()
    });
    for i in 0..3 {
        let out = lone(
            &mut ep,
            &raw("INVITE", &format!("z9hG4bKq{i}"), &format!("q{i}"), ""),
        );
        assert!(out[0].starts_with("SIP/2.0 100 "), "{out:?}");
    }
    let out = lone(&mut ep, &raw("INVITE", "z9hG4bKq9", "q9", ""));
    assert!(out[0].starts_with("SIP/2.0 503 "), "{out:?}");
}

#[test]
fn responses_follow_via_received_and_rport() {
    let mut ep = Endpoint::new(Config::default());
    let flow = Flow {
        transport: Transport::Udp,
        local: "127.0.0.1:5060".parse().unwrap(),
        remote: "127.0.0.9:40001".parse().unwrap(),
        conn: None,
    };
    let now = std::time::Instant::now();
    // Behind a NAT: the Via says 10.0.0.5:5070 and asks for rport.
    let bytes = b"OPTIONS sip:p@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKn;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:p@q>\r\nCall-ID: n\r\nCSeq: 1 OPTIONS\r\n\r\n";
    ep.handle_bytes(flow, bytes, now);
    let Some(Output::Event(e)) = ep.poll_output() else {
        panic!()
    };
    let Event::Request { tx, request, .. } = *e else {
        panic!()
    };
    let via = request.top_via().unwrap();
    assert_eq!(via.param("received"), Some(Some("127.0.0.9")));
    assert_eq!(via.param("rport"), Some(Some("40001")));
    ep.respond(tx, compose::response(&request, 200, Some("t")), now);
    let Some(Output::Transmit(t)) = ep.poll_output() else {
        panic!()
    };
    assert_eq!(
        t.flow.remote, flow.remote,
        "answered to the source address and port"
    );
    let Message::Response(r) = message::parse(&t.bytes, Framing::Datagram).unwrap() else {
        panic!()
    };
    let via = r.top_via().unwrap();
    assert_eq!(
        (via.param("received"), via.param("rport")),
        (Some(Some("127.0.0.9")), Some(Some("40001")))
    );
}

#[test]
fn debug_sipp_cancel() {
    let mut ep = Endpoint::new(Config::default());
    let inv = b"INVITE sip:4255550100@127.0.0.1:15060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5078;branch=z9hG4bK-3735-1-0\r\nFrom: <sip:caller@127.0.0.2:5078>;tag=3735SIPpTag01\r\nTo: <sip:4255550100@127.0.0.1:15060>\r\nCall-ID: 1-3735@127.0.0.2\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    let can = b"CANCEL sip:4255550100@127.0.0.1:15060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5078;branch=z9hG4bK-3735-1-0\r\nFrom: <sip:caller@127.0.0.2:5078>;tag=3735SIPpTag01\r\nTo: <sip:4255550100@127.0.0.1:15060>\r\nCall-ID: 1-3735@127.0.0.2\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContact: <sip:sipp@127.0.0.2:5078;transport=UDP>\r\nContent-Length: 0\r\n\r\n";
    let flow = Flow {
        transport: Transport::Udp,
        local: "127.0.0.1:15060".parse().unwrap(),
        remote: "127.0.0.2:5078".parse().unwrap(),
        conn: None,
    };
    let now = std::time::Instant::now();
    ep.handle_bytes(flow, inv, now);
    ep.handle_bytes(flow, can, now);
    while let Some(o) = ep.poll_output() {
        match o {
            Output::Transmit(t) => eprintln!(
                "T {}",
                String::from_utf8_lossy(&t.bytes).lines().next().unwrap()
            ),
            Output::Event(e) => eprintln!("E {:?}", std::mem::discriminant(&*e)),
        }
    }
}
