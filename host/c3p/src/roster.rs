//! The roster: RFC 4575 `application/conference-info+xml` documents, the body of the
//! conference event package's NOTIFY (reference/c3p.md §6).
//!
//! A subscriber first gets a full document (`state="full"`), then partial ones (deltas) whose
//! `version` grows by one each time. [`diff`] builds the delta between two full states: changed
//! and new users in full, removed users as `state="deleted"`, the description and the
//! conference state only when they changed (RFC 4575 replaces those as a whole).
//! [`ConferenceInfo::apply`] is the subscriber's side: it merges a delta by key (`entity` for
//! users and endpoints, `id` for media) and tells when versions are missing.
//!
//! This module owns the document model and its codec only; who is in the meeting is the
//! Focus's business.

use std::collections::{HashMap, HashSet};

use crate::conference::{ConfUri, read_conf_uris, write_conf_uris, write_pstn_access};
use crate::error::ParseError;
use crate::ns::{self, Vocab};
use crate::xml::{self, Element, Writer, bool_str, parse_bool};

/// The MIME type of a roster document.
pub const CONTENT_TYPE: &str = "application/conference-info+xml";

/// The SIP event package that carries roster documents.
pub const EVENT_PACKAGE: &str = "conference";

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in RFC order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }

            /// The value with this wire name, if known.
            pub fn from_wire(s: &str) -> Option<$name> {
                match s {
                    $($wire => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

wire_enum! {
    /// The `state` attribute of a document, `users`, `user` or `endpoint`.
    ElementState {
        /// The element carries its whole state (the default).
        Full = "full",
        /// Only what changed.
        Partial = "partial",
        /// The element is gone.
        Deleted = "deleted",
    }
}

wire_enum! {
    /// An endpoint's `status` (RFC 4575 §5.7.2).
    EndpointStatus {
        /// Not yet connected (also: waiting in the lobby).
        Pending = "pending",
        /// The focus is calling the endpoint.
        DialingOut = "dialing-out",
        /// The endpoint is calling in.
        DialingIn = "dialing-in",
        /// The endpoint is ringing.
        Alerting = "alerting",
        /// On hold (e.g. a dial-in caller waiting for a leader).
        OnHold = "on-hold",
        /// In the meeting.
        Connected = "connected",
        /// Muted by the focus.
        MutedViaFocus = "muted-via-focus",
        /// Leaving.
        Disconnecting = "disconnecting",
        /// Gone.
        Disconnected = "disconnected",
    }
}

wire_enum! {
    /// How an endpoint joined (`joining-method`).
    JoiningMethod {
        /// It called in.
        DialedIn = "dialed-in",
        /// The focus called it.
        DialedOut = "dialed-out",
        /// It is the focus owner.
        FocusOwner = "focus-owner",
    }
}

wire_enum! {
    /// How an endpoint left (`disconnection-method`).
    DisconnectionMethod {
        /// It hung up.
        Departed = "departed",
        /// It was removed.
        Booted = "booted",
        /// The call failed.
        Failed = "failed",
        /// It was busy.
        Busy = "busy",
    }
}

wire_enum! {
    /// The direction of a media stream (`status`).
    MediaStatus {
        /// Sending and receiving.
        SendRecv = "sendrecv",
        /// Only sending.
        SendOnly = "sendonly",
        /// Only receiving (muted).
        RecvOnly = "recvonly",
        /// Neither.
        Inactive = "inactive",
    }
}

/// A conference-info document: a full state or a delta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceInfo {
    /// The focus URI.
    pub entity: String,
    /// Full state, delta, or the conference is gone.
    pub state: ElementState,
    /// Grows by one with every document sent on a subscription.
    pub version: u32,
    /// `conference-description`; in a delta, present only when it changed.
    pub description: Option<Description>,
    /// `conference-state`; in a delta, present only when it changed.
    pub conference_state: Option<ConferenceState>,
    /// `users/user`; in a delta, only changed (full), new (full) and removed (deleted) users.
    pub users: Vec<User>,
}

/// `conference-description`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description {
    /// `display-text`.
    pub display_text: Option<String>,
    /// `subject`.
    pub subject: Option<String>,
    /// `conf-uris/entry`: the focus and MCU URIs.
    pub conf_uris: Vec<ConfUri>,
    /// `msci:conference-id`.
    pub conference_id: Option<String>,
    /// `msci:pstn-access/msci:id`: the numeric PSTN conference ID.
    pub pstn_id: Option<String>,
}

/// `conference-state`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConferenceState {
    /// `user-count`.
    pub user_count: Option<u32>,
    /// `active`: someone who may start the meeting is in.
    pub active: Option<bool>,
    /// `locked`: newcomers wait in the lobby.
    pub locked: Option<bool>,
}

