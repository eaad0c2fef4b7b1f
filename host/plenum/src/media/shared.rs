//! One RTP and one RTCP socket for every leg (`media.shared-port`): the engine binds them at
//! start, every SDP answer gives the same port, and what arrives is told apart by its source
//! address. Each tick a socket is read 64 datagrams per `recvmmsg`, and every leg's packets go
//! out in one `sendmmsg` per 64, where a pair per leg costs a `recvmmsg` per leg and a `sendto`
//! per packet (`plenum-udp`'s `benches/floor.rs` measures the difference).
//!
//! Demultiplexing, per socket ([`Demux`]): a map from source address to the leg's slot, filled
//! from the SDP (the RTP address, and the RTCP address: `a=rtcp`, else RTP port + 1) and kept
//! up to date on re-INVITE and close. A datagram from an address no leg has goes to a leg only
//! when exactly one leg at that IP has not been heard on the socket yet (a phone behind a NAT
//! sends from another port than its SDP says): if the leg accepts it (a valid packet, under
//! SRTP an authenticated one), the leg's address becomes the new one, and the leg's own
//! symmetric RTP sends there. Anything else from an unknown address is dropped and counted
//! ([`super::EngineStats::unknown_source`]).
//!
//! Limits: a leg gets at most [`DATAGRAMS_PER_TICK`] datagrams a tick (the rest are dropped and
//! counted in [`super::EngineStats::over_limit`]: they cannot be left in a shared queue); a
//! tick reads at most [`READ_PER_LEG`] per open leg plus [`BATCH`] from each socket, so a flood
//! cannot hold the tick (what is left waits for the next one).
//!
//! Does not own: the legs (the engine's slab), what the datagrams mean (the [`Leg`]).

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use plenum_media::{Leg, LegConfig, TransmitKind};
use plenum_udp::{BATCH, RecvBatch, SendBatch};

use super::{DATAGRAMS_PER_TICK, EngineStats, LegIo, LegSlot, Slab};

/// Receive buffer asked for each shared socket (the kernel caps it at `net.core.rmem_max`):
/// a whole tick of every leg's datagrams waits in it.
const RECEIVE_BUFFER: usize = 8 << 20;
/// Datagrams a tick reads from a shared socket per open leg (on top of one batch).
pub(super) const READ_PER_LEG: usize = 4;

/// The shared sockets and who sends to them.
pub(super) struct SharedPort {
    rtp: Port,
    rtcp: Port,
    batch: RecvBatch,
    /// Ticks read so far (for the legs' per-tick budget).
    tick: u64,
}

/// One shared socket.
struct Port {
    channel: Channel,
    socket: UdpSocket,
    /// What the legs sent this tick, out at its end.
    out: SendBatch,
    demux: Demux,
}

/// Which of a leg's streams a socket carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Rtp,
    Rtcp,
}

/// A leg's part of the shared port: where it sends from, per socket.
pub(super) struct SharedLeg {
    rtp: Source,
    rtcp: Source,
    /// RTCP comes (and goes) on the RTP port.
    mux: bool,
    /// The tick of `taken`, and the datagrams taken in it.
    budget: (u64, usize),
}

/// Where a leg's datagrams come from on one socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Source {
    /// The SDP's address until the leg is heard, then the one it was heard from.
    addr: Option<SocketAddr>,
    /// The leg accepted a datagram from `addr` on this socket.
    heard: bool,
}

/// Who sends to one shared socket.
#[derive(Debug, Default)]
struct Demux {
    /// A leg's slot by its address.
    by_source: HashMap<SocketAddr, usize>,
    /// Legs not heard yet, by the IP their SDP gave: the candidates for a datagram from an
    /// unknown address.
    unheard: HashMap<IpAddr, Vec<usize>>,
}

/// What became of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// A leg has it.
    Taken,
    /// From no leg's address (dropped).
    Unknown,
    /// Its leg had had its share of the tick (dropped).
    OverLimit,
}

impl SharedLeg {
    /// A new leg's part (its addresses come with [`SharedPort::signalled`]).
    pub(super) fn new(config: &LegConfig) -> SharedLeg {
        SharedLeg {
            rtp: Source::default(),
            rtcp: Source::default(),
            mux: config.rtcp_mux,
            budget: (0, 0),
        }
    }

