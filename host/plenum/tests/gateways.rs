//! Gateways from the configuration file (`[[gateways]]`): an SRTP trunk that must offer SDES
//! keys, a trunk that counts only over TCP, and configurations the server refuses to start
//! with. SIPp plays the trunks from their own loopback addresses.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::path::Path;

use common::{Server, Sipp, sipp};

const SRTP_TRUNK: &str = "127.0.0.4";
const TCP_TRUNK: &str = "127.0.0.5";

const CONFIG: &str = r#"
[[gateways]]
name = "srtp-trunk"
tenant = "contoso"
address = "127.0.0.4"
srtp = true
location-profile = "Redmond"

[[gateways]]
name = "tcp-pbx"
tenant = "contoso"
address = "127.0.0.5"
transport = "tcp"
location-profile = "Redmond"
"#;

fn server(config: &str) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plenum.toml");
    std::fs::write(&path, config).unwrap();
    let data = dir.path().join("data");
    let s = Server::start_with(&data, &["--config", path.to_str().unwrap()]);
    (dir, s)
}

/// A SIPp scenario: INVITE the Redmond access number as the PBX sends it with `media`
/// (the SDP's `m=` line and attributes); on 200, ACK and BYE; otherwise ACK the failure.
fn invite(dir: &Path, expect: u16, media: &str) -> String {
    let tail = if expect == 200 {
        r#"<recv response="200"/>
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
  <recv response="200"/>"#
            .to_owned()
    } else {
        format!(
            r#"<recv response="{expect}"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: <sip:+14255551234@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>"#
        )
    };
    let xml = format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="trunk invite">
  <send retrans="500"><![CDATA[
      INVITE sip:4255550100@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+14255551234@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:4255550100@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:pbx@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=pbx 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      {media}
  ]]></send>
  <recv response="100" optional="true"/>
  {tail}
</scenario>
"#
    );
    let path = dir.join(format!("invite-{expect}.xml"));
    std::fs::write(&path, xml).unwrap();
    path.to_str().unwrap().to_owned()
}

const PLAIN: &str = "m=audio 40000 RTP/AVP 0 101\n      a=rtpmap:0 PCMU/8000\n      \
                     a=rtpmap:101 telephone-event/8000";
const SDES: &str = "m=audio 40000 RTP/SAVP 0 101\n      a=rtpmap:0 PCMU/8000\n      \
                    a=rtpmap:101 telephone-event/8000\n      \
                    a=crypto:1 AES_CM_128_HMAC_SHA1_80 \
                    inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

fn answer_of(run: &Sipp) -> &str {
    let start = run.messages.find("SIP/2.0 200 OK").expect("a 200");
    &run.messages[start..]
}

#[test]
fn an_srtp_trunk_gets_keys_and_plain_rtp_is_refused() {
    let (dir, s) = server(CONFIG);
    let udp = s.sip_addr("udp");

    let run = sipp(
        udp,
        SRTP_TRUNK,
        "udp",
        &["-sf", &invite(dir.path(), 200, SDES)],
    );
    assert_eq!(run.code, 0, "{}", run.messages);
    let answer = answer_of(&run);
    assert!(answer.contains("RTP/SAVP"), "{answer}");
    assert!(
        answer.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"),
        "{answer}"
    );

    let run = sipp(
        udp,
        SRTP_TRUNK,
        "udp",
        &["-sf", &invite(dir.path(), 488, PLAIN)],
    );
    assert_eq!(run.code, 0, "{}", run.messages);

    // The demo gateway is plain RTP: it is answered without keys.
    let run = sipp(
        udp,
        common::GATEWAY,
        "udp",
        &["-sf", &invite(dir.path(), 200, PLAIN)],
    );
    assert_eq!(run.code, 0, "{}", run.messages);
    let answer = answer_of(&run);
    assert!(
        answer.contains("RTP/AVP") && !answer.contains("a=crypto"),
        "{answer}"
    );
    s.stop();
}

#[test]
fn a_tcp_trunk_is_a_gateway_over_tcp_only() {
    let (dir, s) = server(CONFIG);
    let run = sipp(
        s.sip_addr("tcp"),
        TCP_TRUNK,
        "tcp",
        &["-sf", &invite(dir.path(), 200, PLAIN)],
    );
    assert_eq!(run.code, 0, "{}", run.messages);
    // The same address over UDP is nobody the pool knows: 403.
    let run = sipp(
        s.sip_addr("udp"),
        TCP_TRUNK,
        "udp",
        &["-sf", &invite(dir.path(), 403, PLAIN)],
    );
    assert_eq!(run.code, 0, "{}", run.messages);
    s.stop();
}

#[test]
fn a_gateway_of_no_tenant_or_profile_stops_the_start() {
    for (bad, says) in [
        (
            "tenant = \"nobody\"\nlocation-profile = \"Redmond\"",
            "no tenant `nobody`",
        ),
        (
            "tenant = \"contoso\"\nlocation-profile = \"Atlantis\"",
            "no location profile `Atlantis`",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plenum.toml");
        std::fs::write(
            &path,
            format!("[[gateways]]\nname = \"pbx\"\naddress = \"127.0.0.4\"\n{bad}\n"),
        )
        .unwrap();
        let out = common::plenum()
            .args(["serve", "--admin-listen", "127.0.0.1:0", "--sip-listen"])
            .arg("udp:127.0.0.1:0")
            .arg("--config")
            .arg(&path)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("PLENUM_LOG", "error")
            .output()
            .unwrap();
        let stderr = common::err(&out);
        assert!(stderr.contains(says), "{stderr}");
    }
}
