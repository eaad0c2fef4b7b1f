//! A small SIP user agent client (UAC) over tokio: out-of-dialog requests (C3P `SERVICE`, say)
//! to one server over UDP or TCP, answered with their final response.
//!
//! It owns one socket (a connected UDP socket, or one TCP connection framed with
//! [`StreamDecoder`]) and drives the sans-IO [`Endpoint`] with it, so retransmissions, Timer F
//! and the rest of RFC 3261 §17.1 are the same code the server runs. It answers one digest
//! challenge per request (401 `WWW-Authenticate` or 407 `Proxy-Authenticate`, the strongest
//! algorithm offered) with a new CSeq on the same Call-ID and From tag, and one more when the
//! server only says the nonce went stale. Every other outcome that is not a 2xx is a typed
//! [`UacError`] that carries the status line and any `ms-diagnostics`.
//!
//! Not here: dialogs, DNS (the server is an address), requests from the server (answered 501),
//! and TLS.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use plenum_sip::auth::{Challenge, ClientAnswer};
use plenum_sip::compose;
use plenum_sip::endpoint::{self, Endpoint, Event, Flow, Output, Transport};
use plenum_sip::headers::NameAddr;
use plenum_sip::stream::{Frame, StreamDecoder, StreamError};
use plenum_sip::transaction::Timers;
use plenum_sip::{HeaderName, Headers, Method, Request, Response, Uri};
use plenum_types::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Where the server is: `[udp:|tcp:]IP:PORT` (UDP when no transport is named).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerAddr {
    /// UDP or TCP.
    pub transport: Transport,
    /// The address.
    pub addr: SocketAddr,
}

impl FromStr for ServerAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<ServerAddr, String> {
        let (transport, rest) = match s.split_once(':') {
            Some((t, rest)) if t.eq_ignore_ascii_case("udp") => (Transport::Udp, rest),
            Some((t, rest)) if t.eq_ignore_ascii_case("tcp") => (Transport::Tcp, rest),
            _ => (Transport::Udp, s),
        };
        let addr = rest
            .parse()
            .map_err(|_| format!("`{s}`: expected [udp:|tcp:]IP:PORT"))?;
        Ok(ServerAddr { transport, addr })
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        };
        write!(f, "{t}:{}", self.addr)
    }
}

/// Digest credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The digest username (for Plenum's pool: the user part of the SIP URI).
    pub username: String,
    /// The password (redacted in `Debug`).
    pub password: Secret,
}

/// UAC settings.
#[derive(Debug, Clone)]
pub struct UacConfig {
    /// T1, T2, T4 (Timer F, the give-up time, is 64·T1).
    pub timers: Timers,
    /// The `User-Agent` value.
    pub user_agent: String,
}

