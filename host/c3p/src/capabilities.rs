//! The getConferencingCapabilities response: what a tenant may schedule, and the dial-in
//! access numbers by region (reference/c3p.md §2.1).
//!
//! ```xml
//! <getConferencingCapabilities capability-version="0">
//!   <mcu-types><mcuType>audio-video</mcuType></mcu-types>
//!   <anonymous-scheduling enabled="true"/>
//!   <pstn-bridging enabled="true">
//!     <access-numbers>
//!       <default-region>Redmond</default-region>
//!       <region name="Redmond">
//!         <access-number><number>+14255550100</number><language>en-US</language></access-number>
//!       </region>
//!     </access-numbers>
//!   </pstn-bridging>
//!   <pln:scheduling xmlns:pln="urn:x-plenum:xml:ns:cccp-extensions">…</pln:scheduling>
//! </getConferencingCapabilities>
//! ```
//!
//! `mcu-types`, `anonymous-scheduling` and the `pstn-bridging/access-numbers` paths are what
//! Microsoft's spec and SIPE show; the attribute form `enabled="true"` is our inference. The
//! rest of what UCMA's `ConferencingCapabilities` conveys (allowed admission policies, lobby
//! bypass, optional passcode, expiry default, dial-in page URIs) has no wire names we could
//! confirm, so it travels in Plenum's own namespace ([`crate::ns::PLENUM`]) where Microsoft
//! clients ignore it.

use crate::conference::{AdmissionPolicy, McuType};
use crate::ns::Vocab;
use crate::xml::{Element, Writer, bool_str, parse_bool};

/// The Focus Factory's capabilities for one organizer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `@capability-version`: 0 for this revision.
    pub capability_version: u32,
    /// The MCUs the organizer may ask for.
    pub mcu_types: Vec<McuType>,
    /// Whether the organizer may schedule meetings that anonymous users join.
    pub anonymous_scheduling: bool,
    /// Dial-in: enabled, and the access numbers by region.
    pub pstn_bridging: PstnBridging,
    /// Plenum's scheduling options (`pln:scheduling`); `None` when the element is absent.
    pub scheduling: Option<SchedulingOptions>,
}

/// `pstn-bridging`: whether dial-in may be offered, and where to call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PstnBridging {
    /// `@enabled`: dial-in is offered only when true.
    pub enabled: bool,
    /// `access-numbers/default-region`: the region of the organizer's location profile.
    pub default_region: Option<String>,
    /// `access-numbers/region`, in the order to list them.
    pub regions: Vec<Region>,
}

/// One dial-in region and its access numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Region {
    /// `@name`.
    pub name: String,
    /// The numbers, in priority order.
    pub access_numbers: Vec<AccessNumber>,
}

/// One dial-in access number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessNumber {
    /// The number as shown in invitations (`number`), e.g. `+14255550100`.
    pub number: String,
    /// The attendant's languages on this number (`language`), primary first, e.g. `en-US`.
    pub languages: Vec<String>,
}

/// Plenum's scheduling options (`pln:scheduling`): the UCMA-conveyed capabilities that have no
/// confirmed Microsoft wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulingOptions {
    /// The admission policies the organizer may choose (`pln:admission-policy`).
    pub admission_policies: Vec<AdmissionPolicy>,
    /// The recommended admission policy (`pln:admission-policy/@default`).
    pub default_admission_policy: Option<AdmissionPolicy>,
    /// Whether the organizer may let dial-in callers bypass the lobby
    /// (`pln:pstn-lobby-bypass/@allowed`).
    pub lobby_bypass_allowed: bool,
    /// The recommended lobby-bypass setting (`pln:pstn-lobby-bypass/@default`).
    pub lobby_bypass_default: bool,
    /// Whether a dial-in meeting may go without a passcode (`pln:passcode/@optional`).
    pub passcode_optional: bool,
    /// Shortest passcode the policy accepts (`pln:passcode/@min-length`).
    pub passcode_min_length: u8,
    /// Longest passcode the policy accepts (`pln:passcode/@max-length`).
    pub passcode_max_length: u8,
    /// Default lifetime of a meeting in seconds from scheduling, for `msci:expiry-time`
    /// (`pln:expiry/@default-seconds`; UCMA's default is 8 h).
    pub default_expiry_seconds: u32,
    /// Dial-in web page for users inside the organization (`pln:dial-in-page/@internal`).
    pub internal_dial_in_page: Option<String>,
    /// Dial-in web page for users outside (`pln:dial-in-page/@external`).
    pub external_dial_in_page: Option<String>,
}

