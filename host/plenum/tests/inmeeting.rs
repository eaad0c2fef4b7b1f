//! In the meeting, end to end, with SIPp as the PSTN gateway (127.0.0.2) and a roster
//! subscriber (RFC 4575) as the witness: the leader keypad (`*4` mute the audience, `*7` lock,
//! `*8` admit everyone from the lobby), a guest's keypad (`*6`; leader keys refused), leaving
//! with `on-last-leader-leave = "continue"`, a dead leg, two guests behind one number, and
//! callers who do the wrong thing on the attendant (silence, hanging up mid-prompt, wrong PINs,
//! putting the call on hold). Unknown numbers (404) and unknown peers (403) are sip.rs's.
//!
//! Callers key the attendant as RFC 4733 events from a pcap (`plenum-rtp-pcap`), typed ahead.
//! What they do once in the meeting waits for the test's *cue*: a `MESSAGE` the test sends to
//! the caller's SIPp with the call's Call-ID, on which the scenario goes on (keys as SIP INFO,
//! a BYE). So every step happens after the roster showed the previous one, not after a guess
//! at how long the prompts take.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::subscriber::{Subscriber, Watch, rand_tag, status_of as status};
use common::{GATEWAY, Server, free_port, ok};
use plenum_c3p::roster::ConferenceInfo;
use plenum_rtp_pcap::{Script, Step};

const ALICE: &str = "sip:alice@contoso.example";
const PASSCODE: &str = "135790";
/// Long enough for any step the roster is waited on for.
const WAIT: Duration = Duration::from_secs(30);

fn server() -> (tempfile::TempDir, Server) {
    let dir = scratch();
    let s = Server::start(dir.path());
    (dir, s)
}

/// A directory for the scenarios, pcaps and SIPp logs; kept (and named on stderr) when
/// `PLENUM_TEST_KEEP` is set, to read the SIPp logs of a failure.
fn scratch() -> tempfile::TempDir {
    let mut dir = tempfile::tempdir().unwrap();
    if std::env::var_os("PLENUM_TEST_KEEP").is_some() {
        dir.disable_cleanup(true);
        eprintln!("scratch: {}", dir.path().display());
    }
    dir
}

/// Schedule an anonymous meeting for alice: (conference ID, PSTN ID).
fn schedule(s: &Server) -> (String, String) {
    let v = common::schedule_for_alice(
        s,
        "In-meeting test",
        &["--passcode", PASSCODE, "--admission", "anonymous"],
    );
    (
        v["conference_id"].as_str().unwrap().to_owned(),
        v["pstn_conference_id"].as_str().unwrap().to_owned(),
    )
}

/// alice watching her meeting's roster.
fn watch(s: &Server, conference_id: &str) -> Watch {
    let focus = format!("sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:{conference_id}");
    Watch::start(Subscriber::new(
        s.sip_addr("udp"),
        "alice",
        &s.password("alice"),
        "contoso.example",
        &focus,
    ))
}

/// One row of the tenant's audit log.
#[derive(Debug)]
struct Row {
    event: String,
    subject: String,
    detail: String,
}

