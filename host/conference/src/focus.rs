//! The Focus of one meeting, sans-IO: who is in it, who waits, whether it is locked, and the
//! roster the conference event package publishes.
//!
//! It is activated by the first participant and holds nothing the pool does not: the meeting's
//! facts come from the pool when it is activated, the decisions (admission, keypad map,
//! announcements) from the tenant's meeting policy. It does not decide admission itself: it
//! builds the [`AdmissionRequest`] the policy judges ([`Focus::admission_request`]) and records
//! the outcome. When the meeting changes in a way that can let waiting callers in (a leader
//! arrives, the meeting is unlocked, a leader admits everyone), [`Focus::waiting`] names the
//! callers to ask about again.

use std::collections::BTreeMap;

use plenum_c3p::roster::{
    ConferenceInfo, ConferenceState, Description, Endpoint, EndpointStatus,
    JoiningMethod as RosterJoining, Media, MediaStatus, User,
};
use plenum_plugin_api::policy::{
    AdmissionRequest, JoiningMethod, MeetingFacts, ParticipantIdentity, Role,
};
use plenum_plugin_api::types::AdmissionPolicy;
use plenum_types::TenantId;

use crate::switch::CallId;

/// What the pool says about a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRef {
    /// Row id.
    pub id: i64,
    /// Tenant.
    pub tenant: TenantId,
    /// Organizer URI.
    pub organizer: String,
    /// `msci:conference-id`.
    pub conference_id: String,
    /// Subject.
    pub subject: String,
    /// PSTN conference ID.
    pub pstn_id: Option<String>,
    /// Admission policy.
    pub admission: AdmissionPolicy,
    /// Lobby bypass for dial-in callers.
    pub lobby_bypass: bool,
    /// It has a passcode.
    pub has_passcode: bool,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// The same moment on the switch's clock (`None`: too far ahead to matter). When it
    /// passes, the meeting ends: everyone hears that it has ended and is hung up.
    pub expires: Option<std::time::Instant>,
}

impl MeetingRef {
    /// The focus URI (the roster's `entity`).
    pub fn focus_uri(&self) -> String {
        crate::focus_factory::focus_uri(&self.organizer, &self.conference_id)
    }
}

/// Where a participant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Asked to be admitted; the policy has not answered yet.
    Asking,
    /// On hold until a leader (or an authenticated user) is in.
    WaitingForLeader,
    /// In the lobby until a leader admits them.
    Lobby,
    /// In the meeting.
    Connected,
}

/// A participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The roster's user entity: the SIP URI of a user, else `tel:` of the caller's number or
    /// an anonymous name.
    pub entity: String,
    /// What the roster shows.
    pub display: String,
    /// Who they are to the policy.
    pub identity: ParticipantIdentity,
    /// The organizer.
    pub is_organizer: bool,
    /// A user of the meeting's tenant (authenticated).
    pub same_tenant: bool,
    /// Dialled in (a PSTN leg) or a SIP client.
    pub method: JoiningMethod,
    /// Role once admitted.
    pub role: Option<Role>,
    /// Where they are.
    pub presence: Presence,
    /// Muted by themselves (`*6`) or by a leader.
    pub muted: bool,
}

impl Member {
    fn authenticated(&self) -> bool {
        !matches!(self.identity, ParticipantIdentity::Anonymous)
    }
}

/// A meeting as an operator sees it live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveMeeting {
    /// The meeting.
    pub meeting: MeetingRef,
    /// Locked by a leader.
    pub locked: bool,
    /// Entry and exit announcements on (a leader's `*9` toggles them).
    pub announcements: bool,
    /// Who is in it or waits to be, in the order they came.
    pub members: Vec<Member>,
}

/// The Focus of one meeting.
#[derive(Debug, Clone)]
pub struct Focus {
    meeting: MeetingRef,
    members: BTreeMap<CallId, Member>,
    locked: bool,
    admit_all: bool,
    announcements: bool,
    /// The roster as last published, and its version.
    published: Option<ConferenceInfo>,
    version: u32,
}

impl Focus {
    /// A Focus for a meeting with nobody in it yet.
    pub fn new(meeting: MeetingRef) -> Focus {
        Focus {
            meeting,
            members: BTreeMap::new(),
            locked: false,
            admit_all: false,
            announcements: true,
            published: None,
            version: 0,
        }
    }

    /// The meeting.
    pub fn meeting(&self) -> &MeetingRef {
        &self.meeting
    }

    /// A participant.
    pub fn member(&self, call: CallId) -> Option<&Member> {
        self.members.get(&call)
    }

