//! SIP load against the real server with SIPp: the highest OPTIONS rate and INVITE/ACK/BYE call
//! rate the server sustains with no failed transaction (`cargo bench -p plenum --bench
//! sip_load`; needs SIPp). Each step runs SIPp at a fixed rate for a fixed number of
//! transactions and counts successes and failures; the table shows every step and the server's
//! CPU time per step. Prints; asserts nothing.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // bench code

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    sip: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plenum"))
        .args([
            "serve",
            "--admin-listen",
            "127.0.0.1:0",
            "--sip-listen",
            "udp:127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data)
        .env("PLENUM_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut sip = String::new();
    for line in out.lines().map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix("plenum: SIP on udp ") {
            sip = rest.trim().to_owned();
        }
        if line == "plenum: ready" {
            break;
        }
    }
    Server { child, sip }
}

/// CPU seconds (user + system) the process has used.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// One SIPp step: (successful, failed, seconds).
fn step(
    server: &Server,
    local_ip: &str,
    rate: u32,
    total: u32,
    scenario: &[&str],
) -> (u64, u64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.csv");
    let started = Instant::now();
    let status = Command::new("sipp")
        .arg(&server.sip)
        .args([
            "-i",
            local_ip,
            "-r",
            &rate.to_string(),
            "-m",
            &total.to_string(),
            "-l",
            "20000",
        ])
        .args([
            "-nostdin",
            "-timeout",
            "120s",
            "-trace_stat",
            "-fd",
            "1",
            "-stf",
        ])
        .arg(&stats)
        .args(scenario)
        .current_dir(scenario_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&stats).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(';').collect();
    let last: Vec<&str> = text.lines().last().unwrap_or("").split(';').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| last.get(i))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let ok = col("SuccessfulCall(C)").unwrap_or(0);
    let failed = col("FailedCall(C)").unwrap_or(if status.success() { 0 } else { u64::MAX });
    (ok, failed, secs)
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sipp")
}

fn main() {
    if std::env::args().any(|a| a == "--list") || Command::new("sipp").arg("-v").output().is_err() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    println!(
        "{:<8} {:>8} {:>9} {:>8} {:>9} {:>11} {:>12}",
        "load", "rate/s", "total", "ok", "failed", "achieved/s", "server CPU %"
    );
    let mut best = [0u32; 2];
    for (i, (name, local, base, scenario)) in [
        ("options", "127.0.0.1", 1000, vec!["-sf", "options.xml"]),
        (
            "calls",
            "127.0.0.2",
            250,
            vec!["-sn", "uac", "-s", "4255550100"],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        for mult in [1, 2, 4, 6, 8, 12, 16] {
            let rate = base * mult;
            let total = rate * 10;
            let cpu0 = cpu_secs(server.child.id());
            let (ok, failed, secs) = step(&server, local, rate, total, &scenario);
            let cpu = (cpu_secs(server.child.id()) - cpu0) / secs * 100.0;
            println!(
                "{name:<8} {rate:>8} {total:>9} {ok:>8} {failed:>9} {:>11.0} {cpu:>12.0}",
                ok as f64 / secs
            );
            if failed == 0 && ok == u64::from(total) {
                best[i] = rate;
            } else {
                break;
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }
    println!(
        "highest rate with no failure: OPTIONS {}/s, calls {}/s",
        best[0], best[1]
    );
}
