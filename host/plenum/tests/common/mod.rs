//! Start the real `plenum` binary on loopback and drive it with its own CLI.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code
#![allow(dead_code)]
pub mod subscriber;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The binary under test.
pub fn plenum() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_plenum"));
    c.env("RUST_BACKTRACE", "0")
        .env_remove("PLENUM_CONFIG")
        .env_remove("PLENUM_DATA_DIR");
    c
}

/// A running `plenum serve`, killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub admin_url: String,
    /// Everything it printed on stdout until it was ready.
    pub banner: String,
    /// Its data dir.
    pub data_dir: PathBuf,
    /// Its SIP listening points (`udp`/`tcp`, address).
    pub sip: Vec<(String, SocketAddr)>,
}

impl Server {
    /// Start on an ephemeral admin port with `data_dir`, and wait until it is ready.
    pub fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[])
    }

    /// Start with extra `serve` arguments. SIP listens on ephemeral ports of 127.0.0.1 over
    /// UDP and TCP unless the arguments say otherwise.
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Server {
        let mut args: Vec<&str> = vec!["serve", "--admin-listen", "127.0.0.1:0"];
        if !extra.contains(&"--sip-listen") {
            args.extend([
                "--sip-listen",
                "udp:127.0.0.1:0",
                "--sip-listen",
                "tcp:127.0.0.1:0",
            ]);
        }
        args.extend(extra);
        let mut child = plenum()
            .args(&args)
            .arg("--data-dir")
            .arg(data_dir)
            .env("PLENUM_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn plenum serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = String::new();
        let mut admin_url = None;
        let mut sip = Vec::new();
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(120))
                .expect("plenum serve did not become ready");
            banner.push_str(&line);
            banner.push('\n');
            if let Some(rest) = line.strip_prefix("plenum: admin API on ") {
                admin_url = rest.split_whitespace().next().map(str::to_owned);
            }
            if let Some(rest) = line.strip_prefix("plenum: SIP on ") {
                let mut w = rest.split_whitespace();
                if let (Some(t), Some(a)) = (w.next(), w.next().and_then(|a| a.parse().ok())) {
                    sip.push((t.to_owned(), a));
                }
            }
            if line == "plenum: ready" {
                break;
            }
        }
        Server {
            child,
            admin_url: admin_url.expect("admin URL printed"),
            banner,
            data_dir: data_dir.to_owned(),
            sip,
        }
    }

    /// Run `plenum ARGS --data-dir D --admin-url U`.
    pub fn cli(&self, args: &[&str]) -> Output {
        plenum()
            .args(args)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--admin-url", &self.admin_url])
            .output()
            .expect("run plenum")
    }

    /// Its process id (for readers of `/proc`, like the load generator).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stop it (SIGTERM, as an operator would) and wait.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The SIP address of a transport (`udp` or `tcp`).
    pub fn sip_addr(&self, transport: &str) -> SocketAddr {
        self.sip
            .iter()
            .find(|(t, _)| t == transport)
            .map(|(_, a)| *a)
            .expect("SIP address printed")
    }

    /// The demo SIP digest password of a user (from the credentials file).
    pub fn password(&self, user: &str) -> String {
        let text = std::fs::read_to_string(self.data_dir.join("demo-credentials.txt"))
            .expect("credentials");
        text.lines()
            .find(|l| l.contains(&format!("sip:{user}@")))
            .and_then(|l| l.split(" / ").nth(3))
            .expect("user in credentials")
            .trim()
            .to_owned()
    }
}

/// A free local port (UDP and TCP both free when returned; a race is possible but unlikely).
pub fn free_port(ip: &str) -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind((ip, 0)).expect("bind");
        let port = udp.local_addr().expect("addr").port();
        if std::net::TcpListener::bind((ip, port)).is_ok() {
            return port;
        }
    }
}

/// What a SIPp run did.
pub struct Sipp {
    /// Its exit status (0: every call succeeded).
    pub code: i32,
    /// The messages it sent and received (`-trace_msg`).
    pub messages: String,
}

impl Sipp {
    /// The first lines of the messages, in order.
    pub fn first_lines(&self) -> Vec<&str> {
        self.messages
            .lines()
            .filter(|l| l.starts_with("SIP/2.0 ") || l.ends_with(" SIP/2.0"))
            .collect()
    }
}

/// Run SIPp once (`-m 1`) against `target`, from `local_ip`, with `args` (a scenario and its
/// options). SIPp must be installed (tests/run installs it).
pub fn sipp(target: SocketAddr, local_ip: &str, transport: &str, args: &[&str]) -> Sipp {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("messages.log");
    let port = free_port(local_ip).to_string();
    let mut cmd = Command::new("sipp");
    cmd.arg(target.to_string())
        .args([
            "-i",
            local_ip,
            "-p",
            &port,
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "20s",
            "-trace_msg",
            "-message_file",
        ])
        .arg(&log)
        .args(if transport == "tcp" {
            &["-t", "t1"][..]
        } else {
            &[][..]
        })
        .args(args)
        .current_dir(scenario_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let status = cmd
        .status()
        .expect("sipp runs (Debian package sip-tester; tests/run installs it)");
    let messages = std::fs::read_to_string(&log).unwrap_or_default();
    Sipp {
        code: status.code().unwrap_or(-1),
        messages,
    }
}

/// `tests/sipp` of the repository.
pub fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sipp")
}

