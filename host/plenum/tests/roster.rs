//! The roster (conference event package, RFC 4575) end to end: a small SIP client subscribes to
//! a meeting's focus URI as its organizer (digest), answers every NOTIFY, and applies the
//! documents (full, then partial with growing versions) with plenum-c3p's roster model, while
//! SIPp callers from the demo gateway dial in: the guest appears on hold, is connected when the
//! organizer arrives (by PIN), is muted after `*6`, and is deleted after the BYE. Also: a SIP
//! client INVITEs the focus URI directly and is mixed without an attendant; a wrong event
//! package gets 489; another tenant's user cannot subscribe.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{Server, ok};
use plenum_c3p::roster::{ConferenceInfo, ElementState, EndpointStatus};
use plenum_sip::auth::{Challenge, ClientAnswer};
use plenum_sip::message::{self, Framing, HeaderName, Message, Request};

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    (dir, s)
}

/// Schedule a meeting for alice: (conference ID, PSTN ID).
fn schedule(s: &Server) -> (String, String) {
    let out = common::plenum()
        .args([
            "meeting",
            "schedule",
            "--organizer",
            "alice@contoso.example",
            "--password",
            &s.password("alice"),
            "--subject",
            "Roster test",
            "--passcode",
            "135790",
            "--admission",
            "anonymous",
            "--server",
            &format!("udp:{}", s.sip_addr("udp")),
            "--json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    (
        v["conference_id"].as_str().unwrap().to_owned(),
        v["pstn_conference_id"].as_str().unwrap().to_owned(),
    )
}

/// A subscriber on its own UDP socket.
struct Subscriber {
    sock: UdpSocket,
    server: SocketAddr,
    user: String,
    password: String,
    domain: String,
    uri: String,
    cseq: u32,
    call_id: String,
}

impl Subscriber {
    fn new(server: SocketAddr, user: &str, password: &str, domain: &str, target: &str) -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Subscriber {
            sock,
            server,
            user: user.into(),
            password: password.into(),
            domain: domain.into(),
            uri: target.into(),
            cseq: 0,
            call_id: format!("roster-{}", rand_tag()),
        }
    }

    fn subscribe(&mut self, event: &str, auth: Option<&str>) -> String {
        self.cseq += 1;
        let local = self.sock.local_addr().unwrap();
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let msg = format!(
            "SUBSCRIBE {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-{tag};rport\r\n\
             From: <sip:{user}@{domain}>;tag=sub1\r\n\
             To: <{uri}>\r\n\
             Call-ID: {call}\r\n\
             CSeq: {cseq} SUBSCRIBE\r\n\
             Contact: <sip:{user}@{local}>\r\n\
             Event: {event}\r\n\
             Accept: application/conference-info+xml\r\n\
             Expires: 600\r\n\
             Max-Forwards: 70\r\n\
             {auth}Content-Length: 0\r\n\r\n",
            uri = self.uri,
            tag = rand_tag(),
            user = self.user,
            domain = self.domain,
            call = self.call_id,
            cseq = self.cseq,
        );
        self.sock.send_to(msg.as_bytes(), self.server).unwrap();
        msg
    }

    /// SUBSCRIBE with the digest dance; the final status.
    fn subscribe_authenticated(&mut self, event: &str) -> u16 {
        self.subscribe(event, None);
        let r = self.response();
        if r.0 != 401 {
            return r.0;
        }
        let challenge = Challenge::strongest(r.1.iter().map(String::as_str)).unwrap();
        let auth = challenge.authorization(&ClientAnswer {
            username: &self.user,
            password: &self.password,
            method: "SUBSCRIBE",
            uri: &self.uri,
            nc: 1,
            cnonce: "0a4f113b",
        });
        self.subscribe(event, Some(&auth));
        self.response().0
    }

    /// The next final response: (status, WWW-Authenticate values). NOTIFYs that come first
    /// are answered and kept.
    fn response(&mut self) -> (u16, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match self.next_message() {
                Some(Message::Response(r)) if r.code >= 200 => {
                    let challenges = r
                        .headers
                        .values(&HeaderName::WWW_AUTHENTICATE)
                        .map(str::to_owned)
                        .collect();
                    return (r.code, challenges);
                }
                _ => {}
            }
        }
        panic!("no response to SUBSCRIBE");
    }

    fn next_message(&mut self) -> Option<Message> {
        let mut buf = vec![0u8; 65_535];
        let (n, from) = self.sock.recv_from(&mut buf).ok()?;
        let m = message::parse(&buf[..n], Framing::Datagram).ok()?;
        if let Message::Request(r) = &m {
            self.answer(r, from);
        }
        Some(m)
    }

    fn answer(&self, r: &Request, to: SocketAddr) {
        let ok = plenum_sip::compose::response(r, 200, None);
        self.sock.send_to(&ok.to_bytes(), to).unwrap();
    }

    /// NOTIFY bodies that arrive within `for_`.
    fn notifies(&mut self, for_: Duration) -> Vec<ConferenceInfo> {
        let deadline = Instant::now() + for_;
        let mut out = Vec::new();
        while Instant::now() < deadline {
            if let Some(Message::Request(r)) = self.next_message()
                && r.method == plenum_sip::message::Method::Notify
            {
                out.push(ConferenceInfo::parse(&r.body).expect("a roster document"));
            }
        }
        out
    }
}

