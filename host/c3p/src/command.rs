//! The Focus Factory commands: request bodies ([`Command`]) and success response bodies
//! ([`ResponseCommand`]), read from and written to the single command element of the envelope.
//!
//! Shapes marked \[infer\] in reference/c3p.md are our subset: deleteConference's request,
//! modifyConference's and getConferences' response bodies, and the `static` filter attribute of
//! getConferences.

use crate::capabilities::{Capabilities, read_mcu_types, write_mcu_types};
use crate::conference::{Conference, Invalid, McuType};
use crate::error::FailureReason;
use crate::ns::{Ns, Vocab};
use crate::xml::{Element, Writer, bool_str, parse_bool};

/// The name of a command this codec implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandName {
    /// `getConferencingCapabilities`.
    GetConferencingCapabilities,
    /// `getAvailableMcuTypes`.
    GetAvailableMcuTypes,
    /// `addConference`.
    AddConference,
    /// `getConference`.
    GetConference,
    /// `modifyConference`.
    ModifyConference,
    /// `deleteConference`.
    DeleteConference,
    /// `getConferences`.
    GetConferences,
}

impl CommandName {
    /// Every command.
    pub const ALL: [CommandName; 7] = [
        CommandName::GetConferencingCapabilities,
        CommandName::GetAvailableMcuTypes,
        CommandName::AddConference,
        CommandName::GetConference,
        CommandName::ModifyConference,
        CommandName::DeleteConference,
        CommandName::GetConferences,
    ];

