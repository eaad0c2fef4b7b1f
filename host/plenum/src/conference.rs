//! The shell's conference side: the blocking work the switch asks for on a dial-in call (the
//! attendant plugin's steps, conference lookup, passcode and PIN checks with lockout, admission,
//! audit) and the translation of the switch's media orders into media-engine commands (prompt
//! names into audio from the tenant's pack or the built-in catalogue).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use plenum_assets::{Prompts, Tone};
use plenum_conference::attendant::{Keys, StepFailed};
use plenum_conference::focus::MeetingRef;
use plenum_conference::switch::{Announcement, CallId, Listeners as CoreListeners, MediaOrder};
use plenum_media::{Codec, LegConfig, SrtpConfig, SrtpSuite};
use plenum_mixer::{Segment, Settings};
use plenum_plugin_api::attendant::{
    CallInfo, ConferenceLookup, ConferenceSummary, Event, HoldKind, PasscodeResult, PinResult,
    PromptItem, StepResult, UserInfo,
};
use plenum_plugin_api::normalizer::{NormalizeOutcome, NormalizeRequest, NumberKind};
use plenum_plugin_api::policy::{
    AdmissionDecision, AdmissionRequest, AttemptOutcome, PinAuthScope, PolicyContext,
};
use plenum_plugin_api::types::Tenant;
use plenum_runtime::fallback::AttendantSession;
use plenum_storage::{AuditEvent, AuditRecord};
use plenum_types::{E164, PstnId, Secret, TenantId};

use crate::media::{Command, LegSockets, Listeners, MediaEngine};
use crate::server::Services;

/// The policy context of a tenant (its flattened policy document).
pub fn policy_context(s: &Services, tenant: &TenantId) -> PolicyContext {
    let record = s.pool().tenant(tenant).ok().flatten();
    let (domain, text) = record
        .map(|t| (t.sip_domain, t.policy_document))
        .unwrap_or_default();
    let document = plenum_sdk::toml_document::flatten(&text).unwrap_or_default();
    PolicyContext {
        tenant: Tenant::new(tenant.as_str(), &domain),
        document,
    }
}

/// The attendant sessions of the calls in progress: each keeps the plugin version it started
/// with and its opaque state.
#[derive(Default)]
pub struct Sessions {
    by_call: Mutex<HashMap<CallId, Arc<Mutex<AttendantSession>>>>,
}

impl Sessions {
    /// One step of the call's attendant (a session starts on the first step and ends after
    /// the `Hangup` step).
    pub fn step(
        &self,
        s: &Services,
        call: CallId,
        mut info: CallInfo,
        event: &Event,
    ) -> Result<StepResult, StepFailed> {
        let tenant = TenantId::new(&info.tenant.id).map_err(|_| StepFailed)?;
        let session = {
            let mut map = self.by_call.lock().map_err(|_| StepFailed)?;
            match map.get(&call) {
                Some(s) => Arc::clone(s),
                None => {
                    let session = s.plugins().attendant(&tenant).ok_or(StepFailed)?;
                    let session = Arc::new(Mutex::new(session));
                    map.insert(call, Arc::clone(&session));
                    session
                }
            }
        };
        info.now = plenum_types::unix_now();
        if info.tenant.domain.is_empty()
            && let Ok(Some(t)) = s.pool().tenant(&tenant)
        {
            info.tenant = Tenant::new(tenant.as_str(), &t.sip_domain);
        }
        let actions = session.lock().map_err(|_| StepFailed)?.step(&info, event);
        if matches!(event, Event::Hangup) {
            self.end(call);
        }
        Ok(StepResult {
            state: Vec::new(),
            actions,
        })
    }

    /// Forget a call's session.
    pub fn end(&self, call: CallId) {
        if let Ok(mut map) = self.by_call.lock() {
            map.remove(&call);
        }
    }
}