/// The tenant's audit log, newest first.
fn audit(s: &Server) -> Vec<Row> {
    let out = s.cli(&["audit", "--tenant", "contoso", "--limit", "200", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| Row {
            event: e["event"].as_str().unwrap_or_default().to_owned(),
            subject: e["subject"].as_str().unwrap_or_default().to_owned(),
            detail: e["detail"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

fn count(rows: &[Row], event: &str, subject: &str) -> usize {
    rows.iter()
        .filter(|r| r.event == event && r.subject == subject)
        .count()
}

// ---- callers ----

/// What a caller does after the ACK, in order.
enum Act {
    /// Wait (up to 40 s) for the test's cue.
    Cue,
    /// Key these as SIP INFO (`application/dtmf-relay`), 250 ms apart.
    Keys(String),
    /// Do nothing for this long.
    Pause(Duration),
    /// A re-INVITE with this direction (`sendonly`, `sendrecv`, …), its 200 and the ACK.
    ReInvite(&'static str),
    /// Hang up: BYE, and its 200.
    HangUp,
    /// Wait up to this long for the server's BYE, and answer it.
    ExpectBye(Duration),
}

/// What the caller sends as RTP.
enum Rtp {
    /// SIPp plays this stream (from its own media port).
    Play(Script),
    /// Nothing: the SDP names this port of 127.0.0.2, where the test listens.
    To(u16),
}

/// A call from the demo gateway to the Redmond access number.
struct Dial {
    name: String,
    /// The calling number (the roster shows `tel:` of it for a guest).
    from: String,
    rtp: Rtp,
    acts: Vec<Act>,
}

/// The keys alice (organizer, leader) types to reach `pstn` by PIN.
fn alice_keys(pstn: &str) -> String {
    format!("1{pstn}#*1001#24680#")
}

/// The keys a guest types: language, ID, passcode, `#` to end the name recording.
fn guest_keys(pstn: &str) -> String {
    format!("1{pstn}#{PASSCODE}##")
}

/// A stream keying `keys` and then sending silence for `then`.
fn keyed(keys: &str, then: Duration, ssrc: u32) -> Script {
    let mut steps = Script::keyed(keys).steps;
    steps.push(Step::Silence(u32::try_from(then.as_millis()).unwrap()));
    Script { steps, ssrc }
}

impl Dial {
    /// alice by PIN, then `acts`.
    fn alice(pstn: &str, acts: Vec<Act>) -> Dial {
        Dial {
            name: "alice".into(),
            from: "+14255551001".into(),
            rtp: Rtp::Play(keyed(&alice_keys(pstn), Duration::from_secs(60), 0xa11c)),
            acts,
        }
    }

    /// A guest by passcode from `from`, then `acts`.
    fn guest(name: &str, from: &str, pstn: &str, acts: Vec<Act>) -> Dial {
        let ssrc = from
            .bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31) ^ u32::from(b));
        Dial {
            name: name.into(),
            from: from.into(),
            rtp: Rtp::Play(keyed(&guest_keys(pstn), Duration::from_secs(60), ssrc)),
            acts,
        }
    }
}

/// A running SIPp call.
struct Caller {
    child: Child,
    name: String,
    dir: PathBuf,
    /// SIPp's SIP port on 127.0.0.2.
    port: u16,
    call_id: String,
    cue: UdpSocket,
    cues: u32,
    started: Instant,
}

/// How a SIPp call ended.
struct Outcome {
    success: bool,
    log: String,
    took: Duration,
}

impl Caller {
    /// Start SIPp for `d` (its files in `dir`).
    fn dial(s: &Server, dir: &Path, d: Dial) -> Caller {
        let media_port = free_port(GATEWAY);
        let (sdp_port, play) = match &d.rtp {
            Rtp::Play(script) => {
                let pcap = dir.join(format!("{}.pcap", d.name));
                let packets = plenum_rtp_pcap::packets(script).unwrap();
                std::fs::write(&pcap, plenum_rtp_pcap::pcap(&packets)).unwrap();
                (
                    "[media_port]".to_owned(),
                    format!(
                        r#"<nop><action><exec play_pcap_audio="{}"/></action></nop>"#,
                        pcap.display()
                    ),
                )
            }
            Rtp::To(port) => (port.to_string(), String::new()),
        };
        let xml = dir.join(format!("{}.xml", d.name));
        std::fs::write(&xml, scenario(&d, &sdp_port, &play)).unwrap();
        let port = free_port(GATEWAY);
        let call_id = format!("{}-{}@inmeeting", d.name, rand_tag());
        let child = Command::new("sipp")
            .arg(s.sip_addr("udp").to_string())
            .args(["-i", GATEWAY, "-p", &port.to_string()])
            .args(["-mp", &media_port.to_string()])
            .args([
                "-m",
                "1",
                "-nostdin",
                "-timeout",
                "120s",
                "-s",
                "4255550100",
            ])
            .args(["-cid_str", &call_id, "-sf"])
            .arg(&xml)
            .args(["-trace_msg", "-message_file"])
            .arg(dir.join(format!("{}.log", d.name)))
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp runs (Debian package sip-tester; tests/run installs it)");
        Caller {
            child,
            name: d.name,
            dir: dir.to_owned(),
            port,
            call_id,
            cue: UdpSocket::bind("127.0.0.1:0").unwrap(),
            cues: 0,
            started: Instant::now(),
        }
    }

    /// Let the scenario go on past its next [`Act::Cue`].
    fn cue(&mut self) {
        self.cues += 1;
        let local = self.cue.local_addr().unwrap();
        let msg = format!(
            "MESSAGE sip:sipp@{GATEWAY}:{port} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-cue-{tag}\r\n\
             From: <sip:test@127.0.0.1>;tag=cue\r\n\
             To: <sip:sipp@{GATEWAY}>\r\n\
             Call-ID: {call}\r\n\
             CSeq: {n} MESSAGE\r\n\
             Max-Forwards: 70\r\n\
             Content-Length: 0\r\n\r\n",
            port = self.port,
            tag = rand_tag(),
            call = self.call_id,
            n = self.cues,
        );
        self.cue
            .send_to(msg.as_bytes(), (GATEWAY, self.port))
            .unwrap();
    }

    /// Wait for SIPp to end.
    fn finish(mut self) -> Outcome {
        let status = self.child.wait().unwrap();
        let took = self.started.elapsed();
        let log = std::fs::read_to_string(self.dir.join(format!("{}.log", self.name)))
            .unwrap_or_default();
        Outcome {
            success: status.success(),
            log,
            took,
        }
    }

    /// Wait for SIPp to end; its log (panics when the scenario failed).
    fn done(self) -> String {
        let name = self.name.clone();
        let o = self.finish();
        assert!(o.success, "{name}: sipp failed: {}", o.log);
        o.log
    }
}

impl Drop for Caller {
    fn drop(&mut self) {
        // A test that failed early leaves no SIPp behind (a no-op once it has been waited on).
        let _ = self.child.kill();
    }
}

/// The SIPp scenario of a dial.
fn scenario(d: &Dial, sdp_port: &str, play: &str) -> String {
    let mut cseq = 1;
    let mut body = String::new();
    for act in &d.acts {
        body.push_str(&match act {
            Act::Cue => r#"<recv request="MESSAGE" timeout="40000"/>"#.to_owned(),
            Act::Keys(keys) => keys
                .chars()
                .enumerate()
                .map(|(i, k)| {
                    cseq += 1;
                    let gap = if i > 0 { KEY_GAP } else { "" };
                    format!("{gap}{}", info_key(&d.from, k, cseq))
                })
                .collect(),
            Act::Pause(t) => format!(r#"<pause milliseconds="{}"/>"#, t.as_millis()),
            Act::ReInvite(direction) => {
                cseq += 1;
                reinvite(&d.from, sdp_port, direction, cseq)
            }
            Act::HangUp => {
                cseq += 1;
                bye(&d.from, cseq)
            }
            Act::ExpectBye(t) => expect_bye(*t),
        });
        body.push('\n');
    }
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="in-meeting {name}">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

{sdp}
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="200">
    <action>
      <ereg regexp=";tag=[^;>[:space:]]+" search_in="hdr" header="To:" check_it="true" assign_to="totag"/>
    </action>
  </recv>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[$totag]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  {play}
  {body}
</scenario>
"#,
        name = d.name,
        from = d.from,
        sdp = sdp(sdp_port, "sendrecv", 1),
    )
}

/// The caller's SDP offer, version `version`.
fn sdp(port: &str, direction: &str, version: u32) -> String {
    format!(
        "      v=0
      o=gw 53655765 {version} IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio {port} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a={direction}"
    )
}

/// The headers every in-dialog request of the caller carries.
fn in_dialog(method: &str, from: &str, cseq: u32) -> String {
    format!(
        "      {method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[$totag]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70"
    )
}

/// Between two keys. None after the last: the next element may be a cue's `recv`, which must
/// be waiting when the key's effect shows on the roster.
const KEY_GAP: &str = r#"<pause milliseconds="250"/>"#;

/// One key as a SIP INFO.
fn info_key(from: &str, key: char, cseq: u32) -> String {
    format!(
        r#"<send retrans="500"><![CDATA[
{headers}
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={key}
      Duration=120
  ]]></send>
  <recv response="200"/>"#,
        headers = in_dialog("INFO", from, cseq)
    )
}

fn reinvite(from: &str, port: &str, direction: &str, cseq: u32) -> String {
    format!(
        r#"<send retrans="500"><![CDATA[
{headers}
      Content-Type: application/sdp
      Content-Length: [len]

{sdp}
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[$totag]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>"#,
        headers = in_dialog("INVITE", from, cseq),
        sdp = sdp(port, direction, cseq),
    )
}

fn bye(from: &str, cseq: u32) -> String {
    format!(
        r#"<send retrans="500"><![CDATA[
{headers}
      Content-Length: 0

  ]]></send>
  <recv response="200"/>"#,
        headers = in_dialog("BYE", from, cseq)
    )
}

