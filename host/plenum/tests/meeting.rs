//! `plenum meeting …` end to end: the real `plenum serve` on loopback, and the CLI as an
//! organizer's client speaking C3P over SIP SERVICE (digest authenticated) over UDP and TCP —
//! scheduling with its invitation (text, JSON, iCalendar), show, list, delete, the refusals
//! (wrong password, a passcode against the strict policy, another organizer's meeting), and a
//! meeting that outlives a server restart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::process::Output;

use common::{Server, err, ok, plenum};
use serde_json::Value;

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    (dir, server)
}

/// `plenum meeting SUB --organizer USER@DOMAIN --server T:ADDR ARGS`, the password in the
/// environment (so it never shows in a process list).
fn meeting(s: &Server, transport: &str, sub: &str, user: &str, args: &[&str]) -> Output {
    meeting_with_password(s, transport, sub, user, &s.password(user), args)
}

fn meeting_with_password(
    s: &Server,
    transport: &str,
    sub: &str,
    user: &str,
    password: &str,
    args: &[&str],
) -> Output {
    let domain = if user == "carol" {
        "fabrikam.example"
    } else {
        "contoso.example"
    };
    plenum()
        .args(["meeting", sub, "--organizer", &format!("{user}@{domain}")])
        .args([
            "--server",
            &format!("{transport}:{}", s.sip_addr(transport)),
        ])
        .args(args)
        .env("PLENUM_SIP_PASSWORD", password)
        .output()
        .expect("run plenum meeting")
}

fn json(out: &Output) -> Value {
    let text = ok(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not one JSON value ({e}): {text}"))
}

/// Schedule for alice with `--json`; the invitation object.
fn schedule_json(s: &Server, transport: &str, subject: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--subject", subject, "--json"];
    args.extend(extra);
    json(&meeting(s, transport, "schedule", "alice", &args))
}

#[test]
fn schedule_over_udp_and_tcp_then_show() {
    let (_d, s) = server();
    for t in ["udp", "tcp"] {
        let subject = format!("Weekly sync over {t}");
        let inv = schedule_json(&s, t, &subject, &["--expires", "8h"]);
        assert_eq!(inv["subject"], subject.as_str());
        let id = inv["conference_id"].as_str().unwrap();
        assert_eq!(
            inv["conference_uri"],
            format!("sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:{id}")
        );
        let pstn = inv["pstn_conference_id"].as_str().unwrap();
        assert!(
            pstn.len() >= 4 && pstn.bytes().all(|b| b.is_ascii_digit()),
            "{pstn}"
        );
        // contoso requires a passcode: the server made one and returned it (once).
        let passcode = inv["passcode"].as_str().unwrap();
        assert!(passcode.len() >= 6 && passcode.bytes().all(|b| b.is_ascii_digit()));
        // The organizer's region (Redmond) and its languages.
        let numbers = inv["access_numbers"].as_array().unwrap();
        assert_eq!(numbers.len(), 1, "{numbers:?}");
        assert_eq!(numbers[0]["number"], "+14255550100");
        assert_eq!(numbers[0]["region"], "Redmond");
        assert_eq!(numbers[0]["languages"][0], "en-US");
        let expires = inv["expires"].as_str().unwrap();
        assert!(expires.ends_with('Z') && expires.len() == 20, "{expires}");

        let shown = json(&meeting(
            &s,
            t,
            "show",
            "alice",
            &["--conference-id", id, "--json"],
        ));
        assert_eq!(shown["conference_uri"], inv["conference_uri"]);
        assert_eq!(shown["pstn_conference_id"], inv["pstn_conference_id"]);
        assert_eq!(shown["subject"], subject.as_str());
        assert_eq!(shown["expires"], inv["expires"]);
        assert!(
            shown.get("passcode").is_none(),
            "the passcode is shown once only"
        );
        // By URI, human-readable.
        let text = ok(&meeting(
            &s,
            t,
            "show",
            "alice",
            &["--uri", inv["conference_uri"].as_str().unwrap()],
        ));
        assert!(text.contains(&subject) && text.contains(pstn), "{text}");
        assert!(!text.contains(passcode), "{text}");
    }
}

#[test]
fn the_text_invitation_and_the_given_passcode() {
    let (_d, s) = server();
    let out = meeting(
        &s,
        "udp",
        "schedule",
        "alice",
        &[
            "--subject",
            "Budget review",
            "--passcode",
            "864209",
            "--admission",
            "anonymous",
            "--expires",
            "2h",
        ],
    );
    let text = ok(&out);
    assert!(text.contains("Meeting scheduled: Budget review"), "{text}");
    assert!(text.contains("Join by phone (Redmond):"), "{text}");
    assert!(text.contains("+14255550100"), "{text}");
    assert!(text.contains("Passcode:       864209"), "{text}");
    assert!(
        text.contains("opaque=app:conf:focus:id:"),
        "the join URI: {text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(&s.password("alice")), "{stderr}");
    assert!(!text.contains(&s.password("alice")), "{text}");
}

#[test]
fn ics_is_a_well_formed_calendar() {
    let (_d, s) = server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invite.ics");
    let subject = "Quarterly planning; budget, hiring and a very long subject line that must fold";
    let inv = schedule_json(&s, "tcp", subject, &["--ics", path.to_str().unwrap()]);
    let ics = std::fs::read_to_string(&path).unwrap();
    check_ics_structure(&ics);
    let lines = unfold(&ics);
    let prop = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} missing: {lines:?}"))
            .to_owned()
    };
    assert_eq!(prop("METHOD"), "REQUEST");
    assert_eq!(prop("VERSION"), "2.0");
    assert_eq!(
        prop("SUMMARY"),
        subject.replace(';', "\\;").replace(',', "\\,")
    );
    assert_eq!(prop("LOCATION"), "+14255550100");
    assert_eq!(prop("ORGANIZER"), "sip:alice@contoso.example");
    assert!(prop("UID").starts_with(inv["conference_id"].as_str().unwrap()));
    for p in ["DTSTAMP", "DTSTART", "DTEND"] {
        let v = prop(p);
        assert!(
            v.len() == 16 && v.ends_with('Z') && v.as_bytes()[8] == b'T',
            "{p}:{v}"
        );
    }
    // DTEND is the expiry.
    let expires = inv["expires"].as_str().unwrap().replace(['-', ':'], "");
    assert_eq!(prop("DTEND"), expires);
    let description = prop("DESCRIPTION");
    for part in [
        "+14255550100 (en-US\\, de-DE\\, fr-FR)".to_owned(),
        format!(
            "Conference ID: {}",
            inv["pstn_conference_id"].as_str().unwrap()
        ),
        format!("Passcode: {}", inv["passcode"].as_str().unwrap()),
        // TEXT escaping: the URI's semicolons are `\;`.
        format!(
            "Join by SIP: {}",
            inv["conference_uri"].as_str().unwrap().replace(';', "\\;")
        ),
    ] {
        assert!(description.contains(&part), "{part} in {description}");
    }
}

