//! The meeting mixer.
//!
//! Owns: the participants and meetings of one media worker, each participant's input and output
//! frame, its settings (mute, gain, parked, dial-in), the mix itself, the announcer's overlays
//! and their events. Does not own: where the frames come from and go to (the worker pulls them
//! from the jitter buffers and encodes them), when to tick (the worker's 20 ms schedule), and
//! which clips to play (the conference core). How a tick mixes is described on [`Mixer`].

use std::collections::VecDeque;
use std::mem;
use std::sync::Arc;

use crate::overlay::{self, Events, Overlay};
use crate::slab::Slab;
use crate::{Error, FRAME, Frame, Gain, peak, saturate};

/// A participant of a [`Mixer`]. Copyable; stale ids (of removed participants) are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId {
    index: u32,
    generation: u32,
}

/// A meeting of a [`Mixer`]. Copyable; stale ids (of removed meetings) are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeetingId {
    index: u32,
    generation: u32,
}

/// An overlay queued by [`Mixer::announce`], named again in its [`Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OverlayId(u64);

/// What an input frame contains, as the jitter buffer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputKind {
    /// Received audio.
    Speech,
    /// Packet loss concealment: mixed like speech.
    Concealed,
    /// Nothing to play: the samples are not even looked at.
    #[default]
    Silence,
}

/// The per-participant state a caller controls. Kept across moves between meetings, and
/// handed back by [`Mixer::remove_participant`] so it can be restored later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Its audio never enters the mix.
    pub muted: bool,
    /// Applied to its input before mixing (saturating).
    pub gain: Gain,
    /// It hears the meeting's audio and the meeting's overlays. A parked participant (`false`)
    /// hears only its private overlays ([`Audience::Only`]); it is still heard unless muted.
    pub hears: bool,
    /// A dial-in (PSTN) participant: reached by [`Audience::DialIn`] overlays.
    pub dial_in: bool,
}

impl Default for Settings {
    /// Not muted, unity gain, hearing the meeting, not dial-in.
    fn default() -> Settings {
        Settings {
            muted: false,
            gain: Gain::UNITY,
            hears: true,
            dial_in: false,
        }
    }
}

/// Who hears an overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every participant of the meeting that hears it.
    All,
    /// Only the dial-in participants ([`Settings::dial_in`]) that hear the meeting.
    DialIn,
    /// Every participant that hears the meeting except this one.
    AllExcept(ParticipantId),
    /// A private prompt for this participant only (help, roll call), played from its own
    /// queue, heard even while it is parked. Its queue stays with it when it moves.
    Only(ParticipantId),
}

impl Audience {
    fn reaches(self, id: ParticipantId, dial_in: bool) -> bool {
        match self {
            Audience::All => true,
            Audience::DialIn => dial_in,
            Audience::AllExcept(other) => other != id,
            Audience::Only(one) => one == id,
        }
    }
}

/// What happened to an overlay; polled with [`Mixer::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The overlay's last sample was played on the tick that reported it.
    Finished(OverlayId),
    /// The overlay was cancelled ([`Mixer::cancel`]) or its meeting or participant removed.
    Cancelled(OverlayId),
}

/// Tuning of a [`Mixer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MixerConfig {
    /// A frame whose peak absolute sample (after the participant's gain) is below this is
    /// silent and not mixed. Default 32 (about −60 dBFS): only idle-channel noise.
    pub silence_threshold: u16,
    /// The gain applied to the meeting's audio for a listener while an overlay plays to it.
    /// Default [`Gain::HALF`] (−6 dB); [`Gain::UNITY`] disables ducking.
    pub duck: Gain,
}

impl Default for MixerConfig {
    fn default() -> MixerConfig {
        MixerConfig {
            silence_threshold: 32,
            duck: Gain::HALF,
        }
    }
}

/// Work done by the last [`Mixer::tick`], to check that silent legs cost nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickStats {
    /// Talker frames summed into a meeting's accumulator.
    pub talker_mixes: usize,
    /// Frames scanned for their peak level (non-muted, not [`InputKind::Silence`]).
    pub energy_checks: usize,
}

