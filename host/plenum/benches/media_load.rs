//! Media load against the real server with the load generator (`cargo bench -p plenum --bench
//! media_load`): how many dial-in participants the media engine's one thread carries, in
//! meetings of 5 and of 100, plain RTP and SRTP; and how many entries per second the dial-in
//! path sustains. Prints tables; asserts nothing.
//!
//! Media: for each meeting size and mode, a fresh release server (with the SRTP trunk
//! `127.0.0.4` configured) and one load generator run climbing a staircase of participant
//! counts: each step adds whole meetings (leaders by PIN, guests by passcode, entering at
//! `PLENUM_BENCH_RATE` per second), waits until all are in, then measures a window of
//! `PLENUM_BENCH_HOLD` seconds: the media thread's CPU from `/proc` (the figure that matters:
//! the load generator shares the machine), the server's late ticks (a tick starting > 5 ms
//! late) and what the callers heard (frames > 10 ms behind their 20 ms slot, lost frames). The
//! climb stops after a step with failed entries or `PLENUM_BENCH_STOP_LATE` % late ticks (5:
//! past the 1% that counts, to see the trend on a machine shared with other work).
//!
//! Entries: a fresh server; for each rate of `PLENUM_BENCH_ENTRY_RATES`, five seconds' worth of
//! guests (meetings of 50, their leaders first) key in ID and passcode; a rate is sustained when
//! no entry failed and the entries completed at ≥ 80% of the rate offered.
//!
//! Knobs (environment): `PLENUM_BENCH_STEPS` (default `250,500,1000,2000,3000,4000,5000`),
//! `PLENUM_BENCH_SIZES` (`5,100`), `PLENUM_BENCH_MODES` (`plain,srtp`), `PLENUM_BENCH_HOLD`
//! (`15`), `PLENUM_BENCH_RATE` (`50`), `PLENUM_BENCH_ENTRY_RATES` (`50,100,200,400`),
//! `PLENUM_BENCH_PARTS` (`media,entries`), `PLENUM_BENCH_STOP_LATE` (`5`),
//! `PLENUM_BENCH_PLENUM` (the server binary; default this build's), `PLENUM_BENCH_PROGRESS`,
//! `PLENUM_BENCH_SHARED_PORT` (`1`: the server runs with `media.shared-port`, one RTP port for
//! every call, and every load call gets a socket pair of its own so that the server can tell
//! them apart by address), `PLENUM_BENCH_CALLS_PER_SOCKET` (the load generator's calls per
//! socket pair: 32, or 1 with the shared port; 1 without it compares like with like).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // bench code

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use plenum_loadgen::report::Step;
use plenum_loadgen::schedule::{Meeting, Scheduler, read_credentials};
use plenum_loadgen::{Meetings, Options, SRTP_GATEWAY};

const CONFIG: &str = r#"
[media]
rtp-port-min = 10000
rtp-port-max = 39999

[[gateways]]
name = "srtp-trunk"
tenant = "contoso"
address = "127.0.0.4"
transport = "udp"
srtp = true
location-profile = "Redmond"

[log]
level = "warn"
"#;

