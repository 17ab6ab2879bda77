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
mod bytes;
mod events;
mod policy;
mod presets;
mod sys;
mod table;
mod verdict;

use bytes::until_nul;
use policy::Policy;
use presets::{Presets, PRESET_NAMES};
use table::{Entry, StoreError, Table};
use verdict::{Baseline, Escape, Lineage, Origin};

pub(crate) const PATH_LEN: usize = abi::ESCGUARD_PATH_LEN as usize;

/// Kinds of namespace (`ESCGUARD_NS_*`) a task, a container and the host have.
pub(crate) const NS_COUNT: usize = abi::ESCGUARD_NS_COUNT as usize;

/// File type bits of `i_mode` (`linux/stat.h`).
const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;

/// Distinct container origins remembered for attributing planted programs.
const ORIGIN_SLOTS: usize = 128;

/// Recently settled container origins, to tell which container planted a
/// program that a host-context exec runs. Bounded; the oldest is replaced.
/// Every host exec scans it, so only filled slots are kept.
struct Origins {
    /// At most `ORIGIN_SLOTS`, their capacity reserved at load: adding one
    /// never allocates (hooks run in atomic context).
    slots: KVec<Origin>,
    /// The slot replaced next once all are filled.
    next: usize,
}

impl Origins {
    fn new() -> Result<Self> {
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
    /// "below" that root).
    fn note(&mut self, o: &Origin, base: &Baseline) {
        if (o.root.dev, o.root.ino) == (base.root.dev, base.root.ino) || self.slots.iter().any(|s| Self::same(s, o)) {
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

    fn by_mnt_ns(&self, ns: u64) -> Option<Origin> {
        let mnt = abi::ESCGUARD_NS_MNT as usize;
        self.slots.iter().find(|o| o.ns[mnt] == ns).copied()
    }

    fn by_root(&self, id: &abi::escguard_fsid) -> Option<Origin> {
        self.slots.iter().find(|o| (o.root.dev, o.root.ino) == (id.dev, id.ino)).copied()
    }

    /// Whether any remembered container root is on device `dev`.
    fn any_on(&self, dev: u64) -> bool {
        self.slots.iter().any(|o| o.root.dev == dev)
    }
}

/// What an event adds beyond the task: what the call aimed at, and the
/// rule that matched.
#[derive(Clone, Copy, Default)]
struct Extra<'a> {
    target: &'a [u8],
    rule_id: u32,
    rule: &'a [u8],
    syscall: u32,
    denied: bool,
    /// Render no paths: the hook holds a task_lock that rendering takes.
    light: bool,
}

/// Formats into a fixed buffer, truncating; always leaves a NUL.
struct BufWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> BufWriter<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        BufWriter { buf, len: 0 }
    }
    fn bytes(&mut self, b: &[u8]) {
        let room = self.buf.len().saturating_sub(self.len + 1);
        let n = b.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
        if let Some(z) = self.buf.get_mut(self.len) {
            *z = 0;
        }
    }
    fn done(self) -> &'a [u8] {
        &self.buf[..self.len]
    }
}

impl core::fmt::Write for BufWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

/// The name events give syscall `sys`.
fn syscall_name(sys: u32) -> &'static [u8] {
    match sys {
        abi::ESCGUARD_SYS_OPEN_BY_HANDLE_AT => b"open_by_handle_at",
        abi::ESCGUARD_SYS_INIT_MODULE => b"init_module",
        abi::ESCGUARD_SYS_FINIT_MODULE => b"finit_module",
        abi::ESCGUARD_SYS_DELETE_MODULE => b"delete_module",
        abi::ESCGUARD_SYS_SETNS => b"setns",
        abi::ESCGUARD_SYS_UNSHARE => b"unshare",
        abi::ESCGUARD_SYS_PIVOT_ROOT => b"pivot_root",
        abi::ESCGUARD_SYS_CHROOT => b"chroot",
        abi::ESCGUARD_SYS_MOUNT => b"mount",
        abi::ESCGUARD_SYS_FSOPEN => b"fsopen",
        abi::ESCGUARD_SYS_FSMOUNT => b"fsmount",
        abi::ESCGUARD_SYS_MOVE_MOUNT => b"move_mount",
        abi::ESCGUARD_SYS_PTRACE => b"ptrace",
        _ => b"?",
    }
}

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
    hook_fork: sys::PcpuCounter<{ sys::PC_HOOK_FORK }>,
    hook_exec: sys::PcpuCounter<{ sys::PC_HOOK_EXEC }>,
    hook_exit: sys::PcpuCounter<{ sys::PC_HOOK_EXIT }>,
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
    hook_open: sys::PcpuCounter<{ sys::PC_HOOK_OPEN }>,
    hook_syscall: sys::PcpuCounter<{ sys::PC_HOOK_SYSCALL }>,
    rule_hits: Counter,
    denials: Counter,
    umh_checked: Counter,
    /// Container opens examined on the locked path (status `open_checked`
    /// is these plus `open_cached`: one counter update per cached open).
    open_locked: sys::PcpuCounter<{ sys::PC_OPEN_LOCKED }>,
    open_judged: sys::PcpuCounter<{ sys::PC_OPEN_JUDGED }>,
    open_cached: sys::PcpuCounter<{ sys::PC_OPEN_CACHED }>,
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
    presets: Presets,
    #[pin]
    policy: SpinLock<Policy>,
    #[pin]
    origins: SpinLock<Origins>,
    /// The open hook's lock-free state: the container filter, the clean
    /// verdicts of container tasks (written under the table lock) and the
    /// policy's file-access mask (written under the policy lock).
    fast: sys::OpenFast,
}

