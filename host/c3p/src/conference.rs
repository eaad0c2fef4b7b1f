//! The conference-info document of the Focus Factory commands: the stored settings of one
//! scheduled meeting (subject, conference ID, expiry, admission policy, dial-in access), as
//! sent in addConference / modifyConference and returned by getConference. The live roster is
//! a different document: see [`crate::roster`].
//!
//! Wire shape (reference/c3p.md §2.2, §3):
//!
//! ```xml
//! <ci:conference-info entity="" version="3">
//!   <ci:conference-description>
//!     <ci:subject>…</ci:subject>
//!     <ci:conf-uris><ci:entry><ci:uri>…</ci:uri><ci:purpose>audio-video</ci:purpose></ci:entry></ci:conf-uris>
//!     <msci:conference-id>TPDD8VYG</msci:conference-id>
//!     <msci:expiry-time>2026-11-24T18:00:00Z</msci:expiry-time>
//!     <msci:admission-policy>anonymous</msci:admission-policy>
//!     <msci:pstn-access><msci:id>…</msci:id><msci:passcode>…</msci:passcode></msci:pstn-access>
//!     <msci:pstn-lobby-bypass>true</msci:pstn-lobby-bypass>
//!     <msci:autopromote>2147483648</msci:autopromote>
//!     <msci:last-update>…</msci:last-update>
//!   </ci:conference-description>
//!   <ci:conference-state><ci:locked>false</ci:locked></ci:conference-state>
//!   <msci:conference-view><msci:entity-view entity="audio-video"/></msci:conference-view>
//! </ci:conference-info>
//! ```
//!
//! **Not confirmed as Microsoft's format**: `msci:passcode`. The OCS R2 client encrypts the
//! passcode and we never saw the element; our subset accepts it in clear text inside
//! `msci:pstn-access` (over TLS) and returns it to the organizer once, in the addConference
//! response. `msci:last-update` and `ci:conf-uris` in responses are our reading of the
//! conference-description extensions.

use std::fmt;
use std::str::FromStr;

use crate::error::FailureReason;
use crate::ns::Vocab;
use crate::time::{format_date_time, parse_date_time};
use crate::xml::{Element, Writer, bool_str, parse_bool};

/// Who may join a meeting without being let in (`msci:admission-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdmissionPolicy {
    /// Only invited, authenticated users of the organization (`closedAuthenticated`).
    ClosedAuthenticated,
    /// Any authenticated user of the organization (`openAuthenticated`).
    OpenAuthenticated,
    /// Anyone, anonymous and dial-in callers included (`anonymous`).
    Anonymous,
}

impl AdmissionPolicy {
    /// Every policy, in wire order.
    pub const ALL: [AdmissionPolicy; 3] = [
        AdmissionPolicy::ClosedAuthenticated,
        AdmissionPolicy::OpenAuthenticated,
        AdmissionPolicy::Anonymous,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AdmissionPolicy::ClosedAuthenticated => "closedAuthenticated",
            AdmissionPolicy::OpenAuthenticated => "openAuthenticated",
            AdmissionPolicy::Anonymous => "anonymous",
        }
    }
}

impl FromStr for AdmissionPolicy {
    type Err = FailureReason;

    /// Unknown names give [`FailureReason::InvalidAdmissionPolicy`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AdmissionPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(FailureReason::InvalidAdmissionPolicy)
    }
}

/// An MCU type (`mcuType`), e.g. `audio-video`. Unknown names are kept as [`McuType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum McuType {
    /// `audio-video`: the A/V conferencing server (our mixer).
    AudioVideo,
    /// `chat`: IM conferencing.
    Chat,
    /// `meeting`: data collaboration.
    Meeting,
    /// `phone-conf`: an ACP / phone bridge.
    PhoneConf,
    /// `applicationsharing`: desktop sharing.
    ApplicationSharing,
    /// Any other name.
    Other(String),
}

