//! The media engine: one thread that owns every call's RTP leg, its sockets, prompt player,
//! recorder and the mixer, and drives them all on one fixed 20 ms tick (DESIGN §6: no thread
//! or timer per meeting, apart from signalling).
//!
//! The SIP core talks to it with [`Command`]s over a channel and hears back [`MediaEvent`]s
//! (digits, prompts finished, names recorded, dead legs). Each tick:
//! 1. commands are applied;
//! 2. what arrived is read into each [`Leg`] (SRTP, jitter buffer, RFC 4733) with `recvmmsg`;
//! 3. audio in: a leg in a meeting writes its frame into the mixer; a recording leg into its
//!    recorder; others drain their jitter buffer;
//! 4. the mixer mixes every meeting once;
//! 5. audio out: a meeting leg sends its mix; others their prompt, hold music, or silence;
//! 6. what the legs want sent goes out.
//!
//! A leg moves between the attendant, hold, the lobby and a meeting without touching its
//! sockets or its SRTP state: only what it hears changes.
//!
//! How legs reach the network is one of two strategies ([`Sockets`]), one per process:
//! - a socket pair per leg (the default; `own`): bound by the SIP shell, one `recvmmsg` per
//!   talking leg and tick, idle and RTCP sockets parked in an epoll, one `sendto` per packet;
//! - one shared RTP and RTCP socket for every leg (`media.shared-port`; `shared`): read 64
//!   datagrams per `recvmmsg` and told apart by source address, every leg's packets sent with
//!   `sendmmsg` once per tick.
//!
//! Legs live in a slab whose index names them to the strategy (a poll token, or the slot a
//! source address maps to), so a datagram finds its leg without a lookup by call. The tick
//! allocates nothing of its own.

mod own;
mod shared;

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

use plenum_media::{FRAME_SAMPLES, FrameKind, Leg, LegConfig};
use plenum_mixer::{
    Audience, InputKind, MeetingId, Mixer, MixerConfig, ParticipantId, Player, Recorder,
    RecorderConfig, Segment, Settings,
};
use tokio::sync::mpsc::UnboundedSender;

/// The tick.
pub const TICK: Duration = Duration::from_millis(20);

/// A call's media, named by the SIP core's call id.
pub type CallKey = u64;

/// A meeting, named by its conference row id.
pub type MeetingKey = i64;

/// Who hears an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listeners {
    /// Everybody in the meeting.
    All,
    /// The dial-in participants.
    DialIn,
    /// Everybody but this call.
    AllExcept(CallKey),
    /// This call only (a private prompt while the meeting goes on).
    Only(CallKey),
}

/// Where a new leg's datagrams go in and out.
pub enum LegSockets {
    /// A pair of its own, bound by the SIP shell.
    Own {
        /// RTP socket (bound, its port in our SDP).
        rtp: UdpSocket,
        /// RTCP socket (RTP port + 1).
        rtcp: UdpSocket,
    },
    /// The engine's shared port (`media.shared-port`), which the SDP answer gave.
    Shared,
}

/// How the engine is set up.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// A leg with no RTP for this long is reported quiet (again every as long).
    pub quiet_after: Duration,
    /// Every leg on one RTP socket at this address and one RTCP socket at the next port,
    /// instead of a pair per leg ([`LegSockets::Shared`]).
    pub shared_port: Option<SocketAddr>,
}

/// What the SIP core asks.
pub enum Command {
    /// A new leg on these sockets.
    Open {
        /// The call.
        call: CallKey,
        /// Its own sockets, or the engine's shared port.
        sockets: LegSockets,
        /// The negotiated leg.
        config: Box<LegConfig>,
        /// We send RTP (false while the peer holds with `a=sendonly` or `a=inactive`).
        send: bool,
    },
    /// A re-INVITE moved the peer, or put the call on hold or took it off.
    Remote {
        /// The call.
        call: CallKey,
        /// RTP address.
        rtp: Option<SocketAddr>,
        /// RTCP address.
        rtcp: Option<SocketAddr>,
        /// We send RTP.
        send: bool,
    },
    /// Play these segments once (prompts), after the plays already queued; `PlayFinished`
    /// when done.
    Play {
        /// The call.
        call: CallKey,
        /// Named in `PlayFinished`; `None` for a play nobody waits for (the beep before a
        /// recording), whose end is not reported.
        id: Option<u64>,
        /// What to play.
        segments: Vec<Segment>,
    },
    /// Play these segments in a loop (hold music) until something else is played.
    Loop {
        /// The call.
        call: CallKey,
        /// What to play.
        segments: Vec<Segment>,
    },
    /// Stop every queued and running prompt (barge-in); hold music goes on.
    Stop {
        /// The call.
        call: CallKey,
    },
    /// A key reported in SIP INFO (merged with the RFC 4733 copy of the same press).
    InfoDigit {
        /// The call.
        call: CallKey,
        /// The key.
        digit: char,
    },
    /// End a recording now (`Recorded` follows).
    StopRecord {
        /// The call.
        call: CallKey,
    },
    /// Record the caller for up to `max_ms`; `Recorded` when done.
    Record {
        /// The call.
        call: CallKey,
        /// Longest recording.
        max_ms: u32,
    },
    /// Put the leg into a meeting (created on first use).
    Join {
        /// The call.
        call: CallKey,
        /// The meeting.
        meeting: MeetingKey,
        /// Mute, gain, dial-in.
        settings: Settings,
    },
    /// Take the leg out of its meeting (back to prompts/hold).
    Leave {
        /// The call.
        call: CallKey,
    },
    /// Mute or unmute a meeting leg.
    Mute {
        /// The call.
        call: CallKey,
        /// Muted.
        muted: bool,
    },
    /// Play a clip into a meeting.
    Announce {
        /// The meeting.
        meeting: MeetingKey,
        /// Named in `Announced`.
        id: u64,
        /// The audio.
        clip: Arc<[i16]>,
        /// Who hears it.
        listeners: Listeners,
    },
    /// End the meeting's mix (every leg left).
    EndMeeting {
        /// The meeting.
        meeting: MeetingKey,
    },
    /// Close the leg (RTCP BYE) and its sockets.
    Close {
        /// The call.
        call: CallKey,
    },
}

