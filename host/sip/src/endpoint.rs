//! The sans-IO SIP endpoint: messages in (with where they came from and `now`), transactions
//! matched and run, messages and events out, and the next deadline.
//!
//! It owns every transaction; the transaction user (the application: OPTIONS, INVITE
//! sessions, C3P SERVICE, …) sees [`Event`]s and answers through [`Endpoint::respond`] and
//! [`Endpoint::send_request`]. It answers on its own what the transaction layer must:
//! retransmissions (absorbed, or the last response resent), `100 Trying` for INVITE, `CANCEL`
//! (200, and [`Event::Cancelled`] for the INVITE), `481` for a CANCEL that matches nothing,
//! `482` for a merged request (§8.2.2.2), `483` when `Max-Forwards` is 0, `400` for a
//! request it can route a response to but not read, and `503` with `Retry-After` when it
//! holds more transactions than allowed. Anything it cannot route a response to is dropped
//! and counted.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bytes::Bytes;

use crate::compose;
use crate::error::SipError;
use crate::headers::{SipHeaders, Via};
use crate::message::{self, Framing, HeaderName, Message, Method, ParseError, Request, Response};
use crate::transaction::{Machine, Role, TimerName, Timers, TxNotice, TxState};

/// A transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: unreliable, retransmissions on.
    Udp,
    /// TCP: reliable.
    Tcp,
}

impl Transport {
    /// The Via token.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// Whether the transport is reliable.
    pub fn reliable(self) -> bool {
        self == Transport::Tcp
    }
}

/// Where a message came from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    /// Transport.
    pub transport: Transport,
    /// Our address.
    pub local: SocketAddr,
    /// The peer's address.
    pub remote: SocketAddr,
    /// The connection, for connection-oriented transports (an id of the I/O shell).
    pub conn: Option<u64>,
}

/// A server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerTxId(u64);

/// A client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientTxId(u64);

/// What the endpoint wants done.
#[derive(Debug)]
pub enum Output {
    /// Send bytes.
    Transmit(Transmit),
    /// Tell the transaction user.
    Event(Box<Event>),
}

/// Bytes to send on a flow.
#[derive(Debug, Clone)]
pub struct Transmit {
    /// Where.
    pub flow: Flow,
    /// What.
    pub bytes: Bytes,
}

/// What the transaction user hears.
#[derive(Debug)]
pub enum Event {
    /// A new request (not a retransmission). Answer with [`Endpoint::respond`].
    Request {
        /// Its transaction.
        tx: ServerTxId,
        /// The request (its top Via carries `received`/`rport` as RFC 3581 wants).
        request: Request,
        /// Where it came from.
        flow: Flow,
    },
    /// An ACK for a 2xx (it has no transaction of its own).
    Ack {
        /// The INVITE transaction it acknowledges, if it matched one.
        tx: Option<ServerTxId>,
        /// The ACK.
        request: Request,
        /// Where it came from.
        flow: Flow,
    },
    /// A CANCEL matched an INVITE still in progress; the CANCEL was answered 200. Answer the
    /// INVITE with 487.
    Cancelled {
        /// The INVITE's transaction.
        tx: ServerTxId,
    },
    /// A response to one of our requests.
    Response {
        /// The transaction.
        tx: ClientTxId,
        /// The response.
        response: Response,
    },
    /// One of our requests got no final response in time (Timer B or F): treat as 408.
    Timeout {
        /// The transaction.
        tx: ClientTxId,
    },
    /// An INVITE we answered never got its ACK (Timer H, or the 2xx retransmissions ran
    /// out): the session should end.
    NoAck {
        /// The transaction.
        tx: ServerTxId,
    },
}

/// Endpoint configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// T1, T2, T4.
    pub timers: Timers,
    /// Server transactions waiting for their final response (the work in progress) at most;
    /// beyond that new requests get 503. Answered transactions that only absorb
    /// retransmissions (Timer J keeps a UDP non-INVITE 32 s) do not count here.
    pub max_server_transactions: usize,
    /// Transactions of any kind and state held at most, a memory bound: beyond it new requests
    /// get 503 too.
    pub max_transactions: usize,
    /// `Retry-After` seconds on a 503.
    pub retry_after_secs: u32,
    /// The `Server` / `User-Agent` value.
    pub user_agent: String,
    /// A random value of the process, mixed into branches and tags.
    pub instance: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            timers: Timers::default(),
            max_server_transactions: 20_000,
            max_transactions: 400_000,
            retry_after_secs: 5,
            user_agent: format!("Plenum/{}", env!("CARGO_PKG_VERSION")),
            instance: 0x5eed,
        }
    }
}