fn expect_bye(within: Duration) -> String {
    format!(
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
        within.as_millis()
    )
}

/// The messages of a SIPp log, each from its first line on.
fn messages(log: &str) -> Vec<&str> {
    log.split("-----------------------------------------------")
        .filter_map(|m| {
            let start = m.find("SIP/2.0 ").or_else(|| m.find(" sip:"))?;
            let line_start = m[..start].rfind('\n').map_or(0, |i| i + 1);
            Some(&m[line_start..])
        })
        .collect()
}

// ---- roster predicates ----

fn is(state: &ConferenceInfo, entity: &str, want: &str) -> bool {
    status(state, entity).as_deref() == Some(want)
}

fn locked(state: &ConferenceInfo) -> Option<bool> {
    state.conference_state.and_then(|s| s.locked)
}

/// Wait until `what` holds on the roster; panics with the roster otherwise.
fn expect(w: &mut Watch, step: &str, what: impl Fn(&ConferenceInfo) -> bool) {
    assert!(w.until(WAIT, what), "{step}: roster {}", w.summary());
}

// ---- the tests ----

/// alice (leader) mutes the audience with `*4` and unmutes it, locks with `*7` (a guest who
/// dials in now waits in the lobby: roster `pending`), admits the lobby with `*8`, and unlocks
/// with `*7`.
#[test]
fn a_leader_mutes_the_audience_locks_and_admits_the_lobby() {
    let (_d, s) = server();
    let (conference, pstn) = schedule(&s);
    let mut w = watch(&s, &conference);
    let dir = scratch();
    let star = |k: &str| Act::Keys(k.into());
    let mut alice = Caller::dial(
        &s,
        dir.path(),
        Dial::alice(
            &pstn,
            vec![
                Act::Cue,
                star("*4"),
                Act::Cue,
                star("*4"),
                Act::Cue,
                star("*7"),
                Act::Cue,
                star("*8"),
                Act::Cue,
                star("*7"),
                Act::Cue,
                Act::HangUp,
            ],
        ),
    );
    let one = "tel:+14255552001";
    let mut guest = Caller::dial(
        &s,
        dir.path(),
        Dial::guest("guest1", "+14255552001", &pstn, vec![Act::Cue, Act::HangUp]),
    );
    expect(&mut w, "alice and the guest are in", |r| {
        is(r, ALICE, "connected") && is(r, one, "connected")
    });

    alice.cue(); // *4
    expect(&mut w, "*4 mutes the audience", |r| {
        is(r, one, "muted-via-focus")
    });
    assert!(
        is(&w.state, ALICE, "connected"),
        "not the leader: {}",
        w.summary()
    );
    alice.cue(); // *4
    expect(&mut w, "*4 again unmutes it", |r| is(r, one, "connected"));
    alice.cue(); // *7
    expect(&mut w, "*7 locks", |r| locked(r) == Some(true));

    let two = "tel:+14255552002";
    let mut late = Caller::dial(
        &s,
        dir.path(),
        Dial::guest("guest2", "+14255552002", &pstn, vec![Act::Cue, Act::HangUp]),
    );
    expect(
        &mut w,
        "a guest of a locked meeting waits in the lobby",
        |r| status(r, two).is_some(),
    );
    assert!(is(&w.state, two, "pending"), "{}", w.summary());
    alice.cue(); // *8
    expect(&mut w, "*8 admits the lobby", |r| is(r, two, "connected"));
    assert_eq!(locked(&w.state), Some(true), "*8 does not unlock");
    alice.cue(); // *7
    expect(&mut w, "*7 again unlocks", |r| locked(r) == Some(false));

    for c in [&mut alice, &mut guest, &mut late] {
        c.cue();
    }
    for c in [alice, guest, late] {
        c.done();
    }
    expect(&mut w, "everyone left", |r| r.users.is_empty());
    let rows = audit(&s);
    for who in [ALICE, one, two] {
        assert_eq!(count(&rows, "join", who), 1, "{who}: {rows:?}");
        assert_eq!(count(&rows, "leave", who), 1, "{who}: {rows:?}");
    }
}

