//! The event loop and the run's phases: one thread, one `mio` poll over the SIP socket and the
//! shared media sockets, a 1 ms media clock, and the calls.
//!
//! Sockets: one SIP socket, and media socket pairs (RTP on an even port, RTCP on the next) each
//! shared by up to `calls_per_socket` calls; what arrives is routed to its call by the socket
//! pair and the source port. A server with a port pair per call sends each leg's RTP from a
//! port of its own, so calls can share a pair; a server with one shared port
//! (`media.shared-port`) sends every leg's from the same port and tells our calls apart by
//! our address, so every call needs a pair of its own (`calls_per_socket` 1): a call whose
//! pair and answered port are another live call's fails and says so. The media sockets are read
//! every few milliseconds rather than on readiness (see [`READ_EVERY`]). The calls of one pair send in
//! the same millisecond of the 20 ms period (one `sendmmsg`), and the pairs are spread over the
//! 20 slots, so the load reaches the server as evenly as independent gateways would send it.
//! Arrival times are the kernel's receive timestamps, not when the loop got round to reading.
//!
//! Phases, per step of a staircase (one step unless asked for more): the step's leaders enter
//! at `rate` per second; once they are in (or failed), its guests enter at `rate`; once
//! everybody is in or failed, a short settle, then the measurement window (`hold`): the
//! server's counters and CPU are read at both ends and every call's reception is counted. The
//! next step adds its calls to those already in. After the last, everybody hangs up with BYE.
//!
//! Does not own: what a call does (`call.rs`), the numbers' summary (`report.rs`).

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use plenum_media::{Transmit, TransmitKind};
use plenum_sip::endpoint::{ClientTxId, Endpoint, Event, Flow, Output, Transport};
use plenum_sip::headers::SipHeaders;

use crate::call::{Call, Ctx, LocalAddr, Note, Role, State};
use crate::metrics::Snapshot;
use crate::report::{self, Client};
use plenum_udp::{self as net, RecvBatch, SendBatch};

/// Slots of the media clock per 20 ms period.
const SLOTS: usize = 20;
/// The media clock's step.
const SLOT: Duration = Duration::from_millis(1);
/// Receive buffer asked for every media socket.
const MEDIA_RCVBUF: usize = 1 << 20;
/// How long hanging up may take before the run ends anyway.
const HANGUP_GRACE: Duration = Duration::from_secs(8);
/// Progress lines on stderr this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

const SIP_TOKEN: Token = Token(0);
/// The media sockets are read this often, not on readiness: then the server's sends never wake
/// this process (on loopback a wake-up is charged to the sender, which a remote gateway never
/// costs the server), and arrival times come from the kernel's timestamps anyway.
const READ_EVERY: Duration = Duration::from_millis(4);
/// The RTCP sockets (a report every few seconds per call) are read this often.
const READ_RTCP_EVERY: Duration = Duration::from_millis(200);
/// With a pair per call (one packet per 20 ms each), a round reads one in this many of the
/// RTP sockets, in turn, so each is read every 20 ms: reading every one every round would be
/// a system call per call per 4 ms, mostly for nothing. Arrival times are the kernel's, so
/// lateness is measured all the same; only the pilot is detected up to 16 ms later.
const PER_CALL_READ_STRIDE: usize = 5;

/// Where and how the engine runs.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The server's SIP address (UDP).
    pub server: SocketAddr,
    /// Our address (the gateway's).
    pub local_ip: IpAddr,
    /// Calls per media socket pair.
    pub calls_per_socket: usize,
    /// The first media port tried.
    pub media_port_base: u16,
    /// Entries started per second.
    pub rate: f64,
    /// The measurement window.
    pub hold: Duration,
    /// Pause between everybody in and the window.
    pub settle: Duration,
    /// The server's `/metrics`.
    pub metrics_url: Option<String>,
    /// The server's pid, for its CPU.
    pub server_pid: Option<u32>,
    /// Progress lines on stderr.
    pub progress: bool,
    /// Stop climbing after a step with this share of late ticks (%) or a failed entry.
    pub stop_late_pct: Option<f64>,
}