/// The meetings and participants of one media worker.
///
/// Every 20 ms the worker writes each leg's decoded frame ([`Mixer::input_mut`] and
/// [`Mixer::set_input_kind`], or [`Mixer::push_input`]), calls [`Mixer::tick`], reads each leg's
/// [`Mixer::output`] to encode and send, and drains [`Mixer::poll_event`]. Membership, settings
/// and overlays change between ticks.
///
/// One tick, per meeting:
/// 1. Every *talker* is summed once into an `i32` accumulator. A talker is a participant that is
///    not muted, whose frame this tick is [`InputKind::Speech`] or [`InputKind::Concealed`], and
///    whose peak level (after its gain) reaches [`MixerConfig::silence_threshold`]. A muted leg
///    or an [`InputKind::Silence`] frame costs nothing per sample; a quiet frame costs one scan
///    for its peak and nothing more.
/// 2. The head of the meeting's overlay queue plays one frame.
/// 3. Each participant that hears the meeting gets the sum minus its own contribution (if it
///    talked), saturated to `i16`; then, if an overlay reaches it (the meeting's, or its own
///    private one), the meeting audio is scaled by [`MixerConfig::duck`] and the overlays are
///    added, saturating again.
///
/// Inputs are consumed by the tick: a participant whose input was not written since the last
/// tick is silent (so a stalled leg never replays a stale frame).
///
/// ```
/// use std::sync::Arc;
/// use plenum_mixer::{Audience, InputKind, Mixer, MixerConfig, Settings};
///
/// let mut mixer = Mixer::new(MixerConfig::default());
/// let meeting = mixer.add_meeting()?;
/// let a = mixer.add_participant(Some(meeting), Settings::default())?;
/// let b = mixer.add_participant(Some(meeting), Settings::default())?;
/// mixer.push_input(a, &[1000; 160], InputKind::Speech)?;
/// mixer.tick();
/// assert_eq!(mixer.output(b), Some(&[1000; 160]));
/// assert_eq!(mixer.output(a), Some(&[0; 160])); // nobody else talked
///
/// let tone: Arc<[i16]> = Arc::from(vec![500i16; 160]);
/// let id = mixer.announce(meeting, tone, Audience::Only(a))?;
/// mixer.tick();
/// assert_eq!(mixer.poll_event(), Some(plenum_mixer::Event::Finished(id)));
/// # Ok::<(), plenum_mixer::Error>(())
/// ```
#[derive(Debug)]
pub struct Mixer {
    config: MixerConfig,
    participants: Slab<Participant>,
    meetings: Slab<Meeting>,
    /// Participants in no meeting.
    detached: Vec<u32>,
    scratch: Box<Scratch>,
    events: Events,
    next_overlay: u64,
    stats: TickStats,
}

#[derive(Debug)]
struct Participant {
    input: Frame,
    output: Frame,
    kind: InputKind,
    settings: Settings,
    /// Index of its meeting, `None` when detached.
    meeting: Option<u32>,
    /// Position in its meeting's member list (or the detached list).
    pos: usize,
    talked: bool,
    private: VecDeque<Overlay>,
}

#[derive(Debug, Default)]
struct Meeting {
    members: Vec<u32>,
    queue: VecDeque<Overlay>,
}

/// Per-meeting working buffers, reused by every meeting on every tick.
#[derive(Debug)]
struct Scratch {
    acc: [i32; FRAME],
    /// `acc` saturated (see [`MeetingMix::mixed`]).
    mixed: Frame,
    overlay: Frame,
    private: Frame,
}

impl Mixer {
    /// The most participants one meeting can hold: the sum of that many full-scale talkers
    /// still fits the 32-bit accumulator.
    pub const MAX_MEETING_SIZE: usize = 65_535;

    /// An empty mixer.
    pub fn new(config: MixerConfig) -> Mixer {
        Mixer::with_capacity(config, 0, 0)
    }

    /// An empty mixer with room for `participants` and `meetings` before it allocates.
    pub fn with_capacity(config: MixerConfig, participants: usize, meetings: usize) -> Mixer {
        Mixer {
            config,
            participants: Slab::with_capacity(participants),
            meetings: Slab::with_capacity(meetings),
            detached: Vec::with_capacity(participants),
            scratch: Box::new(Scratch {
                acc: [0; FRAME],
                mixed: [0; FRAME],
                overlay: [0; FRAME],
                private: [0; FRAME],
            }),
            events: Events::default(),
            next_overlay: 0,
            stats: TickStats::default(),
        }
    }

    /// Adds an empty meeting.
    ///
    /// # Errors
    /// [`Error::Capacity`] when the mixer already holds 2³² − 1 meetings.
    pub fn add_meeting(&mut self) -> Result<MeetingId, Error> {
        let (index, generation) = self
            .meetings
            .insert(Meeting::default())
            .ok_or(Error::Capacity)?;
        Ok(MeetingId { index, generation })
    }