impl McuType {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            McuType::AudioVideo => "audio-video",
            McuType::Chat => "chat",
            McuType::Meeting => "meeting",
            McuType::PhoneConf => "phone-conf",
            McuType::ApplicationSharing => "applicationsharing",
            McuType::Other(s) => s,
        }
    }

    /// The type with this wire name.
    pub fn from_wire(s: &str) -> McuType {
        match s {
            "audio-video" => McuType::AudioVideo,
            "chat" => McuType::Chat,
            "meeting" => McuType::Meeting,
            "phone-conf" => McuType::PhoneConf,
            "applicationsharing" => McuType::ApplicationSharing,
            other => McuType::Other(other.to_owned()),
        }
    }
}

/// A meeting passcode for anonymous (dial-in) callers, as the organizer's client sent it. Its
/// `Debug` never shows the digits; it never appears in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Passcode(String);

impl Passcode {
    /// Wrap a passcode. The codec checks nothing: length and digits are the meeting policy's.
    pub fn new(s: impl Into<String>) -> Passcode {
        Passcode(s.into())
    }

    /// The passcode, for hashing or for the one response that returns it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passcode(<redacted>)")
    }
}

/// Dial-in access of a meeting (`msci:pstn-access`). Its mere presence in addConference asks
/// for dial-in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PstnAccess {
    /// The numeric PSTN conference ID (`msci:id`), assigned by the Focus Factory; digits as
    /// sent (the codec does not check them).
    pub id: Option<String>,
    /// The passcode (`msci:passcode`, our unconfirmed subset: see the module doc).
    pub passcode: Option<Passcode>,
}

/// One `conf-uris/entry`: a URI by which the conference is reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfUri {
    /// The URI (`uri`).
    pub uri: String,
    /// Human-readable text (`display-text`).
    pub display_text: Option<String>,
    /// What the URI is for (`purpose`), e.g. `audio-video`, `chat`.
    pub purpose: Option<String>,
}

/// The settings of one scheduled conference: the `conference-info` of addConference,
/// modifyConference, getConference and getConferences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conference {
    /// The focus URI (`@entity`); empty in addConference, where the server assigns it.
    pub entity: String,
    /// The revision (`@version`): returned by getConference, passed back by modifyConference as
    /// an optimistic lock.
    pub version: Option<u32>,
    /// `ci:subject`.
    pub subject: Option<String>,
    /// `ci:conf-uris` (responses).
    pub conf_uris: Vec<ConfUri>,
    /// The meeting ID (`msci:conference-id`): 8–32 alphanumerics chosen by the client.
    pub conference_id: Option<String>,
    /// When the Focus Factory may delete the meeting (`msci:expiry-time`), Unix seconds.
    pub expiry_time: Option<i64>,
    /// `msci:admission-policy`.
    pub admission_policy: Option<AdmissionPolicy>,
    /// `msci:pstn-access`: `Some` asks for (or reports) dial-in.
    pub pstn_access: Option<PstnAccess>,
    /// Whether dial-in callers skip the lobby (`msci:pstn-lobby-bypass`).
    pub pstn_lobby_bypass: Option<bool>,
    /// The numeric auto-promote (leader assignment) policy (`msci:autopromote`).
    pub autopromote: Option<u64>,
    /// When the settings last changed (`msci:last-update`, responses), Unix seconds.
    pub last_update: Option<i64>,
    /// `ci:conference-state/ci:locked`.
    pub locked: Option<bool>,
    /// `msci:conference-view/msci:entity-view/@entity`: the MCU types asked for (requests) or
    /// MCU URIs (responses), as sent.
    pub entity_views: Vec<String>,
}

/// A value in a conference-info that the command cannot use, with the C3P reason to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub reason: FailureReason,
    pub what: &'static str,
}

impl Invalid {
    pub(crate) fn new(reason: FailureReason, what: &'static str) -> Invalid {
        Invalid { reason, what }
    }
}

