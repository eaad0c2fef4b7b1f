//! The switch's conference side: from the ACK of an access-number call to the meeting and out.
//!
//! - the attendant: one [`AttendantDriver`] per call, its outputs turned into plugin steps,
//!   pool lookups and media orders, its inputs fed from work results and the media engine;
//! - admission: the call becomes a member of its meeting's [`Focus`], the tenant's policy is
//!   asked, the answer goes back to the attendant; waiting callers are asked about again when
//!   the meeting changes (a leader arrives, the lock goes, a leader admits everyone), and time
//!   out after the policy's hold or lobby timeout;
//! - the meeting: the join (mix, entry announcement, roster, audit), the keypad of dial-in
//!   participants, leaving (exit announcement, the last leader, the last participant).

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use plenum_plugin_api::attendant::{
    AdmissionState, CallInfo, CallOptions, Caller as PluginCaller, ConferenceLookup,
    PasscodeResult, PinResult, PromptItem, StepResult, UserInfo,
};
use plenum_plugin_api::policy::{
    AdmissionDecision, JoiningMethod, KeypadCommand, LastLeaderAction, ParticipantIdentity, Role,
};

use super::{Call, CallId, Caller, Switch, SwitchOutput, Work};

/// The longest an expired meeting waits for its participants to hear that it has ended: each
/// is hung up when the announcement to it finishes ([`MediaInput::Announced`]); whoever is
/// still there then (or in the lobby, on hold, or keying) is hung up at this deadline.
const MEETING_ENDED_GRACE: Duration = Duration::from_secs(10);
use crate::attendant::{
    Access, AccessVia, AttendantDriver, DriverConfig, Output, PlayId, StepFailed,
};
use crate::focus::{Focus, MeetingRef, Member, Presence};
use crate::media::{Announcement, Listeners, MediaInput, MediaOrder};

impl Switch {
    fn media(&mut self, order: MediaOrder) {
        self.out.push_back(SwitchOutput::Media(order));
    }

    /// The leg's SDP is settled: open it.
    pub(super) fn open_media(&mut self, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let (Some(port), Some(media)) = (call.port, call.session.as_ref().and_then(|s| s.media()))
        else {
            return;
        };
        let media = Box::new(media.clone());
        if call.media_open {
            self.media(MediaOrder::Update { call: id, media });
        } else {
            call.media_open = true;
            self.media(MediaOrder::Open {
                call: id,
                port,
                media,
            });
        }
    }

    /// The ACK came: a call to an access number meets its attendant.
    pub(super) fn confirmed(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.attendant.is_some() || call.focus.is_some() {
            return;
        }
        if call.routed.is_none() && call.meeting.is_some() {
            self.admit_client(id, now);
            return;
        }
        let Some(routed) = call.routed.as_ref() else {
            return;
        };
        let caller = match &call.caller {
            Some(Caller::User { uri, .. }) => PluginCaller::User(UserInfo {
                uri: uri.clone(),
                display_name: display_of(uri),
            }),
            _ => PluginCaller::Anonymous,
        };
        let config = DriverConfig::new(routed.access.languages.clone(), caller);
        call.attendant = Some(AttendantDriver::new(config, now));
        self.pump(id, now);
    }

    /// The facts the attendant plugin gets with every step.
    fn call_info(call: &Call, id: CallId) -> Option<CallInfo> {
        let routed = call.routed.as_ref()?;
        let caller = match &call.caller {
            Some(Caller::User { uri, .. }) => PluginCaller::User(UserInfo {
                uri: uri.clone(),
                display_name: display_of(uri),
            }),
            _ => PluginCaller::Anonymous,
        };
        let s = call.settings.as_deref()?;
        Some(CallInfo {
            call_id: format!("call-{}", id.0),
            tenant: plenum_plugin_api::types::Tenant::new(routed.tenant.as_str(), ""),
            access_number: routed.access.clone(),
            calling: routed.calling.clone(),
            caller,
            options: CallOptions {
                conference_id_attempts: s.conference_id_attempts,
                passcode_attempts: s.passcode_attempts,
                pin_attempts: s.pin_attempts,
                pin_auth: s.pin_auth,
                name_recording: s.name_recording,
            },
            now: 0,
        })
    }