    /// Removes a meeting. Its participants stay in the mixer, detached (in no meeting) with all
    /// their state; its queued overlays are reported [`Event::Cancelled`].
    ///
    /// # Errors
    /// [`Error::UnknownMeeting`].
    pub fn remove_meeting(&mut self, meeting: MeetingId) -> Result<(), Error> {
        let mut m = self
            .meetings
            .remove(meeting.index, meeting.generation)
            .ok_or(Error::UnknownMeeting(meeting))?;
        overlay::cancel_all(&mut m.queue, &mut self.events);
        for index in m.members {
            if let Some((_, p)) = self.participants.entry_mut(index) {
                p.meeting = None;
                p.pos = self.detached.len();
                self.detached.push(index);
            }
        }
        Ok(())
    }

    /// Adds a participant, in `meeting` or detached (`None`: it hears only its private
    /// overlays until moved into a meeting).
    ///
    /// # Errors
    /// [`Error::UnknownMeeting`], [`Error::MeetingFull`], [`Error::Capacity`].
    pub fn add_participant(
        &mut self,
        meeting: Option<MeetingId>,
        settings: Settings,
    ) -> Result<ParticipantId, Error> {
        if let Some(m) = meeting {
            self.check_room(m)?;
        }
        let (index, generation) = self
            .participants
            .insert(Participant {
                input: [0; FRAME],
                output: [0; FRAME],
                kind: InputKind::Silence,
                settings,
                meeting: None,
                pos: self.detached.len(),
                talked: false,
                private: VecDeque::new(),
            })
            .ok_or(Error::Capacity)?;
        self.detached.push(index);
        let id = ParticipantId { index, generation };
        self.move_participant(id, meeting)?;
        Ok(id)
    }

    /// Removes a participant and hands back its settings. Its private overlays are reported
    /// [`Event::Cancelled`].
    ///
    /// # Errors
    /// [`Error::UnknownParticipant`].
    pub fn remove_participant(&mut self, id: ParticipantId) -> Result<Settings, Error> {
        self.participant(id)?;
        self.unlink(id.index);
        let mut p = self
            .participants
            .remove(id.index, id.generation)
            .ok_or(Error::UnknownParticipant(id))?;
        overlay::cancel_all(&mut p.private, &mut self.events);
        Ok(p.settings)
    }

    /// Moves a participant into another meeting, or out of any (`None`), keeping its settings
    /// and its private overlays. Moving it where it already is does nothing.
    ///
    /// # Errors
    /// [`Error::UnknownParticipant`], [`Error::UnknownMeeting`], [`Error::MeetingFull`].
    pub fn move_participant(
        &mut self,
        id: ParticipantId,
        to: Option<MeetingId>,
    ) -> Result<(), Error> {
        let from = self.participant(id)?.meeting;
        if from == to.map(|m| m.index) {
            return Ok(());
        }
        if let Some(m) = to {
            self.check_room(m)?;
        }
        self.unlink(id.index);
        let list = match to {
            Some(m) => self
                .meetings
                .entry_mut(m.index)
                .map(|(_, m)| &mut m.members),
            None => Some(&mut self.detached),
        };
        if let (Some(list), Some((_, p))) = (list, self.participants.entry_mut(id.index)) {
            p.meeting = to.map(|m| m.index);
            p.pos = list.len();
            p.talked = false;
            list.push(id.index);
        }
        Ok(())
    }

    /// The meeting a participant is in (`None`: detached).
    ///
    /// # Errors
    /// [`Error::UnknownParticipant`].
    pub fn meeting_of(&self, id: ParticipantId) -> Result<Option<MeetingId>, Error> {
        let index = self.participant(id)?.meeting;
        Ok(index.and_then(|index| {
            self.meetings
                .entry(index)
                .map(|(generation, _)| MeetingId { index, generation })
        }))
    }

    /// A participant's settings.
    pub fn settings(&self, id: ParticipantId) -> Option<Settings> {
        self.participant(id).ok().map(|p| p.settings)
    }

    /// Mutes or unmutes a participant: a muted participant's audio never enters the mix.
    ///
    /// # Errors
    /// [`Error::UnknownParticipant`].
    pub fn set_muted(&mut self, id: ParticipantId, muted: bool) -> Result<(), Error> {
        self.participant_mut(id)?.settings.muted = muted;
        Ok(())
    }

