//! Dial-in end to end with SIPp as the PSTN gateway: a meeting scheduled with `plenum meeting
//! schedule`, then callers from the demo gateway's address (127.0.0.2) dial the Redmond access
//! number as the PBX sends it (`4255550100`, not E.164), pick a language, and key in the
//! conference ID and passcode (or `*`, extension and PIN) as RFC 4733 telephone-events that
//! SIPp plays from pcap files made by `plenum-rtp-pcap`. What happened is read back from the
//! tenant's audit log (`plenum audit`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Server, free_port, ok};

/// The demo gateway's address (contoso, profile Redmond).
const GATEWAY: &str = "127.0.0.2";

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    (dir, s)
}

/// Schedule a meeting for alice; its PSTN conference ID.
fn schedule(s: &Server, passcode: &str, admission: &str) -> String {
    let out = common::plenum()
        .args([
            "meeting",
            "schedule",
            "--organizer",
            "alice@contoso.example",
            "--password",
            &s.password("alice"),
            "--subject",
            "Dial-in test",
            "--passcode",
            passcode,
            "--admission",
            admission,
            "--server",
            &format!("udp:{}", s.sip_addr("udp")),
            "--json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    v["pstn_conference_id"].as_str().unwrap().to_owned()
}

/// What the gateway does after the ACK.
enum Then {
    /// Stay in the call this long, then hang up.
    HangUpAfter(Duration),
    /// Wait for the server's BYE (up to this long).
    ExpectBye(Duration),
}

/// One SIPp call from the gateway to `number`, keying `keys` after the ACK.
fn dial(
    s: &Server,
    dir: &Path,
    name: &str,
    number: &str,
    keys: &str,
    then: Then,
) -> std::process::Child {
    let pcap = dir.join(format!("{name}.pcap"));
    let packets = plenum_rtp_pcap::packets(&plenum_rtp_pcap::Script::keyed(keys)).unwrap();
    std::fs::write(&pcap, plenum_rtp_pcap::pcap(&packets)).unwrap();
    let ending = match then {
        Then::HangUpAfter(d) => format!(
            r#"<pause milliseconds="{}"/>
  <send retrans="500"><![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+14255551234@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
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
      From: <sip:+14255551234@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
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
      From: <sip:+14255551234@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
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

/// The tenant's audit log, newest first: (event, subject).
fn audit(s: &Server) -> Vec<(String, String)> {
    let out = s.cli(&["audit", "--tenant", "contoso", "--limit", "200", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn finished(mut child: std::process::Child, dir: &Path, name: &str) -> String {
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
    assert!(status.success(), "{name}: sipp failed: {log}");
    log
}

#[test]
fn three_wrong_passcodes_hang_up_and_are_audited() {
    let (_d, s) = server();
    let id = schedule(&s, "135790", "anonymous");
    let dir = tempfile::tempdir().unwrap();
    // English (1), the conference ID, then three wrong passcodes, typed ahead.
    let keys = format!("1{id}#111111#222222#333333#");
    let call = dial(
        &s,
        dir.path(),
        "wrong",
        "4255550100",
        &keys,
        Then::ExpectBye(Duration::from_secs(60)),
    );
    let log = finished(call, dir.path(), "wrong");
    assert!(log.contains("BYE sip:"), "the server hung up: {log}");
    let events = audit(&s);
    let failed = events
        .iter()
        .filter(|(e, _)| e == "failed-passcode")
        .count();
    assert_eq!(failed, 3, "{events:?}");
    assert!(!events.iter().any(|(e, _)| e == "join"), "{events:?}");
}

#[test]
fn a_wrong_check_digit_is_caught_before_any_lookup() {
    let (_d, s) = server();
    let id = schedule(&s, "135790", "anonymous");
    // Change the last digit: the Luhn check fails.
    let last = id.chars().last().unwrap().to_digit(10).unwrap();
    let bad = format!("{}{}", &id[..id.len() - 1], (last + 1) % 10);
    let dir = tempfile::tempdir().unwrap();
    let keys = format!("1{bad}#{bad}#{bad}#");
    let call = dial(
        &s,
        dir.path(),
        "checkdigit",
        "4255550100",
        &keys,
        Then::ExpectBye(Duration::from_secs(60)),
    );
    finished(call, dir.path(), "checkdigit");
    let events = audit(&s);
    let failed = events
        .iter()
        .filter(|(e, _)| e == "failed-conference-id")
        .count();
    assert_eq!(failed, 3, "{events:?}");
}

#[test]
fn the_organizer_by_pin_and_a_caller_by_passcode_both_join() {
    let (_d, s) = server();
    let id = schedule(&s, "135790", "anonymous");
    let dir = tempfile::tempdir().unwrap();
    // alice: English, the ID, `*` for the leader path, extension 1001, PIN 24680.
    let organizer = dial(
        &s,
        dir.path(),
        "organizer",
        "4255550100",
        &format!("1{id}#*1001#24680#"),
        Then::HangUpAfter(Duration::from_secs(25)),
    );
    std::thread::sleep(Duration::from_secs(6));
    // A guest: English, the ID, the passcode; then the name recording (silence) and in.
    let guest = dial(
        &s,
        dir.path(),
        "guest",
        "4255550100",
        &format!("1{id}#135790#"),
        Then::HangUpAfter(Duration::from_secs(14)),
    );
    finished(guest, dir.path(), "guest");
    finished(organizer, dir.path(), "organizer");
    let events = audit(&s);
    let joins: Vec<&str> = events
        .iter()
        .filter(|(e, _)| e == "join")
        .map(|(_, who)| who.as_str())
        .collect();
    assert!(joins.contains(&"sip:alice@contoso.example"), "{events:?}");
    assert!(joins.contains(&"tel:+14255551234"), "{events:?}");
    let leaves = events.iter().filter(|(e, _)| e == "leave").count();
    assert_eq!(leaves, 2, "{events:?}");
}
