// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers around the C glue in `module/helpers.c`.
//!
//! Each raw binding from `include/escguard_kernel.h` is used in this file only,
//! behind a small type whose invariants make it safe to use elsewhere.

use core::marker::PhantomData;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::str::CStr;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_char, c_void};
use kernel::prelude::*;

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
    use kernel::ffi;
    include!("kernel_generated.rs");
}

pub(crate) use raw::{
    escguard_file_facts as FileFacts, escguard_fsref as FsRef, escguard_kinfo as KInfo,
    escguard_open_key as OpenKey, escguard_sb_facts as SbFacts,
};
pub(crate) use raw::{ESCGUARD_ACCESS_ADMIN as ACCESS_ADMIN, ESCGUARD_ACCESS_READ as ACCESS_READ};
pub(crate) use raw::{
    ESCGUARD_PC_HOOK_EXEC as PC_HOOK_EXEC, ESCGUARD_PC_HOOK_EXIT as PC_HOOK_EXIT,
    ESCGUARD_PC_HOOK_FORK as PC_HOOK_FORK, ESCGUARD_PC_HOOK_OPEN as PC_HOOK_OPEN,
    ESCGUARD_PC_HOOK_SYSCALL as PC_HOOK_SYSCALL, ESCGUARD_PC_OPEN_LOCKED as PC_OPEN_LOCKED,
    ESCGUARD_PC_OPEN_CACHED as PC_OPEN_CACHED, ESCGUARD_PC_OPEN_JUDGED as PC_OPEN_JUDGED,
};
pub(crate) use raw::{
    ESCGUARD_FS_DISCONNECTED as FS_DISCONNECTED, ESCGUARD_FS_HOST_MNT_NS as FS_HOST_MNT_NS,
    ESCGUARD_FS_MNT_HOST_ROOT as FS_MNT_HOST_ROOT, ESCGUARD_FS_ON_HOST_SB as FS_ON_HOST_SB,
    ESCGUARD_FS_UNDER_ORIGIN as FS_UNDER_ORIGIN,
};

/// Everything the kernel calls escguard for: file operations on
/// `/dev/escguard` ([`DeviceOps`]) and the probe handlers
/// ([`LifecycleHooks`], [`OpenHooks`], [`CheckHooks`]). Implemented for
/// every type that implements all four.
///
/// Probe handlers run in atomic context (ftrace-based kprobes and the open
/// hook's ftrace callback, preemption disabled): implementations must not
/// sleep, must not allocate with `GFP_KERNEL` and must do bounded work.
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
    /// by a task the C fast path could not answer for (see `OpenFast`):
    /// one that may be of container lineage and has no clean cached
    /// verdict on its current objects, or whose open a rule may match.
    fn on_open(&self, task: TaskRef<'_>, file: FileRef<'_>) -> i32;
    /// A block device node is being opened; `held_by_fs`: it backs a
    /// mounted filesystem.
    fn on_bdev_open(&self, task: TaskRef<'_>, file: FileRef<'_>, held_by_fs: bool) -> i32;
    /// `task` opens `/proc/kcore` or `/dev/mem`, `/dev/kmem`, `/dev/port`.
    fn on_kernel_memory(&self, task: TaskRef<'_>, file: FileRef<'_>) -> i32;
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
        Self { ptr, _p: PhantomData }
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

    /// Whether reads leave events queued until acknowledged.
    pub(crate) fn ack_mode(&self) -> bool {
        self.ack_atomic().load(Ordering::Relaxed) != 0
    }

    pub(crate) fn set_ack_mode(&self, on: bool) {
        self.ack_atomic().store(on as u32, Ordering::Relaxed)
    }

    /// Highest sequence number returned on this descriptor in ack mode.
    pub(crate) fn cursor(&self) -> u64 {
        self.cursor_atomic().load(Ordering::Relaxed)
    }

    /// Moves the cursor forward to `seq` (never backward).
    pub(crate) fn advance(&self, seq: u64) {
        self.cursor_atomic().fetch_max(seq, Ordering::Relaxed);
    }
}

/// A task the kernel handed to a callback, valid for the callback's duration.
///
/// # Invariants
///
/// `ptr` points to a `task_struct` that stays valid for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct TaskRef<'a> {
    ptr: *mut bindings::task_struct,
    _p: PhantomData<&'a bindings::task_struct>,
}

