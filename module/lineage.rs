// SPDX-License-Identifier: GPL-2.0

//! Where a task comes from: the lineage the table records for it, what a
//! task the table could not hold is judged by (untracked is not host), how
//! fresh information changes a lineage, and the container origins
//! remembered to attribute programs a container plants for the host.

use crate::counters::Counter;
use crate::verdict::{self, Baseline, Escape, Lineage, Origin};
use crate::{abi, sys, State};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

/// Distinct container origins remembered for attributing planted programs.
const ORIGIN_SLOTS: usize = 128;

/// Recently settled container origins, to tell which container planted a
/// program that a host-context exec runs. Bounded; the oldest is replaced.
/// Every host exec scans it, so only filled slots are kept.
pub(crate) struct Origins {
    /// At most `ORIGIN_SLOTS`, their capacity reserved at load: adding one
    /// never allocates (hooks run in atomic context).
    slots: KVec<Origin>,
    /// The slot replaced next once all are filled.
    next: usize,
}

impl Origins {
    pub(crate) fn new() -> Result<Self> {
        Ok(Origins {
            slots: KVec::with_capacity(ORIGIN_SLOTS, GFP_KERNEL)?,
            next: 0,
        })
    }

    fn same(a: &Origin, b: &Origin) -> bool {
        let mnt = abi::ESCGUARD_NS_MNT as usize;
        a.ns[mnt] == b.ns[mnt] && (a.root.dev, a.root.ino) == (b.root.dev, b.root.ino)
    }

    /// Remembers `o`, unless it is known already or its root is the host's
    /// (a container of its own pid namespace only: everything would be
    /// "below" that root). A known one in another cgroup is a new container
    /// that reuses a dead one's namespace number and image root: it
    /// replaces it.
    pub(crate) fn note(&mut self, o: &Origin, base: &Baseline) {
        if (o.root.dev, o.root.ino) == (base.root.dev, base.root.ino) {
            return;
        }
        if let Some(s) = self.slots.iter_mut().find(|s| Self::same(s, o)) {
            if s.cgroup_id != o.cgroup_id {
                *s = *o;
            }
            return;
        }
        if self.slots.len() < ORIGIN_SLOTS {
            // Within the capacity reserved at load: no allocation.
            let _ = self.slots.push(*o, GFP_NOWAIT);
        } else if let Some(s) = self.slots.get_mut(self.next) {
            *s = *o;
            self.next = (self.next + 1) % ORIGIN_SLOTS;
        }
    }

    /// The container whose first task settled in cgroup `cgroup_id`: a
    /// task that joins a container (`runc exec`) is put in its cgroup
    /// first, whatever mount namespace its init has moved to since; cgroup
    /// ids are not reused (namespace numbers are).
    pub(crate) fn by_cgroup(&self, cgroup_id: u64) -> Option<Origin> {
        self.slots
            .iter()
            .find(|o| cgroup_id != 0 && o.cgroup_id == cgroup_id)
            .copied()
    }

    pub(crate) fn by_mnt_ns(&self, ns: u64) -> Option<Origin> {
        let mnt = abi::ESCGUARD_NS_MNT as usize;
        self.slots.iter().find(|o| o.ns[mnt] == ns).copied()
    }

    /// The container whose root is `id` and that still exists (its
    /// cgroup, `live`; an origin whose cgroup is not known counts). A
    /// root's identity outlives its container: an inode number a file
    /// system reuses, a loop or anonymous device number a new file system
    /// gets, may name a host directory by the time a host program runs
    /// from it.
    pub(crate) fn by_live_root(
        &self,
        id: &abi::escguard_fsid,
        live: impl Fn(u64) -> bool,
    ) -> Option<Origin> {
        self.slots
            .iter()
            .find(|o| {
                (o.root.dev, o.root.ino) == (id.dev, id.ino)
                    && (o.cgroup_id == 0 || live(o.cgroup_id))
            })
            .copied()
    }