/// `users/user`: one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The participant's AOR: `sip:` for enterprise users, `tel:+…` for dial-in callers.
    pub entity: String,
    /// Full, partial (only in deltas from other servers), or deleted (left).
    pub state: ElementState,
    /// `display-text`.
    pub display_text: Option<String>,
    /// `roles/entry`, e.g. `presenter`, `attendee`.
    pub roles: Vec<String>,
    /// `endpoint`s.
    pub endpoints: Vec<Endpoint>,
}

/// `endpoint`: one device or call of a participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Endpoint entity, e.g. `{GUID}` or the call's URI.
    pub entity: String,
    /// Full, partial or deleted.
    pub state: ElementState,
    /// `display-text`.
    pub display_text: Option<String>,
    /// `status`.
    pub status: Option<EndpointStatus>,
    /// `joining-method`.
    pub joining_method: Option<JoiningMethod>,
    /// `disconnection-method`.
    pub disconnection_method: Option<DisconnectionMethod>,
    /// `media` streams.
    pub media: Vec<Media>,
}

/// `media`: one stream of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `@id`, unique within the endpoint (MCU commands call it `mediaId`).
    pub id: String,
    /// `type`, e.g. `audio`.
    pub media_type: Option<String>,
    /// `label` (the SDP label).
    pub label: Option<String>,
    /// `status`.
    pub status: Option<MediaStatus>,
}

impl User {
    /// A user in full state with no endpoints.
    pub fn new(entity: impl Into<String>) -> User {
        User {
            entity: entity.into(),
            state: ElementState::Full,
            display_text: None,
            roles: Vec::new(),
            endpoints: Vec::new(),
        }
    }

    /// The `state="deleted"` entry that removes `entity`.
    pub fn deleted(entity: impl Into<String>) -> User {
        User {
            state: ElementState::Deleted,
            ..User::new(entity)
        }
    }
}

impl Endpoint {
    /// An endpoint in full state with nothing else known.
    pub fn new(entity: impl Into<String>) -> Endpoint {
        Endpoint {
            entity: entity.into(),
            state: ElementState::Full,
            display_text: None,
            status: None,
            joining_method: None,
            disconnection_method: None,
            media: Vec::new(),
        }
    }
}

/// Why a delta cannot be merged into a roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The delta is about another conference.
    #[error("document is for another conference")]
    WrongEntity,
    /// The document's version is not newer than the roster's: drop it.
    #[error("stale version {got} (have {have})")]
    Stale {
        /// The roster's version.
        have: u32,
        /// The document's version.
        got: u32,
    },
    /// Versions are missing between the roster and the delta: re-subscribe for a full state.
    #[error("version gap: have {have}, got {got}")]
    Gap {
        /// The roster's version.
        have: u32,
        /// The document's version.
        got: u32,
    },
}

impl ConferenceInfo {
    /// An empty full-state document.
    pub fn new(entity: impl Into<String>, version: u32) -> ConferenceInfo {
        ConferenceInfo {
            entity: entity.into(),
            state: ElementState::Full,
            version,
            description: None,
            conference_state: None,
            users: Vec::new(),
        }
    }