impl<'a> TaskRef<'a> {
    /// # Safety
    ///
    /// `ptr` must point to a `task_struct` that stays valid for `'a`.
    unsafe fn from_raw(ptr: *mut bindings::task_struct) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            ptr,
            _p: PhantomData,
        }
    }

    /// The task's global pid (thread id).
    pub(crate) fn pid(&self) -> u32 {
        // SAFETY: `self.ptr` is a valid task (type invariant); `pid` is set
        // before a task is visible to us and only changes in exec's
        // de_thread, which runs in the task itself.
        unsafe { (*self.ptr).pid as u32 }
    }

    /// Identity of the task (its address), for telling a reused pid apart.
    pub(crate) fn id(&self) -> u64 {
        self.ptr as usize as u64
    }

    /// The task's key information, its root and cwd classified against `refs`.
    pub(crate) fn info(&self, refs: &FsRef) -> KInfo {
        let mut out = KInfo::default();
        // SAFETY: `self.ptr` is a valid task (type invariant); `refs` and
        // `out` are valid for reads and writes respectively. The helper
        // takes only spinlocks and RCU, so it may run in any of our contexts.
        unsafe { raw::escguard_task_info(self.ptr, refs, &mut out) };
        out
    }

    /// Renders root, cwd and (if given) the program file's path into the
    /// three buffers.
    pub(crate) fn paths(&self, file: Option<FileRef<'_>>, root: &mut [u8], cwd: &mut [u8], exe: &mut [u8]) {
        let len = root.len().min(cwd.len()).min(exe.len()).min(u32::MAX as usize) as u32;
        let fptr = file.map_or(core::ptr::null_mut(), |f| f.ptr);
        // SAFETY: `self.ptr` is a valid task (type invariant) and `fptr` is
        // null or a valid file (`FileRef` invariant); each buffer is writable
        // for at least `len` bytes. The helper never sleeps.
        unsafe {
            raw::escguard_task_paths(
                self.ptr,
                fptr,
                root.as_mut_ptr() as *mut c_char,
                cwd.as_mut_ptr() as *mut c_char,
                exe.as_mut_ptr() as *mut c_char,
                len,
            )
        };
    }

    /// Identity and credentials only, without task_lock (see
    /// [`Ops::on_ptrace`]): no namespaces, no fs.
    pub(crate) fn info_light(&self) -> KInfo {
        let mut out = KInfo::default();
        // SAFETY: `self.ptr` is a valid task (type invariant); the helper
        // reads under RCU only and takes no lock.
        unsafe { raw::escguard_task_info_light(self.ptr, &mut out) };
        out
    }

    /// Whether this is the calling task.
    pub(crate) fn is_current(&self) -> bool {
        // SAFETY: `self.ptr` is a valid task (type invariant); compared only.
        unsafe { raw::escguard_task_is_current(self.ptr) != 0 }
    }

    /// Whether the task has started exiting (`PF_EXITING`).
    pub(crate) fn exiting(&self) -> bool {
        // SAFETY: `self.ptr` is a valid task (type invariant); the helper
        // only reads its flags.
        unsafe { raw::escguard_task_exiting(self.ptr) != 0 }
    }

    /// Sends SIGKILL to the task's thread group. Never sleeps.
    pub(crate) fn kill(&self) {
        // SAFETY: `self.ptr` is a valid task (type invariant); `send_sig`
        // takes the target's siglock, which none of our hook sites holds.
        unsafe { raw::escguard_kill(self.ptr) };
    }
}

/// A file the kernel handed to a callback, valid for the callback's duration.
///
/// # Invariants
///
/// `ptr` points to a `struct file` that stays valid for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct FileRef<'a> {
    ptr: *mut bindings::file,
    _p: PhantomData<&'a bindings::file>,
}

