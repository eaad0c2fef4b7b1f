//! The SIP message reader, and everything the endpoint does with what it reads: no input may
//! panic, hang or grow memory without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plenum_sip::endpoint::{Config, Endpoint, Flow, Transport};
use plenum_sip::headers::SipHeaders;
use plenum_sip::message::{self, Framing, Message};

fuzz_target!(|data: &[u8]| {
    for framing in [Framing::Datagram, Framing::Stream] {
        if let Ok(m) = message::parse(data, framing) {
            let printed = m.to_bytes();
            // What the writer prints, the reader reads back.
            let again = message::parse(&printed, Framing::Stream).expect("printed message re-reads");
            assert_eq!(again.to_bytes(), printed);
            let _ = (m.top_via(), m.vias(), m.cseq(), m.call_id(), m.field_from(), m.field_to(), m.max_forwards());
            if let Message::Request(r) = &m {
                let _ = (r.uri.user(), r.uri.to_string(), r.contact());
            }
        }
    }
    let mut ep = Endpoint::new(Config::default());
    let flow = Flow {
        transport: Transport::Udp,
        local: "127.0.0.1:5060".parse().unwrap(),
        remote: "127.0.0.2:5070".parse().unwrap(),
        conn: None,
    };
    let now = std::time::Instant::now();
    ep.handle_bytes(flow, data, now);
    ep.handle_bytes(flow, data, now);
    while ep.poll_output().is_some() {}
    ep.handle_timeout(now + std::time::Duration::from_secs(64));
    while ep.poll_output().is_some() {}
});