    /// Carry out what the call's attendant asks.
    fn pump(&mut self, id: CallId, now: Instant) {
        loop {
            let Some(call) = self.calls.get_mut(&id) else {
                return;
            };
            let Some(driver) = call.attendant.as_mut() else {
                return;
            };
            let Some(output) = driver.poll_output() else {
                if let Some(at) = driver.poll_timeout() {
                    self.call_timers.push(Reverse((at, id)));
                }
                return;
            };
            tracing::debug!(call = id.0, ?output, "attendant");
            let tenant = call.routed.as_ref().map(|r| r.tenant.clone());
            let Some(tenant) = tenant else { return };
            match output {
                Output::Step(event) => {
                    if let Some(info) = Self::call_info(call, id) {
                        self.request_work(
                            id,
                            Work::Attendant {
                                call: id,
                                event,
                                info: Box::new(info),
                            },
                        );
                    }
                }
                Output::Play {
                    id: play,
                    items,
                    language,
                    ..
                } => self.media(MediaOrder::Play {
                    call: id,
                    id: play.0,
                    tenant,
                    language,
                    items,
                }),
                Output::StopPlay => self.media(MediaOrder::Stop { call: id }),
                Output::Record { max_ms } => self.media(MediaOrder::Record {
                    call: id,
                    tenant,
                    max_ms,
                }),
                Output::StopRecord => self.media(MediaOrder::StopRecord { call: id }),
                Output::Lookup(keys) => self.request_work(
                    id,
                    Work::Lookup {
                        tenant,
                        pstn_id: keys,
                    },
                ),
                Output::VerifyPasscode { pstn_id, passcode } => {
                    let meeting = call
                        .meeting
                        .as_ref()
                        .filter(|m| m.pstn_id.as_deref() == Some(&pstn_id))
                        .map(|m| m.id);
                    match meeting {
                        Some(meeting) => self.request_work(
                            id,
                            Work::VerifyPasscode {
                                meeting,
                                tenant,
                                passcode,
                            },
                        ),
                        None => self.attendant_input(id, now, |d, now| {
                            d.passcode_done(PasscodeResult::Rejected, now);
                        }),
                    }
                }
                Output::VerifyPin { who, pin, .. } => {
                    let profile = call.routed.as_ref().and_then(|r| r.profile.clone());
                    let meeting = call.meeting.as_ref().map(|m| m.id);
                    self.request_work(
                        id,
                        Work::VerifyPin {
                            tenant,
                            profile,
                            who,
                            pin,
                            meeting,
                        },
                    );
                }
                Output::RequestAdmission(access) => self.request_admission(id, &access, now),
                Output::Hold(kind) => self.media(MediaOrder::Hold {
                    call: id,
                    tenant,
                    kind,
                }),
                Output::Join(access) => self.join(id, &access, now),
                Output::HangUp => {
                    self.hang_up(id, "the attendant ended the call", now);
                    return;
                }
                Output::Failed(failure) => {
                    tracing::warn!(call = id.0, %failure, "attendant gave up");
                }
            }
        }
    }

    /// Feed the call's attendant and carry out what follows.
    fn attendant_input(
        &mut self,
        id: CallId,
        now: Instant,
        f: impl FnOnce(&mut AttendantDriver, Instant),
    ) {
        if let Some(driver) = self.calls.get_mut(&id).and_then(|c| c.attendant.as_mut()) {
            f(driver, now);
        }
        self.pump(id, now);
    }

    pub(super) fn stepped(
        &mut self,
        id: CallId,
        result: Result<StepResult, StepFailed>,
        now: Instant,
    ) {
        self.attendant_input(id, now, |d, now| d.step_done(result, now));
    }

    pub(super) fn looked_up(
        &mut self,
        id: CallId,
        result: ConferenceLookup,
        meeting: Option<Box<MeetingRef>>,
        now: Instant,
    ) {
        if let Some(call) = self.calls.get_mut(&id) {
            call.meeting = meeting.map(|m| *m);
        }
        self.attendant_input(id, now, |d, now| d.lookup_done(result, now));
    }

