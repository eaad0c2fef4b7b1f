//! The switch's SERVICE path, sans-IO: bytes in, bytes and work out. Who may reach a Focus
//! Factory (digest), what is not one (404), what is not C3P (415), and how the service's answer
//! goes on the wire (200 + application/cccp+xml, or a SIP error with ms-diagnostics).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::net::SocketAddr;
use std::time::Instant;

use plenum_c3p::Diagnostic;
use plenum_conference::directory::{Directory, TenantEntry};
use plenum_conference::focus_factory::ServiceAnswer;
use plenum_conference::switch::{Switch, SwitchConfig, SwitchOutput, Work, WorkId, WorkResult};
use plenum_sip::auth::{self, Algorithm};
use plenum_sip::endpoint::{Flow, Transport};
use plenum_sip::error::SipError;
use plenum_types::TenantId;

const PASSWORD: &str = "correct horse";

fn flow() -> Flow {
    let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let remote: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    Flow {
        transport: Transport::Udp,
        local,
        remote,
        conn: None,
    }
}

fn switch() -> Switch {
    let directory = Directory {
        gateways: Vec::new(),
        tenants: vec![TenantEntry {
            id: TenantId::new("contoso").unwrap(),
            domain: "contoso.example".into(),
        }],
    };
    Switch::new(SwitchConfig::default(), directory, Instant::now())
}

const BODY: &str = r#"<request xmlns="urn:ietf:params:xml:ns:cccp" C3PVersion="1" requestId="1" from="sip:alice@contoso.example" to="sip:alice@contoso.example;gruu;opaque=app:conf:focusfactory"><getConferencingCapabilities/></request>"#;

fn service(uri: &str, cseq: u32, content_type: &str, authorization: Option<&str>) -> String {
    static BRANCH: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let branch = BRANCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // One Call-ID per test-request sequence: alice's client retries with the next CSeq.
    let call = branch.saturating_sub(cseq);
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "SERVICE {uri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK-svc-{branch}\r\n\
         From: <sip:alice@contoso.example>;tag=abc\r\n\
         To: <{uri}>\r\n\
         Call-ID: svc-{call}\r\n\
         CSeq: {cseq} SERVICE\r\n\
         Max-Forwards: 70\r\n\
         {auth}Content-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
}

const FF: &str = "sip:alice@contoso.example;gruu;opaque=app:conf:focusfactory";

/// Everything the switch put out.
fn outputs(s: &mut Switch) -> (Vec<String>, Vec<(WorkId, Work)>) {
    let mut sent = Vec::new();
    let mut work = Vec::new();
    while let Some(o) = s.poll_output() {
        match o {
            SwitchOutput::Transmit(t) => sent.push(String::from_utf8_lossy(&t.bytes).into_owned()),
            SwitchOutput::Work(id, w) => work.push((id, w)),
            SwitchOutput::Note(_) | SwitchOutput::Media(_) => {}
        }
    }
    (sent, work)
}

fn status(msg: &str) -> &str {
    msg.lines().next().unwrap()
}