/// What the loop itself went through (a loaded load generator measures itself, too).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct LoopStats {
    /// Media slots run more than 2 ms after their time.
    pub slots_late: u64,
    /// Media slots run.
    pub slots: u64,
    /// The largest delay of a slot, µs.
    pub max_slot_lag_us: u64,
    /// Media datagrams sent.
    pub sent: u64,
    /// Media datagrams the kernel refused.
    pub send_dropped: u64,
    /// Media datagrams received.
    pub received: u64,
    /// Received datagrams from no known call.
    pub stray: u64,
}

/// One measurement window: how many calls the run had then, the snapshots at its ends, and
/// what the callers heard in it.
pub struct Measured {
    /// Calls started so far.
    pub calls: usize,
    /// Snapshots at the window's start and end.
    pub snapshots: (Snapshot, Snapshot),
    /// What the callers heard.
    pub client: Client,
    /// The calls that entered in this step (indices).
    pub entered: std::ops::Range<usize>,
}

/// What a run leaves for the report.
pub struct Outcome {
    /// Every call, as it ended.
    pub calls: Vec<Call>,
    /// One window per step.
    pub steps: Vec<Measured>,
    /// The loop's own counters.
    pub stats: LoopStats,
}

struct Pair {
    rtp: UdpSocket,
    rtcp: UdpSocket,
    port: u16,
    out_rtp: SendBatch,
    out_rtcp: SendBatch,
}

/// The loop.
pub struct Engine {
    setup: Setup,
    poll: Poll,
    events: Events,
    sip: UdpSocket,
    flow: Flow,
    endpoint: Endpoint,
    pairs: Vec<Pair>,
    calls: Vec<Call>,
    by_tx: HashMap<ClientTxId, usize>,
    by_call_id: HashMap<String, usize>,
    /// A call by its socket pair and the server's media port (RTP and RTCP).
    by_source: HashMap<(usize, u16), usize>,
    slots: Vec<Vec<usize>>,
    /// The media clock: the next slot's number and when it is due.
    next_slot: u64,
    clock: Instant,
    /// Wall clock at `clock`, to turn kernel timestamps into instants.
    wall: Duration,
    batch: RecvBatch,
    sip_buf: Vec<u8>,
    transmits: Vec<(usize, Transmit)>,
    /// When the media sockets are read next (RTP; RTCP less often).
    next_read: Instant,
    next_rtcp_read: Instant,
    /// Rounds of RTP reads so far, and how many rounds it takes to read every pair.
    read_round: usize,
    read_stride: usize,
    /// Calls to start, in order, and when the ramp began.
    ramp: Vec<usize>,
    ramp_started: Option<Instant>,
    ramp_next: usize,
    stats: LoopStats,
    last_progress: Instant,
}

impl Engine {
    /// Sockets for `calls` and the loop over them.
    pub fn new(setup: Setup, calls: Vec<Call>) -> Result<Engine> {
        let poll = Poll::new().context("creating the poll")?;
        let sip = UdpSocket::bind(SocketAddr::new(setup.local_ip, 0)).with_context(|| {
            format!(
                "binding SIP to {} (is it a local address? 127.0.0.0/8 is)",
                setup.local_ip
            )
        })?;
        let _ = net::set_receive_buffer(sip.as_raw_fd(), MEDIA_RCVBUF);
        let mut sip = sip;
        poll.registry()
            .register(&mut sip, SIP_TOKEN, Interest::READABLE)?;
        let flow = Flow {
            transport: Transport::Udp,
            local: sip.local_addr()?,
            remote: setup.server,
            conn: None,
        };
        let per = setup.calls_per_socket.max(1);
        let pairs = bind_pairs(
            setup.local_ip,
            setup.media_port_base,
            calls.len().div_ceil(per),
        )?;
        let mut slots = vec![Vec::new(); SLOTS];
        for i in 0..calls.len() {
            if let Some(s) = slots.get_mut((i / per) % SLOTS) {
                s.push(i);
            }
        }
        let clock = Instant::now();
        let endpoint = Endpoint::new(plenum_sip::endpoint::Config {
            user_agent: "plenum-loadgen".to_owned(),
            instance: rand::random(),
            ..plenum_sip::endpoint::Config::default()
        });
        Ok(Engine {
            poll,
            events: Events::with_capacity(1024),
            sip,
            flow,
            endpoint,
            pairs,
            calls,
            by_tx: HashMap::new(),
            by_call_id: HashMap::new(),
            by_source: HashMap::new(),
            slots,
            next_slot: 0,
            clock,
            wall: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
            batch: RecvBatch::default(),
            sip_buf: vec![0; 65_536],
            transmits: Vec::new(),
            next_read: clock,
            next_rtcp_read: clock,
            read_round: 0,
            read_stride: if per == 1 { PER_CALL_READ_STRIDE } else { 1 },
            ramp: Vec::new(),
            ramp_started: None,
            ramp_next: 0,
            stats: LoopStats::default(),
            last_progress: clock,
            setup,
        })
    }