/// `*8` lets everybody in "until the meeting is locked again" (`Focus::admit_all`): after
/// `*8` and then `*7`, a guest who dials in waits in the lobby like in any locked meeting.
#[test]
fn a_lock_after_admit_all_sends_new_guests_to_the_lobby_again() {
    let (_d, s) = server();
    let (conference, pstn) = schedule(&s);
    let mut w = watch(&s, &conference);
    let dir = scratch();
    let mut alice = Caller::dial(
        &s,
        dir.path(),
        Dial::alice(
            &pstn,
            vec![Act::Cue, Act::Keys("*8*7".into()), Act::Cue, Act::HangUp],
        ),
    );
    expect(&mut w, "alice is in", |r| is(r, ALICE, "connected"));
    alice.cue(); // *8 (nobody waits: no roster change), then *7
    expect(&mut w, "*7 locks", |r| locked(r) == Some(true));
    let guest_uri = "tel:+14255552001";
    let mut guest = Caller::dial(
        &s,
        dir.path(),
        Dial::guest("guest", "+14255552001", &pstn, vec![Act::Cue, Act::HangUp]),
    );
    expect(&mut w, "the guest is on the roster", |r| {
        status(r, guest_uri).is_some()
    });
    let seen = status(&w.state, guest_uri);
    guest.cue();
    alice.cue();
    guest.done();
    alice.done();
    assert_eq!(
        seen.as_deref(),
        Some("pending"),
        "a guest of a meeting locked after *8 waits in the lobby: {}",
        w.summary()
    );
}

