// SPDX-License-Identifier: GPL-2.0

//! The hooks that follow a task's life -- fork, exec, exit, the pid swap of
//! a multi-threaded exec, namespace switches -- and the table updates they
//! make, from the snapshot taken at load on.

use crate::bytes::until_nul;
use crate::lineage::Hook;
use crate::report::Extra;
use crate::table::{self, Entry, StoreError};
use crate::verdict::{self, Escape, Lineage, Origin};
use crate::{abi, sys, State, PATH_LEN};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;

/// Pid swaps (multi-threaded execs) that can be in flight at once.
const TID_SWAP_SLOTS: usize = 64;

/// Pid swaps recorded by the `exchange_tids` probe for the exec hook to
/// apply. Lock-free: that probe runs with `tasklist_lock` held and IRQs off,
/// where taking the table lock (taken elsewhere with IRQs on) could deadlock.
pub(crate) struct TidSwaps {
    /// Task identity owning the slot; 0 when free.
    task: [AtomicU64; TID_SWAP_SLOTS],
    /// The task's pid before the swap.
    old_pid: [AtomicU32; TID_SWAP_SLOTS],
}

impl TidSwaps {
    pub(crate) fn new() -> Self {
        TidSwaps {
            task: core::array::from_fn(|_| AtomicU64::new(0)),
            old_pid: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Records that `task` had `old_pid`; false if every slot is taken.
    fn push(&self, task: u64, old_pid: u32) -> bool {
        for (t, p) in self.task.iter().zip(self.old_pid.iter()) {
            if t.compare_exchange(0, task, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                p.store(old_pid, Ordering::Release);
                return true;
            }
        }
        false
    }

    /// Takes the pid `task` had before its swap, if one was recorded. Only
    /// the task itself calls this, after its swap completed.
    fn take(&self, task: u64) -> Option<u32> {
        for (t, p) in self.task.iter().zip(self.old_pid.iter()) {
            if t.load(Ordering::Acquire) == task {
                let old = p.load(Ordering::Acquire);
                t.store(0, Ordering::Release);
                return Some(old);
            }
        }
        None
    }
}

impl State {
    /// Records `i` with `lineage`; allocates (without sleeping) only if the
    /// task has no node yet.
    pub(crate) fn record(&self, i: &sys::KInfo, lineage: Lineage, reported: bool, tracked: bool) {
        self.record_keyed(i, lineage, reported, tracked, None)
    }

    /// `record`, and if `key` is given (read by the task itself before
    /// `i`) and the entry stored is clean (settled container lineage, not
    /// reported; the caller found no escape in `i`), caches that verdict
    /// for the task's opens.
    pub(crate) fn record_keyed(
        &self,
        i: &sys::KInfo,
        lineage: Lineage,
        reported: bool,
        tracked: bool,
        key: Option<&sys::OpenKey>,
    ) {
        // Kept whether or not the table can hold the task: what settles an
        // untracked task (see `untracked_origin`).
        self.fast
            .set_settled(i.pid, matches!(lineage, Lineage::Container(o) if o.settled));
        let res = if tracked {
            None
        } else {
            let r = table::reserve_atomic();
            if r.is_none() {
                self.untracked(&self.c.alloc_failures);
                return;
            }
            r
        };
        let unused = {
            let mut t = self.table.lock();
            let r = t.store(i.pid, Entry::new(i, lineage, reported), res, &self.fast);
            if let (Ok(_), Some(k), Lineage::Container(o), false) = (&r, key, lineage, reported) {
                if o.settled && k.task == i.task_id && o.caches_at(&i.root, k.root_is_mount_root())
                {
                    self.fast.cache_fill(k);
                }
            }
            r
        };
        match unused {
            // A node we did not need is freed here, outside the lock.
            Ok(spare) => drop(spare),
            // The entry vanished between lookup and store (pid reused by a
            // racing exit): count it; the next hook classifies it afresh.
            Err(StoreError::NoNode) => self.untracked(&self.c.alloc_failures),
            // At the cap: the task stays untracked (see `lineage_or_parent`).
            Err(StoreError::Full(spare)) => {
                self.untracked(&self.c.table_full);
                drop(spare);
            }
        }
    }

    /// Records every task that exists at load. Process context.
    pub(crate) fn snapshot(&self) -> Result {
        // Allocate the nodes up front with GFP_KERNEL (the walk runs under
        // RCU and cannot sleep); tasks born meanwhile are hooked anyway, and
        // any shortfall falls back to non-sleeping allocation.
        let mut n = 0usize;
        sys::for_each_task(|_| n += 1);
        let mut spare = KVec::with_capacity(n + 64, GFP_KERNEL)?;
        for _ in 0..n + 64 {
            spare.push(Some(table::Reservation::new(GFP_KERNEL)?), GFP_KERNEL)?;
        }
        let mut next = 0;
        let none = self.base.refs(None);
        sys::for_each_task(|t| {
            let i = t.info(&none);
            let contained = self.base.looks_contained(&i) && self.base.may_settle(&i);
            self.fast.set_settled(i.pid, contained);
            let lineage = if contained {
                // Running before the load: its mounts taken as configured.
                let c = t.configured_mounts();
                let mut o = Origin::from_info(&i, true).with_configured(c);
                o.cgroup_id = t.cgroup_id();
                self.note_grants(&o, &c.writes);
                self.note_origin(&o);
                Lineage::Container(o)
            } else {
                Lineage::Host
            };
            let pre = spare.get_mut(next).and_then(Option::take);
            next += 1;
            let Some(res) = pre.or_else(table::reserve_atomic) else {
                self.untracked(&self.c.alloc_failures);
                return;
            };
            let (unused, full) = {
                let mut table = self.table.lock();
                // A task whose exit hook already ran must not be inserted
                // now: it would never be removed. The hook runs after
                // PF_EXITING is set and takes this lock, so checking the
                // flag under it is exact.
                if t.exiting() {
                    (Some(res), false)
                } else {
                    table.insert_vacant(i.pid, Entry::new(&i, lineage, false), res, &self.fast)
                }
            };
            if full {
                self.untracked(&self.c.table_full);
            }
            drop(unused);
        });
        Ok(())
    }
}

impl sys::LifecycleHooks for State {
    fn on_fork(&self, parent: sys::TaskRef<'_>, child: sys::TaskRef<'_>) {
        self.c.hook_fork.inc();
        let (known, tracked) = self.lineage_or_parent(parent);
        let lin = known.map(|(l, _)| l);
        let prep = known.is_some_and(|(_, r)| r);
        // A tracked host parent needs no fresh look: nothing it could have
        // done makes its fork an escape, the child's own information below
        // decides whether a container is being made, and the parent's entry
        // is refreshed at its next exec. The common fork on a host then
        // reads and records only the child.
        let (plin, pesc) = if let Some(Lineage::Host) = lin {
            (Lineage::Host, Escape::default())
        } else {
            let pi = parent.info(&self.base.refs(lin.as_ref()));
            let (plin, pesc) = self.assess(lin, &pi, Hook::Fork);
            self.record(&pi, plin, prep || pesc.any(), tracked);
            if pesc.any() {
                // The escaped parent dies, and so does its child, before
                // either runs another instruction of user code.
                self.act(
                    abi::ESCGUARD_HOOK_FORK,
                    &pesc,
                    &pi,
                    &plin,
                    parent,
                    None,
                    Some(child),
                    prep,
                    &Extra::default(),
                );
            }
            (plin, pesc)
        };

        // The child inherits the lineage; a host task that cloned into new
        // namespaces made a container task (a runtime at work).
        let ci = child.info(&self.base.refs(Some(&plin)));
        let (clin, cesc) = match plin {
            Lineage::Container(o) if o.settled => (plin, verdict::judge(&self.base, &o, &ci)),
            Lineage::Container(_) => (plin, Escape::default()),
            Lineage::Host if self.base.looks_contained(&ci) => (
                Lineage::Container(Origin::from_info(&ci, false)),
                Escape::default(),
            ),
            Lineage::Host => (Lineage::Host, Escape::default()),
        };
        // The parent's event covers a child born of an escaped parent, and
        // of one whose escape was reported before: one event per escape.
        self.record(&ci, clin, prep || pesc.any() || cesc.any(), false);

        if !pesc.any() && cesc.any() {
            // Born outside (e.g. into the host pid namespace after setns).
            self.act(
                abi::ESCGUARD_HOOK_FORK,
                &cesc,
                &ci,
                &clin,
                child,
                None,
                None,
                false,
                &Extra::default(),
            );
        }
    }

    fn on_exec(&self, task: sys::TaskRef<'_>, file: Option<sys::FileRef<'_>>) {
        self.c.hook_exec.inc();
        // A non-leader thread that exec'd now has its leader's pid: move
        // its entry (lineage and origin) to that pid before looking it up.
        if let Some(old) = self.tid_swaps.take(task.id()) {
            self.table
                .lock()
                .rekey(old, task.pid(), task.id(), &self.fast);
            self.fast.set_settled(old, false);
        }
        let (known, tracked) = self.lineage_or_parent(task);
        let lin = known.map(|(l, _)| l);
        let rep = known.is_some_and(|(_, r)| r);
        let i = task.info(&self.base.refs(lin.as_ref()));
        let (lineage, mut esc) = self.assess(lin, &i, Hook::Exec);
        // A container program that starts holding a directory into the
        // host (a descriptor the runtime or a caller leaked, CVE-2024-21626)
        // can reach host files through it without any open we would see
        // (unlinkat, fchmodat, ...): it has escaped.
        let mut leaked = [0u8; PATH_LEN];
        if let (Lineage::Container(o), false, false) = (lineage, esc.any(), rep) {
            if o.settled {
                let refs = self.base.refs(Some(&lineage));
                esc.object = sys::current_dir_fds(|d| {
                    let host = verdict::object_on_host(&self.base, &o, d.classify(&refs), false);
                    if host {
                        d.path(&mut leaked);
                    }
                    host
                });
            }
        }
        self.record(&i, lineage, rep || esc.any(), tracked);
        if esc.any() {
            // finalize_exec(): start_thread() is next, so the new program
            // never runs its first instruction.
            let x = Extra {
                target: until_nul(&leaked),
                ..Default::default()
            };
            self.act(
                abi::ESCGUARD_HOOK_EXEC,
                &esc,
                &i,
                &lineage,
                task,
                file,
                None,
                rep,
                &x,
            );
        }
        // Remember a newly settled container, to attribute programs it
        // plants for usermode helpers.
        let was_settled = matches!(lin, Some(Lineage::Container(o)) if o.settled);
        if let Lineage::Container(o) = lineage {
            if o.settled && !was_settled {
                self.note_origin(&o);
            }
        }
    }

    fn on_exit(&self, task: sys::TaskRef<'_>) {
        self.c.hook_exit.inc();
        // An exec that swapped pids and then failed never reaches the exec
        // hook: free its slot, and drop the entry still under the old pid.
        let old = self.tid_swaps.take(task.id());
        let (node, stale) = {
            let mut t = self.table.lock();
            (
                t.remove(task.pid(), task.id(), &self.fast),
                old.and_then(|p| t.remove(p, task.id(), &self.fast)),
            )
        };
        // Freed outside the lock; kfree() does not sleep.
        drop(node);
        drop(stale);
        // A failed fork's child reaches this hook (from its parent) with its
        // parent's pid: only a task's own exit frees its pid.
        if task.is_current() {
            self.fast.set_settled(task.pid(), false);
        }
    }

    fn on_tid_swap(&self, left: sys::TaskRef<'_>, _right: sys::TaskRef<'_>) {
        // Atomics only: see `TidSwaps`.
        if !self.tid_swaps.push(left.id(), left.pid()) {
            self.c.tid_swaps_lost.inc();
        }
    }

    fn on_ns_switch(&self, task: sys::TaskRef<'_>, i: &sys::KInfo) {
        self.c.hook_syscall.inc();
        // Judge the change where it happens: a task that setns'es into the
        // host's namespaces may do its harm with calls that open nothing
        // (truncate, chmod, connect) and switch back before any other hook
        // would look. It dies before it returns to user space. Judged by
        // the whole resulting state, root and cwd included: a mount
        // namespace that is not the host's can still put the host's root
        // under the task (a host service's private one, `PrivateTmp=`).
        let Some((o, rep, tracked)) = self.contained(task) else {
            return;
        };
        if rep {
            return;
        }
        // The new mount namespace's root and cwd are current's already;
        // its namespaces are `i`'s (the new ones, not yet installed).
        let fs = task.info(&self.base.refs(Some(&Lineage::Container(o))));
        let i = &sys::KInfo {
            root_flags: fs.root_flags,
            cwd_flags: fs.cwd_flags,
            ..*i
        };
        let esc = verdict::judge(&self.base, &o, i);
        if !esc.any() {
            return;
        }
        // Who it is, for the event and the table (the facts are the lock-free
        // ones: no ppid, uid or comm).
        let light = task.info_light();
        let i = &sys::KInfo {
            ppid: light.ppid,
            uid: light.uid,
            comm: light.comm,
            ..*i
        };
        let lin = Lineage::Container(o);
        self.record(i, lin, true, tracked);
        let x = Extra {
            target: b"setns/unshare",
            ..Default::default()
        };
        self.act(
            abi::ESCGUARD_HOOK_SYSCALL,
            &esc,
            i,
            &lin,
            task,
            None,
            None,
            false,
            &x,
        );
    }
}