impl FileRef<'_> {
    /// What the file is: filesystem, identity, open mode, mount namespace.
    pub(crate) fn facts(&self) -> FileFacts {
        let mut out = FileFacts::default();
        // SAFETY: `self.ptr` is a valid file (type invariant), `out` is
        // writable; the helper reads fields pinned by the open file.
        unsafe { raw::escguard_file_facts(self.ptr, &mut out) };
        out
    }

    /// Renders the file's path within its filesystem into `buf` (NUL-terminated).
    pub(crate) fn sb_path(&self, buf: &mut [u8]) {
        let len = buf.len().min(u32::MAX as usize) as u32;
        // SAFETY: valid file (type invariant); `buf` is writable for `len`
        // bytes. `dentry_path_raw()` never sleeps.
        unsafe { raw::escguard_file_sbpath(self.ptr, buf.as_mut_ptr() as *mut c_char, len) };
    }

    /// Renders the file's path as the calling task names it into `buf`.
    pub(crate) fn path(&self, buf: &mut [u8]) {
        let len = buf.len().min(u32::MAX as usize) as u32;
        // SAFETY: valid file (type invariant); `buf` is writable for `len`
        // bytes. `d_path()` never sleeps.
        unsafe { raw::escguard_file_path(self.ptr, buf.as_mut_ptr() as *mut c_char, len) };
    }

    /// `FS_*` flags of the file's path against `refs`, as for a root or
    /// cwd: where on the host's filesystem the object lives.
    pub(crate) fn classify(&self, refs: &FsRef) -> u32 {
        // SAFETY: valid file (type invariant); `refs` is readable. The walk
        // runs under RCU (and rename_lock on a retry) and never sleeps.
        unsafe { raw::escguard_file_classify(self.ptr, refs) }
    }

    /// Whether the calling task holds a descriptor on this file's object
    /// (same mount and dentry) with at least this open's access.
    pub(crate) fn held_by_current(&self) -> bool {
        // SAFETY: valid file (type invariant); the helper reads current's
        // descriptor table under RCU.
        unsafe { raw::escguard_file_held(self.ptr) != 0 }
    }

    /// The first of the file's dentry and its ancestors up to its
    /// filesystem's root (nearest first) for which `f` holds, however deep
    /// the file is. `f` runs under RCU: it must not sleep.
    pub(crate) fn find_ancestor<F: FnMut(&crate::abi::escguard_fsid) -> bool>(
        &self,
        mut f: F,
    ) -> Option<crate::abi::escguard_fsid> {
        struct Ctx<F> {
            f: F,
            hit: Option<crate::abi::escguard_fsid>,
        }
        unsafe extern "C" fn trampoline<F: FnMut(&crate::abi::escguard_fsid) -> bool>(
            ctx: *mut c_void,
            id: *const crate::abi::escguard_fsid,
        ) -> kernel::ffi::c_int {
            // SAFETY: `ctx` is the `&mut Ctx<F>` passed below, alive for the
            // whole walk and not otherwise accessed during it; `id` points
            // to the walk's identity record for this call.
            let (c, id) = unsafe { (&mut *(ctx as *mut Ctx<F>), &*id) };
            if (c.f)(id) {
                c.hit = Some(*id);
                return 1;
            }
            0
        }
        let mut c = Ctx { f: &mut f, hit: None };
        // SAFETY: valid file (type invariant); `trampoline` matches the
        // callback type and treats `ctx` as `&mut Ctx<&mut F>`, which it is.
        unsafe {
            raw::escguard_file_for_each_ancestor(
                self.ptr,
                Some(trampoline::<&mut F>),
                &mut c as *mut Ctx<&mut F> as *mut c_void,
            )
        };
        c.hit
    }
}

/// Calls `f` with each directory the calling task has open (each held for
/// the call) until it returns true; whether it did. Never sleeps.
pub(crate) fn current_dir_fds<F: FnMut(FileRef<'_>) -> bool>(mut f: F) -> bool {
    unsafe extern "C" fn trampoline<F: FnMut(FileRef<'_>) -> bool>(
        ctx: *mut c_void,
        file: *mut bindings::file,
    ) -> kernel::ffi::c_int {
        // SAFETY: `ctx` is the `&mut F` passed below, alive for the whole
        // walk and not otherwise accessed during it.
        let f = unsafe { &mut *(ctx as *mut F) };
        // SAFETY: the helper holds a reference on `file` for this call.
        match unsafe { file_of(file) } {
            Some(file) => f(file) as kernel::ffi::c_int,
            None => 0,
        }
    }
    // SAFETY: `trampoline::<F>` matches the callback type and treats `ctx`
    // as `&mut F`, which it is.
    unsafe { raw::escguard_for_each_dir_fd(Some(trampoline::<F>), &mut f as *mut F as *mut c_void) != 0 }
}

