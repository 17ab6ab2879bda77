// SPDX-License-Identifier: GPL-2.0

//! The bindings layer: safe types over the kernel objects escguard reads
//! (tasks in `sys/task.rs`, files and paths in `sys/vfs.rs`), the hooks'
//! entries (`sys/hooks.rs`), the open hook's fast path (`sys/fast.rs`), and
//! here the registration of hooks and `/dev/escguard` through the C glue
//! (`module/helpers.c`).
//!
//! Raw bindings from `include/escguard_kernel.h` and `kernel::bindings` are
//! used under `sys/` only, behind small types whose invariants make them
//! safe to use elsewhere.

mod fast;
mod ftrace;
mod hooks;
mod task;
mod vfs;

pub(crate) use fast::{note_ro_host_mounts, ro_carried, OpenFast, OpenKey};
pub(crate) use task::{
    baseline, cgroup_live, current_configured_mounts, for_each_task, CgroupRef, TaskHold, TaskRef,
};
pub(crate) use vfs::{
    current_dir_fds, note_host_sysfs, verify_private_layout, FileRef, MountPoint,
};
pub(crate) use vfs::{ConfiguredMounts, Grant, Landing, LandingScan, MountRef, WriteGrants};

/// Whether current is in an `open(2)`-family syscall (`open`, `creat`,
/// `openat`, `openat2`, and their 32-bit numbers, which no 64-bit call
/// that asks for write access shares).
pub(crate) fn current_in_open() -> bool {
    // SAFETY: reads current's own saved user registers.
    let nr = unsafe { raw::escguard_current_syscall() };
    matches!(nr, 2 | 85 | 257 | 437 | 5 | 8 | 295)
}

use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::str::CStr;

#[allow(
    dead_code,
    improper_ctypes,
    non_camel_case_types,
    non_upper_case_globals,
    missing_docs,
    unreachable_pub,
    clippy::all
)]
mod raw {
    use crate::abi::*;
    use kernel::bindings::*;
    use kernel::bindings::{__u32, __u64};
    use kernel::ffi;
    include!("kernel_generated.rs");
}

pub(crate) use raw::{
    escguard_file_facts as FileFacts, escguard_fsref as FsRef, escguard_kinfo as KInfo,
    escguard_sb_facts as SbFacts,
};
pub(crate) use raw::{ESCGUARD_ACCESS_ADMIN as ACCESS_ADMIN, ESCGUARD_ACCESS_READ as ACCESS_READ};
pub(crate) use raw::{
    ESCGUARD_FS_DISCONNECTED as FS_DISCONNECTED, ESCGUARD_FS_HOST_MNT_NS as FS_HOST_MNT_NS,
    ESCGUARD_FS_MNT_HOST_ROOT as FS_MNT_HOST_ROOT, ESCGUARD_FS_ON_HOST_SB as FS_ON_HOST_SB,
    ESCGUARD_FS_TOO_DEEP as FS_TOO_DEEP, ESCGUARD_FS_UNDER_ORIGIN as FS_UNDER_ORIGIN,
};
pub(crate) use raw::{
    ESCGUARD_PC_HOOK_EXEC as PC_HOOK_EXEC, ESCGUARD_PC_HOOK_EXIT as PC_HOOK_EXIT,
    ESCGUARD_PC_HOOK_FORK as PC_HOOK_FORK, ESCGUARD_PC_HOOK_OPEN as PC_HOOK_OPEN,
    ESCGUARD_PC_HOOK_SYSCALL as PC_HOOK_SYSCALL, ESCGUARD_PC_OPEN_CACHED as PC_OPEN_CACHED,
    ESCGUARD_PC_OPEN_JUDGED as PC_OPEN_JUDGED, ESCGUARD_PC_OPEN_LOCKED as PC_OPEN_LOCKED,
    ESCGUARD_PC_OPEN_TIMED as PC_OPEN_TIMED,
};

/// Everything the kernel calls escguard for: file operations on
/// `/dev/escguard` ([`DeviceOps`]) and the probe handlers
/// ([`LifecycleHooks`], [`OpenHooks`], [`CheckHooks`]). Implemented for
/// every type that implements all four.
///
/// Hook handlers run in atomic context (ftrace callbacks, and the open
/// hook with preemption disabled): implementations must not sleep, must not
/// allocate with `GFP_KERNEL` and must do bounded work.
pub(crate) trait Ops: Sync + DeviceOps + LifecycleHooks + OpenHooks + CheckHooks {}

impl<T: Sync + DeviceOps + LifecycleHooks + OpenHooks + CheckHooks> Ops for T {}

