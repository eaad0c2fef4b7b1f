//! The mixer's behaviour, measured the way a caller would hear it: participants talk synthetic
//! sine tones (A 440 Hz, B 697 Hz, C 1209 Hz, D 1633 Hz), overlays are tones too, and a
//! Goertzel detector on each listener's output says which tones it hears and how loud.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use std::collections::HashMap;
use std::f64::consts::PI;
use std::sync::Arc;

use plenum_mixer::{
    Audience, Error, Event, FRAME, Frame, Gain, InputKind, MeetingId, Mixer, MixerConfig,
    ParticipantId, Settings, goertzel,
};

const A: f64 = 440.0;
const B: f64 = 697.0;
const C: f64 = 1209.0;
const D: f64 = 1633.0;
const PROMPT: f64 = 941.0;
const AMP: f64 = 8000.0;

/// Frame `tick` of a continuous sine.
fn tone(freq: f64, amp: f64, tick: usize) -> Frame {
    std::array::from_fn(|i| {
        let n = (tick * FRAME + i) as f64;
        (amp * (2.0 * PI * freq * n / 8000.0).sin()).round() as i16
    })
}

/// `frames` frames of a sine as an overlay clip.
fn clip(freq: f64, frames: usize) -> Arc<[i16]> {
    (0..frames).flat_map(|t| tone(freq, AMP, t)).collect()
}

/// A mixer, the tone each talker sends, and everything each participant heard.
struct Rig {
    mx: Mixer,
    ticks: usize,
    talkers: Vec<(ParticipantId, f64, f64)>,
    heard: HashMap<ParticipantId, Vec<i16>>,
}

impl Rig {
    fn new() -> Rig {
        Rig {
            mx: Mixer::new(MixerConfig::default()),
            ticks: 0,
            talkers: Vec::new(),
            heard: HashMap::new(),
        }
    }

    fn meeting(&mut self) -> MeetingId {
        self.mx.add_meeting().unwrap()
    }

    /// Adds a participant talking `freq` (if any) at [`AMP`].
    fn add(
        &mut self,
        m: Option<MeetingId>,
        settings: Settings,
        freq: Option<f64>,
    ) -> ParticipantId {
        let id = self.mx.add_participant(m, settings).unwrap();
        if let Some(f) = freq {
            self.talkers.push((id, f, AMP));
        }
        self.heard.insert(id, Vec::new());
        id
    }

    fn talker(&mut self, m: MeetingId, freq: f64) -> ParticipantId {
        self.add(Some(m), Settings::default(), Some(freq))
    }

    /// Runs `ticks` ticks, every talker sending its tone, recording every output.
    fn run(&mut self, ticks: usize) {
        for _ in 0..ticks {
            for &(id, f, amp) in &self.talkers {
                self.mx
                    .push_input(id, &tone(f, amp, self.ticks), InputKind::Speech)
                    .unwrap();
            }
            self.mx.tick();
            self.ticks += 1;
            for (id, heard) in &mut self.heard {
                heard.extend_from_slice(self.mx.output(*id).unwrap_or(&[0; FRAME]));
            }
        }
    }

    fn clear(&mut self) {
        self.heard.values_mut().for_each(Vec::clear);
    }

    fn level(&self, who: ParticipantId, freq: f64) -> f64 {
        goertzel::amplitude(&self.heard[&who], freq)
    }

    #[track_caller]
    fn assert_hears(&self, who: ParticipantId, freq: f64, amp: f64) {
        let level = self.level(who, freq);
        assert!(
            (level - amp).abs() < amp * 0.03,
            "{who:?} hears {freq} Hz at {level:.0}, expected {amp:.0}"
        );
    }

    #[track_caller]
    fn assert_not_hears(&self, who: ParticipantId, freq: f64) {
        let level = self.level(who, freq);
        assert!(level < AMP * 0.01, "{who:?} hears {freq} Hz at {level:.0}");
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.mx.poll_event()).collect()
    }
}