    pub(super) fn passcode_checked(&mut self, id: CallId, r: PasscodeResult, now: Instant) {
        self.attendant_input(id, now, |d, now| d.passcode_done(r, now));
    }

    pub(super) fn pin_checked(&mut self, id: CallId, r: PinResult, now: Instant) {
        self.attendant_input(id, now, |d, now| d.pin_done(r, now));
    }

    /// A call's timer: the attendant's, or the end of a wait on hold or in the lobby.
    pub(super) fn call_timer(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.wait_until.is_some_and(|t| t <= now) {
            call.wait_until = None;
            if let Some(m) = call.focus {
                if let Some(f) = self.focuses.get_mut(&m) {
                    f.leave(id);
                }
                self.publish_roster(m);
            }
            if let Some(call) = self.calls.get_mut(&id) {
                call.focus = None;
            }
            let attended = self.calls.get(&id).is_some_and(|c| c.attendant.is_some());
            if attended {
                self.attendant_input(id, now, |d, now| {
                    d.admission(AdmissionState::TimedOut, now);
                });
            } else {
                self.hang_up(id, "waited too long", now);
            }
            return;
        }
        if let Some(driver) = call.attendant.as_mut()
            && driver.poll_timeout().is_some_and(|t| t <= now)
        {
            driver.handle_timeout(now);
            self.pump(id, now);
        }
    }

    // ---- admission ----

    fn request_admission(&mut self, id: CallId, access: &Access, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let Some(meeting) = call
            .meeting
            .clone()
            .filter(|m| m.pstn_id.as_deref().unwrap_or_default() == access.pstn_id.as_str())
        else {
            self.attendant_input(id, now, |d, now| d.admission(AdmissionState::Denied, now));
            return;
        };
        let dial_in = matches!(call.caller, Some(Caller::Gateway { .. }));
        let calling = call.routed.as_ref().and_then(|r| r.calling.clone());
        let (identity, entity, display) = match &access.via {
            AccessVia::AuthenticatedUser(u) => (
                ParticipantIdentity::SipUser(u.uri.clone()),
                u.uri.clone(),
                u.display_name.clone(),
            ),
            AccessVia::Pin(u) => (
                ParticipantIdentity::PinUser(u.uri.clone()),
                u.uri.clone(),
                u.display_name.clone(),
            ),
            AccessVia::Passcode | AccessVia::NoPasscodeRequired => {
                let entity = match &calling {
                    Some(n) if n.starts_with('+') => format!("tel:{n}"),
                    _ => format!("sip:anonymous-{}@{}", id.0, meeting.tenant.as_str()),
                };
                let display = calling.clone().unwrap_or_else(|| "Dial-in caller".into());
                (ParticipantIdentity::Anonymous, entity, display)
            }
        };
        let is_organizer = entity == meeting.organizer;
        let member = Member {
            entity,
            display,
            same_tenant: !matches!(identity, ParticipantIdentity::Anonymous),
            identity,
            is_organizer,
            method: if dial_in {
                JoiningMethod::DialedIn
            } else {
                JoiningMethod::SipClient
            },
            role: None,
            presence: Presence::Asking,
            muted: false,
        };
        let tenant = meeting.tenant.clone();
        let key = meeting.id;
        if self.ending.contains_key(&key) || meeting.expires.is_some_and(|t| t <= now) {
            // Found while it was still on, but it has ended since.
            self.hang_up(id, "the meeting has ended", now);
            return;
        }
        let request = self.focus_of_meeting(meeting).ask(id, member);
        if let Some(call) = self.calls.get_mut(&id) {
            call.focus = Some(key);
        }
        self.request_work(
            id,
            Work::Admit {
                tenant,
                request: Box::new(request),
            },
        );
    }