/// The file operations of `/dev/escguard`. Process context.
pub(crate) trait DeviceOps {
    /// `task` (current) opens the device, for writing if `write`; on success
    /// the implementation records in `f` what the descriptor may do.
    fn open(&self, f: FileState<'_>, task: TaskRef<'_>, write: bool) -> Result;
    /// A descriptor of the device is closed for the last time. Nothing to
    /// do unless the implementation keeps per-descriptor state of its own.
    fn release(&self, _f: FileState<'_>) {}
    /// An ioctl by `task` (current); returns the non-negative value handed
    /// back to user space.
    fn ioctl(&self, f: FileState<'_>, task: TaskRef<'_>, cmd: u32, arg: usize) -> Result<isize>;
    /// Copies whole event records to the user buffer `ubuf` of `len` bytes;
    /// `EAGAIN` when there is none.
    fn read(&self, f: FileState<'_>, task: TaskRef<'_>, ubuf: usize, len: usize) -> Result<isize>;
    /// Whether a `read` on `f` would return data now.
    fn readable(&self, f: FileState<'_>) -> bool;
}

/// The probe handlers that follow a task's life: fork, exec, exit, the pid
/// swap of a multi-threaded exec, and namespace switches. They observe and
/// cannot refuse. Atomic context.
pub(crate) trait LifecycleHooks {
    /// `parent` created `child`, which has not run yet. Atomic context.
    fn on_fork(&self, parent: TaskRef<'_>, child: TaskRef<'_>);
    /// `task` (current) committed to a new program image from `file`.
    /// Atomic context.
    fn on_exec(&self, task: TaskRef<'_>, file: Option<FileRef<'_>>);
    /// `task` is exiting (past `PF_EXITING`), or is a failed fork's child
    /// that never ran. Atomic context.
    fn on_exit(&self, task: TaskRef<'_>);
    /// `left` (current, exec'ing) is about to take the pid of its group
    /// leader `right`. Atomic context with `tasklist_lock` held and IRQs
    /// off: must not take any lock that is also taken with IRQs on.
    fn on_tid_swap(&self, left: TaskRef<'_>, right: TaskRef<'_>);
    /// `task` is about to run with the namespaces in `i` (its own facts
    /// with the new namespaces: setns, unshare). The switch is committed.
    fn on_ns_switch(&self, task: TaskRef<'_>, i: &KInfo);
}

/// The observation points at which a file is opened.
///
/// They run in `task` (current, never a kernel thread), in atomic context,
/// before the open takes effect. Each returns 0 to let it go ahead, or a
/// negative errno it then fails with.
pub(crate) trait OpenHooks {
    /// `file` is being opened (after permission checks, before any data)
    /// by a task the fast path could not answer for (see `OpenFast`):
    /// one that may be of container lineage and has no clean cached
    /// verdict on its current objects, or whose open a rule may match.
    fn on_open(&self, task: TaskRef<'_>, file: FileRef<'_>) -> i32;
    /// A block device node is being opened; `held_by_fs`: it backs a
    /// mounted filesystem.
    fn on_bdev_open(&self, task: TaskRef<'_>, file: FileRef<'_>, held_by_fs: bool) -> i32;
    /// `task` is handed `file`, an open file of another process, as a new
    /// descriptor (`SCM_RIGHTS`, `pidfd_getfd`, a seccomp supervisor's
    /// `ADDFD`), before it is installed.
    fn on_file_receive(&self, task: TaskRef<'_>, file: FileRef<'_>) -> i32;
    /// `task` opens `/proc/kcore` or `/dev/mem`, `/dev/kmem`, `/dev/port`.
    fn on_kernel_memory(&self, task: TaskRef<'_>, file: FileRef<'_>) -> i32;
    /// `task` asks for I/O port access (`ioperm(2)`, `iopl(2)`), what
    /// `/dev/port` gives.
    fn on_port_io(&self, task: TaskRef<'_>) -> i32;
}

/// A change of the mount tree a hook reports.
#[derive(Clone, Copy)]
pub(crate) enum TreeChange<'a> {
    /// `mount(2)` (a new mount, a bind, a move) attaches at the path, on
    /// a shared mount.
    Attach,
    /// `move_mount(2)` attaches at the path, or -- with
    /// `MOVE_MOUNT_BENEATH`, whose flag the LSM hook does not see --
    /// beneath the mount whose root the path is.
    AttachOrBeneath,
    /// `umount(2)` detaches this mount (the path: its root) and whatever
    /// is mounted below it.
    Detach(MountRef<'a>),
}

/// The other observation points that may refuse a call.
///
/// They run in `task` (current, never a kernel thread), in atomic context,
/// before the call takes effect. Each returns 0 to let it go ahead, or a
/// negative errno it then fails with.
pub(crate) trait CheckHooks {
    /// `task` (current) entered `delete_module(2)` for module `name`; the
    /// call has not been carried out. Atomic context. Returns 0, or a
    /// negative errno the call then fails with.
    fn on_unload(&self, task: TaskRef<'_>, name: &CStr) -> i32;
    /// A new mount's superblock, by either mount API.
    fn on_new_sb(&self, task: TaskRef<'_>, sb: &SbFacts) -> i32;
    /// `mount(2)` or `move_mount(2)` (`sys`), with source, target and type.
    fn on_mount(
        &self,
        task: TaskRef<'_>,
        sys: u32,
        source: &CStr,
        target: &CStr,
        fstype: &CStr,
    ) -> i32;
    /// `task` remounts `target` (a read-only mount, or one of a read-only
    /// filesystem) writable with `mount(2)`, before the remount is made.
    fn on_make_writable(&self, task: TaskRef<'_>, target: MountPoint<'_>) -> i32;
    /// `task` changes the mount tree at `at`, before the change (see
    /// [`TreeChange`]).
    fn on_tree_change(&self, task: TaskRef<'_>, at: MountPoint<'_>, change: TreeChange<'_>) -> i32;
    /// `task` asks for write access to mount `mnt` for a change that may
    /// open nothing (`mnt_want_write`: chmod, chown, mkdir, mknod, unlink,
    /// rename, link, truncate, utimes, xattrs, an open that creates or
    /// truncates), before the change. Only mounts the fast filter passes
    /// come here (`write_may_need_judging`).
    fn on_write_through(&self, task: TaskRef<'_>, mnt: MountRef<'_>) -> i32;
    /// `task` asks to attach to or access the memory of `child`. Called
    /// with `child`'s task_lock held: neither task's `info`/`paths` may be
    /// used (they take task_lock), only `info_light`.
    fn on_ptrace(&self, task: TaskRef<'_>, child: TaskRef<'_>) -> i32;
    /// `task` is about to exec `file` (before exec's point of no return;
    /// once per binary handler tried: a script, then its interpreter).
    /// `umh`: the kernel started `task` (a usermode helper).
    fn on_bprm_check(&self, task: TaskRef<'_>, file: FileRef<'_>, umh: bool) -> i32;
    /// `task` follows `/proc/<pid>/root|cwd|exe|fd/N|map_files/...` of
    /// `target` (`path`: the link within procfs, e.g. `/1/root`).
    fn on_proc_link(&self, task: TaskRef<'_>, target: TaskRef<'_>, path: &CStr) -> i32;
    /// `task` sends signal `sig` to `target` (`None`: to every task it
    /// may signal).
    fn on_signal(&self, task: TaskRef<'_>, target: Option<TaskRef<'_>>, sig: i32) -> i32;
    /// `task` changes `target`'s resource limits (`what`: the call,
    /// `prlimit64`).
    fn on_task_control(&self, task: TaskRef<'_>, target: TaskRef<'_>, what: &[u8]) -> i32;
    /// `task` acts through a terminal or input device (`what`: the ioctl,
    /// or input events written) on `owner`, the first task of the
    /// terminal's foreground process group, and `leader`, the leader of
    /// its session (`None`, `None`: nobody holds it, or the act reaches
    /// every console or the keyboard): input pushed as if typed, a hangup,
    /// a stolen controlling terminal, a keymap string.
    fn on_tty(
        &self,
        task: TaskRef<'_>,
        what: &[u8],
        owner: Option<TaskRef<'_>>,
        leader: Option<TaskRef<'_>>,
    ) -> i32;
    /// `task` asks to put a task in cgroup `dst` (a `clone3()` with
    /// `CLONE_INTO_CGROUP`, or a pid written to a `cgroup.procs` file):
    /// the kernel's permission check, under `cgroup_mutex`.
    fn on_cgroup_dest(&self, task: TaskRef<'_>, dst: CgroupRef<'_>) -> i32;
    /// `task` opens `target`'s `/proc/<pid>/environ`.
    fn on_environ(&self, task: TaskRef<'_>, target: TaskRef<'_>) -> i32;
    /// `task` connects to a unix stream socket bound at `path` (as its owner
    /// named it).
    fn on_connect(&self, task: TaskRef<'_>, path: &CStr) -> i32;
    /// Entry of syscall `sys` (`ESCGUARD_SYS_*`), with its string argument
    /// if it has one the rules use ("" otherwise).
    fn on_syscall(&self, task: TaskRef<'_>, sys: u32, arg: &CStr) -> i32;
}

/// The state of one open descriptor of `/dev/escguard`.
///
/// # Invariants
///
/// `ptr` points to an `escguard_file` that stays valid for `'a`, 8-byte
/// aligned (it comes from `kzalloc`). Other file operations on the same
/// descriptor may run concurrently, so every access is atomic.
#[derive(Clone, Copy)]
pub(crate) struct FileState<'a> {
    ptr: *mut raw::escguard_file,
    _p: PhantomData<&'a raw::escguard_file>,
}

impl<'a> FileState<'a> {
    /// # Safety
    ///
    /// `ptr` must point to an `escguard_file` valid for `'a` that is only
    /// accessed atomically while this value exists.
    pub(crate) unsafe fn from_raw(ptr: *mut raw::escguard_file) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            ptr,
            _p: PhantomData,
        }
    }

    fn cursor_atomic(&self) -> &'a AtomicU64 {
        // SAFETY: `cursor` is a valid, 8-byte aligned u64 for `'a` (type
        // invariant), only ever accessed atomically.
        unsafe { AtomicU64::from_ptr(core::ptr::addr_of_mut!((*self.ptr).cursor)) }
    }

    fn access_atomic(&self) -> &'a AtomicU32 {
        // SAFETY: as for `cursor_atomic`, for the aligned u32 `access`.
        unsafe { AtomicU32::from_ptr(core::ptr::addr_of_mut!((*self.ptr).access)) }
    }

    fn ack_atomic(&self) -> &'a AtomicU32 {
        // SAFETY: as for `cursor_atomic`, for the aligned u32 `ack`.
        unsafe { AtomicU32::from_ptr(core::ptr::addr_of_mut!((*self.ptr).ack)) }
    }

    /// What open granted (`ACCESS_*` bits).
    pub(crate) fn access(&self) -> u32 {
        self.access_atomic().load(Ordering::Acquire)
    }

    pub(crate) fn set_access(&self, a: u32) {
        self.access_atomic().store(a, Ordering::Release)
    }

    /// Whether this descriptor is the durable writer (ESCGUARD_READ_ACK).
    pub(crate) fn ack_mode(&self) -> bool {
        self.ack_atomic().load(Ordering::Relaxed) != 0
    }

    pub(crate) fn set_ack_mode(&self, on: bool) {
        self.ack_atomic().store(on as u32, Ordering::Relaxed)
    }

    /// Highest sequence number read() returned on this descriptor.
    pub(crate) fn cursor(&self) -> u64 {
        self.cursor_atomic().load(Ordering::Relaxed)
    }

    /// Puts the cursor at `seq`: reading goes on after it.
    pub(crate) fn set_cursor(&self, seq: u64) {
        self.cursor_atomic().store(seq, Ordering::Relaxed);
    }

    /// Moves the cursor forward to `seq` (never backward).
    pub(crate) fn advance(&self, seq: u64) {
        self.cursor_atomic().fetch_max(seq, Ordering::Relaxed);
    }
}

/// Whether the kernel is built with `PREEMPT_RT`, where spinlocks sleep and
/// the hooks' atomic-context design does not hold.
pub(crate) fn kernel_preempt_rt() -> bool {
    cfg!(CONFIG_PREEMPT_RT)
}

/// `CLOCK_REALTIME` in nanoseconds.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_with_offset()` may be called from any context
    // (`ktime_get_real_ns()` is this call, inlined).
    let ns = unsafe { bindings::ktime_get_with_offset(bindings::tk_offsets_TK_OFFS_REAL) };
    ns as u64
}

/// Whether the calling task has `CAP_SYS_ADMIN` in the initial user namespace.
pub(crate) fn capable_admin() -> bool {
    // SAFETY: `capable()` only inspects the current task's credentials.
    unsafe {
        bindings::capable(21 /* CAP_SYS_ADMIN */)
    }
}

/// Whether the calling task is in group `gid` (of the initial user namespace).
pub(crate) fn in_group(gid: u32) -> bool {
    // SAFETY: `make_kgid()` maps a gid through the static initial user
    // namespace; `in_group_p()` only inspects current's credentials.
    unsafe {
        let k = bindings::make_kgid(core::ptr::addr_of_mut!(bindings::init_user_ns), gid);
        k.val != u32::MAX && bindings::in_group_p(k) != 0
    }
}

/// The module parameters, as given at load.
pub(crate) struct Params {
    pub(crate) max_tasks: u32,
    pub(crate) ring_events: u32,
    pub(crate) events_gid: u32,
    pub(crate) locked: bool,
}

/// Reads the module parameters (read-only after load).
pub(crate) fn params() -> Params {
    // SAFETY: each getter reads a module parameter, fixed after load.
    unsafe {
        Params {
            max_tasks: raw::escguard_param_max_tasks(),
            ring_events: raw::escguard_param_ring_events(),
            events_gid: u32::try_from(raw::escguard_param_events_gid())
                .unwrap_or(crate::abi::ESCGUARD_NO_GID),
            locked: raw::escguard_param_locked() != 0,
        }
    }
}

/// Takes the module reference that makes `rmmod` fail. False if module
/// exit has already begun. Safe in any context.
pub(crate) fn module_lock() -> bool {
    // SAFETY: `THIS_MODULE` is this module, alive while its code runs;
    // `try_module_get()` is an atomic increment that fails once exit began.
    unsafe { bindings::try_module_get(crate::THIS_MODULE.as_ptr()) }
}

/// Drops a reference taken by [`module_lock`].
///
/// # Safety
///
/// The caller must own a reference taken by [`module_lock`] and give it up.
pub(crate) unsafe fn module_unlock() {
    // SAFETY: by the requirement, the reference exists and is ours.
    unsafe { bindings::module_put(crate::THIS_MODULE.as_ptr()) }
}

/// Wakes readers blocked on `/dev/escguard`. Safe in any context.
pub(crate) fn wake_readers() {
    // SAFETY: queues a statically allocated irq_work; safe in any context.
    unsafe { raw::escguard_wake_readers() }
}

/// The calling task's identity, namespaces, root and cwd, read without a
/// lock (see `task::current_facts`).
pub(crate) fn current_facts() -> KInfo {
    task::current_facts()
}

/// The identity of everything the calling task's escape verdict depends
/// on (see `OpenFast`), read without a lock. Task 0: none (exiting).
pub(crate) fn current_open_key() -> OpenKey {
    fast::current_open_key(TaskRef::current())
}

pub(crate) use fast::magic_may_be_sensitive;

extern "C" {
    /// The glue's per-CPU counters (`struct escguard_pcpu` in helpers.c).
    static escguard_pcpu: [u64; raw::ESCGUARD_PC_COUNT as usize];
}

/// Adds `n` to this CPU's counter `idx` (one of `raw::ESCGUARD_PC_*`):
/// one `addq` on %gs, inline, as `this_cpu_add()`. Any context.
#[inline(always)]
pub(crate) fn pcpu_add(idx: u32, n: u64) {
    if idx >= raw::ESCGUARD_PC_COUNT {
        return;
    }
    // SAFETY: `escguard_pcpu` is the glue's per-CPU array of
    // `ESCGUARD_PC_COUNT` u64 counters (see `PcpuCounter::inc`), and `idx`
    // is in range. One `addq` on %gs is atomic against preemption and
    // interrupts on this CPU.
    unsafe {
        core::arch::asm!(
            "addq {n}, %gs:{base}(,{i},8)",
            n = in(reg) n,
            base = sym escguard_pcpu,
            i = in(reg) idx as usize,
            options(att_syntax, nostack)
        )
    }
}

/// A counter bumped on every hooked call: per CPU on the C side (index `I`,
/// one of `raw::ESCGUARD_PC_*`), so that hooks on many CPUs do not share a
/// cache line. Zero-sized.
#[derive(Default)]
pub(crate) struct PcpuCounter<const I: u32>;

impl<const I: u32> PcpuCounter<I> {
    const IN_RANGE: () = assert!(I < raw::ESCGUARD_PC_COUNT);

    /// Adds one to this CPU's count: the one instruction `this_cpu_inc()`
    /// is on x86-64, inline (the hooks' common paths bump a counter).
    #[inline(always)]
    pub(crate) fn inc(&self) {
        let () = Self::IN_RANGE;
        // SAFETY: `escguard_pcpu` is the glue's per-CPU array of
        // `ESCGUARD_PC_COUNT` u64 counters; its address is a per-CPU offset
        // from each CPU's %gs base, as for every per-CPU variable on x86-64,
        // and `I` is in range (checked at compile time). Only its address is
        // taken. One `incq` on %gs is atomic against preemption and
        // interrupts on this CPU, so it is safe in any context, as
        // `this_cpu_inc()` is.
        unsafe {
            core::arch::asm!(
                "incq %gs:{0}+{1}",
                sym escguard_pcpu,
                const I as usize * 8,
                options(att_syntax, nostack)
            )
        }
    }

    /// Adds one to this CPU's count and returns the count before (as
    /// `this_cpu_inc_return() - 1`, one instruction less to test).
    #[inline(always)]
    pub(crate) fn fetch_inc(&self) -> u64 {
        let () = Self::IN_RANGE;
        let mut n: u64 = 1;
        // SAFETY: as for `inc`; `xadd` on %gs is one instruction, atomic
        // against preemption and interrupts on this CPU.
        unsafe {
            core::arch::asm!(
                "xaddq {0}, %gs:{1}+{2}",
                inout(reg) n,
                sym escguard_pcpu,
                const I as usize * 8,
                options(att_syntax, nostack)
            )
        };
        n
    }

    /// The sum over all CPUs (exact once the hooks are quiet).
    pub(crate) fn get(&self) -> u64 {
        // SAFETY: reads statically allocated per-CPU counters.
        unsafe { raw::escguard_pcpu_sum(I) }
    }
}

/// Nanoseconds spent in the fork, exec, exit, pid-swap, file-open and the
/// other observation points' handlers since load.
pub(crate) fn hook_ns() -> [u64; 6] {
    core::array::from_fn(|i| {
        let slot = raw::ESCGUARD_TIME_FORK + i as u32;
        // SAFETY: reads statically allocated per-CPU counters.
        let n = unsafe { raw::escguard_pcpu_sum(slot) };
        if slot != raw::ESCGUARD_TIME_OPEN {
            return n;
        }
        // Sampled: the timed calls' time, scaled to all calls.
        let calls = PcpuCounter::<PC_HOOK_OPEN>.get();
        let timed = PcpuCounter::<PC_OPEN_TIMED>.get();
        if timed == 0 {
            return 0;
        }
        match n.checked_mul(calls) {
            Some(p) => p / timed,
            None => (n / timed).saturating_mul(calls),
        }
    })
}

/// Handler runs skipped since load (a hook re-entered on one CPU).
pub(crate) fn probes_missed() -> u64 {
    // SAFETY: reads statically allocated per-CPU counters.
    unsafe { raw::escguard_pcpu_sum(raw::ESCGUARD_PC_HOOK_MISSED) }
}

/// Number of probes `Registration` arms.
pub(crate) fn probe_count() -> u32 {
    // The hooked functions and the open hook.
    hooks::SITE_COUNT as u32 + 1
}

/// The module's live state `T`, with the hooks and `/dev/escguard`
/// registered to call into it.
///
/// Only one may exist at a time: the C glue keeps its registrations in
/// statics.
///
/// # Invariants
///
/// If `hooks` is set, the hooks run with the address of `*state` as
/// context; if `misc` is true, so does the misc device. `state` is pinned,
/// so that address is stable until `drop` has unregistered both.
pub(crate) struct Registration<T: Ops> {
    state: Pin<KBox<T>>,
    hooks: Option<ftrace::Hooks>,
    misc: bool,
}

impl<T: Ops> Registration<T> {
    /// Arms the hooks, then runs `snapshot` (which sees every task that
    /// existed before the hooks and none twice: later forks are hooked),
    /// then registers `/dev/escguard`. On error nothing stays registered.
    pub(crate) fn new(state: Pin<KBox<T>>, snapshot: impl FnOnce(&T) -> Result) -> Result<Self> {
        let mut reg = Registration {
            state,
            hooks: None,
            misc: false,
        };
        let ctx = reg.ctx();
        // SAFETY: `ctx` is the address of the pinned `*reg.state`, which
        // `reg` keeps alive and in place until `drop` has disarmed the
        // hooks (also on the error paths below, through `drop`). Handlers
        // only use `ctx` as `&T` (see `hook` and `open_hook`).
        // INVARIANT: armed with `ctx`.
        reg.hooks = Some(unsafe { ftrace::Hooks::arm(ctx) }?);
        snapshot(&reg.state)?;
        // A reader group (`events_gid`) needs group read access to the node.
        let mode = if params().events_gid == crate::abi::ESCGUARD_NO_GID {
            0o600
        } else {
            0o640
        };
        // SAFETY: as above, for the misc device's file operations.
        to_result(unsafe { raw::escguard_misc_register(ctx, mode) })?;
        // INVARIANT: registered with `ctx` just above.
        reg.misc = true;
        Ok(reg)
    }

    fn ctx(&self) -> *mut c_void {
        &*self.state as *const T as *mut c_void
    }

    /// The state the registrations serve.
    pub(crate) fn state(&self) -> &T {
        &self.state
    }
}

impl<T: Ops> Drop for Registration<T> {
    fn drop(&mut self) {
        if self.misc {
            // SAFETY: registered (type invariant). No file operation is in
            // flight: every open file holds a reference on this module, so
            // module exit (where a `Registration` is dropped) cannot have
            // started while one exists.
            unsafe { raw::escguard_misc_deregister() };
        }
        // Disarms the hooks; on return no handler is running or will run,
        // so `state` may be freed after this.
        self.hooks = None;
    }
}

/// The `T` behind a context pointer handed to a C callback.
///
/// # Safety
///
/// `ctx` must be the context of a live [`Registration<T>`] (the C glue passes
/// exactly the pointer given at registration, and only while registered).
pub(crate) unsafe fn ops_of<'a, T: Ops>(ctx: *mut c_void) -> &'a T {
    // SAFETY: by the function's safety requirement, `ctx` points to a live `T`
    // that is only ever accessed through shared references.
    unsafe { &*(ctx as *const T) }
}

/// The C type behind [`FileState`], for the callback signatures.
pub(crate) type RawFile = raw::escguard_file;

/// Wraps a task pointer passed by a C callback.
///
/// # Safety
///
/// `t` must point to a task that stays valid for `'a`.
pub(crate) unsafe fn task_of<'a>(t: *mut bindings::task_struct) -> TaskRef<'a> {
    // SAFETY: forwarded to the caller.
    unsafe { TaskRef::from_raw(t) }
}

/// A hook's entry, for `callbacks!`: the call at fentry address `ip`, of
/// the refusing ops if `refusing`. Returns 0 or, for a refusing site only,
/// the errno the call fails with.
///
/// # Safety
///
/// Called only by the glue's hook callback, with preemption off and
/// `regs` null or ftrace's saved registers at the hooked function's entry.
pub(crate) unsafe fn hook<T: Ops>(ip: usize, refusing: bool, regs: *mut bindings::pt_regs) -> i32 {
    let ctx = ftrace::ctx();
    if ctx.is_null() || regs.is_null() {
        return 0;
    }
    let Some(s) = ftrace::site_of(ip, refusing) else {
        return 0;
    };
    // SAFETY: local_clock() may be called in any context.
    let t0 = unsafe { raw::local_clock() };
    // SAFETY: `ctx` is the live registration's (set while hooks are
    // armed); `regs` as required; the site's id and argument are its own.
    let ret = unsafe { hooks::dispatch(ops_of::<T>(ctx), s.id.into(), s.arg.into(), regs) };
    // SAFETY: as above.
    pcpu_add(s.time.into(), unsafe { raw::local_clock() } - t0);
    if s.refusing != 0 {
        ret
    } else {
        0
    }
}

/// The calling task, read as `current` is on x86-64: the first word of
/// this CPU's `pcpu_hot`.
#[inline(always)]
fn current_raw() -> *mut bindings::task_struct {
    const _: () = assert!(
        core::mem::offset_of!(bindings::pcpu_hot__bindgen_ty_1__bindgen_ty_1, current_task) == 0
    );
    let t: *mut bindings::task_struct;
    // SAFETY: `pcpu_hot` is the kernel's per-CPU structure whose first
    // word is the running task (`get_current()` reads it the same way);
    // only its address is taken, as a %gs-relative operand.
    unsafe {
        core::arch::asm!(
            "movq %gs:{0}, {1}",
            sym bindings::pcpu_hot,
            out(reg) t,
            options(att_syntax, nostack, readonly, preserves_flags)
        )
    };
    t
}

/// The open hook's entry, for `callbacks!`: security_file_open(`file`).
///
/// # Safety
///
/// Called only by the glue's open hook (its trampoline or ftrace callback),
/// with the file being opened, in the opening task.
#[inline(always)]
pub(crate) unsafe fn open_hook<T: Ops>(file: *mut bindings::file) -> i32 {
    let ctx = ftrace::ctx();
    if ctx.is_null() {
        return 0;
    }
    let n = PcpuCounter::<PC_HOOK_OPEN>.fetch_inc();
    // SAFETY: the task is current and `file` the file being opened; the
    // paths that need the state take it from the context themselves
    // ([`open_ops`]), so the fast path carries no pointer to it.
    unsafe { hooks::open::<T>(current_raw(), file, n) }
}

/// The state of the live registration, for an open hook call that needs
/// it; `None` if none is armed (a call racing the unload: let through).
///
/// # Safety
///
/// Called from the open hook only (while the call lasts, a context read
/// non-null stays live: it is cleared only after the hooks are disarmed).
#[inline(always)]
pub(crate) unsafe fn open_ops<'a, T: Ops>() -> Option<&'a T> {
    let ctx = ftrace::ctx();
    // SAFETY: by the function's safety requirement.
    (!ctx.is_null()).then(|| unsafe { ops_of::<T>(ctx) })
}

/// Generates the `extern "C"` callbacks declared in `escguard_kernel.h` for
/// the concrete [`Ops`] type of this module.
macro_rules! callbacks {
    ($t:ty) => {
        /// C callback: `open` of `/dev/escguard`.
        ///
        /// # Safety
        ///
        /// Called by `module/helpers.c` only, with the registered context,
        /// the new descriptor's state and the current task.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_open(
            ctx: *mut kernel::ffi::c_void,
            f: *mut $crate::sys::RawFile,
            task: *mut kernel::bindings::task_struct,
            write: kernel::ffi::c_int,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `f` was just allocated for this open and is freed only
            // at release; `task` is current.
            let (f, t) = unsafe {
                (
                    $crate::sys::FileState::from_raw(f),
                    $crate::sys::task_of(task),
                )
            };
            match <$t as $crate::sys::DeviceOps>::open(ops, f, t, write != 0) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }

        /// C callback: last `close` of a `/dev/escguard` descriptor.
        ///
        /// # Safety
        ///
        /// Called by `module/helpers.c` only, with the registered context and
        /// the descriptor's state, before freeing it.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_release(
            ctx: *mut kernel::ffi::c_void,
            f: *mut $crate::sys::RawFile,
        ) {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `f` is valid until the C glue frees it after we return.
            let f = unsafe { $crate::sys::FileState::from_raw(f) };
            <$t as $crate::sys::DeviceOps>::release(ops, f)
        }

        /// C callback: `unlocked_ioctl` of `/dev/escguard`.
        ///
        /// # Safety
        ///
        /// Called by `module/helpers.c` only, with the registered context,
        /// the descriptor's state and the current task.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_ioctl(
            ctx: *mut kernel::ffi::c_void,
            f: *mut $crate::sys::RawFile,
            task: *mut kernel::bindings::task_struct,
            cmd: kernel::ffi::c_uint,
            arg: kernel::ffi::c_ulong,
        ) -> kernel::ffi::c_long {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: the descriptor (and so `f`) is held open by the
            // ioctl; `task` is current.
            let (f, t) = unsafe {
                (
                    $crate::sys::FileState::from_raw(f),
                    $crate::sys::task_of(task),
                )
            };
            match <$t as $crate::sys::DeviceOps>::ioctl(ops, f, t, cmd, arg as usize) {
                Ok(v) => v as kernel::ffi::c_long,
                Err(e) => e.to_errno() as kernel::ffi::c_long,
            }
        }

        /// C callback: one attempt of `read` on `/dev/escguard`.
        ///
        /// # Safety
        ///
        /// Called by `module/helpers.c` only, with the registered context,
        /// the descriptor's state and the current task.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_read(
            ctx: *mut kernel::ffi::c_void,
            f: *mut $crate::sys::RawFile,
            task: *mut kernel::bindings::task_struct,
            ubuf: kernel::ffi::c_ulong,
            len: kernel::ffi::c_ulong,
        ) -> kernel::ffi::c_long {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: the descriptor is held open by the read; `task` is current.
            let (f, t) = unsafe {
                (
                    $crate::sys::FileState::from_raw(f),
                    $crate::sys::task_of(task),
                )
            };
            match <$t as $crate::sys::DeviceOps>::read(ops, f, t, ubuf as usize, len as usize) {
                Ok(v) => v as kernel::ffi::c_long,
                Err(e) => e.to_errno() as kernel::ffi::c_long,
            }
        }