/// What the engine reports.
#[derive(Debug, Clone)]
pub enum MediaEvent {
    /// A key was pressed.
    Digit {
        /// The call.
        call: CallKey,
        /// `0-9*#A-D`.
        digit: char,
    },
    /// A `Play` finished (or was stopped).
    PlayFinished {
        /// The call.
        call: CallKey,
        /// Its id.
        id: u64,
    },
    /// A recording finished.
    Recorded {
        /// The call.
        call: CallKey,
        /// The trimmed audio.
        samples: Arc<[i16]>,
        /// Its length.
        ms: u32,
    },
    /// An announcement finished (or was cancelled).
    Announced {
        /// Its id.
        id: u64,
    },
    /// No RTP from the peer for this long.
    Quiet {
        /// The call.
        call: CallKey,
        /// How long.
        for_ms: u64,
    },
}

/// The handle the SIP core holds.
#[derive(Clone)]
pub struct MediaEngine {
    commands: Sender<Command>,
    stats: Arc<EngineStats>,
}

/// Counters of the engine, for metrics and load runs.
#[derive(Default)]
pub struct EngineStats {
    /// Ticks run.
    pub ticks: std::sync::atomic::AtomicU64,
    /// Ticks that started more than 5 ms late.
    pub late_ticks: std::sync::atomic::AtomicU64,
    /// Legs open.
    pub legs: std::sync::atomic::AtomicU64,
    /// Busy time of the media thread, in µs.
    pub busy_us: std::sync::atomic::AtomicU64,
    /// Datagrams on the shared port from an address no leg has (dropped).
    pub unknown_source: std::sync::atomic::AtomicU64,
    /// Datagrams on the shared port dropped because their leg had had its share of the tick.
    pub over_limit: std::sync::atomic::AtomicU64,
}

impl MediaEngine {
    /// Start the media thread; with a shared port, its sockets are bound first (the error is
    /// the bind's).
    pub fn start(
        events: UnboundedSender<MediaEvent>,
        config: EngineConfig,
    ) -> std::io::Result<MediaEngine> {
        let (tx, rx) = std::sync::mpsc::channel();
        let stats = Arc::new(EngineStats::default());
        let sockets = match config.shared_port {
            Some(at) => Sockets::Shared(shared::SharedPort::bind(at)?),
            None => Sockets::Own(own::OwnSockets::new()),
        };
        let worker = Worker {
            commands: rx,
            events,
            legs: Slab::default(),
            sockets,
            finished: Vec::new(),
            mixer: Mixer::new(MixerConfig::default()),
            meetings: HashMap::new(),
            overlays: HashMap::new(),
            stats: Arc::clone(&stats),
            quiet_after: config.quiet_after,
        };
        let spawned = std::thread::Builder::new()
            .name("plenum-media".into())
            .spawn(move || worker.run());
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the media thread");
        }
        Ok(MediaEngine {
            commands: tx,
            stats,
        })
    }

    /// Send a command (a stopped engine drops it).
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// The engine's counters.
    pub fn stats(&self) -> Arc<EngineStats> {
        Arc::clone(&self.stats)
    }
}

/// Datagrams one leg may deliver per tick (a flood cannot keep the tick busy): its own socket
/// keeps the rest for the next tick, the shared port drops them.
const DATAGRAMS_PER_TICK: usize = 64;

