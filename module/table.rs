// SPDX-License-Identifier: GPL-2.0

//! The global task table: every live task's key information as of its last
//! hooked call, keyed by global pid.
//!
//! Plain safe Rust: the entries are filled from `sys::TaskRef::info`, the
//! verdicts on them are made in `verdict.rs`.

use crate::sys::KInfo;
use crate::sys::OpenFast;
use crate::verdict::Lineage;
use crate::{abi, NS_COUNT};
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNode, RBTreeNodeReservation};

/// One tracked task: its key information as of its last hooked call.
#[derive(Clone)]
pub(crate) struct Entry {
    /// Identity of the `task_struct`; tells a reused pid from the same task.
    pub(crate) task_id: u64,
    pub(crate) tgid: u32,
    pub(crate) ppid: u32,
    pub(crate) comm: [u8; abi::ESCGUARD_COMM_LEN as usize],
    pub(crate) ns: [u64; NS_COUNT],
    pub(crate) root: abi::escguard_fsid,
    pub(crate) cwd: abi::escguard_fsid,
    pub(crate) lineage: Lineage,
    /// An escape of this task was already reported (monitor mode lets it
    /// live: report it once, not on each of its later calls).
    pub(crate) reported: bool,
}

impl Entry {
    pub(crate) fn new(i: &KInfo, lineage: Lineage, reported: bool) -> Self {
        Entry {
            task_id: i.task_id,
            tgid: i.tgid,
            ppid: i.ppid,
            comm: i.comm,
            ns: i.ns,
            root: i.root,
            cwd: i.cwd,
            lineage,
            reported,
        }
    }

    /// The entry as an ABI record.
    pub(crate) fn to_abi(&self, pid: u32) -> abi::escguard_task {
        let mut t = abi::escguard_task {
            pid,
            tgid: self.tgid,
            ppid: self.ppid,
            ns: self.ns,
            root: self.root,
            cwd: self.cwd,
            comm: self.comm,
            flags: if self.reported {
                abi::ESCGUARD_TASK_ESCAPED
            } else {
                0
            },
            ..Default::default()
        };
        if let Lineage::Container(o) = &self.lineage {
            t.lineage = abi::ESCGUARD_LINEAGE_CONTAINER;
            t.origin_pid = o.pid;
            t.origin_ns = o.ns;
            t.origin_root = o.root;
            if o.settled {
                t.flags |= abi::ESCGUARD_TASK_SETTLED;
            }
        }
        t
    }

    fn is_container(&self) -> bool {
        matches!(self.lineage, Lineage::Container(_))
    }
}

/// A node allocated ahead of taking the table lock.
pub(crate) type Reservation = RBTreeNodeReservation<u32, Entry>;

/// Allocates a table node without sleeping (probe context): `GFP_ATOMIC`
/// may use reserves, which a fork storm must not drain, so `GFP_NOWAIT`;
/// `__GFP_NOWARN` because failure is handled: the task then stays untracked
/// (counted in `alloc_failures`, and classified afresh at each hook).
pub(crate) fn reserve_atomic() -> Option<Reservation> {
    RBTreeNodeReservation::new(GFP_NOWAIT | __GFP_NOWARN).ok()
}

/// Why [`Table::store`] did not store an entry.
pub(crate) enum StoreError {
    /// A new node was needed and none was given (the entry vanished between
    /// lookup and store: a racing exit).
    NoNode,
    /// The table holds `cap` entries already.
    Full(Option<Reservation>),
}

/// The global table: every live task, keyed by global pid.
///
/// Every method that changes an entry takes the open hook's fast-path state:
/// it clears the cached verdicts of the tasks whose entries it changes (the
/// table lock is the cache's writer lock, and a cached verdict never
/// outlives its entry), and keeps the host filter equal to the set of pids
/// whose entry is of host lineage.
///
/// # Invariants
///
/// `host + container` is the number of entries and never exceeds `cap`.
pub(crate) struct Table {
    tree: RBTree<u32, Entry>,
    host: u64,
    container: u64,
    cap: u64,
}

impl Table {
    /// An empty table that holds at most `cap` entries.
    pub(crate) fn new(cap: u64) -> Self {
        // INVARIANT: empty.
        Table {
            tree: RBTree::new(),
            host: 0,
            container: 0,
            cap,
        }
    }

    pub(crate) fn cap(&self) -> u64 {
        self.cap
    }

    fn full(&self) -> bool {
        self.host + self.container >= self.cap
    }

    /// The lineage recorded for the process whose leader has pid `pid`,
    /// whichever task that is: for judging an untracked task by its parent
    /// (a live parent's pid cannot have been reused).
    pub(crate) fn lineage_by_pid(&self, pid: u32) -> Option<Lineage> {
        self.tree.get(&pid).map(|e| e.lineage)
    }

    /// Copies up to `out`'s spare capacity of entries with pid >= `start`,
    /// in pid order. Never allocates (the caller reserved the space).
    pub(crate) fn list(&mut self, start: u32, out: &mut KVVec<abi::escguard_task>) {
        let Some(mut cur) = self.tree.cursor_lower_bound(&start) else {
            return;
        };
        loop {
            if out.len() == out.capacity() {
                return;
            }
            let (pid, e) = cur.current();
            if out.push(e.to_abi(*pid), GFP_NOWAIT).is_err() {
                return;
            }
            match cur.move_next() {
                Some(next) => cur = next,
                None => return,
            }
        }
    }