impl Default for SchedulingOptions {
    /// UCMA-like defaults: every policy allowed, `openAuthenticated` recommended, lobby bypass
    /// allowed and on, passcode required with 4–16 digits, meetings expire after 8 h.
    fn default() -> Self {
        SchedulingOptions {
            admission_policies: AdmissionPolicy::ALL.to_vec(),
            default_admission_policy: Some(AdmissionPolicy::OpenAuthenticated),
            lobby_bypass_allowed: true,
            lobby_bypass_default: true,
            passcode_optional: false,
            passcode_min_length: 4,
            passcode_max_length: 16,
            default_expiry_seconds: 8 * 3600,
            internal_dial_in_page: None,
            external_dial_in_page: None,
        }
    }
}

impl Capabilities {
    /// Read the body of a successful getConferencingCapabilities response. Lenient: missing or
    /// unreadable parts take their defaults.
    pub(crate) fn read(el: &Element) -> Capabilities {
        Capabilities {
            capability_version: el
                .attr("capability-version")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            mcu_types: read_mcu_types(el),
            anonymous_scheduling: el
                .child(Vocab::Cccp, "anonymous-scheduling")
                .is_some_and(read_enabled),
            pstn_bridging: el
                .child(Vocab::Cccp, "pstn-bridging")
                .map(read_bridging)
                .unwrap_or_default(),
            scheduling: el.child(Vocab::Plenum, "scheduling").map(read_scheduling),
        }
    }

    /// Write the body of a successful response as `<getConferencingCapabilities>`.
    pub(crate) fn write(&self, w: &mut Writer) {
        let version = self.capability_version.to_string();
        w.open(
            "getConferencingCapabilities",
            &[("capability-version", Some(&version))],
        );
        write_mcu_types(w, &self.mcu_types);
        w.empty(
            "anonymous-scheduling",
            &[("enabled", Some(bool_str(self.anonymous_scheduling)))],
        );
        write_bridging(w, &self.pstn_bridging);
        if let Some(s) = &self.scheduling {
            write_scheduling(w, s);
        }
        w.close("getConferencingCapabilities");
    }
}

/// `@enabled` of an element, or its text (`<anonymous-scheduling>true</…>`); absent means
/// enabled, since the element's presence is the statement.
fn read_enabled(el: &Element) -> bool {
    el.attr("enabled")
        .or(Some(el.text()).filter(|t| !t.is_empty()))
        .map(|v| parse_bool(v).unwrap_or(false))
        .unwrap_or(true)
}

/// `mcu-types/mcuType` under `el`.
pub(crate) fn read_mcu_types(el: &Element) -> Vec<McuType> {
    el.child(Vocab::Cccp, "mcu-types")
        .map(|t| {
            t.children_named(Vocab::Cccp, "mcuType")
                .map(|m| McuType::from_wire(m.text()))
                .collect()
        })
        .unwrap_or_default()
}

/// Write `mcu-types`.
pub(crate) fn write_mcu_types(w: &mut Writer, types: &[McuType]) {
    if types.is_empty() {
        return w.empty("mcu-types", &[]);
    }
    w.open("mcu-types", &[]);
    for t in types {
        w.leaf("mcuType", t.as_str());
    }
    w.close("mcu-types");
}