/// Whether the kernel is built with `PREEMPT_RT`, where spinlocks sleep and
/// the hooks' atomic-context design does not hold.
pub(crate) fn kernel_preempt_rt() -> bool {
    // SAFETY: returns a compile-time constant of the C glue.
    unsafe { raw::escguard_kernel_preempt_rt() != 0 }
}

/// The host baseline (pid 1's key information). Process context only.
pub(crate) fn baseline() -> Result<KInfo> {
    let mut out = KInfo::default();
    // SAFETY: `out` is valid for writes; we are in process context (init).
    to_result(unsafe { raw::escguard_baseline(&mut out) })?;
    Ok(out)
}

/// Calls `f` for every thread on the system, under RCU: `f` must not sleep.
/// Process context only.
pub(crate) fn for_each_task<F: FnMut(TaskRef<'_>)>(mut f: F) {
    unsafe extern "C" fn trampoline<F: FnMut(TaskRef<'_>)>(ctx: *mut c_void, t: *mut bindings::task_struct) {
        // SAFETY: `ctx` is the `&mut F` passed below, alive for the whole
        // walk and not otherwise accessed during it.
        let f = unsafe { &mut *(ctx as *mut F) };
        // SAFETY: the C walk holds the RCU read lock while calling us, so
        // the task stays valid for this call.
        f(unsafe { TaskRef::from_raw(t) });
    }
    // SAFETY: `trampoline::<F>` matches the callback type and treats `ctx`
    // as `&mut F`, which it is.
    unsafe { raw::escguard_for_each_task(Some(trampoline::<F>), &mut f as *mut F as *mut c_void) };
}

/// `CLOCK_REALTIME` in nanoseconds.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: `ktime_get_real_ns()` may be called from any context.
    unsafe { raw::escguard_now_ns() }
}

/// Whether the calling task has `CAP_SYS_ADMIN` in the initial user namespace.
pub(crate) fn capable_admin() -> bool {
    // SAFETY: `capable()` only inspects the current task's credentials.
    unsafe { raw::escguard_capable_admin() != 0 }
}

/// Whether the calling task is in group `gid` (of the initial user namespace).
pub(crate) fn in_group(gid: u32) -> bool {
    // SAFETY: `in_group_p()` only inspects the current task's credentials.
    unsafe { raw::escguard_in_group(gid) != 0 }
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
            events_gid: raw::escguard_param_events_gid(),
            locked: raw::escguard_param_locked() != 0,
        }
    }
}

/// Takes the module reference that makes `rmmod` fail. False if module
/// exit has already begun. Safe in any context.
pub(crate) fn module_lock() -> bool {
    // SAFETY: `try_module_get(THIS_MODULE)` is an atomic increment.
    unsafe { raw::escguard_module_lock() != 0 }
}

/// Drops a reference taken by [`module_lock`].
///
/// # Safety
///
/// The caller must own a reference taken by [`module_lock`] and give it up.
pub(crate) unsafe fn module_unlock() {
    // SAFETY: by the requirement, the reference exists and is ours.
    unsafe { raw::escguard_module_unlock() }
}

/// Wakes readers blocked on `/dev/escguard`. Safe in any context.
pub(crate) fn wake_readers() {
    // SAFETY: queues a statically allocated irq_work; safe in any context.
    unsafe { raw::escguard_wake_readers() }
}

/// The calling task's identity, namespaces, root and cwd, read without a
/// lock (no ppid, uid, comm or root/cwd flags): the file-open hook's cheap
/// look at whether anything changed since the task's last verdict.
pub(crate) fn current_facts() -> KInfo {
    let mut out = KInfo::default();
    // SAFETY: `out` is valid for writes. The helper reads only `current`'s
    // own fields, under RCU, and never sleeps.
    unsafe { raw::escguard_current_facts(&mut out) };
    out
}

/// The open hook's fast-path state (see `escguard_kernel.h`), kept in C
/// where the hook reads it without a lock or a call into Rust: the
/// host filter, the verdict cache and the policy's file-access mask.
///
/// The cache holds, per task, the `OpenKey` of its last clean verdict: the
/// identity of everything the escape verdict depends on. An equal key means
/// the same namespaces, user namespace, fs_struct, root and cwd, so the same
/// verdict (why identity is enough: `helpers.c`).
///
/// # Invariants
///
/// The C state is allocated while this value exists, and only one exists
/// (the allocation refuses a second).
pub(crate) struct OpenFast(());