impl Default for UacConfig {
    fn default() -> UacConfig {
        UacConfig {
            timers: Timers::default(),
            user_agent: format!("Plenum/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// The status line of a final response, with its diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The status code.
    pub code: u16,
    /// The reason phrase.
    pub reason: String,
    /// `ms-diagnostics` (or `ms-diagnostics-public`) values, as sent.
    pub diagnostics: Vec<String>,
}

impl Status {
    /// The status of `response`.
    pub fn of(response: &Response) -> Status {
        let diagnostics = [
            HeaderName::MS_DIAGNOSTICS,
            HeaderName::MS_DIAGNOSTICS_PUBLIC,
        ]
        .iter()
        .flat_map(|h| response.headers.values(h))
        .map(str::to_owned)
        .collect();
        Status {
            code: response.code,
            reason: response.reason.clone(),
            diagnostics,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.reason)?;
        for d in &self.diagnostics {
            write!(f, " (ms-diagnostics: {d})")?;
        }
        Ok(())
    }
}

/// Why a request got no 2xx.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UacError {
    /// The server cannot be reached: the TCP connection was refused, or ICMP said nobody
    /// listens on the UDP port.
    #[error("cannot reach the SIP server at {server}: {source}")]
    Unreachable {
        /// The server.
        server: ServerAddr,
        /// What the socket said.
        source: std::io::Error,
    },
    /// A socket error after the connection was up.
    #[error("SIP I/O with {server} failed: {source}")]
    Io {
        /// The server.
        server: ServerAddr,
        /// What the socket said.
        source: std::io::Error,
    },
    /// The server closed the TCP connection before it answered.
    #[error("the SIP server at {server} closed the connection before answering")]
    Closed {
        /// The server.
        server: ServerAddr,
    },
    /// The server broke stream framing (the connection is unusable).
    #[error("the SIP server at {server} broke TCP framing: {source}")]
    Framing {
        /// The server.
        server: ServerAddr,
        /// How.
        source: StreamError,
    },
    /// No final response in time (Timer F), or no TCP connection in that time.
    #[error("timed out: no answer from the SIP server at {server} to {what} within {} s", after.as_secs())]
    Timeout {
        /// The server.
        server: ServerAddr,
        /// The method, or `connect`.
        what: String,
        /// How long we waited.
        after: Duration,
    },
    /// The server asks for credentials and the UAC has none.
    #[error("the SIP server asks for credentials and none were given: {status}")]
    CredentialsRequired {
        /// The 401 or 407.
        status: Status,
    },
    /// The server's challenge offers nothing we can answer (digest with MD5 or SHA-256).
    #[error(
        "cannot answer the SIP server's challenge (no digest MD5 or SHA-256 offered): {status}"
    )]
    UnusableChallenge {
        /// The 401 or 407.
        status: Status,
    },
    /// We answered a challenge and were challenged again: wrong username, password or realm.
    #[error("the SIP server refused the credentials (wrong user or password?): {status}")]
    CredentialsRefused {
        /// The second 401 or 407.
        status: Status,
    },
    /// 403: the server will not do it (after our credentials, that includes a wrong password).
    #[error("the SIP server refused the request{}: {status}", if *authenticated { " (wrong user or password, or not allowed)" } else { "" })]
    Forbidden {
        /// The 403.
        status: Status,
        /// Whether the request carried credentials.
        authenticated: bool,
    },
    /// Any other final response that is not a 2xx.
    #[error("the SIP server answered {status}")]
    Rejected {
        /// The response's status.
        status: Status,
    },
}

/// The UAC: one server, one socket, one endpoint.
pub struct Uac {
    server: ServerAddr,
    io: Io,
    endpoint: Endpoint,
    flow: Flow,
    credentials: Option<Credentials>,
    cseq: u32,
}

impl Uac {
    /// Open a socket to `server` (bind and connect a UDP socket, or connect TCP).
    pub async fn connect(
        server: ServerAddr,
        credentials: Option<Credentials>,
        config: UacConfig,
    ) -> Result<Uac, UacError> {
        let unreachable = |source| UacError::Unreachable { server, source };
        let io = match server.transport {
            Transport::Udp => {
                let sock = UdpSocket::bind(unspecified(server.addr))
                    .await
                    .map_err(unreachable)?;
                sock.connect(server.addr).await.map_err(unreachable)?;
                Io::Udp(sock)
            }
            Transport::Tcp => {
                let after = config.timers.timeout();
                let stream = tokio::time::timeout(after, TcpStream::connect(server.addr))
                    .await
                    .map_err(|_| UacError::Timeout {
                        server,
                        what: "connect".into(),
                        after,
                    })?
                    .map_err(unreachable)?;
                let _ = stream.set_nodelay(true);
                Io::Tcp {
                    stream,
                    decoder: StreamDecoder::new(),
                }
            }
        };
        let local = io.local_addr().map_err(unreachable)?;
        let endpoint = Endpoint::new(endpoint::Config {
            timers: config.timers,
            user_agent: config.user_agent,
            instance: rand::random(),
            ..endpoint::Config::default()
        });
        let flow = Flow {
            transport: server.transport,
            local,
            remote: server.addr,
            conn: (server.transport == Transport::Tcp).then_some(1),
        };
        Ok(Uac {
            server,
            io,
            endpoint,
            flow,
            credentials,
            cseq: 0,
        })
    }

