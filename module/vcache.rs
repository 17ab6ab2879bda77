// SPDX-License-Identifier: GPL-2.0

//! The lock-free verdict cache of the file-open hook.
//!
//! Every open by a container task used to take the table lock to learn that
//! nothing changed since the task's last verdict. This cache answers that
//! question without a lock: one slot per task (direct-mapped by the
//! task_struct address), holding the identity of everything the escape
//! verdict depends on, as `sys::OpenKey` pointers and `fs->seq` (see
//! `escguard_current_open_key()`). A slot is only filled when the task is of
//! settled container lineage, tracked, not reported, and its verdict on
//! exactly those objects found no escape. An equal key then means the same
//! namespaces, user namespace, fs_struct, root and cwd, so the same verdict.
//!
//! Why identity is enough: the objects a key names are pinned by the task
//! while they are its own; one of them can only be freed and its address
//! reused after the task switched away from it. The task's nsproxy and user
//! namespace change only through setns/unshare, whose hooks clear the slot
//! first; root and cwd changes bump `fs->seq` (and the pointers differ as
//! long as the old objects live); exec and exit replace or drop the task's
//! table entry, which clears the slot. A miss only costs the locked path.
//!
//! Slots are seqlocks: written only with the table lock held (so writers
//! never race), read lock-free; a reader that overlaps a write misses.

use crate::sys::OpenKey;
use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;

/// Slots; a power of two. 2048 x 80 bytes = 160 KiB, vmalloc-backed. Tasks
/// beyond that share slots and evict each other (only a slower open).
const SLOTS: usize = 2048;

/// Words of a key: task, pid, nsproxy, user_ns, fs, fs_seq, root and cwd
/// dentry and mount.
const WORDS: usize = 9;

#[derive(Default)]
struct Slot {
    /// Odd while a write is in progress.
    seq: AtomicU32,
    /// `key_words()` of the cached key; word 0 (the task) is 0 when empty.
    key: [AtomicU64; WORDS],
}

fn key_words(k: &OpenKey) -> [u64; WORDS] {
    [
        k.task,
        k.pid as u64 | (k.fs_seq as u64) << 32,
        k.nsproxy,
        k.user_ns,
        k.fs,
        k.root_dentry,
        k.root_mnt,
        k.pwd_dentry,
        k.pwd_mnt,
    ]
}

/// The cache. Writers (`fill`, `clear`) must hold the table lock.
pub(crate) struct VerdictCache {
    slots: KVVec<Slot>,
}

impl VerdictCache {
    pub(crate) fn new() -> Result<Self> {
        let mut slots = KVVec::with_capacity(SLOTS, GFP_KERNEL)?;
        for _ in 0..SLOTS {
            slots.push(Slot::default(), GFP_KERNEL)?;
        }
        Ok(VerdictCache { slots })
    }

    fn slot(&self, task: u64) -> Option<&Slot> {
        // hash_64(): task_structs are large slab objects whose low bits
        // carry little information.
        let i = (task.wrapping_mul(0x61c8_8646_80b5_83eb) >> (64 - SLOTS.trailing_zeros())) as usize;
        self.slots.get(i)
    }

    /// Whether the task of `k` has a clean verdict on exactly `k` (no lock).
    pub(crate) fn clean(&self, k: &OpenKey) -> bool {
        if k.task == 0 {
            return false;
        }
        let Some(s) = self.slot(k.task) else {
            return false;
        };
        let seq = s.seq.load(Ordering::Acquire);
        if seq & 1 != 0 {
            return false;
        }
        let want = key_words(k);
        let same = s.key.iter().zip(want.iter()).all(|(a, b)| a.load(Ordering::Relaxed) == *b);
        // Order the key reads before the re-read of `seq` (smp_rmb()).
        fence(Ordering::Acquire);
        same && s.seq.load(Ordering::Relaxed) == seq
    }

    fn write(s: &Slot, words: &[u64; WORDS]) {
        let seq = s.seq.load(Ordering::Relaxed);
        s.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        // The odd sequence is visible before any key word changes (smp_wmb()).
        fence(Ordering::Release);
        for (a, b) in s.key.iter().zip(words.iter()) {
            a.store(*b, Ordering::Relaxed);
        }
        s.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Records that the task of `k` had a clean verdict on `k`, evicting
    /// whatever shared its slot. The caller holds the table lock and read
    /// `k` before the facts the verdict was made on (a change in between
    /// then makes the key stale, never the verdict).
    pub(crate) fn fill(&self, k: &OpenKey) {
        if k.task == 0 {
            return;
        }
        if let Some(s) = self.slot(k.task) {
            Self::write(s, &key_words(k));
        }
    }

    /// Forgets task `task`'s cached verdict. The caller holds the table lock.
    pub(crate) fn clear(&self, task: u64) {
        if let Some(s) = self.slot(task) {
            if s.key[0].load(Ordering::Relaxed) == task {
                Self::write(s, &[0; WORDS]);
            }
        }
    }
}