impl OpenFast {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: no preconditions; may sleep (module init).
        to_result(unsafe { raw::escguard_fast_alloc() })?;
        // INVARIANT: allocated just now, and the helper refuses a second.
        Ok(OpenFast(()))
    }

    /// Sets (`host`) or clears the host filter's bit of `pid`: set exactly
    /// while the task at `pid` has a table entry of host lineage, whose
    /// opens the hook then lets through without a look. The caller holds
    /// the table lock.
    pub(crate) fn set_host(&self, pid: u32, host: bool) {
        // SAFETY: allocated (type invariant); an atomic bit operation on a
        // bounds-checked index.
        unsafe { raw::escguard_fast_set_host(pid, host as i32) }
    }

    /// Records whether the task at `pid` is of settled container lineage.
    /// Called by the task's own hooks (and its parent's fork hook before
    /// it runs), for tracked and untracked tasks alike.
    pub(crate) fn set_settled(&self, pid: u32, settled: bool) {
        // SAFETY: allocated (type invariant); an atomic bit operation on a
        // bounds-checked index.
        unsafe { raw::escguard_fast_set_settled(pid, settled as i32) }
    }

    /// Whether the task at `pid` was last recorded as of settled container
    /// lineage.
    pub(crate) fn settled(&self, pid: u32) -> bool {
        // SAFETY: as for `set_settled`.
        unsafe { raw::escguard_fast_settled(pid) != 0 }
    }

    /// Whether `pid`'s bit in the host filter is set.
    pub(crate) fn known_host(&self, pid: u32) -> bool {
        // SAFETY: as for `set_host`.
        unsafe { raw::escguard_fast_known_host(pid) != 0 }
    }

    /// Records that the task of `k` had a clean verdict on `k`, evicting
    /// whatever shared its slot. The caller holds the table lock (writers
    /// must not race) and read `k` before the facts the verdict was made on
    /// (a change in between makes the key stale, never the verdict).
    pub(crate) fn cache_fill(&self, k: &OpenKey) {
        // SAFETY: allocated (type invariant); `k` is a valid key. The
        // helper writes one slot under its sequence count.
        unsafe { raw::escguard_fast_cache_fill(k) }
    }

    /// Forgets the cached verdict of the task at `task`. The caller holds
    /// the table lock.
    pub(crate) fn cache_clear(&self, task: u64) {
        // SAFETY: as for `cache_fill`.
        unsafe { raw::escguard_fast_cache_clear(task) }
    }

    /// Publishes the file-access mask of the active policy (set under the
    /// policy lock), which lets an open no file rule could match skip it.
    pub(crate) fn set_file_access(&self, mask: u32) {
        // SAFETY: a plain store.
        unsafe { raw::escguard_fast_set_file_access(mask) }
    }

    /// The mask last published by `set_file_access`.
    pub(crate) fn file_access(&self) -> u32 {
        // SAFETY: a plain load.
        unsafe { raw::escguard_fast_file_access() }
    }
}

impl Drop for OpenFast {
    fn drop(&mut self) {
        // SAFETY: allocated (type invariant). The owner (the module state)
        // is dropped only after the hooks that read this are unregistered.
        unsafe { raw::escguard_fast_free() }
    }
}

/// The identity of everything the calling task's escape verdict depends on
/// (see `OpenFast`), read without a lock. Task 0: none (current is exiting).
pub(crate) fn current_open_key() -> OpenKey {
    let mut k = OpenKey::default();
    // SAFETY: `k` is valid for writes. The helper reads only `current`'s own
    // pointers (which only current replaces) and its fs_struct under
    // fs->seq; it never sleeps.
    unsafe { raw::escguard_current_open_key(&mut k) };
    k
}

/// Whether a write to a file on a filesystem of this magic may trip a
/// preset rule, so its path must be looked at (one list, shared with the
/// hook's fast path).
pub(crate) fn magic_may_be_sensitive(magic: u64) -> bool {
    // SAFETY: a pure function.
    unsafe { raw::escguard_magic_may_be_sensitive(magic) != 0 }
}

/// A counter bumped on every hooked call: per CPU on the C side (index `I`,
/// one of `raw::ESCGUARD_PC_*`), so that hooks on many CPUs do not share a
/// cache line. Zero-sized.
#[derive(Default)]
pub(crate) struct PcpuCounter<const I: u32>;