fn dial_in() -> Settings {
    Settings {
        dial_in: true,
        ..Settings::default()
    }
}

#[test]
fn every_listener_hears_every_other_talker_and_not_itself() {
    let mut r = Rig::new();
    let m = r.meeting();
    let a = r.talker(m, A);
    let b = r.talker(m, B);
    let c = r.talker(m, C);
    let listener = r.add(Some(m), Settings::default(), None);
    r.run(10);
    for (who, own) in [(a, A), (b, B), (c, C)] {
        for f in [A, B, C] {
            if f == own {
                r.assert_not_hears(who, f);
            } else {
                r.assert_hears(who, f, AMP);
            }
        }
        assert!(r.mx.is_talking(who));
    }
    for f in [A, B, C] {
        r.assert_hears(listener, f, AMP);
    }
    assert!(!r.mx.is_talking(listener));
    assert_eq!(r.mx.stats().talker_mixes, 3);
}

#[test]
fn meetings_do_not_hear_each_other() {
    let mut r = Rig::new();
    let (m1, m2) = (r.meeting(), r.meeting());
    let a = r.talker(m1, A);
    let b = r.talker(m1, B);
    let c = r.talker(m2, C);
    let d = r.talker(m2, D);
    r.run(10);
    r.assert_hears(a, B, AMP);
    r.assert_hears(c, D, AMP);
    for f in [C, D] {
        r.assert_not_hears(a, f);
        r.assert_not_hears(b, f);
    }
    for f in [A, B] {
        r.assert_not_hears(c, f);
        r.assert_not_hears(d, f);
    }
}

#[test]
fn a_muted_talker_is_heard_by_nobody_and_costs_nothing() {
    let mut r = Rig::new();
    let m = r.meeting();
    let a = r.talker(m, A);
    let b = r.talker(m, B);
    let c = r.talker(m, C);
    r.mx.set_muted(b, true).unwrap();
    r.run(10);
    r.assert_not_hears(a, B);
    r.assert_not_hears(c, B);
    r.assert_hears(b, A, AMP);
    r.assert_hears(b, C, AMP);
    r.assert_hears(a, C, AMP);
    assert!(!r.mx.is_talking(b));
    assert_eq!(r.mx.stats().talker_mixes, 2);
    assert_eq!(
        r.mx.stats().energy_checks,
        2,
        "a muted leg is not even scanned"
    );

    r.mx.set_muted(b, false).unwrap();
    r.clear();
    r.run(10);
    r.assert_hears(a, B, AMP);
    r.assert_hears(c, B, AMP);
}

#[test]
fn the_input_gain_is_applied() {
    let mut r = Rig::new();
    let m = r.meeting();
    let a = r.talker(m, A);
    let b = r.talker(m, B);
    let c = r.talker(m, C);
    r.mx.set_gain(a, Gain::from_db(-6.0206)).unwrap();
    r.mx.set_gain(b, Gain::from_db(6.0206)).unwrap();
    r.run(10);
    r.assert_hears(c, A, AMP / 2.0);
    r.assert_hears(c, B, AMP * 2.0);
    r.assert_hears(b, A, AMP / 2.0);
    r.assert_not_hears(b, B);
    r.assert_not_hears(a, A);
    r.assert_hears(a, B, AMP * 2.0);
    assert_eq!(r.mx.settings(a).unwrap().gain, Gain::HALF);
}