/// Find a meeting of `tenant` by the PSTN conference ID a caller typed.
pub fn lookup(
    s: &Services,
    tenant: &TenantId,
    keys: &Keys,
) -> (ConferenceLookup, Option<Box<MeetingRef>>) {
    let typed = keys.expose();
    let Ok(id) = PstnId::new(typed) else {
        let digits = !typed.is_empty() && typed.bytes().all(|b| b.is_ascii_digit());
        audit(
            s,
            tenant,
            AuditEvent::FailedConferenceId,
            None,
            "dial-in",
            "",
        );
        return if digits && typed.len() >= 2 {
            (ConferenceLookup::BadCheckDigit, None)
        } else {
            (ConferenceLookup::NotFound, None)
        };
    };
    let now = plenum_types::unix_now();
    let found = s
        .pool()
        .conference_by_pstn(&id)
        .ok()
        .flatten()
        .filter(|c| c.tenant == *tenant && c.expires_at > now);
    let Some(c) = found else {
        audit(
            s,
            tenant,
            AuditEvent::FailedConferenceId,
            None,
            "dial-in",
            "",
        );
        return (ConferenceLookup::NotFound, None);
    };
    let organizer_name = s
        .pool()
        .user_by_uri(&c.organizer)
        .ok()
        .flatten()
        .map(|u| u.display_name)
        .unwrap_or_default();
    let summary = ConferenceSummary {
        pstn_id: id.as_str().to_owned(),
        subject: c.subject.clone(),
        organizer_name,
        passcode_required: c.has_passcode,
    };
    (
        ConferenceLookup::Found(summary),
        Some(Box::new(meeting_ref(c))),
    )
}

/// The switch's view of a stored meeting.
pub fn meeting_ref(c: plenum_storage::ConferenceRecord) -> MeetingRef {
    MeetingRef {
        id: c.id,
        tenant: c.tenant,
        organizer: c.organizer,
        conference_id: c.conference_id,
        subject: c.subject,
        pstn_id: c.pstn_id.map(|p| p.as_str().to_owned()),
        admission: c.admission_policy,
        lobby_bypass: c.lobby_bypass,
        has_passcode: c.has_passcode,
        expires: u64::try_from(c.expires_at.saturating_sub(plenum_types::unix_now()).max(0))
            .ok()
            .and_then(|secs| {
                std::time::Instant::now().checked_add(std::time::Duration::from_secs(secs))
            }),
        expires_at: c.expires_at,
    }
}

/// Check a meeting's passcode; a wrong one is audited.
pub fn verify_passcode(
    s: &Services,
    tenant: &TenantId,
    meeting: i64,
    passcode: &Secret,
) -> PasscodeResult {
    let checked = s.pool().passcode_hash(meeting).map(|phc| {
        phc.is_some_and(|phc| {
            s.slow.passcode(meeting, &phc, passcode, || {
                plenum_storage::Hasher::verify(&phc, passcode).unwrap_or(false)
            })
        })
    });
    match checked {
        Ok(true) => PasscodeResult::Accepted,
        Ok(false) => {
            audit(
                s,
                tenant,
                AuditEvent::FailedPasscode,
                Some(meeting),
                "dial-in",
                "",
            );
            PasscodeResult::Rejected
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot check a passcode");
            PasscodeResult::Rejected
        }
    }
}