    /// The server.
    pub fn server(&self) -> ServerAddr {
        self.server
    }

    /// Send `method` to `uri` with `headers` (From and To at least; the UAC adds Via,
    /// Max-Forwards, Call-ID, CSeq, a From tag, User-Agent and Content-Length) and `body`, and
    /// wait for the final response: `Ok` for a 2xx, a [`UacError`] for anything else. A digest
    /// challenge is answered once (again if the nonce went stale) when the UAC has credentials.
    pub async fn request(
        &mut self,
        method: Method,
        uri: Uri,
        headers: Headers,
        body: Bytes,
    ) -> Result<Response, UacError> {
        let host = self.flow.local.ip().to_string();
        let ids = Ids {
            call_id: self.endpoint.new_call_id(&host),
            from_tag: self.endpoint.new_tag(),
        };
        let mut answered: Option<(HeaderName, String)> = None;
        for _ in 0..3 {
            let request = self.build(&method, &uri, &headers, &body, &ids, answered.as_ref());
            let response = self.transact(request).await?;
            let status = Status::of(&response);
            answered = match response.code {
                200..=299 => return Ok(response),
                401 | 407 => Some(self.answer(&method, &uri, &response, answered.is_some())?),
                403 => {
                    return Err(UacError::Forbidden {
                        status,
                        authenticated: answered.is_some(),
                    });
                }
                _ => return Err(UacError::Rejected { status }),
            };
        }
        // Three challenges in a row, each saying the last nonce was stale: give up.
        Err(UacError::CredentialsRefused {
            status: Status {
                code: 401,
                reason: "Unauthorized (stale nonces in a row)".into(),
                diagnostics: Vec::new(),
            },
        })
    }

    /// The credentials header answering a 401/407, or why we cannot.
    fn answer(
        &self,
        method: &Method,
        uri: &Uri,
        response: &Response,
        already_answered: bool,
    ) -> Result<(HeaderName, String), UacError> {
        let status = Status::of(response);
        let (challenge_header, answer_header) = if response.code == 407 {
            (
                HeaderName::PROXY_AUTHENTICATE,
                HeaderName::PROXY_AUTHORIZATION,
            )
        } else {
            (HeaderName::WWW_AUTHENTICATE, HeaderName::AUTHORIZATION)
        };
        let Some(credentials) = &self.credentials else {
            return Err(UacError::CredentialsRequired { status });
        };
        let Some(challenge) = Challenge::strongest(response.headers.values(&challenge_header))
        else {
            return Err(UacError::UnusableChallenge { status });
        };
        if already_answered && !challenge.stale {
            return Err(UacError::CredentialsRefused { status });
        }
        tracing::debug!(
            algorithm = challenge.algorithm.token(),
            realm = %challenge.realm,
            stale = challenge.stale,
            "answering a digest challenge"
        );
        let cnonce = format!("{:016x}", rand::random::<u64>());
        let uri = uri.to_string();
        let value = challenge.authorization(&ClientAnswer {
            username: &credentials.username,
            password: credentials.password.expose(),
            method: method.as_str(),
            uri: &uri,
            nc: 1,
            cnonce: &cnonce,
        });
        Ok((answer_header, value))
    }

