// SPDX-License-Identifier: GPL-2.0

//! escguard: detects and blocks container escapes.
//!
//! This crate is the Rust part of `escguard.ko`; `module/helpers.c` is the C
//! glue for kernel objects the 6.12 `kernel` crate cannot name. User space
//! talks to it through `/dev/escguard`, whose ABI is `include/escguard_abi.h`.
//!
//! Kprobes on fork (`wake_up_new_task`), exec (`finalize_exec`) and exit
//! (`exit_files` in `do_exit`) keep a table of every task's key information and compare
//! container tasks with the host on each call (see `table.rs`). An escaped
//! task is reported on the event ring and, in enforce mode, SIGKILLed before
//! it runs another instruction of user code.

use core::mem::size_of;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::str::CStr;
use kernel::prelude::*;
use kernel::sync::SpinLock;
use kernel::uaccess::UserSlice;
use kernel::{new_spinlock, try_pin_init};

mod abi;
mod events;
mod sys;
mod table;

use table::{Baseline, Entry, Escape, Lineage, Origin, StoreError, Table};

module! {
    type: Escguard,
    name: "escguard",
    author: "escguard developers",
    description: "Detects and blocks container escapes",
    license: "GPL",
}

/// Module version, from the repository's `VERSION` file (set by `Kbuild`).
const VERSION: &str = env!("ESCGUARD_VERSION");

/// Accepted ranges of the `max_tasks` and `ring_events` parameters.
const MAX_TASKS_RANGE: core::ops::RangeInclusive<u32> = 64..=4_194_304;
const RING_EVENTS_RANGE: core::ops::RangeInclusive<u32> = 16..=16_384;

/// Most events one `read()` returns.
const READ_BATCH: usize = 16;

/// Pid swaps (multi-threaded execs) that can be in flight at once.
const TID_SWAP_SLOTS: usize = 64;

/// Pid swaps recorded by the `exchange_tids` probe for the exec hook to
/// apply. Lock-free: that probe runs with `tasklist_lock` held and IRQs off,
/// where taking the table lock (taken elsewhere with IRQs on) could deadlock.
struct TidSwaps {
    /// Task identity owning the slot; 0 when free.
    task: [AtomicU64; TID_SWAP_SLOTS],
    /// The task's pid before the swap.
    old_pid: [AtomicU32; TID_SWAP_SLOTS],
}