fn rand_tag() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// The status of `entity`'s endpoint in a state, or `Deleted` when gone.
fn status_of(state: &ConferenceInfo, entity: &str) -> Option<String> {
    let user = state.users.iter().find(|u| u.entity == entity)?;
    if user.state == ElementState::Deleted {
        return Some("deleted".into());
    }
    user.endpoints
        .first()
        .and_then(|e| e.status)
        .map(|s| s.as_str().to_owned())
}

#[test]
fn a_subscriber_sees_the_caller_on_hold_connected_muted_and_gone() {
    let (_d, s) = server();
    let (conference_id, pstn) = schedule(&s);
    let focus = format!("sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:{conference_id}");
    let mut sub = Subscriber::new(
        s.sip_addr("udp"),
        "alice",
        &s.password("alice"),
        "contoso.example",
        &focus,
    );
    assert_eq!(sub.subscribe_authenticated("conference"), 200);
    let first = sub.notifies(Duration::from_millis(800));
    assert_eq!(first.len(), 1, "one NOTIFY with the full state first");
    assert_eq!(first[0].state, ElementState::Full);
    assert!(first[0].users.is_empty());
    let mut state = first[0].clone();

    let dir = tempfile::tempdir().unwrap();
    // The guest: English, ID, passcode, `#` ends the name recording; on hold until the
    // organizer arrives; `*6` some seconds later; hangs up after.
    let guest_keys = plenum_rtp_pcap::Script {
        steps: {
            let mut steps = plenum_rtp_pcap::Script::keyed(&format!("1{pstn}#135790##")).steps;
            steps.push(plenum_rtp_pcap::Step::Silence(15_000));
            steps.extend(plenum_rtp_pcap::Script::keyed("*6").steps);
            steps
        },
        ssrc: 0x1234_5678,
    };
    let guest = common::gateway_call(
        &s,
        dir.path(),
        "guest",
        &guest_keys,
        Duration::from_secs(24),
    );
    std::thread::sleep(Duration::from_secs(7));
    let organizer = common::gateway_call(
        &s,
        dir.path(),
        "organizer",
        &plenum_rtp_pcap::Script::keyed(&format!("1{pstn}#*1001#24680#")),
        Duration::from_secs(20),
    );
    let docs = sub.notifies(Duration::from_secs(24));
    common::sipp_done(guest, dir.path(), "guest");
    common::sipp_done(organizer, dir.path(), "organizer");
    let docs = [docs, sub.notifies(Duration::from_secs(2))].concat();
    let mut seen = Vec::new();
    for d in &docs {
        assert_eq!(d.state, ElementState::Partial, "deltas after the first");
        state.apply(d).expect("versions grow by one");
        // A user deleted by a delta leaves the applied state.
        let st = status_of(&state, "tel:+14255551234")
            .or_else(|| (!seen.is_empty()).then(|| "deleted".to_owned()));
        if let Some(st) = st
            && seen.last() != Some(&st)
        {
            seen.push(st);
        }
    }
    let want = [
        EndpointStatus::OnHold.as_str(),
        EndpointStatus::Connected.as_str(),
        EndpointStatus::MutedViaFocus.as_str(),
        "deleted",
    ];
    let mut it = seen.iter();
    for w in want {
        assert!(
            it.any(|s| s == w),
            "the guest went through {want:?} in order; seen {seen:?}"
        );
    }
    let organizer_seen = docs.iter().any(|d| {
        d.users
            .iter()
            .any(|u| u.entity == "sip:alice@contoso.example")
    });
    assert!(organizer_seen, "the organizer was on the roster");
}

#[test]
fn wrong_package_and_other_tenants_are_refused() {
    let (_d, s) = server();
    let (conference_id, _) = schedule(&s);
    let focus = format!("sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:{conference_id}");
    let mut sub = Subscriber::new(
        s.sip_addr("udp"),
        "alice",
        &s.password("alice"),
        "contoso.example",
        &focus,
    );
    sub.subscribe("presence", None);
    assert_eq!(sub.response().0, 489);
    // carol (fabrikam) authenticates fine but the meeting is not hers to watch.
    let mut carol = Subscriber::new(
        s.sip_addr("udp"),
        "carol",
        &s.password("carol"),
        "fabrikam.example",
        &focus,
    );
    assert_eq!(carol.subscribe_authenticated("conference"), 404);
}