/// stdout of a successful run (panics with stderr otherwise).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a failed run (panics if it succeeded).
pub fn err(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "unexpectedly succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The path of a built component by crate name.
pub fn artifact(name: &str) -> String {
    plenum_bundled::artifact_path(name).display().to_string()
}

/// The `plugin list` line of a kind, split into words.
pub fn row(list: &str, kind: &str, state: &str) -> Option<Vec<String>> {
    list.lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .find(|w| {
            w.first().map(String::as_str) == Some(kind)
                && w.get(1).map(String::as_str) == Some(state)
        })
}

/// The demo gateway's address (contoso, profile Redmond).
pub const GATEWAY: &str = "127.0.0.2";

/// What the gateway does after the ACK.
pub enum Then {
    /// Stay in the call this long, then hang up.
    HangUpAfter(Duration),
    /// Wait for the server's BYE (up to this long).
    ExpectBye(Duration),
}

/// One SIPp call from the gateway to `number`, keying `keys` after the ACK.
pub fn dial(
    s: &Server,
    dir: &Path,
    name: &str,
    number: &str,
    keys: &str,
    then: Then,
) -> std::process::Child {
    dial_script(
        s,
        dir,
        name,
        number,
        &plenum_rtp_pcap::Script::keyed(keys),
        then,
    )
}

/// A gateway call keying what `script` sends, hanging up after `stay`.
pub fn gateway_call(
    s: &Server,
    dir: &Path,
    name: &str,
    script: &plenum_rtp_pcap::Script,
    stay: Duration,
) -> std::process::Child {
    dial_script(s, dir, name, "4255550100", script, Then::HangUpAfter(stay))
}

/// One SIPp call from the gateway to `number`, playing `script` after the ACK.
pub fn dial_script(
    s: &Server,
    dir: &Path,
    name: &str,
    number: &str,
    script: &plenum_rtp_pcap::Script,
    then: Then,
) -> std::process::Child {
    dial_with_info(s, dir, name, number, script, "", then)
}

/// Like [`dial_script`], with `info` (SIPp scenario elements, e.g. INFO requests with
/// pauses) run while the pcap plays.
pub fn dial_with_info(
    s: &Server,
    dir: &Path,
    name: &str,
    number: &str,
    script: &plenum_rtp_pcap::Script,
    info: &str,
    then: Then,
) -> std::process::Child {
    dial_from(s, dir, name, "+14255551234", number, script, info, then)
}

/// Like [`dial_with_info`], with the caller ID (`From` user part) as the PBX sends it.
#[allow(clippy::too_many_arguments)]
pub fn dial_from(
    s: &Server,
    dir: &Path,
    name: &str,
    caller: &str,
    number: &str,
    script: &plenum_rtp_pcap::Script,
    info: &str,
    then: Then,
) -> std::process::Child {
    let pcap = dir.join(format!("{name}.pcap"));
    let packets = plenum_rtp_pcap::packets(script).unwrap();
    std::fs::write(&pcap, plenum_rtp_pcap::pcap(&packets)).unwrap();
    let ending = match then {
        Then::HangUpAfter(d) => format!(
            r#"<pause milliseconds="{}"/>
  <send retrans="500"><![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 999 BYE
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="200"/>"#,
            d.as_millis()
        ),
        Then::ExpectBye(d) => format!(
            r#"<recv request="BYE" timeout="{}"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>"#,
            d.as_millis()
        ),
    };
    let scenario = format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="dial-in {name}">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=gw 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
  {info}
  {ending}
</scenario>
"#,
        pcap = pcap.display()
    );
    let xml = dir.join(format!("{name}.xml"));
    std::fs::write(&xml, scenario).unwrap();
    let target: SocketAddr = s.sip_addr("udp");
    Command::new("sipp")
        .arg(target.to_string())
        .args(["-i", GATEWAY, "-p"])
        .arg(free_port(GATEWAY).to_string())
        .args(["-mp"])
        .arg(free_port(GATEWAY).to_string())
        .args([
            "-m", "1", "-nostdin", "-timeout", "90s", "-s", number, "-sf",
        ])
        .arg(&xml)
        .args(["-trace_msg", "-message_file"])
        .arg(dir.join(format!("{name}.log")))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp runs (Debian package sip-tester; tests/run installs it)")
}

/// Wait for a SIPp call; its message log (panics when SIPp failed).
pub fn sipp_done(mut child: std::process::Child, dir: &Path, name: &str) -> String {
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
    assert!(status.success(), "{name}: sipp failed: {log}");
    log
}

/// `plenum meeting schedule --json` for alice (contoso) over UDP with `subject`, then
/// `extra` options (`--passcode`, `--admission`, `--expires`, …); the invitation.
pub fn schedule_for_alice(s: &Server, subject: &str, extra: &[&str]) -> serde_json::Value {
    let out = plenum()
        .args([
            "meeting",
            "schedule",
            "--organizer",
            "alice@contoso.example",
        ])
        .args(["--password", &s.password("alice"), "--subject", subject])
        .args(["--server", &format!("udp:{}", s.sip_addr("udp")), "--json"])
        .args(extra)
        .output()
        .unwrap();
    serde_json::from_str(&ok(&out)).unwrap()
}
