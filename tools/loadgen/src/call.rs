//! One load call: its SIP dialog (INVITE with digest when asked, ACK, BYE either way), its media
//! leg, the keys it presses, what it sends, and what it measures.
//!
//! A call goes `Pending → Inviting → Up → Ending → Done`. Once up it keys its entry (language,
//! conference ID, then the passcode or `*` extension PIN) with RFC 4733 digits, typed ahead as
//! callers who know the flow do; after the last key it listens for the attendant's next prompt
//! (the passcode or PIN was checked), ends a guest's name recording with `#` once that prompt has
//! been heard out, and counts itself in when it hears the leader's pilot tone in the mix (a
//! guest) or has heard the "joining" prompt to its end (the leader, alone in the meeting at
//! first). The leader sends the pilot from the start; a guest sends silence until it is in, then
//! talks in spurts of its own tone. Both send a packet every 20 ms, as a PSTN gateway does
//! (with `dtx`, a guest in the meeting sends only a frame every 200 ms between its spurts).
//!
//! What the call hears is read packet by packet as it arrives (no jitter buffer: the moments
//! measured are arrival times). Until it is in, every audio packet is decrypted and decoded for
//! the silence and pilot tests; once in, only the RTP header is read: sequence numbers give the
//! loss, arrival times against the 20 ms grid give the lateness.
//!
//! Does not own: sockets, readiness and timing (`engine.rs`), the run's phases.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use plenum_media::srtp::SrtpSession;
use plenum_media::{Codec, FRAME_SAMPLES, Leg, LegConfig, SrtpConfig, SrtpSuite, Transmit};
use plenum_sdp::{CodecKind, LocalMedia, Negotiated, SrtpPolicy};
use plenum_sip::auth::{Challenge, ClientAnswer};
use plenum_sip::compose;
use plenum_sip::dialog::Dialog;
use plenum_sip::endpoint::{ClientTxId, Endpoint, Flow, ServerTxId};
use plenum_sip::headers::SipHeaders;
use plenum_sip::{HeaderName, Headers, Method, Request, Response, Uri};

use crate::audio::{self, Spurts};
use crate::rtp;

/// The media tick.
pub const TICK: Duration = Duration::from_millis(20);
/// How long a key is held, and the pause after it.
const KEY_HOLD: Duration = Duration::from_millis(100);
const KEY_GAP: Duration = Duration::from_millis(80);
/// Silence after answering before the first key.
const LEAD_IN: Duration = Duration::from_millis(300);
/// Silent frames after the last key before a sound counts as the next prompt.
const QUIET_BEFORE_PROMPT: u32 = 3;
/// Silent frames that end the name prompt (it has commas; 400 ms is longer than its pauses).
const NAME_PROMPT_ENDED: u32 = 20;
/// Silent frames after the "joining" prompt that say the leader is in.
const LEADER_SETTLED: u32 = 30;
/// Pilot frames in a row that say a guest hears the mix (the first of them is the moment).
const PILOT_FRAMES: u32 = 3;
/// A name-recording `#` is pressed again this often until the call is in (the first may have
/// landed while the prompt still played).
const NAME_KEY_AGAIN: Duration = Duration::from_millis(1500);
const NAME_KEY_TRIES: u32 = 5;
/// With DTX, a silent guest still sends one frame in this many (200 ms: a phone's comfort
/// noise updates).
const DTX_KEEPALIVE: u32 = 10;
/// A frame of digital silence.
const SILENCE: [i16; FRAME_SAMPLES] = [0; FRAME_SAMPLES];

/// What a call does in its meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The organizer, signed in (PIN or digest): the meeting's leader, sends the pilot.
    Leader,
    /// A guest (passcode) or attendee (digest): talks in spurts.
    Guest,
}