    pub(super) fn admitted(&mut self, id: CallId, decision: AdmissionDecision, now: Instant) {
        tracing::debug!(call = id.0, ?decision, "admission");
        let Some(key) = self.calls.get(&id).and_then(|c| c.focus) else {
            return;
        };
        let settings = self
            .calls
            .get(&id)
            .and_then(|c| c.settings.as_deref())
            .map(|s| (s.hold_timeout_secs, s.lobby_timeout_secs));
        let (hold_secs, lobby_secs) = settings.unwrap_or((1800, 900));
        let state = match decision {
            AdmissionDecision::Admit(role) => {
                if let Some(f) = self.focuses.get_mut(&key) {
                    f.connect_pending(id, role);
                }
                AdmissionState::Admitted
            }
            AdmissionDecision::HoldUntilLeader => {
                self.wait(id, key, Presence::WaitingForLeader, hold_secs, now);
                AdmissionState::WaitingForLeader
            }
            AdmissionDecision::Lobby => {
                self.wait(id, key, Presence::Lobby, lobby_secs, now);
                AdmissionState::InLobby
            }
            AdmissionDecision::Deny(reason) => {
                let tenant = self.focuses.get(&key).map(|f| f.meeting().tenant.clone());
                if let Some(f) = self.focuses.get_mut(&key) {
                    f.leave(id);
                }
                if let Some(c) = self.calls.get_mut(&id) {
                    c.focus = None;
                }
                if let Some(tenant) = tenant {
                    self.audit(tenant, "admission-denied", Some(key), id, reason);
                }
                self.publish_roster(key);
                AdmissionState::Denied
            }
        };
        if let Some(c) = self.calls.get_mut(&id)
            && state == AdmissionState::Admitted
        {
            c.wait_until = None;
        }
        let attended = self.calls.get(&id).is_some_and(|c| c.attendant.is_some());
        if attended {
            self.attendant_input(id, now, |d, now| d.admission(state, now));
            return;
        }
        // A SIP client on the focus URI: no attendant to tell.
        match state {
            AdmissionState::Admitted => {
                let access = Access {
                    pstn_id: String::new(),
                    via: AccessVia::NoPasscodeRequired,
                };
                self.join(id, &access, now);
            }
            AdmissionState::WaitingForLeader | AdmissionState::InLobby => {
                let tenant = self
                    .calls
                    .get(&id)
                    .and_then(|c| c.focus)
                    .and_then(|k| self.focuses.get(&k))
                    .map(|f| f.meeting().tenant.clone());
                if let Some(tenant) = tenant {
                    let kind = if state == AdmissionState::InLobby {
                        plenum_plugin_api::attendant::HoldKind::Lobby
                    } else {
                        plenum_plugin_api::attendant::HoldKind::Music
                    };
                    self.media(MediaOrder::Hold {
                        call: id,
                        tenant,
                        kind,
                    });
                }
            }
            AdmissionState::Denied | AdmissionState::TimedOut => {
                self.hang_up(id, "not admitted", now);
            }
        }
    }

    fn wait(&mut self, id: CallId, key: i64, presence: Presence, secs: u32, now: Instant) {
        let changed = self.focuses.get_mut(&key).is_some_and(|f| {
            let before = f.member(id).map(|m| m.presence);
            f.wait(id, presence);
            before != Some(presence)
        });
        if let Some(c) = self.calls.get_mut(&id)
            && (changed || c.wait_until.is_none())
        {
            let at = now + Duration::from_secs(u64::from(secs.max(1)));
            c.wait_until = Some(at);
            self.call_timers.push(Reverse((at, id)));
        }
        if changed {
            self.publish_roster(key);
        }
    }

    /// Ask the policy again about everyone waiting in a meeting that changed.
    fn recheck_waiting(&mut self, key: i64) {
        let Some(focus) = self.focuses.get(&key) else {
            return;
        };
        let tenant = focus.meeting().tenant.clone();
        let asks: Vec<_> = focus
            .waiting()
            .into_iter()
            .filter_map(|c| focus.admission_request(c).map(|r| (c, r)))
            .collect();
        for (call, request) in asks {
            self.request_work(
                call,
                Work::Admit {
                    tenant: tenant.clone(),
                    request: Box::new(request),
                },
            );
        }
    }

    // ---- in the meeting ----