    /// Read a document. Lenient like the C3P reader: prefixes do not matter, unknown elements,
    /// attributes and values are ignored; the root must be RFC 4575 `conference-info`.
    pub fn parse(body: &[u8]) -> Result<ConferenceInfo, ParseError> {
        let root = xml::parse(body)?;
        if !root.is(Vocab::Ci, "conference-info") {
            return Err(ParseError::WrongRoot {
                expected: "conference-info",
                found: crate::error::excerpt(&root.name, 64),
            });
        }
        let version = match root.attr("version") {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| ParseError::InvalidAttribute { name: "version" })?,
            None => 0,
        };
        Ok(ConferenceInfo {
            entity: root.attr("entity").unwrap_or_default().to_owned(),
            state: read_state(&root),
            version,
            description: root
                .child(Vocab::Ci, "conference-description")
                .map(read_description),
            conference_state: root
                .child(Vocab::Ci, "conference-state")
                .map(read_conference_state),
            users: root
                .child(Vocab::Ci, "users")
                .map(|u| u.children_named(Vocab::Ci, "user").map(read_user).collect())
                .unwrap_or_default(),
        })
    }

    /// The canonical XML: RFC 4575 as the default namespace, `msci` for Microsoft's extensions,
    /// `state` written on the root, `users`, every `user` and every `endpoint`.
    pub fn to_xml(&self) -> String {
        let mut w = Writer::new();
        let version = self.version.to_string();
        w.open(
            "conference-info",
            &[
                ("xmlns", Some(ns::CI)),
                ("xmlns:msci", Some(ns::MSCI)),
                ("entity", Some(&self.entity)),
                ("state", Some(self.state.as_str())),
                ("version", Some(&version)),
            ],
        );
        if let Some(d) = &self.description {
            write_description(&mut w, d);
        }
        if let Some(s) = &self.conference_state {
            write_conference_state(&mut w, s);
        }
        let users_state = [("state", Some(self.state.as_str()))];
        if !self.users.is_empty() {
            w.open("users", &users_state);
            self.users.iter().for_each(|u| write_user(&mut w, u));
            w.close("users");
        } else if self.state == ElementState::Full {
            w.empty("users", &users_state);
        }
        w.close("conference-info");
        w.finish()
    }

    /// Merge a document received on the subscription into this roster (the subscriber's side).
    /// A full or deleted document replaces the roster; a partial one must carry the next
    /// version.
    pub fn apply(&mut self, doc: &ConferenceInfo) -> Result<(), ApplyError> {
        if doc.entity != self.entity {
            return Err(ApplyError::WrongEntity);
        }
        let (have, got) = (self.version, doc.version);
        if got <= have {
            return Err(ApplyError::Stale { have, got });
        }
        if doc.state != ElementState::Partial {
            *self = doc.clone();
            return Ok(());
        }
        if Some(got) != have.checked_add(1) {
            return Err(ApplyError::Gap { have, got });
        }
        if let Some(d) = &doc.description {
            self.description = Some(d.clone());
        }
        if let Some(s) = doc.conference_state {
            self.conference_state = Some(s);
        }
        for user in &doc.users {
            merge_user(&mut self.users, user);
        }
        self.version = got;
        Ok(())
    }
}

/// The partial document that takes a subscriber from full state `old` to full state `new`,
/// numbered `version` (the previous document's version plus one).
pub fn diff(old: &ConferenceInfo, new: &ConferenceInfo, version: u32) -> ConferenceInfo {
    let before: HashMap<&str, &User> = old.users.iter().map(|u| (u.entity.as_str(), u)).collect();
    let after: HashSet<&str> = new.users.iter().map(|u| u.entity.as_str()).collect();
    let changed = new
        .users
        .iter()
        .filter(|u| before.get(u.entity.as_str()) != Some(u))
        .map(|u| User {
            state: ElementState::Full,
            ..u.clone()
        });
    let removed = old
        .users
        .iter()
        .filter(|u| !after.contains(u.entity.as_str()))
        .map(|u| User::deleted(u.entity.clone()));
    ConferenceInfo {
        entity: new.entity.clone(),
        state: ElementState::Partial,
        version,
        description: new
            .description
            .clone()
            .filter(|d| old.description.as_ref() != Some(d)),
        conference_state: new
            .conference_state
            .filter(|s| old.conference_state != Some(*s)),
        users: changed.chain(removed).collect(),
    }
}