/// A guest's `*7` and `*4` (leaders' keys) change nothing; `*6` mutes them and `*6` again
/// unmutes them.
#[test]
fn a_guest_mutes_themself_but_cannot_lock_or_mute_others() {
    let (_d, s) = server();
    let (conference, pstn) = schedule(&s);
    let mut w = watch(&s, &conference);
    let dir = scratch();
    let mut alice = Caller::dial(
        &s,
        dir.path(),
        Dial::alice(&pstn, vec![Act::Cue, Act::HangUp]),
    );
    let guest_uri = "tel:+14255552001";
    let mut guest = Caller::dial(
        &s,
        dir.path(),
        Dial::guest(
            "guest",
            "+14255552001",
            &pstn,
            vec![
                Act::Cue,
                Act::Keys("*7*4*6".into()),
                Act::Cue,
                Act::Keys("*6".into()),
                Act::Cue,
                Act::HangUp,
            ],
        ),
    );
    expect(&mut w, "alice and the guest are in", |r| {
        is(r, ALICE, "connected") && is(r, guest_uri, "connected")
    });
    let before = w.history.len();
    guest.cue(); // *7 *4 *6: only the last one is the guest's to press
    expect(&mut w, "*6 mutes the guest", |r| {
        is(r, guest_uri, "muted-via-focus")
    });
    for (i, r) in w.history[before..].iter().enumerate() {
        assert_ne!(
            locked(r),
            Some(true),
            "a guest locked the meeting (state {i})"
        );
        assert!(is(r, ALICE, "connected"), "a guest muted alice (state {i})");
    }
    guest.cue(); // *6
    expect(&mut w, "*6 again unmutes the guest", |r| {
        is(r, guest_uri, "connected")
    });
    guest.cue();
    guest.done();
    alice.cue();
    alice.done();
}

/// The meeting as `plenum meetings --json` shows it.
fn live(s: &Server) -> serde_json::Value {
    let out = ok(&s.cli(&["meetings", "--tenant", "contoso", "--json"]));
    let all: serde_json::Value = serde_json::from_str(&out).unwrap();
    all[0].clone()
}