    fn join(&mut self, id: CallId, access: &Access, now: Instant) {
        let _ = access;
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        call.attendant = None;
        let Some(key) = call.focus else {
            self.hang_up(id, "join without a meeting", now);
            return;
        };
        let dial_in = matches!(call.caller, Some(Caller::Gateway { .. }));
        let has_name = call.has_name;
        let mode = call.settings.as_ref().map(|s| s.announcements);
        let language = language_of(call);
        let Some(focus) = self.focuses.get_mut(&key) else {
            self.hang_up(id, "join without a meeting", now);
            return;
        };
        let role = focus
            .member(id)
            .and_then(|m| m.role)
            .unwrap_or(Role::Attendee);
        focus.connect(id, role);
        let announce = focus.announcements();
        let tenant = focus.meeting().tenant.clone();
        let entity = focus
            .member(id)
            .map(|m| m.entity.clone())
            .unwrap_or_default();
        let authenticated = focus
            .member(id)
            .is_some_and(|m| !matches!(m.identity, ParticipantIdentity::Anonymous));
        self.media(MediaOrder::Join {
            call: id,
            meeting: key,
            muted: false,
            dial_in,
        });
        if announce {
            let what = match mode {
                Some(plenum_plugin_api::policy::AnnouncementMode::Names) if has_name => {
                    Some(Announcement::Joined(id))
                }
                Some(plenum_plugin_api::policy::AnnouncementMode::Off) => None,
                _ => Some(Announcement::EntryTone),
            };
            if let Some(what) = what {
                self.announce(key, &tenant, &language, what, Listeners::DialIn);
            }
        }
        self.audit_entity(tenant, "join", Some(key), entity, String::new());
        self.publish_roster(key);
        if role == Role::Leader || authenticated {
            self.recheck_waiting(key);
        }
    }

    fn announce(
        &mut self,
        meeting: i64,
        tenant: &plenum_types::TenantId,
        language: &str,
        what: Announcement,
        listeners: Listeners,
    ) -> u64 {
        self.next_announcement += 1;
        let id = self.next_announcement;
        self.media(MediaOrder::Announce {
            meeting,
            id,
            tenant: tenant.clone(),
            language: language.to_owned(),
            what,
            listeners,
        });
        id
    }

