//! A small UDP SIP client that subscribes to a meeting's roster (RFC 4575, `Event: conference`)
//! with digest, answers every NOTIFY, and applies the documents with plenum-c3p's roster model.
//! Shared by the roster and in-meeting tests.

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use plenum_c3p::roster::{ConferenceInfo, ElementState};
use plenum_sip::auth::{Challenge, ClientAnswer};
use plenum_sip::message::{self, Framing, HeaderName, Message, Request};

/// A subscriber on its own UDP socket.
pub struct Subscriber {
    sock: UdpSocket,
    server: SocketAddr,
    user: String,
    password: String,
    domain: String,
    uri: String,
    cseq: u32,
    call_id: String,
    /// NOTIFYs that came while a response was awaited.
    early: VecDeque<ConferenceInfo>,
}

impl Subscriber {
    /// A subscriber as `user@domain` (digest `password`) to the focus URI `target`.
    pub fn new(server: SocketAddr, user: &str, password: &str, domain: &str, target: &str) -> Self {
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
            early: VecDeque::new(),
        }
    }

    /// Send a SUBSCRIBE for `event` (with an `Authorization` value); the request sent.
    pub fn subscribe(&mut self, event: &str, auth: Option<&str>) -> String {
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
    pub fn subscribe_authenticated(&mut self, event: &str) -> u16 {
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
    /// are answered and kept for [`Subscriber::notifies`].
    pub fn response(&mut self) -> (u16, Vec<String>) {
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
                Some(Message::Request(r)) => {
                    if let Some(doc) = roster_of(&r) {
                        self.early.push_back(doc);
                    }
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

    /// The next NOTIFY body to arrive before `deadline`.
    pub fn next_notify(&mut self, deadline: Instant) -> Option<ConferenceInfo> {
        if let Some(doc) = self.early.pop_front() {
            return Some(doc);
        }
        while Instant::now() < deadline {
            if let Some(Message::Request(r)) = self.next_message()
                && let Some(doc) = roster_of(&r)
            {
                return Some(doc);
            }
        }
        None
    }

    /// NOTIFY bodies that arrive within `for_`.
    pub fn notifies(&mut self, for_: Duration) -> Vec<ConferenceInfo> {
        let deadline = Instant::now() + for_;
        let mut out = Vec::new();
        while let Some(doc) = self.next_notify(deadline) {
            out.push(doc);
        }
        out
    }
}

/// The roster document of a NOTIFY (panics on a body that is not one).
fn roster_of(r: &Request) -> Option<ConferenceInfo> {
    (r.method == message::Method::Notify)
        .then(|| ConferenceInfo::parse(&r.body).expect("a roster document"))
}

/// A tag unique enough for one test run.
pub fn rand_tag() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// The status of `entity`'s endpoint in a state, or `Deleted` when gone.
pub fn status_of(state: &ConferenceInfo, entity: &str) -> Option<String> {
    let user = state.users.iter().find(|u| u.entity == entity)?;
    if user.state == ElementState::Deleted {
        return Some("deleted".into());
    }
    user.endpoints
        .first()
        .and_then(|e| e.status)
        .map(|s| s.as_str().to_owned())
}

/// A subscription's view of the roster: the first (full) document with every later NOTIFY
/// applied in order, and the states it went through.
pub struct Watch {
    /// The subscription.
    pub sub: Subscriber,
    /// The roster now.
    pub state: ConferenceInfo,
    /// Every state applied since the first, oldest first.
    pub history: Vec<ConferenceInfo>,
}

impl Watch {
    /// Subscribe (digest) and take the first NOTIFY, which must be the full roster.
    pub fn start(mut sub: Subscriber) -> Watch {
        assert_eq!(sub.subscribe_authenticated("conference"), 200);
        let first = sub
            .next_notify(Instant::now() + Duration::from_secs(3))
            .expect("a first NOTIFY");
        assert_eq!(first.state, ElementState::Full, "the full state first");
        Watch {
            sub,
            state: first.clone(),
            history: vec![first],
        }
    }

    /// Apply NOTIFYs until `what` holds (checked first on the state now) or `within` passes;
    /// whether it held.
    pub fn until(&mut self, within: Duration, what: impl Fn(&ConferenceInfo) -> bool) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if what(&self.state) {
                return true;
            }
            let Some(doc) = self.sub.next_notify(deadline) else {
                return false;
            };
            self.apply(&doc);
        }
    }

    /// Apply whatever arrives within `for_`; the states applied.
    pub fn settle(&mut self, for_: Duration) -> Vec<ConferenceInfo> {
        let before = self.history.len();
        for doc in self.sub.notifies(for_) {
            self.apply(&doc);
        }
        self.history[before..].to_vec()
    }

    fn apply(&mut self, doc: &ConferenceInfo) {
        assert_eq!(doc.state, ElementState::Partial, "deltas after the first");
        self.state.apply(doc).expect("versions grow by one");
        self.history.push(self.state.clone());
    }

    /// Who is on the roster now, with their status, for messages.
    pub fn summary(&self) -> String {
        let users: Vec<String> = self
            .state
            .users
            .iter()
            .map(|u| {
                let st = status_of(&self.state, &u.entity).unwrap_or_default();
                format!("{} {st}", u.entity)
            })
            .collect();
        format!(
            "v{} locked={:?} [{}]",
            self.state.version,
            self.state.conference_state.and_then(|s| s.locked),
            users.join(", ")
        )
    }
}
