//! A socket pair per leg (the default): the SIP shell binds an RTP and an RTCP socket per call
//! and hands them over in [`super::LegSockets::Own`].
//!
//! Per talking leg and tick: one `recvmmsg` (its RTP) and one `sendto` per packet it sends.
//! Every RTP socket is read every tick (its peer sends every 20 ms: measured with
//! `plenum-loadgen`, asking epoll about every RTP socket cost more than it saved), except one
//! idle for [`PARK_AFTER`] ticks, which waits in an `epoll` (through `mio`) until something
//! comes; RTCP sockets are only read when the poll says they have something. A leg's poll
//! tokens come from its slot (`2·slot` for RTP, `2·slot + 1` for RTCP), so a ready socket
//! finds its leg without a lookup.
//!
//! Does not own: the legs (the engine's slab), what the datagrams mean (the [`Leg`]).

use std::io::ErrorKind;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use plenum_media::{Leg, TransmitKind};

use super::{DATAGRAMS_PER_TICK, LegIo, Slab};

/// Readiness events taken per `epoll_wait`; more are taken in further calls.
const READY_PER_POLL: usize = 1024;
/// Datagrams one `recvmmsg` reads: a leg gets one a tick, a few more after a network hiccup.
const LEG_BATCH: usize = 16;
/// Ticks without a datagram after which an RTP socket is parked in the poll instead of being
/// read every tick (100 ms: a peer on hold, or a phone that sends only comfort noise in
/// silence). Unparking costs nothing in latency: the poll reports the next datagram at once.
pub(super) const PARK_AFTER: u32 = 5;

/// The poll over every leg's sockets, and the buffers to read them with.
pub(super) struct OwnSockets {
    /// Readiness of every leg's sockets; `None` if epoll is unavailable (every socket is then
    /// read every tick).
    poll: Option<mio::Poll>,
    ready: mio::Events,
    /// Tokens to read this tick, and those with datagrams left over for the next one.
    readable: Vec<usize>,
    again: Vec<usize>,
    batch: plenum_udp::RecvBatch,
}

/// A leg's own sockets.
pub(super) struct OwnLeg {
    rtp: mio::net::UdpSocket,
    rtcp: mio::net::UdpSocket,
    /// Ticks its RTP socket was read and had nothing.
    rtp_idle: u32,
    /// Its RTP socket waits in the poll instead of being read every tick.
    rtp_parked: bool,
}

impl OwnLeg {
    /// A leg's pair, non-blocking.
    pub(super) fn new(rtp: UdpSocket, rtcp: UdpSocket) -> OwnLeg {
        let _ = rtp.set_nonblocking(true);
        let _ = rtcp.set_nonblocking(true);
        OwnLeg {
            rtp: mio::net::UdpSocket::from_std(rtp),
            rtcp: mio::net::UdpSocket::from_std(rtcp),
            rtp_idle: 0,
            rtp_parked: false,
        }
    }
}