/// Sign in with extension (or number) and PIN, under the policy's lockout.
pub fn verify_pin(
    s: &Services,
    tenant: &TenantId,
    profile: Option<&str>,
    who: &Keys,
    pin: &Secret,
    meeting: Option<i64>,
) -> PinResult {
    let pool = s.pool();
    let typed = who.expose();
    let by_extension = pool.user_by_extension(tenant, typed).ok().flatten();
    let user = by_extension.or_else(|| {
        let number = normalize(s, tenant, profile, typed)?;
        pool.user_by_line(&number).ok().flatten()
    });
    let Some(user) = user.filter(|u| u.tenant == *tenant) else {
        audit(
            s,
            tenant,
            AuditEvent::FailedPin,
            meeting,
            "dial-in",
            "unknown extension",
        );
        return PinResult::Rejected;
    };
    let ctx = policy_context(s, tenant);
    let settings = s.plugins().settings(tenant, &ctx).value;
    if settings.pin_auth == PinAuthScope::OrganizerOnly {
        let organizer = meeting
            .and_then(|m| pool.conference_by_id(m).ok().flatten())
            .map(|c| c.organizer);
        if organizer.as_deref() != Some(user.sip_uri.as_str()) {
            return PinResult::NotAllowed;
        }
    }
    let now = plenum_types::unix_now();
    let Ok(attempts) = pool.pin_attempts(&user.sip_uri) else {
        return PinResult::Rejected;
    };
    let locked = attempts.locked || attempts.locked_until.is_some_and(|t| t > now);
    if locked {
        audit(
            s,
            tenant,
            AuditEvent::FailedPin,
            meeting,
            &user.sip_uri,
            "locked",
        );
        return PinResult::Locked;
    }
    let right = s
        .slow
        .run(|| pool.verify_pin(&user.sip_uri, pin).unwrap_or(false));
    let outcome = if right {
        AttemptOutcome::Success
    } else {
        AttemptOutcome::Failure
    };
    let pin_len = u8::try_from(pin.expose().len()).unwrap_or(u8::MAX);
    let next = s
        .plugins()
        .record_attempt(tenant, &ctx, pin_len, &attempts, outcome, now)
        .value;
    if let Err(e) = pool.set_pin_attempts(&user.sip_uri, &next) {
        tracing::error!(error = %e, "cannot store PIN attempts");
    }
    let now_locked = next.locked || next.locked_until.is_some_and(|t| t > now);
    if right && !now_locked {
        return PinResult::Accepted(UserInfo {
            uri: user.sip_uri,
            display_name: user.display_name,
        });
    }
    audit(s, tenant, AuditEvent::FailedPin, meeting, &user.sip_uri, "");
    if now_locked && !locked {
        audit(s, tenant, AuditEvent::PinLocked, meeting, &user.sip_uri, "");
        return PinResult::Locked;
    }
    PinResult::Rejected
}

/// A typed number through the tenant's normalizer with `profile`.
fn normalize(s: &Services, tenant: &TenantId, profile: Option<&str>, typed: &str) -> Option<E164> {
    let t = s.pool().tenant(tenant).ok().flatten()?;
    let name = profile.map(str::to_owned).or(t.default_profile.clone())?;
    let p = s.pool().profile(tenant, &name).ok().flatten()?;
    let request = NormalizeRequest {
        tenant: Tenant::new(tenant.as_str(), &t.sip_domain),
        profile: crate::server::location_profile(&p),
        number: typed.to_owned(),
        kind: NumberKind::Called,
    };
    match s.plugins().normalize(tenant, &request).value {
        NormalizeOutcome::E164(n) => E164::new(&n).ok(),
        _ => None,
    }
}

/// Admission by the tenant's policy.
pub fn admit(s: &Services, tenant: &TenantId, request: &AdmissionRequest) -> AdmissionDecision {
    let ctx = policy_context(s, tenant);
    s.plugins().admit(tenant, &ctx, request).value
}

/// Write an audit record (a failure is logged).
pub fn audit(
    s: &Services,
    tenant: &TenantId,
    event: AuditEvent,
    meeting: Option<i64>,
    subject: &str,
    detail: &str,
) {
    let record = AuditRecord {
        id: 0,
        at: plenum_types::unix_now(),
        tenant: Some(tenant.clone()),
        event,
        conference: meeting,
        subject: subject.to_owned(),
        detail: detail.to_owned(),
    };
    if let Err(e) = s.pool().audit(&record) {
        tracing::error!(error = %e, "cannot write audit record");
    }
}

/// The media leg a negotiation describes.
pub fn leg_config(media: &plenum_sdp::Negotiated) -> LegConfig {
    let codec = match media.codec.kind {
        plenum_sdp::CodecKind::Pcmu => Codec::Pcmu {
            payload_type: media.codec.pt,
        },
        plenum_sdp::CodecKind::Pcma => Codec::Pcma {
            payload_type: media.codec.pt,
        },
    };
    let mut config = LegConfig::new(rand::random(), codec);
    config.telephone_event_pt = media.telephone_event_pt;
    config.ptime_ms = u16::try_from(media.ptime).unwrap_or(20);
    config.remote = usable(media.remote_rtp);
    config.remote_rtcp = usable(media.remote_rtcp);
    config.srtp = media.srtp.as_ref().map(|k| SrtpConfig {
        suite: match k.suite {
            plenum_sdp::SrtpSuite::AesCm128HmacSha1_32 => SrtpSuite::Aes128CmHmacSha1_32,
            _ => SrtpSuite::Aes128CmHmacSha1_80,
        },
        local_key_salt: k.ours,
        remote_key_salt: k.theirs,
    });
    config
}