    /// Run every step (`steps`: the calls' end index of each step, rising); then hang up.
    pub fn run(mut self, steps: &[usize]) -> Result<Outcome> {
        let mut measured = Vec::with_capacity(steps.len());
        let mut from = 0;
        for &to in steps {
            let to = to.min(self.calls.len());
            self.step(from..to)?;
            let before = self.snapshot();
            for c in &mut self.calls {
                c.open_window();
            }
            let window_end = Instant::now() + self.setup.hold;
            self.spin_until(window_end, |_| false)?;
            for c in &mut self.calls {
                c.close_window();
            }
            let after = self.snapshot();
            let stop = self.too_much(&before, &after, from..to);
            measured.push(Measured {
                calls: to,
                snapshots: (before, after),
                client: report::client(&self.calls),
                entered: from..to,
            });
            from = to;
            if stop {
                break;
            }
        }
        self.hang_up_all()?;
        Ok(Outcome {
            calls: self.calls,
            steps: measured,
            stats: self.stats,
        })
    }

    /// Whether the climb stops after this step: too many late ticks, or a failed entry.
    fn too_much(&self, before: &Snapshot, after: &Snapshot, step: std::ops::Range<usize>) -> bool {
        let Some(limit) = self.setup.stop_late_pct else {
            return false;
        };
        let failed = self
            .calls
            .get(step)
            .unwrap_or_default()
            .iter()
            .any(|c| !c.joined());
        let late = match (before.media, after.media) {
            (Some(a), Some(b)) if b.ticks > a.ticks => {
                100.0 * b.late_ticks.saturating_sub(a.late_ticks) as f64
                    / (b.ticks - a.ticks) as f64
            }
            _ => 0.0,
        };
        failed || late >= limit
    }

    /// Calls `range` enter: their leaders at the rate, then their guests; then the settle.
    fn step(&mut self, range: std::ops::Range<usize>) -> Result<()> {
        for role in [Role::Leader, Role::Guest] {
            let who: Vec<usize> = range
                .clone()
                .filter(|i| self.calls.get(*i).is_some_and(|c| c.plan.role == role))
                .collect();
            if !who.is_empty() {
                self.enter(who)?;
            }
        }
        let settled = Instant::now() + self.setup.settle;
        self.spin_until(settled, |_| false)
    }

    /// Start `who` at the rate, and turn until each is in or over.
    fn enter(&mut self, who: Vec<usize>) -> Result<()> {
        let timeout = who
            .iter()
            .filter_map(|i| self.calls.get(*i))
            .map(|c| c.plan.join_timeout)
            .max()
            .unwrap_or_default();
        let ramp = Duration::from_secs_f64(who.len() as f64 / self.setup.rate.max(0.001));
        self.ramp = who;
        self.ramp_next = 0;
        self.ramp_started = Some(Instant::now());
        let deadline = Instant::now() + ramp + timeout + Duration::from_secs(5);
        self.spin_until(deadline, |e| {
            e.ramp_next >= e.ramp.len()
                && e.ramp.iter().all(|i| {
                    e.calls
                        .get(*i)
                        .is_none_or(|c| c.joined() || c.finished() || c.state == State::Pending)
                })
        })?;
        self.ramp.clear();
        Ok(())
    }

    /// BYE to every call still up; turn until they are over or the grace ran out.
    fn hang_up_all(&mut self) -> Result<()> {
        let now = Instant::now();
        for i in 0..self.calls.len() {
            self.hang_up(i, now);
        }
        self.spin_until(now + HANGUP_GRACE, |e| {
            e.calls
                .iter()
                .all(|c| matches!(c.state, State::Done | State::Pending))
        })
    }