    /// Whether any remembered container root is on device `dev`.
    pub(crate) fn any_on(&self, dev: u64) -> bool {
        self.slots.iter().any(|o| o.root.dev == dev)
    }
}

/// A lock-free first look for `planted_exec`: one bit per hash of the
/// device, and one per hash of the identity, of every container root ever
/// noted in `Origins`. Bits are set before the origin is noted and never
/// cleared (a stale bit only costs a locked look), so a clear bit is an
/// exact "no container root here": a host exec from a device no container
/// root is on, or from a directory none of whose ancestors is one -- the
/// common exec -- takes no lock and reads nothing of its caller.
pub(crate) struct OriginFilter {
    devs: AtomicU64,
    roots: [AtomicU64; ROOT_WORDS],
}

/// Words of `OriginFilter::roots`: 256 bits keep a false "maybe" rare
/// for a few dozen containers' roots.
const ROOT_WORDS: usize = 4;

impl OriginFilter {
    pub(crate) const fn new() -> Self {
        OriginFilter {
            devs: AtomicU64::new(0),
            roots: [const { AtomicU64::new(0) }; ROOT_WORDS],
        }
    }

    fn hash(x: u64) -> u64 {
        x.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    /// The word and bit of root identity (`dev`, `ino`).
    fn root_bit(dev: u64, ino: u64) -> (usize, u64) {
        let h = Self::hash(ino ^ Self::hash(dev));
        ((h >> 62) as usize, 1 << ((h >> 56) & 63))
    }

    /// Records a container root on device `dev` with inode `ino`.
    fn note(&self, dev: u64, ino: u64) {
        self.devs
            .fetch_or(1 << (Self::hash(dev) >> 58), Ordering::Relaxed);
        let (w, b) = Self::root_bit(dev, ino);
        if let Some(word) = self.roots.get(w) {
            word.fetch_or(b, Ordering::Relaxed);
        }
    }

    /// Whether a container root may be on device `dev`: false is exact.
    pub(crate) fn dev_maybe(&self, dev: u64) -> bool {
        self.devs.load(Ordering::Relaxed) & (1 << (Self::hash(dev) >> 58)) != 0
    }

    /// Whether `id` may be a container root: false is exact.
    pub(crate) fn root_maybe(&self, id: &abi::escguard_fsid) -> bool {
        let (w, b) = Self::root_bit(id.dev, id.ino);
        self.roots
            .get(w)
            .is_some_and(|word| word.load(Ordering::Relaxed) & b != 0)
    }
}

/// Which hook saw a task.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Hook {
    Fork,
    Exec,
}

impl State {
    /// Counts a task the table had to leave untracked (`counter` says
    /// why). Such a task has no bit in the open hook's host filter, so its
    /// opens come to `on_open`, where it is judged by its parent's entry or
    /// its own namespaces and root: untracked is not host.
    pub(crate) fn untracked(&self, counter: &Counter) {
        counter.inc();
    }