impl Conference {
    /// Read a `conference-info` element.
    pub(crate) fn read(el: &Element) -> Result<Conference, Invalid> {
        let mut c = Conference {
            entity: el.attr("entity").unwrap_or_default().to_owned(),
            version: match el.attr("version") {
                Some(v) => Some(v.trim().parse().map_err(|_| {
                    Invalid::new(FailureReason::InvalidVersion, "conference-info/@version")
                })?),
                None => None,
            },
            ..Conference::default()
        };
        if let Some(desc) = el.child(Vocab::Ci, "conference-description") {
            c.read_description(desc)?;
        }
        c.locked = match el
            .child(Vocab::Ci, "conference-state")
            .and_then(|s| s.child_text(Vocab::Ci, "locked"))
        {
            Some(t) => Some(parse_bool(t).ok_or(malformed("conference-state/locked"))?),
            None => None,
        };
        if let Some(view) = el.child(Vocab::Msci, "conference-view") {
            c.entity_views = view
                .children_named(Vocab::Msci, "entity-view")
                .filter_map(|v| v.attr("entity"))
                .map(str::to_owned)
                .collect();
        }
        Ok(c)
    }

    fn read_description(&mut self, desc: &Element) -> Result<(), Invalid> {
        self.subject = desc.child_text(Vocab::Ci, "subject").map(str::to_owned);
        self.conf_uris = read_conf_uris(desc);
        self.conference_id = desc
            .child_text(Vocab::Msci, "conference-id")
            .map(str::to_owned);
        self.expiry_time = opt_time(desc, "expiry-time", FailureReason::InvalidExpiryTime)?;
        self.last_update = opt_time(desc, "last-update", FailureReason::RequestMalformed)?;
        self.admission_policy = match desc.child_text(Vocab::Msci, "admission-policy") {
            Some(t) => Some(t.parse().map_err(|reason| Invalid {
                reason,
                what: "msci:admission-policy",
            })?),
            None => None,
        };
        self.pstn_access = desc.child(Vocab::Msci, "pstn-access").map(|p| PstnAccess {
            id: p.child_text(Vocab::Msci, "id").map(str::to_owned),
            passcode: p.child_text(Vocab::Msci, "passcode").map(Passcode::new),
        });
        self.pstn_lobby_bypass = match desc.child_text(Vocab::Msci, "pstn-lobby-bypass") {
            Some(t) => Some(parse_bool(t).ok_or(malformed("msci:pstn-lobby-bypass"))?),
            None => None,
        };
        self.autopromote = match desc.child_text(Vocab::Msci, "autopromote") {
            Some(t) => Some(t.parse().map_err(|_| {
                Invalid::new(
                    FailureReason::InvalidAutomaticPromoteValue,
                    "msci:autopromote",
                )
            })?),
            None => None,
        };
        Ok(())
    }

    /// Write as `ci:conference-info` (prefixes `ci` and `msci` declared by the caller).
    pub(crate) fn write(&self, w: &mut Writer) {
        let version = self.version.map(|v| v.to_string());
        let attrs = [
            ("entity", Some(self.entity.as_str())),
            ("version", version.as_deref()),
        ];
        if !self.has_description() && self.locked.is_none() && self.entity_views.is_empty() {
            return w.empty("ci:conference-info", &attrs);
        }
        w.open("ci:conference-info", &attrs);
        if self.has_description() {
            self.write_description(w);
        }
        if let Some(locked) = self.locked {
            w.open("ci:conference-state", &[]);
            w.leaf("ci:locked", bool_str(locked));
            w.close("ci:conference-state");
        }
        if !self.entity_views.is_empty() {
            w.open("msci:conference-view", &[]);
            for view in &self.entity_views {
                w.empty("msci:entity-view", &[("entity", Some(view))]);
            }
            w.close("msci:conference-view");
        }
        w.close("ci:conference-info");
    }

    fn has_description(&self) -> bool {
        self.subject.is_some()
            || !self.conf_uris.is_empty()
            || self.conference_id.is_some()
            || self.expiry_time.is_some()
            || self.admission_policy.is_some()
            || self.pstn_access.is_some()
            || self.pstn_lobby_bypass.is_some()
            || self.autopromote.is_some()
            || self.last_update.is_some()
    }