struct LegSlot {
    call: CallKey,
    leg: Leg,
    /// Its sockets, as the engine's strategy keeps them.
    io: LegIo,
    /// Prompt lists and their ids (none: not reported), in order.
    play: std::collections::VecDeque<(Option<u64>, Player)>,
    /// Hold music or lobby music, under the prompts.
    music: Option<Player>,
    recorder: Option<Recorder>,
    participant: Option<(MeetingKey, ParticipantId)>,
    /// One digit per key press, whether it came in RTP, INFO or both.
    dedup: plenum_media::dtmf::DigitDeduplicator,
    /// Quiet reports sent since the last packet.
    quiet_reports: u32,
    opened: Instant,
    /// RTP goes out (not while the peer holds): prompts and the mix still advance, unheard.
    sending: bool,
}

/// A leg's part of the engine's [`Sockets`].
enum LegIo {
    /// Its own pair.
    Own(own::OwnLeg),
    /// Where it sends from, on the shared port.
    Shared(shared::SharedLeg),
}

/// How legs reach the network: one strategy per engine (legs of both kinds never mix).
enum Sockets {
    /// A socket pair per leg.
    Own(own::OwnSockets),
    /// One port for every leg.
    Shared(shared::SharedPort),
}

impl Sockets {
    /// A new leg's part, if its sockets are of the engine's kind.
    fn admit(&self, sockets: LegSockets, config: &LegConfig) -> Option<LegIo> {
        match (self, sockets) {
            (Sockets::Own(_), LegSockets::Own { rtp, rtcp }) => {
                Some(LegIo::Own(own::OwnLeg::new(rtp, rtcp)))
            }
            (Sockets::Shared(_), LegSockets::Shared) => {
                Some(LegIo::Shared(shared::SharedLeg::new(config)))
            }
            _ => None,
        }
    }

    /// A leg was stored in slot `at`.
    fn opened(
        &mut self,
        at: usize,
        l: &mut LegSlot,
        remote: (Option<SocketAddr>, Option<SocketAddr>),
    ) {
        match (self, &mut l.io) {
            (Sockets::Own(s), LegIo::Own(io)) => s.opened(at, l.call, io),
            (Sockets::Shared(s), LegIo::Shared(io)) => s.signalled(at, io, remote),
            _ => {}
        }
    }

    /// A re-INVITE gave the leg in slot `at` new addresses.
    fn remote(
        &mut self,
        at: usize,
        l: &mut LegSlot,
        remote: (Option<SocketAddr>, Option<SocketAddr>),
    ) {
        if let (Sockets::Shared(s), LegIo::Shared(io)) = (self, &mut l.io) {
            s.forget(at, io);
            s.signalled(at, io, remote);
        }
    }

    /// The leg of slot `at` is gone (its BYE already handed to [`Sockets::send`]).
    fn closed(&mut self, at: usize, l: &mut LegSlot) {
        match (self, &mut l.io) {
            (Sockets::Own(s), LegIo::Own(io)) => s.closed(io),
            (Sockets::Shared(s), LegIo::Shared(io)) => s.forget(at, io),
            _ => {}
        }
    }

    /// Read what arrived into the legs.
    fn read(&mut self, legs: &mut Slab, stats: &EngineStats, now: Instant) {
        match self {
            Sockets::Own(s) => s.read(legs, now),
            Sockets::Shared(s) => s.read(legs, stats, now),
        }
    }

    /// What the leg wants sent: out now (its own sockets) or queued for [`Sockets::flush`].
    fn send(&mut self, l: &mut LegSlot) {
        match (self, &mut l.io) {
            (Sockets::Own(_), LegIo::Own(io)) => own::send(&mut l.leg, io),
            (Sockets::Shared(s), LegIo::Shared(io)) => s.queue(&mut l.leg, io),
            _ => {}
        }
    }

    /// Send what was queued this tick.
    fn flush(&mut self) {
        if let Sockets::Shared(s) = self {
            s.flush();
        }
    }
}

/// The legs, by slot. A slot's index names the leg to the [`Sockets`] (its poll tokens, or
/// the slot its source addresses map to); a freed slot is reused by the next leg.
#[derive(Default)]
struct Slab {
    slots: Vec<Option<LegSlot>>,
    free: Vec<usize>,
    by_call: HashMap<CallKey, usize>,
}

impl Slab {
    fn len(&self) -> usize {
        self.by_call.len()
    }

    fn contains(&self, call: CallKey) -> bool {
        self.by_call.contains_key(&call)
    }

    fn get(&self, call: CallKey) -> Option<&LegSlot> {
        let i = *self.by_call.get(&call)?;
        self.slots.get(i)?.as_ref()
    }

    fn get_mut(&mut self, call: CallKey) -> Option<&mut LegSlot> {
        let i = *self.by_call.get(&call)?;
        self.slots.get_mut(i)?.as_mut()
    }

    /// The slot the next [`Slab::insert`] takes.
    fn vacant(&self) -> usize {
        self.free.last().copied().unwrap_or(self.slots.len())
    }