impl<const I: u32> PcpuCounter<I> {
    pub(crate) fn inc(&self) {
        // SAFETY: the helper bounds-checks `I` and uses this_cpu_inc(),
        // which is safe in any context.
        unsafe { raw::escguard_pcpu_inc(I) }
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
    // SAFETY: reads statically allocated atomic counters.
    core::array::from_fn(|i| unsafe { raw::escguard_hook_ns(i as u32) })
}

/// Handler runs skipped since load (a hook re-entered on one CPU).
pub(crate) fn probes_missed() -> u64 {
    // SAFETY: reads statically allocated per-CPU counters.
    unsafe { raw::escguard_probes_missed() }
}

/// Number of probes `Registration` arms.
pub(crate) fn probe_count() -> u32 {
    // SAFETY: returns a compile-time constant of the C glue.
    unsafe { raw::escguard_probe_count() }
}

/// The module's live state `T`, with the hooks and `/dev/escguard`
/// registered to call into it.
///
/// Only one may exist at a time: the C glue keeps its registrations in
/// statics.
///
/// # Invariants
///
/// If `probes` is true, the hooks are registered with the address of
/// `*state` as context; if `misc` is true, so is the misc device. `state` is
/// pinned, so that address is stable until `drop` has unregistered both.
pub(crate) struct Registration<T: Ops> {
    state: Pin<KBox<T>>,
    probes: bool,
    misc: bool,
}

impl<T: Ops> Registration<T> {
    /// Arms the probes, then runs `snapshot` (which sees every task that
    /// existed before the probes and none twice: later forks are hooked),
    /// then registers `/dev/escguard`. On error nothing stays registered.
    pub(crate) fn new(state: Pin<KBox<T>>, snapshot: impl FnOnce(&T) -> Result) -> Result<Self> {
        let mut reg = Registration {
            state,
            probes: false,
            misc: false,
        };
        let ctx = reg.ctx();
        // SAFETY: `ctx` is the address of the pinned `*reg.state`, which
        // `reg` keeps alive and in place until `drop` has unregistered the
        // probes (also on the error paths below, through `drop`). Handlers
        // only use it as `&T` (see `callbacks!`).
        to_result(unsafe { raw::escguard_probes_register(ctx) })?;
        // INVARIANT: registered with `ctx` just above.
        reg.probes = true;
        snapshot(&reg.state)?;
        // SAFETY: as above, for the misc device's file operations.
        to_result(unsafe { raw::escguard_misc_register(ctx) })?;
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
        if self.probes {
            // SAFETY: registered (type invariant). On return no handler is
            // running or will run, so `state` may be freed after this.
            unsafe { raw::escguard_probes_unregister() };
        }
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

/// Wraps a file pointer passed by a C callback (null for none).
///
/// # Safety
///
/// `f` must be null or point to a file that stays valid for `'a`.
pub(crate) unsafe fn file_of<'a>(f: *mut bindings::file) -> Option<FileRef<'a>> {
    // INVARIANT: non-null pointers are valid for `'a` by the requirement.
    (!f.is_null()).then_some(FileRef {
        ptr: f,
        _p: PhantomData,
    })
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
            let (f, t) = unsafe { ($crate::sys::FileState::from_raw(f), $crate::sys::task_of(task)) };
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
        pub unsafe extern "C" fn escguard_rs_release(ctx: *mut kernel::ffi::c_void, f: *mut $crate::sys::RawFile) {
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
            let (f, t) = unsafe { ($crate::sys::FileState::from_raw(f), $crate::sys::task_of(task)) };
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
            let (f, t) = unsafe { ($crate::sys::FileState::from_raw(f), $crate::sys::task_of(task)) };
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

        /// C callback: fork probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context and
        /// two valid tasks.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_fork(
            ctx: *mut kernel::ffi::c_void,
            parent: *mut kernel::bindings::task_struct,
            child: *mut kernel::bindings::task_struct,
        ) {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `parent` is current and `child` is pinned by the
            // caller of `wake_up_new_task` for the handler's duration.
            let (p, c) = unsafe { ($crate::sys::task_of(parent), $crate::sys::task_of(child)) };
            <$t as $crate::sys::LifecycleHooks>::on_fork(ops, p, c)
        }

        /// C callback: exec probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context, the
        /// current task and the exec's file (or null).
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_exec(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            file: *mut kernel::bindings::file,
        ) {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `file` is held by the exec's bprm.
            let (t, f) = unsafe { ($crate::sys::task_of(task), $crate::sys::file_of(file)) };
            <$t as $crate::sys::LifecycleHooks>::on_exec(ops, t, f)
        }

        /// C callback: exit probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context and
        /// the current task.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_exit(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
        ) {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current (in do_exit) or a failed fork's
            // child held by copy_process(); valid throughout the handler.
            <$t as $crate::sys::LifecycleHooks>::on_exit(ops, unsafe { $crate::sys::task_of(task) })
        }

        /// C callback: pid-swap probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context and
        /// two valid tasks.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_tid_swap(
            ctx: *mut kernel::ffi::c_void,
            left: *mut kernel::bindings::task_struct,
            right: *mut kernel::bindings::task_struct,
        ) {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: both tasks are pinned by de_thread() for the call.
            let (l, r) = unsafe { ($crate::sys::task_of(left), $crate::sys::task_of(right)) };
            <$t as $crate::sys::LifecycleHooks>::on_tid_swap(ops, l, r)
        }