    /// Sets the gain applied to a participant's input.
    ///
    /// # Errors
    /// [`Error::UnknownParticipant`].
    pub fn set_gain(&mut self, id: ParticipantId, gain: Gain) -> Result<(), Error> {
        self.participant_mut(id)?.settings.gain = gain;
        Ok(())
    }

    /// Parks (`false`) or unparks a participant: see [`Settings::hears`].
    ///
    /// # Errors
    /// [`Error::UnknownParticipant`].
    pub fn set_hears(&mut self, id: ParticipantId, hears: bool) -> Result<(), Error> {
        self.participant_mut(id)?.settings.hears = hears;
        Ok(())
    }

    /// The participant's input frame for the next tick, to decode into directly. Say what it
    /// holds with [`Mixer::set_input_kind`]; until then it counts as silence. The tick may
    /// rewrite it (the gain is applied in place).
    pub fn input_mut(&mut self, id: ParticipantId) -> Option<&mut Frame> {
        self.participant_mut(id).ok().map(|p| &mut p.input)
    }

    /// Says what the participant's input frame holds for the next tick.
    ///
    /// # Errors
    /// [`Error::UnknownParticipant`].
    pub fn set_input_kind(&mut self, id: ParticipantId, kind: InputKind) -> Result<(), Error> {
        self.participant_mut(id)?.kind = kind;
        Ok(())
    }

    /// Copies in the participant's input frame for the next tick.
    ///
    /// # Errors
    /// [`Error::UnknownParticipant`].
    pub fn push_input(
        &mut self,
        id: ParticipantId,
        frame: &Frame,
        kind: InputKind,
    ) -> Result<(), Error> {
        let p = self.participant_mut(id)?;
        p.input = *frame;
        p.kind = kind;
        Ok(())
    }

    /// Mixes one frame for every meeting and every participant, advances the overlays, and
    /// consumes the inputs. Allocates nothing.
    pub fn tick(&mut self) {
        let Mixer {
            config,
            participants,
            meetings,
            detached,
            scratch,
            events,
            stats,
            ..
        } = self;
        *stats = TickStats::default();
        for meeting in meetings.values_mut() {
            mix_meeting(meeting, participants, scratch, events, *config, stats);
        }
        for &index in detached.iter() {
            if let Some((_, p)) = participants.entry_mut(index) {
                render_detached(p, events);
            }
        }
    }

    /// The participant's output frame of the last tick (silence before the first).
    pub fn output(&self, id: ParticipantId) -> Option<&Frame> {
        self.participant(id).ok().map(|p| &p.output)
    }

    /// Whether the participant's audio went into the mix on the last tick (the active-speaker
    /// indication).
    pub fn is_talking(&self, id: ParticipantId) -> bool {
        self.participant(id).is_ok_and(|p| p.talked)
    }

    /// The work done by the last tick.
    pub fn stats(&self) -> TickStats {
        self.stats
    }

    /// Queues `clip` (8 kHz samples) to play over `meeting`'s audio for `audience`. Overlays
    /// for the meeting play one after another in the order queued, each starting on a frame
    /// boundary; so do each participant's private ([`Audience::Only`]) overlays, independently
    /// of the meeting's (a listener may hear both at once, summed). The meeting's audio goes on
    /// under them, ducked by [`MixerConfig::duck`]. An [`Event`] reports the end.
    ///
    /// # Errors
    /// [`Error::UnknownMeeting`]; for [`Audience::Only`], [`Error::UnknownParticipant`] or
    /// [`Error::NotInMeeting`].
    pub fn announce(
        &mut self,
        meeting: MeetingId,
        clip: Arc<[i16]>,
        audience: Audience,
    ) -> Result<OverlayId, Error> {
        self.meetings
            .get(meeting.index, meeting.generation)
            .ok_or(Error::UnknownMeeting(meeting))?;
        let id = OverlayId(self.next_overlay);
        let overlay = Overlay {
            id,
            clip,
            pos: 0,
            audience,
        };
        let queue = match audience {
            Audience::Only(participant) => {
                let p = self.participant_mut(participant)?;
                if p.meeting != Some(meeting.index) {
                    return Err(Error::NotInMeeting {
                        participant,
                        meeting,
                    });
                }
                &mut p.private
            }
            _ => self
                .meetings
                .get_mut(meeting.index, meeting.generation)
                .map(|m| &mut m.queue)
                .ok_or(Error::UnknownMeeting(meeting))?,
        };
        queue.push_back(overlay);
        self.events.reserve_one();
        self.next_overlay = self.next_overlay.wrapping_add(1);
        Ok(id)
    }