    /// One more datagram this tick, if the leg may have it.
    fn take(&mut self, tick: u64) -> bool {
        if self.budget.0 != tick {
            self.budget = (tick, 0);
        }
        self.budget.1 += 1;
        self.budget.1 <= DATAGRAMS_PER_TICK
    }

    fn source_mut(&mut self, channel: Channel) -> &mut Source {
        match channel {
            Channel::Rtp => &mut self.rtp,
            Channel::Rtcp => &mut self.rtcp,
        }
    }
}

impl SharedPort {
    /// Bind RTP at `at` and RTCP at the next port.
    pub(super) fn bind(at: SocketAddr) -> io::Result<SharedPort> {
        let rtcp_port = at.port().checked_add(1).ok_or_else(|| {
            io::Error::new(
                ErrorKind::InvalidInput,
                "no port above the RTP port for RTCP",
            )
        })?;
        Ok(SharedPort {
            rtp: Port::bind(at, Channel::Rtp)?,
            rtcp: Port::bind(SocketAddr::new(at.ip(), rtcp_port), Channel::Rtcp)?,
            batch: RecvBatch::with_capacity(BATCH),
            tick: 0,
        })
    }

    /// The leg in slot `at` has these addresses in its SDP (RTP, RTCP): its datagrams are
    /// expected from them.
    pub(super) fn signalled(
        &mut self,
        at: usize,
        io: &mut SharedLeg,
        (rtp, rtcp): (Option<SocketAddr>, Option<SocketAddr>),
    ) {
        let rtcp = if io.mux {
            None
        } else {
            rtcp.or_else(|| rtp.map(|a| SocketAddr::new(a.ip(), a.port().wrapping_add(1))))
        };
        io.rtp = self.rtp.demux.signal(at, rtp);
        io.rtcp = self.rtcp.demux.signal(at, rtcp);
    }

    /// The leg in slot `at` is gone or moves: its addresses lead nowhere any more.
    pub(super) fn forget(&mut self, at: usize, io: &mut SharedLeg) {
        self.rtp.demux.forget(at, io.rtp);
        self.rtcp.demux.forget(at, io.rtcp);
        io.rtp = Source::default();
        io.rtcp = Source::default();
    }

    /// Read both sockets into the legs (within the tick's bound); count what was dropped.
    pub(super) fn read(&mut self, legs: &mut Slab, stats: &EngineStats, now: Instant) {
        self.tick = self.tick.wrapping_add(1);
        let bound = READ_PER_LEG * legs.len() + BATCH;
        let (mut unknown, mut over_limit) = (0, 0);
        for port in [&mut self.rtp, &mut self.rtcp] {
            let (u, o) = port.read(legs, &mut self.batch, bound, self.tick, now);
            unknown += u;
            over_limit += o;
        }
        if unknown > 0 {
            stats.unknown_source.fetch_add(unknown, Relaxed);
        }
        if over_limit > 0 {
            stats.over_limit.fetch_add(over_limit, Relaxed);
        }
    }

    /// Queue what the leg wants sent (out with [`SharedPort::flush`]).
    pub(super) fn queue(&mut self, leg: &mut Leg, io: &SharedLeg) {
        while let Some(t) = leg.poll_transmit() {
            let port = match t.kind {
                TransmitKind::Rtcp if !io.mux => &mut self.rtcp,
                _ => &mut self.rtp,
            };
            port.out.push(t.to, t.bytes);
        }
    }

    /// Send everything queued, `sendmmsg` by `sendmmsg`.
    pub(super) fn flush(&mut self) {
        for port in [&mut self.rtp, &mut self.rtcp] {
            if !port.out.is_empty() {
                port.out.flush(port.socket.as_raw_fd());
            }
        }
    }
}

impl Port {
    fn bind(at: SocketAddr, channel: Channel) -> io::Result<Port> {
        let socket = UdpSocket::bind(at)
            .map_err(|e| io::Error::new(e.kind(), format!("binding {at}: {e}")))?;
        socket.set_nonblocking(true)?;
        if let Err(e) = plenum_udp::set_receive_buffer(socket.as_raw_fd(), RECEIVE_BUFFER) {
            tracing::warn!(%at, error = %e, "cannot size the shared media socket's buffer");
        }
        match plenum_udp::receive_buffer(socket.as_raw_fd()) {
            // The kernel reports twice what it granted: below twice what was asked, it capped
            // it.
            Ok(granted) if granted < 2 * RECEIVE_BUFFER => tracing::warn!(
                %at,
                granted = granted / 2,
                wanted = RECEIVE_BUFFER,
                "the shared media socket's receive buffer is capped by net.core.rmem_max: \
                 under load a tick's datagrams may not fit (raise it with sysctl)"
            ),
            _ => {}
        }
        Ok(Port {
            channel,
            socket,
            out: SendBatch::default(),
            demux: Demux::default(),
        })
    }