/// Everything fixed about a call before it starts.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Call number in the run.
    pub index: usize,
    /// Meeting number in the run.
    pub meeting: usize,
    /// Leader or guest.
    pub role: Role,
    /// The keys of its entry, in order.
    pub keys: Vec<char>,
    /// Whether the attendant records its name (press `#` after the prompt).
    pub records_name: bool,
    /// The number dialled (the Request-URI's user part).
    pub dial: String,
    /// The user part of its From.
    pub from_user: String,
    /// The host of its From (an address for a gateway, the tenant's domain for a user).
    pub from_host: String,
    /// Digest username and password, for a user.
    pub auth: Option<(String, String)>,
    /// Whether it offers SRTP (`RTP/SAVP` with `a=crypto`).
    pub srtp: bool,
    /// Whether a guest in the meeting sends nothing while silent (voice activity detection, as
    /// many SIP phones do) instead of a silent packet every 20 ms (as PSTN gateways do).
    pub dtx: bool,
    /// Stay this long in the meeting, then hang up (`None`: until the run ends).
    pub hold: Option<Duration>,
    /// Give up (hang up, count it failed) if not in the meeting this long after the INVITE.
    pub join_timeout: Duration,
    /// A received frame this much behind its 20 ms slot counts as late.
    pub late_after: Duration,
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not started.
    Pending,
    /// INVITE sent, no final response yet.
    Inviting,
    /// Answered and acknowledged.
    Up,
    /// BYE sent.
    Ending,
    /// Over.
    Done,
}

/// Where the call's media is on our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr {
    /// The address the media sockets are bound to.
    pub ip: IpAddr,
    /// The RTP port (RTCP is the next one).
    pub rtp_port: u16,
    /// The engine's number of that socket pair.
    pub pair: usize,
}

/// The leg and what reading the server's packets needs.
pub struct Media {
    /// The socket pair the call sends and receives on.
    pub pair: usize,
    /// The server's RTP address.
    pub remote_rtp: SocketAddr,
    /// The server's RTCP address.
    pub remote_rtcp: SocketAddr,
    leg: Leg,
    audio_pt: u8,
    codec: CodecKind,
    /// Reads what the server sends under SRTP (the leg only protects what we send).
    srtp_in: Option<SrtpSession>,
    /// The last packet decrypted, reused.
    plain: Vec<u8>,
}

/// What the engine gives a call to act with.
pub struct Ctx<'a> {
    /// The thread's SIP endpoint.
    pub endpoint: &'a mut Endpoint,
    /// The flow to the server.
    pub flow: Flow,
    /// Now.
    pub now: Instant,
}

/// What a call asks the engine to note after a SIP event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Nothing.
    Nothing,
    /// A new client transaction belongs to this call.
    Tx(ClientTxId),
    /// The media is up: the server's RTP and RTCP addresses belong to this call.
    MediaUp(SocketAddr, SocketAddr),
}

/// One timestamped moment of a call, for the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Times {
    /// INVITE sent (the first one, before any challenge).
    pub invite: Option<Instant>,
    /// The 2xx arrived.
    pub answered: Option<Instant>,
    /// The first RTP packet arrived.
    pub first_rtp: Option<Instant>,
    /// The first non-silent audio arrived (the welcome prompt).
    pub first_prompt: Option<Instant>,
    /// The last key of the entry was sent (its first packet).
    pub last_key: Option<Instant>,
    /// The attendant's next prompt began after the last key (the passcode or PIN was checked).
    pub verified: Option<Instant>,
    /// The first `#` that ends the name recording.
    pub name_key: Option<Instant>,
    /// In the meeting (guest: the pilot was heard; leader: the joining prompt was over).
    pub joined: Option<Instant>,
    /// We hung up (hold over, or the run's end).
    pub left: Option<Instant>,
}

/// Received-packet counters over the measurement window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// Whether the window is open.
    pub open: bool,
    /// Whether the call was in the meeting when the window opened (only those are counted).
    pub whole: bool,
    /// Audio packets received in it.
    pub packets: u64,
    /// Packets that arrived more than `late_after` behind their 20 ms slot.
    pub late: u64,
    /// The largest lateness, µs.
    pub max_late_us: u64,
    /// Packets the sequence numbers say were sent but never arrived.
    pub lost: u64,
    grid: Option<Grid>,
}