/// The Authorization header alice's client would send for the MD5 challenge in `challenge`.
fn authorization(challenge: &str) -> String {
    let nonce = challenge
        .split("nonce=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    let ha1 = auth::ha1(Algorithm::Md5, "alice", "contoso.example", PASSWORD);
    let response = auth::client_response(Algorithm::Md5, &ha1, nonce, 1, "c0ffee", "SERVICE", FF);
    format!(
        "Digest username=\"alice\", realm=\"contoso.example\", nonce=\"{nonce}\", uri=\"{FF}\", \
         response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\""
    )
}

/// Challenge, answer, and return the switch waiting on the Ha1 work.
fn authenticated(s: &mut Switch, now: Instant) -> (WorkId, String) {
    s.handle_bytes(
        flow(),
        service(FF, 1, "application/cccp+xml", None).as_bytes(),
        now,
    );
    let (sent, work) = outputs(s);
    assert!(work.is_empty());
    let challenge = sent
        .iter()
        .find(|m| status(m).starts_with("SIP/2.0 401"))
        .unwrap_or_else(|| panic!("{sent:?}"));
    let credentials = authorization(challenge);
    s.handle_bytes(
        flow(),
        service(FF, 2, "application/cccp+xml", Some(&credentials)).as_bytes(),
        now,
    );
    let (_, work) = outputs(s);
    let [
        (
            id,
            Work::Ha1 {
                username, realm, ..
            },
        ),
    ] = &work[..]
    else {
        panic!("{work:?}")
    };
    assert_eq!((&username[..], &realm[..]), ("alice", "contoso.example"));
    (
        *id,
        auth::ha1(Algorithm::Md5, "alice", "contoso.example", PASSWORD),
    )
}

#[test]
fn an_authenticated_service_runs_as_work_and_answers_c3p() {
    let now = Instant::now();
    let mut s = switch();
    let (id, ha1) = authenticated(&mut s, now);
    s.work_done(id, WorkResult::Ha1(Some(ha1)), now);
    let (_, work) = outputs(&mut s);
    let [
        (
            id,
            Work::Service {
                requester,
                tenant,
                target,
                body,
            },
        ),
    ] = &work[..]
    else {
        panic!("{work:?}")
    };
    assert_eq!(requester, "sip:alice@contoso.example");
    assert_eq!(target, "sip:alice@contoso.example");
    assert_eq!(tenant.as_str(), "contoso");
    assert_eq!(&body[..], BODY.as_bytes());

    let request = plenum_c3p::Request::parse(body).unwrap();
    let response = plenum_c3p::Response::failure(
        &request.envelope(),
        plenum_c3p::CommandName::GetConferencingCapabilities,
        plenum_c3p::FailureReason::OtherFailure,
    );
    s.work_done(
        *id,
        WorkResult::Service(ServiceAnswer::C3p(Box::new(response))),
        now,
    );
    let (sent, _) = outputs(&mut s);
    let ok = sent
        .iter()
        .find(|m| status(m).starts_with("SIP/2.0 200"))
        .unwrap();
    assert!(
        ok.contains("Content-Type: application/cccp+xml\r\n"),
        "{ok}"
    );
    assert!(ok.contains(r#"reason="otherFailure""#), "{ok}");
}

#[test]
fn a_service_error_carries_its_diagnostic() {
    let now = Instant::now();
    let mut s = switch();
    let (id, ha1) = authenticated(&mut s, now);
    s.work_done(id, WorkResult::Ha1(Some(ha1)), now);
    let (_, work) = outputs(&mut s);
    let answer = ServiceAnswer::Sip(
        SipError::NotImplemented,
        Some(Diagnostic::CommandNotImplemented),
    );
    s.work_done(work[0].0, WorkResult::Service(answer), now);
    let (sent, _) = outputs(&mut s);
    let r = sent
        .iter()
        .find(|m| status(m).starts_with("SIP/2.0 501"))
        .unwrap();
    assert!(r.contains("ms-diagnostics-public: 3004;reason="), "{r}");
}

#[test]
fn a_wrong_password_is_forbidden_and_no_service_runs() {
    let now = Instant::now();
    let mut s = switch();
    let (id, _) = authenticated(&mut s, now);
    let wrong = auth::ha1(Algorithm::Md5, "alice", "contoso.example", "guess");
    s.work_done(id, WorkResult::Ha1(Some(wrong)), now);
    let (sent, work) = outputs(&mut s);
    assert!(work.is_empty(), "{work:?}");
    assert!(
        sent.iter().any(|m| status(m).starts_with("SIP/2.0 403")),
        "{sent:?}"
    );
}

#[test]
fn not_a_focus_factory_or_not_c3p_is_refused_before_authentication() {
    let now = Instant::now();
    let mut s = switch();
    // A focus (a meeting) is not a Focus Factory; neither is a bare user.
    for uri in [
        "sip:alice@contoso.example",
        "sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:ABC",
    ] {
        s.handle_bytes(
            flow(),
            service(uri, 1, "application/cccp+xml", None).as_bytes(),
            now,
        );
        let (sent, work) = outputs(&mut s);
        assert!(work.is_empty());
        assert!(
            status(&sent[0]).starts_with("SIP/2.0 404"),
            "{uri}: {sent:?}"
        );
    }
    s.handle_bytes(flow(), service(FF, 1, "text/plain", None).as_bytes(), now);
    let (sent, _) = outputs(&mut s);
    assert!(status(&sent[0]).starts_with("SIP/2.0 415"), "{sent:?}");
    assert!(
        sent[0].contains("Accept: application/cccp+xml"),
        "{}",
        sent[0]
    );
}
