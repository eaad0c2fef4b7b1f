//! The media engine: one thread that owns every call's RTP leg, socket pair, prompt player,
//! recorder and the mixer, and drives them all on one fixed 20 ms tick (DESIGN §6: no thread
//! or timer per meeting, apart from signalling).
//!
//! The SIP core talks to it with [`Command`]s over a channel and hears back [`MediaEvent`]s
//! (digits, prompts finished, names recorded, dead legs). Each tick:
//! 1. commands are applied;
//! 2. what arrived is read into each [`Leg`] (SRTP, jitter buffer, RFC 4733) with `recvmmsg`,
//!    a batch per system call: every RTP socket each tick (its peer sends every 20 ms), except
//!    one idle for 100 ms, which waits in an `epoll` (through `mio`) until something comes;
//!    RTCP sockets only when the poll says they have something;
//! 3. audio in: a leg in a meeting writes its frame into the mixer; a recording leg into its
//!    recorder; others drain their jitter buffer;
//! 4. the mixer mixes every meeting once;
//! 5. audio out: a meeting leg sends its mix; others their prompt, hold music, or silence;
//! 6. what the legs want sent goes out on their RTP or RTCP socket.
//!
//! A leg moves between the attendant, hold, the lobby and a meeting without touching its
//! socket or its SRTP state: only what it hears changes.
//!
//! Per talking leg and tick the engine makes one `recvmmsg` (its RTP) and one `sendto` (what
//! it sends), where it made three reads before (RTP until empty, RTCP); the tick allocates
//! nothing of its own. Legs live in a slab whose index is also their sockets' poll token, so a
//! ready socket finds its leg without a lookup. Measured with `plenum-loadgen`
//! (`benches/media_load.rs`): asking epoll about every RTP socket cost more than it saved, as
//! nearly every one has a packet every tick.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

use plenum_media::{FRAME_SAMPLES, FrameKind, Leg, LegConfig, TransmitKind};
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

/// What the SIP core asks.
pub enum Command {
    /// A new leg on these sockets.
    Open {
        /// The call.
        call: CallKey,
        /// RTP socket (bound, its port in our SDP).
        rtp: UdpSocket,
        /// RTCP socket (RTP port + 1).
        rtcp: UdpSocket,
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
        /// Named in `PlayFinished`.
        id: u64,
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
}

impl MediaEngine {
    /// Start the media thread.
    pub fn start(events: UnboundedSender<MediaEvent>, quiet_after: Duration) -> MediaEngine {
        let (tx, rx) = std::sync::mpsc::channel();
        let stats = Arc::new(EngineStats::default());
        let poll = match mio::Poll::new() {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(error = %e, "no epoll: every media socket is read every tick");
                None
            }
        };
        let worker = Worker {
            commands: rx,
            events,
            legs: Slab::default(),
            poll,
            ready: mio::Events::with_capacity(READY_PER_POLL),
            readable: Vec::new(),
            again: Vec::new(),
            batch: plenum_udp::RecvBatch::with_capacity(LEG_BATCH),
            finished: Vec::new(),
            mixer: Mixer::new(MixerConfig::default()),
            meetings: HashMap::new(),
            overlays: HashMap::new(),
            stats: Arc::clone(&stats),
            quiet_after,
        };
        let spawned = std::thread::Builder::new()
            .name("plenum-media".into())
            .spawn(move || worker.run());
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the media thread");
        }
        MediaEngine {
            commands: tx,
            stats,
        }
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

/// Readiness events taken per `epoll_wait`; more are taken in further calls.
const READY_PER_POLL: usize = 1024;
/// Datagrams one `recvmmsg` reads: a leg gets one a tick, a few more after a network hiccup.
const LEG_BATCH: usize = 16;
/// Datagrams one socket may deliver per tick (a flood cannot keep the tick busy); what is left
/// is read on the next tick.
const DATAGRAMS_PER_TICK: usize = 64;
/// Ticks without a datagram after which an RTP socket is parked in the poll instead of being
/// read every tick (100 ms: a peer on hold, or a phone that sends only comfort noise in
/// silence). Unparking costs nothing in latency: the poll reports the next datagram at once.
const PARK_AFTER: u32 = 5;

struct LegSlot {
    call: CallKey,
    leg: Leg,
    rtp: mio::net::UdpSocket,
    rtcp: mio::net::UdpSocket,
    /// Prompt lists and their ids, in order.
    play: std::collections::VecDeque<(u64, Player)>,
    /// Hold music or lobby music, under the prompts.
    music: Option<Player>,
    recorder: Option<Recorder>,
    participant: Option<(MeetingKey, ParticipantId)>,
    /// One digit per key press, whether it came in RTP, INFO or both.
    dedup: plenum_media::dtmf::DigitDeduplicator,
    /// Quiet reports sent since the last packet.
    quiet_reports: u32,
    opened: Instant,
    /// Ticks its RTP socket was read and had nothing.
    rtp_idle: u32,
    /// Its RTP socket waits in the poll instead of being read every tick.
    rtp_parked: bool,
    /// RTP goes out (not while the peer holds): prompts and the mix still advance, unheard.
    sending: bool,
}

/// The legs, by slot. A slot's index gives its sockets' poll tokens (`2·slot` for RTP,
/// `2·slot + 1` for RTCP); a freed slot is reused by the next leg.
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