/// The 20 ms grid a call's packets are expected on: the first packet of the window fixes the
/// origin, the earliest packet seen since (relative to the grid) the on-time line.
#[derive(Debug, Clone, Copy)]
struct Grid {
    first_at: Instant,
    first_seq: u64,
    highest_seq: u64,
    /// The smallest arrival offset from the grid seen, µs (≤ 0).
    earliest_us: i64,
}

/// One load call.
pub struct Call {
    /// Its plan.
    pub plan: Plan,
    /// Its state.
    pub state: State,
    /// Why it failed, if it did.
    pub failure: Option<String>,
    /// Its moments.
    pub times: Times,
    /// Its window counters.
    pub window: Window,
    /// Its leg, while it has one.
    pub media: Option<Media>,
    call_id: String,
    from_tag: String,
    cseq: u32,
    invite: Option<Request>,
    invite_tx: Option<ClientTxId>,
    authenticated: bool,
    cancelled: bool,
    offer: Option<plenum_sdp::Offer>,
    dialog: Option<Dialog>,
    pair: usize,
    next_key: usize,
    next_key_at: Option<Instant>,
    quiet: u32,
    after_prompt_quiet: u32,
    pilot_run: u32,
    pilot_since: Option<Instant>,
    name_keys: u32,
    spurts: Spurts,
    dtx_frames: u32,
    tone: [i16; FRAME_SAMPLES],
    /// Extended sequence number of the last packet heard (`None` before the first).
    seq: Option<u64>,
    decoded: [i16; FRAME_SAMPLES],
}

impl Call {
    /// A call not yet started.
    pub fn new(plan: Plan) -> Call {
        let tone = match plan.role {
            Role::Leader => audio::tone_frame(audio::PILOT_HZ, audio::PILOT_AMPLITUDE),
            Role::Guest => audio::tone_frame(audio::guest_hz(plan.index), audio::GUEST_AMPLITUDE),
        };
        Call {
            spurts: Spurts::new(plan.index),
            plan,
            state: State::Pending,
            failure: None,
            times: Times::default(),
            window: Window::default(),
            media: None,
            call_id: String::new(),
            from_tag: String::new(),
            cseq: 0,
            invite: None,
            invite_tx: None,
            authenticated: false,
            cancelled: false,
            offer: None,
            dialog: None,
            pair: 0,
            next_key: 0,
            next_key_at: None,
            quiet: 0,
            after_prompt_quiet: 0,
            pilot_run: 0,
            pilot_since: None,
            name_keys: 0,
            tone,
            dtx_frames: 0,
            seq: None,
            decoded: [0; FRAME_SAMPLES],
        }
    }

    /// Its Call-ID (empty before it starts).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Whether it is in its meeting.
    pub fn joined(&self) -> bool {
        self.times.joined.is_some()
    }

    /// Whether it is over (done, or failed and hanging up).
    pub fn finished(&self) -> bool {
        matches!(self.state, State::Done | State::Ending)
    }

    /// Send the INVITE offering media at `local`; the transaction to route responses by, or
    /// `None` when the call could not even start (it is then failed and done).
    pub fn start(&mut self, ctx: &mut Ctx<'_>, local: LocalAddr) -> Option<ClientTxId> {
        self.call_id = ctx.endpoint.new_call_id(&self.plan.from_host);
        self.from_tag = ctx.endpoint.new_tag();
        self.times.invite = Some(ctx.now);
        self.pair = local.pair;
        let mut media = LocalMedia::new(local.ip, local.rtp_port, rand::random::<u64>() >> 2);
        media.codecs = vec![CodecKind::Pcmu];
        media.srtp = if self.plan.srtp {
            SrtpPolicy::Required
        } else {
            SrtpPolicy::Off
        };
        media.username = "loadgen".to_owned();
        let offer = plenum_sdp::offer(&media, &mut || rand::random());
        self.cseq = 1;
        let Some(invite) = self.invite_request(ctx.flow, offer.sdp(), None) else {
            self.fail("cannot build the INVITE (bad number or address)");
            self.state = State::Done;
            return None;
        };
        self.offer = Some(offer);
        self.invite = Some(invite.clone());
        self.state = State::Inviting;
        let tx = ctx.endpoint.send_request(invite, ctx.flow, ctx.now);
        self.invite_tx = Some(tx);
        Some(tx)
    }

