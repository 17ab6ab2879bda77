// SPDX-License-Identifier: GPL-2.0

//! The event ring: a fixed-size queue of `escguard_event` records between the
//! hooks (producers, atomic context) and `read()` on `/dev/escguard`.
//!
//! The ring is allocated once at load; pushing never allocates and never
//! waits. When it is full the new event is dropped and counted, so a slow or
//! absent reader can never block a hook.

use crate::abi::escguard_event as Event;
use kernel::prelude::*;

pub(crate) struct Ring {
    slots: KVVec<Event>,
    /// Index of the oldest queued event.
    head: usize,
    /// Number of queued events.
    len: usize,
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
        })
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn queued(&self) -> usize {
        self.len
    }

    /// Queues a copy of `ev`; false (and nothing queued) if the ring is full.
    pub(crate) fn push(&mut self, ev: &Event) -> bool {
        let cap = self.slots.len();
        if self.len == cap {
            return false;
        }
        let idx = self.wrap(self.head.wrapping_add(self.len));
        if let Some(slot) = self.slots.get_mut(idx) {
            *slot = *ev;
            self.len += 1;
            true
        } else {
            false
        }
    }

    /// The `i`-th oldest queued event.
    pub(crate) fn peek(&self, i: usize) -> Option<&Event> {
        if i >= self.len {
            return None;
        }
        self.slots.get(self.wrap(self.head.wrapping_add(i)))
    }

    /// `idx` (below twice the capacity) as a slot index. A subtraction, not
    /// `%`: no division (and no division-by-zero panic path) in the hooks.
    fn wrap(&self, idx: usize) -> usize {
        let cap = self.slots.len();
        if idx >= cap {
            idx.wrapping_sub(cap)
        } else {
            idx
        }
    }

    /// Sequence number of the newest queued event.
    pub(crate) fn newest_seq(&self) -> Option<u64> {
        self.len
            .checked_sub(1)
            .and_then(|i| self.peek(i))
            .map(|e| e.seq)
    }

    /// Drops queued events up to and including sequence number `seq`: the
    /// ones a reader has received. Events another reader consumed meanwhile
    /// are simply not there any more.
    pub(crate) fn consume_through(&mut self, seq: u64) {
        while let Some(ev) = self.peek(0) {
            if ev.seq > seq {
                break;
            }
            self.head = self.wrap(self.head.wrapping_add(1));
            self.len = self.len.saturating_sub(1);
        }
    }
}
