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

use std::time::Duration;

use common::{Server, Then, dial, ok, sipp_done as finished};

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    (dir, s)
}

/// Schedule a meeting for alice; its PSTN conference ID.
fn schedule(s: &Server, passcode: &str, admission: &str) -> String {
    let v = common::schedule_for_alice(
        s,
        "Dial-in test",
        &["--passcode", passcode, "--admission", admission],
    );
    v["pstn_conference_id"].as_str().unwrap().to_owned()
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
        Then::HangUpAfter(Duration::from_secs(30)),
    );
    std::thread::sleep(Duration::from_secs(6));
    // A guest: English, the ID, the passcode; then the name recording (silence) and in. The
    // PBX sends the caller ID nationally; the roster and the audit show it in E.164.
    let guest = common::dial_from(
        &s,
        dir.path(),
        "guest",
        "4255551234",
        "4255550100",
        &plenum_rtp_pcap::Script::keyed(&format!("1{id}#135790#")),
        "",
        Then::HangUpAfter(Duration::from_secs(20)),
    );
    // Once both are in (the guest's name recording takes 5 s), the operator's live view.
    let status = |live: &serde_json::Value, entity: &str| {
        live[0]["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["entity"] == entity)
            .map(|p| {
                (
                    p["status"].clone(),
                    p["role"].clone(),
                    p["joined_by"].clone(),
                )
            })
    };
    let in_meeting = Some(("connected".into(), "attendee".into(), "phone".into()));
    let started = std::time::Instant::now();
    let live = loop {
        let out = ok(&s.cli(&["meetings", "--tenant", "contoso", "--json"]));
        let live: serde_json::Value = serde_json::from_str(&out).unwrap();
        if status(&live, "tel:+14255551234") == in_meeting
            || started.elapsed() > Duration::from_secs(19)
        {
            break live;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(live[0]["pstn_id"], id.as_str(), "{live}");
    assert_eq!(status(&live, "tel:+14255551234"), in_meeting, "{live}");
    assert_eq!(
        status(&live, "sip:alice@contoso.example"),
        Some(("connected".into(), "leader".into(), "phone".into())),
        "{live}"
    );
    let token = std::fs::read_to_string(s.data_dir.join("admin.token")).unwrap();
    let page = |token: &str| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = agent
            .get(format!("{}/live", s.admin_url))
            .query("token", token.trim())
            .call()
            .unwrap();
        let body = resp.body_mut().read_to_string().unwrap();
        (resp.status().as_u16(), body)
    };
    let (code, html) = page(&token);
    assert!(
        code == 200 && html.contains("Dial-in test") && html.contains("leader"),
        "{code} {html}"
    );
    assert_eq!(page("wrong").0, 401);
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

#[test]
fn sip_clients_on_the_focus_uri_join_without_an_attendant() {
    let (_d, s) = server();
    let v = common::schedule_for_alice(&s, "Focus test", &["--passcode", "135790"]);
    let focus = v["conference_uri"].as_str().unwrap().to_owned();
    for t in ["udp", "tcp"] {
        for user in ["alice", "bob"] {
            let run = common::sipp(
                s.sip_addr(t),
                "127.0.0.1",
                t,
                &[
                    "-sf",
                    "focus-invite.xml",
                    "-au",
                    user,
                    "-ap",
                    &s.password(user),
                    "-key",
                    "caller",
                    user,
                    "-key",
                    "domain",
                    "contoso.example",
                    "-key",
                    "focus",
                    &focus,
                ],
            );
            assert_eq!(run.code, 0, "{t} {user}: {}", run.messages);
        }
    }
    let events = audit(&s);
    let joins: Vec<&str> = events
        .iter()
        .filter(|(e, _)| e == "join")
        .map(|(_, w)| w.as_str())
        .collect();
    assert_eq!(
        joins
            .iter()
            .filter(|w| **w == "sip:alice@contoso.example")
            .count(),
        2,
        "{events:?}"
    );
    assert_eq!(
        joins
            .iter()
            .filter(|w| **w == "sip:bob@contoso.example")
            .count(),
        2,
        "{events:?}"
    );
    // A user of another tenant finds no such meeting.
    let run = common::sipp(
        s.sip_addr("udp"),
        "127.0.0.1",
        "udp",
        &[
            "-sf",
            "focus-invite.xml",
            "-au",
            "carol",
            "-ap",
            &s.password("carol"),
            "-key",
            "caller",
            "carol",
            "-key",
            "domain",
            "fabrikam.example",
            "-key",
            "focus",
            &focus,
        ],
    );
    assert_ne!(run.code, 0);
    assert!(run.messages.contains("SIP/2.0 404"), "{}", run.messages);
}

/// SIPp elements sending each key of `keys` as an INFO (`application/dtmf-relay`) at the
/// moment `Script::keyed` presses it in RTP (200 ms lead-in, a key every 240 ms).
fn info_keys(keys: &str) -> String {
    let mut out = String::from(r#"<pause milliseconds="200"/>"#);
    for (i, k) in keys.chars().enumerate() {
        if i > 0 {
            out.push_str(r#"<pause milliseconds="238"/>"#);
        }
        out.push_str(&format!(
            r#"<send retrans="500"><![CDATA[
      INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+14255551234@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={k}
      Duration=120
  ]]></send>
  <recv response="200"/>"#,
            cseq = 10 + i
        ));
    }
    out
}

#[test]
fn keys_sent_both_as_rfc_4733_and_info_count_once() {
    let (_d, s) = server();
    let id = schedule(&s, "135790", "anonymous");
    let dir = tempfile::tempdir().unwrap();
    // The organizer's PIN path, every key pressed once but reported twice (RFC 4733 and
    // INFO): a doubled key would break the ID, the extension or the PIN.
    let keys = format!("1{id}#*1001#24680#");
    let call = common::dial_with_info(
        &s,
        dir.path(),
        "both",
        "4255550100",
        &plenum_rtp_pcap::Script::keyed(&keys),
        &info_keys(&keys),
        Then::HangUpAfter(Duration::from_secs(6)),
    );
    finished(call, dir.path(), "both");
    let events = audit(&s);
    assert!(
        events
            .iter()
            .any(|(e, w)| e == "join" && w == "sip:alice@contoso.example"),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|(e, _)| e.starts_with("failed")),
        "{events:?}"
    );
}

#[test]
fn keys_sent_only_as_info_work_too() {
    let (_d, s) = server();
    let id = schedule(&s, "135790", "anonymous");
    let dir = tempfile::tempdir().unwrap();
    let keys = format!("1{id}#*1001#24680#");
    // The pcap carries audio only (no key).
    let silence = plenum_rtp_pcap::Script {
        steps: vec![plenum_rtp_pcap::Step::Silence(8_000)],
        ssrc: 7,
    };
    let call = common::dial_with_info(
        &s,
        dir.path(),
        "info",
        "4255550100",
        &silence,
        &info_keys(&keys),
        Then::HangUpAfter(Duration::from_secs(6)),
    );
    finished(call, dir.path(), "info");
    let events = audit(&s);
    assert!(
        events
            .iter()
            .any(|(e, w)| e == "join" && w == "sip:alice@contoso.example"),
        "{events:?}"
    );
}

/// A tenant admin swaps the attendant while a caller is between prompts: that call finishes on
/// the version it started with (the OCS attendant: passcode path), a call that starts after the
/// swap gets the new one (the PIN-only example: extension and PIN without `*`; the OCS attendant
/// would have read `1001#` as a wrong passcode).
#[test]
fn an_attendant_swap_between_prompts_leaves_the_call_on_its_version() {
    use plenum_rtp_pcap::{Script, Step};
    let (_d, s) = server();
    let id = schedule(&s, "135790", "anonymous");
    let dir = tempfile::tempdir().unwrap();
    let mut steps = vec![Step::Silence(200)];
    let key = |steps: &mut Vec<Step>, keys: &str| {
        for k in keys.chars() {
            steps.push(Step::Digit(k, 120));
            steps.push(Step::Silence(120));
        }
    };
    // English and the conference ID; then the caller thinks for 12 s while the attendant waits
    // for the passcode (the swap happens now); then the passcode and silence (the name prompt).
    key(&mut steps, &format!("1{id}#"));
    steps.push(Step::Silence(12_000));
    key(&mut steps, "135790#");
    steps.push(Step::Silence(1_000));
    let guest = common::gateway_call(
        &s,
        dir.path(),
        "guest",
        &Script {
            steps,
            ssrc: 0x6775_6573,
        },
        Duration::from_secs(34),
    );

    std::thread::sleep(Duration::from_secs(3));
    let pin = common::artifact("attendant-pin-example");
    let out = ok(&s.cli(&[
        "plugin",
        "deploy",
        "--tenant",
        "contoso",
        "--kind",
        "attendant",
        "--activate",
        &pin,
    ]));
    assert!(out.contains("activ"), "{out}");
    let list = ok(&s.cli(&["plugin", "list", "--tenant", "contoso"]));
    assert_eq!(
        common::row(&list, "attendant", "active").unwrap()[3],
        "attendant-pin-example",
        "{list}"
    );

    // After the swap: alice by extension and PIN, the new attendant's way.
    let organizer = dial(
        &s,
        dir.path(),
        "organizer",
        "4255550100",
        &format!("1{id}#1001#24680#"),
        Then::HangUpAfter(Duration::from_secs(28)),
    );
    finished(guest, dir.path(), "guest");
    finished(organizer, dir.path(), "organizer");

    let events = audit(&s);
    let joins: Vec<&str> = events
        .iter()
        .filter(|(e, _)| e == "join")
        .map(|(_, who)| who.as_str())
        .collect();
    assert!(
        joins.contains(&"tel:+14255551234"),
        "the guest got in: {events:?}"
    );
    assert!(
        joins.contains(&"sip:alice@contoso.example"),
        "alice got in through the new attendant: {events:?}"
    );
    assert!(
        !events.iter().any(|(e, _)| e.starts_with("failed-")),
        "{events:?}"
    );
}

/// A meeting that expires while people are in it ends: they hear that it has ended and the
/// server hangs up on each of them; the expiry and both departures are audited.
#[test]
fn a_meeting_ends_for_everyone_when_it_expires() {
    let (_d, s) = server();
    let v = common::schedule_for_alice(
        &s,
        "Short meeting",
        &[
            "--passcode",
            "135790",
            "--admission",
            "anonymous",
            "--expires",
            "30s",
        ],
    );
    let id = v["pstn_conference_id"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let organizer = dial(
        &s,
        dir.path(),
        "organizer",
        "4255550100",
        &format!("1{id}#*1001#24680#"),
        Then::ExpectBye(Duration::from_secs(60)),
    );
    let guest = dial(
        &s,
        dir.path(),
        "guest",
        "4255550100",
        &format!("1{id}#135790##"),
        Then::ExpectBye(Duration::from_secs(60)),
    );
    finished(guest, dir.path(), "guest");
    finished(organizer, dir.path(), "organizer");
    let events = audit(&s);
    let count = |what: &str| events.iter().filter(|(e, _)| e == what).count();
    assert_eq!(count("meeting-expired"), 1, "{events:?}");
    assert_eq!(count("join"), 2, "{events:?}");
    assert_eq!(count("leave"), 2, "{events:?}");
}

/// The tenant's policy says a leg with no media for 10 s is dead and that the meeting ends
/// with its last leader: a guest whose phone stops sending RTP is hung up as a dead leg, and
/// when the organizer leaves, the guest still there is hung up too; each departure is audited
/// with its reason.
#[test]
fn dead_legs_and_the_last_leader_leaving_end_calls_by_policy() {
    use plenum_rtp_pcap::{Script, Step};
    let (d, s) = server();
    let policy = ok(&s.cli(&["policy", "show", "--tenant", "contoso"]));
    let policy = policy
        .replace(
            "on-last-leader-leave = \"continue\"",
            "on-last-leader-leave = \"end\"",
        )
        .replace("[meeting]\n", "[meeting]\ndead-leg-secs = 10\n");
    assert!(policy.contains("\"end\"") && policy.contains("dead-leg-secs = 10"));
    let file = d.path().join("policy.toml");
    std::fs::write(&file, &policy).unwrap();
    ok(&s.cli(&[
        "policy",
        "set",
        "--tenant",
        "contoso",
        file.to_str().unwrap(),
    ]));

    let id = schedule(&s, "135790", "anonymous");
    let dir = tempfile::tempdir().unwrap();
    let keyed_then_talking = |keys: &str, ms: u32, ssrc: u32| {
        let mut steps = Script::keyed(keys).steps;
        steps.push(Step::Silence(ms));
        Script { steps, ssrc }
    };
    // The organizer keeps sending (silence) and hangs up after 30 s.
    let organizer = common::gateway_call(
        &s,
        dir.path(),
        "organizer",
        &keyed_then_talking(&format!("1{id}#*1001#24680#"), 40_000, 1),
        Duration::from_secs(30),
    );
    std::thread::sleep(Duration::from_secs(2));
    // A guest who keeps sending: hung up when the organizer leaves.
    let stays = common::dial_script(
        &s,
        dir.path(),
        "stays",
        "4255550100",
        &keyed_then_talking(&format!("1{id}#135790##"), 45_000, 2),
        Then::ExpectBye(Duration::from_secs(60)),
    );
    // A guest whose phone goes quiet once it is in: a dead leg after 10 s.
    let quiet = common::dial_script(
        &s,
        dir.path(),
        "quiet",
        "4255550100",
        &Script::keyed(&format!("1{id}#135790##")),
        Then::ExpectBye(Duration::from_secs(60)),
    );
    finished(quiet, dir.path(), "quiet");
    finished(organizer, dir.path(), "organizer");
    finished(stays, dir.path(), "stays");

    let out = s.cli(&["audit", "--tenant", "contoso", "--limit", "200", "--json"]);
    let events: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let leaves: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "leave")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(leaves.len(), 3, "{leaves:?}");
    assert!(leaves.contains(&"no media from the caller"), "{leaves:?}");
    assert!(leaves.contains(&"the last leader left"), "{leaves:?}");
}

/// A SIP phone that authenticates with digest as a user when it calls the access number (as
/// OCS's Communicator Phone Edition does) is asked for the conference ID only: bob, not the
/// organizer and alone in the meeting, is let in at once without passcode, PIN or waiting for
/// a leader; alice follows the same way.
#[test]
fn an_authenticated_phone_keys_only_the_conference_id_and_never_waits() {
    let (_d, s) = server();
    let id = schedule(&s, "135790", "anonymous");
    let dir = tempfile::tempdir().unwrap();
    let template = std::fs::read_to_string(common::scenario_dir().join("uac-auth.xml")).unwrap();
    let phone = |user: &str, stay_ms: u32| {
        let pcap = dir.path().join(format!("{user}.pcap"));
        let packets =
            plenum_rtp_pcap::packets(&plenum_rtp_pcap::Script::keyed(&format!("1{id}#"))).unwrap();
        std::fs::write(&pcap, plenum_rtp_pcap::pcap(&packets)).unwrap();
        let xml = template.replace(
            r#"<pause milliseconds="200"/>"#,
            &format!(
                r#"<nop><action><exec play_pcap_audio="{}"/></action></nop>
  <pause milliseconds="{stay_ms}"/>"#,
                pcap.display()
            ),
        );
        assert_ne!(xml, template);
        let path = dir.path().join(format!("{user}.xml"));
        std::fs::write(&path, xml).unwrap();
        let password = s.password(user);
        let addr = s.sip_addr("udp");
        let path = path.to_str().unwrap().to_owned();
        let user = user.to_owned();
        std::thread::spawn(move || {
            common::sipp(
                addr,
                "127.0.0.1",
                "udp",
                &[
                    "-sf",
                    &path,
                    "-s",
                    "4255550100",
                    "-au",
                    &user,
                    "-ap",
                    &password,
                    "-key",
                    "caller",
                    &user,
                ],
            )
        })
    };
    let bob = phone("bob", 16_000);
    // Bob is in, alone, before alice calls.
    std::thread::sleep(Duration::from_secs(10));
    let joined_alone = audit(&s);
    let alice = phone("alice", 8_000);
    for (who, run) in [
        ("bob", bob.join().unwrap()),
        ("alice", alice.join().unwrap()),
    ] {
        assert_eq!(run.code, 0, "{who}: {}", run.messages);
    }
    assert!(
        joined_alone.contains(&("join".into(), "sip:bob@contoso.example".into())),
        "bob joined without a leader: {joined_alone:?}"
    );
    let events = audit(&s);
    assert!(
        events.contains(&("join".into(), "sip:alice@contoso.example".into())),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|(e, _)| e.starts_with("failed-")),
        "{events:?}"
    );
}