#[test]
fn loud_inputs_saturate_instead_of_wrapping() {
    let mut mx = Mixer::default();
    let m = mx.add_meeting().unwrap();
    let [a, b, c] = [(); 3].map(|_| mx.add_participant(Some(m), Settings::default()).unwrap());
    for level in [30_000i16, -30_000] {
        mx.push_input(a, &[level; FRAME], InputKind::Speech)
            .unwrap();
        mx.push_input(b, &[level; FRAME], InputKind::Speech)
            .unwrap();
        mx.tick();
        let full = if level > 0 { i16::MAX } else { i16::MIN };
        assert_eq!(mx.output(c), Some(&[full; FRAME]), "the sum clips");
        assert_eq!(
            mx.output(a),
            Some(&[level; FRAME]),
            "own part removed exactly"
        );
    }

    // Two in-phase loud sines: the sum is clipped at the peaks, never sign-flipped.
    for t in 0..5 {
        let loud = tone(A, 25_000.0, t);
        mx.push_input(a, &loud, InputKind::Speech).unwrap();
        mx.push_input(b, &loud, InputKind::Speech).unwrap();
        mx.tick();
        for (out, x) in mx.output(c).unwrap().iter().zip(loud) {
            let expected = (2 * i32::from(x)).clamp(-32768, 32767);
            assert_eq!(i32::from(*out), expected);
        }
    }

    // A large gain saturates too.
    mx.set_gain(a, Gain::from_db(12.0)).unwrap();
    mx.push_input(a, &[-20_000; FRAME], InputKind::Speech)
        .unwrap();
    mx.tick();
    assert_eq!(mx.output(b), Some(&[i16::MIN; FRAME]));
}

#[test]
fn silent_legs_add_nothing_and_cost_no_mix_work() {
    let mut mx = Mixer::default();
    let m = mx.add_meeting().unwrap();
    let talker = mx.add_participant(Some(m), Settings::default()).unwrap();
    let legs: Vec<_> = (0..9)
        .map(|_| mx.add_participant(Some(m), Settings::default()).unwrap())
        .collect();
    let speech = tone(A, AMP, 0);
    mx.push_input(talker, &speech, InputKind::Speech).unwrap();
    for (i, &leg) in legs.iter().enumerate() {
        match i % 3 {
            // The jitter buffer had nothing: not even looked at.
            0 => mx.push_input(leg, &tone(B, AMP, 0), InputKind::Silence),
            // Received, but digital silence.
            1 => mx.push_input(leg, &[0; FRAME], InputKind::Speech),
            // Concealment decayed to idle-channel noise below the threshold.
            _ => mx.push_input(leg, &tone(C, 20.0, 0), InputKind::Concealed),
        }
        .unwrap();
    }
    mx.tick();
    let stats = mx.stats();
    assert_eq!(stats.talker_mixes, 1, "only the talker is mixed");
    assert_eq!(stats.energy_checks, 7, "Silence frames are not scanned");
    for &leg in &legs {
        assert_eq!(mx.output(leg), Some(&speech), "the silent legs add nothing");
        assert!(!mx.is_talking(leg));
    }
    assert_eq!(mx.output(talker), Some(&[0; FRAME]));

    // A meeting where nobody talks does no mix work at all.
    mx.tick();
    assert_eq!(mx.stats().talker_mixes, 0);
    assert_eq!(mx.stats().energy_checks, 0, "inputs were consumed");
    assert_eq!(mx.output(legs[0]), Some(&[0; FRAME]));
}

#[test]
fn an_input_not_written_since_the_last_tick_is_not_replayed() {
    let mut mx = Mixer::default();
    let m = mx.add_meeting().unwrap();
    let a = mx.add_participant(Some(m), Settings::default()).unwrap();
    let b = mx.add_participant(Some(m), Settings::default()).unwrap();
    // Decoding straight into the mixer's buffer.
    mx.input_mut(a).unwrap().copy_from_slice(&tone(A, AMP, 0));
    mx.tick();
    assert_eq!(mx.output(b), Some(&[0; FRAME]), "no kind given: silence");
    mx.input_mut(a).unwrap().copy_from_slice(&tone(A, AMP, 0));
    mx.set_input_kind(a, InputKind::Concealed).unwrap();
    mx.tick();
    assert_eq!(mx.output(b), Some(&tone(A, AMP, 0)));
    mx.tick(); // a's leg stalled: nothing written
    assert_eq!(mx.output(b), Some(&[0; FRAME]));
    assert_eq!(mx.stats().talker_mixes, 0);
}