    /// Read the socket until it is empty or `bound` datagrams were read; (unknown, over the
    /// limit) of them.
    fn read(
        &mut self,
        legs: &mut Slab,
        batch: &mut RecvBatch,
        bound: usize,
        tick: u64,
        now: Instant,
    ) -> (u64, u64) {
        let fd = self.socket.as_raw_fd();
        let (mut unknown, mut over_limit) = (0, 0);
        let (mut taken, mut tries) = (0, 0);
        while taken < bound && tries < bound {
            tries += 1;
            let n = match batch.recv(fd) {
                Ok(n) => n,
                // A signal, or an ICMP error of an earlier send: the queue may still hold data.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Interrupted | ErrorKind::ConnectionRefused
                    ) =>
                {
                    continue;
                }
                Err(_) => break,
            };
            for i in 0..n {
                let Some((datagram, from, _)) = batch.get(i) else {
                    continue;
                };
                match self.deliver(legs, datagram, from, tick, now) {
                    Delivery::Taken => {}
                    Delivery::Unknown => {
                        tracing::trace!(%from, "datagram from no leg's address dropped");
                        unknown += 1;
                    }
                    Delivery::OverLimit => over_limit += 1,
                }
            }
            taken += n;
            if n < batch.capacity() {
                break;
            }
        }
        (unknown, over_limit)
    }

    /// One datagram to the leg its source address names (or to the one leg that may be
    /// behind a NAT).
    fn deliver(
        &mut self,
        legs: &mut Slab,
        datagram: &[u8],
        from: SocketAddr,
        tick: u64,
        now: Instant,
    ) -> Delivery {
        let Some((at, latching)) = self.demux.route(from) else {
            return Delivery::Unknown;
        };
        let Some(LegSlot {
            leg,
            io: LegIo::Shared(io),
            ..
        }) = legs.slot_mut(at)
        else {
            return Delivery::Unknown;
        };
        if !io.take(tick) {
            return Delivery::OverLimit;
        }
        let source = io.source_mut(self.channel);
        if source.heard {
            leg.handle_datagram(datagram, from, now);
            return Delivery::Taken;
        }
        let before = self.channel.accepted(leg);
        leg.handle_datagram(datagram, from, now);
        if self.channel.accepted(leg) > before {
            if latching {
                tracing::debug!(%from, signalled = ?source.addr, "a leg on the shared port heard from another address (NAT)");
            }
            self.demux.heard(at, source, from);
            Delivery::Taken
        } else if latching {
            Delivery::Unknown
        } else {
            Delivery::Taken
        }
    }
}

impl Channel {
    /// Datagrams of this channel the leg accepted so far.
    fn accepted(self, leg: &Leg) -> u64 {
        let stats = leg.stats();
        match self {
            Channel::Rtp => stats.received,
            Channel::Rtcp => stats.rtcp_received,
        }
    }
}

impl Demux {
    /// The leg in slot `at` expects datagrams from `addr` (its SDP's): its source, not heard.
    fn signal(&mut self, at: usize, addr: Option<SocketAddr>) -> Source {
        let Some(a) = addr else {
            return Source::default();
        };
        if let Some(other) = self.by_source.insert(a, at)
            && other != at
        {
            tracing::debug!(addr = %a, "two legs give one address: the newer one gets its datagrams");
        }
        self.unheard.entry(a.ip()).or_default().push(at);
        Source { addr, heard: false }
    }

    /// The leg in slot `at` no longer expects anything from `source`.
    fn forget(&mut self, at: usize, source: Source) {
        let Some(a) = source.addr else {
            return;
        };
        if self.by_source.get(&a) == Some(&at) {
            self.by_source.remove(&a);
        }
        if !source.heard {
            self.remove_unheard(a.ip(), at);
        }
    }