    /// Updates a task's lineage from fresh information and judges it.
    ///
    /// `known` is the lineage the table holds (`None`: untracked). Returns
    /// the new lineage and the verdict.
    pub(crate) fn assess(
        &self,
        known: Option<Lineage>,
        i: &sys::KInfo,
        hook: Hook,
    ) -> (Lineage, Escape) {
        let contained = self.base.looks_contained(i);
        match known {
            // Not in the table (allocation failed, or it predates the
            // snapshot): classify it afresh. Without a recorded origin an
            // escaped task cannot be told from a host task; counted.
            // Settled at an exec, or if its hooks found it settled before
            // (the bit they keep for tracked and untracked tasks alike): a
            // runtime's untracked child is not settled before it execs.
            None => {
                let l = if contained {
                    let settled = hook == Hook::Exec || self.fast.settled(i.pid);
                    Lineage::Container(self.known_volume(Origin::of_current(i, settled)))
                } else {
                    Lineage::Host
                };
                (l, Escape::default())
            }
            // A host task that now looks like a container task entered one
            // (`runc exec`, `nsenter -t <container>`) or is a runtime building
            // one: from here on it is of container lineage. Its origin is
            // settled by its next exec, the first program it runs there. At
            // the host's root it is host code in a sandbox (`may_settle`),
            // whether it forks or execs there.
            Some(Lineage::Host) if contained && self.base.may_settle(i) => {
                let o = Origin::of_current(i, hook == Hook::Exec);
                let o = if o.settled { self.settle_volume(o) } else { o };
                (Lineage::Container(o), Escape::default())
            }
            Some(Lineage::Host) => (Lineage::Host, Escape::default()),
            // Runtime code between clone and exec: settle at the first exec.
            Some(Lineage::Container(o)) if !o.settled => {
                if hook != Hook::Exec {
                    (Lineage::Container(o), Escape::default())
                } else if contained && self.base.may_settle(i) {
                    let o = self.settle_volume(Origin::of_current(i, true));
                    (Lineage::Container(o), Escape::default())
                } else {
                    // The runtime went back to the host before running
                    // anything, or runs a program at the host's root: it
                    // never was a container program.
                    (Lineage::Host, Escape::default())
                }
            }
            Some(Lineage::Container(o)) => {
                (Lineage::Container(o), verdict::judge(&self.base, &o, i))
            }
        }
    }

    /// The table's lineage for task `t`, and whether its escape was reported.
    ///
    /// Lock-free for the calling task when it is of host lineage (most
    /// calls): its bit in the host filter is set exactly while the table
    /// holds a host entry under its pid, kept with that entry under the
    /// table lock, and while it runs that entry can only be its own (its
    /// fork recorded it; a pid is freed, and its entry removed, only by its
    /// task's exit). A host entry's reported flag means nothing: only
    /// container tasks escape.
    pub(crate) fn lineage_of(&self, t: sys::TaskRef<'_>) -> Option<(Lineage, bool)> {
        if t.is_current() && self.fast.known_host(t.pid()) {
            return Some((Lineage::Host, false));
        }
        self.table.lock().lineage_of(t.pid(), t.id())
    }

    /// `o`, settling now (the first program of a container, or of a task
    /// that entered one, starts), with what its runtime configured (a
    /// host-root volume, a writable cgroup hierarchy): decided once
    /// per container (by its cgroup), when the first of its tasks settles
    /// (its runtime is done then, and no container code has run), and
    /// inherited by tasks that join it later (`runc exec`), so that nothing
    /// a container mounts afterwards becomes configuration.
    fn settle_volume(&self, o: Origin) -> Origin {
        let known = self.origins.lock().by_cgroup(o.cgroup_id);
        match known {
            Some(k) => o.configured_as(&k),
            None => {
                let c = sys::current_configured_mounts();
                self.note_grants(&o, &c.writes);
                o.with_configured(c)
            }
        }
    }

    /// `o` (an untracked task's present state) with the configured mounts
    /// of the container its cgroup is of, if known; never scanned here.
    fn known_volume(&self, o: Origin) -> Origin {
        let known = self.origins.lock().by_cgroup(o.cgroup_id);
        match known {
            Some(k) => o.configured_as(&k),
            None => o,
        }
    }

    /// Remembers a settled container origin (see `Origins`).
    pub(crate) fn note_origin(&self, o: &Origin) {
        if o.host_root_volume == verdict::HostRootVolume::ReadOnly {
            sys::note_ro_host_mounts();
        }
        // The filter first: an exec that finds a clear bit is never judged
        // against the list.
        self.origin_filter.note(o.root.dev, o.root.ino);
        self.origins.lock().note(o, &self.base);
    }

