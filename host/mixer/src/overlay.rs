//! Overlay queues: clips played over a meeting's audio, one after another, frame by frame.
//!
//! Owns: the queue entries, playing the head of a queue into a frame, and the event queue that
//! reports finished and cancelled overlays without allocating on the tick. Does not own: who
//! hears a frame (the mixer decides from the [`Audience`]) or how it is mixed.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::mixer::{Audience, Event, OverlayId};
use crate::{FRAME, Frame};

/// One queued clip and how far it has played.
#[derive(Debug)]
pub(crate) struct Overlay {
    pub id: OverlayId,
    pub clip: Arc<[i16]>,
    pub pos: usize,
    pub audience: Audience,
}

/// The events not yet polled, with room reserved for every overlay still queued, so finishing
/// an overlay on the tick never allocates.
#[derive(Debug, Default)]
pub(crate) struct Events {
    queue: VecDeque<Event>,
    /// Overlays queued and not yet finished or cancelled.
    pending: usize,
}

impl Events {
    /// Reserves the event slot of one more queued overlay (allocates; not on the tick).
    pub fn reserve_one(&mut self) {
        self.pending += 1;
        self.queue.reserve(self.pending);
    }

    /// Reports `id` as finished or cancelled; never allocates (its slot was reserved).
    pub fn push(&mut self, event: Event) {
        self.pending = self.pending.saturating_sub(1);
        self.queue.push_back(event);
    }

    /// The oldest unpolled event.
    pub fn pop(&mut self) -> Option<Event> {
        self.queue.pop_front()
    }
}

/// Plays the next frame of the head of `queue` into `out` (zero-padded when the clip ends
/// inside the frame; the next clip starts on the next frame). Returns the audience of the
/// overlay that played, or `None` (and leaves `out` untouched) when nothing is queued.
pub(crate) fn play(
    queue: &mut VecDeque<Overlay>,
    out: &mut Frame,
    events: &mut Events,
) -> Option<Audience> {
    loop {
        let head = queue.front_mut()?;
        let rest = head.clip.get(head.pos..).unwrap_or(&[]);
        if rest.is_empty() {
            finish_head(queue, events);
            continue;
        }
        let n = rest.len().min(FRAME);
        if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        if let Some(tail) = out.get_mut(n..) {
            tail.fill(0);
        }
        head.pos += n;
        let audience = head.audience;
        if head.pos >= head.clip.len() {
            finish_head(queue, events);
        }
        return Some(audience);
    }
}

/// Removes the overlay `id` from `queue`, reporting it cancelled. Returns whether it was there.
pub(crate) fn cancel(queue: &mut VecDeque<Overlay>, id: OverlayId, events: &mut Events) -> bool {
    let Some(at) = queue.iter().position(|o| o.id == id) else {
        return false;
    };
    queue.remove(at);
    events.push(Event::Cancelled(id));
    true
}

/// Empties `queue`, reporting every overlay in it cancelled, in queue order.
pub(crate) fn cancel_all(queue: &mut VecDeque<Overlay>, events: &mut Events) {
    for o in queue.drain(..) {
        events.push(Event::Cancelled(o.id));
    }
}

fn finish_head(queue: &mut VecDeque<Overlay>, events: &mut Events) {
    if let Some(done) = queue.pop_front() {
        events.push(Event::Finished(done.id));
    }
}