    /// The leg in slot `at` accepted a datagram from `from`: its source from now on.
    fn heard(&mut self, at: usize, source: &mut Source, from: SocketAddr) {
        if let Some(a) = source.addr {
            if !source.heard {
                self.remove_unheard(a.ip(), at);
            }
            if a != from && self.by_source.get(&a) == Some(&at) {
                self.by_source.remove(&a);
            }
        }
        self.by_source.insert(from, at);
        *source = Source {
            addr: Some(from),
            heard: true,
        };
    }

    /// The slot a datagram from `from` goes to, and whether that is a guess (the one leg at
    /// that IP not heard yet, the address being nobody's).
    fn route(&self, from: SocketAddr) -> Option<(usize, bool)> {
        if let Some(&at) = self.by_source.get(&from) {
            return Some((at, false));
        }
        match self.unheard.get(&from.ip()).map(Vec::as_slice) {
            Some(&[at]) => Some((at, true)),
            _ => None,
        }
    }

    fn remove_unheard(&mut self, ip: IpAddr, at: usize) {
        let Some(slots) = self.unheard.get_mut(&ip) else {
            return;
        };
        if let Some(k) = slots.iter().position(|&s| s == at) {
            slots.swap_remove(k);
        }
        if slots.is_empty() {
            self.unheard.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// The index alone: signalled addresses route to their slot; an unknown address routes
    /// (as a guess) only to the one unheard leg at its IP; once heard from elsewhere, the leg's
    /// old address is nobody's; forgotten, neither is the new one.
    #[test]
    fn addresses_route_to_their_leg_and_an_unknown_one_only_to_a_sole_candidate() {
        let mut d = Demux::default();
        let mut a = d.signal(0, Some(addr("192.0.2.1:4000")));
        let mut b = d.signal(1, Some(addr("192.0.2.1:4002")));
        let c = d.signal(2, Some(addr("198.51.100.7:5000")));
        assert_eq!(d.route(addr("192.0.2.1:4000")), Some((0, false)));
        assert_eq!(d.route(addr("192.0.2.1:4002")), Some((1, false)));
        // Two unheard legs at 192.0.2.1: an unknown port there is nobody's.
        assert_eq!(d.route(addr("192.0.2.1:9999")), None);
        // One at 198.51.100.7: the guess.
        assert_eq!(d.route(addr("198.51.100.7:6000")), Some((2, true)));
        assert_eq!(d.route(addr("203.0.113.1:4000")), None);
        d.heard(0, &mut a, addr("192.0.2.1:4000"));
        assert_eq!(d.route(addr("192.0.2.1:9999")), Some((1, true)));
        d.heard(1, &mut b, addr("192.0.2.1:9999"));
        assert_eq!(d.route(addr("192.0.2.1:9999")), Some((1, false)));
        assert_eq!(d.route(addr("192.0.2.1:4002")), None);
        assert_eq!(b.addr, Some(addr("192.0.2.1:9999")));
        d.forget(1, b);
        d.forget(2, c);
        assert_eq!(d.route(addr("192.0.2.1:9999")), None);
        assert_eq!(d.route(addr("198.51.100.7:6000")), None);
        d.forget(0, a);
        assert!(d.by_source.is_empty() && d.unheard.is_empty(), "{d:?}");
    }

    /// Two legs giving one address: the newer gets its datagrams; closing the older does not
    /// take the address from the newer.
    #[test]
    fn the_newer_of_two_legs_at_one_address_gets_it() {
        let mut d = Demux::default();
        let a = d.signal(0, Some(addr("192.0.2.1:4000")));
        let b = d.signal(1, Some(addr("192.0.2.1:4000")));
        assert_eq!(d.route(addr("192.0.2.1:4000")), Some((1, false)));
        d.forget(0, a);
        assert_eq!(d.route(addr("192.0.2.1:4000")), Some((1, false)));
        d.forget(1, b);
        assert!(d.by_source.is_empty() && d.unheard.is_empty(), "{d:?}");
    }

    #[test]
    fn a_leg_takes_at_most_its_share_of_a_tick() {
        let mut io = SharedLeg::new(&LegConfig::new(1, plenum_media::Codec::PCMU));
        assert!((0..DATAGRAMS_PER_TICK).all(|_| io.take(7)));
        assert!(!io.take(7));
        assert!(io.take(8));
    }
}