        /// C callback: whether events are waiting for a descriptor.
        ///
        /// # Safety
        ///
        /// Called by `module/helpers.c` only, with the registered context and
        /// the state of a descriptor held open by the caller.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_readable(
            ctx: *mut kernel::ffi::c_void,
            f: *mut $crate::sys::RawFile,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: the descriptor is held open by read() or poll().
            let f = unsafe { $crate::sys::FileState::from_raw(f) };
            <$t as $crate::sys::DeviceOps>::readable(ops, f) as kernel::ffi::c_int
        }

        /// C callback: a hook's entry.
        ///
        /// # Safety
        ///
        /// Called by the C glue's hook callback only, with the call's
        /// fentry address, which ops it came through, and the saved
        /// registers at the hooked function's entry; preemption is off.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_hook(
            ip: kernel::ffi::c_ulong,
            refusing: kernel::ffi::c_int,
            regs: *mut kernel::bindings::pt_regs,
        ) -> kernel::ffi::c_int {
            // SAFETY: forwarded from the C glue's guarantees.
            unsafe { $crate::sys::hook::<$t>(ip as usize, refusing != 0, regs) }
        }

        /// C callback: the open hook's entry.
        ///
        /// # Safety
        ///
        /// Called by the C glue's open hook only (its trampoline or ftrace
        /// callback), with the file being opened, in the opening task.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_open_hook(
            file: *mut kernel::bindings::file,
        ) -> kernel::ffi::c_int {
            // SAFETY: forwarded from the C glue's guarantees.
            unsafe { $crate::sys::open_hook::<$t>(file) }
        }
    };
}
pub(crate) use callbacks;