impl OwnSockets {
    /// The poll (or none, if epoll is unavailable).
    pub(super) fn new() -> OwnSockets {
        let poll = match mio::Poll::new() {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(error = %e, "no epoll: every media socket is read every tick");
                None
            }
        };
        OwnSockets {
            poll,
            ready: mio::Events::with_capacity(READY_PER_POLL),
            readable: Vec::new(),
            again: Vec::new(),
            batch: plenum_udp::RecvBatch::with_capacity(LEG_BATCH),
        }
    }

    /// A leg stored in slot `at`: its RTCP socket into the poll.
    pub(super) fn opened(&mut self, at: usize, call: u64, io: &mut OwnLeg) {
        let Some(p) = &self.poll else {
            return;
        };
        let registered = p.registry().register(
            &mut io.rtcp,
            mio::Token(2 * at + 1),
            mio::Interest::READABLE,
        );
        if let Err(e) = registered {
            // Unregistered, the leg would never be read: read every socket every tick.
            tracing::warn!(call, error = %e, "epoll registration failed: reading every media socket");
            self.poll = None;
        }
    }

    /// A removed leg's sockets out of the poll (they close when dropped).
    pub(super) fn closed(&mut self, io: &mut OwnLeg) {
        if let Some(p) = &self.poll {
            if io.rtp_parked {
                let _ = p.registry().deregister(&mut io.rtp);
            }
            let _ = p.registry().deregister(&mut io.rtcp);
        }
    }

    /// Read what arrived into the legs. An RTP socket is read every tick (its peer sends every
    /// 20 ms: asking epoll first would only add to the cost), unless it has been idle for
    /// [`PARK_AFTER`] ticks: then it is parked in the poll and read again once the poll says it
    /// has something. RTCP sockets (a report every few seconds) are only read when the poll
    /// says so. Without epoll every socket is read every tick.
    pub(super) fn read(&mut self, legs: &mut Slab, now: Instant) {
        self.readable.clear();
        self.readable.append(&mut self.again);
        if let Some(poll) = self.poll.as_mut() {
            loop {
                if poll.poll(&mut self.ready, Some(Duration::ZERO)).is_err() {
                    break;
                }
                let before = self.readable.len();
                self.readable.extend(self.ready.iter().map(|e| e.token().0));
                if self.readable.len() - before < READY_PER_POLL {
                    break;
                }
            }
        }
        for &token in &self.readable {
            let Some(l) = legs.slot_mut(token / 2) else {
                continue;
            };
            let LegIo::Own(io) = &mut l.io else {
                continue;
            };
            if token % 2 == 0 {
                // A parked RTP socket woke up: back to being read every tick, from this one.
                if io.rtp_parked
                    && let Some(p) = &self.poll
                {
                    let _ = p.registry().deregister(&mut io.rtp);
                }
                io.rtp_parked = false;
                io.rtp_idle = 0;
            } else if read_socket(io.rtcp.as_raw_fd(), &mut l.leg, &mut self.batch, now).1 {
                self.again.push(token);
            }
        }
        for (slot, l) in legs.slots.iter_mut().enumerate() {
            let Some(l) = l.as_mut() else {
                continue;
            };
            let LegIo::Own(io) = &mut l.io else {
                continue;
            };
            if self.poll.is_none() {
                read_socket(io.rtcp.as_raw_fd(), &mut l.leg, &mut self.batch, now);
            }
            if io.rtp_parked && self.poll.is_some() {
                continue;
            }
            let (read, _) = read_socket(io.rtp.as_raw_fd(), &mut l.leg, &mut self.batch, now);
            if read > 0 {
                io.rtp_idle = 0;
                continue;
            }
            io.rtp_idle = io.rtp_idle.saturating_add(1);
            if io.rtp_idle >= PARK_AFTER
                && let Some(p) = &self.poll
            {
                // Registered after a read that found nothing: a datagram that came in between
                // is reported at once (epoll checks readiness on registration).
                io.rtp_parked = p
                    .registry()
                    .register(&mut io.rtp, mio::Token(2 * slot), mio::Interest::READABLE)
                    .is_ok();
            }
        }
    }
}

/// Read what the socket holds into the leg, at most [`DATAGRAMS_PER_TICK`]: how many were
/// read, and whether some may be left (to read next tick).
fn read_socket(
    fd: std::os::fd::RawFd,
    leg: &mut Leg,
    batch: &mut plenum_udp::RecvBatch,
    now: Instant,
) -> (usize, bool) {
    let mut taken = 0;
    let mut tries = 0;
    while taken < DATAGRAMS_PER_TICK && tries < DATAGRAMS_PER_TICK {
        tries += 1;
        match batch.recv(fd) {
            Ok(n) => {
                for i in 0..n {
                    if let Some((datagram, from, _)) = batch.get(i) {
                        leg.handle_datagram(datagram, from, now);
                    }
                }
                taken += n;
                // Fewer than asked: the queue was empty (a parked or RTCP socket's next
                // datagram raises a new readiness event).
                if n < batch.capacity() {
                    return (taken, false);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return (taken, false),
            // An ICMP error of an earlier send, or a signal: the queue may still hold data.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused | ErrorKind::Interrupted
                ) => {}
            Err(_) => return (taken, false),
        }
    }
    (taken, true)
}

/// Send what the leg wants sent, from its own sockets.
pub(super) fn send(leg: &mut Leg, io: &OwnLeg) {
    while let Some(t) = leg.poll_transmit() {
        let sock = match t.kind {
            TransmitKind::Rtcp => &io.rtcp,
            _ => &io.rtp,
        };
        let _ = sock.send_to(&t.bytes, t.to);
    }
}