    /// Store a leg (of a call that has none) in [`Slab::vacant`].
    fn insert(&mut self, l: LegSlot) {
        let call = l.call;
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        if let Some(s) = self.slots.get_mut(i) {
            *s = Some(l);
        }
        self.by_call.insert(call, i);
    }

    /// Take a call's leg out; its slot with it.
    fn remove(&mut self, call: CallKey) -> Option<(usize, LegSlot)> {
        let i = self.by_call.remove(&call)?;
        let l = self.slots.get_mut(i)?.take()?;
        self.free.push(i);
        Some((i, l))
    }

    /// The leg in slot `at`.
    fn slot_mut(&mut self, at: usize) -> Option<&mut LegSlot> {
        self.slots.get_mut(at)?.as_mut()
    }
}

struct Worker {
    commands: Receiver<Command>,
    events: UnboundedSender<MediaEvent>,
    legs: Slab,
    sockets: Sockets,
    /// Recordings that filled up this tick.
    finished: Vec<CallKey>,
    mixer: Mixer,
    meetings: HashMap<MeetingKey, MeetingId>,
    /// Mixer overlay → our announcement id.
    overlays: HashMap<plenum_mixer::OverlayId, u64>,
    stats: Arc<EngineStats>,
    quiet_after: Duration,
}

impl Worker {
    fn run(mut self) {
        let mut start = Instant::now();
        let mut tick: u32 = 0;
        loop {
            let due = start + TICK * tick;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            } else if now - due > Duration::from_millis(5) {
                self.stats
                    .late_ticks
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let began = Instant::now();
            if !self.commands_in(began) {
                return;
            }
            self.tick(began);
            self.stats
                .ticks
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let busy = began.elapsed().as_micros() as u64;
            self.stats
                .busy_us
                .fetch_add(busy, std::sync::atomic::Ordering::Relaxed);
            tick = tick.wrapping_add(1);
            // Fell far behind (a stopped process) or the counter is about to wrap: start the
            // schedule again from now.
            if Instant::now() > start + TICK * tick + Duration::from_secs(1) || tick > 1 << 30 {
                start = Instant::now();
                tick = 0;
            }
        }
    }