impl TidSwaps {
    fn new() -> Self {
        TidSwaps {
            task: core::array::from_fn(|_| AtomicU64::new(0)),
            old_pid: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Records that `task` had `old_pid`; false if every slot is taken.
    fn push(&self, task: u64, old_pid: u32) -> bool {
        for (t, p) in self.task.iter().zip(self.old_pid.iter()) {
            if t.compare_exchange(0, task, Ordering::Acquire, Ordering::Relaxed).is_ok() {
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

/// A counter that only goes up.
#[derive(Default)]
struct Counter(AtomicU64);

impl Counter {
    fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
struct Counters {
    opens: Counter,
    ioctls: Counter,
    hook_fork: Counter,
    hook_exec: Counter,
    hook_exit: Counter,
    verdicts: Counter,
    kills: Counter,
    events_emitted: Counter,
    events_dropped: Counter,
    alloc_failures: Counter,
    untracked: Counter,
    tid_swaps_lost: Counter,
    hook_unload: Counter,
    table_full: Counter,
    parent_judged: Counter,
    tamper: Counter,
    denied: Counter,
}

/// Everything the hooks and `/dev/escguard` share.
#[pin_data]
struct State {
    #[pin]
    table: SpinLock<Table>,
    #[pin]
    ring: SpinLock<events::Ring>,
    base: Baseline,
    loaded_ns: u64,
    mode: AtomicU32,
    /// Sequence number of the next event; dropped events use one too, so a
    /// reader sees a gap where events were lost.
    next_seq: AtomicU64,
    tid_swaps: TidSwaps,
    c: Counters,
    /// Whether this module holds the reference on itself that makes rmmod
    /// fail (see `lock`).
    locked: AtomicBool,
    /// Group whose members may read events and status (`ESCGUARD_NO_GID`).
    events_gid: u32,
}

/// Which hook saw a task.
#[derive(Clone, Copy, PartialEq)]
enum Hook {
    Fork,
    Exec,
}

impl State {
    fn enforcing(&self) -> bool {
        self.mode.load(Ordering::Relaxed) == abi::ESCGUARD_MODE_ENFORCE
    }

    /// Updates a task's lineage from fresh information and judges it.
    ///
    /// `known` is the lineage the table holds (`None`: untracked). Returns
    /// the new lineage and the verdict.
    fn assess(&self, known: Option<Lineage>, i: &sys::KInfo, hook: Hook) -> (Lineage, Escape) {
        let contained = self.base.looks_contained(i);
        match known {
            // Not in the table (allocation failed, or it predates the
            // snapshot): classify it afresh. Without a recorded origin an
            // escaped task cannot be told from a host task; counted.
            None => {
                let l = if contained {
                    Lineage::Container(Origin::from_info(i, true))
                } else {
                    Lineage::Host
                };
                (l, Escape::default())
            }
            // A host task that now looks like a container task entered one
            // (`runc exec`, `nsenter -t <container>`) or is a runtime building
            // one: from here on it is of container lineage. Its origin is
            // settled by its next exec, the first program it runs there.
            Some(Lineage::Host) if contained => (
                Lineage::Container(Origin::from_info(i, hook == Hook::Exec)),
                Escape::default(),
            ),
            Some(Lineage::Host) => (Lineage::Host, Escape::default()),
            // Runtime code between clone and exec: settle at the first exec.
            Some(Lineage::Container(o)) if !o.settled => {
                if hook != Hook::Exec {
                    (Lineage::Container(o), Escape::default())
                } else if contained {
                    (Lineage::Container(Origin::from_info(i, true)), Escape::default())
                } else {
                    // The runtime went back to the host before running
                    // anything: it never was a container program.
                    (Lineage::Host, Escape::default())
                }
            }
            Some(Lineage::Container(o)) => (Lineage::Container(o), table::judge(&self.base, &o, i)),
        }
    }

    /// The table's lineage for task `t`, and whether its escape was reported.
    fn lineage_of(&self, t: sys::TaskRef<'_>) -> Option<(Lineage, bool)> {
        self.table.lock().lineage_of(t.pid(), t.id())
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
    fn lineage_or_parent(&self, t: sys::TaskRef<'_>) -> (Option<(Lineage, bool)>, bool) {
        if let Some(known) = self.lineage_of(t) {
            return (Some(known), true);
        }
        self.c.untracked.inc();
        let ppid = t.info(&self.base.refs(None)).ppid;
        let parent = self.table.lock().lineage_by_pid(ppid);
        match parent {
            Some(l @ Lineage::Container(o)) if o.settled => {
                self.c.parent_judged.inc();
                (Some((l, false)), false)
            }
            _ => (None, false),
        }
    }

    /// Whether `t` must never be trusted with escguard: a task of container
    /// lineage, or one that looks contained now (a host task that entered a
    /// container and has not exec'd yet), whatever its capabilities.
    fn untrusted(&self, t: sys::TaskRef<'_>) -> bool {
        if let Some((Lineage::Container(_), _)) = self.lineage_of(t) {
            return true;
        }
        self.base.looks_contained(&t.info(&self.base.refs(None)))
    }

    /// Refuses a container task's use of escguard: reports it, and in
    /// enforce mode kills the task as hostile. `what` names the attempt.
    fn tamper(&self, hook: u32, t: sys::TaskRef<'_>, what: &[u8]) {
        self.c.tamper.inc();
        let lin = self.lineage_of(t).map(|(l, _)| l);
        let i = t.info(&self.base.refs(None));
        let kill = self.enforcing();
        if kill {
            t.kill();
            self.c.kills.inc();
        }
        self.emit(hook, abi::ESCGUARD_REASON_TAMPER, &Escape::default(), &i, lin.as_ref(), t, None, kill, what);
    }

    /// Takes the module reference that makes rmmod fail, unless held.
    fn lock(&self) {
        if self.locked.load(Ordering::Acquire) || !sys::module_lock() {
            return;
        }
        if self.locked.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
            // Another caller locked meanwhile: give ours back.
            // SAFETY: `module_lock` above took this reference.
            unsafe { sys::module_unlock() };
        }
    }

    /// Drops the reference taken by `lock`, if held.
    fn unlock(&self) {
        if self.locked.compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            // SAFETY: `locked` was true, so `lock` holds a reference, and
            // clearing it made that reference ours to drop.
            unsafe { sys::module_unlock() };
        }
    }

    /// Records `i` with `lineage`; allocates (without sleeping) only if the
    /// task has no node yet.
    fn record(&self, i: &sys::KInfo, lineage: Lineage, reported: bool, tracked: bool) {
        let res = if tracked {
            None
        } else {
            let r = table::reserve_atomic();
            if r.is_none() {
                self.c.alloc_failures.inc();
                return;
            }
            r
        };
        let unused = self.table.lock().store(i.pid, Entry::new(i, lineage, reported), res);
        match unused {
            // A node we did not need is freed here, outside the lock.
            Ok(spare) => drop(spare),
            // The entry vanished between lookup and store (pid reused by a
            // racing exit): count it; the next hook classifies it afresh.
            Err(StoreError::NoNode) => self.c.alloc_failures.inc(),
            // At the cap: the task stays untracked (see `fallback`).
            Err(StoreError::Full(spare)) => {
                self.c.table_full.inc();
                drop(spare);
            }
        }
    }

    /// In enforce mode kills; reports the escape unless `reported` says it
    /// was already.
    #[allow(clippy::too_many_arguments)]
    fn act(
        &self,
        hook: u32,
        esc: &Escape,
        i: &sys::KInfo,
        lineage: &Lineage,
        task: sys::TaskRef<'_>,
        file: Option<sys::FileRef<'_>>,
        also: Option<sys::TaskRef<'_>>,
        reported: bool,
    ) {
        let kill = self.enforcing();
        if kill {
            task.kill();
            self.c.kills.inc();
            if let Some(other) = also {
                other.kill();
                self.c.kills.inc();
            }
        }
        if !reported {
            self.c.verdicts.inc();
            self.emit(hook, esc.reason(), esc, i, Some(lineage), task, file, kill, b"");
        }
    }

    /// Queues an event; never blocks, never sleeps.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        hook: u32,
        reason: u32,
        esc: &Escape,
        i: &sys::KInfo,
        lineage: Option<&Lineage>,
        task: sys::TaskRef<'_>,
        file: Option<sys::FileRef<'_>>,
        killed: bool,
        target: &[u8],
    ) {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        // Built on the heap: a record is over 1 KiB, too much for the stack
        // of a probe handler deep in fork or exec.
        let Ok(mut ev) = KBox::init(kernel::init::zeroed::<abi::escguard_event>(), GFP_NOWAIT | __GFP_NOWARN) else {
            self.c.events_dropped.inc();
            return;
        };
        ev.seq = seq;
        ev.time_ns = sys::now_ns();
        ev.hook = hook;
        ev.reason = reason;
        ev.action = if killed {
            abi::ESCGUARD_ACTION_KILLED
        } else {
            abi::ESCGUARD_ACTION_LOGGED
        };
        ev.pid = i.pid;
        ev.tgid = i.tgid;
        ev.ppid = i.ppid;
        ev.uid = i.uid;
        ev.ns_mask = esc.ns_mask;
        ev.fs_mask = esc.fs_mask;
        ev.ns_after = i.ns;
        ev.root = i.root;
        ev.cwd = i.cwd;
        ev.comm = i.comm;
        if let Some(Lineage::Container(o)) = lineage {
            ev.origin_pid = o.pid;
            ev.ns_before = o.ns;
            ev.origin_root = o.root;
        }
        // Leave at least one trailing NUL.
        let n = target.len().min(ev.target.len() - 1);
        ev.target[..n].copy_from_slice(&target[..n]);
        let e = &mut *ev;
        task.paths(file, &mut e.root_path, &mut e.cwd_path, &mut e.exe);
        if self.ring.lock().push(e) {
            self.c.events_emitted.inc();
            sys::wake_readers();
        } else {
            self.c.events_dropped.inc();
        }
    }

    fn version(&self) -> abi::escguard_version {
        let mut v = abi::escguard_version {
            abi_major: abi::ESCGUARD_ABI_MAJOR,
            abi_minor: abi::ESCGUARD_ABI_MINOR,
            ..Default::default()
        };
        // Leave at least one trailing NUL.
        let n = VERSION.len().min(v.module_version.len() - 1);
        v.module_version[..n].copy_from_slice(&VERSION.as_bytes()[..n]);
        v
    }

    fn status(&self) -> abi::escguard_status {
        let (tasks_host, tasks_container, table_cap) = {
            let t = self.table.lock();
            let (h, c) = t.counts();
            (h, c, t.cap())
        };
        let (queued, cap) = {
            let r = self.ring.lock();
            (r.queued() as u64, r.capacity() as u64)
        };
        let hook_ns = sys::hook_ns();
        abi::escguard_status {
            abi_major: abi::ESCGUARD_ABI_MAJOR,
            abi_minor: abi::ESCGUARD_ABI_MINOR,
            mode: self.mode.load(Ordering::Relaxed),
            probes: sys::probe_count(),
            loaded_ns: self.loaded_ns,
            opens: self.c.opens.get(),
            ioctls: self.c.ioctls.get(),
            tasks_host,
            tasks_container,
            hook_fork: self.c.hook_fork.get(),
            hook_exec: self.c.hook_exec.get(),
            hook_exit: self.c.hook_exit.get(),
            probes_missed: sys::probes_missed(),
            verdicts: self.c.verdicts.get(),
            kills: self.c.kills.get(),
            events_emitted: self.c.events_emitted.get(),
            events_dropped: self.c.events_dropped.get(),
            events_queued: queued,
            alloc_failures: self.c.alloc_failures.get(),
            untracked: self.c.untracked.get(),
            tid_swaps_lost: self.c.tid_swaps_lost.get(),
            hook_ns_fork: hook_ns[0],
            hook_ns_exec: hook_ns[1],
            hook_ns_exit: hook_ns[2],
            baseline_ns: self.base.ns,
            baseline_root: self.base.root,
            ring_capacity: cap,
            ring_bytes: cap * size_of::<abi::escguard_event>() as u64,
            hook_unload: self.c.hook_unload.get(),
            locked: self.locked.load(Ordering::Relaxed) as u32,
            events_gid: self.events_gid,
            table_cap,
            table_full: self.c.table_full.get(),
            parent_judged: self.c.parent_judged.get(),
            tamper: self.c.tamper.get(),
            denied: self.c.denied.get(),
            ..Default::default()
        }
    }

    fn set_mode(&self, arg: usize) -> Result<isize> {
        let mode: u32 = UserSlice::new(arg, size_of::<u32>()).reader().read()?;
        if mode != abi::ESCGUARD_MODE_MONITOR && mode != abi::ESCGUARD_MODE_ENFORCE {
            return Err(EINVAL);
        }
        let old = self.mode.swap(mode, Ordering::Relaxed);
        if old != mode {
            pr_notice!(
                "escguard: mode {}\n",
                if mode == abi::ESCGUARD_MODE_ENFORCE { "enforce" } else { "monitor" }
            );
        }
        Ok(0)
    }

    /// ESCGUARD_IOC_TASKS: validates the request, copies a page of the table
    /// under the lock into a buffer allocated beforehand, then copies it out.
    fn list_tasks(&self, arg: usize) -> Result<isize> {
        let hdr_len = size_of::<abi::escguard_task_list>();
        let mut req: abi::escguard_task_list = UserSlice::new(arg, hdr_len).reader().read()?;
        if req.capacity == 0 || req.capacity > abi::ESCGUARD_TASKS_MAX {
            return Err(EINVAL);
        }
        // Up to 1 MiB: vmalloc-backed, no high-order allocation to fail.
        let mut page = KVVec::with_capacity(req.capacity as usize, GFP_KERNEL)?;
        let total = {
            let mut t = self.table.lock();
            t.list(req.start_pid, &mut page);
            let (h, c) = t.counts();
            h + c
        };
        let rec = size_of::<abi::escguard_task>();
        let mut w = UserSlice::new(req.tasks as usize, page.len() * rec).writer();
        for t in page.iter() {
            w.write(t)?;
        }
        req.count = page.len() as u32;
        req.total = total.min(u32::MAX as u64) as u32;
        UserSlice::new(arg, hdr_len).writer().write(&req)?;
        Ok(0)
    }

    /// Records every task that exists at load. Process context.
    fn snapshot(&self) -> Result {
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
            let lineage = if self.base.looks_contained(&i) {
                Lineage::Container(Origin::from_info(&i, true))
            } else {
                Lineage::Host
            };
            let pre = spare.get_mut(next).and_then(Option::take);
            next += 1;
            let Some(res) = pre.or_else(table::reserve_atomic) else {
                self.c.alloc_failures.inc();
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
                    table.insert_vacant(i.pid, Entry::new(&i, lineage, false), res)
                }
            };
            if full {
                self.c.table_full.inc();
            }
            drop(unused);
        });
        Ok(())
    }
}

/// Copies `value` to the user buffer at `arg`, which must be exactly the size
/// the ioctl number encodes.
fn copy_out<T: kernel::types::AsBytes>(arg: usize, value: &T) -> Result<isize> {
    UserSlice::new(arg, size_of::<T>()).writer().write(value)?;
    Ok(0)
}

/// A u32 ioctl argument.
fn read_u32(arg: usize) -> Result<u32> {
    UserSlice::new(arg, size_of::<u32>()).reader().read()
}

impl sys::Ops for State {
    fn open(&self, f: sys::FileState<'_>, task: sys::TaskRef<'_>, write: bool) -> Result {
        if self.untrusted(task) {
            self.tamper(abi::ESCGUARD_HOOK_DEVICE, task, b"open");
            return Err(EPERM);
        }
        // Checked here, not only by the node's mode: root without
        // CAP_SYS_ADMIN, or a node made elsewhere with mknod, gets no further.
        let access = if sys::capable_admin() {
            sys::ACCESS_ADMIN | sys::ACCESS_READ
        } else if !write && self.events_gid != abi::ESCGUARD_NO_GID && sys::in_group(self.events_gid) {
            sys::ACCESS_READ
        } else {
            self.c.denied.inc();
            return Err(EPERM);
        };
        f.set_access(access);
        self.c.opens.inc();
        Ok(())
    }

    fn release(&self, _f: sys::FileState<'_>) {}

    fn ioctl(&self, f: sys::FileState<'_>, task: sys::TaskRef<'_>, cmd: u32, arg: usize) -> Result<isize> {
        self.c.ioctls.inc();
        // A descriptor passed into a container is no key to escguard.
        if self.untrusted(task) {
            self.tamper(abi::ESCGUARD_HOOK_DEVICE, task, b"ioctl");
            return Err(EPERM);
        }
        let (need, change) = match cmd {
            abi::ESCGUARD_IOCTL_VERSION
            | abi::ESCGUARD_IOCTL_STATUS
            | abi::ESCGUARD_IOCTL_READER
            | abi::ESCGUARD_IOCTL_ACK => (sys::ACCESS_READ, false),
            abi::ESCGUARD_IOCTL_TASKS => (sys::ACCESS_ADMIN, false),
            abi::ESCGUARD_IOCTL_SET_MODE | abi::ESCGUARD_IOCTL_LOCK => (sys::ACCESS_ADMIN, true),
            // Unknown numbers, including known ones with another size or
            // direction encoded, are not ours.
            _ => return Err(ENOTTY),
        };
        // Changes also need the privilege now, in the caller: a descriptor
        // the admin opened and handed to a lesser task does not carry it.
        if f.access() & need == 0 || (change && !sys::capable_admin()) {
            self.c.denied.inc();
            return Err(EPERM);
        }
        match cmd {
            abi::ESCGUARD_IOCTL_VERSION => copy_out(arg, &self.version()),
            abi::ESCGUARD_IOCTL_STATUS => copy_out(arg, &self.status()),
            abi::ESCGUARD_IOCTL_SET_MODE => self.set_mode(arg),
            abi::ESCGUARD_IOCTL_TASKS => self.list_tasks(arg),
            abi::ESCGUARD_IOCTL_READER => match read_u32(arg)? {
                abi::ESCGUARD_READ_CONSUME => {
                    f.set_ack_mode(false);
                    Ok(0)
                }
                abi::ESCGUARD_READ_ACK => {
                    f.set_ack_mode(true);
                    Ok(0)
                }
                _ => Err(EINVAL),
            },
            abi::ESCGUARD_IOCTL_ACK => {
                let seq: u64 = UserSlice::new(arg, size_of::<u64>()).reader().read()?;
                self.ring.lock().consume_through(seq);
                Ok(0)
            }
            abi::ESCGUARD_IOCTL_LOCK => match read_u32(arg)? {
                0 => {
                    self.unlock();
                    pr_notice!("escguard: unlocked by the host admin; rmmod now allowed\n");
                    Ok(0)
                }
                1 => {
                    self.lock();
                    Ok(0)
                }
                _ => Err(EINVAL),
            },
            _ => Err(ENOTTY),
        }
    }

    fn read(&self, f: sys::FileState<'_>, task: sys::TaskRef<'_>, ubuf: usize, len: usize) -> Result<isize> {
        if self.untrusted(task) {
            self.tamper(abi::ESCGUARD_HOOK_DEVICE, task, b"read");
            return Err(EPERM);
        }
        let rec = size_of::<abi::escguard_event>();
        let want = (len / rec).min(READ_BATCH);
        if want == 0 {
            // Whole records only: a short buffer would split one.
            return Err(EINVAL);
        }
        let ack = f.ack_mode();
        let after = if ack { f.cursor() } else { 0 };
        let mut batch = KVec::with_capacity(want, GFP_KERNEL)?;
        {
            // Copy, do not consume: if the copy to user space faults, the
            // events stay queued.
            let ring = self.ring.lock();
            let mut k = 0;
            while let Some(ev) = ring.peek(k) {
                if batch.len() == want {
                    break;
                }
                if ev.seq > after {
                    batch.push(*ev, GFP_NOWAIT)?;
                }
                k += 1;
            }
        }
        let Some(last) = batch.last().map(|e| e.seq) else {
            return Err(EAGAIN);
        };
        let mut w = UserSlice::new(ubuf, batch.len() * rec).writer();
        for ev in batch.iter() {
            w.write(ev)?;
        }
        if ack {
            // Kept until ESCGUARD_IOC_ACK: a reader that dies now loses nothing.
            f.advance(last);
        } else {
            self.ring.lock().consume_through(last);
        }
        Ok((batch.len() * rec) as isize)
    }

    fn readable(&self, f: sys::FileState<'_>) -> bool {
        let ring = self.ring.lock();
        if f.ack_mode() {
            ring.newest_seq().is_some_and(|s| s > f.cursor())
        } else {
            ring.queued() > 0
        }
    }

    fn on_unload(&self, task: sys::TaskRef<'_>, name: &CStr) {
        self.c.hook_unload.inc();
        if name.as_bytes() != b"escguard" || !self.untrusted(task) {
            return;
        }
        // Locked again before delete_module looks at the reference count,
        // so the call fails even if the admin had unlocked.
        self.lock();
        self.tamper(abi::ESCGUARD_HOOK_UNLOAD, task, b"delete_module escguard");
    }

    fn on_fork(&self, parent: sys::TaskRef<'_>, child: sys::TaskRef<'_>) {
        self.c.hook_fork.inc();
        let (known, tracked) = self.lineage_or_parent(parent);
        let lin = known.map(|(l, _)| l);
        let prep = known.is_some_and(|(_, r)| r);
        // A tracked host parent needs no fresh look: nothing it could have
        // done makes its fork an escape, the child's own information below
        // decides whether a container is being made, and the parent's entry
        // is refreshed at its next exec. This halves the cost of the common
        // fork on a host.
        let (plin, pesc) = if let Some(Lineage::Host) = lin {
            (Lineage::Host, Escape::default())
        } else {
            let pi = parent.info(&self.base.refs(lin.as_ref()));
            let (plin, pesc) = self.assess(lin, &pi, Hook::Fork);
            self.record(&pi, plin, prep || pesc.any(), tracked);
            if pesc.any() {
                // The escaped parent dies, and so does its child, before
                // either runs another instruction of user code.
                self.act(abi::ESCGUARD_HOOK_FORK, &pesc, &pi, &plin, parent, None, Some(child), prep);
            }
            (plin, pesc)
        };

        // The child inherits the lineage; a host task that cloned into new
        // namespaces made a container task (a runtime at work).
        let ci = child.info(&self.base.refs(Some(&plin)));
        let (clin, cesc) = match plin {
            Lineage::Container(o) if o.settled => (plin, table::judge(&self.base, &o, &ci)),
            Lineage::Container(_) => (plin, Escape::default()),
            Lineage::Host if self.base.looks_contained(&ci) => {
                (Lineage::Container(Origin::from_info(&ci, false)), Escape::default())
            }
            Lineage::Host => (Lineage::Host, Escape::default()),
        };
        // The parent's event covers a child born of an escaped parent.
        self.record(&ci, clin, pesc.any() || cesc.any(), false);

        if !pesc.any() && cesc.any() {
            // Born outside (e.g. into the host pid namespace after setns).
            self.act(abi::ESCGUARD_HOOK_FORK, &cesc, &ci, &clin, child, None, None, false);
        }
    }

    fn on_exec(&self, task: sys::TaskRef<'_>, file: Option<sys::FileRef<'_>>) {
        self.c.hook_exec.inc();
        // A non-leader thread that exec'd now has its leader's pid: move
        // its entry (lineage and origin) to that pid before looking it up.
        if let Some(old) = self.tid_swaps.take(task.id()) {
            self.table.lock().rekey(old, task.pid(), task.id());
        }
        let (known, tracked) = self.lineage_or_parent(task);
        let lin = known.map(|(l, _)| l);
        let rep = known.is_some_and(|(_, r)| r);
        let i = task.info(&self.base.refs(lin.as_ref()));
        let (lineage, esc) = self.assess(lin, &i, Hook::Exec);
        self.record(&i, lineage, rep || esc.any(), tracked);
        if esc.any() {
            // finalize_exec(): start_thread() is next, so the new program
            // never runs its first instruction.
            self.act(abi::ESCGUARD_HOOK_EXEC, &esc, &i, &lineage, task, file, None, rep);
        }
    }

    fn on_tid_swap(&self, left: sys::TaskRef<'_>, _right: sys::TaskRef<'_>) {
        // Atomics only: see `TidSwaps`.
        if !self.tid_swaps.push(left.id(), left.pid()) {
            self.c.tid_swaps_lost.inc();
        }
    }

    fn on_exit(&self, task: sys::TaskRef<'_>) {
        self.c.hook_exit.inc();
        // An exec that swapped pids and then failed never reaches the exec
        // hook: free its slot, and drop the entry still under the old pid.
        let old = self.tid_swaps.take(task.id());
        let (node, stale) = {
            let mut t = self.table.lock();
            (t.remove(task.pid(), task.id()), old.and_then(|p| t.remove(p, task.id())))
        };
        // Freed outside the lock; kfree() does not sleep.
        drop(node);
        drop(stale);
    }
}

sys::callbacks!(State);

struct Escguard {
    reg: sys::Registration<State>,
}

impl kernel::Module for Escguard {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let p = sys::params();
        if !MAX_TASKS_RANGE.contains(&p.max_tasks) {
            pr_err!(
                "escguard: max_tasks={} is outside {}..={}\n",
                p.max_tasks,
                MAX_TASKS_RANGE.start(),
                MAX_TASKS_RANGE.end()
            );
            return Err(EINVAL);
        }
        if !RING_EVENTS_RANGE.contains(&p.ring_events) {
            pr_err!(
                "escguard: ring_events={} is outside {}..={}\n",
                p.ring_events,
                RING_EVENTS_RANGE.start(),
                RING_EVENTS_RANGE.end()
            );
            return Err(EINVAL);
        }
        let base = Baseline::from_info(&sys::baseline()?);
        let ring = events::Ring::new(p.ring_events as usize)?;
        let state = KBox::pin_init(
            try_pin_init!(State {
                table <- new_spinlock!(Table::new(p.max_tasks as u64), "escguard_table"),
                ring <- new_spinlock!(ring, "escguard_ring"),
                base,
                loaded_ns: sys::now_ns(),
                mode: AtomicU32::new(abi::ESCGUARD_MODE_ENFORCE),
                next_seq: AtomicU64::new(1),
                tid_swaps: TidSwaps::new(),
                c: Counters::default(),
                locked: AtomicBool::new(false),
                events_gid: p.events_gid,
            }? Error),
            GFP_KERNEL,
        )?;
        let reg = sys::Registration::new(state, |s| s.snapshot())?;
        // Last: nothing after this can fail and leave the reference behind.
        if p.locked {
            reg.state().lock();
        }
        let (h, c) = reg.state().table.lock().counts();
        pr_info!(
            "escguard {} loaded (ABI {}.{}): enforce mode, {}, {} host and {} container tasks\n",
            VERSION,
            abi::ESCGUARD_ABI_MAJOR,
            abi::ESCGUARD_ABI_MINOR,
            if p.locked { "locked" } else { "unlocked" },
            h,
            c
        );
        Ok(Escguard { reg })
    }
}

impl Drop for Escguard {
    fn drop(&mut self) {
        let s = self.reg.state();
        pr_info!(
            "escguard unloading: {} verdicts, {} kills, {} events ({} dropped)\n",
            s.c.verdicts.get(),
            s.c.kills.get(),
            s.c.events_emitted.get(),
            s.c.events_dropped.get()
        );
    }
}