/// Counters of what the endpoint did with what it got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages read.
    pub received: u64,
    /// Messages that could not be read at all (dropped).
    pub unreadable: u64,
    /// Requests answered 400.
    pub bad_requests: u64,
    /// Requests shed with 503.
    pub shed: u64,
    /// Request retransmissions absorbed.
    pub retransmissions_in: u64,
    /// Messages we retransmitted on a timer.
    pub retransmissions_out: u64,
    /// Responses that matched no transaction.
    pub stray_responses: u64,
    /// Loops and merged requests refused (482).
    pub loops: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ServerKey {
    branch: String,
    sent_by: String,
    method: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    branch: String,
    method: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct MergeKey {
    call_id: String,
    from_tag: String,
    cseq: u32,
    method: String,
}

struct ServerTx {
    machine: Machine,
    key: ServerKey,
    merge: Option<MergeKey>,
    reply: Flow,
    /// (Call-ID, CSeq number) of an INVITE, to match the ACK of its 2xx.
    dialog_ack: Option<(String, u32)>,
    /// The request, kept for INVITEs (a CANCEL's 487 and late responses need it).
    request: Option<Request>,
    /// A final response was sent.
    answered: bool,
}

struct ClientTx {
    machine: Machine,
    key: ClientKey,
    request: Request,
    flow: Flow,
}

enum Tx {
    Server(ServerTx),
    Client(ClientTx),
}

impl Tx {
    fn machine(&mut self) -> &mut Machine {
        match self {
            Tx::Server(s) => &mut s.machine,
            Tx::Client(c) => &mut c.machine,
        }
    }
}

/// The endpoint.
pub struct Endpoint {
    config: Config,
    txs: HashMap<u64, Tx>,
    server_keys: HashMap<ServerKey, u64>,
    /// Server transactions without a final response yet.
    unanswered: usize,
    client_keys: HashMap<ClientKey, u64>,
    merge_keys: HashMap<MergeKey, u64>,
    acks: HashMap<(String, u32), u64>,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    out: VecDeque<Output>,
    next_id: u64,
    stats: Stats,
    trace: Option<Vec<(Instant, TimerName)>>,
}

impl Endpoint {
    /// An endpoint.
    pub fn new(config: Config) -> Endpoint {
        Endpoint {
            config,
            txs: HashMap::new(),
            server_keys: HashMap::new(),
            unanswered: 0,
            client_keys: HashMap::new(),
            merge_keys: HashMap::new(),
            acks: HashMap::new(),
            timers: BinaryHeap::new(),
            out: VecDeque::new(),
            next_id: 1,
            stats: Stats::default(),
            trace: None,
        }
    }

    /// Record every timer that fires, with its time (for tests).
    pub fn trace_timers(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// The timers fired since [`Endpoint::trace_timers`].
    pub fn timer_trace(&self) -> &[(Instant, TimerName)] {
        self.trace.as_deref().unwrap_or_default()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Transactions alive.
    pub fn transactions(&self) -> usize {
        self.txs.len()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A fresh tag (for To/From).
    pub fn new_tag(&mut self) -> String {
        format!("{:x}", self.mix())
    }

    /// A fresh Call-ID.
    pub fn new_call_id(&mut self, host: &str) -> String {
        format!("{:x}{:x}@{host}", self.mix(), self.mix())
    }

    /// A fresh branch (with the RFC 3261 magic cookie).
    pub fn new_branch(&mut self) -> String {
        format!("z9hG4bK{:x}", self.mix())
    }

    fn mix(&mut self) -> u64 {
        self.next_id += 1;
        // splitmix64 of (instance, counter): unique per process, unpredictable enough for tags.
        let mut z = self
            .config
            .instance
            .wrapping_add(self.next_id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn alloc_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When the endpoint next wants [`Endpoint::handle_timeout`].
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            let current = self.txs.get_mut(&id).and_then(|t| t.machine().deadline());
            if current == Some(at) {
                return Some(at);
            }
            self.timers.pop();
        }
        None
    }

    /// Read one message that arrived on `flow` (a datagram, or one framed stream message).
    pub fn handle_bytes(&mut self, flow: Flow, bytes: &[u8], now: Instant) {
        self.stats.received += 1;
        let framing = if flow.transport.reliable() {
            Framing::Stream
        } else {
            Framing::Datagram
        };
        match message::parse(bytes, framing) {
            Ok(Message::Request(r)) => self.handle_request(flow, r, now),
            Ok(Message::Response(r)) => self.handle_response(r, now),
            Err(e) => {
                tracing::debug!(remote = %flow.remote, error = %e, "unreadable SIP message dropped");
                self.stats.unreadable += 1;
            }
        }
    }

    /// Handle a request that arrived on `flow`.
    pub fn handle_request(&mut self, flow: Flow, mut request: Request, now: Instant) {
        let Ok(mut via) = request.top_via() else {
            // No Via: no way to route a response.
            self.stats.unreadable += 1;
            return;
        };
        stamp_received(&mut via, flow.remote);
        replace_top_via(&mut request, &via);
        let reply = reply_flow(&via, flow);
        if let Err(e) = check_mandatory(&request) {
            self.stats.bad_requests += 1;
            self.stateless(&request, reply, &SipError::Malformed(e));
            return;
        }
        let Some(key) = server_key(&request, &via) else {
            return;
        };
        if request.method == Method::Ack {
            self.handle_ack(request, key, flow, now);
            return;
        }
        if request.method == Method::Cancel {
            self.handle_cancel(request, key, reply, now);
            return;
        }
        if let Some(&id) = self.server_keys.get(&key) {
            self.stats.retransmissions_in += 1;
            if let Some(Tx::Server(s)) = self.txs.get_mut(&id) {
                let fx = s.machine.server_retransmission();
                let reply = s.reply;
                self.apply(id, reply, fx, now);
            }
            return;
        }
        self.new_server_tx(request, key, reply, flow, now);
    }

    fn new_server_tx(
        &mut self,
        request: Request,
        key: ServerKey,
        reply: Flow,
        flow: Flow,
        now: Instant,
    ) {
        if request.max_forwards().ok().flatten() == Some(0) && request.method != Method::Options {
            self.stateless(&request, reply, &SipError::TooManyHops);
            return;
        }
        let merge = merge_key(&request);
        if let Some(m) = &merge
            && self.merge_keys.contains_key(m)
        {
            self.stats.loops += 1;
            self.stateless(&request, reply, &SipError::Loop);
            return;
        }
        if self.unanswered >= self.config.max_server_transactions
            || self.txs.len() >= self.config.max_transactions
        {
            self.stats.shed += 1;
            let mut r = compose::response(&request, 503, Some(&self.new_tag()));
            r.headers.push(
                HeaderName::RETRY_AFTER,
                self.config.retry_after_secs.to_string(),
            );
            self.transmit(reply, r.to_bytes().into());
            return;
        }
        let invite = request.method == Method::Invite;
        let id = self.alloc_id();
        let dialog_ack = if invite {
            request
                .call_id()
                .ok()
                .zip(request.cseq().ok())
                .map(|(c, s)| (c.to_owned(), s.number))
        } else {
            None
        };
        let tx = ServerTx {
            machine: Machine::server(invite, flow.transport.reliable(), self.config.timers),
            key: key.clone(),
            merge: merge.clone(),
            reply,
            dialog_ack,
            request: invite.then(|| request.clone()),
            answered: false,
        };
        self.unanswered += 1;
        self.server_keys.insert(key, id);
        if let Some(m) = merge {
            self.merge_keys.insert(m, id);
        }
        self.txs.insert(id, Tx::Server(tx));
        if invite {
            // Answer at once so the peer stops retransmitting (§17.2.1).
            let trying = compose::response(&request, 100, None);
            self.respond_inner(id, trying, now);
        }
        self.event(Event::Request {
            tx: ServerTxId(id),
            request,
            flow,
        });
    }

    fn handle_ack(&mut self, ack: Request, key: ServerKey, flow: Flow, now: Instant) {
        let by_branch = self
            .server_keys
            .get(&ServerKey {
                method: "INVITE".into(),
                ..key
            })
            .copied();
        let by_dialog = || {
            let k = (ack.call_id().ok()?.to_owned(), ack.cseq().ok()?.number);
            self.acks.get(&k).copied()
        };
        let id = by_branch.or_else(by_dialog);
        let mut for_tu = id.is_none();
        if let Some(id) = id
            && let Some(Tx::Server(s)) = self.txs.get_mut(&id)
        {
            let (fx, first_2xx_ack) = s.machine.server_ack(now);
            for_tu = first_2xx_ack;
            let reply = s.reply;
            self.apply(id, reply, fx, now);
        }
        if for_tu {
            self.event(Event::Ack {
                tx: id.map(ServerTxId),
                request: ack,
                flow,
            });
        }
    }

    fn handle_cancel(&mut self, cancel: Request, key: ServerKey, reply: Flow, now: Instant) {
        let invite = self
            .server_keys
            .get(&ServerKey {
                method: "INVITE".into(),
                ..key.clone()
            })
            .copied();
        let Some(invite_id) = invite else {
            self.stateless(&cancel, reply, &SipError::NoSuchCall);
            return;
        };
        // The CANCEL is a transaction of its own (retransmissions of it get the same 200).
        if let Some(&id) = self.server_keys.get(&key) {
            if let Some(Tx::Server(s)) = self.txs.get_mut(&id) {
                let fx = s.machine.server_retransmission();
                self.apply(id, reply, fx, now);
            }
            return;
        }
        let id = self.alloc_id();
        let tx = ServerTx {
            machine: Machine::server(false, reply.transport.reliable(), self.config.timers),
            key: key.clone(),
            merge: None,
            reply,
            dialog_ack: None,
            request: None,
            answered: false,
        };
        self.unanswered += 1;
        self.server_keys.insert(key, id);
        self.txs.insert(id, Tx::Server(tx));
        let ok = compose::response(&cancel, 200, Some(&self.new_tag()));
        self.respond_inner(id, ok, now);
        let pending = matches!(self.txs.get(&invite_id), Some(Tx::Server(s)) if s.machine.state == TxState::Proceeding);
        if pending {
            self.event(Event::Cancelled {
                tx: ServerTxId(invite_id),
            });
        }
    }

    /// Answer a request. Responses after the final one are ignored.
    pub fn respond(&mut self, tx: ServerTxId, mut response: Response, now: Instant) {
        if !response
            .headers
            .iter()
            .any(|(n, _)| *n == HeaderName::SERVER)
        {
            response
                .headers
                .push(HeaderName::SERVER, self.config.user_agent.clone());
        }
        self.respond_inner(tx.0, response, now);
    }

    fn respond_inner(&mut self, id: u64, response: Response, now: Instant) {
        let Some(Tx::Server(s)) = self.txs.get_mut(&id) else {
            return;
        };
        let code = response.code;
        if code >= 200 && !s.answered {
            s.answered = true;
            self.unanswered = self.unanswered.saturating_sub(1);
        }
        let fx = s
            .machine
            .server_respond(code, response.to_bytes().into(), now);
        if (200..300).contains(&code)
            && s.machine.role == Role::ServerInvite
            && let Some(k) = s.dialog_ack.clone()
        {
            self.acks.insert(k, id);
        }
        let reply = s.reply;
        self.apply(id, reply, fx, now);
    }

    /// The INVITE request of a server transaction (for a 487 after a CANCEL, say).
    pub fn invite_request(&self, tx: ServerTxId) -> Option<&Request> {
        match self.txs.get(&tx.0) {
            Some(Tx::Server(s)) => s.request.as_ref(),
            _ => None,
        }
    }

    /// Send a request in a new client transaction. The endpoint puts its own top Via (with a
    /// fresh branch) on it. An ACK is sent without a transaction.
    pub fn send_request(&mut self, mut request: Request, flow: Flow, now: Instant) -> ClientTxId {
        let branch = self.new_branch();
        let via = Via {
            transport: flow.transport.as_str().into(),
            host: flow.local.ip().to_string(),
            port: Some(flow.local.port()),
            params: vec![
                ("branch".into(), Some(branch.clone())),
                ("rport".into(), None),
            ],
        };
        request.headers.push_front(HeaderName::VIA, via.to_string());
        if !request
            .headers
            .iter()
            .any(|(n, _)| *n == HeaderName::USER_AGENT)
        {
            request
                .headers
                .push(HeaderName::USER_AGENT, self.config.user_agent.clone());
        }
        let bytes: Bytes = request.to_bytes().into();
        let id = self.alloc_id();
        if request.method == Method::Ack {
            self.transmit(flow, bytes);
            return ClientTxId(id);
        }
        let key = ClientKey {
            branch,
            method: request.method.to_string(),
        };
        let invite = request.method == Method::Invite;
        let machine = Machine::client(
            invite,
            flow.transport.reliable(),
            self.config.timers,
            bytes.clone(),
            now,
        );
        self.transmit(flow, bytes);
        self.client_keys.insert(key.clone(), id);
        self.txs.insert(
            id,
            Tx::Client(ClientTx {
                machine,
                key,
                request,
                flow,
            }),
        );
        self.schedule(id);
        ClientTxId(id)
    }

    /// Cancel an INVITE we sent (§9.1): a CANCEL with the INVITE's branch, in a transaction of
    /// its own. Only useful before the INVITE's final response.
    pub fn cancel(&mut self, tx: ClientTxId, now: Instant) -> Option<ClientTxId> {
        let Some(Tx::Client(c)) = self.txs.get(&tx.0) else {
            return None;
        };
        if c.machine.role != Role::ClientInvite
            || c.machine.state != TxState::Proceeding && c.machine.state != TxState::Calling
        {
            return None;
        }
        let invite = &c.request;
        let mut headers = crate::message::Headers::new();
        for name in [
            HeaderName::VIA,
            HeaderName::FROM,
            HeaderName::TO,
            HeaderName::CALL_ID,
        ] {
            if let Some(v) = invite.headers.values(&name).next() {
                headers.push(name, v);
            }
        }
        let cseq = invite.cseq().ok()?;
        headers.push(HeaderName::CSEQ, format!("{} CANCEL", cseq.number));
        for route in invite.headers.values(&HeaderName::ROUTE) {
            headers.push(HeaderName::ROUTE, route);
        }
        headers.push(HeaderName::MAX_FORWARDS, "70");
        let cancel = Request {
            method: Method::Cancel,
            uri: invite.uri.clone(),
            headers,
            body: Bytes::new(),
        };
        let branch = c.key.branch.clone();
        let flow = c.flow;
        let bytes: Bytes = cancel.to_bytes().into();
        let machine = Machine::client(
            false,
            flow.transport.reliable(),
            self.config.timers,
            bytes.clone(),
            now,
        );
        let id = self.alloc_id();
        let key = ClientKey {
            branch,
            method: "CANCEL".into(),
        };
        self.transmit(flow, bytes);
        self.client_keys.insert(key.clone(), id);
        self.txs.insert(
            id,
            Tx::Client(ClientTx {
                machine,
                key,
                request: cancel,
                flow,
            }),
        );
        self.schedule(id);
        Some(ClientTxId(id))
    }

    /// Handle a response that arrived.
    pub fn handle_response(&mut self, response: Response, now: Instant) {
        let key = response
            .top_via()
            .ok()
            .and_then(|v| v.branch().map(str::to_owned))
            .zip(response.cseq().ok())
            .map(|(branch, cseq)| ClientKey {
                branch,
                method: cseq.method.to_string(),
            });
        let Some(id) = key.and_then(|k| self.client_keys.get(&k).copied()) else {
            self.stats.stray_responses += 1;
            return;
        };
        let Some(Tx::Client(c)) = self.txs.get_mut(&id) else {
            return;
        };
        let code = response.code;
        let ack = (c.machine.role == Role::ClientInvite && code >= 300)
            .then(|| Bytes::from(compose::ack_for_failure(&c.request, &response).to_bytes()));
        let fx = c.machine.client_response(code, ack, now);
        let flow = c.flow;
        if fx.notify == Some(TxNotice::Response) {
            self.event(Event::Response {
                tx: ClientTxId(id),
                response,
            });
        }
        self.apply(
            id,
            flow,
            crate::transaction::Effects { notify: None, ..fx },
            now,
        );
    }

    /// Time passed: fire the timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(tx) = self.txs.get_mut(&id) else {
                continue;
            };
            if tx.machine().deadline() != Some(at) {
                continue;
            }
            let (fx, fired) = tx.machine().on_timer(now);
            let flow = match tx {
                Tx::Server(s) => s.reply,
                Tx::Client(c) => c.flow,
            };
            if let Some(trace) = &mut self.trace {
                trace.extend(fired.iter().map(|t| (now, *t)));
            }
            self.stats.retransmissions_out += fx.send.len() as u64;
            let notice = match (tx, &fx.notify) {
                (Tx::Client(_), Some(TxNotice::Timeout)) => {
                    Some(Event::Timeout { tx: ClientTxId(id) })
                }
                (Tx::Server(_), Some(TxNotice::NoAck)) => Some(Event::NoAck { tx: ServerTxId(id) }),
                _ => None,
            };
            self.apply(id, flow, fx, now);
            if let Some(e) = notice {
                self.event(e);
            }
        }
    }

    fn apply(&mut self, id: u64, flow: Flow, fx: crate::transaction::Effects, _now: Instant) {
        for bytes in fx.send {
            self.transmit(flow, bytes);
        }
        if fx.terminated {
            self.remove(id);
        } else {
            self.schedule(id);
        }
    }

    fn schedule(&mut self, id: u64) {
        if let Some(at) = self.txs.get_mut(&id).and_then(|t| t.machine().deadline()) {
            self.timers.push(Reverse((at, id)));
        }
    }

    fn remove(&mut self, id: u64) {
        match self.txs.remove(&id) {
            Some(Tx::Server(s)) => {
                if !s.answered {
                    self.unanswered = self.unanswered.saturating_sub(1);
                }
                self.server_keys.remove(&s.key);
                if let Some(m) = s.merge {
                    self.merge_keys.remove(&m);
                }
                if let Some(k) = s.dialog_ack
                    && self.acks.get(&k) == Some(&id)
                {
                    self.acks.remove(&k);
                }
            }
            Some(Tx::Client(c)) => {
                self.client_keys.remove(&c.key);
            }
            None => {}
        }
    }

    fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(Box::new(e)));
    }

    fn transmit(&mut self, flow: Flow, bytes: Bytes) {
        self.out
            .push_back(Output::Transmit(Transmit { flow, bytes }));
    }

    /// A response sent without a transaction (the request is refused before one exists).
    fn stateless(&mut self, request: &Request, reply: Flow, error: &SipError) {
        let tag = self.new_tag();
        let mut r = error.response(request, Some(&tag));
        r.headers
            .push(HeaderName::SERVER, self.config.user_agent.clone());
        self.transmit(reply, r.to_bytes().into());
    }
}