fn read_bridging(el: &Element) -> PstnBridging {
    let numbers = el.child(Vocab::Cccp, "access-numbers");
    PstnBridging {
        enabled: read_enabled(el),
        default_region: numbers
            .and_then(|n| n.child_text(Vocab::Cccp, "default-region"))
            .map(str::to_owned),
        regions: numbers
            .map(|n| {
                n.children_named(Vocab::Cccp, "region")
                    .map(read_region)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn read_region(el: &Element) -> Region {
    Region {
        name: el.attr("name").unwrap_or_default().to_owned(),
        access_numbers: el
            .children_named(Vocab::Cccp, "access-number")
            .map(|n| AccessNumber {
                number: n
                    .child_text(Vocab::Cccp, "number")
                    .unwrap_or_default()
                    .to_owned(),
                languages: n
                    .children_named(Vocab::Cccp, "language")
                    .map(|l| l.text().to_owned())
                    .collect(),
            })
            .collect(),
    }
}

fn write_bridging(w: &mut Writer, b: &PstnBridging) {
    let enabled = [("enabled", Some(bool_str(b.enabled)))];
    if b.default_region.is_none() && b.regions.is_empty() {
        return w.empty("pstn-bridging", &enabled);
    }
    w.open("pstn-bridging", &enabled);
    w.open("access-numbers", &[]);
    w.opt_leaf("default-region", b.default_region.as_deref());
    for region in &b.regions {
        w.open("region", &[("name", Some(&region.name))]);
        for number in &region.access_numbers {
            w.open("access-number", &[]);
            w.leaf("number", &number.number);
            for language in &number.languages {
                w.leaf("language", language);
            }
            w.close("access-number");
        }
        w.close("region");
    }
    w.close("access-numbers");
    w.close("pstn-bridging");
}

fn read_scheduling(el: &Element) -> SchedulingOptions {
    let defaults = SchedulingOptions::default();
    let policies = || el.children_named(Vocab::Plenum, "admission-policy");
    let lobby = el.child(Vocab::Plenum, "pstn-lobby-bypass");
    let passcode = el.child(Vocab::Plenum, "passcode");
    let page = el.child(Vocab::Plenum, "dial-in-page");
    let flag = |e: Option<&Element>, name: &str, default: bool| {
        e.and_then(|e| e.attr(name))
            .and_then(parse_bool)
            .unwrap_or(default)
    };
    let length = |name: &str, default: u8| {
        passcode
            .and_then(|p| p.attr(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    };
    SchedulingOptions {
        admission_policies: policies().filter_map(|p| p.text().parse().ok()).collect(),
        default_admission_policy: policies()
            .find(|p| p.attr("default").and_then(parse_bool) == Some(true))
            .and_then(|p| p.text().parse().ok()),
        lobby_bypass_allowed: flag(lobby, "allowed", defaults.lobby_bypass_allowed),
        lobby_bypass_default: flag(lobby, "default", defaults.lobby_bypass_default),
        passcode_optional: flag(passcode, "optional", defaults.passcode_optional),
        passcode_min_length: length("min-length", defaults.passcode_min_length),
        passcode_max_length: length("max-length", defaults.passcode_max_length),
        default_expiry_seconds: el
            .child(Vocab::Plenum, "expiry")
            .and_then(|e| e.attr("default-seconds"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(defaults.default_expiry_seconds),
        internal_dial_in_page: page.and_then(|p| p.attr("internal")).map(str::to_owned),
        external_dial_in_page: page.and_then(|p| p.attr("external")).map(str::to_owned),
    }
}

fn write_scheduling(w: &mut Writer, s: &SchedulingOptions) {
    w.open("pln:scheduling", &[("xmlns:pln", Some(crate::ns::PLENUM))]);
    for p in &s.admission_policies {
        let default = (s.default_admission_policy == Some(*p)).then_some("true");
        w.leaf_attrs("pln:admission-policy", &[("default", default)], p.as_str());
    }
    w.empty(
        "pln:pstn-lobby-bypass",
        &[
            ("allowed", Some(bool_str(s.lobby_bypass_allowed))),
            ("default", Some(bool_str(s.lobby_bypass_default))),
        ],
    );
    let min = s.passcode_min_length.to_string();
    let max = s.passcode_max_length.to_string();
    w.empty(
        "pln:passcode",
        &[
            ("optional", Some(bool_str(s.passcode_optional))),
            ("min-length", Some(&min)),
            ("max-length", Some(&max)),
        ],
    );
    let expiry = s.default_expiry_seconds.to_string();
    w.empty("pln:expiry", &[("default-seconds", Some(&expiry))]);
    if s.internal_dial_in_page.is_some() || s.external_dial_in_page.is_some() {
        w.empty(
            "pln:dial-in-page",
            &[
                ("internal", s.internal_dial_in_page.as_deref()),
                ("external", s.external_dial_in_page.as_deref()),
            ],
        );
    }
    w.close("pln:scheduling");
}
