//! The load generator end to end, small: one meeting of four calls from the demo gateway (the
//! leader by extension and PIN, three guests by passcode) enter, hear the meeting's mix (the
//! leader's pilot tone), stay a few seconds and hang up; none fails, and the server's media
//! counters were read. Once in plain RTP, once in SRTP from a trunk the server's config makes
//! SRTP-only. The measurement runs themselves are `benches/media_load.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::time::Duration;

use common::Server;
use plenum_loadgen::schedule::{Scheduler, read_credentials};
use plenum_loadgen::{Meetings, Options, SRTP_GATEWAY};

/// An SRTP-only trunk at the load generator's SRTP address.
const SRTP_TRUNK: &str = r#"
[[gateways]]
name = "srtp-trunk"
tenant = "contoso"
address = "127.0.0.4"
srtp = true
location-profile = "Redmond"
"#;

/// `plenum serve` with the SRTP trunk, its data in `dir`.
fn serve(dir: &std::path::Path) -> Server {
    let config = dir.join("loadgen.toml");
    std::fs::write(&config, SRTP_TRUNK).unwrap();
    let args = ["--sip-listen", "udp:127.0.0.1:0", "--config"];
    Server::start_with(
        &dir.join("data"),
        &[&args[..], &[config.to_str().unwrap()]].concat(),
    )
}

#[test]
fn four_callers_enter_hear_the_mix_and_hang_up() {
    four_callers(false);
}

#[test]
fn four_srtp_callers_enter_hear_the_mix_and_hang_up() {
    four_callers(true);
}

fn four_callers(srtp: bool) {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path());
    let users = read_credentials(&server.data_dir.join("demo-credentials.txt")).unwrap();
    let alice = users.iter().find(|u| u.user == "alice").unwrap();
    let scheduler = Scheduler {
        plenum: env!("CARGO_BIN_EXE_plenum").into(),
        server: format!("udp:{}", server.sip_addr("udp")),
        organizer: "alice@contoso.example".into(),
        password: alice.password.clone(),
        passcode: "135790".into(),
        admission: "anonymous".into(),
    };
    let mut o = Options::new(
        server.sip_addr("udp"),
        Meetings::Schedule {
            count: 1,
            scheduler,
        },
    );
    o.size = 4;
    o.srtp = srtp;
    if srtp {
        o.local_ip = SRTP_GATEWAY;
    }
    o.rate = 10.0;
    o.hold = Duration::from_secs(2);
    o.join_timeout = Duration::from_secs(40);
    o.metrics_url = Some(format!("{}/metrics", server.admin_url));
    o.server_pid = Some(server.pid());
    o.trace = true;
    let report = plenum_loadgen::run(&o).unwrap();
    let text = report.text();
    let e = &report.entries;
    assert_eq!((e.attempted, e.succeeded, e.failed), (4, 4, 0), "{text}");
    assert!(e.failures.is_empty(), "{text}");
    assert_eq!(e.leaders, (1, 1), "{text}");
    // Every guest heard the pilot through the mix; every call got its prompt.
    assert_eq!(report.latency.last_key_to_mix.count, 3, "{text}");
    assert_eq!(report.latency.invite_to_prompt.count, 4, "{text}");
    // All four were in for the whole window and heard the meeting's packets.
    let step = report.last().unwrap();
    assert_eq!(step.client.calls, 4, "{text}");
    assert!(step.client.packets >= 4 * 50, "{text}");
    let s = step.server.expect("the server's metrics were read");
    assert!(s.ticks >= 50 && s.participants == 4, "{text}");
    assert!(
        s.media_thread_cpu_pct.is_some(),
        "the media thread by name: {text}"
    );
}
