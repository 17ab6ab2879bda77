// SPDX-License-Identifier: GPL-2.0

//! The event ring: a fixed-size store of the newest `escguard_event` records
//! between the hooks (producers, atomic context) and `read()` on
//! `/dev/escguard`.
//!
//! Reading never removes an event: each descriptor keeps its own cursor. One
//! descriptor at a time may be the durable writer; it acknowledges what it
//! has stored, and while it is attached an unacknowledged event is never
//! overwritten (a new event that finds the ring full of them is dropped).
//! With no writer attached the oldest event makes room. The ring is
//! allocated once at load; pushing never allocates and never waits.

use crate::abi::escguard_event as Event;
use kernel::prelude::*;

/// What became of a pushed event.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    Queued,
    /// The ring is full of events the attached writer has not stored.
    Dropped,
}

// INVARIANT: the `len` retained events, oldest at `head`, have strictly
// increasing `seq` (assigned by `push` under the caller's lock), all below
// `next_seq`; `acked < next_seq`.
pub(crate) struct Ring {
    slots: KVVec<Event>,
    /// Index of the oldest retained event.
    head: usize,
    /// Number of retained events.
    len: usize,
    /// Sequence number the next event gets; numbers start at 1.
    next_seq: u64,
    /// The writer has stored every event with `seq <= acked`.
    acked: u64,
    /// A durable writer is attached.
    writer: bool,
    /// Unacknowledged events overwritten while no writer was attached.
    evicted: u64,
}

impl Ring {
    /// A ring of `cap` events (process context: allocates with `GFP_KERNEL`).
    pub(crate) fn new(cap: usize) -> Result<Self> {
        let mut slots = KVVec::with_capacity(cap, GFP_KERNEL)?;
        for _ in 0..cap {
            slots.push(Event::default(), GFP_KERNEL)?;
        }
        Ok(Ring {
            slots,
            head: 0,
            len: 0,
            next_seq: 1,
            acked: 0,
            writer: false,
            evicted: 0,
        })
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Events held, acknowledged or not.
    pub(crate) fn retained(&self) -> usize {
        self.len
    }

    /// Retained events the writer has not acknowledged.
    pub(crate) fn unacked(&self) -> usize {
        self.len - self.first_after(self.acked)
    }

    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }

    pub(crate) fn acked(&self) -> u64 {
        self.acked
    }

    pub(crate) fn has_writer(&self) -> bool {
        self.writer
    }

    /// Sequence number of the newest event given one (0: none yet).
    pub(crate) fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Gives `ev` the next sequence number and stores a copy, making room
    /// by overwriting the oldest event unless the writer still needs it.
    /// A dropped event keeps its number: readers see the gap.
    pub(crate) fn push(&mut self, ev: &mut Event) -> Pushed {
        ev.seq = self.next_seq;
        self.next_seq += 1;
        let cap = self.slots.len();
        if cap == 0 {
            return Pushed::Dropped;
        }
        if self.len == cap {
            let oldest = self.peek(0).map_or(0, |e| e.seq);
            if oldest > self.acked {
                if self.writer {
                    return Pushed::Dropped;
                }
                self.evicted += 1;
            }
            self.head = self.wrap(self.head + 1);
            self.len -= 1;
        }
        let idx = self.wrap(self.head + self.len);
        match self.slots.get_mut(idx) {
            Some(slot) => {
                *slot = *ev;
                self.len += 1;
                Pushed::Queued
            }
            None => Pushed::Dropped,
        }
    }

    /// Uses up a sequence number for an event that could not be built.
    pub(crate) fn skip(&mut self) {
        self.next_seq += 1;
    }

    /// The `i`-th oldest retained event.
    pub(crate) fn peek(&self, i: usize) -> Option<&Event> {
        if i >= self.len {
            return None;
        }
        self.slots.get(self.wrap(self.head + i))
    }

    /// Index (from the oldest) of the first retained event with a sequence
    /// number above `seq`; `len` if none. Binary search: `seq` increases
    /// from the oldest to the newest (type invariant).
    pub(crate) fn first_after(&self, seq: u64) -> usize {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.peek(mid) {
                Some(e) if e.seq <= seq => lo = mid + 1,
                _ => hi = mid,
            }
        }
        lo
    }

    /// `idx` (below twice the capacity) as a slot index. A subtraction, not
    /// `%`: no division (and no division-by-zero panic path) in the hooks.
    fn wrap(&self, idx: usize) -> usize {
        let cap = self.slots.len();
        if idx >= cap {
            idx - cap
        } else {
            idx
        }
    }

    /// Makes the caller the durable writer; `None` if another one is
    /// attached. Returns where the writer's reading starts: after the last
    /// acknowledged event.
    pub(crate) fn attach_writer(&mut self) -> Option<u64> {
        if self.writer {
            return None;
        }
        self.writer = true;
        Some(self.acked)
    }

    pub(crate) fn detach_writer(&mut self) {
        self.writer = false;
    }

    /// The writer stored every event up to `seq` (never moves back; never
    /// past the newest event).
    pub(crate) fn ack(&mut self, seq: u64) {
        self.acked = self.acked.max(seq.min(self.last_seq()));
    }
}