    fn write_description(&self, w: &mut Writer) {
        w.open("ci:conference-description", &[]);
        w.opt_leaf("ci:subject", self.subject.as_deref());
        write_conf_uris(w, &self.conf_uris, "ci:");
        w.opt_leaf("msci:conference-id", self.conference_id.as_deref());
        let expiry = self.expiry_time.map(format_date_time);
        w.opt_leaf("msci:expiry-time", expiry.as_deref());
        w.opt_leaf(
            "msci:admission-policy",
            self.admission_policy.map(AdmissionPolicy::as_str),
        );
        if let Some(pstn) = &self.pstn_access {
            write_pstn_access(w, pstn.id.as_deref(), pstn.passcode.as_ref());
        }
        w.opt_leaf(
            "msci:pstn-lobby-bypass",
            self.pstn_lobby_bypass.map(bool_str),
        );
        let autopromote = self.autopromote.map(|a| a.to_string());
        w.opt_leaf("msci:autopromote", autopromote.as_deref());
        let last_update = self.last_update.map(format_date_time);
        w.opt_leaf("msci:last-update", last_update.as_deref());
        w.close("ci:conference-description");
    }
}

fn malformed(what: &'static str) -> Invalid {
    Invalid::new(FailureReason::RequestMalformed, what)
}

fn opt_time(
    desc: &Element,
    name: &'static str,
    reason: FailureReason,
) -> Result<Option<i64>, Invalid> {
    match desc.child_text(Vocab::Msci, name) {
        Some(t) => parse_date_time(t)
            .map(Some)
            .map_err(|_| Invalid::new(reason, name)),
        None => Ok(None),
    }
}

/// Read `conf-uris/entry` children of a conference-description.
pub(crate) fn read_conf_uris(desc: &Element) -> Vec<ConfUri> {
    let Some(uris) = desc.child(Vocab::Ci, "conf-uris") else {
        return Vec::new();
    };
    uris.children_named(Vocab::Ci, "entry")
        .filter_map(|e| {
            Some(ConfUri {
                uri: e.child_text(Vocab::Ci, "uri")?.to_owned(),
                display_text: e.child_text(Vocab::Ci, "display-text").map(str::to_owned),
                purpose: e.child_text(Vocab::Ci, "purpose").map(str::to_owned),
            })
        })
        .collect()
}

/// Write `conf-uris` with RFC 4575 element names under `prefix` (`"ci:"` or `""`).
pub(crate) fn write_conf_uris(w: &mut Writer, uris: &[ConfUri], prefix: &str) {
    if uris.is_empty() {
        return;
    }
    let name = |local: &str| format!("{prefix}{local}");
    w.open(&name("conf-uris"), &[]);
    for u in uris {
        w.open(&name("entry"), &[]);
        w.leaf(&name("uri"), &u.uri);
        w.opt_leaf(&name("display-text"), u.display_text.as_deref());
        w.opt_leaf(&name("purpose"), u.purpose.as_deref());
        w.close(&name("entry"));
    }
    w.close(&name("conf-uris"));
}

/// Write `msci:pstn-access`: empty when neither part is known.
pub(crate) fn write_pstn_access(w: &mut Writer, id: Option<&str>, passcode: Option<&Passcode>) {
    if id.is_none() && passcode.is_none() {
        return w.empty("msci:pstn-access", &[]);
    }
    w.open("msci:pstn-access", &[]);
    w.opt_leaf("msci:id", id);
    w.opt_leaf("msci:passcode", passcode.map(Passcode::expose));
    w.close("msci:pstn-access");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passcode_debug_is_redacted() {
        let c = Conference {
            pstn_access: Some(PstnAccess {
                id: Some("1234567".into()),
                passcode: Some(Passcode::new("8642")),
            }),
            ..Conference::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("8642"));
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn admission_policy_names() {
        for p in AdmissionPolicy::ALL {
            assert_eq!(p.as_str().parse(), Ok(p));
        }
        assert_eq!(
            "public".parse::<AdmissionPolicy>(),
            Err(FailureReason::InvalidAdmissionPolicy)
        );
    }

    #[test]
    fn mcu_types_round_trip() {
        for name in [
            "audio-video",
            "chat",
            "meeting",
            "phone-conf",
            "applicationsharing",
            "x",
        ] {
            assert_eq!(McuType::from_wire(name).as_str(), name);
        }
    }
}