fn merge_user(users: &mut Vec<User>, delta: &User) {
    let pos = users.iter().position(|u| u.entity == delta.entity);
    match (delta.state, pos) {
        (ElementState::Deleted, Some(i)) => {
            users.remove(i);
        }
        (ElementState::Deleted, None) => {}
        (ElementState::Partial, Some(i)) => {
            if let Some(user) = users.get_mut(i) {
                merge_partial_user(user, delta);
            }
        }
        (_, Some(i)) => {
            if let Some(user) = users.get_mut(i) {
                *user = full(delta.clone());
            }
        }
        (_, None) => users.push(full(delta.clone())),
    }
}

fn full(mut user: User) -> User {
    user.state = ElementState::Full;
    user
}

fn merge_partial_user(user: &mut User, delta: &User) {
    if delta.display_text.is_some() {
        user.display_text.clone_from(&delta.display_text);
    }
    if !delta.roles.is_empty() {
        user.roles.clone_from(&delta.roles);
    }
    for d in &delta.endpoints {
        let pos = user.endpoints.iter().position(|e| e.entity == d.entity);
        match (d.state, pos) {
            (ElementState::Deleted, Some(i)) => {
                user.endpoints.remove(i);
            }
            (ElementState::Deleted, None) => {}
            (ElementState::Partial, Some(i)) => {
                if let Some(e) = user.endpoints.get_mut(i) {
                    merge_partial_endpoint(e, d);
                }
            }
            (_, Some(i)) => {
                if let Some(e) = user.endpoints.get_mut(i) {
                    *e = Endpoint {
                        state: ElementState::Full,
                        ..d.clone()
                    };
                }
            }
            (_, None) => user.endpoints.push(Endpoint {
                state: ElementState::Full,
                ..d.clone()
            }),
        }
    }
}

fn merge_partial_endpoint(e: &mut Endpoint, d: &Endpoint) {
    if d.display_text.is_some() {
        e.display_text.clone_from(&d.display_text);
    }
    e.status = d.status.or(e.status);
    e.joining_method = d.joining_method.or(e.joining_method);
    e.disconnection_method = d.disconnection_method.or(e.disconnection_method);
    for m in &d.media {
        match e.media.iter_mut().find(|x| x.id == m.id) {
            Some(x) => *x = m.clone(),
            None => e.media.push(m.clone()),
        }
    }
}

fn read_state(el: &Element) -> ElementState {
    el.attr("state")
        .and_then(|s| ElementState::from_wire(s.trim()))
        .unwrap_or(ElementState::Full)
}

fn text(el: &Element, name: &str) -> Option<String> {
    el.child_text(Vocab::Ci, name).map(str::to_owned)
}

fn read_description(el: &Element) -> Description {
    Description {
        display_text: text(el, "display-text"),
        subject: text(el, "subject"),
        conf_uris: read_conf_uris(el),
        conference_id: el
            .child_text(Vocab::Msci, "conference-id")
            .map(str::to_owned),
        pstn_id: el
            .child(Vocab::Msci, "pstn-access")
            .and_then(|p| p.child_text(Vocab::Msci, "id"))
            .map(str::to_owned),
    }
}

fn read_conference_state(el: &Element) -> ConferenceState {
    ConferenceState {
        user_count: el
            .child_text(Vocab::Ci, "user-count")
            .and_then(|v| v.parse().ok()),
        active: el.child_text(Vocab::Ci, "active").and_then(parse_bool),
        locked: el.child_text(Vocab::Ci, "locked").and_then(parse_bool),
    }
}