    fn remove(&mut self, call: CallKey) -> Option<LegSlot> {
        let i = self.by_call.remove(&call)?;
        let l = self.slots.get_mut(i)?.take();
        self.free.push(i);
        l
    }
}

struct Worker {
    commands: Receiver<Command>,
    events: UnboundedSender<MediaEvent>,
    legs: Slab,
    /// Readiness of every leg's sockets; `None` if epoll is unavailable (every socket is then
    /// read every tick).
    poll: Option<mio::Poll>,
    ready: mio::Events,
    /// Tokens to read this tick, and those with datagrams left over for the next one.
    readable: Vec<usize>,
    again: Vec<usize>,
    batch: plenum_udp::RecvBatch,
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
                rtp,
                rtcp,
                config,
                send,
            } => self.open(call, rtp, rtcp, *config, send, now),
            Command::Remote {
                call,
                rtp,
                rtcp,
                send,
            } => {
                if let Some(l) = self.legs.get_mut(call) {
                    l.leg.set_remote(rtp, rtcp);
                    l.sending = send;
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
                if let Some(l) = self.legs.remove(call) {
                    self.close(l, now);
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
        rtp: UdpSocket,
        rtcp: UdpSocket,
        config: LegConfig,
        send: bool,
        now: Instant,
    ) {
        let _ = rtp.set_nonblocking(true);
        let _ = rtcp.set_nonblocking(true);
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
            rtp: mio::net::UdpSocket::from_std(rtp),
            rtcp: mio::net::UdpSocket::from_std(rtcp),
            play: std::collections::VecDeque::new(),
            music: None,
            recorder: None,
            participant: None,
            quiet_reports: 0,
            dedup: plenum_media::dtmf::DigitDeduplicator::default(),
            opened: now,
            rtp_idle: 0,
            rtp_parked: false,
            sending: send,
        };
        // The same call opened again: the old leg goes first (its slot is then the vacant one).
        if self.legs.contains(call) {
            self.leave(call);
            if let Some(old) = self.legs.remove(call) {
                self.close(old, now);
            }
        }
        let at = self.legs.vacant();
        if let Some(p) = &self.poll {
            let registered = p.registry().register(
                &mut slot.rtcp,
                mio::Token(2 * at + 1),
                mio::Interest::READABLE,
            );
            if let Err(e) = registered {
                // Unregistered, the leg would never be read: read every socket every tick.
                tracing::warn!(call, error = %e, "epoll registration failed: reading every media socket");
                self.poll = None;
            }
        }
        self.legs.insert(slot);
        self.count_legs();
    }

    /// A removed leg: its RTCP BYE, its sockets out of the poll (then closed).
    fn close(&mut self, mut l: LegSlot, now: Instant) {
        l.leg.close(now);
        flush(&mut l);
        if let Some(p) = &self.poll {
            if l.rtp_parked {
                let _ = p.registry().deregister(&mut l.rtp);
            }
            let _ = p.registry().deregister(&mut l.rtcp);
        }
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
        self.read_sockets(now);
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

    /// Read what arrived into the legs. An RTP socket is read every tick (its peer sends every
    /// 20 ms: asking epoll first would only add to the cost), unless it has been idle for
    /// [`PARK_AFTER`] ticks: then it is parked in the poll and read again once the poll says it
    /// has something. RTCP sockets (a report every few seconds) are only read when the poll
    /// says so. Without epoll every socket is read every tick.
    fn read_sockets(&mut self, now: Instant) {
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
            let Some(l) = self.legs.slots.get_mut(token / 2).and_then(Option::as_mut) else {
                continue;
            };
            if token % 2 == 0 {
                // A parked RTP socket woke up: back to being read every tick, from this one.
                if l.rtp_parked
                    && let Some(p) = &self.poll
                {
                    let _ = p.registry().deregister(&mut l.rtp);
                }
                l.rtp_parked = false;
                l.rtp_idle = 0;
            } else if read_socket(l.rtcp.as_raw_fd(), &mut l.leg, &mut self.batch, now).1 {
                self.again.push(token);
            }
        }
        for (slot, l) in self.legs.slots.iter_mut().enumerate() {
            let Some(l) = l.as_mut() else {
                continue;
            };
            if self.poll.is_none() {
                read_socket(l.rtcp.as_raw_fd(), &mut l.leg, &mut self.batch, now);
            }
            if l.rtp_parked && self.poll.is_some() {
                continue;
            }
            let (read, _) = read_socket(l.rtp.as_raw_fd(), &mut l.leg, &mut self.batch, now);
            if read > 0 {
                l.rtp_idle = 0;
                continue;
            }
            l.rtp_idle = l.rtp_idle.saturating_add(1);
            if l.rtp_idle >= PARK_AFTER
                && let Some(p) = &self.poll
            {
                // Registered after a read that found nothing: a datagram that came in between
                // is reported at once (epoll checks readiness on registration).
                l.rtp_parked = p
                    .registry()
                    .register(&mut l.rtp, mio::Token(2 * slot), mio::Interest::READABLE)
                    .is_ok();
            }
        }
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

    /// Per leg: its mix, or its prompt, music or silence, out on its socket.
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
                        let _ = self.events.send(MediaEvent::PlayFinished { call, id });
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
            flush(l);
        }
    }
}

