//! A deterministic world for the sans-IO endpoint: two (or more) endpoints on an in-memory
//! network with latency, seeded loss and a virtual clock. Nothing sleeps; a 32-second timer
//! runs in microseconds.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use plenum_sip::endpoint::{Config, Endpoint, Event, Flow, Output, Transport};
use plenum_sip::transaction::Timers;

/// A tiny deterministic RNG (xorshift).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
}

/// One side.
pub struct Node {
    pub ep: Endpoint,
    pub addr: SocketAddr,
    /// Everything the endpoint told its transaction user, with the time.
    pub events: Vec<(Duration, Event)>,
    /// Events a scripted transaction user has already handled.
    pub seen: Vec<(Duration, Event)>,
    /// Messages this node sent, as (time, first line).
    pub sent: Vec<(Duration, String)>,
}

impl Node {
    /// Every event so far, handled or not.
    pub fn all_events(&self) -> impl Iterator<Item = &(Duration, Event)> {
        self.seen.iter().chain(self.events.iter())
    }
}

struct InFlight {
    at: Instant,
    to: usize,
    flow: Flow,
    bytes: Bytes,
}

/// The world.
pub struct World {
    pub start: Instant,
    pub now: Instant,
    pub nodes: Vec<Node>,
    pub transport: Transport,
    pub latency: Duration,
    /// Loss probability per message.
    pub loss: f64,
    /// Drop every message whose first line starts with one of these, from node `.0`.
    pub blackhole: Vec<(usize, String)>,
    rng: Rng,
    flight: Vec<InFlight>,
}

impl World {
    /// Two nodes, `a` at 127.0.0.1:5060 and `b` at 127.0.0.2:5060.
    pub fn new(transport: Transport, seed: u64) -> World {
        let start = Instant::now();
        let node = |ip: [u8; 4], instance| Node {
            ep: {
                let mut e = Endpoint::new(Config {
                    timers: Timers::default(),
                    instance,
                    ..Config::default()
                });
                e.trace_timers();
                e
            },
            addr: SocketAddr::from((ip, 5060)),
            events: Vec::new(),
            seen: Vec::new(),
            sent: Vec::new(),
        };
        World {
            start,
            now: start,
            nodes: vec![node([127, 0, 0, 1], 1), node([127, 0, 0, 2], 2)],
            transport,
            latency: Duration::from_millis(20),
            loss: 0.0,
            blackhole: Vec::new(),
            rng: Rng::new(seed),
            flight: Vec::new(),
        }
    }

    /// The flow from node `from` to node `to`.
    pub fn flow(&self, from: usize, to: usize) -> Flow {
        Flow {
            transport: self.transport,
            local: self.nodes[from].addr,
            remote: self.nodes[to].addr,
            conn: None,
        }
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Move every output of every node onto the network or into its event list.
    pub fn pump(&mut self) {
        for i in 0..self.nodes.len() {
            while let Some(out) = self.nodes[i].ep.poll_output() {
                match out {
                    Output::Transmit(t) => self.send(i, t.flow, t.bytes),
                    Output::Event(e) => {
                        let at = self.now - self.start;
                        self.nodes[i].events.push((at, *e));
                    }
                }
            }
        }
    }

    fn send(&mut self, from: usize, flow: Flow, bytes: Bytes) {
        let first = String::from_utf8_lossy(&bytes)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        let at = self.now - self.start;
        self.nodes[from].sent.push((at, first.clone()));
        let Some(to) = self.nodes.iter().position(|n| n.addr == flow.remote) else {
            return;
        };
        if self
            .blackhole
            .iter()
            .any(|(n, prefix)| *n == from && first.starts_with(prefix.as_str()))
        {
            return;
        }
        // Loss applies to datagrams only: a stream delivers or fails the connection.
        if self.transport == Transport::Udp && self.rng.chance(self.loss) {
            return;
        }
        let rflow = Flow {
            transport: flow.transport,
            local: flow.remote,
            remote: flow.local,
            conn: flow.conn,
        };
        self.flight.push(InFlight {
            at: self.now + self.latency,
            to,
            flow: rflow,
            bytes,
        });
    }

    /// Run until `until` (virtual), or until nothing is pending. Calls `tu` after every step
    /// so scripted transaction users can react to new events.
    pub fn run(&mut self, until: Duration, mut tu: impl FnMut(&mut World)) {
        let end = self.start + until;
        loop {
            self.pump();
            tu(self);
            self.pump();
            let next_packet = self.flight.iter().map(|f| f.at).min();
            let next_timer = (0..self.nodes.len())
                .filter_map(|i| self.nodes[i].ep.poll_timeout())
                .min();
            let next = match (next_packet, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => return,
                },
            };
            if next > end {
                self.now = end;
                return;
            }
            self.now = self.now.max(next);
            let now = self.now;
            let due: Vec<InFlight> = {
                let (due, rest): (Vec<_>, Vec<_>) =
                    self.flight.drain(..).partition(|f| f.at <= now);
                self.flight = rest;
                due
            };
            for f in due {
                self.nodes[f.to].ep.handle_bytes(f.flow, &f.bytes, now);
            }
            for n in &mut self.nodes {
                n.ep.handle_timeout(now);
            }
        }
    }

    /// Take the events of node `i`.
    pub fn take_events(&mut self, i: usize) -> Vec<(Duration, Event)> {
        std::mem::take(&mut self.nodes[i].events)
    }
}