    fn build(
        &mut self,
        method: &Method,
        uri: &Uri,
        extra: &Headers,
        body: &Bytes,
        ids: &Ids,
        credentials: Option<&(HeaderName, String)>,
    ) -> Request {
        self.cseq += 1;
        let mut headers = Headers::new();
        headers.push(HeaderName::MAX_FORWARDS, "70");
        let from = extra
            .get(&HeaderName::FROM)
            .map_or_else(|| format!("<{uri}>"), str::to_owned);
        headers.push(HeaderName::FROM, with_tag(&from, &ids.from_tag));
        let to = extra
            .get(&HeaderName::TO)
            .map_or_else(|| format!("<{uri}>"), str::to_owned);
        headers.push(HeaderName::TO, to);
        headers.push(HeaderName::CALL_ID, ids.call_id.clone());
        headers.push(HeaderName::CSEQ, format!("{} {method}", self.cseq));
        let ours = [
            HeaderName::VIA,
            HeaderName::MAX_FORWARDS,
            HeaderName::FROM,
            HeaderName::TO,
            HeaderName::CALL_ID,
            HeaderName::CSEQ,
            HeaderName::CONTENT_LENGTH,
        ];
        for (name, value) in extra.iter().filter(|(n, _)| !ours.contains(n)) {
            headers.push(name.clone(), value);
        }
        if let Some((name, value)) = credentials {
            headers.push(name.clone(), value.clone());
        }
        Request {
            method: method.clone(),
            uri: uri.clone(),
            headers,
            body: body.clone(),
        }
    }

    /// Run one client transaction to its final response.
    async fn transact(&mut self, request: Request) -> Result<Response, UacError> {
        let what = request.method.to_string();
        let tx = self
            .endpoint
            .send_request(request, self.flow, Instant::now());
        loop {
            while let Some(out) = self.endpoint.poll_output() {
                match out {
                    Output::Transmit(t) => self.send(&t.bytes).await?,
                    Output::Event(e) => match *e {
                        Event::Response { tx: t, response } if t == tx && response.code >= 200 => {
                            return Ok(response);
                        }
                        Event::Timeout { tx: t } if t == tx => {
                            return Err(UacError::Timeout {
                                server: self.server,
                                what,
                                after: self.endpoint.config().timers.timeout(),
                            });
                        }
                        Event::Request { tx, request, .. } => {
                            let tag = self.endpoint.new_tag();
                            let refusal = compose::response(&request, 501, Some(&tag));
                            self.endpoint.respond(tx, refusal, Instant::now());
                        }
                        _ => {}
                    },
                }
            }
            self.wait().await?;
        }
    }

    /// Wait for a message or the endpoint's next timer, and feed it.
    async fn wait(&mut self) -> Result<(), UacError> {
        let deadline = self.endpoint.poll_timeout();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        let woke = tokio::select! {
            r = self.io.recv() => Some(r),
            () = sleep => None,
        };
        match woke {
            Some(Ok(bytes)) => self
                .endpoint
                .handle_bytes(self.flow, &bytes, Instant::now()),
            Some(Err(e)) => return Err(self.recv_error(e)),
            None => self.endpoint.handle_timeout(Instant::now()),
        }
        Ok(())
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), UacError> {
        let server = self.server;
        self.io
            .send(bytes)
            .await
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::ConnectionRefused => UacError::Unreachable { server, source },
                _ => UacError::Io { server, source },
            })
    }

    fn recv_error(&self, e: RecvError) -> UacError {
        let server = self.server;
        match e {
            RecvError::Io(source) if source.kind() == std::io::ErrorKind::ConnectionRefused => {
                UacError::Unreachable { server, source }
            }
            RecvError::Io(source) => UacError::Io { server, source },
            RecvError::Closed => UacError::Closed { server },
            RecvError::Framing(source) => UacError::Framing { server, source },
        }
    }
}

/// What stays the same across the attempts of one request.
struct Ids {
    call_id: String,
    from_tag: String,
}

/// A From value with `tag` added, unless it has one.
fn with_tag(from: &str, tag: &str) -> String {
    match NameAddr::parse(from, "From") {
        Ok(n) if n.tag().is_some() => from.to_owned(),
        Ok(mut n) => {
            n.params.push(("tag".into(), Some(tag.to_owned())));
            n.to_string()
        }
        Err(_) => format!("{from};tag={tag}"),
    }
}