        /// C callback: delete_module probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context, the
        /// current task and a NUL-terminated name on the handler's stack.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_unload(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            name: *const kernel::ffi::c_char,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `name` is NUL-terminated and lives
            // for the call.
            let (t, n) = unsafe { ($crate::sys::task_of(task), kernel::str::CStr::from_char_ptr(name)) };
            <$t as $crate::sys::CheckHooks>::on_unload(ops, t, n)
        }

        /// C callback: file-open probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context,
        /// the current task and the file being opened.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_open(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            file: *mut kernel::bindings::file,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `file` is held by the open in progress.
            let (t, f) = unsafe { ($crate::sys::task_of(task), $crate::sys::file_of(file)) };
            match f {
                Some(f) => <$t as $crate::sys::OpenHooks>::on_open(ops, t, f),
                None => 0,
            }
        }

        /// C callback: exec probe (security_bprm_check).
        ///
        /// # Safety
        ///
        /// As for `escguard_rs_on_open`, with the file the exec loads.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_bprm_check(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            file: *mut kernel::bindings::file,
            umh: kernel::ffi::c_int,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `file` is held by the exec's bprm.
            let (t, f) = unsafe { ($crate::sys::task_of(task), $crate::sys::file_of(file)) };
            match f {
                Some(f) => <$t as $crate::sys::CheckHooks>::on_bprm_check(ops, t, f, umh != 0),
                None => 0,
            }
        }

        /// C callback: block-device open probe.
        ///
        /// # Safety
        ///
        /// As for `escguard_rs_on_open`.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_bdev_open(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            file: *mut kernel::bindings::file,
            held: kernel::ffi::c_int,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `file` is held by the open in progress.
            let (t, f) = unsafe { ($crate::sys::task_of(task), $crate::sys::file_of(file)) };
            match f {
                Some(f) => <$t as $crate::sys::OpenHooks>::on_bdev_open(ops, t, f, held != 0),
                None => 0,
            }
        }

        /// C callback: new-superblock probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context,
        /// the current task and facts valid for the call.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_new_sb(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            sb: *const $crate::sys::SbFacts,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `sb` points to the handler's
            // per-CPU scratch, valid and unaliased for the call.
            let (t, sb) = unsafe { ($crate::sys::task_of(task), &*sb) };
            <$t as $crate::sys::CheckHooks>::on_new_sb(ops, t, sb)
        }

        /// C callback: mount(2)/move_mount(2) probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context,
        /// the current task and three NUL-terminated strings valid for the call.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_mount(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            sys: kernel::ffi::c_uint,
            source: *const kernel::ffi::c_char,
            target: *const kernel::ffi::c_char,
            fstype: *const kernel::ffi::c_char,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; the strings are NUL-terminated and
            // live for the call.
            let (t, s, d, y) = unsafe {
                (
                    $crate::sys::task_of(task),
                    kernel::str::CStr::from_char_ptr(source),
                    kernel::str::CStr::from_char_ptr(target),
                    kernel::str::CStr::from_char_ptr(fstype),
                )
            };
            <$t as $crate::sys::CheckHooks>::on_mount(ops, t, sys, s, d, y)
        }

        /// C callback: ptrace access probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context,
        /// the current task and the target, whose task_lock is held.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_ptrace(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            child: *mut kernel::bindings::task_struct,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `child` is pinned by the caller of
            // the ptrace check for its duration.
            let (t, c) = unsafe { ($crate::sys::task_of(task), $crate::sys::task_of(child)) };
            <$t as $crate::sys::CheckHooks>::on_ptrace(ops, t, c)
        }

        /// C callback: a /proc/<pid> magic link being followed.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context,
        /// the current task, a task the caller holds a reference on and a
        /// NUL-terminated path valid for the call.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_proc_link(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            target: *mut kernel::bindings::task_struct,
            path: *const kernel::ffi::c_char,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current, `target` is held by the caller;
            // `path` is NUL-terminated, live for the call.
            let (t, g, p) = unsafe {
                ($crate::sys::task_of(task), $crate::sys::task_of(target), kernel::str::CStr::from_char_ptr(path))
            };
            <$t as $crate::sys::CheckHooks>::on_proc_link(ops, t, g, p)
        }

        /// C callback: a signal about to be sent.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context,
        /// the current task and null or a task the caller holds a
        /// reference on.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_signal(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            target: *mut kernel::bindings::task_struct,
            sig: kernel::ffi::c_int,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `target` is null or held by the caller.
            let t = unsafe { $crate::sys::task_of(task) };
            let g = (!target.is_null()).then(|| {
                // SAFETY: non-null, held by the caller for this call.
                unsafe { $crate::sys::task_of(target) }
            });
            <$t as $crate::sys::CheckHooks>::on_signal(ops, t, g, sig)
        }

        /// C callback: /proc/kcore or a kernel memory device being opened.
        ///
        /// # Safety
        ///
        /// As for `escguard_rs_on_open`.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_kernel_memory(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            file: *mut kernel::bindings::file,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `file` is being opened by it.
            let (t, f) = unsafe { ($crate::sys::task_of(task), $crate::sys::file_of(file)) };
            match f {
                Some(f) => <$t as $crate::sys::OpenHooks>::on_kernel_memory(ops, t, f),
                None => 0,
            }
        }

        /// C callback: /proc/<pid>/environ being opened.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context,
        /// the current task and a task the caller holds a reference on.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_environ(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            target: *mut kernel::bindings::task_struct,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current, `target` is held by the caller.
            let (t, g) = unsafe { ($crate::sys::task_of(task), $crate::sys::task_of(target)) };
            <$t as $crate::sys::CheckHooks>::on_environ(ops, t, g)
        }

        /// C callback: the calling task switching namespaces.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context,
        /// the current task and facts valid for the call.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_ns_switch(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            i: *const $crate::sys::KInfo,
        ) {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `i` points to the caller's facts.
            let (t, i) = unsafe { ($crate::sys::task_of(task), &*i) };
            <$t as $crate::sys::LifecycleHooks>::on_ns_switch(ops, t, i)
        }

        /// C callback: unix stream connect probe.
        ///
        /// # Safety
        ///
        /// Called by the probe handler only, with the registered context,
        /// the current task and a NUL-terminated path valid for the call.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_connect(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            path: *const kernel::ffi::c_char,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `path` is NUL-terminated, live for the call.
            let (t, p) = unsafe { ($crate::sys::task_of(task), kernel::str::CStr::from_char_ptr(path)) };
            <$t as $crate::sys::CheckHooks>::on_connect(ops, t, p)
        }

        /// C callback: syscall-entry probes.
        ///
        /// # Safety
        ///
        /// Called by the probe handlers only, with the registered context,
        /// the current task and a NUL-terminated argument valid for the call.
        #[no_mangle]
        pub unsafe extern "C" fn escguard_rs_on_syscall(
            ctx: *mut kernel::ffi::c_void,
            task: *mut kernel::bindings::task_struct,
            sys: kernel::ffi::c_uint,
            arg: *const kernel::ffi::c_char,
        ) -> kernel::ffi::c_int {
            // SAFETY: the C glue passes the context of the live registration.
            let ops = unsafe { $crate::sys::ops_of::<$t>(ctx) };
            // SAFETY: `task` is current; `arg` is NUL-terminated, live for the call.
            let (t, a) = unsafe { ($crate::sys::task_of(task), kernel::str::CStr::from_char_ptr(arg)) };
            <$t as $crate::sys::CheckHooks>::on_syscall(ops, t, sys, a)
        }
    };
}
pub(crate) use callbacks;
