//! Parse and write cost of typical C3P bodies and roster documents (the golden files).
#![allow(missing_docs, clippy::expect_used)] // bench code: the inputs are the golden files

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plenum_c3p::roster::{self, ConferenceInfo};
use plenum_c3p::{Request, Response};
use std::hint::black_box;

const ADD_CONFERENCE: &[u8] = include_bytes!("../tests/golden/add_conference.request.xml");
const GET_CONFERENCE: &[u8] = include_bytes!("../tests/golden/get_conference.response.xml");
const ROSTER_FULL: &[u8] = include_bytes!("../tests/golden/roster.full.xml");
const ROSTER_JOINED: &[u8] = include_bytes!("../tests/golden/roster.partial.joined.xml");

fn c3p(c: &mut Criterion) {
    let mut g = c.benchmark_group("c3p");
    g.throughput(Throughput::Bytes(ADD_CONFERENCE.len() as u64));
    g.bench_function("parse addConference request", |b| {
        b.iter(|| Request::parse(black_box(ADD_CONFERENCE)))
    });
    let request = Request::parse(ADD_CONFERENCE).expect("golden file parses");
    g.bench_function("write addConference request", |b| {
        b.iter(|| black_box(&request).to_xml())
    });
    g.throughput(Throughput::Bytes(GET_CONFERENCE.len() as u64));
    g.bench_function("parse getConference response", |b| {
        b.iter(|| Response::parse(black_box(GET_CONFERENCE)))
    });
    let response = Response::parse(GET_CONFERENCE).expect("golden file parses");
    g.bench_function("write getConference response", |b| {
        b.iter(|| black_box(&response).to_xml())
    });
    g.finish();
}

fn roster_docs(c: &mut Criterion) {
    let mut g = c.benchmark_group("roster");
    let v1 = ConferenceInfo::parse(ROSTER_FULL).expect("golden file parses");
    let mut v2 = v1.clone();
    v2.apply(&ConferenceInfo::parse(ROSTER_JOINED).expect("golden file parses"))
        .expect("golden delta applies");
    g.bench_function("parse full (1 user)", |b| {
        b.iter(|| ConferenceInfo::parse(black_box(ROSTER_FULL)))
    });
    g.bench_function("diff + write partial (user joined)", |b| {
        b.iter(|| roster::diff(black_box(&v1), black_box(&v2), 2).to_xml())
    });
    g.finish();
}

criterion_group!(benches, c3p, roster_docs);
criterion_main!(benches);