    /// The element name.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandName::GetConferencingCapabilities => "getConferencingCapabilities",
            CommandName::GetAvailableMcuTypes => "getAvailableMcuTypes",
            CommandName::AddConference => "addConference",
            CommandName::GetConference => "getConference",
            CommandName::ModifyConference => "modifyConference",
            CommandName::DeleteConference => "deleteConference",
            CommandName::GetConferences => "getConferences",
        }
    }

    /// The command with this element name.
    pub fn from_wire(name: &str) -> Option<CommandName> {
        CommandName::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl std::fmt::Display for CommandName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which conference a command is about (`conferenceKeys`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConferenceKey {
    /// By focus URI (`confEntity`). Preferred when a request gives both.
    Entity(String),
    /// By meeting ID of the sending organizer (`msci:conference-id`).
    ConferenceId(String),
}

/// A C3P request command with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per request, never stored in bulk
pub enum Command {
    /// What may this organizer schedule, and the dial-in numbers.
    GetConferencingCapabilities,
    /// Which MCU types exist.
    GetAvailableMcuTypes,
    /// Create a conference; `entity` is empty and the server assigns it.
    AddConference(Conference),
    /// The stored settings of one conference.
    GetConference(ConferenceKey),
    /// Change a conference: `entity` names it and `version` is the revision the client read
    /// (an optimistic lock; stale → [`FailureReason::InvalidVersion`]).
    ModifyConference(Conference),
    /// Delete a conference.
    DeleteConference(ConferenceKey),
    /// The organizer's conferences that have not expired.
    GetConferences {
        /// `@static`: only static ("My Meeting") conferences (`true`), only the others
        /// (`false`), or all (`None`). \[infer\]
        static_only: Option<bool>,
    },
}

impl Command {
    /// The command's name.
    pub fn name(&self) -> CommandName {
        match self {
            Command::GetConferencingCapabilities => CommandName::GetConferencingCapabilities,
            Command::GetAvailableMcuTypes => CommandName::GetAvailableMcuTypes,
            Command::AddConference(_) => CommandName::AddConference,
            Command::GetConference(_) => CommandName::GetConference,
            Command::ModifyConference(_) => CommandName::ModifyConference,
            Command::DeleteConference(_) => CommandName::DeleteConference,
            Command::GetConferences { .. } => CommandName::GetConferences,
        }
    }

    pub(crate) fn read(name: CommandName, el: &Element) -> Result<Command, Invalid> {
        Ok(match name {
            CommandName::GetConferencingCapabilities => Command::GetConferencingCapabilities,
            CommandName::GetAvailableMcuTypes => Command::GetAvailableMcuTypes,
            CommandName::AddConference => Command::AddConference(Conference::read(info(el)?)?),
            CommandName::GetConference => Command::GetConference(read_key(el)?),
            CommandName::ModifyConference => {
                let c = Conference::read(info(el)?)?;
                if c.entity.trim().is_empty() {
                    return Err(malformed("conference-info/@entity"));
                }
                Command::ModifyConference(c)
            }
            CommandName::DeleteConference => Command::DeleteConference(read_key(el)?),
            CommandName::GetConferences => Command::GetConferences {
                static_only: match el
                    .attr("static")
                    .or_else(|| el.child_text(Vocab::Cccp, "static"))
                {
                    Some(v) => Some(parse_bool(v).ok_or(malformed("getConferences/@static"))?),
                    None => None,
                },
            },
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let name = self.name().as_str();
        match self {
            Command::GetConferencingCapabilities | Command::GetAvailableMcuTypes => {
                w.empty(name, &[]);
            }
            Command::AddConference(c) | Command::ModifyConference(c) => {
                w.open(name, &[]);
                c.write(w);
                w.close(name);
            }
            Command::GetConference(key) | Command::DeleteConference(key) => {
                w.open(name, &[]);
                write_key(w, key);
                w.close(name);
            }
            Command::GetConferences { static_only } => {
                w.empty(name, &[("static", static_only.map(bool_str))]);
            }
        }
    }
}

/// The body of a successful C3P response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per response, never stored in bulk
pub enum ResponseCommand {
    /// The capabilities.
    GetConferencingCapabilities(Capabilities),
    /// The MCU types.
    GetAvailableMcuTypes(Vec<McuType>),
    /// The created conference: `entity` is the assigned focus URI (written both on
    /// `<addConference entity>` and on its `conference-info`), `pstn_access.id` the PSTN
    /// conference ID and `pstn_access.passcode` the passcode, returned to the organizer once.
    AddConference(Conference),
    /// The stored settings, with `version`.
    GetConference(Conference),
    /// The changed conference: at least `entity` and the new `version`. \[infer\]
    ModifyConference(Conference),
    /// The deleted conference's focus URI.
    DeleteConference {
        /// The focus URI (`conference-info/@entity`).
        entity: String,
    },
    /// The organizer's conferences. \[infer\]
    GetConferences(Vec<Conference>),
}

impl ResponseCommand {
    /// The command's name.
    pub fn name(&self) -> CommandName {
        match self {
            ResponseCommand::GetConferencingCapabilities(_) => {
                CommandName::GetConferencingCapabilities
            }
            ResponseCommand::GetAvailableMcuTypes(_) => CommandName::GetAvailableMcuTypes,
            ResponseCommand::AddConference(_) => CommandName::AddConference,
            ResponseCommand::GetConference(_) => CommandName::GetConference,
            ResponseCommand::ModifyConference(_) => CommandName::ModifyConference,
            ResponseCommand::DeleteConference { .. } => CommandName::DeleteConference,
            ResponseCommand::GetConferences(_) => CommandName::GetConferences,
        }
    }

    pub(crate) fn read(name: CommandName, el: &Element) -> Result<ResponseCommand, Invalid> {
        let entity_attr = el.attr("entity").unwrap_or_default();
        Ok(match name {
            CommandName::GetConferencingCapabilities => {
                ResponseCommand::GetConferencingCapabilities(Capabilities::read(el))
            }
            CommandName::GetAvailableMcuTypes => {
                ResponseCommand::GetAvailableMcuTypes(read_mcu_types(el))
            }
            CommandName::AddConference => {
                ResponseCommand::AddConference(read_optional_info(el, entity_attr)?)
            }
            CommandName::GetConference => {
                ResponseCommand::GetConference(Conference::read(info(el)?)?)
            }
            CommandName::ModifyConference => {
                ResponseCommand::ModifyConference(read_optional_info(el, entity_attr)?)
            }
            CommandName::DeleteConference => ResponseCommand::DeleteConference {
                entity: read_optional_info(el, entity_attr)?.entity,
            },
            CommandName::GetConferences => ResponseCommand::GetConferences(
                el.children_named(Vocab::Ci, "conference-info")
                    .map(Conference::read)
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let name = self.name().as_str();
        match self {
            ResponseCommand::GetConferencingCapabilities(caps) => caps.write(w),
            ResponseCommand::GetAvailableMcuTypes(types) => {
                w.open(name, &[]);
                write_mcu_types(w, types);
                w.close(name);
            }
            ResponseCommand::AddConference(c) => {
                w.open(name, &[("entity", Some(&c.entity))]);
                c.write(w);
                w.close(name);
            }
            ResponseCommand::GetConference(c) | ResponseCommand::ModifyConference(c) => {
                w.open(name, &[]);
                c.write(w);
                w.close(name);
            }
            ResponseCommand::DeleteConference { entity } => {
                w.open(name, &[]);
                w.empty("ci:conference-info", &[("entity", Some(entity))]);
                w.close(name);
            }
            ResponseCommand::GetConferences(list) if list.is_empty() => w.empty(name, &[]),
            ResponseCommand::GetConferences(list) => {
                w.open(name, &[]);
                for c in list {
                    c.write(w);
                }
                w.close(name);
            }
        }
    }
}

fn malformed(what: &'static str) -> Invalid {
    Invalid::new(FailureReason::RequestMalformed, what)
}

/// The mandatory `conference-info` child.
fn info(el: &Element) -> Result<&Element, Invalid> {
    el.child(Vocab::Ci, "conference-info")
        .ok_or(malformed("conference-info"))
}

/// A `conference-info` child if present; the command's `@entity` fills in a missing entity.
fn read_optional_info(el: &Element, entity_attr: &str) -> Result<Conference, Invalid> {
    let mut c = match el.child(Vocab::Ci, "conference-info") {
        Some(info) => Conference::read(info)?,
        None => Conference::default(),
    };
    if c.entity.is_empty() {
        entity_attr.clone_into(&mut c.entity);
    }
    Ok(c)
}

fn read_key(el: &Element) -> Result<ConferenceKey, Invalid> {
    let keys = el
        .child(Vocab::Cccp, "conferenceKeys")
        .ok_or(malformed("conferenceKeys"))?;
    let non_empty = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(entity) = keys.attr("confEntity").and_then(non_empty) {
        return Ok(ConferenceKey::Entity(entity));
    }
    keys.attr_ns(Ns::Msci, "conference-id")
        .or_else(|| keys.attr("conference-id"))
        .and_then(non_empty)
        .map(ConferenceKey::ConferenceId)
        .ok_or(malformed("conferenceKeys/@confEntity"))
}

fn write_key(w: &mut Writer, key: &ConferenceKey) {
    match key {
        ConferenceKey::Entity(e) => w.empty("conferenceKeys", &[("confEntity", Some(e))]),
        ConferenceKey::ConferenceId(id) => {
            w.empty("conferenceKeys", &[("msci:conference-id", Some(id))]);
        }
    }
}
