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

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use plenum_loadgen::schedule::{Scheduler, read_credentials};
use plenum_loadgen::{Meetings, Options, SRTP_GATEWAY};

/// `plenum serve` on ephemeral ports, killed on drop.
struct Server {
    child: Child,
    sip: SocketAddr,
    admin: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SRTP-only trunk at the load generator's SRTP address.
const SRTP_TRUNK: &str = r#"
[[gateways]]
name = "srtp-trunk"
tenant = "contoso"
address = "127.0.0.4"
srtp = true
location-profile = "Redmond"
"#;

fn serve(data: &std::path::Path) -> Server {
    let config = data.join("loadgen.toml");
    std::fs::write(&config, SRTP_TRUNK).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plenum"))
        .args(["serve", "--admin-listen", "127.0.0.1:0"])
        .args(["--sip-listen", "udp:127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(data)
        .env("PLENUM_LOG", "warn")
        .env_remove("PLENUM_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn plenum serve");
    let out = BufReader::new(child.stdout.take().unwrap());
    let (mut sip, mut admin) = (None, None);
    for line in out.lines().map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix("plenum: SIP on udp ") {
            sip = rest.trim().parse().ok();
        }
        if let Some(rest) = line.strip_prefix("plenum: admin API on ") {
            admin = rest.split_whitespace().next().map(str::to_owned);
        }
        if line == "plenum: ready" {
            break;
        }
    }
    Server {
        child,
        sip: sip.expect("SIP address printed"),
        admin: admin.expect("admin URL printed"),
    }
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
    let users = read_credentials(&data.path().join("demo-credentials.txt")).unwrap();
    let alice = users.iter().find(|u| u.user == "alice").unwrap();
    let scheduler = Scheduler {
        plenum: env!("CARGO_BIN_EXE_plenum").into(),
        server: format!("udp:{}", server.sip),
        organizer: "alice@contoso.example".into(),
        password: alice.password.clone(),
        passcode: "135790".into(),
        admission: "anonymous".into(),
    };
    let mut o = Options::new(
        server.sip,
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
    o.metrics_url = Some(format!("{}/metrics", server.admin));
    o.server_pid = Some(server.child.id());
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
