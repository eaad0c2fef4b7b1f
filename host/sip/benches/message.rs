//! Parse and print of typical messages on one core: a gateway INVITE with SDP (SIPp's), a
//! baresip INVITE with SRTP, a Microsoft-style SERVICE with a C3P body, and a 200 OK built
//! from an INVITE (`cargo bench -p plenum-sip --bench message`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plenum_sip::headers::SipHeaders;
use plenum_sip::message::{self, Framing, Message};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn messages(c: &mut Criterion) {
    let mut g = c.benchmark_group("message");
    for (name, file) in [
        ("invite_sipp", "sipp-uac-invite.sip"),
        ("invite_baresip_srtp", "baresip-srtp-invite.sip"),
        ("service_c3p", "ms-service-getconferencingcapabilities.sip"),
    ] {
        let bytes = fixture(file);
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| message::parse(std::hint::black_box(&bytes), Framing::Datagram).unwrap())
        });
        g.bench_function(format!("parse_and_read_core/{name}"), |b| {
            b.iter(|| {
                let Message::Request(r) =
                    message::parse(std::hint::black_box(&bytes), Framing::Datagram).unwrap()
                else {
                    panic!()
                };
                (
                    r.top_via().unwrap(),
                    r.cseq().unwrap(),
                    r.call_id().unwrap().len(),
                    r.field_from().unwrap(),
                    r.field_to().unwrap(),
                )
            })
        });
        let parsed = message::parse(&bytes, Framing::Datagram).unwrap();
        g.bench_function(format!("print/{name}"), |b| {
            b.iter(|| std::hint::black_box(&parsed).to_bytes())
        });
        g.bench_function(format!("parse_and_print/{name}"), |b| {
            b.iter(|| {
                message::parse(std::hint::black_box(&bytes), Framing::Datagram)
                    .unwrap()
                    .to_bytes()
            })
        });
    }
    let Message::Request(invite) =
        message::parse(&fixture("sipp-uac-invite.sip"), Framing::Datagram).unwrap()
    else {
        panic!()
    };
    g.bench_function("build_and_print_200_ok", |b| {
        b.iter(|| {
            plenum_sip::compose::response(std::hint::black_box(&invite), 200, Some("tag1"))
                .to_bytes()
        })
    });
    g.finish();
}

criterion_group!(benches, messages);
criterion_main!(benches);
