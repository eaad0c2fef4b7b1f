//! The media engine: one thread that owns every call's RTP leg, socket pair, prompt player,
//! recorder and the mixer, and drives them all on one fixed 20 ms tick (DESIGN §6: no thread
//! or timer per meeting, apart from signalling).
//!
//! The SIP core talks to it with [`Command`]s over a channel and hears back [`MediaEvent`]s
//! (digits, prompts finished, names recorded, dead legs). Each tick:
//! 1. commands are applied;
//! 2. every leg's sockets are drained into its [`Leg`] (SRTP, jitter buffer, RFC 4733);
//! 3. audio in: a leg in a meeting writes its frame into the mixer; a recording leg into its
//!    recorder; others drain their jitter buffer;
//! 4. the mixer mixes every meeting once;
//! 5. audio out: a meeting leg sends its mix; others their prompt, hold music, or silence;
//! 6. what the legs want sent goes out on their RTP or RTCP socket.
//!
//! A leg moves between the attendant, hold, the lobby and a meeting without touching its
//! socket or its SRTP state: only what it hears changes.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
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
    },
    /// A re-INVITE moved the peer.
    Remote {
        /// The call.
        call: CallKey,
        /// RTP address.
        rtp: Option<SocketAddr>,
        /// RTCP address.
        rtcp: Option<SocketAddr>,
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
        let worker = Worker {
            commands: rx,
            events,
            legs: HashMap::new(),
            mixer: Mixer::new(MixerConfig::default()),
            meetings: HashMap::new(),
            overlays: HashMap::new(),
            stats: Arc::clone(&stats),
            quiet_after,
            buf: vec![0u8; 2048],
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

struct LegSlot {
    leg: Leg,
    rtp: UdpSocket,
    rtcp: UdpSocket,
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
}

struct Worker {
    commands: Receiver<Command>,
    events: UnboundedSender<MediaEvent>,
    legs: HashMap<CallKey, LegSlot>,
    mixer: Mixer,
    meetings: HashMap<MeetingKey, MeetingId>,
    /// Mixer overlay → our announcement id.
    overlays: HashMap<plenum_mixer::OverlayId, u64>,
    stats: Arc<EngineStats>,
    quiet_after: Duration,
    buf: Vec<u8>,
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
            } => {
                let _ = rtp.set_nonblocking(true);
                let _ = rtcp.set_nonblocking(true);
                match Leg::new(*config, now) {
                    Ok(leg) => {
                        self.legs.insert(
                            call,
                            LegSlot {
                                leg,
                                rtp,
                                rtcp,
                                play: std::collections::VecDeque::new(),
                                music: None,
                                recorder: None,
                                participant: None,
                                quiet_reports: 0,
                                dedup: plenum_media::dtmf::DigitDeduplicator::default(),
                                opened: now,
                            },
                        );
                        self.stats
                            .legs
                            .store(self.legs.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                    Err(e) => tracing::warn!(call, error = %e, "cannot open a media leg"),
                }
            }
            Command::Remote { call, rtp, rtcp } => {
                if let Some(l) = self.legs.get_mut(&call) {
                    l.leg.set_remote(rtp, rtcp);
                }
            }
            Command::Play { call, id, segments } => {
                if let Some(l) = self.legs.get_mut(&call) {
                    l.play.push_back((id, Player::new(segments)));
                }
            }
            Command::Loop { call, segments } => {
                if let Some(l) = self.legs.get_mut(&call) {
                    l.music = Some(Player::looping(segments));
                }
            }
            Command::Stop { call } => {
                if let Some(l) = self.legs.get_mut(&call) {
                    l.play.clear();
                }
            }
            Command::InfoDigit { call, digit } => {
                let fresh = self.legs.get_mut(&call).is_some_and(|l| {
                    l.dedup
                        .offer(plenum_media::dtmf::DigitSource::Info, digit, now)
                });
                if fresh {
                    self.emit(MediaEvent::Digit { call, digit });
                }
            }
            Command::StopRecord { call } => {
                if let Some(r) = self.legs.get_mut(&call).and_then(|l| l.recorder.take()) {
                    let rec = r.finish();
                    self.emit(MediaEvent::Recorded {
                        call,
                        ms: rec.duration_ms,
                        samples: rec.samples,
                    });
                }
            }
            Command::Record { call, max_ms } => {
                if let Some(l) = self.legs.get_mut(&call) {
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
                if let Some((_, pid)) = self.legs.get(&call).and_then(|l| l.participant) {
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
                    .iter()
                    .filter(|(_, l)| l.participant.is_some_and(|(m, _)| m == meeting))
                    .map(|(c, _)| *c)
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
                if let Some(mut l) = self.legs.remove(&call) {
                    l.leg.close(now);
                    flush(&mut l);
                }
                self.stats
                    .legs
                    .store(self.legs.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    fn join(&mut self, call: CallKey, meeting: MeetingKey, settings: Settings) {
        if !self.legs.contains_key(&call) {
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
                if let Some(l) = self.legs.get_mut(&call) {
                    l.participant = Some((meeting, pid));
                    l.music = None;
                    l.play.clear();
                }
            }
            Err(e) => tracing::warn!(call, meeting, error = %e, "cannot join the mix"),
        }
    }

    fn leave(&mut self, call: CallKey) {
        if let Some((_, pid)) = self.legs.get_mut(&call).and_then(|l| l.participant.take()) {
            let _ = self.mixer.remove_participant(pid);
            self.mixer_events();
        }
    }

    fn announce(&mut self, meeting: MeetingKey, id: u64, clip: Arc<[i16]>, to: Listeners) {
        let pid = |c: CallKey| {
            self.legs
                .get(&c)
                .and_then(|l| l.participant)
                .map(|(_, p)| p)
        };
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
        let mut frame = [0i16; FRAME_SAMPLES];
        let mut finished = Vec::new();
        // In: sockets, then audio.
        for (call, l) in &mut self.legs {
            drain(&l.rtp, &mut l.leg, &mut self.buf, now);
            drain(&l.rtcp, &mut l.leg, &mut self.buf, now);
            if l.leg.poll_timeout().is_some_and(|t| t <= now) {
                l.leg.handle_timeout(now);
            }
            while let Some(d) = l.leg.poll_event() {
                if l.dedup
                    .offer(plenum_media::dtmf::DigitSource::Rtp, d.digit, d.started)
                {
                    let _ = self.events.send(MediaEvent::Digit {
                        call: *call,
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
                            finished.push(*call);
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
                    call: *call,
                    for_ms: quiet.as_millis() as u64,
                });
            }
        }
        for call in finished {
            if let Some(r) = self.legs.get_mut(&call).and_then(|l| l.recorder.take()) {
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
        // Out.
        for (call, l) in &mut self.legs {
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
                        let _ = self
                            .events
                            .send(MediaEvent::PlayFinished { call: *call, id });
                    }
                    if !playing && let Some(m) = l.music.as_mut() {
                        m.next_frame(&mut frame);
                    }
                    &frame
                }
            };
            if let Err(e) = l.leg.send_audio(out, now) {
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

/// Read what the socket holds into the leg.
fn drain(sock: &UdpSocket, leg: &mut Leg, buf: &mut [u8], now: Instant) {
    // A flood cannot keep the tick busy: at most this many datagrams per socket per tick.
    for _ in 0..64 {
        match sock.recv_from(buf) {
            Ok((n, from)) => leg.handle_datagram(buf.get(..n).unwrap_or_default(), from, now),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
            Err(_) => return,
        }
    }
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