    fn invite_request(
        &self,
        flow: Flow,
        sdp: &str,
        authorization: Option<(HeaderName, String)>,
    ) -> Option<Request> {
        let server = flow.remote;
        let uri = Uri::parse(&format!("sip:{}@{server}", self.plan.dial))?;
        let mut h = Headers::new();
        h.push(
            HeaderName::FROM,
            format!(
                "<sip:{}@{}>;tag={}",
                self.plan.from_user, self.plan.from_host, self.from_tag
            ),
        );
        h.push(
            HeaderName::TO,
            format!("<sip:{}@{}>", self.plan.dial, server.ip()),
        );
        h.push(HeaderName::CALL_ID, self.call_id.clone());
        h.push(HeaderName::CSEQ, format!("{} INVITE", self.cseq));
        h.push(
            HeaderName::CONTACT,
            format!("<sip:{}@{}>", self.plan.from_user, flow.local),
        );
        h.push(HeaderName::MAX_FORWARDS, "70");
        if let Some((name, value)) = authorization {
            h.push(name, value);
        }
        h.push(HeaderName::CONTENT_TYPE, "application/sdp");
        Some(Request {
            method: Method::Invite,
            uri,
            headers: h,
            body: Bytes::copy_from_slice(sdp.as_bytes()),
        })
    }

    /// A response to one of the call's requests.
    pub fn on_response(&mut self, ctx: &mut Ctx<'_>, response: &Response) -> Note {
        let to_invite = response.cseq().is_ok_and(|c| c.method == Method::Invite);
        let code = response.code;
        if !to_invite {
            // The BYE's answer (or the CANCEL's): whatever it is, the call is over.
            if code >= 200 && self.state == State::Ending {
                self.state = State::Done;
            }
            return Note::Nothing;
        }
        match code {
            100..=199 => Note::Nothing,
            200..=299 => self.answered(ctx, response),
            401 | 407 if self.plan.auth.is_some() && !self.authenticated => {
                self.authenticate(ctx, response)
            }
            _ => {
                if matches!(self.state, State::Inviting | State::Ending) {
                    if self.cancelled {
                        self.fail("no answer before the run ended (cancelled)");
                    } else if self.state == State::Inviting {
                        self.fail(&format!("INVITE answered {code}"));
                    }
                    self.state = State::Done;
                }
                Note::Nothing
            }
        }
    }

    /// Answer a digest challenge to the INVITE once.
    fn authenticate(&mut self, ctx: &mut Ctx<'_>, response: &Response) -> Note {
        self.authenticated = true;
        let (challenges, header) = if response.code == 407 {
            (
                HeaderName::PROXY_AUTHENTICATE,
                HeaderName::PROXY_AUTHORIZATION,
            )
        } else {
            (HeaderName::WWW_AUTHENTICATE, HeaderName::AUTHORIZATION)
        };
        let challenge = Challenge::strongest(response.headers.values(&challenges));
        let (Some(challenge), Some((user, password)), Some(offer)) =
            (challenge, self.plan.auth.as_ref(), self.offer.as_ref())
        else {
            self.fail(&format!(
                "INVITE answered {} without a usable challenge",
                response.code
            ));
            self.state = State::Done;
            return Note::Nothing;
        };
        let uri = format!("sip:{}@{}", self.plan.dial, ctx.flow.remote);
        let cnonce = format!("{:016x}", rand::random::<u64>());
        let value = challenge.authorization(&ClientAnswer {
            username: user,
            password,
            method: "INVITE",
            uri: &uri,
            nc: 1,
            cnonce: &cnonce,
        });
        self.cseq += 1;
        let sdp = offer.sdp().to_owned();
        let Some(invite) = self.invite_request(ctx.flow, &sdp, Some((header, value))) else {
            self.state = State::Done;
            return Note::Nothing;
        };
        self.invite = Some(invite.clone());
        let tx = ctx.endpoint.send_request(invite, ctx.flow, ctx.now);
        self.invite_tx = Some(tx);
        Note::Tx(tx)
    }