#[test]
fn moving_a_participant_keeps_its_state() {
    let mut r = Rig::new();
    let (m1, m2) = (r.meeting(), r.meeting());
    let a = r.talker(m1, A);
    let b = r.add(Some(m1), dial_in(), Some(B));
    let c = r.talker(m2, C);
    let d = r.talker(m2, D);
    r.mx.set_gain(b, Gain::HALF).unwrap();
    let before = r.mx.settings(b).unwrap();

    r.mx.move_participant(b, Some(m2)).unwrap();
    assert_eq!(r.mx.meeting_of(b), Ok(Some(m2)));
    assert_eq!(r.mx.settings(b), Some(before));
    r.run(10);
    r.assert_not_hears(a, B);
    r.assert_hears(c, B, AMP / 2.0); // its gain came along
    r.assert_hears(d, B, AMP / 2.0);
    r.assert_hears(b, C, AMP);
    r.assert_hears(b, D, AMP);
    r.assert_not_hears(b, A);
    r.assert_not_hears(a, D);

    // A dial-in announcement in the new meeting reaches it: dial_in came along too.
    let id =
        r.mx.announce(m2, clip(PROMPT, 5), Audience::DialIn)
            .unwrap();
    r.clear();
    r.run(5);
    assert!(r.level(b, PROMPT) > AMP * 0.9);
    r.assert_not_hears(c, PROMPT);
    assert_eq!(r.events(), [Event::Finished(id)]);

    // Out of every meeting: neither heard nor hearing, state kept; then back.
    r.mx.move_participant(b, None).unwrap();
    assert_eq!(r.mx.meeting_of(b), Ok(None));
    r.clear();
    r.run(5);
    assert_eq!(r.heard[&b], vec![0; 5 * FRAME]);
    r.assert_not_hears(c, B);
    r.mx.move_participant(b, Some(m1)).unwrap();
    r.clear();
    r.run(10);
    r.assert_hears(a, B, AMP / 2.0);
    r.assert_hears(b, A, AMP);

    // Out of the mixer and back, with the settings handed back.
    let settings = r.mx.remove_participant(b).unwrap();
    assert_eq!(settings, before);
    assert_eq!(r.mx.output(b), None);
    let b2 = r.mx.add_participant(Some(m2), settings).unwrap();
    assert_eq!(r.mx.settings(b2), Some(before));
}

#[test]
fn a_private_overlay_is_heard_only_by_its_target_over_the_meeting() {
    let mut r = Rig::new();
    let m = r.meeting();
    let a = r.talker(m, A);
    let b = r.talker(m, B);
    let c = r.talker(m, C);
    let id =
        r.mx.announce(m, clip(PROMPT, 10), Audience::Only(c))
            .unwrap();
    r.run(10);
    r.assert_hears(c, PROMPT, AMP);
    r.assert_hears(c, A, AMP / 2.0); // the meeting goes on under it, ducked
    r.assert_hears(c, B, AMP / 2.0);
    for who in [a, b] {
        r.assert_not_hears(who, PROMPT);
    }
    r.assert_hears(a, B, AMP);
    r.assert_hears(a, C, AMP);
    r.assert_hears(b, C, AMP);
    assert_eq!(r.events(), [Event::Finished(id)]);

    // Over: no more ducking.
    r.clear();
    r.run(10);
    r.assert_not_hears(c, PROMPT);
    r.assert_hears(c, A, AMP);
}