/// What any RFC 5545 parser checks first: CRLF everywhere, lines of at most 75 octets, every
/// unfolded line `NAME[;params]:value`, BEGIN/END balanced, the required properties.
fn check_ics_structure(ics: &str) {
    assert!(ics.ends_with("\r\n"), "ends with CRLF");
    let bare = ics.replace("\r\n", "");
    assert!(
        !bare.contains('\n') && !bare.contains('\r'),
        "bare line ends"
    );
    for raw in ics.split("\r\n") {
        assert!(raw.len() <= 75, "{} octets: {raw}", raw.len());
    }
    assert!(
        ics.contains("\r\n "),
        "the long subject or description is folded"
    );
    let mut stack = Vec::new();
    let mut seen = Vec::new();
    for line in unfold(ics) {
        let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("{line}"));
        let name = name.split(';').next().unwrap();
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'),
            "{line}"
        );
        match name {
            "BEGIN" => stack.push(value.to_owned()),
            "END" => assert_eq!(stack.pop().as_deref(), Some(value), "{line}"),
            _ => seen.push(format!("{}/{name}", stack.join("/"))),
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    for required in [
        "VCALENDAR/VERSION",
        "VCALENDAR/PRODID",
        "VCALENDAR/METHOD",
        "VCALENDAR/VEVENT/UID",
        "VCALENDAR/VEVENT/DTSTAMP",
        "VCALENDAR/VEVENT/DTSTART",
        "VCALENDAR/VEVENT/ORGANIZER",
    ] {
        assert_eq!(
            seen.iter().filter(|s| *s == required).count(),
            1,
            "{required} once in {seen:?}"
        );
    }
}