    /// Stops a queued or playing overlay at once, reporting it [`Event::Cancelled`]. Returns
    /// whether it was still queued.
    pub fn cancel(&mut self, id: OverlayId) -> bool {
        let Mixer {
            participants,
            meetings,
            events,
            ..
        } = self;
        meetings
            .values_mut()
            .any(|m| overlay::cancel(&mut m.queue, id, events))
            || participants
                .values_mut()
                .any(|p| overlay::cancel(&mut p.private, id, events))
    }

    /// The oldest overlay event not yet polled.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    fn participant(&self, id: ParticipantId) -> Result<&Participant, Error> {
        self.participants
            .get(id.index, id.generation)
            .ok_or(Error::UnknownParticipant(id))
    }

    fn participant_mut(&mut self, id: ParticipantId) -> Result<&mut Participant, Error> {
        self.participants
            .get_mut(id.index, id.generation)
            .ok_or(Error::UnknownParticipant(id))
    }

    fn check_room(&self, meeting: MeetingId) -> Result<(), Error> {
        let m = self
            .meetings
            .get(meeting.index, meeting.generation)
            .ok_or(Error::UnknownMeeting(meeting))?;
        if m.members.len() >= Mixer::MAX_MEETING_SIZE {
            return Err(Error::MeetingFull(meeting));
        }
        Ok(())
    }

    /// Takes participant `index` out of its member list (or the detached list).
    fn unlink(&mut self, index: u32) {
        let Some((_, p)) = self.participants.entry(index) else {
            return;
        };
        let (pos, meeting) = (p.pos, p.meeting);
        let list = match meeting {
            Some(m) => match self.meetings.entry_mut(m) {
                Some((_, m)) => &mut m.members,
                None => return,
            },
            None => &mut self.detached,
        };
        if list.get(pos) != Some(&index) {
            return;
        }
        list.swap_remove(pos);
        if let Some(&moved) = list.get(pos)
            && let Some((_, q)) = self.participants.entry_mut(moved)
        {
            q.pos = pos;
        }
    }
}

impl Default for Mixer {
    fn default() -> Mixer {
        Mixer::new(MixerConfig::default())
    }
}

/// One tick of one meeting: sum the talkers, play the overlay, render every member's output.
fn mix_meeting(
    meeting: &mut Meeting,
    participants: &mut Slab<Participant>,
    scratch: &mut Scratch,
    events: &mut Events,
    config: MixerConfig,
    stats: &mut TickStats,
) {
    let Scratch {
        acc,
        mixed,
        overlay: overlay_frame,
        private: private_frame,
    } = scratch;
    let talkers = sum_talkers(&meeting.members, participants, acc, config, stats);
    let playing = overlay::play(&mut meeting.queue, overlay_frame, events);
    let mut mix = MeetingMix {
        acc,
        mixed,
        mixed_ready: false,
        talkers,
        duck: config.duck,
    };
    for &index in &meeting.members {
        let Some((generation, p)) = participants.entry_mut(index) else {
            continue;
        };
        let id = ParticipantId { index, generation };
        let hears = p.settings.hears;
        let overlay = playing
            .filter(|a| hears && a.reaches(id, p.settings.dial_in))
            .map(|_| &*overlay_frame);
        let private = overlay::play(&mut p.private, private_frame, events).map(|_| &*private_frame);
        render(p, &mut mix, overlay, private);
    }
}

/// Sums the talkers among `members` into `acc` (applying their gains to their inputs in
/// place), marks them, consumes every member's input. Returns how many talked; when none did,
/// `acc` is left as it was.
fn sum_talkers(
    members: &[u32],
    participants: &mut Slab<Participant>,
    acc: &mut [i32; FRAME],
    config: MixerConfig,
    stats: &mut TickStats,
) -> usize {
    let mut talkers = 0;
    for &index in members {
        let Some((_, p)) = participants.entry_mut(index) else {
            continue;
        };
        p.talked = false;
        let kind = mem::take(&mut p.kind);
        if p.settings.muted || kind == InputKind::Silence {
            continue;
        }
        stats.energy_checks += 1;
        let gain = u32::from(p.settings.gain.q8());
        if (u32::from(peak(&p.input)) * gain) >> 8 < u32::from(config.silence_threshold) {
            continue;
        }
        add_talker(acc, &mut p.input, p.settings.gain, talkers == 0);
        p.talked = true;
        talkers += 1;
    }
    stats.talker_mixes += talkers;
    talkers
}