#[test]
fn audiences_dial_in_and_all_except() {
    let mut r = Rig::new();
    let m = r.meeting();
    let a = r.add(Some(m), dial_in(), Some(A));
    let b = r.add(Some(m), dial_in(), None);
    let c = r.talker(m, C);
    let d = r.add(Some(m), Settings::default(), None);
    let parked = r.add(Some(m), dial_in(), None);
    r.mx.set_hears(parked, false).unwrap();

    r.mx.announce(m, clip(PROMPT, 10), Audience::DialIn)
        .unwrap();
    r.run(10);
    r.assert_hears(a, PROMPT, AMP);
    r.assert_hears(b, PROMPT, AMP);
    r.assert_not_hears(c, PROMPT);
    r.assert_not_hears(d, PROMPT);
    r.assert_not_hears(parked, PROMPT);
    r.assert_hears(d, A, AMP); // the others hear the meeting undisturbed
    r.assert_hears(b, A, AMP / 2.0);

    r.mx.announce(m, clip(PROMPT, 10), Audience::AllExcept(c))
        .unwrap();
    r.clear();
    r.run(10);
    for who in [a, b, d] {
        r.assert_hears(who, PROMPT, AMP);
    }
    r.assert_not_hears(c, PROMPT);
    r.assert_not_hears(parked, PROMPT);

    r.mx.announce(m, clip(PROMPT, 10), Audience::All).unwrap();
    r.clear();
    r.run(10);
    for who in [a, b, c, d] {
        r.assert_hears(who, PROMPT, AMP);
    }
    r.assert_not_hears(parked, PROMPT);
}

#[test]
fn a_parked_participant_hears_only_its_private_overlays_and_is_still_heard() {
    let mut r = Rig::new();
    let m = r.meeting();
    let a = r.talker(m, A);
    let parked = r.talker(m, B);
    r.mx.set_hears(parked, false).unwrap();
    r.mx.announce(m, clip(D, 10), Audience::All).unwrap();
    r.mx.announce(m, clip(PROMPT, 10), Audience::Only(parked))
        .unwrap();
    r.run(10);
    r.assert_hears(parked, PROMPT, AMP);
    r.assert_not_hears(parked, D);
    r.assert_not_hears(parked, A);
    r.assert_hears(a, D, AMP);
    r.assert_hears(a, B, AMP / 2.0); // ducked under the announcement, but heard
}

#[test]
fn overlays_play_in_order_and_report_when_they_finish() {
    let mut mx = Mixer::default();
    let m = mx.add_meeting().unwrap();
    let a = mx.add_participant(Some(m), Settings::default()).unwrap();
    let b = mx.add_participant(Some(m), Settings::default()).unwrap();
    let first = mx
        .announce(m, Arc::from(vec![100i16; 400]), Audience::All)
        .unwrap();
    let second = mx
        .announce(m, Arc::from(vec![200i16; FRAME]), Audience::All)
        .unwrap();
    let private = mx
        .announce(m, Arc::from(vec![7i16; 320]), Audience::Only(a))
        .unwrap();
    let empty = mx
        .announce(m, Arc::from(vec![]), Audience::Only(b))
        .unwrap();

    let mut frames = Vec::new();
    let mut events = Vec::new();
    for tick in 0..6 {
        mx.tick();
        frames.push(*mx.output(b).unwrap());
        events.extend(std::iter::from_fn(|| mx.poll_event()).map(|e| (tick, e)));
        if tick < 2 {
            assert_eq!(mx.output(a), Some(&[107; FRAME]), "both queues at once");
        }
    }
    assert_eq!(
        events,
        [
            (0, Event::Finished(empty)),
            (1, Event::Finished(private)),
            (2, Event::Finished(first)),
            (3, Event::Finished(second)),
        ]
    );
    assert_eq!(frames[0], [100; FRAME]);
    assert_eq!(frames[1], [100; FRAME]);
    assert_eq!(frames[2][..80], [100; 80]);
    assert_eq!(
        frames[2][80..],
        [0; 80],
        "a clip ending mid-frame is padded"
    );
    assert_eq!(frames[3], [200; FRAME], "the next starts on the next frame");
    assert_eq!(frames[4], [0; FRAME]);
}