/// The wildcard address of `remote`'s family, port 0.
fn unspecified(remote: SocketAddr) -> SocketAddr {
    let ip = match remote.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

enum RecvError {
    Io(std::io::Error),
    Closed,
    Framing(StreamError),
}

/// The socket.
enum Io {
    Udp(UdpSocket),
    Tcp {
        stream: TcpStream,
        decoder: StreamDecoder,
    },
}

impl Io {
    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Io::Udp(s) => s.local_addr(),
            Io::Tcp { stream, .. } => stream.local_addr(),
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Io::Udp(s) => s.send(bytes).await.map(drop),
            Io::Tcp { stream, .. } => stream.write_all(bytes).await,
        }
    }

    /// One datagram, or one framed stream message. Cancel-safe: a read cut short loses nothing.
    async fn recv(&mut self) -> Result<Bytes, RecvError> {
        match self {
            Io::Udp(s) => {
                let mut buf = vec![0u8; plenum_sip::message::MAX_MESSAGE];
                let n = s.recv(&mut buf).await.map_err(RecvError::Io)?;
                buf.truncate(n);
                Ok(Bytes::from(buf))
            }
            Io::Tcp { stream, decoder } => loop {
                match decoder.next_frame().map_err(RecvError::Framing)? {
                    Some(Frame::Message(bytes)) => return Ok(bytes),
                    Some(Frame::Ping) => continue,
                    None => {}
                }
                let mut buf = [0u8; 8192];
                let n = stream.read(&mut buf).await.map_err(RecvError::Io)?;
                if n == 0 {
                    return Err(RecvError::Closed);
                }
                decoder.push(buf.get(..n).unwrap_or_default());
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use plenum_sip::Message;
    use plenum_sip::auth::{Algorithm, Authenticator, ha1};
    use plenum_sip::headers::SipHeaders;
    use tokio::net::TcpListener;

    use super::*;

    const FACTORY: &str = "sip:alice@contoso.example;gruu;opaque=app:conf:focusfactory";
    const REALM: &str = "contoso.example";

    /// A UAS: answers each request it reads with what `answer` says, and keeps the requests.
    type Answer = Box<dyn FnMut(&Request) -> Option<Response> + Send>;

    struct Fake {
        addr: SocketAddr,
        seen: Arc<Mutex<Vec<Request>>>,
    }

    fn parse_request(bytes: &[u8], framing: plenum_sip::Framing) -> Request {
        match plenum_sip::message::parse(bytes, framing).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("a response"),
        }
    }

    async fn fake_udp(mut answer: Answer) -> Fake {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65_535];
            loop {
                let (n, from) = sock.recv_from(&mut buf).await.unwrap();
                let req = parse_request(&buf[..n], plenum_sip::Framing::Datagram);
                log.lock().unwrap().push(req.clone());
                if let Some(r) = answer(&req) {
                    sock.send_to(&r.to_bytes(), from).await.unwrap();
                }
            }
        });
        Fake { addr, seen }
    }

    async fn fake_tcp(mut answer: Answer) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut decoder = StreamDecoder::new();
            let mut buf = [0u8; 4096];
            loop {
                while let Some(Frame::Message(m)) = decoder.next_frame().unwrap() {
                    let req = parse_request(&m, plenum_sip::Framing::Stream);
                    log.lock().unwrap().push(req.clone());
                    if let Some(r) = answer(&req) {
                        stream.write_all(&r.to_bytes()).await.unwrap();
                    }
                }
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                decoder.push(&buf[..n]);
            }
        });
        Fake { addr, seen }
    }

    /// Plenum's own digest check: 401 with both challenges, 200 with a body for alice/secret,
    /// 403 with an ms-diagnostics header for anything else.
    fn digest_server(password: &'static str) -> Answer {
        let mut auth = Authenticator::new([5; 32], 300, vec![Algorithm::Md5, Algorithm::Sha256]);
        Box::new(move |req: &Request| {
            let Some(header) = req.headers.get(&HeaderName::AUTHORIZATION) else {
                let mut r = compose::response(req, 401, Some("uas"));
                for c in auth.challenges(REALM, 10, false) {
                    r.headers.push(HeaderName::WWW_AUTHENTICATE, c);
                }
                return Some(r);
            };
            let stored = |u: &str, a: Algorithm| (u == "alice").then(|| ha1(a, u, REALM, password));
            match auth.verify(header, req.method.as_str(), REALM, 11, stored) {
                Ok(who) => {
                    assert_eq!(who.algorithm, Algorithm::Sha256, "the strongest is used");
                    let mut r = compose::response(req, 200, Some("uas"));
                    r.headers
                        .push(HeaderName::CONTENT_TYPE, "application/cccp+xml");
                    r.body = Bytes::from_static(b"<response/>");
                    Some(r)
                }
                Err(_) => {
                    let mut r = compose::response(req, 403, Some("uas"));
                    r.headers.push(
                        HeaderName::MS_DIAGNOSTICS,
                        "3014;reason=\"authorization failed\"",
                    );
                    Some(r)
                }
            }
        })
    }

    fn credentials(password: &str) -> Option<Credentials> {
        Some(Credentials {
            username: "alice".into(),
            password: Secret::new(password),
        })
    }

    fn service_headers() -> Headers {
        let mut h = Headers::new();
        h.push(HeaderName::FROM, "<sip:alice@contoso.example>");
        h.push(HeaderName::TO, format!("<{FACTORY}>"));
        h.push(HeaderName::CONTENT_TYPE, "application/cccp+xml");
        h.push(HeaderName::SUPPORTED, "ms-sender");
        h
    }

    async fn service(uac: &mut Uac) -> Result<Response, UacError> {
        uac.request(
            Method::Service,
            Uri::parse(FACTORY).unwrap(),
            service_headers(),
            Bytes::from_static(b"<request/>"),
        )
        .await
    }

    fn fast() -> UacConfig {
        UacConfig {
            timers: Timers {
                t1: Duration::from_millis(5),
                t2: Duration::from_millis(20),
                t4: Duration::from_millis(20),
            },
            ..UacConfig::default()
        }
    }

    fn check_retry(seen: &[Request]) {
        assert_eq!(seen.len(), 2, "challenge, then credentials");
        let (first, second) = (&seen[0], &seen[1]);
        assert_eq!(first.call_id().unwrap(), second.call_id().unwrap());
        let tag = |r: &Request| r.field_from().unwrap().tag().unwrap().to_owned();
        assert_eq!(tag(first), tag(second));
        assert_eq!(
            first.cseq().unwrap().number + 1,
            second.cseq().unwrap().number
        );
        assert_eq!(second.cseq().unwrap().method, Method::Service);
        assert!(first.headers.get(&HeaderName::AUTHORIZATION).is_none());
        let auth = second.headers.get(&HeaderName::AUTHORIZATION).unwrap();
        assert!(auth.contains("algorithm=SHA-256") && auth.contains("username=\"alice\""));
        assert!(!auth.contains("secret"), "the password never travels");
        // The Request-URI keeps the GRUU parameters; the caller's headers are kept.
        assert_eq!(second.uri.to_string(), FACTORY);
        assert_eq!(
            second.headers.get(&HeaderName::SUPPORTED),
            Some("ms-sender")
        );
        assert_eq!(second.body.as_ref(), b"<request/>");
    }

    #[tokio::test]
    async fn answers_a_challenge_over_udp() {
        let fake = fake_udp(digest_server("secret")).await;
        let server = ServerAddr::from_str(&fake.addr.to_string()).unwrap();
        assert_eq!(server.transport, Transport::Udp);
        let mut uac = Uac::connect(server, credentials("secret"), UacConfig::default())
            .await
            .unwrap();
        let r = service(&mut uac).await.unwrap();
        assert_eq!((r.code, r.body.as_ref()), (200, &b"<response/>"[..]));
        check_retry(&fake.seen.lock().unwrap());
    }

    #[tokio::test]
    async fn answers_a_challenge_over_tcp() {
        let fake = fake_tcp(digest_server("secret")).await;
        let server: ServerAddr = format!("tcp:{}", fake.addr).parse().unwrap();
        let mut uac = Uac::connect(server, credentials("secret"), UacConfig::default())
            .await
            .unwrap();
        let r = service(&mut uac).await.unwrap();
        assert_eq!(r.code, 200);
        check_retry(&fake.seen.lock().unwrap());
        // A second request on the same connection: a new Call-ID.
        service(&mut uac).await.unwrap();
        let seen = fake.seen.lock().unwrap();
        assert_eq!(seen.len(), 4);
        assert_ne!(seen[0].call_id().unwrap(), seen[2].call_id().unwrap());
    }

    #[tokio::test]
    async fn a_wrong_password_is_a_403_with_its_diagnostics() {
        let fake = fake_udp(digest_server("secret")).await;
        let server = ServerAddr::from_str(&fake.addr.to_string()).unwrap();
        let mut uac = Uac::connect(server, credentials("guess"), UacConfig::default())
            .await
            .unwrap();
        let e = service(&mut uac).await.unwrap_err();
        let UacError::Forbidden {
            status,
            authenticated: true,
        } = &e
        else {
            panic!("{e:?}");
        };
        assert_eq!(status.code, 403);
        let text = e.to_string();
        assert!(text.contains("403 Forbidden"), "{text}");
        assert!(
            text.contains("3014;reason=\"authorization failed\""),
            "{text}"
        );
        assert!(text.contains("wrong user or password"), "{text}");
        assert!(!format!("{e:?}").contains("guess"));
    }

    #[tokio::test]
    async fn a_second_challenge_refuses_the_credentials() {
        let challenge_always: Answer = Box::new(|req: &Request| {
            let mut r = compose::response(req, 401, Some("uas"));
            r.headers.push(
                HeaderName::WWW_AUTHENTICATE,
                "Digest realm=\"r\", nonce=\"n\", algorithm=MD5, qop=\"auth\"",
            );
            Some(r)
        });
        let fake = fake_udp(challenge_always).await;
        let server = ServerAddr::from_str(&fake.addr.to_string()).unwrap();
        let mut uac = Uac::connect(server, credentials("pw"), UacConfig::default())
            .await
            .unwrap();
        let e = service(&mut uac).await.unwrap_err();
        assert!(matches!(e, UacError::CredentialsRefused { .. }), "{e:?}");
        assert_eq!(fake.seen.lock().unwrap().len(), 2);
        // Without credentials the first challenge already fails.
        let mut anonymous = Uac::connect(server, None, UacConfig::default())
            .await
            .unwrap();
        let e = service(&mut anonymous).await.unwrap_err();
        assert!(matches!(e, UacError::CredentialsRequired { .. }), "{e:?}");
    }

    #[tokio::test]
    async fn a_stale_nonce_is_answered_again() {
        let mut round = 0;
        let stale_once: Answer = Box::new(move |req: &Request| {
            round += 1;
            let code = if round <= 2 { 401 } else { 200 };
            let mut r = compose::response(req, code, Some("uas"));
            let stale = if round == 2 { ", stale=true" } else { "" };
            r.headers.push(
                HeaderName::WWW_AUTHENTICATE,
                format!("Digest realm=\"r\", nonce=\"n{round}\", qop=\"auth\"{stale}"),
            );
            Some(r)
        });
        let fake = fake_udp(stale_once).await;
        let server = ServerAddr::from_str(&fake.addr.to_string()).unwrap();
        let mut uac = Uac::connect(server, credentials("pw"), UacConfig::default())
            .await
            .unwrap();
        assert_eq!(service(&mut uac).await.unwrap().code, 200);
        let seen = fake.seen.lock().unwrap();
        let cseqs: Vec<u32> = seen.iter().map(|r| r.cseq().unwrap().number).collect();
        assert_eq!(cseqs, [1, 2, 3]);
    }

    #[tokio::test]
    async fn silence_times_out_after_retransmitting() {
        let fake = fake_udp(Box::new(|_: &Request| None)).await;
        let server = ServerAddr::from_str(&fake.addr.to_string()).unwrap();
        let mut uac = Uac::connect(server, credentials("pw"), fast())
            .await
            .unwrap();
        let e = service(&mut uac).await.unwrap_err();
        assert!(matches!(e, UacError::Timeout { .. }), "{e:?}");
        assert!(e.to_string().starts_with("timed out"), "{e}");
        // Timer E doubled up to T2 within Timer F: several copies, one branch.
        let seen = fake.seen.lock().unwrap();
        assert!(seen.len() >= 5, "{} copies", seen.len());
        let branch = |r: &Request| r.top_via().unwrap().branch().unwrap().to_owned();
        assert!(seen.iter().all(|r| branch(r) == branch(&seen[0])));
    }

    #[tokio::test]
    async fn other_failures_carry_their_status() {
        let refuse: Answer = Box::new(|req: &Request| {
            let mut r = compose::response(req, 415, Some("uas"));
            r.headers
                .push(HeaderName::MS_DIAGNOSTICS_PUBLIC, "3006;reason=\"x\"");
            Some(r)
        });
        let fake = fake_tcp(refuse).await;
        let server: ServerAddr = format!("tcp:{}", fake.addr).parse().unwrap();
        let mut uac = Uac::connect(server, None, UacConfig::default())
            .await
            .unwrap();
        let e = service(&mut uac).await.unwrap_err();
        let UacError::Rejected { status } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(status.code, 415);
        assert_eq!(status.diagnostics, ["3006;reason=\"x\""]);
    }

    #[tokio::test]
    async fn nobody_listening_is_unreachable() {
        // A port that was just free: TCP is refused at once, UDP by ICMP.
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        for spec in [
            format!("tcp:127.0.0.1:{port}"),
            format!("udp:127.0.0.1:{port}"),
        ] {
            let server: ServerAddr = spec.parse().unwrap();
            let result = match Uac::connect(server, None, fast()).await {
                Ok(mut uac) => service(&mut uac).await.map(drop),
                Err(e) => Err(e),
            };
            let e = result.unwrap_err();
            assert!(matches!(e, UacError::Unreachable { .. }), "{spec}: {e:?}");
            assert!(e.to_string().contains("cannot reach"), "{e}");
        }
    }

    #[test]
    fn server_addresses() {
        let a: ServerAddr = "TCP:[::1]:5061".parse().unwrap();
        assert_eq!((a.transport, a.addr.port()), (Transport::Tcp, 5061));
        assert_eq!(a.to_string(), "tcp:[::1]:5061");
        assert_eq!(
            "127.0.0.1:5060".parse::<ServerAddr>().unwrap().to_string(),
            "udp:127.0.0.1:5060"
        );
        assert!("sctp:1.2.3.4:5".parse::<ServerAddr>().is_err());
        assert!("host.example:5060".parse::<ServerAddr>().is_err());
    }

    #[test]
    fn from_tags() {
        assert_eq!(
            with_tag("<sip:alice@contoso.example>", "t1"),
            "<sip:alice@contoso.example>;tag=t1"
        );
        assert_eq!(with_tag("<sip:a@b>;tag=x", "t1"), "<sip:a@b>;tag=x");
    }
}