/// Content lines with folding undone (RFC 5545 §3.1).
fn unfold(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_wrong_password_is_refused_clearly() {
    let (_d, s) = server();
    for t in ["udp", "tcp"] {
        let out = meeting_with_password(
            &s,
            t,
            "schedule",
            "alice",
            "not-the-password",
            &["--subject", "x"],
        );
        let e = err(&out);
        assert!(e.contains("403") || e.contains("401"), "{t}: {e}");
        assert!(e.contains("wrong user or password"), "{t}: {e}");
        assert!(!e.contains("not-the-password"), "{t}: {e}");
    }
    // No password at all: said so before anything is sent.
    let out = plenum()
        .args(["meeting", "list", "--organizer", "alice@contoso.example"])
        .args(["--server", &format!("udp:{}", s.sip_addr("udp"))])
        .env_remove("PLENUM_SIP_PASSWORD")
        .output()
        .unwrap();
    assert!(err(&out).contains("no password"));
}

#[test]
fn a_passcode_against_the_strict_policy_is_invalid() {
    let (_d, s) = server();
    // fabrikam runs the strict policy: at least 8 digits (its document), no common patterns.
    for passcode in ["2468", "12345678"] {
        let out = meeting(
            &s,
            "udp",
            "schedule",
            "carol",
            &["--subject", "Board", "--passcode", passcode],
        );
        let e = err(&out);
        assert!(e.contains("invalidPasscode"), "{passcode}: {e}");
        assert!(e.contains("8-"), "{passcode}: the policy's bounds: {e}");
    }
    // A good one is taken; fabrikam's region is Berlin.
    let inv = json(&meeting(
        &s,
        "udp",
        "schedule",
        "carol",
        &["--subject", "Board", "--passcode", "48151623", "--json"],
    ));
    assert_eq!(inv["passcode"], "48151623");
    assert_eq!(inv["access_numbers"][0]["number"], "+493055550100");
}

#[test]
fn list_and_delete() {
    let (_d, s) = server();
    let a = schedule_json(&s, "udp", "First", &[]);
    let b = schedule_json(&s, "tcp", "Second", &[]);
    let list = json(&meeting(&s, "udp", "list", "alice", &["--json"]));
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["conference_id"].as_str().unwrap())
        .collect();
    for m in [&a, &b] {
        assert!(
            ids.contains(&m["conference_id"].as_str().unwrap()),
            "{ids:?}"
        );
    }
    let table = ok(&meeting(&s, "tcp", "list", "alice", &[]));
    assert!(table.starts_with("CONFERENCE-ID"), "{table}");
    assert!(
        table.contains("First") && table.contains("Second"),
        "{table}"
    );

    let uri = a["conference_uri"].as_str().unwrap();
    let out = ok(&meeting(&s, "tcp", "delete", "alice", &["--uri", uri]));
    assert_eq!(out.trim(), format!("deleted {uri}"));
    let e = err(&meeting(
        &s,
        "udp",
        "show",
        "alice",
        &["--conference-id", a["conference_id"].as_str().unwrap()],
    ));
    assert!(e.contains("conferenceDoesNotExist"), "{e}");
    let deleted = json(&meeting(
        &s,
        "udp",
        "delete",
        "alice",
        &[
            "--conference-id",
            b["conference_id"].as_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(deleted["deleted"], b["conference_uri"]);
    let list = json(&meeting(&s, "udp", "list", "alice", &["--json"]));
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|m| m["conference_id"] != a["conference_id"]
                && m["conference_id"] != b["conference_id"]),
        "{list}"
    );
}

#[test]
fn another_organizers_meeting_is_out_of_reach() {
    let (_d, s) = server();
    let carol = json(&meeting(
        &s,
        "udp",
        "schedule",
        "carol",
        &["--subject", "Carol's", "--json"],
    ));
    let uri = carol["conference_uri"].as_str().unwrap();
    for sub in ["show", "delete"] {
        let e = err(&meeting(&s, "udp", sub, "alice", &["--uri", uri]));
        assert!(e.contains("unauthorized"), "{sub}: {e}");
    }
    // Still there for carol.
    let shown = json(&meeting(
        &s,
        "tcp",
        "show",
        "carol",
        &["--uri", uri, "--json"],
    ));
    assert_eq!(shown["subject"], "Carol's");
}

#[test]
fn a_meeting_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let inv = schedule_json(&s, "udp", "Outlives the server", &["--expires", "2d"]);
    s.stop();
    let s = Server::start(dir.path());
    let shown = json(&meeting(
        &s,
        "tcp",
        "show",
        "alice",
        &[
            "--conference-id",
            inv["conference_id"].as_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(shown["conference_uri"], inv["conference_uri"]);
    assert_eq!(shown["pstn_conference_id"], inv["pstn_conference_id"]);
    assert_eq!(shown["expires"], inv["expires"]);
}

#[test]
fn nobody_there_says_so() {
    // A port nobody listens on: TCP is refused at once.
    let port = common::free_port("127.0.0.1");
    let out = plenum()
        .args(["meeting", "list", "--organizer", "alice@contoso.example"])
        .args(["--server", &format!("tcp:127.0.0.1:{port}")])
        .env("PLENUM_SIP_PASSWORD", "x")
        .output()
        .unwrap();
    let e = err(&out);
    assert!(e.contains("cannot reach the SIP server"), "{e}");
}

/// A tenant admin replaces the policy document while the server runs: a document the tenant's
/// policy plugin refuses (or that is not TOML) changes nothing; an accepted one is audited and
/// the next decision follows it (here: passcodes of at least 8 digits).
#[test]
fn a_policy_document_is_checked_then_takes_effect_at_once() {
    let (d, s) = server();
    let before = ok(&s.cli(&["policy", "show", "--tenant", "contoso"]));
    assert!(before.contains("[passcode]"), "{before}");

    let file = d.path().join("policy.toml");
    for (bad, says) in [
        ("[passcode\nmin-length = 8\n", "not a policy document"),
        (
            "[meeting]\ndefault-expiry-secs = 7200\nmax-expiry-secs = 3600\n",
            "refuses",
        ),
    ] {
        std::fs::write(&file, bad).unwrap();
        let e = err(&s.cli(&[
            "policy",
            "set",
            "--tenant",
            "contoso",
            file.to_str().unwrap(),
        ]));
        assert!(e.contains(says) && e.contains("422"), "{bad}: {e}");
    }
    assert_eq!(
        ok(&s.cli(&["policy", "show", "--tenant", "contoso"])),
        before
    );
    // The 6-digit passcode is fine under the shipped document.
    schedule_json(&s, "udp", "Before", &["--passcode", "135790"]);

    let stricter = before.replace("min-length = 6 ", "min-length = 8 ");
    assert_ne!(
        stricter, before,
        "the demo document sets passcode.min-length = 6"
    );
    std::fs::write(&file, &stricter).unwrap();
    ok(&s.cli(&[
        "policy",
        "set",
        "--tenant",
        "contoso",
        file.to_str().unwrap(),
    ]));
    assert_eq!(
        ok(&s.cli(&["policy", "show", "--tenant", "contoso"])),
        stricter
    );
    let e = err(&meeting(
        &s,
        "udp",
        "schedule",
        "alice",
        &["--subject", "After", "--passcode", "135790"],
    ));
    assert!(e.contains("invalidPasscode"), "{e}");
    schedule_json(&s, "udp", "After", &["--passcode", "13579024"]);

    let audit = ok(&s.cli(&["audit", "--tenant", "contoso", "--json"]));
    let changes = serde_json::from_str::<Value>(&audit)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "policy-changed")
        .count();
    assert_eq!(changes, 1, "{audit}");
    // Another tenant's document is untouched.
    let fabrikam = ok(&s.cli(&["policy", "show", "--tenant", "fabrikam"]));
    assert!(!fabrikam.is_empty() && fabrikam != stricter);
}

/// A pool that offers SHA-256 digest first (RFC 8760): the scheduling client answers the
/// strongest challenge and schedules.
#[test]
fn sha_256_digest_when_the_operator_offers_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("plenum.toml");
    std::fs::write(
        &config,
        "[sip]\ndigest-algorithms = [\"SHA-256\", \"MD5\"]\n",
    )
    .unwrap();
    let s = Server::start_with(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let inv = schedule_json(&s, "tcp", "Strong digest", &[]);
    assert!(inv["pstn_conference_id"].is_string(), "{inv}");
}