fn read_user(el: &Element) -> User {
    let entity = el.attr("entity").unwrap_or_default();
    if read_state(el) == ElementState::Deleted {
        return User::deleted(entity);
    }
    User {
        entity: el.attr("entity").unwrap_or_default().to_owned(),
        state: read_state(el),
        display_text: text(el, "display-text"),
        roles: el
            .child(Vocab::Ci, "roles")
            .map(|r| {
                r.children_named(Vocab::Ci, "entry")
                    .map(|e| e.text().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
        endpoints: el
            .children_named(Vocab::Ci, "endpoint")
            .map(read_endpoint)
            .collect(),
    }
}

fn read_endpoint(el: &Element) -> Endpoint {
    let entity = el.attr("entity").unwrap_or_default();
    if read_state(el) == ElementState::Deleted {
        return Endpoint {
            state: ElementState::Deleted,
            ..Endpoint::new(entity)
        };
    }
    let value = |name: &str| el.child_text(Vocab::Ci, name);
    Endpoint {
        entity: el.attr("entity").unwrap_or_default().to_owned(),
        state: read_state(el),
        display_text: text(el, "display-text"),
        status: value("status").and_then(EndpointStatus::from_wire),
        joining_method: value("joining-method").and_then(JoiningMethod::from_wire),
        disconnection_method: value("disconnection-method")
            .and_then(DisconnectionMethod::from_wire),
        media: el
            .children_named(Vocab::Ci, "media")
            .map(|m| Media {
                id: m.attr("id").unwrap_or_default().to_owned(),
                media_type: text(m, "type"),
                label: text(m, "label"),
                status: m
                    .child_text(Vocab::Ci, "status")
                    .and_then(MediaStatus::from_wire),
            })
            .collect(),
    }
}

fn write_description(w: &mut Writer, d: &Description) {
    w.open("conference-description", &[]);
    w.opt_leaf("display-text", d.display_text.as_deref());
    w.opt_leaf("subject", d.subject.as_deref());
    write_conf_uris(w, &d.conf_uris, "");
    w.opt_leaf("msci:conference-id", d.conference_id.as_deref());
    if d.pstn_id.is_some() {
        write_pstn_access(w, d.pstn_id.as_deref(), None);
    }
    w.close("conference-description");
}

fn write_conference_state(w: &mut Writer, s: &ConferenceState) {
    w.open("conference-state", &[]);
    let count = s.user_count.map(|c| c.to_string());
    w.opt_leaf("user-count", count.as_deref());
    w.opt_leaf("active", s.active.map(bool_str));
    w.opt_leaf("locked", s.locked.map(bool_str));
    w.close("conference-state");
}

fn write_user(w: &mut Writer, u: &User) {
    let attrs = [
        ("entity", Some(u.entity.as_str())),
        ("state", Some(u.state.as_str())),
    ];
    if u.state == ElementState::Deleted {
        return w.empty("user", &attrs);
    }
    w.open("user", &attrs);
    w.opt_leaf("display-text", u.display_text.as_deref());
    if !u.roles.is_empty() {
        w.open("roles", &[]);
        u.roles.iter().for_each(|r| w.leaf("entry", r));
        w.close("roles");
    }
    u.endpoints.iter().for_each(|e| write_endpoint(w, e));
    w.close("user");
}

fn write_endpoint(w: &mut Writer, e: &Endpoint) {
    let attrs = [
        ("entity", Some(e.entity.as_str())),
        ("state", Some(e.state.as_str())),
    ];
    if e.state == ElementState::Deleted {
        return w.empty("endpoint", &attrs);
    }
    w.open("endpoint", &attrs);
    w.opt_leaf("display-text", e.display_text.as_deref());
    w.opt_leaf("status", e.status.map(EndpointStatus::as_str));
    w.opt_leaf(
        "joining-method",
        e.joining_method.map(JoiningMethod::as_str),
    );
    w.opt_leaf(
        "disconnection-method",
        e.disconnection_method.map(DisconnectionMethod::as_str),
    );
    for m in &e.media {
        w.open("media", &[("id", Some(&m.id))]);
        w.opt_leaf("type", m.media_type.as_deref());
        w.opt_leaf("label", m.label.as_deref());
        w.opt_leaf("status", m.status.map(MediaStatus::as_str));
        w.close("media");
    }
    w.close("endpoint");
}