/// Whether the negotiated direction has us send RTP (not while the peer holds).
fn we_send(media: &plenum_sdp::Negotiated) -> bool {
    matches!(
        media.direction,
        plenum_sdp::Direction::SendRecv | plenum_sdp::Direction::SendOnly
    )
}

/// An address to send to: not 0.0.0.0 (RFC 2543 hold) and not port 0.
fn usable(a: SocketAddr) -> Option<SocketAddr> {
    (!a.ip().is_unspecified() && a.port() != 0).then_some(a)
}

/// Turns the switch's media orders into engine commands.
pub struct MediaShell {
    engine: MediaEngine,
    prompts: Arc<Prompts>,
    /// Recorded names by call.
    names: HashMap<CallId, Arc<[i16]>>,
}

impl MediaShell {
    /// Over an engine and the prompts.
    pub fn new(engine: MediaEngine, prompts: Arc<Prompts>) -> MediaShell {
        MediaShell {
            engine,
            prompts,
            names: HashMap::new(),
        }
    }

    /// A recording arrived.
    pub fn recorded(&mut self, call: CallId, samples: Arc<[i16]>) {
        if samples.is_empty() {
            self.names.remove(&call);
        } else {
            self.names.insert(call, samples);
        }
    }

    fn segments(
        &self,
        tenant: &TenantId,
        lang: &str,
        items: &[PromptItem],
        call: CallId,
    ) -> Vec<Segment> {
        let p = &self.prompts;
        let t = Some(tenant);
        let mut out = Vec::new();
        for item in items {
            match item {
                PromptItem::Prompt(name) => {
                    out.extend(p.clip_for(t, lang, name).map(Segment::Clip))
                }
                PromptItem::Localized((l, name)) => {
                    out.extend(p.clip_for(t, l, name).map(Segment::Clip));
                }
                PromptItem::Digits(d) => {
                    out.extend(p.digits_for(t, lang, d).into_iter().map(Segment::Clip));
                }
                PromptItem::Number(n) => {
                    out.extend(p.number_for(t, lang, *n).into_iter().map(Segment::Clip));
                }
                PromptItem::Silence(ms) => out.push(Segment::Silence { ms: *ms }),
                PromptItem::RecordedName => {
                    out.extend(self.names.get(&call).cloned().map(Segment::Clip));
                }
            }
        }
        out
    }

    fn announcement(&self, tenant: &TenantId, lang: &str, what: &Announcement) -> Arc<[i16]> {
        let p = &self.prompts;
        let t = Some(tenant);
        let mut clips: Vec<Arc<[i16]>> = Vec::new();
        match what {
            Announcement::EntryTone => clips.push(p.tone_for(t, Tone::Entry)),
            Announcement::ExitTone => clips.push(p.tone_for(t, Tone::Exit)),
            Announcement::Joined(c) | Announcement::Left(c) => {
                let name = if matches!(what, Announcement::Joined(_)) {
                    "has-joined"
                } else {
                    "has-left"
                };
                match self.names.get(c) {
                    Some(n) => {
                        clips.push(Arc::clone(n));
                        clips.extend(p.clip_for(t, lang, name));
                    }
                    None => clips.push(p.tone_for(
                        t,
                        if name == "has-joined" {
                            Tone::Entry
                        } else {
                            Tone::Exit
                        },
                    )),
                }
            }
            Announcement::Prompts(items) => {
                for s in self.segments(tenant, lang, items, CallId(0)) {
                    if let Segment::Clip(c) = s {
                        clips.push(c);
                    }
                }
            }
            Announcement::RollCall(calls) => {
                clips.extend(p.clip_for(t, lang, "roll-call"));
                for c in calls {
                    if let Some(n) = self.names.get(c) {
                        clips.push(Arc::clone(n));
                    }
                }
            }
        }
        let mut all = Vec::with_capacity(clips.iter().map(|c| c.len()).sum());
        for c in clips {
            all.extend_from_slice(&c);
        }
        Arc::from(all)
    }