    /// The media engine reports.
    pub(super) fn media_event(&mut self, input: MediaInput, now: Instant) {
        if !matches!(input, MediaInput::Digit { .. }) {
            tracing::debug!(?input, "media");
        }
        match input {
            MediaInput::Digit { call: id, digit } => {
                let Some(call) = self.calls.get(&id) else {
                    return;
                };
                if call.attendant.is_some() {
                    self.attendant_input(id, now, |d, now| d.digit(digit, now));
                } else if call.focus.is_some() {
                    self.keypad(id, digit, now);
                }
            }
            MediaInput::PlayFinished { call, id } => {
                self.attendant_input(call, now, |d, now| d.play_finished(PlayId(id), now));
            }
            MediaInput::Recorded { call, ms } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.has_name = ms > 0;
                }
                self.attendant_input(call, now, |d, now| d.recorded(ms, now));
            }
            MediaInput::Announced { id } => self.goodbye_heard(id, now),
            MediaInput::Quiet { call, for_ms } => {
                let Some(c) = self.calls.get(&call) else {
                    return;
                };
                // A peer that holds with a=inactive (or receives only) sends nothing by
                // agreement: not a dead leg.
                let peer_sends = c.session.as_ref().and_then(|s| s.media()).is_none_or(|m| {
                    matches!(
                        m.direction,
                        plenum_sdp::Direction::SendRecv | plenum_sdp::Direction::RecvOnly
                    )
                });
                let dead = c
                    .settings
                    .as_deref()
                    .map_or(60_000, |s| u64::from(s.dead_leg_secs) * 1000);
                if peer_sends && for_ms >= dead {
                    self.hang_up(call, "no media from the caller", now);
                }
            }
        }
    }

    /// A key pressed in the meeting: `*` then a key of the tenant's keypad map.
    fn keypad(&mut self, id: CallId, digit: char, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(settings) = call.settings.as_deref() else {
            return;
        };
        if !call.keypad_armed {
            call.keypad_armed = digit == settings.keypad_prefix;
            return;
        }
        call.keypad_armed = false;
        let binding = settings.keypad.iter().find(|b| b.digit == digit).copied();
        let language = language_of(call);
        let Some(key) = call.focus else { return };
        let Some(focus) = self.focuses.get_mut(&key) else {
            return;
        };
        let tenant = focus.meeting().tenant.clone();
        let leader = focus.member(id).and_then(|m| m.role) == Some(Role::Leader);
        let say = |name: &str| Announcement::Prompts(vec![PromptItem::Prompt(name.into())]);
        let Some(binding) = binding.filter(|b| !b.leaders_only || leader) else {
            self.announce(
                key,
                &tenant,
                &language,
                say("invalid-entry"),
                Listeners::Only(id),
            );
            return;
        };
        match binding.command {
            KeypadCommand::Help => {
                self.announce(key, &tenant, &language, say("help"), Listeners::Only(id));
            }
            KeypadCommand::RollCall => {
                let calls: Vec<CallId> = focus
                    .members()
                    .filter(|(_, m)| m.presence == Presence::Connected)
                    .map(|(c, _)| c)
                    .collect();
                self.announce(
                    key,
                    &tenant,
                    &language,
                    Announcement::RollCall(calls),
                    Listeners::Only(id),
                );
            }
            KeypadCommand::MuteSelf => {
                let muted = !focus.member(id).is_some_and(|m| m.muted);
                focus.set_muted(id, muted);
                self.media(MediaOrder::Mute { call: id, muted });
                let name = if muted { "muted" } else { "unmuted" };
                self.announce(key, &tenant, &language, say(name), Listeners::Only(id));
                self.publish_roster(key);
            }
            KeypadCommand::MuteAudience => {
                let others = focus.connected_except(id);
                let all_muted = others
                    .iter()
                    .all(|c| focus.member(*c).is_some_and(|m| m.muted));
                let muted = !all_muted;
                for c in &others {
                    focus.set_muted(*c, muted);
                }
                for c in others {
                    self.media(MediaOrder::Mute { call: c, muted });
                }
                let name = if muted {
                    "audience-muted"
                } else {
                    "audience-unmuted"
                };
                self.announce(key, &tenant, &language, say(name), Listeners::All);
                self.publish_roster(key);
            }
            KeypadCommand::Lock => {
                let locked = !focus.locked();
                focus.set_locked(locked);
                let name = if locked {
                    "meeting-locked"
                } else {
                    "meeting-unlocked"
                };
                self.announce(key, &tenant, &language, say(name), Listeners::Only(id));
                self.publish_roster(key);
                if !locked {
                    self.recheck_waiting(key);
                }
            }
            KeypadCommand::AdmitAll => {
                focus.admit_all();
                self.announce(
                    key,
                    &tenant,
                    &language,
                    say("all-admitted"),
                    Listeners::Only(id),
                );
                self.recheck_waiting(key);
            }
            KeypadCommand::Announcements => {
                let on = focus.toggle_announcements();
                let name = if on {
                    "announcements-on"
                } else {
                    "announcements-off"
                };
                self.announce(key, &tenant, &language, say(name), Listeners::Only(id));
            }
        }
        let _ = now;
    }

    /// The call is going (BYE, hang-up, failure): out of its attendant and its meeting.
    pub(super) fn leave_conference(&mut self, id: CallId, reason: &'static str) {
        let now = self.clock;
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(mut driver) = call.attendant.take() {
            driver.hangup(now);
            let info = Self::call_info(call, id);
            while let Some(o) = driver.poll_output() {
                if let (Output::Step(event), Some(info)) = (o, info.clone()) {
                    // The plugin's last step; nobody waits for its answer.
                    self.out.push_back(SwitchOutput::Work(
                        super::WorkId(0),
                        Work::Attendant {
                            call: id,
                            event,
                            info: Box::new(info),
                        },
                    ));
                }
            }
        }
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(key) = call.focus.take() else {
            return;
        };
        let language = language_of(call);
        let has_name = call.has_name;
        let end_on_last_leader = call
            .settings
            .as_ref()
            .is_some_and(|s| s.on_last_leader_leave == LastLeaderAction::EndMeeting);
        let mode = call.settings.as_ref().map(|s| s.announcements);
        let Some(focus) = self.focuses.get_mut(&key) else {
            return;
        };
        let leaders_before = focus.leaders();
        let Some(member) = focus.leave(id) else {
            return;
        };
        let tenant = focus.meeting().tenant.clone();
        let announce = focus.announcements();
        let empty = focus.is_empty();
        let last_leader = leaders_before > 0 && focus.leaders() == 0;
        if member.presence == Presence::Connected {
            self.media(MediaOrder::Leave { call: id });
            if announce && !empty {
                let what = match mode {
                    Some(plenum_plugin_api::policy::AnnouncementMode::Names) if has_name => {
                        Some(Announcement::Left(id))
                    }
                    Some(plenum_plugin_api::policy::AnnouncementMode::Off) => None,
                    _ => Some(Announcement::ExitTone),
                };
                if let Some(what) = what {
                    self.announce(key, &tenant, &language, what, Listeners::DialIn);
                }
            }
            self.audit_entity(tenant, "leave", Some(key), member.entity, reason.to_owned());
        }
        self.publish_roster(key);
        if empty {
            self.media(MediaOrder::EndMeeting { meeting: key });
            self.focus_idle(key);
            return;
        }
        if last_leader && end_on_last_leader {
            let others: Vec<CallId> = self
                .focuses
                .get(&key)
                .map(|f| f.members().map(|(c, _)| c).collect())
                .unwrap_or_default();
            for c in others {
                self.hang_up(c, "the last leader left", now);
            }
        }
    }

    /// The Focus of a meeting, activated (and its expiry armed) if it is not yet.
    pub(super) fn focus_of_meeting(&mut self, meeting: MeetingRef) -> &mut Focus {
        let key = meeting.id;
        if !self.focuses.contains_key(&key)
            && let Some(at) = meeting.expires
        {
            self.expiries.push(Reverse((at, key)));
        }
        self.focuses
            .entry(key)
            .or_insert_with(|| Focus::new(meeting))
    }

    /// A meeting's expiry time came: everyone in it hears that it has ended (in their own
    /// language), and a few seconds later every caller still there is hung up and every
    /// roster subscription ends.
    pub(super) fn meeting_expired(&mut self, key: i64, now: Instant) {
        let Some(focus) = self.focuses.get(&key) else {
            self.ending.remove(&key);
            return;
        };
        if focus.meeting().expires.is_none_or(|t| t > now) {
            // A stale entry (the Focus was dropped and activated again since).
            return;
        }
        let tenant = focus.meeting().tenant.clone();
        let members: Vec<(CallId, Presence)> =
            focus.members().map(|(c, m)| (c, m.presence)).collect();
        match self.ending.get(&key) {
            Some(at) if *at > now => return, // a duplicate entry; the goodbye is playing
            Some(_) => {
                // The deadline: whoever has not heard the goodbye by now goes anyway.
                self.finish_meeting(key, now);
                return;
            }
            None => {}
        }
        self.ending.insert(key, now + MEETING_ENDED_GRACE);
        self.audit_entity(
            tenant.clone(),
            "meeting-expired",
            Some(key),
            focus.meeting().focus_uri(),
            format!("{} participants", members.len()),
        );
        let mut saying_goodbye = false;
        for (call, presence) in &members {
            if *presence == Presence::Connected {
                let language = self.calls.get(call).map(language_of).unwrap_or_default();
                let ended = Announcement::Prompts(vec![PromptItem::Prompt("meeting-ended".into())]);
                let id = self.announce(key, &tenant, &language, ended, Listeners::Only(*call));
                self.goodbyes.insert(id, (key, *call));
                saying_goodbye = true;
            }
        }
        if saying_goodbye {
            self.expiries
                .push(Reverse((now + MEETING_ENDED_GRACE, key)));
        } else {
            self.finish_meeting(key, now);
        }
    }

    /// The goodbye to one participant of an expired meeting has been heard: hang up; the last
    /// one ends the meeting.
    fn goodbye_heard(&mut self, announcement: u64, now: Instant) {
        let Some((key, call)) = self.goodbyes.remove(&announcement) else {
            return;
        };
        self.hang_up(call, "the meeting expired", now);
        if !self.goodbyes.values().any(|(k, _)| *k == key) {
            self.finish_meeting(key, now);
        }
    }

    /// An expired meeting's end: everyone still in it hung up, its subscriptions terminated,
    /// its Focus gone.
    fn finish_meeting(&mut self, key: i64, now: Instant) {
        let members: Vec<CallId> = self
            .focuses
            .get(&key)
            .map(|f| f.members().map(|(c, _)| c).collect())
            .unwrap_or_default();
        for call in members {
            self.hang_up(call, "the meeting expired", now);
        }
        self.goodbyes.retain(|_, (k, _)| *k != key);
        self.end_subscriptions(key, now);
        self.ending.remove(&key);
        self.focuses.remove(&key);
    }

    /// Publish the roster of a meeting to its subscribers.
    pub(super) fn publish_roster(&mut self, key: i64) {
        let Some(focus) = self.focuses.get_mut(&key) else {
            return;
        };
        if let Some((full, delta)) = focus.publish() {
            self.notify_subscribers(key, &full, &delta);
        }
    }

    fn audit(
        &mut self,
        tenant: plenum_types::TenantId,
        event: &'static str,
        meeting: Option<i64>,
        id: CallId,
        detail: String,
    ) {
        let subject = format!("call-{}", id.0);
        self.audit_entity(tenant, event, meeting, subject, detail);
    }

    fn audit_entity(
        &mut self,
        tenant: plenum_types::TenantId,
        event: &'static str,
        meeting: Option<i64>,
        subject: String,
        detail: String,
    ) {
        self.out.push_back(SwitchOutput::Work(
            super::WorkId(0),
            Work::Audit {
                tenant,
                event,
                meeting,
                subject,
                detail,
            },
        ));
    }

    /// A SIP client's focus URI named a meeting (or none).
    pub(super) fn meeting_found(
        &mut self,
        id: CallId,
        found: Option<Box<(MeetingRef, plenum_plugin_api::policy::MeetingSettings)>>,
        now: Instant,
    ) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let tenant = match &call.caller {
            Some(Caller::User { tenant, .. }) => Some(tenant.clone()),
            _ => None,
        };
        // A meeting of another tenant is not found: the focus URI names no meeting here.
        let Some(found) = found.filter(|f| Some(&f.0.tenant) == tenant.as_ref()) else {
            self.fail(
                id,
                &plenum_sip::error::SipError::NotFound,
                "no such meeting",
                now,
            );
            return;
        };
        let (meeting, settings) = *found;
        call.meeting = Some(meeting);
        call.settings = Some(Box::new(settings));
        call.stage = super::Stage::OpeningMedia;
        self.request_work(id, Work::OpenMedia { call: id });
    }

    /// A SIP client that called the focus URI asks for admission at once.
    fn admit_client(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let (Some(meeting), Some(Caller::User { uri, .. })) = (&call.meeting, &call.caller) else {
            return;
        };
        let access = Access {
            pstn_id: meeting.pstn_id.clone().unwrap_or_default(),
            via: AccessVia::AuthenticatedUser(UserInfo {
                uri: uri.clone(),
                display_name: display_of(uri),
            }),
        };
        self.request_admission(id, &access, now);
    }
}

/// The language of a call's announcements: its access number's first, else the default.
fn language_of(call: &Call) -> String {
    call.routed
        .as_ref()
        .and_then(|r| r.access.languages.first().cloned())
        .unwrap_or_else(|| "en-US".to_owned())
}

/// A display name from a SIP URI: its user part.
fn display_of(uri: &str) -> String {
    uri.trim_start_matches("sip:")
        .split('@')
        .next()
        .unwrap_or(uri)
        .to_owned()
}