    /// What to judge task `t` by: its own entry, or for an untracked task
    /// (table at its cap, or a failed allocation) its parent's settled
    /// container lineage, so that a container task the table could not hold
    /// is still judged against its container's origin. `None` when neither
    /// is known: the task is then classified afresh, and an escape by it
    /// cannot be told from a host task (the documented fail-mode).
    ///
    /// Returns the lineage, whether its escape was reported, and whether
    /// the task has an entry of its own.
    pub(crate) fn lineage_or_parent(&self, t: sys::TaskRef<'_>) -> (Option<(Lineage, bool)>, bool) {
        if let Some(known) = self.lineage_of(t) {
            return (Some(known), true);
        }
        self.c.untracked.inc();
        let ppid = t.info_light().ppid;
        let parent = self.table.lock().lineage_by_pid(ppid);
        match parent {
            Some(l @ Lineage::Container(o)) if o.settled => {
                self.c.parent_judged.inc();
                (Some((l, false)), false)
            }
            _ => (None, false),
        }
    }

    /// The origin `t` (the calling task) is judged by if it is a task of
    /// settled container lineage: its own entry, or for an untracked task
    /// its tracked parent's, or else -- untracked is not host -- its own
    /// namespaces and root if they look contained (then they are taken as
    /// its origin). Also whether its escape was reported, and whether it has
    /// its own entry. Neither counts nor takes task_lock: called by the
    /// observation points, and under a task_lock by the ptrace hook.
    pub(crate) fn contained(&self, t: sys::TaskRef<'_>) -> Option<(Origin, bool, bool)> {
        let known = self.lineage_of(t);
        let (lin, tracked) = match known {
            Some(k) => (k, true),
            None => {
                let ppid = t.info_light().ppid;
                match self.table.lock().lineage_by_pid(ppid) {
                    Some(l @ Lineage::Container(o)) if o.settled => ((l, false), false),
                    _ => return self.untracked_origin(),
                }
            }
        };
        match lin {
            (Lineage::Container(o), rep) if o.settled => Some((o, rep, tracked)),
            _ => None,
        }
    }

    /// Untracked is not host: the calling task, which neither it nor its
    /// parent has a settled container entry for, is judged as a container
    /// task if its own namespaces and root look contained and its hooks
    /// found it past a runtime's setup (the settled bit its fork and exec
    /// hooks keep for every task, tracked or not); its present state is
    /// then taken as its origin.
    fn untracked_origin(&self) -> Option<(Origin, bool, bool)> {
        let own = sys::current_facts();
        (self.fast.settled(own.pid) && self.base.looks_contained(&own)).then(|| {
            (
                self.known_volume(Origin::of_current(&own, true)),
                false,
                false,
            )
        })
    }

    /// Whether `target` is a host task for a container task reaching into
    /// it: its entry is of host lineage, or it is untracked and does not
    /// look contained. Takes `target`'s task_lock (not for hooks that hold
    /// one).
    pub(crate) fn host_task(&self, target: sys::TaskRef<'_>) -> bool {
        match self.lineage_of(target) {
            Some((Lineage::Host, _)) => true,
            // A container still being built is not: `/proc/<pid>` links,
            // environ and signals of a runtime's init are judged by what
            // they reach, and tools in containers walk them (lsof, fuser);
            // only ptrace treats it as host (`on_ptrace`). Unless it is at
            // the host's root: a child or thread of host code in a pid
            // sandbox (`unshare -p -f`'s subshells, a PrivatePIDs= daemon's
            // workers), which never settles (`Baseline::may_settle`).
            Some((Lineage::Container(o), _)) => {
                !o.settled && !self.base.may_settle(&target.info(&self.base.refs(None)))
            }
            // Untracked: a kernel thread is host (its root and cwd are
            // init's: `/proc/<kthread>/root` is the host's /, whether or
            // not the table had room for it). A user task is host only if
            // it has namespaces and a root to tell by: an exiting task (its
            // entry gone, its namespaces dropped) is unknown, not host: a
            // runtime signalling its dying child.
            None => {
                let i = target.info(&self.base.refs(None));
                i.kthread != 0 || (i.has_ns != 0 && i.has_fs != 0 && !self.base.looks_contained(&i))
            }
        }
    }
}