    /// The INVITE's 2xx: ACK it, read the answer, open the leg.
    fn answered(&mut self, ctx: &mut Ctx<'_>, response: &Response) -> Note {
        if let Some(d) = &self.dialog {
            // A retransmitted 2xx: its ACK was lost.
            let ack = d.ack(self.cseq);
            ctx.endpoint.send_request(ack, ctx.flow, ctx.now);
            return Note::Nothing;
        }
        let Some(invite) = self.invite.as_ref() else {
            return Note::Nothing;
        };
        let dialog = match Dialog::uac(invite, response, ctx.flow) {
            Ok(d) => d,
            Err(e) => {
                self.fail(&format!("unreadable 2xx: {e}"));
                self.state = State::Done;
                return Note::Nothing;
            }
        };
        ctx.endpoint
            .send_request(dialog.ack(self.cseq), ctx.flow, ctx.now);
        self.dialog = Some(dialog);
        self.times.answered = Some(ctx.now);
        self.state = State::Up;
        if self.cancelled {
            self.hang_up(ctx);
            return Note::Nothing;
        }
        let agreed = self
            .offer
            .as_ref()
            .map(|o| o.accept(&response.body).map_err(|e| e.to_string()));
        let media = match agreed {
            Some(Ok(n)) => Media::new(&n, self.pair, ctx.now),
            Some(Err(e)) => Err(format!("SDP answer refused: {e}")),
            None => Err("no offer".to_owned()),
        };
        match media {
            Ok(m) => {
                let note = Note::MediaUp(m.remote_rtp, m.remote_rtcp);
                self.media = Some(m);
                self.next_key_at = Some(ctx.now + LEAD_IN);
                note
            }
            Err(e) => {
                self.fail(&e);
                self.hang_up(ctx);
                Note::Nothing
            }
        }
    }

    /// A request from the server in this call's dialog.
    pub fn on_request(&mut self, ctx: &mut Ctx<'_>, tx: ServerTxId, request: &Request) {
        let response = compose::response(request, 200, None);
        ctx.endpoint.respond(tx, response, ctx.now);
        if request.method != Method::Bye {
            return;
        }
        if matches!(self.state, State::Up | State::Inviting) {
            if !self.joined() {
                self.fail("the server hung up during the entry");
            } else if self.plan.hold.is_none() {
                self.fail("the server hung up in the meeting");
            }
        }
        if self.state != State::Done {
            self.times.left.get_or_insert(ctx.now);
        }
        self.state = State::Done;
    }

    /// One of the call's requests got no final response.
    pub fn on_timeout(&mut self) {
        match self.state {
            State::Inviting => {
                self.fail("INVITE timed out");
                self.state = State::Done;
            }
            State::Ending => self.state = State::Done,
            _ => {}
        }
    }

    /// Hang up: BYE when up, CANCEL while inviting. The BYE's transaction, if one was sent.
    pub fn hang_up(&mut self, ctx: &mut Ctx<'_>) -> Option<ClientTxId> {
        match self.state {
            State::Up => {
                let dialog = self.dialog.as_mut()?;
                let bye = dialog.request(Method::Bye, None);
                self.state = State::Ending;
                self.times.left.get_or_insert(ctx.now);
                if let Some(m) = self.media.as_mut() {
                    m.leg.close(ctx.now);
                }
                Some(ctx.endpoint.send_request(bye, ctx.flow, ctx.now))
            }
            State::Inviting => {
                self.cancelled = true;
                let tx = self.invite_tx?;
                ctx.endpoint.cancel(tx, ctx.now)
            }
            State::Pending => {
                self.state = State::Done;
                None
            }
            State::Ending | State::Done => None,
        }
    }

    /// Record why the call failed (the first reason wins).
    pub fn fail(&mut self, why: &str) {
        if self.failure.is_none() {
            self.failure = Some(why.to_owned());
        }
    }