/// PIN lockout and its remedy: with the tenant's policy locking a user after three failures,
/// alice keys three wrong PINs, is locked (the admin sees it), is refused with her right PIN,
/// and gets in again once an admin unlocked her and set her a new PIN (one the policy
/// accepts; a too-short one is refused).
#[test]
fn a_locked_pin_is_refused_until_an_admin_unlocks_it() {
    let (d, s) = server();
    let policy = ok(&s.cli(&["policy", "show", "--tenant", "contoso"]));
    let policy = policy.replace("[lockout]\n", "[lockout]\nlocal-limit = 3\n");
    let file = d.path().join("policy.toml");
    std::fs::write(&file, &policy).unwrap();
    ok(&s.cli(&[
        "policy",
        "set",
        "--tenant",
        "contoso",
        file.to_str().unwrap(),
    ]));
    let id = schedule(&s, "135790", "anonymous");
    let dir = tempfile::tempdir().unwrap();
    let alice_joins = |s: &Server| {
        audit(s)
            .iter()
            .filter(|(e, who)| e == "join" && who == "sip:alice@contoso.example")
            .count()
    };
    let alice = |s: &Server| -> serde_json::Value {
        let out = s.cli(&["user", "list", "--tenant", "contoso", "--json"]);
        let users: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["sip_uri"] == "sip:alice@contoso.example")
            .unwrap()
            .clone()
    };
    assert_eq!(alice(&s)["locked"], false);

    // Three wrong PINs (the attendant then falls back to the passcode; she hangs up).
    let call = dial(
        &s,
        dir.path(),
        "wrong",
        "4255550100",
        &format!("1{id}#*1001#11111#1001#22222#1001#33333#"),
        Then::HangUpAfter(Duration::from_secs(14)),
    );
    finished(call, dir.path(), "wrong");
    let events = audit(&s);
    let failed = events.iter().filter(|(e, _)| e == "failed-pin").count();
    assert_eq!(failed, 3, "{events:?}");
    assert!(events.iter().any(|(e, _)| e == "pin-locked"), "{events:?}");
    let state = alice(&s);
    assert_eq!(state["locked"], true, "{state}");

    // Her right PIN does not open the lock.
    let call = dial(
        &s,
        dir.path(),
        "locked",
        "4255550100",
        &format!("1{id}#*1001#24680#"),
        Then::HangUpAfter(Duration::from_secs(8)),
    );
    finished(call, dir.path(), "locked");
    assert_eq!(alice_joins(&s), 0);

    // The admin unlocks her and sets a new PIN; a PIN the policy refuses is not set.
    ok(&s.cli(&["user", "unlock", "--tenant", "contoso", "alice"]));
    let state = alice(&s);
    assert_eq!(state["locked"], false, "{state}");
    assert_eq!(state["failures_total"], 0, "{state}");
    let set_pin = |pin: &str| {
        let mut cmd = common::plenum();
        cmd.args(["user", "set-pin", "--tenant", "contoso", "alice"])
            .args(["--data-dir", s.data_dir.to_str().unwrap()])
            .args(["--admin-url", &s.admin_url])
            .env("PLENUM_PIN", pin);
        cmd.output().unwrap()
    };
    let refused = common::err(&set_pin("1234"));
    assert!(
        refused.contains("refuses the PIN") && !refused.contains("1234"),
        "{refused}"
    );
    ok(&set_pin("97531"));
    let call = dial(
        &s,
        dir.path(),
        "unlocked",
        "4255550100",
        &format!("1{id}#*1001#97531#"),
        Then::HangUpAfter(Duration::from_secs(10)),
    );
    finished(call, dir.path(), "unlocked");
    assert_eq!(alice_joins(&s), 1, "{:?}", audit(&s));
    let events = audit(&s);
    for e in ["pin-unlocked", "pin-set"] {
        assert!(events.iter().any(|(x, _)| x == e), "{e}: {events:?}");
    }
}