/// RFC 3261 §18.2.1 and RFC 3581: note where a request really came from.
fn stamp_received(via: &mut Via, remote: SocketAddr) {
    let source = remote.ip().to_string();
    let host_is_source = via.host.parse::<IpAddr>().is_ok_and(|ip| ip == remote.ip());
    if via.param("rport").is_some() {
        via.set_param("rport", Some(remote.port().to_string()));
        via.set_param("received", Some(source));
    } else if !host_is_source {
        via.set_param("received", Some(source));
    }
}

fn replace_top_via(request: &mut Request, via: &Via) {
    request
        .headers
        .replace_first_value(&HeaderName::VIA, &via.to_string());
}

/// Where responses to a request go: its source for UDP (port from `rport`, or the Via's
/// sent-by port), the same connection for TCP (§18.2.2).
fn reply_flow(via: &Via, flow: Flow) -> Flow {
    if flow.transport.reliable() {
        return flow;
    }
    let port = match via.param("rport") {
        Some(Some(p)) => p.parse().unwrap_or(flow.remote.port()),
        _ => via.port.unwrap_or(5060),
    };
    Flow {
        remote: SocketAddr::new(flow.remote.ip(), port),
        ..flow
    }
}

fn check_mandatory(r: &Request) -> Result<(), ParseError> {
    r.call_id()?;
    let cseq = r.cseq()?;
    if cseq.method != r.method {
        return Err(ParseError::Header("CSeq"));
    }
    r.field_from()?;
    r.field_to()?;
    r.max_forwards()?;
    Ok(())
}

fn server_key(r: &Request, via: &Via) -> Option<ServerKey> {
    let method = match r.method {
        Method::Ack => "ACK".to_owned(),
        ref m => m.to_string(),
    };
    let branch = match via.branch() {
        Some(b) if b.starts_with("z9hG4bK") => b.to_owned(),
        // RFC 2543 peers: no magic cookie; key on the request's own identity.
        _ => format!(
            "2543:{}:{}:{}",
            r.call_id().ok()?,
            r.cseq().ok()?.number,
            r.field_from().ok()?.tag().unwrap_or_default()
        ),
    };
    Some(ServerKey {
        branch,
        sent_by: via.sent_by(),
        method,
    })
}

fn merge_key(r: &Request) -> Option<MergeKey> {
    let to = r.field_to().ok()?;
    if to.tag().is_some() {
        return None;
    }
    Some(MergeKey {
        call_id: r.call_id().ok()?.to_owned(),
        from_tag: r.field_from().ok()?.tag()?.to_owned(),
        cseq: r.cseq().ok()?.number,
        method: r.method.to_string(),
    })
}