    /// Everybody, in joining order of their call ids.
    pub fn members(&self) -> impl Iterator<Item = (CallId, &Member)> {
        self.members.iter().map(|(c, m)| (*c, m))
    }

    /// Nobody is in or waiting.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Locked (`*7`): new anonymous callers go to the lobby.
    pub fn locked(&self) -> bool {
        self.locked
    }

    /// Entry and exit announcements on (`*9` toggles).
    pub fn announcements(&self) -> bool {
        self.announcements
    }

    /// Connected leaders.
    pub fn leaders(&self) -> u32 {
        self.count(|m| m.presence == Presence::Connected && m.role == Some(Role::Leader))
    }

    fn count(&self, f: impl Fn(&Member) -> bool) -> u32 {
        u32::try_from(self.members.values().filter(|m| f(m)).count()).unwrap_or(u32::MAX)
    }

    /// The facts the policy judges admission by.
    pub fn facts(&self) -> MeetingFacts {
        MeetingFacts {
            organizer: self.meeting.organizer.clone(),
            admission: self.meeting.admission,
            lobby_bypass: self.meeting.lobby_bypass,
            has_passcode: self.meeting.has_passcode,
            locked: self.locked,
            admit_all: self.admit_all,
            leaders_present: self.leaders(),
            authenticated_present: self
                .count(|m| m.presence == Presence::Connected && m.authenticated()),
            participants: self.count(|m| m.presence == Presence::Connected),
        }
    }

    /// Someone asks to be admitted: remember them and build the question for the policy.
    pub fn ask(&mut self, call: CallId, member: Member) -> AdmissionRequest {
        self.members.insert(
            call,
            Member {
                presence: Presence::Asking,
                ..member
            },
        );
        self.admission_request(call)
            .unwrap_or_else(|| unreachable_request(&self.meeting))
    }

    /// The question for the policy about a member (again, after the meeting changed).
    pub fn admission_request(&self, call: CallId) -> Option<AdmissionRequest> {
        let m = self.members.get(&call)?;
        Some(AdmissionRequest {
            meeting: self.facts(),
            identity: m.identity.clone(),
            is_organizer: m.is_organizer,
            same_tenant: m.same_tenant,
            method: m.method,
        })
    }

    /// The policy put them on hold or in the lobby.
    pub fn wait(&mut self, call: CallId, presence: Presence) {
        if let Some(m) = self.members.get_mut(&call) {
            m.presence = presence;
        }
    }

    /// Admitted (the role is known) but not yet in the mix.
    pub fn connect_pending(&mut self, call: CallId, role: Role) {
        if let Some(m) = self.members.get_mut(&call) {
            m.role = Some(role);
        }
    }

    /// Admitted and joined the mix.
    pub fn connect(&mut self, call: CallId, role: Role) {
        if let Some(m) = self.members.get_mut(&call) {
            m.presence = Presence::Connected;
            m.role = Some(role);
        }
    }

    /// Gone (hung up, denied, timed out); returns who it was.
    pub fn leave(&mut self, call: CallId) -> Option<Member> {
        self.members.remove(&call)
    }

    /// Mute or unmute a connected member; returns whether it changed.
    pub fn set_muted(&mut self, call: CallId, muted: bool) -> bool {
        match self.members.get_mut(&call) {
            Some(m) if m.muted != muted => {
                m.muted = muted;
                true
            }
            _ => false,
        }
    }

    /// Lock or unlock. Locking again ends an earlier "admit all" (`*8`): new arrivals go to
    /// the lobby once more.
    pub fn set_locked(&mut self, locked: bool) {
        self.locked = locked;
        if locked {
            self.admit_all = false;
        }
    }

    /// A leader let everybody in (`*8`): the lobby empties now, and later arrivals skip it
    /// until the meeting is locked again.
    pub fn admit_all(&mut self) {
        self.admit_all = true;
    }

    /// Toggle announcements; returns the new state.
    pub fn toggle_announcements(&mut self) -> bool {
        self.announcements = !self.announcements;
        self.announcements
    }

    /// Callers waiting (on hold or in the lobby) to ask about again.
    pub fn waiting(&self) -> Vec<CallId> {
        self.members
            .iter()
            .filter(|(_, m)| matches!(m.presence, Presence::WaitingForLeader | Presence::Lobby))
            .map(|(c, _)| *c)
            .collect()
    }

    /// Connected members other than `except` (the audience of "everyone is muted").
    pub fn connected_except(&self, except: CallId) -> Vec<CallId> {
        self.members
            .iter()
            .filter(|(c, m)| **c != except && m.presence == Presence::Connected)
            .map(|(c, _)| *c)
            .collect()
    }