/// Which hook saw a task.
#[derive(Clone, Copy, PartialEq)]
enum Hook {
    Fork,
    Exec,
}

impl State {
    /// Counts a task the table had to leave untracked (`counter` says
    /// why). Such a task has no bit in the open hook's host filter, so its
    /// opens come to `on_open`, where it is judged by its parent's entry or
    /// its own namespaces and root: untracked is not host.
    fn untracked(&self, counter: &Counter) {
        counter.inc();
    }

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
            // Settled at an exec, or if its hooks found it settled before
            // (the bit they keep for tracked and untracked tasks alike): a
            // runtime's untracked child is not settled before it execs.
            None => {
                let l = if contained {
                    let settled = hook == Hook::Exec || self.fast.settled(i.pid);
                    Lineage::Container(Origin::from_info(i, settled))
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
            Some(Lineage::Container(o)) => (Lineage::Container(o), verdict::judge(&self.base, &o, i)),
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
        let x = Extra {
            target: what,
            ..Default::default()
        };
        self.emit(hook, abi::ESCGUARD_REASON_TAMPER, &Escape::default(), &i, lin.as_ref(), t, None, kill, &x);
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

    /// Drops the reference taken by `lock`, if held; whether it was.
    fn unlock(&self) -> bool {
        if self.locked.compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            // SAFETY: `locked` was true, so `lock` holds a reference, and
            // clearing it made that reference ours to drop.
            unsafe { sys::module_unlock() };
            return true;
        }
        false
    }

    /// Records `i` with `lineage`; allocates (without sleeping) only if the
    /// task has no node yet.
    fn record(&self, i: &sys::KInfo, lineage: Lineage, reported: bool, tracked: bool) {
        self.record_keyed(i, lineage, reported, tracked, None)
    }

    /// `record`, and if `key` is given (read by the task itself before
    /// `i`) and the entry stored is clean (settled container lineage, not
    /// reported; the caller found no escape in `i`), caches that verdict
    /// for the task's opens.
    fn record_keyed(&self, i: &sys::KInfo, lineage: Lineage, reported: bool, tracked: bool, key: Option<&sys::OpenKey>) {
        // Kept whether or not the table can hold the task: what settles an
        // untracked task (see `untracked_origin`).
        self.fast.set_settled(i.pid, matches!(lineage, Lineage::Container(o) if o.settled));
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
                if o.settled && k.task == i.task_id {
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
            // At the cap: the task stays untracked (see `fallback`).
            Err(StoreError::Full(spare)) => {
                self.untracked(&self.c.table_full);
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
        x: &Extra<'_>,
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
            self.emit(hook, esc.reason(), esc, i, Some(lineage), task, file, kill, x);
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
        x: &Extra<'_>,
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
        let n = x.target.len().min(ev.target.len() - 1);
        ev.target[..n].copy_from_slice(&x.target[..n]);
        let n = x.rule.len().min(ev.rule.len() - 1);
        bytes::bytes_of_mut(&mut ev.rule)[..n].copy_from_slice(&x.rule[..n]);
        ev.rule_id = x.rule_id;
        ev.syscall = x.syscall;
        if x.denied {
            ev.flags |= abi::ESCGUARD_EVF_DENIED;
        }
        let e = &mut *ev;
        if !x.light {
            task.paths(file, &mut e.root_path, &mut e.cwd_path, &mut e.exe);
        }
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
        let (policy_rules, policy_loaded_ns) = {
            let p = self.policy.lock();
            (p.rules.len() as u32, p.loaded_ns)
        };
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
            hook_open: self.c.hook_open.get(),
            hook_ns_open: hook_ns[4],
            hook_syscall: self.c.hook_syscall.get(),
            hook_ns_syscall: hook_ns[5],
            rule_hits: self.c.rule_hits.get(),
            denials: self.c.denials.get(),
            umh_checked: self.c.umh_checked.get(),
            open_checked: self.c.open_locked.get() + self.c.open_cached.get(),
            open_judged: self.c.open_judged.get(),
            open_cached: self.c.open_cached.get(),
            rules_enabled: self.presets.mask(),
            policy_rules,
            policy_loaded_ns,
            ..Default::default()
        }
    }

    fn set_mode(&self, task: sys::TaskRef<'_>, arg: usize) -> Result<isize> {
        let mode: u32 = UserSlice::new(arg, size_of::<u32>()).reader().read()?;
        if mode != abi::ESCGUARD_MODE_MONITOR && mode != abi::ESCGUARD_MODE_ENFORCE {
            return Err(EINVAL);
        }
        let old = self.mode.swap(mode, Ordering::Relaxed);
        if old != mode {
            let enforce = mode == abi::ESCGUARD_MODE_ENFORCE;
            pr_notice!("mode {}\n", if enforce { "enforce" } else { "monitor" });
            if !enforce {
                self.config_event(task, b"mode monitor");
            }
        }
        Ok(0)
    }

    /// Reports a change by the host admin that weakens escguard (monitor
    /// mode, unlock, a rule switched off, a policy replaced), so that
    /// disarming is visible in the event stream, not only in the kernel log.
    fn config_event(&self, task: sys::TaskRef<'_>, what: &[u8]) {
        let i = task.info(&self.base.refs(None));
        let x = Extra {
            target: what,
            ..Default::default()
        };
        self.emit(abi::ESCGUARD_HOOK_DEVICE, abi::ESCGUARD_REASON_CONFIG, &Escape::default(), &i, None, task, None, false, &x);
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

    /// The origin `t` (the calling task) is judged by if it is a task of
    /// settled container lineage: its own entry, or for an untracked task
    /// its tracked parent's, or else -- untracked is not host -- its own
    /// namespaces and root if they look contained (then they are taken as
    /// its origin). Also whether its escape was reported, and whether it has
    /// its own entry. Neither counts nor takes task_lock: called by the
    /// observation points, and under a task_lock by the ptrace hook.
    fn contained(&self, t: sys::TaskRef<'_>) -> Option<(Origin, bool, bool)> {
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
        (self.fast.settled(own.pid) && self.base.looks_contained(&own))
            .then(|| (Origin::from_info(&own, true), false, false))
    }

    /// Whether `target` is a host task for a container task reaching into
    /// it: its entry is of host lineage, or it is untracked and does not
    /// look contained. Takes `target`'s task_lock (not for hooks that hold
    /// one).
    fn host_task(&self, target: sys::TaskRef<'_>) -> bool {
        match self.lineage_of(target) {
            Some((Lineage::Host, _)) => true,
            Some((Lineage::Container(_), _)) => false,
            // Untracked: host only if it has namespaces and a root to tell
            // by. An exiting task (its entry gone, its namespaces dropped)
            // is unknown, not host: a runtime signalling its dying child.
            None => {
                let i = target.info(&self.base.refs(None));
                i.has_ns != 0 && i.has_fs != 0 && i.kthread == 0 && !self.base.looks_contained(&i)
            }
        }
    }

    /// An escape found at file open (`esc`: by the task itself, or by the
    /// object it opens): recorded as reported, reported once, and in
    /// enforce mode the open fails and the task is killed before it has a
    /// descriptor. Returns what the open returns.
    #[allow(clippy::too_many_arguments)]
    fn refuse_open(
        &self,
        esc: &Escape,
        i: &sys::KInfo,
        lin: Lineage,
        rep: bool,
        tracked: bool,
        task: sys::TaskRef<'_>,
        file: sys::FileRef<'_>,
    ) -> i32 {
        if !rep {
            self.record(i, lin, true, tracked);
        }
        let mut path = [0u8; PATH_LEN];
        file.path(&mut path);
        let x = Extra {
            target: until_nul(&path),
            denied: self.enforcing(),
            ..Default::default()
        };
        self.act(abi::ESCGUARD_HOOK_OPEN, esc, i, &lin, task, None, None, rep, &x);
        if self.enforcing() {
            self.c.denials.inc();
            return EPERM.to_errno();
        }
        0
    }

    /// A rule matched: count, kill in enforce mode, report. Returns what the
    /// hooked call should return (`-EPERM` when it is refused).
    #[allow(clippy::too_many_arguments)]
    fn rule_hit(
        &self,
        hook: u32,
        reason: u32,
        i: &sys::KInfo,
        lineage: Option<&Lineage>,
        task: sys::TaskRef<'_>,
        file: Option<sys::FileRef<'_>>,
        x: Extra<'_>,
    ) -> i32 {
        self.c.rule_hits.inc();
        let kill = self.enforcing();
        if kill {
            task.kill();
            self.c.kills.inc();
            self.c.denials.inc();
        }
        let x = Extra { denied: kill, ..x };
        self.emit(hook, reason, &Escape::default(), i, lineage, task, file, kill, &x);
        if kill {
            EPERM.to_errno()
        } else {
            0
        }
    }

    /// A preset matched for a container task: `rule_hit` if it is enabled.
    fn preset_hit(&self, hook: u32, id: u32, o: &Origin, task: sys::TaskRef<'_>, i: &sys::KInfo, x: Extra<'_>) -> i32 {
        if !self.presets.on(id) {
            return 0;
        }
        self.presets.hit(id);
        let lin = Lineage::Container(*o);
        let x = Extra {
            rule_id: id,
            rule: PRESET_NAMES[id as usize],
            ..x
        };
        self.rule_hit(hook, abi::ESCGUARD_REASON_RULE, i, Some(&lin), task, None, x)
    }

    /// Host-context execution planted by a container: `task`, in host
    /// context (a usermode helper the kernel started, or any task whose own
    /// namespaces and root are not a container's), is about to exec `file`
    /// -- a program, a script's interpreter, a binfmt_misc handler's
    /// interpreter. If that file lives in a container's filesystem (on a
    /// mount of a mount namespace neither the host's nor the task's own,
    /// such as `/proc/<pid>/root/...` of a container task or a file a
    /// container opened for a binfmt_misc `F` handler, or below a recorded
    /// container root), the exec fails before any of it runs. A task of
    /// settled container lineage is not judged here: its execs are opens
    /// the open hook judges. Returns the exec's verdict.
    fn planted_exec(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>, umh: bool) -> i32 {
        let id = if umh {
            abi::ESCGUARD_RULE_USERMODE_HELPER
        } else {
            abi::ESCGUARD_RULE_PLANTED_EXEC
        };
        if !self.presets.on(id) {
            return 0;
        }
        let own = sys::current_facts();
        if !umh {
            // A runtime or `runc exec` entering a container runs the
            // container's programs by design.
            if self.base.looks_contained(&own) {
                return 0;
            }
            if let Some((Lineage::Container(o), _)) = self.lineage_of(task) {
                if o.settled {
                    return 0;
                }
            }
        }
        self.c.umh_checked.inc();
        let mnt = abi::ESCGUARD_NS_MNT as usize;
        let f = file.facts();
        let planted = if f.mnt_ns != 0 && f.host_mnt_ns == 0 && f.mnt_ns != own.ns[mnt] {
            Some(self.origins.lock().by_mnt_ns(f.mnt_ns))
        } else if self.origins.lock().any_on(f.dev) {
            // Below a recorded container root, however deep.
            let idx = self.origins.lock();
            file.find_ancestor(|a| idx.by_root(a).is_some()).map(|a| idx.by_root(&a))
        } else {
            None
        };
        let Some(origin) = planted else {
            return 0;
        };
        self.presets.hit(id);
        let i = task.info(&self.base.refs(None));
        let lin = origin.map(Lineage::Container);
        let mut path = [0u8; PATH_LEN];
        file.path(&mut path);
        let x = Extra {
            target: until_nul(&path),
            rule_id: id,
            rule: PRESET_NAMES[id as usize],
            ..Default::default()
        };
        let reason = if umh {
            abi::ESCGUARD_REASON_USERMODE_HELPER
        } else {
            abi::ESCGUARD_REASON_HOST_EXEC
        };
        self.rule_hit(abi::ESCGUARD_HOOK_EXEC, reason, &i, lin.as_ref(), task, Some(file), x)
    }

    /// ESCGUARD_IOC_RULES.
    fn list_rules(&self, arg: usize) -> Result<isize> {
        let hdr_len = size_of::<abi::escguard_rule_list>();
        let mut req: abi::escguard_rule_list = UserSlice::new(arg, hdr_len).reader().read()?;
        if req.capacity == 0 || req.capacity > abi::ESCGUARD_RULES_MAX {
            return Err(EINVAL);
        }
        let mut out = KVec::with_capacity(abi::ESCGUARD_RULES_MAX as usize, GFP_KERNEL)?;
        for (id, name) in PRESET_NAMES.iter().enumerate() {
            let mut r = abi::escguard_rule_info {
                id: id as u32,
                enabled: self.presets.on(id as u32) as u32,
                hits: self.presets.hits(id),
                ..Default::default()
            };
            bytes::bytes_of_mut(&mut r.name)[..name.len()].copy_from_slice(name);
            out.push(r, GFP_KERNEL)?;
        }
        {
            let pol = self.policy.lock();
            for pr in pol.rules.iter() {
                let mut r = abi::escguard_rule_info {
                    id: abi::ESCGUARD_RULE_POLICY,
                    enabled: pr.enabled() as u32,
                    hits: pr.hits,
                    ..Default::default()
                };
                r.name = pr.raw.name;
                // Capacity reserved above: never allocates under the lock.
                out.push(r, GFP_NOWAIT)?;
            }
        }
        let n = out.len().min(req.capacity as usize);
        let rec = size_of::<abi::escguard_rule_info>();
        let mut w = UserSlice::new(req.rules as usize, n * rec).writer();
        for r in out.iter().take(n) {
            w.write(r)?;
        }
        req.count = n as u32;
        UserSlice::new(arg, hdr_len).writer().write(&req)?;
        Ok(0)
    }

    /// ESCGUARD_IOC_SET_RULE.
    fn set_rule(&self, task: sys::TaskRef<'_>, arg: usize) -> Result<isize> {
        let sw: abi::escguard_rule_switch =
            UserSlice::new(arg, size_of::<abi::escguard_rule_switch>()).reader().read()?;
        let raw = bytes::bytes_of(&sw.name);
        let name = until_nul(raw);
        if sw.enable > 1 || sw.pad != 0 || name.len() == raw.len() || name.is_empty() {
            return Err(EINVAL);
        }
        let on = sw.enable == 1;
        if let Some(id) = Presets::find(name) {
            self.presets.set(id, on);
        } else {
            let mut pol = self.policy.lock();
            let r = pol.find_mut(name).ok_or(ENOENT)?;
            r.raw.enabled = on as u32;
            pol.refresh();
            self.fast.set_file_access(pol.file_access);
        }
        let shown = core::str::from_utf8(name).unwrap_or("?");
        pr_notice!("rule {} {}\n", shown, if on { "enabled" } else { "disabled" });
        if !on {
            let mut buf = [0u8; 64];
            let mut w = BufWriter::new(&mut buf);
            w.bytes(b"rule disabled: ");
            w.bytes(name);
            self.config_event(task, w.done());
        }
        Ok(0)
    }

    /// ESCGUARD_IOC_SET_POLICY: validated in full before it replaces the
    /// active policy, so a bad one changes nothing.
    fn set_policy(&self, task: sys::TaskRef<'_>, arg: usize) -> Result<isize> {
        let new = Policy::from_user(arg, sys::now_ns())?;
        let (rules, sockets) = (new.rules.len(), new.sockets.len());
        let old = {
            let mut pol = self.policy.lock();
            self.fast.set_file_access(new.file_access);
            core::mem::replace(&mut *pol, new)
        };
        // Freed outside the lock.
        drop(old);
        pr_notice!("policy loaded: {} rules, {} runtime sockets\n", rules, sockets);
        self.config_event(task, b"policy loaded");
        Ok(0)
    }

    /// ESCGUARD_IOC_GET_POLICY.
    fn get_policy(&self, arg: usize) -> Result<isize> {
        let hdr_len = size_of::<abi::escguard_policy>();
        let req: abi::escguard_policy = UserSlice::new(arg, hdr_len).reader().read()?;
        let cap = req.rule_count as usize;
        if cap > abi::ESCGUARD_POLICY_RULES_MAX as usize {
            return Err(EINVAL);
        }
        let mut rules = KVVec::with_capacity(abi::ESCGUARD_POLICY_RULES_MAX as usize, GFP_KERNEL)?;
        let hdr = {
            let pol = self.policy.lock();
            for r in pol.rules.iter() {
                // Capacity reserved above: never allocates under the lock.
                rules.push(r.raw, GFP_NOWAIT)?;
            }
            pol.header(req.rules)
        };
        let n = rules.len().min(cap);
        let rec = size_of::<abi::escguard_policy_rule>();
        let mut w = UserSlice::new(req.rules as usize, n * rec).writer();
        for r in rules.iter().take(n) {
            w.write(r)?;
        }
        UserSlice::new(arg, hdr_len).writer().write(&hdr)?;
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
            let contained = self.base.looks_contained(&i);
            self.fast.set_settled(i.pid, contained);
            let lineage = if contained {
                let o = Origin::from_info(&i, true);
                self.origins.lock().note(&o, &self.base);
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

impl sys::DeviceOps for State {
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
            | abi::ESCGUARD_IOCTL_ACK
            | abi::ESCGUARD_IOCTL_RULES
            | abi::ESCGUARD_IOCTL_GET_POLICY => (sys::ACCESS_READ, false),
            abi::ESCGUARD_IOCTL_TASKS => (sys::ACCESS_ADMIN, false),
            abi::ESCGUARD_IOCTL_SET_MODE
            | abi::ESCGUARD_IOCTL_LOCK
            | abi::ESCGUARD_IOCTL_SET_RULE
            | abi::ESCGUARD_IOCTL_SET_POLICY => (sys::ACCESS_ADMIN, true),
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
            abi::ESCGUARD_IOCTL_SET_MODE => self.set_mode(task, arg),
            abi::ESCGUARD_IOCTL_TASKS => self.list_tasks(arg),
            abi::ESCGUARD_IOCTL_RULES => self.list_rules(arg),
            abi::ESCGUARD_IOCTL_SET_RULE => self.set_rule(task, arg),
            abi::ESCGUARD_IOCTL_SET_POLICY => self.set_policy(task, arg),
            abi::ESCGUARD_IOCTL_GET_POLICY => self.get_policy(arg),
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
                    if self.unlock() {
                        pr_notice!("unlocked by the host admin; rmmod now allowed\n");
                        self.config_event(task, b"unlock");
                    }
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
                self.act(abi::ESCGUARD_HOOK_FORK, &pesc, &pi, &plin, parent, None, Some(child), prep, &Extra::default());
            }
            (plin, pesc)
        };

        // The child inherits the lineage; a host task that cloned into new
        // namespaces made a container task (a runtime at work).
        let ci = child.info(&self.base.refs(Some(&plin)));
        let (clin, cesc) = match plin {
            Lineage::Container(o) if o.settled => (plin, verdict::judge(&self.base, &o, &ci)),
            Lineage::Container(_) => (plin, Escape::default()),
            Lineage::Host if self.base.looks_contained(&ci) => {
                (Lineage::Container(Origin::from_info(&ci, false)), Escape::default())
            }
            Lineage::Host => (Lineage::Host, Escape::default()),
        };
        // The parent's event covers a child born of an escaped parent, and
        // of one whose escape was reported before: one event per escape.
        self.record(&ci, clin, prep || pesc.any() || cesc.any(), false);

        if !pesc.any() && cesc.any() {
            // Born outside (e.g. into the host pid namespace after setns).
            self.act(abi::ESCGUARD_HOOK_FORK, &cesc, &ci, &clin, child, None, None, false, &Extra::default());
        }
    }

    fn on_exec(&self, task: sys::TaskRef<'_>, file: Option<sys::FileRef<'_>>) {
        self.c.hook_exec.inc();
        // A non-leader thread that exec'd now has its leader's pid: move
        // its entry (lineage and origin) to that pid before looking it up.
        if let Some(old) = self.tid_swaps.take(task.id()) {
            self.table.lock().rekey(old, task.pid(), task.id(), &self.fast);
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
                    let host = verdict::object_on_host(&self.base, &o, d.classify(&refs));
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
            self.act(abi::ESCGUARD_HOOK_EXEC, &esc, &i, &lineage, task, file, None, rep, &x);
        }
        // Remember a newly settled container, to attribute programs it
        // plants for usermode helpers.
        let was_settled = matches!(lin, Some(Lineage::Container(o)) if o.settled);
        if let Lineage::Container(o) = lineage {
            if o.settled && !was_settled {
                self.origins.lock().note(&o, &self.base);
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
            (t.remove(task.pid(), task.id(), &self.fast), old.and_then(|p| t.remove(p, task.id(), &self.fast)))
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
        // would look. It dies before it returns to user space.
        let Some((o, rep, tracked)) = self.contained(task) else {
            return;
        };
        if rep {
            return;
        }
        let esc = verdict::judge(&self.base, &o, i);
        if esc.ns_mask == 0 {
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
        self.act(abi::ESCGUARD_HOOK_SYSCALL, &esc, i, &lin, task, None, None, false, &x);
    }
}

impl sys::OpenHooks for State {
    fn on_open(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>) -> i32 {
        // Counted by the C hook (`hook_open`, `open_cached`), which answered
        // tracked host tasks and clean cached verdicts itself. The key first:
        // a change after it makes the key stale, never a cached verdict wrong.
        let key = &sys::current_open_key();
        // The task's facts need no lock either, and one table lookup
        // finds its lineage and whether anything changed since its last
        // verdict (if not, the verdict is cached for the next open).
        let quick = sys::current_facts();
        let looked = {
            let t = self.table.lock();
            let l = t.open_lookup(quick.pid, quick.task_id, &quick);
            if let Some((Lineage::Container(o), false, true)) = l {
                if o.settled && key.task == quick.task_id {
                    self.fast.cache_fill(key);
                }
            }
            l
        };
        let (o, rep, tracked, unchanged) = match looked {
            Some((Lineage::Container(o), rep, unchanged)) if o.settled => (o, rep, true, unchanged),
            Some(_) => return 0,
            // Untracked (table at its cap, or a failed allocation): judged
            // by its parent's settled container lineage, or else by its own
            // namespaces and root -- untracked is not host.
            None => match self.contained(task) {
                Some((o, rep, tracked)) => (o, rep, tracked, false),
                None => return 0,
            },
        };
        let lin = Lineage::Container(o);
        self.c.open_locked.inc();

        // The detection core's verdict: an escaped task that reads host
        // files without forking or exec'ing is stopped here, before the
        // open returns a descriptor. If its namespaces, root and cwd are
        // those recorded at its last hooked call, the verdict is the one
        // made then (no escape): the cheap facts decide, without the
        // dentry walks. Otherwise the full verdict, and the entry is
        // brought up to date so that the next open is cheap again.
        let full = if unchanged {
            None
        } else {
            self.c.open_judged.inc();
            let i = task.info(&self.base.refs(Some(&lin)));
            let esc = verdict::judge(&self.base, &o, &i);
            if esc.any() {
                return self.refuse_open(&esc, &i, lin, rep, tracked, task, file);
            }
            if tracked {
                // No escape: the verdict on these facts is cached, under
                // the key read before them.
                self.record_keyed(&i, lin, rep, true, Some(key));
            }
            Some(i)
        };
        // What an event reports about the task: the full information (the
        // quick facts lack ppid, uid and comm), read only when a rule hits.
        let info = |full: Option<sys::KInfo>| full.unwrap_or_else(|| task.info(&self.base.refs(Some(&lin))));

        // Judge the object, not only the subject: the task is unchanged,
        // but what it opens may live on the host (a path through a host
        // task's /proc/<pid>/root, cwd or fd, a leaked host directory). A
        // regular file it already holds a descriptor on (a log file the
        // host handed it, reopened through /proc/self/fd) is its own.
        let f = file.facts();
        if !rep && (f.host_mnt_ns != 0 || f.dev == self.base.root.dev) {
            let flags = file.classify(&self.base.refs(Some(&lin)));
            let dir = f.mode & S_IFMT == S_IFDIR;
            if verdict::object_on_host(&self.base, &o, flags) && (dir || !file.held_by_current()) {
                let esc = Escape {
                    object: true,
                    ..Default::default()
                };
                return self.refuse_open(&esc, &info(full), lin, rep, tracked, task, file);
            }
        }

        // Preset rules on the kernel's host-wide knobs. (Path buffers are
        // made only where needed: zeroing one on every open is measurable.)
        if f.fmode & abi::ESCGUARD_PF_WRITE != 0 && sys::magic_may_be_sensitive(f.magic) {
            let mut path = [0u8; PATH_LEN];
            file.sb_path(&mut path);
            if let Some(id) = presets::sensitive_write(&f, until_nul(&path)) {
                file.path(&mut path);
                let x = Extra {
                    target: until_nul(&path),
                    ..Default::default()
                };
                return self.preset_hit(abi::ESCGUARD_HOOK_OPEN, id, &o, task, &info(full), x);
            }
        }

        // The policy's file rules. The path is rendered only if some
        // enabled rule could match this open's mode (checked first without
        // the lock; the mirror is updated under it).
        if self.fast.file_access() & f.fmode == 0 {
            return 0;
        }
        let mut path = [0u8; PATH_LEN];
        let mut name = [0u8; abi::ESCGUARD_NAME_LEN as usize];
        {
            let mut pol = self.policy.lock();
            if pol.file_access & f.fmode == 0 {
                return 0;
            }
            file.path(&mut path);
            let p = until_nul(&path);
            let Some(r) = pol.rules.iter_mut().find(|r| {
                r.enabled()
                    && r.raw.kind == abi::ESCGUARD_PRULE_FILE
                    && r.raw.flags & f.fmode != 0
                    && policy::path_matches(r.raw.match_, r.pattern(), p)
            }) else {
                return 0;
            };
            r.hits += 1;
            name.copy_from_slice(bytes::bytes_of(&r.raw.name));
        }
        let x = Extra {
            target: until_nul(&path),
            rule_id: abi::ESCGUARD_RULE_POLICY,
            rule: until_nul(&name),
            ..Default::default()
        };
        self.rule_hit(abi::ESCGUARD_HOOK_OPEN, abi::ESCGUARD_REASON_RULE, &info(full), Some(&lin), task, None, x)
    }

    fn on_bdev_open(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>, held_by_fs: bool) -> i32 {
        self.c.hook_syscall.inc();
        if !held_by_fs {
            return 0;
        }
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut path = [0u8; PATH_LEN];
        file.path(&mut path);
        let x = Extra {
            target: until_nul(&path),
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_OPEN, abi::ESCGUARD_RULE_HOST_BLOCK_DEVICE, &o, task, &i, x)
    }

    fn on_kernel_memory(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut path = [0u8; PATH_LEN];
        file.path(&mut path);
        let x = Extra {
            target: until_nul(&path),
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_OPEN, abi::ESCGUARD_RULE_KERNEL_MEMORY, &o, task, &i, x)
    }
}

impl sys::CheckHooks for State {
    fn on_unload(&self, task: sys::TaskRef<'_>, name: &CStr) -> i32 {
        self.c.hook_unload.inc();
        if self.untrusted(task) {
            // Locked again before delete_module looks at the reference
            // count, so unloading escguard fails even if the admin had
            // unlocked -- whatever name we read: the kernel copies the name
            // again after us, and a racing thread may have changed it.
            self.lock();
            if name.as_bytes() == b"escguard" {
                self.tamper(abi::ESCGUARD_HOOK_UNLOAD, task, b"delete_module escguard");
                return 0;
            }
        }
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut buf = [0u8; 80];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(b"delete_module ");
        w.bytes(name.as_bytes());
        let x = Extra {
            target: w.done(),
            syscall: abi::ESCGUARD_SYS_DELETE_MODULE,
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_SYSCALL, abi::ESCGUARD_RULE_KERNEL_MODULE, &o, task, &i, x)
    }

    fn on_new_sb(&self, task: sys::TaskRef<'_>, sb: &sys::SbFacts) -> i32 {
        self.c.hook_syscall.inc();
        let net = abi::ESCGUARD_NS_NET as usize;
        let host_net = sys::current_facts().ns[net] == self.base.ns[net];
        let id = if presets::sensitive_fs(sb, self.base.ns[abi::ESCGUARD_NS_PID as usize], host_net) {
            abi::ESCGUARD_RULE_SENSITIVE_MOUNT
        } else if sb.bdev != 0 && sb.reused != 0 {
            abi::ESCGUARD_RULE_BLOCK_DEVICE_MOUNT
        } else {
            return 0;
        };
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut buf = [0u8; 96];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(until_nul(bytes::bytes_of(&sb.fstype)));
        if sb.bdev != 0 {
            let _ = core::fmt::Write::write_fmt(&mut w, format_args!(" on device {}:{}", (sb.dev >> 8) & 0xfff, (sb.dev & 0xff) | ((sb.dev >> 12) & 0xfff00)));
        }
        let x = Extra {
            target: w.done(),
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_MOUNT, id, &o, task, &i, x)
    }

    fn on_mount(&self, task: sys::TaskRef<'_>, sys: u32, source: &CStr, target: &CStr, fstype: &CStr) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let mut name = [0u8; abi::ESCGUARD_NAME_LEN as usize];
        {
            let mut pol = self.policy.lock();
            if !pol.mount_rules {
                return 0;
            }
            let Some(r) = pol.rules.iter_mut().find(|r| {
                let field = match r.raw.flags {
                    abi::ESCGUARD_PF_SOURCE => source.as_bytes(),
                    abi::ESCGUARD_PF_TARGET => target.as_bytes(),
                    _ => fstype.as_bytes(),
                };
                r.enabled()
                    && r.raw.kind == abi::ESCGUARD_PRULE_MOUNT
                    && policy::path_matches(r.raw.match_, r.pattern(), field)
            }) else {
                return 0;
            };
            r.hits += 1;
            name.copy_from_slice(bytes::bytes_of(&r.raw.name));
        }
        let i = task.info(&self.base.refs(None));
        let mut buf = [0u8; PATH_LEN];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(source.as_bytes());
        w.bytes(b" on ");
        w.bytes(target.as_bytes());
        w.bytes(b" type ");
        w.bytes(fstype.as_bytes());
        let lin = Lineage::Container(o);
        let x = Extra {
            target: w.done(),
            rule_id: abi::ESCGUARD_RULE_POLICY,
            rule: until_nul(&name),
            syscall: sys,
            ..Default::default()
        };
        self.rule_hit(abi::ESCGUARD_HOOK_MOUNT, abi::ESCGUARD_REASON_RULE, &i, Some(&lin), task, None, x)
    }

    fn on_ptrace(&self, task: sys::TaskRef<'_>, child: sys::TaskRef<'_>) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        // Only a tracked host task is protected here: an untracked target
        // cannot be classified without its task_lock, which is held.
        if !matches!(self.lineage_of(child), Some((Lineage::Host, _))) {
            return 0;
        }
        let i = task.info_light();
        let c = child.info_light();
        let mut buf = [0u8; 64];
        let mut w = BufWriter::new(&mut buf);
        let _ = core::fmt::Write::write_fmt(&mut w, format_args!("pid {} ", c.pid));
        w.bytes(until_nul(bytes::bytes_of(&c.comm)));
        let x = Extra {
            target: w.done(),
            syscall: abi::ESCGUARD_SYS_PTRACE,
            light: true,
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_PTRACE, abi::ESCGUARD_RULE_PTRACE_HOST, &o, task, &i, x)
    }

    fn on_bprm_check(&self, task: sys::TaskRef<'_>, file: sys::FileRef<'_>, umh: bool) -> i32 {
        self.c.hook_syscall.inc();
        self.planted_exec(task, file, umh)
    }

    fn on_proc_link(&self, task: sys::TaskRef<'_>, target: sys::TaskRef<'_>, path: &CStr) -> i32 {
        self.c.hook_syscall.inc();
        // Judge the path of access: a container task walking through a
        // host task's root, cwd, exe or descriptors reaches host objects
        // whatever they are (a host shell's pipe, a service's private
        // tmpfs), and whatever it then does with them (open, unlink,
        // chmod). Its own tasks', and other containers', stay open to it.
        let Some((o, rep, tracked)) = self.contained(task) else {
            return 0;
        };
        if target.info_light().tgid == task.info_light().tgid || !self.host_task(target) {
            return 0;
        }
        let lin = Lineage::Container(o);
        let i = task.info(&self.base.refs(Some(&lin)));
        let c = target.info_light();
        let mut buf = [0u8; PATH_LEN];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(b"/proc");
        w.bytes(path.as_bytes());
        w.bytes(b" of host task ");
        w.bytes(until_nul(bytes::bytes_of(&c.comm)));
        let esc = Escape {
            object: true,
            ..Default::default()
        };
        if !rep {
            self.record(&i, lin, true, tracked);
        }
        let x = Extra {
            target: w.done(),
            denied: self.enforcing(),
            ..Default::default()
        };
        self.act(abi::ESCGUARD_HOOK_OPEN, &esc, &i, &lin, task, None, None, rep, &x);
        if self.enforcing() {
            self.c.denials.inc();
            return EPERM.to_errno();
        }
        0
    }

    fn on_signal(&self, task: sys::TaskRef<'_>, target: Option<sys::TaskRef<'_>>, sig: i32) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let pid = abi::ESCGUARD_NS_PID as usize;
        let mut buf = [0u8; 64];
        let mut w = BufWriter::new(&mut buf);
        match target {
            // kill(-1): every task the caller may signal, the host's own when
            // it shares the host's pid namespace.
            None if o.ns[pid] == self.base.ns[pid] => {
                let _ = core::fmt::Write::write_fmt(&mut w, format_args!("signal {} to every task", sig));
            }
            None => return 0,
            Some(t) => {
                let c = t.info_light();
                if c.tgid == task.info_light().tgid || !self.host_task(t) {
                    return 0;
                }
                let _ = core::fmt::Write::write_fmt(&mut w, format_args!("signal {} to pid {} ", sig, c.pid));
                w.bytes(until_nul(bytes::bytes_of(&c.comm)));
            }
        }
        let i = task.info(&self.base.refs(None));
        let x = Extra {
            target: w.done(),
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_SYSCALL, abi::ESCGUARD_RULE_SIGNAL_HOST, &o, task, &i, x)
    }

    fn on_environ(&self, task: sys::TaskRef<'_>, target: sys::TaskRef<'_>) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        if target.info_light().tgid == task.info_light().tgid || !self.host_task(target) {
            return 0;
        }
        let i = task.info(&self.base.refs(None));
        let c = target.info_light();
        let mut buf = [0u8; 64];
        let mut w = BufWriter::new(&mut buf);
        let _ = core::fmt::Write::write_fmt(&mut w, format_args!("environ of pid {} ", c.pid));
        w.bytes(until_nul(bytes::bytes_of(&c.comm)));
        let x = Extra {
            target: w.done(),
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_PTRACE, abi::ESCGUARD_RULE_PTRACE_HOST, &o, task, &i, x)
    }

    fn on_connect(&self, task: sys::TaskRef<'_>, path: &CStr) -> i32 {
        self.c.hook_syscall.inc();
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        if !self.policy.lock().is_runtime_socket(path.as_bytes()) {
            return 0;
        }
        let i = task.info(&self.base.refs(None));
        let x = Extra {
            target: path.as_bytes(),
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_CONNECT, abi::ESCGUARD_RULE_RUNTIME_SOCKET, &o, task, &i, x)
    }

    fn on_syscall(&self, task: sys::TaskRef<'_>, sys: u32, arg: &CStr) -> i32 {
        self.c.hook_syscall.inc();
        // The caller is about to replace its nsproxy, credentials, fs_struct
        // or root: its cached open verdict goes first, so that the cache
        // never compares against a freed object's reused address.
        // open_by_handle_at's open may yield a dentry outside every mount
        // of the task's (disconnected): its open is judged in full.
        if matches!(
            sys,
            abi::ESCGUARD_SYS_SETNS
                | abi::ESCGUARD_SYS_UNSHARE
                | abi::ESCGUARD_SYS_PIVOT_ROOT
                | abi::ESCGUARD_SYS_CHROOT
                | abi::ESCGUARD_SYS_OPEN_BY_HANDLE_AT
        )
            && !self.fast.known_host(task.pid())
        {
            let _t = self.table.lock();
            self.fast.cache_clear(task.id());
        }
        let id = match sys {
            abi::ESCGUARD_SYS_OPEN_BY_HANDLE_AT => abi::ESCGUARD_RULE_OPEN_BY_HANDLE,
            abi::ESCGUARD_SYS_INIT_MODULE | abi::ESCGUARD_SYS_FINIT_MODULE => abi::ESCGUARD_RULE_KERNEL_MODULE,
            // Observed only: their effect is judged by the escape verdict
            // at the task's next open, fork or exec, and by the mount hooks.
            _ => return 0,
        };
        let Some((o, _, _)) = self.contained(task) else {
            return 0;
        };
        let i = task.info(&self.base.refs(None));
        let mut buf = [0u8; PATH_LEN];
        let mut w = BufWriter::new(&mut buf);
        w.bytes(syscall_name(sys));
        if !arg.as_bytes().is_empty() {
            w.bytes(b" ");
            w.bytes(arg.as_bytes());
        }
        let x = Extra {
            target: w.done(),
            syscall: sys,
            ..Default::default()
        };
        self.preset_hit(abi::ESCGUARD_HOOK_SYSCALL, id, &o, task, &i, x)
    }
}


sys::callbacks!(State);

struct Escguard {
    reg: sys::Registration<State>,
}

impl kernel::Module for Escguard {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if sys::kernel_preempt_rt() {
            // Hooks run in atomic context and take spinlocks, which sleep
            // on PREEMPT_RT.
            pr_err!("PREEMPT_RT kernels are not supported; not loading\n");
            return Err(Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32)));
        }
        let p = sys::params();
        if !MAX_TASKS_RANGE.contains(&p.max_tasks) {
            pr_err!(
                "max_tasks={} is outside {}..={}\n",
                p.max_tasks,
                MAX_TASKS_RANGE.start(),
                MAX_TASKS_RANGE.end()
            );
            return Err(EINVAL);
        }
        if !RING_EVENTS_RANGE.contains(&p.ring_events) {
            pr_err!(
                "ring_events={} is outside {}..={}\n",
                p.ring_events,
                RING_EVENTS_RANGE.start(),
                RING_EVENTS_RANGE.end()
            );
            return Err(EINVAL);
        }
        let base = Baseline::from_info(&sys::baseline()?);
        let ring = events::Ring::new(p.ring_events as usize)?;
        let policy = Policy::defaults()?;
        let fast = sys::OpenFast::new()?;
        let origins = Origins::new()?;
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
                presets: Presets::new(),
                policy <- new_spinlock!(policy, "escguard_policy"),
                origins <- new_spinlock!(origins, "escguard_origins"),
                fast,
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