    /// Moves task `task_id`'s entry from key `from` to `to` (exec from a
    /// non-leader thread took the leader's pid). Reuses the node: never
    /// allocates. An entry already at `to` (stale) is dropped.
    pub(crate) fn rekey(&mut self, from: u32, to: u32, task_id: u64, vc: &OpenFast) -> bool {
        vc.cache_clear(task_id);
        let Some(e) = self.tree.get(&from).filter(|e| e.task_id == task_id) else {
            return false;
        };
        let v = e.clone();
        let Some(node) = self.tree.remove_node(&from) else {
            return false;
        };
        let host = !v.is_container();
        vc.set_host(from, false);
        if let Some(displaced) = self.tree.insert(node.into_reservation().into_node(to, v)) {
            let (_, d) = displaced.to_key_value();
            vc.cache_clear(d.task_id);
            let c = if d.is_container() {
                &mut self.container
            } else {
                &mut self.host
            };
            *c = c.saturating_sub(1);
        }
        vc.set_host(to, host);
        true
    }

    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.host, self.container)
    }

    fn count(&mut self, e: &Entry, add: bool) {
        let c = if e.is_container() {
            &mut self.container
        } else {
            &mut self.host
        };
        *c = if add {
            c.saturating_add(1)
        } else {
            c.saturating_sub(1)
        };
    }

    /// The lineage of `pid` if the entry belongs to task `task_id` (a stale
    /// entry of an earlier task with the same pid does not count).
    pub(crate) fn lineage_of(&self, pid: u32, task_id: u64) -> Option<(Lineage, bool)> {
        self.tree
            .get(&pid)
            .filter(|e| e.task_id == task_id)
            .map(|e| (e.lineage, e.reported))
    }

    /// The lineage of task `task_id` at `pid`, whether its escape was
    /// reported, and whether its entry was recorded with exactly the
    /// namespaces, root and cwd in `i` (then the verdict on `i` is the one
    /// already made when the entry was recorded). One lookup: the file-open
    /// hook's whole use of the table on its common path.
    pub(crate) fn open_lookup(
        &self,
        pid: u32,
        task_id: u64,
        i: &KInfo,
    ) -> Option<(Lineage, bool, bool)> {
        let same = |a: &abi::escguard_fsid, b: &abi::escguard_fsid| {
            (a.dev, a.ino, a.mnt_id) == (b.dev, b.ino, b.mnt_id)
        };
        self.tree
            .get(&pid)
            .filter(|e| e.task_id == task_id)
            .map(|e| {
                let unchanged =
                    !e.reported && e.ns == i.ns && same(&e.root, &i.root) && same(&e.cwd, &i.cwd);
                (e.lineage, e.reported, unchanged)
            })
    }

    /// Stores `entry` for `pid`: updates the existing node in place, or
    /// inserts using `res`. Returns the node that was not needed (to be
    /// freed by the caller after dropping the lock), or why nothing was
    /// stored.
    pub(crate) fn store(
        &mut self,
        pid: u32,
        entry: Entry,
        res: Option<Reservation>,
        vc: &OpenFast,
    ) -> core::result::Result<Option<Reservation>, StoreError> {
        vc.cache_clear(entry.task_id);
        if let Some(old) = self.tree.get_mut(&pid) {
            vc.cache_clear(old.task_id);
            let was_container = old.is_container();
            *old = entry;
            let now_container = old.is_container();
            vc.set_host(pid, !now_container);
            if was_container != now_container {
                if now_container {
                    self.host = self.host.saturating_sub(1);
                    self.container += 1;
                } else {
                    self.container = self.container.saturating_sub(1);
                    self.host += 1;
                }
            }
            return Ok(res);
        }
        let res = res.ok_or(StoreError::NoNode)?;
        if self.full() {
            return Err(StoreError::Full(Some(res)));
        }
        // INVARIANT: below the cap before this insert.
        self.count(&entry, true);
        vc.set_host(pid, !entry.is_container());
        self.tree.insert(res.into_node(pid, entry));
        Ok(None)
    }

    /// Inserts `entry` only if `pid` has no entry yet (the load-time
    /// snapshot must not overwrite what a hook already recorded) and the
    /// table is below its cap. Returns the reservation if it was not used,
    /// and whether the cap refused it.
    pub(crate) fn insert_vacant(
        &mut self,
        pid: u32,
        entry: Entry,
        res: Reservation,
        vc: &OpenFast,
    ) -> (Option<Reservation>, bool) {
        vc.cache_clear(entry.task_id);
        if self.tree.get(&pid).is_some() {
            return (Some(res), false);
        }
        if self.full() {
            return (Some(res), true);
        }
        // INVARIANT: below the cap before this insert.
        self.count(&entry, true);
        vc.set_host(pid, !entry.is_container());
        self.tree.insert(res.into_node(pid, entry));
        (None, false)
    }

    /// Removes the entry of exiting task `task_id`; the node is returned so
    /// that it is freed after the lock is dropped.
    pub(crate) fn remove(
        &mut self,
        pid: u32,
        task_id: u64,
        vc: &OpenFast,
    ) -> Option<RBTreeNode<u32, Entry>> {
        vc.cache_clear(task_id);
        let e = self.tree.get(&pid)?;
        if e.task_id != task_id {
            return None;
        }
        let c = if e.is_container() {
            &mut self.container
        } else {
            &mut self.host
        };
        *c = c.saturating_sub(1);
        // Only for an entry that was this task's: a failed fork's child
        // reaches the exit hook with its parent's pid, and must not clear
        // the parent's state.
        vc.set_host(pid, false);
        self.tree.remove_node(&pid)
    }
}
