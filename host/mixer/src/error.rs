//! The crate's error type.
//!
//! Owns: the errors a caller of [`crate::Mixer`] can get back. All of them are API misuse by the
//! caller (a stale or foreign id, an overlay aimed at someone outside the meeting, a meeting that
//! cannot grow). Audio content is never an error: any sample values are valid input.

use crate::{MeetingId, ParticipantId};

/// What went wrong when driving a [`crate::Mixer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// API misuse: the participant was removed, or the id comes from another mixer.
    #[error("unknown participant {0:?}")]
    UnknownParticipant(ParticipantId),
    /// API misuse: the meeting was removed, or the id comes from another mixer.
    #[error("unknown meeting {0:?}")]
    UnknownMeeting(MeetingId),
    /// API misuse: a private overlay ([`crate::Audience::Only`]) for a participant that is not
    /// in the meeting named.
    #[error("participant {participant:?} is not in meeting {meeting:?}")]
    NotInMeeting {
        /// The participant the overlay was for.
        participant: ParticipantId,
        /// The meeting named in the call.
        meeting: MeetingId,
    },
    /// API misuse: the meeting already has [`crate::Mixer::MAX_MEETING_SIZE`] participants (the
    /// bound that keeps the 32-bit mix accumulator from overflowing).
    #[error("meeting {0:?} is full")]
    MeetingFull(MeetingId),
    /// API misuse: the mixer already holds 2³² − 1 participants, or as many meetings.
    #[error("the mixer is full")]
    Capacity,
}