    /// The meeting as an operator sees it.
    pub fn live(&self) -> LiveMeeting {
        LiveMeeting {
            meeting: self.meeting.clone(),
            locked: self.locked,
            announcements: self.announcements,
            members: self.members.values().cloned().collect(),
        }
    }

    /// The roster as a full document at the current version.
    pub fn roster(&self) -> ConferenceInfo {
        let entity = self.meeting.focus_uri();
        let mut info = ConferenceInfo::new(entity.clone(), self.version.max(1));
        info.description = Some(Description {
            display_text: Some(self.meeting.subject.clone()),
            subject: Some(self.meeting.subject.clone()),
            conf_uris: Vec::new(),
            conference_id: Some(self.meeting.conference_id.clone()),
            pstn_id: self.meeting.pstn_id.clone(),
        });
        info.conference_state = Some(ConferenceState {
            user_count: Some(self.count(|m| m.presence != Presence::Asking)),
            active: Some(self.count(|m| m.presence == Presence::Connected) > 0),
            locked: Some(self.locked),
        });
        for (call, m) in &self.members {
            if m.presence == Presence::Asking {
                continue;
            }
            // One user per entity, one endpoint per call: the same person (or phone number)
            // in twice is one user with two endpoints, a presenter if either leads.
            let at = match info.users.iter().position(|u| u.entity == m.entity) {
                Some(i) => i,
                None => {
                    let mut user = User::new(m.entity.clone());
                    user.display_text = Some(m.display.clone());
                    user.roles = vec!["attendee".into()];
                    info.users.push(user);
                    info.users.len() - 1
                }
            };
            let Some(user) = info.users.get_mut(at) else {
                continue;
            };
            if m.role == Some(Role::Leader) {
                user.roles = vec!["presenter".into()];
            }
            let mut ep = Endpoint::new(format!("{entity};call={}", call.0));
            ep.display_text = Some(m.display.clone());
            ep.status = Some(match m.presence {
                Presence::Connected if m.muted => EndpointStatus::MutedViaFocus,
                Presence::Connected => EndpointStatus::Connected,
                Presence::WaitingForLeader => EndpointStatus::OnHold,
                Presence::Lobby | Presence::Asking => EndpointStatus::Pending,
            });
            // Both a PSTN caller and a SIP client that INVITEs the focus dialled in (RFC 4575
            // §5.7.2: "dialed-in" is any endpoint that called the focus).
            ep.joining_method = Some(RosterJoining::DialedIn);
            let mut audio = Media {
                id: "1".into(),
                media_type: Some("audio".into()),
                label: None,
                status: Some(if m.muted {
                    MediaStatus::RecvOnly
                } else {
                    MediaStatus::SendRecv
                }),
            };
            if m.presence != Presence::Connected {
                audio.status = Some(MediaStatus::Inactive);
            }
            ep.media.push(audio);
            user.endpoints.push(ep);
        }
        info
    }

    /// Publish the roster: `None` when nothing changed since the last one; else the new full
    /// document and the partial delta from the last (the first publication's delta is the full
    /// document itself).
    pub fn publish(&mut self) -> Option<(ConferenceInfo, ConferenceInfo)> {
        let mut full = self.roster();
        if let Some(last) = &self.published {
            let mut same = full.clone();
            same.version = last.version;
            if same == *last {
                return None;
            }
        }
        self.version = self.version.saturating_add(1);
        full.version = self.version;
        let delta = match &self.published {
            Some(last) => plenum_c3p::roster::diff(last, &full, self.version),
            None => full.clone(),
        };
        self.published = Some(full.clone());
        Some((full, delta))
    }

    /// The last published full roster (what a new subscriber gets first).
    pub fn published(&self) -> Option<&ConferenceInfo> {
        self.published.as_ref()
    }
}

/// A request about nobody (never built: `ask` inserts first).
fn unreachable_request(meeting: &MeetingRef) -> AdmissionRequest {
    AdmissionRequest {
        meeting: MeetingFacts {
            organizer: meeting.organizer.clone(),
            admission: meeting.admission,
            lobby_bypass: false,
            has_passcode: meeting.has_passcode,
            locked: true,
            admit_all: false,
            leaders_present: 0,
            authenticated_present: 0,
            participants: 0,
        },
        identity: ParticipantIdentity::Anonymous,
        is_organizer: false,
        same_tenant: false,
        method: JoiningMethod::DialedIn,
    }
}
