//! What the conference core asks of the media engine, and what it hears back: plain values, so
//! the core stays sans-IO. The shell turns prompt names into audio (the tenant's prompt pack or
//! the built-in catalogue) and hands the orders to the engine.

use plenum_plugin_api::attendant::{HoldKind, PromptItem};
use plenum_sdp::Negotiated;
use plenum_types::TenantId;

use crate::switch::CallId;

/// Who hears an announcement in a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listeners {
    /// Everybody.
    All,
    /// The dial-in participants.
    DialIn,
    /// Everybody but this call.
    AllExcept(CallId),
    /// This call only, while the meeting goes on for the others.
    Only(CallId),
}

/// What an announcement says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    /// The entry tone.
    EntryTone,
    /// The exit tone.
    ExitTone,
    /// "<recorded name> has joined".
    Joined(CallId),
    /// "<recorded name> has left".
    Left(CallId),
    /// Catalogue prompts, with recorded names of calls where named.
    Prompts(Vec<PromptItem>),
    /// The roll call: the names of these calls (recorded names; a generic word for the
    /// others).
    RollCall(Vec<CallId>),
}

/// An order for the media engine.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaOrder {
    /// Open the call's leg on the port reserved for it, with the negotiated media.
    Open {
        /// The call.
        call: CallId,
        /// The RTP port of our SDP.
        port: u16,
        /// The negotiation's outcome.
        media: Box<Negotiated>,
    },
    /// A re-INVITE changed the peer's address.
    Update {
        /// The call.
        call: CallId,
        /// The new outcome.
        media: Box<Negotiated>,
    },
    /// Play prompts to a call outside a meeting; queued after earlier plays.
    /// [`MediaInput::PlayFinished`] with the same id when done.
    Play {
        /// The call.
        call: CallId,
        /// The play.
        id: u64,
        /// Whose prompt pack.
        tenant: TenantId,
        /// The language.
        language: String,
        /// What to say.
        items: Vec<PromptItem>,
    },
    /// Stop every play of the call.
    Stop {
        /// The call.
        call: CallId,
    },
    /// Hold music (or the lobby's) until the next play or join.
    Hold {
        /// The call.
        call: CallId,
        /// Whose music (a tenant's prompt pack may bring its own).
        tenant: TenantId,
        /// Which.
        kind: HoldKind,
    },
    /// Play the record beep, and record the caller; [`MediaInput::Recorded`] when done.
    Record {
        /// The call.
        call: CallId,
        /// Whose beep.
        tenant: TenantId,
        /// Longest.
        max_ms: u32,
    },
    /// End the recording now.
    StopRecord {
        /// The call.
        call: CallId,
    },
    /// Put the call into the meeting's mix.
    Join {
        /// The call.
        call: CallId,
        /// The meeting.
        meeting: i64,
        /// Muted on entry.
        muted: bool,
        /// A dial-in participant (hears dial-in announcements).
        dial_in: bool,
    },
    /// Take the call out of its meeting's mix.
    Leave {
        /// The call.
        call: CallId,
    },
    /// Mute or unmute a call in a meeting.
    Mute {
        /// The call.
        call: CallId,
        /// Muted.
        muted: bool,
    },
    /// Play into a meeting.
    Announce {
        /// The meeting.
        meeting: i64,
        /// [`MediaInput::Announced`] names it.
        id: u64,
        /// Whose prompt pack.
        tenant: TenantId,
        /// The language.
        language: String,
        /// What.
        what: Announcement,
        /// Who hears it.
        listeners: Listeners,
    },
    /// The meeting ended: its mix goes.
    EndMeeting {
        /// The meeting.
        meeting: i64,
    },
    /// A SIP INFO in the call's dialog, maybe DTMF (`application/dtmf-relay`,
    /// `application/dtmf`).
    Info {
        /// The call.
        call: CallId,
        /// Its Content-Type.
        content_type: String,
        /// Its body.
        body: bytes::Bytes,
    },
    /// Close the call's leg.
    Close {
        /// The call.
        call: CallId,
    },
}

/// What the media engine reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaInput {
    /// A key.
    Digit {
        /// The call.
        call: CallId,
        /// The key.
        digit: char,
    },
    /// A play ended.
    PlayFinished {
        /// The call.
        call: CallId,
        /// The play.
        id: u64,
    },
    /// A recording ended (the shell keeps the audio).
    Recorded {
        /// The call.
        call: CallId,
        /// Its length.
        ms: u32,
    },
    /// An announcement ended.
    Announced {
        /// Its id.
        id: u64,
    },
    /// The call's peer sent no RTP for this long.
    Quiet {
        /// The call.
        call: CallId,
        /// How long, in ms.
        for_ms: u64,
    },
}