    /// The call's 20 ms media turn: keys, the frame it sends, the leg's timers; what to send
    /// goes to `out` with the call's socket pair. `true` when the call wants to hang up (its
    /// hold is over, or it gave up entering).
    pub fn media_tick(&mut self, now: Instant, out: &mut Vec<(usize, Transmit)>) -> bool {
        if self.state != State::Up {
            return false;
        }
        self.press_keys(now);
        let joined = self.joined();
        let talking = joined && self.spurts.next_frame();
        let Some(m) = self.media.as_mut() else {
            return false;
        };
        if m.leg.poll_timeout().is_some_and(|t| t <= now) {
            m.leg.handle_timeout(now);
        }
        let frame = match self.plan.role {
            Role::Leader => Some(&self.tone),
            Role::Guest if talking => Some(&self.tone),
            // Comfort noise now and then, as a phone with VAD sends: the server sees the leg
            // alive.
            Role::Guest if joined && self.plan.dtx => {
                self.dtx_frames = (self.dtx_frames + 1) % DTX_KEEPALIVE;
                (self.dtx_frames == 0).then_some(&SILENCE)
            }
            Role::Guest => Some(&SILENCE),
        };
        if let Some(frame) = frame {
            let _ = m.leg.send_audio(frame, now);
        }
        while let Some(t) = m.leg.poll_transmit() {
            out.push((m.pair, t));
        }
        self.deadlines(now)
    }

    /// The entry's keys, typed ahead; then the name-recording `#` again while not in.
    fn press_keys(&mut self, now: Instant) {
        if let Some(at) = self.next_key_at
            && at <= now
            && let Some(&key) = self.plan.keys.get(self.next_key)
        {
            self.send_key(key, now);
            self.next_key += 1;
            if self.next_key == self.plan.keys.len() {
                self.times.last_key = Some(now);
                self.next_key_at = None;
            } else {
                self.next_key_at = Some(now + KEY_HOLD + KEY_GAP);
            }
        }
        if let Some(first) = self.times.name_key
            && !self.joined()
            && (1..NAME_KEY_TRIES).contains(&self.name_keys)
            && first + NAME_KEY_AGAIN * self.name_keys <= now
        {
            self.send_key('#', now);
            self.name_keys += 1;
        }
    }

    fn send_key(&mut self, key: char, now: Instant) {
        let sent = self
            .media
            .as_mut()
            .map(|m| m.leg.send_digit(key, KEY_HOLD, now));
        if let Some(Err(e)) = sent {
            self.fail(&format!("cannot send key: {e}"));
        }
    }

    /// Whether the call gives up entering, or its hold is over.
    fn deadlines(&mut self, now: Instant) -> bool {
        let started = self.times.invite.unwrap_or(now);
        match self.times.joined {
            None if now.saturating_duration_since(started) >= self.plan.join_timeout => {
                let why = self.stuck_at();
                self.fail(&why);
                true
            }
            Some(at) => self
                .plan
                .hold
                .is_some_and(|h| now.saturating_duration_since(at) >= h),
            None => false,
        }
    }

    /// Where an entry that timed out stopped.
    fn stuck_at(&self) -> String {
        let t = &self.times;
        let stage = if t.first_prompt.is_none() {
            "no prompt heard"
        } else if t.last_key.is_none() {
            "keys not all sent"
        } else if t.verified.is_none() {
            "no prompt after the last key (passcode or PIN not accepted?)"
        } else if self.plan.role == Role::Leader {
            "the joining prompt never ended"
        } else {
            "the pilot never heard (not in the mix, or no leader)"
        };
        format!("not in the meeting in time: {stage}")
    }

    /// An RTP datagram from the server's leg.
    pub fn on_rtp(&mut self, datagram: &[u8], now: Instant) {
        let Some(m) = self.media.as_mut() else {
            return;
        };
        let Some(h) = rtp::parse(datagram) else {
            return;
        };
        if h.payload_type != m.audio_pt {
            return;
        }
        self.times.first_rtp.get_or_insert(now);
        let ext = extend_seq(self.seq, h.sequence);
        self.seq = Some(ext.max(self.seq.unwrap_or(0)));
        if self.times.joined.is_some() {
            if self.window.open && self.window.whole {
                self.window.arrive(ext, now, self.plan.late_after);
            }
            return;
        }
        let Some(n) = m.samples(datagram, &h, &mut self.decoded) else {
            return;
        };
        let frame = self.decoded;
        self.hear(frame.get(..n).unwrap_or_default(), now);
    }

