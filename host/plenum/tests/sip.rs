//! SIP end to end: SIPp (Debian `sip-tester`) against the real `plenum serve`, over UDP and
//! TCP — OPTIONS, a gateway call (INVITE/100/200/ACK/BYE), CANCEL, a SIP client answering a
//! digest challenge, and the refusals (unknown number 404, unknown peer 403, wrong password).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use common::{Server, sipp};

/// The demo gateway is 127.0.0.2: SIPp bound there plays the PBX that delivers PSTN calls.
const GATEWAY: &str = "127.0.0.2";
/// SIP clients of users come from anywhere else.
const CLIENT: &str = "127.0.0.1";

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    (dir, server)
}

#[test]
fn options_is_answered_on_udp_and_tcp() {
    let (_d, s) = server();
    for t in ["udp", "tcp"] {
        let run = sipp(s.sip_addr(t), CLIENT, t, &["-sf", "options.xml"]);
        assert_eq!(run.code, 0, "{t}: {}", run.messages);
        assert!(
            run.messages
                .contains("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"),
            "{t}"
        );
    }
}

#[test]
fn a_gateway_call_is_answered_and_hung_up_on_udp_and_tcp() {
    let (_d, s) = server();
    for t in ["udp", "tcp"] {
        // SIPp's built-in uac: INVITE to 4255550100 (not E.164), 200 with SDP, ACK, BYE.
        let run = sipp(
            s.sip_addr(t),
            GATEWAY,
            t,
            &["-sn", "uac", "-s", "4255550100"],
        );
        assert_eq!(run.code, 0, "{t}: {}", run.messages);
        let lines = run.first_lines();
        assert!(
            lines.iter().any(|l| l.starts_with("SIP/2.0 100 Trying")),
            "{t}: {lines:?}"
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("SIP/2.0 200 OK"))
                .count(),
            2,
            "{t}: {lines:?}"
        );
        assert!(
            run.messages.contains("m=audio "),
            "{t}: the 200 carries an SDP answer"
        );
        assert!(run.messages.contains("a=rtpmap:0 PCMU/8000"), "{t}");
    }
}

#[test]
fn cancel_ends_a_pending_call() {
    let (_d, s) = server();
    for t in ["udp", "tcp"] {
        let run = sipp(
            s.sip_addr(t),
            GATEWAY,
            t,
            &["-sf", "cancel.xml", "-s", "4255550100"],
        );
        assert_eq!(run.code, 0, "{t}: {}", run.messages);
        let lines = run.first_lines();
        // The CANCEL is answered 200 either way; when it beat the answer the INVITE ends 487.
        assert!(
            lines.iter().any(|l| l.starts_with("CANCEL ")),
            "{t}: {lines:?}"
        );
        let cancelled = lines.iter().any(|l| l.starts_with("SIP/2.0 487"));
        let answered = lines
            .iter()
            .filter(|l| l.starts_with("SIP/2.0 200"))
            .count()
            >= 2;
        assert!(cancelled || answered, "{t}: {lines:?}");
    }
}

#[test]
fn a_sip_client_answers_the_digest_challenge_on_udp_and_tcp() {
    let (_d, s) = server();
    let password = s.password("alice");
    for t in ["udp", "tcp"] {
        let run = sipp(
            s.sip_addr(t),
            CLIENT,
            t,
            &[
                "-sf",
                "uac-auth.xml",
                "-s",
                "4255550100",
                "-au",
                "alice",
                "-ap",
                &password,
                "-key",
                "caller",
                "alice",
            ],
        );
        assert_eq!(run.code, 0, "{t}: {}", run.messages);
        let lines = run.first_lines();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("SIP/2.0 401 Unauthorized")),
            "{t}: {lines:?}"
        );
        assert!(
            run.messages
                .contains("WWW-Authenticate: Digest realm=\"contoso.example\""),
            "{t}"
        );
        assert!(
            run.messages
                .contains("Authorization: Digest username=\"alice\""),
            "{t}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with("BYE ")),
            "{t}: {lines:?}"
        );
    }
}

#[test]
fn refusals_with_real_peers() {
    let (_d, s) = server();
    let udp = s.sip_addr("udp");
    // A wrong password: challenged, then forbidden.
    let run = sipp(
        udp,
        CLIENT,
        "udp",
        &[
            "-sf",
            "uac-auth.xml",
            "-s",
            "4255550100",
            "-au",
            "alice",
            "-ap",
            "not-it",
            "-key",
            "caller",
            "alice",
        ],
    );
    assert_ne!(run.code, 0);
    assert!(
        run.first_lines()
            .iter()
            .any(|l| l.starts_with("SIP/2.0 403 Forbidden")),
        "{}",
        run.messages
    );
    // A number nobody owns, from the gateway.
    let run = sipp(udp, GATEWAY, "udp", &["-sn", "uac", "-s", "4255559999"]);
    assert_ne!(run.code, 0);
    assert!(
        run.first_lines()
            .iter()
            .any(|l| l.starts_with("SIP/2.0 404 Not Found")),
        "{}",
        run.messages
    );
    // Neither a gateway nor a user of any tenant (From sipp@127.0.0.1).
    let run = sipp(udp, CLIENT, "udp", &["-sn", "uac", "-s", "4255550100"]);
    assert_ne!(run.code, 0);
    assert!(
        run.first_lines()
            .iter()
            .any(|l| l.starts_with("SIP/2.0 403 Forbidden")),
        "{}",
        run.messages
    );
}

#[test]
fn sipp_service_to_the_focus_factory_gets_a_c3p_response() {
    let (_d, s) = server();
    let password = s.password("alice");
    for t in ["udp", "tcp"] {
        let run = sipp(
            s.sip_addr(t),
            CLIENT,
            t,
            &[
                "-sf",
                "service.xml",
                "-au",
                "alice",
                "-ap",
                &password,
                "-key",
                "caller",
                "alice",
                "-key",
                "domain",
                "contoso.example",
            ],
        );
        assert_eq!(run.code, 0, "{t}: {}", run.messages);
        // The 200's body is a C3P response the codec reads: success, with the Redmond
        // access number and its languages (alice's location profile is Redmond).
        let body = run
            .messages
            .split("SIP/2.0 200 OK")
            .nth(1)
            .and_then(|m| m.split("\r\n\r\n").nth(1))
            .unwrap_or_else(|| panic!("{t}: no 200 body in {}", run.messages));
        let body = body.split("\n\n").next().unwrap_or(body).trim();
        let response = plenum_c3p::Response::parse(body.as_bytes())
            .unwrap_or_else(|e| panic!("{t}: {e:?}: {body}"));
        let plenum_c3p::Outcome::Success(plenum_c3p::ResponseCommand::GetConferencingCapabilities(
            caps,
        )) = response.outcome
        else {
            panic!("{t}: not a capabilities success: {body}");
        };
        assert!(caps.pstn_bridging.enabled, "{t}");
        assert_eq!(
            caps.pstn_bridging.default_region.as_deref(),
            Some("Redmond"),
            "{t}"
        );
        let redmond = caps
            .pstn_bridging
            .regions
            .iter()
            .find(|r| r.name == "Redmond")
            .unwrap_or_else(|| panic!("{t}: no Redmond region: {body}"));
        assert_eq!(redmond.access_numbers[0].number, "+14255550100", "{t}");
        assert_eq!(
            redmond.access_numbers[0].languages,
            ["en-US", "de-DE", "fr-FR"],
            "{t}"
        );
        // fabrikam's numbers are not contoso's to see.
        assert!(!body.contains("+493055550100"), "{t}: {body}");
    }
}