/// Wait until the live meeting's entry and exit announcements are `on`.
fn expect_announcements(s: &Server, step: &str, on: bool) {
    let started = Instant::now();
    loop {
        let m = live(s);
        if m["announcements"] == on {
            return;
        }
        assert!(started.elapsed() < WAIT, "{step}: {m}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `*9` is a leader's: alice turns entry and exit announcements off and on again (the admin's
/// live view shows it); a guest's `*9` changes nothing.
#[test]
fn a_leader_turns_announcements_off_and_on_and_a_guest_cannot() {
    let (_d, s) = server();
    let (conference, pstn) = schedule(&s);
    let mut w = watch(&s, &conference);
    let dir = scratch();
    let mut alice = Caller::dial(
        &s,
        dir.path(),
        Dial::alice(
            &pstn,
            vec![
                Act::Cue,
                Act::Keys("*9".into()),
                Act::Cue,
                Act::Keys("*9".into()),
                Act::Cue,
                Act::HangUp,
            ],
        ),
    );
    let guest_uri = "tel:+14255552001";
    let mut guest = Caller::dial(
        &s,
        dir.path(),
        Dial::guest(
            "guest",
            "+14255552001",
            &pstn,
            vec![Act::Cue, Act::Keys("*9".into()), Act::Cue, Act::HangUp],
        ),
    );
    expect(&mut w, "alice and the guest are in", |r| {
        is(r, ALICE, "connected") && is(r, guest_uri, "connected")
    });
    assert_eq!(live(&s)["announcements"], true, "on by the policy");
    guest.cue(); // *9 from a guest
    // The guest's two INFO requests go out 250 ms apart: give them time, then check that
    // nothing changed (a toggle would also make alice's first *9 below turn them back on).
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(live(&s)["announcements"], true, "a guest's *9 changed it");
    alice.cue(); // *9
    expect_announcements(&s, "alice's *9 turns announcements off", false);
    alice.cue(); // *9 again
    expect_announcements(&s, "alice's second *9 turns them on", true);
    guest.cue();
    guest.done();
    alice.cue();
    alice.done();
}

/// The organizer hangs up and the meeting goes on (`on-last-leader-leave = "continue"`): the
/// guest stays connected and later hangs up normally; both joins and leaves are audited.
#[test]
fn the_meeting_goes_on_after_the_organizer_leaves() {
    let (_d, s) = server();
    let (conference, pstn) = schedule(&s);
    let mut w = watch(&s, &conference);
    let dir = scratch();
    let mut alice = Caller::dial(
        &s,
        dir.path(),
        Dial::alice(&pstn, vec![Act::Cue, Act::HangUp]),
    );
    let guest_uri = "tel:+14255552001";
    let mut guest = Caller::dial(
        &s,
        dir.path(),
        Dial::guest("guest", "+14255552001", &pstn, vec![Act::Cue, Act::HangUp]),
    );
    expect(&mut w, "alice and the guest are in", |r| {
        is(r, ALICE, "connected") && is(r, guest_uri, "connected")
    });
    alice.cue();
    alice.done();
    expect(&mut w, "alice left", |r| status(r, ALICE).is_none());
    let after = w.settle(Duration::from_secs(3));
    assert!(
        is(&w.state, guest_uri, "connected"),
        "the guest stays in: {} (after alice: {} more states)",
        w.summary(),
        after.len()
    );
    guest.cue();
    guest.done();
    expect(&mut w, "the guest left", |r| r.users.is_empty());
    let rows = audit(&s);
    for who in [ALICE, guest_uri] {
        assert_eq!(count(&rows, "join", who), 1, "{who}: {rows:?}");
        assert_eq!(count(&rows, "leave", who), 1, "{who}: {rows:?}");
    }
}

/// Every endpoint of the roster: (user entity, endpoint entity, status), sorted.
fn endpoints(r: &ConferenceInfo) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = r
        .users
        .iter()
        .flat_map(|u| {
            u.endpoints.iter().map(|e| {
                (
                    u.entity.clone(),
                    e.entity.clone(),
                    e.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                )
            })
        })
        .collect();
    v.sort();
    v
}

/// Two guests calling from the same number (a company's PBX presenting its main number)
/// are one roster `user` with two `endpoint`s (RFC 4575: a user element per entity, the key
/// partial notifications are applied by); when one hangs up, a subscriber that applies the
/// partial NOTIFYs sees what a new subscriber gets in full: the other one, still connected.
#[test]
fn two_guests_from_one_number_are_two_endpoints_of_one_user() {
    let (_d, s) = server();
    let (conference, pstn) = schedule(&s);
    let mut w = watch(&s, &conference);
    let dir = scratch();
    let number = "+14255552001";
    let guest_uri = "tel:+14255552001";
    let mut alice = Caller::dial(
        &s,
        dir.path(),
        Dial::alice(&pstn, vec![Act::Cue, Act::HangUp]),
    );
    let mut first = Caller::dial(
        &s,
        dir.path(),
        Dial::guest("first", number, &pstn, vec![Act::Cue, Act::HangUp]),
    );
    let mut second = Caller::dial(
        &s,
        dir.path(),
        Dial::guest("second", number, &pstn, vec![Act::Cue, Act::HangUp]),
    );
    let user_count = |r: &ConferenceInfo| r.conference_state.and_then(|c| c.user_count);
    expect(&mut w, "three are in", |r| {
        is(r, ALICE, "connected") && user_count(r) == Some(3)
    });
    w.settle(Duration::from_secs(2));
    let full = watch(&s, &conference).state;
    let users = full.users.iter().filter(|u| u.entity == guest_uri).count();
    let both = endpoints(&full)
        .into_iter()
        .filter(|(u, _, st)| u == guest_uri && st == "connected")
        .count();
    first.cue();
    first.done();
    expect(&mut w, "one guest left", |r| user_count(r) == Some(2));
    w.settle(Duration::from_secs(1));
    let after = watch(&s, &conference).state;
    second.cue();
    alice.cue();
    second.done();
    alice.done();
    assert_eq!(
        (users, both),
        (1, 2),
        "one user element for the number, with two connected endpoints: {:?}",
        endpoints(&full)
    );
    assert_eq!(
        endpoints(&w.state),
        endpoints(&after),
        "after one left, the partial NOTIFYs add up to the full roster"
    );
}

/// A caller who picks the language and then keys nothing is hung up by the server after the
/// attendant's tries at the conference ID (10 s to the first key each), lowered from 3 to 2 by
/// the policy to keep the test short (3 take about 51 s). A caller who keys nothing at all goes
/// through three tries of the language menu first and takes about 105 s with the defaults;
/// the language's tries are the same code path.
#[test]
fn a_caller_who_keys_nothing_is_hung_up_after_the_attendants_tries() {
    let (_d, s) = server();
    set_policy(
        &s,
        "conference-id-attempts = 3",
        "conference-id-attempts = 2",
    );
    schedule(&s);
    let dir = scratch();
    let silent = Caller::dial(
        &s,
        dir.path(),
        Dial {
            name: "silent".into(),
            from: "+14255552001".into(),
            rtp: Rtp::Play(keyed("1", Duration::from_secs(90), 0x5117)),
            acts: vec![Act::ExpectBye(Duration::from_secs(80))],
        },
    );
    let o = silent.finish();
    assert!(o.success, "the server hung up: {}", o.log);
    eprintln!("a silent caller was hung up after {:?}", o.took);
    let rows = audit(&s);
    assert!(
        !rows.iter().any(|r| r.event == "join"),
        "nobody joined: {rows:?}"
    );
}

/// A caller who hangs up 2 s after the ACK (during the welcome) gets a 200 for the BYE, and
/// the next call goes through the attendant into the meeting as usual.
#[test]
fn a_hang_up_mid_prompt_is_answered_and_the_next_call_works() {
    let (_d, s) = server();
    let (conference, pstn) = schedule(&s);
    let mut w = watch(&s, &conference);
    let dir = scratch();
    let gone = Caller::dial(
        &s,
        dir.path(),
        Dial {
            name: "gone".into(),
            from: "+14255552001".into(),
            rtp: Rtp::Play(keyed("", Duration::from_secs(5), 0x60e)),
            acts: vec![Act::Pause(Duration::from_secs(2)), Act::HangUp],
        },
    );
    let log = gone.done();
    let lines: Vec<&str> = messages(&log)
        .iter()
        .filter_map(|m| m.lines().next())
        .collect();
    assert!(
        lines.last().is_some_and(|l| l.starts_with("SIP/2.0 200")),
        "the BYE was answered 200: {lines:?}"
    );
    let mut alice = Caller::dial(
        &s,
        dir.path(),
        Dial::alice(&pstn, vec![Act::Cue, Act::HangUp]),
    );
    expect(&mut w, "the next caller gets in", |r| {
        is(r, ALICE, "connected")
    });
    alice.cue();
    alice.done();
    let rows = audit(&s);
    assert_eq!(count(&rows, "join", ALICE), 1, "{rows:?}");
    assert_eq!(
        rows.iter().filter(|r| r.event == "join").count(),
        1,
        "{rows:?}"
    );
}

/// Three wrong PINs for alice's extension: the meeting has a passcode, so the attendant falls
/// back to the passcode path (OCS); three wrong passcodes there, then goodbye and BYE. Each
/// wrong PIN is audited against alice.
#[test]
fn three_wrong_pins_then_wrong_passcodes_end_the_call() {
    let (_d, s) = server();
    let (_, pstn) = schedule(&s);
    let dir = scratch();
    let keys = format!("1{pstn}#*1001#11111#1001#22222#1001#33333#111111#222222#333333#");
    let caller = Caller::dial(
        &s,
        dir.path(),
        Dial {
            name: "wrong".into(),
            from: "+14255552001".into(),
            rtp: Rtp::Play(keyed(&keys, Duration::from_secs(60), 0xbad)),
            acts: vec![Act::ExpectBye(Duration::from_secs(60))],
        },
    );
    let o = caller.finish();
    assert!(o.success, "the server hung up: {}", o.log);
    let rows = audit(&s);
    assert_eq!(count(&rows, "failed-pin", ALICE), 3, "{rows:?}");
    assert_eq!(
        rows.iter().filter(|r| r.event == "failed-passcode").count(),
        3,
        "{rows:?}"
    );
    assert!(!rows.iter().any(|r| r.event == "join"), "{rows:?}");
    assert!(
        !rows.iter().any(|r| r.event == "pin-locked"),
        "three failures do not lock: {rows:?}"
    );
}

/// RTP packets that arrive on `sock` within `for_`.
fn packets_within(sock: &UdpSocket, for_: Duration) -> usize {
    let deadline = Instant::now() + for_;
    let mut buf = [0u8; 2048];
    let mut n = 0;
    while Instant::now() < deadline {
        if sock.recv(&mut buf).is_ok() {
            n += 1;
        }
    }
    n
}

/// The caller puts the call on hold (`a=sendonly`) during the welcome: the re-INVITE is
/// answered 200 with `a=recvonly` (or `inactive`) and the server sends no RTP while held; a
/// re-INVITE back to `sendrecv` resumes the audio, and the caller keys in (SIP INFO) and joins.
#[test]
fn a_hold_during_a_prompt_is_answered_and_the_call_goes_on() {
    let (_d, s) = server();
    let (conference, pstn) = schedule(&s);
    let mut w = watch(&s, &conference);
    let dir = scratch();
    let rtp = UdpSocket::bind((GATEWAY, 0)).unwrap();
    let mut alice = Caller::dial(
        &s,
        dir.path(),
        Dial {
            name: "alice".into(),
            from: "+14255551001".into(),
            rtp: Rtp::To(rtp.local_addr().unwrap().port()),
            acts: vec![
                Act::Pause(Duration::from_millis(500)),
                Act::ReInvite("sendonly"),
                Act::Cue,
                Act::ReInvite("sendrecv"),
                Act::Keys(alice_keys(&pstn)),
                Act::Cue,
                Act::HangUp,
            ],
        },
    );
    // The welcome plays; the hold comes half a second after the ACK.
    rtp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let welcome = rtp.recv(&mut [0u8; 2048]).is_ok();
    rtp.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    packets_within(&rtp, Duration::from_millis(100));
    let held = packets_within(&rtp, Duration::from_secs(2));
    alice.cue();
    std::thread::sleep(Duration::from_millis(500));
    let resumed = packets_within(&rtp, Duration::from_secs(2));
    expect(&mut w, "alice keyed in after the hold", |r| {
        is(r, ALICE, "connected")
    });
    alice.cue();
    let log = alice.done();
    let answers: Vec<&str> = messages(&log)
        .into_iter()
        .filter(|m| m.starts_with("SIP/2.0 200") && m.contains(" INVITE"))
        .collect();
    let answer_to = |n: u32| {
        answers
            .iter()
            .find(|m| m.contains(&format!("CSeq: {n} INVITE")))
            .copied()
            .unwrap_or_else(|| panic!("a 200 for INVITE {n}: {log}"))
    };
    let hold = answer_to(2);
    assert!(
        hold.contains("a=recvonly") || hold.contains("a=inactive"),
        "the hold is answered recvonly or inactive: {hold}"
    );
    let resume = answer_to(3);
    assert!(
        !resume.contains("a=recvonly")
            && !resume.contains("a=inactive")
            && !resume.contains("a=sendonly"),
        "the resume is answered sendrecv: {resume}"
    );
    assert!(welcome, "the welcome played before the hold");
    assert!(
        resumed > 50,
        "audio after the resume: {resumed} packets in 2 s"
    );
    assert!(
        held <= 1,
        "no RTP to a caller who holds (answered recvonly): {held} packets in 2 s"
    );
}

/// Replace a line of contoso's policy document in the pool directly: there is no admin API for
/// policy documents yet. The policy is read per call, so the server need not restart.
fn set_policy(s: &Server, line: &str, with: &str) {
    let document = ok(&s.cli(&["policy", "show", "--tenant", "contoso"]));
    assert!(document.contains(line), "{document}");
    let file = s.data_dir.join("policy-under-test.toml");
    std::fs::write(&file, document.replacen(line, with, 1)).unwrap();
    ok(&s.cli(&[
        "policy",
        "set",
        "--tenant",
        "contoso",
        file.to_str().unwrap(),
    ]));
}

/// A caller in the meeting whose RTP stops is hung up after the policy's `dead-leg-secs`
/// (lowered to its minimum, 10 s, from the default 60 s to keep the test short), and leaves
/// the roster and the audit log like anyone who hangs up.
#[test]
fn a_dead_leg_is_hung_up() {
    let (_d, s) = server();
    set_policy(&s, "[meeting]\n", "[meeting]\ndead-leg-secs = 10\n");
    let (conference, pstn) = schedule(&s);
    let mut w = watch(&s, &conference);
    let dir = scratch();
    // Keys, then 4 s of audio; then nothing (the pcap ends) while the call stays up.
    let script = keyed(&alice_keys(&pstn), Duration::from_secs(4), 0xdead);
    let stream_ms: u32 = script
        .steps
        .iter()
        .map(|s| match s {
            Step::Silence(ms) | Step::Tone(_, ms) | Step::Digit(_, ms) => *ms,
        })
        .sum();
    let alice = Caller::dial(
        &s,
        dir.path(),
        Dial {
            name: "alice".into(),
            from: "+14255551001".into(),
            rtp: Rtp::Play(script),
            acts: vec![Act::ExpectBye(Duration::from_secs(40))],
        },
    );
    expect(&mut w, "alice is in", |r| is(r, ALICE, "connected"));
    let o = alice.finish();
    assert!(o.success, "the server hung up: {}", o.log);
    let silent_for = o
        .took
        .saturating_sub(Duration::from_millis(u64::from(stream_ms)));
    eprintln!("a dead leg was hung up {silent_for:?} after its RTP stopped");
    assert!(
        silent_for >= Duration::from_secs(9),
        "not before dead-leg-secs: {silent_for:?}"
    );
    expect(&mut w, "alice left", |r| r.users.is_empty());
    let rows = audit(&s);
    assert!(
        rows.iter()
            .any(|r| r.event == "leave" && r.subject == ALICE && r.detail.contains("media")),
        "{rows:?}"
    );
}