#[test]
fn cancelling_and_removing_report_cancelled() {
    let mut r = Rig::new();
    let m = r.meeting();
    let a = r.talker(m, A);
    let b = r.add(Some(m), Settings::default(), None);
    let long = r.mx.announce(m, clip(PROMPT, 100), Audience::All).unwrap();
    let queued = r.mx.announce(m, clip(D, 100), Audience::All).unwrap();
    let help = r.mx.announce(m, clip(C, 100), Audience::Only(b)).unwrap();
    r.run(2);
    assert!(r.mx.cancel(long));
    assert!(!r.mx.cancel(long), "already gone");
    assert_eq!(r.events(), [Event::Cancelled(long)]);
    r.clear();
    r.run(5);
    r.assert_not_hears(b, PROMPT);
    r.assert_hears(b, D, AMP); // the next one started at once

    // Removing the meeting detaches its members and cancels its queue; a detached
    // participant still hears its private overlays.
    r.mx.remove_meeting(m).unwrap();
    assert_eq!(r.events(), [Event::Cancelled(queued)]);
    assert_eq!(r.mx.meeting_of(b), Ok(None));
    r.clear();
    r.run(5);
    r.assert_hears(b, C, AMP);
    r.assert_not_hears(b, A);
    assert_eq!(r.heard[&a], vec![0; 5 * FRAME]);

    r.mx.remove_participant(b).unwrap();
    assert_eq!(r.events(), [Event::Cancelled(help)]);
    assert_eq!(
        r.mx.announce(m, clip(C, 1), Audience::All),
        Err(Error::UnknownMeeting(m))
    );
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let mut mx = Mixer::default();
    let (m1, m2) = (mx.add_meeting().unwrap(), mx.add_meeting().unwrap());
    let a = mx.add_participant(Some(m1), Settings::default()).unwrap();
    let b = mx.add_participant(Some(m2), Settings::default()).unwrap();
    assert_eq!(
        mx.announce(m1, clip(C, 1), Audience::Only(b)),
        Err(Error::NotInMeeting {
            participant: b,
            meeting: m1
        })
    );
    mx.remove_participant(a).unwrap();
    let reused = mx.add_participant(Some(m1), Settings::default()).unwrap();
    assert_ne!(a, reused);
    assert_eq!(mx.remove_participant(a), Err(Error::UnknownParticipant(a)));
    assert_eq!(
        mx.push_input(a, &[1; FRAME], InputKind::Speech),
        Err(Error::UnknownParticipant(a))
    );
    assert!(mx.input_mut(a).is_none());
    assert!(mx.output(a).is_none());
    assert_eq!(mx.set_muted(a, true), Err(Error::UnknownParticipant(a)));
    assert_eq!(
        mx.announce(m1, clip(C, 1), Audience::Only(a)),
        Err(Error::UnknownParticipant(a))
    );
    mx.remove_meeting(m2).unwrap();
    assert_eq!(mx.remove_meeting(m2), Err(Error::UnknownMeeting(m2)));
    assert_eq!(
        mx.move_participant(b, Some(m2)),
        Err(Error::UnknownMeeting(m2))
    );
    assert_eq!(mx.meeting_of(b), Ok(None));
    assert!(mx.settings(reused).is_some());
}

#[test]
fn a_large_meeting_mixes_the_few_talkers_for_everyone() {
    let mut r = Rig::new();
    let m = r.meeting();
    let talkers = [r.talker(m, A), r.talker(m, B), r.talker(m, C)];
    let silent: Vec<_> = (0..200)
        .map(|_| r.add(Some(m), Settings::default(), None))
        .collect();
    r.run(10);
    assert_eq!(r.mx.stats().talker_mixes, 3);
    for &who in silent.iter().step_by(37) {
        for f in [A, B, C] {
            r.assert_hears(who, f, AMP);
        }
    }
    r.assert_not_hears(talkers[1], B);
    r.assert_hears(talkers[1], A, AMP);
}