    /// Carry out an order; the sockets of an `Open` come from `take_sockets`.
    pub fn order(
        &mut self,
        order: MediaOrder,
        take_sockets: impl FnOnce(u16) -> Option<LegSockets>,
    ) {
        let e = &self.engine;
        match order {
            MediaOrder::Open { call, port, media } => match take_sockets(port) {
                Some(sockets) => e.send(Command::Open {
                    call: call.0,
                    sockets,
                    config: Box::new(leg_config(&media)),
                    send: we_send(&media),
                }),
                None => tracing::warn!(call = call.0, port, "no sockets for a media leg"),
            },
            MediaOrder::Update { call, media } => e.send(Command::Remote {
                call: call.0,
                rtp: usable(media.remote_rtp),
                rtcp: usable(media.remote_rtcp),
                send: we_send(&media),
            }),
            MediaOrder::Play {
                call,
                id,
                tenant,
                language,
                items,
            } => {
                let segments = self.segments(&tenant, &language, &items, call);
                e.send(Command::Play {
                    call: call.0,
                    id: Some(id),
                    segments,
                });
            }
            MediaOrder::Stop { call } => e.send(Command::Stop { call: call.0 }),
            MediaOrder::Hold { call, tenant, kind } => {
                // The tenant's hold music when its prompt pack has one. The lobby plays the
                // same music: the attendant announces which of the two it is.
                let music = self.prompts.tone_for(Some(&tenant), Tone::HoldMusic);
                let _ = kind == HoldKind::Lobby;
                e.send(Command::Loop {
                    call: call.0,
                    segments: vec![Segment::Clip(music)],
                });
            }
            MediaOrder::Record {
                call,
                tenant,
                max_ms,
            } => {
                // "After the tone, please say your name": the tone, then the recording (the
                // recorder trims the caller's silence while the beep plays).
                let beep = self.prompts.tone_for(Some(&tenant), Tone::Beep);
                e.send(Command::Play {
                    call: call.0,
                    id: None,
                    segments: vec![Segment::Clip(beep)],
                });
                e.send(Command::Record {
                    call: call.0,
                    max_ms,
                });
            }
            MediaOrder::StopRecord { call } => e.send(Command::StopRecord { call: call.0 }),
            MediaOrder::Join {
                call,
                meeting,
                muted,
                dial_in,
            } => e.send(Command::Join {
                call: call.0,
                meeting,
                settings: Settings {
                    muted,
                    dial_in,
                    ..Settings::default()
                },
            }),
            MediaOrder::Leave { call } => e.send(Command::Leave { call: call.0 }),
            MediaOrder::Mute { call, muted } => e.send(Command::Mute {
                call: call.0,
                muted,
            }),
            MediaOrder::Announce {
                meeting,
                id,
                tenant,
                language,
                what,
                listeners,
            } => {
                let clip = self.announcement(&tenant, &language, &what);
                let listeners = match listeners {
                    CoreListeners::All => Listeners::All,
                    CoreListeners::DialIn => Listeners::DialIn,
                    CoreListeners::AllExcept(c) => Listeners::AllExcept(c.0),
                    CoreListeners::Only(c) => Listeners::Only(c.0),
                };
                e.send(Command::Announce {
                    meeting,
                    id,
                    clip,
                    listeners,
                });
            }
            MediaOrder::EndMeeting { meeting } => e.send(Command::EndMeeting { meeting }),
            MediaOrder::Info {
                call,
                content_type,
                body,
            } => {
                if let Ok(d) = plenum_media::dtmf::parse_info_body(&content_type, &body) {
                    e.send(Command::InfoDigit {
                        call: call.0,
                        digit: d.digit,
                    });
                }
            }
            MediaOrder::Close { call } => {
                self.names.remove(&call);
                e.send(Command::Close { call: call.0 });
            }
        }
    }
}