fn input_kind(k: FrameKind) -> InputKind {
    match k {
        FrameKind::Speech => InputKind::Speech,
        FrameKind::Concealed => InputKind::Concealed,
        _ => InputKind::Silence,
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

/// Send what the leg wants sent.
fn flush(l: &mut LegSlot) {
    while let Some(t) = l.leg.poll_transmit() {
        let sock = match t.kind {
            TransmitKind::Rtcp => &l.rtcp,
            _ => &l.rtp,
        };
        let _ = sock.send_to(&t.bytes, t.to);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use plenum_media::Codec;

    /// Drive the peer's leg for up to `limit`: its packets out, ours counted; the digits the
    /// engine reported.
    fn exchange(
        peer: &UdpSocket,
        leg: &mut Leg,
        events: &mut tokio::sync::mpsc::UnboundedReceiver<MediaEvent>,
        limit: Duration,
        until_digit: bool,
    ) -> (Vec<(CallKey, char)>, usize) {
        let (mut heard, mut packets) = (Vec::new(), 0);
        let mut buf = [0u8; 2048];
        let t0 = Instant::now();
        while t0.elapsed() < limit && !(until_digit && !heard.is_empty() && packets >= 10) {
            let now = Instant::now();
            if leg.poll_timeout().is_some_and(|t| t <= now) {
                leg.handle_timeout(now);
            }
            while let Some(t) = leg.poll_transmit() {
                if t.kind == TransmitKind::Rtp {
                    peer.send_to(&t.bytes, t.to).unwrap();
                }
            }
            while peer.recv_from(&mut buf).is_ok() {
                packets += 1;
            }
            while let Ok(e) = events.try_recv() {
                if let MediaEvent::Digit { call, digit } = e {
                    heard.push((call, digit));
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        (heard, packets)
    }

    /// A leg on real loopback sockets: keys the peer sends in RFC 4733 reach the SIP core as
    /// digits (read with recvmmsg), also after the peer was silent long enough for its socket
    /// to be parked in the poll; the engine sends the peer a packet per tick; after the leg is
    /// closed and another opened in its slot, that one works too.
    #[test]
    fn a_leg_hears_keys_before_and_after_parking_and_its_slot_is_reused() {
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let engine = MediaEngine::start(tx, Duration::from_secs(5));
        for (call, key) in [(1u64, '5'), (2, '#')] {
            let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
            peer.set_nonblocking(true).unwrap();
            let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let rtcp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let ours = rtp.local_addr().unwrap();
            let mut config = LegConfig::new(7, Codec::PCMU);
            config.telephone_event_pt = Some(101);
            config.remote = Some(peer.local_addr().unwrap());
            engine.send(Command::Open {
                call,
                rtp,
                rtcp,
                config: Box::new(config),
                send: true,
            });
            let t0 = Instant::now();
            let mut theirs = LegConfig::new(9, Codec::PCMU);
            theirs.telephone_event_pt = Some(101);
            theirs.remote = Some(ours);
            let mut leg = Leg::new(theirs, t0).unwrap();
            leg.send_digit(key, Duration::from_millis(120), t0).unwrap();
            let second = Duration::from_secs(3);
            let (heard, packets) = exchange(&peer, &mut leg, &mut events, second, true);
            assert_eq!(heard, [(call, key)]);
            assert!(packets >= 10, "{packets} packets from the engine");
            // Silent well past PARK_AFTER ticks: the socket waits in the poll; a key wakes it.
            let quiet = TICK * (PARK_AFTER + 10);
            let (heard, _) = exchange(&peer, &mut leg, &mut events, quiet, false);
            assert!(heard.is_empty());
            leg.send_digit('9', Duration::from_millis(120), Instant::now())
                .unwrap();
            let (heard, _) = exchange(&peer, &mut leg, &mut events, second, true);
            assert_eq!(heard, [(call, '9')]);
            engine.send(Command::Close { call });
        }
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(
            engine
                .stats()
                .legs
                .load(std::sync::atomic::Ordering::Relaxed),
            0
        );
    }
}