    /// What an entering call makes of one received frame.
    fn hear(&mut self, frame: &[i16], now: Instant) {
        let silent = audio::is_silent(frame);
        if !silent && self.times.first_prompt.is_none() {
            self.times.first_prompt = Some(now);
        }
        if self.times.last_key.is_none() {
            return;
        }
        if self.times.verified.is_none() {
            if silent {
                self.quiet += 1;
            } else if self.quiet >= QUIET_BEFORE_PROMPT {
                self.times.verified = Some(now);
            } else {
                self.quiet = 0;
            }
        }
        match self.plan.role {
            Role::Guest => self.guest_hears(frame, silent, now),
            Role::Leader => self.leader_hears(silent, now),
        }
    }

    fn guest_hears(&mut self, frame: &[i16], silent: bool, now: Instant) {
        if audio::has_pilot(frame) {
            self.pilot_run += 1;
            let since = *self.pilot_since.get_or_insert(now);
            if self.pilot_run >= PILOT_FRAMES {
                self.times.joined = Some(since);
            }
            return;
        }
        self.pilot_run = 0;
        self.pilot_since = None;
        if !self.plan.records_name || self.name_keys > 0 || self.times.verified.is_none() {
            return;
        }
        self.after_prompt_quiet = if silent {
            self.after_prompt_quiet + 1
        } else {
            0
        };
        if self.after_prompt_quiet >= NAME_PROMPT_ENDED {
            self.send_key('#', now);
            self.name_keys = 1;
            self.times.name_key = Some(now);
        }
    }

    fn leader_hears(&mut self, silent: bool, now: Instant) {
        if self.times.verified.is_none() {
            return;
        }
        self.after_prompt_quiet = if silent {
            self.after_prompt_quiet + 1
        } else {
            0
        };
        if self.after_prompt_quiet >= LEADER_SETTLED {
            self.times.joined = Some(now);
        }
    }

    /// Open the measurement window: only calls in the meeting now are counted.
    pub fn open_window(&mut self) {
        self.window = Window {
            open: true,
            whole: self.joined() && self.state == State::Up,
            ..Window::default()
        };
    }

    /// Close it; the loss is counted now.
    pub fn close_window(&mut self) {
        self.window.open = false;
        self.window.whole &= self.state == State::Up;
        self.window.lost = self.window.missing();
    }
}

impl Media {
    fn new(n: &Negotiated, pair: usize, now: Instant) -> Result<Media, String> {
        let codec = match n.codec.kind {
            CodecKind::Pcmu => Codec::Pcmu {
                payload_type: n.codec.pt,
            },
            CodecKind::Pcma => Codec::Pcma {
                payload_type: n.codec.pt,
            },
        };
        if n.telephone_event_pt.is_none() {
            return Err("the answer has no telephone-event".to_owned());
        }
        let mut config = LegConfig::new(rand::random(), codec);
        config.telephone_event_pt = n.telephone_event_pt;
        config.remote = Some(n.remote_rtp);
        config.remote_rtcp = Some(n.remote_rtcp);
        let mut srtp_in = None;
        if let Some(k) = &n.srtp {
            let suite = match k.suite {
                plenum_sdp::SrtpSuite::AesCm128HmacSha1_32 => SrtpSuite::Aes128CmHmacSha1_32,
                _ => SrtpSuite::Aes128CmHmacSha1_80,
            };
            config.srtp = Some(SrtpConfig {
                suite,
                local_key_salt: k.ours,
                remote_key_salt: k.theirs,
            });
            let session = SrtpSession::new(suite, &k.ours, &k.theirs)
                .map_err(|e| format!("SRTP key: {e}"))?;
            srtp_in = Some(session);
        }
        let leg = Leg::new(config, now).map_err(|e| format!("cannot open the leg: {e}"))?;
        Ok(Media {
            pair,
            remote_rtp: n.remote_rtp,
            remote_rtcp: n.remote_rtcp,
            leg,
            audio_pt: n.codec.pt,
            codec: n.codec.kind,
            srtp_in,
            plain: Vec::with_capacity(2048),
        })
    }