    /// Apply every waiting command; false when the engine's handle is gone.
    fn commands_in(&mut self, now: Instant) -> bool {
        loop {
            match self.commands.try_recv() {
                Ok(c) => self.command(c, now),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn emit(&self, e: MediaEvent) {
        let _ = self.events.send(e);
    }

    fn command(&mut self, c: Command, now: Instant) {
        match c {
            Command::Open {
                call,
                sockets,
                config,
                send,
            } => self.open(call, sockets, *config, send, now),
            Command::Remote {
                call,
                rtp,
                rtcp,
                send,
            } => {
                if let Some(&at) = self.legs.by_call.get(&call)
                    && let Some(l) = self.legs.slot_mut(at)
                {
                    l.leg.set_remote(rtp, rtcp);
                    l.sending = send;
                    self.sockets.remote(at, l, (rtp, rtcp));
                }
            }
            Command::Play { call, id, segments } => {
                if let Some(l) = self.legs.get_mut(call) {
                    l.play.push_back((id, Player::new(segments)));
                }
            }
            Command::Loop { call, segments } => {
                if let Some(l) = self.legs.get_mut(call) {
                    l.music = Some(Player::looping(segments));
                }
            }
            Command::Stop { call } => {
                if let Some(l) = self.legs.get_mut(call) {
                    l.play.clear();
                }
            }
            Command::InfoDigit { call, digit } => {
                let fresh = self.legs.get_mut(call).is_some_and(|l| {
                    l.dedup
                        .offer(plenum_media::dtmf::DigitSource::Info, digit, now)
                });
                if fresh {
                    self.emit(MediaEvent::Digit { call, digit });
                }
            }
            Command::StopRecord { call } => {
                if let Some(r) = self.legs.get_mut(call).and_then(|l| l.recorder.take()) {
                    let rec = r.finish();
                    self.emit(MediaEvent::Recorded {
                        call,
                        ms: rec.duration_ms,
                        samples: rec.samples,
                    });
                }
            }
            Command::Record { call, max_ms } => {
                if let Some(l) = self.legs.get_mut(call) {
                    l.recorder = Some(Recorder::new(RecorderConfig {
                        max_ms,
                        ..RecorderConfig::default()
                    }));
                }
            }
            Command::Join {
                call,
                meeting,
                settings,
            } => self.join(call, meeting, settings),
            Command::Leave { call } => self.leave(call),
            Command::Mute { call, muted } => {
                if let Some((_, pid)) = self.legs.get(call).and_then(|l| l.participant) {
                    let _ = self.mixer.set_muted(pid, muted);
                }
            }
            Command::Announce {
                meeting,
                id,
                clip,
                listeners,
            } => self.announce(meeting, id, clip, listeners),
            Command::EndMeeting { meeting } => {
                let calls: Vec<CallKey> = self
                    .legs
                    .slots
                    .iter()
                    .flatten()
                    .filter(|l| l.participant.is_some_and(|(m, _)| m == meeting))
                    .map(|l| l.call)
                    .collect();
                for c in calls {
                    self.leave(c);
                }
                if let Some(m) = self.meetings.remove(&meeting) {
                    let _ = self.mixer.remove_meeting(m);
                    self.mixer_events();
                }
            }
            Command::Close { call } => {
                self.leave(call);
                if let Some((at, l)) = self.legs.remove(call) {
                    self.close(at, l, now);
                }
                self.count_legs();
            }
        }
    }

    fn count_legs(&self) {
        self.stats
            .legs
            .store(self.legs.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }

    fn open(
        &mut self,
        call: CallKey,
        sockets: LegSockets,
        config: LegConfig,
        send: bool,
        now: Instant,
    ) {
        let Some(io) = self.sockets.admit(sockets, &config) else {
            tracing::warn!(
                call,
                "a leg's sockets are not of the engine's kind (own or shared port)"
            );
            return;
        };
        let remote = (config.remote, config.remote_rtcp);
        let leg = match Leg::new(config, now) {
            Ok(leg) => leg,
            Err(e) => {
                tracing::warn!(call, error = %e, "cannot open a media leg");
                return;
            }
        };
        let mut slot = LegSlot {
            call,
            leg,
            io,
            play: std::collections::VecDeque::new(),
            music: None,
            recorder: None,
            participant: None,
            quiet_reports: 0,
            dedup: plenum_media::dtmf::DigitDeduplicator::default(),
            opened: now,
            sending: send,
        };
        // The same call opened again: the old leg goes first (its slot is then the vacant one).
        if self.legs.contains(call) {
            self.leave(call);
            if let Some((at, old)) = self.legs.remove(call) {
                self.close(at, old, now);
            }
        }
        let at = self.legs.vacant();
        self.sockets.opened(at, &mut slot, remote);
        self.legs.insert(slot);
        self.count_legs();
    }

    /// A removed leg (it was in slot `at`): its RTCP BYE, then its sockets let go.
    fn close(&mut self, at: usize, mut l: LegSlot, now: Instant) {
        l.leg.close(now);
        self.sockets.send(&mut l);
        self.sockets.closed(at, &mut l);
    }

    fn join(&mut self, call: CallKey, meeting: MeetingKey, settings: Settings) {
        if !self.legs.contains(call) {
            return;
        }
        self.leave(call);
        let mid = match self.meetings.get(&meeting) {
            Some(m) => *m,
            None => match self.mixer.add_meeting() {
                Ok(m) => {
                    self.meetings.insert(meeting, m);
                    m
                }
                Err(e) => {
                    tracing::warn!(meeting, error = %e, "cannot create a mix");
                    return;
                }
            },
        };
        match self.mixer.add_participant(Some(mid), settings) {
            Ok(pid) => {
                if let Some(l) = self.legs.get_mut(call) {
                    l.participant = Some((meeting, pid));
                    l.music = None;
                    l.play.clear();
                }
            }
            Err(e) => tracing::warn!(call, meeting, error = %e, "cannot join the mix"),
        }
    }

    fn leave(&mut self, call: CallKey) {
        if let Some((_, pid)) = self.legs.get_mut(call).and_then(|l| l.participant.take()) {
            let _ = self.mixer.remove_participant(pid);
            self.mixer_events();
        }
    }

    fn announce(&mut self, meeting: MeetingKey, id: u64, clip: Arc<[i16]>, to: Listeners) {
        let pid = |c: CallKey| self.legs.get(c).and_then(|l| l.participant).map(|(_, p)| p);
        let audience = match to {
            Listeners::All => Some(Audience::All),
            Listeners::DialIn => Some(Audience::DialIn),
            Listeners::AllExcept(c) => pid(c).map(Audience::AllExcept),
            Listeners::Only(c) => pid(c).map(Audience::Only),
        };
        let queued = match (self.meetings.get(&meeting), audience) {
            (Some(m), Some(a)) => self.mixer.announce(*m, clip, a).ok(),
            _ => None,
        };
        match queued {
            Some(o) => {
                self.overlays.insert(o, id);
            }
            None => self.emit(MediaEvent::Announced { id }),
        }
    }

    fn mixer_events(&mut self) {
        while let Some(e) = self.mixer.poll_event() {
            let o = match e {
                plenum_mixer::Event::Finished(o) | plenum_mixer::Event::Cancelled(o) => o,
                _ => continue,
            };
            if let Some(id) = self.overlays.remove(&o) {
                self.emit(MediaEvent::Announced { id });
            }
        }
    }

    fn tick(&mut self, now: Instant) {
        self.sockets.read(&mut self.legs, &self.stats, now);
        self.audio_in(now);
        for call in std::mem::take(&mut self.finished) {
            if let Some(r) = self.legs.get_mut(call).and_then(|l| l.recorder.take()) {
                let rec = r.finish();
                self.emit(MediaEvent::Recorded {
                    call,
                    ms: rec.duration_ms,
                    samples: rec.samples,
                });
            }
        }
        self.mixer.tick();
        self.mixer_events();
        self.audio_out(now);
    }

    /// Per leg: timers, digits, its frame into the mixer (or the recorder), quiet reports.
    fn audio_in(&mut self, now: Instant) {
        let mut frame = [0i16; FRAME_SAMPLES];
        for l in self.legs.slots.iter_mut().flatten() {
            let call = l.call;
            if l.leg.poll_timeout().is_some_and(|t| t <= now) {
                l.leg.handle_timeout(now);
            }
            while let Some(d) = l.leg.poll_event() {
                if l.dedup
                    .offer(plenum_media::dtmf::DigitSource::Rtp, d.digit, d.started)
                {
                    let _ = self.events.send(MediaEvent::Digit {
                        call,
                        digit: d.digit,
                    });
                }
            }
            match l.participant {
                Some((_, pid)) => {
                    let kind = match self.mixer.input_mut(pid) {
                        Some(input) => l.leg.pull_into(input, now),
                        None => FrameKind::Silence,
                    };
                    let _ = self.mixer.set_input_kind(pid, input_kind(kind));
                }
                None => {
                    let kind = l.leg.pull_into(&mut frame, now);
                    if let Some(r) = l.recorder.as_mut() {
                        if kind == FrameKind::Silence {
                            frame = [0; FRAME_SAMPLES];
                        }
                        if !r.push(&frame) {
                            self.finished.push(call);
                        }
                    }
                }
            }
            // Quiet: reported every `quiet_after` while no packet comes.
            let quiet = now.saturating_duration_since(l.leg.last_received().unwrap_or(l.opened));
            if quiet < self.quiet_after {
                l.quiet_reports = 0;
            } else if quiet >= self.quiet_after * (l.quiet_reports + 1) {
                l.quiet_reports += 1;
                let _ = self.events.send(MediaEvent::Quiet {
                    call,
                    for_ms: quiet.as_millis() as u64,
                });
            }
        }
    }

    /// Per leg: its mix, or its prompt, music or silence, out on its socket (or queued for
    /// the shared port, all sent at the end).
    fn audio_out(&mut self, now: Instant) {
        let mut frame: [i16; FRAME_SAMPLES];
        for l in self.legs.slots.iter_mut().flatten() {
            let call = l.call;
            let out: &[i16; FRAME_SAMPLES] = match l.participant {
                Some((_, pid)) => match self.mixer.output(pid) {
                    Some(o) => o,
                    None => {
                        frame = [0; FRAME_SAMPLES];
                        &frame
                    }
                },
                None => {
                    frame = [0; FRAME_SAMPLES];
                    let mut playing = false;
                    while let Some((id, p)) = l.play.front_mut() {
                        if p.next_frame(&mut frame) {
                            playing = true;
                            break;
                        }
                        let id = *id;
                        l.play.pop_front();
                        if let Some(id) = id {
                            let _ = self.events.send(MediaEvent::PlayFinished { call, id });
                        }
                    }
                    if !playing && let Some(m) = l.music.as_mut() {
                        m.next_frame(&mut frame);
                    }
                    &frame
                }
            };
            if l.sending
                && let Err(e) = l.leg.send_audio(out, now)
            {
                tracing::debug!(call, error = %e, "cannot send audio");
            }
            self.sockets.send(l);
        }
        self.sockets.flush();
    }
}

fn input_kind(k: FrameKind) -> InputKind {
    match k {
        FrameKind::Speech => InputKind::Speech,
        FrameKind::Concealed => InputKind::Concealed,
        _ => InputKind::Silence,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use plenum_media::{Codec, TransmitKind};
    use std::sync::atomic::Ordering::Relaxed;

    /// A phone on a real loopback socket, with a leg of its own towards the engine.
    struct Peer {
        socket: UdpSocket,
        leg: Leg,
        /// Packets the engine sent it, and where they came from.
        packets: usize,
        sources: std::collections::HashSet<SocketAddr>,
    }

    impl Peer {
        /// A peer sending to `to`.
        fn new(to: SocketAddr) -> Peer {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_nonblocking(true).unwrap();
            let mut theirs = LegConfig::new(9, Codec::PCMU);
            theirs.telephone_event_pt = Some(101);
            theirs.remote = Some(to);
            let leg = Leg::new(theirs, Instant::now()).unwrap();
            Peer {
                socket,
                leg,
                packets: 0,
                sources: std::collections::HashSet::new(),
            }
        }

        fn addr(&self) -> SocketAddr {
            self.socket.local_addr().unwrap()
        }

        /// The engine's leg for this peer, signalled at `remote`.
        fn config(remote: SocketAddr) -> Box<LegConfig> {
            let mut config = LegConfig::new(7, Codec::PCMU);
            config.telephone_event_pt = Some(101);
            config.remote = Some(remote);
            Box::new(config)
        }

        fn key(&mut self, key: char) {
            let now = Instant::now();
            self.leg
                .send_digit(key, Duration::from_millis(120), now)
                .unwrap();
        }

        /// Its RTP out, what came in counted.
        fn turn(&mut self) {
            let now = Instant::now();
            if self.leg.poll_timeout().is_some_and(|t| t <= now) {
                self.leg.handle_timeout(now);
            }
            while let Some(t) = self.leg.poll_transmit() {
                if t.kind == TransmitKind::Rtp {
                    self.socket.send_to(&t.bytes, t.to).unwrap();
                }
            }
            let mut buf = [0u8; 2048];
            while let Ok((_, from)) = self.socket.recv_from(&mut buf) {
                self.packets += 1;
                self.sources.insert(from);
            }
        }
    }

    /// Drive the peers for up to `limit` (or, with `until_digits`, until that many digits
    /// came and every peer got 10 packets more): the digits the engine reported.
    fn exchange(
        peers: &mut [&mut Peer],
        events: &mut tokio::sync::mpsc::UnboundedReceiver<MediaEvent>,
        limit: Duration,
        until_digits: Option<usize>,
    ) -> Vec<(CallKey, char)> {
        let mut heard = Vec::new();
        let t0 = Instant::now();
        let start: Vec<usize> = peers.iter().map(|p| p.packets).collect();
        while t0.elapsed() < limit {
            for p in peers.iter_mut() {
                p.turn();
            }
            while let Ok(e) = events.try_recv() {
                if let MediaEvent::Digit { call, digit } = e {
                    heard.push((call, digit));
                }
            }
            let fed = peers.iter().zip(&start).all(|(p, s)| p.packets >= s + 10);
            if until_digits.is_some_and(|n| heard.len() >= n) && fed {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        heard
    }

    /// A leg on real loopback sockets: keys the peer sends in RFC 4733 reach the SIP core as
    /// digits (read with recvmmsg), also after the peer was silent long enough for its socket
    /// to be parked in the poll; the engine sends the peer a packet per tick; after the leg is
    /// closed and another opened in its slot, that one works too.
    #[test]
    fn a_leg_hears_keys_before_and_after_parking_and_its_slot_is_reused() {
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let config = EngineConfig {
            quiet_after: Duration::from_secs(5),
            shared_port: None,
        };
        let engine = MediaEngine::start(tx, config).unwrap();
        for (call, key) in [(1u64, '5'), (2, '#')] {
            let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let rtcp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut peer = Peer::new(rtp.local_addr().unwrap());
            engine.send(Command::Open {
                call,
                sockets: LegSockets::Own { rtp, rtcp },
                config: Peer::config(peer.addr()),
                send: true,
            });
            peer.key(key);
            let second = Duration::from_secs(3);
            let heard = exchange(&mut [&mut peer], &mut events, second, Some(1));
            assert_eq!(heard, [(call, key)]);
            assert!(
                peer.packets >= 10,
                "{} packets from the engine",
                peer.packets
            );
            // Silent well past PARK_AFTER ticks: the socket waits in the poll; a key wakes it.
            let quiet = TICK * (own::PARK_AFTER + 10);
            let heard = exchange(&mut [&mut peer], &mut events, quiet, None);
            assert!(heard.is_empty());
            peer.key('9');
            let heard = exchange(&mut [&mut peer], &mut events, second, Some(1));
            assert_eq!(heard, [(call, '9')]);
            engine.send(Command::Close { call });
        }
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(engine.stats().legs.load(Relaxed), 0);
    }

    /// Plays end in order; only those with an id are reported (the beep before a recording is
    /// not).
    #[test]
    fn a_play_without_an_id_is_not_reported() {
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let config = EngineConfig {
            quiet_after: Duration::from_secs(5),
            shared_port: None,
        };
        let engine = MediaEngine::start(tx, config).unwrap();
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rtcp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut peer = Peer::new(rtp.local_addr().unwrap());
        engine.send(Command::Open {
            call: 3,
            sockets: LegSockets::Own { rtp, rtcp },
            config: Peer::config(peer.addr()),
            send: true,
        });
        let clip = || vec![Segment::Silence { ms: 40 }];
        for id in [None, Some(7), None, Some(8), None] {
            engine.send(Command::Play {
                call: 3,
                id,
                segments: clip(),
            });
        }
        let mut finished = Vec::new();
        let t0 = Instant::now();
        while finished.len() < 2 && t0.elapsed() < Duration::from_secs(3) {
            peer.turn();
            while let Ok(e) = events.try_recv() {
                if let MediaEvent::PlayFinished { call, id } = e {
                    finished.push((call, id));
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Long enough for the last, id-less play to end too.
        std::thread::sleep(Duration::from_millis(150));
        while let Ok(e) = events.try_recv() {
            if let MediaEvent::PlayFinished { call, id } = e {
                finished.push((call, id));
            }
        }
        assert_eq!(finished, [(3, 7), (3, 8)]);
        engine.send(Command::Close { call: 3 });
    }

    /// An even port whose next one is free too (on loopback).
    fn free_pair() -> SocketAddr {
        loop {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let at = a.local_addr().unwrap();
            if at.port().is_multiple_of(2) && UdpSocket::bind(("127.0.0.1", at.port() + 1)).is_ok()
            {
                return at;
            }
        }
    }

    /// Legs on the shared port, peers on real loopback sockets: each peer's keys reach its
    /// own call only, and what each hears comes from the shared port; a datagram from a third
    /// address is dropped and counted; a peer that sends from another port than its SDP said
    /// (behind a NAT), the only leg not heard yet, is latched and then hears its audio there;
    /// after its leg is closed, its address leads nowhere; a flood beyond a leg's share of a
    /// tick is dropped and counted.
    #[test]
    fn legs_on_the_shared_port_are_told_apart_by_source_address() {
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let shared = free_pair();
        let config = EngineConfig {
            quiet_after: Duration::from_secs(5),
            shared_port: Some(shared),
        };
        let engine = MediaEngine::start(tx, config).unwrap();
        let stats = engine.stats();
        let (mut a, mut b) = (Peer::new(shared), Peer::new(shared));
        for (call, p) in [(1u64, &a), (2, &b)] {
            engine.send(Command::Open {
                call,
                sockets: LegSockets::Shared,
                config: Peer::config(p.addr()),
                send: true,
            });
        }
        a.key('5');
        b.key('#');
        let second = Duration::from_secs(3);
        let mut heard = exchange(&mut [&mut a, &mut b], &mut events, second, Some(2));
        heard.sort();
        assert_eq!(heard, [(1, '5'), (2, '#')]);
        for p in [&a, &b] {
            assert!(p.packets >= 10, "{} packets from the engine", p.packets);
            assert_eq!(p.sources, [shared].into_iter().collect());
        }
        assert_eq!(stats.unknown_source.load(Relaxed), 0);

        // A third address: nobody's (both legs at 127.0.0.1 were heard), dropped.
        let mut stranger = Peer::new(shared);
        stranger.key('1');
        let heard = exchange(&mut [&mut stranger, &mut a], &mut events, TICK * 15, None);
        assert!(heard.is_empty(), "{heard:?}");
        assert!(stats.unknown_source.load(Relaxed) > 0);
        assert_eq!(stranger.packets, 0);

        // Behind a NAT: the SDP names `signalled` (where nothing is sent from), the phone
        // sends from `natted`. It is the only leg not heard yet: latched.
        let signalled = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut natted = Peer::new(shared);
        engine.send(Command::Open {
            call: 3,
            sockets: LegSockets::Shared,
            config: Peer::config(signalled.local_addr().unwrap()),
            send: true,
        });
        std::thread::sleep(TICK * 2);
        natted.key('7');
        let heard = exchange(&mut [&mut natted, &mut a], &mut events, second, Some(1));
        assert_eq!(heard, [(3, '7')]);
        assert!(
            natted.packets >= 10,
            "{} packets after the latch",
            natted.packets
        );
        assert_eq!(natted.sources, [shared].into_iter().collect());

        // Closed: its address is nobody's.
        engine.send(Command::Close { call: 3 });
        std::thread::sleep(TICK * 3);
        let unknown = stats.unknown_source.load(Relaxed);
        natted.key('8');
        let heard = exchange(&mut [&mut natted], &mut events, TICK * 15, None);
        assert!(heard.is_empty(), "{heard:?}");
        assert!(stats.unknown_source.load(Relaxed) > unknown);

        // A flood from a known address: the leg takes its share of the tick, the rest is
        // dropped and counted.
        let now = Instant::now();
        for _ in 0..300 {
            a.leg.send_audio(&[0; FRAME_SAMPLES], now).unwrap();
            while let Some(t) = a.leg.poll_transmit() {
                a.socket.send_to(&t.bytes, t.to).unwrap();
            }
        }
        std::thread::sleep(TICK * 3);
        assert!(stats.over_limit.load(Relaxed) > 0);
        for call in [1, 2] {
            engine.send(Command::Close { call });
        }
        std::thread::sleep(TICK * 3);
        assert_eq!(stats.legs.load(Relaxed), 0);
    }
}