/// Adds one talker's frame (after its gain, applied in place) to `acc`; the first talker
/// overwrites it instead, which saves clearing it.
fn add_talker(acc: &mut [i32; FRAME], input: &mut Frame, gain: Gain, first: bool) {
    if gain != Gain::UNITY {
        for s in input.iter_mut() {
            *s = gain.apply(*s);
        }
    }
    let pairs = acc.iter_mut().zip(input.iter());
    if first {
        pairs.for_each(|(a, s)| *a = i32::from(*s));
    } else {
        pairs.for_each(|(a, s)| *a += i32::from(*s));
    }
}

/// What every listener of one meeting shares on one tick.
struct MeetingMix<'a> {
    acc: &'a [i32; FRAME],
    /// `acc` saturated, computed for the first listener that did not talk.
    mixed: &'a mut Frame,
    mixed_ready: bool,
    talkers: usize,
    duck: Gain,
}

impl MeetingMix<'_> {
    /// What a listener that did not talk hears.
    fn mixed(&mut self) -> &Frame {
        if !self.mixed_ready {
            for (m, a) in self.mixed.iter_mut().zip(self.acc.iter()) {
                *m = saturate(*a);
            }
            self.mixed_ready = true;
        }
        self.mixed
    }
}

/// Writes one listener's output: the meeting minus itself, then the overlays reaching it.
fn render(
    p: &mut Participant,
    mix: &mut MeetingMix<'_>,
    overlay: Option<&Frame>,
    private: Option<&Frame>,
) {
    let others_talked = mix.talkers > usize::from(p.talked);
    let meeting_audio = p.settings.hears && others_talked;
    let out = &mut p.output;
    match (meeting_audio, p.talked) {
        (false, _) => out.fill(0),
        (true, false) => *out = *mix.mixed(),
        (true, true) => {
            for ((o, a), s) in out.iter_mut().zip(mix.acc.iter()).zip(p.input.iter()) {
                *o = saturate(*a - i32::from(*s));
            }
        }
    }
    if overlay.is_none() && private.is_none() {
        return;
    }
    if meeting_audio && mix.duck != Gain::UNITY {
        out.iter_mut().for_each(|o| *o = mix.duck.apply(*o));
    }
    for frame in [overlay, private].into_iter().flatten() {
        add_saturating(out, frame);
    }
}

/// A detached participant hears only its private overlays.
fn render_detached(p: &mut Participant, events: &mut Events) {
    p.kind = InputKind::Silence;
    p.talked = false;
    if overlay::play(&mut p.private, &mut p.output, events).is_none() {
        p.output.fill(0);
    }
}

fn add_saturating(out: &mut Frame, frame: &Frame) {
    for (o, s) in out.iter_mut().zip(frame.iter()) {
        *o = o.saturating_add(*s);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code

    use super::*;

    #[test]
    fn member_lists_stay_consistent_under_churn() {
        let mut mx = Mixer::default();
        let m1 = mx.add_meeting().unwrap();
        let m2 = mx.add_meeting().unwrap();
        let ids: Vec<_> = (0..20)
            .map(|i| {
                let m = [Some(m1), Some(m2), None][i % 3];
                mx.add_participant(m, Settings::default()).unwrap()
            })
            .collect();
        for (k, id) in ids.iter().enumerate() {
            match k % 4 {
                0 => drop(mx.remove_participant(*id).unwrap()),
                1 => mx.move_participant(*id, Some(m1)).unwrap(),
                2 => mx.move_participant(*id, None).unwrap(),
                _ => mx.move_participant(*id, Some(m2)).unwrap(),
            }
        }
        mx.remove_meeting(m2).unwrap();
        // Every list position points back at its participant.
        let lists = mx
            .meetings
            .values_mut()
            .map(|m| m.members.clone())
            .chain([mx.detached.clone()])
            .collect::<Vec<_>>();
        let mut seen = 0;
        for list in lists {
            for (pos, &index) in list.iter().enumerate() {
                assert_eq!(mx.participants.entry(index).unwrap().1.pos, pos);
                seen += 1;
            }
        }
        assert_eq!(seen, 15);
    }
}