    fn hang_up(&mut self, i: usize, now: Instant) {
        let Some(call) = self.calls.get_mut(i) else {
            return;
        };
        let mut ctx = Ctx {
            endpoint: &mut self.endpoint,
            flow: self.flow,
            now,
        };
        if let Some(tx) = call.hang_up(&mut ctx) {
            self.by_tx.insert(tx, i);
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::take(self.setup.metrics_url.as_deref(), self.setup.server_pid)
    }

    /// Turn the loop until `done` says so or `deadline` passes.
    fn spin_until(&mut self, deadline: Instant, done: impl Fn(&Engine) -> bool) -> Result<()> {
        loop {
            let now = Instant::now();
            if now >= deadline || done(self) {
                return Ok(());
            }
            self.turn(deadline)?;
        }
    }

    /// One round: wait for sockets or the next due moment, then do what is due.
    fn turn(&mut self, deadline: Instant) -> Result<()> {
        let wake = [
            Some(self.slot_at(self.next_slot)),
            Some(self.next_read),
            self.endpoint.poll_timeout(),
            self.next_start_at(),
            Some(deadline),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(deadline);
        let timeout = wake.saturating_duration_since(Instant::now());
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => bail!("poll: {e}"),
        }
        if self.events.iter().any(|e| e.token() == SIP_TOKEN) {
            self.read_sip();
        }
        let now = Instant::now();
        if self.next_read <= now {
            self.read_all_media(now);
        }
        if self.endpoint.poll_timeout().is_some_and(|t| t <= now) {
            self.endpoint.handle_timeout(now);
        }
        self.start_due(now);
        self.media_slots(now);
        self.sip_out(now);
        self.progress(now);
        Ok(())
    }

    fn slot_at(&self, n: u64) -> Instant {
        self.clock + SLOT * n as u32
    }

    fn next_start_at(&self) -> Option<Instant> {
        let started = self.ramp_started?;
        (self.ramp_next < self.ramp.len()).then(|| {
            started + Duration::from_secs_f64(self.ramp_next as f64 / self.setup.rate.max(0.001))
        })
    }

    fn start_due(&mut self, now: Instant) {
        while let Some(at) = self.next_start_at()
            && at <= now
        {
            let Some(&i) = self.ramp.get(self.ramp_next) else {
                break;
            };
            self.ramp_next += 1;
            self.start(i, now);
        }
    }

    fn start(&mut self, i: usize, now: Instant) {
        let per = self.setup.calls_per_socket.max(1);
        let Some(pair) = self.pairs.get(i / per) else {
            return;
        };
        let local = LocalAddr {
            ip: self.setup.local_ip,
            rtp_port: pair.port,
            pair: i / per,
        };
        let Some(call) = self.calls.get_mut(i) else {
            return;
        };
        let mut ctx = Ctx {
            endpoint: &mut self.endpoint,
            flow: self.flow,
            now,
        };
        if let Some(tx) = call.start(&mut ctx, local) {
            self.by_tx.insert(tx, i);
            self.by_call_id.insert(call.call_id().to_owned(), i);
        }
    }

    /// Run every media slot that is due: each call of the slot sends its frame.
    fn media_slots(&mut self, now: Instant) {
        while self.slot_at(self.next_slot) <= now {
            let lag = now.saturating_duration_since(self.slot_at(self.next_slot));
            self.stats.slots += 1;
            self.stats.max_slot_lag_us = self.stats.max_slot_lag_us.max(lag.as_micros() as u64);
            if lag > 2 * SLOT {
                self.stats.slots_late += 1;
            }
            let slot = (self.next_slot % SLOTS as u64) as usize;
            self.next_slot += 1;
            let members = std::mem::take(self.slots.get_mut(slot).unwrap_or(&mut Vec::new()));
            let mut hang_up = Vec::new();
            for &i in &members {
                if let Some(c) = self.calls.get_mut(i)
                    && c.media_tick(now, &mut self.transmits)
                {
                    hang_up.push(i);
                }
            }
            if let Some(s) = self.slots.get_mut(slot) {
                *s = members;
            }
            for i in hang_up {
                self.hang_up(i, now);
            }
            self.send_media();
        }
    }

    fn send_media(&mut self) {
        for (pair, t) in self.transmits.drain(..) {
            let Some(p) = self.pairs.get_mut(pair) else {
                continue;
            };
            match t.kind {
                TransmitKind::Rtcp => p.out_rtcp.push(t.to, t.bytes),
                _ => p.out_rtp.push(t.to, t.bytes),
            }
        }
        for p in &mut self.pairs {
            for (sock, out) in [(&p.rtp, &mut p.out_rtp), (&p.rtcp, &mut p.out_rtcp)] {
                if out.is_empty() {
                    continue;
                }
                let queued = out.len() as u64;
                let sent = out.flush(sock.as_raw_fd()) as u64;
                self.stats.sent += sent;
                self.stats.send_dropped += queued - sent;
            }
        }
    }

    fn read_sip(&mut self) {
        loop {
            match self.sip.recv_from(&mut self.sip_buf) {
                Ok((n, from)) => {
                    let flow = Flow {
                        remote: from,
                        ..self.flow
                    };
                    let bytes = self.sip_buf.get(..n).unwrap_or_default();
                    self.endpoint.handle_bytes(flow, bytes, Instant::now());
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Read the RTP sockets of this round (every one, or with a pair per call one in
    /// [`PER_CALL_READ_STRIDE`]) dry, and now and then every RTCP socket.
    fn read_all_media(&mut self, now: Instant) {
        self.next_read = now + READ_EVERY;
        let rtcp_too = self.next_rtcp_read <= now;
        if rtcp_too {
            self.next_rtcp_read = now + READ_RTCP_EVERY;
        }
        let stride = self.read_stride.max(1);
        let first = self.read_round % stride;
        self.read_round = self.read_round.wrapping_add(1);
        for pair in 0..self.pairs.len() {
            if pair % stride == first {
                self.read_media(pair, false);
            }
            if rtcp_too {
                self.read_media(pair, true);
            }
        }
    }

    /// Read a media socket dry; each datagram goes to the call its source port belongs to on
    /// this pair.
    fn read_media(&mut self, pair: usize, rtcp: bool) {
        let Some(p) = self.pairs.get(pair) else {
            return;
        };
        let fd = if rtcp {
            p.rtcp.as_raw_fd()
        } else {
            p.rtp.as_raw_fd()
        };
        loop {
            let n = match self.batch.recv(fd) {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            let read_at = Instant::now();
            self.stats.received += n as u64;
            for k in 0..n {
                let Some((datagram, from, stamp)) = self.batch.get(k) else {
                    continue;
                };
                let at = stamp
                    .and_then(|s| s.checked_sub(self.wall))
                    .map(|d| self.clock + d)
                    .filter(|t| *t <= read_at)
                    .unwrap_or(read_at);
                match self
                    .by_source
                    .get(&(pair, from.port()))
                    .and_then(|i| self.calls.get_mut(*i))
                {
                    Some(call) if !rtcp => call.on_rtp(datagram, at),
                    Some(_) => {}
                    None => self.stats.stray += 1,
                }
            }
            if n < net::BATCH {
                return;
            }
        }
    }

    /// What the SIP endpoint wants done: datagrams out, events to their calls.
    fn sip_out(&mut self, now: Instant) {
        while let Some(o) = self.endpoint.poll_output() {
            match o {
                Output::Transmit(t) => {
                    let _ = self.sip.send_to(&t.bytes, t.flow.remote);
                }
                Output::Event(e) => self.sip_event(*e, now),
            }
        }
    }

    fn sip_event(&mut self, e: Event, now: Instant) {
        let mut ctx = Ctx {
            endpoint: &mut self.endpoint,
            flow: self.flow,
            now,
        };
        match e {
            Event::Response { tx, response } => {
                let Some(&i) = self.by_tx.get(&tx) else {
                    return;
                };
                let Some(call) = self.calls.get_mut(i) else {
                    return;
                };
                match call.on_response(&mut ctx, &response) {
                    Note::Nothing => {}
                    Note::Tx(tx) => {
                        self.by_tx.insert(tx, i);
                    }
                    Note::MediaUp(rtp, rtcp) => self.media_up(i, rtp, rtcp, now),
                }
            }
            Event::Timeout { tx } => {
                if let Some(call) = self.by_tx.get(&tx).and_then(|i| self.calls.get_mut(*i)) {
                    call.on_timeout();
                }
            }
            Event::Request { tx, request, .. } => {
                let call = request
                    .call_id()
                    .ok()
                    .and_then(|id| self.by_call_id.get(id))
                    .and_then(|i| self.calls.get_mut(*i));
                match call {
                    Some(c) => c.on_request(&mut ctx, tx, &request),
                    None => {
                        let r = plenum_sip::compose::response(&request, 481, None);
                        ctx.endpoint.respond(tx, r, now);
                    }
                }
            }
            Event::Ack { .. } | Event::Cancelled { .. } | Event::NoAck { .. } => {}
        }
    }

    /// Call `i`'s media is up with the server at `rtp` and `rtcp`: what comes from there to
    /// its pair is its own, unless another live call of the pair has that port (a shared-port
    /// server, and calls sharing a pair): then it fails, as neither side could tell them apart.
    fn media_up(&mut self, i: usize, rtp: SocketAddr, rtcp: SocketAddr, now: Instant) {
        let Some(pair) = self
            .calls
            .get(i)
            .and_then(|c| c.media.as_ref())
            .map(|m| m.pair)
        else {
            return;
        };
        let taken = [rtp.port(), rtcp.port()].iter().any(|p| {
            self.by_source.get(&(pair, *p)).is_some_and(|&j| {
                j != i && self.calls.get(j).is_some_and(|c| c.state != State::Done)
            })
        });
        if !taken {
            self.by_source.insert((pair, rtp.port()), i);
            self.by_source.insert((pair, rtcp.port()), i);
            return;
        }
        if let Some(c) = self.calls.get_mut(i) {
            c.fail(&format!(
                "the server answered media port {} to two calls of one socket pair (a shared \
                 media port: give every call a pair, calls-per-socket 1)",
                rtp.port()
            ));
        }
        self.hang_up(i, now);
    }

    fn progress(&mut self, now: Instant) {
        if !self.setup.progress || now < self.last_progress + PROGRESS_EVERY {
            return;
        }
        self.last_progress = now;
        let count = |f: &dyn Fn(&Call) -> bool| self.calls.iter().filter(|c| f(c)).count();
        eprintln!(
            "plenum-loadgen: {:>4.0}s started {} in {} failed {} up {}",
            now.saturating_duration_since(self.clock).as_secs_f64(),
            count(&|c| c.state != State::Pending),
            count(&|c| c.joined()),
            count(&|c| c.failure.is_some()),
            count(&|c| c.state == State::Up),
        );
    }
}

/// `count` RTP/RTCP socket pairs (even port, next port) on `ip`, from `base` up. They are not
/// registered with the poll (see [`READ_EVERY`]).
fn bind_pairs(ip: IpAddr, base: u16, count: usize) -> Result<Vec<Pair>> {
    let mut pairs = Vec::with_capacity(count);
    let mut port = base & !1;
    while pairs.len() < count {
        if port >= u16::MAX - 1 {
            bail!("no free media ports on {ip} above {base} for {count} socket pairs");
        }
        let p = port;
        port += 2;
        let (Ok(rtp), Ok(rtcp)) = (
            std::net::UdpSocket::bind((ip, p)),
            std::net::UdpSocket::bind((ip, p + 1)),
        ) else {
            continue;
        };
        rtp.set_nonblocking(true)?;
        rtcp.set_nonblocking(true)?;
        let _ = net::set_receive_buffer(rtp.as_raw_fd(), MEDIA_RCVBUF);
        net::enable_timestamps(rtp.as_raw_fd()).context("SO_TIMESTAMPNS")?;
        let rtp = UdpSocket::from_std(rtp);
        let rtcp = UdpSocket::from_std(rtcp);
        pairs.push(Pair {
            rtp,
            rtcp,
            port: p,
            out_rtp: SendBatch::default(),
            out_rtcp: SendBatch::default(),
        });
    }
    Ok(pairs)
}
