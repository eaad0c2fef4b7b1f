//! One media port for every call (`[media] shared-port`), end to end: `plenum serve` with the
//! shared port answers every dial-in call with that port; two SIPp callers from the demo
//! gateway (the organizer by PIN, a guest by passcode), their RFC 4733 keys played from pcap
//! files to the one shared port, both get into the meeting; and the load generator, a socket
//! pair per call, enters a meeting of four whose guests hear the leader's pilot tone through
//! the mix, with no call failed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Server, Then, ok, sipp_done as finished};
use plenum_loadgen::schedule::{Scheduler, read_credentials};
use plenum_loadgen::{Meetings, Options};

/// An even port on loopback whose next one is free too (the ephemeral range is outside the
/// default per-call range, 20000–29999).
fn free_pair() -> u16 {
    loop {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p.is_multiple_of(2) && UdpSocket::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

/// `plenum serve` with `shared-port`; the port.
fn serve(dir: &Path) -> (Server, u16) {
    let port = free_pair();
    let config = dir.join("shared.toml");
    std::fs::write(&config, format!("[media]\nshared-port = {port}\n")).unwrap();
    let s = Server::start_with(&dir.join("data"), &["--config", config.to_str().unwrap()]);
    (s, port)
}

/// The value of a line of `/metrics` that starts with `name` (the name and a space).
fn metric(s: &Server, name: &str) -> Option<u64> {
    let text = ureq::get(format!("{}/metrics", s.admin_url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
}

/// The SDP answer's audio port in a SIPp message log.
fn answered_ports(log: &str) -> Vec<u16> {
    log.lines()
        .filter_map(|l| l.trim().strip_prefix("m=audio "))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn two_dial_in_callers_on_the_shared_port_get_into_the_meeting() {
    let dir = tempfile::tempdir().unwrap();
    let (s, port) = serve(dir.path());
    let v = common::schedule_for_alice(
        &s,
        "Shared port",
        &["--passcode", "135790", "--admission", "anonymous"],
    );
    let id = v["pstn_conference_id"].as_str().unwrap().to_owned();
    let calls = tempfile::tempdir().unwrap();
    let organizer = common::dial(
        &s,
        calls.path(),
        "organizer",
        "4255550100",
        &format!("1{id}#*1001#24680#"),
        Then::HangUpAfter(Duration::from_secs(25)),
    );
    std::thread::sleep(Duration::from_secs(5));
    let guest = common::dial_from(
        &s,
        calls.path(),
        "guest",
        "4255551234",
        "4255550100",
        &plenum_rtp_pcap::Script::keyed(&format!("1{id}#135790#")),
        "",
        Then::HangUpAfter(Duration::from_secs(18)),
    );
    // Both in (the guest's name recording takes 5 s), as the operator sees them.
    let connected = |live: &serde_json::Value, entity: &str| {
        live[0]["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["entity"] == entity && p["status"] == "connected")
    };
    let started = Instant::now();
    let live = loop {
        let out = ok(&s.cli(&["meetings", "--tenant", "contoso", "--json"]));
        let live: serde_json::Value = serde_json::from_str(&out).unwrap();
        let both =
            connected(&live, "tel:+14255551234") && connected(&live, "sip:alice@contoso.example");
        if both || started.elapsed() > Duration::from_secs(17) {
            break live;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(connected(&live, "sip:alice@contoso.example"), "{live}");
    assert!(connected(&live, "tel:+14255551234"), "{live}");
    assert_eq!(live[0]["pstn_id"], id.as_str(), "{live}");
    assert_eq!(metric(&s, "plenum_media_legs "), Some(2));
    for (name, child) in [("guest", guest), ("organizer", organizer)] {
        let log = finished(child, calls.path(), name);
        // Our offer's port, then the answer's: the shared port.
        let ports = answered_ports(&log);
        assert_eq!(ports.last(), Some(&port), "{name}: {ports:?}\n{log}");
    }
    // Every datagram the callers sent reached its leg: none came from an address no leg has.
    assert_eq!(metric(&s, "plenum_media_unknown_source_total "), Some(0));
    assert_eq!(metric(&s, "plenum_media_over_limit_total "), Some(0));
    let out = s.cli(&["audit", "--tenant", "contoso", "--limit", "100", "--json"]);
    let events: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let joins: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "join")
        .filter_map(|e| e["subject"].as_str())
        .collect();
    assert!(joins.contains(&"sip:alice@contoso.example"), "{events}");
    assert!(joins.contains(&"tel:+14255551234"), "{events}");
}

#[test]
fn the_load_generator_enters_and_hears_the_mix_on_the_shared_port() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _port) = serve(dir.path());
    let users = read_credentials(&s.data_dir.join("demo-credentials.txt")).unwrap();
    let alice = users.iter().find(|u| u.user == "alice").unwrap();
    let sip = s.sip_addr("udp");
    let scheduler = Scheduler {
        plenum: env!("CARGO_BIN_EXE_plenum").into(),
        server: format!("udp:{sip}"),
        organizer: "alice@contoso.example".into(),
        password: alice.password.clone(),
        passcode: "135790".into(),
        admission: "anonymous".into(),
    };
    let mut o = Options::new(
        sip,
        Meetings::Schedule {
            count: 1,
            scheduler,
        },
    );
    o.size = 4;
    o.rate = 10.0;
    o.hold = Duration::from_secs(2);
    o.join_timeout = Duration::from_secs(40);
    // The server tells calls apart by their address: a socket pair each.
    o.calls_per_socket = 1;
    o.metrics_url = Some(format!("{}/metrics", s.admin_url));
    let report = plenum_loadgen::run(&o).unwrap();
    let text = report.text();
    let e = &report.entries;
    assert_eq!((e.attempted, e.succeeded, e.failed), (4, 4, 0), "{text}");
    assert!(e.failures.is_empty(), "{text}");
    // Every guest heard the leader's pilot through the mix.
    assert_eq!(report.latency.last_key_to_mix.count, 3, "{text}");
    let step = report.last().unwrap();
    assert_eq!(step.client.calls, 4, "{text}");
    assert!(step.client.packets >= 4 * 50, "{text}");
    let server = step.server.expect("the server's metrics were read");
    assert!(server.participants == 4, "{text}");
    assert_eq!(metric(&s, "plenum_media_over_limit_total "), Some(0));

    // Two calls on one socket pair: the server answers both with its one port, so neither
    // side could tell them apart; the second fails, saying so.
    o.size = 2;
    o.calls_per_socket = 2;
    o.join_timeout = Duration::from_secs(20);
    let report = plenum_loadgen::run(&o).unwrap();
    let text = report.text();
    let e = &report.entries;
    assert_eq!((e.attempted, e.succeeded, e.failed), (2, 1, 1), "{text}");
    assert!(
        e.failures
            .iter()
            .any(|(why, n)| *n == 1 && why.contains("calls-per-socket 1")),
        "{text}"
    );
}