struct Server {
    child: Child,
    sip: SocketAddr,
    admin: String,
    scheduler: Scheduler,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("bench.toml");
    let text = match shared_port() {
        Some(p) => CONFIG.replace("[media]\n", &format!("[media]\nshared-port = {p}\n")),
        None => CONFIG.to_owned(),
    };
    std::fs::write(&config, text).unwrap();
    let mut child = Command::new(plenum())
        .args(["serve", "--admin-listen", "127.0.0.1:0"])
        .args(["--sip-listen", "udp:127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(data.path().join("data"))
        .env("PLENUM_LOG", "warn")
        .env_remove("PLENUM_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
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
    let sip: SocketAddr = sip.expect("SIP address printed");
    let creds = read_credentials(&data.path().join("data/demo-credentials.txt")).unwrap();
    let alice = creds.iter().find(|u| u.user == "alice").unwrap();
    let scheduler = Scheduler {
        plenum: plenum().into(),
        server: format!("udp:{sip}"),
        organizer: "alice@contoso.example".into(),
        password: alice.password.clone(),
        passcode: "135790".into(),
        admission: "anonymous".into(),
    };
    Server {
        child,
        sip,
        admin: admin.expect("admin URL printed"),
        scheduler,
        _data: data,
    }
}

/// The server binary: this build's, or `PLENUM_BENCH_PLENUM` (to measure another build, e.g.
/// the one before a change, with the same load generator).
fn plenum() -> String {
    std::env::var("PLENUM_BENCH_PLENUM").unwrap_or_else(|_| env!("CARGO_BIN_EXE_plenum").to_owned())
}

/// With `PLENUM_BENCH_SHARED_PORT=1`: a free even port below the per-call range whose next
/// one is free too.
fn shared_port() -> Option<u16> {
    if std::env::var("PLENUM_BENCH_SHARED_PORT").ok().as_deref() != Some("1") {
        return None;
    }
    (9000..9998).step_by(2).find(|&p| {
        std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", p + 1)).is_ok()
    })
}

/// The load generator's calls per socket pair: one with a shared server port (it tells calls
/// apart by their address), else `PLENUM_BENCH_CALLS_PER_SOCKET` or the generator's default.
fn calls_per_socket(default: usize) -> usize {
    let shared = std::env::var("PLENUM_BENCH_SHARED_PORT").ok().as_deref() == Some("1");
    let asked = env_num("PLENUM_BENCH_CALLS_PER_SOCKET", default as f64) as usize;
    if shared { 1 } else { asked.max(1) }
}

fn env_list<T: std::str::FromStr>(name: &str, default: &str) -> Vec<T> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn options(server: &Server, meetings: Vec<Meeting>, size: usize, srtp: bool) -> Options {
    let mut o = Options::new(server.sip, Meetings::Given(meetings));
    o.size = size;
    o.srtp = srtp;
    if srtp {
        o.local_ip = SRTP_GATEWAY;
    }
    o.metrics_url = Some(format!("{}/metrics", server.admin));
    o.server_pid = Some(server.child.id());
    o.join_timeout = Duration::from_secs(120);
    o.progress = std::env::var_os("PLENUM_BENCH_PROGRESS").is_some();
    o.calls_per_socket = calls_per_socket(o.calls_per_socket);
    o
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let parts: Vec<String> = env_list("PLENUM_BENCH_PARTS", "media,entries");
    if parts.iter().any(|p| p == "media") {
        media();
    }
    if parts.iter().any(|p| p == "entries") {
        entries();
    }
}

fn media() {
    let steps: Vec<usize> = env_list("PLENUM_BENCH_STEPS", "250,500,1000,2000,3000,4000,5000");
    let sizes: Vec<usize> = env_list("PLENUM_BENCH_SIZES", "5,100");
    let modes: Vec<String> = env_list("PLENUM_BENCH_MODES", "plain,srtp");
    let hold = env_num("PLENUM_BENCH_HOLD", 15.0);
    let rate = env_num("PLENUM_BENCH_RATE", 50.0);
    let stop = env_num("PLENUM_BENCH_STOP_LATE", 5.0);
    println!(
        "server media: {}; load calls per socket pair: {}",
        if shared_port().is_some() {
            "one shared port (media.shared-port)"
        } else {
            "a port pair per call"
        },
        calls_per_socket(32)
    );
    println!(
        "{:>6} {:>5} {:>5} {:>9} {:>7} {:>8} {:>7} {:>8} {:>8} {:>7} {:>7} {:>6}  entry p50/p99 ms (INVITE->prompt, key->mix)",
        "legs",
        "size",
        "mode",
        "us/part-s",
        "kernel",
        "media%",
        "late%",
        "c.late%",
        "c.loss%",
        "c.maxms",
        "lg.cpu%",
        "failed",
    );
    let mut best = Vec::new();
    for &size in &sizes {
        for mode in &modes {
            let srtp = mode == "srtp";
            let server = start();
            let needed = steps.iter().max().copied().unwrap_or(0).div_ceil(size);
            let meetings = match server.scheduler.schedule(needed, 4) {
                Ok(m) => m,
                Err(e) => {
                    println!("{size} {mode}: cannot schedule {needed} meetings: {e:#}");
                    continue;
                }
            };
            let mut o = options(&server, meetings, size, srtp);
            o.rate = rate;
            o.hold = Duration::from_secs_f64(hold);
            o.settle = Duration::from_secs(2);
            o.steps = steps.clone();
            o.stop_late_pct = Some(stop);
            let mut carried = 0;
            let report = match plenum_loadgen::run(&o) {
                Ok(r) => r,
                Err(e) => {
                    println!("{size} {mode}: run failed: {e:#}");
                    continue;
                }
            };
            for step in &report.steps {
                print_step(step, size, mode);
                if let Some(s) = &step.server
                    && s.late_tick_pct < 1.0
                    && step.client.calls == step.calls
                {
                    carried = step.calls;
                }
            }
            best.push((size, mode.clone(), carried));
        }
    }
    for (size, mode, carried) in best {
        println!(
            "meetings of {size}, {mode}: most participants with < 1% late ticks and every entry in: {carried}"
        );
    }
}

fn print_step(step: &Step, size: usize, mode: &str) {
    let s = step.server.unwrap_or_default();
    let opt = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.1}"));
    let failed = step.calls - step.client.calls;
    println!(
        "{:>6} {:>5} {:>5} {:>9} {:>7} {:>8} {:>7.2} {:>8.3} {:>8.3} {:>7.1} {:>7.1} {:>6}  {:.0}/{:.0}, {:.0}/{:.0}",
        step.calls,
        size,
        mode,
        opt(s.media_cpu_us_per_participant_s),
        opt(s.media_kernel_us_per_participant_s),
        opt(s.media_thread_cpu_pct),
        s.late_tick_pct,
        step.client.late_pct,
        step.client.loss_pct,
        step.client.max_late_ms,
        step.loadgen_cpu_pct,
        failed,
        step.latency.invite_to_prompt.p50_ms,
        step.latency.invite_to_prompt.p99_ms,
        step.latency.last_key_to_mix.p50_ms,
        step.latency.last_key_to_mix.p99_ms,
    );
}

fn entries() {
    let rates: Vec<f64> = env_list("PLENUM_BENCH_ENTRY_RATES", "50,100,200,400");
    println!(
        "{:>8} {:>7} {:>8} {:>7} {:>10} {:>10} {:>12} {:>12}",
        "offered/s",
        "guests",
        "achieved",
        "failed",
        "2xx p99 ms",
        "prompt p99",
        "key->mix p50",
        "key->mix p99"
    );
    let size = 50;
    let mut sustained = 0.0;
    for rate in rates {
        // A fresh server per rate: nothing left over from the previous one.
        let server = start();
        let guests = (rate * 5.0).round().max(size as f64) as usize;
        let meetings = server
            .scheduler
            .schedule(guests.div_ceil(size - 1), 4)
            .unwrap();
        let mut o = options(&server, meetings, size, false);
        o.rate = rate;
        o.hold = Duration::from_secs(2);
        let report = match plenum_loadgen::run(&o) {
            Ok(r) => r,
            Err(e) => {
                println!("{rate}/s: run failed: {e:#}");
                continue;
            }
        };
        let e = &report.entries;
        let l = &report.latency;
        println!(
            "{:>8.0} {:>7} {:>8.1} {:>7} {:>10.0} {:>10.0} {:>12.0} {:>12.0}",
            rate,
            e.attempted - e.leaders.0,
            e.achieved_per_s,
            e.failed,
            l.invite_to_answer.p99_ms,
            l.invite_to_prompt.p99_ms,
            l.last_key_to_mix.p50_ms,
            l.last_key_to_mix.p99_ms
        );
        for (why, n) in &e.failures {
            println!("           failed x{n}: {why}");
        }
        if e.failed == 0 && e.achieved_per_s >= 0.8 * rate {
            sustained = rate;
        } else {
            break;
        }
    }
    println!("highest entry rate sustained with no failed entry: {sustained}/s");
}