    /// The samples of an audio packet (decrypted first under SRTP) into `out`; how many.
    fn samples(
        &mut self,
        datagram: &[u8],
        h: &rtp::Header,
        out: &mut [i16; FRAME_SAMPLES],
    ) -> Option<usize> {
        let payload = match self.srtp_in.as_mut() {
            None => datagram.get(h.payload.clone())?,
            Some(session) => {
                session.unprotect_rtp(datagram, &mut self.plain).ok()?;
                let h = rtp::parse(&self.plain)?;
                self.plain.get(h.payload)?
            }
        };
        let payload = payload.get(..FRAME_SAMPLES).unwrap_or(payload);
        Some(match self.codec {
            CodecKind::Pcmu => plenum_media::g711::ulaw_decode_into(payload, out),
            CodecKind::Pcma => plenum_media::g711::alaw_decode_into(payload, out),
        })
    }
}

impl Window {
    /// A packet with extended sequence number `seq` arrived at `now`.
    fn arrive(&mut self, seq: u64, now: Instant, late_after: Duration) {
        let Some(g) = self.grid.as_mut() else {
            self.grid = Some(Grid {
                first_at: now,
                first_seq: seq,
                highest_seq: seq,
                earliest_us: 0,
            });
            self.packets += 1;
            return;
        };
        if seq < g.first_seq {
            return;
        }
        let slot_us = (seq - g.first_seq) as i64 * TICK.as_micros() as i64;
        let offset = now.saturating_duration_since(g.first_at).as_micros() as i64 - slot_us;
        g.earliest_us = g.earliest_us.min(offset);
        g.highest_seq = g.highest_seq.max(seq);
        let late = (offset - g.earliest_us).unsigned_abs();
        if late > late_after.as_micros() as u64 {
            self.late += 1;
        }
        self.max_late_us = self.max_late_us.max(late);
        self.packets += 1;
    }

    /// Packets sent in the window that never arrived (so far).
    fn missing(&self) -> u64 {
        self.grid.map_or(0, |g| {
            (g.highest_seq - g.first_seq + 1).saturating_sub(self.packets)
        })
    }
}

/// The extended (wrap-free) sequence number of `seq`, given the last one.
fn extend_seq(last: Option<u64>, seq: u16) -> u64 {
    let Some(last) = last else {
        // Room below for packets that come slightly out of order.
        return (1 << 16) + u64::from(seq);
    };
    let base = last & !0xffff;
    let candidate = base | u64::from(seq);
    [
        candidate.saturating_sub(1 << 16),
        candidate,
        candidate + (1 << 16),
    ]
    .into_iter()
    .min_by_key(|c| c.abs_diff(last))
    .unwrap_or(candidate)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn sequence_numbers_extend_across_the_wrap() {
        let a = extend_seq(None, 65_534);
        let b = extend_seq(Some(a), 65_535);
        let c = extend_seq(Some(b), 0);
        let d = extend_seq(Some(c), 1);
        assert_eq!([b - a, c - b, d - c], [1, 1, 1]);
        // A late packet from before the wrap stays behind.
        assert_eq!(extend_seq(Some(d), 65_535), b);
    }

    #[test]
    fn lateness_is_measured_against_the_earliest_arrival_on_the_grid() {
        let t0 = Instant::now();
        let late_after = Duration::from_millis(10);
        let mut w = Window {
            open: true,
            whole: true,
            ..Window::default()
        };
        let ms = Duration::from_millis;
        // Packet 0 on time, 1 at +3 ms (jitter, not late), 2 lost, 3 at +15 ms (late), 4 early
        // by 2 ms (it moves the on-time line), 5 on the grid (2 ms behind that line).
        w.arrive(100, t0, late_after);
        w.arrive(101, t0 + ms(23), late_after);
        w.arrive(103, t0 + ms(75), late_after);
        w.arrive(104, t0 + ms(78), late_after);
        w.arrive(105, t0 + ms(100), late_after);
        assert_eq!(w.packets, 5);
        assert_eq!(w.late, 1);
        assert_eq!(w.max_late_us, 15_000);
        assert_eq!(w.missing(), 1);
    }
}
